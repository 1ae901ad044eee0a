// `xsk-loader probe [--json]`: per signal, the probe mode this kernel allows
// and why (a trial load; nothing stays attached).
// `xsk-loader probes attach|detach`: the probe set alone, pinned under
// <root>/probes/ so it outlives the loader.
#include <cstdio>
#include <map>

#include "absl/strings/str_format.h"
#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "loader/probes_report.h"
#include "lib/xsk_probes_prog.h"

namespace xskit {
namespace {

struct ProbeFlags {
  bool json = false;
  bool latency = false;
  ProbeModeRequest mode = ProbeModeRequest::kAuto;
  DropsMode drops = DropsMode::kInterfaces;
};

ProbeOptions OptionsOf(const ProbeFlags& f) {
  ProbeOptions o;
  o.latency = f.latency;
  o.drops = f.drops;
  o.mode = f.mode == ProbeModeRequest::kAuto ? ProbeModeFromEnv() : f.mode;
  return o;
}

void PrintSignals(const std::vector<SignalMode>& signals) {
  for (const auto& s : signals)
    std::printf("%s\n", absl::StrFormat("%-18s %-11s %s", SignalName(s.signal),
                                        ProbeModeName(s.mode), s.reason)
                            .c_str());
}

absl::Status RunProbe(const ProbeFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(XskProbesProg prog, XskProbesProg::Load(OptionsOf(flags)));
  auto pins = PinLayout::Resolve(global.pin_root);
  bool pinned = pins.ok() && ProbesPinned(*pins);
  if (flags.json) {
    nlohmann::json j;
    j["signals"] = SignalsJson(prog.signals());
    j["pinned"] = pinned;
    if (pinned) {
      auto p = PinnedProbes::Open(pins->ProbesDir());
      if (p.ok()) j["pinned_signals"] = SignalsJson(SignalsOf(p->info()));
    }
    std::printf("%s\n", j.dump(2).c_str());
    return absl::OkStatus();
  }
  PrintSignals(prog.signals());
  if (pinned) std::printf("probes are attached (pins %s)\n", pins->ProbesDir().c_str());
  return absl::OkStatus();
}

absl::Status RunProbesAttach(const ProbeFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  XSKIT_ASSIGN_OR_RETURN(PinLock lock, PinLock::Acquire(pins));
  bool already = false;
  uint32_t replaced = 0;
  XSKIT_ASSIGN_OR_RETURN(
      std::vector<SignalMode> signals,
      AttachProbes(pins, OptionsOf(flags), &already, /*explicitly=*/true, &replaced));
  std::printf("probes %s (pins %s)\n", already ? "already attached" : "attached",
              pins.ProbesDir().c_str());
  if (replaced) std::printf("%s\n", ProbesReplacedLine(replaced).c_str());
  PrintSignals(signals);
  return absl::OkStatus();
}

absl::Status RunProbesDetach(const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  XSKIT_ASSIGN_OR_RETURN(PinLock lock, PinLock::Acquire(pins));
  XSKIT_RETURN_IF_ERROR(DetachProbes(pins));
  std::printf("probes detached\n");
  return absl::OkStatus();
}

void AddProbeOptions(CLI::App* cmd, ProbeFlags* f) {
  AddEnumOption(cmd, "--mode", f->mode, kProbeModeRequestNames,
                "probe mode: auto (fentry where allowed), fentry, tracepoint, tracepoint-probe-read "
                "(the Tx programs' fallback that reads each field with a helper call)");
  cmd->add_flag("--latency", f->latency,
                "also measure completion latency (fentry only; per-skb hash work)");
  AddDropsOption(cmd, &f->drops);
}

}  // namespace

void AddDropsOption(CLI::App* cmd, DropsMode* drops) {
  AddEnumOption(cmd, "--drops", *drops, kDropsModeNames,
                "drop probe (kfree_skb): interfaces (by reason, netns, interface, AF_XDP), "
                "reasons (by reason only: cheapest under a drop storm), off; every mode but "
                "off counts each drop exactly by reason");
}

void RegisterProbe(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<ProbeFlags>();
  CLI::App* cmd = app.add_subcommand("probe", "show, per signal, the probe mode this kernel allows");
  cmd->add_flag("--json", flags->json, "print JSON for scripts");
  AddProbeOptions(cmd, flags.get());
  cmd->callback([flags, &global, result] { *result = RunProbe(*flags, global); });
}

void RegisterProbes(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  CLI::App* cmd = app.add_subcommand("probes", "attach or detach the transmit/drop probes alone");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ProbeFlags>();
  CLI::App* attach = cmd->add_subcommand("attach", "load, attach and pin the probes");
  AddProbeOptions(attach, flags.get());
  attach->callback([flags, &global, result] { *result = RunProbesAttach(*flags, global); });
  CLI::App* detach = cmd->add_subcommand("detach", "unpin and detach the probes");
  detach->callback([&global, result] { *result = RunProbesDetach(global); });
}

}  // namespace xskit
