// xsk-triage: a verdict for a kernel rollout, canary against baseline, from
// Prometheus. main() only parses options, runs the triage and maps the
// outcome to an exit code (exit_codes.h).
#include <chrono>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "triage/config.h"
#include "triage/exit_codes.h"
#include "triage/prometheus_client.h"
#include "triage/report.h"
#include "triage/time_parse.h"
#include "triage/triage.h"

namespace {

using xskit::triage::ExitCode;

constexpr const char* kDescription = R"(NAME
    xsk-triage - judge a canary group of hosts against a baseline group from xskit's metrics

SYNOPSIS
    xsk-triage --prometheus URL --baseline SELECTOR --canary SELECTOR
               [--start TIME] [--end TIME] [--step DURATION] [--config FILE]
               [--http.config.file FILE] [--json]

DESCRIPTION
    For every AF_XDP signal (steering redirects and failures per packet,
    descriptors per sendmsg, EAGAIN per sendmsg by backpressure cause, drops
    per packet by kernel reason, completion latency p99, the steering
    program's time per run, per-socket health, probe coverage), queries both
    groups over the window from Prometheus, drops NaN, removes outliers (IQR),
    runs a Mann-Whitney U test and estimates the canary's shift with
    Hodges-Lehmann and its confidence interval. A row is high or low when that
    interval, relative to the baseline median, lies wholly beyond the signal's
    effect size; nodata when a group has too few points (its note says which
    group measured it). Prints one row per signal, the score (weighted share
    of rows that did not get worse) and PASS / MARGINAL / FAIL.

    A group is the hosts whose xsk_exporter_build_info matches SELECTOR, a
    PromQL label selector in braces, e.g. '{rollout="canary"}' (a scrape-target
    label) or '{kernel="6.12.0-1-amd64"}'. The signals use the recording
    rules of dashboards/rules/xskit-triage.rules.yml and
    xskit-recording.rules.yml: load them into Prometheus first.

EXIT STATUS
    0  PASS
    1  FAIL: a critical signal got worse, a nodata policy says fail, or the
       score is below the marginal threshold
    2  usage: bad option, selector, time or config file
    3  MARGINAL: score between the thresholds, or nodata on a critical signal
    4  Prometheus unreachable, refused the credentials, or refused a query
       (its error text is printed)

FILES
    --config: YAML overrides of the built-in signal table and thresholds
    (triage/README.md). --http.config.file: basic_auth and tls_config in
    Prometheus' client format.

OPTIONS)";

int Exit(ExitCode c) { return static_cast<int>(c); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "xsk-triage"};
  app.get_formatter()->column_width(34);
  std::string url, baseline, canary, start = "-2h", end = "now", step = "60s", config_path,
              http_config_path;
  bool json = false;
  double timeout = 30;
  int retries = 3;
  app.add_option("--prometheus", url, "Prometheus base URL, e.g. http://prom:9090")->required();
  app.add_option("--baseline", baseline, "selector of the baseline hosts, e.g. '{rollout=\"stable\"}'")
      ->required();
  app.add_option("--canary", canary, "selector of the canary hosts, e.g. '{rollout=\"canary\"}'")
      ->required();
  app.add_option("--start", start, "window start: now, -DURATION, Unix seconds or RFC 3339")
      ->capture_default_str();
  app.add_option("--end", end, "window end (same forms)")->capture_default_str();
  app.add_option("--step", step, "resolution of the samples (30s, 1m, ...)")->capture_default_str();
  app.add_option("--config", config_path, "YAML file overriding signals and thresholds")
      ->check(CLI::ExistingFile);
  app.add_option("--http.config.file", http_config_path,
                 "basic_auth / tls_config for Prometheus (its client config format)")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout", timeout, "seconds per HTTP request")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--retries", retries, "retries of a failed request (exponential backoff from 0.5 s)")
      ->capture_default_str()->check(CLI::Range(0, 10));
  app.add_flag("--json", json, "print the report as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : Exit(ExitCode::kUsage);
  }

  auto usage = [](const absl::Status& s) {
    std::cerr << "xsk-triage: " << s.message() << "\n";
    return Exit(ExitCode::kUsage);
  };
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto t0 = xskit::triage::ParseTime(start, now);
  if (!t0.ok()) return usage(absl::InvalidArgumentError(absl::StrCat("--start: ", t0.status().message())));
  auto t1 = xskit::triage::ParseTime(end, now);
  if (!t1.ok()) return usage(absl::InvalidArgumentError(absl::StrCat("--end: ", t1.status().message())));
  auto st = xskit::triage::ParseDuration(step);
  if (!st.ok()) return usage(absl::InvalidArgumentError(absl::StrCat("--step: ", st.status().message())));
  if (*t1 <= *t0 || *st <= 0)
    return usage(absl::InvalidArgumentError("--start must be before --end, and --step above 0"));

  xskit::triage::Config config;
  if (!config_path.empty()) {
    auto c = xskit::triage::LoadConfig(config_path);
    if (!c.ok()) return usage(c.status());
    config = std::move(*c);
  }
  xskit::triage::ClientOptions opts;
  opts.url = url;
  opts.timeout_s = timeout;
  opts.retries = retries;
  if (!http_config_path.empty()) {
    auto h = xskit::triage::LoadHttpConfig(http_config_path);
    if (!h.ok()) return usage(h.status());
    opts.http = std::move(*h);
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return usage(absl::InvalidArgumentError(
        absl::StrCat("--prometheus ", url, ": expected an http:// or https:// URL")));

  xskit::triage::PrometheusClient client(opts);
  auto report = xskit::triage::RunTriage(
      client, config, {.baseline = baseline, .canary = canary, .start = *t0, .end = *t1, .step = *st});
  if (!report.ok()) {
    std::cerr << "xsk-triage: " << report.status().message() << "\n";
    return report.status().code() == absl::StatusCode::kInvalidArgument ? Exit(ExitCode::kUsage)
                                                                        : Exit(ExitCode::kPrometheus);
  }
  if (json)
    std::cout << xskit::triage::RenderJson(*report).dump(2) << "\n";
  else
    std::cout << xskit::triage::RenderText(*report);
  switch (report->overall.outcome) {
    case xskit::triage::Outcome::kPass: return Exit(ExitCode::kPass);
    case xskit::triage::Outcome::kMarginal: return Exit(ExitCode::kMarginal);
    case xskit::triage::Outcome::kFail: return Exit(ExitCode::kFail);
  }
  return Exit(ExitCode::kFail);
}
