#include "exporter/families.h"

#include <limits>

#include "absl/hash/hash.h"

namespace xskit::exporter {
namespace {

constexpr uint32_t kEnd = std::numeric_limits<uint32_t>::max();

size_t HashLabels(const Labels& labels) {
  size_t h = labels.size();
  for (const auto& l : labels) h = absl::HashOf(h, l.name, l.value);
  return h;
}

}  // namespace

FamilyBuilder::FamilyBuilder(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

void FamilyBuilder::Reserve(size_t n) {
  family_.metric.reserve(n);
  next_.reserve(n);
  head_.reserve(n);
}

prometheus::ClientMetric& FamilyBuilder::Series(Labels&& labels, bool* created) {
  size_t h = HashLabels(labels);
  auto [it, inserted] = head_.try_emplace(h, static_cast<uint32_t>(family_.metric.size()));
  if (!inserted) {
    uint32_t i = it->second, last = i;
    for (; i != kEnd; last = i, i = next_[i]) {
      if (family_.metric[i].label == labels) {
        *created = false;
        return family_.metric[i];
      }
    }
    next_[last] = static_cast<uint32_t>(family_.metric.size());
  }
  *created = true;
  next_.push_back(kEnd);
  prometheus::ClientMetric& m = family_.metric.emplace_back();
  m.label = std::move(labels);
  return m;
}

void FamilyBuilder::Add(Labels&& labels, double value) {
  bool created = false;
  auto& m = Series(std::move(labels), &created);
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
  auto& h = Series(Labels(labels), &created).histogram;
  if (created) {
    h.bucket.reserve(bounds.size() + 1);
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
  if (family_.metric.empty()) return;
  out.push_back(std::move(family_));
  family_.metric.clear();
  head_.clear();
  next_.clear();
}

}  // namespace xskit::exporter
