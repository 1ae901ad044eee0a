#include "lib/sandbox/packet.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace xskit::sandbox {
namespace {

void Put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = v >> 8;
  b[off + 1] = v & 0xff;
}

void Append16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(v >> 8);
  b.push_back(v & 0xff);
}

}  // namespace

Packet& Packet::Eth(const Mac& dst, const Mac& src) {
  Mark();
  bytes_.insert(bytes_.end(), dst.begin(), dst.end());
  bytes_.insert(bytes_.end(), src.begin(), src.end());
  Append16(bytes_, 0);  // ethertype, set by the next layer
  next_off_ = -2;       // marker: ethertype at size-2
  return *this;
}

Packet& Packet::Vlan(uint16_t vid, uint16_t tpid) {
  Put16(bytes_, bytes_.size() - 2, tpid);
  Mark();
  Append16(bytes_, vid & 0x0fff);
  Append16(bytes_, 0);
  return *this;
}

Packet& Packet::IPv4(const std::string& src, const std::string& dst, uint8_t proto) {
  Put16(bytes_, bytes_.size() - 2, 0x0800);
  Mark();
  ip4_off_ = static_cast<int>(bytes_.size());
  uint8_t hdr[20] = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0};
  inet_pton(AF_INET, src.c_str(), hdr + 12);
  inet_pton(AF_INET, dst.c_str(), hdr + 16);
  bytes_.insert(bytes_.end(), hdr, hdr + 20);
  next_off_ = ip4_off_ + 9;
  return *this;
}

Packet& Packet::IPv4Options(uint8_t words) {
  bytes_[ip4_off_] = 0x40 | (5 + words);
  bytes_.insert(bytes_.end(), words * 4, 0x01);  // NOP options
  return *this;
}

Packet& Packet::IPv4Fragment(uint16_t offset8, bool more) {
  Put16(bytes_, ip4_off_ + 6, (more ? 0x2000 : 0) | (offset8 & 0x1fff));
  return *this;
}

Packet& Packet::IPv6(const std::string& src, const std::string& dst, uint8_t nexthdr) {
  Put16(bytes_, bytes_.size() - 2, 0x86DD);
  Mark();
  ip6_off_ = static_cast<int>(bytes_.size());
  uint8_t hdr[40] = {0x60, 0, 0, 0, 0, 0, nexthdr, 64};
  inet_pton(AF_INET6, src.c_str(), hdr + 8);
  inet_pton(AF_INET6, dst.c_str(), hdr + 24);
  bytes_.insert(bytes_.end(), hdr, hdr + 40);
  next_off_ = ip6_off_ + 6;
  return *this;
}

Packet& Packet::IPv6Ext(uint8_t type, uint8_t len8) {
  bytes_[next_off_] = type;
  Mark();
  size_t off = bytes_.size();
  size_t len = type == 44 ? 8 : (static_cast<size_t>(len8) + 1) * 8;
  bytes_.insert(bytes_.end(), len, 0);
  if (type != 44) bytes_[off + 1] = len8;
  next_off_ = static_cast<int>(off);
  return *this;
}

Packet& Packet::Udp(uint16_t sport, uint16_t dport) {
  bytes_[next_off_] = 17;
  Mark();
  l4_off_ = static_cast<int>(bytes_.size());
  l4_proto_ = 17;
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  Append16(bytes_, 0);  // length, set by Build()
  Append16(bytes_, 0);  // checksum 0: none (IPv4)
  return *this;
}

Packet& Packet::Tcp(uint16_t sport, uint16_t dport) {
  bytes_[next_off_] = 6;
  Mark();
  l4_off_ = static_cast<int>(bytes_.size());
  l4_proto_ = 6;
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  uint8_t rest[16] = {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff};
  bytes_.insert(bytes_.end(), rest, rest + 16);
  return *this;
}

Packet& Packet::Icmp() {
  bool v6 = ip6_off_ >= 0;
  bytes_[next_off_] = v6 ? 58 : 1;
  Mark();
  l4_off_ = static_cast<int>(bytes_.size());
  l4_proto_ = v6 ? 58 : 1;
  uint8_t hdr[8] = {static_cast<uint8_t>(v6 ? 128 : 8), 0, 0, 0, 0, 1, 0, 1};
  bytes_.insert(bytes_.end(), hdr, hdr + 8);
  return *this;
}

Packet& Packet::Payload(size_t n, uint8_t fill) {
  Mark();
  bytes_.insert(bytes_.end(), n, fill);
  return *this;
}

std::vector<uint8_t> Packet::Build() const {
  std::vector<uint8_t> b = bytes_;
  if (ip4_off_ >= 0) {
    Put16(b, ip4_off_ + 2, static_cast<uint16_t>(b.size() - ip4_off_));
    uint32_t sum = 0;
    size_t ihl = (b[ip4_off_] & 0x0f) * 4;
    b[ip4_off_ + 10] = b[ip4_off_ + 11] = 0;
    for (size_t i = 0; i < ihl; i += 2) sum += (b[ip4_off_ + i] << 8) | b[ip4_off_ + i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    Put16(b, ip4_off_ + 10, static_cast<uint16_t>(~sum));
  }
  if (ip6_off_ >= 0) Put16(b, ip6_off_ + 4, static_cast<uint16_t>(b.size() - ip6_off_ - 40));
  if (l4_proto_ == 17) Put16(b, l4_off_ + 4, static_cast<uint16_t>(b.size() - l4_off_));
  // Ethernet minimum (without FCS): pad, as a NIC would.
  if (b.size() < 60) b.resize(60, 0);
  return b;
}

}  // namespace xskit::sandbox
