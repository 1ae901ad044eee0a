// Names of kfree_skb drop reasons, read at run time from the running
// kernel's BTF (enum skb_drop_reason), never from a table compiled into
// xskit: a new kernel's new reasons appear by name. Subsystem reasons (the
// subsystem id in bits 16-31, enum skb_drop_reason_subsys) are named from
// the subsystem's own "*drop_reason" enum, in vmlinux or a loaded module's
// BTF (/sys/kernel/btf/<module>), e.g. "OPENVSWITCH:OVS_DROP_LAST_ACTION".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct btf;

namespace xskit {

class DropReasons {
 public:
  // From /sys/kernel/btf/vmlinux and the loaded modules' BTF.
  static absl::StatusOr<DropReasons> FromKernel();
  // From a BTF object (tests); `modules` are split BTFs on top of it.
  static DropReasons FromBtf(const btf* vmlinux);

  // "NO_SOCKET", "OPENVSWITCH:OVS_DROP_LAST_ACTION", "OPENVSWITCH:7" when the
  // subsystem's enum is not loaded, "reason_<n>" for a value the kernel does
  // not name.
  std::string Name(uint32_t reason) const;

  size_t size() const { return core_.size(); }

 private:
  void AddBtf(const btf* b, bool is_vmlinux);
  std::map<uint32_t, std::string> core_;     // value -> name without SKB_DROP_REASON_
  std::map<uint32_t, std::string> subsys_;   // subsystem id -> name
  std::map<uint32_t, std::string> sub_codes_;  // full value -> enumerator name
};

}  // namespace xskit
