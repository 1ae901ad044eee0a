// The AF_XDP socket half of XskCollector (docs/DESIGN.md "Metric names",
// exporter/README.md "AF_XDP sockets"): every AF_XDP socket on the host,
// from the task_file iterator of lib/xsk_sockets_prog.h, loaded once in
// Prime().
//
// Cost: a pass over every process's files costs about a microsecond per open
// file (20 ms for 22,000 files on the loaded 2-core development VM), too much
// for every scrape. So a full pass (discovery) runs at most every
// --sockets.discovery-interval seconds (30), and the scrapes in between
// re-read only the processes that held AF_XDP sockets at the last discovery
// (task iterator parameters, 6.1+): counters stay exact per scrape, a
// closed socket disappears at once, a socket opened by a process that held
// none appears at the next discovery. Kernels without per-process task_file
// iterators get a full pass on every scrape.
//
// Identity and cardinality: a socket's series carry {ifname, netns, queue,
// umem_id}, never its inode or owner pid (both unbounded over time). The
// kernel hands out umem ids lowest-free-first, so the label set is bounded
// by the interfaces x queues x live umems; sockets sharing one queue and one
// umem (XDP_SHARED_UMEM on the same queue) are summed into one series.
// Unbound sockets are counted in xsk_sockets, not exported per socket.
#include <bpf/bpf.h>

#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "exporter/collector.h"
#include "exporter/families.h"
#include "lib/iface_facts.h"

namespace xskit::exporter {
namespace {

using prometheus::MetricType;

// The netdev family's feature names (lib/iface_facts.h); from the recorded
// driver table's booleans where the kernel reports no xdp-features.
std::string XdpFeatures(const XdpCapabilities& x) {
  uint64_t raw = x.raw_xdp_features;
  if (raw == 0)
    raw = (x.native ? kXdpActBasic | kXdpActRedirect : 0) | (x.zerocopy ? kXdpActXskZerocopy : 0) |
          (x.rx_sg ? kXdpActRxSg : 0);
  return XdpFeatureNames(raw);
}

}  // namespace

void XskCollector::PrimeSockets() {
  auto prog = XskSocketsProg::Load();
  if (prog.ok()) {
    sockets_prog_.emplace(std::move(*prog));
  } else {
    sockets_reason_ = std::string(prog.status().message());
    Error("sockets", absl::StrCat(sockets_reason_, "; xsk_socket_* stay absent"));
  }
}

void XskCollector::CollectSockets(std::vector<prometheus::MetricFamily>& out) const {
  FamilyBuilder coverage("xsk_socket_inventory_coverage",
                         "Which source lists the AF_XDP sockets (bpf_iter, or unavailable with "
                         "the reason); always 1.",
                         MetricType::Gauge);
  if (!sockets_prog_) {
    coverage.Add({{"source", "unavailable"}, {"reason", sockets_reason_}}, 1);
    coverage.MoveTo(out);
    return;
  }
  coverage.Add({{"source", "bpf_iter"}, {"reason", ""}}, 1);
  coverage.MoveTo(out);

  absl::StatusOr<std::vector<xsk_socket_rec>> recs;
  {
    auto now = std::chrono::steady_clock::now();
    bool discover = !per_pid_pass_ || !last_discovery_ ||
                    now - *last_discovery_ >= std::chrono::duration<double>(socket_discovery_s_);
    if (!discover) {
      recs = sockets_prog_->ReadRecordsOf(socket_pids_);
      if (absl::IsUnimplemented(recs.status())) {
        per_pid_pass_ = false;
        discover = true;
      }
    }
    if (discover) {
      recs = sockets_prog_->ReadRecords();
      if (recs.ok()) {
        last_discovery_ = now;
        std::set<uint32_t> pids;
        for (const auto& r : *recs) pids.insert(r.pid);
        socket_pids_.assign(pids.begin(), pids.end());
      }
    }
  }
  if (!recs.ok()) {
    Error("sockets", std::string(recs.status().message()));
    return;
  }
  std::vector<AfXdpSocket> sockets = MergeSocketRecords(*recs);
  std::vector<SteerRef> steers;
  for (const auto& e : cache_.ifaces()) {
    if (!e->live()) continue;
    bpf_map_info mi{};
    uint32_t len = sizeof(mi);
    if (bpf_obj_get_info_by_fd(e->steer->xsks_map_fd(), &mi, &len) != 0) continue;
    steers.push_back({e->dir_name, e->steer->info(), mi.id});
  }
  MarkSteering(steers, sockets);

  FamilyBuilder count("xsk_sockets", "AF_XDP sockets on the host, by state (bound, unbound).",
                      MetricType::Gauge);
  FamilyBuilder info("xsk_socket_info",
                     "One series per bound AF_XDP socket identity (ifname, netns, queue, umem_id) "
                     "with its mode and owner; always 1.",
                     MetricType::Gauge);
  FamilyBuilder rings("xsk_socket_ring_entries",
                      "Size of the socket's rings in descriptors, by ring (rx, tx, fill, "
                      "completion).",
                      MetricType::Gauge);
  FamilyBuilder unregistered(
      "xsk_socket_unregistered",
      "1 when the socket is bound to a queue xskit steers but is not in xskit's XSKMAP for it "
      "(it will never receive), 0 when registered; only for steered queues.",
      MetricType::Gauge);
  struct Ctr {
    const char* name;
    const char* help;
    __u64 xsk_socket_counters::*field;
  };
  static const Ctr kCounters[] = {
      {"xsk_socket_rx_dropped_total",
       "Frames the kernel dropped for the socket (Rx ring full or no fill-ring buffer).",
       &xsk_socket_counters::rx_dropped},
      {"xsk_socket_rx_ring_full_total", "Frames dropped because the socket's Rx ring was full.",
       &xsk_socket_counters::rx_full},
      {"xsk_socket_fill_ring_empty_total",
       "Times the kernel or driver found the fill ring empty (copy mode: one per frame dropped; "
       "zero-copy drivers count batch refills that fell short).",
       &xsk_socket_counters::fill_ring_empty},
      {"xsk_socket_rx_invalid_descriptors_total", "Invalid descriptors on the socket's Rx path.",
       &xsk_socket_counters::rx_invalid},
      {"xsk_socket_tx_invalid_descriptors_total",
       "Invalid descriptors the application posted on the Tx ring.",
       &xsk_socket_counters::tx_invalid},
      {"xsk_socket_tx_ring_empty_total",
       "Times a Tx wakeup found the Tx ring empty.", &xsk_socket_counters::tx_ring_empty},
  };
  std::vector<FamilyBuilder> ctrs;
  for (const auto& c : kCounters) ctrs.emplace_back(c.name, c.help, MetricType::Counter);

  // One series per socket in each family (fewer where sockets share an
  // identity): room for all of them up front; the identity labels are built
  // once per socket and copied into each family's series, the last use moves.
  info.Reserve(sockets.size());
  rings.Reserve(4 * sockets.size());
  unregistered.Reserve(sockets.size());
  for (auto& c : ctrs) c.Reserve(sockets.size());
  uint64_t bound = 0, unbound = 0;
  for (const auto& s : sockets) {
    if (!s.bound) {
      unbound++;
      continue;
    }
    bound++;
    Labels id;
    id.reserve(8);
    id.emplace_back("ifname", s.ifname);
    id.emplace_back("netns", s.netns);
    id.emplace_back("queue", absl::StrCat(s.queue));
    id.emplace_back("umem_id", absl::StrCat(s.umem_id));
    {
      Labels il;
      il.reserve(id.size() + 3);
      il = id;
      il.emplace_back("mode", s.mode());
      il.emplace_back("need_wakeup", s.need_wakeup ? "true" : "false");
      il.emplace_back("comm", s.owners.empty() ? "" : s.owners.front().comm);
      info.Add(std::move(il), 1);
    }
    for (size_t i = 0; i < ctrs.size(); i++)
      ctrs[i].Add(Labels(id), static_cast<double>(s.counters.*(kCounters[i].field)));
    const std::pair<const char*, uint32_t> rs[] = {
        {"rx", s.rx_ring}, {"tx", s.tx_ring}, {"fill", s.fill_ring}, {"completion", s.comp_ring}};
    for (const auto& [ring, n] : rs) {
      if (!n) continue;
      Labels rl;
      rl.reserve(id.size() + 1);
      rl = id;
      rl.emplace_back("ring", ring);
      rings.Add(std::move(rl), n);
    }
    if (s.steered_queue) unregistered.Add(std::move(id), s.registered ? 0 : 1);
  }
  count.Add({{"state", "bound"}}, static_cast<double>(bound));
  count.Add({{"state", "unbound"}}, static_cast<double>(unbound));
  count.MoveTo(out);
  info.MoveTo(out);
  for (auto& c : ctrs) c.MoveTo(out);
  rings.MoveTo(out);
  unregistered.MoveTo(out);
  CollectInterfaceInfo(sockets, out);
}

// xsk_interface_info: what the driver of each interface holding a socket
// (in the exporter's own namespace) offers, from the interface facts of
// `xsk-loader check`. Facts are cached per interface for a minute: they cost
// netlink and ethtool round trips and change only with the driver.
void XskCollector::CollectInterfaceInfo(const std::vector<AfXdpSocket>& sockets,
                                        std::vector<prometheus::MetricFamily>& out) const {
  FamilyBuilder iface("xsk_interface_info",
                      "Interface facts for interfaces holding AF_XDP sockets (the exporter's own "
                      "network namespace): driver and the XDP features it advertises; always 1.",
                      MetricType::Gauge);
  auto now = std::chrono::steady_clock::now();
  std::set<std::string> seen;
  for (const auto& s : sockets) {
    if (!s.bound || s.ifname.empty() || s.netns_inode != self_netns_ || !seen.insert(s.ifname).second)
      continue;
    auto it = iface_facts_.find(s.ifname);
    if (it == iface_facts_.end() || now - it->second.at > std::chrono::seconds(60)) {
      auto facts = ReadIfaceFacts(s.ifname);
      if (!facts.ok()) {
        iface_facts_.erase(s.ifname);
        continue;
      }
      it = iface_facts_.insert_or_assign(s.ifname, CachedFacts{now, facts->driver,
                                                               XdpFeatures(facts->xdp)}).first;
    }
    iface.Add({{"ifname", s.ifname},
               {"netns", s.netns},
               {"driver", it->second.driver},
               {"xdp_features", it->second.xdp_features}},
              1);
  }
  iface.MoveTo(out);
}

}  // namespace xskit::exporter
