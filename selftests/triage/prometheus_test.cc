// Tier `triage`: xsk-triage against a real Prometheus serving generated
// ground truth. The test writes OpenMetrics for three scenarios (6 baseline
// + 6 canary hosts each, 2 h 10 min at 30 s, fixed seed, noise on every
// rate), backfills them with `promtool tsdb create-blocks-from openmetrics`,
// starts Prometheus on loopback, backfills the recording rules with
// `promtool tsdb create-blocks-from rules`, restarts it with both, and runs
// the binary:
//   injected: canary cq_full EAGAIN per sendmsg x3, descriptors per sendmsg
//             +2 % (within the 5 % effect size), the steering program's BPF
//             stats only in the baseline -> exact verdicts, MARGINAL (exit 3)
//   clean:    the same noise, no change -> every judged row passes, PASS (0)
//   critical: redirect failures per packet x3 (critical), nothing else -> FAIL (1)
// and against a closed loopback port: exit 4 naming the URL.
#include <crypt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/dashboards/harness.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/paths.h"

namespace xskit::testing {
namespace {

constexpr int kHostsPerGroup = 6;
constexpr int kStepSeconds = 30;
constexpr int kSteps = 260;  // 2 h 10 min: 10 min of rate() warm-up, then the 2 h window

struct Scenario {
  std::string name;
  double cq_full_factor = 1, descriptors_factor = 1, redirect_failed_factor = 1;
  bool prog_stats_in_canary = true;
};
const Scenario kScenarios[] = {
    {"injected", 3.0, 1.02, 1.0, false},
    {"clean", 1.0, 1.0, 1.0, true},
    {"critical", 1.0, 1.0, 3.0, true},
};

// One counter series: its label set and cumulative values per step.
struct Counter {
  std::string labels;
  std::vector<double> values;
};

std::string Fmt(double v) { return absl::StrFormat("%.17g", v); }

// Writes the OpenMetrics text: every series contiguous, timestamps rising.
std::string Generate(double t0) {
  std::mt19937_64 rng(18);  // fixed seed: the same data every run
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> uni(0, 1);
  std::map<std::string, std::vector<Counter>> families;  // family -> series
  std::vector<std::string> infos;
  auto jitter = [&](double sd) { return std::max(0.0, 1 + sd * noise(rng)); };

  for (const auto& sc : kScenarios) {
    for (int g = 0; g < 2; g++) {
      const bool canary = g == 1;
      for (int h = 1; h <= kHostsPerGroup; h++) {
        const std::string instance = absl::StrCat(sc.name, "-", canary ? "c" : "b", h);
        const std::string host = absl::StrCat("instance=\"", instance, "\",job=\"xsk-exporter\",rollout=\"",
                                              canary ? "canary" : "stable", "\",scenario=\"", sc.name, "\"");
        infos.push_back(absl::StrCat("{", host, ",kernel=\"", canary ? "6.12.0" : "6.1.0",
                                     "\",version=\"0.1.0\",libbpf=\"1.1.0\"}"));
        const double load = 0.5 + uni(rng);          // hosts carry different traffic
        const double host_bias = 1 + 0.04 * (uni(rng) - 0.5);  // +/- 2 % per host
        for (int q = 0; q < 2; q++) {
          const std::string ql = absl::StrCat(host, ",ifname=\"eth0\",queue=\"", q, "\"");
          const std::string steer = absl::StrCat(ql, ",driver=\"veth\",mode=\"native\"");
          Counter redirected{absl::StrCat(steer, ",outcome=\"redirected\"")},
              nomatch{absl::StrCat(steer, ",outcome=\"pass_no_match\"")},
              failed{absl::StrCat(steer, ",outcome=\"redirect_failed\"")}, calls{ql}, dsum{ql},
              eagain_cq{absl::StrCat(ql, ",cause=\"cq_full\",errno=\"EAGAIN\"")},
              eagain_budget{absl::StrCat(ql, ",cause=\"budget\",errno=\"EAGAIN\"")};
          double acc[7] = {0};
          for (int s = 0; s < kSteps; s++) {
            const double pps = 1000 * load * jitter(0.1);
            const double call_rate = 100 * load * jitter(0.1);
            acc[0] += kStepSeconds * pps * 0.95 * jitter(0.01);
            acc[1] += kStepSeconds * pps * 0.049 * jitter(0.05);
            acc[2] += kStepSeconds * pps * 0.001 * host_bias * jitter(0.05) *
                      (canary ? sc.redirect_failed_factor : 1);
            acc[3] += kStepSeconds * call_rate;
            acc[4] += kStepSeconds * call_rate * 32 * host_bias * jitter(0.03) *
                      (canary ? sc.descriptors_factor : 1);
            acc[5] += kStepSeconds * call_rate * 0.01 * host_bias * jitter(0.05) *
                      (canary ? sc.cq_full_factor : 1);
            acc[6] += kStepSeconds * call_rate * 0.05 * host_bias * jitter(0.05);
            redirected.values.push_back(std::round(acc[0]));
            nomatch.values.push_back(std::round(acc[1]));
            failed.values.push_back(std::round(acc[2]));
            calls.values.push_back(std::round(acc[3]));
            dsum.values.push_back(std::round(acc[4]));
            eagain_cq.values.push_back(std::round(acc[5]));
            eagain_budget.values.push_back(std::round(acc[6]));
          }
          for (auto* c : {&redirected, &nomatch, &failed}) families["xsk_steer_packets"].push_back(*c);
          families["xsk_tx_sendmsg_calls"].push_back(calls);
          families["xsk_tx_sendmsg_errors"].push_back(eagain_cq);
          families["xsk_tx_sendmsg_errors"].push_back(eagain_budget);
          // The histogram's _sum/_count/+Inf bucket (kept in "hist" below).
          families["hist_sum"].push_back(dsum);
          families["hist_count"].push_back(calls);
        }
        // Interface level: drops and the steering program's run time.
        const std::string il = absl::StrCat(host, ",ifname=\"eth0\"");
        Counter drops{absl::StrCat(il, ",reason=\"NO_SOCKET\",xsk=\"false\"")};
        Counter run_s{absl::StrCat(il, ",driver=\"veth\",mode=\"native\"")}, runs{run_s.labels};
        double d = 0, rs = 0, rn = 0;
        for (int s = 0; s < kSteps; s++) {
          const double pps = 2000 * load * jitter(0.1);
          d += kStepSeconds * pps * 0.002 * host_bias * jitter(0.05);
          rn += kStepSeconds * pps;
          rs += kStepSeconds * pps * 100e-9 * host_bias * jitter(0.03);
          drops.values.push_back(std::round(d));
          runs.values.push_back(std::round(rn));
          run_s.values.push_back(rs);
        }
        families["xsk_skb_drops"].push_back(drops);
        if (!canary || sc.prog_stats_in_canary) {
          families["xsk_steer_prog_run_seconds"].push_back(run_s);
          families["xsk_steer_prog_runs"].push_back(runs);
        }
      }
    }
  }
  std::ostringstream out;
  auto ts = [&](int s) { return Fmt(t0 + static_cast<double>(s) * kStepSeconds); };
  for (const auto& [family, series] : families) {
    if (family.rfind("hist_", 0) == 0) continue;
    out << "# TYPE " << family << " counter\n";
    for (const auto& c : series)
      for (int s = 0; s < kSteps; s++)
        out << family << "_total{" << c.labels << "} " << Fmt(c.values[s]) << " " << ts(s) << "\n";
  }
  out << "# TYPE xsk_tx_descriptors_per_sendmsg histogram\n";
  const auto& sums = families["hist_sum"];
  const auto& counts = families["hist_count"];
  for (size_t i = 0; i < sums.size(); i++)
    for (int s = 0; s < kSteps; s++) {
      const std::string& l = sums[i].labels;
      out << "xsk_tx_descriptors_per_sendmsg_bucket{" << l << ",le=\"+Inf\"} " << Fmt(counts[i].values[s])
          << " " << ts(s) << "\n";
      out << "xsk_tx_descriptors_per_sendmsg_count{" << l << "} " << Fmt(counts[i].values[s]) << " " << ts(s) << "\n";
      out << "xsk_tx_descriptors_per_sendmsg_sum{" << l << "} " << Fmt(sums[i].values[s]) << " " << ts(s) << "\n";
    }
  out << "# TYPE xsk_exporter_build_info gauge\n";
  for (const auto& labels : infos)
    for (int s = 0; s < kSteps; s++) out << "xsk_exporter_build_info" << labels << " 1 " << ts(s) << "\n";
  out << "# EOF\n";
  return out.str();
}

bool WaitUntil(const std::function<bool()>& cond, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

// The shared Prometheus: built once for the suite.
class TriagePrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (RunCmd({"sh", "-c", "command -v prometheus && command -v promtool"}).status != 0) {
      skip_ = "prometheus/promtool missing (scripts/install-deps installs prometheus)";
      return;
    }
    dir_ = absl::StrCat(testing::BuildDir(), "/triage-test-", ::getpid());
    std::filesystem::create_directories(dir_ + "/tsdb");
    // Whole minutes, ending 10 minutes ago: inside retention, outside the head.
    const double now = std::floor(std::chrono::duration<double>(
                                      std::chrono::system_clock::now().time_since_epoch()).count() / 60) * 60;
    end_ = now - 600;
    t0_ = end_ - (kSteps - 1) * kStepSeconds;
    start_ = t0_ + 600;  // after the 5m rate() warm-up
    std::ofstream(dir_ + "/data.om") << Generate(t0_);
    CmdResult r = RunCmd({"promtool", "tsdb", "create-blocks-from", "openmetrics", dir_ + "/data.om",
                          dir_ + "/tsdb"});
    if (r.status != 0) {
      error_ = "promtool create-blocks-from openmetrics: " + r.output;
      return;
    }
    StartPrometheus();
    if (!error_.empty()) return;
    if (!WaitUntil([] { return Count("xsk_steer_packets_total") > 0; }, 30000)) {
      error_ = "backfilled series not queryable; log:\n" + ReadFile(dir_ + "/prometheus.log");
      return;
    }
    r = RunCmd({"promtool", "tsdb", "create-blocks-from", "rules",
                absl::StrCat("--start=", static_cast<long>(t0_)), absl::StrCat("--end=", static_cast<long>(end_)),
                absl::StrCat("--url=http://127.0.0.1:", port_), "--eval-interval=60s",
                "--output-dir=" + dir_ + "/rules-blocks",
                std::string(testing::SourceDir()) + "/dashboards/rules/xskit-triage.rules.yml",
                std::string(testing::SourceDir()) + "/dashboards/rules/xskit-recording.rules.yml"});
    std::ofstream(dir_ + "/rules-backfill.log") << r.output;
    if (r.status != 0) {
      error_ = "promtool create-blocks-from rules: " + r.output;
      return;
    }
    prometheus_.reset();
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/rules-blocks"))
      std::filesystem::rename(e.path(), dir_ + "/tsdb/" + e.path().filename().string());
    StartPrometheus();
    if (!error_.empty()) return;
    for (const char* rule : {"instance_ifname_queue:xsk_steer_redirected:ratio_rate5m",
                             "instance_ifname_queue_cause:xsk_tx_sendmsg_eagain_per_sendmsg:ratio_rate5m",
                             "instance_ifname:xsk_steer_prog_run_seconds_per_run:ratio_rate5m"})
      if (Count(rule) == 0)
        error_ = absl::StrCat("recording rule ", rule, " not backfilled; promtool said:\n",
                              ReadFile(dir_ + "/rules-backfill.log"));
  }
  // Series of `metric` at the end of the window.
  static int Count(const std::string& metric) {
    HttpReply reply = HttpGet(port_, absl::StrCat("/api/v1/query?time=", static_cast<long>(end_),
                                                  "&query=", UrlEncode("count(" + metric + ")")));
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (j.is_discarded() || !j.contains("data") || j["data"]["result"].empty()) return 0;
    return std::stoi(j["data"]["result"][0]["value"][1].get<std::string>());
  }
  static void TearDownTestSuite() {
    prometheus_.reset();
    if (!dir_.empty() && !::testing::UnitTest::GetInstance()->failed_test_count())
      std::filesystem::remove_all(dir_);
  }
  static void StartPrometheus() {
    port_ = FreeLoopbackPort();
    std::ofstream(dir_ + "/prometheus.yml") << "global:\n  scrape_interval: 1m\n";
    prometheus_ = std::make_unique<Child>(
        std::vector<std::string>{"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir_ + "/tsdb", "--storage.tsdb.retention.time=30d",
                                 absl::StrCat("--web.listen-address=127.0.0.1:", port_), "--log.level=warn"},
        dir_ + "/prometheus.log");
    if (!WaitUntil([] { return HttpGet(port_, "/-/ready").status == 200; }, 60000))
      error_ = "Prometheus not ready in 60 s; log:\n" + ReadFile(dir_ + "/prometheus.log");
  }
  void SetUp() override {
    if (!skip_.empty()) XSKIT_SKIP(skip_);
    ASSERT_TRUE(error_.empty()) << error_;
  }

  struct Run {
    int exit_code = -1;
    nlohmann::json report;
    std::string output;
  };
  static Run Triage(const std::string& scenario, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        Bin("triage/xsk-triage"), "--prometheus", absl::StrCat("http://127.0.0.1:", port_),
        "--baseline", absl::StrCat("{rollout=\"stable\",scenario=\"", scenario, "\"}"),
        "--canary", absl::StrCat("{rollout=\"canary\",scenario=\"", scenario, "\"}"),
        "--start", absl::StrCat(static_cast<long>(start_)), "--end", absl::StrCat(static_cast<long>(end_)),
        "--step", "60s", "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string out = dir_ + "/triage-" + scenario + ".out";
    std::string cmd;
    for (const auto& a : argv) absl::StrAppend(&cmd, "'", a, "' ");
    Run r;
    CmdResult c = RunCmd({"sh", "-c", cmd + " >" + out + " 2>" + out + ".err"});
    r.exit_code = c.status;
    r.output = ReadFile(out) + ReadFile(out + ".err");
    r.report = nlohmann::json::parse(ReadFile(out), nullptr, false);
    return r;
  }
  // name -> verdict ("high!" when the change goes the bad way).
  static std::map<std::string, std::string> Verdicts(const nlohmann::json& report) {
    std::map<std::string, std::string> out;
    for (const auto& s : report["signals"])
      out[s["name"].get<std::string>()] = s["verdict"].get<std::string>() + (s["worse"].get<bool>() ? "!" : "");
    return out;
  }
  // The rows every scenario shares: nothing measures them here.
  static std::map<std::string, std::string> Unmeasured() {
    return {{"tx_completion_latency_p99", "nodata"},
            {"socket_fill_ring_empty_per_packet", "nodata"},
            {"socket_rx_ring_full_per_packet", "nodata"},
            {"socket_invalid_descriptors_per_packet", "nodata"},
            {"sockets_copy_mode_zerocopy_capable", "nodata"},
            {"probe_coverage", "nodata"}};
  }

  static inline std::string skip_, error_, dir_;
  static inline double t0_ = 0, start_ = 0, end_ = 0;
  static inline int port_ = 0;
  static inline std::unique_ptr<Child> prometheus_;
};

TEST_F(TriagePrometheusTest, InjectedChangesGetExactlyTheirVerdicts) {
  Run r = Triage("injected");
  ASSERT_FALSE(r.report.is_discarded()) << r.output;
  auto expected = Unmeasured();
  expected.insert({{"steer_redirected_share", "pass"},
                   {"steer_redirect_failures_per_packet", "pass"},
                   {"tx_descriptors_per_sendmsg", "pass"},  // +2 %: within the 5 % effect size
                   {"tx_eagain_per_sendmsg{cause=budget}", "pass"},
                   {"tx_eagain_per_sendmsg{cause=cq_full}", "high!"},  // x3
                   {"skb_drops_per_packet{xsk=false,reason=NO_SOCKET}", "pass"},
                   {"steer_prog_seconds_per_run", "nodata"}});
  EXPECT_EQ(Verdicts(r.report), expected) << r.output;
  for (const auto& s : r.report["signals"]) {
    if (s["name"] == "steer_prog_seconds_per_run") {
      EXPECT_EQ(s["coverage"], "baseline only") << "reported, never judged as equal";
    }
    if (s["name"] == "tx_eagain_per_sendmsg{cause=cq_full}") {
      EXPECT_NEAR(s["relative"]["estimate"].get<double>(), 2.0, 0.2) << "x3 = +200 %";
      EXPECT_GT(s["relative"]["lower"].get<double>(), 0.1) << "interval above the effect size";
    }
    if (s["name"] == "tx_descriptors_per_sendmsg") {
      EXPECT_NEAR(s["relative"]["estimate"].get<double>(), 0.02, 0.01) << "the injected +2 %";
    }
  }
  EXPECT_EQ(r.report["baseline"]["hosts"], kHostsPerGroup);
  EXPECT_EQ(r.report["canary"]["hosts"], kHostsPerGroup);
  // steering 2/2, tx 2/3, drops 1/1: (1 + 2/3 + 1) / 3 = 88.9 -> MARGINAL.
  EXPECT_NEAR(r.report["score"].get<double>(), 100 * (2 + 2.0 / 3) / 3, 0.01);
  EXPECT_EQ(r.report["result"], "MARGINAL");
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST_F(TriagePrometheusTest, NoInjectionPasses) {
  Run r = Triage("clean");
  ASSERT_FALSE(r.report.is_discarded()) << r.output;
  auto expected = Unmeasured();
  expected.insert({{"steer_redirected_share", "pass"},
                   {"steer_redirect_failures_per_packet", "pass"},
                   {"tx_descriptors_per_sendmsg", "pass"},
                   {"tx_eagain_per_sendmsg{cause=budget}", "pass"},
                   {"tx_eagain_per_sendmsg{cause=cq_full}", "pass"},
                   {"skb_drops_per_packet{xsk=false,reason=NO_SOCKET}", "pass"},
                   {"steer_prog_seconds_per_run", "pass"}});
  EXPECT_EQ(Verdicts(r.report), expected) << r.output;
  EXPECT_EQ(r.report["score"], 100.0);
  EXPECT_EQ(r.report["result"], "PASS");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(TriagePrometheusTest, CriticalRegressionFailsTheRun) {
  Run r = Triage("critical");
  ASSERT_FALSE(r.report.is_discarded()) << r.output;
  auto v = Verdicts(r.report);
  EXPECT_EQ(v["steer_redirect_failures_per_packet"], "high!") << r.output;
  int worse = 0;
  for (const auto& [name, verdict] : v) worse += verdict.back() == '!';
  EXPECT_EQ(worse, 1) << "everything else passes:\n" << r.output;
  EXPECT_EQ(r.report["result"], "FAIL");
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST_F(TriagePrometheusTest, TextReportAndBadSelector) {
  std::vector<std::string> argv = {
      Bin("triage/xsk-triage"), "--prometheus", absl::StrCat("http://127.0.0.1:", port_),
      "--baseline", "{rollout=\"stable\",scenario=\"injected\"}", "--canary",
      "{rollout=\"canary\",scenario=\"injected\"}", "--start", absl::StrCat(static_cast<long>(start_)),
      "--end", absl::StrCat(static_cast<long>(end_))};
  CmdResult text = RunCmd(argv);
  std::cout << text.output;  // what a user sees, in the test log
  EXPECT_EQ(text.status, 3) << text.output;
  EXPECT_NE(text.output.find("tx_eagain_per_sendmsg{cause=cq_full}"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("MARGINAL"), std::string::npos) << text.output;
  // A selector Prometheus cannot parse: exit 4 with Prometheus' own error.
  argv[4] = "{rollout=~\"(\"}";
  CmdResult bad = RunCmd(argv);
  EXPECT_EQ(bad.status, 4) << bad.output;
  EXPECT_NE(bad.output.find("bad_data"), std::string::npos) << bad.output;
}

// Prometheus behind its own web config (TLS with a self-signed certificate
// for 127.0.0.1, basic auth with a bcrypt hash): the client's TLS and basic
// auth from --http.config.file, and the errors when they are wrong.
TEST(TriageTlsTest, BasicAuthAndTlsFromTheHttpConfig) {
  if (RunCmd({"sh", "-c", "command -v prometheus && command -v openssl && command -v curl"}).status != 0)
    XSKIT_SKIP("prometheus, openssl or curl missing (scripts/install-deps)");
  const std::string dir = absl::StrCat(testing::BuildDir(), "/triage-tls-", ::getpid());
  std::filesystem::create_directories(dir + "/tsdb");
  CmdResult cert = RunCmd({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-days", "1", "-subj", "/CN=xsk-triage-test", "-addext",
                           "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/tls.key", "-out", dir + "/tls.crt"});
  ASSERT_EQ(cert.status, 0) << cert.output;
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  const std::string hash = crypt_r("s3cret", salt, &data);
  std::ofstream(dir + "/web.yml") << "tls_server_config:\n  cert_file: " << dir << "/tls.crt\n  key_file: " << dir
                                  << "/tls.key\nbasic_auth_users:\n  triage: " << hash << "\n";
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1m\n";
  const int port = FreeLoopbackPort();
  const std::string url = absl::StrCat("https://127.0.0.1:", port);
  {
    Child prom({"prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
                "--web.config.file=" + dir + "/web.yml", absl::StrCat("--web.listen-address=127.0.0.1:", port),
                "--log.level=warn"},
               dir + "/prometheus.log");
    ASSERT_TRUE(WaitUntil([&] {
      return RunCmd({"curl", "-sf", "-o", "/dev/null", "--cacert", dir + "/tls.crt", "-u", "triage:s3cret",
                     url + "/-/ready"}).status == 0;
    }, 60000)) << ReadFile(dir + "/prometheus.log");
    auto triage = [&](const std::string& http_config) {
      std::ofstream(dir + "/http.yml") << http_config;
      return RunCmd({Bin("triage/xsk-triage"), "--prometheus", url, "--baseline", "{rollout=\"stable\"}",
                     "--canary", "{rollout=\"canary\"}", "--retries", "0", "--http.config.file", dir + "/http.yml"});
    };
    const std::string tls = "tls_config: {ca_file: " + dir + "/tls.crt}\n";
    CmdResult ok = triage("basic_auth: {username: triage, password: s3cret}\n" + tls);
    // An empty TSDB: both groups match no host, every row nodata, and the
    // critical rows' nodata policy (marginal) keeps it from passing.
    EXPECT_EQ(ok.status, 3) << ok.output;
    EXPECT_NE(ok.output.find("baseline selector {rollout=\"stable\"} matches no host"), std::string::npos)
        << ok.output;
    CmdResult wrong = triage("basic_auth: {username: triage, password: guess}\n" + tls);
    EXPECT_EQ(wrong.status, 4) << wrong.output;
    EXPECT_NE(wrong.output.find("HTTP 401"), std::string::npos) << wrong.output;
    CmdResult untrusted = triage("basic_auth: {username: triage, password: s3cret}\n");
    EXPECT_EQ(untrusted.status, 4) << untrusted.output;
    EXPECT_NE(untrusted.output.find("TLS with Prometheus at " + url), std::string::npos) << untrusted.output;
    CmdResult bad_key = triage("tls_config: {cafile: x}\n");
    EXPECT_EQ(bad_key.status, 2) << bad_key.output;
    EXPECT_NE(bad_key.output.find("unknown key 'cafile'"), std::string::npos) << bad_key.output;
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

TEST(TriageUnreachableTest, ClosedPortExitsFourNamingTheUrl) {
  const int port = FreeLoopbackPort();  // bound and released: nothing listens
  const std::string url = absl::StrCat("http://127.0.0.1:", port);
  CmdResult r = RunCmd({Bin("triage/xsk-triage"), "--prometheus", url, "--baseline", "{rollout=\"stable\"}",
                        "--canary", "{rollout=\"canary\"}", "--retries", "1"});
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find(url), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unreachable"), std::string::npos) << r.output;
}

TEST(TriageUsageTest, BadOptionsExitTwo) {
  CmdResult r = RunCmd({Bin("triage/xsk-triage"), "--prometheus", "http://127.0.0.1:1", "--baseline",
                        "rollout=stable", "--canary", "{rollout=\"canary\"}"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--baseline"), std::string::npos) << r.output;
  CmdResult help = RunCmd({Bin("triage/xsk-triage"), "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("EXIT STATUS"), std::string::npos) << "man-style help";
}

}  // namespace
}  // namespace xskit::testing
