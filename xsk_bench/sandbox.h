// xsk-bench's sandbox: two network namespaces joined by veth, made when no
// interface is given and removed when the object goes (also on failure and
// Ctrl-C). Same style as scripts/demo: 198.18.x.x, IPv6 off, static
// neighbours, so the only traffic on the link is the benchmark's.
//
//   xskit-bench-<pid>-tx / xsb<pid>t  198.18.200.1  (sender)
//   xskit-bench-<pid>-rx / xsb<pid>r  198.18.200.2  (receiver)
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <optional>

#include "absl/status/statusor.h"
#include "lib/sandbox/netns.h"

namespace xskit::bench {

using sandbox::Mac;
using sandbox::MacString;
using sandbox::ParseMac;
using sandbox::ReadMac;

struct Endpoint {
  std::string netns;   // name under /run/netns ("" = the caller's)
  std::string ifname;
  Mac mac{};
  std::string ip;
};

class Sandbox {
 public:
  static absl::StatusOr<Sandbox> Create();
  Sandbox(Sandbox&& o) noexcept = default;
  Sandbox& operator=(Sandbox&&) = delete;

  const Endpoint& tx() const { return tx_; }
  const Endpoint& rx() const { return rx_; }

  // Removes namespaces (and their pins under `pin_root`'s if/ directory)
  // left by an xsk-bench that died without cleaning up.
  static void SweepStale(const std::string& pin_root);

 private:
  Sandbox() = default;
  Endpoint tx_, rx_;
  std::optional<sandbox::NetnsPair> pair_;  // a = tx, b = rx
};

}  // namespace xskit::bench
