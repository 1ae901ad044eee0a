// The one logging facade: spdlog underneath, libbpf's print callback routed
// through it one level down (libbpf's warnings become debug lines) so that a
// command prints one clear message instead of libbpf's chatter.
#pragma once

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// Debian's Abseil has its own string_view type; let fmt print it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace xskit {

// Sets the level ("debug", "info", "warn", "error"; default "warn") and
// installs the libbpf print callback. Messages go to stderr.
void InitLogging(absl::string_view level = "warn");

}  // namespace xskit
