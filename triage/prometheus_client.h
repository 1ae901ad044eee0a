// A client for Prometheus' HTTP API (/api/v1/query_range) on libcurl, with
// timeouts, retries with exponential backoff, basic auth and TLS.
//
// Errors (all map to exit code 4 in main):
//   kUnavailable         the server did not answer (names the URL and curl's reason),
//                        or kept answering 5xx/429 through every retry;
//   kUnauthenticated     401/403 (names the URL; check --http.config.file);
//   kFailedPrecondition  Prometheus refused the query (its own error text, e.g.
//                        a bad selector: "parse error: ...").
// An empty result is not an error: the caller reports nodata.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace xskit::triage {

// The client side of Prometheus' HTTP config (the shape of promtool's
// --http.config.file and of a scrape job's basic_auth/tls_config; the
// counterpart of the exporter's web config): the subset below, other keys
// are refused.
//   basic_auth: {username: u, password: p}     # or password_file: path
//   tls_config: {ca_file: .., cert_file: .., key_file: .., insecure_skip_verify: false}
struct HttpConfig {
  std::string username, password;
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
};
absl::StatusOr<HttpConfig> ParseHttpConfig(const std::string& yaml_text);
absl::StatusOr<HttpConfig> LoadHttpConfig(const std::string& path);

struct ClientOptions {
  std::string url;           // e.g. http://prom:9090 (a path prefix is kept)
  HttpConfig http;
  double timeout_s = 30;     // per request
  int retries = 3;           // further attempts after the first
  double backoff_s = 0.5;    // first pause; doubles per retry
};

struct Series {
  std::map<std::string, std::string> labels;
  std::vector<double> timestamps;
  std::vector<double> values;  // NaN / Inf as Prometheus sent them
};

class PrometheusClient {
 public:
  explicit PrometheusClient(ClientOptions options);
  // start/end in Unix seconds, step in seconds.
  absl::StatusOr<std::vector<Series>> QueryRange(const std::string& query, double start,
                                                 double end, double step) const;
  const std::string& url() const { return options_.url; }

 private:
  ClientOptions options_;
};

// Parses a query_range answer body (for tests and the client).
absl::StatusOr<std::vector<Series>> ParseMatrix(const std::string& body);

}  // namespace xskit::triage
