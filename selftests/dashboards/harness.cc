#include "selftests/dashboards/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/sandbox/packet.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/paths.h"

extern char** environ;

namespace xskit::testing {

std::string RepoPath(const std::string& relative) {
  // The source tree's absolute path (not __FILE__: ccache's base_dir makes
  // that relative to the build directory).
  return (std::filesystem::path(testing::SourceDir()) / relative).string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&fa);
}

bool Child::running() {
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    pid_ = -1;
    return false;
  }
  return true;
}

int Child::Stop(int sig, int timeout_ms) {
  if (!running()) return status_;
  ::kill(pid_, sig);
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (!running()) return status_;
    ::usleep(20 * 1000);
  }
  return -1;
}

Child::~Child() {
  if (Stop(SIGTERM, 5000) == -1 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::vector<PanelQuery> AllPanelQueries() {
  std::vector<PanelQuery> out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(RepoPath("dashboards/grafana")))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto d = nlohmann::json::parse(ReadFile(f.string()), nullptr, false);
    if (d.is_discarded()) {
      out.push_back({f.filename().string(), "(unparsable JSON)", "", ""});
      continue;
    }
    for (const auto& p : d.value("panels", nlohmann::json::array()))
      for (const auto& t : p.value("targets", nlohmann::json::array()))
        out.push_back({d.value("title", f.filename().string()), p.value("title", "?"),
                       t.value("refId", "?"), t.value("expr", "")});
  }
  return out;
}

std::string Substitute(const std::string& expr, const std::map<std::string, std::string>& vars,
                       const std::string& rate_interval, const std::string& range) {
  std::vector<std::pair<std::string, std::string>> subs = {
      {"$__rate_interval", rate_interval}, {"$__interval", "1s"}, {"$__range", range}};
  for (const auto& [k, v] : vars) {
    subs.push_back({"${" + k + "}", v});
    subs.push_back({"$" + k, v});
  }
  std::sort(subs.begin(), subs.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string s = expr;
  for (const auto& [k, v] : subs) s = absl::StrReplaceAll(s, {{k, v}});
  return s;
}

Workload::Workload() {
  CmdResult r = RunCmd({Bin("loader/xsk-loader"), "--pin-root", root_.path(), "attach", net_.dev_a(),
                        "--match", "udp:4791"},
                       net_.ns_a());
  if (r.status != 0) {
    error_ = "xsk-loader attach: " + r.output;
    return;
  }
  if (r.output.find("probes: ") == std::string::npos) error_ = "probes not attached: " + r.output;
  InNetns(net_.ns_a(), [&] {
    auto s = XskSocket::Open(net_.dev_a(), 0, {.pin_root = root_.path()});
    if (s.ok())
      sock_ = std::move(*s);
    else
      error_ = absl::StrCat("XskSocket::Open: ", s.status().message());
  });
  if (!sock_) return;
  thread_ = std::thread([this] { Loop(); });
}

Workload::~Workload() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  sock_.reset();
  (void)RunCmd({Bin("loader/xsk-loader"), "--pin-root", root_.path(), "detach", net_.dev_a()},
               net_.ns_a());
  (void)RunCmd({Bin("loader/xsk-loader"), "--pin-root", root_.path(), "probes", "detach"});
  // net_ and root_ go next: namespaces deleted, pin root removed.
}

void Workload::Loop() {
  std::vector<std::vector<uint8_t>> in;
  for (int i = 0; i < 8; i++)  // steered to the socket
    in.push_back(Packet().Eth(net_.mac_a(), net_.mac_b()).IPv4(NetnsPair::kIpB, NetnsPair::kIpA)
                     .Udp(1234, 4791).Payload(18).Build());
  for (int i = 0; i < 2; i++)  // not matched: a's stack, no socket on port 9 (a NO_SOCKET drop)
    in.push_back(Packet().Eth(net_.mac_a(), net_.mac_b()).IPv4(NetnsPair::kIpB, NetnsPair::kIpA)
                     .Udp(1234, 9).Payload(18).Build());
  const std::vector<uint8_t> out = Packet().Eth(net_.mac_b(), net_.mac_a())
                                       .IPv4(NetnsPair::kIpA, NetnsPair::kIpB).Udp(1234, 9)
                                       .Payload(18).Build();
  while (!stop_) {
    try {
      SendFrames(net_.ns_b(), net_.dev_b(), in);
    } catch (const std::exception&) {
      // The namespaces are going away; the destructor stops us.
    }
    auto got = sock_->Receive(1, [](std::span<const uint8_t>) {});
    if (got.ok()) received_ += *got;
    sock_->QueueTx(64, out.size(), [&](uint32_t, std::span<uint8_t> b) {
      std::memcpy(b.data(), out.data(), out.size());
    });
    for (int i = 0; i < 4 && sock_->outstanding(); i++) {
      sock_->Kick();
      sock_->Complete();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace xskit::testing
