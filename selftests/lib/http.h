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

}  // namespace xskit::testing
