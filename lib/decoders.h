// Map key fields to label values: one function per field, no state (the
// ebpf_exporter way; table-tested in selftests/decoders_test.cc). Every view
// (status, top, the exporter, xsk-bench) labels through these, so the same
// key reads the same everywhere; the forms are Prometheus labels.
#pragma once

#include <cstdint>
#include <string>

namespace xskit {

class DropReasons;

// "EAGAIN", "ENOBUFS", ... (sign ignored); "none" for 0 (a stall: no
// error); "errno_<n>" when libc has no name for it.
std::string ErrnoLabel(int err);

// XDP action: "aborted", "drop", "pass", "tx", "redirect"; "action_<n>"
// otherwise.
std::string XdpActionLabel(uint32_t action);

// enum xsk_probes_cause: "budget", "cq_full", ...; "other" for any value
// the table does not name.
std::string CauseLabel(uint32_t cause);

// enum xsk_probes_xdp_event: "redirect_err", "exception"; "event_<n>".
std::string XdpEventLabel(uint32_t event);

// The xdp_errors value as a label: an errno for a redirect error, an
// action for an exception.
std::string XdpValueLabel(uint32_t event, uint32_t value);

// A kfree_skb drop reason by its kernel BTF name ("NO_SOCKET",
// "OPENVSWITCH:OVS_DROP_LAST_ACTION"); "reason_<n>" without BTF names.
std::string DropReasonLabel(const DropReasons* reasons, uint32_t reason);

}  // namespace xskit
