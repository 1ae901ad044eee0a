// The AF_XDP device plugin's conventional paths, which DPDK's af_xdp PMD
// (23.03+) and CNDP use by default:
//   /tmp/afxdp_dp/<iface>/xsks_map    use_pinned_map=1: bpf_obj_get() of the XSKMAP
//   /tmp/afxdp_dp/<iface>/afxdp.sock  use_cni=1: the handshake (loader/serve.h)
//   /tmp/afxdp.sock                   use_cni=1 before DPDK 23.11.2 (fixed path)
//
// xskit's pin of the XSKMAP stays the only one (docs/DESIGN.md, pin layout):
// `attach --dp-pin` puts a symlink to it at .../xsks_map (bpf_obj_get follows
// it), and detach removes that symlink with the pin. A bpffs mounted on the
// directory instead would hold a second reference for detach to find, and
// bpffs cannot hold the handshake's Unix socket that shares the directory.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace xskit {

inline constexpr const char* kDpBaseDir = "/tmp/afxdp_dp";
inline constexpr const char* kDpLegacySocket = "/tmp/afxdp.sock";

std::string DpIfaceDir(const std::string& ifname);    // /tmp/afxdp_dp/<iface>
std::string DpMapPath(const std::string& ifname);     // .../xsks_map
std::string DpSocketPath(const std::string& ifname);  // .../afxdp.sock

// Creates /tmp/afxdp_dp/<iface> (0755). Refuses a base or interface
// directory that another user owns or that others may write to: whoever
// controls it could point DPDK at their own map or socket.
absl::Status MakeDpIfaceDir(const std::string& ifname);

// Whether .../xsks_map may become a symlink to `pin`: free, already that
// link, or a dangling one (a leftover). Anything else is someone else's and
// needs `force` (ExitCode::kForeignProgram otherwise).
absl::Status CheckDpMapFree(const std::string& ifname, const std::string& pin, bool force);

// Points .../xsks_map at `pin` (replacing whatever CheckDpMapFree allowed).
absl::Status LinkDpMap(const std::string& ifname, const std::string& pin);

// Removes .../xsks_map if it points at `pin`, and the interface directory
// when that leaves it empty. Returns whether a link was removed.
bool UnlinkDpMap(const std::string& ifname, const std::string& pin);

}  // namespace xskit
