// Tier `cli`: every bad input of `xsk-loader attach` gets its own exit
// code and a message naming the problem, and leaves the system as it was:
// no XDP program added or removed, no pin left behind.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/types.h>
#include <net/if.h>

#include <filesystem>

#include "bpf/xsk_steer.h"
#include "gtest/gtest.h"
#include "lib/errors.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::InNetns;
using testing::NetnsPair;
using testing::RunCmd;

class LoaderCliTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::EnsureBpffs(); }

  // The xsk-loader command line for ARGS under this test's pin root.
  std::vector<std::string> Loader(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", root_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Runs xsk-loader in namespace a and checks exit code, message and that
  // nothing changed.
  void ExpectRefused(std::vector<std::string> args, ExitCode code, const std::string& message,
                     const std::vector<std::string>& prefix = {}) {
    std::string before = XdpState();
    std::vector<std::string> argv = prefix;
    for (auto& a : Loader(args)) argv.push_back(a);
    CmdResult r = RunCmd(argv, pair_.ns_a());
    std::string what = ::testing::PrintToString(args);
    EXPECT_EQ(r.status, static_cast<int>(code)) << what << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos)
        << what << ": message lacks '" << message << "': " << r.output;
    EXPECT_EQ(XdpState(), before) << what << ": the device's XDP state changed";
    EXPECT_FALSE(std::filesystem::exists(root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a()))
        << what << ": a pin directory was left";
  }

  std::string XdpState() {
    std::string out = RunCmd({"ip", "-d", "-o", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a()).output;
    auto pos = out.find(" prog/xdp");
    return pos == std::string::npos ? "none" : out.substr(pos, out.find(' ', pos + 20) - pos);
  }

  testing::TestPinRoot root_;
  NetnsPair pair_;
};

TEST_F(LoaderCliTest, UnknownInterface) {
  ExpectRefused({"attach", "nosuchdev0"}, ExitCode::kNoSuchInterface, "no such interface: nosuchdev0");
}

TEST_F(LoaderCliTest, QueueOutsideChannelsListsTheValidRange) {
  ExpectRefused({"attach", pair_.dev_a(), "--queues", "0-3"}, ExitCode::kQueueOutOfRange,
                "valid queues are 0-0");
}

TEST_F(LoaderCliTest, ZerocopyOnVethIsUnsupported) {
  ExpectRefused({"attach", pair_.dev_a(), "--zerocopy"}, ExitCode::kUnsupported, "zero-copy");
}

TEST_F(LoaderCliTest, NativeModeWhereTheDriverHasNone) {
  // The loopback device has no native XDP (no ndo_bpf, no xdp-features).
  CmdResult r = RunCmd(Loader({"attach", "lo", "--mode", "native"}), pair_.ns_a());
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUnsupported)) << r.output;
  EXPECT_NE(r.output.find("no native XDP"), std::string::npos) << r.output;
  EXPECT_EQ(RunCmd({"ip", "-o", "link", "show", "lo"}, pair_.ns_a()).output.find("xdp"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(root_.path() + "/if/" + pair_.ns_a() + ":lo"));
}

TEST_F(LoaderCliTest, MtuTooLargeForNativeXdp) {
  testing::MustRun({"ip", "link", "set", "dev", pair_.dev_b(), "mtu", "9000"}, pair_.ns_b());
  testing::MustRun({"ip", "link", "set", "dev", pair_.dev_a(), "mtu", "9000"}, pair_.ns_a());
  ExpectRefused({"attach", pair_.dev_a(), "--mode", "native"}, ExitCode::kMtuTooLarge,
                "MTU 9000");
}

TEST_F(LoaderCliTest, MalformedMatchAndQueues) {
  ExpectRefused({"attach", pair_.dev_a(), "--match", "udp:99999"}, ExitCode::kUsage, "--match");
  ExpectRefused({"attach", pair_.dev_a(), "--queues", "2-1"}, ExitCode::kUsage, "--queues");
  ExpectRefused({"attach", pair_.dev_a(), "--mode", "turbo"}, ExitCode::kUsage, "--mode");
}

// Issue 12 item 7: an empty value is a usage error, never "no filter".
TEST_F(LoaderCliTest, EmptyValuesAreUsageErrors) {
  ExpectRefused({"attach", pair_.dev_a(), "--match", ""}, ExitCode::kUsage, "--match");
  ExpectRefused({"attach", pair_.dev_a(), "--match="}, ExitCode::kUsage, "--match");
  ExpectRefused({"attach", pair_.dev_a(), "--queues", ""}, ExitCode::kUsage, "--queues");
  ExpectRefused({"attach", ""}, ExitCode::kUsage, "iface");
  CmdResult r = RunCmd({Bin("loader/xsk-loader"), "--pin-root", "", "attach", pair_.dev_a()}, pair_.ns_a());
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUsage)) << r.output;
  EXPECT_NE(r.output.find("--pin-root"), std::string::npos) << r.output;
  EXPECT_EQ(XdpState(), "none");
}

TEST_F(LoaderCliTest, MissingCapabilitiesAreNamed) {
  for (auto [drop, name] : {std::pair{"-bpf,-sys_admin", "CAP_BPF"},
                            std::pair{"-net_admin", "CAP_NET_ADMIN"},
                            std::pair{"-perfmon,-sys_admin", "CAP_PERFMON"}}) {
    ExpectRefused({"attach", pair_.dev_a()}, ExitCode::kPermission, name,
                  {"setpriv", std::string("--bounding-set=") + drop, "--inh-caps=-all"});
  }
}

TEST_F(LoaderCliTest, BpffsNotMounted) {
  // A private mount namespace without bpffs (and no PID 1 view to borrow).
  std::string cmd = "umount /sys/fs/bpf 2>/dev/null; umount /proc/1/root/sys/fs/bpf 2>/dev/null; exec " +
                    Bin("loader/xsk-loader") + " attach " + pair_.dev_a();
  ExpectRefused({}, ExitCode::kNoBpffs, "mount -t bpf bpf /sys/fs/bpf",
                {"unshare", "-m", "--propagation", "private", "sh", "-c", cmd, "--"});
  // An explicit --pin-root off bpffs says so too.
  CmdResult r = RunCmd({Bin("loader/xsk-loader"), "--pin-root", "/tmp/xskit-not-bpffs", "attach",
                        pair_.dev_a()}, pair_.ns_a());
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kNoBpffs)) << r.output;
  EXPECT_NE(r.output.find("not on a bpffs"), std::string::npos) << r.output;
  EXPECT_EQ(XdpState(), "none");
}

TEST_F(LoaderCliTest, KernelWithoutBtf) {
  std::string cmd = "mount --bind /dev/null /sys/kernel/btf/vmlinux && exec " +
                    Bin("loader/xsk-loader") + " --pin-root " + root_.path() + " attach " + pair_.dev_a();
  ExpectRefused({}, ExitCode::kNoBtf, "BTF",
                {"unshare", "-m", "--propagation", "private", "sh", "-c", cmd, "--"});
}

TEST_F(LoaderCliTest, ForeignProgramNeedsForce) {
  // A foreign XDP_PASS program attached through netlink, as another tool would.
  int prog_fd = -1;
  InNetns(pair_.ns_a(), [&] {
    struct bpf_insn insns[] = {
        {.code = 0xb7, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 2},  // r0 = XDP_PASS
        {.code = 0x95, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},  // exit
    };
    prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "GPL", insns, 2, nullptr);
    ASSERT_GE(prog_fd, 0);
    int ifindex = static_cast<int>(if_nametoindex(pair_.dev_a().c_str()));
    ASSERT_EQ(bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE, nullptr), 0);
  });
  ASSERT_NE(XdpState(), "none");
  ExpectRefused({"attach", pair_.dev_a()}, ExitCode::kForeignProgram, "--force");

  CmdResult forced = RunCmd(Loader({"attach", pair_.dev_a(), "--force"}), pair_.ns_a());
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_NE(forced.output.find("replaced foreign XDP"), std::string::npos) << forced.output;
  EXPECT_NE(RunCmd({"ip", "-o", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a()).output.find(XSK_STEER_PROG_NAME),
            std::string::npos);
  EXPECT_EQ(RunCmd(Loader({"detach", pair_.dev_a()}), pair_.ns_a()).status, 0);
  ::close(prog_fd);
}

TEST_F(LoaderCliTest, DetachOfNothingAndModeChange) {
  ExpectRefused({"detach", pair_.dev_a()}, ExitCode::kNotAttached, "not attached");
  ASSERT_EQ(RunCmd(Loader({"attach", pair_.dev_a(), "--mode", "generic"}), pair_.ns_a()).status, 0);
  CmdResult change = RunCmd(Loader({"attach", pair_.dev_a(), "--mode", "native"}), pair_.ns_a());
  EXPECT_EQ(change.status, static_cast<int>(ExitCode::kAttachedDifferently)) << change.output;
  EXPECT_NE(change.output.find("detach"), std::string::npos) << change.output;
  EXPECT_EQ(RunCmd(Loader({"detach", pair_.dev_a()}), pair_.ns_a()).status, 0);
}

TEST_F(LoaderCliTest, CheckReportsVerdictsAsJson) {
  CmdResult r = RunCmd(Loader({"check", pair_.dev_a(), "--json"}), pair_.ns_a());
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* key : {"\"xdp-native\"", "\"xsk-zerocopy\"", "\"channels\"", "\"mtu\"",
                          "\"tx-skb-no-linear\"", "\"busy-poll\"", "\"sockopt-XDP_MAX_TX_SKB_BUDGET\""})
    EXPECT_NE(r.output.find(key), std::string::npos) << key << " missing: " << r.output;
  testing::MustRun({"ip", "link", "set", "dev", pair_.dev_a(), "mtu", "9000"}, pair_.ns_a());
  CmdResult bad = RunCmd(Loader({"check", pair_.dev_a(), "--mode", "native"}), pair_.ns_a());
  EXPECT_EQ(bad.status, static_cast<int>(ExitCode::kMtuTooLarge)) << bad.output;
  EXPECT_NE(bad.output.find("fail mtu"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace xskit
