// Per-packet cost of the steering program under BPF_PROG_TEST_RUN, printed
// beside baselines built in the same run (bench/xdp_baselines.bpf.c):
// XDP_PASS only, the plain bpf_redirect_map() program, and that program
// plus one per-CPU counter. A 64-byte frame on queue 0, whose XSKMAP slot
// holds a real AF_XDP socket, so every redirect takes the hit path.
//
// The kernel reports whole nanoseconds per run, so the cost is taken from
// the slope between two repeat counts timed in user space: the fixed
// syscall cost cancels and fractions of a nanosecond survive. Programs are
// measured in interleaved rounds and the median of 5 rounds is printed.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "lib/log.h"
#include "lib/parse_args.h"
#include "xsk/xsk_socket.h"
#include "lib/xsk_steer_prog.h"
#include "bench/bench_util.h"
#include "xdp_baselines.skel.h"

namespace {

constexpr uint32_t kRepeatLow = 1'000'000;
constexpr uint32_t kRepeatHigh = 5'000'000;
constexpr int kRounds = 5;

double NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double TimedRun(int prog_fd, const std::vector<uint8_t>& frame, uint32_t repeat) {
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()), .repeat = static_cast<int>(repeat));
  double t0 = NowNs();
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    std::perror("bpf_prog_test_run_opts");
    std::exit(1);
  }
  return NowNs() - t0;
}

// ns per packet: slope between the two repeat counts.
double Slope(int prog_fd, const std::vector<uint8_t>& frame) {
  double lo = TimedRun(prog_fd, frame, kRepeatLow);
  double hi = TimedRun(prog_fd, frame, kRepeatHigh);
  return (hi - lo) / (kRepeatHigh - kRepeatLow);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Candidate {
  const char* name;
  int prog_fd;
  std::vector<double> samples;
};

}  // namespace

int main() {
  xskit::InitLogging("warn");
  using xskit::benchutil::NetnsPair;
  NetnsPair pair;
  std::unique_ptr<xskit::XskSocket> sock;
  xskit::benchutil::InNetns(pair.ns_a(), [&] {
    auto s = xskit::XskSocket::Create(pair.dev_a(), 0, false, {});
    if (!s.ok()) {
      std::fprintf(stderr, "socket: %s\n", std::string(s.status().message()).c_str());
      std::exit(1);
    }
    sock = std::move(*s);
  });

  xdp_baselines* base = xdp_baselines__open_and_load();
  if (!base) {
    std::perror("load xdp_baselines");
    return 1;
  }
  uint32_t key = 0, fd = static_cast<uint32_t>(sock->fd());
  bpf_map_update_elem(bpf_map__fd(base->maps.xsks), &key, &fd, BPF_ANY);

  auto load_steer = [&](const char* match) {
    xsk_steer_info info{};
    info.version = XSK_STEER_INFO_VERSION;
    info.nr_queues = 1;
    info.xdp_mode = XSK_STEER_MODE_NATIVE;
    xskit::SetQueueInMask(info, 0);
    if (match) info.filter = *xskit::ParseMatch(match);
    auto prog = xskit::XskSteerProg::Load(info);
    if (!prog.ok() || !prog->RegisterSocket(0, sock->fd()).ok()) {
      std::fprintf(stderr, "load xsk_steer failed\n");
      std::exit(1);
    }
    return std::move(*prog);
  };
  xskit::XskSteerProg plain = load_steer(nullptr);
  xskit::XskSteerProg filtered = load_steer("udp:4791");

  auto frame = xskit::benchutil::Packet()
                   .Eth({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2})
                   .IPv4("198.18.0.2", "198.18.0.1")
                   .Udp(1234, 4791)
                   .Payload(64 - 14 - 20 - 8)
                   .Build();

  std::vector<Candidate> c = {
      {"XDP_PASS only", bpf_program__fd(base->progs.xdp_pass_only), {}},
      {"plain bpf_redirect_map", bpf_program__fd(base->progs.xdp_plain_redirect), {}},
      {"plain redirect + 1 per-CPU counter", bpf_program__fd(base->progs.xdp_redirect_counted), {}},
      {"xsk_steer, no filter (counting)", plain.prog_fd(), {}},
      {"xsk_steer, --match udp:4791", filtered.prog_fd(), {}},
  };
  for (auto& x : c) Slope(x.prog_fd, frame);  // warm-up
  for (int r = 0; r < kRounds; r++)
    for (auto& x : c) x.samples.push_back(Slope(x.prog_fd, frame));

  double ref = Median(c[1].samples);
  std::printf("xsk_steer per-packet cost, BPF_PROG_TEST_RUN, %zu-byte frame, slope %u..%u repeats, "
              "median of %d rounds\n\n", frame.size(), kRepeatLow, kRepeatHigh, kRounds);
  std::printf("%-38s %10s %10s %10s %16s\n", "program", "ns/pkt", "min", "max", "vs plain redirect");
  for (auto& x : c) {
    double med = Median(x.samples);
    std::printf("%-38s %10.2f %10.2f %10.2f %15.3fx\n", x.name, med,
                *std::min_element(x.samples.begin(), x.samples.end()),
                *std::max_element(x.samples.begin(), x.samples.end()), med / ref);
  }
  double ratio = Median(c[3].samples) / ref;
  std::printf("\ntarget: xsk_steer without filter <= 1.10x plain redirect: %.3fx %s\n", ratio,
              ratio <= 1.10 ? "(met)" : "(NOT met)");
  xdp_baselines__destroy(base);
  return 0;
}
