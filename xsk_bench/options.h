// xsk-bench's options: xdpsock's modes and flags, plus xskit's own
// (sandbox, probes, JSON). Parsed in main.cc, read everywhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/enum_table.h"

namespace xskit::bench {

enum class Mode { kTxOnly, kRxDrop, kL2Fwd };
enum class XdpMode { kAuto, kGeneric, kNative };  // -S / -N: the steering attach
enum class BindMode { kAuto, kCopy, kZerocopy };  // -c / -z
enum class Backend { kAfXdp, kAfPacket };

// One table per enum (lib/enum_table.h): the names the result prints.
inline constexpr EnumName<Mode> kModeNames[] = {
    {Mode::kTxOnly, "txonly"}, {Mode::kRxDrop, "rxdrop"}, {Mode::kL2Fwd, "l2fwd"}};
inline constexpr EnumName<XdpMode> kXdpModeRequestNames[] = {
    {XdpMode::kAuto, "auto"}, {XdpMode::kGeneric, "generic"}, {XdpMode::kNative, "native"}};
inline constexpr EnumName<BindMode> kBindModeNames[] = {
    {BindMode::kAuto, "auto"}, {BindMode::kCopy, "copy"}, {BindMode::kZerocopy, "zerocopy"}};
inline constexpr EnumName<Backend> kBackendNames[] = {{Backend::kAfXdp, "af_xdp"},
                                                      {Backend::kAfPacket, "af_packet"}};

// xdpsock's flags for each enum value (-t/-r/-l, -S/-N, -c/-z, --af-packet):
// main.cc adds one flag per row, so the flags and the values they stand
// for are written once.
template <typename E>
struct EnumFlag {
  E value;
  const char* flags;
  const char* help;
};
inline constexpr EnumFlag<Mode> kModeFlags[] = {
    {Mode::kTxOnly, "-t,--txonly", "transmit only (default)"},
    {Mode::kRxDrop, "-r,--rxdrop", "receive and drop (through xsk-loader's steering program)"},
    {Mode::kL2Fwd, "-l,--l2fwd", "receive, swap MACs, send back"}};
inline constexpr EnumFlag<XdpMode> kXdpModeFlags[] = {
    {XdpMode::kGeneric, "-S,--xdp-skb", "generic (SKB) XDP mode for the steering attach; forces copy"},
    {XdpMode::kNative, "-N,--xdp-native", "native XDP mode for the steering attach"}};
inline constexpr EnumFlag<BindMode> kBindFlags[] = {
    {BindMode::kCopy, "-c,--copy", "bind in copy mode (XDP_COPY)"},
    {BindMode::kZerocopy, "-z,--zero-copy", "bind in zero-copy mode (XDP_ZEROCOPY)"}};
inline constexpr EnumFlag<Backend> kBackendFlags[] = {
    {Backend::kAfPacket, "--af-packet", "txonly over AF_PACKET (PACKET_QDISC_BYPASS, sendmmsg of -b)"}};

inline const char* ModeName(Mode m) { return NameOf(kModeNames, m, "?"); }
inline const char* BackendName(Backend b) { return NameOf(kBackendNames, b, "?"); }

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
