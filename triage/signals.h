// The signals xsk-triage judges: one table, each row a PromQL expression
// over xskit's metrics (docs/DESIGN.md) or the recording rules of
// dashboards/rules/xskit-triage.rules.yml, normalised by traffic (per
// packet, per sendmsg) so that groups with different load compare fairly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace xskit::triage {

enum class Direction { kHigherIsWorse, kLowerIsWorse, kEither };
// What a signal without data in a group does to the overall verdict.
enum class NodataPolicy { kIgnore, kMarginal, kFail };

struct NamedDirection { std::string_view name; Direction value; };
inline constexpr NamedDirection kDirections[] = {
    {"higher_is_worse", Direction::kHigherIsWorse},
    {"lower_is_worse", Direction::kLowerIsWorse},
    {"either", Direction::kEither}};
struct NamedNodata { std::string_view name; NodataPolicy value; };
inline constexpr NamedNodata kNodataPolicies[] = {
    {"ignore", NodataPolicy::kIgnore}, {"marginal", NodataPolicy::kMarginal},
    {"fail", NodataPolicy::kFail}};
std::string Name(Direction d);
std::string Name(NodataPolicy p);

struct Signal {
  std::string name;         // e.g. "tx_eagain_per_sendmsg"
  std::string group;        // score group: steering, tx, drops, cost, sockets, coverage
  std::string per;          // what one series is: queue, interface, host, socket
  std::string unit;         // for the report: ratio, descriptors, seconds, sockets, hosts
  std::string description;
  // PromQL; the tool joins it to a group's hosts by instance (see GroupQuery).
  std::string expr;
  // Labels whose values split the signal into rows (e.g. cause, reason).
  std::vector<std::string> split_by;
  // Where a row has no series in a group, the series of this expression
  // (same grouping labels, minus split_by) mark where absence means 0
  // (e.g. "the queue transmits, so no error series means no errors").
  // Empty: absence means not measured.
  std::string zero_when;
  Direction direction = Direction::kHigherIsWorse;
  double effect = 0.05;     // relative change that counts (0.05 = 5 %)
  bool critical = false;
  NodataPolicy nodata = NodataPolicy::kIgnore;
  int min_points = 10;
};

// The built-in table.
std::vector<Signal> BuiltinSignals();

// Checks a group selector ("{rollout=\"canary\"}") and returns its matchers
// without braces; kInvalidArgument naming the problem otherwise.
absl::StatusOr<std::string> SelectorMatchers(const std::string& selector);

// The expression restricted to the hosts whose xsk_exporter_build_info
// matches `matchers` (a scrape-target label such as rollout="canary" is on
// it too, and so is kernel="..."): the same join the rollout dashboard uses.
std::string GroupQuery(const std::string& expr, const std::string& matchers);
// The group's hosts, one series per instance.
std::string HostsQuery(const std::string& matchers);

}  // namespace xskit::triage
