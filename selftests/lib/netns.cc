#include "selftests/lib/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace xskit::testing {

CmdResult RunCmd(const std::vector<std::string>& argv, const std::string& netns) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    if (!netns.empty()) {
      // Like `nsenter --net`: the network namespace only, keeping this
      // mount namespace (and so the host's bpffs).
      int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(127);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
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

std::string MustRun(const std::vector<std::string>& argv, const std::string& netns) {
  CmdResult r = RunCmd(argv, netns);
  if (r.status != 0)
    throw std::runtime_error(absl::StrCat("`", absl::StrJoin(argv, " "), "`",
                                          netns.empty() ? "" : " in " + netns, " exited ",
                                          r.status, ": ", r.output));
  return r.output;
}

void InNetns(const std::string& netns, const std::function<void()>& fn) {
  std::exception_ptr error;
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::unshare(CLONE_FS) != 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      error = std::make_exception_ptr(std::runtime_error("setns " + netns));
      return;
    }
    ::close(fd);
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

std::string UniqueName() {
  static std::atomic<int> counter{0};
  return absl::StrCat("xt", ::getpid(), "n", counter++);
}

namespace {

std::array<uint8_t, 6> ReadMac(const std::string& dev, const std::string& netns) {
  std::string out = MustRun({"ip", "-o", "link", "show", "dev", dev}, netns);
  std::array<uint8_t, 6> mac{};
  auto pos = out.find("link/ether ");
  if (pos == std::string::npos) throw std::runtime_error("no MAC for " + dev);
  std::vector<std::string> bytes = absl::StrSplit(out.substr(pos + 11, 17), ':');
  for (int i = 0; i < 6; i++) mac[i] = static_cast<uint8_t>(std::stoul(bytes[i], nullptr, 16));
  return mac;
}

}  // namespace

std::string MacString(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

NetnsPair::NetnsPair() : NetnsPair(Options{}) {}

NetnsPair::NetnsPair(const Options& opts) {
  std::string base = UniqueName();
  ns_a_ = base + "-a";
  ns_b_ = base + "-b";
  dev_a_ = base + "a";
  dev_b_ = base + "b";
  try {
    MustRun({"ip", "netns", "add", ns_a_});
    MustRun({"ip", "netns", "add", ns_b_});
    std::string q = absl::StrCat(opts.queues);
    if (!opts.existing_a.empty()) {
      dev_a_ = opts.existing_a;
      dev_b_ = opts.existing_b;
      MustRun({"ip", "link", "set", "dev", dev_a_, "netns", ns_a_});
      MustRun({"ip", "link", "set", "dev", dev_b_, "netns", ns_b_});
    } else {
      MustRun({"ip", "link", "add", dev_a_, "numtxqueues", q, "numrxqueues", q, "netns", ns_a_,
               "type", "veth", "peer", "name", dev_b_, "numtxqueues", q, "numrxqueues", q,
               "netns", ns_b_});
    }
    for (auto [ns, dev, ip] : {std::tuple{ns_a_, dev_a_, kIpA}, std::tuple{ns_b_, dev_b_, kIpB}}) {
      if (!opts.ipv6) {
        MustRun({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".disable_ipv6=1")}, ns);
      } else {
        MustRun({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".accept_dad=0")}, ns);
        MustRun({"sysctl", "-qw", absl::StrCat("net.ipv6.conf.", dev, ".router_solicitations=0")}, ns);
      }
      MustRun({"ip", "link", "set", "dev", dev, "mtu", absl::StrCat(opts.mtu)}, ns);
      MustRun({"ip", "addr", "add", absl::StrCat(ip, "/24"), "dev", dev}, ns);
      MustRun({"ip", "link", "set", "dev", dev, "up"}, ns);
      MustRun({"ip", "link", "set", "dev", "lo", "up"}, ns);
    }
    mac_a_ = ReadMac(dev_a_, ns_a_);
    mac_b_ = ReadMac(dev_b_, ns_b_);
    MustRun({"ip", "neigh", "replace", kIpB, "lladdr", MacString(mac_b_), "nud", "permanent",
             "dev", dev_a_}, ns_a_);
    MustRun({"ip", "neigh", "replace", kIpA, "lladdr", MacString(mac_a_), "nud", "permanent",
             "dev", dev_b_}, ns_b_);
  } catch (...) {
    RunCmd({"ip", "netns", "del", ns_a_});
    RunCmd({"ip", "netns", "del", ns_b_});
    throw;
  }
}

NetnsPair::~NetnsPair() {
  // Deleting a namespace destroys its veth end, which takes the peer, and
  // with it any XDP program attached to either.
  RunCmd({"ip", "netns", "del", ns_a_});
  RunCmd({"ip", "netns", "del", ns_b_});
}

}  // namespace xskit::testing
