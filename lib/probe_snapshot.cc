#include "lib/probe_snapshot.h"

#include <net/if.h>
#include <sys/stat.h>

#include <filesystem>
#include <tuple>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "lib/decoders.h"
#include "lib/drop_reasons.h"
#include "lib/probe_counters.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {
namespace {

// Names of the namespaces under /run/netns by inode (a stat each: no
// privilege needed, unlike entering them to read device names).
std::map<uint64_t, std::string> NetnsNames() {
  std::map<uint64_t, std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) names[st.st_ino] = e.path().filename().string();
  }
  return names;
}

// Counter difference; a counter that went backwards was reset: from zero.
uint64_t Since(uint64_t cur, uint64_t prev) { return cur >= prev ? cur - prev : cur; }

using SiteKey = std::pair<uint64_t, uint32_t>;
SiteKey KeyOf(const ProbeSite& s) { return {s.netns_ino, s.ifindex}; }

template <typename Row>
std::tuple<SiteKey, uint32_t> QueueKey(const Row& r) {
  return {KeyOf(r.site), r.queue};
}

// Every counter of `cur` since `prev` (probe_counters.h).
template <typename V>
void SinceCounters(V& cur, const V& prev) {
  ForEachCounter(cur, prev, [](auto& c, auto p) { c = Since(c, p); });
}

// The counters `value` of each of `rows` since the row of `before` with the
// same key; a row new in `rows` is counted from zero (left as it is).
template <typename Row, typename Key, typename V>
void SinceRows(std::vector<Row>& rows, const std::vector<Row>& before, Key key, V Row::*value) {
  std::map<std::invoke_result_t<Key, const Row&>, const V*> prev;
  for (const auto& r : before) prev[key(r)] = &(r.*value);
  for (auto& r : rows)
    if (auto it = prev.find(key(r)); it != prev.end()) SinceCounters(r.*value, *it->second);
}

// SinceRows of rows with one count each, keeping only the rows that moved.
template <typename Row, typename Key>
void SinceCountRows(std::vector<Row>& rows, const std::vector<Row>& before, Key key,
                    uint64_t Row::*count) {
  SinceRows(rows, before, key, count);
  std::erase_if(rows, [&](const Row& r) { return r.*count == 0; });
}

}  // namespace

std::string ProbeSite::Label() const {
  if (ifname.empty()) return "-";
  return netns.empty() ? ifname : absl::StrCat(ifname, "@", netns);
}

SiteResolver::SiteResolver(std::vector<KnownIface> known, uint64_t self_netns)
    : known_(std::move(known)), netns_names_(NetnsNames()), self_netns_(self_netns) {
  for (size_t i = 0; i < known_.size(); i++) {
    by_key_[{known_[i].netns_ino, known_[i].ifindex}] = i;
    by_index_[known_[i].ifindex].push_back(i);
  }
}

SiteResolver SiteResolver::FromPins(const PinLayout& pins) {
  std::vector<KnownIface> known;
  for (const auto& dir : pins.ListIfaceDirs()) {
    auto steer = PinnedSteer::Open(pins.IfaceDir(dir));
    if (!steer.ok()) continue;
    auto link = steer->Link();
    if (!link.pinned || link.ifindex == 0) continue;  // the device is gone
    IfaceDirParts parts = ParseIfaceDirName(dir);
    known.push_back({steer->info().netns_ino, link.ifindex, parts.ifname, parts.netns});
  }
  uint64_t self = 0;
  if (auto ns = CurrentNetns(); ns.ok()) self = ns->inode;
  return SiteResolver(std::move(known), self);
}

ProbeSite SiteResolver::Resolve(uint64_t netns_ino, uint32_t ifindex) const {
  ProbeSite s;
  s.netns_ino = netns_ino;
  s.ifindex = ifindex;
  const KnownIface* k = nullptr;
  if (netns_ino == 0) {
    auto it = by_index_.find(ifindex);
    if (it != by_index_.end() && it->second.size() == 1) k = &known_[it->second[0]];
  } else if (auto it = by_key_.find({netns_ino, ifindex}); it != by_key_.end()) {
    k = &known_[it->second];
  }
  if (k) {
    s.ifname = k->ifname;
    s.netns = k->netns;
    s.attached = true;
    return s;
  }
  bool own = netns_ino == self_netns_ || netns_ino == 0;
  if (!own) {
    auto it = netns_names_.find(netns_ino);
    s.netns = it != netns_names_.end() ? it->second : absl::StrCat("ns", netns_ino);
  }
  char buf[IF_NAMESIZE] = {};
  if (ifindex != 0)
    s.ifname = own && if_indextoname(ifindex, buf) ? std::string(buf) : absl::StrCat("if", ifindex);
  return s;
}

bool ProbeSnapshot::Has(xsk_probes_signal s) const {
  if (!attached || static_cast<uint32_t>(s) >= info.nr_signals) return false;
  uint32_t m = info.signals[s].mode;
  return m == XSK_PROBES_MODE_FENTRY || m == XSK_PROBES_MODE_TP_BTF ||
         m == XSK_PROBES_MODE_TRACEPOINT;
}

ProbeSnapshot ProbeSnapshot::Filter(const std::function<bool(const ProbeSite&)>& keep) const {
  ProbeSnapshot out = *this;
  auto prune = [&](auto& rows) {
    std::erase_if(rows, [&](const auto& r) { return !keep(r.site); });
  };
  prune(out.tx);
  prune(out.tx_errors);
  prune(out.drops);
  prune(out.xdp_errors);
  prune(out.latency);
  prune(out.zc);
  return out;
}

ProbeSnapshot ProbeSnapshot::Delta(const ProbeSnapshot& b) const {
  ProbeSnapshot d = *this;
  SinceRows(d.tx, b.tx, QueueKey<ProbeTxRow>, &ProbeTxRow::tx);  // gauges stay (not counters)
  SinceRows(d.latency, b.latency, QueueKey<ProbeLatencyRow>, &ProbeLatencyRow::latency);
  SinceRows(d.zc, b.zc, QueueKey<ProbeZcRow>, &ProbeZcRow::zc);
  SinceCountRows(
      d.tx_errors, b.tx_errors,
      [](const ProbeTxErrorRow& r) {
        return std::make_tuple(KeyOf(r.site), r.queue, r.err, r.cause);
      },
      &ProbeTxErrorRow::calls);
  SinceCountRows(
      d.drops, b.drops,
      [](const ProbeDropRow& r) { return std::make_tuple(KeyOf(r.site), r.reason, r.xsk); },
      &ProbeDropRow::skbs);
  SinceCountRows(
      d.xdp_errors, b.xdp_errors,
      [](const ProbeXdpErrorRow& r) { return std::make_tuple(KeyOf(r.site), r.event, r.value); },
      &ProbeXdpErrorRow::events);
  if (d.alloc && b.alloc) SinceCounters(*d.alloc, *b.alloc);
  return d;
}

ProbeSnapshot ReadProbeSnapshot(const PinnedProbes& p, const SiteResolver& sites,
                                const DropReasons* reasons) {
  ProbeSnapshot s;
  s.attached = true;
  s.dir = p.dir();
  s.links = p.links();
  s.info = p.info();
  s.signals = SignalsOf(s.info);
  auto failed = [&](const char* what, const absl::Status& st) {
    s.read_errors.emplace_back(what, std::string(st.message()));
  };
  // One map's entries into `out`, a row each (`row(key, value)`); the pin
  // in read_errors when the map cannot be read.
  auto rows_of = [&](const char* pin, const auto& entries, auto& out, auto row) {
    if (!entries.ok()) return failed(pin, entries.status());
    for (const auto& [k, v] : *entries) out.push_back(row(k, v));
  };
  auto site = [&](const auto& k) { return sites.Resolve(k.netns_ino, k.ifindex); };
  rows_of(kPinTxStats, p.ReadTx(), s.tx, [&](const auto& k, const auto& v) {
    return ProbeTxRow{site(k), k.queue, v};
  });
  rows_of(kPinTxErrors, p.ReadTxErrors(), s.tx_errors, [&](const auto& k, uint64_t n) {
    return ProbeTxErrorRow{site(k.q), k.q.queue, k.err, k.cause,
                           ErrnoLabel(static_cast<int>(k.err)), CauseLabel(k.cause), n};
  });
  rows_of(kPinDrops, p.ReadDrops(), s.drops, [&](const auto& k, uint64_t n) {
    return ProbeDropRow{site(k), k.reason, k.xsk != 0, DropReasonLabel(reasons, k.reason), n};
  });
  rows_of(kPinXdpErrors, p.ReadXdpErrors(), s.xdp_errors, [&](const auto& k, uint64_t n) {
    return ProbeXdpErrorRow{site(k), k.event, k.value, XdpEventLabel(k.event),
                            XdpValueLabel(k.event, k.value), n};
  });
  rows_of(kPinLatency, p.ReadLatency(), s.latency, [&](const auto& k, const auto& v) {
    return ProbeLatencyRow{site(k), k.queue, v};
  });
  rows_of(kPinZcStats, p.ReadZc(), s.zc, [&](const auto& k, const auto& v) {
    return ProbeZcRow{site(k), k.queue, v};
  });
  if (auto a = p.ReadAlloc(); a.ok())
    s.alloc = *a;
  else
    failed(kPinAllocStats, a.status());
  return s;
}

ProbeSnapshot ReadProbeSnapshot(const PinLayout& pins, const SiteResolver& sites,
                                const DropReasons* reasons) {
  ProbeSnapshot s;
  s.dir = pins.ProbesDir();
  if (!ProbesPinned(pins)) {
    s.why_not = "not attached";
    return s;
  }
  auto p = PinnedProbes::Open(pins.ProbesDir());
  if (!p.ok()) {
    s.why_not = std::string(p.status().message());
    s.open_status = p.status();
    return s;
  }
  return ReadProbeSnapshot(*p, sites, reasons);
}

nlohmann::json SiteJson(const ProbeSite& s) {
  return {{"netns_ino", s.netns_ino}, {"ifindex", s.ifindex}, {"ifname", s.ifname},
          {"netns", s.netns}};
}

nlohmann::json TxErrorRowJson(const ProbeTxErrorRow& r) {
  nlohmann::json e = SiteJson(r.site);
  e["queue"] = r.queue;
  e["errno"] = r.err;
  e["errno_name"] = r.errno_label;
  e["cause"] = r.cause_label;
  e["calls"] = r.calls;
  return e;
}

nlohmann::json XdpErrorRowJson(const ProbeXdpErrorRow& r) {
  nlohmann::json e = SiteJson(r.site);
  e["event"] = r.event_label;
  // value_label is an errno's name or an action's (XdpValueLabel).
  if (r.event == XSK_PROBES_XDP_REDIRECT_ERR) {
    e["errno"] = r.value;
    e["errno_name"] = r.value_label;
  } else {
    e["action"] = r.value;
    e["action_name"] = r.value_label;
  }
  e["events"] = r.events;
  return e;
}

nlohmann::json DropRowJson(const ProbeDropRow& r) {
  nlohmann::json e = SiteJson(r.site);
  e["reason"] = r.reason;
  e["reason_name"] = r.reason_label;
  e["xsk"] = r.xsk;
  e["skbs"] = r.skbs;
  return e;
}

nlohmann::json ZcRowJson(const ProbeZcRow& r, const std::function<bool(xsk_probes_signal)>& has) {
  const xsk_probes_zc& v = r.zc;
  nlohmann::json e = {{"queue", r.queue}};
  if (has(XSK_PROBES_SIG_ZC_TX_BATCH)) {
    e["tx_batches"] = v.tx_batches;
    e["tx_descs"] = v.tx_descs;
  }
  if (has(XSK_PROBES_SIG_ZC_COMPLETIONS)) {
    e["completion_calls"] = v.completion_calls;
    e["completions"] = v.completions;
  }
  if (has(XSK_PROBES_SIG_ZC_WAKEUPS)) {
    e["wakeups_sendmsg"] = v.wakeups_sendmsg;
    if (has(XSK_PROBES_SIG_POLL_TX)) e["wakeups_poll"] = v.wakeups_poll;
  }
  if (has(XSK_PROBES_SIG_NEED_WAKEUP)) {
    e["sendmsg_need_wakeup"] = v.sendmsg_need_wakeup;
    e["sendmsg_no_need_wakeup"] = v.sendmsg_no_need_wakeup;
  }
  if (has(XSK_PROBES_SIG_ZC_RX_FILL)) {
    e["fill_takes"] = v.rx_alloc_calls;
    e["fill_wanted"] = v.rx_alloc_wanted;
    e["fill_buffers"] = v.rx_alloc_frames;
    e["fill_short"] = v.rx_alloc_short;
    e["fill_empty"] = v.rx_alloc_empty;
  }
  return e;
}

const DropReasons* KernelDropReasons() {
  static const auto* reasons = new absl::StatusOr<DropReasons>(DropReasons::FromKernel());
  return reasons->ok() ? &**reasons : nullptr;
}

}  // namespace xskit
