// `xsk-loader top [--interval S] [--iterations N]`: a live view of the
// steering counters and probe signals per interface and queue, as rates
// between refreshes, worst first (loader/top.h). ANSI redraw on the
// alternate screen; `q` or SIGINT/SIGTERM quits and restores the terminal.
// Without a terminal on stdout it prints one plain frame per interval.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>

#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "lib/pins.h"
#include "lib/probe_snapshot.h"
#include "lib/xsk_steer_prog.h"
#include "loader/sockets_report.h"
#include "loader/status_report.h"
#include "loader/top.h"

namespace xskit {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Every attachment's steering counters; an unreadable one is left out
// (status names it).
std::vector<SteerCounters> ReadSteer(const PinLayout& pins) {
  std::vector<SteerCounters> out;
  for (const auto& dir : pins.ListIfaceDirs()) {
    auto steer = PinnedSteer::Open(pins.IfaceDir(dir));
    if (!steer.ok()) continue;
    auto counters = steer->ReadCounters();
    IfaceDirParts parts = ParseIfaceDirName(dir);
    out.push_back({parts.ifname, parts.netns, counters.ok() ? *counters : std::vector<xsk_steer_counters>{}});
  }
  return out;
}

// Raw, no-echo input and the alternate screen while alive.
class Terminal {
 public:
  Terminal() {
    interactive_ = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (!interactive_) return;
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
      restore_ = true;
    }
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);
    std::fflush(stdout);
  }
  ~Terminal() {
    if (!interactive_) return;
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    if (restore_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool interactive() const { return interactive_; }
  int height() const {
    winsize ws{};
    return interactive_ && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row ? ws.ws_row : 50;
  }
  void Draw(const std::string& frame) const {
    if (interactive_) {
      std::string s = "\x1b[H\x1b[2J" + frame;
      std::fwrite(s.data(), 1, s.size(), stdout);
    } else {
      std::fputs(frame.c_str(), stdout);
      std::fputs("\n", stdout);
    }
    std::fflush(stdout);
  }
  // Waits up to `seconds`; true when the user asked to quit.
  bool WaitForQuit(double seconds) const {
    double end = Now() + seconds;
    while (!g_stop) {
      double left = end - Now();
      if (left <= 0) return false;
      pollfd p{interactive_ ? STDIN_FILENO : -1, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
      if (r > 0 && (p.revents & POLLIN)) {
        char c = 0;
        if (::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) return true;
      }
    }
    return true;
  }

 private:
  bool interactive_ = false;
  bool restore_ = false;
  termios saved_{};
};

struct TopFlags {
  double interval = 1.0;
  int iterations = 0;  // 0: until q / SIGINT
};

absl::Status RunTop(const TopFlags& flags, const GlobalOptions& global) {
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(global.pin_root));
  nlohmann::json socks, prev_socks;  // the AF_XDP socket rows of the last two samples
  auto sample = [&]() -> absl::StatusOr<TopSample> {
    // The socket rows and the pins' validation come with the status report;
    // the counters from the typed snapshots.
    XSKIT_ASSIGN_OR_RETURN(nlohmann::json report, StatusReport(pins, ""));
    XSKIT_RETURN_IF_ERROR(ForeignPinsIn(report));
    prev_socks = std::move(socks);
    socks = report.value("sockets", nlohmann::json::object());
    ProbeSnapshot probes =
        ReadProbeSnapshot(pins, SiteResolver::FromPins(pins), KernelDropReasons());
    return SampleOf(ReadSteer(pins), probes, Now());
  };
  XSKIT_ASSIGN_OR_RETURN(TopSample prev, sample());

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Terminal term;  // restores the terminal on every return below
  term.Draw(RenderTop(prev, ComputeRows(prev, prev), {}, flags.interval, term.height()) +
            "\n(first rates after one interval)\n");
  for (int n = 0; flags.iterations == 0 || n < flags.iterations; n++) {
    if (term.WaitForQuit(flags.interval)) break;
    auto cur = sample();
    if (!cur.ok()) return cur.status();
    term.Draw(RenderTop(*cur, ComputeRows(prev, *cur), ComputeDrops(prev, *cur), cur->time_s - prev.time_s,
                        term.height()) +
              RenderTopSockets(prev_socks, socks, cur->time_s - prev.time_s, 8));
    prev = std::move(*cur);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterTop(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<TopFlags>();
  CLI::App* cmd = app.add_subcommand(
      "top", "live per-interface/queue rates (steering, transmit, backpressure, drops), worst first");
  cmd->add_option("--interval", flags->interval, "seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--iterations", flags->iterations, "stop after N refreshes (0: until q or Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([flags, &global, result] { *result = RunTop(*flags, global); });
}

}  // namespace xskit
