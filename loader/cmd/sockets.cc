#include <cstdio>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "loader/cmd/commands.h"
#include "loader/sockets_report.h"

namespace xskit {
namespace {

struct SocketsFlags {
  bool json = false;
  std::string source = "auto";
};

absl::Status RunSockets(const SocketsFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  nlohmann::json report = SocketsReport(pins, flags.source);
  if (report.contains("error"))
    return Error(static_cast<ExitCode>(report.value("exit_code", 1)),
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
  cmd->add_option("--source", flags->source,
                  "auto (the BPF iterator, sock_diag where it is refused), bpf_iter or sock_diag "
                  "(needs CONFIG_XDP_SOCKETS_DIAG: modprobe xsk_diag)")
      ->check(CLI::IsMember({"auto", "bpf_iter", "sock_diag"}))
      ->capture_default_str();
  cmd->callback([flags, &global, result] { *result = RunSockets(*flags, global); });
}

}  // namespace xskit
