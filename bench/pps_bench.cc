// The pps table of the kernel series' experiments, measured side by side in
// one run on a fresh sandbox (netns + veth): copy-mode txonly and rxdrop at
// 64 bytes, with and without xskit's probes, l2fwd, and AF_PACKET txonly,
// each beside a minimal libxdp loop written here (the yardstick xdpsock
// stands for), plus xsk-bench's userspace instructions per packet
// (callgrind).
//
// l2fwd: a yardstick sender floods the forwarder, which swaps the MACs and
// transmits each frame back on the same socket. Its pps is frames
// forwarded (Tx completions of the forwarder) per second; the cross-check
// is what came back: the sender veth's rx_packets over the run, less the
// ICMP errors the receiver's stack sent while no socket was registered.
// The end-to-end table ("what xskit costs my AF_XDP application"): the
// yardstick rxdrop and txonly applications with (a) only a plain redirect
// program on their interface, (b) xskit's steering instead, (c) + every
// probe, (d) + xsk-exporter scraped every second, (e) the same exporter
// with --bpf.run-time-stats (every BPF program then pays two clock reads
// per run); ratios to (a).
// Figures and ratios only; nothing asserts on time.
//
//   build/bench/pps_bench [--seconds 2] [--rounds 3] [--no-callgrind]
//                         [--xsk-bench PATH]   (another build, for an A/B)
//                         [--e2e-only | --no-e2e]
//                         [--e2e-seconds 1] [--e2e-rounds 9]
#include <bpf/bpf.h>
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <poll.h>
#include <linux/if_link.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "xsk_bench/sandbox.h"
#include "lib/attach.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/xsk_probes_prog.h"
#include "lib/xsk_steer_prog.h"
#include "nlohmann/json.hpp"
#include "bench/bench_util.h"
#include "xdp_baselines.skel.h"

namespace {

using xskit::bench::Endpoint;
using xskit::bench::Sandbox;
using xskit::benchutil::ClockS;
using xskit::benchutil::FormatCI;
using xskit::benchutil::MedianCI;
using xskit::benchutil::MedianWithCI;
using xskit::benchutil::NowS;
using xskit::benchutil::Rate;
using xskit::benchutil::RunCmd;

void EnterNetns(const std::string& netns) {
  int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::unshare(CLONE_FS) != 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    std::perror(("setns " + netns).c_str());
    std::abort();
  }
  ::close(fd);
}

// ---- the yardstick: the smallest libxdp loops, as xdpsock writes them ----

constexpr uint32_t kFrames = 4096, kFrameSize = 4096, kRing = 2048, kBatch = 64;

struct MiniXsk {
  void* area = nullptr;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fill{}, tx{};
  xsk_ring_cons comp{}, rx{};
  bool ok = false;
  MiniXsk(const std::string& ifname) {
    area = mmap(nullptr, kFrames * kFrameSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    xsk_umem_config uc{2 * kRing, kRing, kFrameSize, 0, 0};
    xsk_socket_config sc{};
    sc.rx_size = sc.tx_size = kRing;
    sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    sc.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    if (xsk_umem__create(&umem, area, kFrames * kFrameSize, &fill, &comp, &uc)) return;
    // A socket just closed on this queue is released asynchronously: retry EBUSY.
    for (int i = 0; i < 40; i++) {
      int err = xsk_socket__create(&xsk, ifname.c_str(), 0, umem, &rx, &tx, &sc);
      if (err == 0) break;
      xsk = nullptr;
      if (err != -EBUSY) break;
      usleep(50000);
    }
    if (!xsk) {
      std::fprintf(stderr, "yardstick: AF_XDP socket on %s failed\n", ifname.c_str());
      return;
    }
    ok = true;
    uint32_t idx;
    uint32_t n = xsk_ring_prod__reserve(&fill, kFrames / 2, &idx);
    for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fill, idx + i) = uint64_t(i) * kFrameSize;
    xsk_ring_prod__submit(&fill, n);
  }
  ~MiniXsk() {
    if (xsk) xsk_socket__delete(xsk);
    if (umem) xsk_umem__delete(umem);
    munmap(area, kFrames * kFrameSize);
  }
};

// Sends until `stop` (or `count` completions); returns completions.
uint64_t YardstickTx(MiniXsk& s, const std::vector<uint8_t>& frame, const std::atomic<bool>& stop,
                     uint64_t count = 0) {
  if (!s.ok) return 0;
  for (uint32_t i = kFrames / 2; i < kFrames; i++)
    std::memcpy(static_cast<uint8_t*>(s.area) + uint64_t(i) * kFrameSize, frame.data(), frame.size());
  uint32_t next = 0, outstanding = 0;
  uint64_t done = 0, queued = 0;
  while (!stop.load(std::memory_order_relaxed) && (!count || done < count)) {
    uint32_t idx;
    if ((!count || queued < count) && outstanding + kBatch <= kFrames / 2 &&
        xsk_ring_prod__reserve(&s.tx, kBatch, &idx) == kBatch) {
      for (uint32_t i = 0; i < kBatch; i++) {
        xdp_desc* d = xsk_ring_prod__tx_desc(&s.tx, idx + i);
        d->addr = uint64_t(kFrames / 2 + next) * kFrameSize;
        d->len = frame.size();
        next = (next + 1) % (kFrames / 2);
      }
      xsk_ring_prod__submit(&s.tx, kBatch);
      outstanding += kBatch;
      queued += kBatch;
    }
    if (xsk_ring_prod__needs_wakeup(&s.tx)) sendto(xsk_socket__fd(s.xsk), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    uint32_t n = xsk_ring_cons__peek(&s.comp, kRing, &idx);
    xsk_ring_cons__release(&s.comp, n);
    outstanding -= n;
    done += n;
  }
  return done;
}

uint64_t YardstickRx(MiniXsk& s, const std::atomic<bool>& stop) {
  uint64_t got = 0;
  if (!s.ok) return 0;
  while (!stop.load(std::memory_order_relaxed)) {
    uint32_t idx, fidx;
    uint32_t n = xsk_ring_cons__peek(&s.rx, kBatch, &idx);
    if (!n) {
      if (xsk_ring_prod__needs_wakeup(&s.fill)) recvfrom(xsk_socket__fd(s.xsk), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      continue;
    }
    while (xsk_ring_prod__reserve(&s.fill, n, &fidx) != n) {
    }
    for (uint32_t i = 0; i < n; i++)
      *xsk_ring_prod__fill_addr(&s.fill, fidx + i) = xsk_ring_cons__rx_desc(&s.rx, idx + i)->addr;
    xsk_ring_prod__submit(&s.fill, n);
    xsk_ring_cons__release(&s.rx, n);
    got += n;
  }
  return got;
}

// l2fwd as xdpsock writes it: completed Tx frames back to the fill ring,
// then receive, swap the MACs and transmit on the same socket.
struct FwdCount {
  uint64_t received = 0, forwarded = 0;  // forwarded: Tx completions
};

FwdCount YardstickL2Fwd(MiniXsk& s, const std::atomic<bool>& stop) {
  FwdCount n;
  if (!s.ok) return n;
  const int fd = xsk_socket__fd(s.xsk);
  uint32_t outstanding = 0;
  auto complete = [&] {
    if (!outstanding) return;
    if (xsk_ring_prod__needs_wakeup(&s.tx)) sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    uint32_t cidx, fidx;
    uint32_t m = xsk_ring_cons__peek(&s.comp, kBatch, &cidx);
    if (!m) return;
    while (xsk_ring_prod__reserve(&s.fill, m, &fidx) != m) {
      if (xsk_ring_prod__needs_wakeup(&s.fill)) recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
    for (uint32_t i = 0; i < m; i++)
      *xsk_ring_prod__fill_addr(&s.fill, fidx + i) = *xsk_ring_cons__comp_addr(&s.comp, cidx + i);
    xsk_ring_prod__submit(&s.fill, m);
    xsk_ring_cons__release(&s.comp, m);
    outstanding -= m;
    n.forwarded += m;
  };
  while (!stop.load(std::memory_order_relaxed)) {
    complete();
    uint32_t idx, tidx;
    uint32_t got = xsk_ring_cons__peek(&s.rx, kBatch, &idx);
    if (!got) {
      if (xsk_ring_prod__needs_wakeup(&s.fill)) recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      continue;
    }
    while (xsk_ring_prod__reserve(&s.tx, got, &tidx) != got) {
      if (stop.load(std::memory_order_relaxed)) return n;
      complete();
      if (xsk_ring_prod__needs_wakeup(&s.tx)) sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    }
    for (uint32_t i = 0; i < got; i++) {
      const xdp_desc* in = xsk_ring_cons__rx_desc(&s.rx, idx + i);
      uint8_t* pkt = static_cast<uint8_t*>(xsk_umem__get_data(s.area, xsk_umem__add_offset_to_addr(in->addr)));
      uint8_t tmp[6];
      std::memcpy(tmp, pkt, 6);
      std::memcpy(pkt, pkt + 6, 6);
      std::memcpy(pkt + 6, tmp, 6);
      xdp_desc* out = xsk_ring_prod__tx_desc(&s.tx, tidx + i);
      out->addr = in->addr;
      out->len = in->len;
    }
    xsk_ring_prod__submit(&s.tx, got);
    xsk_ring_cons__release(&s.rx, got);
    outstanding += got;
    n.received += got;
  }
  return n;
}

// ---- the driver ----

struct Ctx {
  Endpoint tx, rx;
  std::vector<uint8_t> frame;
  std::string pin_root;
  std::string self, xsk_bench;
  double secs = 2;
  int rounds = 3;
  // The end-to-end table: more, shorter rounds, so that each setup's
  // per-round ratio to (a) gets a confidence interval.
  double e2e_secs = 1;
  int e2e_rounds = 9;
};

// Of the rounds that measured something: a failed run (0) is left out,
// not counted as a zero.
double Median(std::vector<double> v) {
  std::erase_if(v, [](double x) { return x <= 0; });
  return xskit::benchutil::Median(std::move(v));
}

double TimedTx(const Ctx& c) {
  double pps = 0;
  std::thread t([&] {
    EnterNetns(c.tx.netns);
    MiniXsk s(c.tx.ifname);
    std::atomic<bool> stop{false};
    std::thread timer([&] { usleep(c.secs * 1e6); stop = true; });
    double t0 = NowS();
    uint64_t n = YardstickTx(s, c.frame, stop);
    pps = n / (NowS() - t0);
    timer.join();
  });
  t.join();
  return pps;
}

// A yardstick sender in the tx netns for as long as `during` runs.
void WithSender(const Ctx& c, const std::function<void()>& during) {
  std::atomic<bool> stop{false};
  std::thread t([&] {
    EnterNetns(c.tx.netns);
    MiniXsk s(c.tx.ifname);
    YardstickTx(s, c.frame, stop);
  });
  usleep(200000);
  during();
  stop = true;
  t.join();
}

// In the receiver's netns, on its own thread: a yardstick socket registered
// in the attach's XSKMAP, `loop(socket, stop)` run for the round's seconds.
// Returns the seconds the loop ran, or 0 when the socket could not be set up.
template <typename Loop>
double OnRegisteredSocket(const Ctx& c, const char* what, Loop&& loop) {
  double secs = 0;
  std::thread t([&] {
    EnterNetns(c.rx.netns);
    MiniXsk s(c.rx.ifname);
    auto ns = xskit::CurrentNetns();
    auto steer = xskit::PinnedSteer::Open(
        xskit::PinLayout(c.pin_root).IfaceDir(xskit::IfaceDirName(*ns, c.rx.ifname)));
    if (!s.ok || !steer.ok() || !steer->RegisterSocket(0, xsk_socket__fd(s.xsk)).ok()) {
      std::fprintf(stderr, "%s: cannot register in the XSKMAP\n", what);
      return;
    }
    std::atomic<bool> stop{false};
    std::thread timer([&] { usleep(c.secs * 1e6); stop = true; });
    double t0 = NowS();
    loop(s, stop);
    secs = NowS() - t0;
    timer.join();
    (void)steer->UnregisterSocket(0);
  });
  t.join();
  return secs;
}

double YardstickRxPps(const Ctx& c) {
  double pps = 0;
  WithSender(c, [&] {
    uint64_t n = 0;
    double secs = OnRegisteredSocket(c, "yardstick rx", [&](MiniXsk& s, std::atomic<bool>& stop) {
      n = YardstickRx(s, stop);
    });
    if (secs > 0) pps = n / secs;
  });
  return pps;
}

// UDP frames that came back to the sender's interface so far: its
// rx_packets (the peer's transmits) less the ICMP messages its stack got
// (port unreachable from the receiver's stack, for frames that arrived
// while no socket was registered). Nothing else uses the link.
uint64_t BackAtSender(const Ctx& c) {
  auto link = RunCmd({"ip", "-s", "-j", "link", "show", "dev", c.tx.ifname}, c.tx.netns);
  auto j = nlohmann::json::parse(link.output, nullptr, false);
  if (link.status != 0 || !j.is_array() || j.empty()) return 0;
  uint64_t rx = j[0]["stats64"]["rx"]["packets"].get<uint64_t>();
  auto snmp = RunCmd({"cat", "/proc/net/snmp"}, c.tx.netns);
  // "Icmp: InMsgs ..." then "Icmp: <values>": InMsgs is the first value.
  uint64_t icmp = 0;
  auto first = snmp.output.find("Icmp: ");
  auto second = first == std::string::npos ? first : snmp.output.find("Icmp: ", first + 1);
  if (second != std::string::npos) icmp = std::stoull(snmp.output.substr(second + 6));
  return rx - icmp;
}

// One l2fwd measurement: pps forwarded, and the totals for the cross-check.
struct FwdRun {
  double pps = 0;
  uint64_t forwarded = 0, returned = 0;
};

FwdRun YardstickFwd(const Ctx& c) {
  FwdRun r;
  WithSender(c, [&] {
    uint64_t back0 = BackAtSender(c);
    double secs = OnRegisteredSocket(c, "yardstick l2fwd", [&](MiniXsk& s, std::atomic<bool>& stop) {
      r.forwarded = YardstickL2Fwd(s, stop).forwarded;
    });
    if (secs > 0) r.pps = r.forwarded / secs;
    r.returned = BackAtSender(c) - back0;
  });
  return r;
}

nlohmann::json XskBench(const Ctx& c, std::vector<std::string> args, const std::string& prefix = "") {
  std::vector<std::string> argv;
  if (!prefix.empty()) argv = {"sh", "-c", ""};
  std::vector<std::string> cmd = {c.xsk_bench, "--pin-root", c.pin_root, "-Q", "--json", "-c", "-s", "64"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  if (!prefix.empty()) {
    cmd.insert(cmd.begin(), prefix);
    std::string s;
    for (auto& a : cmd) s += a + " ";
    argv[2] = s + " 2>/dev/null";
  } else {
    argv = cmd;
  }
  auto r = RunCmd(argv);
  auto start = r.output.find("{\n");
  auto j = nlohmann::json::parse(start == std::string::npos ? "" : r.output.substr(start), nullptr, false);
  if (j.is_discarded()) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    std::fprintf(stderr, "xsk-bench %sfailed (exit %d, round left out): %s\n", what.c_str(), r.status,
                 r.output.c_str());
  }
  return j;
}

std::vector<std::string> TxArgs(const Ctx& c) {
  return {"-t", "-i", c.tx.ifname, "--netns", c.tx.netns, "--dst-mac", xskit::bench::MacString(c.rx.mac),
          "--src-ip", c.tx.ip, "--dst-ip", c.rx.ip, "-d", absl::StrCat(c.secs)};
}
std::vector<std::string> RxArgs(const Ctx& c) {
  return {"-r", "-S", "-i", c.rx.ifname, "--netns", c.rx.netns, "-d", absl::StrCat(c.secs)};
}
std::vector<std::string> FwdArgs(const Ctx& c) {
  return {"-l", "-S", "-i", c.rx.ifname, "--netns", c.rx.netns, "-d", absl::StrCat(c.secs)};
}

FwdRun BenchFwd(const Ctx& c) {
  FwdRun r;
  WithSender(c, [&] {
    uint64_t back0 = BackAtSender(c);
    nlohmann::json j = XskBench(c, FwdArgs(c));
    r.returned = BackAtSender(c) - back0;
    if (j.is_object() && j.contains("fwd")) {
      r.pps = j["fwd"]["pps"].get<double>();
      r.forwarded = j["fwd"]["packets"].get<uint64_t>();
    }
  });
  return r;
}

double Pps(const nlohmann::json& j, const char* side) {
  return j.is_object() && j.contains(side) ? j[side]["pps"].get<double>() : 0;
}

// One xsk-bench run under callgrind: the instructions of `loop` (callees
// included), and the run's packets on `side` and empty Rx polls.
struct LoopCost {
  double ir = 0, packets = 0, empty_polls = 0;
};

LoopCost Callgrind(const Ctx& c, const std::string& loop, std::vector<std::string> args,
                   const char* side) {
  std::string out = absl::StrCat("/tmp/xsk-bench-callgrind-", getpid(), ".out");
  std::string prefix = absl::StrCat("valgrind --tool=callgrind --callgrind-out-file=", out,
                                    " --collect-atstart=no '--toggle-collect=xskit::bench::", loop, "*'");
  nlohmann::json j = XskBench(c, args, prefix);
  std::ifstream f(out);
  std::string line;
  LoopCost r;
  while (std::getline(f, line))
    if (line.rfind("totals:", 0) == 0 || line.rfind("summary:", 0) == 0) r.ir = std::stod(line.substr(line.find(':') + 1));
  std::remove(out.c_str());
  if (j.is_object() && j.contains(side)) r.packets = j[side]["packets"].get<double>();
  if (j.is_object() && j.contains("rx")) r.empty_polls = j["rx"].value("empty_polls", 0.0);
  return r;
}

// Instructions xsk-bench's hot loop spends per packet (callgrind).
struct Ipp {
  double per_packet = 0;  // receive loops: empty polls taken out
  double with_idle = 0;   // everything the loop ran, over the packets
  double per_empty = 0;   // receive loops: one empty poll (deterministic)
};

Ipp TxInstrPerPacket(const Ctx& c, const std::vector<std::string>& args) {
  LoopCost r = Callgrind(c, "TxOnlyLoop", args, "tx");
  double v = r.packets > 0 ? r.ir / r.packets : 0;
  return {v, v, 0};
}

// A receive loop under callgrind still outruns a copy-mode sender, so most
// of its turns find the ring empty and the plain quotient measures the
// sender's rate more than the loop. The cost of one empty turn comes from
// a run with no traffic (every turn empty); the busy run's empty polls
// times that cost are taken out. Work done while waiting for completions
// (l2fwd's kicks) stays in: it is part of forwarding. What remains still
// carries the per-batch work over the batches the sender's rate allowed
// (often a few frames each), so it is an upper bound of the full-batch
// cost; the empty-poll cost is exact and the same on every run.
Ipp RxInstrPerPacket(const Ctx& c, const std::string& loop, const std::vector<std::string>& args,
                     const char* side) {
  LoopCost idle = Callgrind(c, loop, args, side);
  LoopCost busy;
  WithSender(c, [&] { busy = Callgrind(c, loop, args, side); });
  if (busy.packets <= 0) return {};
  double per_empty = idle.empty_polls > 0 ? idle.ir / idle.empty_polls : 0;
  return {(busy.ir - busy.empty_polls * per_empty) / busy.packets, busy.ir / busy.packets, per_empty};
}

std::string Mpps(double v) { return v > 0 ? absl::StrFormat("%.3f", v / 1e6) : "-"; }
std::string Ratio(double a, double b) { return a > 0 && b > 0 ? absl::StrFormat("%.2f", a / b) : "-"; }


// ---- the end-to-end table: what xskit costs an AF_XDP application ----

// A round's figures: benchutil::Rate, the CPU time being that of the
// thread that carries the kernel's work (on veth, the sender's: the peer's
// receive, XDP and drops run in its syscall's softirq).
using E2eRate = Rate;

// rxdrop: the yardstick receiver, its socket registered by `reg` (fd), for
// the round's seconds while a yardstick sender floods it.
E2eRate E2eRxdrop(const Ctx& c, const std::function<bool(int)>& reg, const std::function<void()>& unreg) {
  E2eRate r;
  std::atomic<bool> stop_tx{false}, ready{false};
  clockid_t sender_clock{};
  std::thread sender([&] {
    EnterNetns(c.tx.netns);
    MiniXsk s(c.tx.ifname);
    pthread_getcpuclockid(pthread_self(), &sender_clock);
    ready = true;
    YardstickTx(s, c.frame, stop_tx);
  });
  while (!ready) usleep(1000);
  usleep(200000);
  std::thread rx([&] {
    EnterNetns(c.rx.netns);
    MiniXsk s(c.rx.ifname);
    if (!s.ok || !reg(xsk_socket__fd(s.xsk))) {
      std::fprintf(stderr, "e2e rxdrop: cannot register the socket\n");
      return;
    }
    std::atomic<bool> stop{false};
    std::thread timer([&] { usleep(c.secs * 1e6); stop = true; });
    double t0 = NowS(), c0 = ClockS(sender_clock);
    uint64_t n = YardstickRx(s, stop);
    double secs = NowS() - t0, cpu = ClockS(sender_clock) - c0;
    timer.join();
    unreg();
    r.wall = n / secs;
    r.cpu = cpu > 0 ? n / cpu : 0;
  });
  rx.join();
  stop_tx = true;
  sender.join();
  return r;
}

// txonly: the yardstick sender on the application's interface (c.tx).
E2eRate E2eTxonly(const Ctx& c) {
  E2eRate r;
  std::thread t([&] {
    EnterNetns(c.tx.netns);
    MiniXsk s(c.tx.ifname);
    std::atomic<bool> stop{false};
    std::thread timer([&] { usleep(c.secs * 1e6); stop = true; });
    double t0 = NowS(), c0 = ClockS(CLOCK_THREAD_CPUTIME_ID);
    uint64_t n = YardstickTx(s, c.frame, stop);
    double secs = NowS() - t0, cpu = ClockS(CLOCK_THREAD_CPUTIME_ID) - c0;
    timer.join();
    r.wall = n / secs;
    r.cpu = cpu > 0 ? n / cpu : 0;
  });
  t.join();
  return r;
}

// xsk-exporter on loopback (port 0: a free one) and a thread scraping it
// every second, for as long as the object lives.
class ScrapedExporter {
 public:
  ScrapedExporter(const std::string& pin_root, bool run_time_stats)
      : exp_(Argv(pin_root, run_time_stats)) {
    port_ = exp_.Port(10000);
    if (port_ <= 0) {
      std::fprintf(stderr, "e2e: xsk-exporter did not start\n");
      return;
    }
    scraper_ = std::thread([this] {
      while (!stop_) {
        if (xskit::benchutil::ScrapeMetrics(port_) > 0) scrapes_++;
        for (int i = 0; i < 100 && !stop_; i++) usleep(10000);
      }
    });
  }
  ~ScrapedExporter() {
    stop_ = true;
    if (scraper_.joinable()) scraper_.join();
  }  // then exp_'s destructor stops the exporter
  bool ok() const { return port_ > 0; }
  int scrapes() const { return scrapes_; }

 private:
  static std::vector<std::string> Argv(const std::string& pin_root, bool run_time_stats) {
    std::vector<std::string> a = {XSKIT_EXPORTER, "--pin-root", pin_root, "--web.listen-address",
                                  "127.0.0.1:0", "--log-level", "info"};
    if (run_time_stats) a.push_back("--bpf.run-time-stats");
    return a;
  }
  xskit::benchutil::ListeningChild exp_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> scrapes_{0};
  std::thread scraper_;
};

// The five setups in interleaved rounds, for rxdrop (the application
// receives on c.rx) and txonly (it sends on c.tx; the peer's stack drops
// the frames, NO_SOCKET, as in the table above). Each round measures every
// setup once, so each setup's ratio to (a) is taken within a round (the
// machine drifts more slowly than a round) and the table gives the median
// of those ratios with a distribution-free 95 % interval, as probes_bench.
void EndToEnd(const Ctx& ctx) {
  Ctx c = ctx;
  c.secs = ctx.e2e_secs;
  xskit::PinLayout pins(c.pin_root);
  xdp_baselines* base = xdp_baselines__open_and_load();
  if (!base) {
    std::fprintf(stderr, "e2e: xdp_baselines did not load\n");
    return;
  }
  auto in_netns = [](const std::string& ns, const std::function<void()>& fn) {
    std::thread([&] {
      EnterNetns(ns);
      fn();
    }).join();
  };
  // (a) the plain redirect on `ep`, generic mode as xskit's -S.
  auto plain_on = [&](const Endpoint& ep) {
    in_netns(ep.netns, [&] {
      int ifindex = if_nametoindex(ep.ifname.c_str());
      LIBBPF_OPTS(bpf_xdp_attach_opts, o);
      if (bpf_xdp_attach(ifindex, bpf_program__fd(base->progs.xdp_plain_redirect), XDP_FLAGS_SKB_MODE, &o))
        std::fprintf(stderr, "e2e: plain redirect on %s: %s\n", ep.ifname.c_str(), std::strerror(errno));
    });
  };
  auto plain_off = [&](const Endpoint& ep) {
    in_netns(ep.netns, [&] {
      (void)bpf_xdp_detach(if_nametoindex(ep.ifname.c_str()), XDP_FLAGS_SKB_MODE, nullptr);
    });
  };
  auto steer_on = [&](const Endpoint& ep) {
    in_netns(ep.netns, [&] {
      xskit::AttachRequest req;
      req.ifname = ep.ifname;
      req.mode = xskit::ModeRequest::kGeneric;
      req.pin_root = c.pin_root;
      auto r = xskit::Attach(req);
      if (!r.ok()) std::fprintf(stderr, "e2e: attach: %s\n", std::string(r.status().message()).c_str());
    });
  };
  auto steer_off = [&](const Endpoint& ep) {
    in_netns(ep.netns, [&] { (void)xskit::Detach(ep.ifname, c.pin_root); });
  };
  auto probes_on = [&] {
    bool already = false;
    auto p = xskit::AttachProbes(pins, {xskit::ProbeModeFromEnv(), false}, &already);
    if (!p.ok()) std::fprintf(stderr, "e2e: probes: %s\n", std::string(p.status().message()).c_str());
  };
  auto probes_off = [&] { (void)xskit::DetachProbes(pins); };
  const int xsks_fd = bpf_map__fd(base->maps.xsks);
  auto plain_reg = [&](int fd) {
    uint32_t q = 0;
    return bpf_map_update_elem(xsks_fd, &q, &fd, BPF_ANY) == 0;
  };
  auto plain_unreg = [&] {
    uint32_t q = 0;
    (void)bpf_map_delete_elem(xsks_fd, &q);
  };
  // xskit's registration: the pinned XSKMAP of the interface's attach.
  std::unique_ptr<xskit::PinnedSteer> steer;
  auto steer_reg = [&](int fd) {
    auto ns = xskit::CurrentNetns();
    auto s = xskit::PinnedSteer::Open(pins.IfaceDir(xskit::IfaceDirName(*ns, c.rx.ifname)));
    if (!s.ok()) return false;
    steer = std::make_unique<xskit::PinnedSteer>(std::move(*s));
    return steer->RegisterSocket(0, fd).ok();
  };
  auto steer_unreg = [&] {
    if (steer) (void)steer->UnregisterSocket(0);
    steer.reset();
  };

  enum { kPlain, kSteer, kProbes, kExporter, kRunTimeStats, kSetups };
  const char* names[kSetups] = {"(a) plain redirect program only", "(b) xskit steering (xsk_steer)",
                                "(c) (b) + every xskit probe", "(d) (c) + xsk-exporter, scraped 1/s",
                                "(e) (d) with --bpf.run-time-stats"};
  // [setup][round]; a round that failed stays a zero and drops out of the ratios.
  std::vector<E2eRate> rx[kSetups], tx[kSetups];
  for (int i = 0; i < kSetups; i++) {
    rx[i].resize(static_cast<size_t>(c.e2e_rounds));
    tx[i].resize(static_cast<size_t>(c.e2e_rounds));
  }
  int scrapes = 0;
  // The setups are layers: (a) alone, or (b) with (c)'s probes and (d)'s
  // exporter on top ((e): the exporter restarted with the kernel's run-time
  // stats). Each round walks them (a)..(e) or, every other round, (e)..(a)
  // (benchutil::Rounds), adding and removing only the layers that change,
  // so no setup is always measured first or last.
  int level = -1;  // -1: nothing attached, else the setup in place
  std::unique_ptr<ScrapedExporter> exp;
  auto set_level = [&](const Endpoint& ep, int want) {
    if (level == want) return;
    if (level >= kExporter && (want < kExporter || (level == kRunTimeStats) != (want == kRunTimeStats))) {
      scrapes += exp->scrapes();
      exp.reset();
    }
    if (level >= kProbes && want < kProbes) probes_off();
    if (level >= kSteer && want < kSteer) steer_off(ep);
    if (level == kPlain) plain_off(ep);
    if (want == kPlain) plain_on(ep);
    if (want >= kSteer && level < kSteer) steer_on(ep);
    if (want >= kProbes && level < kProbes) probes_on();
    if (want >= kExporter && !exp)
      exp = std::make_unique<ScrapedExporter>(c.pin_root, want == kRunTimeStats);
    level = want;
  };
  for (const Endpoint* ep : {&c.rx, &c.tx}) {
    bool is_rx = ep == &c.rx;
    auto& out = is_rx ? rx : tx;
    xskit::benchutil::Rounds(c.e2e_rounds, kSetups, [&](int round, size_t setup) {
      set_level(*ep, static_cast<int>(setup));
      if (setup >= kExporter && !exp->ok()) return;
      bool plain = setup == kPlain;
      out[setup][static_cast<size_t>(round)] =
          is_rx ? (plain ? E2eRxdrop(c, plain_reg, plain_unreg) : E2eRxdrop(c, steer_reg, steer_unreg))
                : E2eTxonly(c);
    });
    set_level(*ep, -1);
  }
  xdp_baselines__destroy(base);

  // Per round, a setup's rate over (a)'s in the same round.
  auto ratios = [&](const std::vector<E2eRate>* out, int setup, bool cpu) {
    std::vector<double> v;
    for (size_t r = 0; r < out[setup].size(); r++) {
      double a = cpu ? out[kPlain][r].cpu : out[kPlain][r].wall;
      double b = cpu ? out[setup][r].cpu : out[setup][r].wall;
      if (a > 0 && b > 0) v.push_back(b / a);
    }
    return v;
  };
  auto median_rate = [](const std::vector<E2eRate>& v) {
    std::vector<E2eRate> ok;
    for (const auto& r : v)
      if (r.cpu > 0) ok.push_back(r);
    return ok.empty() ? E2eRate{} : xskit::benchutil::Median(ok);
  };
  std::printf("\nend to end: what xskit costs an AF_XDP application (yardstick rxdrop/txonly, 64 B, copy\n"
              "mode, generic XDP on veth), %d interleaved rounds of %g s. ratio: each round's pps/cpu\n"
              "over (a)'s in the same round, median [95 %% interval]; wall: the same with\n"
              "frames per wall-clock second, median. pps/cpu: frames per second of CPU time of the\n"
              "thread that carries the kernel's work (the sender's: on veth the peer's receive, XDP and\n"
              "drops run in its softirq).\n",
              c.e2e_rounds, c.secs);
  std::printf("%-38s %-36s %-36s\n", "", "rxdrop", "txonly");
  std::printf("%-38s %8s %-21s %5s %8s %-21s %5s\n", "setup", "Mpps/cpu", "ratio [interval]", "wall",
              "Mpps/cpu", "ratio [interval]", "wall");
  double min_coverage = 1;  // of the intervals printed (fewer rounds, less)
  for (int i = 0; i < kSetups; i++) {
    auto cell = [&](const std::vector<E2eRate>* out) {
      E2eRate m = median_rate(out[i]);
      std::string ratio = "1", wall = "1";
      if (i != kPlain) {
        auto rc = ratios(out, i, true), rw = ratios(out, i, false);
        if (!rc.empty()) {
          MedianCI ci = MedianWithCI(rc);
          min_coverage = std::min(min_coverage, ci.coverage);
          ratio = FormatCI(ci);
        } else {
          ratio = "-";
        }
        wall = rw.empty() ? "-" : absl::StrFormat("%.3f", xskit::benchutil::Median(rw));
      }
      return absl::StrFormat("%8s %-21s %5s", Mpps(m.cpu), ratio, wall);
    };
    std::printf("%-38s %s %s\n", names[i], cell(rx).c_str(), cell(tx).c_str());
  }
  std::printf("(the intervals' coverage: %.1f %% at least%s)\n", 100 * min_coverage,
              min_coverage < 0.95 ? ", under 95 %: too few rounds to judge from them" : "");
  std::printf("(txonly's frames go to the peer's stack, UDP port 9: one NO_SOCKET drop each, which\n"
              " the drop probe sees in (c) to (e); the exporter answered %d scrapes)\n",
              scrapes);
}

}  // namespace

int Run(int argc, char** argv) {
  xskit::InitLogging("warn");
  Ctx c;
  bool callgrind = true, e2e = true, e2e_only = false;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) c.secs = std::atof(argv[++i]);
    if (!std::strcmp(argv[i], "--no-callgrind")) callgrind = false;
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) c.rounds = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--xsk-bench") && i + 1 < argc) c.xsk_bench = argv[++i];
    if (!std::strcmp(argv[i], "--e2e-only")) e2e_only = true;
    if (!std::strcmp(argv[i], "--no-e2e")) e2e = false;
    if (!std::strcmp(argv[i], "--e2e-seconds") && i + 1 < argc) c.e2e_secs = std::atof(argv[++i]);
    if (!std::strcmp(argv[i], "--e2e-rounds") && i + 1 < argc) c.e2e_rounds = std::atoi(argv[++i]);
  }
  char exe[4096] = {};
  readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  c.self = exe;
  if (c.xsk_bench.empty()) c.xsk_bench = XSKIT_XSK_BENCH;  // this build's
  c.pin_root = absl::StrCat("/sys/fs/bpf/xskit-pps-", getpid());

  auto sb = Sandbox::Create();
  if (!sb.ok()) {
    std::fprintf(stderr, "sandbox: %s\n", std::string(sb.status().message()).c_str());
    return 1;
  }
  c.tx = sb->tx();
  c.rx = sb->rx();
  c.frame = xskit::benchutil::Packet().Eth(c.rx.mac, c.tx.mac).IPv4(c.tx.ip, c.rx.ip, 17).Udp(9, 9).Payload(18, 0x42).Build();
  struct PinRootGuard {
    std::string root;
    ~PinRootGuard() { (void)xskit::RemovePinDir(root + "/probes"); RunCmd({"rm", "-rf", root}); }
  } root_guard{c.pin_root};
  xskit::PinLayout pins(c.pin_root);

  if (e2e_only) {
    std::printf("load average at start: ");
    std::fflush(stdout);
    std::system("cut -d' ' -f1-3 /proc/loadavg");
    EndToEnd(c);
    return 0;
  }

  // Steering on the receiver, generic mode (the series' -S), for both receivers.
  absl::Status attached;
  {
    std::thread t([&] {
      EnterNetns(c.rx.netns);
      xskit::AttachRequest req;
      req.ifname = c.rx.ifname;
      req.mode = xskit::ModeRequest::kGeneric;
      req.pin_root = c.pin_root;
      attached = xskit::Attach(req).status();
    });
    t.join();
  }
  if (!attached.ok()) {
    std::fprintf(stderr, "attach: %s\n", std::string(attached.message()).c_str());
    return 1;
  }

  std::printf("pps on veth (%s <-> %s), 64 B, copy mode, median of %d interleaved %g s rounds; "
              "load average at start: ",
              c.rx.ifname.c_str(), c.tx.ifname.c_str(), c.rounds, c.secs);
  std::fflush(stdout);
  std::system("cut -d' ' -f1-3 /proc/loadavg");

  // Each pair is measured in interleaved rounds (yardstick, xsk-bench,
  // xsk-bench, yardstick, ...: benchutil::Rounds) and the median of each
  // side is printed, so a burst of load on this shared host hits both
  // sides alike.
  auto pair = [&](const std::function<double()>& y, const std::function<double()>& b,
                  double* ym, double* bm) {
    std::vector<double> ys, bs;
    xskit::benchutil::Rounds(c.rounds, 2, [&](int, size_t side) {
      if (side == 0)
        ys.push_back(y());
      else
        bs.push_back(b());
    });
    *ym = Median(ys);
    *bm = Median(bs);
  };
  auto bench_tx = [&] { return Pps(XskBench(c, TxArgs(c)), "tx"); };
  auto bench_rx = [&] {
    double v = 0;
    WithSender(c, [&] { v = Pps(XskBench(c, RxArgs(c)), "rx"); });
    return v;
  };
  auto yard_tx = [&] { return TimedTx(c); };
  auto yard_rx = [&] { return YardstickRxPps(c); };
  double y_tx, b_tx, y_rx, b_rx;
  pair(yard_tx, bench_tx, &y_tx, &b_tx);
  pair(yard_rx, bench_rx, &y_rx, &b_rx);
  // l2fwd, with the returned/forwarded totals summed over the rounds.
  FwdRun y_fwd_total, b_fwd_total;
  auto tally = [](FwdRun* total, FwdRun r) {
    total->forwarded += r.forwarded;
    total->returned += r.returned;
    return r.pps;
  };
  double y_fwd, b_fwd;
  pair([&] { return tally(&y_fwd_total, YardstickFwd(c)); },
       [&] { return tally(&b_fwd_total, BenchFwd(c)); }, &y_fwd, &b_fwd);

  bool already = false;
  auto probes = xskit::AttachProbes(pins, {xskit::ProbeModeFromEnv(), false}, &already);
  double y_tx_p = 0, b_tx_p = 0, y_rx_p = 0, b_rx_p = 0;
  if (probes.ok()) {
    pair(yard_tx, bench_tx, &y_tx_p, &b_tx_p);
    pair(yard_rx, bench_rx, &y_rx_p, &b_rx_p);
    (void)xskit::DetachProbes(pins);
  }
  auto af_args = TxArgs(c);
  af_args.push_back("--af-packet");
  double b_af = 0, b_xdp2 = 0;
  // AF_PACKET beside AF_XDP (both xsk-bench), interleaved the same way.
  pair([&] { return Pps(XskBench(c, af_args), "tx"); }, bench_tx, &b_af, &b_xdp2);

  Ipp ipp_tx, ipp_rx, ipp_fwd;
  if (callgrind && RunCmd({"valgrind", "--version"}).status == 0) {
    auto tx_args = TxArgs(c);
    tx_args.resize(tx_args.size() - 2);  // no -d: -C ends it
    tx_args.insert(tx_args.end(), {"-C", "200000"});
    ipp_tx = TxInstrPerPacket(c, tx_args);
    ipp_rx = RxInstrPerPacket(c, "RxDropLoop", RxArgs(c), "rx");
    ipp_fwd = RxInstrPerPacket(c, "L2FwdLoop", FwdArgs(c), "fwd");
  }

  // Detach the steering before the sandbox goes.
  std::thread([&] { EnterNetns(c.rx.netns); (void)xskit::Detach(c.rx.ifname, c.pin_root); }).join();

  std::printf("\n%-46s %12s %12s %10s\n", "experiment (Mpps)", "yardstick", "xsk-bench", "ratio");
  auto row = [](const char* name, double y, double b) {
    std::printf("%-46s %12s %12s %10s\n", name, Mpps(y).c_str(), Mpps(b).c_str(), Ratio(b, y).c_str());
  };
  row("txonly AF_XDP copy (-t -c -s 64)", y_tx, b_tx);
  row("txonly AF_XDP copy, probes attached", y_tx_p, b_tx_p);
  row("rxdrop AF_XDP copy, generic XDP (-r -S)", y_rx, b_rx);
  row("rxdrop AF_XDP copy, probes attached", y_rx_p, b_rx_p);
  row("l2fwd AF_XDP copy, generic XDP (-l -S), fwd", y_fwd, b_fwd);
  row("txonly AF_PACKET (QDISC_BYPASS, sendmmsg 64)", 0, b_af);
  std::printf("\nratios: probes/no probes  txonly %s (yardstick %s), rxdrop %s (yardstick %s)\n",
              Ratio(b_tx_p, b_tx).c_str(), Ratio(y_tx_p, y_tx).c_str(), Ratio(b_rx_p, b_rx).c_str(),
              Ratio(y_rx_p, y_rx).c_str());
  std::printf("        AF_PACKET/AF_XDP txonly (both xsk-bench, interleaved: %s vs %s Mpps) %s (the series: 0.76)\n",
              Mpps(b_af).c_str(), Mpps(b_xdp2).c_str(), Ratio(b_af, b_xdp2).c_str());
  auto back = [](const FwdRun& t) {
    return absl::StrFormat("%s (%u of %u)", Ratio(t.returned, t.forwarded), t.returned, t.forwarded);
  };
  std::printf("        l2fwd returned/forwarded (sender veth rx less ICMP, all rounds): yardstick %s, "
              "xsk-bench %s\n",
              back(y_fwd_total).c_str(), back(b_fwd_total).c_str());
  if (!probes.ok())
    std::printf("probes: could not attach (%s)\n", std::string(probes.status().message()).c_str());
  if (ipp_tx.per_packet > 0 || ipp_rx.per_packet > 0 || ipp_fwd.per_packet > 0)
    std::printf("xsk-bench userspace cost (callgrind, hot loop incl. libc syscall stubs), "
                "instructions per packet:\n"
                "  txonly %.1f, rxdrop %.1f, l2fwd %.1f per forwarded packet, empty Rx polls taken out\n"
                "  (one empty poll: rxdrop %.1f, l2fwd %.1f; counting them: rxdrop %.1f, l2fwd %.1f)\n",
                ipp_tx.per_packet, ipp_rx.per_packet, ipp_fwd.per_packet, ipp_rx.per_empty,
                ipp_fwd.per_empty, ipp_rx.with_idle, ipp_fwd.with_idle);
  else
    std::printf("userspace cost: not measured (valgrind missing or --no-callgrind)\n");
  if (e2e) EndToEnd(c);
  return 0;
}

int main(int argc, char** argv) {
  return xskit::benchutil::Guarded([&] { return Run(argc, argv); });
}
