// The kernel's skb-head allocation paths driven with a known number of
// frames: the ground truth for the probes' bulk-allocation and
// napi_build_skb counters. The programs are selftests/bpf/alloc_paths.bpf.c.
//
// What each path allocates (read in Debian's 6.1.192 and 6.12.117 sources):
//  - XDP_PASS in BPF_PROG_TEST_RUN's live-frame mode: xdp_recv_frames()
//    (net/bpf/test_run.c) takes the heads of a batch's n frames with one
//    kmem_cache_alloc_bulk(skbuff_head_cache, n), in the caller's context.
//  - XDP_REDIRECT into a cpumap: cpu_map_kthread_run() (kernel/bpf/cpumap.c)
//    takes one kmem_cache_alloc_bulk(skbuff_head_cache, n) per batch of
//    n <= CPUMAP_BATCH (8) frames. 6.15 moved it to napi_skb_cache_get_bulk(),
//    which refills the per-CPU NAPI cache 16 at a time from a level nobody
//    controls: no exact count there.
//  - XDP_PASS of an xdp_frame (one redirected into a veth, e.g. by XDP_TX
//    in live-frame mode, which redirects to the ingress device):
//    veth_xdp_rcv_bulk_skb() -> xdp_alloc_skb_bulk() (drivers/net/veth.c,
//    net/core/xdp.c), one call per batch of n <= VETH_XDP_BATCH (16); also
//    moved to napi_skb_cache_get_bulk() in 6.15.
//  - veth XDP on an skb without XDP_PACKET_HEADROOM (any skb a socket
//    sends): veth_convert_skb_to_xdp_buff() copies it, since 6.9 through
//    skb_pp_cow_data() -> napi_build_skb(), one per frame (the head comes
//    from the NAPI cache, whose refills are bulk calls of 16); 6.1 copies
//    with build_skb(), no napi_build_skb.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct alloc_paths;  // the skeleton (build/bpf/alloc_paths.skel.h)

namespace xskit::testing {

// The programs of selftests/bpf/alloc_paths.bpf.c.
enum class XdpProg { kPass, kTx, kDrop, kToCpumap };

// The loaded object; its maps and programs go with it (an attached program
// stays attached until Detach() or until its device goes).
class AllocPaths {
 public:
  static absl::StatusOr<std::unique_ptr<AllocPaths>> Load();
  ~AllocPaths();
  AllocPaths(const AllocPaths&) = delete;
  AllocPaths& operator=(const AllocPaths&) = delete;

  // `prog` on `dev` of `netns` in native (driver) mode; Detach() removes it.
  absl::Status Attach(const std::string& netns, const std::string& dev, XdpProg prog);
  absl::Status Detach(const std::string& netns, const std::string& dev);

  // CPU 0's cpumap entry, a queue of `qsize` frames: its kthread starts.
  absl::Status AddCpumapEntry(uint32_t qsize);

  // `n` copies of `frame` enter `dev` of `netns` as received frames and
  // meet `prog`: BPF_PROG_TEST_RUN in live-frame mode, batches of `batch`
  // (at most 256).
  absl::Status RunLiveFrames(const std::string& netns, const std::string& dev, XdpProg prog,
                             const std::vector<uint8_t>& frame, uint32_t n, uint32_t batch);

 private:
  explicit AllocPaths(alloc_paths* skel) : skel_(skel) {}
  int ProgFd(XdpProg prog) const;
  alloc_paths* skel_;
};

// Whether the running kernel's BTF has a function `name` (how a test tells
// which of the paths above this kernel has).
bool KernelHasFunc(const std::string& name);

}  // namespace xskit::testing
