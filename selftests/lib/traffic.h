// Real traffic between test namespaces: raw frames out of AF_PACKET, and
// a UDP socket standing for "the kernel stack saw it".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xskit::testing {

// Sends each frame once out of `dev` in `netns` (AF_PACKET, raw).
void SendFrames(const std::string& netns, const std::string& dev,
                const std::vector<std::vector<uint8_t>>& frames);

// A UDP socket bound to 0.0.0.0:port inside `netns`.
class UdpSink {
 public:
  UdpSink(const std::string& netns, uint16_t port);
  ~UdpSink();
  // Datagrams received so far, waiting up to `settle_ms` for stragglers.
  uint64_t Drain(int settle_ms = 200);

 private:
  int fd_ = -1;
  uint64_t received_ = 0;
};

}  // namespace xskit::testing
