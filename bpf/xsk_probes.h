/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Data shared by bpf/xsk_probes.bpf.c and lib/xsk_probes_prog.cc (and,
 * through the pins, the exporter and `xsk-loader status`).
 * Plain data only: compiled after vmlinux.h on the BPF side and after
 * <linux/types.h> on the user side. The C++ side static_asserts the sizes. */
#ifndef XSKIT_XSK_PROBES_H
#define XSKIT_XSK_PROBES_H

/* Batch histogram: descriptors one sendmsg consumed from the Tx ring.
 * Bucket 0 holds exactly 0 (a wasted wakeup), bucket 1 exactly 1, bucket k
 * (2..8) holds [2^(k-1), 2^k - 1], i.e. 2-3, 4-7, 8-15, 16-31, 32-63,
 * 64-127, 128-255; bucket 9 holds 256 and more. */
#define XSK_PROBES_BATCH_BUCKETS 10

/* Why a sendmsg returned an error (or, for XSK_PROBES_CAUSE_CQ_FULL on
 * kernels that return 0 there, stopped early), decided from kernel state at
 * the call's exit. The index of xsk_probes_err_key.cause. */
enum xsk_probes_cause {
	XSK_PROBES_CAUSE_OTHER = 0,       /* none of the states below explains it */
	XSK_PROBES_CAUSE_BUDGET = 1,      /* consumed == per-call budget, Tx ring not empty */
	XSK_PROBES_CAUSE_CQ_FULL = 2,     /* CQ producer - consumer == size */
	XSK_PROBES_CAUSE_SNDBUF = 3,      /* sk_wmem_alloc >= sk_sndbuf */
	XSK_PROBES_CAUSE_DRIVER_BUSY = 4, /* __dev_direct_xmit said NETDEV_TX_BUSY */
	XSK_PROBES_CAUSE_ALLOC_FAIL = 5,  /* skb allocation failed (ENOBUFS/ENOMEM) */
	XSK_PROBES_CAUSE_XMIT_DROP = 6,   /* EBUSY: the driver dropped (NET_XMIT_DROP) */
	XSK_PROBES_CAUSE_NOT_READY = 7,   /* ENXIO, ENETDOWN, EOPNOTSUPP, ENOBUFS w/o Tx ring */
	XSK_PROBES_NR_CAUSES = 8,
};

/* Key of the per-interface-and-queue maps, read from the socket:
 * xs->dev->nd_net.net->ns.inum, xs->dev->ifindex, xs->queue_id. */
struct xsk_probes_qkey {
	__u64 netns_ino;
	__u32 ifindex;
	__u32 queue;
};

/* Value of `tx_stats` (per-CPU hash, key xsk_probes_qkey). Counters are
 * summed over CPUs; the gauges (cq_*, in_flight) are taken from the CPU
 * with the newest gauge_ns. */
struct xsk_probes_tx {
	__u64 calls;          /* sendmsg/sendto calls on a bound AF_XDP socket */
	__u64 descs;          /* Tx descriptors those calls consumed */
	__u64 hist[XSK_PROBES_BATCH_BUCKETS];
	__u64 errors;         /* calls that returned < 0 (by errno/cause: tx_errors) */
	__u64 stalls;         /* calls that returned >= 0 with descriptors left
			       * behind and a full CQ (kernels that do not say EAGAIN) */
	__u64 linear_skbs;    /* skbs built by copy into the linear area */
	__u64 frag_skbs;      /* skbs built from umem pages as frags (IFF_TX_SKB_NO_LINEAR) */
	__u64 alloc_fail;     /* skb allocations that failed (sock_alloc_send_pskb) */
	__u64 xmit_busy;      /* __dev_direct_xmit returned NETDEV_TX_BUSY */
	__u64 poll_calls;     /* poll() calls that could kick Tx (fentry mode) */
	__u64 poll_descs;     /* descriptors those poll() calls consumed */
	__u64 gauge_ns;       /* bpf_ktime_get_ns() of the gauges below */
	__u32 cq_size;        /* completion ring entries */
	__u32 cq_pending;     /* transmitted, not yet reaped: CQ cached_prod - consumer */
	__u32 in_flight;      /* transmitted, not yet completed: CQ cached_prod - producer */
	__u32 tx_budget;      /* the socket's per-call budget (32 before XDP_MAX_TX_SKB_BUDGET) */
};

/* Key of `tx_errors` (per-CPU hash, value __u64 calls). */
struct xsk_probes_err_key {
	struct xsk_probes_qkey q;
	__u32 err;   /* positive errno; 0 for a stall (see stalls) */
	__u32 cause; /* enum xsk_probes_cause */
};

/* Key of `drops` (per-CPU hash, value __u64 skbs): kfree_skb by reason and
 * the skb's device at the drop (ifindex 0: no device). */
struct xsk_probes_drop_key {
	__u64 netns_ino;
	__u32 ifindex;
	__u32 reason; /* enum skb_drop_reason value, subsystem in bits 16-31 */
	__u32 xsk;    /* 1: the skb belonged to an AF_XDP socket */
	__u32 pad;
};

/* The drop path's first stop (per-CPU array `drop_slots`): a direct-mapped
 * slot per (device, reason, xsk), claimed by the first drop that hashes to
 * it on that CPU; later drops with the same device, netns, reason and xsk
 * add to it on a match of kernel pointers and the ifindex alone (no netns
 * inode read, no hash lookup), and a key that finds its slot taken goes to
 * `drops`. With --drops=reasons the slot is the reason mod the slot count.
 * User space adds both and ignores dev/net. */
#define XSK_PROBES_DROP_SLOTS 1024
struct xsk_probes_drop_slot {
	struct xsk_probes_drop_key key;
	__u64 skbs; /* 0: the slot is free */
	__u64 dev;  /* the struct net_device * the slot was claimed for */
	__u64 net;  /* and its struct net * then (a device can change netns) */
};

enum xsk_probes_xdp_event {
	XSK_PROBES_XDP_REDIRECT_ERR = 0, /* value: positive errno */
	XSK_PROBES_XDP_EXCEPTION = 1,    /* value: XDP action */
};

/* Key of `xdp_errors` (per-CPU hash, value __u64 events). */
struct xsk_probes_xdp_key {
	__u64 netns_ino; /* 0 when the mode cannot see it (classic tracepoint) */
	__u32 ifindex;
	__u32 event;     /* enum xsk_probes_xdp_event */
	__u32 value;
	__u32 pad;
};

/* Value of `alloc_stats` (per-CPU array[1]): host-wide allocation path. */
struct xsk_probes_alloc {
	__u64 bulk_calls;      /* kmem_cache_alloc_bulk(_noprof) on the skbuff head cache */
	__u64 bulk_objs;       /* objects those calls returned */
	__u64 napi_build_skb;  /* napi_build_skb() calls (NAPI-cache builds) */
	__u64 napi_build_fail; /* napi_build_skb() that returned NULL */
};

/* Completion latency histogram (`latency`, per-CPU hash, key qkey): bucket
 * k counts completions with latency in [2^k, 2^(k+1)) ns, k = 0..30; the
 * last bucket (31) counts every latency of 2^31 ns (2.1 s) or more. */
#define XSK_PROBES_LAT_BUCKETS 32
struct xsk_probes_latency {
	__u64 hist[XSK_PROBES_LAT_BUCKETS];
	__u64 count;
	__u64 sum_ns;
};

/* Value of `zc_stats` (per-CPU hash, key xsk_probes_qkey): the zero-copy
 * path. The driver side is keyed by the buffer pool's netdev and queue_id
 * (the driver's calls into the AF_XDP core, fentry only); the wakeup and
 * need_wakeup counts by the socket's, at sendmsg/poll. */
struct xsk_probes_zc {
	__u64 tx_batches;  /* driver Tx batches: xsk_tx_peek_release_desc_batch calls,
			    * or xsk_tx_release after descriptors taken one by one
			    * with xsk_tx_peek_desc */
	__u64 tx_descs;    /* descriptors those batches took from the Tx ring */
	__u64 tx_hist[XSK_PROBES_BATCH_BUCKETS]; /* per batch, buckets as `hist` */
	__u64 completion_calls; /* xsk_tx_completed calls */
	__u64 completions;      /* descriptors they completed */
	__u64 wakeups_sendmsg;  /* driver wakeups (ndo_xsk_wakeup) from sendmsg */
	__u64 wakeups_poll;     /* driver wakeups from poll() */
	__u64 sendmsg_need_wakeup;    /* sendmsg calls that found the Tx need_wakeup set */
	__u64 sendmsg_no_need_wakeup; /* ... found it clear (a zero-copy call then does nothing) */
	__u64 rx_alloc_calls;  /* fill ring takes: xp_alloc_batch (drivers' refills) and
				* xp_alloc (one buffer: drivers, and copy-mode Rx per frame) */
	__u64 rx_alloc_wanted; /* buffers asked for */
	__u64 rx_alloc_frames; /* buffers obtained */
	__u64 rx_alloc_short;  /* takes that got fewer than asked (the fill ring ran short) */
	__u64 rx_alloc_empty;  /* takes that got none (the fill ring was empty) */
};

/* The signals, each with the mode that measures it. */
enum xsk_probes_signal {
	XSK_PROBES_SIG_BATCH = 0,        /* descriptors per sendmsg */
	XSK_PROBES_SIG_BATCH_XMIT = 1,   /* skbs per batched driver xmit */
	XSK_PROBES_SIG_BACKPRESSURE = 2, /* errors by errno and cause */
	XSK_PROBES_SIG_DRIVER_BUSY = 3,  /* NETDEV_TX_BUSY as a cause */
	XSK_PROBES_SIG_OUTSTANDING = 4,  /* cq_pending / in_flight gauges */
	XSK_PROBES_SIG_POLL_TX = 5,      /* transmit kicked by poll()/busy-poll recv */
	XSK_PROBES_SIG_DROPS = 6,        /* kfree_skb by reason */
	XSK_PROBES_SIG_XDP_ERRORS = 7,   /* xdp_redirect_err, xdp_exception */
	XSK_PROBES_SIG_LATENCY = 8,      /* transmit -> destructor */
	XSK_PROBES_SIG_SKB_BUILD = 9,    /* linear vs frag skbs */
	XSK_PROBES_SIG_ALLOC_FAIL = 10,  /* skb allocation failures */
	XSK_PROBES_SIG_BULK_ALLOC = 11,  /* kmem_cache_alloc_bulk */
	XSK_PROBES_SIG_NAPI_BUILD = 12,  /* napi_build_skb */
	XSK_PROBES_SIG_ZC_TX_BATCH = 13,   /* descriptors per driver Tx batch (zero-copy) */
	XSK_PROBES_SIG_ZC_COMPLETIONS = 14, /* descriptors per xsk_tx_completed call */
	XSK_PROBES_SIG_ZC_WAKEUPS = 15,    /* driver wakeups from sendmsg/poll */
	XSK_PROBES_SIG_NEED_WAKEUP = 16,   /* the Tx need_wakeup flag at sendmsg */
	XSK_PROBES_SIG_ZC_RX_FILL = 17,    /* fill ring takes: buffers per refill, short/empty */
	XSK_PROBES_NR_SIGNALS = 18,
};

enum xsk_probes_mode {
	XSK_PROBES_MODE_UNAVAILABLE = 0,
	XSK_PROBES_MODE_FENTRY = 1,
	XSK_PROBES_MODE_TP_BTF = 2,
	XSK_PROBES_MODE_TRACEPOINT = 3,
	XSK_PROBES_MODE_DISABLED = 4, /* available but off (behind a flag) */
};

/* Room for the longest coverage reason the loader builds (with the trial
 * loads' errors it embeds), so every view reads back the reason attach
 * printed; lib/xsk_probes_prog.cc caps one that would not fit, at a word. */
#define XSK_PROBES_REASON_LEN 512

struct xsk_probes_signal_info {
	__u32 mode; /* enum xsk_probes_mode */
	char reason[XSK_PROBES_REASON_LEN - 4];
};

/* The single entry of `probes_info`, written by the loader at attach. */
struct xsk_probes_info {
	__u32 version; /* XSK_PROBES_INFO_VERSION */
	__u32 nr_signals;
	__u64 attach_time_ns; /* CLOCK_REALTIME */
	struct xsk_probes_signal_info signals[XSK_PROBES_NR_SIGNALS];
};

/* 2: zc_stats and the zero-copy signals (13-17).
 * 3: XSK_PROBES_REASON_LEN 120 -> 512 (reasons were cut at 115 bytes).
 * An attach over probes of another version replaces them (docs/DESIGN.md,
 * "Upgrades"). The C++ side reads it through xskit::ProbesInfoVersion()
 * (lib/info_versions.cc). */
#define XSK_PROBES_INFO_VERSION 3

#endif /* XSKIT_XSK_PROBES_H */
