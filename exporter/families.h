// Building prometheus::MetricFamily objects directly at scrape time (no
// Registry of long-lived metrics: a series exists only while its source
// does). Series with equal labels are summed, so a decoder that maps two
// keys to one label set still yields valid exposition.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "prometheus/metric_family.h"

namespace xskit::exporter {

using Labels = std::vector<std::pair<std::string, std::string>>;

class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, prometheus::MetricType type);

  // Counter, gauge: adds `value` to the series with `labels`.
  void Add(const Labels& labels, double value);
  // Histogram: per-bucket (not cumulative) counts for `bounds` plus the
  // +Inf overflow, the sum and the count.
  void AddHistogram(const Labels& labels, const std::vector<double>& bounds,
                    const std::vector<uint64_t>& per_bucket, uint64_t overflow, double sum);

  bool empty() const { return index_.empty(); }
  // Appends the family to `out` unless it has no series.
  void MoveTo(std::vector<prometheus::MetricFamily>& out);

 private:
  prometheus::ClientMetric& Series(const Labels& labels, bool* created);
  prometheus::MetricFamily family_;
  std::map<Labels, size_t> index_;
};

}  // namespace xskit::exporter
