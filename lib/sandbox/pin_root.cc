#include "lib/sandbox/pin_root.h"

#include <sys/mount.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "lib/pins.h"

namespace xskit::sandbox {

void EnsureBpffs() {
  if (!IsBpffs("/sys/fs/bpf")) ::mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr);
}

ScratchPinRoot::ScratchPinRoot(const std::string& tag)
    : path_(absl::StrCat("/sys/fs/bpf/xskit-test-", ::getpid(), tag.empty() ? "" : "-", tag)) {
  EnsureBpffs();
}

ScratchPinRoot::~ScratchPinRoot() { (void)RemovePinDir(path_); }

}  // namespace xskit::sandbox
