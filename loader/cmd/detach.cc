#include <cstdio>

#include "loader/attach.h"
#include "loader/cmd/commands.h"

namespace xskit {

void RegisterDetach(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto ifname = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("detach", "remove the steering program, its pins and pin directory");
  cmd->add_option("iface", *ifname, "interface")->required();
  cmd->callback([ifname, &global, result] {
    *result = Detach(*ifname, global.pin_root);
    if (result->ok()) std::printf("%s: detached\n", ifname->c_str());
  });
}

}  // namespace xskit
