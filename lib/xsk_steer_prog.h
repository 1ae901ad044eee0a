// xsk_steer's sole owner: loads bpf/xsk_steer.bpf.c, attaches it, pins it,
// and reads and writes its maps. Nobody else touches its skeleton; status,
// the exporter and the socket helper go through PinnedSteer.
#pragma once

#include <linux/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/xsk_steer.h"
#include "lib/fd.h"

struct xsk_steer;  // the skeleton (build/bpf/xsk_steer.skel.h)

namespace xskit {

static_assert(sizeof(xsk_steer_counters) == 32, "xsk_steer_counters layout");
static_assert(sizeof(xsk_steer_rule) == 4, "xsk_steer_rule layout");
static_assert(sizeof(xsk_steer_filter) == 36, "xsk_steer_filter layout");
static_assert(sizeof(xsk_steer_info) == 224, "xsk_steer_info layout");

// Pin names inside an interface's directory.
inline constexpr const char* kPinLink = "link";
// The program the link runs (0640 root:xskit, lib/pins.h): readers open it
// read-only for its run-time stats and id, never the link.
inline constexpr const char* kPinProg = "prog";
inline constexpr const char* kPinXsksMap = "xsks_map";
inline constexpr const char* kPinCounters = "counters";
inline constexpr const char* kPinInfo = "steer_info";

// The xsk_steer_info version this build writes and reads
// (XSK_STEER_INFO_VERSION; lib/info_versions.cc says why it is a
// function).
uint32_t SteerInfoVersion();

const char* OutcomeName(xsk_steer_outcome outcome);  // "redirected", "pass_no_socket", ...
const char* XdpModeName(uint32_t mode);              // "native", "generic"
std::string FilterString(const xsk_steer_filter& filter);  // "udp:4791,tcp" or "none"

bool QueueInMask(const xsk_steer_info& info, uint32_t queue);
void SetQueueInMask(xsk_steer_info& info, uint32_t queue);

// Read (and socket registration) access to an attached interface's pins.
class PinnedSteer {
 public:
  // Whether the reader keeps the link fd. Holding it keeps the bpf_link
  // object alive (not the attachment: detach uses BPF_LINK_DETACH), so
  // readers that need only the maps (the socket helper) do not.
  // kReadOnly (the exporter): the maps are opened read-only (BPF_F_RDONLY,
  // the group xskit may) and the link pin is not opened at all (it is
  // root's); Link() then says only whether it is pinned.
  enum class LinkHold { kNone, kHold, kReadOnly };
  static absl::StatusOr<PinnedSteer> Open(const std::string& dir,
                                          LinkHold hold = LinkHold::kNone);

  const xsk_steer_info& info() const { return info_; }
  const std::string& dir() const { return dir_; }
  int xsks_map_fd() const { return xsks_map_.get(); }
  int counters_fd() const { return counters_.get(); }

  // The pinned link and what it says: alive while attached to a device.
  // Without LinkHold::kHold the pin is opened for the call only; with
  // kReadOnly it is only stat()ed (pinned, no ids).
  struct LinkState {
    bool pinned = false;
    uint32_t link_id = 0;
    uint32_t prog_id = 0;
    uint32_t ifindex = 0;  // 0 once the device is gone
  };
  LinkState Link() const;
  // The same for the link pinned in `dir`, whatever the other pins are.
  static LinkState LinkAt(const std::string& dir);

  // Per-queue counters summed over CPUs; index = queue id.
  absl::StatusOr<std::vector<xsk_steer_counters>> ReadCounters() const;

  // Which queues have a socket registered (from the kernel's own XSKMAP).
  absl::StatusOr<std::vector<bool>> SocketsPresent() const;

  // Registers an AF_XDP socket for `queue` (must be one the attach opened).
  absl::Status RegisterSocket(uint32_t queue, int xsk_fd) const;
  absl::Status UnregisterSocket(uint32_t queue) const;

 private:
  std::string dir_;
  xsk_steer_info info_{};
  Fd xsks_map_, counters_, info_map_, link_;
  bool read_only_ = false;
};

// The pinned program of an attach (<dir>/prog), opened read-only and
// checked to be an XDP program; *id gets its id. NotFound when the attach
// has no prog pin (made by an xskit before the pin existed).
absl::StatusOr<Fd> OpenPinnedProg(const std::string& dir, uint32_t* id = nullptr);

// A live attach made by another xskit version (pins whose steer_info has
// another layout version), opened to be taken over in place
// (docs/DESIGN.md, "Upgrades"). Only what every version shares is read: the
// link (live on its device), the XSKMAP (a stable layout: key = queue id,
// value = socket; its entries = the attach's queue slots), the counters when
// their layout is this build's, and the info's version word; the rest of
// the other version's info is not read.
class OtherVersionPins {
 public:
  // kForeignPin when `dir`'s steer_info is not an info map of another
  // version; kCannotMigrate when it is, but the link is not a live XDP link
  // or the XSKMAP lacks the stable layout.
  static absl::StatusOr<OtherVersionPins> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  uint32_t version() const { return version_; }
  uint32_t nr_queues() const { return nr_queues_; }
  const PinnedSteer::LinkState& link() const { return link_state_; }
  int link_fd() const { return link_.get(); }
  int xsks_map_fd() const { return xsks_map_.get(); }
  // -1 when the counters cannot be carried over (another layout, or none).
  int counters_fd() const { return counters_.valid() ? counters_.get() : -1; }
  // Why the counters restart ("" when they are carried over).
  const std::string& counters_restart_reason() const { return counters_why_; }

 private:
  std::string dir_;
  uint32_t version_ = 0, nr_queues_ = 0;
  PinnedSteer::LinkState link_state_;
  Fd link_, xsks_map_, counters_;
  std::string counters_why_;
};

// Takes the sockets of the queues `info` does not steer out of `pinned`'s
// XSKMAP: an XSKMAP entry left behind would keep redirecting a queue that
// status calls unsteered (a re-attach with fewer --queues).
absl::Status UnregisterUnsteered(const PinnedSteer& pinned, const xsk_steer_info& info);

// The rename rule (docs/DESIGN.md, "Renamed interfaces"): pins follow the
// device, not its name. The current name of the device a pin directory's
// live link is attached to, when that device is in this network namespace
// (its ifindex here carries the link's program); "" otherwise (the link is
// defunct, or the device is elsewhere).
std::string CurrentIfname(const PinnedSteer& pinned, uint64_t netns_ino);

// A freshly loaded xsk_steer program, not yet attached.
class XskSteerProg {
 public:
  // Loads the program for `info` (filter and queue count from it). With
  // `reuse`, the new program shares that attach's maps, so registered
  // sockets and counters survive a program swap.
  static absl::StatusOr<XskSteerProg> Load(const xsk_steer_info& info,
                                           const PinnedSteer* reuse = nullptr);
  // Loads the program for `info` on `from`'s XSKMAP (and counters, when
  // they are carried over): the migration of an upgrade or downgrade.
  static absl::StatusOr<XskSteerProg> Load(const xsk_steer_info& info,
                                           const OtherVersionPins& from);
  XskSteerProg(XskSteerProg&&) noexcept;
  XskSteerProg& operator=(XskSteerProg&&) noexcept;
  ~XskSteerProg();

  int prog_fd() const;

  // Attaches through a bpf_link in the mode of info.xdp_mode. The link is
  // owned here until Pin() hands it to bpffs.
  absl::Status Attach();

  // Pins the maps and the program (kPinProg) into `dir`.
  absl::Status PinMaps(const std::string& dir) const;
  // Pins the link into `dir`: the commit point of an attach. Until then the
  // link lives only in this process, so a crash detaches it.
  absl::Status PinLink(const std::string& dir) const;

  // Swaps the program of an existing pinned link atomically, rewrites the
  // info entry and replaces the prog pin (renamed over, so readers see the
  // old program or the new one).
  absl::Status ReplaceIn(const PinnedSteer& pinned) const;

  // Whether this program is the one with kernel id `prog_id` as the kernel
  // sees them (their tags: a hash of the instructions, map references
  // left out), i.e. a swap would change nothing.
  bool SameProgramAs(uint32_t prog_id) const;

  // The migration (docs/DESIGN.md, "Upgrades"), in three steps under the
  // pin lock: PinForMigration pins this program's maps (`from`'s XSKMAP,
  // its counters or new ones, a new info) and `from`'s link into
  // `staging`; SwapInto puts this program on `from`'s link if it still runs
  // `from`'s program (BPF_F_REPLACE: no detach in between); the caller then
  // exchanges `staging` with the pin directory (ExchangeDirs), and on
  // failure SwapBack() restores the old program.
  absl::Status PinForMigration(const OtherVersionPins& from, const std::string& staging) const;
  absl::Status SwapInto(const OtherVersionPins& from, int old_prog_fd) const;
  absl::Status SwapBack(const OtherVersionPins& from, int old_prog_fd) const;

  const xsk_steer_info& info() const { return info_; }

  // For tests and benchmarks on an unattached program.
  absl::Status RegisterSocket(uint32_t queue, int xsk_fd) const;
  absl::StatusOr<std::vector<xsk_steer_counters>> ReadCounters() const;
  struct TestRunResult {
    uint32_t action = 0;       // XDP_*
    uint32_t duration_ns = 0;  // the kernel's average per run
  };
  // BPF_PROG_TEST_RUN over `frame`; with ifindex != 0 the packet arrives on
  // that device's rx queue `queue` (else loopback's queue 0).
  absl::StatusOr<TestRunResult> TestRun(const std::vector<uint8_t>& frame, uint32_t queue = 0,
                                        int ifindex = 0, uint32_t repeat = 1) const;

 private:
  XskSteerProg() = default;
  static absl::StatusOr<XskSteerProg> LoadOn(const xsk_steer_info& info, int xsks_map_fd,
                                             int counters_fd);
  xsk_steer* skel_ = nullptr;
  xsk_steer_info info_{};
  Fd link_;
};

}  // namespace xskit
