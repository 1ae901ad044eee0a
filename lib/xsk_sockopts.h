// AF_XDP socket options newer than the distribution's <linux/if_xdp.h>,
// by number (SOL_XDP level). Probed by lib/iface_facts.cc, set by xsk-bench.
#pragma once

namespace xskit {

// The per-socket Tx budget of one sendmsg (mainline since 6.17).
inline constexpr int kXdpMaxTxSkbBudget = 9;  // XDP_MAX_TX_SKB_BUDGET
// The copy-mode xmit batch size of the "xsk: batch xmit in copy mode"
// series, not in mainline; a kernel carrying it answers.
inline constexpr int kXdpGenericXmitBatch = 10;  // XDP_GENERIC_XMIT_BATCH

}  // namespace xskit
