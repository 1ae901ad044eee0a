// One read of the pinned probes (PinnedProbes, the owner's read side) into
// typed rows, each with its site (interface and netns by name) and its
// labels decoded once (lib/decoders.h). `xsk-loader status` and `top`, the
// exporter and xsk-bench all render a ProbeSnapshot, so the same kernel
// counter carries the same labels in every view (docs/DESIGN.md).
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bpf/xsk_probes.h"
#include "lib/xsk_probes_prog.h"
#include "nlohmann/json.hpp"

namespace xskit {

class DropReasons;

// Where a probe key points: the kernel's (netns inode, ifindex) and its
// names. `ifname` "" when the key has no device (ifindex 0); `netns` ""
// for the reader's own namespace, as in the pin directory names.
struct ProbeSite {
  uint64_t netns_ino = 0;
  uint32_t ifindex = 0;
  std::string ifname, netns;
  bool attached = false;  // one of xskit's attached interfaces (or a caller's known one)

  // "veth0" or "veth0@ns1" (top's and xsk-bench's compact form); "-"
  // without a device.
  std::string Label() const;
};

// An interface whose names the caller knows (an attachment's pin
// directory, xsk-bench's own endpoints).
struct KnownIface {
  uint64_t netns_ino = 0;
  uint32_t ifindex = 0;
  std::string ifname, netns;  // netns "" = the initial namespace
};

// Names the sites of probe keys: a known interface by its names; another
// device of the reader's own netns by if_indextoname; any other by
// "if<ifindex>" in the netns named under /run/netns (or "ns<inode>").
// netns_ino 0 (the classic tracepoint cannot see the netns) matches a
// known interface by ifindex alone when that is unambiguous, else it is
// taken as the reader's own.
class SiteResolver {
 public:
  SiteResolver(std::vector<KnownIface> known, uint64_t self_netns);
  // Known interfaces from xskit's attachments under `pins` (their
  // steer_info), with the reader's own netns.
  static SiteResolver FromPins(const PinLayout& pins);

  ProbeSite Resolve(uint64_t netns_ino, uint32_t ifindex) const;
  uint64_t self_netns() const { return self_netns_; }

 private:
  std::map<std::pair<uint64_t, uint32_t>, size_t> by_key_;  // index into known_
  std::map<uint32_t, std::vector<size_t>> by_index_;
  std::vector<KnownIface> known_;
  std::map<uint64_t, std::string> netns_names_;
  uint64_t self_netns_ = 0;
};

struct ProbeTxRow {
  ProbeSite site;
  uint32_t queue = 0;
  xsk_probes_tx tx{};  // counters summed over CPUs, gauges from the newest
};
struct ProbeTxErrorRow {
  ProbeSite site;
  uint32_t queue = 0;
  uint32_t err = 0, cause = 0;
  std::string errno_label, cause_label;
  uint64_t calls = 0;
};
struct ProbeDropRow {
  ProbeSite site;
  uint32_t reason = 0;
  bool xsk = false;
  std::string reason_label;
  uint64_t skbs = 0;
};
struct ProbeXdpErrorRow {
  ProbeSite site;
  uint32_t event = 0, value = 0;
  std::string event_label, value_label;  // value: errno (redirect_err) or action (exception)
  uint64_t events = 0;
};
struct ProbeLatencyRow {
  ProbeSite site;
  uint32_t queue = 0;
  xsk_probes_latency latency{};
};

// The zero-copy path of one interface queue (driver side by the pool's
// netdev and queue; wakeups and need_wakeup by the socket's).
struct ProbeZcRow {
  ProbeSite site;
  uint32_t queue = 0;
  xsk_probes_zc zc{};
};

struct ProbeSnapshot {
  bool attached = false;
  std::string why_not;  // when not attached: why (not pinned, unreadable)
  absl::Status open_status;  // why the pins could not be opened (e.g. not an xskit pin)
  std::string dir;
  int links = 0;
  xsk_probes_info info{};
  std::vector<SignalMode> signals;
  std::vector<ProbeTxRow> tx;
  std::vector<ProbeTxErrorRow> tx_errors;
  std::vector<ProbeDropRow> drops;
  std::vector<ProbeXdpErrorRow> xdp_errors;
  std::vector<ProbeLatencyRow> latency;
  std::vector<ProbeZcRow> zc;
  std::optional<xsk_probes_alloc> alloc;
  // Maps that could not be read: (pin name, message).
  std::vector<std::pair<std::string, std::string>> read_errors;

  // The signal has a probe mode (fentry, tp_btf or tracepoint) here.
  bool Has(xsk_probes_signal s) const;

  // Only the rows whose (netns inode, ifindex) `keep` accepts.
  ProbeSnapshot Filter(const std::function<bool(const ProbeSite&)>& keep) const;

  // The counters since `before` (rows matched by key; a row new here is
  // counted from zero, a counter that went backwards from zero, as after a
  // re-attach); gauges as of this snapshot. Rows with nothing new are kept
  // only when their gauges are (tx).
  ProbeSnapshot Delta(const ProbeSnapshot& before) const;
};

// Reads every map of `probes` once and names the rows through `sites` and
// `reasons` (nullptr: drop reasons as "reason_<n>"). Never fails: a map
// that cannot be read is listed in read_errors and its rows are absent.
ProbeSnapshot ReadProbeSnapshot(const PinnedProbes& probes, const SiteResolver& sites,
                                const DropReasons* reasons);

// The pinned probes under `pins`, read; attached == false (and why_not)
// when none are pinned or they cannot be opened.
ProbeSnapshot ReadProbeSnapshot(const PinLayout& pins, const SiteResolver& sites,
                                const DropReasons* reasons);

// The JSON of what every JSON view (`status --json`, xsk-bench --json)
// prints alike, named once.
// A site: netns_ino, ifindex, ifname, netns.
nlohmann::json SiteJson(const ProbeSite& s);
// A sendmsg error row: its site, queue, errno (number and name: errno,
// errno_name), cause (name), calls.
nlohmann::json TxErrorRowJson(const ProbeTxErrorRow& r);
// A drop row: its site, reason (number and name), xsk, skbs.
nlohmann::json DropRowJson(const ProbeDropRow& r);
// An XDP error row: its site, event (name), the value by what it is (a
// redirect error's errno: errno, errno_name; an exception's action:
// action, action_name, both number and name), events.
nlohmann::json XdpErrorRowJson(const ProbeXdpErrorRow& r);
// A zero-copy row's queue and the counters of the signals `has` accepts
// (status: all), named as every view names them (fill_takes: takes from
// the fill ring, fill_buffers: buffers they obtained, ...). Its site and
// anything derived are the caller's.
nlohmann::json ZcRowJson(const ProbeZcRow& r, const std::function<bool(xsk_probes_signal)>& has);

// The running kernel's drop reason names, read once per process (nullptr
// when the kernel has no BTF).
const DropReasons* KernelDropReasons();

}  // namespace xskit
