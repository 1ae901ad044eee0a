#include "selftests/lib/workload.h"

#include "gtest/gtest.h"
#include "selftests/lib/fixtures.h"
#include "lib/sandbox/packet.h"

namespace xskit::testing {

CmdResult RunLoader(const std::string& pin_root, const std::string& netns,
                    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", pin_root};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCmd(argv, netns);
}

std::unique_ptr<XskSocket> OpenSocketIn(const std::string& netns, const std::string& dev,
                                        uint32_t queue, const std::string& pin_root) {
  std::unique_ptr<XskSocket> sock;
  InNetns(netns, [&] {
    auto s = XskSocket::Open(dev, queue, {.pin_root = pin_root});
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) sock = std::move(*s);
  });
  return sock;
}

std::unique_ptr<XskSocket> CreateSocketIn(const std::string& netns, const std::string& dev,
                                          uint32_t queue, const XskSocket::Options& opts) {
  std::unique_ptr<XskSocket> sock;
  InNetns(netns, [&] {
    auto s = XskSocket::Create(dev, queue, false, opts);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) sock = std::move(*s);
  });
  return sock;
}

std::vector<std::vector<uint8_t>> UdpFrames(const NetnsPair& pair, int n, uint16_t dport,
                                            size_t payload) {
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < n; i++)
    frames.push_back(Packet()
                         .Eth(pair.mac_a(), pair.mac_b())
                         .IPv4(NetnsPair::kIpB, NetnsPair::kIpA)
                         .Udp(static_cast<uint16_t>(20000 + i), dport)
                         .Payload(payload)
                         .Build());
  return frames;
}

uint64_t ReceiveAll(XskSocket& sock, uint64_t want, std::chrono::milliseconds timeout) {
  uint64_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got < want && std::chrono::steady_clock::now() < deadline) {
    auto n = sock.Receive(50, [](std::span<const uint8_t>) {});
    if (n.ok()) got += *n;
  }
  // Anything beyond `want` would be a bug: give it a moment to show.
  auto extra = sock.Receive(100, [](std::span<const uint8_t>) {});
  if (extra.ok()) got += *extra;
  return got;
}

}  // namespace xskit::testing
