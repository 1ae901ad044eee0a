// The exporter's own pure helpers: histogram bounds, the --interfaces
// filter, the listen address. Key fields become labels in lib/decoders.h,
// shared with every other view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xskit::exporter {

// Upper bounds ("le") of xsk_tx_descriptors_per_sendmsg, one per kernel
// bucket except the last (+Inf): the kernel's bucket k (2..8) holds
// [2^(k-1), 2^k - 1], so the exact integer bounds are 0,1,3,7,...,255.
std::vector<double> BatchBucketBounds();

// Upper bounds of xsk_tx_completion_latency_seconds: kernel bucket k holds
// [2^k, 2^(k+1)) ns, so its bound is 2^(k+1) ns in seconds; the last
// kernel bucket (2^31 ns and up) has no finite bound: +Inf only.
std::vector<double> LatencyBucketBounds();

// Filter of --interfaces: empty matches everything; otherwise a dir name
// ("eth0", "ns1:eth0") or a bare interface name matches.
bool InterfaceSelected(const std::vector<std::string>& selected, const std::string& dir_name,
                       const std::string& ifname);

// Listen address as civetweb wants it: "127.0.0.1:10100" stays,
// ":10100" becomes "0.0.0.0:10100", "[::1]:10100" becomes "[::1]:10100".
// Returns "" unless it is exactly one HOST:PORT with HOST an IPv4 literal,
// [IPv6], localhost or empty (a comma list is refused, not two listeners).
std::string CivetListenAddress(const std::string& web_listen_address);

}  // namespace xskit::exporter
