// Tier `unit`: pure logic, no kernel. Option parsers, pin names, the
// recorded driver facts and the attach validation that uses them (the
// drivers this machine does not have, i40e and ixgbe among them, are
// exercised here through their recorded facts).
#include <linux/types.h>
#include <netinet/in.h>

#include "gtest/gtest.h"
#include "lib/attach.h"
#include "lib/driver_table.h"
#include "lib/errors.h"
#include "lib/parse_args.h"
#include "lib/pins.h"
#include "lib/xsk_steer_prog.h"
#include "selftests/lib/exposition.h"

namespace xskit {
namespace {

// ------------------------------------------------------------ --queues

TEST(ParseQueueList, AcceptsRangesAndLists) {
  auto q = ParseQueueList("0-3");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q, (std::vector<uint32_t>{0, 1, 2, 3}));
  q = ParseQueueList("5-7,0,2,2");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q, (std::vector<uint32_t>{0, 2, 5, 6, 7})) << "sorted and unique";
  q = ParseQueueList("all");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->empty()) << "all = every queue";
}

TEST(ParseQueueList, RejectsMalformed) {
  for (const char* bad : {"", "a", "3-1", "1-", "-1", "1,,2", "0-x", "256", "1.5", " 1"}) {
    auto q = ParseQueueList(bad);
    EXPECT_FALSE(q.ok()) << "'" << bad << "' accepted";
    EXPECT_EQ(ExitCodeOf(q.status()), ExitCode::kUsage) << bad;
    EXPECT_NE(q.status().message().find("--queues"), absl::string_view::npos) << bad;
  }
}

// ------------------------------------------------------------- --match

TEST(ParseMatch, Rules) {
  auto f = ParseMatch("udp:4791");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->nr_rules, 1u);
  EXPECT_EQ(f->rules[0].l4proto, IPPROTO_UDP);
  EXPECT_EQ(f->rules[0].dport, 4791);

  f = ParseMatch("TCP:80,udp,icmp,icmpv6,sctp:9");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->nr_rules, 5u);
  EXPECT_EQ(f->rules[1].l4proto, IPPROTO_UDP);
  EXPECT_EQ(f->rules[1].dport, 0) << "no port: any port";
  EXPECT_EQ(FilterString(*f), "tcp:80,udp,icmp,icmpv6,sctp:9");
}

TEST(ParseMatch, RejectsMalformed) {
  for (const char* bad : {"", "udp:", "udp:0", "udp:65536", "udp:-1", "foo", "icmp:1", "udp:80:1",
                          "udp:4791,", "udp,udp,udp,udp,udp,udp,udp,udp,udp"}) {
    auto f = ParseMatch(bad);
    EXPECT_FALSE(f.ok()) << "'" << bad << "' accepted";
    EXPECT_EQ(ExitCodeOf(f.status()), ExitCode::kUsage) << bad;
  }
}

// ----------------------------------------------------------- pin names

TEST(PinNames, InitialNamespaceIsTheInterfaceName) {
  NetnsId init;
  EXPECT_EQ(IfaceDirName(init, "eth0"), "eth0");
}

TEST(PinNames, DotsAndColonsAreEncodedAndDecoded) {
  NetnsId ns{.initial = false, .inode = 1, .name = "red.1:x"};
  std::string dir = IfaceDirName(ns, "eth0.100");
  EXPECT_EQ(dir, "red%2e1%3ax:eth0%2e100");
  EXPECT_EQ(dir.find('.'), std::string::npos) << "bpffs refuses '.'";
  IfaceDirParts parts = ParseIfaceDirName(dir);
  EXPECT_EQ(parts.netns, "red.1:x");
  EXPECT_EQ(parts.ifname, "eth0.100");
  EXPECT_EQ(ParseIfaceDirName("eth0").netns, "");
}

// ------------------------------------------------------------- errors

TEST(PinNames, InfoFromAnotherVersionIsRefusedByName) {
  EXPECT_TRUE(CheckInfoVersion("/sys/fs/bpf/xskit/if/eth0", "steer_info", 2, 2).ok());
  absl::Status s = CheckInfoVersion("/sys/fs/bpf/xskit/if/eth0", "steer_info", 1, 2);
  EXPECT_EQ(ExitCodeOf(s), ExitCode::kForeignPin);
  EXPECT_EQ(s.message(),
            "/sys/fs/bpf/xskit/if/eth0/steer_info is not an xskit pin of this version (layout "
            "version 1, this xskit reads 2): detach it with the xskit that made it, or remove it "
            "(rm /sys/fs/bpf/xskit/if/eth0/steer_info)");
}

TEST(Errors, ExitCodeTravelsThroughAnnotate) {
  absl::Status s = Annotate(Error(ExitCode::kMtuTooLarge, "too big"), "attach eth0");
  EXPECT_EQ(ExitCodeOf(s), ExitCode::kMtuTooLarge);
  EXPECT_EQ(s.message(), "attach eth0: too big");
  EXPECT_EQ(ExitCodeOf(absl::OkStatus()), ExitCode::kOk);
  EXPECT_EQ(ExitCodeOf(absl::InternalError("x")), ExitCode::kInternal);
  EXPECT_EQ(ExitCodeOf(ErrnoError("bpf", -EPERM)), ExitCode::kPermission);
}

// -------------------------------------- recorded driver facts + attach

IfaceFacts FactsFor(const std::string& driver, uint32_t mtu, uint32_t combined) {
  IfaceFacts f;
  f.link.ifname = "eth0";
  f.link.ifindex = 7;
  f.link.mtu = mtu;
  f.link.num_rx_queues = combined;
  f.driver = driver;
  f.channels = {0, 0, combined, 0, 0, combined, true};
  f.recorded = FindDriverFacts(driver);
  if (f.recorded) {
    f.xdp.native = f.recorded->native_xdp;
    f.xdp.zerocopy = f.recorded->zerocopy;
    f.xdp.source = "recorded table";
  }
  return f;
}

TEST(DriverTable, KnowsTheFleetDrivers) {
  for (const char* d : {"i40e", "ixgbe", "ice", "mlx5_core", "virtio_net", "veth"})
    EXPECT_NE(FindDriverFacts(d), nullptr) << d;
  EXPECT_TRUE(FindDriverFacts("virtio_net")->tx_skb_no_linear) << "virtio_net sets IFF_TX_SKB_NO_LINEAR";
  EXPECT_FALSE(FindDriverFacts("veth")->zerocopy);
  EXPECT_TRUE(FindDriverFacts("i40e")->zerocopy);
  EXPECT_EQ(FindDriverFacts("e1000"), nullptr);
}

TEST(ValidateAttach, I40eJumboMtuRefusedInNativeAllowedInGeneric) {
  IfaceFacts f = FactsFor("i40e", 9000, 8);
  AttachRequest req{.ifname = "eth0", .mode = ModeRequest::kAuto};
  auto info = ValidateAttach(req, f, nullptr);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ExitCodeOf(info.status()), ExitCode::kMtuTooLarge);
  EXPECT_NE(info.status().message().find("3046"), absl::string_view::npos) << info.status();
  req.mode = ModeRequest::kGeneric;
  EXPECT_TRUE(ValidateAttach(req, f, nullptr).ok()) << "generic XDP has no MTU limit";
}

TEST(ValidateAttach, IxgbeQueueOutsideChannelsListsTheRange) {
  IfaceFacts f = FactsFor("ixgbe", 1500, 4);
  AttachRequest req{.ifname = "eth0", .queues = {1, 7}};
  auto info = ValidateAttach(req, f, nullptr);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ExitCodeOf(info.status()), ExitCode::kQueueOutOfRange);
  EXPECT_NE(info.status().message().find("0-3"), absl::string_view::npos) << info.status();
}

TEST(ValidateAttach, ZerocopyNeedsDriverSupportAndNativeMode) {
  AttachRequest req{.ifname = "eth0", .zerocopy = true};
  auto veth = ValidateAttach(req, FactsFor("veth", 1500, 1), nullptr);
  EXPECT_EQ(ExitCodeOf(veth.status()), ExitCode::kUnsupported);

  auto i40e = ValidateAttach(req, FactsFor("i40e", 1500, 8), nullptr);
  ASSERT_TRUE(i40e.ok()) << i40e.status();
  EXPECT_EQ(i40e->zerocopy, 1u);
  EXPECT_EQ(i40e->xdp_mode, static_cast<uint32_t>(XSK_STEER_MODE_NATIVE));

  req.mode = ModeRequest::kGeneric;
  auto generic = ValidateAttach(req, FactsFor("i40e", 1500, 8), nullptr);
  EXPECT_EQ(ExitCodeOf(generic.status()), ExitCode::kUnsupported) << "zero-copy is native only";
}

TEST(ValidateAttach, AutoPicksNativeWhereSupportedAndSaysWhy) {
  std::string why;
  auto info = ValidateAttach({.ifname = "eth0"}, FactsFor("ixgbe", 1500, 4), &why);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->xdp_mode, static_cast<uint32_t>(XSK_STEER_MODE_NATIVE));
  EXPECT_NE(why.find("native"), std::string::npos) << why;

  IfaceFacts unknown = FactsFor("e1000", 1500, 1);
  info = ValidateAttach({.ifname = "eth0"}, unknown, &why);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->xdp_mode, static_cast<uint32_t>(XSK_STEER_MODE_GENERIC));
  EXPECT_NE(why.find("generic"), std::string::npos) << why;

  auto native = ValidateAttach({.ifname = "eth0", .mode = ModeRequest::kNative}, unknown, nullptr);
  EXPECT_EQ(ExitCodeOf(native.status()), ExitCode::kUnsupported);
}

TEST(ValidateAttach, QueueMaskCoversRequestedQueuesOnly) {
  auto info = ValidateAttach({.ifname = "eth0", .queues = {0, 3}}, FactsFor("i40e", 1500, 4), nullptr);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->nr_queues, 4u);
  EXPECT_TRUE(QueueInMask(*info, 0));
  EXPECT_FALSE(QueueInMask(*info, 1));
  EXPECT_TRUE(QueueInMask(*info, 3));
  auto all = ValidateAttach({.ifname = "eth0"}, FactsFor("i40e", 1500, 4), nullptr);
  for (uint32_t q = 0; q < 4; q++) EXPECT_TRUE(QueueInMask(*all, q)) << q;
}

// The tests' reader of an exporter body: a series is its name and its whole
// label set (escapes decoded); comments and malformed lines are skipped.
TEST(Exposition, FindsSeriesByTheirExactLabelSet) {
  auto e = testing::Exposition::Parse(
      "# HELP xsk_zc_tx_descriptors_total Tx descriptors.\n"
      "# TYPE xsk_zc_tx_descriptors_total counter\n"
      "xsk_zc_tx_descriptors_total{ifname=\"eth1\",netns=\"ns a\",queue=\"0\"} 64\n"
      "xsk_zc_tx_descriptors_per_batch_bucket{ifname=\"eth1\",netns=\"\",queue=\"0\",le=\"+Inf\"} 5\n"
      "xsk_probe_coverage{signal=\"zc_tx_batch\",mode=\"unavailable\",reason=\"say \\\"no\\\"\\\\\"} 1\n"
      "xsk_up 1\n"
      "broken{ifname=\"x} 3\n");
  EXPECT_EQ(e.samples().size(), 4u);
  EXPECT_EQ(e.Value("xsk_zc_tx_descriptors_total",
                    {{"ifname", "eth1"}, {"netns", "ns a"}, {"queue", "0"}}),
            64);
  EXPECT_FALSE(e.Value("xsk_zc_tx_descriptors_total", {{"ifname", "eth1"}, {"queue", "0"}}))
      << "a subset of the labels is another series";
  EXPECT_EQ(e.CounterOr0("xsk_zc_tx_completions_total", {}), 0);
  EXPECT_EQ(e.Value("xsk_zc_tx_descriptors_per_batch_bucket",
                    {{"ifname", "eth1"}, {"netns", ""}, {"queue", "0"}, {"le", "+Inf"}}),
            5);
  auto cov = e.Find("xsk_probe_coverage", {{"signal", "zc_tx_batch"}});
  ASSERT_EQ(cov.size(), 1u);
  EXPECT_EQ(cov[0]->labels.at("reason"), "say \"no\"\\");
  EXPECT_EQ(e.Value("xsk_up", {}), 1);
}

}  // namespace
}  // namespace xskit
