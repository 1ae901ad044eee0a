#include "selftests/lib/netns.h"

#include <exception>
#include <stdexcept>

namespace xskit::testing {

void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw std::runtime_error(std::string(status.message()));
}

std::string MustRun(const std::vector<std::string>& argv, const std::string& netns) {
  auto out = sandbox::RunOutput(argv, netns);
  ThrowIfError(out.status());
  return std::move(*out);
}

void InNetns(const std::string& netns, const std::function<void()>& fn) {
  std::exception_ptr error;
  absl::Status s = sandbox::InNetns(netns, [&] {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
    return absl::OkStatus();
  });
  if (error) std::rethrow_exception(error);
  ThrowIfError(s);
}

namespace {
sandbox::NetnsPair CreateOrThrow(const sandbox::NetnsPair::Options& opts) {
  auto pair = sandbox::NetnsPair::Create(opts);
  ThrowIfError(pair.status());
  return std::move(*pair);
}
}  // namespace

NetnsPair::NetnsPair(const Options& opts) : sandbox::NetnsPair(CreateOrThrow(opts)) {}

}  // namespace xskit::testing
