// Two network namespaces joined by veth (or by two existing devices), with
// addresses, IPv6 off and static neighbours, so the only traffic on the
// link is what the caller sends. Removed when the object goes, also when
// Create() fails half-way. Used by xsk-bench's sandbox, the benchmarks and
// (through selftests/lib/netns.h) the tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace xskit::sandbox {

using Mac = std::array<uint8_t, 6>;

class NetnsPair {
 public:
  static constexpr const char* kIpA = "198.18.0.1";
  static constexpr const char* kIpB = "198.18.0.2";
  struct Options {
    uint32_t queues = 1;  // veth rx/tx queue count
    uint32_t mtu = 1500;
    bool ipv6 = false;
    // Instead of a veth pair: two existing devices joined by a wire (the
    // VM's virtio-net pair), moved into the namespaces; they return to
    // the initial namespace when the namespaces are deleted.
    std::string existing_a, existing_b;
    // Names and addresses; empty = "<prefix>-a"/"-b" namespaces and
    // "<prefix>a"/"b" devices for a UniqueName() prefix, kIpA/kIpB.
    std::string ns_a, ns_b, dev_a, dev_b;
    std::string ip_a, ip_b;
  };
  static absl::StatusOr<NetnsPair> Create(const Options& opts);
  NetnsPair(NetnsPair&& o) noexcept;
  NetnsPair& operator=(NetnsPair&&) = delete;
  NetnsPair(const NetnsPair&) = delete;
  ~NetnsPair();

  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  const std::string& dev_a() const { return dev_a_; }
  const std::string& dev_b() const { return dev_b_; }
  const std::string& ip_a() const { return ip_a_; }
  const std::string& ip_b() const { return ip_b_; }
  const Mac& mac_a() const { return mac_a_; }
  const Mac& mac_b() const { return mac_b_; }

 protected:
  NetnsPair() = default;

 private:
  absl::Status Setup(const Options& opts);
  std::string ns_a_, ns_b_, dev_a_, dev_b_, ip_a_, ip_b_;
  Mac mac_a_{}, mac_b_{};
  bool owned_ = false;
};

// The MAC of `ifname` in `netns` ("" = the caller's).
absl::StatusOr<Mac> ReadMac(const std::string& netns, const std::string& ifname);
// "aa:bb:cc:dd:ee:ff" and back.
absl::StatusOr<Mac> ParseMac(const std::string& text);
std::string MacString(const Mac& mac);

}  // namespace xskit::sandbox
