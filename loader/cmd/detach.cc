#include <cstdio>

#include "lib/attach.h"
#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "lib/xsk_probes_prog.h"

namespace xskit {
namespace {

absl::Status RunDetach(const std::string& ifname, bool keep_probes, bool force,
                       const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  // One mutating command at a time (docs/DESIGN.md, "The lock").
  XSKIT_ASSIGN_OR_RETURN(PinLock lock, PinLock::Acquire(pins));
  XSKIT_RETURN_IF_ERROR(Detach(ifname, global.pin_root, force));
  std::printf("%s: detached\n", ifname.c_str());
  // attach brought the (global) probes along; the last detach takes them,
  // so that attach + detach leaves bpffs as it was, unless someone asked
  // for them on their own (`probes attach`: they stay until `probes detach`).
  if (!keep_probes && pins.ListIfaceDirs().empty() && ProbesPinned(pins) &&
      !ProbesAttachedExplicitly(pins)) {
    XSKIT_RETURN_IF_ERROR(DetachProbes(pins));
    std::printf("probes: detached (no interface left attached; --keep-probes keeps them)\n");
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterDetach(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto ifname = std::make_shared<std::string>();
  auto keep_probes = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("detach", "remove the steering program, its pins and pin directory");
  cmd->add_option("iface", *ifname, "interface")->required();
  cmd->add_flag("--keep-probes", *keep_probes, "leave the probes attached after the last interface");
  cmd->add_flag("--force", *force,
                "also detach and remove pins that are not this xskit version's (another "
                "version's attach that attach cannot take over, or foreign pins)");
  cmd->callback([ifname, keep_probes, force, &global, result] {
    *result = RunDetach(*ifname, *keep_probes, *force, global);
  });
}

}  // namespace xskit
