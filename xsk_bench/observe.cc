#include "xsk_bench/observe.h"

#include "absl/strings/str_cat.h"
#include "lib/errors.h"

namespace xskit::bench {
xsk_probes_tx SampleTx(const ProbeSnapshot& s) { return s.tx.empty() ? xsk_probes_tx{} : s.tx.front().tx; }

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

ProbeSnapshot ProbeView::Sample(const Scope& tx_scope, uint32_t queue,
                                const std::vector<Scope>& scopes) const {
  if (!probes_) return {};
  auto in_scopes = [&](const ProbeSite& site) {
    for (const auto& sc : scopes)
      if (sc.Contains(site.netns_ino, site.ifindex)) return true;
    return false;
  };
  auto is_tx = [&](const ProbeSite& site, uint32_t q) {
    return tx_scope.Contains(site.netns_ino, site.ifindex) && q == queue;
  };
  ProbeSnapshot s = ReadProbeSnapshot(*probes_, SiteResolver::FromPins(pins_), KernelDropReasons());
  std::erase_if(s.tx, [&](const ProbeTxRow& r) { return !is_tx(r.site, r.queue); });
  std::erase_if(s.tx_errors, [&](const ProbeTxErrorRow& r) { return !is_tx(r.site, r.queue); });
  std::erase_if(s.drops, [&](const ProbeDropRow& r) { return !in_scopes(r.site); });
  std::erase_if(s.xdp_errors, [&](const ProbeXdpErrorRow& r) { return !in_scopes(r.site); });
  std::erase_if(s.zc, [&](const ProbeZcRow& r) { return !in_scopes(r.site); });
  s.latency.clear();
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

}  // namespace xskit::bench
