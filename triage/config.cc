#include "triage/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace xskit::triage {
namespace {

absl::Status Unknown(const std::string& where, const std::string& key,
                     const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) absl::StrAppend(&list, list.empty() ? "" : ", ", k);
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": unknown key '", key, "' (known: ", list, ")"));
}

absl::Status CheckKeys(const YAML::Node& n, const std::string& where,
                       const std::vector<std::string>& known) {
  if (!n.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected a mapping"));
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) return Unknown(where, key, known);
  }
  return absl::OkStatus();
}

absl::Status Range(const std::string& what, double v, double lo, double hi) {
  if (v < lo || v > hi)
    return absl::InvalidArgumentError(absl::StrCat(what, " = ", v, ": must be in [", lo, ", ", hi, "]"));
  return absl::OkStatus();
}

absl::Status ApplySignal(const YAML::Node& n, const std::string& name, Config& c) {
  const std::string where = absl::StrCat("signals.", name);
  if (auto s = CheckKeys(n, where, {"direction", "effect", "critical", "nodata", "min_points", "enabled"});
      !s.ok())
    return s;
  auto it = std::find_if(c.signals.begin(), c.signals.end(),
                         [&](const Signal& s) { return s.name == name; });
  if (it == c.signals.end()) {
    std::string list;
    for (const auto& s : c.signals) absl::StrAppend(&list, list.empty() ? "" : ", ", s.name);
    return absl::InvalidArgumentError(
        absl::StrCat("signals: no signal named '", name, "' (signals: ", list, ")"));
  }
  if (auto d = n["direction"]) {
    const std::string v = d.as<std::string>();
    bool found = false;
    for (const auto& e : kDirections)
      if (e.name == v) it->direction = e.value, found = true;
    if (!found)
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".direction: '", v, "' (use higher_is_worse, lower_is_worse or either)"));
  }
  if (auto e = n["effect"]) {
    it->effect = e.as<double>();
    if (auto s = Range(where + ".effect", it->effect, 0, 100); !s.ok()) return s;
  }
  if (auto cr = n["critical"]) {
    it->critical = cr.as<bool>();
    if (!n["nodata"]) it->nodata = it->critical ? NodataPolicy::kMarginal : NodataPolicy::kIgnore;
  }
  if (auto nd = n["nodata"]) {
    const std::string v = nd.as<std::string>();
    bool found = false;
    for (const auto& e : kNodataPolicies)
      if (e.name == v) it->nodata = e.value, found = true;
    if (!found)
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".nodata: '", v, "' (use ignore, marginal or fail)"));
  }
  if (auto m = n["min_points"]) {
    it->min_points = m.as<int>();
    if (auto s = Range(where + ".min_points", it->min_points, 1, 1e9); !s.ok()) return s;
  }
  if (auto en = n["enabled"]; en && !en.as<bool>()) c.signals.erase(it);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::string& text, Config c) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
  if (!root || root.IsNull()) return c;
  try {
    if (auto s = CheckKeys(root, "config", {"confidence", "outlier_iqr_factor", "min_points",
                                            "thresholds", "groups", "signals"});
        !s.ok())
      return s;
    if (auto v = root["confidence"]) {
      c.confidence = v.as<double>();
      if (auto s = Range("confidence", c.confidence, 0.5, 0.9999); !s.ok()) return s;
    }
    if (auto v = root["outlier_iqr_factor"]) {
      c.outlier_iqr_factor = v.as<double>();
      if (auto s = Range("outlier_iqr_factor", c.outlier_iqr_factor, 0, 100); !s.ok()) return s;
    }
    if (auto v = root["min_points"]) {
      const int m = v.as<int>();
      if (auto s = Range("min_points", m, 1, 1e9); !s.ok()) return s;
      for (auto& sig : c.signals) sig.min_points = m;
    }
    if (auto t = root["thresholds"]) {
      if (auto s = CheckKeys(t, "thresholds", {"pass", "marginal"}); !s.ok()) return s;
      if (t["pass"]) c.pass_threshold = t["pass"].as<double>();
      if (t["marginal"]) c.marginal_threshold = t["marginal"].as<double>();
      if (auto s = Range("thresholds.pass", c.pass_threshold, 0, 100); !s.ok()) return s;
      if (auto s = Range("thresholds.marginal", c.marginal_threshold, 0, c.pass_threshold); !s.ok())
        return s;
    }
    if (auto g = root["groups"]) {
      std::vector<std::string> known;
      for (const auto& [name, w] : c.group_weights) known.push_back(name);
      if (auto s = CheckKeys(g, "groups", known); !s.ok()) return s;
      for (const auto& kv : g) {
        const double w = kv.second.as<double>();
        if (auto s = Range("groups." + kv.first.as<std::string>(), w, 0, 1e6); !s.ok()) return s;
        c.group_weights[kv.first.as<std::string>()] = w;
      }
    }
    if (auto sigs = root["signals"]) {
      if (!sigs.IsMap()) return absl::InvalidArgumentError("signals: expected a mapping");
      for (const auto& kv : sigs)
        if (auto s = ApplySignal(kv.second, kv.first.as<std::string>(), c); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read config ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseConfig(ss.str());
  if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace xskit::triage
