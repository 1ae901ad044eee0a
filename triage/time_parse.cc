#include "triage/time_parse.h"

#include <cstdlib>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace xskit::triage {

absl::StatusOr<double> ParseDuration(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("duration '", text, "': expected e.g. 30s, 5m, 2h, 1d"));
  const std::string unit(end);
  double mult = 0;
  if (unit.empty() || unit == "s") mult = 1;
  else if (unit == "m") mult = 60;
  else if (unit == "h") mult = 3600;
  else if (unit == "d") mult = 86400;
  else
    return absl::InvalidArgumentError(
        absl::StrCat("duration '", text, "': unknown unit '", unit, "' (s, m, h, d)"));
  return v * mult;
}

absl::StatusOr<double> ParseTime(const std::string& text, double now) {
  if (text == "now") return now;
  if (!text.empty() && text[0] == '-') {
    auto d = ParseDuration(text.substr(1));
    if (!d.ok()) return d.status();
    return now - *d;
  }
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() && *end == '\0') return v;
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest) {
    double frac = 0;
    if (*rest == '.') {  // Grafana's ${__from:date:iso} has milliseconds
      char* after = nullptr;
      frac = std::strtod(rest, &after);
      rest = after;
    }
    if (std::string(rest) == "Z" || std::string(rest).empty())
      return static_cast<double>(timegm(&tm)) + frac;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "time '", text, "': expected now, -DURATION (e.g. -2h), Unix seconds or 2026-11-27T10:00:00Z"));
}

}  // namespace xskit::triage
