// The name tables of the enums the shared BPF headers define: each one
// prints (OutcomeName, XdpModeName, CauseName, ProbeModeName, the decoders
// of lib/decoders.h) and parses (CLI flags through CliMap) from the same
// rows (lib/enum_table.h). A name here is a label in every view: status,
// top, the exporter and xsk-bench.
#pragma once

#include <linux/types.h>

#include "bpf/xsk_probes.h"
#include "bpf/xsk_steer.h"
#include "lib/enum_table.h"

namespace xskit {

// xsk_steer's per-queue outcome: the `outcome` label, status' columns.
inline constexpr EnumName<xsk_steer_outcome> kOutcomeNames[] = {
    {XSK_STEER_REDIRECTED, "redirected"},
    {XSK_STEER_PASS_NO_SOCKET, "pass_no_socket"},
    {XSK_STEER_PASS_NO_MATCH, "pass_no_match"},
    {XSK_STEER_REDIRECT_FAILED, "redirect_failed"},
};

// The XDP mode an attach recorded (steer_info.xdp_mode): the `mode` label.
inline constexpr EnumName<xsk_steer_xdp_mode> kXdpModeNames[] = {
    {XSK_STEER_MODE_NATIVE, "native"},
    {XSK_STEER_MODE_GENERIC, "generic"},
};

// Why a sendmsg failed: the `cause` label (docs/DESIGN.md).
inline constexpr EnumName<xsk_probes_cause> kCauseNames[] = {
    {XSK_PROBES_CAUSE_OTHER, "other"},
    {XSK_PROBES_CAUSE_BUDGET, "budget"},
    {XSK_PROBES_CAUSE_CQ_FULL, "cq_full"},
    {XSK_PROBES_CAUSE_SNDBUF, "sndbuf_full"},
    {XSK_PROBES_CAUSE_DRIVER_BUSY, "driver_busy"},
    {XSK_PROBES_CAUSE_ALLOC_FAIL, "alloc_fail"},
    {XSK_PROBES_CAUSE_XMIT_DROP, "xmit_drop"},
    {XSK_PROBES_CAUSE_NOT_READY, "not_ready"},
};

// How a probe signal is measured: the `mode` label of xsk_probe_coverage.
inline constexpr EnumName<xsk_probes_mode> kProbeModeNames[] = {
    {XSK_PROBES_MODE_UNAVAILABLE, "unavailable"},
    {XSK_PROBES_MODE_FENTRY, "fentry"},
    {XSK_PROBES_MODE_TP_BTF, "tp_btf"},
    {XSK_PROBES_MODE_TRACEPOINT, "tracepoint"},
    {XSK_PROBES_MODE_DISABLED, "disabled"},
};

// The XDP program's verdicts (enum xdp_action, uapi): the `action` label of
// xsk_xdp_exceptions_total, lower case as Prometheus labels are.
enum class XdpAction : uint32_t { kAborted = 0, kDrop = 1, kPass = 2, kTx = 3, kRedirect = 4 };
inline constexpr EnumName<XdpAction> kXdpActionNames[] = {
    {XdpAction::kAborted, "aborted"}, {XdpAction::kDrop, "drop"},
    {XdpAction::kPass, "pass"},       {XdpAction::kTx, "tx"},
    {XdpAction::kRedirect, "redirect"},
};

// The kind of an xdp_errors row: the `event` field of status and xsk-bench.
inline constexpr EnumName<xsk_probes_xdp_event> kXdpEventNames[] = {
    {XSK_PROBES_XDP_REDIRECT_ERR, "redirect_err"},
    {XSK_PROBES_XDP_EXCEPTION, "exception"},
};

}  // namespace xskit
