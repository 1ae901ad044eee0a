#include "selftests/lib/exposition.h"

#include <cstdlib>
#include <sstream>

namespace xskit::testing {
namespace {

// `name{k="v",...} value [timestamp]` or `name value [timestamp]`.
std::optional<Sample> ParseLine(const std::string& line) {
  Sample s;
  size_t i = line.find_first_of("{ ");
  if (i == std::string::npos || i == 0) return std::nullopt;
  s.name = line.substr(0, i);
  if (line[i] == '{') {
    i++;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return std::nullopt;
      std::string key = line.substr(i, eq - i), value;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; j++) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          j++;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return std::nullopt;
      s.labels[key] = value;
      i = j + 1;
      if (i < line.size() && line[i] == ',') i++;
    }
    if (i >= line.size()) return std::nullopt;
    i++;  // '}'
  }
  const char* start = line.c_str() + i;
  char* end = nullptr;
  s.value = std::strtod(start, &end);
  if (end == start) return std::nullopt;
  return s;
}

}  // namespace

Exposition Exposition::Parse(const std::string& body) {
  Exposition e;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (auto s = ParseLine(line)) e.samples_.push_back(std::move(*s));
  }
  return e;
}

std::optional<double> Exposition::Value(const std::string& name, const SeriesLabels& labels) const {
  for (const auto& s : samples_)
    if (s.name == name && s.labels == labels) return s.value;
  return std::nullopt;
}

std::vector<const Sample*> Exposition::Find(const std::string& name, const SeriesLabels& subset) const {
  std::vector<const Sample*> out;
  for (const auto& s : samples_) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : subset) {
      auto it = s.labels.find(k);
      all = all && it != s.labels.end() && it->second == v;
    }
    if (all) out.push_back(&s);
  }
  return out;
}

SeriesLabels With(SeriesLabels labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

}  // namespace xskit::testing
