#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <zlib.h>

#include <cstring>
#include <exception>

#include "CivetServer.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "exporter/exposition.h"
#include "lib/errors.h"

namespace xskit::exporter {
namespace {

// gzip (RFC 1952) of `in` at the fastest level; empty on failure.
std::string Gzip(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

class MetricsHandler : public CivetHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<prometheus::Collectable> metrics)
      : metrics_(std::move(metrics)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::vector<prometheus::MetricFamily> families = metrics_->Collect();
    std::string body;
    body.reserve(last_size_.load(std::memory_order_relaxed) + 4096);
    AppendExposition(families, body);
    families.clear();
    last_size_.store(body.size(), std::memory_order_relaxed);

    const char* encoding = "";
    const char* accept = mg_get_header(conn, "Accept-Encoding");
    const mg_request_info* ri = mg_get_request_info(conn);
    if (accept && std::strstr(accept, "gzip") && ri && !IsLoopbackAddress(ri->remote_addr)) {
      if (std::string z = Gzip(body); !z.empty()) {
        body = std::move(z);
        encoding = "Content-Encoding: gzip\r\n";
      }
    }
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "%s"
              "Content-Length: %zu\r\n\r\n",
              encoding, body.size());
    mg_write(conn, body.data(), body.size());
    return true;
  }

 private:
  std::shared_ptr<prometheus::Collectable> metrics_;
  std::atomic<size_t> last_size_{0};  // the last body's size: one allocation per scrape
};

class BasicAuthHandler : public CivetAuthHandler {
 public:
  BasicAuthHandler(std::function<bool(const std::string&, const std::string&)> check,
                   std::string realm)
      : check_(std::move(check)), realm_(std::move(realm)) {}

  bool authorize(CivetServer*, mg_connection* conn) override {
    if (Authorized(conn)) return true;
    mg_printf(conn,
              "HTTP/1.1 401 Unauthorized\r\n"
              "WWW-Authenticate: Basic realm=\"%s\"\r\n"
              "Connection: close\r\n"
              "Content-Length: 0\r\n\r\n",
              realm_.c_str());
    return false;
  }

 private:
  // "Authorization: Basic base64(user:password)"; the user has no colon.
  bool Authorized(mg_connection* conn) const {
    const char* header = mg_get_header(conn, "Authorization");
    constexpr std::string_view kBasic = "Basic ";
    if (!header || std::string_view(header).substr(0, kBasic.size()) != kBasic) return false;
    std::string decoded;
    if (!absl::Base64Unescape(header + kBasic.size(), &decoded)) return false;
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    return check_(decoded.substr(0, colon), decoded.substr(colon + 1));
  }

  std::function<bool(const std::string&, const std::string&)> check_;
  std::string realm_;
};

}  // namespace

bool IsLoopbackAddress(const std::string& addr) {
  in_addr v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const MetricsServerOptions& opts, std::shared_ptr<prometheus::Collectable> metrics) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->handler_ = std::make_unique<MetricsHandler>(std::move(metrics));
  if (opts.check_user) s->auth_ = std::make_unique<BasicAuthHandler>(opts.check_user, opts.realm);
  try {
    s->server_ = std::make_unique<CivetServer>(opts.civetweb);
  } catch (const std::exception& e) {
    return Error(ExitCode::kUsage, e.what());
  }
  // Authentication first: the path is never served without it.
  if (s->auth_) s->server_->addAuthHandler(opts.path, s->auth_.get());
  s->server_->addHandler(opts.path, s->handler_.get());
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->close();  // joins civetweb's threads; then the handlers may go
}

std::vector<int> MetricsServer::ListeningPorts() const {
  return server_ ? server_->getListeningPorts() : std::vector<int>{};
}

}  // namespace xskit::exporter
