// xsk-bench's output: a live line per interval (stderr when --json, else
// stdout), the result as JSON, and the summary table rendered from it.
#pragma once

#include <cstdint>
#include <string>

#include "xsk_bench/observe.h"
#include "xsk_bench/options.h"
#include "xsk_bench/sandbox.h"
#include "nlohmann/json.hpp"

namespace xskit::bench {

// Everything a run measured, gathered by run.cc.
struct RunFacts {
  double elapsed_s = 0;
  uint64_t tx_packets = 0, rx_packets = 0, fwd_packets = 0;
  uint64_t kicks = 0, rx_wakeups = 0, rx_empty_polls = 0;
  uint64_t err_eagain = 0, err_ebusy = 0, err_enobufs = 0, err_other = 0;
  uint32_t tx_consumed = 0;  // the Tx ring's consumer index at the end (starts at 0)
  ProbeSnapshot probes;  // the run's delta
  std::optional<SteerSample> steer;
  std::string steer_mode;
  bool steer_attached_for_run = false;
  nlohmann::json xdp_stats, generator_xdp_stats, peer, sockopts;
  nlohmann::json returned;  // l2fwd on the sandbox: frames back on the sender's interface
  std::string bind;
  Endpoint tx_ep, rx_ep;
  Scope tx_scope, rx_scope;
  bool sandbox = false, generator = false, interrupted = false;
};

class Reporter {
 public:
  struct Snapshot {
    double t;
    uint64_t tx_packets, rx_packets, fwd_packets, kicks, eagain, rx_wakeups;
    uint32_t tx_consumed;
    ProbeSnapshot probes;
  };
  Reporter(const Options& o, const ProbeView& probes, bool sandbox)
      : o_(o), probes_(probes), sandbox_(sandbox) {}

  void Live(const Snapshot& prev, const Snapshot& cur, double since_start) const;
  nlohmann::json Result(const RunFacts& f) const;

 private:
  nlohmann::json ProbesJson(const RunFacts& f) const;
  const Options& o_;
  const ProbeView& probes_;
  bool sandbox_;
};

// The summary table of a Result().
std::string RenderSummary(const nlohmann::json& r);

// "2.95M", "92.1k", "17".
std::string Si(double v);

}  // namespace xskit::bench
