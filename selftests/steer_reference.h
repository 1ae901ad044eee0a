// The test's own model of what xsk_steer must do with a frame: an
// independent reference classifier (offsets into a byte vector, written from
// the rules in docs/DESIGN.md "What --match matches", not from
// bpf/parse.bpf.h), the frame generators the differential fuzz test feeds
// both with, and a hex dump for mismatches.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bpf/xsk_steer.h"

namespace xskit::testing {

// What a frame is to the filter.
struct RefL4 {
  bool matchable = false;  // false: not IP, malformed, truncated, fragment, too deep
  uint8_t proto = 0;       // IPPROTO_* when matchable
  uint16_t dport = 0;      // 0 when the protocol has no ports
  const char* why = "";    // why it is not matchable (for messages)
};

RefL4 RefClassify(std::span<const uint8_t> frame);

// The outcome (counter) xsk_steer must count for `frame` on a queue that has
// (`socket`) or lacks a registered socket; the action follows from it
// (XSK_STEER_REDIRECTED: XDP_REDIRECT, everything else XDP_PASS).
xsk_steer_outcome RefOutcome(const xsk_steer_filter& filter, bool socket,
                             std::span<const uint8_t> frame);

// Generated frames: valid ones of every shape the parser knows (IPv4 with
// options, IPv6 with up to 5 extension headers, VLAN, 802.1ad, fragments,
// UDP/TCP/SCTP/ICMP, ports the filters name), random bytes, and mutations of
// valid frames (byte flips aimed at the fields the parser reads, truncation,
// Ethernet padding, length fields).
class FrameGen {
 public:
  explicit FrameGen(uint64_t seed) : rng_(seed) {}
  std::vector<uint8_t> Next();

  std::vector<uint8_t> Valid();
  std::vector<uint8_t> Random();
  std::vector<uint8_t> Mutated();

 private:
  uint32_t Below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  uint16_t Port();
  std::mt19937_64 rng_;
};

std::string HexDump(std::span<const uint8_t> frame);

}  // namespace xskit::testing
