// exporter_bench: xsk-exporter's scrape latency (p50/p99 over HTTP on
// loopback), its CPU per scrape, its RSS and its CPU when idle and when
// scraped once a second, with 64 queues and every kernel drop reason
// populated; side by side, in one run: the baseline (no AF_XDP socket) and
// the issue 14 load, 256 bound AF_XDP sockets (the socket inventory re-reads
// their owner on every scrape) and 20,000 other open files in two other
// processes (what a discovery pass walks).
//
// The interface is a real 64-queue veth in a private namespace attached by
// the real xsk-loader (which attaches the probes too); the counter values
// are synthetic, written into the pinned maps by this benchmark. The two
// cases alternate over XSKIT_BENCH_ROUNDS rounds (4), each with a fresh
// exporter, so both see the same machine load; the percentiles are over all
// rounds. Requests carry Prometheus' own Accept and Accept-Encoding headers.
// CPU is the exporter's threads' run time from /proc/PID/task/*/schedstat
// (nanoseconds, not clock ticks). XSKIT_BENCH_BODY=FILE keeps one body of
// the socket case (e.g. for promtool check metrics); XSKIT_BENCH_EXPORTER=PATH
// measures another build's xsk-exporter against this one's pins. Figures only; the
// targets (p99 < 5 ms, RSS < 30 MiB, idle CPU < 0.5 %) are printed next to
// them, never asserted.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/types.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bpf/xsk_probes.h"
#include "lib/drop_reasons.h"
#include "lib/fd.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"
#include "bench/bench_util.h"


namespace xskit {
namespace {

constexpr uint32_t kQueues = 64;
constexpr int kOtherFiles = 20000;

// An AF_XDP socket of its own umem (16 frames), copy mode, bound and never
// registered anywhere: what the inventory must list and the exporter publish.
// libxdp keeps pointers to the ring structs: a BenchXsk never moves.
struct BenchXsk {
  void* area = nullptr;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fq{}, tx{};
  xsk_ring_cons cq{}, rx{};
};
constexpr size_t kXskArea = 16 * 4096;

// One socket per queue of `dev` (in `netns`). A queue whose previous socket
// was just closed stays busy until the kernel's deferred release of its
// buffer pool has run: retried for up to two seconds.
void OpenSockets(const std::string& netns, const std::string& dev,
                 std::vector<std::unique_ptr<BenchXsk>>& out) {
  benchutil::InNetns(netns, [&] {
    for (uint32_t q = 0; q < kQueues; q++) {
      BenchXsk& s = *out.emplace_back(std::make_unique<BenchXsk>());
      s.area = mmap(nullptr, kXskArea, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      xsk_umem_config uc = {.fill_size = 64, .comp_size = 64, .frame_size = 4096,
                            .frame_headroom = 0, .flags = 0};
      xsk_socket_config sc{};
      sc.rx_size = 64;
      sc.tx_size = 64;
      sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
      sc.bind_flags = XDP_COPY;
      int err = s.area == MAP_FAILED ? -ENOMEM : 0;
      for (int attempt = 0; err == 0 && attempt < 40; attempt++) {
        err = xsk_umem__create(&s.umem, s.area, kXskArea, &s.fq, &s.cq, &uc);
        if (err) break;
        err = xsk_socket__create(&s.xsk, dev.c_str(), q, s.umem, &s.rx, &s.tx, &sc);
        if (err != -EBUSY || attempt == 39) break;
        xsk_umem__delete(s.umem);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        err = 0;
      }
      if (err) {
        xskit::benchutil::Fail(absl::StrFormat("exporter_bench: AF_XDP socket on %s queue %u: %s",
                                               dev, q, strerror(-err)));
      }
      fcntl(xsk_socket__fd(s.xsk), F_SETFD, FD_CLOEXEC);
    }
  });
}

// A process holding `n` open files (/dev/null) until killed.
pid_t HoldFiles(int n) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  for (int i = 0; i < n; i++)
    if (open("/dev/null", O_RDONLY) < 0) break;
  pause();
  _exit(0);
}

int Cpus() { return std::max(1, libbpf_num_possible_cpus()); }

template <typename K, typename V>
void Put(int fd, const K& key, const V& value) {
  std::vector<V> per_cpu(Cpus(), V{});
  per_cpu[0] = value;
  if (bpf_map_update_elem(fd, &key, per_cpu.data(), BPF_ANY) != 0)
    std::fprintf(stderr, "exporter_bench: map update: %s\n", strerror(errno));
}

Fd OpenPin(const std::string& path) { return Fd(bpf_obj_get(path.c_str())); }

// Synthetic values in every map the exporter reads; returns the number of
// drop reasons written.
size_t Populate(const std::string& root, const std::string& dir_name) {
  auto steer = PinnedSteer::Open(absl::StrCat(root, "/if/", dir_name));
  if (!steer.ok()) {
    std::fprintf(stderr, "exporter_bench: %s\n", std::string(steer.status().message()).c_str());
    return 0;
  }
  const xsk_steer_info& info = steer->info();
  for (uint32_t q = 0; q < info.nr_queues; q++) {
    xsk_steer_counters c{};
    for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++) c.packets[o] = 1000003ULL * (q + 1) + o;
    Put(steer->counters_fd(), q, c);
  }
  std::string probes = root + "/probes";
  Fd tx = OpenPin(probes + "/" + kPinTxStats), errs = OpenPin(probes + "/" + kPinTxErrors),
     drops = OpenPin(probes + "/" + kPinDrops), xdp = OpenPin(probes + "/" + kPinXdpErrors);
  if (!tx.valid() || !errs.valid() || !drops.valid() || !xdp.valid()) {
    std::fprintf(stderr, "exporter_bench: probes not pinned under %s\n", probes.c_str());
    return 0;
  }
  for (uint32_t q = 0; q < kQueues; q++) {
    xsk_probes_qkey k{info.netns_ino, info.ifindex, q};
    xsk_probes_tx v{};
    v.calls = 1000 + q;
    v.descs = 32000 + q;
    for (int b = 0; b < XSK_PROBES_BATCH_BUCKETS; b++) v.hist[b] = q + b;
    v.linear_skbs = v.descs;
    v.in_flight = q;
    Put(tx.get(), k, v);
    for (uint32_t cause : {XSK_PROBES_CAUSE_BUDGET, XSK_PROBES_CAUSE_CQ_FULL,
                           XSK_PROBES_CAUSE_SNDBUF}) {
      xsk_probes_err_key ek{k, static_cast<uint32_t>(EAGAIN), cause};
      Put(errs.get(), ek, uint64_t{q + cause});
    }
  }
  auto reasons = DropReasons::FromKernel();
  size_t n = reasons.ok() ? reasons->size() : 128;
  for (uint32_t r = 0; r < n; r++) {
    xsk_probes_drop_key dk{info.netns_ino, info.ifindex, r, 0, 0};
    Put(drops.get(), dk, uint64_t{r + 1});
  }
  for (uint32_t e : {ENETDOWN, EINVAL, ENOSPC}) {
    xsk_probes_xdp_key xk{info.netns_ino, info.ifindex, XSK_PROBES_XDP_REDIRECT_ERR, e, 0};
    Put(xdp.get(), xk, uint64_t{e});
  }
  return n;
}

// Run time of all of `pid`'s threads, in seconds (schedstat: nanoseconds).
double CpuSeconds(pid_t pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& t :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream in(t.path() / "schedstat");
    double run = 0;
    if (in >> run) ns += run;
  }
  return ns / 1e9;
}

std::string Status(pid_t pid, const std::string& key) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return "?";
}

double MiB(pid_t pid, const std::string& key) {
  return std::atof(Status(pid, key).c_str()) / 1024;  // "  12345 kB"
}

// What one case measured over all its rounds.
struct Figures {
  std::vector<double> ms;       // HTTP latency per scrape
  std::vector<double> pins_ms;  // xsk_exporter_scrape_duration_seconds
  double scrape_cpu_s = 0;      // exporter run time during the timed scrapes
  double idle_cpu_s = 0, idle_s = 0, paced_cpu_s = 0, paced_s = 0;
  double rss = 0, hwm = 0;  // MiB, the largest over the rounds
  size_t bytes = 0;
  int gzip = 0;  // responses that came compressed (loopback should get none)
};

double Pct(std::vector<double> v, int pct) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * pct / 100)];
}

constexpr int kScrapes = 250;    // timed, per round
constexpr int kPinScrapes = 50;  // reading xsk_exporter_scrape_duration_seconds, per round

// One round of one case: a fresh exporter, idle, back-to-back scrapes, then
// scrapes once a second. False when the exporter did not start.
bool Round(const std::string& pin_root, Figures& f, const char* keep_body) {
  const char* other = std::getenv("XSKIT_BENCH_EXPORTER");
  benchutil::ListeningChild exp({other ? other : benchutil::Bin("exporter/xsk-exporter"), "--pin-root",
                                 pin_root, "--web.listen-address", "127.0.0.1:0", "--log-level", "warn"},
                                /*capture_stderr=*/false);
  int port = exp.Port();
  if (port == 0) {
    std::fprintf(stderr, "exporter_bench: xsk-exporter did not start\n");
    return false;
  }
  // Idle: nobody scrapes (the first scrape comes after).
  double c0 = CpuSeconds(exp.pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  f.idle_cpu_s += CpuSeconds(exp.pid()) - c0;
  f.idle_s += 2;

  for (int i = 0; i < 10; i++) benchutil::ScrapeMetrics(port);  // warm: first discovery, allocations
  double c1 = CpuSeconds(exp.pid());
  for (int i = 0; i < kScrapes; i++) {
    auto t0 = std::chrono::steady_clock::now();
    f.bytes = benchutil::ScrapeMetrics(port);
    f.ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  f.scrape_cpu_s += CpuSeconds(exp.pid()) - c1;
  for (int i = 0; i < kPinScrapes; i++) {
    std::string body;
    benchutil::ScrapeMetrics(port, &body);
    if (body.find("\r\nContent-Encoding: gzip") != std::string::npos) f.gzip++;
    const std::string key = "\nxsk_exporter_scrape_duration_seconds ";
    if (size_t at = body.find(key); at != std::string::npos)
      f.pins_ms.push_back(std::atof(body.c_str() + at + key.size()) * 1e3);
    if (keep_body && i == 0) {
      size_t hdr = body.find("\r\n\r\n");
      std::ofstream(keep_body) << body.substr(hdr == std::string::npos ? 0 : hdr + 4);
    }
  }
  // Scraped once a second, as a fleet Prometheus would.
  double c2 = CpuSeconds(exp.pid());
  auto t2 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; i++) {
    benchutil::ScrapeMetrics(port);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  f.paced_cpu_s += CpuSeconds(exp.pid()) - c2;
  f.paced_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  f.rss = std::max(f.rss, MiB(exp.pid(), "VmRSS"));
  f.hwm = std::max(f.hwm, MiB(exp.pid(), "VmHWM"));
  return true;  // exp's destructor stops the exporter
}

// The socket case's load: 256 AF_XDP sockets (every queue of both ends of
// two 64-queue veth pairs) and 20,000 other open files in two processes.
class SocketLoad {
 public:
  SocketLoad(const benchutil::NetnsPair& p1, const benchutil::NetnsPair& p2) {
    // Forked before the sockets exist, so the holders do not share them.
    holders_ = {HoldFiles(kOtherFiles / 2), HoldFiles(kOtherFiles / 2)};
    OpenSockets(p1.ns_a(), p1.dev_a(), xsks_);
    OpenSockets(p1.ns_b(), p1.dev_b(), xsks_);
    OpenSockets(p2.ns_a(), p2.dev_a(), xsks_);
    OpenSockets(p2.ns_b(), p2.dev_b(), xsks_);
  }
  ~SocketLoad() {
    for (pid_t h : holders_) ::kill(h, SIGKILL), ::waitpid(h, nullptr, 0);
    for (auto& x : xsks_) {
      xsk_socket__delete(x->xsk);
      xsk_umem__delete(x->umem);
      munmap(x->area, kXskArea);
    }
  }
  size_t sockets() const { return xsks_.size(); }

 private:
  std::vector<pid_t> holders_;
  std::vector<std::unique_ptr<BenchXsk>> xsks_;
};

void PrintRow(const char* what, const std::string& base, const std::string& socks,
              const char* target = "") {
  std::printf("  %-44s %22s %26s   %s\n", what, base.c_str(), socks.c_str(), target);
}

std::string F(const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof(b), fmt, v);
  return b;
}

int Main() {
  benchutil::TestPinRoot root;  // /sys/fs/bpf/xskit-test-<pid>, removed at the end
  benchutil::NetnsPair pair(benchutil::NetnsPair::Options{.queues = kQueues});
  auto attach = benchutil::RunCmd({benchutil::Bin("loader/xsk-loader"), "--pin-root", root.path(),
                                 "attach", pair.dev_a()},
                                pair.ns_a());
  if (attach.status != 0) {
    std::fprintf(stderr, "exporter_bench: attach failed: %s\n", attach.output.c_str());
    return 1;
  }
  std::string dir_name = absl::StrCat(pair.ns_a(), ":", pair.dev_a());
  size_t reasons = Populate(root.path(), dir_name);
  benchutil::NetnsPair pair2(benchutil::NetnsPair::Options{.queues = kQueues});
  const char* rounds_env = std::getenv("XSKIT_BENCH_ROUNDS");
  const int rounds = std::max(1, rounds_env ? std::atoi(rounds_env) : 4);
  const char* keep_body = std::getenv("XSKIT_BENCH_BODY");

  std::string load_start = benchutil::LoadAverage();
  Figures base, socks;
  size_t nr_sockets = 0;
  bool ok = true;
  for (int r = 0; r < rounds && ok; r++) {
    ok = Round(root.path(), base, nullptr);
    if (!ok) break;
    SocketLoad load(pair, pair2);
    nr_sockets = load.sockets();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ok = Round(root.path(), socks, r == 0 ? keep_body : nullptr);
  }
  std::string load_end = benchutil::LoadAverage();
  (void)benchutil::RunCmd({benchutil::Bin("loader/xsk-loader"), "--pin-root", root.path(), "detach",
                         pair.dev_a()},
                        pair.ns_a());
  if (!ok) return 1;

  const int n = rounds * kScrapes;
  const char* other = std::getenv("XSKIT_BENCH_EXPORTER");
  std::printf("exporter_bench: %u queues, %zu drop reasons; %d rounds, each a fresh exporter, "
              "the two cases alternating; load average %s at start, %s at end (%ld CPUs)%s%s\n",
              kQueues, reasons, rounds, load_start.c_str(), load_end.c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), other ? "; exporter " : "", other ? other : "");
  PrintRow("", "baseline", absl::StrCat(nr_sockets, " sockets + ", kOtherFiles, " files"));
  PrintRow("scrape body (bytes)", absl::StrCat(base.bytes), absl::StrCat(socks.bytes));
  PrintRow(absl::StrCat("HTTP latency p50 (", n, " scrapes)").c_str(), F("%.3f ms", Pct(base.ms, 50)),
           F("%.3f ms", Pct(socks.ms, 50)));
  PrintRow("HTTP latency p99", F("%.3f ms", Pct(base.ms, 99)), F("%.3f ms", Pct(socks.ms, 99)),
           "target < 5 ms");
  PrintRow("HTTP latency max", F("%.3f ms", Pct(base.ms, 100)), F("%.3f ms", Pct(socks.ms, 100)));
  // Absent when the bodies came compressed (another build's exporter).
  auto pins = [](const Figures& f, int pct) {
    return f.pins_ms.empty() ? std::string("n/a") : F("%.3f ms", Pct(f.pins_ms, pct));
  };
  PrintRow("reading the pins p50 (scrape_duration_seconds)", pins(base, 50), pins(socks, 50));
  PrintRow("reading the pins p99", pins(base, 99), pins(socks, 99));
  PrintRow("exporter CPU per scrape (all threads)", F("%.3f ms", base.scrape_cpu_s / n * 1e3),
           F("%.3f ms", socks.scrape_cpu_s / n * 1e3));
  PrintRow("RSS after scrapes (largest round)", F("%.1f MiB", base.rss), F("%.1f MiB", socks.rss),
           "target < 30 MiB");
  PrintRow("RSS peak (VmHWM)", F("%.1f MiB", base.hwm), F("%.1f MiB", socks.hwm),
           "target < 30 MiB");
  PrintRow("CPU idle", F("%.4f %%", base.idle_cpu_s / base.idle_s * 100),
           F("%.4f %%", socks.idle_cpu_s / socks.idle_s * 100), "target < 0.5 %");
  PrintRow("CPU scraped once a second", F("%.3f %%", base.paced_cpu_s / base.paced_s * 100),
           F("%.3f %%", socks.paced_cpu_s / socks.paced_s * 100));
  if (base.gzip || socks.gzip)
    std::printf("  note: %d responses on loopback came gzip-compressed\n", base.gzip + socks.gzip);
  return 0;
}

}  // namespace
}  // namespace xskit

int main() { return xskit::benchutil::Guarded([] { return xskit::Main(); }); }
