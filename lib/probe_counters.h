// The counters of each probe value (bpf/xsk_probes.h), listed once: the
// reader sums them over CPUs (xsk_probes_read.cc) and a snapshot's Delta()
// subtracts them (probe_snapshot.cc). Gauges (xsk_probes_tx's gauge_ns,
// cq_size, cq_pending, in_flight, tx_budget) are no counters: not visited.
#pragma once

#include <linux/types.h>

#include <cstdint>

#include "bpf/xsk_probes.h"

namespace xskit {

// f(a.c, b.c) for every counter c of `a` and `b`, arrays element by element.
template <typename F>
void ForEachCounter(uint64_t& a, const uint64_t& b, F&& f) {
  f(a, b);
}

template <typename F>
void ForEachCounter(xsk_probes_tx& a, const xsk_probes_tx& b, F&& f) {
  f(a.calls, b.calls);
  f(a.descs, b.descs);
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++) f(a.hist[i], b.hist[i]);
  f(a.errors, b.errors);
  f(a.stalls, b.stalls);
  f(a.linear_skbs, b.linear_skbs);
  f(a.frag_skbs, b.frag_skbs);
  f(a.alloc_fail, b.alloc_fail);
  f(a.xmit_busy, b.xmit_busy);
  f(a.poll_calls, b.poll_calls);
  f(a.poll_descs, b.poll_descs);
}

template <typename F>
void ForEachCounter(xsk_probes_latency& a, const xsk_probes_latency& b, F&& f) {
  for (int i = 0; i < XSK_PROBES_LAT_BUCKETS; i++) f(a.hist[i], b.hist[i]);
  f(a.count, b.count);
  f(a.sum_ns, b.sum_ns);
}

template <typename F>
void ForEachCounter(xsk_probes_zc& a, const xsk_probes_zc& b, F&& f) {
  f(a.tx_batches, b.tx_batches);
  f(a.tx_descs, b.tx_descs);
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++) f(a.tx_hist[i], b.tx_hist[i]);
  f(a.completion_calls, b.completion_calls);
  f(a.completions, b.completions);
  f(a.wakeups_sendmsg, b.wakeups_sendmsg);
  f(a.wakeups_poll, b.wakeups_poll);
  f(a.sendmsg_need_wakeup, b.sendmsg_need_wakeup);
  f(a.sendmsg_no_need_wakeup, b.sendmsg_no_need_wakeup);
  f(a.rx_alloc_calls, b.rx_alloc_calls);
  f(a.rx_alloc_wanted, b.rx_alloc_wanted);
  f(a.rx_alloc_frames, b.rx_alloc_frames);
  f(a.rx_alloc_short, b.rx_alloc_short);
  f(a.rx_alloc_empty, b.rx_alloc_empty);
}

template <typename F>
void ForEachCounter(xsk_probes_alloc& a, const xsk_probes_alloc& b, F&& f) {
  f(a.bulk_calls, b.bulk_calls);
  f(a.bulk_objs, b.bulk_objs);
  f(a.napi_build_skb, b.napi_build_skb);
  f(a.napi_build_fail, b.napi_build_fail);
}

// a += b, counter by counter (one CPU's value into the sum).
template <typename V>
void AddCounters(V& a, const V& b) {
  ForEachCounter(a, b, [](auto& x, auto y) { x += y; });
}

}  // namespace xskit
