#include "lib/decoders.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/drop_reasons.h"
#include "lib/enums.h"

namespace xskit {

std::string ErrnoLabel(int err) {
  if (err == 0) return "none";
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  return name ? name : absl::StrCat("errno_", err);
}

std::string XdpActionLabel(uint32_t action) {
  const char* n = NameOf(kXdpActionNames, static_cast<XdpAction>(action), nullptr);
  return n ? n : absl::StrCat("action_", action);
}

std::string CauseLabel(uint32_t cause) {
  return NameOf(kCauseNames, static_cast<xsk_probes_cause>(cause), "other");
}

std::string XdpEventLabel(uint32_t event) {
  const char* n = NameOf(kXdpEventNames, static_cast<xsk_probes_xdp_event>(event), nullptr);
  return n ? n : absl::StrCat("event_", event);
}

std::string XdpValueLabel(uint32_t event, uint32_t value) {
  return event == XSK_PROBES_XDP_REDIRECT_ERR ? ErrnoLabel(static_cast<int>(value))
                                              : XdpActionLabel(value);
}

std::string DropReasonLabel(const DropReasons* reasons, uint32_t reason) {
  return reasons ? reasons->Name(reason) : absl::StrCat("reason_", reason);
}

}  // namespace xskit
