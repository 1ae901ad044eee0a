// Building prometheus::MetricFamily objects directly at scrape time (no
// Registry of long-lived metrics: a series exists only while its source
// does). Series with equal labels are summed, so a decoder that maps two
// keys to one label set still yields valid exposition.
//
// Cost (bench/exporter_bench.cc: 64 queues, 128 drop reasons, 256 sockets,
// about 4,000 series a scrape): a series is found by the hash of its labels
// (one pass over the strings) in a flat hash table, then compared label by
// label only on a hash match; its labels are moved, not copied, when the
// caller passes them as an rvalue. No ordered map of label vectors, whose
// lookups compared strings O(log n) times per series.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "prometheus/metric_family.h"

namespace xskit::exporter {

using Labels = std::vector<prometheus::ClientMetric::Label>;

class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, prometheus::MetricType type);

  // Room for `n` series (a caller that knows its count avoids regrowth).
  void Reserve(size_t n);

  // Counter, gauge: adds `value` to the series with `labels`.
  void Add(const Labels& labels, double value) { Add(Labels(labels), value); }
  void Add(Labels&& labels, double value);
  // Histogram: per-bucket (not cumulative) counts for `bounds` plus the
  // +Inf overflow, the sum and the count.
  void AddHistogram(const Labels& labels, const std::vector<double>& bounds,
                    const std::vector<uint64_t>& per_bucket, uint64_t overflow, double sum);

  bool empty() const { return family_.metric.empty(); }
  // Appends the family to `out` unless it has no series.
  void MoveTo(std::vector<prometheus::MetricFamily>& out);

 private:
  prometheus::ClientMetric& Series(Labels&& labels, bool* created);
  prometheus::MetricFamily family_;
  // Hash of a label set -> index of the first series with that hash; next_
  // chains further series with the same hash (collisions, compared exactly).
  absl::flat_hash_map<size_t, uint32_t> head_;
  std::vector<uint32_t> next_;
};

}  // namespace xskit::exporter
