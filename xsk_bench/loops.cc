#include "xsk_bench/loops.h"

#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"

namespace xskit::bench {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void CountKickError(LoopCounters& c, int err) {
  switch (err) {
    case EAGAIN: Bump(c.err_eagain); break;
    case EBUSY: Bump(c.err_ebusy); break;
    case ENOBUFS: Bump(c.err_enobufs); break;
    default: Bump(c.err_other); break;
  }
}

// One transmit kick: sendto(MSG_DONTWAIT), or poll(POLLOUT) in -p mode
// (xsk_poll transmits in copy mode). Errors the kernel uses for "try again"
// are counted, never fatal (xdpsock's kick_tx).
inline absl::Status KickTx(int fd, const LoopConfig& cfg, LoopCounters& c) {
  Bump(c.kicks);
  if (cfg.poll) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 0) < 0 && errno != EINTR) return ErrnoError("poll(POLLOUT)", errno);
    return absl::OkStatus();
  }
  if (::sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) return absl::OkStatus();
  int err = errno;
  CountKickError(c, err);
  if (err == EAGAIN || err == EBUSY || err == ENOBUFS || err == ENETDOWN || err == EINTR)
    return absl::OkStatus();
  return ErrnoError("sendto(AF_XDP)", err);
}

inline void WakeRx(int fd, LoopCounters& c) {
  Bump(c.rx_wakeups);
  ::recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
}

inline bool MustKick(const xsk_ring_prod* tx, const LoopConfig& cfg, bool need_wakeup) {
  return !need_wakeup || cfg.busy_poll || xsk_ring_prod__needs_wakeup(tx);
}

// recvfrom() when the kernel asked for it on the fill ring, or always when
// busy polling (xdpsock's rule).
inline void WakeRxIfNeeded(const XskSocket::RingAccess& r, int fd, const LoopConfig& cfg,
                           LoopCounters& c) {
  if (cfg.busy_poll || xsk_ring_prod__needs_wakeup(r.fill)) WakeRx(fd, c);
}

// The receive step rxdrop and l2fwd open each turn with: in -p mode wait in
// poll(POLLIN) (up to 100 ms), then peek up to a batch of Rx descriptors,
// waking the kernel when there are none. Returns how many were peeked, the
// first at `idx`; 0 means "nothing this turn, loop again". Always inlined:
// it is the hot loop's first step and must cost no call.
[[gnu::always_inline]] inline uint32_t PeekRx(const XskSocket::RingAccess& r, int fd,
                                              const LoopConfig& cfg, LoopCounters& c,
                                              uint32_t& idx) {
  if (cfg.poll) {
    pollfd p{fd, POLLIN, 0};
    Bump(c.rx_wakeups);
    if (::poll(&p, 1, 100) <= 0) return 0;
  }
  uint32_t n = xsk_ring_cons__peek(r.rx, cfg.batch, &idx);
  if (n == 0) {
    Bump(c.rx_empty_polls);  // idle turns only: no cost per packet
    WakeRxIfNeeded(r, fd, cfg, c);
  }
  return n;
}

}  // namespace

void PrepareTxFrames(XskSocket& sock, std::span<const uint8_t> frame) {
  auto r = sock.rings();
  const auto& o = sock.options();
  for (uint32_t i = o.num_frames / 2; i < o.num_frames; i++)
    std::memcpy(r.umem + static_cast<uint64_t>(i) * o.frame_size, frame.data(),
                std::min<size_t>(frame.size(), o.frame_size));
}

__attribute__((noinline)) absl::Status TxOnlyLoop(XskSocket& sock, const LoopConfig& cfg,
                                                  LoopCounters& c,
                                                  const std::atomic<bool>& stop) {
  const XskSocket::RingAccess r = sock.rings();
  const XskSocket::Options& o = sock.options();
  const int fd = sock.fd();
  const uint32_t nframes = o.num_frames / 2;  // the umem's second half
  const uint64_t base = static_cast<uint64_t>(nframes) * o.frame_size;
  const uint32_t batch = std::min({cfg.batch, o.tx_size, nframes});
  uint32_t next = 0, outstanding = 0;
  uint64_t queued = 0, completed = 0;

  while (!stop.load(kRelaxed)) {
    uint32_t want = batch;
    if (cfg.count) want = static_cast<uint32_t>(std::min<uint64_t>(want, cfg.count - queued));
    uint32_t idx = 0;
    if (want && nframes - outstanding >= want && xsk_ring_prod__reserve(r.tx, want, &idx) == want) {
      for (uint32_t i = 0; i < want; i++) {
        xdp_desc* d = xsk_ring_prod__tx_desc(r.tx, idx + i);
        d->addr = base + static_cast<uint64_t>(next) * o.frame_size;
        d->len = cfg.frame_len;
        d->options = 0;
        if (++next == nframes) next = 0;
      }
      xsk_ring_prod__submit(r.tx, want);
      outstanding += want;
      queued += want;
    }
    if (outstanding == 0) {
      if (cfg.count && completed >= cfg.count) break;
      continue;
    }
    if (MustKick(r.tx, cfg, o.need_wakeup)) XSKIT_RETURN_IF_ERROR(KickTx(fd, cfg, c));
    uint32_t cidx = 0;
    uint32_t n = xsk_ring_cons__peek(r.comp, o.comp_size, &cidx);
    if (n) {
      xsk_ring_cons__release(r.comp, n);
      outstanding -= n;
      completed += n;
      Bump(c.tx_packets, n);
    }
  }
  // Stopped: what was queued is still sent and completed (up to ~200 ms),
  // so "sent" means completed and matches what the peer saw.
  for (int spins = 0; outstanding && spins < 2000; spins++) {
    if (MustKick(r.tx, cfg, o.need_wakeup)) XSKIT_RETURN_IF_ERROR(KickTx(fd, cfg, c));
    uint32_t cidx = 0;
    uint32_t n = xsk_ring_cons__peek(r.comp, o.comp_size, &cidx);
    xsk_ring_cons__release(r.comp, n);
    outstanding -= n;
    Bump(c.tx_packets, n);
    if (!n) ::usleep(100);
  }
  return absl::OkStatus();
}

__attribute__((noinline)) absl::Status RxDropLoop(XskSocket& sock, const LoopConfig& cfg,
                                                  LoopCounters& c,
                                                  const std::atomic<bool>& stop) {
  const XskSocket::RingAccess r = sock.rings();
  const XskSocket::Options& o = sock.options();
  const int fd = sock.fd();
  while (!stop.load(kRelaxed)) {
    uint32_t idx = 0;
    uint32_t n = PeekRx(r, fd, cfg, c, idx);
    if (n == 0) continue;
    uint32_t fidx = 0;
    while (xsk_ring_prod__reserve(r.fill, n, &fidx) != n) {
      if (stop.load(kRelaxed)) return absl::OkStatus();
      WakeRxIfNeeded(r, fd, cfg, c);
    }
    for (uint32_t i = 0; i < n; i++)
      *xsk_ring_prod__fill_addr(r.fill, fidx + i) =
          xsk_umem__extract_addr(xsk_ring_cons__rx_desc(r.rx, idx + i)->addr);
    xsk_ring_prod__submit(r.fill, n);
    xsk_ring_cons__release(r.rx, n);
    Bump(c.rx_packets, n);
  }
  (void)o;
  return absl::OkStatus();
}

namespace {

// l2fwd's completion step: completed Tx frames go back to the fill ring.
inline absl::Status RecycleCompletions(const XskSocket::RingAccess& r, int fd,
                                       const LoopConfig& cfg, LoopCounters& c,
                                       uint32_t& outstanding, bool need_wakeup,
                                       const std::atomic<bool>& stop) {
  if (!outstanding) return absl::OkStatus();
  if (MustKick(r.tx, cfg, need_wakeup)) XSKIT_RETURN_IF_ERROR(KickTx(fd, cfg, c));
  uint32_t cidx = 0;
  uint32_t n = xsk_ring_cons__peek(r.comp, cfg.batch, &cidx);
  if (!n) return absl::OkStatus();
  uint32_t fidx = 0;
  while (xsk_ring_prod__reserve(r.fill, n, &fidx) != n) {
    if (stop.load(kRelaxed)) return absl::OkStatus();
    WakeRxIfNeeded(r, fd, cfg, c);
  }
  for (uint32_t i = 0; i < n; i++)
    *xsk_ring_prod__fill_addr(r.fill, fidx + i) = *xsk_ring_cons__comp_addr(r.comp, cidx + i);
  xsk_ring_prod__submit(r.fill, n);
  xsk_ring_cons__release(r.comp, n);
  outstanding -= n;
  Bump(c.tx_packets, n);
  return absl::OkStatus();
}

inline void SwapMacs(uint8_t* pkt) {
  uint8_t tmp[6];
  std::memcpy(tmp, pkt, 6);
  std::memcpy(pkt, pkt + 6, 6);
  std::memcpy(pkt + 6, tmp, 6);
}

}  // namespace

__attribute__((noinline)) absl::Status L2FwdLoop(XskSocket& sock, const LoopConfig& cfg,
                                                 LoopCounters& c,
                                                 const std::atomic<bool>& stop) {
  const XskSocket::RingAccess r = sock.rings();
  const XskSocket::Options& o = sock.options();
  const int fd = sock.fd();
  uint32_t outstanding = 0;
  while (!stop.load(kRelaxed)) {
    XSKIT_RETURN_IF_ERROR(RecycleCompletions(r, fd, cfg, c, outstanding, o.need_wakeup, stop));
    uint32_t idx = 0;
    uint32_t n = PeekRx(r, fd, cfg, c, idx);
    if (n == 0) continue;
    uint32_t tidx = 0;
    bool reserved = true;
    while (xsk_ring_prod__reserve(r.tx, n, &tidx) != n) {
      if (stop.load(kRelaxed)) {
        reserved = false;  // these n stay unforwarded and uncounted
        break;
      }
      XSKIT_RETURN_IF_ERROR(RecycleCompletions(r, fd, cfg, c, outstanding, o.need_wakeup, stop));
      if (MustKick(r.tx, cfg, o.need_wakeup)) XSKIT_RETURN_IF_ERROR(KickTx(fd, cfg, c));
    }
    if (!reserved) break;
    for (uint32_t i = 0; i < n; i++) {
      const xdp_desc* in = xsk_ring_cons__rx_desc(r.rx, idx + i);
      uint64_t orig = in->addr;
      SwapMacs(static_cast<uint8_t*>(
          xsk_umem__get_data(r.umem, xsk_umem__add_offset_to_addr(orig))));
      xdp_desc* out = xsk_ring_prod__tx_desc(r.tx, tidx + i);
      out->addr = orig;
      out->len = in->len;
      out->options = 0;
    }
    xsk_ring_prod__submit(r.tx, n);
    xsk_ring_cons__release(r.rx, n);
    outstanding += n;
    Bump(c.rx_packets, n);
  }
  // Stopped: what was queued is still sent and completed (up to ~200 ms),
  // so "forwarded" counts every frame received and is what the peer gets.
  for (int spins = 0; outstanding && spins < 2000; spins++) {
    const uint32_t before = outstanding;
    XSKIT_RETURN_IF_ERROR(RecycleCompletions(r, fd, cfg, c, outstanding, o.need_wakeup, stop));
    if (outstanding == before) ::usleep(100);
  }
  return absl::OkStatus();
}

__attribute__((noinline)) absl::Status AfPacketTxLoop(const std::string& ifname,
                                                      std::span<const uint8_t> frame,
                                                      const LoopConfig& cfg, LoopCounters& c,
                                                      const std::atomic<bool>& stop) {
  unsigned ifindex = ::if_nametoindex(ifname.c_str());
  if (!ifindex) return ErrnoError(absl::StrCat("if_nametoindex(", ifname, ")"), errno,
                                  ExitCode::kNoSuchInterface);
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: never receives
  if (fd < 0) return ErrnoError("socket(AF_PACKET)", errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int one = 1;
  if (::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0)
    return ErrnoError("setsockopt(PACKET_QDISC_BYPASS)", errno);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0)
    return ErrnoError(absl::StrCat("bind(AF_PACKET, ", ifname, ")"), errno);

  const uint32_t batch = std::clamp<uint32_t>(cfg.batch, 1, 1024);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  for (uint32_t i = 0; i < batch; i++) {
    iov[i] = {const_cast<uint8_t*>(frame.data()), cfg.frame_len};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t sent = 0;
  while (!stop.load(kRelaxed)) {
    uint32_t want = batch;
    if (cfg.count) {
      if (sent >= cfg.count) break;
      want = static_cast<uint32_t>(std::min<uint64_t>(want, cfg.count - sent));
    }
    Bump(c.kicks);
    int n = ::sendmmsg(fd, msgs.data(), want, 0);
    if (n < 0) {
      int err = errno;
      CountKickError(c, err);
      if (err == EAGAIN || err == ENOBUFS || err == EBUSY || err == EINTR) continue;
      return ErrnoError("sendmmsg(AF_PACKET)", err);
    }
    sent += static_cast<uint64_t>(n);
    Bump(c.tx_packets, static_cast<uint64_t>(n));
  }
  return absl::OkStatus();
}

absl::Status EnableBusyPoll(int fd, uint32_t batch) {
  int one = 1, usecs = 20, budget = static_cast<int>(batch);
  if (::setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) != 0)
    return ErrnoError("setsockopt(SO_PREFER_BUSY_POLL)", errno);
  if (::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) != 0)
    return ErrnoError("setsockopt(SO_BUSY_POLL)", errno);
  if (::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) != 0)
    return ErrnoError("setsockopt(SO_BUSY_POLL_BUDGET)", errno);
  return absl::OkStatus();
}

}  // namespace xskit::bench
