#include "xsk_bench/run.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "xsk_bench/loops.h"
#include "xsk_bench/observe.h"
#include "xsk_bench/report.h"
#include "xsk_bench/sandbox.h"
#include "lib/attach.h"
#include "lib/errors.h"
#include "lib/iface_facts.h"
#include "lib/xsk_sockopts.h"
#include "xsk/xsk_socket.h"
#include "lib/sandbox/run.h"
#include "lib/sandbox/packet.h"

namespace xskit::bench {

std::atomic<bool> g_interrupted{false};

namespace {

double NowS() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Runs `fn` on a thread inside `netns` ("" = this one) and waits.
absl::Status InNs(const std::string& netns, const std::function<absl::Status()>& fn) {
  absl::Status st;
  std::thread t([&] {
    if (!netns.empty()) {
      int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::unshare(CLONE_FS) != 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        st = ErrnoError(absl::StrCat("enter netns ", netns), errno);
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
    }
    st = fn();
  });
  t.join();
  return st;
}

// A loop on its own thread inside a netns; the loop's Status is kept.
class Worker {
 public:
  Worker(std::string netns, std::function<absl::Status()> fn, LoopCounters& c)
      : thread_([this, netns = std::move(netns), fn = std::move(fn), &c] {
          status_ = InNs(netns, fn);
          c.done.store(true);
        }) {}
  ~Worker() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
  std::thread thread_;
};

// The steering attach of the receiving interface, when xsk-bench made it.
struct AttachGuard {
  std::string netns, ifname;
  std::optional<std::string> pin_root;
  bool active = false;
  ~AttachGuard() {
    if (active) (void)InNs(netns, [&] { return Detach(ifname, pin_root); });
  }
};

struct Side {
  Endpoint ep;
  Scope scope;
  std::unique_ptr<XskSocket> sock;
  std::optional<PinnedSteer> steer;
};

absl::Status FillScope(Side& s) {
  return InNs(s.ep.netns, [&]() -> absl::Status {
    XSKIT_ASSIGN_OR_RETURN(NetnsId ns, CurrentNetns());
    s.scope.netns_ino = ns.inode;
    s.scope.ifindex = ::if_nametoindex(s.ep.ifname.c_str());
    if (!s.scope.ifindex)
      return Error(ExitCode::kNoSuchInterface, absl::StrCat("no interface ", s.ep.ifname));
    return absl::OkStatus();
  });
}

XskSocket::Options SocketOptions(const Options& o) {
  XskSocket::Options so;
  so.frame_size = o.frame_size;
  so.num_frames = 4096;
  so.rx_size = so.tx_size = so.comp_size = o.ring_size;
  so.fill_size = 2 * o.ring_size;
  so.need_wakeup = o.need_wakeup;
  so.unaligned_chunks = o.unaligned;
  so.kernel_picks_mode = o.bind == BindMode::kAuto;
  so.pin_root = o.pin_root;
  return so;
}

// The two optional setsockopts; each reported as requested/available/applied.
nlohmann::json ApplySockopts(const Options& o, int fd) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<SockoptProbe> probes = ProbeXskSockopts();
  auto one = [&](const char* key, int optname, const std::optional<uint32_t>& value) {
    nlohmann::json j;
    j["optname"] = optname;
    j["available"] = false;
    for (const auto& p : probes)
      if (p.optname == optname) {
        j["name"] = p.name;
        j["available"] = p.present;
        j["detail"] = p.detail;
      }
    j["requested"] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    j["applied"] = false;
    if (value && j["available"].get<bool>() && fd >= 0) {
      uint32_t v = *value;
      if (::setsockopt(fd, SOL_XDP, optname, &v, sizeof(v)) == 0)
        j["applied"] = true;
      else
        j["error"] = std::strerror(errno);
    }
    if (value && !j["applied"].get<bool>())
      std::fprintf(stderr, "xsk-bench: %s %u not applied: %s\n", key, *value,
                   j.contains("error") ? j["error"].get<std::string>().c_str()
                                       : "unavailable on this kernel");
    out[key] = std::move(j);
  };
  one("tx_budget", kXdpMaxTxSkbBudget, o.tx_budget);
  one("xmit_batch", kXdpGenericXmitBatch, o.xmit_batch);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> BuildFrame(const Options& o, const Endpoint& from,
                                               const Mac& dst_mac, const std::string& dst_ip) {
  if (o.pkt_size < 64 || o.pkt_size - 4 > o.frame_size)
    return Error(ExitCode::kUsage, absl::StrCat("-s ", o.pkt_size, ": between 64 and frame size + 4"));
  constexpr size_t kHeaders = 14 + 20 + 8;
  std::vector<uint8_t> f = xskit::sandbox::Packet()
                               .Eth(dst_mac, from.mac)
                               .IPv4(from.ip, dst_ip, 17)
                               .Udp(o.src_port, o.dst_port)
                               .Payload(o.pkt_size - 4 - kHeaders, 0x42)
                               .Build();
  return f;
}

// A socket closed on the same queue moments ago (an earlier run) is released
// asynchronously and the bind says EBUSY meanwhile: retry for up to 2 s.
template <typename F>
auto RetryBusy(F&& open) -> decltype(open()) {
  for (int i = 0;; i++) {
    auto s = open();
    if (s.ok() || i == 40 || !absl::StrContains(s.status().message(), "busy")) return s;
    ::usleep(50000);
  }
}

// What the kernel (or, before 6.3, the recorded driver table) says about
// AF_XDP zero-copy on `ifname` in the caller's netns: the driver, where
// the fact comes from and the netdev xdp-features ("virtio_net, netlink
// xdp-features: basic,redirect,rx-sg").
struct ZerocopyFacts {
  bool zerocopy = false;
  std::string why;
};
ZerocopyFacts ReadZerocopyFacts(const std::string& ifname) {
  auto f = ReadIfaceFacts(ifname);
  if (!f.ok()) return {false, std::string(f.status().message())};
  std::string why = absl::StrCat(f->driver, ", ", f->xdp.source);
  if (f->xdp.source == "netlink xdp-features")
    absl::StrAppend(&why, ": ", XdpFeatureNames(f->xdp.raw_xdp_features));
  return {f->xdp.zerocopy, why};
}

// -z where the driver has no zero-copy: one refusal for either side, in
// xsk-bench's words (exit 5, like xsk-loader's --zerocopy refusal).
absl::Status NoZerocopy(const std::string& ifname, const ZerocopyFacts& facts,
                        const std::string& kernel_said = "") {
  return Error(ExitCode::kUnsupported,
               absl::StrCat("-z: ", ifname, " has no AF_XDP zero-copy (", facts.why, ")",
                            kernel_said.empty() ? "" : absl::StrCat("; bind: ", kernel_said),
                            "; use -c, or neither -c nor -z to let the kernel pick"));
}

// Opens the receiving socket, attaching xsk_steer for the run when absent.
// -z asks the attach for zero-copy; where the driver has none it is
// refused before anything is attached. An existing attach decides the
// bind mode of its sockets, so -c or -z against an attach made the other
// way is refused too (the socket would silently bind the other way).
absl::Status OpenReceiver(const Options& o, const PinLayout& pins, Side& rx, AttachGuard& guard) {
  return InNs(rx.ep.netns, [&]() -> absl::Status {
    XSKIT_ASSIGN_OR_RETURN(NetnsId ns, CurrentNetns());
    std::string dir = pins.IfaceDir(IfaceDirName(ns, rx.ep.ifname));
    auto existing = PinnedSteer::Open(dir);
    if (existing.ok() && o.bind != BindMode::kAuto) {
      const bool zc = existing->info().zerocopy != 0;
      const char* flag = o.bind == BindMode::kZerocopy ? "-z"
                         : o.xdp_mode == XdpMode::kGeneric ? "-S" : "-c";
      if (zc != (o.bind == BindMode::kZerocopy))
        return Error(ExitCode::kAttachedDifferently,
                     absl::StrCat(flag, ": ", rx.ep.ifname, " is attached for ",
                                  zc ? "zero-copy" : "copy-mode", " sockets; detach it (xsk-loader detach ",
                                  rx.ep.ifname, ") or drop ", flag));
    }
    if (!existing.ok()) {
      if (o.bind == BindMode::kZerocopy) {
        ZerocopyFacts zf = ReadZerocopyFacts(rx.ep.ifname);
        if (!zf.zerocopy) return NoZerocopy(rx.ep.ifname, zf);
      }
      AttachRequest req;
      req.ifname = rx.ep.ifname;
      req.mode = o.xdp_mode == XdpMode::kNative    ? ModeRequest::kNative
                 : o.xdp_mode == XdpMode::kGeneric ? ModeRequest::kGeneric
                                                   : ModeRequest::kAuto;
      req.zerocopy = o.bind == BindMode::kZerocopy;
      req.pin_root = pins.root();
      XSKIT_ASSIGN_OR_RETURN(AttachResult r, Attach(req));
      guard.netns = rx.ep.netns;  // field by field: a temporary's destructor would detach
      guard.ifname = rx.ep.ifname;
      guard.pin_root = pins.root();
      guard.active = true;
      (void)r;
    }
    XSKIT_ASSIGN_OR_RETURN(PinnedSteer steer, PinnedSteer::Open(dir));
    XskSocket::Options so = SocketOptions(o);
    so.kernel_picks_mode = false;  // the attach decided copy or zero-copy
    so.pin_root = pins.root();
    XSKIT_ASSIGN_OR_RETURN(rx.sock,
                           RetryBusy([&] { return XskSocket::Open(rx.ep.ifname, o.queue, so); }));
    rx.steer.emplace(std::move(steer));
    return absl::OkStatus();
  });
}

// The kernel decides whether a zero-copy bind works (since 6.3 from the
// same netdev xdp-features ReadIfaceFacts reads); a refusal is explained
// with the facts.
// Zero-copy Tx on a driver whose ndo_xsk_wakeup refuses while no XDP
// program is attached (igb, ixgbe, i40e, ice: the first sendto kick fails
// with EINVAL): xsk_steer is attached for the run, as for rxdrop, so the
// kicks are taken; without bpffs for the pins, a refusal that says so.
absl::Status AttachForTxWakeup(const Options& o, const absl::StatusOr<PinLayout>& pins, Side& tx,
                               AttachGuard& guard) {
  if (o.bind != BindMode::kZerocopy || o.backend != Backend::kAfXdp) return absl::OkStatus();
  return InNs(tx.ep.netns, [&]() -> absl::Status {
    auto f = ReadIfaceFacts(tx.ep.ifname);
    if (!f.ok() || !f->recorded || !f->recorded->wakeup_needs_xdp_prog || !f->xdp.zerocopy)
      return absl::OkStatus();
    if (f->link.xdp_prog_id || f->link.xdp_drv_prog_id || f->link.xdp_skb_prog_id) return absl::OkStatus();
    if (!pins.ok())
      return Error(ExitCode::kUnsupported,
                   absl::StrCat("-z: ", f->driver, " refuses AF_XDP Tx wakeups while no XDP program is "
                                "attached to ", tx.ep.ifname, ", and xsk-bench cannot attach one (",
                                pins.status().message(), "); attach first: xsk-loader attach ",
                                tx.ep.ifname, " --mode native --zerocopy"));
    AttachRequest req;
    req.ifname = tx.ep.ifname;
    req.mode = o.xdp_mode == XdpMode::kGeneric ? ModeRequest::kGeneric : ModeRequest::kNative;
    req.zerocopy = true;
    req.pin_root = pins->root();
    XSKIT_ASSIGN_OR_RETURN(AttachResult r, Attach(req));
    (void)r;
    guard.netns = tx.ep.netns;
    guard.ifname = tx.ep.ifname;
    guard.pin_root = pins->root();
    guard.active = true;
    return absl::OkStatus();
  });
}

absl::Status OpenSender(const Options& o, Side& tx) {
  return InNs(tx.ep.netns, [&]() -> absl::Status {
    auto s = RetryBusy([&] {
      return XskSocket::Create(tx.ep.ifname, o.queue, o.bind == BindMode::kZerocopy,
                               SocketOptions(o));
    });
    if (!s.ok() && o.bind == BindMode::kZerocopy &&
        absl::StrContains(s.status().message(), "not supported"))
      return NoZerocopy(tx.ep.ifname, ReadZerocopyFacts(tx.ep.ifname),
                        std::string(s.status().message()));
    if (!s.ok()) return s.status();
    tx.sock = std::move(*s);
    return absl::OkStatus();
  });
}

nlohmann::json XdpStats(const XskSocket& s) {
  auto st = s.Statistics();
  if (!st.ok()) return {{"error", std::string(st.status().message())}};
  return {{"rx_dropped", st->rx_dropped},
          {"rx_invalid_descs", st->rx_invalid_descs},
          {"tx_invalid_descs", st->tx_invalid_descs},
          {"rx_ring_full", st->rx_ring_full},
          {"rx_fill_ring_empty_descs", st->rx_fill_ring_empty_descs},
          {"tx_ring_empty_descs", st->tx_ring_empty_descs}};
}

// rx_packets/tx_packets/rx_dropped of an interface (`ip -s -j link`).
nlohmann::json LinkStats(const Endpoint& ep) {
  auto r = xskit::sandbox::RunCmd({"ip", "-s", "-j", "link", "show", "dev", ep.ifname}, ep.netns);
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.status != 0 || !j.is_array() || j.empty()) return nullptr;
  const auto& s = j[0]["stats64"];
  return {{"rx_packets", s["rx"]["packets"]}, {"rx_dropped", s["rx"]["dropped"]},
          {"tx_packets", s["tx"]["packets"]}, {"tx_dropped", s["tx"]["dropped"]}};
}

uint32_t RingConsumer(const xsk_ring_prod* r) { return __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE); }

}  // namespace

absl::StatusOr<nlohmann::json> RunBench(const Options& o) {
  const bool rx_mode = o.mode != Mode::kTxOnly;
  if (o.backend == Backend::kAfPacket && rx_mode)
    return Error(ExitCode::kUsage, "--af-packet compares txonly (-t) only");
  auto pins_or = PinLayout::Resolve(o.pin_root);
  if (rx_mode && !pins_or.ok()) return pins_or.status();
  PinLayout pins = pins_or.ok() ? *pins_or : PinLayout("/nonexistent");

  // Where each side runs.
  std::optional<Sandbox> sandbox;
  Side tx, rx;
  bool generator = false;  // a sender of our own feeds the receiver (sandbox rx modes)
  if (o.ifname.empty()) {
    if (pins_or.ok()) Sandbox::SweepStale(pins.root());
    XSKIT_ASSIGN_OR_RETURN(Sandbox sb, Sandbox::Create());
    sandbox.emplace(std::move(sb));
    tx.ep = sandbox->tx();
    rx.ep = sandbox->rx();
    generator = rx_mode;
  } else {
    Endpoint ep{o.netns, o.ifname, {}, ""};
    XSKIT_ASSIGN_OR_RETURN(ep.mac, ReadMac(o.netns, o.ifname));
    (rx_mode ? rx : tx).ep = ep;
  }
  const bool has_tx = !rx_mode || generator;
  Mac dst_mac = rx.ep.mac;
  std::string dst_ip = rx.ep.ip;
  if (has_tx && !sandbox) {
    if (o.dst_mac.empty())
      return Error(ExitCode::kUsage, "txonly on a named interface needs --dst-mac (the peer's MAC)");
    XSKIT_ASSIGN_OR_RETURN(dst_mac, ParseMac(o.dst_mac));
    if (!o.src_mac.empty()) {
      XSKIT_ASSIGN_OR_RETURN(tx.ep.mac, ParseMac(o.src_mac));
    }
    tx.ep.ip = o.src_ip;
    dst_ip = o.dst_ip;
  }
  if (has_tx) XSKIT_RETURN_IF_ERROR(FillScope(tx));
  if (rx_mode || sandbox) XSKIT_RETURN_IF_ERROR(FillScope(rx));

  // Probes first (their attach, if --observe, precedes the traffic).
  ProbeView probes(pins, o.observe && pins_or.ok());

  AttachGuard attach_guard;
  if (rx_mode) XSKIT_RETURN_IF_ERROR(OpenReceiver(o, pins, rx, attach_guard));
  std::vector<uint8_t> frame;
  nlohmann::json sockopts;
  if (has_tx) {
    XSKIT_ASSIGN_OR_RETURN(frame, BuildFrame(o, tx.ep, dst_mac, dst_ip));
    if (o.backend == Backend::kAfXdp) {
      if (!rx_mode && !sandbox) XSKIT_RETURN_IF_ERROR(AttachForTxWakeup(o, pins_or, tx, attach_guard));
      XSKIT_RETURN_IF_ERROR(OpenSender(o, tx));
      PrepareTxFrames(*tx.sock, frame);
    }
  }
  XskSocket* app = rx_mode ? rx.sock.get() : tx.sock.get();  // the socket under test
  sockopts = ApplySockopts(o, app ? app->fd() : -1);
  if (o.busy_poll && app) XSKIT_RETURN_IF_ERROR(EnableBusyPoll(app->fd(), o.batch));

  LoopConfig cfg{o.batch, o.pkt_size - 4, o.poll, o.busy_poll, rx_mode ? 0 : o.count};
  LoopConfig gen_cfg{64, o.pkt_size - 4, false, false, 0};
  LoopCounters tx_c, rx_c;
  std::atomic<bool> stop_tx{false}, stop_rx{false};

  // Samples before the traffic.
  std::vector<Scope> scopes;
  if (sandbox) {
    scopes = {{tx.scope.netns_ino, 0}, {rx.scope.netns_ino, 0}};
  } else {
    scopes = {rx_mode ? rx.scope : tx.scope};
  }
  ProbeSnapshot p0 = probes.Sample(tx.scope, o.queue, scopes);
  SteerSample s0{};
  if (rx.steer) {
    XSKIT_ASSIGN_OR_RETURN(s0, ReadSteer(*rx.steer, o.queue));
  }
  nlohmann::json peer0 = sandbox && !rx_mode ? LinkStats(rx.ep) : nullptr;
  // l2fwd on the sandbox: what the forwarder sends back reaches the
  // sender's interface (its rx_packets are the peer's transmits).
  nlohmann::json back0 = sandbox && o.mode == Mode::kL2Fwd ? LinkStats(tx.ep) : nullptr;

  Reporter reporter(o, probes, sandbox.has_value());
  double t0 = NowS();
  std::unique_ptr<Worker> rx_worker, tx_worker;
  if (rx_mode) {
    auto loop = o.mode == Mode::kRxDrop ? RxDropLoop : L2FwdLoop;
    rx_worker = std::make_unique<Worker>(rx.ep.netns, [&, loop] { return loop(*rx.sock, cfg, rx_c, stop_rx); }, rx_c);
  }
  if (has_tx) {
    const LoopConfig& c = generator ? gen_cfg : cfg;
    if (o.backend == Backend::kAfPacket)
      tx_worker = std::make_unique<Worker>(
          tx.ep.netns, [&] { return AfPacketTxLoop(tx.ep.ifname, frame, c, tx_c, stop_tx); }, tx_c);
    else
      tx_worker = std::make_unique<Worker>(
          tx.ep.netns, [&] { return TxOnlyLoop(*tx.sock, c, tx_c, stop_tx); }, tx_c);
  }

  // The live lines, one per interval.
  Reporter::Snapshot prev = {t0, 0, 0, 0, 0, 0, 0, tx.sock ? RingConsumer(tx.sock->rings().tx) : 0, p0};
  for (;;) {
    double next = prev.t + o.interval_s;
    double end = o.duration_s > 0 ? t0 + o.duration_s : 1e300;
    double wake = std::min(next, end);
    while (NowS() < wake && !g_interrupted.load() && !(has_tx ? tx_c.done.load() : rx_c.done.load())) {
      timespec ts{0, 20 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    double now = NowS();
    Reporter::Snapshot cur{now,
                           tx_c.tx_packets.load(),
                           rx_c.rx_packets.load(),
                           rx_c.tx_packets.load(),
                           (rx_mode ? rx_c : tx_c).kicks.load(),
                           (rx_mode ? rx_c : tx_c).err_eagain.load(),
                           rx_c.rx_wakeups.load(),
                           tx.sock ? RingConsumer(tx.sock->rings().tx) : 0,
                           probes.Sample(tx.scope, o.queue, scopes)};
    if (now - prev.t >= o.interval_s * 0.5) {
      reporter.Live(prev, cur, now - t0);
      prev = cur;
    }
    if (g_interrupted.load() || now >= end || (has_tx ? tx_c.done.load() : rx_c.done.load())) break;
  }
  // Stop the sender first, let the receiver drain what it sent, then stop
  // it. Traffic from outside (-i) does not stop: there the receiver stops
  // with the window, or it would count 200 ms more than elapsed_s says.
  stop_tx.store(true);
  if (tx_worker) tx_worker->Join();
  double t_end = NowS();
  if (rx_worker) {
    if (tx_worker) {
      timespec ts{0, 200 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    stop_rx.store(true);
    rx_worker->Join();
  }
  if (tx_worker && !tx_worker->status().ok()) return tx_worker->status();
  if (rx_worker && !rx_worker->status().ok()) return rx_worker->status();

  // The result.
  RunFacts f;
  f.elapsed_s = t_end - t0;
  f.tx_packets = tx_c.tx_packets.load();
  f.rx_packets = rx_c.rx_packets.load();
  f.fwd_packets = rx_c.tx_packets.load();
  const LoopCounters& app_c = rx_mode ? rx_c : tx_c;
  f.kicks = app_c.kicks.load();
  f.rx_wakeups = rx_c.rx_wakeups.load();
  f.rx_empty_polls = rx_c.rx_empty_polls.load();
  f.err_eagain = app_c.err_eagain.load();
  f.err_ebusy = app_c.err_ebusy.load();
  f.err_enobufs = app_c.err_enobufs.load();
  f.err_other = app_c.err_other.load();
  f.tx_consumed = tx.sock ? RingConsumer(tx.sock->rings().tx) : 0;
  f.probes = probes.Sample(tx.scope, o.queue, scopes).Delta(p0);
  if (rx.steer) {
    XSKIT_ASSIGN_OR_RETURN(SteerSample s1, ReadSteer(*rx.steer, o.queue));
    f.steer = Delta(s0, s1);
    f.steer_mode = XdpModeName(rx.steer->info().xdp_mode);
  }
  // rxdrop/l2fwd: the receiver's attach; txonly -z: the attach igb & co.
  // need for their Tx wakeups.
  f.steer_attached_for_run = attach_guard.active;
  if (app) {
    f.xdp_stats = XdpStats(*app);
    auto zc = app->IsZerocopy();
    f.bind = zc.ok() ? NameOf(kBindModeNames, *zc ? BindMode::kZerocopy : BindMode::kCopy, "?") : "unknown";
  } else {
    f.bind = "af_packet";
  }
  if (tx.sock && rx_mode) f.generator_xdp_stats = XdpStats(*tx.sock);
  if (peer0.is_object()) {
    nlohmann::json peer1 = LinkStats(rx.ep);
    if (peer1.is_object())
      f.peer = {{"ifname", rx.ep.ifname},
                {"rx_packets", peer1["rx_packets"].get<uint64_t>() - peer0["rx_packets"].get<uint64_t>()},
                {"rx_dropped", peer1["rx_dropped"].get<uint64_t>() - peer0["rx_dropped"].get<uint64_t>()}};
  }
  if (back0.is_object()) {
    nlohmann::json back1 = LinkStats(tx.ep);
    if (back1.is_object())
      f.returned = {{"ifname", tx.ep.ifname},
                    {"packets", back1["rx_packets"].get<uint64_t>() - back0["rx_packets"].get<uint64_t>()}};
  }
  f.sockopts = sockopts;
  f.tx_ep = tx.ep;
  f.rx_ep = rx.ep;
  f.tx_scope = tx.scope;
  f.rx_scope = rx.scope;
  f.sandbox = sandbox.has_value();
  f.generator = generator;
  f.interrupted = g_interrupted.load();
  return reporter.Result(f);
}

}  // namespace xskit::bench
