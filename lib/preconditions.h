// What the machine must offer before xskit touches the kernel: privileges
// and BTF. Each failure names what is missing and how to get it.
#pragma once

#include <initializer_list>

#include "absl/status/status.h"

namespace xskit {

enum class Cap : int { kNetAdmin = 12, kSysAdmin = 21, kPerfmon = 38, kBpf = 39 };

// Fails with ExitCode::kPermission naming the first missing capability.
// CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel.
absl::Status RequireCapabilities(std::initializer_list<Cap> caps);

// Fails with ExitCode::kNoBtf unless the kernel exposes parsable BTF at
// /sys/kernel/btf/vmlinux (the CO-RE programs need it).
absl::Status RequireKernelBtf();

}  // namespace xskit
