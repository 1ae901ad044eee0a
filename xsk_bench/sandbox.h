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

#include "absl/status/statusor.h"

namespace xskit::bench {

using Mac = std::array<uint8_t, 6>;

struct Endpoint {
  std::string netns;   // name under /run/netns ("" = the caller's)
  std::string ifname;
  Mac mac{};
  std::string ip;
};

class Sandbox {
 public:
  static absl::StatusOr<Sandbox> Create();
  Sandbox(Sandbox&& o) noexcept;
  Sandbox& operator=(Sandbox&&) = delete;
  ~Sandbox();

  const Endpoint& tx() const { return tx_; }
  const Endpoint& rx() const { return rx_; }

  // Removes namespaces (and their pins under `pin_root`'s if/ directory)
  // left by an xsk-bench that died without cleaning up.
  static void SweepStale(const std::string& pin_root);

 private:
  Sandbox() = default;
  Endpoint tx_, rx_;
  bool owned_ = false;
};

// The MAC of `ifname` in `netns` ("" = the caller's).
absl::StatusOr<Mac> ReadMac(const std::string& netns, const std::string& ifname);
absl::StatusOr<Mac> ParseMac(const std::string& text);
std::string MacString(const Mac& m);

}  // namespace xskit::bench
