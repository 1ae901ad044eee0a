#include "xsk_bench/sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/errors.h"
#include "lib/pins.h"
#include "selftests/lib/netns.h"

namespace xskit::bench {
namespace {

using xskit::testing::RunCmd;

constexpr const char* kPrefix = "xskit-bench-";

absl::Status Run(const std::vector<std::string>& argv, const std::string& netns = "") {
  auto r = RunCmd(argv, netns);
  if (r.status != 0)
    return Error(ExitCode::kInternal, absl::StrCat("`", absl::StrJoin(argv, " "), "`",
                                                   netns.empty() ? "" : " in netns " + netns,
                                                   " exited ", r.status, ": ", r.output));
  return absl::OkStatus();
}

void RemoveNamespaces(int pid) {
  for (const char* side : {"-rx", "-tx"})
    (void)RunCmd({"ip", "netns", "del", absl::StrCat(kPrefix, pid, side)});
}

}  // namespace

absl::StatusOr<Mac> ParseMac(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  Mac m{};
  if (parts.size() != 6) return Error(ExitCode::kUsage, absl::StrCat("not a MAC: ", text));
  for (int i = 0; i < 6; i++) {
    uint32_t v = 0;
    if (parts[i].size() != 2 || !absl::SimpleHexAtoi(parts[i], &v))
      return Error(ExitCode::kUsage, absl::StrCat("not a MAC: ", text));
    m[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::string MacString(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

absl::StatusOr<Mac> ReadMac(const std::string& netns, const std::string& ifname) {
  auto r = RunCmd({"ip", "-o", "link", "show", "dev", ifname}, netns);
  auto pos = r.output.find("link/ether ");
  if (r.status != 0 || pos == std::string::npos)
    return Error(ExitCode::kNoSuchInterface,
                 absl::StrCat("no Ethernet interface ", ifname,
                              netns.empty() ? "" : " in netns " + netns, ": ", r.output));
  return ParseMac(r.output.substr(pos + 11, 17));
}

absl::StatusOr<Sandbox> Sandbox::Create() {
  Sandbox s;
  int pid = ::getpid();
  s.tx_ = {absl::StrCat(kPrefix, pid, "-tx"), absl::StrCat("xsb", pid, "t"), {}, "198.18.200.1"};
  s.rx_ = {absl::StrCat(kPrefix, pid, "-rx"), absl::StrCat("xsb", pid, "r"), {}, "198.18.200.2"};
  s.owned_ = true;  // from here on the destructor removes whatever was made
  XSKIT_RETURN_IF_ERROR(Run({"ip", "netns", "add", s.tx_.netns}));
  XSKIT_RETURN_IF_ERROR(Run({"ip", "netns", "add", s.rx_.netns}));
  XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "add", s.tx_.ifname, "netns", s.tx_.netns, "type",
                             "veth", "peer", "name", s.rx_.ifname, "netns", s.rx_.netns}));
  for (Endpoint* e : {&s.tx_, &s.rx_}) {
    XSKIT_RETURN_IF_ERROR(Run({"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"}, e->netns));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "addr", "add", e->ip + "/24", "dev", e->ifname}, e->netns));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", e->ifname, "up"}, e->netns));
    XSKIT_ASSIGN_OR_RETURN(e->mac, ReadMac(e->netns, e->ifname));
  }
  XSKIT_RETURN_IF_ERROR(Run({"ip", "neigh", "replace", s.rx_.ip, "lladdr", MacString(s.rx_.mac),
                             "nud", "permanent", "dev", s.tx_.ifname},
                            s.tx_.netns));
  XSKIT_RETURN_IF_ERROR(Run({"ip", "neigh", "replace", s.tx_.ip, "lladdr", MacString(s.tx_.mac),
                             "nud", "permanent", "dev", s.rx_.ifname},
                            s.rx_.netns));
  return s;
}

Sandbox::Sandbox(Sandbox&& o) noexcept : tx_(o.tx_), rx_(o.rx_), owned_(o.owned_) {
  o.owned_ = false;
}

Sandbox::~Sandbox() {
  if (!owned_) return;
  (void)RunCmd({"ip", "netns", "del", rx_.netns});
  (void)RunCmd({"ip", "netns", "del", tx_.netns});
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
