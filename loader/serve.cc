#include "loader/serve.h"

#include "lib/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/afxdp_dp.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/pins.h"
#include "lib/xsk_steer_prog.h"
#include "yaml-cpp/yaml.h"

namespace xskit {
namespace {

using Clock = std::chrono::steady_clock;

// The protocol's words (DPDK drivers/net/af_xdp/rte_eth_af_xdp.c, the AF_XDP
// device plugin's uds server).
constexpr const char* kConnect = "/connect";
constexpr const char* kHostOk = "/host_ok";
constexpr const char* kHostNak = "/host_nak";
constexpr const char* kVersion = "/version";
constexpr const char* kVersionAnswer = "0.1";
constexpr const char* kXskMapFd = "/xsk_map_fd";
constexpr const char* kFdAck = "/fd_ack";
constexpr const char* kFdNak = "/fd_nak";
constexpr const char* kBusyPoll = "/config_busy_poll";
constexpr const char* kBusyPollNak = "/config_busy_poll_nak";
constexpr const char* kFin = "/fin";
constexpr const char* kFinAck = "/fin_ack";
constexpr const char* kNak = "/nak";
constexpr size_t kMaxRequest = 128;  // DPDK's UDS_MAX_CMD_RESP

// Sends one message, with `fd` attached when >= 0.
bool SendMsg(int sock, const char* text, int fd = -1) {
  iovec iov{const_cast<char*>(text), std::strlen(text)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
}

// Binds a SOCK_SEQPACKET listener at `path`, replacing a stale socket file
// but never a live server's.
absl::StatusOr<Fd> Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return Error(ExitCode::kUsage, absl::StrCat("socket path too long: ", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return ErrnoError("socket(AF_UNIX, SOCK_SEQPACKET)", errno);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Error(ExitCode::kUsage, absl::StrCat(path, " exists and is not a socket"));
    Fd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
      return Error(ExitCode::kUsage,
                   absl::StrCat("another server is answering on ", path, " (stop it first)"));
    ::unlink(path.c_str());
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return ErrnoError(absl::StrCat("bind ", path), errno);
  // Any local user may connect; SO_PEERCRED and the allow list decide.
  if (::chmod(path.c_str(), 0666) != 0) return ErrnoError(absl::StrCat("chmod ", path), errno);
  if (::listen(fd.get(), 64) != 0) return ErrnoError(absl::StrCat("listen ", path), errno);
  return fd;
}

template <typename T>
absl::StatusOr<T> YamlAs(const YAML::Node& node, const std::string& file, const char* key) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception& e) {
    return Error(ExitCode::kUsage, absl::StrCat(file, ": ", key, ": ", e.what()));
  }
}

}  // namespace

struct DpServer::Conn {
  Fd fd;
  const Listener* listener = nullptr;
  ucred peer{};
  bool allowed = false;
  bool connected = false;  // /connect answered with /host_ok
  Clock::time_point deadline;
};

absl::StatusOr<ServeConfig> LoadServeConfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Error(ExitCode::kUsage, absl::StrCat("config ", path, ": ", e.what()));
  }
  ServeConfig cfg;
  if (!root.IsMap() && !root.IsNull())
    return Error(ExitCode::kUsage, absl::StrCat("config ", path, ": expected a mapping"));
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (key == "allow") {
      for (const auto& a : kv.second) {
        const std::string what = a.first.as<std::string>("");
        if (what != "uids" && what != "gids")
          return Error(ExitCode::kUsage,
                       absl::StrCat("config ", path, ": allow.", what, ": unknown (uids, gids)"));
        XSKIT_ASSIGN_OR_RETURN(auto ids, YamlAs<std::vector<uint32_t>>(
                                             a.second, path, what == "uids" ? "allow.uids"
                                                                            : "allow.gids"));
        for (uint32_t id : ids) (what == "uids" ? cfg.allow_uids : cfg.allow_gids).insert(id);
      }
    } else if (key == "timeout_ms") {
      XSKIT_ASSIGN_OR_RETURN(cfg.timeout_ms, YamlAs<int>(kv.second, path, "timeout_ms"));
    } else if (key == "max_connections") {
      XSKIT_ASSIGN_OR_RETURN(cfg.max_connections, YamlAs<int>(kv.second, path, "max_connections"));
    } else {
      return Error(ExitCode::kUsage,
                   absl::StrCat("config ", path, ": unknown key '", key,
                                "' (allow, timeout_ms, max_connections)"));
    }
  }
  if (cfg.timeout_ms <= 0 || cfg.max_connections <= 0)
    return Error(ExitCode::kUsage,
                 absl::StrCat("config ", path, ": timeout_ms and max_connections must be > 0"));
  return cfg;
}

absl::StatusOr<std::unique_ptr<DpServer>> DpServer::Open(const ServeOptions& opts) {
  std::unique_ptr<DpServer> s(new DpServer());
  s->opts_ = opts;
  if (opts.ifaces.empty()) return Error(ExitCode::kUsage, "name at least one interface to serve");
  XSKIT_ASSIGN_OR_RETURN(PinLayout pins, PinLayout::Resolve(opts.pin_root));
  XSKIT_ASSIGN_OR_RETURN(NetnsId netns, CurrentNetns());
  for (const auto& ifname : opts.ifaces) {
    auto pinned = PinnedSteer::Open(pins.IfaceDir(IfaceDirName(netns, ifname)));
    if (!pinned.ok())
      return Error(ExitCode::kNotAttached,
                   absl::StrCat("xskit is not attached to ", ifname,
                                netns.initial ? "" : absl::StrCat(" in netns ", netns.name),
                                ": run `xsk-loader attach ", ifname, "` first (",
                                pinned.status().message(), ")"));
    Fd map(::fcntl(pinned->xsks_map_fd(), F_DUPFD_CLOEXEC, 3));
    if (!map.valid()) return ErrnoError("dup xsks_map fd", errno);
    s->maps_[ifname] = std::move(map);
  }
  if (opts.per_iface_sockets) {
    for (const auto& ifname : opts.ifaces) {
      XSKIT_RETURN_IF_ERROR(MakeDpIfaceDir(ifname));
      Listener l;
      l.path = DpSocketPath(ifname);
      XSKIT_ASSIGN_OR_RETURN(l.fd, Listen(l.path));
      l.ifaces = {ifname};
      s->listeners_.push_back(std::move(l));
    }
  }
  for (const auto& path : opts.extra_sockets) {
    Listener l;
    l.path = path;
    XSKIT_ASSIGN_OR_RETURN(l.fd, Listen(path));
    l.ifaces = opts.ifaces;
    s->listeners_.push_back(std::move(l));
  }
  if (s->listeners_.empty()) return Error(ExitCode::kUsage, "no socket to serve on");
  return s;
}

DpServer::~DpServer() {
  for (auto& l : listeners_) {
    l.fd.reset();
    ::unlink(l.path.c_str());
  }
  // The per-interface directory goes when nothing else (a --dp-pin link) is in it.
  if (opts_.per_iface_sockets)
    for (const auto& ifname : opts_.ifaces) ::rmdir(DpIfaceDir(ifname).c_str());
}

std::vector<std::string> DpServer::socket_paths() const {
  std::vector<std::string> out;
  for (const auto& l : listeners_) out.push_back(l.path);
  return out;
}

absl::Status DpServer::DropPrivileges() {
  // Nothing is needed any more: the fds are open, the sockets bound.
  return xskit::DropPrivileges({.keep_cap_bpf = false, .user = opts_.user});
}

void DpServer::Accept(const Listener& l) {
  for (;;) {
    Fd fd(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) return;  // EAGAIN: accepted everything pending
    auto c = std::make_unique<Conn>();
    socklen_t len = sizeof(c->peer);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &c->peer, &len) != 0) {
      spdlog::warn("{}: no peer credentials ({}); closed", l.path, std::strerror(errno));
      continue;
    }
    if (conns_.size() >= static_cast<size_t>(opts_.config.max_connections)) {
      spdlog::warn("{}: refused pid {} uid {} gid {}: {} connections open (max_connections)",
                   l.path, c->peer.pid, c->peer.uid, c->peer.gid, conns_.size());
      continue;
    }
    c->fd = std::move(fd);
    c->listener = &l;
    c->allowed = opts_.config.allow_uids.count(c->peer.uid) ||
                 opts_.config.allow_gids.count(c->peer.gid);
    c->deadline = Clock::now() + std::chrono::milliseconds(opts_.config.timeout_ms);
    conns_.push_back(std::move(c));
  }
}

bool DpServer::Handle(Conn& c) {
  char buf[kMaxRequest + 1];
  iovec iov{buf, kMaxRequest};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(c.fd.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;  // the peer closed
  // An fd the peer attached (CNDP's busy-poll request carries its socket)
  // is never kept.
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        ::close(fd);
      }
  std::string req(buf, static_cast<size_t>(n));
  while (!req.empty() && (req.back() == '\0' || req.back() == '\n')) req.pop_back();
  c.deadline = Clock::now() + std::chrono::milliseconds(opts_.config.timeout_ms);
  const std::string who = absl::StrCat("pid ", c.peer.pid, " uid ", c.peer.uid, " gid ", c.peer.gid);
  const std::string& path = c.listener->path;
  auto cmd_is = [&](const char* word) {
    return req == word || absl::StartsWith(req, absl::StrCat(word, ","));
  };

  if (!c.allowed) {
    spdlog::warn("{}: refused {}: not on the allow list (request '{}')", path, who, req);
    SendMsg(c.fd.get(), cmd_is(kConnect) ? kHostNak : kNak);
    return false;
  }
  if (cmd_is(kConnect)) {
    std::string host = req.size() > std::strlen(kConnect) + 1 ? req.substr(std::strlen(kConnect) + 1) : "";
    if (host.empty()) {
      spdlog::warn("{}: {} sent /connect without a host name", path, who);
      SendMsg(c.fd.get(), kHostNak);
      return false;
    }
    c.connected = true;
    spdlog::info("{}: {} connected as host '{}'", path, who, host);
    return SendMsg(c.fd.get(), kHostOk);
  }
  if (!c.connected) {
    spdlog::warn("{}: {} sent '{}' before /connect", path, who, req);
    return SendMsg(c.fd.get(), kNak);
  }
  if (req == kVersion) return SendMsg(c.fd.get(), kVersionAnswer);
  if (cmd_is(kXskMapFd)) {
    std::string ifname = req.substr(std::min(req.size(), std::strlen(kXskMapFd) + 1));
    bool served = false;
    for (const auto& i : c.listener->ifaces) served = served || i == ifname;
    auto it = maps_.find(ifname);
    if (!served || it == maps_.end()) {
      spdlog::warn("{}: {} asked for '{}', which this socket does not serve ({})", path, who,
                   ifname, absl::StrJoin(c.listener->ifaces, ","));
      return SendMsg(c.fd.get(), kFdNak);
    }
    spdlog::info("{}: handed the XSKMAP of {} to {}", path, ifname, who);
    return SendMsg(c.fd.get(), kFdAck, it->second.get());
  }
  if (cmd_is(kBusyPoll)) {
    spdlog::warn("{}: {} asked for busy-poll configuration, which xskit does not offer", path, who);
    return SendMsg(c.fd.get(), kBusyPollNak);
  }
  if (req == kFin) {
    SendMsg(c.fd.get(), kFinAck);
    return false;
  }
  spdlog::warn("{}: {} sent a malformed request '{}'", path, who, req.substr(0, 64));
  return SendMsg(c.fd.get(), kNak);
}

absl::Status DpServer::Run() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return ErrnoError("sigprocmask", errno);
  Fd sig(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sig.valid()) return ErrnoError("signalfd", errno);

  for (;;) {
    std::vector<pollfd> pfds;
    pfds.push_back({sig.get(), POLLIN, 0});
    for (const auto& l : listeners_) pfds.push_back({l.fd.get(), POLLIN, 0});
    const size_t first_conn = pfds.size();
    auto now = Clock::now();
    int timeout = -1;
    for (const auto& c : conns_) {
      pfds.push_back({c->fd.get(), POLLIN, 0});
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - now).count();
      int ms = static_cast<int>(std::max<int64_t>(left, 0)) + 1;
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    if (::poll(pfds.data(), pfds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("poll", errno);
    }
    if (pfds[0].revents) {
      signalfd_siginfo si{};
      (void)!::read(sig.get(), &si, sizeof(si));
      spdlog::info("signal {}: stopping", si.ssi_signo);
      return absl::OkStatus();
    }
    // Requests first (on the connections polled), then timeouts, then new
    // connections: conns_ only grows after the indices are used.
    now = Clock::now();
    std::vector<std::unique_ptr<Conn>> keep;
    for (size_t i = 0; i < conns_.size(); i++) {
      Conn& c = *conns_[i];
      bool open = true;
      if (pfds[first_conn + i].revents & (POLLIN | POLLHUP | POLLERR)) open = Handle(c);
      if (open && Clock::now() >= c.deadline) {
        spdlog::warn("{}: pid {} uid {}: no request for {} ms; closed", c.listener->path,
                     c.peer.pid, c.peer.uid, opts_.config.timeout_ms);
        open = false;
      }
      if (open) keep.push_back(std::move(conns_[i]));
    }
    conns_ = std::move(keep);
    for (size_t i = 0; i < listeners_.size(); i++)
      if (pfds[1 + i].revents & POLLIN) Accept(listeners_[i]);
  }
}

}  // namespace xskit
