// Tier `probes`: the probe mode of every signal, as `xsk-loader probe
// --json` reports it, against a table of what each kernel of the matrix
// should give: fentry for everything the fentry programs cover on 6.1,
// 6.12 and 6.18 (the VMs), the tracepoint fallbacks on the host, and the
// fentry targets that were renamed between them (kmem_cache_alloc_bulk
// became kmem_cache_alloc_bulk_noprof in 6.10) resolved on each, and the
// zero-copy driver API's functions found (out of line) on each.
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/driver_table.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/exposition.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/nic_pair.h"
#include "selftests/lib/workload.h"
#include "selftests/probes/fixture.h"

namespace xskit {
namespace {

struct Expected {
  const char* mode;
  const char* reason_has = "";  // a substring of the reason, "" for none
};

// The expected mode of each signal by the matrix's expected probe mode
// (XSKIT_EXPECT_PROBE_MODE) and kernel series.
std::map<std::string, Expected> ExpectedModes(const std::string& probe_mode, uint32_t series) {
  if (probe_mode == "fentry") {
    const char* bulk = series >= KernelSeries(6, 10) ? "fexit kmem_cache_alloc_bulk_noprof "
                                                     : "fexit kmem_cache_alloc_bulk ";
    return {{"batch", {"fentry"}},
            {"batch_xmit", {"unavailable", "XDP_GENERIC_XMIT_BATCH"}},  // not in mainline
            {"backpressure", {"fentry"}},
            {"driver_busy", {"fentry"}},
            {"outstanding", {"fentry"}},
            {"poll_tx", {"fentry"}},
            {"drops", {"tp_btf", "tp_btf/kfree_skb"}},
            {"xdp_errors", {"tp_btf"}},
            {"completion_latency", {"disabled", "--latency"}},
            {"skb_build", {"fentry"}},
            {"alloc_fail", {"fentry"}},
            {"bulk_alloc", {"fentry", bulk}},
            {"napi_build_skb", {"fentry", "fexit napi_build_skb"}},
            // The zero-copy driver API: out of line with one signature on
            // 6.1, 6.12 and 6.18; xsk_wakeup is inlined (counted from state).
            {"zc_tx_batch", {"fentry", "xsk_tx_peek_release_desc_batch"}},
            {"zc_completions", {"fentry", "xsk_tx_completed"}},
            {"zc_wakeups", {"fentry", "and poll()"}},
            {"need_wakeup", {"fentry"}},
            {"zc_rx_fill", {"fentry", "xp_alloc_batch"}}};
  }
  // The host: fentry is refused, tracepoints and tp_btf stand in; what
  // only fentry can see is unavailable.
  return {{"batch", {"tracepoint"}},
          {"batch_xmit", {"unavailable"}},
          {"backpressure", {"tracepoint"}},
          {"driver_busy", {"tracepoint"}},
          {"outstanding", {"tracepoint"}},
          {"poll_tx", {"unavailable"}},
          {"drops", {"tp_btf"}},
          {"xdp_errors", {"tp_btf"}},
          {"completion_latency", {"disabled"}},
          {"skb_build", {"tracepoint"}},
          {"alloc_fail", {"tracepoint"}},
          {"bulk_alloc", {"unavailable"}},
          {"napi_build_skb", {"unavailable"}},
          // Zero-copy driver side: fentry only; the socket counters stand in.
          {"zc_tx_batch", {"unavailable", "xsk_socket_"}},
          {"zc_completions", {"unavailable", "xsk_socket_"}},
          {"zc_wakeups", {"tracepoint", "need fentry on xsk_poll"}},
          {"need_wakeup", {"tracepoint"}},
          {"zc_rx_fill", {"unavailable", "xsk_socket_"}}};
}

TEST(ProbeModes, EachSignalGetsTheModeOfTheTableOnThisKernel) {
  const char* expect = std::getenv("XSKIT_EXPECT_PROBE_MODE");
  if (!expect) XSKIT_SKIP("XSKIT_EXPECT_PROBE_MODE not set: no kernel of the matrix to compare with");
  if (const char* forced = std::getenv("XSKIT_PROBE_MODE"); forced && *forced)
    XSKIT_SKIP(absl::StrCat("probe mode forced to ", forced, ": the table is of what auto picks"));
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  testing::CmdResult r = testing::RunLoader(root.path(), "", {"probe", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  // Log lines (stderr, merged) come before the document.
  const size_t start = r.output.find("{\n");
  nlohmann::json j = nlohmann::json::parse(start == std::string::npos ? "" : r.output.substr(start),
                                           nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("signals")) << r.output;
  const std::string kernel = testing::RunningKernelRelease();
  auto want = ExpectedModes(expect, testing::RunningKernelSeries());
  std::map<std::string, bool> seen;
  for (const auto& s : j["signals"]) {
    const std::string name = s["signal"].get<std::string>(), mode = s["mode"].get<std::string>(),
                      reason = s["reason"].get<std::string>();
    std::printf("  %-18s %-11s %s\n", name.c_str(), mode.c_str(), reason.c_str());
    auto it = want.find(name);
    if (it == want.end()) {
      ADD_FAILURE() << "signal " << name << " (" << mode << ") is not in the test's table";
      continue;
    }
    seen[name] = true;
    EXPECT_EQ(mode, it->second.mode) << "signal " << name << " on " << kernel << " (" << expect
                                     << " kernel): " << reason;
    if (*it->second.reason_has)
      EXPECT_NE(reason.find(it->second.reason_has), std::string::npos)
          << "signal " << name << " on " << kernel << ": reason lacks '" << it->second.reason_has
          << "': " << reason;
  }
  for (const auto& [name, e] : want)
    EXPECT_TRUE(seen.count(name)) << "signal " << name << " missing from probe --json on " << kernel;
}

// One path per datum: the coverage reasons every reader gets from the pin
// (`status --json`, `probe --json`'s pinned_signals, xsk-exporter's
// xsk_probe_coverage) are the ones attach returned and printed, whole (the
// zero-copy and tracepoint Tx reasons are longer than the 115 bytes info
// version 2 kept).
using testing::ProbesTest;

TEST_F(ProbesTest, CoverageReadBackEqualsWhatAttachReturned) {
  const std::vector<SignalMode>& want = *attached_signals_;
  ASSERT_EQ(want.size(), size_t{XSK_PROBES_NR_SIGNALS});
  size_t longest = 0;
  for (const auto& s : want) longest = std::max(longest, s.reason.size());
  EXPECT_GT(longest, 120u) << "a reason longer than version 2's room, or the test proves little";

  auto check = [&](const nlohmann::json& signals, const std::string& view) {
    ASSERT_TRUE(signals.is_array()) << view << ": " << signals.dump();
    ASSERT_EQ(signals.size(), want.size()) << view;
    for (size_t i = 0; i < want.size(); i++) {
      EXPECT_EQ(signals[i]["signal"].get<std::string>(), SignalName(want[i].signal)) << view;
      EXPECT_EQ(signals[i]["mode"].get<std::string>(), ProbeModeName(want[i].mode))
          << view << " " << SignalName(want[i].signal);
      EXPECT_EQ(signals[i]["reason"].get<std::string>(), want[i].reason)
          << view << " " << SignalName(want[i].signal);
    }
  };
  auto parse = [](const std::string& out) {
    const size_t start = out.find("{\n");  // log lines (stderr, merged) come first
    return nlohmann::json::parse(start == std::string::npos ? "" : out.substr(start), nullptr,
                                 false);
  };
  testing::CmdResult st = testing::RunLoader(root_->path(), "", {"status", "--json"});
  ASSERT_EQ(st.status, 0) << st.output;
  nlohmann::json j = parse(st.output);
  ASSERT_TRUE(j.is_object() && j.contains("probes")) << st.output;
  check(j["probes"]["signals"], "status --json");

  testing::CmdResult pr = testing::RunLoader(root_->path(), "", {"probe", "--json"});
  ASSERT_EQ(pr.status, 0) << pr.output;
  j = parse(pr.output);
  ASSERT_TRUE(j.is_object() && j.contains("pinned_signals")) << pr.output;
  check(j["pinned_signals"], "probe --json pinned_signals");

  const std::string body = testing::ScrapeExporterOnce(root_->path());
  ASSERT_FALSE(body.empty()) << "xsk-exporter served no /metrics over " << root_->path();
  const testing::Exposition m = testing::Exposition::Parse(body);
  for (const auto& s : want) {
    // (The exporter's mode label folds `disabled` into `unavailable`.)
    auto samples = m.Find("xsk_probe_coverage", {{"signal", SignalName(s.signal)}});
    ASSERT_EQ(samples.size(), 1u) << "xsk-exporter's coverage of " << SignalName(s.signal);
    EXPECT_EQ(samples[0]->labels.at("reason"), s.reason)
        << "xsk-exporter's coverage reason of " << SignalName(s.signal);
  }
}

}  // namespace
}  // namespace xskit
