// xsk-exporter's HTTP side: civetweb (the server prometheus-cpp's Exposer
// wraps, with the same options: listening_ports, num_threads, TLS), one
// GET handler for the telemetry path and optional basic auth in front of
// it. It replaces prometheus::Exposer because the Exposer always renders
// with prometheus::TextSerializer, which was most of a scrape's cost
// (exporter/exposition.h); the collector is still a prometheus::Collectable.
//
// Compression: a client that accepts gzip (Prometheus always says so) gets
// gzip (fastest level) unless it is on loopback, where compressing 490 KB
// would cost more CPU than the whole rest of the scrape and save nothing.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

class CivetServer;
class CivetHandler;
class CivetAuthHandler;

namespace xskit::exporter {

struct MetricsServerOptions {
  std::vector<std::string> civetweb;  // civetweb option pairs
  std::string path = "/metrics";
  // Basic auth: checks a user and password; empty: no authentication.
  std::function<bool(const std::string&, const std::string&)> check_user;
  std::string realm = "xsk-exporter";
};

class MetricsServer {
 public:
  // Listens and serves `metrics` at opts.path. Error (kUsage) when civetweb
  // cannot listen with these options.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const MetricsServerOptions& opts, std::shared_ptr<prometheus::Collectable> metrics);
  ~MetricsServer();  // stops serving before the handlers go

  std::vector<int> ListeningPorts() const;

 private:
  MetricsServer() = default;
  std::unique_ptr<CivetHandler> handler_;
  std::unique_ptr<CivetAuthHandler> auth_;
  std::unique_ptr<CivetServer> server_;
};

// Whether civetweb's request_info.remote_addr is a loopback address
// (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
bool IsLoopbackAddress(const std::string& addr);

}  // namespace xskit::exporter
