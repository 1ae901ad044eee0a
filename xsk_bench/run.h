// One xsk-bench run: set up (sandbox, steering attach, probes, sockets),
// run the loops on their namespaces' threads, print a live line per
// interval, tear everything down, and return the result as JSON (which
// report.h renders as the summary table).
#pragma once

#include <atomic>

#include "absl/status/statusor.h"
#include "xsk_bench/options.h"
#include "nlohmann/json.hpp"

namespace xskit::bench {

// Set by SIGINT/SIGTERM: the run stops and cleans up.
extern std::atomic<bool> g_interrupted;

absl::StatusOr<nlohmann::json> RunBench(const Options& opts);

}  // namespace xskit::bench
