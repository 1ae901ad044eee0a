#include "exporter/families.h"

#include <limits>

namespace xskit::exporter {

FamilyBuilder::FamilyBuilder(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

prometheus::ClientMetric& FamilyBuilder::Series(const Labels& labels, bool* created) {
  auto [it, inserted] = index_.emplace(labels, family_.metric.size());
  *created = inserted;
  if (inserted) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    family_.metric.push_back(std::move(m));
  }
  return family_.metric[it->second];
}

void FamilyBuilder::Add(const Labels& labels, double value) {
  bool created = false;
  auto& m = Series(labels, &created);
  switch (family_.type) {
    case prometheus::MetricType::Counter: m.counter.value += value; break;
    case prometheus::MetricType::Gauge: m.gauge.value += value; break;
    default: m.untyped.value += value; break;
  }
}

void FamilyBuilder::AddHistogram(const Labels& labels, const std::vector<double>& bounds,
                                 const std::vector<uint64_t>& per_bucket, uint64_t overflow,
                                 double sum) {
  bool created = false;
  auto& h = Series(labels, &created).histogram;
  if (created) {
    for (double b : bounds) h.bucket.push_back({0, b});
    h.bucket.push_back({0, std::numeric_limits<double>::infinity()});
  }
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); i++) {
    cumulative += i < per_bucket.size() ? per_bucket[i] : 0;
    h.bucket[i].cumulative_count += cumulative;
  }
  cumulative += overflow;
  h.bucket.back().cumulative_count += cumulative;
  h.sample_count += cumulative;
  h.sample_sum += sum;
}

void FamilyBuilder::MoveTo(std::vector<prometheus::MetricFamily>& out) {
  if (index_.empty()) return;
  out.push_back(std::move(family_));
  index_.clear();
}

}  // namespace xskit::exporter
