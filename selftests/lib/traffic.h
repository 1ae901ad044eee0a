// gtest glue over lib/sandbox/traffic.h: the same helpers, throwing
// std::runtime_error on failure (test setup in constructors).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/sandbox/traffic.h"

namespace xskit::testing {

// Sends each frame once out of `dev` in `netns` (AF_PACKET, raw).
void SendFrames(const std::string& netns, const std::string& dev,
                const std::vector<std::vector<uint8_t>>& frames);

// A UDP socket bound to 0.0.0.0:port inside `netns`.
class UdpSink : public sandbox::UdpSink {
 public:
  UdpSink(const std::string& netns, uint16_t port);
};

}  // namespace xskit::testing
