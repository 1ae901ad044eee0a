// Tier `triage`, end to end: two groups of real AF_XDP transmitters, a real
// xsk-exporter, a real Prometheus scraping it and evaluating the rules, and
// xsk-triage naming the signal that differs. Two namespace pairs under one
// pin root (one exporter serves both); Prometheus scrapes the exporter as
// two jobs, each keeping only its own namespace's series, so each group is
// one host with one queue:
//   baseline (rollout=stable): a socket that reaps its completion ring;
//   canary   (rollout=canary): a socket that never reaps it, so once the
//            completion ring is full every sendmsg fails with EAGAIN, cause
//            cq_full.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <tuple>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "xsk/xsk_socket.h"
#include "nlohmann/json.hpp"
#include "selftests/dashboards/harness.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/paths.h"

namespace xskit::testing {
namespace {

// One namespace pair with xsk-loader attached on dev_a (pin root shared)
// and a socket on queue 0 transmitting 32-frame batches every 5 ms.
class Transmitter {
 public:
  Transmitter(const std::string& pin_root, bool reap) : reap_(reap) {
    CmdResult r = RunCmd({Bin("loader/xsk-loader"), "--pin-root", pin_root, "attach", net_.dev_a(),
                          "--match", "udp:4791"},
                         net_.ns_a());
    if (r.status != 0) {
      error_ = "xsk-loader attach: " + r.output;
      return;
    }
    attached_ = pin_root;
    InNetns(net_.ns_a(), [&] {
      auto s = XskSocket::Open(net_.dev_a(), 0, {.pin_root = pin_root});
      if (s.ok())
        sock_ = std::move(*s);
      else
        error_ = absl::StrCat("XskSocket::Open: ", s.status().message());
    });
    if (!sock_) return;
    frame_ = Packet().Eth(net_.mac_b(), net_.mac_a()).IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
                 .Udp(1234, 9).Payload(18).Build();
    thread_ = std::thread([this] { Loop(); });
  }
  ~Transmitter() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    sock_.reset();
    if (!attached_.empty())
      (void)RunCmd({Bin("loader/xsk-loader"), "--pin-root", attached_, "detach", net_.dev_a()}, net_.ns_a());
  }
  const std::string& error() const { return error_; }
  const NetnsPair& net() const { return net_; }

 private:
  void Loop() {
    while (!stop_) {
      sock_->QueueTx(32, frame_.size(), [&](uint32_t, std::span<uint8_t> b) {
        std::memcpy(b.data(), frame_.data(), frame_.size());
      });
      sock_->Kick();
      if (reap_) sock_->Complete();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  bool reap_;
  NetnsPair net_;
  std::string attached_, error_;
  std::unique_ptr<XskSocket> sock_;
  std::vector<uint8_t> frame_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(TriageEndToEndTest, NamesTheCompletionRingSignal) {
  if (::geteuid() != 0) XSKIT_SKIP("needs root (namespaces, XDP, probes)");
  if (RunCmd({"sh", "-c", "command -v prometheus"}).status != 0)
    XSKIT_SKIP("prometheus missing (scripts/install-deps installs it)");
  EnsureBpffs();
  TestPinRoot root("triage");
  const std::string dir = absl::StrCat(testing::BuildDir(), "/triage-e2e-", ::getpid());
  std::filesystem::create_directories(dir + "/tsdb");
  {
    Transmitter baseline(root.path(), /*reap=*/true), canary(root.path(), /*reap=*/false);
    ASSERT_EQ(baseline.error(), "");
    ASSERT_EQ(canary.error(), "");

    const int exporter_port = FreeLoopbackPort();
    Child exporter({Bin("exporter/xsk-exporter"), "--pin-root", root.path(), "--web.listen-address",
                    absl::StrCat("127.0.0.1:", exporter_port)},
                   dir + "/exporter.log");
    const int prom_port = FreeLoopbackPort();
    std::string cfg = absl::StrCat(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - ", testing::SourceDir(), "/dashboards/rules/xskit-triage.rules.yml\n  - ",
        testing::SourceDir(), "/dashboards/rules/xskit-recording.rules.yml\n"
        "scrape_configs:\n");
    for (const auto& [job, rollout, other] :
         {std::tuple{"stable", "stable", canary.net().ns_a()}, std::tuple{"canary", "canary", baseline.net().ns_a()}})
      absl::StrAppend(&cfg, "  - job_name: xsk-exporter-", job, "\n    static_configs:\n      - targets: ['127.0.0.1:",
                      exporter_port, "']\n        labels: {instance: host-", job, ", rollout: ", rollout, "}\n",
                      "    metric_relabel_configs:\n      - source_labels: [netns]\n        regex: '", other,
                      "'\n        action: drop\n");
    std::ofstream(dir + "/prometheus.yml") << cfg;
    Child prometheus({"prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
                      absl::StrCat("--web.listen-address=127.0.0.1:", prom_port), "--log.level=warn"},
                     dir + "/prometheus.log");
    // 40 s of scrapes: enough 1 s points of the 5m-window rules in each group.
    std::this_thread::sleep_for(std::chrono::seconds(40));
    std::ofstream(dir + "/triage.yaml") << "min_points: 5\n";
    CmdResult r = RunCmd({Bin("triage/xsk-triage"), "--prometheus", absl::StrCat("http://127.0.0.1:", prom_port),
                          "--baseline", "{rollout=\"stable\"}", "--canary", "{rollout=\"canary\"}",
                          "--start", "-30s", "--end", "now", "--step", "1s", "--config", dir + "/triage.yaml"});
    std::cout << r.output;
    EXPECT_TRUE(r.status == 1 || r.status == 3) << "not PASS, not an error:\n" << r.output;
    bool named = false;
    for (const auto& line : absl::StrSplit(r.output, '\n'))
      if (absl::StrContains(line, "tx_eagain_per_sendmsg{cause=cq_full}") && absl::StrContains(line, "high!"))
        named = true;
    EXPECT_TRUE(named) << "the cq_full row is high for the canary:\n"
                       << r.output << "\nexporter log:\n" << ReadFile(dir + "/exporter.log")
                       << "\nprometheus log:\n" << ReadFile(dir + "/prometheus.log");
    if (!HasFailure()) std::filesystem::remove_all(dir);
  }
  (void)RunCmd({Bin("loader/xsk-loader"), "--pin-root", root.path(), "probes", "detach"});
}

}  // namespace
}  // namespace xskit::testing
