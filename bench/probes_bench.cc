// What the probes cost, measured the way issue 16 asks, all from one run:
//  1. AF_XDP copy-mode txonly, 64-byte frames, veth between namespaces.
//     Two workloads: an AF_XDP receiver on the peer drains every frame
//     (xsk_steer + socket: nothing is dropped), and the peer's stack drops
//     every frame (UDP to a closed port: one NO_SOCKET kfree_skb per frame,
//     the drop-storm workload).
//  2. Per workload, in alternating rounds: no probe, every xskit probe
//     (--drops=interfaces, the default), every xskit probe with
//     --drops=reasons and with --drops=off (what the other probes cost on
//     the same frames), the smallest useful drop probe alone (a per-CPU array
//     slot per reason), and bench/bpftrace/xsk_signals.bt (the script a user
//     would otherwise reach for) when bpftrace is installed. Medians; pps
//     ratio to no probe, throughput loss, and ns per drop from the pps delta
//     (1/pps with - 1/pps without).
//  3. What each drop program costs per run in full, from the kernel's own
//     BPF run-time statistics (each program alone, the drop workload): the
//     xskit drop probe in both modes, bpftrace's, the smallest useful one on
//     tp_btf and raw_tp, xskit's key on raw_tp, and empty tp_btf/raw_tp
//     programs (the dispatch, plus the statistics' own two clock reads).
// Figures, not assertions: printed side by side from one run.
#include <fcntl.h>
#include <time.h>
#include <bpf/bpf.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_format.h"
#include "lib/attach.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/xsk_probes_prog.h"
#include "xsk/xsk_socket.h"
#include "bench/bench_util.h"
#include "xdp_baselines.skel.h"

namespace {

using xskit::benchutil::InNetns;
using xskit::benchutil::NetnsPair;
using Clock = std::chrono::steady_clock;

// Seconds per round (XSKIT_BENCH_SECONDS, default 2).
const double kSeconds =
    std::getenv("XSKIT_BENCH_SECONDS") ? std::atof(std::getenv("XSKIT_BENCH_SECONDS")) : 2.0;
// Rounds per comparison (XSKIT_BENCH_ROUNDS, default 5).
const int kRounds = std::getenv("XSKIT_BENCH_ROUNDS") ? std::atoi(std::getenv("XSKIT_BENCH_ROUNDS")) : 5;
constexpr uint32_t kBatch = 64;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One txonly round: completed frames per wall-clock second, and per second
// of this thread's CPU time. On veth the whole path of a frame (the peer's
// receive, its drop, every probe on the way) runs in the sender's syscall
// and the softirq it raises on leaving it, so the CPU-time figure is the
// cost per frame with the time spent waiting for a CPU on a shared host
// left out (this kernel charges softirq time to the task it interrupts:
// no CONFIG_IRQ_TIME_ACCOUNTING; the bench prints whether that holds).
struct Rate {
  double wall = 0, cpu = 0;
};

Rate Median(const std::vector<Rate>& v) {
  std::vector<double> w, c;
  for (const auto& r : v) {
    w.push_back(r.wall);
    c.push_back(r.cpu);
  }
  return {Median(w), Median(c)};
}

double ThreadCpuS() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

Rate Txonly(xskit::XskSocket& tx, const std::vector<uint8_t>& frame) {
  uint64_t done = 0;
  auto end = Clock::now() + std::chrono::duration<double>(kSeconds);
  auto fill = [&](uint32_t, std::span<uint8_t> b) { std::memcpy(b.data(), frame.data(), frame.size()); };
  auto t0 = Clock::now();
  double c0 = ThreadCpuS();
  while (Clock::now() < end) {
    tx.QueueTx(kBatch, static_cast<uint32_t>(frame.size()), fill);
    tx.Kick();
    done += tx.Complete();
  }
  double cpu = ThreadCpuS() - c0;
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  while (tx.outstanding() && tx.Complete()) {
  }
  return {done / secs, cpu > 0 ? done / cpu : 0};
}

struct Workload {
  NetnsPair& net;
  std::unique_ptr<xskit::XskSocket> tx;
  std::vector<uint8_t> frame;
};

// A pid running bench/bpftrace/xsk_signals.bt, or 0 when bpftrace is absent.
pid_t StartBpftrace() {
  if (std::system("command -v bpftrace >/dev/null 2>&1") != 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execlp("bpftrace", "bpftrace", XSKIT_SOURCE_DIR "/bench/bpftrace/xsk_signals.bt", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // attach time
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) return -1;  // it died: unusable here
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGINT);
  waitpid(pid, nullptr, 0);
}

}  // namespace

int main() {
  xskit::InitLogging("error");
  xskit::benchutil::TestPinRoot root;
  xskit::PinLayout pins(root.path());
  NetnsPair net;

  // Receiver: xsk_steer on b steering udp:4791 to a socket on queue 0,
  // drained by a thread; anything else goes to b's stack (and port 9 has no
  // listener there: every such frame is a NO_SOCKET drop).
  auto attach = xskit::benchutil::RunCmd({xskit::benchutil::Bin("loader/xsk-loader"), "--pin-root",
                                        root.path(), "attach", net.dev_b(), "--no-probes",
                                        "--match", "udp:4791"},
                                       net.ns_b());
  if (attach.status != 0) {
    std::fprintf(stderr, "attach: %s\n", attach.output.c_str());
    return 1;
  }
  std::unique_ptr<xskit::XskSocket> rx, tx;
  InNetns(net.ns_b(), [&] {
    auto s = xskit::XskSocket::Open(net.dev_b(), 0, {.pin_root = root.path()});
    if (s.ok()) rx = std::move(*s);
  });
  InNetns(net.ns_a(), [&] {
    auto s = xskit::XskSocket::Create(net.dev_a(), 0, false, {});
    if (s.ok()) tx = std::move(*s);
  });
  if (!rx || !tx) {
    std::fprintf(stderr, "sockets failed\n");
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread drain([&] {
    while (!stop) rx->Receive(10, [](std::span<const uint8_t>) {}).IgnoreError();
  });

  auto frame_to = [&](uint16_t port) {
    return xskit::benchutil::Packet()
        .Eth(net.mac_b(), net.mac_a())
        .IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
        .Udp(1234, port)
        .Payload(64 - 4 - 14 - 20 - 8)  // 64 bytes on the wire with the FCS
        .Build();
  };
  const auto received = frame_to(4791);
  const auto dropped = frame_to(9);  // the peer's stack: no socket on :9

  // ---- the configurations, each switched on and off around a round ----
  auto attach_probes = [&](xskit::DropsMode drops) {
    return [&, drops] {
      bool already = false;
      xskit::ProbeOptions o;
      o.mode = xskit::ProbeModeFromEnv();
      o.drops = drops;
      auto s = xskit::AttachProbes(pins, o, &already);
      if (!s.ok()) std::fprintf(stderr, "probes: %s\n", std::string(s.status().message()).c_str());
    };
  };
  auto probes_off = [&] { (void)xskit::DetachProbes(pins); };
  xdp_baselines* base = xdp_baselines__open_and_load();
  if (!base) std::fprintf(stderr, "xdp_baselines: load failed (baseline drop probes left out)\n");
  bpf_link* base_link = nullptr;
  auto base_on = [&](bpf_program* p) {
    return [&, p] { base_link = base ? bpf_program__attach(p) : nullptr; };
  };
  auto base_off = [&] {
    if (base_link) bpf_link__destroy(base_link);
    base_link = nullptr;
  };
  const bool have_bt = std::system("command -v bpftrace >/dev/null 2>&1") == 0;
  pid_t bt = 0;
  auto bt_on = [&] { bt = StartBpftrace(); };
  auto bt_off = [&] {
    Stop(bt);
    bt = 0;
  };
  struct Config {
    const char* name;
    std::function<void()> on, off;
  };
  std::vector<Config> configs = {
      {"no probe", [] {}, [] {}},
      {"xskit, all probes (--drops=interfaces)", attach_probes(xskit::DropsMode::kInterfaces), probes_off},
      {"xskit, all probes, --drops=reasons", attach_probes(xskit::DropsMode::kReasons), probes_off},
      {"xskit, all probes, --drops=off", attach_probes(xskit::DropsMode::kOff), probes_off},
  };
  if (base)
    configs.push_back({"smallest useful drop probe alone", base_on(base->progs.kfree_skb_by_reason), base_off});
  if (have_bt) configs.push_back({"bpftrace xsk_signals.bt", bt_on, bt_off});

  std::printf("probe overhead: AF_XDP copy-mode txonly, %zu-byte frames + FCS, veth between namespaces,\n"
              "%d alternating rounds of %.0f s, median; load average at start: ",
              received.size(), kRounds, kSeconds);
  std::fflush(stdout);
  std::system("cut -d' ' -f1-3 /proc/loadavg");

  // Rounds alternate every configuration, so a burst of load on this shared
  // host hits them alike; returns the median pps per configuration.
  auto measure = [&](const std::vector<uint8_t>& frame) {
    std::vector<std::vector<Rate>> pps(configs.size());
    for (int r = 0; r < kRounds; r++)
      for (size_t i = 0; i < configs.size(); i++) {
        configs[i].on();
        pps[i].push_back(Txonly(*tx, frame));
        configs[i].off();
      }
    std::vector<Rate> med;
    for (auto& v : pps) med.push_back(Median(v));
    return med;
  };
  auto drains = measure(received);
  auto drops = measure(dropped);

  // Per configuration: wall-clock pps and pps per CPU second, each with its
  // ratio to no probe, for both workloads; then the drop storm's loss and
  // ns per drop (from the CPU-time figure: 1/pps with - 1/pps without).
  std::printf("\n%-40s %-25s %-25s %7s %8s\n", "", "receiver drains", "peer drops every frame",
              "storm", "storm");
  std::printf("%-40s %9s %5s %9s %5s %9s %5s %9s %5s %7s %8s\n", "configuration", "pps", "ratio",
              "pps/cpu", "ratio", "pps", "ratio", "pps/cpu", "ratio", "loss", "ns/drop");
  std::vector<double> loss(configs.size()), loss_wall(configs.size());
  auto r3 = [](double a, double b) { return b > 0 ? a / b : 0; };
  for (size_t i = 0; i < configs.size(); i++) {
    loss[i] = 1 - r3(drops[i].cpu, drops[0].cpu);
    loss_wall[i] = 1 - r3(drops[i].wall, drops[0].wall);
    double per_drop = drops[i].cpu > 0 ? 1e9 / drops[i].cpu - 1e9 / drops[0].cpu : 0;
    std::printf("%-40s %9.0f %5.3f %9.0f %5.3f %9.0f %5.3f %9.0f %5.3f %6.1f%% %8.1f\n",
                configs[i].name, drains[i].wall, r3(drains[i].wall, drains[0].wall), drains[i].cpu,
                r3(drains[i].cpu, drains[0].cpu), drops[i].wall, r3(drops[i].wall, drops[0].wall),
                drops[i].cpu, r3(drops[i].cpu, drops[0].cpu), 100 * loss[i], per_drop);
  }
  std::printf("(pps/cpu: frames per second of the sending thread's CPU time, which carries the\n"
              " peer's receive and drop on veth; loss and ns/drop are from it)\n");

  // ---- the kernel's BPF run-time statistics, each drop program alone ----
  auto run_ns = [](int prog_fd) {
    bpf_prog_info pi{};
    uint32_t plen = sizeof(pi);
    if (bpf_obj_get_info_by_fd(prog_fd, &pi, &plen) != 0 || pi.run_cnt == 0) return -1.0;
    return static_cast<double>(pi.run_time_ns) / pi.run_cnt;
  };
  // The drop program of the pinned probes (whichever attach type it got).
  auto probe_drop_ns = [&] {
    for (const char* name : {"link_btf_kfree_skb", "link_tp_kfree_skb", "link_btf_kfree_skb_reasons",
                             "link_tp_kfree_skb_reasons"}) {
      auto link = xskit::OpenPin(pins.ProbesDir(), name);
      if (!link.ok()) continue;
      bpf_link_info li{};
      uint32_t len = sizeof(li);
      if (bpf_obj_get_info_by_fd(link->get(), &li, &len) != 0) return -1.0;
      xskit::Fd prog(bpf_prog_get_fd_by_id(li.prog_id));
      return prog.valid() ? run_ns(prog.get()) : -1.0;
    }
    return -1.0;
  };
  // bpftrace's kfree_skb program: the one that appeared with it.
  auto prog_ids = [] {
    std::vector<uint32_t> ids;
    for (uint32_t id = 0; bpf_prog_get_next_id(id, &id) == 0;) ids.push_back(id);
    return ids;
  };
  auto new_kfree_skb_prog_ns = [&](const std::vector<uint32_t>& before) {
    for (uint32_t id : prog_ids()) {
      if (std::find(before.begin(), before.end(), id) != before.end()) continue;
      xskit::Fd fd(bpf_prog_get_fd_by_id(id));
      bpf_prog_info pi{};
      uint32_t plen = sizeof(pi);
      if (!fd.valid() || bpf_obj_get_info_by_fd(fd.get(), &pi, &plen) != 0) continue;
      if (std::strstr(pi.name, "kfree_skb")) return run_ns(fd.get());
    }
    return -1.0;
  };
  struct Stat {
    std::string name;
    double ns = -1;
  };
  std::vector<Stat> stats;
  int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (stats_fd < 0) std::fprintf(stderr, "bpf_enable_stats: %s\n", std::strerror(errno));
  auto stat_probes = [&](xskit::DropsMode m, const char* name) {
    attach_probes(m)();
    Txonly(*tx, dropped);
    stats.push_back({name, probe_drop_ns()});
    probes_off();
  };
  auto stat_base = [&](bpf_program* p, const char* name) {
    bpf_link* l = bpf_program__attach(p);
    if (!l) return;
    Txonly(*tx, dropped);
    stats.push_back({name, run_ns(bpf_program__fd(p))});
    bpf_link__destroy(l);
  };
  if (stats_fd >= 0) {
    stat_probes(xskit::DropsMode::kInterfaces, "xskit drop probe, --drops=interfaces");
    stat_probes(xskit::DropsMode::kReasons, "xskit drop probe, --drops=reasons");
    if (base) {
      stat_base(base->progs.kfree_skb_by_reason, "smallest useful (per-reason array), tp_btf");
      stat_base(base->progs.raw_kfree_skb_by_reason, "smallest useful (per-reason array), raw_tp");
      stat_base(base->progs.raw_kfree_skb_by_iface, "xskit's key by probe reads, raw_tp");
      stat_base(base->progs.kfree_skb_empty, "empty program, tp_btf");
      stat_base(base->progs.raw_kfree_skb_empty, "empty program, raw_tp");
    }
    if (have_bt) {
      auto before = prog_ids();
      pid_t p = StartBpftrace();
      if (p > 0) {
        Txonly(*tx, dropped);
        stats.push_back({"bpftrace tracepoint:skb:kfree_skb", new_kfree_skb_prog_ns(before)});
      }
      Stop(p);
    }
    close(stats_fd);
  }
  if (base) xdp_baselines__destroy(base);

  std::printf("\nper drop, the program's full run time (kernel BPF stats, run_time_ns / run_cnt,\n"
              "each alone on the drop workload; includes the stats' own two clock reads):\n");
  for (const auto& st : stats)
    if (st.ns >= 0)
      std::printf("  %-48s %7.1f ns\n", st.name.c_str(), st.ns);
    else
      std::printf("  %-48s %7s\n", st.name.c_str(), "-");
  std::printf("  (bpftrace's figure is its program only: a classic tracepoint also fills a perf\n"
              "   record before the program runs, which the pps column above does include)\n");

  // ---- the targets ----
  const size_t kAll = 1, kReasons = 2;
  double all = r3(drops[kAll].cpu, drops[0].cpu);
  std::printf("\ntarget: drop storm, pps/cpu ratio with all xskit probes >= 0.97: %.3f %s "
              "(wall-clock pps: %.3f; --drops=reasons: %.3f)\n",
              all, all >= 0.97 ? "(met)" : "(NOT met)", r3(drops[kAll].wall, drops[0].wall),
              r3(drops[kReasons].cpu, drops[0].cpu));
  double drained = r3(drains[kAll].cpu, drains[0].cpu);
  std::printf("        receiver drains, pps/cpu ratio with all xskit probes >= 0.97: %.3f %s "
              "(wall-clock: %.3f)\n",
              drained, drained >= 0.97 ? "(met)" : "(NOT met)", r3(drains[kAll].wall, drains[0].wall));
  if (have_bt) {
    double bt_loss = loss.back();
    auto vs = [&](size_t i) {
      return bt_loss > 0 ? absl::StrFormat("%.2f", loss[i] / bt_loss) : std::string("-");
    };
    bool met = bt_loss > 0 && loss[kAll] <= bt_loss / 3;
    std::printf("target: xskit's throughput loss <= 1/3 of bpftrace's (pps/cpu): %.1f%% vs %.1f%%, "
                "%s %s (--drops=reasons: %s; wall-clock: %.1f%% vs %.1f%%)\n",
                100 * loss[kAll], 100 * bt_loss, vs(kAll).c_str(), met ? "(met)" : "(NOT met)",
                vs(kReasons).c_str(), 100 * loss_wall[kAll], 100 * loss_wall.back());
  } else {
    std::printf("target: vs bpftrace: not measured (bpftrace not installed)\n");
  }
  // What the BPF statistics imply for the storm: one run of the drop
  // program per frame on top of 1/pps of the rest.
  if (!stats.empty() && stats[0].ns > 0 && drops[0].cpu > 0)
    std::printf("implied by the BPF stats: the drop probe's %.1f ns per frame at %.0f frames per CPU "
                "second: ratio %.4f\n",
                stats[0].ns, drops[0].cpu, 1 / (1 + stats[0].ns * drops[0].cpu / 1e9));
  std::printf("(a loss or ns/drop below zero is run-to-run noise larger than the effect)\n");

  stop = true;
  drain.join();
  rx.reset();
  xskit::benchutil::RunCmd({xskit::benchutil::Bin("loader/xsk-loader"), "--pin-root", root.path(),
                          "detach", net.dev_b()}, net.ns_b());
  return 0;
}
