// What the kernel says about a run, read before and after it (and once per
// interval): a probe snapshot of the benchmark's interfaces
// (lib/probe_snapshot.h, labelled as status and the exporter label it), the
// steering counters of the receiving queue (PinnedSteer), and a delta of
// two samples.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/pins.h"
#include "lib/probe_snapshot.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"

namespace xskit::bench {

// A netns (by inode) and optionally one interface in it.
struct Scope {
  uint64_t netns_ino = 0;
  uint32_t ifindex = 0;  // 0: any interface of the netns
  bool Contains(uint64_t ns, uint32_t ifi) const {
    return ns == netns_ino && (ifindex == 0 || ifi == ifindex);
  }
};

// The transmit counters of a ProbeView::Sample (its one Tx row; zeros
// when the socket has not sent).
xsk_probes_tx SampleTx(const ProbeSnapshot& s);

class ProbeView {
 public:
  // The pinned probes under `pins`; with `observe` they are attached for
  // the run when absent (and detached by the destructor). Never fails:
  // a view without probes reports attached() == false and why.
  ProbeView(const PinLayout& pins, bool observe);
  ~ProbeView();
  ProbeView(const ProbeView&) = delete;
  ProbeView& operator=(const ProbeView&) = delete;

  bool attached() const { return probes_.has_value(); }
  bool attached_for_run() const { return attached_for_run_; }
  const std::string& why_not() const { return why_not_; }
  std::vector<SignalMode> signals() const;
  bool Has(xsk_probes_signal s) const;  // the signal has a probe mode here

  // A snapshot with the rows of the run: transmit and its errors of
  // (tx_scope, queue), drops and XDP errors in any of `scopes`. Sites are
  // named as `status` and the exporter name them (SiteResolver::FromPins).
  ProbeSnapshot Sample(const Scope& tx_scope, uint32_t queue,
                       const std::vector<Scope>& scopes) const;

 private:
  PinLayout pins_;
  std::optional<PinnedProbes> probes_;
  bool attached_for_run_ = false;
  std::string why_not_;
};

// Steering counters of one queue of an attached interface.
struct SteerSample {
  uint64_t packets[XSK_STEER_NR_OUTCOMES] = {};
};
SteerSample Delta(const SteerSample& before, const SteerSample& after);
absl::StatusOr<SteerSample> ReadSteer(const PinnedSteer& steer, uint32_t queue);

}  // namespace xskit::bench
