#include "lib/privileges.h"

#include <bpf/bpf.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "lib/errors.h"
#include "lib/log.h"

namespace xskit {
namespace {

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct CapSets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

absl::Status GetCaps(CapSets* out) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return ErrnoError("capget", errno);
  out->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  out->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  out->inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return absl::OkStatus();
}

absl::Status SetCaps(const CapSets& s) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(s.effective);
  data[1].effective = static_cast<uint32_t>(s.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(s.permitted);
  data[1].permitted = static_cast<uint32_t>(s.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(s.inheritable);
  data[1].inheritable = static_cast<uint32_t>(s.inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) return ErrnoError("capset", errno);
  return absl::OkStatus();
}

uint64_t Bit(int cap) { return uint64_t{1} << cap; }

bool g_kept = false;  // set once by DropPrivileges, read by RaisedPrivileges

}  // namespace

absl::Status DropPrivileges(const PrivilegeOptions& opts) {
  CapSets cur;
  XSKIT_RETURN_IF_ERROR(GetCaps(&cur));
  uint64_t keep = opts.keep_cap_bpf ? (cur.permitted & Bit(CAP_BPF)) : 0;

  // Bounding set: nothing beyond what is kept (needs CAP_SETPCAP, which a
  // process started without it does not have: then the set is already as
  // small as its launcher made it, e.g. systemd's CapabilityBoundingSet=).
  if (cur.effective & Bit(CAP_SETPCAP)) {
    for (int c = 0; c <= CAP_LAST_CAP + 1; c++)
      if (!(keep & Bit(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
        prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

  if (opts.user) {
    errno = 0;
    passwd* pw = getpwnam(opts.user->c_str());
    if (!pw)
      return Error(ExitCode::kUsage, absl::StrFormat("--user %s: no such user", *opts.user));
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoError("prctl(PR_SET_KEEPCAPS)", errno);
    if (setgroups(0, nullptr) != 0) return ErrnoError("setgroups", errno);
    if (setgid(pw->pw_gid) != 0) return ErrnoError("setgid", errno);
    if (setuid(pw->pw_uid) != 0) return ErrnoError(absl::StrCat("setuid ", *opts.user), errno);
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }

  CapSets next;
  next.permitted = keep;
  next.effective = 0;
  next.inheritable = 0;
  XSKIT_RETURN_IF_ERROR(SetCaps(next));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoError("prctl(NO_NEW_PRIVS)", errno);
  g_kept = keep != 0;
  spdlog::info("privileges dropped: uid {} {}{}", getuid(), CapabilitySummary(),
               g_kept ? " (CAP_BPF kept in the permitted set only: bpf() needs it here)" : "");
  return absl::OkStatus();
}

bool BpfNeedsCapBpf() {
  CapSets cur;
  if (!GetCaps(&cur).ok()) return true;
  CapSets probe = cur;
  probe.effective &= ~(Bit(CAP_BPF) | Bit(CAP_SYS_ADMIN));  // bpf_capable() is either
  if (!SetCaps(probe).ok()) return true;
  uint32_t key = 0;
  uint64_t value = 0;
  int rc = bpf_map_lookup_elem(-1, &key, &value);
  int err = errno;
  (void)SetCaps(cur);
  bool gated = rc != 0 && err == EPERM;
  spdlog::debug("bpf() without CAP_BPF: {} ({})", rc == 0 ? "ok" : std::strerror(err),
                gated ? "gated: CAP_BPF is needed" : "not gated");
  return gated;
}

RaisedPrivileges::RaisedPrivileges() {
  if (!g_kept) return;
  CapSets cur;
  if (!GetCaps(&cur).ok()) return;
  cur.effective = cur.permitted;
  raised_ = SetCaps(cur).ok();
}

RaisedPrivileges::~RaisedPrivileges() {
  if (!raised_) return;
  CapSets cur;
  if (!GetCaps(&cur).ok()) return;
  cur.effective = 0;
  (void)SetCaps(cur);
}

std::string CapabilitySummary() {
  CapSets cur;
  if (!GetCaps(&cur).ok()) return "caps unknown";
  return absl::StrFormat("eff=%#x prm=%#x", cur.effective, cur.permitted);
}

}  // namespace xskit
