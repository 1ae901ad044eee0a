// xsk-bench: xdpsock's experiments (txonly, rxdrop, l2fwd; the same flags),
// an AF_PACKET comparison, and the probes' explanation of the numbers.
//
//   xsk-bench                      txonly on a fresh sandbox (netns + veth), 5 s
//   xsk-bench -r -S -d 3           rxdrop on the sandbox, generic XDP
//   xsk-bench -t -S -s 64 --json   the series' experiment, result as JSON
//   xsk-bench -t --af-packet       AF_PACKET (PACKET_QDISC_BYPASS + sendmmsg)
//   xsk-bench -i eth0 -r           rxdrop on eth0 queue 0 (attaches xsk_steer
//                                  for the run if it is not attached)
//   xsk-bench -r -u -f 3000        unaligned chunks of 3000 bytes (no power of two)
//   xsk-bench -i eth0 -r -z        zero-copy, where eth0's driver advertises it
//                                  (else exit 5 with the reason, nothing attached)
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "xsk_bench/report.h"
#include "xsk_bench/run.h"
#include "lib/errors.h"
#include "lib/log.h"

namespace xskit::bench {

namespace {

void OnSignal(int) { g_interrupted.store(true); }

// The values an enum's flags (EnumFlag rows) were given on the command line.
template <typename E>
class EnumFlags {
 public:
  template <size_t N>
  void Add(CLI::App& app, const EnumFlag<E> (&rows)[N]) {
    for (const auto& row : rows)
      app.add_flag_callback(row.flags, [this, v = row.value] { given_.insert(v); }, row.help);
  }
  // The one value given other than `fallback` (xdpsock: -t with -r is -r);
  // two such values are a usage error with `conflict`.
  E Pick(E fallback, const char* what, const char* conflict) const {
    std::set<E> others = given_;
    others.erase(fallback);
    if (others.size() > 1) throw CLI::ValidationError(what, conflict);
    return others.empty() ? fallback : *others.begin();
  }

 private:
  std::set<E> given_;
};

struct ChoiceFlags {
  EnumFlags<Mode> mode;
  EnumFlags<XdpMode> xdp;
  EnumFlags<BindMode> bind;
  EnumFlags<Backend> backend;
};

void AddFlags(CLI::App& app, Options& o, ChoiceFlags& choice) {
  choice.mode.Add(app, kModeFlags);
  app.add_option("-i,--interface", o.ifname, "interface (default: a sandbox of two netns + veth)");
  app.add_option("--netns", o.netns, "run on -i inside this netns (name under /run/netns)");
  app.add_option("-q,--queue", o.queue, "queue id")->capture_default_str();
  choice.xdp.Add(app, kXdpModeFlags);
  choice.bind.Add(app, kBindFlags);
  app.add_option("-s,--tx-pkt-size", o.pkt_size, "packet size on the wire incl. FCS (xdpsock's -s)")
      ->capture_default_str();
  app.add_option("-f,--frame-size", o.frame_size, "umem frame size")->capture_default_str();
  app.add_option("-b,--batch-size", o.batch, "descriptors per reserve/submit")->capture_default_str();
  app.add_option("--ring-size", o.ring_size, "rx/tx/completion ring entries (fill: twice)")
      ->capture_default_str();
  app.add_flag("-B,--busy-poll", o.busy_poll, "busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL)");
  app.add_flag("-p,--poll", o.poll, "use poll() instead of sendto/recvfrom kicks");
  app.add_flag_callback("-m,--no-need-wakeup", [&o] { o.need_wakeup = false; },
                        "turn off the need_wakeup flag (on by default)");
  app.add_flag("-u,--unaligned", o.unaligned, "unaligned chunk placement (XDP_UMEM_UNALIGNED_CHUNK_FLAG)");
  app.add_option("-d,--duration", o.duration_s, "seconds (default: 5 on the sandbox, else until Ctrl-C)");
  app.add_option("-C,--tx-pkt-count", o.count, "txonly: stop after this many packets");
  app.add_option("-n,--interval", o.interval_s, "seconds between live lines")->capture_default_str();
  app.add_flag("-Q,--quiet", o.quiet, "no live lines");
  app.add_flag("--json", o.json, "print the result as JSON on stdout (live lines go to stderr)");
  app.add_option("--xmit-batch", o.xmit_batch,
                 "copy-mode xmit batch size (XDP_GENERIC_XMIT_BATCH), where the kernel has it");
  app.add_option("--tx-budget", o.tx_budget,
                 "per-socket Tx budget (XDP_MAX_TX_SKB_BUDGET, 6.17+), where the kernel has it");
  choice.backend.Add(app, kBackendFlags);
  app.add_flag("--observe", o.observe, "attach xskit's probes for the run if they are not attached");
  app.add_option("--pin-root", o.pin_root, "bpffs directory of xskit's pins (default /sys/fs/bpf/xskit)");
  app.add_option("--dst-mac", o.dst_mac, "txonly on -i: destination MAC");
  app.add_option("--src-mac", o.src_mac, "txonly on -i: source MAC (default: the interface's)");
  app.add_option("--src-ip", o.src_ip, "txonly on -i: source IPv4")->capture_default_str();
  app.add_option("--dst-ip", o.dst_ip, "txonly on -i: destination IPv4")->capture_default_str();
  app.add_option("--log-level", o.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

// The umem chunk the kernel accepts (xdp_umem_reg): at least 2048 bytes
// (XDP_UMEM_MIN_CHUNK_SIZE), a power of two unless the chunks are
// unaligned (-u), and at most a page (kernels that take larger chunks,
// up to 64 KiB, take them only from a umem in HugeTLB pages, which
// xsk-bench does not allocate).
// Checked here so that a bad -f is a usage error that says why, not
// EINVAL from the umem registration.
void CheckFrameSize(const Options& o) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const uint32_t f = o.frame_size;
  if (f < 2048 || f > static_cast<uint64_t>(page))
    throw CLI::ValidationError("-f", absl::StrCat(f, ": the umem frame size must be between 2048 and the page size (",
                                                  page, ")"));
  if (!o.unaligned && (f & (f - 1)))
    throw CLI::ValidationError(
        "-f", absl::StrCat(f, " is not a power of two: aligned chunks need one; add -u (unaligned chunks)"));
}

}  // namespace
}  // namespace xskit::bench

int main(int argc, char** argv) {
  using namespace xskit::bench;
  CLI::App app{"xsk-bench: xdpsock's experiments with the probes' explanation of the numbers"};
  Options o;
  ChoiceFlags choice;
  AddFlags(app, o, choice);
  try {
    app.parse(argc, argv);
    o.mode = choice.mode.Pick(Mode::kTxOnly, "mode", "choose one of -t, -r, -l");
    o.xdp_mode = choice.xdp.Pick(XdpMode::kAuto, "mode", "-S and -N exclude each other");
    o.bind = choice.bind.Pick(BindMode::kAuto, "bind", "-c and -z exclude each other");
    o.backend = choice.backend.Pick(Backend::kAfXdp, "backend", "");
    if (o.xdp_mode == XdpMode::kGeneric && o.bind == BindMode::kZerocopy)
      throw CLI::ValidationError("bind", "-S (generic XDP) has no zero-copy");
    if (o.xdp_mode == XdpMode::kGeneric) o.bind = BindMode::kCopy;  // -S forces copy
    if (o.batch == 0 || o.batch > o.ring_size)
      throw CLI::ValidationError("-b", "between 1 and --ring-size");
    CheckFrameSize(o);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(xskit::ExitCode::kUsage);
  }
  if (o.duration_s == 0 && o.ifname.empty() && o.count == 0) o.duration_s = 5;
  xskit::InitLogging(o.log_level);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto result = RunBench(o);
  if (!result.ok()) {
    std::fprintf(stderr, "xsk-bench: %s\n", std::string(result.status().message()).c_str());
    return static_cast<int>(xskit::ExitCodeOf(result.status()));
  }
  if (o.json)
    std::printf("%s\n", result->dump(2).c_str());
  else
    std::fputs(RenderSummary(*result).c_str(), stdout);
  return g_interrupted.load() ? 130 : 0;
}
