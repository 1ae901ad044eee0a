// gtest glue over lib/sandbox: namespaces joined by veth, commands and
// threads in them, for test fixtures that set up in constructors. A failed
// Status becomes a std::runtime_error, which gtest reports as the test's
// failure; the helpers themselves live in lib/sandbox (one copy).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/sandbox/netns.h"
#include "lib/sandbox/packet.h"
#include "lib/sandbox/run.h"

namespace xskit::testing {

using sandbox::CmdResult;
using sandbox::MacString;
using sandbox::Packet;
using sandbox::RunCmd;
using sandbox::UniqueName;

// Throws std::runtime_error when `status` is not OK.
void ThrowIfError(const absl::Status& status);

// Runs and aborts the test setup (throws std::runtime_error) on failure;
// the command's output.
std::string MustRun(const std::vector<std::string>& argv, const std::string& netns = "");

// sandbox::InNetns for fn that throw (or fail gtest assertions): an
// exception in `fn` is rethrown here, as is a failure to enter `netns`.
void InNetns(const std::string& netns, const std::function<void()>& fn);

// sandbox::NetnsPair made in a constructor (throws when it cannot be made).
class NetnsPair : public sandbox::NetnsPair {
 public:
  using Options = sandbox::NetnsPair::Options;
  NetnsPair() : NetnsPair(Options{}) {}
  explicit NetnsPair(const Options& opts);
};

}  // namespace xskit::testing
