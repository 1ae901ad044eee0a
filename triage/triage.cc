#include "triage/triage.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace xskit::triage {
namespace {

struct GroupData {
  // split key -> samples
  std::map<std::string, GroupSamples> rows;
};

std::string SplitKey(const Series& s, const std::vector<std::string>& labels) {
  std::string key;
  for (const auto& l : labels) {
    auto it = s.labels.find(l);
    absl::StrAppend(&key, key.empty() ? "" : ",", l, "=", it == s.labels.end() ? "" : it->second);
  }
  return key;
}

GroupSamples Collect(const std::vector<const Series*>& series, bool zero) {
  GroupSamples g;
  std::set<std::string> hosts;
  for (const Series* s : series) {
    g.series++;
    auto it = s->labels.find("instance");
    if (it != s->labels.end()) hosts.insert(it->second);
    for (double v : s->values) g.values.push_back(zero ? 0.0 : v);
  }
  g.hosts = static_cast<int>(hosts.size());
  g.zero_filled = zero && g.series > 0;
  return g;
}

// Zeros where zero_when holds but none of the row's series has a point:
// a counter such as an EAGAIN cause appears with its first occurrence, and
// before it there were none. Without them a row that appears late in a
// group (one cq_full EAGAIN of a healthy baseline under load) has too few
// points and turns nodata.
void AddMissingZeros(GroupSamples& g, const std::vector<const Series*>& row,
                     const std::vector<Series>& zero) {
  for (const Series& z : zero) {
    std::set<double> have;
    for (const Series* s : row) {
      bool same = std::all_of(z.labels.begin(), z.labels.end(), [&](const auto& kv) {
        auto it = s->labels.find(kv.first);
        return it != s->labels.end() && it->second == kv.second;
      });
      if (same) have.insert(s->timestamps.begin(), s->timestamps.end());
    }
    for (double t : z.timestamps)
      if (!have.count(t)) g.values.push_back(0.0);
  }
}

}  // namespace

absl::StatusOr<Report> RunTriage(const PrometheusClient& client, const Config& config,
                                 const Request& request) {
  Report rep;
  rep.request = request;
  rep.prometheus = client.url();
  rep.confidence = config.confidence;
  auto mb = SelectorMatchers(request.baseline);
  if (!mb.ok()) return absl::InvalidArgumentError(absl::StrCat("--baseline: ", mb.status().message()));
  auto mc = SelectorMatchers(request.canary);
  if (!mc.ok()) return absl::InvalidArgumentError(absl::StrCat("--canary: ", mc.status().message()));
  const std::string matchers[2] = {*mb, *mc};
  const char* names[2] = {"baseline", "canary"};
  auto query = [&](const std::string& expr, int g) {
    return client.QueryRange(GroupQuery(expr, matchers[g]), request.start, request.end, request.step);
  };

  for (int g = 0; g < 2; g++) {
    auto hosts = client.QueryRange(HostsQuery(matchers[g]), request.start, request.end, request.step);
    if (!hosts.ok()) return hosts.status();
    (g == 0 ? rep.hosts_baseline : rep.hosts_canary) = static_cast<int>(hosts->size());
    if (hosts->empty())
      rep.warnings.push_back(absl::StrCat(names[g], " selector ", g == 0 ? request.baseline : request.canary,
                                          " matches no host: no xsk_exporter_build_info{", matchers[g],
                                          "} in the window; every signal is nodata for it"));
  }

  for (const Signal& sig : config.signals) {
    std::vector<Series> series[2];
    std::map<std::string, std::vector<const Series*>> by_key[2];
    std::set<std::string> keys;
    for (int g = 0; g < 2; g++) {
      auto r = query(sig.expr, g);
      if (!r.ok()) return absl::Status(r.status().code(), absl::StrCat(sig.name, ": ", r.status().message()));
      series[g] = std::move(*r);
      for (const auto& s : series[g]) {
        const std::string k = SplitKey(s, sig.split_by);
        by_key[g][k].push_back(&s);
        keys.insert(k);
      }
    }
    if (keys.empty()) keys.insert(SplitKey(Series{}, sig.split_by));
    std::optional<std::vector<Series>> zero[2];
    auto zeros = [&](int g) -> absl::Status {
      if (zero[g]) return absl::OkStatus();
      auto z = query(sig.zero_when, g);
      if (!z.ok()) return absl::Status(z.status().code(), absl::StrCat(sig.name, ": ", z.status().message()));
      zero[g] = std::move(*z);
      return absl::OkStatus();
    };
    for (const auto& key : keys) {
      GroupSamples samples[2];
      for (int g = 0; g < 2; g++) {
        auto it = by_key[g].find(key);
        if (it != by_key[g].end()) {
          samples[g] = Collect(it->second, false);
          if (!sig.zero_when.empty()) {
            if (absl::Status st = zeros(g); !st.ok()) return st;
            AddMissingZeros(samples[g], it->second, *zero[g]);
          }
          continue;
        }
        // Zeros only where the other group measured the row: absent in
        // both is nodata, never 0 against 0.
        if (sig.zero_when.empty() || !by_key[1 - g].count(key)) continue;
        if (absl::Status st = zeros(g); !st.ok()) return st;
        std::vector<const Series*> ptrs;
        for (const auto& s : *zero[g]) ptrs.push_back(&s);
        samples[g] = Collect(ptrs, true);
      }
      const bool split_row = !sig.split_by.empty() && (by_key[0].count(key) || by_key[1].count(key));
      rep.rows.push_back(JudgeRow(sig, split_row ? key : "", samples[0], samples[1], config));
    }
  }
  rep.overall = Score(rep.rows, config);
  return rep;
}

}  // namespace xskit::triage
