#include "lib/log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <string>

#include "spdlog/sinks/stdout_sinks.h"

namespace xskit {
namespace {

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  absl::string_view line(buf, n > 0 ? std::min<size_t>(n, sizeof(buf) - 1) : 0);
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // One level down: libbpf's warnings are details behind our own message.
  switch (level) {
    case LIBBPF_WARN: spdlog::debug("libbpf: {}", line); break;
    default: spdlog::trace("libbpf: {}", line); break;
  }
  return n;
}

}  // namespace

void InitLogging(absl::string_view level) {
  static bool installed = false;
  if (!installed) {
    auto logger = spdlog::stderr_logger_mt("xskit");
    logger->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(logger);
    libbpf_set_print(LibbpfPrint);
    installed = true;
  }
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace xskit
