#include "triage/judge.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "triage/stats.h"

namespace xskit::triage {

std::string Name(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kHigh: return "high";
    case Verdict::kLow: return "low";
    case Verdict::kNodata: return "nodata";
  }
  return "?";
}
std::string Name(Coverage c) {
  switch (c) {
    case Coverage::kBoth: return "both";
    case Coverage::kBaselineOnly: return "baseline only";
    case Coverage::kCanaryOnly: return "canary only";
    case Coverage::kNeither: return "neither";
  }
  return "?";
}
std::string Name(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "PASS";
    case Outcome::kMarginal: return "MARGINAL";
    case Outcome::kFail: return "FAIL";
  }
  return "?";
}

RowResult JudgeRow(const Signal& signal, const std::string& row, const GroupSamples& baseline,
                   const GroupSamples& canary, const Config& config) {
  RowResult r;
  r.signal = signal.name;
  r.row = row;
  r.group = signal.group;
  r.per = signal.per;
  r.unit = signal.unit;
  r.direction = signal.direction;
  r.effect = signal.effect;
  r.critical = signal.critical;
  r.nodata = signal.nodata;
  r.hosts_baseline = baseline.hosts;
  r.hosts_canary = canary.hosts;
  const bool has_b = baseline.series > 0 && !baseline.zero_filled;
  const bool has_c = canary.series > 0 && !canary.zero_filled;
  r.coverage = has_b && has_c ? Coverage::kBoth
               : has_b        ? Coverage::kBaselineOnly
               : has_c        ? Coverage::kCanaryOnly
                              : Coverage::kNeither;

  auto clean = [&](const std::vector<double>& v) {
    std::vector<double> f = DropNonFinite(v);
    return config.outlier_iqr_factor > 0 ? RemoveOutliersIqr(f, config.outlier_iqr_factor) : f;
  };
  const std::vector<double> b = clean(baseline.values), c = clean(canary.values);
  r.points_baseline = b.size();
  r.points_canary = c.size();
  if (baseline.series == 0 || canary.series == 0) {
    r.note = r.coverage == Coverage::kNeither
                 ? "no series in either group"
                 : absl::StrCat("measured in the ", r.coverage == Coverage::kBaselineOnly ? "baseline" : "canary",
                                " group only");
    return r;
  }
  if (static_cast<int>(b.size()) < signal.min_points || static_cast<int>(c.size()) < signal.min_points) {
    r.note = absl::StrCat("fewer than ", signal.min_points, " points (baseline ", b.size(),
                          ", canary ", c.size(), ")");
    return r;
  }
  if (baseline.zero_filled) r.note = "absent in baseline: counted as 0";
  if (canary.zero_filled) r.note = "absent in canary: counted as 0";
  r.median_baseline = Median(b);
  r.median_canary = Median(c);
  const MannWhitneyResult mw = MannWhitney(c, b);
  const ShiftEstimate hl = HodgesLehmann(c, b, config.confidence);
  r.p_value = mw.p_value;
  r.exact = hl.exact;
  r.shift = hl.estimate;
  r.shift_lower = hl.lower;
  r.shift_upper = hl.upper;
  if (r.median_baseline != 0) {
    const double base = std::abs(r.median_baseline);
    r.relative = hl.estimate / base;
    r.relative_lower = hl.lower / base;
    r.relative_upper = hl.upper / base;
    r.verdict = *r.relative_lower > signal.effect    ? Verdict::kHigh
                : *r.relative_upper < -signal.effect ? Verdict::kLow
                                                     : Verdict::kPass;
  } else {
    // No relative scale: any interval clear of 0 is a change.
    r.verdict = hl.lower > 0 ? Verdict::kHigh : hl.upper < 0 ? Verdict::kLow : Verdict::kPass;
  }
  r.worse = (r.verdict == Verdict::kHigh && signal.direction != Direction::kLowerIsWorse) ||
            (r.verdict == Verdict::kLow && signal.direction != Direction::kHigherIsWorse);
  return r;
}

Overall Score(const std::vector<RowResult>& rows, const Config& config) {
  Overall o;
  struct Tally { int ok = 0, total = 0; };
  std::map<std::string, Tally> groups;
  bool fail = false, marginal = false;
  for (const auto& r : rows) {
    if (r.verdict == Verdict::kNodata) {
      if (r.critical || r.nodata != NodataPolicy::kIgnore) {
        if (r.nodata == NodataPolicy::kFail) {
          fail = true;
          o.reasons.push_back(absl::StrCat(r.name(), ": nodata (", r.note, "), policy fail"));
        } else if (r.nodata == NodataPolicy::kMarginal) {
          marginal = true;
          o.reasons.push_back(absl::StrCat(r.name(), ": nodata (", r.note, "), policy marginal"));
        }
      }
      continue;
    }
    Tally& t = groups[r.group];
    t.total++;
    o.judged++;
    if (!r.worse) {
      t.ok++;
      continue;
    }
    if (r.critical) {
      fail = true;
      o.reasons.push_back(absl::StrCat(r.name(), ": ", Name(r.verdict), " (critical)"));
    } else {
      o.reasons.push_back(absl::StrCat(r.name(), ": ", Name(r.verdict)));
    }
  }
  double weighted = 0, weights = 0;
  for (const auto& [g, t] : groups) {
    auto w = config.group_weights.find(g);
    const double weight = w == config.group_weights.end() ? 1.0 : w->second;
    weighted += weight * t.ok / t.total;
    weights += weight;
  }
  o.score = weights > 0 ? 100 * weighted / weights : 100;
  if (fail || o.score < config.marginal_threshold)
    o.outcome = Outcome::kFail;
  else if (marginal || o.score < config.pass_threshold)
    o.outcome = Outcome::kMarginal;
  else
    o.outcome = Outcome::kPass;
  if (o.score < config.pass_threshold)
    o.reasons.push_back(absl::StrFormat("score %.1f below %s threshold %.0f", o.score,
                                        o.score < config.marginal_threshold ? "marginal" : "pass",
                                        o.score < config.marginal_threshold ? config.marginal_threshold
                                                                            : config.pass_threshold));
  return o;
}

}  // namespace xskit::triage
