#include "selftests/lib/traffic.h"

#include "selftests/lib/netns.h"

namespace xskit::testing {

void SendFrames(const std::string& netns, const std::string& dev,
                const std::vector<std::vector<uint8_t>>& frames) {
  ThrowIfError(sandbox::SendFrames(netns, dev, frames));
}

namespace {
sandbox::UdpSink OpenOrThrow(const std::string& netns, uint16_t port) {
  auto sink = sandbox::UdpSink::Open(netns, port);
  ThrowIfError(sink.status());
  return std::move(*sink);
}
}  // namespace

UdpSink::UdpSink(const std::string& netns, uint16_t port)
    : sandbox::UdpSink(OpenOrThrow(netns, port)) {}

}  // namespace xskit::testing
