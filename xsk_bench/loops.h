// The hot loops: xdpsock's txonly, rxdrop and l2fwd on an XskSocket's rings,
// and AF_PACKET txonly (sendmmsg with PACKET_QDISC_BYPASS). Batch
// reserve/submit, completions reaped in batches, no callback and no
// allocation per packet. Each loop is the only writer of its counters; the
// reporter reads them (relaxed) once per interval.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "xsk/xsk_socket.h"

namespace xskit::bench {

// Written by one loop thread with plain relaxed stores (no locked
// instruction in the hot path), read by the reporter.
struct alignas(64) LoopCounters {
  std::atomic<uint64_t> tx_packets{0};   // completed (AF_XDP) or accepted (AF_PACKET)
  std::atomic<uint64_t> rx_packets{0};
  std::atomic<uint64_t> kicks{0};        // sendto/sendmmsg/poll calls made to transmit
  std::atomic<uint64_t> rx_wakeups{0};   // recvfrom/poll calls made to receive
  std::atomic<uint64_t> rx_empty_polls{0};  // Rx peeks that found nothing (xdpsock's "rx empty polls")
  std::atomic<uint64_t> err_eagain{0};   // kick errors by errno
  std::atomic<uint64_t> err_ebusy{0};
  std::atomic<uint64_t> err_enobufs{0};
  std::atomic<uint64_t> err_other{0};
  std::atomic<bool> done{false};         // the loop returned (count reached or error)
};

struct LoopConfig {
  uint32_t batch = 64;
  uint32_t frame_len = 60;  // bytes in each Tx descriptor (no FCS)
  bool poll = false;
  bool busy_poll = false;
  uint64_t count = 0;       // txonly: stop after this many completions (0: never)
};

// One relaxed increment by the only writer: a load and a store, no lock.
inline void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Writes `frame` into every Tx frame of the umem's second half once (the
// loop then only writes descriptors, as xdpsock does).
void PrepareTxFrames(XskSocket& sock, std::span<const uint8_t> frame);

// The loops run until `stop` (or cfg.count) and return the first hard error.
absl::Status TxOnlyLoop(XskSocket& sock, const LoopConfig& cfg, LoopCounters& c,
                        const std::atomic<bool>& stop);
absl::Status RxDropLoop(XskSocket& sock, const LoopConfig& cfg, LoopCounters& c,
                        const std::atomic<bool>& stop);
// l2fwd: rx_packets counts frames taken for forwarding, tx_packets their
// completions; on stop it drains, so once the sender is quiet the two agree.
absl::Status L2FwdLoop(XskSocket& sock, const LoopConfig& cfg, LoopCounters& c,
                       const std::atomic<bool>& stop);

// AF_PACKET txonly: a SOCK_RAW packet socket bound to `ifname` (in the
// caller's netns) with PACKET_QDISC_BYPASS, `cfg.batch` frames per sendmmsg.
absl::Status AfPacketTxLoop(const std::string& ifname, std::span<const uint8_t> frame,
                            const LoopConfig& cfg, LoopCounters& c,
                            const std::atomic<bool>& stop);

// SO_PREFER_BUSY_POLL, SO_BUSY_POLL (20 us), SO_BUSY_POLL_BUDGET (batch).
absl::Status EnableBusyPoll(int fd, uint32_t batch);

}  // namespace xskit::bench
