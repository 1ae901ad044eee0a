// `xsk-loader top` in a real terminal (tmux on a private server socket):
// it shows the workload's interface with non-zero rates, and `q` or Ctrl-C
// ends it with status 0 and the normal screen back. Also the pure parts of
// loader/top.h: rates and the worst-first order.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "loader/top.h"
#include "selftests/dashboards/harness.h"
#include "selftests/lib/paths.h"

namespace xskit::testing {
namespace {

class Tmux {
 public:
  Tmux() : socket_(absl::StrCat("xskit-top-", ::getpid())) {}
  ~Tmux() {
    (void)Run({"kill-server"});
    // The server is gone; its socket file stays behind unless removed.
    std::remove(absl::StrCat("/tmp/tmux-", ::getuid(), "/", socket_).c_str());
    for (const char* s : {"top", "top2"}) std::remove(StatusFile(s).c_str());
  }
  CmdResult Run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"tmux", "-L", socket_, "-f", "/dev/null"});
    return RunCmd(args);
  }
  std::string Capture(const std::string& session) const {
    return Run({"capture-pane", "-p", "-t", session}).output;
  }
  // The exit status that Start() had the shell write, "" while running.
  static std::string ExitStatus(const std::string& session) {
    std::string s = ReadFile(StatusFile(session));
    return s.substr(0, s.find('\n'));
  }
  static std::string StatusFile(const std::string& session) {
    return absl::StrCat(testing::BuildDir(), "/top-test-", ::getpid(), "-", session, ".status");
  }

 private:
  std::string socket_;
};

// The row of `label` queue 0 as whitespace-separated fields, or empty.
std::vector<std::string> QueueRow(const std::string& screen, const std::string& label) {
  for (absl::string_view line : absl::StrSplit(screen, '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() >= 12 && f[0] == label && f[1] == "0") return f;
  }
  return {};
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  for (int t = 0; t < timeout_ms; t += 100) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) XSKIT_SKIP("needs root (namespaces, XDP)");
    if (RunCmd({"sh", "-c", "command -v tmux"}).status != 0) FAIL() << "tmux missing (scripts/install-deps)";
    EnsureBpffs();
    work_ = std::make_unique<Workload>();
    ASSERT_TRUE(work_->ok()) << work_->error();
    ASSERT_TRUE(WaitFor([&] { return work_->received() > 0; }, 5000)) << "steered traffic reaches the socket";
  }
  void TearDown() override { work_.reset(); }

  // Starts top in session `s`; returns once a frame with rates is on screen.
  void Start(const Tmux& tmux, const std::string& s) {
    // top in the foreground of the pane's terminal; the shell records how it
    // ended and stays (remain-on-exit) so the screen can be read afterwards.
    std::remove(Tmux::StatusFile(s).c_str());
    std::string cmd = absl::StrCat(Bin("loader/xsk-loader"), " --pin-root ", work_->pin_root(),
                                   " top --interval 1; echo $? > ", Tmux::StatusFile(s));
    CmdResult r = tmux.Run({"new-session", "-d", "-s", s, "-x", "200", "-y", "50", cmd});
    ASSERT_EQ(r.status, 0) << r.output;
    tmux.Run({"set-option", "-t", s, "remain-on-exit", "on"});
  }

  std::unique_ptr<Workload> work_;
};

TEST_F(TopTest, ShowsTheInterfaceWithNonZeroRatesAndQuitsOnQ) {
  Tmux tmux;
  Start(tmux, "top");
  const std::string label = work_->top_label();
  std::vector<std::string> row;
  std::string screen;
  bool rates = WaitFor([&] {
    screen = tmux.Capture("top");
    row = QueueRow(screen, label);
    return !row.empty() && std::stod(row[2]) > 0 && row[6] != "-" && std::stod(row[6]) > 0;
  }, 8000);
  ASSERT_TRUE(rates) << "a row for " << label << " queue 0 with REDIR/s > 0 and SENDMSG/s > 0; screen:\n"
                     << screen;
  EXPECT_NE(screen.find("probes attached"), std::string::npos) << screen;
  EXPECT_GT(std::stod(row[7]), 1.0) << "descriptors per sendmsg (64-descriptor batches)";
  EXPECT_GT(std::stod(row[8]), 0.0) << "failed sendmsg/s: the first call of each batch hits the budget";
  EXPECT_NE(screen.find("NO_SOCKET"), std::string::npos) << "the unmatched frames' drop reason\n" << screen;

  tmux.Run({"send-keys", "-t", "top", "q"});
  EXPECT_TRUE(WaitFor([&] { return Tmux::ExitStatus("top") == "0"; }, 5000))
      << "top exits with status 0 on q: [" << Tmux::ExitStatus("top") << "]";
  std::string after = tmux.Capture("top");
  EXPECT_EQ(after.find("xsk-loader top:"), std::string::npos)
      << "the alternate screen is left (terminal restored):\n" << after;
}

TEST_F(TopTest, CtrlCQuitsCleanly) {
  Tmux tmux;
  Start(tmux, "top2");
  ASSERT_TRUE(WaitFor([&] { return tmux.Capture("top2").find("xsk-loader top:") != std::string::npos; }, 5000))
      << tmux.Capture("top2");
  tmux.Run({"send-keys", "-t", "top2", "C-c"});
  EXPECT_TRUE(WaitFor([&] { return Tmux::ExitStatus("top2") == "0"; }, 5000))
      << "top exits with status 0 on SIGINT: [" << Tmux::ExitStatus("top2") << "]";
  EXPECT_EQ(tmux.Capture("top2").find("xsk-loader top:"), std::string::npos) << "terminal restored";
}

// The pure part: rates over the interval, counter resets, worst first.
TEST(TopRowsTest, RatesAndWorstFirst) {
  TopSample a, b;
  a.time_s = 10;
  b.time_s = 12;
  a.queues[{"eth0", 0}] = {.redirected = 100};
  b.queues[{"eth0", 0}] = {.redirected = 1100};  // 500 pps, healthy
  a.queues[{"eth0", 1}] = {.redirected = 0, .redirect_failed = 10};
  b.queues[{"eth0", 1}] = {.redirected = 10, .redirect_failed = 30};  // failing: worst
  QueueCounters tx{.has_tx = true, .tx_calls = 50, .tx_descs = 1600, .tx_errors = 20};
  QueueCounters tx0{.has_tx = true, .tx_calls = 10, .tx_descs = 320, .tx_errors = 0};
  a.queues[{"eth1", 3}] = tx0;
  b.queues[{"eth1", 3}] = tx;  // backpressure: second worst
  b.queues[{"eth2", 0}] = {.redirected = 7};  // new queue: rated from zero
  auto rows = ComputeRows(a, b);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].iface + "/" + std::to_string(rows[0].queue), "eth0/1") << "redirect failures first";
  EXPECT_DOUBLE_EQ(rows[0].redirect_failed, 10.0);
  EXPECT_EQ(rows[1].iface, "eth1") << "backpressure second";
  EXPECT_DOUBLE_EQ(rows[1].tx_calls, 20.0);
  EXPECT_DOUBLE_EQ(rows[1].descs_per_call, 32.0);
  EXPECT_DOUBLE_EQ(rows[1].backpressure, 0.5);
  EXPECT_EQ(rows[2].iface + "/" + std::to_string(rows[2].queue), "eth0/0") << "then by traffic";
  EXPECT_DOUBLE_EQ(rows[2].redirected, 500.0);
  EXPECT_DOUBLE_EQ(rows[3].redirected, 3.5);
  // A counter that went backwards (re-attach) counts from zero.
  TopSample c = b;
  c.time_s = 13;
  c.queues[{"eth0", 0}].redirected = 4;
  for (const auto& r : ComputeRows(b, c))
    if (r.iface == "eth0" && r.queue == 0) EXPECT_DOUBLE_EQ(r.redirected, 4.0) << "reset";
}

TEST(TopRowsTest, SampleJoinsProbeRowsToTheirInterface) {
  // The probe rows are named by the attachments (SiteResolver), so a row of
  // (netns inode, ifindex) of veth0 in ns1 lands on veth0@ns1's queue.
  SiteResolver sites({{4026532000, 7, "veth0", "ns1"}}, 4026531840);
  xsk_steer_counters q0{};
  q0.packets[XSK_STEER_REDIRECTED] = 5;
  q0.packets[XSK_STEER_PASS_NO_MATCH] = 1;
  ProbeSnapshot p;
  p.attached = true;
  p.signals.push_back({XSK_PROBES_SIG_LATENCY, XSK_PROBES_MODE_UNAVAILABLE, "off"});
  xsk_probes_tx tx{};
  tx.calls = 3;
  tx.descs = 9;
  tx.errors = 1;
  tx.in_flight = 2;
  p.tx.push_back({sites.Resolve(4026532000, 7), 0, tx});
  p.drops.push_back({sites.Resolve(4026532000, 7), 3, false, "NO_SOCKET", 4});
  TopSample s = SampleOf({{"veth0", "ns1", {q0}}}, p, 1.0);
  ASSERT_EQ(s.queues.size(), 1u) << "the probe row joined veth0@ns1 queue 0";
  const QueueCounters& q = s.queues.begin()->second;
  EXPECT_EQ(std::get<0>(s.queues.begin()->first), "veth0@ns1");
  EXPECT_TRUE(q.has_tx);
  EXPECT_EQ(q.tx_calls, 3u);
  EXPECT_EQ(q.tx_errors, 1u);
  EXPECT_EQ(q.outstanding, 2u);
  EXPECT_EQ((s.drops[{"veth0@ns1", "NO_SOCKET"}]), 4u);
  ASSERT_EQ(s.unavailable_signals.size(), 1u);
  std::string screen = RenderTop(s, ComputeRows(TopSample{}, s), ComputeDrops(TopSample{}, s), 1.0, 40);
  EXPECT_NE(screen.find("veth0@ns1"), std::string::npos) << screen;
  EXPECT_NE(screen.find("completion_latency (off)"), std::string::npos) << screen;
}

TEST(TopRowsTest, ZeroCopyRowsGetTheirOwnTable) {
  // The driver side of a zero-copy queue: 2 s apart, 64 descriptors in 4
  // non-empty batches (6 empty NAPI polls beside), 64 completions, 4 wakeups.
  SiteResolver sites({{4026532000, 7, "eth1", ""}}, 4026531840);
  ProbeSnapshot p;
  p.attached = true;
  xsk_probes_zc z{};
  z.tx_batches = 10;
  z.tx_hist[0] = 6;
  z.tx_descs = 64;
  z.completions = 64;
  z.wakeups_sendmsg = 4;
  z.rx_alloc_empty = 2;
  p.zc.push_back({sites.Resolve(4026532000, 7), 0, z});
  TopSample before;
  before.time_s = 1.0;
  TopSample s = SampleOf({}, p, 3.0);
  auto rows = ComputeRows(before, s);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].has_zc);
  EXPECT_FALSE(rows[0].has_tx) << "no sendmsg row: the copy-mode columns stay empty";
  EXPECT_DOUBLE_EQ(rows[0].zc_descs, 32.0) << "64 descriptors over 2 s";
  EXPECT_DOUBLE_EQ(rows[0].descs_per_batch, 16.0) << "over the 4 batches that took some";
  EXPECT_DOUBLE_EQ(rows[0].zc_wakeups, 2.0);
  EXPECT_DOUBLE_EQ(rows[0].fill_empty, 1.0);
  std::string screen = RenderTop(s, rows, {}, 2.0, 40);
  EXPECT_NE(screen.find("ZERO-COPY IFACE"), std::string::npos) << screen;
  EXPECT_NE(screen.find("DESC/BATCH"), std::string::npos) << screen;
}

}  // namespace
}  // namespace xskit::testing
