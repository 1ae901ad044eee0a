// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Test-only XDP programs that drive the kernel's skb-head allocation paths
 * with a known number of frames: the ground truth for the probes' bulk and
 * napi_build_skb counters (selftests/lib/alloc_paths.h, used by
 * selftests/probes/alloc_test.cc). What each path allocates is in
 * selftests/lib/alloc_paths.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* One entry, key 0: CPU 0's kthread turns the frames into skbs. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* In BPF_PROG_TEST_RUN's live-frame mode XDP_TX is a redirect to the
 * ingress device: on a veth, the frames reach the peer as xdp_frames. */
SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int xdp_to_cpumap(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpu_map, 0, XDP_ABORTED);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
