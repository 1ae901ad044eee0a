// Test hosts: network namespaces joined by veth, made by the test and torn
// down by RAII, also when an assertion fails half-way.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xskit::testing {

// Runs a command (argv[0] searched in PATH); returns its exit status and
// combined stdout+stderr.
struct CmdResult {
  int status = -1;
  std::string output;
};
CmdResult RunCmd(const std::vector<std::string>& argv, const std::string& netns = "");

// "aa:bb:cc:dd:ee:ff"
std::string MacString(const std::array<uint8_t, 6>& mac);
// Runs and aborts the test setup (throws std::runtime_error) on failure.
std::string MustRun(const std::vector<std::string>& argv, const std::string& netns = "");

// Runs `fn` on a thread that has entered network namespace `netns`
// (sockets it creates live there) and waits for it.
void InNetns(const std::string& netns, const std::function<void()>& fn);

// Two namespaces "<prefix>-a" and "<prefix>-b" joined by veth "<dev>a"
// (in a) and "<dev>b" (in b), addresses 198.18.0.1/24 (a) and
// 198.18.0.2/24 (b), IPv6 disabled and static neighbours, so the only
// traffic on the link is what the test sends.
class NetnsPair {
 public:
  struct Options {
    uint32_t queues = 1;  // veth rx/tx queue count
    uint32_t mtu = 1500;
    bool ipv6 = false;
    // Instead of a veth pair: two existing devices joined by a wire (the
    // VM's virtio-net pair), moved into the namespaces; they return to
    // the initial namespace when the namespaces are deleted.
    std::string existing_a, existing_b;
  };
  NetnsPair();
  explicit NetnsPair(const Options& opts);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  const std::string& dev_a() const { return dev_a_; }
  const std::string& dev_b() const { return dev_b_; }
  const std::array<uint8_t, 6>& mac_a() const { return mac_a_; }
  const std::array<uint8_t, 6>& mac_b() const { return mac_b_; }
  static constexpr const char* kIpA = "198.18.0.1";
  static constexpr const char* kIpB = "198.18.0.2";

 private:
  std::string ns_a_, ns_b_, dev_a_, dev_b_;
  std::array<uint8_t, 6> mac_a_{}, mac_b_{};
};

// A unique short name prefix for this process ("xt<pid>n<k>").
std::string UniqueName();

}  // namespace xskit::testing
