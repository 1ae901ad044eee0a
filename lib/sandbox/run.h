// Commands and threads in network namespaces, for xsk-bench's sandbox, the
// benchmarks and the tests. Errors are absl::Status; nothing here throws.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xskit::sandbox {

// Runs a command (argv[0] searched in PATH), in network namespace `netns`
// ("" = the caller's) entered like `nsenter --net` (this mount namespace,
// and so the host's bpffs, is kept). Its exit status and combined
// stdout+stderr; status -1 when it could not be started.
struct CmdResult {
  int status = -1;
  std::string output;
};
CmdResult RunCmd(const std::vector<std::string>& argv, const std::string& netns = "");

// In a forked child: enters network namespace `netns` (when not "") like
// `nsenter --net` and execs argv; exits 127 when either fails.
[[noreturn]] void ExecInNetns(const std::vector<std::string>& argv, const std::string& netns);

// RunCmd, with a non-zero exit as an error naming the command and its output.
absl::Status Run(const std::vector<std::string>& argv, const std::string& netns = "");
// Run, returning the command's output.
absl::StatusOr<std::string> RunOutput(const std::vector<std::string>& argv,
                                      const std::string& netns = "");

// Runs `fn` on a thread that has entered network namespace `netns`
// (sockets it creates live there) and waits for it; `fn`'s status, or why
// the namespace could not be entered.
absl::Status InNetns(const std::string& netns, const std::function<absl::Status()>& fn);

// A unique short name prefix for this process ("xt<pid>n<k>").
std::string UniqueName();

}  // namespace xskit::sandbox
