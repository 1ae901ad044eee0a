// PinnedProbes: the read side of the probes' pins (status, top, the
// exporter). The load/attach side is in xsk_probes_prog.cc.
#include <bpf/bpf.h>
#include <dirent.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/percpu_maps.h"
#include "lib/pins.h"
#include "lib/probe_counters.h"
#include "lib/xsk_probes_prog.h"

namespace xskit {

// ---------------------------------------------------------- PinnedProbes

absl::StatusOr<PinnedProbes> PinnedProbes::Open(const std::string& dir, PinOpen mode) {
  PinnedProbes p;
  p.dir_ = dir;
  // Every pin is checked before use (bpf/xsk_probes_maps.bpf.h): a foreign
  // map must not be read into the fixed structs below.
  constexpr uint32_t kPH = BPF_MAP_TYPE_PERCPU_HASH, kPA = BPF_MAP_TYPE_PERCPU_ARRAY;
  XSKIT_ASSIGN_OR_RETURN(p.info_map_, OpenPinnedMap(dir, kPinProbesInfo,
                                                    {BPF_MAP_TYPE_ARRAY, 4, sizeof(xsk_probes_info), 1, 1}, nullptr, mode));
  XSKIT_RETURN_IF_ERROR(ReadPinnedInfo(p.info_map_.get(), dir, kPinProbesInfo, &p.info_));
  XSKIT_RETURN_IF_ERROR(
      CheckInfoVersion(dir, kPinProbesInfo, p.info_.version, ProbesInfoVersion()));
  XSKIT_ASSIGN_OR_RETURN(p.tx_, OpenPinnedMap(dir, kPinTxStats,
                                              {kPH, sizeof(xsk_probes_qkey), sizeof(xsk_probes_tx), 1, 4096}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.tx_errors_, OpenPinnedMap(dir, kPinTxErrors,
                                                     {kPH, sizeof(xsk_probes_err_key), 8, 1, 4096}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.drops_, OpenPinnedMap(dir, kPinDrops,
                                                 {kPH, sizeof(xsk_probes_drop_key), 8, 1, 8192}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.drop_slots_,
                         OpenPinnedMap(dir, kPinDropSlots,
                                       {kPA, 4, sizeof(xsk_probes_drop_slot), XSK_PROBES_DROP_SLOTS,
                                        XSK_PROBES_DROP_SLOTS}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.xdp_errors_, OpenPinnedMap(dir, kPinXdpErrors,
                                                      {kPH, sizeof(xsk_probes_xdp_key), 8, 1, 1024}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.alloc_, OpenPinnedMap(dir, kPinAllocStats,
                                                 {kPA, 4, sizeof(xsk_probes_alloc), 1, 1}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.latency_, OpenPinnedMap(dir, kPinLatency,
                                                   {kPH, sizeof(xsk_probes_qkey),
                                                    sizeof(xsk_probes_latency), 1, 1024}, nullptr, mode));
  XSKIT_ASSIGN_OR_RETURN(p.zc_, OpenPinnedMap(dir, kPinZcStats,
                                              {kPH, sizeof(xsk_probes_qkey), sizeof(xsk_probes_zc), 1, 4096},
                                              nullptr, mode));
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (absl::StartsWith(e->d_name, "link_")) p.links_++;
    ::closedir(d);
  }
  return p;
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_qkey, xsk_probes_tx>> PinnedProbes::ReadTx()
    const {
  return ReadPerCpuHash<xsk_probes_qkey, xsk_probes_tx>(
      tx_.get(), "tx_stats", [](xsk_probes_tx& a, const xsk_probes_tx& b) {
        AddCounters(a, b);
        if (b.gauge_ns > a.gauge_ns) {
          a.gauge_ns = b.gauge_ns;
          a.cq_size = b.cq_size;
          a.cq_pending = b.cq_pending;
          a.in_flight = b.in_flight;
          a.tx_budget = b.tx_budget;
        }
      });
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_err_key, uint64_t>> PinnedProbes::ReadTxErrors()
    const {
  return ReadPerCpuHash<xsk_probes_err_key, uint64_t>(tx_errors_.get(), "tx_errors",
                                                      AddCounters<uint64_t>);
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_drop_key, uint64_t>> PinnedProbes::ReadDrops()
    const {
  // Drops live in two places (bpf/xsk_probes.h): each CPU's direct-mapped
  // slots, and the hash map for keys whose slot was taken. Added up by key.
  XSKIT_ASSIGN_OR_RETURN(auto hashed,
                         (ReadPerCpuHash<xsk_probes_drop_key, uint64_t>(drops_.get(), "drops",
                                                                        AddCounters<uint64_t>)));
  using Key = std::tuple<uint64_t, uint32_t, uint32_t, uint32_t>;
  auto key_of = [](const xsk_probes_drop_key& k) {
    return Key{k.netns_ino, k.ifindex, k.reason, k.xsk};
  };
  std::map<Key, uint64_t> sums;
  for (const auto& [k, n] : hashed) sums[key_of(k)] += n;

  XSKIT_ASSIGN_OR_RETURN(auto values, ReadPerCpuArray<xsk_probes_drop_slot>(
                                          drop_slots_.get(), XSK_PROBES_DROP_SLOTS, "drop_slots"));
  for (const auto& slot : values)
    if (slot.skbs) sums[key_of(slot.key)] += slot.skbs;

  Entries<xsk_probes_drop_key, uint64_t> out;
  for (const auto& [k, n] : sums) {
    xsk_probes_drop_key dk{};
    std::tie(dk.netns_ino, dk.ifindex, dk.reason, dk.xsk) = k;
    out.emplace_back(dk, n);
  }
  return out;
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_xdp_key, uint64_t>>
PinnedProbes::ReadXdpErrors() const {
  return ReadPerCpuHash<xsk_probes_xdp_key, uint64_t>(xdp_errors_.get(), "xdp_errors",
                                                      AddCounters<uint64_t>);
}

absl::StatusOr<xsk_probes_alloc> PinnedProbes::ReadAlloc() const {
  XSKIT_ASSIGN_OR_RETURN(auto per_cpu,
                         ReadPerCpuArray<xsk_probes_alloc>(alloc_.get(), 1, "alloc_stats"));
  xsk_probes_alloc sum{};
  for (const auto& a : per_cpu) AddCounters(sum, a);
  return sum;
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_qkey, xsk_probes_latency>>
PinnedProbes::ReadLatency() const {
  return ReadPerCpuHash<xsk_probes_qkey, xsk_probes_latency>(latency_.get(), "latency",
                                                             AddCounters<xsk_probes_latency>);
}

absl::StatusOr<PinnedProbes::Entries<xsk_probes_qkey, xsk_probes_zc>> PinnedProbes::ReadZc() const {
  return ReadPerCpuHash<xsk_probes_qkey, xsk_probes_zc>(zc_.get(), "zc_stats",
                                                        AddCounters<xsk_probes_zc>);
}

}  // namespace xskit
