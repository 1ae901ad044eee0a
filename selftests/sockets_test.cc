// Tier `netns`: the AF_XDP socket inventory (lib/xsk_sockets_prog.h) against
// the kernel's own per-socket counters. Sockets are made here with plain
// libxdp calls (no xskit helper), bound in copy mode on veth in a namespace,
// and fed frames from the peer namespace; every view (the socket's own
// getsockopt(XDP_STATISTICS), `xsk-loader sockets --json`, the exporter's
// series) must give the same numbers, and those numbers are fixed by
// construction (N frames into an empty fill ring, N > 64 into a 64-entry Rx
// ring never drained, K invalid Tx descriptors).
#include <fcntl.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <xdp/xsk.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "exporter/collector.h"
#include "prometheus/metric_family.h"
#include "gtest/gtest.h"
#include "lib/pins.h"
#include "lib/xsk_sockets_prog.h"
#include "lib/xsk_steer_prog.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::CmdResult;
using testing::InNetns;
using testing::NetnsPair;

constexpr uint32_t kFrame = 4096;
constexpr uint32_t kFrames = 1024;

// An AF_XDP socket made with libxdp's own calls, copy mode, no XDP program
// of libxdp's (xskit's steering program redirects to it once registered).
struct RawXsk {
  void* area = nullptr;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fq{}, tx{};
  xsk_ring_cons cq{}, rx{};

  ~RawXsk() {
    if (xsk) xsk_socket__delete(xsk);
    if (umem) xsk_umem__delete(umem);
    if (area) munmap(area, static_cast<size_t>(kFrame) * kFrames);
  }
  int fd() const { return xsk_socket__fd(xsk); }
  uint64_t inode() const {
    struct stat st {};
    fstat(fd(), &st);
    return st.st_ino;
  }
  xdp_statistics Stats() const {
    xdp_statistics st{};
    socklen_t len = sizeof(st);
    EXPECT_EQ(getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &st, &len), 0) << strerror(errno);
    return st;
  }
};

// In `netns`: a socket on dev queue 0 with `rx_size` Rx entries and `fill`
// buffers put on its fill ring (0: the application never fills it).
std::unique_ptr<RawXsk> MakeRawXsk(const std::string& netns, const std::string& dev,
                                   uint32_t rx_size, uint32_t fill) {
  auto s = std::make_unique<RawXsk>();
  bool ok = false;
  InNetns(netns, [&] {
    s->area = mmap(nullptr, static_cast<size_t>(kFrame) * kFrames, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(s->area, MAP_FAILED);
    xsk_umem_config uc = {.fill_size = 2048, .comp_size = 2048, .frame_size = kFrame,
                          .frame_headroom = 0, .flags = 0};
    ASSERT_EQ(xsk_umem__create(&s->umem, s->area, static_cast<uint64_t>(kFrame) * kFrames, &s->fq,
                               &s->cq, &uc), 0);
    xsk_socket_config sc{};
    sc.rx_size = rx_size;
    sc.tx_size = 2048;
    sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    sc.bind_flags = XDP_COPY;
    ASSERT_EQ(xsk_socket__create(&s->xsk, dev.c_str(), 0, s->umem, &s->rx, &s->tx, &sc), 0);
    // libxdp opens it without SOCK_CLOEXEC: keep it out of the xsk-loader
    // children, so this process is its only owner.
    fcntl(xsk_socket__fd(s->xsk), F_SETFD, FD_CLOEXEC);
    uint32_t idx = 0;
    if (fill) {
      ASSERT_EQ(xsk_ring_prod__reserve(&s->fq, fill, &idx), fill);
      for (uint32_t i = 0; i < fill; i++) *xsk_ring_prod__fill_addr(&s->fq, idx + i) = i * kFrame;
      xsk_ring_prod__submit(&s->fq, fill);
    }
    ok = true;
  });
  return ok ? std::move(s) : nullptr;
}

class SocketsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EnsureBpffs();
    CmdResult a = testing::RunLoader(root_.path(), pair_.ns_a(), {"attach", pair_.dev_a()});
    ASSERT_EQ(a.status, 0) << a.output;
    NetnsId ns{.initial = false, .inode = 0, .name = pair_.ns_a()};
    dir_ = PinLayout(root_.path()).IfaceDir(IfaceDirName(ns, pair_.dev_a()));
  }

  void Register(const RawXsk& s) {
    auto pinned = PinnedSteer::Open(dir_);
    ASSERT_TRUE(pinned.ok()) << pinned.status();
    ASSERT_TRUE(pinned->RegisterSocket(0, s.fd()).ok());
  }

  void Send(int n) {
    testing::SendFrames(pair_.ns_b(), pair_.dev_b(), testing::UdpFrames(pair_, n, 4791));
    // Delivery to the socket is synchronous with the veth transmit; the
    // sleep covers the peer's NAPI.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // The socket's row in `xsk-loader sockets --json` (the real binary).
  nlohmann::json LoaderRow(uint64_t inode) {
    CmdResult r = testing::RunLoader(root_.path(), "", {"sockets", "--json"});
    EXPECT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    if (j.is_discarded()) return {};
    EXPECT_EQ(j["coverage"]["source"], "bpf_iter");
    for (const auto& s : j["sockets"])
      if (s["inode"].get<uint64_t>() == inode) return s;
    ADD_FAILURE() << "socket inode " << inode << " not listed:\n" << r.output;
    return {};
  }

  // The exporter's value of `family` for (dev_a, ns_a, queue 0).
  std::optional<double> Exported(const std::string& family) {
    exporter::XskCollector c({.pin_root = root_.path()});
    c.Prime();
    for (const auto& f : c.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        std::map<std::string, std::string> l;
        for (const auto& p : m.label) l[p.name] = p.value;
        if (l["ifname"] == pair_.dev_a() && l["netns"] == pair_.ns_a() && l["queue"] == "0")
          return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      }
    }
    return std::nullopt;
  }

  void ExpectAllAgree(const RawXsk& s, const nlohmann::json& row) {
    xdp_statistics k = s.Stats();
    const auto& c = row["counters"];
    EXPECT_EQ(c["rx_dropped"].get<uint64_t>(), k.rx_dropped);
    EXPECT_EQ(c["rx_invalid"].get<uint64_t>(), k.rx_invalid_descs);
    EXPECT_EQ(c["tx_invalid"].get<uint64_t>(), k.tx_invalid_descs);
    EXPECT_EQ(c["rx_full"].get<uint64_t>(), k.rx_ring_full);
    EXPECT_EQ(c["fill_ring_empty"].get<uint64_t>(), k.rx_fill_ring_empty_descs);
    EXPECT_EQ(c["tx_ring_empty"].get<uint64_t>(), k.tx_ring_empty_descs);
    EXPECT_EQ(Exported("xsk_socket_rx_dropped_total"), static_cast<double>(k.rx_dropped));
    EXPECT_EQ(Exported("xsk_socket_rx_ring_full_total"), static_cast<double>(k.rx_ring_full));
    EXPECT_EQ(Exported("xsk_socket_fill_ring_empty_total"),
              static_cast<double>(k.rx_fill_ring_empty_descs));
    EXPECT_EQ(Exported("xsk_socket_tx_invalid_descriptors_total"),
              static_cast<double>(k.tx_invalid_descs));
  }

  testing::TestPinRoot root_;
  NetnsPair pair_;
  std::string dir_;
};

TEST_F(SocketsTest, NeverRefilledFillRingDropsEveryFrameAndAllViewsAgree) {
  constexpr int kN = 300;
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 2048, 0);
  ASSERT_TRUE(s);
  Register(*s);
  Send(kN);
  xdp_statistics k = s->Stats();
  ASSERT_EQ(k.rx_dropped, static_cast<uint64_t>(kN)) << "every frame found the fill ring empty";
  ASSERT_EQ(k.rx_fill_ring_empty_descs, static_cast<uint64_t>(kN));
  nlohmann::json row = LoaderRow(s->inode());
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row["netns"], pair_.ns_a()) << "a socket in another namespace";
  EXPECT_EQ(row["ifname"], pair_.dev_a());
  EXPECT_EQ(row["queue"], 0);
  EXPECT_EQ(row["mode"], "copy") << "veth has no zero-copy";
  EXPECT_EQ(row["rings"]["rx"], 2048);
  EXPECT_EQ(row["rings"]["fill"], 2048);
  EXPECT_EQ(row["umem"]["size"], static_cast<uint64_t>(kFrame) * kFrames);
  EXPECT_EQ(row["umem"]["chunk_size"], kFrame);
  ASSERT_EQ(row["owners"].size(), 1u);
  EXPECT_EQ(row["owners"][0]["pid"], getpid());
  EXPECT_EQ(row["owners"][0]["fd"], s->fd());
  EXPECT_TRUE(row["xskit"]["registered"].get<bool>());
  EXPECT_FALSE(row["xskit"]["unregistered"].get<bool>());
  ExpectAllAgree(*s, row);
  EXPECT_EQ(Exported("xsk_socket_unregistered"), 0.0);
}

TEST_F(SocketsTest, UndrainedRxRingOf64CountsExactlyTheOverflow) {
  constexpr int kN = 200, kRing = 64;
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), kRing, 1024);
  ASSERT_TRUE(s);
  Register(*s);
  Send(kN);
  xdp_statistics k = s->Stats();
  ASSERT_EQ(k.rx_ring_full, static_cast<uint64_t>(kN - kRing));
  EXPECT_EQ(k.rx_fill_ring_empty_descs, 0u);
  nlohmann::json row = LoaderRow(s->inode());
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row["counters"]["rx_full"].get<uint64_t>(), static_cast<uint64_t>(kN - kRing));
  EXPECT_EQ(row["rings"]["rx"], kRing);
  ExpectAllAgree(*s, row);
}

TEST_F(SocketsTest, InvalidTxDescriptorsAreCountedOneEach) {
  constexpr uint32_t kBad = 5;
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 2048, 0);
  ASSERT_TRUE(s);
  Register(*s);
  // The kernel stops a sendmsg batch at an invalid descriptor and consumes
  // it: one descriptor per call, K calls.
  for (uint32_t i = 0; i < kBad; i++) {
    uint32_t idx = 0;
    ASSERT_EQ(xsk_ring_prod__reserve(&s->tx, 1, &idx), 1u);
    xdp_desc* d = xsk_ring_prod__tx_desc(&s->tx, idx);
    d->addr = static_cast<uint64_t>(kFrame) * kFrames * 4 + i * kFrame;  // outside the umem
    d->len = 64;
    d->options = 0;
    xsk_ring_prod__submit(&s->tx, 1);
    sendto(s->fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  }
  xdp_statistics k = s->Stats();
  ASSERT_EQ(k.tx_invalid_descs, kBad);
  nlohmann::json row = LoaderRow(s->inode());
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row["counters"]["tx_invalid"].get<uint64_t>(), kBad);
  ExpectAllAgree(*s, row);
}

TEST_F(SocketsTest, BoundToASteeredQueueButNotRegisteredIsFlagged) {
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 2048, 64);
  ASSERT_TRUE(s);
  nlohmann::json row = LoaderRow(s->inode());
  ASSERT_FALSE(row.empty());
  EXPECT_TRUE(row["xskit"]["steered_queue"].get<bool>());
  EXPECT_FALSE(row["xskit"]["registered"].get<bool>());
  EXPECT_TRUE(row["xskit"]["unregistered"].get<bool>());
  EXPECT_EQ(Exported("xsk_socket_unregistered"), 1.0);
  // And status shows it under the interface.
  CmdResult st = testing::RunLoader(root_.path(), pair_.ns_a(), {"status", pair_.dev_a()});
  EXPECT_EQ(st.status, 0) << st.output;
  EXPECT_NE(st.output.find("NOT IN xskit's XSKMAP"), std::string::npos) << st.output;
}

TEST_F(SocketsTest, ASocketHeldByTwoProcessesIsListedOnceWithBothOwners) {
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 2048, 0);
  ASSERT_TRUE(s);
  int dup_fd = dup(s->fd());
  ASSERT_GE(dup_fd, 0);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  nlohmann::json row = LoaderRow(s->inode());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(dup_fd);
  ASSERT_FALSE(row.empty());
  std::set<std::pair<int, int>> owners;
  for (const auto& o : row["owners"]) owners.insert({o["pid"].get<int>(), o["fd"].get<int>()});
  EXPECT_TRUE(owners.count({getpid(), s->fd()}));
  EXPECT_TRUE(owners.count({getpid(), dup_fd}));
  EXPECT_TRUE(owners.count({child, s->fd()}));
  EXPECT_TRUE(owners.count({child, dup_fd}));
}

// One exporter, scraped twice: the first scrape discovers (a pass over every
// process), the second re-reads only the owner processes (task iterator
// parameters); both must match the kernel's counters, and a socket of the
// xskit helper is listed beside the plain libxdp one.
TEST_F(SocketsTest, ScrapesBetweenDiscoveriesReadExactCounters) {
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 2048, 0);
  ASSERT_TRUE(s);
  Register(*s);
  exporter::XskCollector c({.pin_root = root_.path(), .socket_discovery_s = 3600});
  c.Prime();
  auto value = [&](const std::string& family) -> std::optional<double> {
    for (const auto& f : c.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        std::map<std::string, std::string> l;
        for (const auto& p : m.label) l[p.name] = p.value;
        if (l["ifname"] == pair_.dev_a() && l["netns"] == pair_.ns_a() && l["queue"] == "0")
          return m.counter.value;
      }
    }
    return std::nullopt;
  };
  Send(40);
  EXPECT_EQ(value("xsk_socket_rx_dropped_total"), static_cast<double>(s->Stats().rx_dropped));
  Send(60);  // no discovery in between: the per-process pass
  EXPECT_EQ(s->Stats().rx_dropped, 100u);
  EXPECT_EQ(value("xsk_socket_rx_dropped_total"), 100.0);

  // The xskit socket helper's socket on the peer, in its own namespace.
  auto helper = testing::CreateSocketIn(pair_.ns_b(), pair_.dev_b(), 0);
  ASSERT_TRUE(helper);
  struct stat st {};
  ASSERT_EQ(fstat(helper->fd(), &st), 0);
  nlohmann::json row = LoaderRow(st.st_ino);
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row["netns"], pair_.ns_b());
  EXPECT_EQ(row["mode"], "copy");
}

// sock_diag (xsk_diag) as the independent cross-check: where the kernel has
// it (Debian's kernels, module xsk_diag), its dump must give the same
// binding, rings, umem and counters as the socket's own XDP_STATISTICS;
// where it has not, `sockets --source sock_diag` refuses with exit 5 and the
// test skips naming why.
TEST_F(SocketsTest, SockDiagAgreesWithTheSocketWhereTheKernelHasIt) {
  auto s = MakeRawXsk(pair_.ns_a(), pair_.dev_a(), 64, 16);
  ASSERT_TRUE(s);
  Register(*s);
  Send(100);  // 16 fill buffers: 16 received, the rest dropped (fill ring empty)
  (void)testing::RunCmd({"modprobe", "xsk_diag"});
  auto recs = SockDiagRecords();
  if (absl::IsUnimplemented(recs.status())) {
    CmdResult r = testing::RunLoader(root_.path(), "", {"sockets", "--source", "sock_diag"});
    EXPECT_EQ(r.status, 5) << r.output;
    EXPECT_NE(r.output.find("xsk_diag"), std::string::npos) << r.output;
    XSKIT_SKIP(std::string(recs.status().message()));
  }
  ASSERT_TRUE(recs.ok()) << recs.status();
  std::vector<AfXdpSocket> socks = MergeSocketRecords(*recs);
  const AfXdpSocket* mine = nullptr;
  for (const auto& x : socks)
    if (x.inode == s->inode()) mine = &x;
  ASSERT_NE(mine, nullptr) << "sock_diag does not list the socket in " << pair_.ns_a();
  xdp_statistics k = s->Stats();
  EXPECT_EQ(mine->netns, pair_.ns_a());
  EXPECT_EQ(mine->ifname, pair_.dev_a());
  EXPECT_EQ(mine->mode(), std::string("copy"));
  EXPECT_EQ(mine->rx_ring, 64u);
  EXPECT_EQ(mine->chunk_size, kFrame);
  EXPECT_EQ(mine->counters.rx_dropped, k.rx_dropped);
  EXPECT_EQ(mine->counters.rx_full, k.rx_ring_full);
  EXPECT_EQ(mine->counters.fill_ring_empty, k.rx_fill_ring_empty_descs);
  EXPECT_EQ(mine->counters.tx_invalid, k.tx_invalid_descs);
  ASSERT_EQ(mine->owners.size(), 1u);
  EXPECT_EQ(mine->owners[0].pid, static_cast<uint32_t>(getpid()));
  nlohmann::json row = LoaderRow(s->inode());  // the iterator's view
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row["counters"]["rx_dropped"].get<uint64_t>(), mine->counters.rx_dropped);
  EXPECT_EQ(row["counters"]["rx_full"].get<uint64_t>(), mine->counters.rx_full);
}

}  // namespace
}  // namespace xskit
