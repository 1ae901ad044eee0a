// The xsk_steer_info layout version this build writes and reads, in a
// translation unit of its own: the upgrade tests' "next version" loader
// (xsk-loader-next, selftests/CMakeLists.txt) is xsk-loader linked with this
// one file compiled with XSKIT_INFO_VERSION_BUMP, and a package built with
// -DXSKIT_INFO_VERSION_BUMP=ON (scripts/package --info-version-bump, the
// system tier's build N+1) bumps it the same way. Test builds only: a real
// layout change edits bpf/xsk_steer.h.
#include "lib/xsk_steer_prog.h"

namespace xskit {

uint32_t SteerInfoVersion() {
#ifdef XSKIT_INFO_VERSION_BUMP
  return XSK_STEER_INFO_VERSION + 1;
#else
  return XSK_STEER_INFO_VERSION;
#endif
}

}  // namespace xskit
