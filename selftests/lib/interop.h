// What the interop tests share (selftests/libxdp_interop_test.cc,
// selftests/interop_test.cc): a veth pair with xskit attached on a's side
// by the real xsk-loader, and xskit's own view of it (status --json).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"

namespace xskit::testing {

class SteeredPair {
 public:
  SteeredPair();
  NetnsPair& pair() { return pair_; }
  const std::string& pin_root() const { return root_.path(); }
  // xsk-loader --pin-root <root> ARGS in namespace a.
  CmdResult Loader(const std::vector<std::string>& args);
  // `status dev_a --json`, parsed (null on failure, with a test failure).
  nlohmann::json Status();
  // One counter of queue `queue` ("redirected", "pass_no_match", ...).
  uint64_t Counter(const char* name, uint32_t queue = 0);
  // Waits until counter `name` reaches `want` (or `timeout`); its last value.
  uint64_t WaitCounter(const char* name, uint64_t want,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Whether queue `queue` has a socket in xskit's XSKMAP.
  bool SocketPresent(uint32_t queue = 0);
  // Waits until SocketPresent(queue) == want.
  bool WaitSocket(bool want, std::chrono::milliseconds timeout, uint32_t queue = 0);
  // The attached program's id as the kernel reports it for dev_a (0: none).
  uint32_t XdpProgId();
  // The pinned XSKMAP's path.
  std::string XsksMapPin() const;

 private:
  TestPinRoot root_;
  NetnsPair pair_;
};

}  // namespace xskit::testing
