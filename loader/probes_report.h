// The probe signals as JSON for `xsk-loader status` and `xsk-loader probe`:
// a rendering of one ProbeSnapshot (lib/probe_snapshot.h), with the labels
// every other view prints. Each row carries its site: the kernel's netns
// inode and ifindex, and the ifname/netns names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/pins.h"
#include "lib/probe_snapshot.h"
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

// The same document from a snapshot already read.
nlohmann::json ProbesJson(const ProbeSnapshot& snap);

// The per-signal modes as JSON (for `probe --json`).
nlohmann::json SignalsJson(const std::vector<SignalMode>& signals);

// The line attach and `probes attach` print when they replaced another
// xskit version's probes: "probes: replaced layout version 2 with 3
// (counters restarted)".
std::string ProbesReplacedLine(uint32_t old_version);

// Human-readable rendering of ProbesReport().
std::string RenderProbes(const nlohmann::json& probes);

}  // namespace xskit
