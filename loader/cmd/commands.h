// One CLI11 subcommand per file (cmd/<verb>.cc); main.cc registers them and
// turns the Status a command returns into its exit code.
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "lib/enum_table.h"
#include "lib/xsk_probes_prog.h"

namespace xskit {

struct GlobalOptions {
  std::optional<std::string> pin_root;
  std::string log_level = "warn";
};

// An option whose value is one of an enum table's names (lib/enum_table.h),
// stored as the enum: the table's names are what --help lists and what
// parses (CLI11's CheckedTransformer over the table; numbers are refused),
// `dflt` is shown as the default.
template <typename E, size_t N>
CLI::Option* AddEnumOption(CLI::App* cmd, const std::string& name, E& out,
                           const EnumName<E> (&table)[N], const std::string& help) {
  return cmd->add_option(name, out, help)
      ->transform(CLI::CheckedTransformer(CliMap(table)).description(""))
      ->transform(CLI::IsMember(NamesOf(table)))  // transforms run last-added first: names only
      ->type_name("TEXT")
      ->default_str(NameOf(table, out, ""));
}

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
