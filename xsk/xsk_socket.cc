#include "xsk/xsk_socket.h"

#include <linux/if_link.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/pins.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {

struct XskSocket::Rings {
  xsk_ring_prod fill{};
  xsk_ring_cons comp{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
};

absl::StatusOr<std::unique_ptr<XskSocket>> XskSocket::Open(const std::string& ifname,
                                                            uint32_t queue, const Options& opts) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(opts.pin_root));
  XSKIT_ASSIGN_OR_RETURN(NetnsId netns, CurrentNetns());
  auto pinned = PinnedSteer::Open(pins.IfaceDir(IfaceDirName(netns, ifname)));
  if (!pinned.ok())
    return Error(ExitCode::kNotAttached,
                 absl::StrCat("xskit is not attached to ", ifname,
                              netns.initial ? "" : absl::StrCat(" in netns ", netns.name),
                              ": run `xsk-loader attach ", ifname, "` first (",
                              pinned.status().message(), ")"));
  if (!QueueInMask(pinned->info(), queue))
    return Error(ExitCode::kQueueOutOfRange,
                 absl::StrCat("queue ", queue, " of ", ifname, " is not steered (",
                              pinned->info().nr_queues, " queue slots; see xsk-loader status)"));

  XSKIT_ASSIGN_OR_RETURN(std::unique_ptr<XskSocket> s,
                         Create(ifname, queue, pinned->info().zerocopy, opts));
  s->pinned_ = std::make_unique<PinnedSteer>(std::move(*pinned));
  XSKIT_RETURN_IF_ERROR(s->pinned_->RegisterSocket(queue, s->fd()));
  s->registered_ = true;
  return s;
}

absl::StatusOr<std::unique_ptr<XskSocket>> XskSocket::Create(const std::string& ifname,
                                                              uint32_t queue, bool zerocopy,
                                                              const Options& opts) {
  std::unique_ptr<XskSocket> s(new XskSocket());
  s->queue_ = queue;
  s->opts_ = opts;
  s->rings_ = std::make_unique<Rings>();
  s->umem_size_ = static_cast<size_t>(opts.frame_size) * opts.num_frames;
  s->umem_area_ = ::mmap(nullptr, s->umem_size_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s->umem_area_ == MAP_FAILED) {
    s->umem_area_ = nullptr;
    return ErrnoError("mmap umem", errno);
  }

  xsk_umem_config ucfg{};
  ucfg.fill_size = opts.fill_size;
  ucfg.comp_size = opts.comp_size;
  ucfg.frame_size = opts.frame_size;
  ucfg.frame_headroom = 0;
  ucfg.flags = opts.unaligned_chunks ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0;
  if (int err = xsk_umem__create(&s->rings_->umem, s->umem_area_, s->umem_size_,
                                 &s->rings_->fill, &s->rings_->comp, &ucfg))
    return ErrnoError("xsk_umem__create", err);

  // The fill ring is full before the bind: a zero-copy driver fills its Rx
  // ring from it at bind time (igb, i40e, ixgbe), and with an empty one its
  // device has no buffers until the driver is woken, which on igb raises a
  // software interrupt (EICS) that qemu's emulated igb drops under MSI-X.
  s->RefillFill(std::min(opts.fill_size, opts.num_frames / 2));

  xsk_socket_config scfg{};
  scfg.rx_size = opts.rx_size;
  scfg.tx_size = opts.tx_size;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // xsk-loader owns the program
  uint16_t copy_flags = opts.kernel_picks_mode ? 0 : (zerocopy ? XDP_ZEROCOPY : XDP_COPY);
  scfg.bind_flags = static_cast<uint16_t>(copy_flags |
                                          (opts.need_wakeup ? XDP_USE_NEED_WAKEUP : 0));
  if (int err = xsk_socket__create(&s->rings_->xsk, ifname.c_str(), queue, s->rings_->umem,
                                   &s->rings_->rx, &s->rings_->tx, &scfg))
    return ErrnoError(absl::StrCat("create AF_XDP socket on ", ifname, " queue ", queue), err);
  return s;
}

XskSocket::~XskSocket() {
  if (registered_) (void)pinned_->UnregisterSocket(queue_);
  if (rings_) {
    if (rings_->xsk) xsk_socket__delete(rings_->xsk);
    if (rings_->umem) xsk_umem__delete(rings_->umem);
  }
  if (umem_area_) ::munmap(umem_area_, umem_size_);
}

int XskSocket::fd() const { return xsk_socket__fd(rings_->xsk); }

void XskSocket::RefillFill(uint32_t n) {
  // The first n frames go to the fill ring once; after that Receive() hands
  // every consumed frame straight back.
  uint32_t idx = 0;
  uint32_t got = xsk_ring_prod__reserve(&rings_->fill, n, &idx);
  for (uint32_t i = 0; i < got; i++)
    *xsk_ring_prod__fill_addr(&rings_->fill, idx + i) = static_cast<uint64_t>(i) * opts_.frame_size;
  xsk_ring_prod__submit(&rings_->fill, got);
}

absl::StatusOr<size_t> XskSocket::Receive(
    int timeout_ms, const std::function<void(std::span<const uint8_t>)>& fn) {
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&rings_->rx, 64, &idx);
  if (n == 0) {
    pollfd pfd{fd(), POLLIN, 0};
    int ret = ::poll(&pfd, 1, timeout_ms);
    if (ret < 0 && errno != EINTR) return ErrnoError("poll AF_XDP socket", errno);
    n = xsk_ring_cons__peek(&rings_->rx, 64, &idx);
    if (n == 0) return 0;
  }
  uint32_t fidx = 0;
  uint32_t reserved = xsk_ring_prod__reserve(&rings_->fill, n, &fidx);
  for (uint32_t i = 0; i < n; i++) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&rings_->rx, idx + i);
    const auto* data = static_cast<const uint8_t*>(xsk_umem__get_data(umem_area_, d->addr));
    fn(std::span<const uint8_t>(data, d->len));
    if (i < reserved)
      *xsk_ring_prod__fill_addr(&rings_->fill, fidx + i) = xsk_umem__extract_addr(d->addr);
  }
  xsk_ring_prod__submit(&rings_->fill, reserved);
  xsk_ring_cons__release(&rings_->rx, n);
  if (xsk_ring_prod__needs_wakeup(&rings_->fill))
    ::recvfrom(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  return n;
}

uint32_t XskSocket::QueueTx(uint32_t n, uint32_t len,
                            const std::function<void(uint32_t, std::span<uint8_t>)>& fill) {
  const uint32_t tx_frames = opts_.num_frames / 2;  // second half of the umem
  uint32_t idx = 0;
  uint32_t got = xsk_ring_prod__reserve(&rings_->tx, n, &idx);
  for (uint32_t i = 0; i < got; i++) {
    uint64_t addr =
        static_cast<uint64_t>(tx_frames + (next_tx_frame_++ % tx_frames)) * opts_.frame_size;
    xdp_desc* d = xsk_ring_prod__tx_desc(&rings_->tx, idx + i);
    d->addr = addr;
    d->len = len;
    d->options = 0;
    if (fill)
      fill(i, std::span<uint8_t>(static_cast<uint8_t*>(xsk_umem__get_data(umem_area_, addr)), len));
  }
  xsk_ring_prod__submit(&rings_->tx, got);
  outstanding_ += got;
  return got;
}

int XskSocket::Kick() {
  if (::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0) return errno;
  return 0;
}

uint32_t XskSocket::Complete() {
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&rings_->comp, opts_.comp_size, &idx);
  xsk_ring_cons__release(&rings_->comp, n);
  outstanding_ -= std::min(n, outstanding_);
  return n;
}

absl::StatusOr<xdp_statistics> XskSocket::Statistics() const {
  xdp_statistics st{};
  socklen_t len = sizeof(st);
  if (::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
    return ErrnoError("getsockopt XDP_STATISTICS", errno);
  return st;
}

XskSocket::RingAccess XskSocket::rings() const {
  return {&rings_->fill, &rings_->comp, &rings_->rx, &rings_->tx,
          static_cast<uint8_t*>(umem_area_), umem_size_};
}

absl::StatusOr<bool> XskSocket::IsZerocopy() const {
  xdp_options o{};
  socklen_t len = sizeof(o);
  if (::getsockopt(fd(), SOL_XDP, XDP_OPTIONS, &o, &len) != 0)
    return ErrnoError("getsockopt XDP_OPTIONS", errno);
  return (o.flags & XDP_OPTIONS_ZEROCOPY) != 0;
}

}  // namespace xskit
