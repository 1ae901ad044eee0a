// xsk-exporter's collector: on each scrape it reads the pinned maps that
// xsk-loader left (through PinnedSteer and PinnedProbes; it loads nothing)
// and builds the families of docs/DESIGN.md "Metric names". No polling
// thread, no long-lived series: what is not pinned any more is not exported.
// Errors are counted (xsk_exporter_scrape_errors_total{source}) and logged,
// never fatal.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exporter/pin_cache.h"
#include "lib/drop_reasons.h"
#include "lib/fd.h"
#include "lib/xsk_links_prog.h"
#include "lib/xsk_sockets_prog.h"
#include "prometheus/collectable.h"

namespace xskit::exporter {

struct CollectorOptions {
  std::string pin_root;
  std::vector<std::string> interfaces;  // empty: all
  bool reopen = true;                   // re-open pins when they change (see lib/privileges.h)
  // Seconds between full AF_XDP socket discoveries (0: every scrape).
  double socket_discovery_s = 30;
  // Hold BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) for the steering program's
  // run time and run count. Off by default: while any process holds it,
  // every BPF program on the host pays two clock reads per run
  // (exporter/README.md, "Run-time statistics").
  bool run_time_stats = false;
};

class XskCollector : public prometheus::Collectable {
 public:
  explicit XskCollector(const CollectorOptions& opts);

  // The privileged start: turns on the kernel's BPF run-time stats when
  // asked (held until destruction), reads drop-reason names from BTF, loads the XDP link
  // and AF_XDP socket iterators and opens the pins once. Call before
  // dropping privileges.
  void Prime();

  std::vector<prometheus::MetricFamily> Collect() const override;

  bool run_time_stats() const { return stats_fd_.valid(); }

 private:
  // Scrape error: counted and logged (warn on a new message, debug on a
  // repeat, so a persistent error does not flood the journal).
  void Error(const std::string& source, const std::string& message) const;
  void CollectSteering(std::vector<prometheus::MetricFamily>& out) const;
  void CollectProbes(std::vector<prometheus::MetricFamily>& out) const;
  void CollectSelf(std::vector<prometheus::MetricFamily>& out, double seconds) const;
  // One pass of the XDP link iterator for PinCache::Refresh (nullopt:
  // unavailable, error counted).
  std::optional<std::vector<xsk_xdp_link_rec>> ReadLinks() const;
  // socket_metrics.cc
  void PrimeSockets();
  void CollectSockets(std::vector<prometheus::MetricFamily>& out) const;
  void CollectInterfaceInfo(const std::vector<AfXdpSocket>& sockets,
                            std::vector<prometheus::MetricFamily>& out) const;

  mutable std::mutex mu_;  // civetweb serves scrapes on several threads
  mutable PinCache cache_;
  mutable std::map<std::string, uint64_t> scrape_errors_;
  mutable std::map<std::string, std::string> last_error_;
  std::optional<DropReasons> reasons_;
  Fd stats_fd_;
  std::string kernel_, libbpf_;
  uint64_t self_netns_ = 0;
  std::optional<XskLinksProg> links_prog_;      // the XDP link iterator (liveness)
  std::optional<XskSocketsProg> sockets_prog_;  // the AF_XDP socket iterator
  std::string sockets_reason_;                  // why it is not loaded
  struct CachedFacts {
    std::chrono::steady_clock::time_point at;
    std::string driver, xdp_features;
  };
  mutable std::map<std::string, CachedFacts> iface_facts_;
  double socket_discovery_s_ = 30;
  bool run_time_stats_wanted_ = false;
  mutable std::vector<uint32_t> socket_pids_;  // owners found by the last discovery
  mutable std::optional<std::chrono::steady_clock::time_point> last_discovery_;
  mutable bool per_pid_pass_ = true;  // the kernel has per-process task_file iterators
};

}  // namespace xskit::exporter
