#include "selftests/lib/fixtures.h"
#include "selftests/lib/paths.h"

#include "absl/strings/str_cat.h"

namespace xskit::testing {

std::string Bin(const std::string& relative) { return absl::StrCat(testing::BuildDir(), "/", relative); }

}  // namespace xskit::testing
