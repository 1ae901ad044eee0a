// Tier `interop` (host only): the applications operators run, unmodified,
// on an interface where xsk-loader attached the steering program.
//  - DPDK 24.11's dpdk-testpmd (Debian 13, in a chroot that
//    selftests/interop/mkdpdk builds once and caches) through
//    use_pinned_map=1 (xskit's pin, and the --dp-pin default path) and
//    through use_cni=1 with `xsk-loader serve`: its Rx counter equals the
//    frames xskit redirected, the rest reach the stack, and xskit is still
//    attached when testpmd has exited (its netlink detach is refused).
//  - The handshake server's refusals: unknown interface, peer not on the
//    allow list, malformed requests, a silent client.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/afxdp_dp.h"
#include "lib/errors.h"
#include "lib/fd.h"
#include "lib/sandbox/process.h"
#include "selftests/lib/interop.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"
#include "selftests/lib/paths.h"

namespace xskit {
namespace {

using namespace std::chrono_literals;
using testing::Bin;
using sandbox::Process;

// ------------------------------------------------------------ handshake client

struct Reply {
  std::string text;
  Fd fd;                // an fd the server attached
  bool closed = false;  // the server closed the connection
  bool timed_out = false;
};

class HandshakeClient {
 public:
  explicit HandshakeClient(const std::string& path) {
    fd_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  bool connected() const { return connected_; }

  // Sends `request` as DPDK does (write, no NUL) and waits for one reply.
  Reply Ask(const std::string& request, std::chrono::milliseconds timeout = 5s) {
    (void)!::write(fd_.get(), request.data(), request.size());
    return Read(timeout);
  }

  Reply Read(std::chrono::milliseconds timeout) {
    Reply r;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      r.timed_out = true;
      return r;
    }
    char buf[256];
    iovec iov{buf, sizeof(buf)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
      r.closed = true;
      return r;
    }
    r.text.assign(buf, static_cast<size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        r.fd.reset(fd);
      }
    return r;
  }

 private:
  Fd fd_;
  bool connected_ = false;
};

uint32_t MapId(int fd, uint32_t* type = nullptr) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
  if (type) *type = info.type;
  return info.id;
}

uint32_t PinnedMapId(const std::string& pin) {
  Fd fd(bpf_obj_get(pin.c_str()));
  return fd.valid() ? MapId(fd.get()) : 0;
}

// ------------------------------------------------------------------ fixture

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::CmdResult a =
        s_.Loader({"attach", s_.pair().dev_a(), "--match", "udp:4791", "--no-probes", "--dp-pin"});
    ASSERT_EQ(a.status, 0) << a.output;
    prog_id_ = s_.XdpProgId();
    ASSERT_NE(prog_id_, 0u);
  }

  void TearDown() override {
    if (server_) {
      // SIGTERM: the server removes its socket (and directory) on the way out.
      server_->Signal(SIGTERM);
      EXPECT_EQ(server_->Wait(10s), 0) << server_->output();
      EXPECT_FALSE(std::filesystem::exists(SocketPath())) << "serve left its socket";
      server_.reset();
    }
    testing::CmdResult d = s_.Loader({"detach", s_.pair().dev_a()});
    EXPECT_EQ(d.status, 0) << d.output;
    EXPECT_FALSE(std::filesystem::exists(DpIfaceDir(s_.pair().dev_a())))
        << "detach left the --dp-pin link or its directory";
    std::filesystem::remove_all(cfg_dir_);
  }

  // `xsk-loader serve dev_a` with `yaml` as its config, in namespace a.
  void StartServer(const std::string& yaml, std::vector<std::string> extra = {}) {
    cfg_dir_ = absl::StrCat("/tmp/xskit-serve-", ::getpid());
    std::filesystem::create_directories(cfg_dir_);
    const std::string cfg = cfg_dir_ + "/serve.yaml";
    std::ofstream(cfg) << yaml;
    std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", s_.pin_root(),
                                     "--log-level", "info", "serve", s_.pair().dev_a(),
                                     "--config", cfg};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Process>(argv, s_.pair().ns_a());
    ASSERT_TRUE(server_->WaitForOutput("serving on", 10s)) << server_->output();
  }

  std::string SocketPath() { return DpSocketPath(s_.pair().dev_a()); }

  testing::SteeredPair s_;
  uint32_t prog_id_ = 0;
  std::unique_ptr<Process> server_;
  std::string cfg_dir_ = "/nonexistent";
};

// ---------------------------------------------------------------- handshake

TEST_F(InteropTest, HandshakeHandsOutXskitsMapAndNaksTheRest) {
  StartServer("allow:\n  uids: [0]\ntimeout_ms: 60000\n");
  const std::string dev = s_.pair().dev_a();

  // A silent client first: it must not hold up anyone.
  HandshakeClient silent(SocketPath());
  ASSERT_TRUE(silent.connected());

  HandshakeClient c(SocketPath());
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.Ask("/version").text, "/nak") << "a request before /connect";
  EXPECT_EQ(c.Ask("/connect,testhost").text, "/host_ok");
  EXPECT_EQ(c.Ask("/version").text, "0.1");
  Reply bad = c.Ask("/xsk_map_fd,nosuchdev0");
  EXPECT_EQ(bad.text, "/fd_nak");
  EXPECT_FALSE(bad.fd.valid()) << "an fd came with /fd_nak";
  EXPECT_EQ(c.Ask("/hello").text, "/nak");
  EXPECT_EQ(c.Ask("/xsk_map_fd").text, "/fd_nak") << "no interface named";
  Reply good = c.Ask("/xsk_map_fd," + dev);
  EXPECT_EQ(good.text, "/fd_ack");
  ASSERT_TRUE(good.fd.valid()) << "no fd with /fd_ack";
  uint32_t type = 0;
  EXPECT_EQ(MapId(good.fd.get(), &type), PinnedMapId(s_.XsksMapPin())) << "not xskit's XSKMAP";
  EXPECT_EQ(type, static_cast<uint32_t>(BPF_MAP_TYPE_XSKMAP));
  EXPECT_EQ(c.Ask("/fin").text, "/fin_ack");
  EXPECT_TRUE(c.Read(5s).closed) << "the server keeps the connection after /fin";

  // The silent one is still open (not answered, not closed).
  Reply still = silent.Read(100ms);
  EXPECT_TRUE(still.timed_out) << "the silent client got '" << still.text << "'";

  // Logged after the answers: wait for the last of them.
  EXPECT_TRUE(server_->WaitForOutput("malformed request '/hello'", 5s)) << server_->output();
  std::string log = server_->output();
  EXPECT_NE(log.find("asked for 'nosuchdev0'"), std::string::npos) << log;
  EXPECT_NE(log.find(absl::StrCat("pid ", ::getpid(), " uid 0")), std::string::npos) << log;
  EXPECT_NE(log.find("malformed request '/hello'"), std::string::npos) << log;
}

TEST_F(InteropTest, HandshakeRefusesAPeerNotOnTheAllowList) {
  StartServer("allow:\n  uids: [4242]\n  gids: [4242]\n");
  HandshakeClient c(SocketPath());
  ASSERT_TRUE(c.connected());
  Reply r = c.Ask("/connect,testhost");
  EXPECT_EQ(r.text, "/host_nak");
  EXPECT_FALSE(r.fd.valid());
  EXPECT_TRUE(c.Read(5s).closed) << "a refused peer's connection stays open";

  HandshakeClient direct(SocketPath());
  Reply d = direct.Ask("/xsk_map_fd," + s_.pair().dev_a());
  EXPECT_EQ(d.text, "/nak");
  EXPECT_FALSE(d.fd.valid()) << "the map fd went to a peer not on the allow list";
  // The server logs the refusal after answering it: wait for the line.
  EXPECT_TRUE(server_->WaitForOutput(absl::StrCat("refused pid ", ::getpid(), " uid 0 gid 0"), 5s))
      << server_->output();
}

TEST_F(InteropTest, HandshakeClosesASilentClientAfterItsTimeout) {
  StartServer("allow:\n  uids: [0]\ntimeout_ms: 200\n");
  HandshakeClient silent(SocketPath());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.Read(10s).closed);
  // The server logs after closing: the line may trail the close.
  EXPECT_TRUE(server_->WaitForOutput("no request for 200 ms", 5s)) << server_->output();
  // The server still answers.
  HandshakeClient c(SocketPath());
  EXPECT_EQ(c.Ask("/connect,testhost").text, "/host_ok");
}

// Capability sets and uid of a running process, from /proc.
std::string ProcStatusField(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  return "";
}

TEST_F(InteropTest, ServeRunsWithoutCapabilitiesAsAnotherUser) {
  StartServer("allow:\n  uids: [0]\n", {"--user", "nobody"});
  for (const char* set : {"CapEff", "CapPrm", "CapBnd", "CapAmb"})
    EXPECT_EQ(ProcStatusField(server_->pid(), set), "\t0000000000000000") << set;
  EXPECT_EQ(ProcStatusField(server_->pid(), "NoNewPrivs"), "\t1");
  EXPECT_EQ(ProcStatusField(server_->pid(), "Uid"), "\t65534\t65534\t65534\t65534");
  // It still hands out the map it opened as root.
  HandshakeClient c(SocketPath());
  EXPECT_EQ(c.Ask("/connect,testhost").text, "/host_ok");
  Reply r = c.Ask("/xsk_map_fd," + s_.pair().dev_a());
  EXPECT_EQ(r.text, "/fd_ack");
  EXPECT_EQ(r.fd.valid() ? MapId(r.fd.get()) : 0u, PinnedMapId(s_.XsksMapPin()));
  // As nobody it cannot remove its socket from root's directory on exit; the
  // next server replaces such a stale socket.
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(10s), 0) << server_->output();
  server_.reset();
  StartServer("allow:\n  uids: [0]\n");
  HandshakeClient again(SocketPath());
  EXPECT_EQ(again.Ask("/connect,testhost").text, "/host_ok");
}

TEST_F(InteropTest, ServeRefusesAnInterfaceXskitHasNotAttached) {
  testing::CmdResult r = testing::RunCmd(
      {Bin("loader/xsk-loader"), "--pin-root", s_.pin_root(), "serve", "lo"}, s_.pair().ns_a());
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kNotAttached)) << r.output;
  EXPECT_NE(r.output.find("not attached to lo"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(DpSocketPath("lo")));
}

TEST_F(InteropTest, DpPinIsASymlinkToThePinAndANonXskitPathNeedsForce) {
  const std::string dev = s_.pair().dev_a();
  EXPECT_EQ(std::filesystem::read_symlink(DpMapPath(dev)).string(), s_.XsksMapPin());
  EXPECT_EQ(PinnedMapId(DpMapPath(dev)), PinnedMapId(s_.XsksMapPin()));
  // Someone else's file at the path: refused without --force, the attach unchanged.
  ASSERT_EQ(s_.Loader({"detach", dev}).status, 0);
  std::filesystem::create_directories(DpIfaceDir(dev));
  std::ofstream(DpMapPath(dev)) << "not a map";
  testing::CmdResult r =
      s_.Loader({"attach", dev, "--match", "udp:4791", "--no-probes", "--dp-pin"});
  EXPECT_EQ(r.status, static_cast<int>(ExitCode::kForeignProgram)) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  EXPECT_EQ(s_.XdpProgId(), 0u) << "a refused attach attached";
  r = s_.Loader({"attach", dev, "--match", "udp:4791", "--no-probes", "--dp-pin", "--force"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(std::filesystem::read_symlink(DpMapPath(dev)).string(), s_.XsksMapPin());
}

// --------------------------------------------------------------------- DPDK

// The Debian 13 root with dpdk-testpmd, built once (selftests/interop/mkdpdk).
std::optional<std::string> DpdkRoot(std::string* why) {
  static std::optional<std::string> root;
  static std::string reason;
  static bool tried = false;
  if (!tried) {
    tried = true;
    testing::CmdResult r =
        testing::RunCmd({std::string(testing::SourceDir()) + "/selftests/interop/mkdpdk"});
    std::string out = r.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    std::string last = out.substr(out.find_last_of('\n') + 1);
    if (r.status == 0 && std::filesystem::exists(last + "/usr/bin/dpdk-testpmd"))
      root = last;
    else
      reason = "no Debian 13 DPDK chroot (selftests/interop/mkdpdk: " + out + ")";
  }
  *why = reason;
  return root;
}

// Runs dpdk-testpmd (rxonly) on dev_a queue 0 with `mode` (the af_xdp
// options after queue_count), N matching and M other frames from b, and
// checks testpmd's, xskit's and the stack's counts and that xskit stays.
void RunTestpmd(testing::SteeredPair& s, uint32_t prog_id, const std::string& root,
                const std::string& mode, Process* server = nullptr) {
  constexpr uint64_t kMatching = 500, kOther = 100;
  auto& pair = s.pair();
  std::filesystem::create_directories(kDpBaseDir);
  // A private mount namespace: the binds vanish with testpmd, also when it
  // or the test dies. sysfs is mounted afresh so it shows namespace a.
  const std::string script =
      "set -e; r=$1; shift; "
      "mount -t sysfs sysfs \"$r/sys\"; mount --bind /sys/fs/bpf \"$r/sys/fs/bpf\"; "
      "mount --rbind /proc \"$r/proc\"; mount --rbind /dev \"$r/dev\"; "
      "mount --bind " + std::string(kDpBaseDir) + " \"$r" + kDpBaseDir + "\"; "
      "exec chroot \"$r\" stdbuf -oL dpdk-testpmd \"$@\"";
  const std::string vdev = absl::StrCat("net_af_xdp0,iface=", pair.dev_a(),
                                        ",start_queue=0,queue_count=1,", mode);
  Process pmd({"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", root,
               "--no-pci", "--no-huge", "-m", "512", "-l", "0-1", "--file-prefix",
               absl::StrCat("xskit", ::getpid()), "--vdev", vdev, "--", "--forward-mode=rxonly",
               "--nb-cores=1", "--total-num-mbufs=8192", "--stats-period=1"},
              pair.ns_a());
  ASSERT_TRUE(s.WaitSocket(true, 90s)) << "testpmd put no socket into xskit's XSKMAP: "
                                       << pmd.output();
  // Forwarding starts after the socket is in the map, with a flush of the
  // Rx queues that testpmd's forward statistics do not count: send only once
  // the first periodic statistics (printed after the start) are out.
  ASSERT_TRUE(pmd.WaitForOutput("Port statistics", 60s)) << pmd.output();
  testing::UdpSink stack(pair.ns_a(), 9999);
  auto frames = testing::UdpFrames(pair, kMatching, 4791);
  auto other = testing::UdpFrames(pair, kOther, 9999);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair.ns_b(), pair.dev_b(), frames);
  EXPECT_EQ(s.WaitCounter("redirected", kMatching), kMatching);
  EXPECT_EQ(stack.Drain(), kOther) << "kernel stack (UDP :9999)";
  const std::string want = absl::StrCat("RX-packets: ", kMatching);
  EXPECT_TRUE(pmd.WaitForOutput(want, 30s)) << pmd.output();
  pmd.Signal(SIGINT);
  EXPECT_EQ(pmd.Wait(60s), 0) << pmd.output();
  // The last word: the accumulated statistics testpmd prints on exit.
  const std::string out = pmd.output();
  auto pos = out.rfind("RX-packets:");
  ASSERT_NE(pos, std::string::npos) << out;
  EXPECT_EQ(std::stoull(out.substr(pos + 11)), kMatching) << out.substr(pos, 300);

  EXPECT_EQ(s.Counter("redirected"), kMatching);
  EXPECT_EQ(s.Counter("pass_no_match"), kOther);
  EXPECT_EQ(s.Counter("redirect_failed"), 0u);
  // testpmd tried to detach "its" program on close; xskit's bpf_link stays.
  EXPECT_EQ(s.XdpProgId(), prog_id) << "xskit's program is gone after testpmd: " << out;
  EXPECT_TRUE(s.Status()["interfaces"][0]["attached"].get<bool>());
  EXPECT_TRUE(s.WaitSocket(false, 5s)) << "testpmd's socket stayed in the XSKMAP";
  if (server) {
    EXPECT_NE(server->output().find("handed the XSKMAP of " + pair.dev_a()), std::string::npos)
        << server->output();
  }
}

TEST_F(InteropTest, TestpmdUsePinnedMapWithXskitsPin) {
  std::string why;
  auto root = DpdkRoot(&why);
  if (!root) XSKIT_SKIP(why);
  RunTestpmd(s_, prog_id_, *root, "use_pinned_map=1,dp_path=" + s_.XsksMapPin());
}

TEST_F(InteropTest, TestpmdUsePinnedMapAtTheDefaultPath) {
  std::string why;
  auto root = DpdkRoot(&why);
  if (!root) XSKIT_SKIP(why);
  // No dp_path: DPDK takes /tmp/afxdp_dp/<iface>/xsks_map, attach --dp-pin's link.
  RunTestpmd(s_, prog_id_, *root, "use_pinned_map=1");
}

TEST_F(InteropTest, TestpmdUseCniWithXskLoaderServe) {
  std::string why;
  auto root = DpdkRoot(&why);
  if (!root) XSKIT_SKIP(why);
  StartServer("allow:\n  uids: [0]\n");
  // No dp_path: DPDK connects to /tmp/afxdp_dp/<iface>/afxdp.sock.
  RunTestpmd(s_, prog_id_, *root, "use_cni=1", server_.get());
}

}  // namespace
}  // namespace xskit
