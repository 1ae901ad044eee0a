/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Data shared by bpf/xsk_steer.bpf.c and lib/xsk_steer_prog.cc.
 * Plain data only: it is compiled after <linux/types.h> on both sides. The C++ side static_asserts the sizes. */
#ifndef XSKIT_XSK_STEER_H
#define XSKIT_XSK_STEER_H

/* Ceiling for XSKMAP and counter entries; the loader sizes both to the
 * device's channel count at attach time. */
#define XSK_STEER_MAX_QUEUES 256
#define XSK_STEER_MAX_RULES 8
#define XSK_STEER_IFNAMSIZ 16
#define XSK_STEER_DRIVER_LEN 32
#define XSK_STEER_NETNS_LEN 64

/* libxdp's default-program contract (lib/libxdp/xsk.c): the attached
 * program's kernel name, and the xsk_prog_version it declares in BTF
 * (XSK_PROG_VERSION, 1 in every libxdp from 1.2 to 1.6). */
#define XSK_STEER_PROG_NAME "xsk_def_prog"
#define XSK_STEER_LIBXDP_PROG_VERSION 1

/* What happened to one packet; the index into xsk_steer_counters.packets. */
enum xsk_steer_outcome {
	XSK_STEER_REDIRECTED = 0,      /* handed to the queue's socket */
	XSK_STEER_PASS_NO_SOCKET = 1,  /* no socket registered for the queue */
	XSK_STEER_PASS_NO_MATCH = 2,   /* socket present, the filter did not match */
	XSK_STEER_REDIRECT_FAILED = 3, /* kept for the layout and the metric; not counted
					* since the filter path redirects without a separate
					* lookup (no socket at the redirect: PASS_NO_SOCKET) */
	XSK_STEER_NR_OUTCOMES = 4,
};

/* Value of the per-CPU `counters` map, key = rx queue id. */
struct xsk_steer_counters {
	__u64 packets[XSK_STEER_NR_OUTCOMES];
};

/* One steering rule: L4 protocol (IPPROTO_*, never 0) and destination port
 * in host byte order; port 0 matches any port (and is the only choice for
 * ICMP). pad must be 0: the program compares a rule as one 32-bit word. The
 * program's own copy (rodata) has the port in network order and zeroed
 * slots past nr_rules (lib/xsk_steer_prog.cc). */
struct xsk_steer_rule {
	__u8 l4proto;
	__u8 pad;
	__u16 dport;
};

/* Rules are OR-ed. nr_rules == 0: no filter, everything on a queue with a
 * socket is redirected (the fast path, nothing is parsed). */
struct xsk_steer_filter {
	__u32 nr_rules;
	struct xsk_steer_rule rules[XSK_STEER_MAX_RULES];
};

enum xsk_steer_xdp_mode {
	XSK_STEER_MODE_GENERIC = 1, /* XDP_FLAGS_SKB_MODE */
	XSK_STEER_MODE_NATIVE = 2,  /* XDP_FLAGS_DRV_MODE */
};

/* The single entry of the `steer_info` map: what was attached and how, written
 * by the loader once at attach, read by status, the exporter and the socket
 * helper. */
struct xsk_steer_info {
	__u32 version;    /* XSK_STEER_INFO_VERSION */
	__u32 ifindex;
	__u32 xdp_mode;   /* enum xsk_steer_xdp_mode */
	__u32 zerocopy;   /* sockets bind with XDP_ZEROCOPY */
	__u32 nr_queues;  /* channel count at attach = map sizes */
	__u16 flags;      /* XSK_STEER_INFO_F_* */
	__u16 migrated_from; /* with F_MIGRATED: the info version taken over */
	__u64 queue_mask[XSK_STEER_MAX_QUEUES / 64]; /* queues open to sockets */
	__u64 attach_time_ns; /* CLOCK_REALTIME */
	__u64 netns_ino;
	char ifname[XSK_STEER_IFNAMSIZ];
	char driver[XSK_STEER_DRIVER_LEN];
	char netns[XSK_STEER_NETNS_LEN];
	struct xsk_steer_filter filter;
};

/* The layout version of struct xsk_steer_info. A change of the struct's
 * layout or meaning bumps it; xsk-loader attach of one version takes over
 * the pins of another in place (docs/DESIGN.md, "Upgrades"). The C++ side
 * reads it through xskit::SteerInfoVersion() (lib/info_versions.cc). */
#define XSK_STEER_INFO_VERSION 1

/* xsk_steer_info.flags */
#define XSK_STEER_INFO_F_MIGRATED 0x1          /* took over another version's pins */
#define XSK_STEER_INFO_F_COUNTERS_RESTARTED 0x2 /* ... whose counters' layout differed */

#endif /* XSKIT_XSK_STEER_H */
