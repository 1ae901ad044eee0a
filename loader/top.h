// `xsk-loader top`: the steering counters and a probe snapshot
// (lib/probe_snapshot.h) sampled repeatedly, turned into per-second rates
// per interface and queue, sorted worst first. Pure functions here; the
// terminal loop is cmd/top.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "lib/probe_snapshot.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {

// Counters of one interface queue at one instant (absent signals: has_tx false).
struct QueueCounters {
  uint64_t redirected = 0, pass_no_socket = 0, pass_no_match = 0, redirect_failed = 0;
  bool has_tx = false;
  uint64_t tx_calls = 0, tx_descs = 0, tx_errors = 0, alloc_fail = 0;
  uint32_t outstanding = 0;
  // The zero-copy path (probes' zc_stats; has_zc false without a row).
  bool has_zc = false;
  uint64_t zc_batches = 0, zc_descs = 0, zc_completions = 0, zc_wakeups = 0;
  uint64_t fill_takes = 0, fill_empty = 0;
};

// Key: interface label ("veth0" or "veth0@ns1") and queue.
using QueueKey = std::tuple<std::string, uint32_t>;

struct TopSample {
  double time_s = 0;  // CLOCK_MONOTONIC
  std::map<QueueKey, QueueCounters> queues;
  // Drops per interface label and reason (probes; interface "" = no device).
  std::map<std::pair<std::string, std::string>, uint64_t> drops;
  bool probes_attached = false;
  std::vector<std::string> unavailable_signals;  // "signal (reason)"
};

struct TopRow {
  std::string iface;
  uint32_t queue = 0;
  double redirected = 0, pass_no_socket = 0, pass_no_match = 0, redirect_failed = 0;  // pps
  bool has_tx = false;
  double tx_calls = 0, tx_descs = 0, tx_errors = 0, alloc_fail = 0;  // per second
  double descs_per_call = 0;     // 0 when no calls
  double backpressure = 0;       // failed share of calls
  uint32_t outstanding = 0;
  bool has_zc = false;
  double zc_descs = 0, zc_completions = 0, zc_wakeups = 0, fill_empty = 0;  // per second
  double descs_per_batch = 0;    // over the driver Tx batches that took one or more
};

struct DropRow {
  std::string iface, reason;
  double rate = 0;
  uint64_t total = 0;
};

// One attached interface's steering counters, per queue.
struct SteerCounters {
  std::string ifname, netns;  // from the pin directory ("" netns: initial)
  std::vector<xsk_steer_counters> queues;
};

// A sample from the steering counters and a probe snapshot read with the
// attachments as known sites (SiteResolver::FromPins): a probe row lands on
// the steering interface whose label (ProbeSite::Label) it carries.
TopSample SampleOf(const std::vector<SteerCounters>& steer, const ProbeSnapshot& probes,
                   double time_s);

// Rates between two samples, worst first: redirect failures, then
// backpressure (failed sendmsg/s), pass_no_socket, drops of AF_XDP skbs,
// then total packets. A queue new in `cur` is rated against zero counters.
std::vector<TopRow> ComputeRows(const TopSample& prev, const TopSample& cur);
std::vector<DropRow> ComputeDrops(const TopSample& prev, const TopSample& cur);

// The screen (no escape codes): a header, the queue table, the zero-copy
// table (queues with a zero-copy row), the top drop reasons, the
// unavailable signals. `height` bounds it (rows).
std::string RenderTop(const TopSample& cur, const std::vector<TopRow>& rows,
                      const std::vector<DropRow>& drops, double interval_s, int height);

}  // namespace xskit
