#include <cstdio>

#include "loader/attach.h"
#include "loader/errors.h"
#include "loader/cmd/commands.h"
#include "loader/parse_args.h"
#include "loader/xsk_steer_prog.h"

namespace xskit {
namespace {

struct AttachFlags {
  std::string ifname;
  std::string queues = "all";
  std::string mode = "auto";
  std::string match;
  bool zerocopy = false;
  bool force = false;
};

absl::Status RunAttach(const AttachFlags& flags, const GlobalOptions& global) {
  AttachRequest req;
  req.ifname = flags.ifname;
  req.pin_root = global.pin_root;
  req.zerocopy = flags.zerocopy;
  req.force = flags.force;
  req.mode = flags.mode == "native"    ? ModeRequest::kNative
             : flags.mode == "generic" ? ModeRequest::kGeneric
                                       : ModeRequest::kAuto;
  XSKIT_ASSIGN_OR_RETURN(req.queues, ParseQueueList(flags.queues));
  if (!flags.match.empty()) {
    XSKIT_ASSIGN_OR_RETURN(req.filter, ParseMatch(flags.match));
  }

  XSKIT_ASSIGN_OR_RETURN(AttachResult r, Attach(req));
  for (const auto& what : r.replaced) std::printf("replaced foreign XDP %s\n", what.c_str());
  const char* verb = r.action == AttachResult::Action::kUnchanged ? "already attached"
                     : r.action == AttachResult::Action::kUpdated ? "updated in place"
                                                                  : "attached";
  std::printf("%s: %s %s mode, %s, filter %s\n", flags.ifname.c_str(), verb,
              XdpModeName(r.info.xdp_mode), r.info.zerocopy ? "zerocopy" : "copy",
              FilterString(r.info.filter).c_str());
  if (r.action == AttachResult::Action::kAttached)
    std::printf("mode %s\n", r.mode_reason.c_str());
  std::printf("pins: %s\n", r.dir.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterAttach(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<AttachFlags>();
  CLI::App* cmd = app.add_subcommand("attach", "attach the steering program to IFACE and pin it");
  cmd->add_option("iface", flags->ifname, "interface")->required();
  cmd->add_option("--queues", flags->queues, "queues to steer: all, 0-3, 0,2,5-7")
      ->capture_default_str();
  cmd->add_option("--mode", flags->mode, "XDP mode: auto picks native where the driver has it")
      ->check(CLI::IsMember({"auto", "native", "generic"}))
      ->capture_default_str();
  cmd->add_option("--match", flags->match,
                  "steer only matching packets: PROTO[:PORT][,...], e.g. udp:4791");
  cmd->add_flag("--zerocopy", flags->zerocopy, "sockets bind in zero-copy mode (native only)");
  cmd->add_flag("--force", flags->force, "replace a foreign XDP program");
  cmd->callback([flags, &global, result] { *result = RunAttach(*flags, global); });
}

}  // namespace xskit
