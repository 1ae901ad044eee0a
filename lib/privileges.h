// Least privilege for a daemon that opens what it needs at start: xsk-exporter
// (see exporter/README.md, "Privileges") and `xsk-loader serve` (which keeps
// nothing).
//
// The exporter needs privilege at start only: BPF_ENABLE_STATS
// (CAP_SYS_ADMIN; the fd it returns keeps run-time stats on), loading its
// iterators (CAP_BPF, CAP_PERFMON), and opening an fd of <root> through the
// 0700 bpffs mount (CAP_DAC_OVERRIDE). Afterwards it reads and re-opens pins
// as a member of the group xskit: maps and programs are 0640 root:xskit and
// opened read-only (BPF_F_RDONLY), the link pins are never opened. Reading
// needs bpf() itself, which older kernels gate as a whole behind CAP_BPF
// when kernel.unprivileged_bpf_disabled is set (Debian's default): the check
// sat at the top of every command (__sys_bpf; 6.1 as released); Debian 12's
// 6.1.192 gates only BPF_MAP_CREATE and BPF_PROG_LOAD (measured), and 6.5
// moved the check into map_create() and bpf_prog_load(). BpfNeedsCapBpf()
// tells which case this is, by trying.
//
// So after start it drops everything: the bounding and ambient sets are
// cleared, no_new_privs is set, the process may switch to an unprivileged
// user, and CAP_SYS_ADMIN and CAP_DAC_OVERRIDE are gone from the permitted
// set. CAP_BPF stays in the permitted set (not effective) only where the
// probe says bpf() needs it; it is raised (per thread) only around a scrape.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace xskit {

struct PrivilegeOptions {
  bool keep_cap_bpf = false;        // CAP_BPF stays permitted (not effective)
  std::optional<std::string> user;  // switch to this user (and its primary group)
};

// Whether bpf() on objects the process holds or may open (BPF_OBJ_GET,
// lookups, BPF_OBJ_GET_INFO_BY_FD, iterator passes) needs CAP_BPF here:
// issues one such command (a lookup on fd -1) with CAP_BPF and
// CAP_SYS_ADMIN cleared from this thread's effective set. EPERM: bpf() is
// gated (a kernel without the fix above, with unprivileged_bpf_disabled set);
// EBADF: the command reached the map lookup, so no capability is checked
// before it. Never decided from the kernel version. Call single-threaded,
// before DropPrivileges.
bool BpfNeedsCapBpf();

// Call on the main thread before any other thread exists (capabilities are
// per thread; threads created later inherit the reduced sets).
absl::Status DropPrivileges(const PrivilegeOptions& opts);

// Raises the kept capability (CAP_BPF) into this thread's effective set for
// its lifetime; a no-op where it was not kept.
class RaisedPrivileges {
 public:
  RaisedPrivileges();
  ~RaisedPrivileges();
  RaisedPrivileges(const RaisedPrivileges&) = delete;
  RaisedPrivileges& operator=(const RaisedPrivileges&) = delete;

 private:
  bool raised_ = false;
};

// The capability sets of this thread as "eff=<hex> prm=<hex>" (for logs).
std::string CapabilitySummary();

}  // namespace xskit
