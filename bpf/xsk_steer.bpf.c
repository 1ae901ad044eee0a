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
 * which is the cost the plain redirect program pays plus one counter
 * (bench/steer_bench.cc measures the difference).
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

#ifdef XSK_STEER_NO_FILTER
#define XSK_STEER_FILTERED 0 /* bpf/xsk_steer_nofilter.bpf.c */
#else
#define XSK_STEER_FILTERED 1
#endif

/* Set through the skeleton's rodata before load; frozen, so the verifier
 * knows every rule. Without a filter the loader loads
 * bpf/xsk_steer_nofilter.bpf.c, which never reads it. */
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

/* A rule is the 32-bit word {l4proto, pad 0, dport} in memory, with dport
 * in network order in the program's copy (the loader swaps it, so the port
 * read from the frame is compared as it is): a frame matches a rule with a
 * port when the word is its protocol's and port's, and a rule without a
 * port (dport 0) when the word is its protocol's alone. The rules are
 * frozen rodata, so the verifier knows each word: it keeps only the compare
 * a rule needs, and the loop ends at the first zero word (the loader zeroes
 * the slots past nr_rules; no protocol is 0), so nr_rules is never read. */
static __always_inline __u32 rule_word(__u8 proto, __be16 dport)
{
	union {
		struct xsk_steer_rule rule;
		__u32 word;
	} u = { .rule = { .l4proto = proto, .dport = dport } };

	return u.word;
}

static __always_inline bool steer_match(struct xdp_md *ctx)
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
		__u32 rule = rules[i];

		if (i > 0 && !rule) /* this object loads with one rule at least */
			break;
		if (rule > 0xffff ? rule == exact : rule == any)
			return true;
	}
	return false;
}

/* One per-CPU slot per queue, the outcome's counter in it: the floor's
 * lookup and increment (bench/xdp_baselines.bpf.c, xdp_redirect_counted)
 * plus one predicted branch, as asm: in C the compiler computes an index
 * from the helper's answer instead and shares the increment with the
 * no-match path, which costs three instructions and a second callee-saved
 * register. A branch on the outcome is as predictable as the queue's
 * socket is stable. */
static __always_inline void count_redirect(__u32 *q, long action)
{
	__u64 *slot = bpf_map_lookup_elem(&counters, q);
	__u64 n;

	if (!slot)
		return;
	asm volatile("if %[a] == %[redirect] goto +1;"
		     "%[s] += %[no_socket];"
		     "%[n] = *(u64 *)(%[s] + 0);"
		     "%[n] += 1;"
		     "*(u64 *)(%[s] + 0) = %[n];"
		     : [s] "+r"(slot), [n] "=&r"(n)
		     : [a] "r"(action), [redirect] "i"(XDP_REDIRECT),
		       [no_socket] "i"(XSK_STEER_PASS_NO_SOCKET * sizeof(__u64))
		     : "memory");
}

/* Without a filter (bpf/xsk_steer_nofilter.bpf.c, nr_rules a compile-time
 * 0) nothing is parsed nor read: bpf_redirect_map() with XDP_PASS as its
 * fallback does the socket lookup and the redirect in one call. With a
 * filter the frame is parsed first; a matching frame pays for one socket
 * lookup, the redirect's, and a frame that does not match is looked up
 * separately only to tell pass_no_match from pass_no_socket. */
SEC("xdp")
int xsk_def_prog(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	struct xsk_steer_counters *cnt;
	long action;

	/* The loader loads this object only with a filter (with none, every
	 * frame would be a no-match), bpf/xsk_steer_nofilter.bpf.c without. */
	if (XSK_STEER_FILTERED && !steer_match(ctx)) {
		cnt = bpf_map_lookup_elem(&counters, &q);
		if (!cnt)
			return XDP_PASS;
		if (bpf_map_lookup_elem(&xsks_map, &q))
			cnt->packets[XSK_STEER_PASS_NO_MATCH]++;
		else
			cnt->packets[XSK_STEER_PASS_NO_SOCKET]++;
		return XDP_PASS;
	}
	action = bpf_redirect_map(&xsks_map, q, XDP_PASS);
	count_redirect(&q, action);
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
