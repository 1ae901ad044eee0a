#include "selftests/lib/alloc_paths.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "alloc_paths.skel.h"
#include "lib/errors.h"
#include "selftests/lib/netns.h"

namespace xskit::testing {

absl::StatusOr<std::unique_ptr<AllocPaths>> AllocPaths::Load() {
  alloc_paths* skel = alloc_paths__open_and_load();
  if (!skel) return ErrnoError("load alloc_paths", errno);
  return std::unique_ptr<AllocPaths>(new AllocPaths(skel));
}

AllocPaths::~AllocPaths() { alloc_paths__destroy(skel_); }

int AllocPaths::ProgFd(XdpProg prog) const {
  switch (prog) {
    case XdpProg::kPass: return bpf_program__fd(skel_->progs.xdp_pass);
    case XdpProg::kTx: return bpf_program__fd(skel_->progs.xdp_tx);
    case XdpProg::kDrop: return bpf_program__fd(skel_->progs.xdp_drop);
    case XdpProg::kToCpumap: return bpf_program__fd(skel_->progs.xdp_to_cpumap);
  }
  return -1;
}

absl::Status AllocPaths::Attach(const std::string& netns, const std::string& dev, XdpProg prog) {
  absl::Status st;
  InNetns(netns, [&] {
    int ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    if (ifindex == 0) {
      st = ErrnoError(absl::StrCat("if_nametoindex(", dev, ")"), errno);
      return;
    }
    if (int err = bpf_xdp_attach(ifindex, ProgFd(prog), XDP_FLAGS_DRV_MODE, nullptr))
      st = ErrnoError(absl::StrCat("bpf_xdp_attach(", dev, ", native)"), err);
  });
  return st;
}

absl::Status AllocPaths::Detach(const std::string& netns, const std::string& dev) {
  absl::Status st;
  InNetns(netns, [&] {
    int ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    if (ifindex == 0) return;  // the device went, and its program with it
    if (int err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr))
      st = ErrnoError(absl::StrCat("bpf_xdp_detach(", dev, ")"), err);
  });
  return st;
}

absl::Status AllocPaths::AddCpumapEntry(uint32_t qsize) {
  const uint32_t cpu = 0;
  bpf_cpumap_val val{};
  val.qsize = qsize;
  if (int err = bpf_map__update_elem(skel_->maps.cpu_map, &cpu, sizeof(cpu), &val, sizeof(val), 0))
    return ErrnoError("cpumap entry for CPU 0", err);
  return absl::OkStatus();
}

absl::Status AllocPaths::RunLiveFrames(const std::string& netns, const std::string& dev,
                                       XdpProg prog, const std::vector<uint8_t>& frame,
                                       uint32_t n, uint32_t batch) {
  absl::Status st;
  InNetns(netns, [&] {
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame.size());
    ctx.ingress_ifindex = if_nametoindex(dev.c_str());
    if (ctx.ingress_ifindex == 0) {
      st = ErrnoError(absl::StrCat("if_nametoindex(", dev, ")"), errno);
      return;
    }
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(n),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
    if (int err = bpf_prog_test_run_opts(ProgFd(prog), &opts))
      st = ErrnoError(absl::StrCat("BPF_PROG_TEST_RUN live frames on ", dev), err);
  });
  return st;
}

bool KernelHasFunc(const std::string& name) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  bool found = btf__find_by_name_kind(vmlinux, name.c_str(), BTF_KIND_FUNC) > 0;
  btf__free(vmlinux);
  return found;
}

}  // namespace xskit::testing
