// The AF_XDP socket inventory: every AF_XDP socket on the host, whoever made
// it and in whichever network namespace, with its binding, mode, rings, umem,
// owners and the kernel's own counters (the ones getsockopt(XDP_STATISTICS)
// returns). xsk_sockets' sole owner: loads bpf/xsk_sockets.bpf.c (a
// task_file iterator) and runs it; status, top, the exporter and the tests
// read the typed snapshot below. A snapshot of its own, apart from the probe
// snapshot.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/xsk_sockets.h"
#include "bpf/xsk_steer.h"
#include "lib/pins.h"
#include "nlohmann/json.hpp"

struct xsk_sockets;  // the skeleton (build/bpf/xsk_sockets.skel.h)

namespace xskit {

static_assert(sizeof(xsk_socket_counters) == 48, "xsk_socket_counters layout");
static_assert(sizeof(xsk_socket_rec) == 200, "xsk_socket_rec layout");

// One process holding the socket (one row per fd).
struct XskSocketOwner {
  uint32_t pid = 0;
  uint32_t fd = 0;
  std::string comm;
};

struct AfXdpSocket {
  uint64_t inode = 0;        // socket:[inode], unique while the socket lives
  uint64_t netns_inode = 0;
  std::string netns;         // "" initial, name under /run/netns, else "ns<inode>"
  std::string ifname;        // "" while unbound
  uint32_t ifindex = 0;
  uint32_t queue = 0;
  bool bound = false;
  bool zerocopy = false;
  bool need_wakeup = false;
  bool sg = false;
  bool shared_pool = false;  // XDP_SHARED_UMEM on the same queue
  uint32_t uid = 0;
  uint32_t rx_ring = 0, tx_ring = 0, fill_ring = 0, comp_ring = 0;
  uint32_t umem_id = 0;
  uint64_t umem_size = 0;
  uint32_t chunk_size = 0, headroom = 0;
  uint32_t umem_sockets = 0;  // sockets of this snapshot sharing the umem
  xsk_socket_counters counters{};
  std::vector<XskSocketOwner> owners;  // sorted by pid, fd
  struct MapSlot {
    uint32_t map_id = 0;
    uint32_t key = 0;
  };
  std::vector<MapSlot> maps;  // XSKMAPs holding the socket
  // Against xskit's attachments (pin root given to TakeSocketInventory):
  std::string steer_dir;      // the attachment of (netns, ifname), "" if none
  bool steered_queue = false; // the attachment opened this queue
  bool registered = false;    // in that attachment's xsks_map at key == queue
  // Bound to a queue xskit steers but not in its XSKMAP: will never receive.
  bool unregistered() const { return steered_queue && !registered; }

  const char* mode() const { return !bound ? "unbound" : zerocopy ? "zerocopy" : "copy"; }
  uint64_t drops() const { return counters.rx_dropped; }
};

// Which source produced the inventory, and why not the other (like the
// probes' coverage).
struct XskSocketCoverage {
  std::string source;  // "bpf_iter" or "sock_diag"
  std::string reason;  // why the preferred source was not used ("" when it was)
  std::string sock_diag_reason;  // why sock_diag was not used ("" when it was)
};

struct XskSocketInventory {
  std::vector<AfXdpSocket> sockets;  // worst first: most rx_dropped, then by ifname/queue
  XskSocketCoverage coverage;
};

// The loaded iterator; keep one to make passes cheaply (the exporter does).
class XskSocketsProg {
 public:
  static absl::StatusOr<XskSocketsProg> Load();
  XskSocketsProg(XskSocketsProg&&) noexcept;
  XskSocketsProg& operator=(XskSocketsProg&&) noexcept;
  ~XskSocketsProg();

  // One iterator pass over every process: one record per (task, fd)
  // holding an AF_XDP socket. Costs about a microsecond per open file on the
  // host (20 ms for 22,000 files on a loaded 2-core VM).
  absl::StatusOr<std::vector<xsk_socket_rec>> ReadRecords() const;

  // The same over the files of `pids` only (task iterator parameters,
  // kernel 6.1+): the cheap re-read of known sockets' counters. A pid that
  // is gone contributes nothing. Unimplemented (the caller falls back to
  // ReadRecords) where the kernel has no per-process task_file iterator.
  absl::StatusOr<std::vector<xsk_socket_rec>> ReadRecordsOf(const std::vector<uint32_t>& pids) const;

 private:
  XskSocketsProg() = default;
  xsk_sockets* skel_ = nullptr;
  int link_fd_ = -1;
};

// Merges records by socket inode, names namespaces, and (with `pins`)
// checks each socket against xskit's attachments. Pure, for tests.
std::vector<AfXdpSocket> MergeSocketRecords(const std::vector<xsk_socket_rec>& recs);
// An attachment of xsk_steer, as the socket check needs it.
struct SteerRef {
  std::string dir;  // pin directory name: "<ifname>" or "<netns>:<ifname>"
  xsk_steer_info info{};
  uint32_t xsks_map_id = 0;
};
std::vector<SteerRef> SteerRefs(const PinLayout& pins);
// Sets steer_dir/steered_queue/registered of every bound socket.
void MarkSteering(const std::vector<SteerRef>& steers, std::vector<AfXdpSocket>& sockets);

// The sock_diag source (lib/xsk_sockets_diag.cc): one AF_XDP dump per
// network namespace (PID 1's, /run/netns/*, every process's; deduplicated by
// inode), owners from /proc/*/fd. Unimplemented where the kernel has no
// AF_XDP sock_diag handler (CONFIG_XDP_SOCKETS_DIAG; module xsk_diag).
absl::StatusOr<std::vector<xsk_socket_rec>> SockDiagRecords();

enum class SocketSource {
  kAuto,     // the iterator, sock_diag where the iterator is refused
  kBpfIter,  // the iterator only
  kSockDiag, // sock_diag only (the cross-check)
};

// One inventory pass with `prog` (loaded on demand when null).
absl::StatusOr<XskSocketInventory> TakeSocketInventory(const PinLayout* pins,
                                                       const XskSocketsProg* prog = nullptr,
                                                       SocketSource source = SocketSource::kAuto);

nlohmann::json SocketJson(const AfXdpSocket& s);
nlohmann::json InventoryJson(const XskSocketInventory& inv);

}  // namespace xskit
