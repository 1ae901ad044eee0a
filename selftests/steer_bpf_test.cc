// Tier `bpf`: the steering program under BPF_PROG_TEST_RUN over crafted
// frames. Every case is data: a frame, a filter, whether the queue has a
// socket, and the action and counter the program must produce, exactly.
#include <linux/bpf.h>
#include <net/if.h>

#include <functional>
#include <memory>

#include "gtest/gtest.h"
#include "lib/parse_args.h"
#include "xsk/xsk_socket.h"
#include "lib/xsk_steer_prog.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "lib/sandbox/packet.h"
#include "selftests/steer_reference.h"

namespace xskit {
namespace {

using testing::InNetns;
using testing::NetnsPair;
using testing::Packet;

const Packet::Mac kDst = {0x02, 0, 0, 0, 0, 1};
const Packet::Mac kSrc = {0x02, 0, 0, 0, 0, 2};
constexpr const char* k4a = "198.18.0.2";
constexpr const char* k4b = "198.18.0.1";
constexpr const char* k6a = "2001:db8::2";
constexpr const char* k6b = "2001:db8::1";

Packet Eth() { return Packet().Eth(kDst, kSrc); }

struct Frame {
  const char* name;
  std::function<Packet()> build;
  // What the frame is, as the filter sees it: protocol and port, or none.
  int proto;  // -1: not matchable (not IP, malformed, fragment)
  int dport;
  // Applied to the built bytes: fields the builder keeps consistent.
  std::function<void(std::vector<uint8_t>&)> patch = nullptr;
};

// The UDP header of a datagram to port 4791, for frames that carry one
// where it does not belong (in the Ethernet padding).
void PutUdp4791(std::vector<uint8_t>& b, size_t off) {
  const uint8_t udp[8] = {0x04, 0xd2, 0x12, 0xb7, 0, 8, 0, 0};
  if (b.size() < off + 8) b.resize(off + 8);
  std::copy(udp, udp + 8, b.begin() + off);
}

const std::vector<Frame>& Frames() {
  static const std::vector<Frame> frames = {
      {"ipv4_udp_4791", [] { return Eth().IPv4(k4a, k4b).Udp(1000, 4791).Payload(18); }, 17, 4791},
      {"ipv4_udp_9999", [] { return Eth().IPv4(k4a, k4b).Udp(1000, 9999).Payload(18); }, 17, 9999},
      {"ipv4_tcp_4791", [] { return Eth().IPv4(k4a, k4b).Tcp(1000, 4791); }, 6, 4791},
      {"ipv4_icmp", [] { return Eth().IPv4(k4a, k4b).Icmp().Payload(8); }, 1, 0},
      {"ipv4_options_udp_4791",
       [] { return Eth().IPv4(k4a, k4b).IPv4Options(2).Udp(1, 4791).Payload(4); }, 17, 4791},
      // Fragments are the stack's, first ones included (docs/DESIGN.md):
      // the stack reassembles, a datagram is never split.
      {"ipv4_first_fragment_goes_to_stack",
       [] { return Eth().IPv4(k4a, k4b).IPv4Fragment(0, true).Udp(1, 4791).Payload(8); }, -1, 0},
      {"ipv4_later_fragment",
       [] { return Eth().IPv4(k4a, k4b).IPv4Fragment(10, false).Udp(1, 4791).Payload(8); }, -1, 0},
      {"vlan_ipv4_udp_4791", [] { return Eth().Vlan(7).IPv4(k4a, k4b).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"qinq_outer_ipv4_udp_4791",
       [] { return Eth().Vlan(7, 0x88A8).IPv4(k4a, k4b).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"double_tag_is_not_parsed",
       [] { return Eth().Vlan(7, 0x88A8).Vlan(8).IPv4(k4a, k4b).Udp(1, 4791).Payload(8); }, -1, 0},
      {"ipv6_udp_4791", [] { return Eth().IPv6(k6a, k6b).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"ipv6_tcp_80", [] { return Eth().IPv6(k6a, k6b).Tcp(1, 80); }, 6, 80},
      {"vlan_ipv6_udp_4791", [] { return Eth().Vlan(9).IPv6(k6a, k6b).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"ipv6_icmpv6", [] { return Eth().IPv6(k6a, k6b).Icmp().Payload(8); }, 58, 0},
      {"ipv6_hopopts_dstopts_udp_4791",
       [] { return Eth().IPv6(k6a, k6b).IPv6Ext(0).IPv6Ext(60, 1).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"ipv6_atomic_fragment_udp_4791",  // offset 0, M clear: a whole datagram
       [] { return Eth().IPv6(k6a, k6b).IPv6Ext(44).Udp(1, 4791).Payload(8); }, 17, 4791},
      {"ipv6_first_fragment_goes_to_stack",
       [] { return Eth().IPv6(k6a, k6b).IPv6Ext(44).Udp(1, 4791).Payload(8); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14 + 40 + 3] = 1; }},  // M set
      {"ipv6_later_fragment_goes_to_stack",
       [] { return Eth().IPv6(k6a, k6b).IPv6Ext(44).Udp(1, 4791).Payload(8); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14 + 40 + 2] = 0x05; }},  // offset 160 bytes
      {"ipv6_ah_dstopts_udp_4791",  // AH counts its length in 4-byte words, minus 2
       [] { return Eth().IPv6(k6a, k6b).IPv6Ext(51, 1).IPv6Ext(60).Udp(1, 4791).Payload(8); }, 17, 4791,
       [](std::vector<uint8_t>& b) { b[14 + 40 + 1] = 2; }},
      {"ipv6_four_ext_headers_udp_4791",  // was off by one: the fourth was refused
       [] {
         return Eth().IPv6(k6a, k6b).IPv6Ext(0).IPv6Ext(60).IPv6Ext(60).IPv6Ext(60)
             .Udp(1, 4791).Payload(8);
       }, 17, 4791},
      {"ipv6_five_ext_headers_too_deep",
       [] {
         return Eth().IPv6(k6a, k6b).IPv6Ext(0).IPv6Ext(60).IPv6Ext(60).IPv6Ext(60).IPv6Ext(60)
             .Udp(1, 4791).Payload(8);
       }, -1, 0},
      // Malformed IP goes to the stack.
      {"ipv4_ihl_4", [] { return Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14] = 0x44; }},
      {"ipv4_ihl_0", [] { return Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14] = 0x40; }},
      {"ipv4_ethertype_version_6", [] { return Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14] = 0x65; }},
      {"ipv6_ethertype_version_4", [] { return Eth().IPv6(k6a, k6b).Udp(1, 4791).Payload(8); }, -1, 0,
       [](std::vector<uint8_t>& b) { b[14] = 0x45; }},
      {"ipv4_total_length_beyond_frame", [] { return Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18); },
       -1, 0, [](std::vector<uint8_t>& b) { b[16] = 0x01; }},
      // The IP length bounds the transport header: ports in Ethernet
      // padding never match.
      {"ipv4_udp_header_in_padding", [] { return Eth().IPv4(k4a, k4b, 17); }, -1, 0,
       [](std::vector<uint8_t>& b) { PutUdp4791(b, 14 + 20); }},
      {"ipv4_udp_header_half_in_padding", [] { return Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18); },
       -1, 0, [](std::vector<uint8_t>& b) { b[16] = 0; b[17] = 24; }},  // total length 24 (+4 of UDP)
      {"ipv6_udp_header_in_padding", [] { return Eth().IPv6(k6a, k6b, 17); }, -1, 0,
       [](std::vector<uint8_t>& b) { PutUdp4791(b, 14 + 40); }},
      {"not_ip", [] {
         Packet p = Eth().Payload(46);
         return p;
       }, -1, 0},
  };
  return frames;
}

struct Filter {
  const char* match;  // "" = no filter
  std::function<bool(int proto, int dport)> matches;
};

const std::vector<Filter>& Filters() {
  static const std::vector<Filter> filters = {
      {"", [](int, int) { return true; }},
      {"udp:4791", [](int p, int d) { return p == 17 && d == 4791; }},
      {"tcp:4791,udp:53", [](int p, int d) { return p == 6 && d == 4791; }},
      {"udp", [](int p, int) { return p == 17; }},
      {"icmp,icmpv6,tcp:80", [](int p, int d) { return p == 1 || p == 58 || (p == 6 && d == 80); }},
  };
  return filters;
}

xsk_steer_info InfoFor(const std::string& match, uint32_t nr_queues) {
  xsk_steer_info info{};
  info.version = SteerInfoVersion();
  info.nr_queues = nr_queues;
  info.xdp_mode = XSK_STEER_MODE_NATIVE;
  for (uint32_t q = 0; q < nr_queues; q++) SetQueueInMask(info, q);
  if (!match.empty()) {
    auto f = ParseMatch(match);
    EXPECT_TRUE(f.ok()) << f.status();
    info.filter = *f;
  }
  return info;
}

// One veth pair with 4 queues and an AF_XDP socket on queue 0 of dev_a:
// the XSKMAP entry a test registers needs a real, bound socket.
class SteerBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::EnsureBpffs();
    pair_ = new NetnsPair(NetnsPair::Options{.queues = 4});
    InNetns(pair_->ns_a(), [] {
      auto s = XskSocket::Create(pair_->dev_a(), 0, false, {});
      ASSERT_TRUE(s.ok()) << s.status();
      sock_ = s->release();
    });
  }
  static void TearDownTestSuite() {
    delete sock_;
    delete pair_;
  }

  // Runs `frame` once and checks the action and that exactly one counter
  // of queue `queue` moved: the one for `outcome`.
  static void ExpectRun(const XskSteerProg& prog, const std::vector<uint8_t>& frame,
                        xsk_steer_outcome outcome, const std::string& what, uint32_t queue = 0,
                        int ifindex = 0) {
    auto before = prog.ReadCounters();
    ASSERT_TRUE(before.ok()) << before.status();
    auto run = prog.TestRun(frame, queue, ifindex);
    ASSERT_TRUE(run.ok()) << what << ": " << run.status();
    EXPECT_EQ(run->action, outcome == XSK_STEER_REDIRECTED ? XDP_REDIRECT : XDP_PASS) << what;
    auto after = prog.ReadCounters();
    ASSERT_TRUE(after.ok()) << after.status();
    for (uint32_t q = 0; q < after->size(); q++)
      for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++)
        EXPECT_EQ((*after)[q].packets[o] - (*before)[q].packets[o],
                  q == queue && o == outcome ? 1u : 0u)
            << what << ": queue " << q << " counter " << OutcomeName(static_cast<xsk_steer_outcome>(o));
  }

  static NetnsPair* pair_;
  static XskSocket* sock_;
};

NetnsPair* SteerBpfTest::pair_ = nullptr;
XskSocket* SteerBpfTest::sock_ = nullptr;

TEST_F(SteerBpfTest, EveryFrameEveryFilterSocketPresentOrAbsent) {
  for (const auto& filter : Filters()) {
    for (bool socket : {true, false}) {
      auto prog = XskSteerProg::Load(InfoFor(filter.match, 1));
      ASSERT_TRUE(prog.ok()) << prog.status();
      if (socket) {
        ASSERT_TRUE(prog->RegisterSocket(0, sock_->fd()).ok());
      }
      for (const auto& f : Frames()) {
        xsk_steer_outcome want = !socket ? XSK_STEER_PASS_NO_SOCKET
                                 : std::string(filter.match).empty() ? XSK_STEER_REDIRECTED
                                 : (f.proto >= 0 && filter.matches(f.proto, f.dport))
                                     ? XSK_STEER_REDIRECTED
                                     : XSK_STEER_PASS_NO_MATCH;
        std::vector<uint8_t> bytes = f.build().Build();
        if (f.patch) f.patch(bytes);
        ExpectRun(*prog, bytes, want,
                  std::string(f.name) + " filter '" + filter.match + "' socket " +
                      (socket ? "present" : "absent"));
      }
    }
  }
}

// The fuzz test's reference classifier (selftests/steer_reference.h) gives
// every crafted frame the verdict this table states.
TEST(SteerReference, AgreesWithTheCraftedTable) {
  for (const auto& f : Frames()) {
    std::vector<uint8_t> bytes = f.build().Build();
    if (f.patch) f.patch(bytes);
    testing::RefL4 l4 = testing::RefClassify(bytes);
    EXPECT_EQ(l4.matchable ? l4.proto : -1, f.proto) << f.name << ": " << l4.why;
    if (l4.matchable) {
      EXPECT_EQ(l4.dport, f.dport) << f.name;
    }
  }
}

// Truncated at every byte from the Ethernet header on: with a filter, a
// frame cut anywhere before the end of the transport header's fixed part
// goes to the stack (and the verifier already proved no read passes
// data_end); without a filter nothing is parsed and it is redirected.
TEST_F(SteerBpfTest, TruncatedAtEveryHeaderBoundaryAndByte) {
  auto filtered = XskSteerProg::Load(InfoFor("udp:4791,tcp:4791", 1));
  auto plain = XskSteerProg::Load(InfoFor("", 1));
  ASSERT_TRUE(filtered.ok() && plain.ok());
  ASSERT_TRUE(filtered->RegisterSocket(0, sock_->fd()).ok());
  ASSERT_TRUE(plain->RegisterSocket(0, sock_->fd()).ok());
  for (auto build : std::vector<std::function<Packet()>>{
           [] { return Eth().Vlan(5).IPv6(k6a, k6b).IPv6Ext(0).Udp(1, 4791).Payload(4); },
           [] { return Eth().Vlan(5).IPv4(k4a, k4b).IPv4Options(1).Tcp(1, 4791).Payload(4); }}) {
    Packet p = build();
    std::vector<uint8_t> full = p.Build();
    // Where the transport header ends: the last boundary is the payload.
    size_t l4_end = p.boundaries().back();
    for (size_t len = 14; len < l4_end; len++) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + len);
      bool at_boundary = std::count(p.boundaries().begin(), p.boundaries().end(), len) > 0;
      std::string what = "truncated to " + std::to_string(len) + (at_boundary ? " (boundary)" : "");
      ExpectRun(*filtered, cut, XSK_STEER_PASS_NO_MATCH, what + " filtered");
      ExpectRun(*plain, cut, XSK_STEER_REDIRECTED, what + " unfiltered");
    }
    ExpectRun(*filtered, full, XSK_STEER_REDIRECTED, "the whole frame");
    // Cut right after the transport header, the IP length still counting
    // the payload: a truncated datagram, the stack's.
    std::vector<uint8_t> cut(full.begin(), full.begin() + l4_end);
    ExpectRun(*filtered, cut, XSK_STEER_PASS_NO_MATCH, "cut right after the transport header");
  }
}

// Packets arriving on another queue: only the queue whose XSKMAP slot holds
// a socket redirects, and each queue's counters are its own.
TEST_F(SteerBpfTest, PerQueueSocketsAndCounters) {
  testing::MustRun({"ethtool", "-K", pair_->dev_a(), "gro", "on"}, pair_->ns_a());
  auto prog = XskSteerProg::Load(InfoFor("", 4));
  ASSERT_TRUE(prog.ok()) << prog.status();
  ASSERT_TRUE(prog->RegisterSocket(2, sock_->fd()).ok());
  auto frame = Eth().IPv4(k4a, k4b).Udp(1, 4791).Payload(18).Build();
  InNetns(pair_->ns_a(), [&] {
    int ifindex = static_cast<int>(if_nametoindex(pair_->dev_a().c_str()));
    ASSERT_GT(ifindex, 0);
    auto probe = prog->TestRun(frame, 1, ifindex);
    if (!probe.ok()) XSKIT_SKIP("this kernel's BPF_PROG_TEST_RUN cannot pick a veth rx queue: " +
                                std::string(probe.status().message()));
    auto reset = prog->ReadCounters();  // the probe run above counted once on queue 1
    ExpectRun(*prog, frame, XSK_STEER_PASS_NO_SOCKET, "queue 1", 1, ifindex);
    ExpectRun(*prog, frame, XSK_STEER_REDIRECTED, "queue 2", 2, ifindex);
    ExpectRun(*prog, frame, XSK_STEER_PASS_NO_SOCKET, "queue 3", 3, ifindex);
    ExpectRun(*prog, frame, XSK_STEER_PASS_NO_SOCKET, "queue 0", 0, ifindex);
  });
}

}  // namespace
}  // namespace xskit
