// Errors for every xskit module: absl::Status with an exit code attached.
//
// A Status carries the message a user reads; the exit code travels with it
// as a payload so that main() can map any failure to the distinct code
// documented in docs/DESIGN.md without each layer knowing about exit codes.
#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace xskit {

enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,
  kNoSuchInterface = 3,
  kQueueOutOfRange = 4,
  kUnsupported = 5,
  kForeignProgram = 6,
  kPermission = 7,
  kNoBpffs = 8,
  kNoBtf = 9,
  kMtuTooLarge = 10,
  kNotAttached = 11,
  kAttachedDifferently = 12,
  kForeignPin = 13,  // a pin that is not xskit's of this version (wrong shape or version)
  kCannotMigrate = 14,  // another version's attach that this one cannot take over in place
};

// A failed Status with `code` attached; the absl code is derived from it.
absl::Status Error(ExitCode code, absl::string_view message);

// Wraps a negative errno (libbpf style) or errno with what was attempted:
// "bpf_xdp_attach(ifindex=3): Device or resource busy".
absl::Status ErrnoError(absl::string_view what, int err,
                        ExitCode code = ExitCode::kInternal);

// The exit code of a Status: kOk for OK, the attached code otherwise,
// kInternal when none was attached.
ExitCode ExitCodeOf(const absl::Status& status);

// Prepends context to a failed Status, keeping its exit code.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// Crash injection for the tests of attach atomicity (steering and probes):
// XSKIT_FAILPOINT=<name> makes the process die on the spot (exit 99), as a
// crash would.
void Failpoint(const char* name);

}  // namespace xskit

#define XSKIT_RETURN_IF_ERROR(expr)            \
  do {                                         \
    absl::Status xskit_status_ = (expr);       \
    if (!xskit_status_.ok()) return xskit_status_; \
  } while (0)

#define XSKIT_CONCAT_INNER_(a, b) a##b
#define XSKIT_CONCAT_(a, b) XSKIT_CONCAT_INNER_(a, b)
#define XSKIT_ASSIGN_OR_RETURN(lhs, expr) \
  XSKIT_ASSIGN_OR_RETURN_IMPL_(XSKIT_CONCAT_(xskit_statusor_, __LINE__), lhs, expr)
#define XSKIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
