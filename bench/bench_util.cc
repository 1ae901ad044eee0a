#include "bench/bench_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

extern char** environ;

namespace xskit::benchutil {

double ClockS(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  return cpus;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

void Rounds(int rounds, size_t steps, const std::function<void(int, size_t)>& run) {
  for (int r = 0; r < rounds; r++)
    for (size_t i = 0; i < steps; i++) run(r, r % 2 ? steps - 1 - i : i);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double at = q * (v.size() - 1);
  size_t i = static_cast<size_t>(at);
  return i + 1 < v.size() ? v[i] + (at - i) * (v[i + 1] - v[i]) : v.back();
}

Rate Median(const std::vector<Rate>& v) {
  std::vector<double> w, c;
  for (const auto& r : v) {
    if (r.wall > 0) w.push_back(r.wall);
    if (r.cpu > 0) c.push_back(r.cpu);
  }
  return {Median(w), Median(c)};
}

MedianCI MedianWithCI(std::vector<double> v, double confidence) {
  MedianCI ci;
  ci.n = v.size();
  if (v.empty()) return ci;
  std::sort(v.begin(), v.end());
  ci.median = Median(v);
  const size_t n = v.size();
  boost::math::binomial_distribution<double> b(static_cast<double>(n), 0.5);
  const double tail = (1 - confidence) / 2;
  // l (1-based) from 1 up while P(B <= l-1) stays within the tail.
  size_t l = 1;
  while (l + 1 <= (n + 1) / 2 && boost::math::cdf(b, static_cast<double>(l)) <= tail) l++;
  ci.lo = v[l - 1];
  ci.hi = v[n - l];
  ci.coverage = 1 - 2 * boost::math::cdf(b, static_cast<double>(l - 1));
  return ci;
}

namespace {
constexpr double kMinCoverage = 0.95 - 1e-9;
}

Verdict Judge(const MedianCI& ci, double bound, bool at_least) {
  if (ci.n == 0 || ci.coverage < kMinCoverage) return Verdict::kUnresolved;
  if (at_least) {
    if (ci.lo >= bound) return Verdict::kMet;
    if (ci.hi < bound) return Verdict::kNotMet;
  } else {
    if (ci.hi <= bound) return Verdict::kMet;
    if (ci.lo > bound) return Verdict::kNotMet;
  }
  return Verdict::kUnresolved;
}

Verdict JudgeAtMost(const MedianCI& a, const MedianCI& b, double factor) {
  if (a.n == 0 || b.n == 0 || a.coverage < kMinCoverage || b.coverage < kMinCoverage)
    return Verdict::kUnresolved;
  if (a.hi <= b.lo * factor) return Verdict::kMet;
  if (a.lo > b.hi * factor) return Verdict::kNotMet;
  return Verdict::kUnresolved;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kMet: return "met";
    case Verdict::kNotMet: return "NOT met";
    case Verdict::kUnresolved: return "unresolved";
  }
  return "?";
}

std::string FormatCI(const MedianCI& ci, const char* fmt) {
  if (ci.n == 0) return "-";
  auto f = absl::ParsedFormat<'f'>::New(fmt);
  if (!f) return "?";
  return absl::StrCat(absl::StrFormat(*f, ci.median), " [", absl::StrFormat(*f, ci.lo), ", ",
                      absl::StrFormat(*f, ci.hi), "]");
}

void PairRound(int round, const std::function<std::vector<Rate>()>& measure,
               const std::function<void()>& on, const std::function<void()>& off,
               std::vector<Paired>& out) {
  std::vector<Rate> base, conf;
  auto run_conf = [&] {
    on();
    conf = measure();
    off();
  };
  if (round % 2) {
    run_conf();
    base = measure();
  } else {
    base = measure();
    run_conf();
  }
  out.resize(std::max(out.size(), base.size()));
  for (size_t w = 0; w < base.size() && w < conf.size(); w++) {
    Paired& p = out[w];
    const Rate &b = base[w], &c = conf[w];
    p.base.push_back(b);
    p.conf.push_back(c);
    // A round where either half measured nothing is left out of the ratios.
    if (b.wall > 0 && c.wall > 0) p.wall_ratio.push_back(c.wall / b.wall);
    if (b.cpu > 0 && c.cpu > 0) {
      p.cpu_ratio.push_back(c.cpu / b.cpu);
      p.cpu_ns_delta.push_back(1e9 / c.cpu - 1e9 / b.cpu);
    }
  }
}

Paired RunPaired(int rounds, const std::function<Rate()>& measure, const std::function<void()>& on,
                 const std::function<void()>& off) {
  std::vector<Paired> out(1);
  for (int r = 0; r < rounds; r++)
    PairRound(r, [&] { return std::vector<Rate>{measure()}; }, on, off, out);
  return out[0];
}

size_t ScrapeMetrics(int port, std::string* body) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return 0;
  }
  const char req[] =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
      "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
      "Accept-Encoding: gzip\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n";
  (void)::write(fd, req, sizeof(req) - 1);
  size_t total = 0;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    total += n;
    if (body) body->append(buf, n);
  }
  ::close(fd);
  return total;
}

ListeningChild::ListeningChild(std::vector<std::string> argv, bool capture_stderr) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  if (capture_stderr) posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  out_ = p[0];
}

ListeningChild::~ListeningChild() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_ >= 0) ::close(out_);
}

int ListeningChild::Port(int timeout_ms) {
  if (port_ > 0 || out_ < 0) return port_;
  std::string buf;
  char b[256];
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    pollfd pfd{out_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      ssize_t n = ::read(out_, b, sizeof(b));
      if (n <= 0) return 0;
      buf.append(b, n);
      if (size_t at = buf.find("listening on port ");
          at != std::string::npos && buf.find('\n', at) != std::string::npos)
        return port_ = std::atoi(buf.c_str() + at + 18);
    }
  }
  return 0;
}

}  // namespace xskit::benchutil
