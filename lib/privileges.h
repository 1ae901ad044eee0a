// Least privilege for a daemon that opens what it needs at start: xsk-exporter
// (see exporter/README.md, "Privileges") and `xsk-loader serve` (which keeps
// nothing: keep_reopen_caps = false).
//
// The exporter needs privilege for three things only: BPF_ENABLE_STATS
// (CAP_SYS_ADMIN, once at start; the fd it returns keeps run-time stats on),
// opening pins (bpffs file permissions, i.e. root or CAP_DAC_OVERRIDE, plus
// CAP_BPF on kernels before 6.5 where bpf() itself is gated) and turning the
// link's program id into an fd for its run-time stats (CAP_SYS_ADMIN).
// Reading a map or link fd it already holds needs nothing.
//
// So after the first open it drops everything else: the bounding and
// ambient sets are cleared, no_new_privs is set, the process may switch to
// an unprivileged user, and the capabilities re-opening needs stay in the
// permitted set only. They are raised into the effective set (per thread)
// only around a re-open, which happens only when the set of pinned
// interfaces changes. With --reopen never they are dropped too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace xskit {

struct PrivilegeOptions {
  bool keep_reopen_caps = true;     // CAP_BPF, CAP_DAC_OVERRIDE, CAP_SYS_ADMIN (permitted only)
  std::optional<std::string> user;  // switch to this user (and its primary group)
};

// Call on the main thread before any other thread exists (capabilities are
// per thread; threads created later inherit the reduced sets).
absl::Status DropPrivileges(const PrivilegeOptions& opts);

// Raises the kept capabilities into this thread's effective set for its
// lifetime; a no-op where they were not kept.
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
