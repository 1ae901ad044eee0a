#include "loader/top.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xskit {
namespace {

std::string Label(const std::string& ifname, const std::string& netns) {
  return netns.empty() ? ifname : absl::StrCat(ifname, "@", netns);
}

uint64_t U64(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<uint64_t>() : 0;
}

double Rate(uint64_t cur, uint64_t prev, double dt) {
  // A counter that went backwards was reset (re-attach): count from zero.
  return dt > 0 ? static_cast<double>(cur >= prev ? cur - prev : cur) / dt : 0;
}

}  // namespace

TopSample SampleFromReport(const nlohmann::json& report, double time_s,
                           const std::map<std::string, uint64_t>& netns_ino) {
  TopSample s;
  s.time_s = time_s;
  // (netns inode, ifindex) -> interface label, for the probe rows.
  std::map<std::pair<uint64_t, uint32_t>, std::string> where;
  for (const auto& i : report.value("interfaces", nlohmann::json::array())) {
    if (i.contains("error")) continue;
    std::string netns = i.value("netns", "");
    std::string label = Label(i.value("ifname", ""), netns);
    if (auto it = netns_ino.find(netns); it != netns_ino.end() && i.contains("ifindex"))
      where[{it->second, i["ifindex"].get<uint32_t>()}] = label;
    for (const auto& q : i.value("queues", nlohmann::json::array())) {
      QueueCounters& c = s.queues[{label, q["queue"].get<uint32_t>()}];
      c.redirected = U64(q, "redirected");
      c.pass_no_socket = U64(q, "pass_no_socket");
      c.pass_no_match = U64(q, "pass_no_match");
      c.redirect_failed = U64(q, "redirect_failed");
    }
  }
  const nlohmann::json& p = report.contains("probes") ? report["probes"] : nlohmann::json::object();
  s.probes_attached = p.value("attached", false);
  if (!s.probes_attached) return s;
  auto label_of = [&](const nlohmann::json& e) -> std::string {
    auto it = where.find({U64(e, "netns_ino"), static_cast<uint32_t>(U64(e, "ifindex"))});
    if (it != where.end()) return it->second;
    std::string name = e.value("ifname", "");
    if (!name.empty()) return name;
    return U64(e, "ifindex") ? absl::StrCat("if", U64(e, "ifindex"), "@ns", U64(e, "netns_ino")) : "-";
  };
  for (const auto& e : p.value("tx", nlohmann::json::array())) {
    QueueCounters& c = s.queues[{label_of(e), e["queue"].get<uint32_t>()}];
    c.has_tx = true;
    c.tx_calls += U64(e, "calls");
    c.tx_descs += U64(e, "descs");
    c.tx_errors += U64(e, "errors") + U64(e, "stalls");
    c.alloc_fail += U64(e, "alloc_fail");
    c.outstanding = static_cast<uint32_t>(U64(e, "in_flight"));
  }
  for (const auto& e : p.value("drops", nlohmann::json::array()))
    s.drops[{label_of(e), e.value("reason_name", "?") + (e.value("xsk", false) ? " (AF_XDP)" : "")}] +=
        U64(e, "skbs");
  for (const auto& sig : p.value("signals", nlohmann::json::array()))
    if (sig.value("mode", "") == "unavailable")
      s.unavailable_signals.push_back(
          absl::StrCat(sig.value("signal", "?"), " (", sig.value("reason", ""), ")"));
  return s;
}

std::vector<TopRow> ComputeRows(const TopSample& prev, const TopSample& cur) {
  const double dt = cur.time_s - prev.time_s;
  std::vector<TopRow> rows;
  static const QueueCounters kZero;
  for (const auto& [key, c] : cur.queues) {
    auto it = prev.queues.find(key);
    const QueueCounters& p = it == prev.queues.end() ? kZero : it->second;
    TopRow r;
    r.iface = std::get<0>(key);
    r.queue = std::get<1>(key);
    r.redirected = Rate(c.redirected, p.redirected, dt);
    r.pass_no_socket = Rate(c.pass_no_socket, p.pass_no_socket, dt);
    r.pass_no_match = Rate(c.pass_no_match, p.pass_no_match, dt);
    r.redirect_failed = Rate(c.redirect_failed, p.redirect_failed, dt);
    r.has_tx = c.has_tx;
    r.tx_calls = Rate(c.tx_calls, p.tx_calls, dt);
    r.tx_descs = Rate(c.tx_descs, p.tx_descs, dt);
    r.tx_errors = Rate(c.tx_errors, p.tx_errors, dt);
    r.alloc_fail = Rate(c.alloc_fail, p.alloc_fail, dt);
    r.descs_per_call = r.tx_calls > 0 ? r.tx_descs / r.tx_calls : 0;
    r.backpressure = r.tx_calls > 0 ? r.tx_errors / r.tx_calls : 0;
    r.outstanding = c.outstanding;
    rows.push_back(r);
  }
  auto worst = [](const TopRow& r) {
    return std::make_tuple(r.redirect_failed, r.tx_errors + r.alloc_fail, r.pass_no_socket,
                           r.redirected + r.pass_no_match + r.pass_no_socket + r.tx_descs);
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const TopRow& a, const TopRow& b) { return worst(a) > worst(b); });
  return rows;
}

std::vector<DropRow> ComputeDrops(const TopSample& prev, const TopSample& cur) {
  const double dt = cur.time_s - prev.time_s;
  std::vector<DropRow> out;
  for (const auto& [key, n] : cur.drops) {
    auto it = prev.drops.find(key);
    out.push_back({key.first, key.second, Rate(n, it == prev.drops.end() ? 0 : it->second, dt), n});
  }
  std::stable_sort(out.begin(), out.end(), [](const DropRow& a, const DropRow& b) {
    return std::tie(a.rate, a.total) > std::tie(b.rate, b.total);
  });
  return out;
}

std::string RenderTop(const TopSample& cur, const std::vector<TopRow>& rows,
                      const std::vector<DropRow>& drops, double interval_s, int height) {
  std::string out = absl::StrFormat(
      "xsk-loader top: %d queues, rates over %.1fs, worst first; probes %s   (q quits)\n\n",
      static_cast<int>(rows.size()), interval_s, cur.probes_attached ? "attached" : "NOT attached");
  absl::StrAppend(&out, absl::StrFormat("%-22s %5s %11s %11s %11s %11s %9s %8s %9s %7s %8s %7s\n",
                                        "IFACE", "QUEUE", "REDIR/s", "NOSOCK/s", "NOMATCH/s",
                                        "REDIRFAIL/s", "SENDMSG/s", "DESC/CALL", "TXFAIL/s",
                                        "BP%", "ALLOCF/s", "INFLT"));
  auto f = [](double v) { return absl::StrFormat("%.1f", v); };
  int budget = std::max(height - 8 - std::min<int>(drops.size(), 6), 3);
  int shown = 0;
  for (const auto& r : rows) {
    if (shown++ >= budget) {
      absl::StrAppend(&out, absl::StrFormat("  ... %d more queues\n", static_cast<int>(rows.size()) - budget));
      break;
    }
    std::string tx = r.has_tx
        ? absl::StrFormat("%9s %8s %9s %7s %8s %7u", f(r.tx_calls), f(r.descs_per_call), f(r.tx_errors),
                          f(100 * r.backpressure), f(r.alloc_fail), r.outstanding)
        : absl::StrFormat("%9s %8s %9s %7s %8s %7s", "-", "-", "-", "-", "-", "-");
    absl::StrAppend(&out, absl::StrFormat("%-22s %5u %11s %11s %11s %11s %s\n", r.iface, r.queue,
                                          f(r.redirected), f(r.pass_no_socket), f(r.pass_no_match),
                                          f(r.redirect_failed), tx));
  }
  if (!drops.empty()) {
    absl::StrAppend(&out, "\n", absl::StrFormat("%-22s %-40s %10s %12s\n", "DROPS IFACE", "REASON", "/s", "TOTAL"));
    for (size_t i = 0; i < drops.size() && i < 6; i++)
      absl::StrAppend(&out, absl::StrFormat("%-22s %-40s %10s %12u\n", drops[i].iface, drops[i].reason,
                                            f(drops[i].rate), drops[i].total));
  }
  if (!cur.unavailable_signals.empty()) {
    absl::StrAppend(&out, "\nunavailable probe signals (their columns show nothing, not zero):\n");
    for (const auto& s : cur.unavailable_signals) absl::StrAppend(&out, "  ", s, "\n");
  }
  return out;
}

}  // namespace xskit
