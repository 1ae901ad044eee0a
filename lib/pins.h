// The pin layout (docs/DESIGN.md), decided once and used by the loader, the
// socket helper, the exporter and the tests:
//
//   <root>/if/<dir>/{link,prog,xsks_map,counters,steer_info}
//   <root>/probes/...
//   <root>/if/:staging-<pid>-<dir>/   an attach in progress
//
// <dir> is the interface name in the initial network namespace and
// "<netns>:<ifname>" elsewhere; both parts percent-encode ".", ":" and "%"
// (bpffs refuses "." in names; ":" never appears in an interface name).
#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/fd.h"

namespace xskit {

// The network namespace this process is in.
struct NetnsId {
  bool initial = true;  // the same netns as PID 1
  uint64_t inode = 0;
  std::string name;     // name under /run/netns, "ns<inode>" if unnamed, "" if initial
};

absl::StatusOr<NetnsId> CurrentNetns();

// "<ifname>" or "<netns>:<ifname>".
std::string IfaceDirName(const NetnsId& netns, absl::string_view ifname);

struct IfaceDirParts {
  std::string netns;  // empty: initial namespace
  std::string ifname;
};
IfaceDirParts ParseIfaceDirName(absl::string_view dir_name);

// True when `path` is on a bpffs.
bool IsBpffs(const std::string& path);

class PinLayout {
 public:
  // Resolves the root: `root_flag` if given (its nearest existing ancestor
  // must be on a bpffs), else /sys/fs/bpf/xskit, else (when /sys was
  // remounted, as by `ip netns exec`) /proc/1/root/sys/fs/bpf/xskit.
  // Fails with ExitCode::kNoBpffs and the command that fixes it.
  static absl::StatusOr<PinLayout> Resolve(const std::optional<std::string>& root_flag);
  explicit PinLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string IfacesDir() const { return root_ + "/if"; }
  std::string IfaceDir(absl::string_view dir_name) const;
  std::string ProbesDir() const { return root_ + "/probes"; }
  std::string StagingDir(absl::string_view dir_name) const;

  // Attached interfaces (directory names), sorted; staging dirs excluded.
  std::vector<std::string> ListIfaceDirs() const;

  // Removes staging directories whose creating process is gone (a loader
  // that crashed mid-attach): its link and maps go with them, so the
  // interface is back to the state before that attach.
  void SweepStaleStaging() const;

 private:
  std::string root_;
};

// The one lock of every mutating command (attach, detach, probes
// attach/detach): flock(LOCK_EX) on the directory that holds <root> (the
// root itself goes with the last detach, so it cannot carry the lock).
// Held until the object goes; a second loader waits (saying so once).
class PinLock {
 public:
  static absl::StatusOr<PinLock> Acquire(const PinLayout& pins);
  const std::string& path() const { return path_; }

 private:
  PinLock(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  Fd fd_;  // closing it releases the lock
};

// "<dir>/<name>": a pin inside a program's directory.
std::string PinPath(const std::string& dir, absl::string_view name);

// How a pin is opened. Readers that only read (the exporter) open maps and
// programs read-only (BPF_OBJ_GET with BPF_F_RDONLY): the kernel then checks
// read permission only, so the group xskit suffices (docs/DESIGN.md, "Pin
// ownership"), and the fd cannot write the map. Links open only read-write.
enum class PinOpen { kReadWrite, kReadOnly };

// bpf_obj_get() of <dir>/<name>, with the path in the error.
absl::StatusOr<Fd> OpenPin(const std::string& dir, absl::string_view name,
                           PinOpen mode = PinOpen::kReadWrite);

// What a pinned map must be before xskit reads it: its type, key and value
// sizes, and a range of max_entries.
struct MapShape {
  uint32_t type = 0;  // enum bpf_map_type
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t min_entries = 1;
  uint32_t max_entries = UINT32_MAX;
};

// "<path> is not an xskit pin of this version (<why>) ...": the refusal of
// every pin that fails validation (ExitCode::kForeignPin).
absl::Status ForeignPin(const std::string& path, absl::string_view why);

// OpenPin() of a map, refused (kForeignPin) unless it has `want`'s shape;
// *entries (if given) gets its max_entries.
absl::StatusOr<Fd> OpenPinnedMap(const std::string& dir, absl::string_view name,
                                 const MapShape& want, uint32_t* entries = nullptr,
                                 PinOpen mode = PinOpen::kReadWrite);

// The kind of BPF object behind an fd: "bpf-map", "bpf-prog", "bpf-link"
// (the anon inode's name), "" when it is none of them.
std::string BpfObjectKind(int fd);
// "bpf-link" (and "bpf_link" on kernels before 6.x's rename).
inline bool IsBpfLinkKind(const std::string& kind) { return kind == "bpf-link" || kind == "bpf_link"; }

// Key 0 of a program's pinned info map (`fd`, pinned at <dir>/<pin>) into
// `out`, the map's value, with the path in the error.
absl::Status ReadPinnedInfo(int fd, const std::string& dir, absl::string_view pin, void* out);

// The layout version (the first __u32) of the info map pinned at
// <dir>/<pin>, whichever xskit version made it: an array of one entry with
// a 4-byte key and a value of 4 bytes to 64 KiB (its size is the version's).
// kForeignPin when the pin is not such a map.
absl::StatusOr<uint32_t> ReadPinnedInfoVersion(const std::string& dir, absl::string_view pin);

// Swaps the directories `a` and `b` in one step (renameat2
// RENAME_EXCHANGE; bpffs has it since 5.13): readers see one or the other.
absl::Status ExchangeDirs(const std::string& a, const std::string& b);

// A pin whose info records layout version `got` where this build reads
// `want` was made by another xskit version: refused, saying what to do.
absl::Status CheckInfoVersion(const std::string& dir, absl::string_view pin, uint32_t got,
                              uint32_t want);

// Pin ownership (docs/DESIGN.md, "Pin ownership"): directories, maps and
// programs belong to root and the group `xskit` (kPinGroup) when it exists,
// whatever the umask: directories 0750, maps and programs 0640 (the group
// opens them read-only, e.g. the exporter); links stay 0600 root (opening
// one is read-write, and a link fd can detach the program). Without the
// group, the group is root's.
inline constexpr const char* kPinGroup = "xskit";
enum class PinAccess { kGroupReads, kOwnerOnly };
// chown root:<group> and chmod as above; `path` is a directory or a pin.
absl::Status ApplyPinAccess(const std::string& path, PinAccess access);

// bpf_obj_pin() of `fd` at `path` (a map: group-readable, see above), with
// the path in the error.
absl::Status PinFd(int fd, const std::string& path, PinAccess access = PinAccess::kGroupReads);

// Creates `dir` and its parents; every directory it creates, and `dir`
// itself, gets the pin ownership above.
absl::Status MakeDirs(const std::string& dir);

// Unpins every entry of `dir` and removes it (and empty parents up to, not
// including, `stop_at`). Missing is fine. Detach passes <root>: the pin
// root stays once made (an unprivileged exporter holds it open and cannot
// find a new one through the 0700 bpffs mount, docs/DESIGN.md).
absl::Status RemovePinDir(const std::string& dir, const std::string& stop_at = "");

}  // namespace xskit
