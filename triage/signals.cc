#include "triage/signals.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"

namespace xskit::triage {

std::string Name(Direction d) {
  for (const auto& e : kDirections)
    if (e.value == d) return std::string(e.name);
  return "?";
}
std::string Name(NodataPolicy p) {
  for (const auto& e : kNodataPolicies)
    if (e.value == p) return std::string(e.name);
  return "?";
}

namespace {

constexpr const char* kQueueLabels = "instance, ifname, netns, queue";

Signal Make(std::string name, std::string group, std::string per, std::string unit,
            std::string description, std::string expr, Direction dir, double effect,
            bool critical = false) {
  Signal s;
  s.name = std::move(name);
  s.group = std::move(group);
  s.per = std::move(per);
  s.unit = std::move(unit);
  s.description = std::move(description);
  s.expr = std::move(expr);
  s.direction = dir;
  s.effect = effect;
  s.critical = critical;
  s.nodata = critical ? NodataPolicy::kMarginal : NodataPolicy::kIgnore;
  return s;
}

// A per-socket counter of issue 14 per redirected packet of its queue.
// `rate` is the per-socket rate expression (its series carry the socket's
// labels, so the sum of two counters of the same sockets matches one to one).
Signal SocketRate(const std::string& name, const std::string& rate, const std::string& what) {
  Signal s = Make(name, "sockets", "queue", "ratio", what + " per packet redirected to the queue",
                  absl::StrCat("sum by (", kQueueLabels, ") (", rate, ") / on (",
                               kQueueLabels, ") (sum by (", kQueueLabels,
                               ") (rate(xsk_steer_packets_total{outcome=\"redirected\"}[5m])) > 0)"),
                  Direction::kHigherIsWorse, 0.10);
  s.zero_when = absl::StrCat("sum by (", kQueueLabels,
                             ") (rate(xsk_steer_packets_total{outcome=\"redirected\"}[5m])) > 0");
  return s;
}

}  // namespace

std::vector<Signal> BuiltinSignals() {
  using D = Direction;
  std::vector<Signal> t;
  // Steering.
  t.push_back(Make("steer_redirected_share", "steering", "queue", "ratio",
                   "share of the queue's packets the steering program redirected to its socket",
                   "instance_ifname_queue:xsk_steer_redirected:ratio_rate5m", D::kLowerIsWorse, 0.05));
  t.push_back(Make("steer_redirect_failures_per_packet", "steering", "queue", "ratio",
                   "XDP redirects to the socket that failed, per packet",
                   "instance_ifname_queue:xsk_steer_redirect_failed:ratio_rate5m", D::kHigherIsWorse,
                   0.10, /*critical=*/true));
  // Transmit.
  t.push_back(Make("tx_descriptors_per_sendmsg", "tx", "queue", "descriptors",
                   "mean descriptors per sendmsg (from the xsk_tx_descriptors_per_sendmsg histogram)",
                   "instance_ifname_queue:xsk_tx_descriptors_per_sendmsg:mean_rate5m", D::kLowerIsWorse,
                   0.05));
  {
    Signal s = Make("tx_eagain_per_sendmsg", "tx", "queue", "ratio",
                    "sendmsg calls failing with EAGAIN per sendmsg, one row per backpressure cause",
                    "instance_ifname_queue_cause:xsk_tx_sendmsg_eagain_per_sendmsg:ratio_rate5m",
                    D::kHigherIsWorse, 0.10);
    s.split_by = {"cause"};
    s.zero_when = "instance_ifname_queue:xsk_tx_descriptors_per_sendmsg:mean_rate5m * 0";
    t.push_back(std::move(s));
  }
  t.push_back(Make("tx_completion_latency_p99", "tx", "queue", "seconds",
                   "p99 of the Tx completion latency (only where the exporter enables it)",
                   "instance_ifname_queue:xsk_tx_completion_latency_seconds:p99_rate5m",
                   D::kHigherIsWorse, 0.10));
  // Drops, AF_XDP sockets' apart (the xsk label).
  {
    Signal s = Make("skb_drops_per_packet", "drops", "interface", "ratio",
                    "kfree_skb drops per packet seen by steering, one row per kernel reason and "
                    "xsk (true: the skb belonged to an AF_XDP socket)",
                    "instance_ifname_reason:xsk_skb_drops_per_packet:ratio_rate5m", D::kHigherIsWorse,
                    0.10);
    s.split_by = {"xsk", "reason"};
    s.zero_when = "sum by (instance, ifname, netns) (rate(xsk_steer_packets_total[5m])) * 0";
    t.push_back(std::move(s));
  }
  // Cost.
  t.push_back(Make("steer_prog_seconds_per_run", "cost", "interface", "seconds",
                   "steering program run time per run, from the kernel's BPF stats "
                   "(exporters started with --bpf.run-time-stats)",
                   "instance_ifname:xsk_steer_prog_run_seconds_per_run:ratio_rate5m",
                   D::kHigherIsWorse, 0.10));
  // Per-socket health (the exporter's xsk_socket_* series).
  t.push_back(SocketRate("socket_fill_ring_empty_per_packet",
                         "rate(xsk_socket_fill_ring_empty_total[5m])", "fill ring found empty"));
  t.push_back(SocketRate("socket_rx_ring_full_per_packet",
                         "rate(xsk_socket_rx_ring_full_total[5m])", "Rx ring full"));
  // rate() drops the metric name, so one regex over both counters would give
  // two series with the same labels: add them instead.
  t.push_back(SocketRate("socket_invalid_descriptors_per_packet",
                         "rate(xsk_socket_rx_invalid_descriptors_total[5m]) + "
                         "rate(xsk_socket_tx_invalid_descriptors_total[5m])",
                         "invalid descriptors"));
  {
    Signal s = Make("sockets_copy_mode_zerocopy_capable", "sockets", "host", "sockets",
                    "sockets in copy mode on an interface whose driver offers zero-copy",
                    "count by (instance) (xsk_socket_info{mode=\"copy\"} * on (instance, ifname, netns) "
                    "group_left () max by (instance, ifname, netns) "
                    "(xsk_interface_info{xdp_features=~\"(.*,)?xsk-zerocopy(,.*)?\"}))",
                    D::kHigherIsWorse, 0.0, /*critical=*/true);
    s.zero_when = "count by (instance) (xsk_socket_info) * 0";
    s.nodata = NodataPolicy::kIgnore;  // a host without sockets has nothing to judge
    t.push_back(std::move(s));
  }
  // Probe coverage: 1 per host that measures a probe signal; a probe signal
  // measured in one group and not the other is a nodata row naming it.
  {
    // 1 where the host measures the signal, 0 where its probe is unavailable.
    Signal s = Make("probe_coverage", "coverage", "host", "share",
                    "share of hosts measuring each probe signal (1: a mode other than unavailable, "
                    "0: unavailable)",
                    "max by (instance, signal) (xsk_probe_coverage{mode!=\"unavailable\"}) or "
                    "max by (instance, signal) (xsk_probe_coverage{mode=\"unavailable\"}) * 0",
                    D::kLowerIsWorse, 0.05);
    s.split_by = {"signal"};
    t.push_back(std::move(s));
  }
  return t;
}

absl::StatusOr<std::string> SelectorMatchers(const std::string& selector) {
  absl::string_view s = absl::StripAsciiWhitespace(selector);
  if (s.size() < 2 || s.front() != '{' || s.back() != '}')
    return absl::InvalidArgumentError(absl::StrCat(
        "group selector '", selector,
        "' is not a PromQL label selector: write it in braces, e.g. '{rollout=\"canary\"}'"));
  s.remove_prefix(1);
  s.remove_suffix(1);
  s = absl::StripAsciiWhitespace(s);
  if (s.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "group selector '", selector, "' selects every host: name a label, e.g. '{rollout=\"canary\"}'"));
  // One selector: no braces outside quoted values (the matchers are
  // spliced into every query).
  char quote = 0;  // the open quote character, if any
  for (size_t i = 0; i < s.size(); i++) {
    const char c = s[i];
    if (quote && c == '\\' && quote != '`') {
      i++;
      continue;
    }
    if (quote && c == quote)
      quote = 0;
    else if (!quote && (c == '"' || c == '\'' || c == '`'))
      quote = c;
    else if (!quote && (c == '{' || c == '}'))
      return absl::InvalidArgumentError(absl::StrCat(
          "group selector '", selector, "' is more than one label selector: give one, e.g. '{rollout=\"canary\"}'"));
  }
  return std::string(s);
}

std::string HostsQuery(const std::string& matchers) {
  return absl::StrCat("max by (instance) (xsk_exporter_build_info{", matchers, "})");
}

std::string GroupQuery(const std::string& expr, const std::string& matchers) {
  return absl::StrCat("(", expr, ") * on (instance) group_left () ", HostsQuery(matchers));
}

}  // namespace xskit::triage
