// The state of xskit's attachments as one JSON document; `status` prints
// it (or a table rendered from it), `top` refreshes it.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "lib/pins.h"
#include "nlohmann/json.hpp"

namespace xskit {

// One interface's report from its pin directory.
nlohmann::json IfaceReport(const PinLayout& pins, const std::string& dir_name);

// Every attachment (ifname empty) or the one of `ifname` in the caller's
// netns (ExitCode::kNotAttached when there is none).
absl::StatusOr<nlohmann::json> StatusReport(const PinLayout& pins, const std::string& ifname);

// The first pin of the report that is not xskit's of this version
// (ExitCode::kForeignPin), for `status` and `top` to exit with.
absl::Status ForeignPinsIn(const nlohmann::json& report);

// Human-readable rendering of StatusReport().
std::string RenderStatus(const nlohmann::json& report);

}  // namespace xskit
