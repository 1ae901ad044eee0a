// Pieces the dashboards tier shares: the repository paths, a child process
// that is killed when the object goes, a loopback HTTP GET, the dashboards'
// panel queries with template variables substituted, and a live workload
// (namespaces, xsk-loader attach with probes, an AF_XDP socket that receives
// steered traffic and transmits in batches that hit the per-call budget).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "xsk/xsk_socket.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"

#include "selftests/lib/http.h"

namespace xskit::testing {

// The source tree (from this file's path) and files in it.
std::string RepoPath(const std::string& relative);
std::string ReadFile(const std::string& path);

// A process started with posix_spawn; SIGTERM then SIGKILL on destruction.
// Output goes to `log_path`.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool running();
  int pid() const { return pid_; }
  // Sends `sig` and waits up to timeout_ms; returns the wait status or -1.
  int Stop(int sig, int timeout_ms);

 private:
  int pid_ = -1;
  int status_ = -1;
};


struct PanelQuery {
  std::string dashboard, panel, ref_id, expr;
};
// Every target of every panel of dashboards/grafana/*.json.
std::vector<PanelQuery> AllPanelQueries();
// Replaces $name / ${name} by vars[name] (longest names first) and Grafana's
// $__rate_interval, $__interval, $__range by the given durations.
std::string Substitute(const std::string& expr, const std::map<std::string, std::string>& vars,
                       const std::string& rate_interval = "10s", const std::string& range = "60s");

// Namespaces a/b, xsk-loader attach (steering with --match udp:4791, probes)
// on dev_a under a private pin root, an AF_XDP socket on queue 0, and a
// thread that every 10 ms sends steered and unsteered frames from b and
// transmits 64-descriptor batches from the socket (the first sendto of each
// batch stops at the kernel's per-call budget: backpressure "budget").
class Workload {
 public:
  Workload();
  ~Workload();
  const std::string& pin_root() const { return root_.path(); }
  const NetnsPair& net() const { return net_; }
  // The interface label in the status report and top: "<dev_a>" is in netns
  // <ns_a>, so top shows "<dev_a>@<ns_a>".
  std::string top_label() const { return net_.dev_a() + "@" + net_.ns_a(); }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t received() const { return received_.load(); }

 private:
  void Loop();
  TestPinRoot root_;
  NetnsPair net_;
  std::unique_ptr<XskSocket> sock_;
  std::string error_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

}  // namespace xskit::testing
