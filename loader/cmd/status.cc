#include <cstdio>

#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "loader/status_report.h"

namespace xskit {
namespace {

struct StatusFlags {
  std::string ifname;
  bool json = false;
};

absl::Status RunStatus(const StatusFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  XSKIT_ASSIGN_OR_RETURN(nlohmann::json report, StatusReport(pins, flags.ifname));
  if (flags.json)
    std::printf("%s\n", report.dump(2).c_str());
  else
    std::fputs(RenderStatus(report).c_str(), stdout);
  return ForeignPinsIn(report);
}

}  // namespace

void RegisterStatus(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand("status", "show attachments, sockets and per-queue counters");
  cmd->add_option("iface", flags->ifname, "interface (default: all)");
  cmd->add_flag("--json", flags->json, "print JSON for scripts");
  cmd->callback([flags, &global, result] { *result = RunStatus(*flags, global); });
}

}  // namespace xskit
