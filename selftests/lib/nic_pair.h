// A pair of real NICs joined by a wire, for the driver-pair tier (`nics`):
// the kernel-matrix VM's virtio_net pair (XSKIT_VIRTIO_PAIR) and igb pair
// (XSKIT_IGB_PAIR), or a veth pair made here. Carrier waits, paced sending
// (an emulated NIC drops what arrives while its Rx ring is empty), the
// running kernel's series and the NIC's interrupt mode.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/iface_facts.h"
#include "selftests/lib/netns.h"

namespace xskit::testing {

// One driver of the tier: its name and the environment variable naming the
// VM's pair of it ("" for veth, which the test makes itself).
struct NicDriver {
  std::string driver;
  std::string pair_env;
};
// veth, virtio_net, igb.
const std::vector<NicDriver>& NicDrivers();

// The two interfaces `env` names ("ethA,ethB"); empty when unset.
std::pair<std::string, std::string> PairFromEnv(const std::string& env);

// Why the VM has no pair for `d` (the runner's reason for igb, else a
// generic one), for a skip.
std::string NoPairReason(const NicDriver& d);

// The running kernel's KernelSeries(major, minor) (uname -r).
uint32_t RunningKernelSeries();
std::string RunningKernelRelease();

// True once `dev` in `netns` has carrier (LOWER_UP); an XDP attach, a
// zero-copy bind, ethtool -L/-G/-X reset the link on igb (0.2-0.7 s).
bool WaitForCarrier(const std::string& netns, const std::string& dev,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15));

// "MSI-X", "MSI" or "legacy INTx": how the PCI function at `bus_info`
// (ethtool's bus-info) interrupts; "n/a" for a device without one.
std::string IrqMode(const std::string& bus_info);

// Sends `frames` out of `dev` in `netns` in chunks of `chunk`, `gap` apart.
void SendPaced(const std::string& netns, const std::string& dev,
               const std::vector<std::vector<uint8_t>>& frames, size_t chunk = 8,
               std::chrono::microseconds gap = std::chrono::microseconds(3000));

// `per_flow` UDP frames to port `dport` from each of `flows` source
// addresses 198.18.1.1, .2, ... (RSS hashes addresses: igb does not hash
// UDP ports), b's MAC to a's.
std::vector<std::vector<uint8_t>> FlowFrames(const NetnsPair& pair, int flows, int per_flow,
                                             uint16_t dport);

// `ethtool ARGS` in `netns`; failure fails the test (returns false).
bool Ethtool(const std::string& netns, const std::vector<std::string>& args);

}  // namespace xskit::testing
