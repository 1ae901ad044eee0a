#include "lib/sandbox/netns.h"

#include <cstdio>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/errors.h"
#include "lib/sandbox/run.h"

namespace xskit::sandbox {

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
  CmdResult r = RunCmd({"ip", "-o", "link", "show", "dev", ifname}, netns);
  auto pos = r.output.find("link/ether ");
  if (r.status != 0 || pos == std::string::npos)
    return Error(ExitCode::kNoSuchInterface,
                 absl::StrCat("no Ethernet interface ", ifname,
                              netns.empty() ? "" : " in netns " + netns, ": ", r.output));
  return ParseMac(r.output.substr(pos + 11, 17));
}

absl::StatusOr<NetnsPair> NetnsPair::Create(const Options& opts) {
  NetnsPair p;
  std::string base = UniqueName();
  p.ns_a_ = opts.ns_a.empty() ? base + "-a" : opts.ns_a;
  p.ns_b_ = opts.ns_b.empty() ? base + "-b" : opts.ns_b;
  p.dev_a_ = opts.dev_a.empty() ? base + "a" : opts.dev_a;
  p.dev_b_ = opts.dev_b.empty() ? base + "b" : opts.dev_b;
  p.ip_a_ = opts.ip_a.empty() ? kIpA : opts.ip_a;
  p.ip_b_ = opts.ip_b.empty() ? kIpB : opts.ip_b;
  XSKIT_RETURN_IF_ERROR(p.Setup(opts));  // on failure ~NetnsPair removes what was made
  return p;
}

absl::Status NetnsPair::Setup(const Options& opts) {
  XSKIT_RETURN_IF_ERROR(Run({"ip", "netns", "add", ns_a_}));
  owned_ = true;  // from here on the destructor removes whatever was made
  XSKIT_RETURN_IF_ERROR(Run({"ip", "netns", "add", ns_b_}));
  std::string q = absl::StrCat(opts.queues);
  if (!opts.existing_a.empty()) {
    dev_a_ = opts.existing_a;
    dev_b_ = opts.existing_b;
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", dev_a_, "netns", ns_a_}));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", dev_b_, "netns", ns_b_}));
  } else {
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "add", dev_a_, "numtxqueues", q, "numrxqueues", q,
                               "netns", ns_a_, "type", "veth", "peer", "name", dev_b_,
                               "numtxqueues", q, "numrxqueues", q, "netns", ns_b_}));
  }
  for (auto [ns, dev, ip] : {std::tuple{ns_a_, dev_a_, ip_a_}, std::tuple{ns_b_, dev_b_, ip_b_}}) {
    if (!opts.ipv6) {
      XSKIT_RETURN_IF_ERROR(
          Run({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".disable_ipv6=1")}, ns));
    } else {
      XSKIT_RETURN_IF_ERROR(
          Run({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".accept_dad=0")}, ns));
      XSKIT_RETURN_IF_ERROR(
          Run({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".router_solicitations=0")}, ns));
    }
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", dev, "mtu", absl::StrCat(opts.mtu)}, ns));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "addr", "add", absl::StrCat(ip, "/24"), "dev", dev}, ns));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", dev, "up"}, ns));
    XSKIT_RETURN_IF_ERROR(Run({"ip", "link", "set", "dev", "lo", "up"}, ns));
  }
  XSKIT_ASSIGN_OR_RETURN(mac_a_, ReadMac(ns_a_, dev_a_));
  XSKIT_ASSIGN_OR_RETURN(mac_b_, ReadMac(ns_b_, dev_b_));
  XSKIT_RETURN_IF_ERROR(Run({"ip", "neigh", "replace", ip_b_, "lladdr", MacString(mac_b_), "nud",
                             "permanent", "dev", dev_a_},
                            ns_a_));
  XSKIT_RETURN_IF_ERROR(Run({"ip", "neigh", "replace", ip_a_, "lladdr", MacString(mac_a_), "nud",
                             "permanent", "dev", dev_b_},
                            ns_b_));
  return absl::OkStatus();
}

NetnsPair::NetnsPair(NetnsPair&& o) noexcept
    : ns_a_(std::move(o.ns_a_)), ns_b_(std::move(o.ns_b_)), dev_a_(std::move(o.dev_a_)),
      dev_b_(std::move(o.dev_b_)), ip_a_(std::move(o.ip_a_)), ip_b_(std::move(o.ip_b_)),
      mac_a_(o.mac_a_), mac_b_(o.mac_b_), owned_(o.owned_) {
  o.owned_ = false;
}

NetnsPair::~NetnsPair() {
  if (!owned_) return;
  // Deleting a namespace destroys its veth end, which takes the peer, and
  // with it any XDP program attached to either.
  (void)RunCmd({"ip", "netns", "del", ns_a_});
  (void)RunCmd({"ip", "netns", "del", ns_b_});
}

}  // namespace xskit::sandbox
