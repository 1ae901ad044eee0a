#include "lib/drop_reasons.h"

#include <bpf/btf.h>
#include <dirent.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"

namespace xskit {
namespace {

constexpr absl::string_view kCorePrefix = "SKB_DROP_REASON_";
constexpr absl::string_view kSubsysPrefix = "SKB_DROP_REASON_SUBSYS_";
constexpr uint32_t kSubsysShift = 16;

using BtfPtr = std::unique_ptr<btf, void (*)(btf*)>;

}  // namespace

void DropReasons::AddBtf(const btf* b, bool is_vmlinux) {
  uint32_t n = btf__type_cnt(b);
  for (uint32_t id = 1; id < n; id++) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_enum(t) && !btf_is_enum64(t)) continue;
    const char* ename = btf__name_by_offset(b, t->name_off);
    if (!ename) continue;
    absl::string_view name(ename);
    bool core = is_vmlinux && name == "skb_drop_reason";
    bool subsys = is_vmlinux && name == "skb_drop_reason_subsys";
    bool sub_enum = absl::StrContains(name, "drop_reason") && !core && !subsys;
    if (!core && !subsys && !sub_enum) continue;
    uint32_t vlen = btf_vlen(t);
    for (uint32_t i = 0; i < vlen; i++) {
      const char* vname;
      uint64_t value;
      if (btf_is_enum(t)) {
        const struct btf_enum* e = btf_enum(t) + i;
        vname = btf__name_by_offset(b, e->name_off);
        value = static_cast<uint32_t>(e->val);
      } else {
        const struct btf_enum64* e = btf_enum64(t) + i;
        vname = btf__name_by_offset(b, e->name_off);
        value = btf_enum64_value(e);
      }
      if (!vname) continue;
      absl::string_view v(vname);
      if (core) {
        if (v == "SKB_DROP_REASON_MAX" || absl::StartsWith(v, "SKB_DROP_REASON_SUBSYS")) continue;
        if (absl::StartsWith(v, kCorePrefix)) v.remove_prefix(kCorePrefix.size());
        core_.emplace(static_cast<uint32_t>(value), std::string(v));
      } else if (subsys) {
        if (!absl::StartsWith(v, kSubsysPrefix) || v == "SKB_DROP_REASON_SUBSYS_NUM") continue;
        v.remove_prefix(kSubsysPrefix.size());
        subsys_.emplace(static_cast<uint32_t>(value), std::string(v));
      } else if (value >> kSubsysShift) {
        sub_codes_.emplace(static_cast<uint32_t>(value), std::string(v));
      }
    }
  }
}

DropReasons DropReasons::FromBtf(const btf* vmlinux) {
  DropReasons r;
  r.AddBtf(vmlinux, true);
  return r;
}

absl::StatusOr<DropReasons> DropReasons::FromKernel() {
  BtfPtr vmlinux(btf__load_vmlinux_btf(), btf__free);
  if (!vmlinux)
    return ErrnoError("read the kernel's BTF (/sys/kernel/btf/vmlinux)", errno, ExitCode::kNoBtf);
  DropReasons r = FromBtf(vmlinux.get());
  // Subsystem reasons live in their modules (openvswitch, mac80211).
  if (DIR* d = ::opendir("/sys/kernel/btf")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.' || std::strcmp(e->d_name, "vmlinux") == 0) continue;
      std::string path = absl::StrCat("/sys/kernel/btf/", e->d_name);
      BtfPtr mod(btf__parse_split(path.c_str(), vmlinux.get()), btf__free);
      if (mod) r.AddBtf(mod.get(), false);
    }
    ::closedir(d);
  }
  return r;
}

std::string DropReasons::Name(uint32_t reason) const {
  uint32_t sub = reason >> kSubsysShift;
  if (sub == 0) {
    auto it = core_.find(reason);
    return it != core_.end() ? it->second : absl::StrCat("reason_", reason);
  }
  auto s = subsys_.find(sub);
  std::string subsys = s != subsys_.end() ? s->second : absl::StrCat("SUBSYS_", sub);
  auto c = sub_codes_.find(reason);
  return absl::StrCat(subsys, ":",
                      c != sub_codes_.end() ? c->second
                                            : absl::StrCat(reason & ((1u << kSubsysShift) - 1)));
}

}  // namespace xskit
