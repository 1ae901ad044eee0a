// Tier `unit`: the probes' coverage reasons survive the pinned info entry.
// For every resolution the loader can reach (Tx by fentry, by tracepoint
// with plain loads or with probe reads; drops by interface, by reason or
// off, each by tp_btf or tracepoint; XDP errors by tp_btf or tracepoint;
// the other fentry variants and the zero-copy driver API present or not;
// latency on, off or refused), with every refused variant's `why` as long
// as the loader can make it, the reason read back from the info entry
// (InfoOf -> SignalsOf, the path of status, top and the exporter) is the
// reason SignalTable built (what attach prints), byte for byte, and none
// had to be shortened.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/xsk_probes_coverage.h"
#include "lib/xsk_probes_prog.h"

namespace xskit::probes_coverage {
namespace {

// The longest `why` Resolve() can record for a refused variant: a BTF
// lookup of the longest function list, a skeleton open or a trial load
// failing with the longest error text this libc has, or a mode/flag text.
std::string LongestWhy() {
  std::string longest_errno;
  for (int e = 1; e < 4096; e++) {
    std::string t = absl::StrCat(std::strerror(e), " (", e, ")");
    if (t.size() > longest_errno.size()) longest_errno = t;
  }
  const std::string candidates[] = {
      "kmem_cache_alloc_bulk_noprof|kmem_cache_alloc_bulk is not in this kernel's BTF",
      "xsk_tx_peek_release_desc_batch is not in this kernel's BTF",
      "fentry not requested (tracepoint mode)",
      absl::StrCat("trial load: ", longest_errno),
      "trial load: EPERM (the kernel refuses it here)",
      absl::StrCat("open xsk_probes skeleton: ", longest_errno),
      "probe reads requested (--mode tracepoint-probe-read)",
      "off by default (per-skb hash work); enable with --latency",
      "off (--drops=off)",
  };
  std::string w;
  for (const auto& c : candidates)
    if (c.size() > w.size()) w = c;
  return w;
}

enum class Tx { kFentry, kPlain, kProbeRead };
enum class Drops { kBtf, kTracepoint, kReasonsBtf, kReasonsTracepoint, kOff };
enum class Latency { kOn, kOffByDefault, kRefused };

Resolution Make(Tx tx, Drops drops, bool xdp_btf, bool fentry_rest, Latency lat) {
  Resolution r;
  r.bulk_fn = "kmem_cache_alloc_bulk_noprof";
  const std::string why = LongestWhy();
  for (auto& w : r.why) w = why;
  auto use = [&](Variant v) {
    r.enabled.push_back(v);
    r.why[v].clear();
  };
  switch (tx) {
    case Tx::kFentry: use(kTxFentry); break;
    case Tx::kPlain: use(kTxTracepointPlain); break;
    case Tx::kProbeRead:
      use(kTxTracepoint);
      r.why[kTxTracepointPlain] = "probe reads requested (--mode tracepoint-probe-read)";
      break;
  }
  if (fentry_rest)
    for (Variant v : {kPollFentry, kBusyFentry, kAllocFentry, kBulkFentry, kNapiFentry, kZcTxFentry,
                      kZcCompFentry, kZcRxFentry})
      use(v);
  switch (lat) {
    case Latency::kOn: use(kLatFentry); break;
    case Latency::kOffByDefault:
      r.why[kLatFentry] = "off by default (per-skb hash work); enable with --latency";
      break;
    case Latency::kRefused: break;
  }
  switch (drops) {
    case Drops::kBtf: use(kDropsBtf); break;
    case Drops::kTracepoint: use(kDropsTracepoint); break;
    case Drops::kReasonsBtf: use(kDropsReasonsBtf); r.why[kDropsBtf].clear(); break;
    case Drops::kReasonsTracepoint: use(kDropsReasonsTracepoint); break;
    case Drops::kOff: r.why[kDropsBtf] = r.why[kDropsReasonsBtf] = "off (--drops=off)"; break;
  }
  use(xdp_btf ? kXdpBtf : kXdpTracepoint);
  return r;
}

TEST(ProbesCoverage, EveryReachableReasonReadsBackWhole) {
  size_t longest = 0, cases = 0;
  std::string longest_reason;
  for (Tx tx : {Tx::kFentry, Tx::kPlain, Tx::kProbeRead})
    for (Drops d : {Drops::kBtf, Drops::kTracepoint, Drops::kReasonsBtf, Drops::kReasonsTracepoint,
                    Drops::kOff})
      for (bool xdp_btf : {true, false})
        for (bool rest : {true, false})
          for (Latency lat : {Latency::kOn, Latency::kOffByDefault, Latency::kRefused}) {
            cases++;
            const std::vector<SignalMode> built = SignalTable(Make(tx, d, xdp_btf, rest, lat));
            ASSERT_EQ(built.size(), size_t{XSK_PROBES_NR_SIGNALS});
            const xsk_probes_info info = InfoOf(built);
            EXPECT_EQ(info.version, ProbesInfoVersion());
            const std::vector<SignalMode> read = SignalsOf(info);
            ASSERT_EQ(read.size(), built.size());
            for (size_t i = 0; i < built.size(); i++) {
              const std::string where =
                  absl::StrCat("case ", cases, " signal ", SignalName(built[i].signal));
              EXPECT_EQ(read[i].signal, built[i].signal) << where;
              EXPECT_EQ(read[i].mode, built[i].mode) << where;
              EXPECT_EQ(read[i].reason, built[i].reason) << where;
              EXPECT_FALSE(built[i].reason.empty()) << where << ": no reason";
              // Not shortened: a reachable reason fits as it was written.
              EXPECT_LT(built[i].reason.size(), kReasonMax) << where << ": " << built[i].reason;
              EXPECT_EQ(built[i].reason.find("\u2026"), std::string::npos)
                  << where << " was shortened: " << built[i].reason;
              if (built[i].reason.size() > longest) {
                longest = built[i].reason.size();
                longest_reason = built[i].reason;
              }
            }
          }
  EXPECT_EQ(cases, 3u * 5 * 2 * 2 * 3);
  // For the record (and the margin): the longest reason of all.
  std::printf("longest reason: %zu of %zu bytes: %s\n", longest, kReasonMax, longest_reason.c_str());
}

TEST(ProbesCoverage, AReasonTooLongIsCutAtAWordOnce) {
  std::string words;
  while (words.size() < 2 * kReasonMax) absl::StrAppend(&words, "word", words.size(), " ");
  const std::string fit = FitReason(words);
  EXPECT_LE(fit.size(), kReasonMax);
  ASSERT_GE(fit.size(), kReasonMax - 16) << "cut far too early: " << fit;
  const std::string ellipsis = "\u2026";
  EXPECT_EQ(fit.substr(fit.size() - ellipsis.size()), ellipsis) << fit;
  const std::string kept = fit.substr(0, fit.size() - ellipsis.size());
  // At a word boundary: what is kept is a prefix ending before a space.
  EXPECT_EQ(words.compare(0, kept.size(), kept), 0) << fit;
  EXPECT_EQ(words[kept.size()], ' ') << fit;
  // Fitting is final: fitting again, and the info entry, keep it as it is.
  EXPECT_EQ(FitReason(fit), fit);
  std::vector<SignalMode> signals(XSK_PROBES_NR_SIGNALS);
  for (int i = 0; i < XSK_PROBES_NR_SIGNALS; i++)
    signals[i] = SignalMode{static_cast<xsk_probes_signal>(i), XSK_PROBES_MODE_TRACEPOINT, words};
  for (const auto& s : SignalsOf(InfoOf(signals))) EXPECT_EQ(s.reason, fit);
  // One that fits is untouched, up to the last byte of room.
  const std::string exact(kReasonMax, 'x');
  EXPECT_EQ(FitReason(exact), exact);
  signals[0].reason = exact;
  EXPECT_EQ(SignalsOf(InfoOf(signals))[0].reason, exact);
}

}  // namespace
}  // namespace xskit::probes_coverage
