#include "selftests/lib/fixtures.h"
#include "selftests/lib/paths.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace xskit::testing {

std::string Bin(const std::string& relative) { return absl::StrCat(testing::BuildDir(), "/", relative); }

bool PinsLeft(const std::string& root) {
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return false;
  return !std::filesystem::is_empty(root, ec);
}

}  // namespace xskit::testing
