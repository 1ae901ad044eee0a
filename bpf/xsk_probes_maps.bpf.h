/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* xsk_probes' maps, load-time settings and the helpers its programs share
 * (BPF side only; the data layouts shared with C++ are in xsk_probes.h).
 * Included once, by bpf/xsk_probes.bpf.c. */
#ifndef XSKIT_XSK_PROBES_MAPS_BPF_H
#define XSKIT_XSK_PROBES_MAPS_BPF_H

#include "xsk_probes.h"

#define AF_XDP 44
#define NETDEV_TX_BUSY 0x10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EAGAIN 11
#define ENOMEM 12
#define EBUSY 16
#define ENXIO 6
#define ENOBUFS 105
#define ENETDOWN 100
#define EOPNOTSUPP 95

/* Set by the loader before load. */
const volatile __u32 default_tx_budget = 32;  /* kernels without max_tx_budget */
const volatile bool derive_skb_build = false; /* no sock_alloc_send_pskb probe */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xsk_probes_qkey);
	__type(value, struct xsk_probes_tx);
} tx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xsk_probes_err_key);
	__type(value, __u64);
} tx_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct xsk_probes_drop_key);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XSK_PROBES_DROP_SLOTS);
	__type(key, __u32);
	__type(value, struct xsk_probes_drop_slot);
} drop_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xsk_probes_xdp_key);
	__type(value, __u64);
} xdp_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsk_probes_alloc);
} alloc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xsk_probes_qkey);
	__type(value, struct xsk_probes_latency);
} latency SEC(".maps");

/* Written by the loader only: which mode measures each signal. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsk_probes_info);
} probes_info SEC(".maps");

/* A sendmsg (or poll) in progress, by thread. */
#define CALL_POLL 1
#define CALL_SAW_BUSY 2
#define CALL_SAW_SNDBUF 4
#define CALL_SAW_ALLOC_FAIL 8
struct call_state {
	__u64 sk;
	__u32 cons;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct call_state);
} calls SEC(".maps");

/* skb -> build time, for the completion latency (behind a flag). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} lat_start SEC(".maps");

/* ------------------------------------------------------------ helpers */

static __always_inline __u64 dev_netns(const struct net_device *dev)
{
	return BPF_CORE_READ(dev, nd_net.net, ns.inum);
}

static __always_inline bool xs_qkey(struct xdp_sock *xs, struct xsk_probes_qkey *k)
{
	struct net_device *dev = BPF_CORE_READ(xs, dev);

	if (!dev)
		return false;
	k->netns_ino = dev_netns(dev);
	k->ifindex = BPF_CORE_READ(dev, ifindex);
	k->queue = BPF_CORE_READ(xs, queue_id);
	return true;
}

static __always_inline struct xsk_probes_tx *tx_slot(const struct xsk_probes_qkey *k)
{
	struct xsk_probes_tx *v = bpf_map_lookup_elem(&tx_stats, k);
	struct xsk_probes_tx zero = {};

	if (v)
		return v;
	bpf_map_update_elem(&tx_stats, k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tx_stats, k);
}

static __always_inline void count_u64(void *map, const void *key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

static __always_inline __u32 batch_bucket(__u32 n)
{
	__u32 b = 0;

	if (n == 0)
		return 0;
	if (n >= 256)
		return XSK_PROBES_BATCH_BUCKETS - 1;
	/* 1 + floor(log2(n)) for n in 1..255 */
	if (n >= 16) { b += 4; n >>= 4; }
	if (n >= 4) { b += 2; n >>= 2; }
	if (n >= 2) { b += 1; }
	return b + 1;
}

static __always_inline bool dev_no_linear(struct net_device *dev)
{
	__u64 flags = BPF_CORE_READ_BITFIELD_PROBED(dev, priv_flags);

	/* BIT_ULL(31) since it appeared (5.12). Not a CO-RE enum relocation:
	 * libbpf 1.1 mis-patches an enum value of 2^31 (sign extension). */
	return flags & (1ULL << 31);
}

static __always_inline __u32 xs_tx_budget(struct xdp_sock *xs)
{
	if (bpf_core_field_exists(xs->max_tx_budget))
		return BPF_CORE_READ(xs, max_tx_budget);
	return default_tx_budget;
}

/* The socket's Tx queue is stopped by its driver (or frozen): the state
 * __dev_direct_xmit answers NETDEV_TX_BUSY in. Read at sendmsg exit, this is
 * what tells a busy driver in tracepoint mode, where nothing sees the xmit. */
static __always_inline bool xs_txq_stopped(struct xdp_sock *xs)
{
	struct net_device *dev = BPF_CORE_READ(xs, dev);
	struct netdev_queue *txq = BPF_CORE_READ(dev, _tx);
	__u32 qid = BPF_CORE_READ(xs, queue_id);
	unsigned long state, mask;

	if (!txq || qid >= BPF_CORE_READ(dev, num_tx_queues))
		return false;
	/* _tx is an array whose element size differs between kernels. */
	txq = (void *)txq + (__u64)qid * bpf_core_type_size(struct netdev_queue);
	state = BPF_CORE_READ(txq, state);
	mask = (1UL << bpf_core_enum_value(enum netdev_queue_state_t, __QUEUE_STATE_DRV_XOFF)) |
	       (1UL << bpf_core_enum_value(enum netdev_queue_state_t, __QUEUE_STATE_FROZEN));
	return state & mask;
}

/* floor(log2(v)), 0 for v == 0 (clang 14's BPF backend has no ctlz). */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { r += 32; v >>= 32; }
	if (v >> 16) { r += 16; v >>= 16; }
	if (v >> 8) { r += 8; v >>= 8; }
	if (v >> 4) { r += 4; v >>= 4; }
	if (v >> 2) { r += 2; v >>= 2; }
	if (v >> 1) { r += 1; }
	return r;
}

#endif /* XSKIT_XSK_PROBES_MAPS_BPF_H */
