#include <cstdio>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "loader/cmd/commands.h"
#include "loader/sockets_report.h"

namespace xskit {
namespace {

struct SocketsFlags {
  bool json = false;
};

absl::Status RunSockets(const SocketsFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  nlohmann::json report = SocketsReport(pins);
  if (report.contains("error"))
    return Error(ExitCode::kInternal,
                 absl::StrCat("cannot list AF_XDP sockets: ", report["error"].get<std::string>()));
  if (flags.json)
    std::printf("%s\n", report.dump(2).c_str());
  else
    std::fputs(RenderSockets(report).c_str(), stdout);
  return absl::OkStatus();
}

}  // namespace

void RegisterSockets(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<SocketsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sockets", "list every AF_XDP socket on the host (all namespaces): mode, rings, counters");
  cmd->add_flag("--json", flags->json, "print JSON for scripts");
  cmd->callback([flags, &global, result] { *result = RunSockets(*flags, global); });
}

}  // namespace xskit
