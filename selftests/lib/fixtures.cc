#include "selftests/lib/fixtures.h"

#include <sys/mount.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "lib/pins.h"

namespace xskit::testing {

void EnsureBpffs() {
  if (!IsBpffs("/sys/fs/bpf")) ::mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr);
}

TestPinRoot::TestPinRoot(const std::string& tag)
    : path_(absl::StrCat("/sys/fs/bpf/xskit-test-", ::getpid(), tag.empty() ? "" : "-", tag)) {
  EnsureBpffs();
}

TestPinRoot::~TestPinRoot() { (void)RemovePinDir(path_); }

std::string Bin(const std::string& relative) { return absl::StrCat(XSKIT_BUILD_DIR, "/", relative); }

}  // namespace xskit::testing
