#include "triage/report.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace xskit::triage {
namespace {

std::string Time(double t) {
  std::time_t s = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Num(double v) { return absl::StrFormat("%.4g", v); }
std::string Pct(double v) { return absl::StrFormat("%+.1f%%", 100 * v); }

std::string Change(const RowResult& r) {
  if (r.verdict == Verdict::kNodata) return "-";
  if (r.relative)
    return absl::StrCat(Pct(*r.relative), " [", Pct(*r.relative_lower), ", ", Pct(*r.relative_upper), "]");
  return absl::StrCat(absl::StrFormat("%+.4g", r.shift), " [", Num(r.shift_lower), ", ", Num(r.shift_upper),
                      "] abs");
}

std::string Median(const RowResult& r, bool canary) {
  if (r.verdict == Verdict::kNodata) return "-";
  return Num(canary ? r.median_canary : r.median_baseline);
}

}  // namespace

std::string RenderText(const Report& rep) {
  std::vector<std::vector<std::string>> t;
  t.push_back({"SIGNAL", "PER", "BASELINE", "CANARY", "CHANGE [CI]", "VERDICT", "CRIT", "NOTE"});
  for (const auto& r : rep.rows) {
    std::string verdict(Name(r.verdict));
    if (r.worse) verdict += "!";
    t.push_back({r.name(), r.per, Median(r, false), Median(r, true), Change(r), verdict,
                 r.critical ? "yes" : "", r.note});
  }
  std::vector<size_t> w(t[0].size(), 0);
  for (const auto& row : t)
    for (size_t i = 0; i < row.size(); i++) w[i] = std::max(w[i], row[i].size());
  std::string out = absl::StrFormat(
      "xsk-triage: %s  baseline %s (%d hosts)  canary %s (%d hosts)\n"
      "window %s .. %s, step %gs, confidence %g\n\n",
      rep.prometheus, rep.request.baseline, rep.hosts_baseline, rep.request.canary, rep.hosts_canary,
      Time(rep.request.start), Time(rep.request.end), rep.request.step, rep.confidence);
  for (const auto& row : t) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++)
      absl::StrAppend(&line, row[i], i + 1 < row.size() ? std::string(w[i] - row[i].size() + 2, ' ') : "");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out, "\n");
  for (const auto& wtext : rep.warnings) absl::StrAppend(&out, "warning: ", wtext, "\n");
  absl::StrAppend(&out, absl::StrFormat("score %.1f (%d rows judged): %s\n", rep.overall.score,
                                        rep.overall.judged, Name(rep.overall.outcome)));
  for (const auto& why : rep.overall.reasons) absl::StrAppend(&out, "  ", why, "\n");
  return out;
}

nlohmann::json RenderJson(const Report& rep) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json rows = json::array();
  for (const auto& r : rep.rows) {
    const bool judged = r.verdict != Verdict::kNodata;
    rows.push_back({
        {"signal", r.signal}, {"row", r.row}, {"name", r.name()}, {"group", r.group}, {"per", r.per},
        {"unit", r.unit}, {"direction", Name(r.direction)}, {"effect", r.effect},
        {"critical", r.critical}, {"nodata_policy", Name(r.nodata)},
        {"verdict", Name(r.verdict)}, {"worse", r.worse}, {"coverage", Name(r.coverage)},
        {"points", {{"baseline", r.points_baseline}, {"canary", r.points_canary}}},
        {"hosts", {{"baseline", r.hosts_baseline}, {"canary", r.hosts_canary}}},
        {"median", judged ? json{{"baseline", r.median_baseline}, {"canary", r.median_canary}} : json(nullptr)},
        {"shift", judged ? json{{"estimate", r.shift}, {"lower", r.shift_lower}, {"upper", r.shift_upper}}
                         : json(nullptr)},
        {"relative", judged ? json{{"estimate", opt(r.relative)}, {"lower", opt(r.relative_lower)},
                                   {"upper", opt(r.relative_upper)}}
                            : json(nullptr)},
        {"p_value", judged ? json(r.p_value) : json(nullptr)},
        {"exact", r.exact},
        {"note", r.note},
    });
  }
  return {
      {"prometheus", rep.prometheus},
      {"baseline", {{"selector", rep.request.baseline}, {"hosts", rep.hosts_baseline}}},
      {"canary", {{"selector", rep.request.canary}, {"hosts", rep.hosts_canary}}},
      {"window", {{"start", Time(rep.request.start)}, {"end", Time(rep.request.end)}, {"step_seconds", rep.request.step}}},
      {"confidence", rep.confidence},
      {"signals", rows},
      {"score", rep.overall.score},
      {"judged", rep.overall.judged},
      {"result", Name(rep.overall.outcome)},
      {"reasons", rep.overall.reasons},
      {"warnings", rep.warnings},
  };
}

}  // namespace xskit::triage
