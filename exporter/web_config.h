// --web.config.file: TLS and basic auth, in the format of the Prometheus
// exporter-toolkit (the subset below), so one file serves every exporter on
// a host:
//
//   tls_server_config:
//     cert_file: /etc/xsk-exporter/tls.crt
//     key_file: /etc/xsk-exporter/tls.key
//   basic_auth_users:
//     prometheus: $2y$10$...   # bcrypt (htpasswd -nBC 10 "" | tr -d ':')
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/fd.h"

namespace xskit::exporter {

struct WebConfig {
  std::string cert_file, key_file;
  std::map<std::string, std::string> users;  // name -> crypt(3) hash (bcrypt)
  bool tls() const { return !cert_file.empty(); }
};

absl::StatusOr<WebConfig> ParseWebConfig(const std::string& text);
absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path);

// Checks a password against a crypt(3) hash ($2b$/$2y$ bcrypt, $6$, ...).
bool CheckPassword(const std::string& hash, const std::string& password);

// Basic auth that unauthenticated clients cannot use to starve scrapes:
// credentials that passed once are remembered (as a salted SHA-256 of
// user and password, compared in constant time), so a legitimate scraper
// costs one bcrypt per exporter run; at most one bcrypt check runs at a
// time, and a request that would wait for it is refused at once (401)
// instead of holding an HTTP thread.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users);
  bool Check(const std::string& user, const std::string& password);
  // bcrypt checks run so far (tests).
  uint64_t hash_checks() const { return hash_checks_.load(); }

 private:
  std::string Digest(const std::string& user, const std::string& password) const;
  std::map<std::string, std::string> users_;
  std::string salt_;
  std::mutex cache_mu_;
  std::set<std::string> good_;  // digests of credentials that passed
  std::mutex hash_mu_;          // one bcrypt at a time (try_lock)
  std::atomic<uint64_t> hash_checks_{0};
};

// civetweb wants key and certificate in one PEM file: checks that they
// belong together (kUsage if not, or if the key is encrypted), writes both
// into a memfd and returns it (the path is /proc/self/fd/<fd>). Further
// certificates in cert_file (intermediates) are served as the chain.
absl::StatusOr<Fd> CombinedPem(const WebConfig& config);

}  // namespace xskit::exporter
