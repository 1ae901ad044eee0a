// Reading per-CPU BPF maps from user space: the CPU count libbpf sizes
// per-CPU values by, whole per-CPU hash maps summed over CPUs, and whole
// per-CPU arrays CPU by CPU. The only place that issues
// BPF_MAP_LOOKUP_BATCH on a per-CPU map.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524  // the kernel's internal "not supported"
#endif

namespace xskit {

inline int NumPossibleCpus() {
  int n = libbpf_num_possible_cpus();
  return n > 0 ? n : 1;
}

// Every entry of a per-CPU hash map, summed over CPUs with `add`. Read in
// batches (BPF_MAP_LOOKUP_BATCH: one syscall per 256 entries, which keeps
// a scrape of many queues and drop reasons short); element by element
// where the kernel refuses batches.
template <typename K, typename V>
absl::StatusOr<std::vector<std::pair<K, V>>> ReadPerCpuHash(
    int fd, const char* what, const std::function<void(V&, const V&)>& add) {
  static_assert(sizeof(V) % 8 == 0, "per-CPU values are laid out in 8-byte steps");
  const int cpus = NumPossibleCpus();
  std::vector<std::pair<K, V>> out;
  auto sum_of = [&](const V* per_cpu) {
    V sum{};
    for (int c = 0; c < cpus; c++) add(sum, per_cpu[c]);
    return sum;
  };

  constexpr uint32_t kChunk = 256;
  std::vector<K> keys(kChunk);
  std::vector<V> values(static_cast<size_t>(kChunk) * cpus);
  uint64_t in_batch = 0, out_batch = 0;  // the kernel's cursor (a bucket index for hash maps)
  bool first = true;
  while (true) {
    uint32_t count = kChunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                   values.data(), &count, &opts);
    int e = err ? errno : 0;
    if (err && e != ENOENT) {
      if (first && (e == EINVAL || e == ENOTSUPP || e == EOPNOTSUPP || e == ENOSPC)) break;
      return ErrnoError(absl::StrCat("read ", what, " (batch)"), e);
    }
    for (uint32_t i = 0; i < count; i++)
      out.emplace_back(keys[i], sum_of(&values[static_cast<size_t>(i) * cpus]));
    if (e == ENOENT) return out;  // that was the last batch
    in_batch = out_batch;
    first = false;
  }

  // Element by element.
  std::vector<V> per_cpu(cpus);
  K key{}, next{};
  const K* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (bpf_map_lookup_elem(fd, &next, per_cpu.data()) == 0) {
      out.emplace_back(next, sum_of(per_cpu.data()));
    } else if (errno != ENOENT) {
      return ErrnoError(absl::StrCat("read ", what), errno);
    }
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return ErrnoError(absl::StrCat("walk ", what), errno);
  return out;
}

// Every CPU's value of every index of a per-CPU array of `entries`
// entries: value of index i on CPU c at [i * NumPossibleCpus() + c]. One
// BPF_MAP_LOOKUP_BATCH for the whole array; index by index where the
// kernel has no batch operation for arrays.
template <typename V>
absl::StatusOr<std::vector<V>> ReadPerCpuArray(int fd, uint32_t entries, const char* what) {
  static_assert(sizeof(V) % 8 == 0, "per-CPU values are laid out in 8-byte steps");
  const size_t cpus = static_cast<size_t>(NumPossibleCpus());
  std::vector<V> values(entries * cpus);
  std::vector<uint32_t> keys(entries);
  uint32_t count = entries, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  bool batched = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), values.data(),
                                      &count, &opts) == 0 ||
                 (errno == ENOENT && count == entries);
  if (batched) {
    // The kernel returns indexes in order from 0; reorder defensively.
    bool in_order = true;
    for (uint32_t i = 0; i < count; i++) in_order = in_order && keys[i] == i;
    if (in_order) return values;
    std::vector<V> sorted(entries * cpus);
    for (uint32_t i = 0; i < count; i++)
      if (keys[i] < entries)
        std::copy_n(&values[i * cpus], cpus, &sorted[keys[i] * cpus]);
    return sorted;
  }
  for (uint32_t i = 0; i < entries; i++)
    if (bpf_map_lookup_elem(fd, &i, &values[i * cpus]) != 0)
      return ErrnoError(absl::StrCat("read ", what, " index ", i), errno);
  return values;
}

}  // namespace xskit
