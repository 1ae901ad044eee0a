// Tier `virtio`: the steering path on a real driver, virtio_net, inside the
// kernel-matrix VM (selftests/vmtest joins two virtio-net NICs on a qemu
// hub and exports XSKIT_VIRTIO_PAIR=ifA,ifB). Native XDP, the driver table's
// facts (IFF_TX_SKB_NO_LINEAR) and real traffic, checked exactly.
#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "loader/iface_facts.h"
#include "loader/xsk_socket.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/packet.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::InNetns;
using testing::NetnsPair;
using testing::RunCmd;

std::pair<std::string, std::string> VirtioPair() {
  const char* env = std::getenv("XSKIT_VIRTIO_PAIR");
  if (!env) return {};
  std::string s = env;
  auto comma = s.find(',');
  if (comma == std::string::npos) return {};
  return {s.substr(0, comma), s.substr(comma + 1)};
}

class VirtioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [a, b] = VirtioPair();
    if (a.empty())
      XSKIT_SKIP("no virtio-net pair (XSKIT_VIRTIO_PAIR unset): runs inside selftests/vmtest VMs");
    testing::EnsureBpffs();
    pair_ = std::make_unique<NetnsPair>(NetnsPair::Options{.existing_a = a, .existing_b = b});
  }

  CmdResult Loader(const std::vector<std::string>& args) {
    return testing::RunLoader(root_.path(), pair_->ns_a(), args);
  }

  testing::TestPinRoot root_;
  std::unique_ptr<NetnsPair> pair_;
};

TEST_F(VirtioTest, FactsComeFromTheDriver) {
  IfaceFacts facts;
  InNetns(pair_->ns_a(), [&] {
    auto f = ReadIfaceFacts(pair_->dev_a());
    ASSERT_TRUE(f.ok()) << f.status();
    facts = *f;
  });
  EXPECT_EQ(facts.driver, "virtio_net");
  EXPECT_TRUE(facts.xdp.native) << facts.xdp.source;
  EXPECT_TRUE(facts.tx_skb_no_linear) << "virtio_net declares IFF_TX_SKB_NO_LINEAR";
  CmdResult check = Loader({"check", pair_->dev_a(), "--json"});
  auto j = nlohmann::json::parse(check.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << check.output;
  bool no_linear_ok = false;
  for (const auto& f : j["findings"])
    if (f["check"] == "tx-skb-no-linear") no_linear_ok = f["verdict"] == "ok";
  EXPECT_TRUE(no_linear_ok) << check.output;
}

TEST_F(VirtioTest, NativeSteeringOnVirtioNet) {
  constexpr int kMatching = 60, kOther = 15;
  CmdResult a = Loader({"attach", pair_->dev_a(), "--mode", "native", "--match", "udp:4791"});
  ASSERT_EQ(a.status, 0) << a.output;
  auto sock = testing::OpenSocketIn(pair_->ns_a(), pair_->dev_a(), 0, root_.path());
  ASSERT_TRUE(sock);
  testing::UdpSink stack(pair_->ns_a(), 9999);
  auto frames = testing::UdpFrames(*pair_, kMatching, 4791, 64);
  auto other = testing::UdpFrames(*pair_, kOther, 9999, 64);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair_->ns_b(), pair_->dev_b(), frames);

  EXPECT_EQ(testing::ReceiveAll(*sock, kMatching), static_cast<uint64_t>(kMatching));
  EXPECT_EQ(stack.Drain(), static_cast<uint64_t>(kOther));
  CmdResult st = Loader({"status", pair_->dev_a(), "--json"});
  auto j = nlohmann::json::parse(st.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << st.output;
  EXPECT_EQ(j["interfaces"][0]["xdp_mode"], "native");
  EXPECT_EQ(j["interfaces"][0]["driver"], "virtio_net");
  uint64_t redirected = 0, no_match = 0;
  for (const auto& q : j["interfaces"][0]["queues"]) {
    redirected += q["redirected"].get<uint64_t>();
    no_match += q["pass_no_match"].get<uint64_t>();
  }
  EXPECT_EQ(redirected, static_cast<uint64_t>(kMatching));
  EXPECT_EQ(no_match, static_cast<uint64_t>(kOther));
  sock.reset();
  EXPECT_EQ(Loader({"detach", pair_->dev_a()}).status, 0);
}

}  // namespace
}  // namespace xskit
