#include <cstdio>

#include "absl/strings/str_cat.h"

#include "lib/attach.h"
#include "lib/errors.h"
#include "loader/cmd/commands.h"
#include "lib/parse_args.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"
#include "loader/probes_report.h"

namespace xskit {
namespace {

struct AttachFlags {
  std::string ifname;
  std::string queues = "all";
  ModeRequest mode = ModeRequest::kAuto;
  std::optional<std::string> match;  // given empty: a usage error, never "no filter"
  bool zerocopy = false;
  bool force = false;
  bool no_probes = false;
  bool dp_pin = false;
  DropsMode drops = DropsMode::kInterfaces;
};

absl::Status RunAttach(const AttachFlags& flags, const GlobalOptions& global) {
  AttachRequest req;
  req.ifname = flags.ifname;
  req.pin_root = global.pin_root;
  req.zerocopy = flags.zerocopy;
  req.force = flags.force;
  req.dp_pin = flags.dp_pin;
  req.mode = flags.mode;
  XSKIT_ASSIGN_OR_RETURN(req.queues, ParseQueueList(flags.queues));
  if (flags.match) {
    XSKIT_ASSIGN_OR_RETURN(req.filter, ParseMatch(*flags.match));
  }

  // One mutating command at a time (docs/DESIGN.md, "The lock").
  XSKIT_ASSIGN_OR_RETURN(PinLayout lock_pins, PinLayout::Resolve(global.pin_root));
  XSKIT_ASSIGN_OR_RETURN(PinLock lock, PinLock::Acquire(lock_pins));
  XSKIT_ASSIGN_OR_RETURN(AttachResult r, Attach(req));
  for (const auto& what : r.replaced) std::printf("replaced foreign XDP %s\n", what.c_str());
  const char* verb = r.action == AttachResult::Action::kUnchanged  ? "already attached"
                     : r.action == AttachResult::Action::kUpdated  ? "updated in place"
                     : r.action == AttachResult::Action::kMigrated ? "migrated in place"
                                                                   : "attached";
  std::printf("%s: %s %s mode, %s, filter %s\n", flags.ifname.c_str(), verb,
              XdpModeName(r.info.xdp_mode), r.info.zerocopy ? "zerocopy" : "copy",
              FilterString(r.info.filter).c_str());
  if (r.action == AttachResult::Action::kAttached)
    std::printf("mode %s\n", r.mode_reason.c_str());
  if (r.new_program) std::printf("program: this xsk-loader's differs from the running one: swapped\n");
  if (r.action == AttachResult::Action::kMigrated) {
    // docs/DESIGN.md, "Upgrades": same link, same XSKMAP, no detach.
    std::printf("migrated: from info version %u (%s) to %u, same link and XSKMAP; counters %s\n",
                r.migrated_from, r.migrated_from < SteerInfoVersion() ? "an upgrade" : "a downgrade",
                SteerInfoVersion(),
                r.counters_restarted.empty()
                    ? "carried over"
                    : absl::StrCat("restarted (", r.counters_restarted, ")").c_str());
  }
  std::printf("pins: %s\n", r.dir.c_str());
  if (!r.dp_pin.empty())
    std::printf("dp-pin: %s -> %s/xsks_map\n", r.dp_pin.c_str(), r.dir.c_str());
  if (!flags.no_probes) {
    // The probes are global and idempotent: already pinned ones stay as they are.
    // A probe failure does not undo the steering attach; it is reported.
    XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
    ProbeOptions popts;
    popts.mode = ProbeModeFromEnv();
    popts.drops = flags.drops;
    bool already = false;
    uint32_t replaced = 0;
    auto probes = AttachProbes(pins, popts, &already, /*explicitly=*/false, &replaced);
    if (probes.ok()) {
      std::printf("probes: %s (%s)\n", already ? "already attached" : "attached",
                  pins.ProbesDir().c_str());
      if (replaced) std::printf("%s\n", ProbesReplacedLine(replaced).c_str());
    } else
      std::fprintf(stderr, "xsk-loader: warning: probes not attached: %s (--no-probes skips them)\n",
                   std::string(probes.status().message()).c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterAttach(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<AttachFlags>();
  CLI::App* cmd = app.add_subcommand("attach", "attach the steering program to IFACE and pin it");
  cmd->add_option("iface", flags->ifname, "interface")->required();
  cmd->add_option("--queues", flags->queues, "queues to steer: all, 0-3, 0,2,5-7")
      ->capture_default_str();
  AddEnumOption(cmd, "--mode", flags->mode, kModeRequestNames,
                "XDP mode: auto picks native where the driver has it");
  cmd->add_option("--match", flags->match,
                  "steer only matching packets: PROTO[:PORT][,...], e.g. udp:4791");
  cmd->add_flag("--zerocopy", flags->zerocopy, "sockets bind in zero-copy mode (native only)");
  cmd->add_flag("--force", flags->force,
                "replace a foreign XDP program (and a foreign --dp-pin path)");
  cmd->add_flag("--dp-pin", flags->dp_pin,
                "also make the XSKMAP reachable at /tmp/afxdp_dp/IFACE/xsks_map, DPDK af_xdp's "
                "default dp_path for use_pinned_map=1 (a symlink to the pin; detach removes it)");
  cmd->add_flag("--no-probes", flags->no_probes,
                "do not attach the transmit/drop probes (xsk-loader probes attach does it alone)");
  AddDropsOption(cmd, &flags->drops);
  cmd->callback([flags, &global, result] { *result = RunAttach(*flags, global); });
}

}  // namespace xskit
