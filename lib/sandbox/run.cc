#include "lib/sandbox/run.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/errors.h"

namespace xskit::sandbox {

void ExecInNetns(const std::vector<std::string>& argv, const std::string& netns) {
  if (!netns.empty()) {
    // The network namespace only, keeping this mount namespace (and so
    // the host's bpffs).
    int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(127);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  _exit(127);
}

CmdResult RunCmd(const std::vector<std::string>& argv, const std::string& netns) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ExecInNetns(argv, netns);
  }
  ::close(pipefd[1]);
  CmdResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) r.output.append(buf, n);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

absl::Status Run(const std::vector<std::string>& argv, const std::string& netns) {
  return RunOutput(argv, netns).status();
}

absl::StatusOr<std::string> RunOutput(const std::vector<std::string>& argv,
                                      const std::string& netns) {
  CmdResult r = RunCmd(argv, netns);
  if (r.status != 0)
    return Error(ExitCode::kInternal, absl::StrCat("`", absl::StrJoin(argv, " "), "`",
                                                   netns.empty() ? "" : " in netns " + netns,
                                                   " exited ", r.status, ": ", r.output));
  return std::move(r.output);
}

absl::Status InNetns(const std::string& netns, const std::function<absl::Status()>& fn) {
  absl::Status result;
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::unshare(CLONE_FS) != 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      result = ErrnoError(absl::StrCat("setns(", netns, ")"), errno);
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    result = fn();
  });
  t.join();
  return result;
}

std::string UniqueName() {
  static std::atomic<int> counter{0};
  return absl::StrCat("xt", ::getpid(), "n", counter++);
}

}  // namespace xskit::sandbox
