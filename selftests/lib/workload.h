// The steering workload the kernel tiers share: the real xsk-loader binary
// run in a test namespace, an AF_XDP socket from the socket helper, and
// UDP frames sent from the peer namespace.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xsk/xsk_socket.h"
#include "selftests/lib/netns.h"

namespace xskit::testing {

// `xsk-loader --pin-root <pin_root> ARGS...` inside `netns`.
CmdResult RunLoader(const std::string& pin_root, const std::string& netns,
                    const std::vector<std::string>& args);

// A socket on `dev` queue `queue` of `netns`, registered in the pinned
// XSKMAP under `pin_root`; nullptr (with a test failure) when it fails.
std::unique_ptr<XskSocket> OpenSocketIn(const std::string& netns, const std::string& dev,
                                        uint32_t queue, const std::string& pin_root);

// A copy-mode socket on `dev` queue `queue` of `netns`, registered nowhere
// (transmit-only, or registered by the caller); nullptr (with a test
// failure) when it fails.
std::unique_ptr<XskSocket> CreateSocketIn(const std::string& netns, const std::string& dev,
                                          uint32_t queue, const XskSocket::Options& opts = {});

// `n` UDP frames from the pair's b side to a's address, port `dport`
// (source ports 20000, 20001, ...).
std::vector<std::vector<uint8_t>> UdpFrames(const NetnsPair& pair, int n, uint16_t dport,
                                            size_t payload = 32);

// Receives until `want` frames came (or `timeout`), then waits a moment
// more so that a frame beyond `want` would show. Returns the count.
uint64_t ReceiveAll(XskSocket& sock, uint64_t want,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace xskit::testing
