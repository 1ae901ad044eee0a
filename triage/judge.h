// The judge (Kayenta's canary method, written from its description): per
// signal row, drop NaN, remove outliers (IQR fences per group), test with
// Mann-Whitney U and estimate the shift with Hodges-Lehmann and its
// confidence interval; the row is `high` or `low` when the interval,
// relative to the baseline median, lies wholly beyond +/- the effect size.
// The score is, over the signal groups that have judged rows, the weighted
// mean of each group's share of rows that did not change for the worse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "triage/config.h"
#include "triage/signals.h"

namespace xskit::triage {

enum class Verdict { kPass, kHigh, kLow, kNodata };
std::string Name(Verdict v);

// Which groups had any series for a row.
enum class Coverage { kBoth, kBaselineOnly, kCanaryOnly, kNeither };
std::string Name(Coverage c);

struct GroupSamples {
  std::vector<double> values;  // every point of every series of the group
  int series = 0;
  int hosts = 0;
  bool zero_filled = false;    // absent in the group: zeros where zero_when holds
};

struct RowResult {
  std::string signal;      // table name
  std::string row;         // "" or the split labels, e.g. "cause=cq_full"
  std::string group, per, unit;
  Direction direction = Direction::kHigherIsWorse;
  double effect = 0;
  bool critical = false;
  NodataPolicy nodata = NodataPolicy::kIgnore;
  Verdict verdict = Verdict::kNodata;
  Coverage coverage = Coverage::kNeither;
  std::size_t points_baseline = 0, points_canary = 0;  // after filtering
  int hosts_baseline = 0, hosts_canary = 0;
  double median_baseline = 0, median_canary = 0;
  double shift = 0, shift_lower = 0, shift_upper = 0;  // canary - baseline
  // shift / |baseline median|; absent when the baseline median is 0.
  std::optional<double> relative, relative_lower, relative_upper;
  double p_value = 1;
  bool exact = false;
  bool worse = false;  // the change goes the signal's bad way
  std::string note;
  std::string name() const { return row.empty() ? signal : signal + "{" + row + "}"; }
};

RowResult JudgeRow(const Signal& signal, const std::string& row, const GroupSamples& baseline,
                   const GroupSamples& canary, const Config& config);

enum class Outcome { kPass, kMarginal, kFail };
std::string Name(Outcome o);

struct Overall {
  double score = 100;  // percent; 100 when nothing could be judged
  Outcome outcome = Outcome::kPass;
  std::vector<std::string> reasons;  // why not PASS
  int judged = 0;
};
Overall Score(const std::vector<RowResult>& rows, const Config& config);

}  // namespace xskit::triage
