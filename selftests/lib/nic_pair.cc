#include "selftests/lib/nic_pair.h"

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/traffic.h"

namespace xskit::testing {

const std::vector<NicDriver>& NicDrivers() {
  static const std::vector<NicDriver> kDrivers = {
      {"veth", ""}, {"virtio_net", "XSKIT_VIRTIO_PAIR"}, {"igb", "XSKIT_IGB_PAIR"}};
  return kDrivers;
}

std::pair<std::string, std::string> PairFromEnv(const std::string& env) {
  const char* v = std::getenv(env.c_str());
  if (!v) return {};
  std::vector<std::string> parts = absl::StrSplit(v, ',');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) return {};
  return {parts[0], parts[1]};
}

std::string NoPairReason(const NicDriver& d) {
  if (d.driver == "igb")
    if (const char* r = std::getenv("XSKIT_NO_IGB_REASON"); r && *r) return absl::StrCat("no igb pair: ", r);
  return absl::StrCat("no ", d.driver, " pair (", d.pair_env,
                      " unset): runs inside selftests/vmtest VMs");
}

std::string RunningKernelRelease() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

uint32_t RunningKernelSeries() {
  unsigned major = 0, minor = 0;
  std::sscanf(RunningKernelRelease().c_str(), "%u.%u", &major, &minor);
  return KernelSeries(major, minor);
}

bool WaitForCarrier(const std::string& netns, const std::string& dev, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    CmdResult r = RunCmd({"ip", "-j", "link", "show", "dev", dev}, netns);
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (j.is_array() && !j.empty() && j[0].contains("flags"))
      for (const auto& f : j[0]["flags"])
        if (f == "LOWER_UP") return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string IrqMode(const std::string& bus_info) {
  namespace fs = std::filesystem;
  const fs::path dev = fs::path("/sys/bus/pci/devices") / bus_info;
  std::error_code ec;
  if (bus_info.empty() || !fs::exists(dev, ec)) return "n/a";
  size_t vectors = 0;
  for (auto it = fs::directory_iterator(dev / "msi_irqs", ec); !ec && it != fs::directory_iterator(); ++it)
    vectors++;
  if (vectors > 1) return absl::StrCat("MSI-X (", vectors, " vectors)");
  if (vectors == 1) return "MSI";
  return "legacy INTx";
}

void SendPaced(const std::string& netns, const std::string& dev,
               const std::vector<std::vector<uint8_t>>& frames, size_t chunk,
               std::chrono::microseconds gap) {
  for (size_t i = 0; i < frames.size(); i += chunk) {
    std::vector<std::vector<uint8_t>> part(frames.begin() + i,
                                           frames.begin() + std::min(frames.size(), i + chunk));
    SendFrames(netns, dev, part);
    std::this_thread::sleep_for(gap);
  }
}

std::vector<std::vector<uint8_t>> FlowFrames(const NetnsPair& pair, int flows, int per_flow,
                                             uint16_t dport) {
  std::vector<std::vector<uint8_t>> frames;
  for (int k = 0; k < per_flow; k++)
    for (int f = 0; f < flows; f++)
      frames.push_back(Packet()
                           .Eth(pair.mac_a(), pair.mac_b())
                           .IPv4(absl::StrCat("198.18.", 1 + f / 250, ".", 1 + f % 250), NetnsPair::kIpA)
                           .Udp(static_cast<uint16_t>(30000 + f), dport)
                           .Payload(32)
                           .Build());
  return frames;
}

bool Ethtool(const std::string& netns, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ethtool"};
  argv.insert(argv.end(), args.begin(), args.end());
  CmdResult r = RunCmd(argv, netns);
  EXPECT_EQ(r.status, 0) << ::testing::PrintToString(argv) << ": " << r.output;
  return r.status == 0;
}

}  // namespace xskit::testing
