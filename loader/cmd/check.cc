#include <cstdio>

#include "loader/cmd/commands.h"
#include "absl/strings/str_cat.h"
#include "lib/attach.h"
#include "lib/errors.h"
#include "loader/preflight.h"

namespace xskit {
namespace {

struct CheckFlags {
  std::string ifname;
  ModeRequest mode = ModeRequest::kAuto;
  bool zerocopy = false;
  bool json = false;
};

absl::Status RunCheck(const CheckFlags& flags) {
  PreflightOptions opts{.want_native = flags.mode == ModeRequest::kNative, .want_zerocopy = flags.zerocopy};
  XSKIT_ASSIGN_OR_RETURN(auto findings, Preflight(flags.ifname, opts));
  if (flags.json)
    std::printf("%s\n", FindingsJson(flags.ifname, findings).dump(2).c_str());
  else
    std::fputs(RenderFindings(findings).c_str(), stdout);
  for (const auto& f : findings)
    if (f.verdict == Verdict::kFail)
      return Error(f.fail_code, absl::StrCat(flags.ifname, " is not ready: ", f.check, ": ", f.detail));
  return absl::OkStatus();
}

}  // namespace

void RegisterCheck(CLI::App& app, GlobalOptions& /*global*/, absl::Status* result) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* cmd = app.add_subcommand("check", "preflight: is IFACE ready for AF_XDP, and what will it get");
  cmd->add_option("iface", flags->ifname, "interface")->required();
  AddEnumOption(cmd, "--mode", flags->mode, kModeRequestNames, "the mode attach would be asked for");
  cmd->add_flag("--zerocopy", flags->zerocopy, "check as if attach got --zerocopy");
  cmd->add_flag("--json", flags->json, "print JSON");
  cmd->callback([flags, result] { *result = RunCheck(*flags); });
}

}  // namespace xskit
