// End to end: a real Prometheus (loopback, private TSDB, dashboards/rules
// loaded) scrapes the real xsk-exporter while the Workload runs; every
// query of every panel of every dashboard is evaluated through
// /api/v1/query with its template variables substituted, and must return at
// least one non-NaN sample. A query that returns nothing fails with its
// dashboard, panel title and refId.
//
// Rollout groups: the exporter is scraped as two targets, instance "host-a"
// with target label rollout="a" and "host-b" with rollout="b" (the
// documented scrape-config alternative to the kernel label; one host has one
// kernel). Group b's scrape renames every drop reason to "<reason>_in_b"
// (metric_relabel_configs; kernels do rename reasons between versions), so
// "drop reasons that appear in only one group" has rows for both groups.
// The overview is evaluated for host-b.
//
// Probe coverage: a query that returns nothing passes only when every probe
// signal it reads is reported unavailable by xsk_probe_coverage on that host
// (the panel is empty because the kernel cannot see the signal, which the
// coverage panel shows); those are listed in the output and recorded as the
// test property "unavailable_panels". Nothing else may be empty.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "selftests/dashboards/harness.h"
#include "selftests/lib/paths.h"

namespace xskit::testing {
namespace {

// Metric (or recording rule) -> the probe signals it is made of.
const std::vector<std::pair<std::string, std::vector<std::string>>> kSignalsOf = {
    {"xsk_tx_descriptors_per_sendmsg", {"batch"}},
    {"xsk_tx_sendmsg_calls", {"batch"}},
    {"xsk_tx_descriptors:", {"batch"}},
    {"xsk_tx_descriptors_total", {"batch"}},
    {"xsk_tx_sendmsg_errors", {"backpressure"}},
    {"xsk_tx_backpressure", {"backpressure"}},
    {"xsk_tx_descriptors_outstanding", {"outstanding"}},
    {"xsk_skb_drops", {"drops"}},
    {"xsk_tx_skbs_total", {"skb_build"}},
    {"xsk_skb_alloc_failures_total", {"alloc_fail"}},
    {"xsk_skb_allocs_total", {"bulk_alloc", "napi_build_skb"}},
};

struct QueryResult {
  bool ok = false;       // HTTP 200 and status success
  int samples = 0;       // non-NaN samples
  std::string error;
};

QueryResult Query(int port, const std::string& expr) {
  int status = 0;
  HttpReply reply = HttpGet(port, "/api/v1/query?query=" + UrlEncode(expr));
  status = reply.status;
  std::string body = reply.body;
  QueryResult r;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || j.is_discarded() || j.value("status", "") != "success") {
    r.error = absl::StrCat("HTTP ", status, ": ", body.substr(0, 300));
    return r;
  }
  r.ok = true;
  const auto& data = j["data"];
  auto count = [&](const nlohmann::json& v) {
    double x = std::strtod(v[1].get<std::string>().c_str(), nullptr);
    if (!std::isnan(x)) r.samples++;
  };
  if (data["resultType"] == "scalar") {
    count(data["result"]);
  } else {
    for (const auto& s : data["result"]) {
      if (s.contains("value")) count(s["value"]);
      for (const auto& v : s.value("values", nlohmann::json::array())) count(v);
    }
  }
  return r;
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  for (int t = 0; t < timeout_ms; t += 250) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return cond();
}

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) XSKIT_SKIP("needs root (namespaces, XDP, probes)");
    for (const char* bin : {"exporter/xsk-exporter", "loader/xsk-loader"})
      ASSERT_TRUE(std::filesystem::exists(Bin(bin))) << Bin(bin) << " not built";
    ASSERT_EQ(RunCmd({"sh", "-c", "command -v prometheus"}).status, 0) << "prometheus missing";
    EnsureBpffs();
    work_ = std::make_unique<Workload>();
    ASSERT_TRUE(work_->ok()) << work_->error();
    dir_ = absl::StrCat(testing::BuildDir(), "/dashboards-e2e-", ::getpid());
    std::filesystem::create_directories(dir_ + "/tsdb");
  }
  void TearDown() override {
    prometheus_.reset();
    exporter_.reset();
    work_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string WritePrometheusConfig(int exporter_port) {
    std::string target = absl::StrCat("127.0.0.1:", exporter_port);
    std::string cfg = absl::StrCat(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - ", RepoPath("dashboards/rules/xskit-recording.rules.yml"), "\n  - ",
        RepoPath("dashboards/rules/xskit-alerts.rules.yml"), "\n"
        "scrape_configs:\n  - job_name: xsk-exporter\n    static_configs:\n"
        "      - targets: ['", target, "']\n        labels: {instance: host-a, rollout: a}\n"
        "      - targets: ['", target, "']\n        labels: {instance: host-b, rollout: b}\n"
        "    metric_relabel_configs:\n"
        "      - source_labels: [rollout, __name__, reason]\n"
        "        regex: 'b;xsk_skb_drops_total;(.+)'\n"
        "        target_label: reason\n        replacement: '${1}_in_b'\n");
    std::string path = dir_ + "/prometheus.yml";
    std::ofstream(path) << cfg;
    return path;
  }

  // The instance's unavailable signals per xsk_probe_coverage.
  std::set<std::string> Unavailable(const std::string& instance) {
    std::set<std::string> out;
    int status = 0;
    HttpReply reply = HttpGet(prom_port_, "/api/v1/query?query=" +
        UrlEncode("xsk_probe_coverage{mode=\"unavailable\",instance=\"" + instance + "\"}"));
    status = reply.status;
    std::string body = reply.body;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.contains("data"))
      for (const auto& s : j["data"]["result"]) out.insert(s["metric"].value("signal", ""));
    return out;
  }

  int prom_port_ = 0;
  std::string dir_;
  std::unique_ptr<Workload> work_;
  std::unique_ptr<Child> exporter_, prometheus_;
};

TEST_F(EndToEndTest, EveryPanelQueryReturnsData) {
  const int exporter_port = FreeLoopbackPort();
  exporter_ = std::make_unique<Child>(
      // --bpf.run-time-stats: "XDP program time per packet" needs them.
      std::vector<std::string>{Bin("exporter/xsk-exporter"), "--pin-root", work_->pin_root(),
                               "--web.listen-address", absl::StrCat("127.0.0.1:", exporter_port),
                               "--bpf.run-time-stats"},
      dir_ + "/exporter.log");
  ASSERT_TRUE(WaitFor([&] {
    int st = 0;
    st = HttpGet(exporter_port, "/metrics").status;
    return st == 200;
  }, 10000)) << "xsk-exporter serves /metrics; log:\n" << ReadFile(dir_ + "/exporter.log");

  prom_port_ = FreeLoopbackPort();
  prometheus_ = std::make_unique<Child>(
      std::vector<std::string>{"prometheus", "--config.file=" + WritePrometheusConfig(exporter_port),
                               "--storage.tsdb.path=" + dir_ + "/tsdb",
                               absl::StrCat("--web.listen-address=127.0.0.1:", prom_port_),
                               "--log.level=warn"},
      dir_ + "/prometheus.log");
  ASSERT_TRUE(WaitFor([&] { return Query(prom_port_, "sum(up{job=\"xsk-exporter\"})").samples == 1 &&
                                   Query(prom_port_, "sum(up{job=\"xsk-exporter\"}) == 2").samples == 1; },
                      20000))
      << "Prometheus scrapes both targets; log:\n" << ReadFile(dir_ + "/prometheus.log");
  // Enough samples for rate() over the substituted windows and the 5m rules.
  std::this_thread::sleep_for(std::chrono::seconds(12));

  // Template variables: the values a user would pick, checked to be among
  // what the variables' own label_values() queries offer.
  auto label_values = [&](const std::string& label, const std::string& match) {
    std::string body = HttpGet(prom_port_, "/api/v1/label/" + label + "/values?match[]=" + UrlEncode(match)).body;
    auto j = nlohmann::json::parse(body, nullptr, false);
    std::set<std::string> out;
    if (!j.is_discarded() && j.contains("data"))
      for (const auto& v : j["data"]) out.insert(v.get<std::string>());
    return out;
  };
  auto kernels = label_values("kernel", "xsk_exporter_build_info");
  ASSERT_EQ(kernels.size(), 1u) << "one kernel label on xsk_exporter_build_info";
  const std::string ifname = work_->net().dev_a();
  EXPECT_TRUE(label_values("instance", "xsk_exporter_build_info").count("host-b"));
  EXPECT_TRUE(label_values("ifname", "xsk_steer_info{instance=~\"host-b\"}").count(ifname))
      << "$ifname offers " << ifname;
  EXPECT_TRUE(label_values("queue", "xsk_steer_packets_total{instance=~\"host-b\"}").count("0"));
  auto groups = label_values("rollout", "xsk_exporter_build_info");
  EXPECT_TRUE(groups.count("a") && groups.count("b")) << "$group_a/$group_b offer a and b";

  std::map<std::string, std::string> vars = {
      {"instance", "host-b"}, {"ifname", ifname}, {"queue", "0"}, {"kernel", *kernels.begin()},
      {"group_label", "rollout"}, {"group_a", "a"}, {"group_b", "b"}, {"datasource", "prometheus"}};
  std::map<std::string, std::string> rollout_vars = vars;
  rollout_vars["instance"] = ".*";
  const std::set<std::string> unavailable = Unavailable("host-b");

  int with_data = 0;
  std::vector<std::string> empty_but_unavailable;
  for (const auto& q : AllPanelQueries()) {
    bool rollout = q.dashboard.find("rollout") != std::string::npos;
    std::string expr = Substitute(q.expr, rollout ? rollout_vars : vars);
    QueryResult r;
    // Data may lag a scrape or a rule evaluation: retry for a few seconds.
    WaitFor([&] { r = Query(prom_port_, expr); return !r.ok || r.samples > 0; }, 6000);
    std::string name = absl::StrCat(q.dashboard, " / \"", q.panel, "\" ", q.ref_id);
    if (!r.ok) {
      ADD_FAILURE() << name << ": query failed: " << r.error << "\n  " << expr;
      continue;
    }
    if (r.samples > 0) {
      with_data++;
      continue;
    }
    std::vector<std::string> needed;
    for (const auto& [metric, signals] : kSignalsOf)
      if (expr.find(metric) != std::string::npos) needed.insert(needed.end(), signals.begin(), signals.end());
    bool all_unavailable = !needed.empty() && std::all_of(needed.begin(), needed.end(), [&](const std::string& s) {
      return unavailable.count(s) > 0;
    });
    if (all_unavailable)
      empty_but_unavailable.push_back(absl::StrCat(name, " (", absl::StrJoin(needed, ","), " unavailable)"));
    else
      ADD_FAILURE() << name << ": returned no data"
                    << (needed.empty() ? "" : absl::StrCat(" (signals ", absl::StrJoin(needed, ","),
                                                           " are available per xsk_probe_coverage)"))
                    << "\n  " << expr;
  }
  RecordProperty("panels_with_data", with_data);
  RecordProperty("unavailable_panels", absl::StrJoin(empty_but_unavailable, "; "));
  std::printf("[ e2e ] %d panel queries returned data; %zu empty because their signal is unavailable%s%s\n",
              with_data, empty_but_unavailable.size(), empty_but_unavailable.empty() ? "" : ": ",
              absl::StrJoin(empty_but_unavailable, "; ").c_str());
  EXPECT_GT(with_data, 20);
}

}  // namespace
}  // namespace xskit::testing
