#include "selftests/lib/bench_run.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "selftests/lib/fixtures.h"
#include "selftests/lib/workload.h"

namespace xskit::testing {

using json = nlohmann::json;

std::vector<std::string> BenchArgv(const std::string& pin_root, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Bin("xsk_bench/xsk-bench"), "--pin-root", pin_root};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

json BenchResult(const CmdResult& r) {
  auto start = r.output.find("{\n");
  if (start == std::string::npos) return json();
  json j = json::parse(r.output.substr(start), nullptr, false);
  return j.is_discarded() ? json() : j;
}

std::vector<std::string> TxOnlyToB(const NetnsPair& pair) {
  return {"-t", "-i", pair.dev_a(), "--dst-mac", MacString(pair.mac_b()), "--src-ip", NetnsPair::kIpA,
          "--dst-ip", NetnsPair::kIpB};
}

Background::Background(const std::vector<std::string>& argv, const std::string& netns) {
  char path[] = "/tmp/xskit-bench-test-XXXXXX";
  out_ = ::mkstemp(path);
  ::unlink(path);
  // Everything the child needs is made before fork (no allocation after).
  const std::string ns_path = "/run/netns/" + netns;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out_, 1);
    ::dup2(out_, 2);
    int fd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(127);
    ::execv(args[0], args.data());
    _exit(127);
  }
}

Background::~Background() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_ >= 0) ::close(out_);
}

CmdResult Background::Stop() {
  CmdResult r;
  int status = 0;
  ::kill(pid_, SIGINT);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  char buf[4096];
  ssize_t n;
  ::lseek(out_, 0, SEEK_SET);
  while ((n = ::read(out_, buf, sizeof(buf))) > 0) r.output.append(buf, n);
  return r;
}

uint64_t LinkRxPackets(const std::string& netns, const std::string& dev) {
  CmdResult r = RunCmd({"ip", "-s", "-j", "link", "show", "dev", dev}, netns);
  json j = json::parse(r.output, nullptr, false);
  if (r.status != 0 || !j.is_array() || j.empty()) return 0;
  return j[0]["stats64"]["rx"]["packets"].get<uint64_t>();
}

std::string XdpAttached(const std::string& netns, const std::string& dev) {
  std::string out = RunCmd({"ip", "-d", "-o", "link", "show", "dev", dev}, netns).output;
  auto pos = out.find("prog/xdp");
  return pos == std::string::npos ? "" : out.substr(pos, out.find(' ', pos + 20) - pos);
}

std::vector<std::string> PinsUnder(const std::string& pin_root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(pin_root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    out.push_back(it->path().string());
  return out;
}

uint64_t Settled(const std::function<uint64_t()>& read) {
  uint64_t now = read(), prev = ~0ull;
  for (int i = 0; i < 50 && now != prev; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    prev = now;
    now = read();
  }
  return now;
}

bool WaitForSocket(const std::string& pin_root, const std::string& netns, const std::string& dev,
                   std::chrono::milliseconds timeout) {
  const auto socket = "/interfaces/0/queues/0/socket"_json_pointer;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json st = json::parse(RunLoader(pin_root, netns, {"status", dev, "--json"}).output, nullptr, false);
    if (st.is_object() && st.contains(socket) && st[socket].is_boolean() && st[socket].get<bool>())
      return true;
  }
  return false;
}

}  // namespace xskit::testing
