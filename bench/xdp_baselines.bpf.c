// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Baselines the steering benchmark compares xsk_steer against, built in the
 * same run: the cheapest XDP program, the plain one-socket-per-queue
 * redirect, and that redirect plus one per-CPU counter (bench/steer_bench.cc),
 * an empty drop probe and the smallest useful one (bench/probes_bench.cc). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count SEC(".maps");

SEC("xdp")
int xdp_pass_only(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_plain_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int xdp_redirect_counted(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	int ret = bpf_redirect_map(&xsks, q, XDP_PASS);
	__u64 *c = bpf_map_lookup_elem(&count, &q);

	if (c)
		(*c)++;
	return ret;
}

/* The floor under any drop probe: an empty tp_btf/kfree_skb program, whose
 * run time in the kernel's BPF statistics is the trampoline and the
 * statistics' own clock reads (bench/probes_bench.cc). */
SEC("tp_btf/kfree_skb")
int kfree_skb_empty(void *ctx)
{
	return 0;
}

/* The smallest useful drop probe, the one the probes issue sketches: one
 * per-CPU array slot per drop reason, no interface, no socket. What xskit's
 * probe costs beyond this is the price of its per-interface, per-netns and
 * AF_XDP-apart keys. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} drops_by_reason SEC(".maps");

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb_by_reason, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	__u32 r = reason & 1023;
	__u64 *c = bpf_map_lookup_elem(&drops_by_reason, &r);

	if (c)
		(*c)++;
	return 0;
}

/* The same two on the raw tracepoint: raw_tp and tp_btf share the kernel's
 * dispatch (bpf_trace_run*); they differ in how the body may read the skb
 * (raw_tp: bpf_probe_read_kernel calls; tp_btf: plain loads). Measured side
 * by side so the drop probe's attach type is chosen from figures. */
SEC("raw_tp/kfree_skb")
int raw_kfree_skb_empty(void *ctx)
{
	return 0;
}

SEC("raw_tp/kfree_skb")
int raw_kfree_skb_by_reason(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 r = ctx->args[2] & 1023;
	__u64 *c = bpf_map_lookup_elem(&drops_by_reason, &r);

	if (c)
		(*c)++;
	return 0;
}

/* xskit's per-interface drop key on raw_tp: the skb's fields read with
 * bpf_probe_read_kernel (CO-RE), what a raw_tp drop probe would pay. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} drops_by_iface SEC(".maps");

SEC("raw_tp/kfree_skb")
int raw_kfree_skb_by_iface(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk = BPF_CORE_READ(skb, sk);
	__u32 ifindex = dev ? BPF_CORE_READ(dev, ifindex) : 0;
	__u64 net = dev ? (__u64)BPF_CORE_READ(dev, nd_net.net) : 0;
	__u32 xsk = sk && BPF_CORE_READ(sk, __sk_common.skc_family) == 44;
	__u32 r = ((ifindex * 0x9E3779B1u) ^ ((__u32)ctx->args[2] * 0x85EBCA6Bu) ^ xsk ^ (__u32)net) & 1023;
	__u64 *c = bpf_map_lookup_elem(&drops_by_iface, &r);

	if (c)
		(*c)++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
