// xsk-triage's exit codes (a pipeline branches on them; README "xsk-triage").
#pragma once

namespace xskit::triage {

enum class ExitCode : int {
  kPass = 0,
  kFail = 1,        // a critical signal failed, nodata policy fail, or score below marginal
  kUsage = 2,       // bad option, selector or config file
  kMarginal = 3,    // score between the thresholds, or nodata on a critical signal
  kPrometheus = 4,  // Prometheus unreachable, refused auth, or refused a query
};

}  // namespace xskit::triage
