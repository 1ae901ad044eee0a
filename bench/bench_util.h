// What the benchmarks share (bench code only, never linked into a shipped
// tool): lib/sandbox set-ups that end the benchmark with a message (exit 1)
// instead of a Status to pass on, the round runner and its statistics
// (paired rounds, medians with distribution-free confidence intervals,
// target verdicts), CPU pinning and clocks, and the Prometheus scrape.
// Benchmarks link xskit_sandbox, never selftests/ (docs/DESIGN.md).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "lib/sandbox/netns.h"
#include "lib/sandbox/packet.h"
#include "lib/sandbox/pin_root.h"
#include "lib/sandbox/run.h"

namespace xskit::benchutil {

using sandbox::Packet;
using sandbox::RunCmd;
using TestPinRoot = sandbox::ScratchPinRoot;

// A benchmark that cannot go on: Fail() prints why and unwinds to
// Guarded(), so the namespaces, pins and programs the bench made are
// destroyed on the way out (std::exit would leave them behind).
struct Failed {};
[[noreturn]] inline void Fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  throw Failed{};
}
// Runs a benchmark's main; 1 when it Fail()ed.
inline int Guarded(const std::function<int()>& run) {
  try {
    return run();
  } catch (const Failed&) {
    return 1;
  }
}

inline void ExitIfError(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  Fail(std::string(what) + ": " + std::string(s.message()));
}

// Absolute path of a binary in this build tree, e.g. Bin("loader/xsk-loader").
inline std::string Bin(const std::string& relative) {
  return std::string(XSKIT_BUILD_DIR) + "/" + relative;
}

// Runs `fn` on a thread in network namespace `netns`.
// A Fail() inside `fn` goes on unwinding on the caller's thread.
inline void InNetns(const std::string& netns, const std::function<void()>& fn) {
  bool failed = false;
  ExitIfError(sandbox::InNetns(netns, [&] {
                try {
                  fn();
                } catch (const Failed&) {
                  failed = true;
                }
                return absl::OkStatus();
              }),
              "enter netns");
  if (failed) throw Failed{};
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

// ---- clocks, pinning, machine state ----

// Seconds on `clock` (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, or a
// thread's clock from pthread_getcpuclockid).
double ClockS(clockid_t clock);
inline double NowS() { return ClockS(CLOCK_MONOTONIC); }

// Pins the calling thread to `cpu`; false (and the thread left as it was)
// when that CPU is not available.
bool PinThisThread(int cpu);
// The CPUs this process may run on, in order.
std::vector<int> AllowedCpus();

// "0.52 1.07 2.66": /proc/loadavg's first three fields.
std::string LoadAverage();

// ---- rounds and their statistics ----

// A round's throughput: frames per wall-clock second, and per second of CPU
// time of the thread that carries the kernel's work (on veth the sender's:
// the peer's receive, XDP program, drop and every probe on the way run in
// its syscall and the softirq it raises).
struct Rate {
  double wall = 0, cpu = 0;
};

// Runs `rounds` rounds of `steps.size()` steps, the order reversed on every
// other round (0,1,..,k-1 then k-1,..,0), so a step that is always first
// or always last does not take a drift of the machine alone.
void Rounds(int rounds, size_t steps, const std::function<void(int round, size_t step)>& run);

// Median (the mean of the two middle values for an even count); 0 for none.
double Median(std::vector<double> v);
// The q-quantile (0..1), linear between order statistics; 0 for none.
double Quantile(std::vector<double> v, double q);
// Per field; rounds that measured nothing (0) are left out.
Rate Median(const std::vector<Rate>& v);

// A median with a distribution-free confidence interval: with the sorted
// values x(1) <= ... <= x(n), [x(l), x(n+1-l)] holds the true median with
// probability 1 - 2 P(B <= l-1), B ~ Binomial(n, 1/2) (order statistics;
// no assumption on the distribution of the values). l is the largest that
// keeps that probability >= the confidence asked; below 6 values not even
// [min, max] reaches 95 %, and `coverage` says what it reaches.
struct MedianCI {
  double median = 0, lo = 0, hi = 0;
  double coverage = 0;  // the interval's actual coverage probability
  size_t n = 0;
};
MedianCI MedianWithCI(std::vector<double> v, double confidence = 0.95);

// A target "value >= bound" (or <= bound) judged from a median's interval:
// met only when the whole interval is on the right side, not met when it
// is wholly on the wrong side, unresolved when it straddles the bound or
// too few rounds make its coverage fall short of 95 %.
enum class Verdict { kMet, kNotMet, kUnresolved };
Verdict Judge(const MedianCI& ci, double bound, bool at_least);
// Judged from two intervals: "a <= b * factor" (each side's interval
// counted in full, so the pair's coverage is at least 1 - 2 * (1 - each)).
Verdict JudgeAtMost(const MedianCI& a, const MedianCI& b, double factor);
const char* VerdictName(Verdict v);  // "met", "NOT met", "unresolved"

// "0.981 [0.975, 0.986]"
std::string FormatCI(const MedianCI& ci, const char* fmt = "%.3f");

// Paired rounds of one configuration against the baseline: each round
// measures the baseline and the configuration back to back (the
// configuration switched on just before its half and off just after), in
// alternating order, and keeps the pair's ratios, so a drift of the machine
// slower than a round cancels out of each ratio. A half may measure several
// workloads (one Rate each) under one switch-on.
struct Paired {
  std::vector<Rate> base, conf;  // per round
  std::vector<double> wall_ratio, cpu_ratio;  // conf / base, per round
  // Extra nanoseconds per frame, per round: 1e9/conf.cpu - 1e9/base.cpu.
  std::vector<double> cpu_ns_delta;
};
// One round: measure() returns one Rate per workload; out[w] gets the pair
// of workload w (out is sized to match).
void PairRound(int round, const std::function<std::vector<Rate>()>& measure,
               const std::function<void()>& on, const std::function<void()>& off,
               std::vector<Paired>& out);
// `rounds` rounds of PairRound with a single workload.
Paired RunPaired(int rounds, const std::function<Rate()>& measure, const std::function<void()>& on,
                 const std::function<void()>& off);

// ---- Prometheus ----

// One GET /metrics on 127.0.0.1:`port` as Prometheus sends it (its Accept
// and Accept-Encoding headers); the response's size (0 on failure), and the
// response itself in *body when asked.
size_t ScrapeMetrics(int port, std::string* body = nullptr);

// xsk-exporter (or any command that prints "listening on port N") started
// with its stdout (and stderr, if asked) on a pipe; Port() waits up to
// `timeout_ms` for that line. The destructor sends SIGTERM and reaps it.
class ListeningChild {
 public:
  explicit ListeningChild(std::vector<std::string> argv, bool capture_stderr = true);
  ~ListeningChild();
  ListeningChild(const ListeningChild&) = delete;
  ListeningChild& operator=(const ListeningChild&) = delete;
  int Port(int timeout_ms = 5000);
  pid_t pid() const { return pid_; }
  int out_fd() const { return out_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

}  // namespace xskit::benchutil
