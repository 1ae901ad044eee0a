// xsk-rx: the smallest AF_XDP application on xskit. It opens a socket on
// IFACE queue Q through the socket helper (which registers it in the pinned
// XSKMAP; no XDP program of its own), counts what arrives, and prints it.
#include <csignal>
#include <cstdio>
#include <chrono>

#include "CLI/CLI.hpp"
#include "lib/errors.h"
#include "lib/log.h"
#include "xsk/xsk_socket.h"
#include "nlohmann/json.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"xsk-rx: receive on IFACE queue Q through xskit's pinned XSKMAP"};
  std::string ifname;
  uint32_t queue = 0;
  uint64_t count = 0;
  int idle_ms = 0;
  bool json = false;
  std::string ready_file;
  xskit::XskSocket::Options opts;
  app.add_option("iface", ifname, "interface")->required();
  app.add_option("-q,--queue", queue, "queue id")->capture_default_str();
  app.add_option("-c,--count", count, "stop after this many frames (0: run until signalled)");
  app.add_option("--idle-ms", idle_ms, "stop after this long without a frame (0: never)");
  app.add_option("--ready-file", ready_file, "touch this file once the socket is registered");
  app.add_option("--pin-root", opts.pin_root, "bpffs directory of xskit's pins");
  app.add_flag("--json", json, "print the result as JSON");
  CLI11_PARSE(app, argc, argv);
  xskit::InitLogging("warn");

  auto sock = xskit::XskSocket::Open(ifname, queue, opts);
  if (!sock.ok()) {
    std::fprintf(stderr, "xsk-rx: %s\n", std::string(sock.status().message()).c_str());
    return static_cast<int>(xskit::ExitCodeOf(sock.status()));
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (!ready_file.empty()) std::fclose(std::fopen(ready_file.c_str(), "w"));

  uint64_t frames = 0, bytes = 0;
  auto last = std::chrono::steady_clock::now();
  while (!g_stop && (count == 0 || frames < count)) {
    auto n = (*sock)->Receive(100, [&](std::span<const uint8_t> f) { bytes += f.size(); });
    if (!n.ok()) {
      std::fprintf(stderr, "xsk-rx: %s\n", std::string(n.status().message()).c_str());
      return 1;
    }
    frames += *n;
    auto now = std::chrono::steady_clock::now();
    if (*n) last = now;
    if (idle_ms && now - last > std::chrono::milliseconds(idle_ms)) break;
  }
  auto st = (*sock)->Statistics();
  if (json) {
    nlohmann::json j{{"iface", ifname}, {"queue", queue}, {"frames", frames}, {"bytes", bytes}};
    if (st.ok()) j["rx_dropped"] = st->rx_dropped, j["rx_ring_full"] = st->rx_ring_full;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s queue %u: %llu frames, %llu bytes\n", ifname.c_str(), queue,
                static_cast<unsigned long long>(frames), static_cast<unsigned long long>(bytes));
  }
  return 0;
}
