// AF_XDP socket rows (lib/xsk_sockets_prog.h) for `sockets`, `status` and
// `top`: rendering only, apart from the attachment and probe reports.
#pragma once

#include <string>

#include "lib/pins.h"
#include "nlohmann/json.hpp"

namespace xskit {

// The inventory as JSON ({"coverage", "sockets"}), or {"error": why}.
// `source`: "auto", "bpf_iter" or "sock_diag".
nlohmann::json SocketsReport(const PinLayout& pins, const std::string& source = "auto");

// The table of `xsk-loader sockets`.
std::string RenderSockets(const nlohmann::json& sockets_report);

// The rows of the sockets bound to (netns, ifname), worst first, indented
// under that interface in `status` and `top`; "" when there are none.
std::string RenderIfaceSockets(const nlohmann::json& sockets_report, const std::string& netns,
                               const std::string& ifname);

// `top`'s socket section: per-socket rates between two SocketsReport()s,
// worst first (rx_dropped/s, then fill-ring-empty/s, then totals), at most
// `max_rows` rows.
std::string RenderTopSockets(const nlohmann::json& prev, const nlohmann::json& cur, double dt,
                             int max_rows);

}  // namespace xskit
