#include "loader/status_report.h"

#include <sys/stat.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/errors.h"
#include "loader/probes_report.h"
#include "loader/sockets_report.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {

nlohmann::json IfaceReport(const PinLayout& pins, const std::string& dir_name) {
  nlohmann::json j;
  IfaceDirParts parts = ParseIfaceDirName(dir_name);
  j["ifname"] = parts.ifname;
  j["netns"] = parts.netns;
  j["pin_dir"] = pins.IfaceDir(dir_name);
  auto pinned = PinnedSteer::Open(pins.IfaceDir(dir_name));
  if (!pinned.ok()) {
    j["error"] = std::string(pinned.status().message());
    j["error_code"] = static_cast<int>(ExitCodeOf(pinned.status()));
    return j;
  }
  const xsk_steer_info& info = pinned->info();
  auto link = pinned->Link();
  // Pins follow the device: show its current name (and the pinned one).
  if (auto netns = CurrentNetns(); netns.ok() && netns->name == parts.netns) {
    std::string now = CurrentIfname(*pinned, netns->inode);
    if (!now.empty() && now != parts.ifname) {
      j["ifname"] = now;
      j["pinned_as"] = parts.ifname;
    }
  }
  j["driver"] = info.driver;
  j["ifindex"] = info.ifindex;
  j["xdp_mode"] = XdpModeName(info.xdp_mode);
  j["xsk_mode"] = info.zerocopy ? "zerocopy" : "copy";
  j["filter"] = FilterString(info.filter);
  j["attached"] = link.pinned && link.ifindex != 0;
  j["link_id"] = link.link_id;
  j["prog_id"] = link.prog_id;
  j["attach_time"] = info.attach_time_ns / 1000000000ULL;
  j["nr_queues"] = info.nr_queues;
  j["info_version"] = info.version;
  // The last attach took over another version's pins (docs/DESIGN.md, "Upgrades").
  if (info.flags & XSK_STEER_INFO_F_MIGRATED) {
    j["migrated_from"] = info.migrated_from;
    j["counters_restarted"] = (info.flags & XSK_STEER_INFO_F_COUNTERS_RESTARTED) != 0;
  }

  auto counters = pinned->ReadCounters();
  auto sockets = pinned->SocketsPresent();
  if (!sockets.ok()) j["sockets_error"] = std::string(sockets.status().message());
  nlohmann::json queues = nlohmann::json::array();
  for (uint32_t q = 0; q < info.nr_queues; q++) {
    nlohmann::json e;
    e["queue"] = q;
    e["steered"] = QueueInMask(info, q);
    if (sockets.ok()) e["socket"] = static_cast<bool>((*sockets)[q]);
    if (counters.ok())
      for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++)
        e[OutcomeName(static_cast<xsk_steer_outcome>(o))] = (*counters)[q].packets[o];
    queues.push_back(std::move(e));
  }
  if (!counters.ok()) j["counters_error"] = std::string(counters.status().message());
  j["queues"] = std::move(queues);
  return j;
}

absl::StatusOr<nlohmann::json> StatusReport(const PinLayout& pins, const std::string& ifname) {
  nlohmann::json report;
  report["pin_root"] = pins.root();
  report["interfaces"] = nlohmann::json::array();
  if (!ifname.empty()) {
    XSKIT_ASSIGN_OR_RETURN(NetnsId netns, CurrentNetns());
    std::string dir_name = IfaceDirName(netns, ifname);
    struct stat st {};
    if (::stat(pins.IfaceDir(dir_name).c_str(), &st) != 0) {
      // Renamed since attach (pins follow the device): found by its link.
      for (const std::string& d : pins.ListIfaceDirs()) {
        if (ParseIfaceDirName(d).netns != netns.name) continue;
        auto pinned = PinnedSteer::Open(pins.IfaceDir(d));
        if (pinned.ok() && CurrentIfname(*pinned, netns.inode) == ifname) {
          dir_name = d;
          break;
        }
      }
    }
    if (::stat(pins.IfaceDir(dir_name).c_str(), &st) != 0)
      return Error(ExitCode::kNotAttached,
                   absl::StrCat("xskit is not attached to ", ifname,
                                netns.initial ? "" : absl::StrCat(" in netns ", netns.name),
                                "; `xsk-loader status` lists attachments"));
    report["interfaces"].push_back(IfaceReport(pins, dir_name));
    ProbeFilter pf;
    pf.netns_ino = netns.inode;
    if (report["interfaces"][0].contains("ifindex"))
      pf.ifindex = report["interfaces"][0]["ifindex"].get<uint32_t>();
    report["probes"] = ProbesReport(pins, pf);
    report["sockets"] = SocketsReport(pins);
    return report;
  }
  for (const auto& dir_name : pins.ListIfaceDirs())
    report["interfaces"].push_back(IfaceReport(pins, dir_name));
  report["probes"] = ProbesReport(pins);
  report["sockets"] = SocketsReport(pins);
  return report;
}

absl::Status ForeignPinsIn(const nlohmann::json& report) {
  std::vector<const nlohmann::json*> parts;
  if (report.contains("interfaces"))
    for (const auto& i : report["interfaces"]) parts.push_back(&i);
  if (report.contains("probes")) parts.push_back(&report["probes"]);
  for (const nlohmann::json* p : parts)
    if (p->value("error_code", 0) == static_cast<int>(ExitCode::kForeignPin))
      return Error(ExitCode::kForeignPin, p->value("error", std::string()));
  return absl::OkStatus();
}

std::string RenderStatus(const nlohmann::json& report) {
  std::string out;
  std::string probes = report.contains("probes") ? RenderProbes(report["probes"]) : "";
  if (report["interfaces"].empty())
    return absl::StrCat("no interfaces attached (pins under ", report["pin_root"].get<std::string>(),
                        ")\n", probes);
  for (const auto& i : report["interfaces"]) {
    std::string where = i["netns"].get<std::string>().empty()
                            ? ""
                            : absl::StrCat(" (netns ", i["netns"].get<std::string>(), ")");
    if (i.contains("error")) {
      absl::StrAppend(&out, i["ifname"].get<std::string>(), where, ": unreadable pins: ",
                      i["error"].get<std::string>(), "\n");
      continue;
    }
    absl::StrAppend(&out, i["ifname"].get<std::string>(), where, ": driver ",
                    i["driver"].get<std::string>(), ", ", i["xdp_mode"].get<std::string>(), "/",
                    i["xsk_mode"].get<std::string>(), ", filter ", i["filter"].get<std::string>(),
                    i["attached"].get<bool>() ? "" : ", LINK DETACHED (device gone?)", "\n");
    absl::StrAppend(&out, "  link ", i["link_id"].get<uint32_t>(), ", prog ",
                    i["prog_id"].get<uint32_t>(), ", pins ", i["pin_dir"].get<std::string>(), "\n");
    if (i.contains("migrated_from")) {
      std::time_t t = static_cast<std::time_t>(i["attach_time"].get<uint64_t>());
      char when[32] = "?";
      if (std::tm tm{}; gmtime_r(&t, &tm)) std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
      absl::StrAppend(&out, "  migrated in place from info version ",
                      i["migrated_from"].get<uint32_t>(), " at ", when, ": counters ",
                      i["counters_restarted"].get<bool>() ? "restarted then" : "carried over", "\n");
    }
    absl::StrAppend(&out, absl::StrFormat("  %5s %7s %6s %12s %14s %13s %15s\n", "queue", "steered",
                                          "socket", "redirected", "pass_no_socket",
                                          "pass_no_match", "redirect_failed"));
    for (const auto& q : i["queues"]) {
      auto num = [&](const char* k) {
        return q.contains(k) ? absl::StrCat(q[k].get<uint64_t>()) : std::string("?");
      };
      std::string sock = q.contains("socket") ? (q["socket"].get<bool>() ? "yes" : "no") : "?";
      absl::StrAppend(&out, absl::StrFormat("  %5u %7s %6s %12s %14s %13s %15s\n",
                                            q["queue"].get<uint32_t>(),
                                            q["steered"].get<bool>() ? "yes" : "no", sock,
                                            num("redirected"), num("pass_no_socket"),
                                            num("pass_no_match"), num("redirect_failed")));
    }
    if (report.contains("sockets"))
      absl::StrAppend(&out, RenderIfaceSockets(report["sockets"], i["netns"].get<std::string>(),
                                               i["ifname"].get<std::string>()));
  }
  absl::StrAppend(&out, probes);
  return out;
}

}  // namespace xskit
