// What the kernel says about a run, read before and after it (and once per
// interval): the probes' counters for the benchmark's interfaces (from the
// pins, PinnedProbes), the steering counters of the receiving queue
// (PinnedSteer), and a delta of two samples.
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

struct ProbeSample {
  xsk_probes_tx tx{};  // the Tx socket's queue (counters only; gauges from the newest)
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> tx_errors;       // (errno, cause) -> calls
  std::map<std::tuple<uint64_t, uint32_t, uint32_t, uint32_t>, uint64_t> drops;  // (netns, ifindex, reason, xsk)
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> xdp_errors;      // (event, value)
  xsk_probes_alloc alloc{};
};
ProbeSample Delta(const ProbeSample& before, const ProbeSample& after);

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

  // Tx of (tx_scope, queue); drops and XDP errors in any of `scopes`.
  ProbeSample Sample(const Scope& tx_scope, uint32_t queue,
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

// The drop reason's name from the kernel's BTF ("NO_SOCKET"), cached.
std::string DropReasonName(uint32_t reason);

}  // namespace xskit::bench
