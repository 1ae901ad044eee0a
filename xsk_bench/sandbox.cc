#include "xsk_bench/sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/pins.h"
#include "lib/sandbox/run.h"

namespace xskit::bench {
namespace {

using sandbox::RunCmd;

constexpr const char* kPrefix = "xskit-bench-";

void RemoveNamespaces(int pid) {
  for (const char* side : {"-rx", "-tx"})
    (void)RunCmd({"ip", "netns", "del", absl::StrCat(kPrefix, pid, side)});
}

}  // namespace

absl::StatusOr<Sandbox> Sandbox::Create() {
  int pid = ::getpid();
  sandbox::NetnsPair::Options o;
  o.ns_a = absl::StrCat(kPrefix, pid, "-tx");
  o.dev_a = absl::StrCat("xsb", pid, "t");
  o.ip_a = "198.18.200.1";
  o.ns_b = absl::StrCat(kPrefix, pid, "-rx");
  o.dev_b = absl::StrCat("xsb", pid, "r");
  o.ip_b = "198.18.200.2";
  XSKIT_ASSIGN_OR_RETURN(sandbox::NetnsPair pair, sandbox::NetnsPair::Create(o));
  Sandbox s;
  s.tx_ = {pair.ns_a(), pair.dev_a(), pair.mac_a(), pair.ip_a()};
  s.rx_ = {pair.ns_b(), pair.dev_b(), pair.mac_b(), pair.ip_b()};
  s.pair_.emplace(std::move(pair));
  return s;
}

void Sandbox::SweepStale(const std::string& pin_root) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    std::string name = entry.path().filename();
    if (name.rfind(kPrefix, 0) != 0) continue;
    int pid = 0;
    std::string rest = name.substr(std::string(kPrefix).size());
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid)) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM) continue;
    RemoveNamespaces(pid);
  }
  // Pins of a steering attach in a sandbox that is gone.
  PinLayout pins(pin_root);
  for (const auto& dir : pins.ListIfaceDirs()) {
    IfaceDirParts parts = ParseIfaceDirName(dir);
    if (parts.netns.rfind(kPrefix, 0) != 0) continue;
    if (std::filesystem::exists("/run/netns/" + parts.netns)) continue;
    (void)RemovePinDir(pins.IfaceDir(dir), pins.IfacesDir());
  }
}

}  // namespace xskit::bench
