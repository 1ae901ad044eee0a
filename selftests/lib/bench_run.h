// Running the real xsk-bench in tests (the benchtool tier on veth, the
// virtio tier on the VM's virtio-net pair): to completion or in the
// background until SIGINT (as Ctrl-C), its --json result, and the ground
// truth to hold it against (link counters, the socket in the XSKMAP).
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "selftests/lib/netns.h"

namespace xskit::testing {

// `xsk-bench --pin-root PIN_ROOT ARGS...` (the binary in the build tree).
std::vector<std::string> BenchArgv(const std::string& pin_root, const std::vector<std::string>& args);

// xsk-bench's --json document in a command's output (live lines go to
// stderr, which RunCmd merges: the document starts at the first "{" line);
// null when there is none.
nlohmann::json BenchResult(const CmdResult& r);

// The arguments of txonly from `pair`'s a side to b's MAC and address:
// `-t -i <dev_a> --dst-mac <b> --src-ip <a> --dst-ip <b>`.
std::vector<std::string> TxOnlyToB(const NetnsPair& pair);

// A command running in `netns` until Stop() interrupts it (SIGINT, as
// Ctrl-C would); stdout and stderr go to an unlinked file read back then.
// Killed (SIGKILL) if the test ends without Stop().
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& netns);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  CmdResult Stop();

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

// rx_packets of `dev` in `netns` (on veth: what the peer transmitted).
uint64_t LinkRxPackets(const std::string& netns, const std::string& dev);

// The XDP program attached to `dev` in `netns`, as `ip -d link` shows it
// ("prog/xdp id 42 ..."), or "" when there is none.
std::string XdpAttached(const std::string& netns, const std::string& dev);

// Everything under a pin root (files and directories, recursively), for
// "nothing left behind"; empty when the root is gone.
std::vector<std::string> PinsUnder(const std::string& pin_root);

// `read()` once it stops moving: the same value twice 100 ms apart (at
// most 5 s), so that what is still in flight is counted.
uint64_t Settled(const std::function<uint64_t()>& read);

// True once queue 0 of `dev` in `netns` (attached under `pin_root`) has a
// socket in the XSKMAP, as `xsk-loader status` reports it; false after
// `timeout`.
bool WaitForSocket(const std::string& pin_root, const std::string& netns, const std::string& dev,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace xskit::testing
