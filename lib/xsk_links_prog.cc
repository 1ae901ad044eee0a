#include "lib/xsk_links_prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/fd.h"
#include "xsk_links.skel.h"

namespace xskit {

absl::StatusOr<XskLinksProg> XskLinksProg::Load() {
  XskLinksProg p;
  p.skel_ = xsk_links__open();
  if (!p.skel_) return ErrnoError("open xsk_links skeleton", errno);
  if (int err = xsk_links__load(p.skel_))
    return ErrnoError("load the XDP link iterator (iter/bpf_link, kernel 5.19+ with BTF)", err);
  bpf_link* link = bpf_program__attach_iter(p.skel_->progs.xsk_xdp_links, nullptr);
  if (!link) return ErrnoError("attach the XDP link iterator", errno);
  // The iterator's link fd is all a pass needs (as in xsk_sockets_prog.cc).
  bpf_link__disconnect(link);
  p.link_fd_ = dup(bpf_link__fd(link));
  bpf_link__destroy(link);
  if (p.link_fd_ < 0) return ErrnoError("dup the iterator link", errno);
  return p;
}

XskLinksProg::XskLinksProg(XskLinksProg&& o) noexcept
    : skel_(std::exchange(o.skel_, nullptr)), link_fd_(std::exchange(o.link_fd_, -1)) {}

XskLinksProg& XskLinksProg::operator=(XskLinksProg&& o) noexcept {
  if (this != &o) {
    this->~XskLinksProg();
    skel_ = std::exchange(o.skel_, nullptr);
    link_fd_ = std::exchange(o.link_fd_, -1);
  }
  return *this;
}

XskLinksProg::~XskLinksProg() {
  if (link_fd_ >= 0) ::close(link_fd_);
  if (skel_) xsk_links__destroy(skel_);
  link_fd_ = -1;
  skel_ = nullptr;
}

absl::StatusOr<std::vector<xsk_xdp_link_rec>> XskLinksProg::ReadXdpLinks() const {
  Fd iter(bpf_iter_create(link_fd_));
  if (!iter.valid()) return ErrnoError("bpf_iter_create(XDP links)", errno);
  // Whole records go into the seq_file; a read() may end mid-record.
  std::string buf;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(iter.get(), chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read the XDP link iterator", errno);
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  if (buf.size() % sizeof(xsk_xdp_link_rec) != 0)
    return absl::InternalError(absl::StrCat("XDP link iterator: ", buf.size(),
                                            " bytes, not a multiple of the record size ",
                                            sizeof(xsk_xdp_link_rec)));
  std::vector<xsk_xdp_link_rec> out(buf.size() / sizeof(xsk_xdp_link_rec));
  if (!buf.empty()) std::memcpy(out.data(), buf.data(), buf.size());
  for (const auto& r : out)
    if (r.version != XSK_LINKS_VERSION)
      return absl::InternalError(absl::StrCat("XDP link record version ", r.version,
                                              ", this build reads ", XSK_LINKS_VERSION));
  return out;
}

}  // namespace xskit
