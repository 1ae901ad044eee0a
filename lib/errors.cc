#include "lib/errors.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace xskit {
namespace {

constexpr absl::string_view kExitPayload = "xskit/exit-code";

absl::StatusCode AbslCodeFor(ExitCode code) {
  switch (code) {
    case ExitCode::kOk: return absl::StatusCode::kOk;
    case ExitCode::kUsage: return absl::StatusCode::kInvalidArgument;
    case ExitCode::kNoSuchInterface: return absl::StatusCode::kNotFound;
    case ExitCode::kQueueOutOfRange: return absl::StatusCode::kOutOfRange;
    case ExitCode::kUnsupported: return absl::StatusCode::kUnimplemented;
    case ExitCode::kForeignProgram: return absl::StatusCode::kAlreadyExists;
    case ExitCode::kPermission: return absl::StatusCode::kPermissionDenied;
    case ExitCode::kNotAttached: return absl::StatusCode::kNotFound;
    case ExitCode::kNoBpffs:
    case ExitCode::kNoBtf:
    case ExitCode::kMtuTooLarge:
    case ExitCode::kAttachedDifferently:
    case ExitCode::kForeignPin:
    case ExitCode::kCannotMigrate:
      return absl::StatusCode::kFailedPrecondition;
    case ExitCode::kInternal: break;
  }
  return absl::StatusCode::kInternal;
}

}  // namespace

absl::Status Error(ExitCode code, absl::string_view message) {
  absl::Status status(AbslCodeFor(code), message);
  status.SetPayload(kExitPayload, absl::Cord(absl::StrCat(static_cast<int>(code))));
  return status;
}

absl::Status ErrnoError(absl::string_view what, int err, ExitCode code) {
  if (err < 0) err = -err;
  if ((err == EPERM || err == EACCES) && code == ExitCode::kInternal)
    code = ExitCode::kPermission;
  return Error(code, absl::StrCat(what, ": ", std::strerror(err)));
}

ExitCode ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return ExitCode::kOk;
  auto payload = status.GetPayload(kExitPayload);
  int code = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &code))
    return static_cast<ExitCode>(code);
  return ExitCode::kInternal;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

void Failpoint(const char* name) {
  const char* fp = std::getenv("XSKIT_FAILPOINT");
  if (fp && std::strcmp(fp, name) == 0) std::_Exit(99);
}

}  // namespace xskit
