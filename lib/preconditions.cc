#include "lib/preconditions.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"

namespace xskit {
namespace {

const char* CapName(Cap cap) {
  switch (cap) {
    case Cap::kNetAdmin: return "CAP_NET_ADMIN";
    case Cap::kSysAdmin: return "CAP_SYS_ADMIN";
    case Cap::kPerfmon: return "CAP_PERFMON";
    case Cap::kBpf: return "CAP_BPF";
  }
  return "?";
}

bool HasCap(const __user_cap_data_struct data[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1;
}

}  // namespace

absl::Status RequireCapabilities(std::initializer_list<Cap> caps) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return ErrnoError("capget", errno);
  bool sys_admin = HasCap(data, static_cast<int>(Cap::kSysAdmin));
  for (Cap cap : caps) {
    bool has = HasCap(data, static_cast<int>(cap));
    if (!has && sys_admin && (cap == Cap::kBpf || cap == Cap::kPerfmon)) has = true;
    if (!has)
      return Error(ExitCode::kPermission,
                   absl::StrCat("missing ", CapName(cap),
                                ": run as root or grant it (e.g. setcap "
                                "cap_bpf,cap_net_admin,cap_perfmon+ep on the binary)"));
  }
  return absl::OkStatus();
}

absl::Status RequireKernelBtf() {
  // The header is enough to tell (libbpf parses the rest when a program
  // needs it): parsing megabytes here would only be done again there.
  constexpr const char* kPath = "/sys/kernel/btf/vmlinux";
  btf_header hdr{};
  int fd = ::open(kPath, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? ::read(fd, &hdr, sizeof(hdr)) : -1;
  if (fd >= 0) ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(hdr)) || hdr.magic != BTF_MAGIC)
    return Error(ExitCode::kNoBtf,
                 "this kernel exposes no usable BTF at /sys/kernel/btf/vmlinux: xskit's "
                 "CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y");
  return absl::OkStatus();
}

}  // namespace xskit
