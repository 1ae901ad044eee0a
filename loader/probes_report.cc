#include "loader/probes_report.h"

#include "lib/errors.h"

#include <net/if.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/drop_reasons.h"

namespace xskit {
namespace {

bool Match(const ProbeFilter& f, uint64_t netns, uint32_t ifindex) {
  if (f.netns_ino && netns && *f.netns_ino != netns) return false;
  if (f.ifindex && *f.ifindex != ifindex) return false;
  return true;
}

// The interface name when it lives in our own netns.
std::string IfName(uint64_t netns, uint32_t ifindex, uint64_t self_netns) {
  char buf[IF_NAMESIZE] = {};
  if (netns == self_netns && if_indextoname(ifindex, buf)) return buf;
  return "";
}

nlohmann::json Where(uint64_t netns, uint32_t ifindex, uint64_t self_netns) {
  nlohmann::json j;
  j["netns_ino"] = netns;
  j["ifindex"] = ifindex;
  j["ifname"] = IfName(netns, ifindex, self_netns);
  return j;
}

}  // namespace

nlohmann::json SignalsJson(const std::vector<SignalMode>& signals) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : signals)
    out.push_back({{"signal", SignalName(s.signal)},
                   {"mode", ProbeModeName(s.mode)},
                   {"reason", s.reason}});
  return out;
}

nlohmann::json ProbesReport(const PinLayout& pins, const ProbeFilter& filter) {
  nlohmann::json j;
  j["pin_dir"] = pins.ProbesDir();
  if (!ProbesPinned(pins)) {
    j["attached"] = false;
    return j;
  }
  auto p = PinnedProbes::Open(pins.ProbesDir());
  if (!p.ok()) {
    j["attached"] = false;
    j["error"] = std::string(p.status().message());
    j["error_code"] = static_cast<int>(ExitCodeOf(p.status()));
    return j;
  }
  j["attached"] = true;
  j["links"] = p->links();
  j["attach_time"] = p->info().attach_time_ns / 1000000000ULL;
  j["signals"] = SignalsJson(SignalsOf(p->info()));
  uint64_t self = 0;
  if (auto ns = CurrentNetns(); ns.ok()) self = ns->inode;

  nlohmann::json tx = nlohmann::json::array();
  if (auto rows = p->ReadTx(); rows.ok()) {
    for (const auto& [k, v] : *rows) {
      if (!Match(filter, k.netns_ino, k.ifindex)) continue;
      nlohmann::json e = Where(k.netns_ino, k.ifindex, self);
      e["queue"] = k.queue;
      e["calls"] = v.calls;
      e["descs"] = v.descs;
      e["wasted_wakeups"] = v.hist[0];
      nlohmann::json hist = nlohmann::json::array();
      for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
        hist.push_back({{"low", BatchBucketLow(i)},
                        {"high", i == XSK_PROBES_BATCH_BUCKETS - 1
                                     ? nlohmann::json(nullptr)
                                     : nlohmann::json(i <= 1 ? BatchBucketLow(i)
                                                             : 2 * BatchBucketLow(i) - 1)},
                        {"calls", v.hist[i]}});
      e["batch_hist"] = std::move(hist);
      e["errors"] = v.errors;
      e["stalls"] = v.stalls;
      e["poll_calls"] = v.poll_calls;
      e["poll_descs"] = v.poll_descs;
      e["linear_skbs"] = v.linear_skbs;
      e["frag_skbs"] = v.frag_skbs;
      e["alloc_fail"] = v.alloc_fail;
      e["xmit_busy"] = v.xmit_busy;
      e["cq_size"] = v.cq_size;
      e["cq_pending"] = v.cq_pending;
      e["in_flight"] = v.in_flight;
      e["tx_budget"] = v.tx_budget;
      tx.push_back(std::move(e));
    }
  } else {
    j["tx_error"] = std::string(rows.status().message());
  }
  j["tx"] = std::move(tx);

  nlohmann::json errs = nlohmann::json::array();
  if (auto rows = p->ReadTxErrors(); rows.ok()) {
    for (const auto& [k, n] : *rows) {
      if (!Match(filter, k.q.netns_ino, k.q.ifindex)) continue;
      nlohmann::json e = Where(k.q.netns_ino, k.q.ifindex, self);
      e["queue"] = k.q.queue;
      e["errno"] = k.err;
      e["errno_name"] = k.err ? strerrorname_np(static_cast<int>(k.err)) ? strerrorname_np(static_cast<int>(k.err)) : "" : "none";
      e["cause"] = CauseName(k.cause);
      e["calls"] = n;
      errs.push_back(std::move(e));
    }
  }
  j["tx_errors"] = std::move(errs);

  auto reasons = DropReasons::FromKernel();
  nlohmann::json drops = nlohmann::json::array();
  if (auto rows = p->ReadDrops(); rows.ok()) {
    for (const auto& [k, n] : *rows) {
      if (!Match(filter, k.netns_ino, k.ifindex)) continue;
      nlohmann::json e = Where(k.netns_ino, k.ifindex, self);
      e["reason"] = k.reason;
      e["reason_name"] = reasons.ok() ? reasons->Name(k.reason) : absl::StrCat("reason_", k.reason);
      e["xsk"] = k.xsk != 0;
      e["skbs"] = n;
      drops.push_back(std::move(e));
    }
  }
  j["drops"] = std::move(drops);

  nlohmann::json xdp = nlohmann::json::array();
  if (auto rows = p->ReadXdpErrors(); rows.ok()) {
    for (const auto& [k, n] : *rows) {
      if (!Match(filter, k.netns_ino, k.ifindex)) continue;
      nlohmann::json e = Where(k.netns_ino, k.ifindex, self);
      bool redirect = k.event == XSK_PROBES_XDP_REDIRECT_ERR;
      e["event"] = redirect ? "redirect_err" : "exception";
      if (redirect) {
        e["errno"] = k.value;
        const char* en = strerrorname_np(static_cast<int>(k.value));
        e["errno_name"] = en ? en : "";
      } else {
        static const char* kActs[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
        e["action"] = k.value < 5 ? kActs[k.value] : absl::StrCat(k.value);
      }
      e["events"] = n;
      xdp.push_back(std::move(e));
    }
  }
  j["xdp_errors"] = std::move(xdp);

  if (auto a = p->ReadAlloc(); a.ok())
    j["alloc"] = {{"bulk_calls", a->bulk_calls},
                  {"bulk_objs", a->bulk_objs},
                  {"napi_build_skb", a->napi_build_skb},
                  {"napi_build_fail", a->napi_build_fail}};

  nlohmann::json lat = nlohmann::json::array();
  if (auto rows = p->ReadLatency(); rows.ok()) {
    for (const auto& [k, v] : *rows) {
      if (!Match(filter, k.netns_ino, k.ifindex)) continue;
      nlohmann::json e = Where(k.netns_ino, k.ifindex, self);
      e["queue"] = k.queue;
      e["count"] = v.count;
      e["sum_ns"] = v.sum_ns;
      nlohmann::json hist = nlohmann::json::array();
      for (int i = 0; i < XSK_PROBES_LAT_BUCKETS; i++)
        if (v.hist[i]) hist.push_back({{"low_ns", 1ULL << i}, {"count", v.hist[i]}});
      e["hist"] = std::move(hist);
      lat.push_back(std::move(e));
    }
  }
  j["latency"] = std::move(lat);
  return j;
}

std::string RenderProbes(const nlohmann::json& p) {
  std::string out;
  if (!p.value("attached", false)) {
    absl::StrAppend(&out, "probes: not attached", p.contains("error") ? absl::StrCat(" (", p["error"].get<std::string>(), ")") : "",
                    " (xsk-loader probes attach)\n");
    return out;
  }
  absl::StrAppend(&out, "probes: attached, ", p["links"].get<int>(), " links, pins ",
                  p["pin_dir"].get<std::string>(), "\n");
  for (const auto& s : p["signals"])
    absl::StrAppend(&out, absl::StrFormat("  %-18s %-11s\n", s["signal"].get<std::string>(),
                                          s["mode"].get<std::string>()));
  auto where = [](const nlohmann::json& e) {
    std::string name = e["ifname"].get<std::string>();
    return absl::StrCat(name.empty() ? absl::StrCat("if", e["ifindex"].get<uint32_t>()) : name,
                        "@ns", e["netns_ino"].get<uint64_t>());
  };
  for (const auto& e : p["tx"]) {
    absl::StrAppend(&out, "  tx ", where(e), " q", e["queue"].get<uint32_t>(), ": calls ",
                    e["calls"].get<uint64_t>(), ", descs ", e["descs"].get<uint64_t>(),
                    ", wasted ", e["wasted_wakeups"].get<uint64_t>(), ", errors ",
                    e["errors"].get<uint64_t>(), ", cq ", e["cq_pending"].get<uint32_t>(), "/",
                    e["cq_size"].get<uint32_t>(), ", in flight ",
                    e["in_flight"].get<uint32_t>(), ", skbs linear/frag ",
                    e["linear_skbs"].get<uint64_t>(), "/", e["frag_skbs"].get<uint64_t>(), "\n");
    std::string h = "    batch";
    for (const auto& b : e["batch_hist"])
      absl::StrAppend(&h, " ", b["low"].get<uint32_t>(), b["high"].is_null() ? "+" : "", ":",
                      b["calls"].get<uint64_t>());
    absl::StrAppend(&out, h, "\n");
  }
  for (const auto& e : p["tx_errors"])
    absl::StrAppend(&out, "  tx error ", where(e), " q", e["queue"].get<uint32_t>(), ": ",
                    e["errno_name"].get<std::string>(), " cause ", e["cause"].get<std::string>(),
                    ": ", e["calls"].get<uint64_t>(), "\n");
  for (const auto& e : p["drops"])
    absl::StrAppend(&out, "  drop ", where(e), e["xsk"].get<bool>() ? " (AF_XDP)" : "", " ",
                    e["reason_name"].get<std::string>(), ": ", e["skbs"].get<uint64_t>(), "\n");
  for (const auto& e : p["xdp_errors"])
    absl::StrAppend(&out, "  xdp ", e["event"].get<std::string>(), " ", where(e), " ",
                    e.contains("errno_name") ? e["errno_name"].get<std::string>()
                                             : e["action"].get<std::string>(),
                    ": ", e["events"].get<uint64_t>(), "\n");
  return out;
}

}  // namespace xskit
