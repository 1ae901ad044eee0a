#include "selftests/lib/interop.h"

#include <thread>

#include "gtest/gtest.h"
#include "selftests/lib/workload.h"

namespace xskit::testing {

SteeredPair::SteeredPair() { EnsureBpffs(); }

CmdResult SteeredPair::Loader(const std::vector<std::string>& args) {
  return RunLoader(root_.path(), pair_.ns_a(), args);
}

nlohmann::json SteeredPair::Status() {
  CmdResult r = Loader({"status", pair_.dev_a(), "--json"});
  EXPECT_EQ(r.status, 0) << r.output;
  return nlohmann::json::parse(r.output, nullptr, false);
}

uint64_t SteeredPair::Counter(const char* name, uint32_t queue) {
  nlohmann::json st = Status();
  if (st.is_discarded() || !st["interfaces"][0]["queues"][queue].contains(name)) return 0;
  return st["interfaces"][0]["queues"][queue][name].get<uint64_t>();
}

uint64_t SteeredPair::WaitCounter(const char* name, uint64_t want,
                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint64_t v = Counter(name);
  while (v < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    v = Counter(name);
  }
  return v;
}

bool SteeredPair::SocketPresent(uint32_t queue) {
  nlohmann::json st = Status();
  if (st.is_discarded()) return false;
  const auto& q = st["interfaces"][0]["queues"][queue];
  return q.contains("socket") && q["socket"].get<bool>();
}

bool SteeredPair::WaitSocket(bool want, std::chrono::milliseconds timeout, uint32_t queue) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (SocketPresent(queue) != want) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

uint32_t SteeredPair::XdpProgId() {
  std::string out = RunCmd({"ip", "-d", "-o", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a()).output;
  auto pos = out.find("prog/xdp id ");
  return pos == std::string::npos ? 0 : static_cast<uint32_t>(std::stoul(out.substr(pos + 12)));
}

std::string SteeredPair::XsksMapPin() const {
  return root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a() + "/xsks_map";
}

}  // namespace xskit::testing
