#include "lib/xsk_steer_prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/enums.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/netlink.h"
#include "lib/percpu_maps.h"
#include "lib/pins.h"
#include "xsk_steer.skel.h"
#include "xsk_steer_nofilter.skel.h"

namespace xskit {
namespace {

// Per-queue counters summed over CPUs (lib/percpu_maps.h: one batch for
// all queues, since an exporter scrape reads every queue).
absl::StatusOr<std::vector<xsk_steer_counters>> ReadCountersFd(int fd, uint32_t nr_queues) {
  XSKIT_ASSIGN_OR_RETURN(auto per_cpu, ReadPerCpuArray<xsk_steer_counters>(fd, nr_queues, "counters"));
  const size_t cpus = static_cast<size_t>(NumPossibleCpus());
  std::vector<xsk_steer_counters> out(nr_queues);
  for (uint32_t q = 0; q < nr_queues; q++)
    for (size_t c = 0; c < cpus; c++)
      for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++)
        out[q].packets[o] += per_cpu[q * cpus + c].packets[o];
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
  return NameOf(kOutcomeNames, outcome, "unknown");
}

const char* XdpModeName(uint32_t mode) {
  return NameOf(kXdpModeNames, static_cast<xsk_steer_xdp_mode>(mode), "unknown");
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

absl::StatusOr<PinnedSteer> PinnedSteer::Open(const std::string& dir, LinkHold hold) {
  PinnedSteer p;
  p.dir_ = dir;
  p.read_only_ = hold == LinkHold::kReadOnly;
  const PinOpen mode = p.read_only_ ? PinOpen::kReadOnly : PinOpen::kReadWrite;
  // Every pin is checked before use (a foreign or older map at a pin path
  // must not be read into fixed structs or size buffers).
  XSKIT_ASSIGN_OR_RETURN(
      p.info_map_, OpenPinnedMap(dir, kPinInfo, {BPF_MAP_TYPE_ARRAY, 4, sizeof(xsk_steer_info), 1, 1},
                                 nullptr, mode));
  XSKIT_RETURN_IF_ERROR(ReadPinnedInfo(p.info_map_.get(), dir, kPinInfo, &p.info_));
  if (p.info_.version != SteerInfoVersion())
    return Error(ExitCode::kForeignPin,
                 absl::StrCat(PinPath(dir, kPinInfo), " is not an xskit pin of this version (",
                              "layout version ", p.info_.version, ", this xskit reads ",
                              SteerInfoVersion(), "): it was attached by ",
                              p.info_.version < SteerInfoVersion() ? "an older" : "a newer",
                              " xskit; `xsk-loader attach` with this one takes it over in place "
                              "(docs/DESIGN.md, \"Upgrades\")"));
  uint32_t xsk_entries = 0, counter_entries = 0;
  XSKIT_ASSIGN_OR_RETURN(p.xsks_map_, OpenPinnedMap(dir, kPinXsksMap,
                                                    {BPF_MAP_TYPE_XSKMAP, 4, 4, 1, XSK_STEER_MAX_QUEUES},
                                                    &xsk_entries, mode));
  XSKIT_ASSIGN_OR_RETURN(p.counters_,
                         OpenPinnedMap(dir, kPinCounters,
                                       {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(xsk_steer_counters), 1,
                                        XSK_STEER_MAX_QUEUES},
                                       &counter_entries, mode));
  if (p.info_.nr_queues > xsk_entries || p.info_.nr_queues > counter_entries)
    return ForeignPin(PinPath(dir, kPinInfo),
                      absl::StrCat("nr_queues ", p.info_.nr_queues, " beyond the ", xsk_entries,
                                   "/", counter_entries, " entries of its maps"));
  if (p.info_.filter.nr_rules > XSK_STEER_MAX_RULES)
    return ForeignPin(PinPath(dir, kPinInfo), absl::StrCat(p.info_.filter.nr_rules, " filter rules"));
  if (p.read_only_) return p;  // the link is root's: not opened
  // The link is checked too, and kept only when asked for.
  Fd link(bpf_obj_get(PinPath(dir, kPinLink).c_str()));
  if (link.valid() && !IsBpfLinkKind(BpfObjectKind(link.get())))
    return ForeignPin(PinPath(dir, kPinLink),
                      absl::StrCat("a ", BpfObjectKind(link.get()), " where the bpf_link belongs"));
  if (hold == LinkHold::kHold) p.link_ = std::move(link);
  return p;
}

namespace {

PinnedSteer::LinkState LinkStateOf(int fd) {
  PinnedSteer::LinkState s;
  if (fd < 0 || !IsBpfLinkKind(BpfObjectKind(fd))) return s;  // absent, or not a link
  s.pinned = true;
  bpf_link_info li{};
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) == 0) {
    s.link_id = li.id;
    s.prog_id = li.prog_id;
    s.ifindex = li.xdp.ifindex;
  }
  return s;
}

}  // namespace

PinnedSteer::LinkState PinnedSteer::Link() const {
  if (read_only_) {
    // A read-only reader never opens the link (the pin is 0600): only
    // whether it is pinned.
    LinkState s;
    struct stat st {};
    s.pinned = ::stat(PinPath(dir_, kPinLink).c_str(), &st) == 0;
    return s;
  }
  if (link_.valid()) return LinkStateOf(link_.get());
  return LinkAt(dir_);
}

PinnedSteer::LinkState PinnedSteer::LinkAt(const std::string& dir) {
  Fd transient(bpf_obj_get(PinPath(dir, kPinLink).c_str()));
  return LinkStateOf(transient.get());
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

absl::StatusOr<Fd> OpenPinnedProg(const std::string& dir, uint32_t* id) {
  const std::string path = PinPath(dir, kPinProg);
  LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
  Fd fd(bpf_obj_get_opts(path.c_str(), &opts));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such pin"));
    return ErrnoError(absl::StrCat("open pin ", path), errno);
  }
  std::string kind = BpfObjectKind(fd.get());
  if (kind != "bpf-prog")
    return ForeignPin(path, absl::StrCat("a ", kind.empty() ? "non-BPF object" : kind,
                                         " where the program belongs"));
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
    return ErrnoError(absl::StrCat("read the program info of ", path), errno);
  if (info.type != BPF_PROG_TYPE_XDP)
    return ForeignPin(path, absl::StrCat("program type ", info.type, ", xskit's is XDP"));
  if (id) *id = info.id;
  return fd;
}

absl::Status UnregisterUnsteered(const PinnedSteer& pinned, const xsk_steer_info& info) {
  for (uint32_t q = 0; q < pinned.info().nr_queues && q < XSK_STEER_MAX_QUEUES; q++)
    if (!QueueInMask(info, q)) XSKIT_RETURN_IF_ERROR(pinned.UnregisterSocket(q));
  return absl::OkStatus();
}

// ----------------------------------------------------------- OtherVersionPins

absl::StatusOr<OtherVersionPins> OtherVersionPins::Open(const std::string& dir) {
  OtherVersionPins p;
  p.dir_ = dir;
  XSKIT_ASSIGN_OR_RETURN(p.version_, ReadPinnedInfoVersion(dir, kPinInfo));
  if (p.version_ == 0 || p.version_ == SteerInfoVersion())
    return ForeignPin(PinPath(dir, kPinInfo),
                      absl::StrCat("layout version ", p.version_, " is not another xskit's"));
  const std::string what =
      absl::StrCat("the attach at ", dir, " (info version ", p.version_, ", this xskit's is ",
                   SteerInfoVersion(), ")");
  auto refuse = [&](absl::string_view why) {
    return Error(ExitCode::kCannotMigrate,
                 absl::StrCat(what, " cannot be taken over in place: ", why,
                              "; detach it (`xsk-loader detach IFACE --force`), then attach "
                              "(its sockets must register again)"));
  };
  p.link_.reset(bpf_obj_get(PinPath(dir, kPinLink).c_str()));
  if (!p.link_.valid() || !IsBpfLinkKind(BpfObjectKind(p.link_.get())))
    return refuse("its link pin is not a bpf_link");
  bpf_link_info li{};
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(p.link_.get(), &li, &len) != 0)
    return ErrnoError(absl::StrCat("read the link info of ", PinPath(dir, kPinLink)), errno);
  if (li.type != BPF_LINK_TYPE_XDP) return refuse(absl::StrCat("its link is of type ", li.type));
  p.link_state_ = {true, li.id, li.prog_id, li.xdp.ifindex};
  // The XSKMAP's layout is the same in every version.
  auto xsks = OpenPinnedMap(dir, kPinXsksMap,
                            {BPF_MAP_TYPE_XSKMAP, 4, 4, 1, XSK_STEER_MAX_QUEUES}, &p.nr_queues_);
  if (!xsks.ok()) return refuse(xsks.status().message());
  p.xsks_map_ = std::move(*xsks);
  // The counters are carried over when their layout is this build's.
  auto counters = OpenPinnedMap(dir, kPinCounters,
                                {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(xsk_steer_counters),
                                 p.nr_queues_, p.nr_queues_});
  if (counters.ok())
    p.counters_ = std::move(*counters);
  else
    p.counters_why_ = std::string(counters.status().message());
  return p;
}

std::string CurrentIfname(const PinnedSteer& pinned, uint64_t netns_ino) {
  if (pinned.info().netns_ino != netns_ino) return "";
  PinnedSteer::LinkState link = pinned.Link();
  if (link.ifindex == 0) return "";
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(link.ifindex, name)) return "";
  // The same ifindex in another namespace is another device: the program
  // attached to this one must be the link's.
  auto dev = GetLink(name);
  if (!dev.ok()) return "";
  uint32_t prog = dev->xdp_prog_id ? dev->xdp_prog_id : std::max(dev->xdp_drv_prog_id, dev->xdp_skb_prog_id);
  return prog == link.prog_id ? std::string(name) : "";
}

// --------------------------------------------------------------- XskSteerProg

namespace {

// The xsk_steer skeleton, over bpf/xsk_steer_nofilter.bpf.c's ELF when there
// is no filter: the same source built with nr_rules a compile-time 0 (the
// same maps, programs and rodata layout), which saves the per-packet load of
// nr_rules that frozen rodata still leaves in the program (0.4 ns a packet,
// bench/steer_bench).
xsk_steer* OpenSteer(bool filtered) {
  if (filtered) return xsk_steer__open();
  auto* obj = static_cast<xsk_steer*>(calloc(1, sizeof(xsk_steer)));
  if (!obj) {
    errno = ENOMEM;
    return nullptr;
  }
  int err = xsk_steer__create_skeleton(obj);
  if (!err) {
    size_t size = 0;
    obj->skeleton->data = const_cast<void*>(xsk_steer_nofilter__elf_bytes(&size));
    obj->skeleton->data_sz = size;
    err = bpf_object__open_skeleton(obj->skeleton, nullptr);
  }
  if (err) {
    xsk_steer__destroy(obj);
    errno = -err;
    return nullptr;
  }
  return obj;
}

}  // namespace

absl::StatusOr<XskSteerProg> XskSteerProg::Load(const xsk_steer_info& info,
                                                const PinnedSteer* reuse) {
  return LoadOn(info, reuse ? reuse->xsks_map_fd() : -1, reuse ? reuse->counters_fd() : -1);
}

absl::StatusOr<XskSteerProg> XskSteerProg::Load(const xsk_steer_info& info,
                                                const OtherVersionPins& from) {
  return LoadOn(info, from.xsks_map_fd(), from.counters_fd());
}

absl::StatusOr<XskSteerProg> XskSteerProg::LoadOn(const xsk_steer_info& info, int xsks_map_fd,
                                                  int counters_fd) {
  const xsk_steer_filter& filter = info.filter;
  if (filter.nr_rules > XSK_STEER_MAX_RULES)
    return Error(ExitCode::kUsage, absl::StrCat(filter.nr_rules, " filter rules: at most ",
                                                XSK_STEER_MAX_RULES));
  for (uint32_t i = 0; i < filter.nr_rules; i++)
    if (filter.rules[i].l4proto == 0)
      return Error(ExitCode::kUsage, absl::StrCat("filter rule ", i, " has no protocol"));
  XskSteerProg p;
  p.info_ = info;
  p.skel_ = OpenSteer(filter.nr_rules > 0);
  if (!p.skel_) return ErrnoError("open xsk_steer skeleton", errno);
  // The program's copy of the rules: it compares a rule as one word
  // {l4proto, pad, dport} with dport in network order (as read from the
  // frame), reads the "port" of any protocol (a protocol without ports,
  // ICMP, must have port 0 to match by protocol alone; ParseMatch gives
  // that too), and stops at the first zero word instead of reading
  // nr_rules.
  xsk_steer_filter& rules = p.skel_->rodata->filter;
  rules = xsk_steer_filter{};
  rules.nr_rules = filter.nr_rules;
  for (uint32_t i = 0; i < filter.nr_rules; i++) {
    const xsk_steer_rule& r = filter.rules[i];
    bool ports = r.l4proto == IPPROTO_UDP || r.l4proto == IPPROTO_UDPLITE ||
                 r.l4proto == IPPROTO_TCP || r.l4proto == IPPROTO_SCTP;
    rules.rules[i] = {r.l4proto, 0, static_cast<uint16_t>(ports ? htons(r.dport) : 0)};
  }
  bpf_program__set_autoload(p.skel_->progs.xsk_steer_query, false);
  uint32_t entries = std::max<uint32_t>(info.nr_queues, 1);
  bpf_map__set_max_entries(p.skel_->maps.xsks_map, entries);
  bpf_map__set_max_entries(p.skel_->maps.counters, entries);
  // Their shapes were checked when the pins were opened (PinnedSteer,
  // OtherVersionPins): libbpf takes the maps as they are.
  if (xsks_map_fd >= 0)
    if (int err = bpf_map__reuse_fd(p.skel_->maps.xsks_map, xsks_map_fd))
      return ErrnoError("reuse pinned xsks_map", err);
  if (counters_fd >= 0)
    if (int err = bpf_map__reuse_fd(p.skel_->maps.counters, counters_fd))
      return ErrnoError("reuse pinned counters", err);
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
  XSKIT_RETURN_IF_ERROR(PinFd(prog_fd(), PinPath(dir, kPinProg)));
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
  // The new program's pin is staged beside the old one and renamed over it
  // once the link runs it (bpffs names cannot hold '.'; ':' never starts a
  // pin name of xskit's).
  const std::string staged = PinPath(pinned.dir(), absl::StrCat(":", kPinProg, "-", ::getpid()));
  ::unlink(staged.c_str());
  XSKIT_RETURN_IF_ERROR(PinFd(prog_fd(), staged));
  if (bpf_link_update(link.get(), prog_fd(), nullptr) != 0) {
    int err = errno;
    ::unlink(staged.c_str());
    return ErrnoError("swap the program of the pinned link (bpf_link_update)", err);
  }
  if (::rename(staged.c_str(), PinPath(pinned.dir(), kPinProg).c_str()) != 0) {
    int err = errno;
    ::unlink(staged.c_str());
    return ErrnoError(absl::StrCat("rename ", staged, " -> ", PinPath(pinned.dir(), kPinProg)), err);
  }
  // The info map is the old attach's; rewrite it with the new settings.
  Fd info(bpf_obj_get(PinPath(pinned.dir(), kPinInfo).c_str()));
  uint32_t key = 0;
  if (!info.valid() || bpf_map_update_elem(info.get(), &key, &info_, BPF_ANY) != 0)
    return ErrnoError("rewrite steer_info", errno);
  // Queues this attach no longer steers lose their sockets.
  return UnregisterUnsteered(pinned, info_);
}

bool XskSteerProg::SameProgramAs(uint32_t prog_id) const {
  Fd old(bpf_prog_get_fd_by_id(prog_id));
  if (!old.valid()) return false;
  bpf_prog_info a{}, b{};
  uint32_t la = sizeof(a), lb = sizeof(b);
  if (bpf_obj_get_info_by_fd(old.get(), &a, &la) != 0 ||
      bpf_obj_get_info_by_fd(prog_fd(), &b, &lb) != 0)
    return false;
  return std::memcmp(a.tag, b.tag, sizeof(a.tag)) == 0;
}

absl::Status XskSteerProg::PinForMigration(const OtherVersionPins& from,
                                           const std::string& staging) const {
  XSKIT_RETURN_IF_ERROR(PinMaps(staging));
  // A second pin of the live link: the first goes with the old directory.
  return PinFd(from.link_fd(), PinPath(staging, kPinLink), PinAccess::kOwnerOnly);
}

absl::Status XskSteerProg::SwapInto(const OtherVersionPins& from, int old_prog_fd) const {
  LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_prog_fd = static_cast<__u32>(old_prog_fd));
  if (bpf_link_update(from.link_fd(), prog_fd(), &opts) != 0) {
    int err = errno;
    return Error(ExitCode::kCannotMigrate,
                 absl::StrCat("swap the program of ", PinPath(from.dir(), kPinLink),
                              " (bpf_link_update): ", std::strerror(err),
                              err == EPERM ? " (its program changed meanwhile: attach again)"
                                           : "; detach it (`xsk-loader detach IFACE --force`), "
                                             "then attach"));
  }
  return absl::OkStatus();
}

absl::Status XskSteerProg::SwapBack(const OtherVersionPins& from, int old_prog_fd) const {
  LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_prog_fd = static_cast<__u32>(prog_fd()));
  if (bpf_link_update(from.link_fd(), old_prog_fd, &opts) != 0)
    return ErrnoError(absl::StrCat("restore the old program of ", PinPath(from.dir(), kPinLink)),
                      errno);
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
