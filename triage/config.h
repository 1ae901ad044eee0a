// The judge's settings: built-in defaults, overridden by --config FILE
// (YAML, read with yaml-cpp). Unknown keys and signal names are refused.
//
//   confidence: 0.98          # of the Hodges-Lehmann interval (and the U test)
//   outlier_iqr_factor: 1.5   # Tukey fences per group; 0 keeps every point
//   min_points: 10            # per group, after NaN and outlier removal
//   thresholds: {pass: 95, marginal: 75}   # score in percent
//   groups: {steering: 1, tx: 1, drops: 1, cost: 1, sockets: 1, coverage: 1}  # weights
//   signals:
//     tx_eagain_per_sendmsg: {direction: higher_is_worse, effect: 0.2, critical: true,
//                             nodata: fail, min_points: 20, enabled: true}
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "triage/signals.h"

namespace xskit::triage {

struct Config {
  double confidence = 0.98;
  double outlier_iqr_factor = 1.5;
  double pass_threshold = 95;
  double marginal_threshold = 75;
  std::map<std::string, double> group_weights = {{"steering", 1}, {"tx", 1}, {"drops", 1},
                                                 {"cost", 1},     {"sockets", 1}, {"coverage", 1}};
  std::vector<Signal> signals = BuiltinSignals();
};

// Applies a YAML document to `base` (the defaults); kInvalidArgument names
// the key and what is wrong.
absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, Config base = {});
absl::StatusOr<Config> LoadConfig(const std::string& path);

}  // namespace xskit::triage
