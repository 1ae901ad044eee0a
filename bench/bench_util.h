// The benchmarks' use of lib/sandbox: a failure to set up ends the
// benchmark with a message (exit 1) instead of a Status to pass on.
// Benchmarks link xskit_sandbox, never selftests/ (docs/DESIGN.md).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "lib/sandbox/netns.h"
#include "lib/sandbox/packet.h"
#include "lib/sandbox/pin_root.h"
#include "lib/sandbox/run.h"

namespace xskit::benchutil {

using sandbox::Packet;
using sandbox::RunCmd;
using TestPinRoot = sandbox::ScratchPinRoot;

inline void ExitIfError(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
  std::exit(1);
}

// Absolute path of a binary in this build tree, e.g. Bin("loader/xsk-loader").
inline std::string Bin(const std::string& relative) {
  return std::string(XSKIT_BUILD_DIR) + "/" + relative;
}

// Runs `fn` on a thread in network namespace `netns`.
inline void InNetns(const std::string& netns, const std::function<void()>& fn) {
  ExitIfError(sandbox::InNetns(netns, [&] {
                fn();
                return absl::OkStatus();
              }),
              "enter netns");
}

// sandbox::NetnsPair made in a constructor.
class NetnsPair : public sandbox::NetnsPair {
 public:
  using Options = sandbox::NetnsPair::Options;
  NetnsPair() : NetnsPair(Options{}) {}
  explicit NetnsPair(const Options& opts) : sandbox::NetnsPair(Make(opts)) {}

 private:
  static sandbox::NetnsPair Make(const Options& opts) {
    auto p = sandbox::NetnsPair::Create(opts);
    ExitIfError(p.status(), "network namespaces");
    return std::move(*p);
  }
};

}  // namespace xskit::benchutil
