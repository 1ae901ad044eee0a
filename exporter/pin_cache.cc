#include "exporter/pin_cache.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "exporter/decoders.h"
#include "lib/log.h"

namespace xskit::exporter {
namespace {

// The inode of a pin; 0 when it is absent. *err is set for other failures
// (EACCES: cannot tell, keep what we have).
ino_t PinInode(const std::string& path, int* err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return st.st_ino;
  if (errno != ENOENT) *err = errno;
  return 0;
}

}  // namespace

void PinCache::Refresh(const ErrorSink& errors, const std::vector<xsk_xdp_link_rec>* links) {
  // Opening is always allowed in the first Refresh (still privileged);
  // afterwards only with --reopen on-change.
  allow_open_ = !primed_ || may_reopen_;
  primed_ = true;
  // The interface list: readdir of <root>/if through the root's fd (no
  // privilege needed: the group xskit reads the directories).
  std::vector<std::string> dirs;
  if (!RefreshRoot(errors)) {
    // No <root>: nothing attached (every interface and the probes go).
  } else if (DIR* d = ::opendir(view_.IfacesDir().c_str())) {
    ::closedir(d);
    for (auto& name : view_.ListIfaceDirs()) {
      IfaceDirParts parts = ParseIfaceDirName(name);
      if (InterfaceSelected(interfaces_, name, parts.ifname)) dirs.push_back(std::move(name));
    }
  } else if (errno != ENOENT) {
    errors("pins", absl::StrCat("list ", pins_.IfacesDir(), ": ", std::strerror(errno),
                                errno == EACCES ? " (is the exporter in the group xskit?)" : ""));
    dirs.clear();
    for (const auto& e : ifaces_) dirs.push_back(e->dir_name);  // keep what we have
  }

  std::map<std::string, std::unique_ptr<IfaceEntry>> old;
  for (auto& e : ifaces_) old[e->dir_name] = std::move(e);
  std::vector<std::unique_ptr<IfaceEntry>> next;
  for (const auto& name : dirs) {
    std::unique_ptr<IfaceEntry> entry;
    if (auto it = old.find(name); it != old.end()) entry = std::move(it->second);
    RefreshIface(name, entry, errors, links);
    if (entry) next.push_back(std::move(entry));
  }
  ifaces_ = std::move(next);  // interfaces whose pins went are dropped here
  RefreshProbes(errors);
}

void PinCache::RefreshIface(const std::string& dir_name, std::unique_ptr<IfaceEntry>& entry,
                            const ErrorSink& errors,
                            const std::vector<xsk_xdp_link_rec>* links) {
  std::string dir = view_.IfaceDir(dir_name);
  // Identity of an attach: its directory's inode. xsk-loader pins into a
  // staging directory and renames it into place, so every attach has a new
  // one, and stat() of it needs search permission on <root>/if only.
  int err = 0;
  ino_t dir_ino = PinInode(dir, &err);
  if (err) {
    errors("pins", absl::StrCat("stat ", pins_.IfaceDir(dir_name), ": ", std::strerror(err)));
    return;  // cannot tell: keep what we have
  }
  if (dir_ino == 0) {  // detached
    entry.reset();
    return;
  }
  // A re-attach with another filter swaps the program on the same link,
  // rewrites steer_info in place and pins the new program over the old:
  // the prog pin's inode says so.
  ino_t prog_ino = PinInode(PinPath(dir, kPinProg), &err);
  if (err) {
    errors("pins", absl::StrCat("stat ", PinPath(pins_.IfaceDir(dir_name), kPinProg), ": ",
                                std::strerror(err)));
    return;
  }
  bool changed = !entry || entry->dir_ino != dir_ino || entry->prog_ino != prog_ino;
  if (changed) {
    if (!allow_open_) {
      // --reopen never: a new or re-attached interface shows up after a
      // restart; the objects opened at start are no longer the pinned ones.
      errors("pins", absl::StrCat(pins_.IfaceDir(dir_name), " was attached after start and --reopen never is set; "
                                  "restart the exporter to export it"));
      entry.reset();
      return;
    }
    // Read-only, as a member of the group xskit: no capability.
    auto opened = PinnedSteer::Open(dir, PinnedSteer::LinkHold::kReadOnly);
    opens_++;
    if (!opened.ok()) {
      errors("steer_open", std::string(opened.status().message()));
      entry.reset();
      return;
    }
    entry = std::make_unique<IfaceEntry>();
    entry->dir_name = dir_name;
    entry->parts = ParseIfaceDirName(dir_name);
    entry->steer = std::make_unique<PinnedSteer>(std::move(*opened));
    entry->dir_ino = dir_ino;
    entry->prog_ino = prog_ino;
    if (auto prog = OpenPinnedProg(dir, &entry->prog_id); prog.ok()) {
      entry->prog = std::move(*prog);
    } else if (absl::IsNotFound(prog.status())) {
      errors("prog_stats", absl::StrCat(pins_.IfaceDir(dir_name),
                                        " has no prog pin (attached by an older xskit): no "
                                        "run-time stats; re-attach to get them"));
    } else {
      errors("prog_stats", std::string(prog.status().message()));
    }
  }
  // Liveness, without the link: the link pin is there (stat), and the XDP
  // link running the pinned program sits on a device.
  IfaceEntry& e = *entry;
  e.link = PinnedSteer::LinkState{};
  e.link.pinned = e.steer->Link().pinned;
  e.link.prog_id = e.prog_id;
  if (!e.link.pinned) return;
  if (!links || e.prog_id == 0) {
    e.link.ifindex = e.steer->info().ifindex;  // cannot tell: taken as live
    return;
  }
  for (const auto& r : *links) {
    if (r.prog_id != e.prog_id) continue;
    e.link.link_id = r.link_id;
    e.link.ifindex = r.ifindex;
    if (r.ifindex != 0) break;  // a live one wins over a defunct one
  }
}

bool PinCache::RefreshRoot(const ErrorSink& errors) {
  if (root_fd_.valid()) {
    struct stat st {};
    if (::fstat(root_fd_.get(), &st) == 0 && st.st_nlink > 0) return true;
    root_fd_.reset();  // <root> was removed (the last detach): find the new one
    view_ = pins_;
  }
  // Opening is allowed at start, and later with --reopen on-change; with
  // --reopen never a <root> made after start stays unseen, like its pins.
  if (!allow_open_) return false;
  // At start with privilege; later by path only (detach leaves <root>, so
  // this is for a <root> made after start, which an unprivileged exporter
  // cannot reach through the 0700 bpffs mount).
  int fd = ::open(pins_.root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES)
      errors("pins", absl::StrCat("open ", pins_.root(), ": ", std::strerror(err),
                                  " (it was made after xsk-exporter started, and the bpffs mount "
                                  "is not searchable without privilege: restart xsk-exporter)"));
    else if (err != ENOENT)
      errors("pins", absl::StrCat("open ", pins_.root(), ": ", std::strerror(err)));
    return false;
  }
  root_fd_.reset(fd);
  view_ = PinLayout(absl::StrCat("/proc/self/fd/", fd));
  return true;
}

void PinCache::RefreshProbes(const ErrorSink& errors) {
  std::string dir = view_.ProbesDir();
  int err = 0;
  // A new attach of the probes makes a new directory; no root, no probes.
  ino_t ino = root_fd_.valid() ? PinInode(dir, &err) : 0;
  if (err) {
    errors("pins", absl::StrCat("stat ", pins_.ProbesDir(), ": ", std::strerror(err)));
    return;
  }
  if (ino == probes_ino_) return;
  probes_.reset();
  probes_ino_ = ino;
  if (ino == 0) return;
  if (!allow_open_) {
    errors("probes_open", "the probes were (re)attached after start and --reopen never is set");
    return;
  }
  auto opened = PinnedProbes::Open(dir, PinOpen::kReadOnly);
  opens_++;
  if (!opened.ok()) {
    errors("probes_open", std::string(opened.status().message()));
    probes_ino_ = 0;  // retry at the next scrape
    return;
  }
  probes_ = std::make_unique<PinnedProbes>(std::move(*opened));
}

}  // namespace xskit::exporter
