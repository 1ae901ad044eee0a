// Tier `netns`: issue 17 item 4, an upgrade without a blackout
// (docs/DESIGN.md, "Upgrades"). xsk-loader (this build, info version N) and
// xsk-loader-next (the same tree built with XSKIT_INFO_VERSION_BUMP: info
// version N+1) take each other's attach over in place while a socket
// receives a paced stream: not a frame may be lost, and the link and the
// XSKMAP stay the same kernel objects. A crash at either commit point of the
// migration leaves a working attach; pins it cannot take over are refused
// with exit 14 and left as they were.
#include <bpf/bpf.h>
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "exporter/collector.h"
#include "prometheus/metric_family.h"
#include "gtest/gtest.h"
#include "lib/errors.h"
#include "lib/fd.h"
#include "lib/xsk_steer_prog.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"
#include "xsk/xsk_socket.h"

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::NetnsPair;
using testing::RunCmd;

constexpr const char* kNext = "selftests/xsk-loader-next";
constexpr const char* kThis = "loader/xsk-loader";

class UpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::EnsureBpffs(); }

  // `loader` (kThis or kNext) with ARGS under this test's pin root, in ns a.
  CmdResult Run(const char* loader, std::vector<std::string> args) {
    std::vector<std::string> argv = {Bin(loader), "--pin-root", root_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, pair_.ns_a());
  }
  CmdResult Attach(const char* loader, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = env.empty() ? std::vector<std::string>{}
                                                : std::vector<std::string>{"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {Bin(loader), "--pin-root", root_.path(), "attach", pair_.dev_a(),
                             "--match", "udp:4791", "--no-probes"});
    return RunCmd(argv, pair_.ns_a());
  }
  nlohmann::json Status(const char* loader) {
    CmdResult r = Run(loader, {"status", pair_.dev_a(), "--json"});
    EXPECT_EQ(r.status, 0) << loader << " status: " << r.output;
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (j.is_discarded() || !j.contains("interfaces") || j["interfaces"].empty()) return {};
    return j["interfaces"][0];
  }
  std::string Dir() { return root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a(); }
  // The kernel id of the pinned XSKMAP.
  uint32_t XsksMapId() {
    Fd fd(bpf_obj_get((Dir() + "/xsks_map").c_str()));
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (!fd.valid() || bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
    return info.id;
  }
  // The XDP program id the device runs (0: none).
  uint32_t DeviceProgId() {
    CmdResult r = RunCmd({"ip", "-j", "-d", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a());
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (!j.is_array() || j.empty() || !j[0].contains("xdp")) return 0;
    return j[0]["xdp"]["prog"]["id"].get<uint32_t>();
  }
  // Entries under <root>/if, staging directories included.
  std::vector<std::string> IfEntries() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_.path() + "/if", ec))
      out.push_back(e.path().filename().string());
    return out;
  }

  testing::TestPinRoot root_;
  NetnsPair pair_;
};

// What an exporter of this build reports for dev a: redirected frames
// (absent when it does not export the interface) and its steer_open errors.
struct Exported {
  std::optional<double> redirected;
  double steer_open_errors = 0;
};
Exported Scrape(const exporter::XskCollector& c, const NetnsPair& pair) {
  Exported e;
  for (const auto& f : c.Collect()) {
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> l;
      for (const auto& p : m.label) l[p.name] = p.value;
      if (f.name == "xsk_steer_packets_total" && l["ifname"] == pair.dev_a() &&
          l["netns"] == pair.ns_a() && l["outcome"] == "redirected")
        e.redirected = e.redirected.value_or(0) + m.counter.value;
      if (f.name == "xsk_exporter_scrape_errors_total" && l["source"] == "steer_open")
        e.steer_open_errors += m.counter.value;
    }
  }
  return e;
}

// A paced stream of matching frames from ns b (one every `period`) and the
// socket's receiver, both in threads until Stop().
class Stream {
 public:
  Stream(const NetnsPair& pair, XskSocket& sock, std::chrono::microseconds period)
      : frames_(testing::UdpFrames(pair, 500, 4791)), sock_(sock) {
    receiver_ = std::thread([this] {
      while (!stop_rx_.load()) {
        auto n = sock_.Receive(20, [](std::span<const uint8_t>) {});
        if (!n.ok()) {
          rx_error_ = std::string(n.status().message());
          return;
        }
        received_ += *n;
      }
    });
    sender_ = std::thread([this, &pair, period] {
      absl::Status st = sandbox::InNetns(pair.ns_b(), [&]() -> absl::Status {
        Fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
        if (!fd.valid()) return ErrnoError("socket(AF_PACKET)", errno);
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_ifindex = static_cast<int>(if_nametoindex(pair.dev_b().c_str()));
        sll.sll_halen = 6;
        auto next = std::chrono::steady_clock::now();
        for (size_t i = 0; !stop_tx_.load(); i++) {
          const auto& f = frames_[i % frames_.size()];
          std::copy(f.begin(), f.begin() + 6, sll.sll_addr);
          if (::sendto(fd.get(), f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&sll),
                       sizeof(sll)) != static_cast<ssize_t>(f.size()))
            return ErrnoError("AF_PACKET sendto", errno);
          sent_++;
          next += period;
          std::this_thread::sleep_until(next);
        }
        return absl::OkStatus();
      });
      if (!st.ok()) tx_error_ = std::string(st.message());
    });
  }
  ~Stream() { Stop(); }

  // Stops sending, then receives until every frame sent came (or 10 s).
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    stop_tx_ = true;
    sender_.join();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (received_.load() < sent_.load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // one more would show
    stop_rx_ = true;
    receiver_.join();
  }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }
  const std::string& tx_error() const { return tx_error_; }
  const std::string& rx_error() const { return rx_error_; }

 private:
  std::vector<std::vector<uint8_t>> frames_;
  XskSocket& sock_;
  std::atomic<bool> stop_tx_{false}, stop_rx_{false};
  std::atomic<uint64_t> sent_{0}, received_{0};
  std::string tx_error_, rx_error_;
  bool stopped_ = false;
  std::thread receiver_, sender_;
};

TEST_F(UpgradeTest, UpgradeAndDowngradeInPlaceLoseNoFrame) {
  const uint32_t n = SteerInfoVersion();
  CmdResult a = Attach(kThis);
  ASSERT_EQ(a.status, 0) << a.output;
  nlohmann::json before = Status(kThis);
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(before["info_version"].get<uint32_t>(), n);
  const uint32_t xsks_id = XsksMapId();
  ASSERT_NE(xsks_id, 0u);
  auto sock = testing::OpenSocketIn(pair_.ns_a(), pair_.dev_a(), 0, root_.path());
  ASSERT_TRUE(sock);
  // An exporter of this build, running through both swaps.
  exporter::XskCollector exporter({.pin_root = root_.path()});
  exporter.Prime();
  ASSERT_EQ(Scrape(exporter, pair_).redirected, 0.0);

  // 1000 frames a second: the loader's whole run (load, verify, swap,
  // re-pin) happens while frames arrive.
  Stream stream(pair_, *sock, std::chrono::microseconds(1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  CmdResult up = Attach(kNext);
  EXPECT_EQ(up.status, 0) << up.output;
  EXPECT_NE(up.output.find("migrated in place"), std::string::npos) << up.output;
  EXPECT_NE(up.output.find("an upgrade"), std::string::npos) << up.output;
  EXPECT_NE(up.output.find("counters carried over"), std::string::npos) << up.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  nlohmann::json mid = Status(kNext);
  ASSERT_FALSE(mid.empty());
  EXPECT_EQ(mid["info_version"].get<uint32_t>(), n + 1) << "xsk-loader-next re-pinned the info";
  EXPECT_EQ(mid["migrated_from"].get<uint32_t>(), n);
  EXPECT_FALSE(mid["counters_restarted"].get<bool>());
  EXPECT_EQ(mid["link_id"], before["link_id"]) << "the same link";
  EXPECT_NE(mid["prog_id"], before["prog_id"]) << "the new program swapped in";
  EXPECT_EQ(DeviceProgId(), mid["prog_id"].get<uint32_t>());
  EXPECT_EQ(XsksMapId(), xsks_id) << "the same XSKMAP";
  EXPECT_TRUE(mid["queues"][0]["socket"].get<bool>()) << "the socket stays registered";
  // The older loader reads none of it now, and says why.
  CmdResult old_status = Run(kThis, {"status", pair_.dev_a()});
  EXPECT_EQ(old_status.status, static_cast<int>(ExitCode::kForeignPin)) << old_status.output;
  EXPECT_NE(old_status.output.find("a newer xskit"), std::string::npos) << old_status.output;
  // So does the exporter of this build: the interface goes, with a
  // steer_open error (the package restarts the exporter right after).
  Exported during = Scrape(exporter, pair_);
  EXPECT_FALSE(during.redirected.has_value()) << "an older exporter exports newer pins";
  EXPECT_GE(during.steer_open_errors, 1.0);

  // Back to this build: the downgrade works the same way.
  CmdResult down = Attach(kThis);
  EXPECT_EQ(down.status, 0) << down.output;
  EXPECT_NE(down.output.find("migrated in place"), std::string::npos) << down.output;
  EXPECT_NE(down.output.find("a downgrade"), std::string::npos) << down.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stream.Stop();
  ASSERT_EQ(stream.tx_error(), "");
  ASSERT_EQ(stream.rx_error(), "");

  RecordProperty("frames_sent", static_cast<int>(stream.sent()));
  RecordProperty("frames_received", static_cast<int>(stream.received()));
  EXPECT_GT(stream.sent(), 100u) << "the stream ran";
  EXPECT_EQ(stream.received(), stream.sent()) << "frames lost at the socket";
  auto stats = sock->Statistics();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rx_dropped, 0u);
  EXPECT_EQ(stats->rx_ring_full, 0u);
  nlohmann::json after = Status(kThis);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after["info_version"].get<uint32_t>(), n);
  EXPECT_EQ(after["migrated_from"].get<uint32_t>(), n + 1);
  EXPECT_EQ(after["link_id"], before["link_id"]);
  EXPECT_EQ(XsksMapId(), xsks_id);
  // Counted once each, across both swaps: the counters came along.
  EXPECT_EQ(after["queues"][0]["redirected"].get<uint64_t>(), stream.sent());
  EXPECT_EQ(after["queues"][0]["pass_no_socket"].get<uint64_t>(), 0u);
  // The same exporter picks the interface up again, its counter continuing.
  EXPECT_EQ(Scrape(exporter, pair_).redirected, static_cast<double>(stream.sent()));
  for (const auto& e : IfEntries()) EXPECT_NE(e[0], ':') << "staging left behind: " << e;

  sock.reset();
  CmdResult d = Run(kThis, {"detach", pair_.dev_a()});
  EXPECT_EQ(d.status, 0) << d.output;
  EXPECT_EQ(DeviceProgId(), 0u);
  EXPECT_FALSE(testing::PinsLeft(root_.path())) << "pins left under " << root_.path();
}

// A loader killed between the swap and the re-pin, or after the re-pin
// before it removed the old pins: the device keeps a working program, and
// the next attach finishes the job.
TEST_F(UpgradeTest, CrashMidMigrationLeavesAWorkingAttach) {
  ASSERT_EQ(Attach(kThis).status, 0);
  const uint32_t link_id = Status(kThis)["link_id"].get<uint32_t>();
  const uint32_t xsks_id = XsksMapId();
  auto sock = testing::OpenSocketIn(pair_.ns_a(), pair_.dev_a(), 0, root_.path());
  ASSERT_TRUE(sock);
  uint64_t sent = 0;
  auto receives = [&](const char* when) {
    testing::SendFrames(pair_.ns_b(), pair_.dev_b(), testing::UdpFrames(pair_, 10, 4791));
    sent += 10;
    EXPECT_EQ(testing::ReceiveAll(*sock, 10), 10u) << when;
  };
  for (const char* fp : {"after-link-update", "after-exchange"}) {
    SCOPED_TRACE(fp);
    CmdResult crashed = Attach(kNext, {std::string("XSKIT_FAILPOINT=") + fp});
    ASSERT_EQ(crashed.status, 99) << crashed.output;
    EXPECT_NE(DeviceProgId(), 0u) << "no program on the device after the crash";
    receives("right after the crash");
    CmdResult again = Attach(kNext);
    EXPECT_EQ(again.status, 0) << again.output;
    // after-exchange: the pins are already the next version's, with its program.
    EXPECT_NE(again.output.find(std::string(fp) == "after-link-update" ? "migrated in place"
                                                                       : "already attached"),
              std::string::npos)
        << again.output;
    for (const auto& e : IfEntries()) EXPECT_NE(e[0], ':') << "staging left behind: " << e;
    nlohmann::json st = Status(kNext);
    ASSERT_FALSE(st.empty());
    EXPECT_EQ(st["link_id"].get<uint32_t>(), link_id);
    EXPECT_EQ(XsksMapId(), xsks_id);
    EXPECT_EQ(DeviceProgId(), st["prog_id"].get<uint32_t>());
    receives("after the next attach");
    EXPECT_EQ(st["queues"][0]["redirected"].get<uint64_t>(), sent - 10);
    // Back to this build for the next round.
    CmdResult back = Attach(kThis);
    ASSERT_EQ(back.status, 0) << back.output;
  }
  sock.reset();
  EXPECT_EQ(Run(kThis, {"detach", pair_.dev_a()}).status, 0);
  EXPECT_FALSE(testing::PinsLeft(root_.path()));
}

// Another version's pins whose XSKMAP is not the stable one cannot be taken
// over: exit 14, a message saying how to proceed, and nothing changed; then
// `detach --force` removes them.
TEST_F(UpgradeTest, PinsThatCannotBeTakenOverAreRefusedAndLeft) {
  ASSERT_EQ(Attach(kThis).status, 0);
  const uint32_t prog = DeviceProgId();
  ASSERT_NE(prog, 0u);
  auto place = [&](const char* pin, uint32_t value_size, const void* value) {
    std::filesystem::remove(Dir() + "/" + pin);
    Fd fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, "other", 4, value_size, 1, nullptr));
    ASSERT_TRUE(fd.valid()) << "bpf_map_create: " << errno;
    uint32_t key = 0;
    ASSERT_EQ(bpf_map_update_elem(fd.get(), &key, value, BPF_ANY), 0);
    ASSERT_EQ(bpf_obj_pin(fd.get(), (Dir() + "/" + pin).c_str()), 0) << pin;
  };
  xsk_steer_info future{};
  future.version = 99;
  place("steer_info", sizeof(future) + 16, &future);
  uint32_t zero = 0;
  place("xsks_map", 4, &zero);
  auto pins = [&] {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(Dir())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  const auto before = pins();

  CmdResult r = Attach(kThis);
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kCannotMigrate)) << r.output;
  EXPECT_NE(r.output.find("info version 99"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("xsk-loader detach IFACE --force"), std::string::npos) << r.output;
  EXPECT_EQ(DeviceProgId(), prog) << "the running program changed";
  EXPECT_EQ(pins(), before) << "the pins changed";
  for (const auto& e : IfEntries()) EXPECT_NE(e[0], ':') << "staging left behind: " << e;

  CmdResult plain = Run(kThis, {"detach", pair_.dev_a()});
  EXPECT_EQ(plain.status, static_cast<int>(ExitCode::kForeignPin)) << plain.output;
  EXPECT_NE(plain.output.find("--force"), std::string::npos) << plain.output;
  EXPECT_EQ(DeviceProgId(), prog);
  CmdResult forced = Run(kThis, {"detach", pair_.dev_a(), "--force"});
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_EQ(DeviceProgId(), 0u) << "XDP still on the device after detach --force";
  EXPECT_FALSE(testing::PinsLeft(root_.path()));
}

}  // namespace
}  // namespace xskit
