#include "loader/probes_report.h"

#include "lib/errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/probe_snapshot.h"

namespace xskit {
namespace {

bool Match(const ProbeFilter& f, uint64_t netns, uint32_t ifindex) {
  if (f.netns_ino && netns && *f.netns_ino != netns) return false;
  if (f.ifindex && *f.ifindex != ifindex) return false;
  return true;
}

}  // namespace

nlohmann::json SignalsJson(const std::vector<SignalMode>& signals) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : signals)
    out.push_back({{"signal", SignalName(s.signal)},
                   {"mode", ProbeModeName(s.mode)},
                   {"reason", s.reason}});
  return out;
}

std::string ProbesReplacedLine(uint32_t old_version) {
  return absl::StrCat("probes: replaced layout version ", old_version, " with ",
                      ProbesInfoVersion(), " (counters restarted)");
}

nlohmann::json ProbesReport(const PinLayout& pins, const ProbeFilter& filter) {
  ProbeSnapshot snap = ReadProbeSnapshot(pins, SiteResolver::FromPins(pins), KernelDropReasons());
  return ProbesJson(snap.Filter([&](const ProbeSite& s) { return Match(filter, s.netns_ino, s.ifindex); }));
}

nlohmann::json ProbesJson(const ProbeSnapshot& snap) {
  nlohmann::json j;
  j["pin_dir"] = snap.dir;
  if (!snap.attached) {
    j["attached"] = false;
    if (snap.why_not != "not attached") j["error"] = snap.why_not;
    if (!snap.open_status.ok()) j["error_code"] = static_cast<int>(ExitCodeOf(snap.open_status));
    return j;
  }
  j["attached"] = true;
  j["links"] = snap.links;
  j["layout_version"] = snap.info.version;
  j["attach_time"] = snap.info.attach_time_ns / 1000000000ULL;
  j["signals"] = SignalsJson(snap.signals);
  for (const auto& [what, message] : snap.read_errors)
    if (what == kPinTxStats) j["tx_error"] = message;

  nlohmann::json tx = nlohmann::json::array();
  for (const auto& r : snap.tx) {
    const xsk_probes_tx& v = r.tx;
    nlohmann::json e = SiteJson(r.site);
    e["queue"] = r.queue;
    e["calls"] = v.calls;
    e["descs"] = v.descs;
    e["wasted_wakeups"] = v.hist[0];
    nlohmann::json hist = nlohmann::json::array();
    for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
      hist.push_back({{"low", BatchBucketLow(i)},
                      {"high", i == XSK_PROBES_BATCH_BUCKETS - 1
                                   ? nlohmann::json(nullptr)
                                   : nlohmann::json(i <= 1 ? BatchBucketLow(i)
                                                           : 2 * BatchBucketLow(i) - 1)},
                      {"calls", v.hist[i]}});
    e["batch_hist"] = std::move(hist);
    e["errors"] = v.errors;
    e["stalls"] = v.stalls;
    e["poll_calls"] = v.poll_calls;
    e["poll_descs"] = v.poll_descs;
    e["linear_skbs"] = v.linear_skbs;
    e["frag_skbs"] = v.frag_skbs;
    e["alloc_fail"] = v.alloc_fail;
    e["xmit_busy"] = v.xmit_busy;
    e["cq_size"] = v.cq_size;
    e["cq_pending"] = v.cq_pending;
    e["in_flight"] = v.in_flight;
    e["tx_budget"] = v.tx_budget;
    tx.push_back(std::move(e));
  }
  j["tx"] = std::move(tx);

  nlohmann::json errs = nlohmann::json::array();
  for (const auto& r : snap.tx_errors) errs.push_back(TxErrorRowJson(r));
  j["tx_errors"] = std::move(errs);

  nlohmann::json drops = nlohmann::json::array();
  for (const auto& r : snap.drops) drops.push_back(DropRowJson(r));
  j["drops"] = std::move(drops);

  nlohmann::json xdp = nlohmann::json::array();
  for (const auto& r : snap.xdp_errors) xdp.push_back(XdpErrorRowJson(r));
  j["xdp_errors"] = std::move(xdp);

  if (snap.alloc)
    j["alloc"] = {{"bulk_calls", snap.alloc->bulk_calls},
                  {"bulk_objs", snap.alloc->bulk_objs},
                  {"napi_build_skb", snap.alloc->napi_build_skb},
                  {"napi_build_fail", snap.alloc->napi_build_fail}};

  nlohmann::json lat = nlohmann::json::array();
  for (const auto& r : snap.latency) {
    nlohmann::json e = SiteJson(r.site);
    e["queue"] = r.queue;
    e["count"] = r.latency.count;
    e["sum_ns"] = r.latency.sum_ns;
    nlohmann::json hist = nlohmann::json::array();
    for (int i = 0; i < XSK_PROBES_LAT_BUCKETS; i++)
      if (r.latency.hist[i]) hist.push_back({{"low_ns", 1ULL << i}, {"count", r.latency.hist[i]}});
    e["hist"] = std::move(hist);
    lat.push_back(std::move(e));
  }
  j["latency"] = std::move(lat);

  nlohmann::json zc = nlohmann::json::array();
  for (const auto& r : snap.zc) {
    // Every counter: the signals above say which are live.
    nlohmann::json e = SiteJson(r.site);
    e.update(ZcRowJson(r, [](xsk_probes_signal) { return true; }));
    nlohmann::json hist = nlohmann::json::array();
    for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
      hist.push_back({{"low", BatchBucketLow(i)}, {"batches", r.zc.tx_hist[i]}});
    e["tx_batch_hist"] = std::move(hist);
    zc.push_back(std::move(e));
  }
  j["zc"] = std::move(zc);
  return j;
}

std::string RenderProbes(const nlohmann::json& p) {
  std::string out;
  if (!p.value("attached", false)) {
    absl::StrAppend(&out, "probes: not attached", p.contains("error") ? absl::StrCat(" (", p["error"].get<std::string>(), ")") : "",
                    " (xsk-loader probes attach)\n");
    return out;
  }
  absl::StrAppend(&out, "probes: attached, ", p["links"].get<int>(), " links, pins ",
                  p["pin_dir"].get<std::string>(), "\n");
  for (const auto& s : p["signals"])
    absl::StrAppend(&out, absl::StrFormat("  %-18s %-11s\n", s["signal"].get<std::string>(),
                                          s["mode"].get<std::string>()));
  // The site as top and xsk-bench write it: "veth0", "veth0@ns1", "-".
  auto where = [](const nlohmann::json& e) {
    std::string name = e["ifname"].get<std::string>(), netns = e["netns"].get<std::string>();
    if (name.empty()) return std::string("-");
    return netns.empty() ? name : absl::StrCat(name, "@", netns);
  };
  for (const auto& e : p["tx"]) {
    absl::StrAppend(&out, "  tx ", where(e), " q", e["queue"].get<uint32_t>(), ": calls ",
                    e["calls"].get<uint64_t>(), ", descs ", e["descs"].get<uint64_t>(),
                    ", wasted ", e["wasted_wakeups"].get<uint64_t>(), ", errors ",
                    e["errors"].get<uint64_t>(), ", cq ", e["cq_pending"].get<uint32_t>(), "/",
                    e["cq_size"].get<uint32_t>(), ", in flight ",
                    e["in_flight"].get<uint32_t>(), ", skbs linear/frag ",
                    e["linear_skbs"].get<uint64_t>(), "/", e["frag_skbs"].get<uint64_t>(), "\n");
    std::string h = "    batch";
    for (const auto& b : e["batch_hist"])
      absl::StrAppend(&h, " ", b["low"].get<uint32_t>(), b["high"].is_null() ? "+" : "", ":",
                      b["calls"].get<uint64_t>());
    absl::StrAppend(&out, h, "\n");
  }
  for (const auto& e : p["zc"])
    absl::StrAppend(&out, "  zc ", where(e), " q", e["queue"].get<uint32_t>(), ": tx batches ",
                    e["tx_batches"].get<uint64_t>(), ", descs ", e["tx_descs"].get<uint64_t>(),
                    ", completions ", e["completions"].get<uint64_t>(), " in ",
                    e["completion_calls"].get<uint64_t>(), " calls, wakeups sendmsg/poll ",
                    e["wakeups_sendmsg"].get<uint64_t>(), "/", e["wakeups_poll"].get<uint64_t>(),
                    ", sendmsg need_wakeup set/clear ", e["sendmsg_need_wakeup"].get<uint64_t>(), "/",
                    e["sendmsg_no_need_wakeup"].get<uint64_t>(), ", fill takes ",
                    e["fill_takes"].get<uint64_t>(), " (buffers ", e["fill_buffers"].get<uint64_t>(),
                    "/", e["fill_wanted"].get<uint64_t>(), ", short ", e["fill_short"].get<uint64_t>(),
                    ", empty ", e["fill_empty"].get<uint64_t>(), ")\n");
  for (const auto& e : p["tx_errors"])
    absl::StrAppend(&out, "  tx error ", where(e), " q", e["queue"].get<uint32_t>(), ": ",
                    e["errno_name"].get<std::string>(), " cause ", e["cause"].get<std::string>(),
                    ": ", e["calls"].get<uint64_t>(), "\n");
  for (const auto& e : p["drops"])
    absl::StrAppend(&out, "  drop ", where(e), e["xsk"].get<bool>() ? " (AF_XDP)" : "", " ",
                    e["reason_name"].get<std::string>(), ": ", e["skbs"].get<uint64_t>(), "\n");
  for (const auto& e : p["xdp_errors"])
    absl::StrAppend(&out, "  xdp ", e["event"].get<std::string>(), " ", where(e), " ",
                    e.contains("errno_name") ? e["errno_name"].get<std::string>()
                                             : e["action_name"].get<std::string>(),
                    ": ", e["events"].get<uint64_t>(), "\n");
  return out;
}

}  // namespace xskit
