// A parsed Prometheus text exposition (an xsk-exporter /metrics body), for
// tests that compare exact series: a series is found by its name and its
// whole label set, so a label the documentation does not name makes it
// absent rather than matched.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xskit::testing {

using SeriesLabels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // with its _bucket/_sum/_count suffix
  SeriesLabels labels;
  double value = 0;
};

class Exposition {
 public:
  // Comment lines and lines that do not parse are skipped (the exporter's
  // own format is checked by promtool in the exporter tier).
  static Exposition Parse(const std::string& body);

  // The value of the series `name` with exactly `labels`; nullopt when absent.
  std::optional<double> Value(const std::string& name, const SeriesLabels& labels) const;
  // As Value(), 0 when absent: a counter not yet created.
  double CounterOr0(const std::string& name, const SeriesLabels& labels) const {
    return Value(name, labels).value_or(0);
  }
  // Every sample of `name` whose labels include all of `subset`.
  std::vector<const Sample*> Find(const std::string& name, const SeriesLabels& subset = {}) const;

  bool empty() const { return samples_.empty(); }
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

// `labels` plus one more pair.
SeriesLabels With(SeriesLabels labels, const std::string& key, const std::string& value);

}  // namespace xskit::testing
