#include "lib/parse_args.h"

#include <netinet/in.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/errors.h"

namespace xskit {

absl::StatusOr<std::vector<uint32_t>> ParseQueueList(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return Error(ExitCode::kUsage,
                 absl::StrCat("--queues '", text, "': ", why,
                              " (expected e.g. 0-3 or 0,2,5-7 or all)"));
  };
  std::vector<uint32_t> out;
  if (text == "all") return out;
  if (text.empty()) return bad("empty");
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(part, absl::MaxSplits('-', 1));
    uint32_t lo = 0, hi = 0;
    if (!absl::SimpleAtoi(range.first, &lo) || range.first.empty() ||
        !absl::ascii_isdigit(range.first.front()))
      return bad(absl::StrCat("'", part, "' is not a queue number or range"));
    hi = lo;
    if (part.find('-') != absl::string_view::npos &&
        (!absl::SimpleAtoi(range.second, &hi) || range.second.empty() ||
         !absl::ascii_isdigit(range.second.front())))
      return bad(absl::StrCat("'", part, "' is not a queue range"));
    if (hi < lo) return bad(absl::StrCat("range ", part, " runs backwards"));
    if (hi >= XSK_STEER_MAX_QUEUES)
      return bad(absl::StrCat("queue ", hi, " is above xskit's limit of ",
                              XSK_STEER_MAX_QUEUES - 1));
    for (uint32_t q = lo; q <= hi; q++) out.push_back(q);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<xsk_steer_filter> ParseMatch(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return Error(ExitCode::kUsage,
                 absl::StrCat("--match '", text, "': ", why,
                              " (expected PROTO[:PORT][,...] with PROTO udp, tcp, sctp, "
                              "icmp or icmpv6, e.g. udp:4791)"));
  };
  xsk_steer_filter filter{};
  if (text.empty()) return bad("empty");
  for (absl::string_view rule : absl::StrSplit(text, ',')) {
    if (filter.nr_rules == XSK_STEER_MAX_RULES)
      return bad(absl::StrCat("more than ", XSK_STEER_MAX_RULES, " rules"));
    std::pair<absl::string_view, absl::string_view> pp = absl::StrSplit(rule, absl::MaxSplits(':', 1));
    bool has_port = rule.find(':') != absl::string_view::npos;
    std::string proto = absl::AsciiStrToLower(pp.first);
    xsk_steer_rule r{};
    bool port_allowed = true;
    if (proto == "udp") r.l4proto = IPPROTO_UDP;
    else if (proto == "tcp") r.l4proto = IPPROTO_TCP;
    else if (proto == "sctp") r.l4proto = IPPROTO_SCTP;
    else if (proto == "icmp") { r.l4proto = IPPROTO_ICMP; port_allowed = false; }
    else if (proto == "icmpv6") { r.l4proto = IPPROTO_ICMPV6; port_allowed = false; }
    else return bad(absl::StrCat("unknown protocol '", pp.first, "'"));
    if (has_port) {
      if (!port_allowed) return bad(absl::StrCat(proto, " has no ports"));
      uint32_t port = 0;
      if (pp.second.empty() || !absl::ascii_isdigit(pp.second.front()) ||
          !absl::SimpleAtoi(pp.second, &port) || port == 0 || port > 65535)
        return bad(absl::StrCat("port '", pp.second, "' is not in 1-65535"));
      r.dport = static_cast<uint16_t>(port);
    }
    filter.rules[filter.nr_rules++] = r;
  }
  return filter;
}

}  // namespace xskit
