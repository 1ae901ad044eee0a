// A program run in the background (a receiver, a server, testpmd): started
// in a network namespace like RunCmd (run.h), stdin a pipe, stdout and stderr
// gathered by a reader thread; killed and reaped when the object goes, also
// when a test fails half-way. Nothing here throws.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace xskit::sandbox {

class Process {
 public:
  // argv[0] is searched in PATH; `netns` empty: this namespace.
  Process(const std::vector<std::string>& argv, const std::string& netns = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Everything written so far (stdout and stderr, interleaved).
  std::string output() const;
  // Waits until the output contains `needle`; false on timeout or exit.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout);
  void CloseStdin();
  void Signal(int sig);
  // Waits for the exit (SIGKILL after `timeout`); the exit status, or
  // 128 + signal.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int out_ = -1;
  int status_ = -1;
  bool eof_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
};

}  // namespace xskit::sandbox
