/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Data shared by bpf/xsk_sockets.bpf.c and lib/xsk_sockets_prog.cc: one
 * record per (task, fd) that is an AF_XDP socket, written by the task_file
 * iterator with bpf_seq_write(). Plain data only; the C++ side
 * static_asserts the size and checks the version of every record. */
#ifndef XSKIT_XSK_SOCKETS_H
#define XSKIT_XSK_SOCKETS_H

#define XSK_SOCKETS_VERSION 1
#define XSK_SOCKETS_IFNAMSIZ 16
#define XSK_SOCKETS_COMM_LEN 16
/* XSKMAP memberships reported per socket (xdp_sock.map_list). */
#define XSK_SOCKETS_MAX_MAPS 4

enum xsk_socket_flags {
	XSK_SOCKET_F_BOUND = 1 << 0,       /* state == XSK_BOUND */
	XSK_SOCKET_F_ZEROCOPY = 1 << 1,    /* xs->zc (or umem->zc where xs->zc is absent) */
	XSK_SOCKET_F_NEED_WAKEUP = 1 << 2, /* pool->uses_need_wakeup */
	XSK_SOCKET_F_SG = 1 << 3,          /* xs->sg (XDP_USE_SG, 6.6+) */
	XSK_SOCKET_F_SHARED_POOL = 1 << 4, /* pool->users > 1 (XDP_SHARED_UMEM, same queue) */
};

/* The kernel's per-socket counters, as getsockopt(XDP_STATISTICS) reads them. */
struct xsk_socket_counters {
	__u64 rx_dropped;      /* xs->rx_dropped */
	__u64 rx_invalid;      /* xs->rx->invalid_descs */
	__u64 rx_full;         /* xs->rx_queue_full */
	__u64 fill_ring_empty; /* xs->pool->fq->queue_empty_descs */
	__u64 tx_invalid;      /* xs->tx->invalid_descs */
	__u64 tx_ring_empty;   /* xs->tx->queue_empty_descs */
};

struct xsk_socket_rec {
	__u32 version; /* XSK_SOCKETS_VERSION */
	__u32 flags;   /* enum xsk_socket_flags */
	__u64 inode;       /* the socket's inode: socket:[inode] in /proc/PID/fd */
	__u64 netns_inode; /* sock_net(sk)->ns.inum */
	struct xsk_socket_counters counters;
	__u64 umem_size;
	__u32 pid; /* tgid of the task holding the fd */
	__u32 fd;
	__u32 uid; /* sk_uid */
	__u32 ifindex;
	__u32 queue;
	__u32 umem_id;
	__u32 chunk_size;
	__u32 headroom;
	__u32 rx_ring; /* entries, 0 when the ring was not created */
	__u32 tx_ring;
	__u32 fill_ring;
	__u32 comp_ring;
	__u32 nr_maps; /* XSKMAPs holding the socket (at most XSK_SOCKETS_MAX_MAPS reported) */
	__u32 map_id[XSK_SOCKETS_MAX_MAPS];
	__u32 map_key[XSK_SOCKETS_MAX_MAPS];
	char ifname[XSK_SOCKETS_IFNAMSIZ];
	char comm[XSK_SOCKETS_COMM_LEN];
};

#endif
