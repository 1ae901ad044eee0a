// Loopback HTTP for tests that talk to the services they start (the
// exporter, Prometheus): a free port, a minimal GET, URL encoding.
#pragma once

#include <string>

namespace xskit::testing {

// A free TCP port on 127.0.0.1 (bound and released; the caller binds it next).
int FreeLoopbackPort();

struct HttpReply {
  int status = 0;  // 0: no connection or no HTTP reply
  std::string body;
};
// GET http://127.0.0.1:port/target over HTTP/1.0.
HttpReply HttpGet(int port, const std::string& target, const std::string& extra_headers = "");

std::string UrlEncode(const std::string& s);

// One scrape of a real xsk-exporter (the build tree's) over `pin_root`: starts
// it on a free loopback port, returns the first 200 body of /metrics (empty
// when none came within 10 s), stops it.
std::string ScrapeExporterOnce(const std::string& pin_root);

}  // namespace xskit::testing
