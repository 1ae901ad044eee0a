// The probes' coverage: which variant (a way of measuring a group of
// signals) Resolve() in xsk_probes_prog.cc settled on, and the table built
// from it, per signal the mode and the reason. Declared here so that the
// unit tier can build every resolution the loader can reach and check that
// each reason survives the pinned info (InfoOf -> SignalsOf) byte for byte.
#pragma once

#include <string>
#include <vector>

#include "lib/xsk_probes_prog.h"

namespace xskit::probes_coverage {

enum Variant {
  kTxFentry, kTxTracepoint, kTxTracepointPlain, kPollFentry, kBusyFentry, kAllocFentry, kBulkFentry,
  kNapiFentry, kLatFentry, kDropsBtf, kDropsTracepoint, kDropsReasonsBtf,
  kDropsReasonsTracepoint, kXdpBtf, kXdpTracepoint, kZcTxFentry, kZcCompFentry, kZcRxFentry,
  kNrVariants,
};

struct Resolution {
  std::vector<Variant> enabled;
  std::string bulk_fn;
  std::string why[kNrVariants];  // why a variant is not used ("" = used)
};

// The longest reason a signal's info entry holds (its NUL excluded).
inline constexpr size_t kReasonMax = sizeof(xsk_probes_signal_info::reason) - 1;

// `reason` if it fits the info entry, else cut at the last word boundary
// that leaves room for "…". The one place a reason is shortened; every
// reason goes through it before anyone prints or pins it.
std::string FitReason(std::string reason);

// Per signal: the mode chosen and why.
std::vector<SignalMode> SignalTable(const Resolution& r);

// The info entry of `signals` (version, attach time, modes, reasons).
xsk_probes_info InfoOf(const std::vector<SignalMode>& signals);

}  // namespace xskit::probes_coverage
