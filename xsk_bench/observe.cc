#include "xsk_bench/observe.h"

#include "absl/strings/str_cat.h"
#include "lib/drop_reasons.h"
#include "lib/errors.h"

namespace xskit::bench {
namespace {

template <typename M>
M MapDelta(const M& before, const M& after) {
  M out;
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    uint64_t d = v - (it == before.end() ? 0 : it->second);
    if (d) out[k] = d;
  }
  return out;
}

}  // namespace

ProbeSample Delta(const ProbeSample& b, const ProbeSample& a) {
  ProbeSample d;
  d.tx = a.tx;  // gauges: the newest
  d.tx.calls = a.tx.calls - b.tx.calls;
  d.tx.descs = a.tx.descs - b.tx.descs;
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++) d.tx.hist[i] = a.tx.hist[i] - b.tx.hist[i];
  d.tx.errors = a.tx.errors - b.tx.errors;
  d.tx.stalls = a.tx.stalls - b.tx.stalls;
  d.tx.linear_skbs = a.tx.linear_skbs - b.tx.linear_skbs;
  d.tx.frag_skbs = a.tx.frag_skbs - b.tx.frag_skbs;
  d.tx.alloc_fail = a.tx.alloc_fail - b.tx.alloc_fail;
  d.tx.xmit_busy = a.tx.xmit_busy - b.tx.xmit_busy;
  d.tx.poll_calls = a.tx.poll_calls - b.tx.poll_calls;
  d.tx.poll_descs = a.tx.poll_descs - b.tx.poll_descs;
  d.tx_errors = MapDelta(b.tx_errors, a.tx_errors);
  d.drops = MapDelta(b.drops, a.drops);
  d.xdp_errors = MapDelta(b.xdp_errors, a.xdp_errors);
  d.alloc.bulk_calls = a.alloc.bulk_calls - b.alloc.bulk_calls;
  d.alloc.bulk_objs = a.alloc.bulk_objs - b.alloc.bulk_objs;
  d.alloc.napi_build_skb = a.alloc.napi_build_skb - b.alloc.napi_build_skb;
  d.alloc.napi_build_fail = a.alloc.napi_build_fail - b.alloc.napi_build_fail;
  return d;
}

ProbeView::ProbeView(const PinLayout& pins, bool observe) : pins_(pins) {
  if (!ProbesPinned(pins_) && observe) {
    bool already = false;
    auto attached = AttachProbes(pins_, ProbeOptions{ProbeModeFromEnv(), false}, &already);
    if (!attached.ok()) {
      why_not_ = absl::StrCat("--observe could not attach them: ", attached.status().message());
      return;
    }
    attached_for_run_ = !already;
  }
  if (!ProbesPinned(pins_)) {
    why_not_ = "not attached (xsk-loader probes attach, or xsk-bench --observe)";
    return;
  }
  auto p = PinnedProbes::Open(pins_.ProbesDir());
  if (!p.ok()) {
    why_not_ = absl::StrCat("pinned but unreadable: ", p.status().message());
    return;
  }
  probes_.emplace(std::move(*p));
}

ProbeView::~ProbeView() {
  probes_.reset();
  if (attached_for_run_) (void)DetachProbes(pins_);
}

std::vector<SignalMode> ProbeView::signals() const {
  return probes_ ? SignalsOf(probes_->info()) : std::vector<SignalMode>{};
}

bool ProbeView::Has(xsk_probes_signal s) const {
  for (const auto& m : signals())
    if (m.signal == s)
      return m.mode != XSK_PROBES_MODE_UNAVAILABLE && m.mode != XSK_PROBES_MODE_DISABLED;
  return false;
}

ProbeSample ProbeView::Sample(const Scope& tx_scope, uint32_t queue,
                              const std::vector<Scope>& scopes) const {
  ProbeSample s;
  if (!probes_) return s;
  auto in_scopes = [&](uint64_t ns, uint32_t ifi) {
    for (const auto& sc : scopes)
      if (sc.Contains(ns, ifi)) return true;
    return false;
  };
  if (auto rows = probes_->ReadTx(); rows.ok())
    for (const auto& [k, v] : *rows)
      if (tx_scope.Contains(k.netns_ino, k.ifindex) && k.queue == queue) s.tx = v;
  if (auto rows = probes_->ReadTxErrors(); rows.ok())
    for (const auto& [k, n] : *rows)
      if (tx_scope.Contains(k.q.netns_ino, k.q.ifindex) && k.q.queue == queue)
        s.tx_errors[{k.err, k.cause}] += n;
  if (auto rows = probes_->ReadDrops(); rows.ok())
    for (const auto& [k, n] : *rows)
      if (in_scopes(k.netns_ino, k.ifindex)) s.drops[{k.netns_ino, k.ifindex, k.reason, k.xsk}] += n;
  if (auto rows = probes_->ReadXdpErrors(); rows.ok())
    for (const auto& [k, n] : *rows)
      if (in_scopes(k.netns_ino, k.ifindex)) s.xdp_errors[{k.event, k.value}] += n;
  if (auto a = probes_->ReadAlloc(); a.ok()) s.alloc = *a;
  return s;
}

SteerSample Delta(const SteerSample& b, const SteerSample& a) {
  SteerSample d;
  for (int i = 0; i < XSK_STEER_NR_OUTCOMES; i++) d.packets[i] = a.packets[i] - b.packets[i];
  return d;
}

absl::StatusOr<SteerSample> ReadSteer(const PinnedSteer& steer, uint32_t queue) {
  XSKIT_ASSIGN_OR_RETURN(auto rows, steer.ReadCounters());
  SteerSample s;
  if (queue < rows.size())
    for (int i = 0; i < XSK_STEER_NR_OUTCOMES; i++) s.packets[i] = rows[queue].packets[i];
  return s;
}

std::string DropReasonName(uint32_t reason) {
  static const auto* reasons = new absl::StatusOr<DropReasons>(DropReasons::FromKernel());
  return reasons->ok() ? (*reasons)->Name(reason) : absl::StrCat("reason_", reason);
}

}  // namespace xskit::bench
