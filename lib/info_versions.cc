// The info map layout versions this build writes and reads (xsk_steer_info's
// and xsk_probes_info's), in a translation unit of their own: the upgrade
// tests' "next version" loader (xsk-loader-next, selftests/CMakeLists.txt) is
// xsk-loader linked with this one file compiled with XSKIT_INFO_VERSION_BUMP,
// and a package built with -DXSKIT_INFO_VERSION_BUMP=ON (scripts/package
// --info-version-bump, the system tier's build N+1) bumps them the same way,
// so an upgrade to it migrates the steering pins and replaces the probe set.
// Test builds only: a real layout change edits bpf/xsk_steer.h or
// bpf/xsk_probes.h.
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"

namespace xskit {

#ifdef XSKIT_INFO_VERSION_BUMP
constexpr uint32_t kBump = 1;
#else
constexpr uint32_t kBump = 0;
#endif

uint32_t SteerInfoVersion() { return XSK_STEER_INFO_VERSION + kBump; }

uint32_t ProbesInfoVersion() { return XSK_PROBES_INFO_VERSION + kBump; }

}  // namespace xskit
