// Parsers for the loader's option values; malformed input fails with
// ExitCode::kUsage and says what a valid value looks like.
#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include <linux/types.h>  // before the shared header: it uses __u32 and friends
#include "bpf/xsk_steer.h"

namespace xskit {

// "0-3", "0,2,5-7", "all" (= empty result: every queue). Sorted, unique.
absl::StatusOr<std::vector<uint32_t>> ParseQueueList(absl::string_view text);

// One or more comma-separated rules: PROTO[:PORT], PROTO one of udp, tcp,
// sctp (with an optional port 1-65535) or icmp, icmpv6 (no port).
absl::StatusOr<xsk_steer_filter> ParseMatch(absl::string_view text);

}  // namespace xskit
