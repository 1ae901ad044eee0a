#include "triage/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/tools/roots.hpp>

namespace xskit::triage {
namespace {

// Above this many pairwise differences the shift estimate is the root of
// the normal-approximation statistic instead of their median (memory).
constexpr double kMaxPairs = 4e6;

struct RankSum {
  double u = 0;      // Mann-Whitney U of x
  double ties = 0;   // sum over tie groups of t^3 - t
};

// U of x against y when x is shifted by -d, with the tie term of the
// combined sample (average ranks for ties).
RankSum RankSumOf(const std::vector<double>& x, const std::vector<double>& y, double d) {
  std::vector<std::pair<double, bool>> all;  // value, is_x
  all.reserve(x.size() + y.size());
  for (double v : x) all.push_back({v - d, true});
  for (double v : y) all.push_back({v, false});
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  RankSum r;
  double rank_sum_x = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) j++;
    const double t = static_cast<double>(j - i);
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; k++)
      if (all[k].second) rank_sum_x += avg_rank;
    r.ties += t * t * t - t;
    i = j;
  }
  const double m = static_cast<double>(x.size());
  r.u = rank_sum_x - m * (m + 1) / 2;
  return r;
}

// The normal approximation's z of U, with the tie correction of the
// variance and a continuity correction of 1/2 towards the mean.
double ZOf(const RankSum& r, std::size_t m_, std::size_t n_) {
  const double m = static_cast<double>(m_), n = static_cast<double>(n_), N = m + n;
  const double var = m * n / 12 * ((N + 1) - r.ties / (N * (N - 1)));
  if (var <= 0) return 0;  // every value equal: no evidence either way
  const double dev = r.u - m * n / 2;
  const double correction = dev > 0 ? 0.5 : (dev < 0 ? -0.5 : 0);
  return (dev - correction) / std::sqrt(var);
}

// Counts of arrangements with U = u for sizes m, n, by the standard
// recurrence on the largest value of the combined sample: it belongs to x
// (and beats all n values of y) or to y:
//   f(u; m, n) = f(u - n; m - 1, n) + f(u; m, n - 1),  f(0; 0, n) = f(0; m, 0) = 1.
// Rows over m are rolled; every count is a sum of non-negative terms, so
// the lower tail is exact in doubles until the counts pass 2^53 and
// accurate to rounding after.
std::vector<double> ExactCounts(std::size_t m, std::size_t n) {
  std::vector<std::vector<double>> prev(n + 1, std::vector<double>{1.0}), cur(n + 1);
  for (std::size_t mi = 1; mi <= m; mi++) {
    cur[0] = {1.0};
    for (std::size_t ni = 1; ni <= n; ni++) {
      std::vector<double> f(mi * ni + 1, 0.0);
      for (std::size_t u = 0; u < f.size(); u++) {
        if (u >= ni && u - ni < prev[ni].size()) f[u] += prev[ni][u - ni];
        if (u < cur[ni - 1].size()) f[u] += cur[ni - 1][u];
      }
      cur[ni] = std::move(f);
    }
    std::swap(prev, cur);
  }
  return prev[n];
}

std::vector<double> ExactCdf(std::size_t m, std::size_t n) {
  std::vector<double> counts = ExactCounts(m, n);
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  std::vector<double> cdf(counts.size());
  double acc = 0;
  for (std::size_t u = 0; u < counts.size(); u++) {
    acc += counts[u];
    cdf[u] = acc / total;
  }
  return cdf;
}

bool HasTies(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> all(x);
  all.insert(all.end(), y.begin(), y.end());
  std::sort(all.begin(), all.end());
  return std::adjacent_find(all.begin(), all.end()) != all.end();
}

bool UseExact(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() < kExactLimit && y.size() < kExactLimit && !HasTies(x, y);
}

}  // namespace

std::vector<double> DropNonFinite(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

double QuantileSorted(const std::vector<double>& s, double q) {
  if (s.empty()) return std::nan("");
  const double pos = q * static_cast<double>(s.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return QuantileSorted(v, 0.5);
}

std::vector<double> RemoveOutliersIqr(const std::vector<double>& v, double factor) {
  if (v.size() < 4) return v;
  std::vector<double> s(v);
  std::sort(s.begin(), s.end());
  const double q1 = QuantileSorted(s, 0.25), q3 = QuantileSorted(s, 0.75);
  const double lo = q1 - factor * (q3 - q1), hi = q3 + factor * (q3 - q1);
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v)
    if (x >= lo && x <= hi) out.push_back(x);
  return out;
}

double MannWhitneyExactCdf(double u, std::size_t m, std::size_t n) {
  if (u < 0) return 0;
  std::vector<double> cdf = ExactCdf(m, n);
  const std::size_t k = static_cast<std::size_t>(std::floor(u));
  return k >= cdf.size() ? 1.0 : cdf[k];
}

std::size_t MannWhitneyExactQuantile(double p, std::size_t m, std::size_t n) {
  std::vector<double> cdf = ExactCdf(m, n);
  for (std::size_t q = 0; q < cdf.size(); q++)
    if (cdf[q] >= p * (1 - 1e-12)) return q;  // tolerate rounding in the sums
  return cdf.size() - 1;
}

MannWhitneyResult MannWhitney(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitneyResult r;
  if (x.empty() || y.empty()) return r;
  const RankSum rs = RankSumOf(x, y, 0);
  r.u = rs.u;
  if (UseExact(x, y)) {
    r.exact = true;
    const double mn = static_cast<double>(x.size() * y.size());
    const double lower = MannWhitneyExactCdf(rs.u, x.size(), y.size());
    const double upper = MannWhitneyExactCdf(mn - rs.u, x.size(), y.size());  // symmetry
    r.p_value = std::min(1.0, 2 * std::min(lower, upper));
    return r;
  }
  const boost::math::normal_distribution<double> normal;
  const double z = ZOf(rs, x.size(), y.size());
  r.p_value = std::min(1.0, 2 * std::min(boost::math::cdf(normal, z),
                                         boost::math::cdf(boost::math::complement(normal, z))));
  return r;
}

ShiftEstimate HodgesLehmann(const std::vector<double>& x, const std::vector<double>& y,
                            double confidence) {
  ShiftEstimate r;
  if (x.empty() || y.empty()) return r;
  const double alpha = 1 - confidence;
  const std::size_t m = x.size(), n = y.size();
  const double pairs = static_cast<double>(m) * static_cast<double>(n);
  std::vector<double> diffs;
  if (pairs <= kMaxPairs) {
    diffs.reserve(m * n);
    for (double a : x)
      for (double b : y) diffs.push_back(a - b);
    std::sort(diffs.begin(), diffs.end());
    r.estimate = QuantileSorted(diffs, 0.5);
  }
  if (UseExact(x, y)) {
    // The interval between the qu-th smallest and qu-th largest pairwise
    // difference, qu the exact alpha/2 quantile of U (at least 1).
    r.exact = true;
    std::size_t qu = MannWhitneyExactQuantile(alpha / 2, m, n);
    if (qu == 0) qu = 1;
    r.lower = diffs[qu - 1];
    r.upper = diffs[m * n - qu];
    return r;
  }
  // Normal approximation: z(d) of x - d against y falls as d grows; the
  // interval is where |z(d)| stays within the normal quantile.
  const double mumin = *std::min_element(x.begin(), x.end()) - *std::max_element(y.begin(), y.end());
  const double mumax = *std::max_element(x.begin(), x.end()) - *std::min_element(y.begin(), y.end());
  const double tol = std::max(mumax - mumin, 1e-300) * 1e-10;
  auto root = [&](double zq) {
    auto f = [&](double d) { return ZOf(RankSumOf(x, y, d), m, n) - zq; };
    if (f(mumin) <= 0) return mumin;
    if (f(mumax) >= 0) return mumax;
    auto [a, b] = boost::math::tools::bisect(
        f, mumin, mumax, [&](double lo, double hi) { return hi - lo <= tol; });
    return (a + b) / 2;
  };
  const boost::math::normal_distribution<double> normal;
  const double zq = boost::math::quantile(boost::math::complement(normal, alpha / 2));
  r.lower = root(zq);
  r.upper = root(-zq);
  if (pairs > kMaxPairs) r.estimate = root(0);
  return r;
}

}  // namespace xskit::triage
