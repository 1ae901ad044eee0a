// Tier `triage`: the statistics against values computed by hand (the
// arithmetic is in the comments), the judge, the config and the parsers.
#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "triage/config.h"
#include "triage/judge.h"
#include "triage/prometheus_client.h"
#include "triage/signals.h"
#include "triage/stats.h"
#include "triage/time_parse.h"

namespace xskit::triage {
namespace {

// scipy.stats.mannwhitneyu's documented example (Conover): ages of males
// and females. U of x = pairs with x_i > y_j = 17 (19 beats 11,12,17 = 3;
// 22: 4; 16: 2; 29: 4; 24: 4). Exact: C(9,4) = 126 arrangements; U >= 17
// is U' = 20 - U <= 3, the partitions of 0..3 into at most 4 parts <= 5:
// 1+1+2+3 = 7, so p = 2 * 7/126 = 0.1111.
const std::vector<double> kMales = {19, 22, 16, 29, 24};
const std::vector<double> kFemales = {20, 11, 17, 12};

TEST(MannWhitneyTest, ExactMatchesTheCountedDistribution) {
  MannWhitneyResult r = MannWhitney(kMales, kFemales);
  EXPECT_EQ(r.u, 17) << "U of the males";
  EXPECT_TRUE(r.exact) << "small samples without ties use the exact distribution";
  EXPECT_NEAR(r.p_value, 14.0 / 126, 1e-12) << "two-sided exact p";
  EXPECT_NEAR(MannWhitneyExactCdf(3, 5, 4), 7.0 / 126, 1e-12) << "P(U <= 3), m=5, n=4";
  EXPECT_NEAR(MannWhitneyExactCdf(20, 5, 4), 1.0, 1e-12) << "P(U <= mn) = 1";
}

TEST(MannWhitneyTest, ExactQuantileOfFiveAndFive) {
  // m = n = 5: C(10,5) = 252; counts of U = 0,1,2,3 are 1,1,2,3, so
  // P(U <= 2) = 4/252 = 0.0159 < 0.025 <= P(U <= 3) = 7/252 = 0.0278.
  EXPECT_NEAR(MannWhitneyExactCdf(2, 5, 5), 4.0 / 252, 1e-12);
  EXPECT_EQ(MannWhitneyExactQuantile(0.025, 5, 5), 3u) << "alpha/2 quantile at 95 %";
}

TEST(MannWhitneyTest, NormalApproximationWithTies) {
  // A tie (17 in both) forces the normal approximation. Combined sample
  // 10 11 12 16 17 17 19 20 22 24 29 (N = 11); x holds 16 (rank 4),
  // 17 (5.5), 19 (7), 22 (9), 24 (10), 29 (11): R = 46.5,
  // U = 46.5 - 6*7/2 = 25.5 of mn = 30. One tie pair: sum(t^3 - t) = 6.
  // var = 6*5/12 * (12 - 6/(11*10)) = 2.5 * 11.945454... = 29.863636...
  // z = (25.5 - 15 - 0.5) / sqrt(29.8636) = 10 / 5.464763 = 1.829905,
  // p = 2 * (1 - Phi(1.829905)) = 0.067264.
  std::vector<double> x = {19, 22, 16, 29, 24, 17};
  std::vector<double> y = {20, 11, 17, 12, 10};
  MannWhitneyResult r = MannWhitney(x, y);
  EXPECT_FALSE(r.exact) << "ties: normal approximation";
  EXPECT_EQ(r.u, 25.5) << "U with the tie counted 1/2";
  EXPECT_NEAR(r.p_value, 0.067264, 5e-6) << "two-sided p, tie and continuity corrected";
}

TEST(HodgesLehmannTest, ExactIntervalFromPairwiseDifferences) {
  // x - y for x = 11..15, y = 1..5: 6 (1x), 7 (2), 8 (3), 9 (4), 10 (5),
  // 11 (4), 12 (3), 13 (2), 14 (1). Median 10. At 95 %: qu = 3 (above),
  // interval = 3rd smallest and 3rd largest difference = [7, 13].
  ShiftEstimate s = HodgesLehmann({11, 12, 13, 14, 15}, {1, 2, 3, 4, 5}, 0.95);
  EXPECT_TRUE(s.exact);
  EXPECT_EQ(s.estimate, 10);
  EXPECT_EQ(s.lower, 7);
  EXPECT_EQ(s.upper, 13);
}

TEST(HodgesLehmannTest, NormalIntervalIsSymmetricAroundAPureShift) {
  std::vector<double> y, x;
  for (int i = 0; i < 200; i++) {
    y.push_back(i);
    x.push_back(i + 30.5);
  }
  ShiftEstimate s = HodgesLehmann(x, y, 0.98);
  EXPECT_FALSE(s.exact) << "200 points: normal approximation";
  EXPECT_DOUBLE_EQ(s.estimate, 30.5) << "median of x_i - y_j";
  EXPECT_LT(s.lower, 30.5);
  EXPECT_GT(s.upper, 30.5);
  EXPECT_NEAR(30.5 - s.lower, s.upper - 30.5, 1.01) << "symmetric within one step of the data";
  // U at a shift d counts pairs with x_i - d > y_j; at d = 30.5 + k the
  // statistic's mean moves by about k * 200 per unit, its sd is
  // sqrt(200*200*401/12) = 1156.1, z(0.99) = 2.326: half-width ~ 13.4.
  EXPECT_NEAR(s.upper - s.lower, 2 * 2.326 * 1156.1 / 200, 1.5);
}

TEST(FilterTest, NaNAndOutliers) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(DropNonFinite({1, nan, 2, INFINITY}), (std::vector<double>{1, 2}));
  // 1 2 3 4 100: Q1 = 2, Q3 = 4 (type 7), fences 2 - 3 = -1 and 4 + 3 = 7.
  EXPECT_EQ(RemoveOutliersIqr({1, 2, 3, 4, 100}), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(Median({5, 1, 3}), 3);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
}

// Deterministic samples around `center` (+/- 1 %).
std::vector<double> Around(double center, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; i++) v.push_back(center * (1 + 0.01 * std::sin(i * 1.7)));
  return v;
}

Signal TestSignal(Direction d, double effect, bool critical) {
  Signal s;
  s.name = "sig";
  s.group = "tx";
  s.direction = d;
  s.effect = effect;
  s.critical = critical;
  s.nodata = critical ? NodataPolicy::kMarginal : NodataPolicy::kIgnore;
  return s;
}

GroupSamples Samples(std::vector<double> v) {
  GroupSamples g;
  g.values = std::move(v);
  g.series = 1;
  g.hosts = 1;
  return g;
}

TEST(JudgeTest, VerdictsAgainstEffectSize) {
  Config c;
  const Signal hi = TestSignal(Direction::kHigherIsWorse, 0.05, false);
  RowResult tripled = JudgeRow(hi, "", Samples(Around(0.01, 60)), Samples(Around(0.03, 60)), c);
  EXPECT_EQ(tripled.verdict, Verdict::kHigh);
  EXPECT_TRUE(tripled.worse);
  EXPECT_NEAR(*tripled.relative, 2.0, 0.05) << "x3 is +200 %";
  RowResult small = JudgeRow(hi, "", Samples(Around(32, 60)), Samples(Around(32.64, 60)), c);
  EXPECT_EQ(small.verdict, Verdict::kPass) << "+2 % is within a 5 % effect size";
  EXPECT_NEAR(*small.relative, 0.02, 0.005);
  const Signal lo = TestSignal(Direction::kLowerIsWorse, 0.05, false);
  RowResult up = JudgeRow(lo, "", Samples(Around(1, 60)), Samples(Around(2, 60)), c);
  EXPECT_EQ(up.verdict, Verdict::kHigh);
  EXPECT_FALSE(up.worse) << "higher is better for this signal";
  RowResult down = JudgeRow(lo, "", Samples(Around(2, 60)), Samples(Around(1, 60)), c);
  EXPECT_EQ(down.verdict, Verdict::kLow);
  EXPECT_TRUE(down.worse);
}

TEST(JudgeTest, MissingDataIsExplicit) {
  Config c;
  const Signal s = TestSignal(Direction::kHigherIsWorse, 0.05, true);
  RowResult only_b = JudgeRow(s, "", Samples(Around(1, 60)), GroupSamples{}, c);
  EXPECT_EQ(only_b.verdict, Verdict::kNodata);
  EXPECT_EQ(only_b.coverage, Coverage::kBaselineOnly) << "never judged as equal";
  RowResult few = JudgeRow(s, "", Samples(Around(1, 60)), Samples(Around(1, 5)), c);
  EXPECT_EQ(few.verdict, Verdict::kNodata) << "5 points < min_points 10";
  EXPECT_EQ(few.coverage, Coverage::kBoth);
  // All zero in the baseline: no relative scale, the absolute interval decides.
  RowResult from_zero = JudgeRow(s, "", Samples(std::vector<double>(30, 0.0)), Samples(Around(1, 30)), c);
  EXPECT_EQ(from_zero.verdict, Verdict::kHigh);
  EXPECT_FALSE(from_zero.relative.has_value());
  RowResult zeros = JudgeRow(s, "", Samples(std::vector<double>(30, 0.0)),
                             Samples(std::vector<double>(30, 0.0)), c);
  EXPECT_EQ(zeros.verdict, Verdict::kPass) << "0 against 0";
}

RowResult Row(const std::string& group, Verdict v, bool worse, bool critical,
              NodataPolicy nodata = NodataPolicy::kIgnore) {
  RowResult r;
  r.signal = group + "_sig";
  r.group = group;
  r.verdict = v;
  r.worse = worse;
  r.critical = critical;
  r.nodata = nodata;
  return r;
}

TEST(ScoreTest, WeightedGroupsCriticalAndNodata) {
  Config c;
  // steering 2/2, tx 2/3: (1 + 2/3) / 2 = 83.3 -> MARGINAL (75..95).
  std::vector<RowResult> rows = {Row("steering", Verdict::kPass, false, false),
                                 Row("steering", Verdict::kPass, false, false),
                                 Row("tx", Verdict::kPass, false, false),
                                 Row("tx", Verdict::kLow, false, false),
                                 Row("tx", Verdict::kHigh, true, false),
                                 Row("cost", Verdict::kNodata, false, false)};
  Overall o = Score(rows, c);
  EXPECT_NEAR(o.score, 100 * (1 + 2.0 / 3) / 2, 1e-9);
  EXPECT_EQ(o.outcome, Outcome::kMarginal);
  EXPECT_EQ(o.judged, 5);
  c.group_weights["tx"] = 3;  // (1 + 3 * 2/3) / 4 = 75
  EXPECT_NEAR(Score(rows, c).score, 75, 1e-9);

  std::vector<RowResult> crit = {Row("steering", Verdict::kPass, false, false),
                                 Row("tx", Verdict::kHigh, true, true)};
  for (int i = 0; i < 50; i++) crit.push_back(Row("drops", Verdict::kPass, false, false));
  EXPECT_EQ(Score(crit, Config{}).outcome, Outcome::kFail) << "a critical signal fails the run";

  std::vector<RowResult> nodata = {Row("tx", Verdict::kPass, false, false),
                                   Row("tx", Verdict::kNodata, false, true, NodataPolicy::kMarginal)};
  EXPECT_EQ(Score(nodata, Config{}).outcome, Outcome::kMarginal);
  nodata[1].nodata = NodataPolicy::kFail;
  EXPECT_EQ(Score(nodata, Config{}).outcome, Outcome::kFail);
}

TEST(ConfigTest, OverridesAndRefusals) {
  auto c = ParseConfig(R"(
confidence: 0.95
thresholds: {pass: 90, marginal: 60}
groups: {tx: 2}
signals:
  tx_descriptors_per_sendmsg: {direction: either, effect: 0.2, critical: true, nodata: fail, min_points: 3}
  probe_coverage: {enabled: false}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->confidence, 0.95);
  EXPECT_EQ(c->pass_threshold, 90);
  EXPECT_EQ(c->group_weights["tx"], 2);
  bool found = false;
  for (const auto& s : c->signals) {
    EXPECT_NE(s.name, "probe_coverage") << "disabled";
    if (s.name != "tx_descriptors_per_sendmsg") continue;
    found = true;
    EXPECT_EQ(s.direction, Direction::kEither);
    EXPECT_EQ(s.effect, 0.2);
    EXPECT_TRUE(s.critical);
    EXPECT_EQ(s.nodata, NodataPolicy::kFail);
    EXPECT_EQ(s.min_points, 3);
  }
  EXPECT_TRUE(found);
  auto bad_key = ParseConfig("confidance: 0.9\n");
  EXPECT_NE(std::string(bad_key.status().message()).find("unknown key 'confidance'"), std::string::npos)
      << bad_key.status();
  auto bad_sig = ParseConfig("signals: {nosuch: {effect: 1}}\n");
  EXPECT_NE(std::string(bad_sig.status().message()).find("no signal named 'nosuch'"), std::string::npos)
      << bad_sig.status();
  auto bad_dir = ParseConfig("signals: {tx_descriptors_per_sendmsg: {direction: up}}\n");
  EXPECT_EQ(bad_dir.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SignalsTest, TableAndSelectors) {
  auto t = BuiltinSignals();
  for (const auto& s : t) {
    EXPECT_FALSE(s.expr.empty()) << s.name;
    EXPECT_TRUE(Config{}.group_weights.count(s.group)) << s.name << " has a weighted group";
  }
  EXPECT_EQ(*SelectorMatchers(" {rollout=\"canary\"} "), "rollout=\"canary\"");
  EXPECT_FALSE(SelectorMatchers("rollout=canary").ok());
  EXPECT_FALSE(SelectorMatchers("{}").ok());
  EXPECT_FALSE(SelectorMatchers("{a=\"b\"} or {c=\"d\"}").ok()) << "one selector only";
  EXPECT_EQ(*SelectorMatchers("{a=~\"x{2}\"}"), "a=~\"x{2}\"") << "braces inside a regex are fine";
  EXPECT_TRUE(SelectorMatchers("{a='x\"{'}").ok()) << "a double quote inside single quotes";
  EXPECT_EQ(GroupQuery("m", "a=\"b\""),
            "(m) * on (instance) group_left () max by (instance) (xsk_exporter_build_info{a=\"b\"})");
}

TEST(ParseTest, MatrixErrorsAndTimes) {
  auto m = ParseMatrix(R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"instance":"h1"},"values":[[1,"0.5"],[2,"NaN"]]}]}})");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].labels.at("instance"), "h1");
  EXPECT_EQ((*m)[0].values[0], 0.5);
  EXPECT_TRUE(std::isnan((*m)[0].values[1]));
  auto e = ParseMatrix(R"({"status":"error","errorType":"bad_data","error":"parse error at char 3"})");
  EXPECT_NE(std::string(e.status().message()).find("bad_data: parse error at char 3"), std::string::npos);
  EXPECT_EQ(*ParseTime("now", 1000), 1000);
  EXPECT_EQ(*ParseTime("-2h", 10000), 10000 - 7200);
  EXPECT_EQ(*ParseTime("1700000000", 0), 1700000000);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z", 0), 1700000000);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20.500Z", 0), 1700000000.5) << "Grafana's ${__from:date:iso}";
  EXPECT_FALSE(ParseTime("yesterday", 0).ok());
  EXPECT_EQ(*ParseDuration("30s"), 30);
  EXPECT_EQ(*ParseDuration("5m"), 300);
  EXPECT_FALSE(ParseDuration("5w").ok());
  auto h = ParseHttpConfig("basic_auth: {username: u, password: p}\ntls_config: {ca_file: /ca.pem}\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->username, "u");
  EXPECT_EQ(h->ca_file, "/ca.pem");
  EXPECT_FALSE(ParseHttpConfig("tls_server_config: {cert_file: x}\n").ok()) << "server keys refused";
}

}  // namespace
}  // namespace xskit::triage
