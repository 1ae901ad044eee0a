// The socket side, for AF_XDP applications: create an AF_XDP socket on
// IFACE queue q with libxdp (loading no XDP program of its own) and register
// it in the XSKMAP that `xsk-loader attach` pinned. Destruction unregisters
// it and frees the socket and umem.
#pragma once

#include <linux/if_xdp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"

struct xsk_socket;
struct xsk_umem;
struct xsk_ring_prod;
struct xsk_ring_cons;

namespace xskit {

class PinnedSteer;

class XskSocket {
 public:
  struct Options {
    uint32_t frame_size = 4096;
    uint32_t num_frames = 4096;
    uint32_t rx_size = 2048;
    uint32_t tx_size = 2048;
    uint32_t fill_size = 4096;
    uint32_t comp_size = 2048;
    bool need_wakeup = true;
    std::optional<std::string> pin_root;
    // XDP_UMEM_UNALIGNED_CHUNK_FLAG: descriptors may point anywhere in the
    // umem (frame_size need not be a power of two).
    bool unaligned_chunks = false;
    // Bind with neither XDP_COPY nor XDP_ZEROCOPY: the kernel picks
    // zero-copy where the driver has it, copy otherwise (xdpsock's default).
    // Overrides the `zerocopy` argument of Create().
    bool kernel_picks_mode = false;
  };

  // Opens a socket on `ifname` queue `queue` (in the caller's netns) and
  // registers it with the attach's pinned XSKMAP. Copy or zero-copy as
  // the attach said. ExitCode::kNotAttached when xskit is not attached.
  static absl::StatusOr<std::unique_ptr<XskSocket>> Open(const std::string& ifname,
                                                          uint32_t queue, const Options& opts);

  // A socket registered nowhere: for transmit-only use, or for a caller
  // that registers it itself (XskSteerProg::RegisterSocket in tests).
  // The umem's first half feeds the fill ring, the second half is Tx.
  static absl::StatusOr<std::unique_ptr<XskSocket>> Create(const std::string& ifname,
                                                            uint32_t queue, bool zerocopy,
                                                            const Options& opts);
  ~XskSocket();
  XskSocket(const XskSocket&) = delete;
  XskSocket& operator=(const XskSocket&) = delete;

  int fd() const;
  uint32_t queue() const { return queue_; }

  // Waits up to timeout_ms for frames, hands each to `fn`, refills the fill
  // ring. Returns how many frames were received.
  absl::StatusOr<size_t> Receive(int timeout_ms,
                                 const std::function<void(std::span<const uint8_t>)>& fn);

  // Transmit: reserves up to `n` Tx descriptors of `len` bytes, lets
  // `fill` write each frame (index, bytes), and submits them. Returns how
  // many were queued (fewer when the Tx ring is full). Nothing is sent
  // until Kick().
  uint32_t QueueTx(uint32_t n, uint32_t len,
                   const std::function<void(uint32_t, std::span<uint8_t>)>& fill);

  // One sendto(MSG_DONTWAIT): the kernel transmits what the Tx ring holds,
  // up to its per-call budget. Returns 0 or the errno of the call.
  int Kick();

  // Reaps the completion ring; returns how many descriptors completed.
  uint32_t Complete();

  // Descriptors queued on Tx and not yet completed.
  uint32_t outstanding() const { return outstanding_; }

  // The kernel's XDP_STATISTICS for this socket.
  absl::StatusOr<xdp_statistics> Statistics() const;

  // The rings and the umem, for hot loops that drive libxdp's inline ring
  // functions themselves (batch reserve/submit, no callback per frame), as
  // xsk_bench/ does. The fill ring starts with the umem's first half
  // (min(fill_size, num_frames / 2) frames); the second half is free for Tx.
  // A caller that uses these must not mix them with QueueTx()/Complete()
  // (outstanding() is not kept for it).
  struct RingAccess {
    xsk_ring_prod* fill;
    xsk_ring_cons* comp;
    xsk_ring_cons* rx;
    xsk_ring_prod* tx;
    uint8_t* umem;
    size_t umem_size;
  };
  RingAccess rings() const;
  const Options& options() const { return opts_; }
  // True when the socket is bound in zero-copy mode (XDP_OPTIONS).
  absl::StatusOr<bool> IsZerocopy() const;

 private:
  XskSocket() = default;
  void RefillFill(uint32_t n);

  struct Rings;
  std::unique_ptr<Rings> rings_;
  std::unique_ptr<PinnedSteer> pinned_;
  void* umem_area_ = nullptr;
  size_t umem_size_ = 0;
  uint32_t queue_ = 0;
  Options opts_;
  bool registered_ = false;
  uint32_t outstanding_ = 0;
  uint32_t next_tx_frame_ = 0;
};

}  // namespace xskit
