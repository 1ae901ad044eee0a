/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* xsk_probes' zero-copy signals (BPF side only; the layout shared with C++
 * is struct xsk_probes_zc in xsk_probes.h). Included once, by
 * bpf/xsk_probes.bpf.c, after xsk_probes_maps.bpf.h.
 *
 * In zero-copy mode sendmsg only wakes the driver, which takes descriptors
 * from the Tx ring in its NAPI poll and fills its Rx ring from the fill
 * ring; these programs count the driver's calls into the AF_XDP core:
 *   xsk_tx_peek_release_desc_batch (fentry/fexit)  descriptors per Tx batch
 *   xsk_tx_peek_desc (fexit) + xsk_tx_release       the one-by-one Tx API
 *   xsk_tx_completed (fentry)                        completions per call
 *   xp_alloc_batch (fentry/fexit), xp_alloc (fexit)  fill ring takes
 * (xsk_buff_alloc_batch and xsk_buff_alloc are inline wrappers of the xp_
 * functions in <net/xdp_sock_drv.h>), keyed by the pool's netdev and queue.
 * xsk_wakeup (-> ndo_xsk_wakeup) is inlined on 6.1, 6.12 and 6.18 (it is
 * not in their BTF): a wakeup is counted where the kernel decides it, from
 * the pool's cached_need_wakeup at sendmsg/poll entry (zc_count_call). */
#ifndef XSKIT_XSK_PROBES_ZC_BPF_H
#define XSKIT_XSK_PROBES_ZC_BPF_H

#include "xsk_probes.h"

#define XDP_WAKEUP_RX (1 << 0)
#define XDP_WAKEUP_TX (1 << 1)
#define MSG_DONTWAIT 0x40

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xsk_probes_qkey);
	__type(value, struct xsk_probes_zc);
} zc_stats SEC(".maps");

/* Per CPU: nesting of the batch functions (their fallbacks call the
 * one-by-one functions, which must not count twice) and the descriptors
 * taken one by one since the last xsk_tx_release. Drivers call these from
 * NAPI (softirq) or with BHs off, so nothing interleaves on one CPU. */
struct zc_scratch {
	__u32 tx_depth;
	__u32 rx_depth;
	__u32 pending;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zc_scratch);
} zc_scratch SEC(".maps");

static __always_inline struct zc_scratch *zc_scratch_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&zc_scratch, &zero);
}

static __always_inline struct xsk_probes_zc *zc_slot(const struct xsk_probes_qkey *k)
{
	struct xsk_probes_zc *v = bpf_map_lookup_elem(&zc_stats, k);
	struct xsk_probes_zc zero = {};

	if (v)
		return v;
	bpf_map_update_elem(&zc_stats, k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&zc_stats, k);
}

static __always_inline struct xsk_probes_zc *pool_zc_slot(struct xsk_buff_pool *pool)
{
	struct net_device *dev = BPF_CORE_READ(pool, netdev);
	struct xsk_probes_qkey k = {};

	if (!dev)
		return NULL;
	k.netns_ino = dev_netns(dev);
	k.ifindex = BPF_CORE_READ(dev, ifindex);
	k.queue = BPF_CORE_READ(pool, queue_id);
	return zc_slot(&k);
}

/* xsk_no_wakeup(): a zero-copy sendmsg that busy-polls with
 * SO_PREFER_BUSY_POLL leaves the driver to the busy poll. */
static __always_inline bool sk_no_wakeup(struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_prefer_busy_poll) || !bpf_core_field_exists(sk->sk_napi_id))
		return false;
	return BPF_CORE_READ(sk, sk_prefer_busy_poll) && BPF_CORE_READ(sk, sk_ll_usec) &&
	       BPF_CORE_READ(sk, sk_napi_id);
}

/* At sendmsg (or poll) entry on a bound socket: the need_wakeup state the
 * kernel acts on (pool->cached_need_wakeup, which mirrors the rings' flag)
 * and, for a zero-copy socket, whether the call wakes the driver. A
 * blocking sendmsg fails with EOPNOTSUPP before either. */
static __always_inline void zc_count_call(struct xdp_sock *xs, __u32 flags, bool dontwait)
{
	struct xsk_buff_pool *pool = BPF_CORE_READ(xs, pool);
	struct net_device *dev = BPF_CORE_READ(xs, dev);
	struct xsk_probes_qkey k = {};
	struct xsk_probes_zc *z;
	__u8 nw;
	bool zc;

	if (!pool || !dev || !(BPF_CORE_READ(dev, flags) & 1 /* IFF_UP */))
		return;
	if (!(flags & CALL_POLL) && (!dontwait || !BPF_CORE_READ(xs, tx)))
		return; /* EOPNOTSUPP, ENOBUFS */
	if (!xs_qkey(xs, &k))
		return;
	z = zc_slot(&k);
	if (!z)
		return;
	nw = BPF_CORE_READ(pool, cached_need_wakeup);
	zc = BPF_CORE_READ(xs, zc);
	if (flags & CALL_POLL) {
		if (zc && nw)
			__sync_fetch_and_add(&z->wakeups_poll, 1);
		return;
	}
	if (nw & XDP_WAKEUP_TX)
		__sync_fetch_and_add(&z->sendmsg_need_wakeup, 1);
	else
		__sync_fetch_and_add(&z->sendmsg_no_need_wakeup, 1);
	if (zc && (nw & XDP_WAKEUP_TX) && !sk_no_wakeup(&xs->sk))
		__sync_fetch_and_add(&z->wakeups_sendmsg, 1);
}

static __always_inline void zc_tx_batch(struct xsk_buff_pool *pool, __u32 n)
{
	struct xsk_probes_zc *z = pool_zc_slot(pool);

	if (!z)
		return;
	__sync_fetch_and_add(&z->tx_batches, 1);
	__sync_fetch_and_add(&z->tx_descs, n);
	__sync_fetch_and_add(&z->tx_hist[batch_bucket(n) & 15], 1);
}

/* ------------------------------------------------------------------ Tx */

SEC("fentry/xsk_tx_peek_release_desc_batch")
int BPF_PROG(zc_tx_batch_enter, struct xsk_buff_pool *pool, __u32 nb_pkts)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s)
		s->tx_depth++;
	return 0;
}

SEC("fexit/xsk_tx_peek_release_desc_batch")
int BPF_PROG(zc_tx_batch_exit, struct xsk_buff_pool *pool, __u32 nb_pkts, __u32 ret)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s && s->tx_depth)
		s->tx_depth--;
	zc_tx_batch(pool, ret);
	return 0;
}

SEC("fexit/xsk_tx_peek_desc")
int BPF_PROG(zc_tx_peek_desc, struct xsk_buff_pool *pool, struct xdp_desc *desc, bool ret)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s && !s->tx_depth && ret)
		s->pending++;
	return 0;
}

SEC("fentry/xsk_tx_release")
int BPF_PROG(zc_tx_release, struct xsk_buff_pool *pool)
{
	struct zc_scratch *s = zc_scratch_slot();
	__u32 n;

	if (!s || s->tx_depth || !s->pending)
		return 0;
	n = s->pending;
	s->pending = 0;
	zc_tx_batch(pool, n);
	return 0;
}

SEC("fentry/xsk_tx_completed")
int BPF_PROG(zc_tx_completed, struct xsk_buff_pool *pool, __u32 nb_entries)
{
	struct xsk_probes_zc *z = pool_zc_slot(pool);

	if (!z)
		return 0;
	__sync_fetch_and_add(&z->completion_calls, 1);
	__sync_fetch_and_add(&z->completions, nb_entries);
	return 0;
}

/* ------------------------------------------------------------------ Rx */

static __always_inline void zc_rx_take(struct xsk_buff_pool *pool, __u32 wanted, __u32 got)
{
	struct xsk_probes_zc *z = pool_zc_slot(pool);

	if (!z)
		return;
	__sync_fetch_and_add(&z->rx_alloc_calls, 1);
	__sync_fetch_and_add(&z->rx_alloc_wanted, wanted);
	__sync_fetch_and_add(&z->rx_alloc_frames, got);
	if (got < wanted)
		__sync_fetch_and_add(&z->rx_alloc_short, 1);
	if (!got)
		__sync_fetch_and_add(&z->rx_alloc_empty, 1);
}

SEC("fentry/xp_alloc_batch")
int BPF_PROG(zc_rx_batch_enter, struct xsk_buff_pool *pool, struct xdp_buff **xdp, __u32 max)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s)
		s->rx_depth++;
	return 0;
}

SEC("fexit/xp_alloc_batch")
int BPF_PROG(zc_rx_batch_exit, struct xsk_buff_pool *pool, struct xdp_buff **xdp, __u32 max,
	     __u32 ret)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s && s->rx_depth)
		s->rx_depth--;
	zc_rx_take(pool, max, ret);
	return 0;
}

SEC("fexit/xp_alloc")
int BPF_PROG(zc_rx_alloc, struct xsk_buff_pool *pool, struct xdp_buff *ret)
{
	struct zc_scratch *s = zc_scratch_slot();

	if (s && s->rx_depth)
		return 0; /* inside xp_alloc_batch (dma_need_sync pools) */
	zc_rx_take(pool, 1, ret ? 1 : 0);
	return 0;
}

#endif /* XSKIT_XSK_PROBES_ZC_BPF_H */
