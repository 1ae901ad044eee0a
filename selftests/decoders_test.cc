// Tier `unit`: the decoders every view labels through (lib/decoders.h) and
// the enum tables that print and parse (lib/enums.h), as tables of input
// and wanted label (ebpf_exporter's decoder/*_test.go style), plus the
// snapshot's Delta, site names, counter lists and shared JSON rows.
#include <bpf/btf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "lib/decoders.h"
#include "lib/drop_reasons.h"
#include "lib/enums.h"
#include "lib/probe_counters.h"
#include "lib/probe_snapshot.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {
namespace {

TEST(Decoders, Errno) {
  struct Case {
    int in;
    const char* want;
  } cases[] = {
      {0, "none"},          {EAGAIN, "EAGAIN"},   {-ENOBUFS, "ENOBUFS"}, {ENXIO, "ENXIO"},
      {EBUSY, "EBUSY"},     {ENETDOWN, "ENETDOWN"}, {4000, "errno_4000"}, {-4000, "errno_4000"},
  };
  for (const auto& c : cases) EXPECT_EQ(ErrnoLabel(c.in), c.want) << "errno " << c.in;
}

TEST(Decoders, XdpAction) {
  struct Case {
    uint32_t in;
    const char* want;
  } cases[] = {{0, "aborted"}, {1, "drop"}, {2, "pass"}, {3, "tx"}, {4, "redirect"},
               {5, "action_5"}, {9, "action_9"}};
  for (const auto& c : cases) EXPECT_EQ(XdpActionLabel(c.in), c.want) << "action " << c.in;
}

TEST(Decoders, Cause) {
  struct Case {
    uint32_t in;
    const char* want;
  } cases[] = {{XSK_PROBES_CAUSE_OTHER, "other"},           {XSK_PROBES_CAUSE_BUDGET, "budget"},
               {XSK_PROBES_CAUSE_CQ_FULL, "cq_full"},       {XSK_PROBES_CAUSE_SNDBUF, "sndbuf_full"},
               {XSK_PROBES_CAUSE_DRIVER_BUSY, "driver_busy"}, {XSK_PROBES_CAUSE_ALLOC_FAIL, "alloc_fail"},
               {XSK_PROBES_CAUSE_XMIT_DROP, "xmit_drop"},   {XSK_PROBES_CAUSE_NOT_READY, "not_ready"},
               {XSK_PROBES_NR_CAUSES, "other"},             {99, "other"}};
  for (const auto& c : cases) {
    EXPECT_EQ(CauseLabel(c.in), c.want) << "cause " << c.in;
    EXPECT_EQ(CauseName(c.in), std::string(c.want)) << "CauseName prints from the same table";
  }
}

TEST(Decoders, XdpEventAndValue) {
  struct Case {
    uint32_t event, value;
    const char* want_event;
    const char* want_value;
  } cases[] = {
      {XSK_PROBES_XDP_REDIRECT_ERR, ENETDOWN, "redirect_err", "ENETDOWN"},
      {XSK_PROBES_XDP_REDIRECT_ERR, 4000, "redirect_err", "errno_4000"},
      {XSK_PROBES_XDP_EXCEPTION, 0, "exception", "aborted"},
      {XSK_PROBES_XDP_EXCEPTION, 7, "exception", "action_7"},
      {5, 1, "event_5", "drop"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(XdpEventLabel(c.event), c.want_event) << "event " << c.event;
    EXPECT_EQ(XdpValueLabel(c.event, c.value), c.want_value) << "event " << c.event << " value " << c.value;
  }
}

// A BTF with the kernel's two enums, as a kernel would carry them.
std::unique_ptr<btf, void (*)(btf*)> FakeDropBtf() {
  std::unique_ptr<btf, void (*)(btf*)> b(btf__new_empty(), btf__free);
  int core = btf__add_enum(b.get(), "skb_drop_reason", 4);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_NOT_SPECIFIED", 2);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_NO_SOCKET", 3);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_XDP", 90);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_MAX", 120);
  (void)core;
  btf__add_enum(b.get(), "skb_drop_reason_subsys", 4);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_SUBSYS_CORE", 0);
  btf__add_enum_value(b.get(), "SKB_DROP_REASON_SUBSYS_OPENVSWITCH", 3);
  btf__add_enum(b.get(), "ovs_drop_reason", 4);
  btf__add_enum_value(b.get(), "OVS_DROP_LAST_ACTION", (3u << 16) | 1);
  return b;
}

TEST(Decoders, DropReason) {
  auto b = FakeDropBtf();
  ASSERT_TRUE(b);
  DropReasons reasons = DropReasons::FromBtf(b.get());
  struct Case {
    uint32_t in;
    const char* want;
    const char* want_without_btf;
  } cases[] = {
      {3, "NO_SOCKET", "reason_3"},
      {90, "XDP", "reason_90"},
      {77, "reason_77", "reason_77"},
      {(3u << 16) | 1, "OPENVSWITCH:OVS_DROP_LAST_ACTION", "reason_196609"},
      {(3u << 16) | 9, "OPENVSWITCH:9", "reason_196617"},
      {(5u << 16) | 2, "SUBSYS_5:2", "reason_327682"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DropReasonLabel(&reasons, c.in), c.want) << "reason " << c.in;
    EXPECT_EQ(DropReasonLabel(nullptr, c.in), c.want_without_btf) << "reason " << c.in << " without BTF";
  }
}

// Each table prints and parses with the same rows: every name parses back
// to its value, no name twice, and the CLI map holds exactly the names.
template <typename E, size_t N>
void ExpectRoundTrip(const EnumName<E> (&table)[N], const char* what) {
  auto cli = CliMap(table);
  EXPECT_EQ(cli.size(), N) << what << ": a name appears twice";
  for (const auto& row : table) {
    EXPECT_EQ(ValueOf(table, row.name), row.value) << what << " " << row.name;
    EXPECT_STREQ(NameOf(table, row.value, "?"), row.name) << what;
    EXPECT_EQ(cli.at(row.name), row.value) << what;
  }
  EXPECT_FALSE(ValueOf(table, "no-such-name").has_value()) << what;
}

TEST(EnumTables, PrintAndParseFromOneTable) {
  ExpectRoundTrip(kOutcomeNames, "outcome");
  ExpectRoundTrip(kXdpModeNames, "xdp mode");
  ExpectRoundTrip(kCauseNames, "cause");
  ExpectRoundTrip(kProbeModeNames, "probe mode");
  ExpectRoundTrip(kXdpActionNames, "xdp action");
  ExpectRoundTrip(kXdpEventNames, "xdp event");
  EXPECT_STREQ(OutcomeName(XSK_STEER_PASS_NO_SOCKET), "pass_no_socket");
  EXPECT_STREQ(XdpModeName(XSK_STEER_MODE_GENERIC), "generic");
  EXPECT_STREQ(XdpModeName(7), "unknown");
  EXPECT_STREQ(ProbeModeName(XSK_PROBES_MODE_TP_BTF), "tp_btf");
  EXPECT_STREQ(ProbeModeName(42), "unavailable");
}

// ------------------------------------------------------------ snapshot

TEST(ProbeSnapshotTest, SitesByKnownNameOwnNetnsOrInode) {
  SiteResolver sites({{4026532001, 7, "veth0", "ns1"}, {4026532002, 9, "eth1", "ns2"}}, 4026531840);
  ProbeSite a = sites.Resolve(4026532001, 7);
  EXPECT_EQ(a.ifname, "veth0");
  EXPECT_EQ(a.netns, "ns1");
  EXPECT_TRUE(a.attached);
  EXPECT_EQ(a.Label(), "veth0@ns1");
  ProbeSite b = sites.Resolve(0, 9);
  EXPECT_EQ(b.Label(), "eth1@ns2") << "netns 0 (classic tracepoint): by ifindex when unambiguous";
  ProbeSite c = sites.Resolve(4026539999, 3);
  EXPECT_EQ(c.ifname, "if3");
  EXPECT_EQ(c.netns, "ns4026539999") << "an unnamed netns by inode";
  EXPECT_FALSE(c.attached);
  ProbeSite d = sites.Resolve(4026531840, 1);
  EXPECT_EQ(d.netns, "") << "the reader's own netns";
  EXPECT_EQ(d.ifname, "lo") << "own devices by if_indextoname";
  EXPECT_EQ(sites.Resolve(4026532001, 0).Label(), "-") << "no device";
}

TEST(ProbeSnapshotTest, DeltaByKeyWithResetsAndGauges) {
  SiteResolver sites({{11, 7, "veth0", "ns1"}}, 10);
  ProbeSite s = sites.Resolve(11, 7);
  ProbeSnapshot a, b;
  a.attached = b.attached = true;
  xsk_probes_tx t{};
  t.calls = 10;
  t.descs = 320;
  t.in_flight = 5;
  a.tx.push_back({s, 0, t});
  t.calls = 30;
  t.descs = 960;
  t.in_flight = 2;
  b.tx.push_back({s, 0, t});
  b.tx.push_back({s, 1, t});  // new queue: from zero
  a.tx_errors.push_back({s, 0, EAGAIN, XSK_PROBES_CAUSE_CQ_FULL, "EAGAIN", "cq_full", 4});
  b.tx_errors.push_back({s, 0, EAGAIN, XSK_PROBES_CAUSE_CQ_FULL, "EAGAIN", "cq_full", 4});  // no change
  b.tx_errors.push_back({s, 0, ENOBUFS, XSK_PROBES_CAUSE_ALLOC_FAIL, "ENOBUFS", "alloc_fail", 2});
  a.drops.push_back({s, 3, false, "NO_SOCKET", 100});
  b.drops.push_back({s, 3, false, "NO_SOCKET", 40});  // went backwards: reset, from zero
  b.xdp_errors.push_back({s, XSK_PROBES_XDP_EXCEPTION, 0, "exception", "aborted", 6});
  a.alloc = xsk_probes_alloc{1, 2, 3, 4};
  b.alloc = xsk_probes_alloc{2, 4, 6, 8};
  ProbeSnapshot d = b.Delta(a);
  ASSERT_EQ(d.tx.size(), 2u);
  EXPECT_EQ(d.tx[0].tx.calls, 20u);
  EXPECT_EQ(d.tx[0].tx.descs, 640u);
  EXPECT_EQ(d.tx[0].tx.in_flight, 2u) << "gauges as of the newer snapshot";
  EXPECT_EQ(d.tx[1].tx.calls, 30u) << "a new row counts from zero";
  ASSERT_EQ(d.tx_errors.size(), 1u) << "rows with nothing new are left out";
  EXPECT_EQ(d.tx_errors[0].errno_label, "ENOBUFS");
  ASSERT_EQ(d.drops.size(), 1u);
  EXPECT_EQ(d.drops[0].skbs, 40u) << "reset";
  ASSERT_EQ(d.xdp_errors.size(), 1u);
  EXPECT_EQ(d.xdp_errors[0].events, 6u);
  EXPECT_EQ(d.alloc->bulk_objs, 2u);
  EXPECT_EQ(d.alloc->napi_build_fail, 4u);
}

TEST(ProbeSnapshotTest, ZeroCopyRowsDeltaAndFilterByKey) {
  SiteResolver sites({{11, 7, "eth1", ""}, {11, 8, "eth2", ""}}, 10);
  ProbeSnapshot a, b;
  a.attached = b.attached = true;
  xsk_probes_zc z{};
  z.tx_batches = 5;
  z.tx_descs = 40;
  z.tx_hist[4] = 5;
  z.completions = 32;
  z.rx_alloc_frames = 100;
  a.zc.push_back({sites.Resolve(11, 7), 2, z});
  z.tx_batches = 9;
  z.tx_descs = 104;
  z.tx_hist[4] = 9;
  z.completions = 104;
  z.rx_alloc_frames = 90;  // went backwards: a re-attach, from zero
  b.zc.push_back({sites.Resolve(11, 7), 2, z});
  b.zc.push_back({sites.Resolve(11, 8), 0, z});
  ProbeSnapshot d = b.Delta(a);
  ASSERT_EQ(d.zc.size(), 2u);
  EXPECT_EQ(d.zc[0].zc.tx_batches, 4u);
  EXPECT_EQ(d.zc[0].zc.tx_descs, 64u);
  EXPECT_EQ(d.zc[0].zc.tx_hist[4], 4u);
  EXPECT_EQ(d.zc[0].zc.completions, 72u);
  EXPECT_EQ(d.zc[0].zc.rx_alloc_frames, 90u) << "reset";
  EXPECT_EQ(d.zc[1].zc.tx_descs, 104u) << "a new row counts from zero";
  ProbeSnapshot f = b.Filter([](const ProbeSite& s) { return s.ifname == "eth2"; });
  ASSERT_EQ(f.zc.size(), 1u);
  EXPECT_EQ(f.zc[0].site.ifindex, 8u);
}

// Every counter of a probe value is in its one list (lib/probe_counters.h)
// once: a field added to bpf/xsk_probes.h and not listed would be neither
// summed over CPUs nor subtracted by Delta(). All four values hold __u64
// counters first; xsk_probes_tx's gauges follow from gauge_ns.
TEST(ProbeCountersTest, EachValueListsEveryCounterOnce) {
  auto listed = [](auto v) {
    std::set<const void*> seen;
    size_t calls = 0;
    auto w = v;
    ForEachCounter(v, w, [&](auto& a, auto) {
      seen.insert(&a);
      calls++;
    });
    return std::make_pair(seen.size(), calls);
  };
  constexpr size_t kU64 = sizeof(__u64);
  EXPECT_EQ(listed(xsk_probes_tx{}), std::make_pair(offsetof(xsk_probes_tx, gauge_ns) / kU64,
                                                    offsetof(xsk_probes_tx, gauge_ns) / kU64));
  EXPECT_EQ(listed(xsk_probes_zc{}),
            std::make_pair(sizeof(xsk_probes_zc) / kU64, sizeof(xsk_probes_zc) / kU64));
  EXPECT_EQ(listed(xsk_probes_latency{}),
            std::make_pair(sizeof(xsk_probes_latency) / kU64, sizeof(xsk_probes_latency) / kU64));
  EXPECT_EQ(listed(xsk_probes_alloc{}),
            std::make_pair(sizeof(xsk_probes_alloc) / kU64, sizeof(xsk_probes_alloc) / kU64));
  xsk_probes_tx a{}, b{};
  a.calls = 1;
  a.in_flight = 3;
  b.calls = 2;
  b.hist[XSK_PROBES_BATCH_BUCKETS - 1] = 5;
  b.in_flight = 7;
  AddCounters(a, b);
  EXPECT_EQ(a.calls, 3u);
  EXPECT_EQ(a.hist[XSK_PROBES_BATCH_BUCKETS - 1], 5u);
  EXPECT_EQ(a.in_flight, 3u) << "gauges are not counters: the reader takes the newest";
}

// status --json and xsk-bench --json render zero-copy, drop, sendmsg error
// and XDP error rows through the same functions: the same names, and only
// the counters of the signals the caller has.
TEST(ProbeSnapshotTest, SharedJsonRowsNameEachFieldOnce) {
  SiteResolver sites({{11, 7, "eth1", "ns1"}}, 10);
  xsk_probes_zc z{};
  z.tx_batches = 3;
  z.wakeups_poll = 4;
  z.rx_alloc_calls = 5;
  z.rx_alloc_frames = 6;
  ProbeZcRow row{sites.Resolve(11, 7), 2, z};
  nlohmann::json all = ZcRowJson(row, [](xsk_probes_signal) { return true; });
  EXPECT_EQ(all.size(), 14u) << "the queue and every counter but the histogram: " << all.dump();
  EXPECT_EQ(all["queue"], 2);
  EXPECT_EQ(all["tx_batches"], 3);
  EXPECT_EQ(all["wakeups_poll"], 4);
  EXPECT_EQ(all["fill_takes"], 5) << "rx_alloc_calls: takes from the fill ring";
  EXPECT_EQ(all["fill_buffers"], 6) << "rx_alloc_frames: buffers obtained";
  nlohmann::json fill = ZcRowJson(row, [](xsk_probes_signal s) {
    return s == XSK_PROBES_SIG_ZC_RX_FILL || s == XSK_PROBES_SIG_ZC_WAKEUPS;
  });
  std::set<std::string> keys;
  for (const auto& [k, v] : fill.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"queue", "wakeups_sendmsg", "fill_takes", "fill_wanted",
                                          "fill_buffers", "fill_short", "fill_empty"}))
      << "wakeups_poll only with poll_tx: " << fill.dump();
  nlohmann::json drop = DropRowJson({sites.Resolve(11, 7), 3, true, "NO_SOCKET", 9});
  EXPECT_EQ(drop, (nlohmann::json{{"netns_ino", 11}, {"ifindex", 7}, {"ifname", "eth1"},
                                  {"netns", "ns1"}, {"reason", 3}, {"reason_name", "NO_SOCKET"},
                                  {"xsk", true}, {"skbs", 9}}));
  // A sendmsg error and an XDP error: the errno (or action) by number and
  // by name, the same keys in every view.
  nlohmann::json err = TxErrorRowJson({sites.Resolve(11, 7), 1, EAGAIN, XSK_PROBES_CAUSE_CQ_FULL,
                                       ErrnoLabel(EAGAIN), CauseLabel(XSK_PROBES_CAUSE_CQ_FULL), 4});
  EXPECT_EQ(err, (nlohmann::json{{"netns_ino", 11}, {"ifindex", 7}, {"ifname", "eth1"},
                                 {"netns", "ns1"}, {"queue", 1}, {"errno", EAGAIN},
                                 {"errno_name", "EAGAIN"}, {"cause", "cq_full"}, {"calls", 4}}));
  nlohmann::json redirect = XdpErrorRowJson({sites.Resolve(11, 7), XSK_PROBES_XDP_REDIRECT_ERR, ENOSPC,
                                             XdpEventLabel(XSK_PROBES_XDP_REDIRECT_ERR),
                                             XdpValueLabel(XSK_PROBES_XDP_REDIRECT_ERR, ENOSPC), 5});
  EXPECT_EQ(redirect, (nlohmann::json{{"netns_ino", 11}, {"ifindex", 7}, {"ifname", "eth1"},
                                      {"netns", "ns1"}, {"event", "redirect_err"}, {"errno", ENOSPC},
                                      {"errno_name", "ENOSPC"}, {"events", 5}}))
      << "a redirect error's value is an errno";
  nlohmann::json exception = XdpErrorRowJson({sites.Resolve(0, 0), XSK_PROBES_XDP_EXCEPTION, 0,
                                              XdpEventLabel(XSK_PROBES_XDP_EXCEPTION),
                                              XdpValueLabel(XSK_PROBES_XDP_EXCEPTION, 0), 6});
  EXPECT_EQ(exception, (nlohmann::json{{"netns_ino", 0}, {"ifindex", 0}, {"ifname", ""},
                                       {"netns", ""}, {"event", "exception"}, {"action", 0},
                                       {"action_name", "aborted"}, {"events", 6}}))
      << "an exception's value is an XDP action (0: aborted); no device: ifindex 0";
}

}  // namespace
}  // namespace xskit
