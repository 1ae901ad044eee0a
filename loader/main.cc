// xsk-loader: attach, inspect and detach xskit's AF_XDP steering program.
#include <cstdio>

#include "lib/cli_values.h"
#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "lib/log.h"

int main(int argc, char** argv) {
  CLI::App app{"xsk-loader: attach, inspect and detach xskit's AF_XDP steering datapath"};
  app.require_subcommand(1);
  xskit::GlobalOptions global;
  app.add_option("--pin-root", global.pin_root,
                 "bpffs directory for xskit's pins (default /sys/fs/bpf/xskit)");
  app.add_option("--log-level", global.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.parse_complete_callback([&] { xskit::InitLogging(global.log_level); });

  absl::Status result;
  xskit::RegisterAttach(app, global, &result);
  xskit::RegisterDetach(app, global, &result);
  xskit::RegisterStatus(app, global, &result);
  xskit::RegisterCheck(app, global, &result);
  xskit::RegisterProbe(app, global, &result);
  xskit::RegisterProbes(app, global, &result);
  xskit::RegisterTop(app, global, &result);
  xskit::RegisterServe(app, global, &result);
  xskit::RegisterSockets(app, global, &result);
  xskit::RefuseEmptyValues(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(xskit::ExitCode::kUsage);
  }
  if (!result.ok()) {
    std::fprintf(stderr, "xsk-loader: %s\n", std::string(result.message()).c_str());
    return static_cast<int>(xskit::ExitCodeOf(result));
  }
  return 0;
}
