// A pin root of this process's own (/sys/fs/bpf/xskit-test-<pid>[-<tag>]),
// so tests and benchmarks never touch a real deployment's pins; removed
// (with everything pinned below it) when the object goes.
#pragma once

#include <string>

namespace xskit::sandbox {

class ScratchPinRoot {
 public:
  // A tag for a second root in one process.
  explicit ScratchPinRoot(const std::string& tag = "");
  ~ScratchPinRoot();
  ScratchPinRoot(const ScratchPinRoot&) = delete;
  ScratchPinRoot& operator=(const ScratchPinRoot&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Mounts bpffs at /sys/fs/bpf if nothing is mounted there.
void EnsureBpffs();

}  // namespace xskit::sandbox
