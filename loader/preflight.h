// `xsk-loader check IFACE`: whether an interface is ready for AF_XDP and
// what it will get, before anything is attached. One finding per line,
// each with a verdict and what to do.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/errors.h"
#include "lib/iface_facts.h"
#include "nlohmann/json.hpp"

namespace xskit {

enum class Verdict { kOk, kWarn, kFail };

struct Finding {
  std::string check;   // short key, e.g. "xdp-native"
  Verdict verdict = Verdict::kOk;
  std::string detail;  // what was found
  std::string action;  // what to do (empty when nothing)
  ExitCode fail_code = ExitCode::kOk;  // for kFail: what attach would exit with
};

struct PreflightOptions {
  bool want_native = false;    // --mode native
  bool want_zerocopy = false;  // --zerocopy
};

// Findings for `ifname`; fails only when the interface does not exist.
absl::StatusOr<std::vector<Finding>> Preflight(const std::string& ifname,
                                               const PreflightOptions& opts);

const char* VerdictName(Verdict v);
nlohmann::json FindingsJson(const std::string& ifname, const std::vector<Finding>& findings);
std::string RenderFindings(const std::vector<Finding>& findings);

}  // namespace xskit
