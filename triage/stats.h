// The statistics of the judge: NaN and outlier removal, the Mann-Whitney U
// test and the Hodges-Lehmann shift estimate with its confidence interval.
//
// Library choice: Boost.Math (Debian's libboost-dev, header only) gives the
// normal distribution and the root finder. Boost 1.74 has no Mann-Whitney /
// Wilcoxon rank-sum distribution, so its exact small-sample distribution is
// computed here by the standard counting recurrence (stats.cc says how).
// The method follows the published description of the Wilcoxon rank-sum
// test's confidence interval (Bauer 1972; the approach R's wilcox.test
// documents and Kayenta's judge describes): exact quantiles over the sorted
// pairwise differences for small samples without ties, otherwise the normal
// approximation with tie and continuity correction, inverted for the shift.
#pragma once

#include <cstddef>
#include <vector>

namespace xskit::triage {

// Values without NaN and infinities.
std::vector<double> DropNonFinite(const std::vector<double>& v);

// Linear-interpolation quantile (type 7) of sorted values, q in [0,1].
double QuantileSorted(const std::vector<double>& sorted, double q);
double Median(std::vector<double> v);

// Keeps values within [Q1 - factor*IQR, Q3 + factor*IQR] (Tukey fences).
std::vector<double> RemoveOutliersIqr(const std::vector<double>& v, double factor = 1.5);

// Exact distribution of the Mann-Whitney U statistic of samples of sizes
// m and n without ties: P(U <= u).
double MannWhitneyExactCdf(double u, std::size_t m, std::size_t n);
// Smallest integer q with P(U <= q) >= p.
std::size_t MannWhitneyExactQuantile(double p, std::size_t m, std::size_t n);

struct MannWhitneyResult {
  double u = 0;        // U of x: pairs (x_i, y_j) with x_i > y_j, ties count 1/2
  double p_value = 1;  // two-sided
  bool exact = false;  // exact distribution (small samples, no ties) or normal
};
MannWhitneyResult MannWhitney(const std::vector<double>& x, const std::vector<double>& y);

struct ShiftEstimate {
  double estimate = 0;  // Hodges-Lehmann: location shift of x relative to y
  double lower = 0, upper = 0;
  bool exact = false;
};
// The shift d with x - d ~ y, and its two-sided interval at `confidence`.
ShiftEstimate HodgesLehmann(const std::vector<double>& x, const std::vector<double>& y,
                            double confidence);

// Sizes below which (with no ties) the exact distribution is used.
inline constexpr std::size_t kExactLimit = 50;

}  // namespace xskit::triage
