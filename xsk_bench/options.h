// xsk-bench's options: xdpsock's modes and flags, plus xskit's own
// (sandbox, probes, JSON). Parsed in main.cc, read everywhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace xskit::bench {

enum class Mode { kTxOnly, kRxDrop, kL2Fwd };
enum class XdpMode { kAuto, kGeneric, kNative };  // -S / -N: the steering attach
enum class BindMode { kAuto, kCopy, kZerocopy };  // -c / -z
enum class Backend { kAfXdp, kAfPacket };

const char* ModeName(Mode m);        // "txonly", "rxdrop", "l2fwd"
const char* BackendName(Backend b);  // "af_xdp", "af_packet"

struct Options {
  Mode mode = Mode::kTxOnly;
  Backend backend = Backend::kAfXdp;
  std::string ifname;  // empty: the sandbox
  uint32_t queue = 0;
  XdpMode xdp_mode = XdpMode::kAuto;
  BindMode bind = BindMode::kAuto;
  uint32_t pkt_size = 64;     // -s: on the wire, FCS included (xdpsock's -s)
  uint32_t frame_size = 4096; // -f: umem chunk
  uint32_t batch = 64;        // -b: descriptors per reserve/submit (xdpsock's default)
  uint32_t ring_size = 2048;  // rx/tx/comp ring entries (fill: 2x)
  bool busy_poll = false;     // -B
  bool poll = false;          // -p: poll() instead of sendto/recvfrom kicks
  bool need_wakeup = true;    // -m turns it off
  bool unaligned = false;     // -u
  double duration_s = 0;      // -d; 0: until Ctrl-C (or -C reached)
  uint64_t count = 0;         // -C: packets to send (txonly), 0: unlimited
  double interval_s = 1.0;    // -n
  bool quiet = false;         // -Q: no live lines
  bool json = false;          // --json: the final result as JSON on stdout
  std::optional<uint32_t> xmit_batch;  // XDP_GENERIC_XMIT_BATCH
  std::optional<uint32_t> tx_budget;   // XDP_MAX_TX_SKB_BUDGET
  bool observe = false;       // attach the probes for the run if absent
  std::optional<std::string> pin_root;
  // Frame addressing for txonly on a named interface.
  std::string src_mac, dst_mac;  // empty src: the interface's own
  std::string src_ip = "198.18.0.1", dst_ip = "198.18.0.2";
  uint16_t src_port = 9, dst_port = 9;
  // Where to run a named interface: a netns under /run/netns ("" = ours).
  std::string netns;
  std::string log_level = "warn";
};

}  // namespace xskit::bench
