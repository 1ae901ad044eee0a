#include "loader/sockets_report.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/errors.h"
#include "lib/xsk_sockets_prog.h"

namespace xskit {
namespace {

std::string Header(const char* indent) {
  return absl::StrFormat("%s%-5s %-8s %9s %10s %10s %12s %10s %10s %11s %s\n", indent, "queue",
                         "mode", "rings r/f", "rx_dropped", "rx_full", "fill_empty",
                         "rx_invalid", "tx_invalid", "tx_empty", "owner");
}

std::string Row(const nlohmann::json& s, const char* indent) {
  const auto& c = s["counters"];
  std::vector<std::string> owners;
  for (const auto& o : s["owners"])
    owners.push_back(absl::StrCat(o["comm"].get<std::string>(), "[", o["pid"].get<uint32_t>(),
                                  "] fd ", o["fd"].get<uint32_t>()));
  std::string flag = s["xskit"]["unregistered"].get<bool>()
                         ? "  NOT IN xskit's XSKMAP: will never receive"
                         : "";
  return absl::StrFormat("%s%-5u %-8s %4u/%-4u %10u %10u %12u %10u %10u %11u %s%s\n", indent,
                         s["queue"].get<uint32_t>(), s["mode"].get<std::string>(),
                         s["rings"]["rx"].get<uint32_t>(), s["rings"]["fill"].get<uint32_t>(),
                         c["rx_dropped"].get<uint64_t>(), c["rx_full"].get<uint64_t>(),
                         c["fill_ring_empty"].get<uint64_t>(), c["rx_invalid"].get<uint64_t>(),
                         c["tx_invalid"].get<uint64_t>(), c["tx_ring_empty"].get<uint64_t>(),
                         absl::StrJoin(owners, ", "), flag);
}

}  // namespace

nlohmann::json SocketsReport(const PinLayout& pins, const std::string& source) {
  SocketSource src = source == "bpf_iter"    ? SocketSource::kBpfIter
                     : source == "sock_diag" ? SocketSource::kSockDiag
                                             : SocketSource::kAuto;
  auto inv = TakeSocketInventory(&pins, nullptr, src);
  if (!inv.ok())
    return {{"error", std::string(inv.status().message())},
            {"exit_code", absl::IsUnimplemented(inv.status())
                              ? static_cast<int>(ExitCode::kUnsupported)
                              : static_cast<int>(ExitCodeOf(inv.status()))}};
  return InventoryJson(*inv);
}

std::string RenderSockets(const nlohmann::json& r) {
  if (r.contains("error"))
    return absl::StrCat("AF_XDP sockets: unavailable: ", r["error"].get<std::string>(), "\n");
  std::string out = absl::StrCat("AF_XDP sockets: ", r["sockets"].size(), " (source ",
                                 r["coverage"]["source"].get<std::string>(), ")\n");
  if (r["sockets"].empty()) return out;
  absl::StrAppend(&out, absl::StrFormat("%-24s ", "interface"), Header(""));
  for (const auto& s : r["sockets"]) {
    std::string where = s["ifname"].get<std::string>().empty() ? "-" : s["ifname"].get<std::string>();
    if (!s["netns"].get<std::string>().empty())
      where = absl::StrCat(s["netns"].get<std::string>(), ":", where);
    absl::StrAppend(&out, absl::StrFormat("%-24s ", where), Row(s, ""));
  }
  return out;
}

std::string RenderIfaceSockets(const nlohmann::json& r, const std::string& netns,
                               const std::string& ifname) {
  if (r.contains("error"))
    return absl::StrCat("  sockets: unavailable: ", r["error"].get<std::string>(), "\n");
  std::string rows;
  for (const auto& s : r["sockets"])  // already worst first
    if (s["netns"] == netns && s["ifname"] == ifname) absl::StrAppend(&rows, Row(s, "  "));
  if (rows.empty()) return "";
  return absl::StrCat("  AF_XDP sockets (worst first):\n", Header("  "), rows);
}

std::string RenderTopSockets(const nlohmann::json& prev, const nlohmann::json& cur, double dt,
                             int max_rows) {
  if (!cur.contains("sockets")) return "";
  static const char* kKeys[] = {"rx_dropped", "rx_full", "fill_ring_empty", "rx_invalid",
                                "tx_invalid"};
  std::map<uint64_t, const nlohmann::json*> before;
  if (prev.contains("sockets"))
    for (const auto& s : prev["sockets"]) before[s["inode"].get<uint64_t>()] = &s;
  struct Line {
    double rates[5];
    uint64_t drops;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& s : cur["sockets"]) {
    Line l{};
    auto it = before.find(s["inode"].get<uint64_t>());
    for (int k = 0; k < 5; k++) {
      uint64_t now = s["counters"][kKeys[k]].get<uint64_t>();
      uint64_t was = it == before.end() ? now : (*it->second)["counters"][kKeys[k]].get<uint64_t>();
      l.rates[k] = dt > 0 && now >= was ? static_cast<double>(now - was) / dt : 0;
    }
    l.drops = s["counters"]["rx_dropped"].get<uint64_t>();
    std::string where = s["ifname"].get<std::string>().empty() ? "-" : s["ifname"].get<std::string>();
    if (!s["netns"].get<std::string>().empty())
      where = absl::StrCat(where, "@", s["netns"].get<std::string>());
    std::string owner = s["owners"].empty()
                            ? "-"
                            : absl::StrCat(s["owners"][0]["comm"].get<std::string>(), "[",
                                           s["owners"][0]["pid"].get<uint32_t>(), "]");
    l.text = absl::StrFormat("%-22s %5u %-8s %10.1f %10.1f %12.1f %10.1f %10.1f %12u %s%s\n", where,
                             s["queue"].get<uint32_t>(), s["mode"].get<std::string>(), l.rates[0],
                             l.rates[1], l.rates[2], l.rates[3], l.rates[4], l.drops, owner,
                             s["xskit"]["unregistered"].get<bool>() ? " NOT REGISTERED" : "");
    lines.push_back(std::move(l));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return std::tie(a.rates[0], a.rates[2], a.drops) > std::tie(b.rates[0], b.rates[2], b.drops);
  });
  std::string out = absl::StrFormat("\nAF_XDP SOCKETS (%d, worst first)\n%-22s %5s %-8s %10s %10s %12s %10s %10s %12s %s\n",
                                    static_cast<int>(lines.size()), "IFACE", "QUEUE", "MODE",
                                    "RXDROP/s", "RXFULL/s", "FILLEMPTY/s", "RXINV/s", "TXINV/s",
                                    "RXDROP", "OWNER");
  int n = 0;
  for (const auto& l : lines) {
    if (n++ >= max_rows) {
      absl::StrAppend(&out, absl::StrFormat("  ... %d more sockets\n", static_cast<int>(lines.size()) - max_rows));
      break;
    }
    absl::StrAppend(&out, l.text);
  }
  return out;
}

}  // namespace xskit
