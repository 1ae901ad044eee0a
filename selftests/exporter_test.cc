// Tier `exporter`: xsk-exporter under a real Prometheus server.
//
// The decoders and the web config are table-tested first (no kernel). The
// rest runs the real binaries: xsk-loader attaches in a test namespace, an
// AF_XDP socket receives and sends, xsk-exporter (a child process on a
// loopback port) serves the pins, Debian's `prometheus` scrapes it every
// second, and the test asks Prometheus' HTTP API for what the workload's
// ground truth predicts. Everything (namespaces, pins, both daemons) goes
// away at the end, also when an assertion fails.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <crypt.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <optional>
#include <thread>
#include <tuple>

#include <linux/types.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bpf/xsk_probes.h"
#include "exporter/decoders.h"
#include "exporter/exposition.h"
#include "exporter/families.h"
#include "exporter/http_server.h"
#include "exporter/web_config.h"
#include "gtest/gtest.h"
#include "lib/errors.h"
#include "lib/pins.h"
#include "lib/privileges.h"
#include "xsk/xsk_socket.h"
#include "nlohmann/json.hpp"
#include "prometheus/text_serializer.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "lib/sandbox/packet.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"
#include "selftests/lib/paths.h"

extern char** environ;

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::FreeLoopbackPort;
using testing::HttpGet;
using testing::HttpReply;
using testing::UrlEncode;
using testing::InNetns;
using testing::NetnsPair;
using testing::Packet;
using testing::RunCmd;

// ------------------------------------------------------------ pure logic

// The label decoders are table-tested in the unit tier (selftests/decoders_test.cc).

TEST(ExporterDecoders, HistogramBoundsMatchKernelBuckets) {
  std::vector<double> want = {0, 1, 3, 7, 15, 31, 63, 127, 255};
  EXPECT_EQ(exporter::BatchBucketBounds(), want) << "bucket k (2..8) holds [2^(k-1), 2^k-1]";
  auto lat = exporter::LatencyBucketBounds();
  ASSERT_EQ(lat.size(), 31u) << "the kernel's last bucket (>= 2^31 ns) is +Inf only";
  EXPECT_DOUBLE_EQ(lat[0], 2e-9);
  EXPECT_DOUBLE_EQ(lat[9], 1024e-9);
}

TEST(ExporterDecoders, ListenAddressAndInterfaceFilter) {
  EXPECT_EQ(exporter::CivetListenAddress("127.0.0.1:10171"), "127.0.0.1:10171");
  EXPECT_EQ(exporter::CivetListenAddress(":10171"), "0.0.0.0:10171");
  EXPECT_EQ(exporter::CivetListenAddress("localhost:0"), "127.0.0.1:0");
  EXPECT_EQ(exporter::CivetListenAddress("[::1]:10171"), "[::1]:10171");
  EXPECT_EQ(exporter::CivetListenAddress("127.0.0.1"), "");
  EXPECT_EQ(exporter::CivetListenAddress("127.0.0.1:70000"), "");
  // Issue 12 item 7: one address only; civetweb would take a list (or
  // suffixes) as more listeners.
  for (const char* bad : {"127.0.0.1:1,127.0.0.1:2", "127.0.0.1:1,:2", "", ":", "127.0.0.1:",
                          "127.0.0.1:80s", "127.0.0.1:+80", "host name:80", "[::1:80",
                          "[]:80", "[zz]:80", "eth0:80"})
    EXPECT_EQ(exporter::CivetListenAddress(bad), "") << bad;
  EXPECT_TRUE(exporter::InterfaceSelected({}, "ns1:eth0", "eth0"));
  EXPECT_TRUE(exporter::InterfaceSelected({"eth0"}, "ns1:eth0", "eth0"));
  EXPECT_TRUE(exporter::InterfaceSelected({"ns1:eth0"}, "ns1:eth0", "eth0"));
  EXPECT_FALSE(exporter::InterfaceSelected({"ns2:eth0"}, "ns1:eth0", "eth0"));
}

TEST(ExporterFamilies, HistogramIsCumulativeAndEqualLabelsAreSummed) {
  exporter::FamilyBuilder f("x_hist", "h", prometheus::MetricType::Histogram);
  f.AddHistogram({{"q", "0"}}, {0, 1, 3}, {2, 3, 4}, 5, 40);
  f.AddHistogram({{"q", "0"}}, {0, 1, 3}, {1, 0, 0}, 0, 0);
  std::vector<prometheus::MetricFamily> out;
  f.MoveTo(out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].metric.size(), 1u) << "same labels: one series";
  const auto& h = out[0].metric[0].histogram;
  ASSERT_EQ(h.bucket.size(), 4u);
  EXPECT_EQ(h.bucket[0].cumulative_count, 3u);
  EXPECT_EQ(h.bucket[1].cumulative_count, 6u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 10u);
  EXPECT_EQ(h.bucket[3].cumulative_count, 15u) << "+Inf";
  EXPECT_EQ(h.sample_count, 15u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 40);
}

TEST(ExporterFamilies, CountersSumEqualLabelsAndKeepFirstSeenOrder) {
  exporter::FamilyBuilder f("x_total", "c", prometheus::MetricType::Counter);
  f.Reserve(4);
  // 3,000 distinct label sets (more than a scrape with 256 sockets has in
  // one family), each added twice, interleaved; plus sets that differ only
  // by one more label or by where a string is split between name and value.
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 3000; i++)
      f.Add({{"ifname", absl::StrCat("veth", i % 7)}, {"queue", absl::StrCat(i)}}, i + round);
  f.Add({{"ifname", "veth0"}, {"queue", "0"}, {"ring", "rx"}}, 5);
  f.Add({{"ifnam", "eveth0"}, {"queue", "0"}}, 7);
  std::vector<prometheus::MetricFamily> out;
  f.MoveTo(out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].metric.size(), 3002u);
  for (int i = 0; i < 3000; i++) {
    const auto& m = out[0].metric[i];
    ASSERT_EQ(m.label.size(), 2u);
    EXPECT_EQ(m.label[1].value, absl::StrCat(i));
    EXPECT_DOUBLE_EQ(m.counter.value, 2.0 * i + 1) << i;
  }
  EXPECT_DOUBLE_EQ(out[0].metric[3000].counter.value, 5);
  EXPECT_EQ(out[0].metric[3000].label.size(), 3u);
  EXPECT_DOUBLE_EQ(out[0].metric[3001].counter.value, 7);
  EXPECT_TRUE(f.empty()) << "MoveTo leaves the builder empty";
  f.MoveTo(out);
  EXPECT_EQ(out.size(), 1u) << "an empty family is not appended";
}

// exporter/exposition.h writes what prometheus::TextSerializer writes, byte
// for byte, for every kind of family and value the library can express.
TEST(ExporterExposition, SameBytesAsPrometheusCppTextSerializer) {
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  using prometheus::MetricType;
  auto series = [](std::vector<ClientMetric::Label> labels, double v) {
    ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = m.gauge.value = m.untyped.value = v;
    return m;
  };
  std::vector<MetricFamily> fams;
  fams.push_back({"x_total", "A counter.", MetricType::Counter, {}});
  for (double v : {0.0, -0.0, 1.0, 42.0, 1000003.0, 999999999999999.0, 1e15, 1e16, 1.5e17,
                   123456789012345678.0, 18446744073709551615.0, 0.1, 1.0 / 3, 2e-9, 1024e-9,
                   -7.25, 6.02214076e23, std::nan(""), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), 4.9e-324})
    fams.back().metric.push_back(series({{"v", absl::StrCat(v)}}, v));
  fams.push_back({"x_gauge", "", MetricType::Gauge, {}});  // no HELP line
  fams.back().metric.push_back(series({}, 3));
  fams.back().metric.push_back(
      series({{"a", "back\\slash"}, {"b", "quo\"te"}, {"c", "new\nline"}, {"d", ""},
              {"e", "\\\"\n\n\\"}, {"f", "ü ✓ {x=\"y\"}, z"}},
             1));
  fams.back().metric.push_back(series({{"ts", "1"}}, 2));
  fams.back().metric.back().timestamp_ms = 1700000000123;
  fams.push_back({"x_untyped", "Untyped.", MetricType::Untyped, {series({{"k", "v"}}, 0.5)}});
  fams.push_back({"x_summary", "A summary.", MetricType::Summary, {}});
  {
    ClientMetric m;
    m.label = {{"q", "0"}};
    m.summary.sample_count = 12;
    m.summary.sample_sum = 3.5;
    m.summary.quantile = {{0.5, 1}, {0.99, 2.25}};
    fams.back().metric.push_back(m);
  }
  fams.push_back({"x_hist", "A histogram.", MetricType::Histogram, {}});
  {
    ClientMetric m;  // with the +Inf bucket (FamilyBuilder's way)
    m.label = {{"ifname", "veth0"}, {"queue", "3"}};
    m.histogram.sample_count = 9;
    m.histogram.sample_sum = 1e-6;
    for (double b : exporter::LatencyBucketBounds()) m.histogram.bucket.push_back({5, b});
    m.histogram.bucket.push_back({9, std::numeric_limits<double>::infinity()});
    fams.back().metric.push_back(m);
    ClientMetric bare;  // without it: the serializer adds one
    bare.histogram.sample_count = 2;
    bare.histogram.bucket = {{1, 0}, {2, 1}};
    fams.back().metric.push_back(bare);
    fams.back().metric.push_back(ClientMetric{});  // no bucket at all
  }
  std::string ours;
  exporter::AppendExposition(fams, ours);
  EXPECT_EQ(ours, prometheus::TextSerializer().Serialize(fams));

  // HELP is escaped as the format says (the library writes it raw).
  std::string help;
  exporter::AppendExposition({{"y", "a\\b\nc", MetricType::Gauge, {series({}, 1)}}}, help);
  EXPECT_EQ(help, "# HELP y a\\\\b\\nc\n# TYPE y gauge\ny 1\n");
}

TEST(ExporterHttp, LoopbackPeersAreToldApart) {
  for (const char* a : {"127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(exporter::IsLoopbackAddress(a)) << a;
  for (const char* a : {"10.0.0.1", "128.0.0.1", "::2", "::ffff:10.1.2.3", "fe80::1", "", "x"})
    EXPECT_FALSE(exporter::IsLoopbackAddress(a)) << a;
}

TEST(ExporterWebConfig, ParsesTheExporterToolkitSubsetAndChecksBcrypt) {
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  std::string hash = crypt_r("s3cret", salt, &data);
  auto c = exporter::ParseWebConfig(absl::StrCat(
      "# xsk-exporter\ntls_server_config:\n  cert_file: /etc/x/tls.crt\n  key_file: \"/etc/x/tls.key\"\n"
      "basic_auth_users:\n  prometheus: ",
      hash, "\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cert_file, "/etc/x/tls.crt");
  EXPECT_EQ(c->key_file, "/etc/x/tls.key");
  ASSERT_EQ(c->users.count("prometheus"), 1u);
  EXPECT_TRUE(exporter::CheckPassword(c->users["prometheus"], "s3cret"));
  EXPECT_FALSE(exporter::CheckPassword(c->users["prometheus"], "s3creT"));
  // Issue 12 item 2: YAML as exporter-toolkit reads it, flow style included.
  auto flow = exporter::ParseWebConfig(absl::StrCat(
      "tls_server_config: {cert_file: /etc/x/tls.crt, key_file: '/etc/x/tls.key'}\n"
      "basic_auth_users: {prometheus: \"", hash, "\"}\n"
      "http_server_config: {http2: false}\n"));
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_TRUE(flow->tls());
  EXPECT_EQ(flow->key_file, "/etc/x/tls.key");
  ASSERT_EQ(flow->users.count("prometheus"), 1u);
  EXPECT_TRUE(exporter::CheckPassword(flow->users["prometheus"], "s3cret"));
  auto whole_flow = exporter::ParseWebConfig(absl::StrCat("{basic_auth_users: {u: '", hash, "'}}"));
  ASSERT_TRUE(whole_flow.ok()) << whole_flow.status();
  EXPECT_EQ(whole_flow->users.size(), 1u);
  // Refused at start, naming the key: unknown ones, and toolkit settings
  // that xsk-exporter could not enforce.
  for (auto [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"tls_server_config: {cert_file: a, key_file: b, client_ca_file: c}\n", "client_ca_file"},
           {"tls_server_config: {cert_file: a, key_file: b, min_version: TLS13}\n", "min_version"},
           {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_fiel: c\n", "cert_fiel"},
           {"basic_auth_user: {u: x}\n", "basic_auth_user"},
           {"http_server_config: {headers: {X-Frame-Options: deny}}\n", "headers"},
           {"http_server_config: {http3: true}\n", "http3"},
           {"basic_auth_users: {u: $1$abc$def}\n", "bcrypt"},
           {"basic_auth_users: [u]\n", "mapping"},
           {absl::StrCat("basic_auth_users: {u: '", hash, "', u: '", hash, "'}\n"), "twice"},
           {"tls_server_config: {cert_file: [a], key_file: b}\n", "cert_file"},
           {"basic_auth_users: {u: 'unterminated\n", "not YAML"}}) {
    auto r = exporter::ParseWebConfig(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << text << ": " << r.status();
    EXPECT_EQ(ExitCodeOf(r.status()), ExitCode::kUsage) << text;
  }
  EXPECT_TRUE(exporter::ParseWebConfig("http_server_config: {http2: true}\n").ok())
      << "http2 only allows an upgrade: HTTP/1.1 is served either way";
  EXPECT_FALSE(exporter::ParseWebConfig("tls_server_config:\n  cert_file: a\n").ok())
      << "cert without key";
  EXPECT_FALSE(exporter::ParseWebConfig("basic_auth_users:\n  u: plaintext\n").ok())
      << "plaintext password";
}

// ------------------------------------------------------------ processes

// A daemon started by the test, stopped (SIGTERM, then SIGKILL) when the
// object goes; its stdout is a pipe, its stderr a log file.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv, const std::string& log) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    out_ = p[0];
  }
  ~Daemon() {
    Stop();
    if (out_ >= 0) ::close(out_);
  }
  pid_t pid() const { return pid_; }
  // Not exited (nor killed) yet; reaps it if it has.
  bool Running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }

  // Waits for a stdout line containing `prefix`; returns the rest of it.
  std::optional<std::string> WaitLine(const std::string& prefix, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (size_t at = line.find(prefix); at != std::string::npos)
          return line.substr(at + prefix.size());
      }
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) > 0) {
        char b[512];
        ssize_t n = ::read(out_, b, sizeof(b));
        if (n <= 0) return std::nullopt;
        buf_.append(b, n);
      }
    }
    return std::nullopt;
  }

  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; i++) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xskit-exporter-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ------------------------------------------------------ systemd units

// The shipped units, with ExecStart pointing at this build: systemd's own
// offline checks (no systemd PID 1 needed) find nothing to say about either,
// and the exporter's hardening keeps its exposure score at 3.0 or below
// (`systemd-analyze security`, 0 = locked down, 10 = none).
// Each unit lives beside its tool (exporter/, loader/).
std::string UnitForThisBuild(const std::string& unit, const std::string& dir) {
  std::string tool = unit.rfind("xsk-exporter", 0) == 0 ? "exporter" : "loader";
  std::ifstream in(absl::StrCat(testing::SourceDir(), "/", tool, "/", unit));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(text.empty()) << unit;
  for (const char* bin : {"exporter/xsk-exporter", "loader/xsk-loader"}) {
    std::string installed = absl::StrCat("@XSKIT_BINDIR@/", std::filesystem::path(bin).filename().string());
    for (size_t at; (at = text.find(installed)) != std::string::npos;)
      text.replace(at, installed.size(), Bin(bin));
  }
  std::string path = absl::StrCat(dir, "/", unit);
  std::ofstream(path) << text;
  return path;
}

TEST(ExporterSystemdUnits, VerifyCleanAndExporterHardened) {
  if (RunCmd({"systemd-analyze", "--version"}).status != 0)
    XSKIT_SKIP("systemd-analyze not installed (scripts/install-deps installs systemd)");
  TempDir dir;
  std::string exporter = UnitForThisBuild("xsk-exporter.service", dir.path());
  UnitForThisBuild("xsk-loader@.service", dir.path());
  UnitForThisBuild("xsk-loader-serve@.service", dir.path());
  std::filesystem::copy_file(dir.path() + "/xsk-loader@.service",
                             dir.path() + "/xsk-loader@eth0.service");
  std::filesystem::copy_file(dir.path() + "/xsk-loader-serve@.service",
                             dir.path() + "/xsk-loader-serve@eth0.service");
  for (const std::string& unit : {exporter, dir.path() + "/xsk-loader@eth0.service",
                                  dir.path() + "/xsk-loader-serve@eth0.service"}) {
    // --man=no: the man pages come with the package, not the build tree.
    CmdResult r = RunCmd({"systemd-analyze", "verify", "--man=no", unit});
    EXPECT_EQ(r.status, 0) << unit << ": " << r.output;
    EXPECT_EQ(r.output, "") << "systemd-analyze verify " << unit;
  }
  CmdResult sec =
      RunCmd({"systemd-analyze", "security", "--offline=true", "--threshold=30", exporter});
  EXPECT_EQ(sec.status, 0) << "exposure above 3.0:\n" << sec.output;
  EXPECT_NE(sec.output.find("Overall exposure level for xsk-exporter.service"), std::string::npos)
      << sec.output;
}

// ------------------------------------------------------------ fixture

class ExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EnsureBpffs();
    if (::access("/usr/bin/prometheus", X_OK) != 0)
      XSKIT_SKIP("Debian's prometheus is not installed (scripts/install-deps)");
  }

  CmdResult Loader(const std::vector<std::string>& args, const std::string& netns = "") {
    return testing::RunLoader(root_.path(), netns.empty() ? pair_.ns_a() : netns, args);
  }

  // Starts xsk-exporter on `port` (0: any); returns the bound port or 0.
  int StartExporter(int port = 0, std::vector<std::string> prefix = {},
                    std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), {Bin("exporter/xsk-exporter"), "--pin-root",
                             exporter_pin_root_.empty() ? root_.path() : exporter_pin_root_,
                             "--web.listen-address", absl::StrCat("127.0.0.1:", port),
                             "--log-level", "debug"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    exporter_ = std::make_unique<Daemon>(argv, tmp_.path() + "/exporter.log");
    auto rest = exporter_->WaitLine("listening on port ");
    if (!rest) return 0;
    exporter_port_ = std::atoi(rest->c_str());
    return exporter_port_;
  }

  // Starts Prometheus scraping the exporter every second; `job_extra`:
  // more lines of the job (scheme, tls_config, basic_auth), indented 4.
  bool StartPrometheus(const std::string& job_extra = "") {
    prom_port_ = FreeLoopbackPort();
    std::ofstream(tmp_.path() + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        << "scrape_configs:\n  - job_name: xsk\n" << job_extra << "    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << exporter_port_ << "']\n";
    prometheus_ = std::make_unique<Daemon>(
        std::vector<std::string>{"prometheus", "--config.file=" + tmp_.path() + "/prometheus.yml",
                                 "--storage.tsdb.path=" + tmp_.path() + "/data",
                                 absl::StrCat("--web.listen-address=127.0.0.1:", prom_port_)},
        tmp_.path() + "/prometheus.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (HttpGet(prom_port_, "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // Instant query; the "result" array (empty on error).
  nlohmann::json Query(const std::string& promql) {
    HttpReply r = HttpGet(prom_port_, "/api/v1/query?query=" + UrlEncode(promql));
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return nlohmann::json::array();
    return j["data"]["result"];
  }

  // The single value of `promql`, or nullopt when it has no sample.
  std::optional<double> Value(const std::string& promql) {
    nlohmann::json res = Query(promql);
    if (!res.is_array() || res.size() != 1) return std::nullopt;
    return std::stod(res[0]["value"][1].get<std::string>());
  }

  // Polls until `promql` equals `want` (scrapes land every second).
  std::optional<double> WaitValue(const std::string& promql, double want, int timeout_s = 15) {
    std::optional<double> v;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      v = Value(promql);
      if (v && *v == want) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return v;
  }

  bool WaitEmpty(const std::string& promql, int timeout_s = 15) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Query(promql).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }

  std::unique_ptr<XskSocket> OpenSocket() {
    return testing::OpenSocketIn(pair_.ns_a(), pair_.dev_a(), 0, root_.path());
  }

  std::vector<std::vector<uint8_t>> Udp(int n, uint16_t dport) {
    return testing::UdpFrames(pair_, n, dport);
  }

  static uint64_t ReceiveAll(XskSocket& sock, uint64_t want) {
    return testing::ReceiveAll(sock, want);
  }

  // `metric{ifname=...,netns=...}` selectors for this test's interface.
  std::string Sel(const std::string& metric, const std::string& extra = "") {
    return absl::StrCat(metric, "{ifname=\"", pair_.dev_a(), "\",netns=\"", pair_.ns_a(), "\"",
                        extra.empty() ? "" : ",", extra, "}");
  }

  std::string ExporterLog() {
    std::ifstream in(tmp_.path() + "/exporter.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A self-signed certificate for 127.0.0.1 (tls.crt, tls.key in the test's
  // temporary directory) and a web config serving it, plus `extra` lines.
  std::string TlsWebConfig(const std::string& extra = "") {
    CmdResult r = RunCmd({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                          "/CN=xsk-exporter-test", "-addext", "subjectAltName=IP:127.0.0.1",
                          "-keyout", tmp_.path() + "/tls.key", "-out", tmp_.path() + "/tls.crt"});
    EXPECT_EQ(r.status, 0) << r.output;
    std::string cfg = tmp_.path() + "/web.yml";
    std::ofstream(cfg) << "tls_server_config:\n  cert_file: " << tmp_.path()
                       << "/tls.crt\n  key_file: " << tmp_.path() << "/tls.key\n"
                       << extra;
    return cfg;
  }

  struct CurlReply {
    int status = 0;  // 0: no HTTP reply
    std::string body, log;
  };
  // GET https://127.0.0.1:<exporter>/metrics with curl, trusting only the
  // test's certificate (so the chain and the name are verified too).
  CurlReply HttpsGet(const std::string& user = "") {
    std::string body = tmp_.path() + "/https-body";
    std::filesystem::remove(body);
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "--cacert",
                                     tmp_.path() + "/tls.crt", "-o", body, "-w", "\n%{http_code}",
                                     absl::StrCat("https://127.0.0.1:", exporter_port_, "/metrics")};
    if (!user.empty()) argv.insert(argv.end(), {"-u", user});
    CmdResult r = RunCmd(argv);
    CurlReply out;
    out.log = r.output;
    out.status = std::atoi(r.output.c_str() + r.output.rfind('\n') + 1);
    std::ifstream in(body);
    out.body.assign(std::istreambuf_iterator<char>(in), {});
    return out;
  }

  static bool HaveTlsTools() {
    return ::access("/usr/bin/openssl", X_OK) == 0 && ::access("/usr/bin/curl", X_OK) == 0;
  }

  // Declared first, destroyed last: the daemons stop before the pins and
  // namespaces go.
  TempDir tmp_;
  testing::TestPinRoot root_;
  NetnsPair pair_;
  std::unique_ptr<Daemon> exporter_, prometheus_;
  int exporter_port_ = 0, prom_port_ = 0;
  std::string exporter_pin_root_;  // empty: root_

  void TearDown() override {
    prometheus_.reset();
    exporter_.reset();
  }
};

TEST_F(ExporterTest, PrometheusSeesExactlyWhatTheWorkloadDid) {
  constexpr int kMatching = 100, kOther = 40, kTx = 16;
  CmdResult a = Loader({"attach", pair_.dev_a(), "--match", "udp:4791"});
  ASSERT_EQ(a.status, 0) << a.output;
  auto sock = OpenSocket();
  ASSERT_TRUE(sock) << "AF_XDP socket";
  ASSERT_NE(StartExporter(0, {}, {"--bpf.run-time-stats"}), 0) << ExporterLog();
  ASSERT_TRUE(StartPrometheus()) << "prometheus did not become ready";

  // Ground truth: 100 frames to the socket, 40 to UDP :9999 where nothing
  // listens (the stack drops them: NO_SOCKET), 16 frames sent by the socket.
  auto frames = Udp(kMatching, 4791);
  auto other = Udp(kOther, 9999);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), frames);
  ASSERT_EQ(ReceiveAll(*sock, kMatching), static_cast<uint64_t>(kMatching));
  uint32_t queued = sock->QueueTx(kTx, 64, [&](uint32_t, std::span<uint8_t> b) {
    auto f = Udp(1, 7777)[0];
    std::copy(f.begin(), f.begin() + std::min(f.size(), b.size()), b.begin());
  });
  ASSERT_EQ(queued, static_cast<uint32_t>(kTx));
  ASSERT_EQ(sock->Kick(), 0);

  EXPECT_EQ(WaitValue(Sel("xsk_steer_packets_total", "outcome=\"redirected\""), kMatching),
            kMatching)
      << "redirected";
  EXPECT_EQ(WaitValue(Sel("xsk_steer_packets_total", "outcome=\"pass_no_match\""), kOther),
            kOther)
      << "pass_no_match";
  EXPECT_EQ(Value(Sel("xsk_steer_packets_total", "outcome=\"redirect_failed\"")), 0);
  EXPECT_EQ(Value(absl::StrCat("xsk_steer_info{ifname=\"", pair_.dev_a(),
                               "\",filter=\"udp:4791\",driver=\"veth\"}")),
            1)
      << "steer_info";
  EXPECT_EQ(WaitValue(absl::StrCat("xsk_skb_drops_total{ifname=\"", pair_.dev_a(),
                                   "\",reason=\"NO_SOCKET\"}"),
                      kOther),
            kOther)
      << "the induced drop reason";
  EXPECT_EQ(WaitValue(Sel("xsk_tx_descriptors_total", "queue=\"0\""), kTx), kTx)
      << "descriptors sent";
  EXPECT_EQ(WaitValue(Sel("xsk_tx_descriptors_per_sendmsg_count", "queue=\"0\""), 1), 1)
      << "one sendmsg";
  EXPECT_EQ(Value(Sel("xsk_tx_descriptors_per_sendmsg_bucket", "queue=\"0\",le=\"15\"")), 0);
  EXPECT_EQ(Value(Sel("xsk_tx_descriptors_per_sendmsg_bucket", "queue=\"0\",le=\"31\"")), 1)
      << "16 descriptors land in le=31";
  EXPECT_GE(WaitValue(Sel("xsk_steer_prog_runs_total"), kMatching + kOther).value_or(0),
            kMatching + kOther)
      << "BPF run-time stats of the steering program";
  EXPECT_EQ(Value("count(xsk_probe_coverage)"), XSK_PROBES_NR_SIGNALS) << "one per signal";
  EXPECT_EQ(Value("sum(xsk_exporter_scrape_errors_total)"), 0) << ExporterLog();
  EXPECT_EQ(Value("up{job=\"xsk\"}"), 1);
  sock.reset();
}

TEST_F(ExporterTest, PromtoolFindsNothingOnALiveScrape) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a(), "--match", "udp:4791"}).status, 0);
  auto sock = OpenSocket();
  ASSERT_TRUE(sock);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(10, 4791));
  ASSERT_EQ(ReceiveAll(*sock, 10), 10u);
  EXPECT_EQ(sock->Kick(), 0) << "a sendto: the need_wakeup family gets series";
  ASSERT_NE(StartExporter(), 0) << ExporterLog();
  HttpReply r = HttpGet(exporter_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.body.find("xsk_steer_packets_total{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("xsk_tx_sendmsg_need_wakeup_calls_total{"), std::string::npos) << r.body;
  std::string file = tmp_.path() + "/scrape.txt";
  std::ofstream(file) << r.body;
  CmdResult check = RunCmd({"sh", "-c", "promtool check metrics < " + file});
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool check metrics has remarks";
}

// The kernel's BPF run-time statistics cost every program on the host two
// clock reads per run while anyone holds them: the exporter turns them on
// only with --bpf.run-time-stats, and its run-time families exist only then.
// (kernel.bpf_stats_enabled shows only the sysctl's own state, not fds.)
TEST_F(ExporterTest, RunTimeStatsOnlyWhenAsked) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  // The kernel's own count of the steering program's runs (run_cnt grows
  // only while someone holds the stats), around 3 frames.
  Fd prog(bpf_obj_get(
      absl::StrCat(root_.path(), "/if/", pair_.ns_a(), ":", pair_.dev_a(), "/prog").c_str()));
  ASSERT_TRUE(prog.valid()) << std::strerror(errno);
  auto runs_of_3_frames = [&] {
    auto run_cnt = [&] {
      bpf_prog_info pi{};
      uint32_t len = sizeof(pi);
      EXPECT_EQ(bpf_obj_get_info_by_fd(prog.get(), &pi, &len), 0);
      return pi.run_cnt;
    };
    uint64_t before = run_cnt();
    testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(3, 9999));
    return run_cnt() - before;
  };
  if (uint64_t n = runs_of_3_frames(); n != 0)
    GTEST_SKIP() << "the kernel counted " << n
                 << " runs before the exporter started: another process holds BPF_ENABLE_STATS";

  ASSERT_NE(StartExporter(), 0) << ExporterLog();
  EXPECT_EQ(runs_of_3_frames(), 0u) << "the exporter turned the kernel's run-time stats on unasked";
  HttpReply r = HttpGet(exporter_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.body.find("xsk_steer_packets_total{"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("xsk_steer_prog_runs_total"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("xsk_steer_prog_run_seconds_total"), std::string::npos);
  EXPECT_NE(ExporterLog().find("BPF run-time stats off"), std::string::npos) << ExporterLog();
  exporter_->Stop();

  ASSERT_NE(StartExporter(0, {}, {"--bpf.run-time-stats"}), 0) << ExporterLog();
  EXPECT_EQ(runs_of_3_frames(), 3u) << "held by the exporter: one run per frame";
  r = HttpGet(exporter_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("xsk_steer_prog_runs_total{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("xsk_steer_prog_run_seconds_total{"), std::string::npos);
  exporter_->Stop();
  EXPECT_EQ(runs_of_3_frames(), 0u) << "released when the exporter stops";
}

TEST_F(ExporterTest, RestartLosesNothingAndReattachIsACounterReset) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  int port = StartExporter();
  ASSERT_NE(port, 0) << ExporterLog();
  ASSERT_TRUE(StartPrometheus());
  std::string no_socket = Sel("xsk_steer_packets_total", "outcome=\"pass_no_socket\"");
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(30, 9999));
  ASSERT_EQ(WaitValue(no_socket, 30), 30);

  // Down for a few scrapes; traffic meanwhile; back on the same port.
  exporter_->Stop();
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(20, 9999));
  ASSERT_EQ(WaitValue("up{job=\"xsk\"}", 0), 0) << "Prometheus noticed the exporter was down";
  ASSERT_EQ(StartExporter(port), port) << ExporterLog();
  EXPECT_EQ(WaitValue(no_socket, 50), 50) << "counters continue across an exporter restart";
  EXPECT_EQ(Value("resets(" + no_socket + "[1m])"), 0) << "no reset from a restart";

  // A re-attach by the loader makes new maps: Prometheus sees a reset.
  ASSERT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
  EXPECT_TRUE(WaitEmpty(no_socket)) << "detached: the series go away";
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(5, 9999));
  EXPECT_EQ(WaitValue(no_socket, 5), 5) << "fresh counters after re-attach";
  EXPECT_EQ(Value("up{job=\"xsk\"}"), 1);
  EXPECT_EQ(Value("sum(xsk_exporter_scrape_errors_total)"), 0) << ExporterLog();
}

TEST_F(ExporterTest, InterfaceDeletedMidRunSeriesGoAwayExporterKeepsServing) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  ASSERT_NE(StartExporter(), 0) << ExporterLog();
  ASSERT_TRUE(StartPrometheus());
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(7, 9999));
  std::string sel = Sel("xsk_steer_packets_total", "outcome=\"pass_no_socket\"");
  ASSERT_EQ(WaitValue(sel, 7), 7);

  // Deleting one end of the veth pair deletes both; the pins stay, the
  // link is defunct.
  CmdResult del = RunCmd({"ip", "link", "del", pair_.dev_a()}, pair_.ns_a());
  ASSERT_EQ(del.status, 0) << del.output;
  EXPECT_TRUE(WaitEmpty(absl::StrCat("{ifname=\"", pair_.dev_a(), "\"}")))
      << "series of the deleted interface are gone";
  EXPECT_EQ(Value("up{job=\"xsk\"}"), 1) << "the exporter keeps serving";
  EXPECT_EQ(Value("xsk_exporter_build_info"), 1);
  EXPECT_GT(Value("count(xsk_probe_coverage)").value_or(0), 0);
}

// Issue 12 item 4: a foreign map at a pin path is refused (counted as a
// scrape error, the interface not exported); the exporter keeps serving.
TEST_F(ExporterTest, ForeignPinIsRefusedAndTheExporterKeepsServing) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  std::string info = root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a() + "/steer_info";
  std::filesystem::remove(info);
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "foreign", 4, 8, 1, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, info.c_str()), 0);
  ::close(fd);
  ASSERT_NE(StartExporter(), 0) << ExporterLog();
  HttpReply r = HttpGet(exporter_port_, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("xsk_steer_info{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("xsk_exporter_scrape_errors_total{source=\"steer_open\"}"), std::string::npos)
      << r.body;
  EXPECT_NE(ExporterLog().find("not an xskit pin of this version"), std::string::npos) << ExporterLog();
  EXPECT_TRUE(exporter_->Running()) << ExporterLog();
  std::filesystem::remove(info);
  EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
}

// The group that reads the pins (lib/pins.h kPinGroup), created for the
// test when the host has none (the package creates it), removed after.
// Where it cannot be made (the VMs of selftests/vmtest share the host's root
// read-only), the pins' group is root's, as the loader does without the
// group (docs/DESIGN.md, "Pin ownership"), and the exporter is put in it.
class PinGroup {
 public:
  PinGroup() {
    if (!::getgrnam(kPinGroup)) {
      CmdResult r = RunCmd({"groupadd", "--system", kPinGroup});
      created_ = r.status == 0;
      if (!created_) note_ = "groupadd " + std::string(kPinGroup) + ": " + r.output;
    }
    if (struct group* g = ::getgrnam(kPinGroup)) gid_ = g->gr_gid;
  }
  ~PinGroup() {
    if (created_) RunCmd({"groupdel", kPinGroup});
  }
  gid_t gid() const { return gid_; }
  const std::string& note() const { return note_; }

 private:
  bool created_ = false;
  gid_t gid_ = 0;
  std::string note_;
};

// Issue 12 items 8 and 9, the units' permission model on the host. As
// systemd runs them: bpffs mounted 0700 (systemd's mode for /sys/fs/bpf;
// here a private instance), the loader under umask 077 (its unit's
// UMask=0077), the exporter as an unprivileged user in the group xskit with
// exactly the capabilities of its unit. After start it holds no
// CAP_SYS_ADMIN and no CAP_DAC_OVERRIDE, and CAP_BPF only where bpf() needs
// it on this kernel (lib/privileges.h), never effective. Started before any
// attach (the pin root made by its unit's ExecStartPre), it serves exact
// counts and run-time stats of attaches made later, re-opens the pins of a re-attach (a program swap and
// a detach + attach), and never holds a link: detach takes the program off.
TEST_F(ExporterTest, UnitsPermissionModelLaterAttachesAppear) {
  if (RunCmd({"setpriv", "--help"}).status != 0) XSKIT_SKIP("setpriv (util-linux) missing");
  if (RunCmd({"groupadd", "--help"}).status != 0) XSKIT_SKIP("groupadd (passwd) missing");
  PinGroup group;
  if (group.gid() == 0) std::cerr << "pins stay in root's group here: " << group.note() << "\n";
  const std::string mnt = tmp_.path() + "/bpf";  // tmp_ is 0700 root, like the mount
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("bpf", mnt.c_str(), "bpf", 0, "mode=0700"), 0) << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string root = mnt + "/xskit";
  exporter_pin_root_ = root;
  auto loader = [&](const std::vector<std::string>& args, const std::string& netns) {
    std::vector<std::string> argv = {"sh", "-c", "umask 077 && exec \"$@\"", "sh",
                                     Bin("loader/xsk-loader"), "--pin-root", root};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, netns);
  };
  // The unit's ExecStartPre=+: the pin root, before any attach, so that the
  // exporter started now (as the package's install does) finds it.
  CmdResult made = RunCmd({Bin("exporter/xsk-exporter"), "--make-pin-root", "--pin-root", root});
  ASSERT_EQ(made.status, 0) << made.output;

  // What the exporter may keep on this kernel, by the same probe it runs.
  const bool need_bpf = BpfNeedsCapBpf();
  RecordProperty("cap_bpf_kept", need_bpf ? "yes" : "no");
  std::cerr << "bpf() needs CAP_BPF on this kernel: " << (need_bpf ? "yes" : "no") << "\n";
  constexpr uint64_t kCapDacOverride = 1ull << 1, kCapSysAdmin = 1ull << 21, kCapBpf = 1ull << 39;

  // xsk-exporter.service: DynamicUser (here nobody), SupplementaryGroups=xskit,
  // AmbientCapabilities=CAP_BPF CAP_DAC_OVERRIDE CAP_SYS_ADMIN (needed at
  // start only).
  const std::string caps = "+bpf,+dac_override,+sys_admin";
  ASSERT_NE(StartExporter(0,
                          {"setpriv", "--reuid=65534", "--regid=65534",
                           absl::StrCat("--groups=", group.gid()), "--inh-caps=" + caps,
                           "--ambient-caps=" + caps, "--bounding-set=-all," + caps},
                          {"--bpf.run-time-stats"}),
            0)
      << ExporterLog();
  auto cap_set = [&](const std::string& field) -> std::optional<uint64_t> {
    std::ifstream status(absl::StrCat("/proc/", exporter_->pid(), "/status"));
    std::string line;
    while (std::getline(status, line))
      if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
    return std::nullopt;
  };
  auto expect_caps = [&](const std::string& when) {
    // (CapBnd stays the unit's: shrinking it needs CAP_SETPCAP, and with
    // no_new_privs and empty permitted, inheritable and ambient sets nothing
    // can come back from it.)
    auto prm = cap_set("CapPrm"), eff = cap_set("CapEff"), amb = cap_set("CapAmb");
    ASSERT_TRUE(prm && eff && amb) << when;
    EXPECT_EQ(*prm & (kCapSysAdmin | kCapDacOverride), 0u) << when << ": CapPrm " << std::hex << *prm;
    EXPECT_EQ(*prm, need_bpf ? kCapBpf : 0u)
        << when << ": CapPrm " << std::hex << *prm << " (bpf() needs CAP_BPF here: " << need_bpf << ")";
    EXPECT_EQ(*eff, 0u) << when << ": no effective capability while serving";
    EXPECT_EQ(*amb, 0u) << when << ": CapAmb " << std::hex << *amb;
  };
  expect_caps("after start");
  EXPECT_NE(ExporterLog().find(need_bpf ? "CAP_BPF kept" : "privileges dropped"), std::string::npos)
      << ExporterLog();

  ASSERT_EQ(loader({"attach", pair_.dev_a()}, pair_.ns_a()).status, 0);
  // The lock lives on the directory holding <root>, the mount itself: its
  // mode is the system's, not changed by the loader.
  struct stat mst {};
  ASSERT_EQ(::stat(mnt.c_str(), &mst), 0);
  EXPECT_EQ(mst.st_mode & 07777, 01700u) << "the loader changed the bpffs mount's mode";

  // The ownership decided in docs/DESIGN.md ("Pin ownership"), despite umask 077.
  const std::string dir = absl::StrCat(root, "/if/", pair_.ns_a(), ":", pair_.dev_a());
  for (const auto& [path, mode, gid] :
       std::vector<std::tuple<std::string, mode_t, gid_t>>{{root, 0750, group.gid()},
                                                           {root + "/if", 0750, group.gid()},
                                                           {dir, 0750, group.gid()},
                                                           {dir + "/counters", 0640, group.gid()},
                                                           {dir + "/steer_info", 0640, group.gid()},
                                                           {dir + "/prog", 0640, group.gid()},
                                                           {dir + "/link", 0600, 0}}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 07777, mode) << path;
    EXPECT_EQ(st.st_gid, gid) << path;
    EXPECT_EQ(st.st_uid, 0u) << path;
  }

  auto steer_line = [&](const std::string& ns, const std::string& dev) {
    return absl::StrCat("xsk_steer_info{ifname=\"", dev, "\",netns=\"", ns, "\"");
  };
  auto no_socket = [&](int n) {
    return absl::StrCat("xsk_steer_packets_total{ifname=\"", pair_.dev_a(), "\",netns=\"",
                        pair_.ns_a(),
                        "\",queue=\"0\",driver=\"veth\",mode=\"native\",outcome=\"pass_no_socket\"} ", n);
  };
  auto runs = [&](const std::string& body) -> double {
    std::string key = absl::StrCat("xsk_steer_prog_runs_total{ifname=\"", pair_.dev_a(), "\"");
    auto at = body.find(key);
    if (at == std::string::npos) return -1;
    auto sp = body.find("} ", at);
    return sp == std::string::npos ? -1 : std::stod(body.substr(sp + 2));
  };

  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(3, 9999));
  std::string body = HttpGet(exporter_port_, "/metrics").body;
  EXPECT_NE(body.find(no_socket(3)), std::string::npos) << body << ExporterLog();
  EXPECT_GE(runs(body), 3) << "run-time stats from the prog pin\n" << body;

  // Attached after the exporter started.
  ASSERT_EQ(loader({"attach", pair_.dev_b()}, pair_.ns_b()).status, 0);
  body = HttpGet(exporter_port_, "/metrics").body;
  EXPECT_NE(body.find(steer_line(pair_.ns_b(), pair_.dev_b())), std::string::npos)
      << body << ExporterLog();

  // Re-attached in place with a filter: the program is swapped on the same
  // link and the prog pin replaced; the exporter re-opens (new filter label,
  // the new program's stats).
  ASSERT_EQ(loader({"attach", pair_.dev_a(), "--match", "udp:4791"}, pair_.ns_a()).status, 0);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(4, 9999));
  body = HttpGet(exporter_port_, "/metrics").body;
  EXPECT_NE(body.find(absl::StrCat(steer_line(pair_.ns_a(), pair_.dev_a()),
                                   ",driver=\"veth\",mode=\"native\",xsk_mode=\"copy\",filter=\"udp:4791\"}")),
            std::string::npos)
      << body << ExporterLog();
  // Maps and counters are kept across the swap (no socket: pass_no_socket).
  EXPECT_NE(body.find(no_socket(7)), std::string::npos) << body << ExporterLog();
  EXPECT_GE(runs(body), 4) << "the swapped-in program's runs\n" << body;

  // Detach of both: the exporter holds no link, the programs go; <root>
  // stays, empty, so the exporter keeps seeing it.
  ASSERT_EQ(loader({"detach", pair_.dev_a()}, pair_.ns_a()).status, 0);
  ASSERT_EQ(loader({"detach", pair_.dev_b()}, pair_.ns_b()).status, 0);
  EXPECT_TRUE(std::filesystem::exists(root));
  EXPECT_FALSE(testing::PinsLeft(root));
  for (const auto& [ns, dev] : {std::pair{pair_.ns_a(), pair_.dev_a()}, {pair_.ns_b(), pair_.dev_b()}}) {
    CmdResult link = RunCmd({"ip", "-d", "link", "show", "dev", dev}, ns);
    EXPECT_EQ(link.output.find("prog/xdp"), std::string::npos) << dev << ": " << link.output;
  }
  body = HttpGet(exporter_port_, "/metrics").body;
  EXPECT_EQ(body.find("xsk_steer_info{"), std::string::npos) << body;
  ASSERT_EQ(loader({"attach", pair_.dev_a()}, pair_.ns_a()).status, 0);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(2, 9999));
  body = HttpGet(exporter_port_, "/metrics").body;
  EXPECT_NE(body.find(no_socket(2)), std::string::npos) << body << ExporterLog();
  EXPECT_GE(runs(body), 2) << body;
  for (const char* source : {"steer_open", "pins", "prog_stats"})
    EXPECT_NE(body.find(absl::StrCat("xsk_exporter_scrape_errors_total{source=\"", source,
                                     "\"} 0")),
              std::string::npos)
        << source << "\n" << ExporterLog();
  expect_caps("after re-opens");
  EXPECT_EQ(loader({"detach", pair_.dev_a()}, pair_.ns_a()).status, 0);
  exporter_.reset();  // before the mount goes
}

TEST_F(ExporterTest, BasicAuthFromTheWebConfig) {
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  std::string hash = crypt_r("pw", salt, &data);
  std::string cfg = tmp_.path() + "/web.yml";
  std::ofstream(cfg) << "basic_auth_users:\n  prom: " << hash << "\n";
  ASSERT_NE(StartExporter(0, {}, {"--web.config.file", cfg}), 0) << ExporterLog();
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics").status, 401) << "no credentials";
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics", "Authorization: Basic cHJvbTpwdw==\r\n").status,
            200)
      << "prom:pw";
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics", "Authorization: Basic cHJvbTpweA==\r\n").status,
            401)
      << "prom:px";
}

// Issue 12 item 7: one listen address, no empty values; refused at start.
TEST_F(ExporterTest, ListenListsAndEmptyValuesAreUsageErrors) {
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"--web.listen-address", "127.0.0.1:0,127.0.0.1:0"},
           {"--web.listen-address", ""},
           {"--web.listen-address", "127.0.0.1:0", "--interfaces", ""},
           {"--web.listen-address", "127.0.0.1:0", "--web.config.file", ""}}) {
    std::vector<std::string> argv = {"timeout", "10", Bin("exporter/xsk-exporter"), "--pin-root",
                                     root_.path()};
    argv.insert(argv.end(), bad.begin(), bad.end());
    CmdResult r = RunCmd(argv);
    EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUsage)) << ::testing::PrintToString(bad) << r.output;
  }
}

// Issue 12 item 8: a scraper that passed once costs no more bcrypt; a
// check that would wait for a running one is refused at once.
TEST(ExporterWebConfig, BasicAuthCachesSuccessAndBoundsHashing) {
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  std::string hash = crypt_r("pw", salt, &data);
  exporter::BasicAuth auth({{"prom", hash}});
  EXPECT_FALSE(auth.Check("nobody", "pw"));
  EXPECT_EQ(auth.hash_checks(), 0u) << "an unknown user costs no bcrypt";
  EXPECT_FALSE(auth.Check("prom", "px"));
  EXPECT_TRUE(auth.Check("prom", "pw"));
  EXPECT_EQ(auth.hash_checks(), 2u);
  for (int i = 0; i < 100; i++) ASSERT_TRUE(auth.Check("prom", "pw"));
  EXPECT_EQ(auth.hash_checks(), 2u) << "a known-good scraper is not hashed again";
  EXPECT_FALSE(auth.Check("prom", "px")) << "a wrong password is never cached";
  // Many wrong passwords at once: at most one bcrypt at a time, and the
  // good scraper passes meanwhile.
  std::vector<std::thread> attackers;
  std::atomic<bool> good_ok{true};
  for (int t = 0; t < 8; t++)
    attackers.emplace_back([&] {
      for (int i = 0; i < 5; i++) EXPECT_FALSE(auth.Check("prom", "wrong" + std::to_string(i)));
    });
  for (int i = 0; i < 50; i++) good_ok = good_ok && auth.Check("prom", "pw");
  for (auto& t : attackers) t.join();
  EXPECT_TRUE(good_ok);
  EXPECT_LE(auth.hash_checks(), 2u + 40u);
}

// Issue 12 item 2: a flow-style web config (valid YAML) used to start the
// exporter with basic auth off and TLS off.
TEST_F(ExporterTest, FlowStyleWebConfigIsEnforced) {
  if (!HaveTlsTools()) XSKIT_SKIP("openssl or curl is not installed (scripts/install-deps)");
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  std::string hash = crypt_r("pw", salt, &data);
  std::string auth = tmp_.path() + "/auth.yml";
  std::ofstream(auth) << "basic_auth_users: {prom: \"" << hash << "\"}\n";
  ASSERT_NE(StartExporter(0, {}, {"--web.config.file", auth}), 0) << ExporterLog();
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics").status, 401) << "flow-style basic auth is off";
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics", "Authorization: Basic cHJvbTpwdw==\r\n").status, 200);
  exporter_.reset();

  TlsWebConfig();  // the key pair
  std::string tls = tmp_.path() + "/tls.yml";
  std::ofstream(tls) << "tls_server_config: {cert_file: " << tmp_.path() << "/tls.crt, key_file: "
                     << tmp_.path() << "/tls.key}\n";
  ASSERT_NE(StartExporter(0, {}, {"--web.config.file", tls}), 0) << ExporterLog();
  EXPECT_EQ(HttpsGet().status, 200) << ExporterLog();
  EXPECT_EQ(HttpGet(exporter_port_, "/metrics").status, 0) << "flow-style TLS served plaintext";
  exporter_.reset();

  std::string unknown = tmp_.path() + "/unknown.yml";
  std::ofstream(unknown) << "basic_auth_users: {prom: \"" << hash << "\"}\nrate_limits: {burst: 1}\n";
  CmdResult r = RunCmd({"timeout", "10", Bin("exporter/xsk-exporter"), "--pin-root", root_.path(),
                        "--web.listen-address", "127.0.0.1:0", "--web.config.file", unknown});
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUsage)) << r.output;
  EXPECT_NE(r.output.find("unknown key rate_limits"), std::string::npos) << r.output;
}

// Debian's civetweb used to kill the exporter at the first HTTPS request
// (exporter/civetweb_tls.h): every check below also asks whether it is
// still running.
TEST_F(ExporterTest, TlsFromTheWebConfig) {
  if (!HaveTlsTools()) XSKIT_SKIP("openssl or curl is not installed (scripts/install-deps)");
  // --user: civetweb reads the key (a memfd) after the switch to nobody.
  ASSERT_NE(StartExporter(0, {}, {"--web.config.file", TlsWebConfig(), "--user", "nobody"}), 0)
      << ExporterLog();
  CurlReply r = HttpsGet();
  EXPECT_EQ(r.status, 200) << r.log << ExporterLog();
  EXPECT_NE(r.body.find("xsk_exporter_build_info{"), std::string::npos) << r.body;
  ASSERT_TRUE(exporter_->Running()) << "the exporter survived an HTTPS scrape\n" << ExporterLog();

  EXPECT_EQ(HttpGet(exporter_port_, "/metrics").status, 0)
      << "plain HTTP on the TLS port gets no HTTP reply";
  EXPECT_EQ(HttpsGet().status, 200) << "and HTTPS still works after it";
  EXPECT_TRUE(exporter_->Running()) << ExporterLog();
}

TEST_F(ExporterTest, TlsWithBasicAuthAsPrometheusScrapesIt) {
  if (!HaveTlsTools()) XSKIT_SKIP("openssl or curl is not installed (scripts/install-deps)");
  char salt[64];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  std::string hash = crypt_r("pw", salt, &data);
  std::string cfg = TlsWebConfig(absl::StrCat("basic_auth_users:\n  prom: ", hash, "\n"));
  ASSERT_NE(StartExporter(0, {}, {"--web.config.file", cfg}), 0) << ExporterLog();
  EXPECT_EQ(HttpsGet().status, 401) << "no credentials";
  EXPECT_EQ(HttpsGet("prom:px").status, 401) << "prom:px";
  CurlReply r = HttpsGet("prom:pw");
  EXPECT_EQ(r.status, 200) << "prom:pw\n" << r.log;
  EXPECT_NE(r.body.find("xsk_exporter_build_info{"), std::string::npos) << r.body;

  // The real consumer: Prometheus over https, verifying the certificate.
  ASSERT_TRUE(StartPrometheus(absl::StrCat(
      "    scheme: https\n    tls_config:\n      ca_file: ", tmp_.path(), "/tls.crt\n",
      "    basic_auth:\n      username: prom\n      password: pw\n")));
  EXPECT_EQ(WaitValue("up{job=\"xsk\"}", 1), 1) << ExporterLog();
  EXPECT_EQ(Value("xsk_exporter_build_info"), 1);
  EXPECT_TRUE(exporter_->Running()) << ExporterLog();
}

TEST_F(ExporterTest, TlsRefusedAtStartWhenItCouldNotWork) {
  if (!HaveTlsTools()) XSKIT_SKIP("openssl or curl is not installed (scripts/install-deps)");
  std::string cfg = TlsWebConfig();
  // A key that is not the certificate's: refused before listening (civetweb
  // would only say "null context ... problem binding to port").
  std::string other = tmp_.path() + "/other.key";
  ASSERT_EQ(RunCmd({"openssl", "genpkey", "-algorithm", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-out", other})
                .status,
            0);
  std::string mismatched = tmp_.path() + "/mismatched.yml";
  std::ofstream(mismatched) << "tls_server_config:\n  cert_file: " << tmp_.path()
                            << "/tls.crt\n  key_file: " << other << "\n";
  // (timeout: an exporter that does not refuse would serve forever.)
  CmdResult r = RunCmd({"timeout", "10", Bin("exporter/xsk-exporter"), "--pin-root", root_.path(),
                        "--web.listen-address", "127.0.0.1:0", "--web.config.file", mismatched});
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUsage)) << r.output;
  EXPECT_NE(r.output.find("is not the key of the first certificate"), std::string::npos)
      << r.output;

  // A copy of the binary without the two OpenSSL stand-ins beside it: a
  // precise refusal (exit 5), not a listener that dies at the first request.
  std::string lone = tmp_.path() + "/xsk-exporter";
  std::filesystem::copy_file(Bin("exporter/xsk-exporter"), lone);
  r = RunCmd({"timeout", "10", lone, "--pin-root", root_.path(), "--web.listen-address",
              "127.0.0.1:0", "--web.config.file", cfg});
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kUnsupported)) << r.output;
  EXPECT_NE(r.output.find("xsk-exporter-libcrypto.so not found"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace xskit
