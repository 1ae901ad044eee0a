#include "selftests/steer_reference.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>

#include "lib/sandbox/packet.h"

namespace xskit::testing {
namespace {

constexpr uint8_t kUdpLite = 136;

RefL4 No(const char* why) {
  RefL4 r;
  r.why = why;
  return r;
}

bool IsIpv6Ext(uint8_t nh) { return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60; }

// Fixed transport header the port is read from; 0 = a protocol without ports.
size_t PortHeaderLen(uint8_t proto) {
  switch (proto) {
    case IPPROTO_UDP:
    case kUdpLite: return 8;
    case IPPROTO_TCP: return 20;
    case IPPROTO_SCTP: return 12;
    default: return 0;
  }
}

}  // namespace

// Written from the rules in docs/DESIGN.md ("What --match matches"), one
// rule per check, with offsets into the frame instead of pointers.
RefL4 RefClassify(std::span<const uint8_t> f) {
  auto be16 = [&](size_t off) { return static_cast<uint16_t>(f[off] << 8 | f[off + 1]); };
  if (f.size() < 14) return No("shorter than an Ethernet header");
  uint16_t type = be16(12);
  size_t l3 = 14;
  if (type == 0x8100 || type == 0x88A8) {
    if (f.size() < 18) return No("truncated VLAN tag");
    type = be16(16);
    l3 = 18;
  }
  uint8_t proto;
  size_t l4, dgram_end;  // transport header start; end of the IP datagram
  if (type == 0x0800) {
    if (f.size() < l3 + 20) return No("truncated IPv4 header");
    if (f[l3] >> 4 != 4) return No("IPv4 ethertype, version not 4");
    size_t ihl = (f[l3] & 0x0f) * 4u;
    if (ihl < 20) return No("IPv4 IHL < 5");
    size_t total = be16(l3 + 2);
    if (total < ihl) return No("IPv4 total length < header length");
    if (l3 + total > f.size()) return No("IPv4 datagram longer than the frame");
    if (be16(l3 + 6) & 0x3fff) return No("IPv4 fragment (MF or offset)");
    proto = f[l3 + 9];
    l4 = l3 + ihl;
    dgram_end = l3 + total;
  } else if (type == 0x86DD) {
    if (f.size() < l3 + 40) return No("truncated IPv6 header");
    if (f[l3] >> 4 != 6) return No("IPv6 ethertype, version not 6");
    dgram_end = l3 + 40 + be16(l3 + 4);
    if (dgram_end > f.size()) return No("IPv6 payload longer than the frame");
    uint8_t nh = f[l3 + 6];
    size_t pos = l3 + 40;
    for (int n = 0; IsIpv6Ext(nh); n++) {
      if (n == 4) return No("more than 4 IPv6 extension headers");
      if (pos + 2 > dgram_end) return No("IPv6 extension header beyond the payload");
      size_t len = nh == 44 ? 8 : nh == 51 ? (f[pos + 1] + 2u) * 4 : (f[pos + 1] + 1u) * 8;
      if (pos + len > dgram_end) return No("IPv6 extension header beyond the payload");
      // Fragment header: offset (13 bits) << 3 | reserved (2) | M. An atomic
      // fragment (offset 0, M clear) is a whole datagram.
      if (nh == 44 && (be16(pos + 2) & 0xfff9)) return No("IPv6 fragment (M or offset)");
      nh = f[pos];
      pos += len;
    }
    proto = nh;
    l4 = pos;
  } else {
    return No("not IPv4 or IPv6");
  }
  RefL4 r;
  r.matchable = true;
  r.proto = proto;
  size_t need = PortHeaderLen(proto);
  if (need == 0) return r;
  if (l4 + need > dgram_end) return No("transport header beyond the IP datagram");
  r.dport = be16(l4 + 2);
  return r;
}

xsk_steer_outcome RefOutcome(const xsk_steer_filter& filter, bool socket,
                             std::span<const uint8_t> frame) {
  if (!socket) return XSK_STEER_PASS_NO_SOCKET;
  if (filter.nr_rules == 0) return XSK_STEER_REDIRECTED;
  RefL4 l4 = RefClassify(frame);
  if (!l4.matchable) return XSK_STEER_PASS_NO_MATCH;
  for (uint32_t i = 0; i < filter.nr_rules && i < XSK_STEER_MAX_RULES; i++) {
    const xsk_steer_rule& rule = filter.rules[i];
    if (rule.l4proto == l4.proto && (rule.dport == 0 || rule.dport == l4.dport))
      return XSK_STEER_REDIRECTED;
  }
  return XSK_STEER_PASS_NO_MATCH;
}

std::string HexDump(std::span<const uint8_t> frame) {
  std::string out;
  char buf[24];
  for (size_t i = 0; i < frame.size(); i++) {
    if (i % 16 == 0) {
      std::snprintf(buf, sizeof(buf), "%s%04zx ", i ? "\n" : "", i);
      out += buf;
    }
    std::snprintf(buf, sizeof(buf), " %02x", frame[i]);
    out += buf;
  }
  return out;
}

// ------------------------------------------------------------- generators

uint16_t FrameGen::Port() {
  static constexpr uint16_t kPorts[] = {4791, 53, 80, 9999, 1, 65535};
  return Below(4) ? kPorts[Below(std::size(kPorts))] : static_cast<uint16_t>(Below(65536));
}

// A well-formed frame of a random shape, lengths and checksums filled in.
std::vector<uint8_t> FrameGen::Valid() {
  using sandbox::Packet;
  Packet p;
  p.Eth({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2});
  size_t marks = 1;  // Packet::boundaries() index of the next header
  switch (Below(6)) {
    case 0: p.Vlan(static_cast<uint16_t>(Below(4096))); marks++; break;
    case 1: p.Vlan(static_cast<uint16_t>(Below(4096)), 0x88A8); marks++; break;
    case 2:
      if (Below(4) == 0) {  // QinQ: two tags, not parsed (one tag at most)
        p.Vlan(7, 0x88A8).Vlan(8);
        marks += 2;
      }
      break;
    default: break;
  }
  bool v6 = Below(2);
  size_t l3 = 0;  // set below from boundaries
  size_t l3_mark = marks++;
  // The header whose "next header" byte names the transport: IPv4's
  // protocol, or IPv6's (or its last extension header's) next header.
  size_t next_mark = l3_mark;
  std::vector<std::pair<size_t, uint8_t>> ext_marks;  // boundaries index, type
  int frag = -1;  // IPv4: 0 none, 1 first, 2 later, 3 DF only
  if (!v6) {
    p.IPv4("198.18.0.2", "198.18.0.1");
    if (Below(4) == 0) p.IPv4Options(static_cast<uint8_t>(1 + Below(10)));
    frag = Below(8) == 0 ? 1 + Below(3) : 0;
    if (frag == 1) p.IPv4Fragment(0, true);
    if (frag == 2) p.IPv4Fragment(static_cast<uint16_t>(1 + Below(8191)), Below(2));
  } else {
    p.IPv6("2001:db8::2", "2001:db8::1");
    // 0-5 extension headers, mostly few; five is one too many.
    uint32_t n = Below(3) == 0 ? Below(6) : 0;
    for (uint32_t i = 0; i < n; i++) {
      static constexpr uint8_t kTypes[] = {0, 60, 60, 43, 44, 51};
      uint8_t t = kTypes[Below(std::size(kTypes))];
      p.IPv6Ext(t, static_cast<uint8_t>(Below(3) == 0 ? Below(3) : 0));
      ext_marks.emplace_back(marks, t);
      next_mark = marks++;
    }
  }
  // Transport: UDP, TCP, ICMP; SCTP and UDP-Lite as UDP with the protocol
  // number patched (their port fields sit where UDP's do).
  uint32_t l4kind = Below(10);
  uint8_t patch_proto = 0;
  if (l4kind < 5) {
    p.Udp(Port(), Port());
  } else if (l4kind < 7) {
    p.Tcp(Port(), Port());
  } else if (l4kind < 8) {
    p.Icmp();
  } else {
    p.Udp(Port(), Port());
    patch_proto = l4kind == 8 ? uint8_t{IPPROTO_SCTP} : kUdpLite;
  }
  marks++;
  p.Payload(Below(3) == 0 ? Below(64) : 4 + Below(8));
  std::vector<uint8_t> b = p.Build();
  const auto& at = p.boundaries();
  l3 = at[l3_mark];
  if (patch_proto) {
    size_t next_off = next_mark == l3_mark ? l3 + (v6 ? 6 : 9) : at[next_mark];
    b[next_off] = patch_proto;
    if (!v6) {  // the IPv4 header checksum covers the protocol: recompute
      b[l3 + 10] = b[l3 + 11] = 0;
      uint32_t sum = 0;
      for (size_t i = 0; i < (b[l3] & 0x0fu) * 4; i += 2) sum += b[l3 + i] << 8 | b[l3 + i + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      b[l3 + 10] = static_cast<uint8_t>(~sum >> 8);
      b[l3 + 11] = static_cast<uint8_t>(~sum);
    }
  }
  for (auto [mark, type] : ext_marks) {
    size_t off = at[mark];
    if (type == 51) b[off + 1] = static_cast<uint8_t>(2 * b[off + 1]);  // AH: (len + 2) * 4 bytes
    if (type == 44 && Below(2)) {  // a real fragment (first or later) instead of an atomic one
      uint16_t fo = Below(2) ? 1 : static_cast<uint16_t>((1 + Below(8191)) << 3 | Below(2));
      b[off + 2] = static_cast<uint8_t>(fo >> 8);
      b[off + 3] = static_cast<uint8_t>(fo);
    }
  }
  // Ethernet padding that looks like a UDP header to port 4791.
  if (Below(6) == 0) {
    static constexpr uint8_t kUdp4791[] = {0x04, 0xd2, 0x12, 0xb7, 0, 8, 0, 0};
    b.insert(b.end(), std::begin(kUdp4791), std::end(kUdp4791));
  }
  return b;
}

std::vector<uint8_t> FrameGen::Random() {
  std::vector<uint8_t> b(14 + Below(120));
  for (auto& x : b) x = static_cast<uint8_t>(Below(256));
  static constexpr uint16_t kTypes[] = {0x0800, 0x86DD, 0x8100, 0x88A8};
  if (Below(4)) {  // mostly an ethertype the parser follows
    uint16_t t = kTypes[Below(std::size(kTypes))];
    b[12] = static_cast<uint8_t>(t >> 8);
    b[13] = static_cast<uint8_t>(t);
    if (b.size() > 14 && Below(2)) b[14] = Below(2) ? 0x45 : 0x60;
  }
  return b;
}

// A valid frame with one to three of: a byte in the parsed headers set at
// random, a length/version/IHL/fragment field set, a truncation, an
// extension of the frame (padding), a shortened IP length.
std::vector<uint8_t> FrameGen::Mutated() {
  std::vector<uint8_t> b = Valid();
  size_t l3 = b[12] == 0x81 || b[12] == 0x88 ? 18 : 14;
  bool v6 = b[l3 - 2] == 0x86;
  for (uint32_t n = 1 + Below(3); n > 0; n--) {
    switch (Below(9)) {
      case 0:
      case 1: b[Below(static_cast<uint32_t>(std::min<size_t>(b.size(), 96)))] = static_cast<uint8_t>(Below(256)); break;
      case 2: b[l3] = static_cast<uint8_t>(Below(256)); break;  // version / IHL / traffic class
      case 3: {  // IPv4 total length or IPv6 payload length
        size_t off = l3 + (v6 ? 4 : 2);
        if (off + 1 < b.size()) {
          uint32_t v = Below(2) ? Below(static_cast<uint32_t>(b.size())) : Below(65536);
          b[off] = static_cast<uint8_t>(v >> 8);
          b[off + 1] = static_cast<uint8_t>(v);
        }
        break;
      }
      case 4: {  // IPv4 fragment field
        if (!v6 && l3 + 7 < b.size()) {
          b[l3 + 6] = static_cast<uint8_t>(Below(2) ? 0x40 : Below(256));
          b[l3 + 7] = static_cast<uint8_t>(Below(2) ? 0 : Below(256));
        }
        break;
      }
      case 5:  // next header / protocol
        if (size_t off = l3 + (v6 ? 6 : 9); off < b.size()) {
          static constexpr uint8_t kNext[] = {0, 6, 17, 43, 44, 51, 58, 59, 60, 132, 136, 1};
          b[off] = kNext[Below(std::size(kNext))];
        }
        break;
      case 6: b.resize(14 + Below(static_cast<uint32_t>(b.size() - 13))); break;  // truncate
      case 7: b.resize(b.size() + 1 + Below(16), static_cast<uint8_t>(Below(256))); break;
      case 8:  // the IP length ends inside or right before the transport header
        if (!v6 && l3 + 20 <= b.size()) {
          uint32_t tot = (b[l3] & 0x0fu) * 4 + Below(12);
          b[l3 + 2] = static_cast<uint8_t>(tot >> 8);
          b[l3 + 3] = static_cast<uint8_t>(tot);
        } else if (v6 && l3 + 40 <= b.size()) {
          uint32_t plen = Below(24);
          b[l3 + 4] = static_cast<uint8_t>(plen >> 8);
          b[l3 + 5] = static_cast<uint8_t>(plen);
        }
        break;
    }
  }
  if (b.size() < 14) b.resize(14);
  return b;
}

std::vector<uint8_t> FrameGen::Next() {
  uint32_t k = Below(20);
  return k < 8 ? Valid() : k < 17 ? Mutated() : Random();
}

}  // namespace xskit::testing
