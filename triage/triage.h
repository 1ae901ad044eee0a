// One triage run: every signal of the config queried for both groups over
// the window, split into rows, judged, and scored.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "triage/config.h"
#include "triage/judge.h"
#include "triage/prometheus_client.h"

namespace xskit::triage {

struct Request {
  std::string baseline, canary;  // selectors as given, e.g. {rollout="stable"}
  double start = 0, end = 0, step = 60;  // Unix seconds
};

struct Report {
  Request request;
  std::string prometheus;
  double confidence = 0;
  int hosts_baseline = 0, hosts_canary = 0;
  std::vector<RowResult> rows;
  Overall overall;
  std::vector<std::string> warnings;
};

// kInvalidArgument for a malformed selector; the client's errors otherwise.
absl::StatusOr<Report> RunTriage(const PrometheusClient& client, const Config& config,
                                 const Request& request);

}  // namespace xskit::triage
