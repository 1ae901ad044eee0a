// Real traffic between namespaces: raw frames out of AF_PACKET, and a UDP
// socket standing for "the kernel stack saw it".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xskit::sandbox {

// Sends each frame once out of `dev` in `netns` (AF_PACKET, raw).
absl::Status SendFrames(const std::string& netns, const std::string& dev,
                        const std::vector<std::vector<uint8_t>>& frames);

// A UDP socket bound to 0.0.0.0:port inside `netns`.
class UdpSink {
 public:
  static absl::StatusOr<UdpSink> Open(const std::string& netns, uint16_t port);
  UdpSink(UdpSink&& o) noexcept : fd_(o.fd_), received_(o.received_) { o.fd_ = -1; }
  UdpSink& operator=(UdpSink&&) = delete;
  ~UdpSink();
  // Datagrams received so far, waiting up to `settle_ms` for stragglers.
  uint64_t Drain(int settle_ms = 200);

 protected:
  UdpSink() = default;

 private:
  int fd_ = -1;
  uint64_t received_ = 0;
};

}  // namespace xskit::sandbox
