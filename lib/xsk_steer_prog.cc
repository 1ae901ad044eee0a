#include "lib/xsk_steer_prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/percpu_maps.h"
#include "lib/pins.h"
#include "xsk_steer.skel.h"

namespace xskit {
namespace {

// Per-queue counters summed over CPUs: one BPF_MAP_LOOKUP_BATCH for all
// queues (an exporter scrape reads every queue), one lookup per queue where
// the kernel has no batch operation for arrays.
absl::StatusOr<std::vector<xsk_steer_counters>> ReadCountersFd(int fd, uint32_t nr_queues) {
  const int cpus = NumPossibleCpus();
  std::vector<xsk_steer_counters> per_cpu(static_cast<size_t>(cpus) * nr_queues);
  std::vector<xsk_steer_counters> out(nr_queues);
  std::vector<uint32_t> keys(nr_queues);
  uint32_t count = nr_queues, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  bool batched = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), per_cpu.data(),
                                      &count, &opts) == 0 ||
                 (errno == ENOENT && count == nr_queues);
  for (uint32_t i = 0; i < nr_queues; i++) {
    const xsk_steer_counters* row = &per_cpu[static_cast<size_t>(i) * cpus];
    uint32_t q = i;
    if (batched) {
      q = keys[i];
    } else if (bpf_map_lookup_elem(fd, &q, per_cpu.data()) != 0) {
      return ErrnoError(absl::StrCat("read counters of queue ", q), errno);
    } else {
      row = per_cpu.data();
    }
    if (q >= nr_queues) continue;
    for (int c = 0; c < cpus; c++)
      for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++) out[q].packets[o] += row[c].packets[o];
  }
  return out;
}

absl::Status UpdateXskMap(int map_fd, uint32_t queue, int xsk_fd) {
  uint32_t fd = static_cast<uint32_t>(xsk_fd);
  if (bpf_map_update_elem(map_fd, &queue, &fd, BPF_ANY) != 0)
    return ErrnoError(absl::StrCat("register socket for queue ", queue, " in xsks_map"), errno);
  return absl::OkStatus();
}

}  // namespace

const char* OutcomeName(xsk_steer_outcome outcome) {
  switch (outcome) {
    case XSK_STEER_REDIRECTED: return "redirected";
    case XSK_STEER_PASS_NO_SOCKET: return "pass_no_socket";
    case XSK_STEER_PASS_NO_MATCH: return "pass_no_match";
    case XSK_STEER_REDIRECT_FAILED: return "redirect_failed";
    default: return "unknown";
  }
}

const char* XdpModeName(uint32_t mode) {
  switch (mode) {
    case XSK_STEER_MODE_NATIVE: return "native";
    case XSK_STEER_MODE_GENERIC: return "generic";
    default: return "unknown";
  }
}

std::string FilterString(const xsk_steer_filter& filter) {
  if (filter.nr_rules == 0) return "none";
  std::vector<std::string> parts;
  for (uint32_t i = 0; i < filter.nr_rules && i < XSK_STEER_MAX_RULES; i++) {
    const auto& r = filter.rules[i];
    const char* proto = r.l4proto == IPPROTO_UDP      ? "udp"
                        : r.l4proto == IPPROTO_TCP    ? "tcp"
                        : r.l4proto == IPPROTO_SCTP   ? "sctp"
                        : r.l4proto == IPPROTO_ICMP   ? "icmp"
                        : r.l4proto == IPPROTO_ICMPV6 ? "icmpv6"
                                                      : nullptr;
    std::string p = proto ? proto : absl::StrCat("proto", r.l4proto);
    parts.push_back(r.dport ? absl::StrCat(p, ":", r.dport) : p);
  }
  return absl::StrJoin(parts, ",");
}

bool QueueInMask(const xsk_steer_info& info, uint32_t queue) {
  return queue < XSK_STEER_MAX_QUEUES && (info.queue_mask[queue / 64] >> (queue % 64)) & 1;
}

void SetQueueInMask(xsk_steer_info& info, uint32_t queue) {
  if (queue < XSK_STEER_MAX_QUEUES) info.queue_mask[queue / 64] |= 1ULL << (queue % 64);
}

// ---------------------------------------------------------------- PinnedSteer

absl::StatusOr<PinnedSteer> PinnedSteer::Open(const std::string& dir) {
  PinnedSteer p;
  p.dir_ = dir;
  XSKIT_ASSIGN_OR_RETURN(p.xsks_map_, OpenPin(dir, kPinXsksMap));
  XSKIT_ASSIGN_OR_RETURN(p.counters_, OpenPin(dir, kPinCounters));
  XSKIT_ASSIGN_OR_RETURN(p.info_map_, OpenPin(dir, kPinInfo));
  XSKIT_RETURN_IF_ERROR(ReadPinnedInfo(p.info_map_.get(), dir, kPinInfo, &p.info_));
  XSKIT_RETURN_IF_ERROR(CheckInfoVersion(dir, kPinInfo, p.info_.version, XSK_STEER_INFO_VERSION));
  int link = bpf_obj_get(PinPath(dir, kPinLink).c_str());
  if (link >= 0) p.link_.reset(link);
  return p;
}

PinnedSteer::LinkState PinnedSteer::Link() const {
  LinkState s;
  if (!link_.valid()) return s;
  s.pinned = true;
  bpf_link_info li{};
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(link_.get(), &li, &len) == 0) {
    s.link_id = li.id;
    s.prog_id = li.prog_id;
    s.ifindex = li.xdp.ifindex;
  }
  return s;
}

absl::StatusOr<std::vector<xsk_steer_counters>> PinnedSteer::ReadCounters() const {
  return ReadCountersFd(counters_.get(), info_.nr_queues);
}

absl::StatusOr<std::vector<bool>> PinnedSteer::SocketsPresent() const {
  xsk_steer* skel = xsk_steer__open();
  if (!skel) return ErrnoError("open xsk_steer skeleton", errno);
  auto cleanup = std::unique_ptr<xsk_steer, void (*)(xsk_steer*)>(skel, xsk_steer__destroy);
  // Only the query program, on the pinned XSKMAP; the other maps are
  // created small and thrown away with the skeleton.
  bpf_program__set_autoload(skel->progs.xsk_def_prog, false);
  if (int err = bpf_map__reuse_fd(skel->maps.xsks_map, xsks_map_.get()))
    return ErrnoError("reuse pinned xsks_map", err);
  bpf_map__set_max_entries(skel->maps.counters, 1);
  if (int err = xsk_steer__load(skel)) return ErrnoError("load xsk_steer_query", err);

  uint8_t frame[64] = {};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
              .repeat = 1);
  if (int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xsk_steer_query), &opts))
    return ErrnoError("run xsk_steer_query", err);
  std::vector<bool> present(info_.nr_queues);
  for (uint32_t q = 0; q < info_.nr_queues && q < XSK_STEER_MAX_QUEUES; q++)
    present[q] = (skel->bss->sockets_present[q / 64] >> (q % 64)) & 1;
  return present;
}

absl::Status PinnedSteer::RegisterSocket(uint32_t queue, int xsk_fd) const {
  if (!QueueInMask(info_, queue))
    return Error(ExitCode::kQueueOutOfRange,
                 absl::StrCat("queue ", queue, " of ", info_.ifname,
                              " is not steered by this attach (xsk-loader status shows "
                              "the queues; re-attach with --queues to add it)"));
  return UpdateXskMap(xsks_map_.get(), queue, xsk_fd);
}

absl::Status PinnedSteer::UnregisterSocket(uint32_t queue) const {
  if (bpf_map_delete_elem(xsks_map_.get(), &queue) != 0 && errno != ENOENT)
    return ErrnoError(absl::StrCat("unregister queue ", queue), errno);
  return absl::OkStatus();
}

// --------------------------------------------------------------- XskSteerProg

absl::StatusOr<XskSteerProg> XskSteerProg::Load(const xsk_steer_info& info,
                                                const PinnedSteer* reuse) {
  XskSteerProg p;
  p.info_ = info;
  p.skel_ = xsk_steer__open();
  if (!p.skel_) return ErrnoError("open xsk_steer skeleton", errno);
  p.skel_->rodata->filter = info.filter;
  bpf_program__set_autoload(p.skel_->progs.xsk_steer_query, false);
  uint32_t entries = std::max<uint32_t>(info.nr_queues, 1);
  bpf_map__set_max_entries(p.skel_->maps.xsks_map, entries);
  bpf_map__set_max_entries(p.skel_->maps.counters, entries);
  if (reuse) {
    if (int err = bpf_map__reuse_fd(p.skel_->maps.xsks_map, reuse->xsks_map_fd()))
      return ErrnoError("reuse pinned xsks_map", err);
    if (int err = bpf_map__reuse_fd(p.skel_->maps.counters, reuse->counters_fd()))
      return ErrnoError("reuse pinned counters", err);
  }
  if (int err = xsk_steer__load(p.skel_))
    return ErrnoError("load xsk_steer (run with --log-level debug for the verifier log)", err);
  uint32_t key = 0;
  if (bpf_map_update_elem(bpf_map__fd(p.skel_->maps.steer_info), &key, &p.info_, BPF_ANY) != 0)
    return ErrnoError("write steer_info", errno);
  return p;
}

XskSteerProg::XskSteerProg(XskSteerProg&& o) noexcept
    : skel_(std::exchange(o.skel_, nullptr)), info_(o.info_), link_(std::move(o.link_)) {}

XskSteerProg& XskSteerProg::operator=(XskSteerProg&& o) noexcept {
  if (this != &o) {
    link_.reset();
    if (skel_) xsk_steer__destroy(skel_);
    skel_ = std::exchange(o.skel_, nullptr);
    info_ = o.info_;
    link_ = std::move(o.link_);
  }
  return *this;
}

XskSteerProg::~XskSteerProg() {
  link_.reset();  // an unpinned link detaches here
  if (skel_) xsk_steer__destroy(skel_);
}

int XskSteerProg::prog_fd() const { return bpf_program__fd(skel_->progs.xsk_def_prog); }

absl::Status XskSteerProg::Attach() {
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.flags = info_.xdp_mode == XSK_STEER_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int fd = bpf_link_create(prog_fd(), static_cast<int>(info_.ifindex), BPF_XDP, &opts);
  if (fd < 0)
    return ErrnoError(absl::StrCat("attach XDP (", XdpModeName(info_.xdp_mode), " mode) to ",
                                   info_.ifname, " through a bpf_link"),
                      errno);
  link_.reset(fd);
  return absl::OkStatus();
}

absl::Status XskSteerProg::PinMaps(const std::string& dir) const {
  XSKIT_RETURN_IF_ERROR(PinFd(bpf_map__fd(skel_->maps.xsks_map), PinPath(dir, kPinXsksMap)));
  XSKIT_RETURN_IF_ERROR(PinFd(bpf_map__fd(skel_->maps.counters), PinPath(dir, kPinCounters)));
  return PinFd(bpf_map__fd(skel_->maps.steer_info), PinPath(dir, kPinInfo));
}

absl::Status XskSteerProg::PinLink(const std::string& dir) const {
  if (!link_.valid()) return Error(ExitCode::kInternal, "PinLink() before Attach()");
  return PinFd(link_.get(), PinPath(dir, kPinLink), PinAccess::kOwnerOnly);
}

absl::Status XskSteerProg::ReplaceIn(const PinnedSteer& pinned) const {
  Fd link(bpf_obj_get(PinPath(pinned.dir(), kPinLink).c_str()));
  if (!link.valid()) return ErrnoError("open pinned link", errno);
  if (bpf_link_update(link.get(), prog_fd(), nullptr) != 0)
    return ErrnoError("swap the program of the pinned link (bpf_link_update)", errno);
  // The info map is the old attach's; rewrite it with the new settings.
  Fd info(bpf_obj_get(PinPath(pinned.dir(), kPinInfo).c_str()));
  uint32_t key = 0;
  if (!info.valid() || bpf_map_update_elem(info.get(), &key, &info_, BPF_ANY) != 0)
    return ErrnoError("rewrite steer_info", errno);
  return absl::OkStatus();
}

absl::Status XskSteerProg::RegisterSocket(uint32_t queue, int xsk_fd) const {
  return UpdateXskMap(bpf_map__fd(skel_->maps.xsks_map), queue, xsk_fd);
}

absl::StatusOr<std::vector<xsk_steer_counters>> XskSteerProg::ReadCounters() const {
  return ReadCountersFd(bpf_map__fd(skel_->maps.counters), std::max<uint32_t>(info_.nr_queues, 1));
}

absl::StatusOr<XskSteerProg::TestRunResult> XskSteerProg::TestRun(const std::vector<uint8_t>& frame,
                                                                  uint32_t queue, int ifindex,
                                                                  uint32_t repeat) const {
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame.size());
  ctx.ingress_ifindex = static_cast<uint32_t>(ifindex);
  ctx.rx_queue_index = queue;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()), .repeat = static_cast<int>(repeat));
  if (ifindex) {
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
  }
  if (int err = bpf_prog_test_run_opts(prog_fd(), &opts)) return ErrnoError("BPF_PROG_TEST_RUN", err);
  return TestRunResult{opts.retval, opts.duration};
}

}  // namespace xskit
