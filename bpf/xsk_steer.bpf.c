// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_steer: the single-socket AF_XDP steering path (one XSK per queue).
 *
 * For each packet on rx queue q: if a socket is registered for q in the
 * XSKMAP (and the packet matches the optional filter), redirect it to that
 * socket; otherwise XDP_PASS to the stack. Every packet is counted once, by
 * outcome, in a per-CPU counter slot for its queue.
 *
 * Without a filter nothing is parsed: bpf_redirect_map() with XDP_PASS as
 * its fallback action does the socket lookup and the redirect in one call,
 * which is the cost the plain redirect program pays plus one counter.
 *
 * libxdp compatibility: the entry is named xsk_def_prog, the XSKMAP is
 * xsks_map (4-byte key and value) and the BTF carries xsk_prog_version in
 * the xdp_metadata section. That is what libxdp's xsk_socket__create()
 * looks for (lib/libxdp/xsk.c, xsk_lookup_program) before it would load
 * its own program, so an application using libxdp's default flags puts
 * its socket into this map instead of failing with EBUSY. The object has
 * no refcount map (libxdp's is named "xsk_def_.data"), so libxdp never
 * tries to detach this program when its socket goes. */
/* UAPI headers, not vmlinux.h: packet headers and xdp_md are ABI, so the
 * program needs no CO-RE relocation and loading it never parses the
 * kernel's BTF (megabytes, per load: seconds under qemu's TCG). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include "xsk_steer.h"
#include "parse.bpf.h"

/* Set through the skeleton's rodata before load; frozen, so the verifier
 * prunes the filter path away when nr_rules is 0. */
const volatile struct xsk_steer_filter filter = {};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XSK_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XSK_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct xsk_steer_counters);
} counters SEC(".maps");

/* Written by the loader, never by the program: what was attached. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsk_steer_info);
} steer_info SEC(".maps");

/* A rule is the 32-bit word {l4proto, pad 0, dport} in memory: a frame
 * matches rule r when r is the word of its protocol and port, or of its
 * protocol and port 0 (a rule without a port). One load and two compares
 * per rule, nr_rules read once (the filter is volatile: every access is a
 * load). */
static __always_inline __u32 rule_word(__u8 proto, __u16 dport)
{
	union {
		struct xsk_steer_rule rule;
		__u32 word;
	} u = { .rule = { .l4proto = proto, .dport = dport } };

	return u.word;
}

static __always_inline bool steer_match(struct xdp_md *ctx, __u32 nr_rules)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	const volatile __u32 *rules = (const volatile __u32 *)filter.rules;
	struct l4_info l4;
	__u32 i, exact, any;

	if (parse_l4(&c, &l4))
		return false;
	exact = rule_word(l4.proto, l4.dport);
	any = rule_word(l4.proto, 0);
#pragma unroll
	for (i = 0; i < XSK_STEER_MAX_RULES; i++) {
		__u32 rule;

		if (i >= nr_rules)
			break;
		rule = rules[i];
		if (rule == exact || rule == any)
			return true;
	}
	return false;
}

/* Returns the XDP action and sets *outcome. bpf_redirect_map() with XDP_PASS
 * as its fallback does the socket lookup and the redirect in one call. With
 * a filter the frame is parsed first and the socket looked up separately
 * only for a frame that does not match (to tell pass_no_match from
 * pass_no_socket): a matching frame pays for one lookup, the redirect's.
 * The outcome is set on predicted branches, not computed from the helper's
 * answer, so the counter's address does not wait for the helper. */
static __always_inline int steer(struct xdp_md *ctx, __u32 *q, __u32 *outcome)
{
	__u32 nr_rules = filter.nr_rules;

	if (nr_rules == 0 || steer_match(ctx, nr_rules)) {
		int action = bpf_redirect_map(&xsks_map, *q, XDP_PASS);

		/* XDP_REDIRECT (4): REDIRECTED (0); XDP_PASS (2): NO_SOCKET (1) */
		*outcome = (action & 2) >> 1;
		return action;
	}
	*outcome = bpf_map_lookup_elem(&xsks_map, q) ? XSK_STEER_PASS_NO_MATCH :
							XSK_STEER_PASS_NO_SOCKET;
	return XDP_PASS;
}

SEC("xdp")
int xsk_def_prog(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	__u32 outcome;
	int action = steer(ctx, &q, &outcome);
	struct xsk_steer_counters *cnt = bpf_map_lookup_elem(&counters, &q);

	/* Per-CPU slot and XDP runs with migration disabled: a plain add. */
	if (cnt)
		cnt->packets[outcome & (XSK_STEER_NR_OUTCOMES - 1)]++;
	return action;
}

/* Which queues have a socket. User space cannot look up an XSKMAP entry
 * (the syscall side answers EOPNOTSUPP), so the loader loads this program
 * alone, sharing the pinned xsks_map, and runs it once with
 * BPF_PROG_TEST_RUN; it leaves the answer in .bss. */
__u64 sockets_present[XSK_STEER_MAX_QUEUES / 64];

SEC("xdp")
int xsk_steer_query(struct xdp_md *ctx)
{
	__u32 q;

	for (q = 0; q < XSK_STEER_MAX_QUEUES; q++) {
		__u32 key = q;

		if (bpf_map_lookup_elem(&xsks_map, &key))
			sockets_present[(q / 64) & 3] |= 1ULL << (q % 64);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* libxdp reads this from the program's BTF (datasec "xdp_metadata") and
 * refuses a version above its own XSK_PROG_VERSION. */
__uint(xsk_prog_version, XSK_STEER_LIBXDP_PROG_VERSION) SEC("xdp_metadata");
