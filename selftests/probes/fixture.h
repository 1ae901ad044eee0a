// The probes tier's fixture and helpers, shared by selftests/probes/*_test.cc
// (one tier binary, xskit_test_probes).
// Tier `probes`: the transmit, backpressure, drop and allocation probes
// against traffic whose ground truth the test generates, checked exactly.
// Each test uses its own namespaces, so its counters have keys of their own
// (netns inode, ifindex, queue) even though the probes are global.
// XSKIT_EXPECT_PROBE_MODE=fentry|tracepoint (the kernel-matrix runner) makes
// the mode an assertion: a silent fallback is a failure.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/attach.h"
#include "lib/drop_reasons.h"
#include "lib/iface_facts.h"
#include "lib/probe_counters.h"
#include "lib/xsk_probes_prog.h"
#include "xsk/xsk_socket.h"
#include "selftests/lib/alloc_paths.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/workload.h"
#include "lib/sandbox/packet.h"

namespace xskit::testing {

struct Where {
  uint64_t netns_ino = 0;
  uint32_t ifindex = 0;
};

// Inside InNetns(): this thread's netns inode and the device's ifindex.
inline Where WhereIs(const std::string& netns, const std::string& dev) {
  Where w;
  InNetns(netns, [&] {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) == 0) w.netns_ino = st.st_ino;
    w.ifindex = if_nametoindex(dev.c_str());
  });
  return w;
}

// The expected batch bucket, written out (not the BPF's arithmetic).
inline int ExpectedBucket(uint32_t n) {
  if (n == 0) return 0;
  if (n == 1) return 1;
  if (n < 4) return 2;
  if (n < 8) return 3;
  if (n < 16) return 4;
  if (n < 32) return 5;
  if (n < 64) return 6;
  if (n < 128) return 7;
  if (n < 256) return 8;
  return 9;
}

// The calling thread's own netns (the VM's initial one) and `dev` in it.
inline Where WhereHere(const std::string& dev) {
  Where w;
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) == 0) w.netns_ino = st.st_ino;
  w.ifindex = if_nametoindex(dev.c_str());
  return w;
}

// The VM's virtio_net NIC whose qemu device holds transmitted buffers for
// 4 s (tx=timer, see selftests/vmtest/run): its skbs stay in flight, so a
// send buffer or the driver's Tx ring fills deterministically. Kept silent
// by the VM's init (no IPv6, no address), so only a test's frames arm the
// device's timer; used in the initial namespace, one test at a time.
inline const char* HeldTxNic() { return std::getenv("XSKIT_VIRTIO_HELD_TX"); }

// after - before, counter by counter (the counters of each value are
// listed once, lib/probe_counters.h); gauges from `after`.
template <typename V>
  requires std::is_same_v<V, xsk_probes_tx> || std::is_same_v<V, xsk_probes_zc> ||
           std::is_same_v<V, xsk_probes_alloc>
inline V Delta(const V& before, const V& after) {
  V d = after;
  ForEachCounter(d, before, [](auto& c, auto b) { c -= b; });
  return d;
}

template <typename K>
inline std::map<K, uint64_t> Delta(const std::map<K, uint64_t>& before, std::map<K, uint64_t> after) {
  for (const auto& [k, n] : before) after[k] -= n;
  std::erase_if(after, [](const auto& kv) { return kv.second == 0; });
  return after;
}

// Namespace inodes and ifindexes are reused once a namespace is gone, so a
// test's keys may carry an earlier test's counts: every check is on the
// difference between a snapshot before the traffic and one after it.
class ProbesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EnsureBpffs();
    root_ = new TestPinRoot();
    pins_ = new PinLayout(root_->path());
    // The loader's own resolution (auto, unless XSKIT_PROBE_MODE forces a
    // mode): ModeIsTheExpectedOne then checks it against what this kernel
    // must give, so a silent fallback fails.
    ProbeOptions opts;
    opts.mode = ProbeModeFromEnv();
    bool already = false;
    auto signals = AttachProbes(*pins_, opts, &already);
    attach_status_ = new absl::Status(signals.status());
    // What attach returned (and `probes attach` prints): every view's ground truth.
    attached_signals_ = new std::vector<SignalMode>(signals.ok() ? *signals
                                                                 : std::vector<SignalMode>{});
  }
  static void TearDownTestSuite() {
    if (pins_) (void)DetachProbes(*pins_);
    delete attach_status_;
    delete attached_signals_;
    delete pins_;
    delete root_;  // removes the pin root and whatever is left below it
    attach_status_ = nullptr;
    attached_signals_ = nullptr;
    pins_ = nullptr;
    root_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(attach_status_->ok()) << "attach probes: " << attach_status_->message();
    auto p = PinnedProbes::Open(pins_->ProbesDir());
    ASSERT_TRUE(p.ok()) << p.status().message();
    probes_ = std::make_unique<PinnedProbes>(std::move(*p));
  }

  xsk_probes_tx Tx(const Where& w, uint32_t queue) {
    auto rows = probes_->ReadTx();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, v] : *rows)
        if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && k.queue == queue) return v;
    return xsk_probes_tx{};
  }

  xsk_probes_zc Zc(const Where& w, uint32_t queue) {
    auto rows = probes_->ReadZc();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, v] : *rows)
        if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && k.queue == queue) return v;
    return xsk_probes_zc{};
  }

  // The mode the pinned probes measure `s` with.
  uint32_t ModeOf(xsk_probes_signal s) const { return probes_->info().signals[s].mode; }

  // (errno, cause) -> calls for one interface and queue.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> TxErrors(const Where& w, uint32_t queue) {
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> out;
    auto rows = probes_->ReadTxErrors();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, n] : *rows)
        if (k.q.netns_ino == w.netns_ino && k.q.ifindex == w.ifindex && k.q.queue == queue)
          out[{k.err, k.cause}] += n;
    return out;
  }

  // reason name -> skbs dropped on one interface (non-AF_XDP skbs).
  std::map<std::string, uint64_t> Drops(const Where& w) {
    std::map<std::string, uint64_t> out;
    auto names = DropReasons::FromKernel();
    EXPECT_TRUE(names.ok());
    auto rows = probes_->ReadDrops();
    EXPECT_TRUE(rows.ok());
    if (rows.ok() && names.ok())
      for (const auto& [k, n] : *rows)
        if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && !k.xsk)
          out[names->Name(k.reason)] += n;
    return out;
  }

  // errno -> xdp_redirect_err events on one interface.
  std::map<uint32_t, uint64_t> RedirectErrors(const Where& w) {
    std::map<uint32_t, uint64_t> out;
    auto rows = probes_->ReadXdpErrors();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, n] : *rows)
        if ((k.netns_ino == w.netns_ino || k.netns_ino == 0) && k.ifindex == w.ifindex &&
            k.event == XSK_PROBES_XDP_REDIRECT_ERR)
          out[k.value] += n;
    return out;
  }

  static std::vector<uint8_t> Frame(const NetnsPair& net) {
    return Packet().Eth(net.mac_b(), net.mac_a()).IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
        .Udp(1234, 9).Payload(18).Build();
  }

  // Queues n frames and kicks once; returns the kick's errno.
  static int SendBatch(XskSocket& s, const std::vector<uint8_t>& frame, uint32_t n) {
    if (n) {
      EXPECT_EQ(s.QueueTx(n, frame.size(), [&](uint32_t, std::span<uint8_t> b) {
                  std::memcpy(b.data(), frame.data(), frame.size());
                }),
                n);
    }
    return s.Kick();
  }

  static void Reap(XskSocket& s) {
    for (int i = 0; i < 100 && s.outstanding(); i++) {
      s.Complete();
      if (s.outstanding()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // UDP datagrams from netns a to b:port.
  static void SendUdp(const NetnsPair& net, uint16_t port, int n) {
    InNetns(net.ns_a(), [&] {
      int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      ASSERT_GE(fd, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(port);
      inet_pton(AF_INET, NetnsPair::kIpB, &to.sin_addr);
      char payload[32] = {};
      for (int i = 0; i < n; i++)
        ASSERT_EQ(::sendto(fd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof(to)),
                  static_cast<ssize_t>(sizeof(payload)))
            << "datagram " << i;
      ::close(fd);
    });
  }

  static inline TestPinRoot* root_ = nullptr;
  static inline PinLayout* pins_ = nullptr;
  static inline absl::Status* attach_status_ = nullptr;
  static inline std::vector<SignalMode>* attached_signals_ = nullptr;
  std::unique_ptr<PinnedProbes> probes_;
};



// ------------------------------------------------ held-Tx device helpers
inline uint32_t AwaitCompletions(XskSocket& s, uint32_t n) {
  uint32_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (done < n && std::chrono::steady_clock::now() < deadline) {
    done += s.Complete();
    if (done < n) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done;
}

inline std::unique_ptr<XskSocket> HeldTxSocket(const char* nic, int sndbuf, bool force) {
  auto r = XskSocket::Create(nic, 0, /*zerocopy=*/false, XskSocket::Options{});
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return nullptr;
  EXPECT_EQ(::setsockopt((*r)->fd(), SOL_SOCKET, force ? SO_SNDBUFFORCE : SO_SNDBUF, &sndbuf,
                         sizeof(sndbuf)),
            0)
      << std::strerror(errno);
  return std::move(*r);
}

inline std::vector<uint8_t> HeldTxFrame() {
  return Packet().Eth({0x52, 0x54, 0, 0, 0, 0x99}, {0x52, 0x54, 0, 0, 0, 0x03})
      .IPv4("192.0.2.1", "192.0.2.2").Udp(1234, 9).Payload(18).Build();
}

// The kernel's smallest send buffer, the device holding every skb: the
// first skb's truesize plus its umem chunk (charged to sk_wmem_alloc by the
// IFF_TX_SKB_NO_LINEAR build) already exceed it, so the call stops with
// EAGAIN for the send buffer and for nothing else.

}  // namespace xskit::testing
