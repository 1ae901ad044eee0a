#include "lib/pins.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "lib/errors.h"
#include "lib/log.h"

namespace xskit {
namespace {

constexpr unsigned long kBpffsMagic = 0xcafe4a11;
// Encoded names never start with ':', so this cannot collide with one.
constexpr absl::string_view kStagingPrefix = ":staging-";

std::optional<struct stat> Stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

std::string NearestExisting(std::string path) {
  while (!path.empty() && !Stat(path)) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "/";
    path.resize(slash);
  }
  return path;
}

}  // namespace

absl::StatusOr<NetnsId> CurrentNetns() {
  auto self = Stat("/proc/thread-self/ns/net");
  if (!self) return ErrnoError("stat(/proc/thread-self/ns/net)", errno);
  NetnsId id;
  id.inode = self->st_ino;
  // A namespace made with `ip netns add` goes by its name.
  if (DIR* d = ::opendir("/run/netns")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      auto st = Stat(absl::StrCat("/run/netns/", e->d_name));
      if (st && st->st_ino == self->st_ino && st->st_dev == self->st_dev) {
        id.initial = false;
        id.name = e->d_name;
        break;
      }
    }
    ::closedir(d);
  }
  if (!id.initial) return id;
  // Unnamed: the initial one when it is PID 1's (or PID 1's is not ours to
  // see, as inside some sandboxes), else by inode.
  auto init = Stat("/proc/1/ns/net");
  if (init && (init->st_ino != self->st_ino || init->st_dev != self->st_dev)) {
    id.initial = false;
    id.name = absl::StrCat("ns", id.inode);
  }
  return id;
}

namespace {

// bpffs refuses names with '.', and ':' separates netns from interface:
// both (and '%') are percent-encoded, so "eth0.100" is "eth0%2e100".
std::string EncodePart(absl::string_view in) {
  std::string out;
  for (char c : in) {
    if (c == '.' || c == ':' || c == '%')
      absl::StrAppend(&out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    else
      out.push_back(c);
  }
  return out;
}

std::string DecodePart(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i++) {
    int v = 0;
    if (in[i] == '%' && i + 2 < in.size() &&
        absl::SimpleHexAtoi(in.substr(i + 1, 2), &v)) {
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::string IfaceDirName(const NetnsId& netns, absl::string_view ifname) {
  if (netns.initial) return EncodePart(ifname);
  return absl::StrCat(EncodePart(netns.name), ":", EncodePart(ifname));
}

IfaceDirParts ParseIfaceDirName(absl::string_view dir_name) {
  auto colon = dir_name.rfind(':');
  if (colon == absl::string_view::npos) return {"", DecodePart(dir_name)};
  return {DecodePart(dir_name.substr(0, colon)), DecodePart(dir_name.substr(colon + 1))};
}

bool IsBpffs(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == kBpffsMagic;
}

absl::StatusOr<PinLayout> PinLayout::Resolve(const std::optional<std::string>& root_flag) {
  if (root_flag) {
    std::string root = *root_flag;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    if (!IsBpffs(NearestExisting(root)))
      return Error(ExitCode::kNoBpffs,
                   absl::StrCat("--pin-root ", root,
                                " is not on a bpffs: choose a directory under a bpf "
                                "mount (mount -t bpf bpf /sys/fs/bpf)"));
    return PinLayout(root);
  }
  for (const char* base : {"/sys/fs/bpf", "/proc/1/root/sys/fs/bpf"}) {
    if (IsBpffs(base)) {
      if (absl::string_view(base) != "/sys/fs/bpf")
        spdlog::debug("/sys/fs/bpf is not a bpffs here (a remounted /sys, as under "
                      "`ip netns exec`); using the host's at {}", base);
      return PinLayout(absl::StrCat(base, "/xskit"));
    }
  }
  return Error(ExitCode::kNoBpffs,
               "bpffs is not mounted at /sys/fs/bpf: mount it with "
               "`mount -t bpf bpf /sys/fs/bpf` (or pass --pin-root DIR on a bpffs)");
}

std::string PinLayout::IfaceDir(absl::string_view dir_name) const {
  return absl::StrCat(IfacesDir(), "/", dir_name);
}

std::string PinLayout::StagingDir(absl::string_view dir_name) const {
  return absl::StrCat(IfacesDir(), "/", kStagingPrefix, ::getpid(), "-", dir_name);
}

std::vector<std::string> PinLayout::ListIfaceDirs() const {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(IfacesDir().c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.' || e->d_name[0] == ':') continue;  // ".", "..", staging
      out.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void PinLayout::SweepStaleStaging() const {
  DIR* d = ::opendir(IfacesDir().c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    if (!absl::StartsWith(name, kStagingPrefix)) continue;
    absl::string_view rest = name.substr(kStagingPrefix.size());
    int pid = 0;
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid)) continue;
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // still running
    stale.emplace_back(name);
  }
  ::closedir(d);
  for (const auto& name : stale) {
    spdlog::warn("removing {} left by an attach that did not finish", name);
    (void)RemovePinDir(absl::StrCat(IfacesDir(), "/", name));
  }
}

absl::StatusOr<PinLock> PinLock::Acquire(const PinLayout& pins) {
  std::string parent = pins.root();
  auto slash = parent.find_last_of('/');
  parent = slash == std::string::npos || slash == 0 ? "/" : parent.substr(0, slash);
  // Created with the pin ownership when missing; an existing parent (the
  // bpffs mount itself, /sys/fs/bpf) is left as it is: its mode and sticky
  // bit are the system's.
  if (!Stat(parent)) XSKIT_RETURN_IF_ERROR(MakeDirs(parent));
  Fd fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(absl::StrCat("open ", parent, " (the pin lock)"), errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoError(absl::StrCat("flock ", parent), errno);
    spdlog::info("waiting for another xsk-loader (lock on {})", parent);
    while (::flock(fd.get(), LOCK_EX) != 0)
      if (errno != EINTR) return ErrnoError(absl::StrCat("flock ", parent), errno);
  }
  return PinLock(parent, std::move(fd));
}

std::string PinPath(const std::string& dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<Fd> OpenPin(const std::string& dir, absl::string_view name, PinOpen mode) {
  std::string path = PinPath(dir, name);
  LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = mode == PinOpen::kReadOnly ? static_cast<__u32>(BPF_F_RDONLY) : 0u);
  int fd = bpf_obj_get_opts(path.c_str(), &opts);
  if (fd < 0) return ErrnoError(absl::StrCat("open pin ", path), errno);
  return Fd(fd);
}

absl::Status ForeignPin(const std::string& path, absl::string_view why) {
  return Error(ExitCode::kForeignPin,
               absl::StrCat(path, " is not an xskit pin of this version (", why,
                            "): detach it with the xskit that made it, or remove it (rm ",
                            path, ")"));
}

std::string BpfObjectKind(int fd) {
  char target[64] = {};
  std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  if (n <= 0) return "";
  absl::string_view t(target, static_cast<size_t>(n));
  if (!absl::ConsumePrefix(&t, "anon_inode:")) return "";
  return std::string(t);
}

absl::StatusOr<Fd> OpenPinnedMap(const std::string& dir, absl::string_view name,
                                 const MapShape& want, uint32_t* entries, PinOpen mode) {
  XSKIT_ASSIGN_OR_RETURN(Fd fd, OpenPin(dir, name, mode));
  const std::string path = PinPath(dir, name);
  std::string kind = BpfObjectKind(fd.get());
  if (kind != "bpf-map")
    return ForeignPin(path, absl::StrCat("a ", kind.empty() ? "non-BPF object" : kind,
                                         " where a map belongs"));
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
    return ErrnoError(absl::StrCat("read the map info of ", path), errno);
  if (info.type != want.type)
    return ForeignPin(path, absl::StrCat("map type ", info.type, ", xskit's is ", want.type));
  if (info.key_size != want.key_size || info.value_size != want.value_size)
    return ForeignPin(path, absl::StrCat("key/value size ", info.key_size, "/", info.value_size,
                                         ", xskit's is ", want.key_size, "/", want.value_size));
  if (info.max_entries < want.min_entries || info.max_entries > want.max_entries)
    return ForeignPin(path, absl::StrCat("max_entries ", info.max_entries, ", xskit's is ",
                                         want.min_entries == want.max_entries
                                             ? absl::StrCat(want.min_entries)
                                             : absl::StrCat(want.min_entries, "-", want.max_entries)));
  if (entries) *entries = info.max_entries;
  return fd;
}

absl::Status ReadPinnedInfo(int fd, const std::string& dir, absl::string_view pin, void* out) {
  uint32_t key = 0;
  if (bpf_map_lookup_elem(fd, &key, out) != 0)
    return ErrnoError(absl::StrCat("read ", PinPath(dir, pin)), errno);
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ReadPinnedInfoVersion(const std::string& dir, absl::string_view pin) {
  XSKIT_ASSIGN_OR_RETURN(Fd fd, OpenPin(dir, pin));
  const std::string path = PinPath(dir, pin);
  if (BpfObjectKind(fd.get()) != "bpf-map") return ForeignPin(path, "not a map");
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
    return ErrnoError(absl::StrCat("read the map info of ", path), errno);
  // Any version's info: one entry, a version word first, at most 64 KiB
  // (probes_info is 9 KiB since its version 3).
  if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 || info.max_entries != 1 ||
      info.value_size < 4 || info.value_size > 65536)
    return ForeignPin(path, absl::StrCat("map type ", info.type, ", key/value size ", info.key_size,
                                         "/", info.value_size, ", ", info.max_entries,
                                         " entries: not an info map of any version"));
  std::vector<uint8_t> value(info.value_size);
  XSKIT_RETURN_IF_ERROR(ReadPinnedInfo(fd.get(), dir, pin, value.data()));
  uint32_t version = 0;
  std::memcpy(&version, value.data(), sizeof(version));
  return version;
}

absl::Status ExchangeDirs(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0)
    return ErrnoError(absl::StrCat("exchange ", a, " and ", b, " (renameat2 RENAME_EXCHANGE)"), errno);
  return absl::OkStatus();
}

absl::Status CheckInfoVersion(const std::string& dir, absl::string_view pin, uint32_t got,
                              uint32_t want) {
  if (got == want) return absl::OkStatus();
  return ForeignPin(PinPath(dir, pin), absl::StrCat("layout version ", got, ", this xskit reads ", want));
}

absl::Status ApplyPinAccess(const std::string& path, PinAccess access) {
  // Looked up once: the group of a running loader does not change.
  static const gid_t group = [] {
    struct group* g = ::getgrnam(kPinGroup);
    return g ? g->gr_gid : gid_t{0};
  }();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat ", path), errno);
  const bool dir = S_ISDIR(st.st_mode);
  const gid_t gid = access == PinAccess::kGroupReads ? group : gid_t{0};
  const mode_t mode = access == PinAccess::kOwnerOnly ? (dir ? 0700 : 0600) : (dir ? 0750 : 0640);
  if (st.st_gid != gid && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0)
    return ErrnoError(absl::StrCat("chown :", gid == 0 ? "root" : kPinGroup, " ", path,
                                   " (needs CAP_CHOWN)"),
                      errno);
  if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) != 0)
    return ErrnoError(absl::StrFormat("chmod %o %s", mode, path), errno);
  return absl::OkStatus();
}

absl::Status PinFd(int fd, const std::string& path, PinAccess access) {
  if (bpf_obj_pin(fd, path.c_str()) != 0) return ErrnoError(absl::StrCat("pin ", path), errno);
  return ApplyPinAccess(path, access);
}

absl::Status MakeDirs(const std::string& dir) {
  // The directories missing, outermost first.
  std::vector<std::string> missing;
  for (std::string p = dir; !p.empty() && p != "/" && !Stat(p);) {
    missing.insert(missing.begin(), p);
    size_t slash = p.find_last_of('/');
    p.resize(slash == std::string::npos ? 0 : slash);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoError(absl::StrCat("mkdir ", dir), ec.value());
  if (missing.empty() || missing.back() != dir) missing.push_back(dir);
  for (const auto& p : missing) XSKIT_RETURN_IF_ERROR(ApplyPinAccess(p, PinAccess::kGroupReads));
  return absl::OkStatus();
}

absl::Status RemovePinDir(const std::string& dir, const std::string& stop_at) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (absl::string_view(e->d_name) == "." || absl::string_view(e->d_name) == "..") continue;
      std::string path = absl::StrCat(dir, "/", e->d_name);
      if (e->d_type == DT_DIR) {
        XSKIT_RETURN_IF_ERROR(RemovePinDir(path));
      } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        int err = errno;
        ::closedir(d);
        return ErrnoError(absl::StrCat("unpin ", path), err);
      }
    }
    ::closedir(d);
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT)
    return ErrnoError(absl::StrCat("rmdir ", dir), errno);
  // Tidy empty parents (<root>/if, <root>) so a detach leaves bpffs clean.
  if (!stop_at.empty()) {
    std::string parent = dir;
    while (true) {
      auto slash = parent.find_last_of('/');
      if (slash == std::string::npos) break;
      parent.resize(slash);
      if (parent.size() <= stop_at.size()) break;
      if (::rmdir(parent.c_str()) != 0) break;  // not empty: stop
    }
  }
  return absl::OkStatus();
}

}  // namespace xskit
