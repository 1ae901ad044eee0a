// Times and durations on the command line: "now", "-2h", "-90m" (relative
// to now), Unix seconds, or RFC 3339 ("2026-11-27T10:00:00Z"); durations
// "30s", "5m", "2h", "1d" or plain seconds.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace xskit::triage {

absl::StatusOr<double> ParseDuration(const std::string& text);
absl::StatusOr<double> ParseTime(const std::string& text, double now);

}  // namespace xskit::triage
