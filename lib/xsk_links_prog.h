// xsk_links' sole owner: loads bpf/xsk_links.bpf.c (a bpf_link iterator) and
// runs it. Where each XDP bpf_link on the host is attached, for readers that
// do not open link pins (xsk-exporter: the link pins are root's, and a link
// fd could detach the program; docs/DESIGN.md "Pin ownership").
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/xsk_links.h"

struct xsk_links;  // the skeleton (build/bpf/xsk_links.skel.h)

namespace xskit {

static_assert(sizeof(xsk_xdp_link_rec) == 24, "xsk_xdp_link_rec layout");

// The loaded iterator; keep one to make passes cheaply (the exporter does).
class XskLinksProg {
 public:
  // Loading needs CAP_BPF and CAP_PERFMON (a tracing program); a pass needs
  // nothing more than bpf() itself (lib/privileges.h BpfNeedsCapBpf).
  static absl::StatusOr<XskLinksProg> Load();
  XskLinksProg(XskLinksProg&&) noexcept;
  XskLinksProg& operator=(XskLinksProg&&) noexcept;
  ~XskLinksProg();

  // One pass: a record per XDP link on the host.
  absl::StatusOr<std::vector<xsk_xdp_link_rec>> ReadXdpLinks() const;

 private:
  XskLinksProg() = default;
  xsk_links* skel_ = nullptr;
  int link_fd_ = -1;
};

}  // namespace xskit
