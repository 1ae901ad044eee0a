#include "lib/afxdp_dp.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/errors.h"

namespace xskit {
namespace {

absl::Status MakeOwnedDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return ErrnoError(absl::StrCat("mkdir ", dir), errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat ", dir), errno);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022))
    return Error(ExitCode::kForeignProgram,
                 absl::StrFormat("%s is not a directory of uid %d closed to others (uid %d, "
                                 "mode %04o): remove it, it would let its owner redirect DPDK",
                                 dir, ::geteuid(), st.st_uid, st.st_mode & 07777));
  return absl::OkStatus();
}

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::string DpIfaceDir(const std::string& ifname) { return absl::StrCat(kDpBaseDir, "/", ifname); }
std::string DpMapPath(const std::string& ifname) { return DpIfaceDir(ifname) + "/xsks_map"; }
std::string DpSocketPath(const std::string& ifname) { return DpIfaceDir(ifname) + "/afxdp.sock"; }

absl::Status MakeDpIfaceDir(const std::string& ifname) {
  if (ifname.empty() || ifname.find('/') != std::string::npos || ifname == "." || ifname == "..")
    return Error(ExitCode::kUsage, absl::StrCat("not an interface name: '", ifname, "'"));
  XSKIT_RETURN_IF_ERROR(MakeOwnedDir(kDpBaseDir));
  return MakeOwnedDir(DpIfaceDir(ifname));
}

absl::Status CheckDpMapFree(const std::string& ifname, const std::string& pin, bool force) {
  const std::string path = DpMapPath(ifname);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return absl::OkStatus();  // free
  if (S_ISLNK(st.st_mode)) {
    if (ReadLink(path) == pin) return absl::OkStatus();
    if (::stat(path.c_str(), &st) != 0) return absl::OkStatus();  // dangling: a leftover
  }
  if (force) return absl::OkStatus();
  std::string target = ReadLink(path);
  return Error(ExitCode::kForeignProgram,
               absl::StrCat(path, " already exists",
                            target.empty() ? "" : absl::StrCat(" (-> ", target, ")"),
                            ": another attach or the device plugin owns it; remove it, "
                            "or pass --force to replace it"));
}

absl::Status LinkDpMap(const std::string& ifname, const std::string& pin) {
  XSKIT_RETURN_IF_ERROR(MakeDpIfaceDir(ifname));
  const std::string path = DpMapPath(ifname);
  if (ReadLink(path) == pin) return absl::OkStatus();
  // Made aside and renamed over: the path never points nowhere.
  const std::string tmp = absl::StrCat(path, ".", ::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(pin.c_str(), tmp.c_str()) != 0)
    return ErrnoError(absl::StrCat("symlink ", tmp, " -> ", pin), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(absl::StrCat("rename ", tmp, " -> ", path), err);
  }
  return absl::OkStatus();
}

bool UnlinkDpMap(const std::string& ifname, const std::string& pin) {
  const std::string path = DpMapPath(ifname);
  if (ReadLink(path) != pin || ::unlink(path.c_str()) != 0) return false;
  ::rmdir(DpIfaceDir(ifname).c_str());  // only when empty (no handshake socket)
  return true;
}

}  // namespace xskit
