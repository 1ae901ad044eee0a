// xsk-exporter: serves xskit's pinned counters to Prometheus. Reads the pins
// that xsk-loader left at scrape time; loads and attaches nothing.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "exporter/civetweb_tls.h"
#include "exporter/collector.h"
#include "exporter/decoders.h"
#include "exporter/http_server.h"
#include "lib/privileges.h"
#include "exporter/web_config.h"
#include "lib/cli_values.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/pins.h"

namespace {

// Not in the 9100-9999 range, which the Prometheus "Default port
// allocations" page has filled; see exporter/README.md.
constexpr const char* kDefaultListen = "127.0.0.1:10171";

struct Flags {
  std::string listen = kDefaultListen;
  std::string telemetry_path = "/metrics";
  std::optional<std::string> web_config;
  std::optional<std::string> pin_root;
  std::vector<std::string> interfaces;
  std::string log_level = "info";
  std::string reopen = "on-change";
  std::optional<std::string> user;
  int threads = 2;
  bool make_pin_root = false;
  double socket_discovery = 30;
  bool run_time_stats = false;
};

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "xsk-exporter: %s\n", std::string(st.message()).c_str());
  return static_cast<int>(xskit::ExitCodeOf(st));
}

int Run(const Flags& f) {
  using namespace xskit;
  using namespace xskit::exporter;
  std::string listen = CivetListenAddress(f.listen);
  if (listen.empty())
    return Fail(Error(ExitCode::kUsage,
                      absl::StrCat("--web.listen-address ", f.listen, ": want HOST:PORT")));
  auto pins = PinLayout::Resolve(f.pin_root);
  if (!pins.ok()) return Fail(pins.status());
  if (f.make_pin_root) {
    // The unit's ExecStartPre=+ (as root): the pin root with the pin
    // ownership (root:xskit 0750), so that the unprivileged exporter finds
    // it at start even before the first attach.
    if (absl::Status st = MakeDirs(pins->root()); !st.ok()) return Fail(st);
    return 0;
  }
  std::optional<WebConfig> web;
  if (f.web_config) {
    auto c = LoadWebConfig(*f.web_config);
    if (!c.ok()) return Fail(c.status());
    web = std::move(*c);
  }

  // Signals are taken by sigwait below; block them before any thread exists
  // so civetweb's threads inherit the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // Privileged part: stats on, pins opened. Then drop what is not needed,
  // still single-threaded (capabilities are per thread).
  auto collector = std::make_shared<XskCollector>(CollectorOptions{
      .pin_root = pins->root(), .interfaces = f.interfaces, .reopen = f.reopen == "on-change",
      .socket_discovery_s = f.socket_discovery, .run_time_stats = f.run_time_stats});
  collector->Prime();
  Fd pem;  // TLS key + cert, read before the user switch as well
  if (web && web->tls()) {
    auto p = CombinedPem(*web);
    if (!p.ok()) return Fail(p.status());
    pem = std::move(*p);
    // Without this, the first HTTPS request kills the process (civetweb_tls.h).
    if (absl::Status st = PrepareCivetwebTls(); !st.ok()) return Fail(st);
  }
  // CAP_SYS_ADMIN and CAP_DAC_OVERRIDE go; CAP_BPF stays (permitted, raised
  // around scrapes) only where bpf() itself needs it (lib/privileges.h).
  const bool keep_bpf = BpfNeedsCapBpf();
  if (absl::Status st = DropPrivileges({.keep_cap_bpf = keep_bpf, .user = f.user}); !st.ok())
    return Fail(st);

  std::vector<std::string> options = {"listening_ports", web && web->tls() ? listen + "s" : listen,
                                      "num_threads", std::to_string(f.threads)};
  if (pem.valid()) {
    options.insert(options.end(),
                   {"ssl_certificate", absl::StrCat("/proc/self/fd/", pem.get()),
                    "ssl_protocol_version", "4"});  // TLS 1.2 and newer
  }
  MetricsServerOptions server_opts{.civetweb = options, .path = f.telemetry_path};
  if (web && !web->users.empty()) {
    auto auth = std::make_shared<BasicAuth>(web->users);
    server_opts.check_user = [auth](const std::string& user, const std::string& password) {
      return auth->Check(user, password);
    };
  }
  auto server = MetricsServer::Start(server_opts, collector);
  if (!server.ok())
    return Fail(Error(ExitCode::kUsage,
                      absl::StrCat("listen on ", f.listen, ": ", server.status().message())));
  auto ports = (*server)->ListeningPorts();
  spdlog::info("listening on {} ({}{}), pins {}, BPF run-time stats {}", f.listen,
               web && web->tls() ? "https" : "http",
               web && !web->users.empty() ? ", basic auth" : "", pins->root(),
               collector->run_time_stats() ? "on" : "off");
  // One line on stdout for scripts and tests: the bound port.
  std::printf("xsk-exporter: listening on port %d\n", ports.empty() ? 0 : ports[0]);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("signal {}: stopping", sig);
  server->reset();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"xsk-exporter: xskit's steering and probe counters for Prometheus"};
  Flags f;
  app.add_option("--web.listen-address", f.listen,
                 "HOST:PORT to serve metrics on (loopback unless told otherwise; port 0 "
                 "picks a free one)")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", f.telemetry_path, "path of the metrics endpoint")
      ->capture_default_str();
  app.add_option("--web.config.file", f.web_config,
                 "TLS and basic auth (exporter-toolkit format: tls_server_config, "
                 "basic_auth_users)");
  app.add_option("--pin-root", f.pin_root,
                 "bpffs directory of xskit's pins (default /sys/fs/bpf/xskit)");
  app.add_option("--interfaces", f.interfaces,
                 "export only these interfaces (IFNAME or NETNS:IFNAME), comma-separated")
      ->delimiter(',');
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--reopen", f.reopen,
                 "on-change: open the pins of interfaces attached (or re-attached) after start, "
                 "read-only as a member of the group xskit (no capability); never: export only "
                 "what was pinned at start")
      ->check(CLI::IsMember({"on-change", "never"}))
      ->capture_default_str();
  app.add_option("--user", f.user, "switch to this user after opening the pins");
  app.add_flag("--make-pin-root", f.make_pin_root,
               "create the pin root (root:xskit 0750) if missing and exit (the unit runs this "
               "as root before starting the exporter)");
  app.add_option("--sockets.discovery-interval", f.socket_discovery,
                 "seconds between full passes over every process's files to find AF_XDP "
                 "sockets (0: every scrape); between them a scrape re-reads only the processes "
                 "known to hold sockets")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  app.add_flag("--bpf.run-time-stats", f.run_time_stats,
               "turn on the kernel's BPF run-time statistics while running, for "
               "xsk_steer_prog_run_seconds_total and xsk_steer_prog_runs_total: every BPF program on "
               "the host, xskit's or not, then pays two clock reads per run (exporter/README.md)");
  app.add_option("--web.threads", f.threads, "HTTP server threads")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  xskit::RefuseEmptyValues(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(xskit::ExitCode::kUsage);
  }
  xskit::InitLogging(f.log_level);
  return Run(f);
}
