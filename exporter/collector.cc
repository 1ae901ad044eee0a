#include "exporter/collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "exporter/families.h"
#include "lib/log.h"
#include "lib/privileges.h"

#ifndef XSKIT_VERSION
#define XSKIT_VERSION "unknown"
#endif

namespace xskit::exporter {
namespace {

using prometheus::MetricType;

// Every source is published from the start (at 0), so a rate() over it
// works before the first error.
constexpr const char* kErrorSources[] = {"pins",       "steer_open",  "steer_counters",
                                         "prog_stats", "probes_open", "probes_read",
                                         "sockets"};

}  // namespace

XskCollector::XskCollector(const CollectorOptions& opts)
    : cache_(PinLayout(opts.pin_root), opts.interfaces, opts.reopen),
      socket_discovery_s_(opts.socket_discovery_s),
      run_time_stats_wanted_(opts.run_time_stats) {
  for (const char* s : kErrorSources) scrape_errors_[s] = 0;
  utsname u{};
  kernel_ = uname(&u) == 0 ? u.release : "unknown";
  libbpf_ = absl::StrCat(libbpf_major_version(), ".", libbpf_minor_version());
  if (auto ns = CurrentNetns(); ns.ok()) self_netns_ = ns->inode;
}

void XskCollector::Prime() {
  std::lock_guard<std::mutex> lock(mu_);
  // BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel accounts run time for
  // every program while this fd is open (CAP_SYS_ADMIN, once). Only when
  // asked: it costs every BPF program on the host two clock reads per run.
  if (run_time_stats_wanted_) {
    if (int fd = bpf_enable_stats(BPF_STATS_RUN_TIME); fd >= 0) {
      stats_fd_.reset(fd);
    } else {
      Error("prog_stats", absl::StrCat("bpf_enable_stats(BPF_STATS_RUN_TIME): ",
                                       std::strerror(errno),
                                       "; xsk_steer_prog_run_seconds_total stays absent"));
    }
  }
  if (auto r = DropReasons::FromKernel(); r.ok()) {
    reasons_ = std::move(*r);
  } else {
    spdlog::warn("drop reason names unavailable ({}); reasons are exported as reason_<n>",
                 r.status().message());
  }
  if (auto links = XskLinksProg::Load(); links.ok()) {
    links_prog_.emplace(std::move(*links));
  } else {
    Error("pins", absl::StrCat(links.status().message(),
                               "; attaches whose link is pinned are taken as live"));
  }
  {
    auto links = ReadLinks();
    cache_.Refresh([this](const std::string& s, const std::string& m) { Error(s, m); },
                   links ? &*links : nullptr);
  }
  PrimeSockets();
  spdlog::info("opened {} interface(s), probes {}", cache_.ifaces().size(),
               cache_.probes() ? "pinned" : "not pinned");
}

void XskCollector::Error(const std::string& source, const std::string& message) const {
  scrape_errors_[source]++;
  std::string& last = last_error_[source];
  if (last != message) {
    spdlog::warn("scrape: {}: {}", source, message);
    last = message;
  } else {
    spdlog::debug("scrape: {}: {}", source, message);
  }
}

std::optional<std::vector<xsk_xdp_link_rec>> XskCollector::ReadLinks() const {
  if (!links_prog_) return std::nullopt;
  auto links = links_prog_->ReadXdpLinks();
  if (!links.ok()) {
    Error("pins", std::string(links.status().message()));
    return std::nullopt;
  }
  return std::move(*links);
}

std::vector<prometheus::MetricFamily> XskCollector::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  // CAP_BPF into this thread's effective set for the scrape, where bpf()
  // needs it (a kernel that gates every command; lib/privileges.h); else a
  // no-op.
  RaisedPrivileges raised;
  auto start = std::chrono::steady_clock::now();
  std::vector<prometheus::MetricFamily> out;
  {
    auto links = ReadLinks();
    cache_.Refresh([this](const std::string& s, const std::string& m) { Error(s, m); },
                   links ? &*links : nullptr);
  }
  CollectSteering(out);
  CollectProbes(out);
  CollectSockets(out);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CollectSelf(out, seconds);
  return out;
}

void XskCollector::CollectSteering(std::vector<prometheus::MetricFamily>& out) const {
  FamilyBuilder packets("xsk_steer_packets_total",
                        "Packets seen by the steering XDP program, by rx queue and outcome.",
                        MetricType::Counter);
  FamilyBuilder info("xsk_steer_info",
                     "What xsk-loader attached to the interface (always 1).", MetricType::Gauge);
  FamilyBuilder attach_time("xsk_steer_attach_time_seconds",
                            "When the steering program was attached (Unix time); a change "
                            "explains a counter reset.",
                            MetricType::Gauge);
  FamilyBuilder run_seconds("xsk_steer_prog_run_seconds_total",
                            "Time the kernel spent running the steering program (BPF run-time "
                            "statistics, counted while the exporter runs).",
                            MetricType::Counter);
  FamilyBuilder runs("xsk_steer_prog_runs_total",
                     "Runs of the steering program counted by the kernel's BPF run-time "
                     "statistics (while the exporter runs).",
                     MetricType::Counter);

  for (const auto& e : cache_.ifaces()) {
    if (!e->live()) continue;  // the device is gone: its series go with it
    const xsk_steer_info& si = e->steer->info();
    std::string driver(si.driver, strnlen(si.driver, sizeof(si.driver)));
    std::string mode = XdpModeName(si.xdp_mode);
    Labels iface = {{"ifname", e->parts.ifname}, {"netns", e->parts.netns}};
    Labels with_dev = iface;
    with_dev.push_back({"driver", driver});
    with_dev.push_back({"mode", mode});

    Labels il = iface;
    il.insert(il.end(), {{"driver", driver},
                         {"mode", mode},
                         {"xsk_mode", si.zerocopy ? "zerocopy" : "copy"},
                         {"filter", FilterString(si.filter)}});
    info.Add(il, 1);
    attach_time.Add(iface, static_cast<double>(si.attach_time_ns) / 1e9);

    auto counters = e->steer->ReadCounters();
    if (!counters.ok()) {
      Error("steer_counters", std::string(counters.status().message()));
    } else {
      for (uint32_t q = 0; q < counters->size(); q++) {
        for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++) {
          Labels l = iface;
          l.insert(l.end(), {{"queue", absl::StrCat(q)},
                             {"driver", driver},
                             {"mode", mode},
                             {"outcome", OutcomeName(static_cast<xsk_steer_outcome>(o))}});
          packets.Add(l, static_cast<double>((*counters)[q].packets[o]));
        }
      }
    }

    if (e->prog.valid() && stats_fd_.valid()) {
      bpf_prog_info pi{};
      uint32_t len = sizeof(pi);
      if (bpf_obj_get_info_by_fd(e->prog.get(), &pi, &len) == 0) {
        run_seconds.Add(with_dev, static_cast<double>(pi.run_time_ns) / 1e9);
        runs.Add(with_dev, static_cast<double>(pi.run_cnt));
      } else {
        Error("prog_stats", absl::StrCat("bpf_obj_get_info_by_fd(prog ", e->prog_id, "): ",
                                         std::strerror(errno)));
      }
    }
  }
  packets.MoveTo(out);
  info.MoveTo(out);
  attach_time.MoveTo(out);
  run_seconds.MoveTo(out);
  runs.MoveTo(out);
}

void XskCollector::CollectSelf(std::vector<prometheus::MetricFamily>& out, double seconds) const {
  FamilyBuilder build("xsk_exporter_build_info",
                      "xsk-exporter's version, the running kernel and libbpf (always 1).",
                      MetricType::Gauge);
  build.Add({{"version", XSKIT_VERSION}, {"kernel", kernel_}, {"libbpf", libbpf_}}, 1);
  build.MoveTo(out);
  FamilyBuilder errors("xsk_exporter_scrape_errors_total",
                       "Errors met while reading pins during scrapes, by source.",
                       MetricType::Counter);
  for (const auto& [source, n] : scrape_errors_) errors.Add({{"source", source}}, n);
  errors.MoveTo(out);
  FamilyBuilder duration("xsk_exporter_scrape_duration_seconds",
                         "Time this scrape spent reading the pins.", MetricType::Gauge);
  duration.Add({}, seconds);
  duration.MoveTo(out);
}

}  // namespace xskit::exporter
