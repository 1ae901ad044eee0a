// The pins the exporter reads, opened once and kept: an interface's maps and
// program (for run-time stats) are re-opened only when its pins change (a
// re-attach makes a new pin directory; a program swap a new prog pin); the
// probe set likewise. Noticing a change needs readdir/stat on bpffs, and
// re-opening needs read permission on the pins (the group xskit): maps and
// programs are opened read-only (BPF_F_RDONLY) and the link pin never
// (lib/privileges.h, docs/DESIGN.md "Pin ownership").
//
// Whether an attach is live (its device there, running the program) comes
// from the XDP link iterator (lib/xsk_links_prog.h), matched by the pinned
// program's id, not from the link.
//
// bpffs is mounted 0700 by systemd, so an unprivileged exporter cannot reach
// <root> by its path. It holds a directory fd of <root>, opened with
// privilege at start, and looks at the pins through /proc/self/fd/<fd>:
// below <root> the group xskit may list and stat. Detach leaves <root> in
// place for this reason; a <root> made (or remade) after start is reached
// by path only, i.e. where the exporter runs as root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/fd.h"
#include "lib/pins.h"
#include "lib/xsk_links_prog.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"

namespace xskit::exporter {

// Where a scrape error comes from: the `source` label of
// xsk_exporter_scrape_errors_total.
using ErrorSink = std::function<void(const std::string& source, const std::string& message)>;

struct IfaceEntry {
  std::string dir_name;
  IfaceDirParts parts;  // ifname, netns ("" initial)
  std::unique_ptr<PinnedSteer> steer;
  ino_t dir_ino = 0;  // identity of the attach (see PinCache::RefreshIface)
  ino_t prog_ino = 0;  // identity of the program (a swap pins a new one); 0: no prog pin
  // As of the last Refresh: whether the link is pinned (stat only), and
  // from the XDP link iterator the link running `prog` and its device.
  PinnedSteer::LinkState link;
  Fd prog;               // the pinned program (read-only), for BPF run-time stats
  uint32_t prog_id = 0;  // its id; 0 without a prog pin

  // The device is there and the program attached to it.
  bool live() const { return link.pinned && link.ifindex != 0; }
};

class PinCache {
 public:
  explicit PinCache(PinLayout pins, std::vector<std::string> interfaces, bool may_reopen)
      : pins_(pins), view_(std::move(pins)), interfaces_(std::move(interfaces)),
        may_reopen_(may_reopen) {}

  // Brings the cache in line with the pins. The first call opens
  // everything; later ones re-open only what changed, and only when
  // re-opening is allowed (else a new interface is reported once).
  // `links`: the XDP link iterator's pass (nullptr: unavailable, then an
  // attach whose link is pinned counts as live).
  void Refresh(const ErrorSink& errors, const std::vector<xsk_xdp_link_rec>* links);

  const std::vector<std::unique_ptr<IfaceEntry>>& ifaces() const { return ifaces_; }
  const PinnedProbes* probes() const { return probes_.get(); }
  bool probes_pinned() const { return probes_ino_ != 0; }
  const PinLayout& pins() const { return pins_; }
  // --interfaces was given: only those interfaces are published.
  bool filtered() const { return !interfaces_.empty(); }
  // How many (re-)opens happened (tests, logs).
  uint64_t opens() const { return opens_; }
  void set_may_reopen(bool v) { may_reopen_ = v; }

 private:
  void RefreshIface(const std::string& dir_name, std::unique_ptr<IfaceEntry>& entry,
                    const ErrorSink& errors, const std::vector<xsk_xdp_link_rec>* links);
  void RefreshProbes(const ErrorSink& errors);
  // Opens (or re-opens, after <root> was removed) the directory fd of
  // <root>; false when there is none (nothing attached).
  bool RefreshRoot(const ErrorSink& errors);

  PinLayout pins_;
  PinLayout view_;  // pins_ as seen through root_fd_ (/proc/self/fd/<fd>)
  Fd root_fd_;
  std::vector<std::string> interfaces_;
  bool may_reopen_;
  bool primed_ = false;
  bool allow_open_ = true;  // this Refresh may open pins
  std::vector<std::unique_ptr<IfaceEntry>> ifaces_;
  std::unique_ptr<PinnedProbes> probes_;
  ino_t probes_ino_ = 0;
  uint64_t opens_ = 0;
};

}  // namespace xskit::exporter
