// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_sockets: the AF_XDP socket inventory.
 *
 * A task_file iterator (5.8+) visits every open file of every process (the
 * kernel skips threads sharing their leader's file table); for each file that
 * is an AF_XDP socket it writes one struct xsk_socket_rec with what
 * getsockopt(XDP_STATISTICS) and the xsk_diag netlink answer would say:
 * binding, mode, rings, umem, counters, and the XSKMAPs holding the socket.
 * Sockets of every network namespace come out of one pass; a socket held
 * by several fds or processes comes out once per holder and is merged by
 * inode in lib/xsk_sockets_prog.cc.
 *
 * Every kernel field is a CO-RE read: xdp_sock, xsk_queue, xdp_umem and
 * xsk_buff_pool keep these names from 5.9 to 6.18; xs->zc (5.10+) and
 * xs->sg (6.6+) are checked with bpf_core_field_exists. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "xsk_sockets.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Older kernels' layout of xdp_sock, for the fields checked below. */
struct xdp_sock___sg {
	bool sg;
} __attribute__((preserve_access_index));
struct xdp_sock___zc {
	bool zc;
} __attribute__((preserve_access_index));

static __always_inline __u32 ring_entries(struct xsk_queue *q)
{
	return q ? BPF_CORE_READ(q, nentries) : 0;
}

SEC("iter/task_file")
int xsk_sockets(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct xsk_socket_rec rec = {};
	struct xsk_queue *rx, *tx, *fq, *cq;
	struct xsk_buff_pool *pool;
	struct xdp_umem *umem;
	struct net_device *dev;
	struct xdp_sock *xs;
	struct socket *sock;
	struct sock *sk;
	struct list_head *head, *pos;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_XDP)
		return 0;
	xs = (struct xdp_sock *)sk;

	rec.version = XSK_SOCKETS_VERSION;
	rec.pid = BPF_CORE_READ(task, tgid);
	rec.fd = ctx->fd;
	BPF_CORE_READ_STR_INTO(&rec.comm, task, comm);
	rec.inode = BPF_CORE_READ(file, f_inode, i_ino);
	rec.netns_inode = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	rec.uid = BPF_CORE_READ(sk, sk_uid.val);

	if (BPF_CORE_READ(xs, state) == XSK_BOUND)
		rec.flags |= XSK_SOCKET_F_BOUND;
	rec.queue = BPF_CORE_READ(xs, queue_id);
	dev = BPF_CORE_READ(xs, dev);
	if (dev) {
		rec.ifindex = BPF_CORE_READ(dev, ifindex);
		BPF_CORE_READ_STR_INTO(&rec.ifname, dev, name);
	}

	rx = BPF_CORE_READ(xs, rx);
	tx = BPF_CORE_READ(xs, tx);
	pool = BPF_CORE_READ(xs, pool);
	umem = BPF_CORE_READ(xs, umem);
	if (pool) {
		fq = BPF_CORE_READ(pool, fq);
		cq = BPF_CORE_READ(pool, cq);
		if (BPF_CORE_READ(pool, uses_need_wakeup))
			rec.flags |= XSK_SOCKET_F_NEED_WAKEUP;
		if (BPF_CORE_READ(pool, users.refs.counter) > 1)
			rec.flags |= XSK_SOCKET_F_SHARED_POOL;
	} else {
		/* Not bound yet: the rings wait in fq_tmp/cq_tmp. */
		fq = BPF_CORE_READ(xs, fq_tmp);
		cq = BPF_CORE_READ(xs, cq_tmp);
	}
	rec.rx_ring = ring_entries(rx);
	rec.tx_ring = ring_entries(tx);
	rec.fill_ring = ring_entries(fq);
	rec.comp_ring = ring_entries(cq);

	if (umem) {
		rec.umem_id = BPF_CORE_READ(umem, id);
		rec.umem_size = BPF_CORE_READ(umem, size);
		rec.chunk_size = BPF_CORE_READ(umem, chunk_size);
		rec.headroom = BPF_CORE_READ(umem, headroom);
	}
	if (bpf_core_field_exists(((struct xdp_sock___zc *)xs)->zc)) {
		if (BPF_CORE_READ((struct xdp_sock___zc *)xs, zc))
			rec.flags |= XSK_SOCKET_F_ZEROCOPY;
	} else if (umem && BPF_CORE_READ(umem, zc)) {
		rec.flags |= XSK_SOCKET_F_ZEROCOPY;
	}
	if (bpf_core_field_exists(((struct xdp_sock___sg *)xs)->sg) &&
	    BPF_CORE_READ((struct xdp_sock___sg *)xs, sg))
		rec.flags |= XSK_SOCKET_F_SG;

	/* The counters, exactly as xsk_getsockopt(XDP_STATISTICS) sums them. */
	rec.counters.rx_dropped = BPF_CORE_READ(xs, rx_dropped);
	rec.counters.rx_full = BPF_CORE_READ(xs, rx_queue_full);
	if (rx)
		rec.counters.rx_invalid = BPF_CORE_READ(rx, invalid_descs);
	if (tx) {
		rec.counters.tx_invalid = BPF_CORE_READ(tx, invalid_descs);
		rec.counters.tx_ring_empty = BPF_CORE_READ(tx, queue_empty_descs);
	}
	if (pool && fq)
		rec.counters.fill_ring_empty = BPF_CORE_READ(fq, queue_empty_descs);

	/* XSKMAP memberships: xsk_map_node entries on xs->map_list; the key is
	 * the slot's index in xsk_map.xsk_map[]. */
	head = &xs->map_list;
	pos = BPF_CORE_READ(xs, map_list.next);
	for (int i = 0; i < XSK_SOCKETS_MAX_MAPS + 1 && pos && pos != head; i++) {
		struct xsk_map_node *node = (struct xsk_map_node *)pos;
		struct xsk_map *m = BPF_CORE_READ(node, map);
		struct xdp_sock **entry = BPF_CORE_READ(node, map_entry);
		__u64 base;

		if (!m)
			break;
		if (i < XSK_SOCKETS_MAX_MAPS) {
			rec.map_id[i] = BPF_CORE_READ(m, map.id);
			base = (__u64)m + bpf_core_field_offset(struct xsk_map, xsk_map);
			rec.map_key[i] = ((__u64)entry - base) / sizeof(void *);
		}
		rec.nr_maps++;
		pos = BPF_CORE_READ(pos, next);
	}

	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
