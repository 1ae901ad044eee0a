#include "exporter/decoders.h"

#include "lib/xsk_probes_prog.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include <linux/types.h>

#include "bpf/xsk_probes.h"

namespace xskit::exporter {

std::vector<double> BatchBucketBounds() {
  std::vector<double> out = {0, 1};
  for (int k = 2; k < XSK_PROBES_BATCH_BUCKETS - 1; k++) out.push_back((1u << k) - 1);
  return out;  // 0,1,3,7,15,31,63,127,255
}

std::vector<double> LatencyBucketBounds() {
  std::vector<double> out;
  // The kernel's last bucket is open-ended: it goes to +Inf only.
  for (int k = 0; k < XSK_PROBES_LAT_BUCKETS - 1; k++)
    out.push_back(static_cast<double>(2ULL << k) * 1e-9);
  return out;
}

bool InterfaceSelected(const std::vector<std::string>& selected, const std::string& dir_name,
                       const std::string& ifname) {
  if (selected.empty()) return true;
  for (const auto& s : selected)
    if (s == dir_name || s == ifname) return true;
  return false;
}

std::string CivetListenAddress(const std::string& addr) {
  // Exactly one HOST:PORT: civetweb would read "a:1,b:2" as two listeners
  // and "+"/"s"/"r" suffixes as options, so the host is an address literal.
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return "";
  std::string port_text = addr.substr(colon + 1);
  uint32_t port = 0;
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535)
    return "";
  std::string host = addr.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  unsigned char buf[sizeof(in6_addr)];
  if (host.front() == '[') {  // civetweb spells IPv6 as "[::1]:port"
    if (host.size() < 3 || host.back() != ']') return "";
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buf) != 1) return "";
    return absl::StrCat(host, ":", port);
  }
  if (inet_pton(AF_INET, host.c_str(), buf) != 1) return "";
  return absl::StrCat(host, ":", port);
}

}  // namespace xskit::exporter
