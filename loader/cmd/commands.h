// One CLI11 subcommand per file (cmd/<verb>.cc); main.cc registers them and
// turns the Status a command returns into its exit code.
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "lib/xsk_probes_prog.h"

namespace xskit {

struct GlobalOptions {
  std::optional<std::string> pin_root;
  std::string log_level = "warn";
};

// Each Register* adds a subcommand whose callback stores its outcome in
// *result.
void RegisterAttach(CLI::App& app, GlobalOptions& global, absl::Status* result);
void RegisterDetach(CLI::App& app, GlobalOptions& global, absl::Status* result);
void RegisterStatus(CLI::App& app, GlobalOptions& global, absl::Status* result);
void RegisterCheck(CLI::App& app, GlobalOptions& global, absl::Status* result);
void RegisterProbe(CLI::App& app, GlobalOptions& global, absl::Status* result);   // cmd/probe.cc
void RegisterProbes(CLI::App& app, GlobalOptions& global, absl::Status* result);  // cmd/probe.cc
void RegisterTop(CLI::App& app, GlobalOptions& global, absl::Status* result);     // cmd/top.cc
void RegisterServe(CLI::App& app, GlobalOptions& global, absl::Status* result);   // cmd/serve.cc
void RegisterSockets(CLI::App& app, GlobalOptions& global, absl::Status* result); // cmd/sockets.cc

// `--drops interfaces|reasons|off` (attach, probe, probes attach), from
// kDropsModeNames (cmd/probe.cc).
void AddDropsOption(CLI::App* cmd, DropsMode* drops);

}  // namespace xskit
