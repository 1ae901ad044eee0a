#include "loader/top.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xskit {
namespace {

std::string Label(const std::string& ifname, const std::string& netns) {
  return netns.empty() ? ifname : absl::StrCat(ifname, "@", netns);
}

double Rate(uint64_t cur, uint64_t prev, double dt) {
  // A counter that went backwards was reset (re-attach): count from zero.
  return dt > 0 ? static_cast<double>(cur >= prev ? cur - prev : cur) / dt : 0;
}

}  // namespace

TopSample SampleOf(const std::vector<SteerCounters>& steer, const ProbeSnapshot& p,
                   double time_s) {
  TopSample s;
  s.time_s = time_s;
  for (const auto& i : steer) {
    std::string label = Label(i.ifname, i.netns);
    for (uint32_t q = 0; q < i.queues.size(); q++) {
      QueueCounters& c = s.queues[{label, q}];
      c.redirected = i.queues[q].packets[XSK_STEER_REDIRECTED];
      c.pass_no_socket = i.queues[q].packets[XSK_STEER_PASS_NO_SOCKET];
      c.pass_no_match = i.queues[q].packets[XSK_STEER_PASS_NO_MATCH];
      c.redirect_failed = i.queues[q].packets[XSK_STEER_REDIRECT_FAILED];
    }
  }
  s.probes_attached = p.attached;
  if (!p.attached) return s;
  for (const auto& r : p.tx) {
    QueueCounters& c = s.queues[{r.site.Label(), r.queue}];
    c.has_tx = true;
    c.tx_calls += r.tx.calls;
    c.tx_descs += r.tx.descs;
    c.tx_errors += r.tx.errors + r.tx.stalls;
    c.alloc_fail += r.tx.alloc_fail;
    c.outstanding = r.tx.in_flight;
  }
  for (const auto& r : p.zc) {
    QueueCounters& c = s.queues[{r.site.Label(), r.queue}];
    c.has_zc = true;
    c.zc_batches += r.zc.tx_batches - r.zc.tx_hist[0];
    c.zc_descs += r.zc.tx_descs;
    c.zc_completions += r.zc.completions;
    c.zc_wakeups += r.zc.wakeups_sendmsg + r.zc.wakeups_poll;
    c.fill_takes += r.zc.rx_alloc_calls;
    c.fill_empty += r.zc.rx_alloc_empty;
  }
  for (const auto& r : p.drops)
    s.drops[{r.site.Label(), r.reason_label + (r.xsk ? " (AF_XDP)" : "")}] += r.skbs;
  for (const auto& sig : p.signals)
    if (std::string_view(ProbeModeName(sig.mode)) == "unavailable")
      s.unavailable_signals.push_back(absl::StrCat(SignalName(sig.signal), " (", sig.reason, ")"));
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
    r.has_zc = c.has_zc;
    r.zc_descs = Rate(c.zc_descs, p.zc_descs, dt);
    r.zc_completions = Rate(c.zc_completions, p.zc_completions, dt);
    r.zc_wakeups = Rate(c.zc_wakeups, p.zc_wakeups, dt);
    r.fill_empty = Rate(c.fill_empty, p.fill_empty, dt);
    const double batches = Rate(c.zc_batches, p.zc_batches, dt);
    r.descs_per_batch = batches > 0 ? r.zc_descs / batches : 0;
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
  int zc_rows = 0;
  for (const auto& r : rows) zc_rows += r.has_zc;
  int budget = std::max(height - 8 - std::min<int>(drops.size(), 6) -
                            (zc_rows ? 2 + std::min(zc_rows, 6) : 0),
                        3);
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
  bool any_zc = false;
  for (const auto& r : rows) any_zc = any_zc || r.has_zc;
  if (any_zc) {
    absl::StrAppend(&out, "\n", absl::StrFormat("%-22s %5s %11s %10s %11s %10s %12s\n", "ZERO-COPY IFACE",
                                                "QUEUE", "ZCTXDESC/s", "DESC/BATCH", "ZCCOMPL/s",
                                                "WAKEUP/s", "FILLEMPTY/s"));
    int zc_shown = 0;
    for (const auto& r : rows)
      if (r.has_zc && zc_shown++ < 6)
        absl::StrAppend(&out, absl::StrFormat("%-22s %5u %11s %10s %11s %10s %12s\n", r.iface, r.queue,
                                              f(r.zc_descs), f(r.descs_per_batch), f(r.zc_completions),
                                              f(r.zc_wakeups), f(r.fill_empty)));
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
