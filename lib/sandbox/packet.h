// Frames for tests and benchmarks, built layer by layer:
//   Packet().Eth(dst, src).Vlan(7).IPv4(src, dst).Udp(1234, 4791).Payload(18).Build()
// Lengths and IPv4 header checksums are filled in by Build(); the UDP
// checksum is left 0 (valid for IPv4), TCP's is not computed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace xskit::sandbox {

class Packet {
 public:
  using Mac = std::array<uint8_t, 6>;
  Packet& Eth(const Mac& dst, const Mac& src);
  Packet& Vlan(uint16_t vid, uint16_t tpid = 0x8100);
  Packet& IPv4(const std::string& src, const std::string& dst, uint8_t proto = 0);
  Packet& IPv4Options(uint8_t words);  // extra 32-bit option words (NOPs)
  Packet& IPv4Fragment(uint16_t offset8, bool more);
  Packet& IPv6(const std::string& src, const std::string& dst, uint8_t nexthdr = 0);
  Packet& IPv6Ext(uint8_t type, uint8_t len8 = 0);  // hop-by-hop (0), routing (43), dstopts (60), fragment (44)
  Packet& Udp(uint16_t sport, uint16_t dport);
  Packet& Tcp(uint16_t sport, uint16_t dport);
  Packet& Icmp();
  Packet& Payload(size_t n, uint8_t fill = 0xab);
  std::vector<uint8_t> Build() const;

  // Offsets where each header starts (for truncation tests).
  const std::vector<size_t>& boundaries() const { return boundaries_; }

 private:
  void Mark() { boundaries_.push_back(bytes_.size()); }
  std::vector<uint8_t> bytes_;
  std::vector<size_t> boundaries_;
  int ip4_off_ = -1, ip6_off_ = -1, l4_off_ = -1;
  uint8_t l4_proto_ = 0;
  int next_off_ = -1;  // where the last "next header/protocol" byte lives
};

}  // namespace xskit::sandbox
