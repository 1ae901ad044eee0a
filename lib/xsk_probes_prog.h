// xsk_probes' sole owner: resolves each signal's probe mode from the running
// kernel's BTF and trial loads, loads bpf/xsk_probes.bpf.c, attaches and pins
// it under <root>/probes/, and reads it back from the pins (PinnedProbes,
// which the exporter and `status` use; they never touch the skeleton).
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/xsk_probes.h"
#include "lib/enum_table.h"
#include "lib/fd.h"
#include "lib/pins.h"

struct xsk_probes;  // the skeleton (build/bpf/xsk_probes.skel.h)
struct bpf_link;

namespace xskit {

static_assert(sizeof(xsk_probes_qkey) == 16, "xsk_probes_qkey layout");
static_assert(sizeof(xsk_probes_tx) == 184, "xsk_probes_tx layout");
static_assert(sizeof(xsk_probes_err_key) == 24, "xsk_probes_err_key layout");
static_assert(sizeof(xsk_probes_drop_key) == 24, "xsk_probes_drop_key layout");
static_assert(sizeof(xsk_probes_drop_slot) == 48, "xsk_probes_drop_slot layout");
static_assert(sizeof(xsk_probes_xdp_key) == 24, "xsk_probes_xdp_key layout");
static_assert(sizeof(xsk_probes_alloc) == 32, "xsk_probes_alloc layout");
static_assert(sizeof(xsk_probes_latency) == 272, "xsk_probes_latency layout");
static_assert(sizeof(xsk_probes_zc) == 184, "xsk_probes_zc layout");
static_assert(sizeof(xsk_probes_signal_info) == 512, "signal_info layout");
static_assert(sizeof(xsk_probes_info) == 16 + 18 * 512, "xsk_probes_info layout");
static_assert(XSK_PROBES_INFO_VERSION == 3, "a layout change of xsk_probes_info bumps the version");

// The xsk_probes_info version this build writes and reads
// (XSK_PROBES_INFO_VERSION; lib/info_versions.cc says why it is a function).
uint32_t ProbesInfoVersion();

// Pin names inside <root>/probes/ (maps; links are "link_<program>").
inline constexpr const char* kPinProbesInfo = "probes_info";
inline constexpr const char* kPinTxStats = "tx_stats";
inline constexpr const char* kPinTxErrors = "tx_errors";
inline constexpr const char* kPinDrops = "drops";
inline constexpr const char* kPinDropSlots = "drop_slots";
inline constexpr const char* kPinXdpErrors = "xdp_errors";
inline constexpr const char* kPinAllocStats = "alloc_stats";
inline constexpr const char* kPinLatency = "latency";
inline constexpr const char* kPinZcStats = "zc_stats";

const char* SignalName(xsk_probes_signal s);  // "batch", "backpressure", ...
const char* ProbeModeName(uint32_t mode);     // "fentry", "tp_btf", "tracepoint", ...
const char* CauseName(uint32_t cause);        // "budget", "cq_full", ...
// Lower bound of batch histogram bucket i (0, 1, 2, 4, ..., 256).
uint32_t BatchBucketLow(int i);

// kTracepointProbeRead: tracepoint mode with the Tx programs that read each
// field with bpf_probe_read_kernel (the variant kernels without
// bpf_rdonly_cast get, e.g. 6.1), for tests and benchmarks on newer kernels.
enum class ProbeModeRequest { kAuto, kFentry, kTracepoint, kTracepointProbeRead };
// `--mode` of `probe` and `probes attach` (auto: XSKIT_PROBE_MODE, else fentry where allowed).
inline constexpr EnumName<ProbeModeRequest> kProbeModeRequestNames[] = {
    {ProbeModeRequest::kAuto, "auto"},
    {ProbeModeRequest::kFentry, "fentry"},
    {ProbeModeRequest::kTracepoint, "tracepoint"},
    {ProbeModeRequest::kTracepointProbeRead, "tracepoint-probe-read"}};

// What the drop probe (kfree_skb) keeps per drop. Every mode but kOff counts
// each drop exactly by reason; kInterfaces also keys it by netns, interface
// and AF_XDP-or-not (a few loads from the skb more, measured by
// bench/probes_bench.cc); kReasons keys by reason alone (interface 0).
enum class DropsMode { kInterfaces, kReasons, kOff };

// The one name table of DropsMode: `--drops` (CLI11 transformer) and reports.
inline constexpr EnumName<DropsMode> kDropsModeNames[] = {
    {DropsMode::kInterfaces, "interfaces"},
    {DropsMode::kReasons, "reasons"},
    {DropsMode::kOff, "off"},
};
const char* DropsModeName(DropsMode m);

struct ProbeOptions {
  ProbeModeRequest mode = ProbeModeRequest::kAuto;
  bool latency = false;  // completion latency (fentry only; per-skb hash work)
  DropsMode drops = DropsMode::kInterfaces;
};

struct SignalMode {
  xsk_probes_signal signal;
  uint32_t mode = XSK_PROBES_MODE_UNAVAILABLE;  // enum xsk_probes_mode
  std::string reason;
};

// A freshly loaded probe set, not yet attached.
class XskProbesProg {
 public:
  // Resolves modes (BTF lookups, then a trial load per fentry/tp_btf
  // variant) and loads the final set.
  static absl::StatusOr<XskProbesProg> Load(const ProbeOptions& opts);
  XskProbesProg(XskProbesProg&&) noexcept;
  XskProbesProg& operator=(XskProbesProg&&) noexcept;
  ~XskProbesProg();

  const std::vector<SignalMode>& signals() const { return signals_; }
  const xsk_probes_info& info() const { return info_; }

  // Attaches every loaded program; links are owned here until Pin().
  absl::Status Attach();
  // Pins maps and links into `dir` (created).
  absl::Status Pin(const std::string& dir) const;

 private:
  XskProbesProg() = default;
  xsk_probes* skel_ = nullptr;
  std::vector<SignalMode> signals_;
  xsk_probes_info info_{};
  std::vector<std::pair<std::string, bpf_link*>> links_;
};

// Read access to the pinned probe set.
class PinnedProbes {
 public:
  // kReadOnly: the maps read-only (BPF_F_RDONLY; the exporter, as a member
  // of the group xskit). Links are never opened.
  static absl::StatusOr<PinnedProbes> Open(const std::string& dir,
                                           PinOpen mode = PinOpen::kReadWrite);

  const xsk_probes_info& info() const { return info_; }
  const std::string& dir() const { return dir_; }
  // How many "link_*" pins the directory holds.
  int links() const { return links_; }

  template <typename K, typename V>
  using Entries = std::vector<std::pair<K, V>>;

  // Summed over CPUs; gauges from the CPU with the newest gauge_ns.
  absl::StatusOr<Entries<xsk_probes_qkey, xsk_probes_tx>> ReadTx() const;
  absl::StatusOr<Entries<xsk_probes_err_key, uint64_t>> ReadTxErrors() const;
  absl::StatusOr<Entries<xsk_probes_drop_key, uint64_t>> ReadDrops() const;
  absl::StatusOr<Entries<xsk_probes_xdp_key, uint64_t>> ReadXdpErrors() const;
  absl::StatusOr<xsk_probes_alloc> ReadAlloc() const;
  absl::StatusOr<Entries<xsk_probes_qkey, xsk_probes_latency>> ReadLatency() const;
  // The zero-copy path, summed over CPUs.
  absl::StatusOr<Entries<xsk_probes_qkey, xsk_probes_zc>> ReadZc() const;

 private:
  std::string dir_;
  xsk_probes_info info_{};
  int links_ = 0;
  Fd info_map_, tx_, tx_errors_, drops_, drop_slots_, xdp_errors_, alloc_, latency_, zc_;
};

// `xsk-loader probes attach`: loads, attaches and pins the probes under
// pins.ProbesDir() unless they are pinned already (then *already = true and
// nothing changes).
// The set is built in <root>/:probes-staging-<pid> and renamed into place,
// so readers see all of it or none. `explicitly` (`xsk-loader probes
// attach`, as opposed to the probes `attach` brings along) marks the set so
// that the last interface's detach leaves it. Callers hold the PinLock.
// A set of another info version (an upgrade or downgrade of xskit) is
// replaced: the new set is staged, exchanged with the old one in one step,
// and the old one unpinned (its links detach; its counters are gone), and
// *replaced (if given) gets the old version, else 0. Pins that are not
// xskit's probes of some version are refused (ExitCode::kForeignPin) and
// left as they are.
absl::StatusOr<std::vector<SignalMode>> AttachProbes(const PinLayout& pins,
                                                      const ProbeOptions& opts, bool* already,
                                                      bool explicitly = false,
                                                      uint32_t* replaced = nullptr);
// Unpins (and so detaches) the probes. ExitCode::kNotAttached when absent.
absl::Status DetachProbes(const PinLayout& pins);
bool ProbesPinned(const PinLayout& pins);
// `xsk-loader probes attach` asked for them (a marker directory "explicit"
// in <root>/probes/).
bool ProbesAttachedExplicitly(const PinLayout& pins);

// The signals of an info entry (pinned or fresh).
std::vector<SignalMode> SignalsOf(const xsk_probes_info& info);

// The mode the process asks for through XSKIT_PROBE_MODE
// (fentry|tracepoint|tracepoint-probe-read).
ProbeModeRequest ProbeModeFromEnv();

}  // namespace xskit
