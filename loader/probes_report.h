// The probe signals as JSON for `xsk-loader status` and `xsk-loader probe`,
// read from the pins only (PinnedProbes). Interfaces are keyed by netns
// inode and ifindex, as the probes see them on the socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/pins.h"
#include "lib/xsk_probes_prog.h"
#include "nlohmann/json.hpp"

namespace xskit {

struct ProbeFilter {
  std::optional<uint64_t> netns_ino;
  std::optional<uint32_t> ifindex;
};

// {"attached": bool, "signals": [...], "tx": [per iface/queue], "tx_errors": [...],
//  "drops": [...], "xdp_errors": [...], "alloc": {...}, "latency": [...]}.
// "attached": false (and nothing else) when no probes are pinned.
nlohmann::json ProbesReport(const PinLayout& pins, const ProbeFilter& filter = {});

// The per-signal modes as JSON (for `probe --json`).
nlohmann::json SignalsJson(const std::vector<SignalMode>& signals);

// Human-readable rendering of ProbesReport().
std::string RenderProbes(const nlohmann::json& probes);

}  // namespace xskit
