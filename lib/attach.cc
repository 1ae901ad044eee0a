#include "lib/attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/afxdp_dp.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/preconditions.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {
namespace {

std::string ProgName(uint32_t prog_id) {
  Fd fd(bpf_prog_get_fd_by_id(prog_id));
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (fd.valid() && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0) return info.name;
  return "?";
}

bool SameAttach(const xsk_steer_info& a, const xsk_steer_info& b) {
  return a.ifindex == b.ifindex && a.xdp_mode == b.xdp_mode && a.zerocopy == b.zerocopy &&
         a.nr_queues == b.nr_queues &&
         std::memcmp(a.queue_mask, b.queue_mask, sizeof(a.queue_mask)) == 0 &&
         a.filter.nr_rules == b.filter.nr_rules &&
         std::memcmp(a.filter.rules, b.filter.rules,
                     sizeof(xsk_steer_rule) * a.filter.nr_rules) == 0;
}

// Detaches a foreign program attached through netlink (--force). One that
// is held by someone else's bpf_link cannot be removed this way.
absl::Status DetachForeign(const LinkState& link) {
  uint32_t flags = link.xdp_attached == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
                   : link.xdp_attached == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE
                   : link.xdp_attached == XDP_ATTACHED_HW  ? XDP_FLAGS_HW_MODE
                                                           : 0;
  if (int err = bpf_xdp_detach(link.ifindex, flags, nullptr))
    return ErrnoError(absl::StrCat("detach the foreign XDP program from ", link.ifname,
                                   (err == -EBUSY ? " (it is held by a bpf_link: remove "
                                                    "that link's pin or its owner)"
                                                  : "")),
                      err, ExitCode::kForeignProgram);
  return absl::OkStatus();
}

// Pins follow the device: a pin directory whose live link sits on a device
// of this namespace that now has another name is renamed after it, so that
// a new device taking the old name never finds (and removes) the live pins
// of the renamed one, and attach/detach by the new name find them. Runs
// under the PinLock.
void FollowRenames(const PinLayout& pins, const NetnsId& netns) {
  for (const std::string& dir_name : pins.ListIfaceDirs()) {
    if (ParseIfaceDirName(dir_name).netns != netns.name) continue;
    auto pinned = PinnedSteer::Open(pins.IfaceDir(dir_name));
    if (!pinned.ok()) continue;
    std::string now = CurrentIfname(*pinned, netns.inode);
    if (now.empty()) continue;
    std::string want = IfaceDirName(netns, now);
    if (want == dir_name) continue;
    std::string target = pins.IfaceDir(want);
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0) {
      // Another attach's pins under the new name: stale unless live there.
      auto other = PinnedSteer::Open(target);
      if (other.ok() && !CurrentIfname(*other, netns.inode).empty()) continue;
      spdlog::warn("removing stale pins at {} (their program is no longer attached)", target);
      if (!RemovePinDir(target).ok()) continue;
    }
    if (::rename(pins.IfaceDir(dir_name).c_str(), target.c_str()) == 0)
      spdlog::info("{} is now {}: its pins follow it ({})", ParseIfaceDirName(dir_name).ifname,
                   now, target);
  }
}

// The attach that is being built in a staging directory; released without
// commit, it removes the staging pins and (through the link fd) the XDP
// program, leaving the interface as it was.
class StagedAttach {
 public:
  explicit StagedAttach(std::string dir) : dir_(std::move(dir)) {}
  ~StagedAttach() {
    if (!committed_) (void)RemovePinDir(dir_);
  }
  const std::string& dir() const { return dir_; }
  absl::Status CommitAs(const std::string& final_dir) {
    if (::rename(dir_.c_str(), final_dir.c_str()) != 0)
      return ErrnoError(absl::StrCat("rename ", dir_, " -> ", final_dir), errno);
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  std::string dir_;
  bool committed_ = false;
};

}  // namespace

absl::StatusOr<std::pair<uint32_t, std::string>> ResolveMode(ModeRequest request,
                                                             const IfaceFacts& f) {
  const std::string who = absl::StrCat(f.link.ifname, " (", f.driver, ")");
  switch (request) {
    case ModeRequest::kGeneric:
      return std::make_pair<uint32_t, std::string>(XSK_STEER_MODE_GENERIC, "generic: requested");
    case ModeRequest::kNative:
      if (!f.xdp.native)
        return Error(ExitCode::kUnsupported,
                     absl::StrCat("--mode native: ", who,
                                  " has no native XDP (", f.xdp.source,
                                  "); use --mode generic or --mode auto"));
      return std::make_pair<uint32_t, std::string>(XSK_STEER_MODE_NATIVE, "native: requested");
    case ModeRequest::kAuto:
      if (f.xdp.native)
        return std::make_pair<uint32_t, std::string>(
            XSK_STEER_MODE_NATIVE,
            absl::StrCat("native: ", who, " supports it (", f.xdp.source, ")"));
      return std::make_pair<uint32_t, std::string>(
          XSK_STEER_MODE_GENERIC,
          absl::StrCat("generic: ", who, " has no native XDP (", f.xdp.source, ")"));
  }
  return Error(ExitCode::kInternal, "unknown mode");
}

absl::StatusOr<xsk_steer_info> ValidateAttach(const AttachRequest& req, const IfaceFacts& f,
                                              std::string* mode_reason) {
  xsk_steer_info info{};
  info.version = SteerInfoVersion();
  info.ifindex = static_cast<uint32_t>(f.link.ifindex);
  info.filter = req.filter;

  const uint32_t nq = f.QueueCount();
  if (nq > XSK_STEER_MAX_QUEUES)
    spdlog::warn("{} has {} queues; xskit steers the first {}", f.link.ifname, nq,
                 XSK_STEER_MAX_QUEUES);
  info.nr_queues = std::min<uint32_t>(nq, XSK_STEER_MAX_QUEUES);
  for (uint32_t q : req.queues) {
    if (q >= info.nr_queues)
      return Error(ExitCode::kQueueOutOfRange,
                   absl::StrCat("queue ", q, " is outside ", f.link.ifname, "'s ", nq,
                                " channel(s): valid queues are 0-", info.nr_queues - 1,
                                " (`ethtool -l ", f.link.ifname, "`; raise with ethtool -L)"));
    SetQueueInMask(info, q);
  }
  if (req.queues.empty())
    for (uint32_t q = 0; q < info.nr_queues; q++) SetQueueInMask(info, q);

  XSKIT_ASSIGN_OR_RETURN(auto mode, ResolveMode(req.mode, f));
  info.xdp_mode = mode.first;
  if (mode_reason) *mode_reason = mode.second;

  if (req.zerocopy) {
    if (info.xdp_mode != XSK_STEER_MODE_NATIVE)
      return Error(ExitCode::kUnsupported,
                   absl::StrCat("--zerocopy needs native XDP, but the mode is ",
                                mode.second, "; drop --zerocopy or use --mode native"));
    if (!f.xdp.zerocopy)
      return Error(ExitCode::kUnsupported,
                   absl::StrCat("--zerocopy: ", f.link.ifname, " (", f.driver,
                                ") has no AF_XDP zero-copy (", f.xdp.source,
                                "); drop --zerocopy to use copy mode"));
    info.zerocopy = 1;
  }

  if (info.xdp_mode == XSK_STEER_MODE_NATIVE && f.recorded && f.recorded->max_xdp_mtu &&
      f.link.mtu > f.recorded->max_xdp_mtu) {
    return Error(ExitCode::kMtuTooLarge,
                 absl::StrCat("MTU ", f.link.mtu, " of ", f.link.ifname, " is above the ",
                              f.recorded->max_xdp_mtu, " that ", f.driver,
                              " accepts for native XDP without multi-buffer",
                              f.recorded->mtu_is_peer_mtu ? " (on the veth peer too)" : "",
                              ": lower it (ip link set dev ", f.link.ifname, " mtu ",
                              f.recorded->max_xdp_mtu, ") or use --mode generic"));
  }

  std::snprintf(info.ifname, sizeof(info.ifname), "%s", f.link.ifname.c_str());
  std::snprintf(info.driver, sizeof(info.driver), "%s", f.driver.c_str());
  return info;
}

namespace {

// The mode an attach runs in now, from the device's view of its program.
uint32_t AttachedMode(const LinkState& dev, uint32_t prog_id) {
  if (prog_id == dev.xdp_drv_prog_id) return XSK_STEER_MODE_NATIVE;
  if (prog_id == dev.xdp_skb_prog_id) return XSK_STEER_MODE_GENERIC;
  return dev.xdp_attached == XDP_ATTACHED_DRV ? XSK_STEER_MODE_NATIVE : XSK_STEER_MODE_GENERIC;
}

absl::Status AttachedDifferently(const std::string& ifname, uint32_t mode, uint32_t nr_queues) {
  return Error(ExitCode::kAttachedDifferently,
               absl::StrCat(ifname, " is attached in ", XdpModeName(mode), " mode with ", nr_queues,
                            " queue slots; a change of mode or channel count needs "
                            "`xsk-loader detach ", ifname, "` first"));
}

// The upgrade (or downgrade) rule of docs/DESIGN.md, "Upgrades": another
// version's live attach is taken over without a detach. The new program is
// loaded on the pinned XSKMAP (and counters, when their layout allows),
// its pins (with a new info) are staged beside the old directory, the
// program is swapped in on the pinned link, and the staged directory is
// exchanged with the old one; the old pins then go. A failure before the
// swap changes nothing; one after it swaps the old program back.
absl::StatusOr<AttachResult> MigrateSteer(const PinLayout& pins, const std::string& dir_name,
                                          const IfaceFacts& facts, const OtherVersionPins& from,
                                          AttachResult result) {
  const uint32_t mode = AttachedMode(facts.link, from.link().prog_id);
  if (mode != result.info.xdp_mode || from.nr_queues() != result.info.nr_queues)
    return AttachedDifferently(facts.link.ifname, mode, from.nr_queues());
  result.info.flags |= XSK_STEER_INFO_F_MIGRATED;
  result.info.migrated_from = static_cast<uint16_t>(from.version());
  if (from.counters_fd() < 0) {
    result.info.flags |= XSK_STEER_INFO_F_COUNTERS_RESTARTED;
    result.counters_restarted = from.counters_restart_reason();
  }
  result.migrated_from = from.version();
  XSKIT_ASSIGN_OR_RETURN(XskSteerProg prog, XskSteerProg::Load(result.info, from));
  Fd old_prog(bpf_prog_get_fd_by_id(from.link().prog_id));
  if (!old_prog.valid())
    return ErrnoError(absl::StrCat("open the running program (id ", from.link().prog_id, ")"),
                      errno);

  StagedAttach staged(pins.StagingDir(dir_name));
  if (::mkdir(staged.dir().c_str(), 0700) != 0)
    return ErrnoError(absl::StrCat("mkdir ", staged.dir()), errno);
  XSKIT_RETURN_IF_ERROR(ApplyPinAccess(staged.dir(), PinAccess::kGroupReads));
  XSKIT_RETURN_IF_ERROR(prog.PinForMigration(from, staged.dir()));
  // The data path's commit: the link runs the new program from here on.
  XSKIT_RETURN_IF_ERROR(prog.SwapInto(from, old_prog.get()));
  Failpoint("after-link-update");
  // The pins' commit: readers see the old set or the new one.
  if (auto exchanged = ExchangeDirs(staged.dir(), result.dir); !exchanged.ok()) {
    if (auto back = prog.SwapBack(from, old_prog.get()); !back.ok())
      return Annotate(back, exchanged.message());
    return Error(ExitCode::kCannotMigrate,
                 absl::StrCat(exchanged.message(),
                              "; the old program is back. Detach (`xsk-loader detach ",
                              facts.link.ifname, " --force`), then attach"));
  }
  Failpoint("after-exchange");
  // The staging path now holds the old pins; they go with `staged` (the
  // link stays: it is pinned in the new directory too).
  XSKIT_ASSIGN_OR_RETURN(PinnedSteer pinned, PinnedSteer::Open(result.dir));
  XSKIT_RETURN_IF_ERROR(UnregisterUnsteered(pinned, result.info));
  result.action = AttachResult::Action::kMigrated;
  return result;
}

absl::StatusOr<AttachResult> AttachSteer(const AttachRequest& req) {
  XSKIT_RETURN_IF_ERROR(RequireCapabilities({Cap::kBpf, Cap::kNetAdmin, Cap::kPerfmon}));
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(req.pin_root));
  XSKIT_RETURN_IF_ERROR(RequireKernelBtf());
  XSKIT_ASSIGN_OR_RETURN(IfaceFacts facts, ReadIfaceFacts(req.ifname));
  AttachResult result;
  XSKIT_ASSIGN_OR_RETURN(result.info, ValidateAttach(req, facts, &result.mode_reason));
  result.xdp_mode = result.info.xdp_mode;

  XSKIT_ASSIGN_OR_RETURN(NetnsId netns, CurrentNetns());
  result.info.netns_ino = netns.inode;
  std::snprintf(result.info.netns, sizeof(result.info.netns), "%s", netns.name.c_str());
  result.info.attach_time_ns = static_cast<uint64_t>(time(nullptr)) * 1000000000ULL;
  const std::string dir_name = IfaceDirName(netns, req.ifname);
  result.dir = pins.IfaceDir(dir_name);
  pins.SweepStaleStaging();
  FollowRenames(pins, netns);
  if (req.dp_pin)
    XSKIT_RETURN_IF_ERROR(CheckDpMapFree(req.ifname, PinPath(result.dir, kPinXsksMap), req.force));

  // What is there now: our own earlier attach, a stale pin dir, a foreign program.
  const uint32_t attached_prog = facts.link.xdp_prog_id
                                     ? facts.link.xdp_prog_id
                                     : std::max(facts.link.xdp_drv_prog_id,
                                                facts.link.xdp_skb_prog_id);
  struct stat st {};
  if (::stat(result.dir.c_str(), &st) == 0) {
    auto pinned = PinnedSteer::Open(result.dir);
    // The link pin, whatever the rest: live when it runs the device's program.
    PinnedSteer::LinkState link = PinnedSteer::LinkAt(result.dir);
    bool live = link.ifindex == result.info.ifindex && link.prog_id == attached_prog &&
                attached_prog != 0;
    if (live && pinned.ok()) {
      xsk_steer_info want = result.info;
      want.netns_ino = pinned->info().netns_ino;
      if (pinned->info().xdp_mode != want.xdp_mode || pinned->info().nr_queues != want.nr_queues)
        return AttachedDifferently(req.ifname, pinned->info().xdp_mode, pinned->info().nr_queues);
      // Same mode: swap the program in place, keeping maps, sockets and
      // counters; with the same options only when this xskit's program
      // differs from the running one (an upgrade that kept the info layout).
      XSKIT_ASSIGN_OR_RETURN(XskSteerProg prog, XskSteerProg::Load(result.info, &*pinned));
      if (SameAttach(pinned->info(), want)) {
        if (prog.SameProgramAs(link.prog_id)) {
          result.action = AttachResult::Action::kUnchanged;
          result.info = pinned->info();
          return result;
        }
        result.new_program = true;
      }
      XSKIT_RETURN_IF_ERROR(prog.ReplaceIn(*pinned));
      result.action = AttachResult::Action::kUpdated;
      return result;
    }
    if (live) {
      // Another xskit version's attach (an upgrade or a downgrade): taken
      // over in place. Pins that are not xskit's at all are refused as
      // they are, never removed from under a live program.
      auto from = OtherVersionPins::Open(result.dir);
      if (!from.ok())
        return ExitCodeOf(from.status()) == ExitCode::kCannotMigrate ? from.status()
                                                                      : pinned.status();
      return MigrateSteer(pins, dir_name, facts, *from, std::move(result));
    }
    spdlog::warn("removing stale pins at {} (their program is no longer attached)", result.dir);
    XSKIT_RETURN_IF_ERROR(RemovePinDir(result.dir));
  }

  if (attached_prog != 0) {
    std::string what = absl::StrCat("program id ", attached_prog, " '", ProgName(attached_prog),
                                    "' (", facts.link.xdp_attached == XDP_ATTACHED_SKB ? "generic"
                                                                                       : "native",
                                    " mode)");
    if (!req.force)
      return Error(ExitCode::kForeignProgram,
                   absl::StrCat(req.ifname, " already has a foreign XDP ", what,
                                " attached; remove it, or pass --force to replace it"));
    result.replaced.push_back(what);
  }

  // Everything that can fail without touching the device comes first.
  XSKIT_ASSIGN_OR_RETURN(XskSteerProg prog, XskSteerProg::Load(result.info));
  XSKIT_RETURN_IF_ERROR(MakeDirs(pins.IfacesDir()));
  StagedAttach staged(pins.StagingDir(dir_name));
  if (::mkdir(staged.dir().c_str(), 0700) != 0)
    return ErrnoError(absl::StrCat("mkdir ", staged.dir()), errno);
  XSKIT_RETURN_IF_ERROR(ApplyPinAccess(staged.dir(), PinAccess::kGroupReads));
  // --force: netlink has no atomic replace of a foreign program by a link,
  // so this is the one window where the device runs no XDP program.
  if (!result.replaced.empty()) XSKIT_RETURN_IF_ERROR(DetachForeign(facts.link));
  auto attached = prog.Attach();
  if (!attached.ok() && facts.recorded && facts.recorded->mtu_is_peer_mtu &&
      absl::StrContains(attached.message(), "Invalid argument"))
    return Error(ExitCode::kMtuTooLarge,
                 absl::StrCat(attached.message(), ": the kernel refused native XDP; for veth "
                              "this is the peer's MTU above ", facts.recorded->max_xdp_mtu,
                              " (lower it or use --mode generic)"));
  XSKIT_RETURN_IF_ERROR(attached);
  Failpoint("after-link-create");
  // Commit: maps staged, the directory renamed into place, the link pinned
  // last. Readers take a directory without a link for a leftover; a crash
  // before the link pin detaches the program with the process.
  XSKIT_RETURN_IF_ERROR(prog.PinMaps(staged.dir()));
  XSKIT_RETURN_IF_ERROR(staged.CommitAs(result.dir));
  Failpoint("after-rename");
  if (auto pinned = prog.PinLink(result.dir); !pinned.ok()) {
    (void)RemovePinDir(result.dir);
    return pinned;
  }
  return result;
}

}  // namespace

absl::StatusOr<AttachResult> Attach(const AttachRequest& req) {
  XSKIT_ASSIGN_OR_RETURN(AttachResult result, AttachSteer(req));
  if (!req.dp_pin) return result;
  const std::string pin = PinPath(result.dir, kPinXsksMap);
  if (auto linked = LinkDpMap(req.ifname, pin); !linked.ok()) {
    // A fresh attach is undone; an earlier one stays as it was.
    if (result.action == AttachResult::Action::kAttached) (void)RemovePinDir(result.dir);
    return linked;
  }
  result.dp_pin = DpMapPath(req.ifname);
  return result;
}

absl::Status Detach(const std::string& ifname, const std::optional<std::string>& pin_root,
                    bool force) {
  XSKIT_RETURN_IF_ERROR(RequireCapabilities({Cap::kBpf, Cap::kNetAdmin}));
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(pin_root));
  XSKIT_ASSIGN_OR_RETURN(NetnsId netns, CurrentNetns());
  FollowRenames(pins, netns);
  const std::string dir = pins.IfaceDir(IfaceDirName(netns, ifname));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return Error(ExitCode::kNotAttached,
                 absl::StrCat("xskit is not attached to ", ifname,
                              netns.initial ? "" : absl::StrCat(" in netns ", netns.name),
                              " (no ", dir, "); `xsk-loader status` lists attachments"));
  pins.SweepStaleStaging();
  // Pins that are not xskit's of this version are left alone, and said
  // so, unless --force.
  if (auto pinned = PinnedSteer::Open(dir, PinnedSteer::LinkHold::kHold);
      !pinned.ok() && ExitCodeOf(pinned.status()) == ExitCode::kForeignPin) {
    if (!force)
      return Error(ExitCode::kForeignPin,
                   absl::StrCat(pinned.status().message(), "; `xsk-loader detach ", ifname,
                                " --force` detaches and removes them"));
    spdlog::warn("--force: detaching and removing {} ({})", dir, pinned.status().message());
  }
  UnlinkDpMap(ifname, PinPath(dir, kPinXsksMap));
  // Readers (the exporter, an older socket helper) may hold the link fd, so
  // unpinning alone would leave the program attached: take the link off
  // the device first (BPF_LINK_DETACH), whoever holds it; then the pins go.
  if (Fd link(bpf_obj_get(PinPath(dir, kPinLink).c_str())); link.valid()) {
    if (bpf_link_detach(link.get()) != 0 && errno != ENOLINK && errno != EINVAL)
      return ErrnoError(absl::StrCat("detach the XDP link of ", ifname, " (BPF_LINK_DETACH)"),
                        errno);
  }
  // <root> itself stays (lib/pins.h RemovePinDir).
  return RemovePinDir(dir, pins.root());
}

}  // namespace xskit
