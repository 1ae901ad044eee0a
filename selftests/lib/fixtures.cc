#include "selftests/lib/fixtures.h"

#include "absl/strings/str_cat.h"

namespace xskit::testing {

std::string Bin(const std::string& relative) { return absl::StrCat(XSKIT_BUILD_DIR, "/", relative); }

}  // namespace xskit::testing
