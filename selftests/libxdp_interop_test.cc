// Tier `netns`: an application that knows nothing of xskit, written only
// with libxdp calls and default flags (selftests/interop/libxdp_default_rx.c),
// on an interface where xsk-loader attached the steering program. libxdp
// must recognise xskit's program as its default one and register the
// socket in xskit's XSKMAP instead of failing with EBUSY; the socket gets
// exactly what the filter steers, the stack the rest, the counters agree,
// and the application's exit leaves xskit attached for the next run.
#include <linux/types.h>

#include <cstdio>
#include <filesystem>

#include "bpf/xsk_steer.h"
#include "gtest/gtest.h"
#include "lib/sandbox/process.h"
#include "selftests/lib/interop.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using namespace std::chrono_literals;
using testing::Bin;
using sandbox::Process;

TEST(LibxdpInteropTest, DefaultFlagsReceiverGetsWhatXskitSteersAndXskitStays) {
  constexpr uint64_t kMatching = 120, kOther = 50;
  testing::SteeredPair s;
  auto& pair = s.pair();
  testing::CmdResult a = s.Loader({"attach", pair.dev_a(), "--match", "udp:4791", "--no-probes"});
  ASSERT_EQ(a.status, 0) << a.output;
  const uint32_t prog_id = s.XdpProgId();
  ASSERT_NE(prog_id, 0u);
  std::string shown = testing::RunCmd({"ip", "-d", "-o", "link", "show", "dev", pair.dev_a()},
                                      pair.ns_a()).output;
  EXPECT_NE(shown.find(std::string("name ") + XSK_STEER_PROG_NAME), std::string::npos) << shown;

  for (uint64_t run = 1; run <= 2; run++) {
    SCOPED_TRACE(::testing::Message() << "run " << run);
    Process rx({Bin("selftests/libxdp_default_rx"), pair.dev_a(), "0", "4791"}, pair.ns_a());
    ASSERT_TRUE(rx.WaitForOutput("ready", 10s))
        << "xsk_socket__create with default flags failed: " << rx.output();
    ASSERT_TRUE(s.WaitSocket(true, 5s)) << "libxdp did not register its socket in xskit's XSKMAP";
    testing::UdpSink stack(pair.ns_a(), 9999);
    auto frames = testing::UdpFrames(pair, kMatching, 4791);
    auto other = testing::UdpFrames(pair, kOther, 9999);
    frames.insert(frames.end(), other.begin(), other.end());
    testing::SendFrames(pair.ns_b(), pair.dev_b(), frames);

    EXPECT_EQ(s.WaitCounter("redirected", kMatching * run), kMatching * run);
    EXPECT_EQ(stack.Drain(), kOther) << "kernel stack (UDP :9999)";
    rx.CloseStdin();
    ASSERT_EQ(rx.Wait(), 0) << rx.output();
    unsigned long long got = 0, on_port = 0;
    int port = 0;
    auto pos = rx.output().find("received ");
    ASSERT_NE(pos, std::string::npos) << rx.output();
    ASSERT_EQ(std::sscanf(rx.output().c_str() + pos, "received %llu port %d %llu", &got, &port,
                          &on_port), 3) << rx.output();
    EXPECT_EQ(got, kMatching) << "frames the libxdp application received";
    EXPECT_EQ(on_port, kMatching) << "of them UDP :4791";

    EXPECT_EQ(s.Counter("redirected"), kMatching * run);
    EXPECT_EQ(s.Counter("pass_no_match"), kOther * run);
    EXPECT_EQ(s.Counter("pass_no_socket"), 0u);
    EXPECT_EQ(s.Counter("redirect_failed"), 0u);
    // The application is gone: its socket left the map, xskit stays.
    EXPECT_TRUE(s.WaitSocket(false, 5s)) << "the socket is still in the XSKMAP after exit";
    EXPECT_EQ(s.XdpProgId(), prog_id) << "xskit's program was replaced or detached";
    nlohmann::json st = s.Status();
    EXPECT_TRUE(st["interfaces"][0]["attached"].get<bool>()) << st.dump();
    EXPECT_EQ(st["interfaces"][0]["prog_id"].get<uint32_t>(), prog_id);
    EXPECT_TRUE(std::filesystem::exists(s.XsksMapPin()));
  }
  testing::CmdResult d = s.Loader({"detach", pair.dev_a()});
  EXPECT_EQ(d.status, 0) << d.output;
  EXPECT_EQ(s.XdpProgId(), 0u);
}

}  // namespace
}  // namespace xskit
