// The AF_XDP device plugin's handshake, served for interfaces xskit has
// attached, so that DPDK's af_xdp PMD (use_cni=1, 23.03+) and CNDP get
// xskit's XSKMAP without a Kubernetes device plugin. One exchange per Rx
// queue, each on a new SOCK_SEQPACKET connection:
//   /connect,<hostname>  -> /host_ok          (/host_nak: peer not allowed)
//   /version             -> 0.1
//   /xsk_map_fd,<iface>  -> /fd_ack + the map fd in SCM_RIGHTS
//                           (/fd_nak: an interface this socket does not serve)
//   /fin                 -> /fin_ack, and the server closes the connection
//   anything else        -> /nak (also any request before /connect)
//   /config_busy_poll,.. -> /config_busy_poll_nak (CNDP; not offered: it
//                           needs CAP_NET_ADMIN, which the server has dropped)
//
// Whoever holds the map fd can steer the interface's traffic to any socket,
// so every connection's SO_PEERCRED uid/gid is checked against an allow list;
// refusals are answered with the protocol's nak (never an fd) and logged with
// the peer's pid, uid and gid. The server opens the map fds and binds its
// sockets at start and then drops every capability (it only passes on an fd
// it holds). A silent client costs one slot until its timeout; it never
// blocks the others (one poll loop, non-blocking sockets).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/fd.h"

namespace xskit {

struct ServeConfig {
  std::set<uid_t> allow_uids;  // a peer whose uid or gid is listed is allowed
  std::set<gid_t> allow_gids;
  int timeout_ms = 5000;       // a connection idle this long is closed
  int max_connections = 64;    // beyond this, new connections are closed at once
};

// Reads a YAML config:
//   allow:
//     uids: [0, 1000]
//     gids: [2000]
//   timeout_ms: 5000
//   max_connections: 64
// ExitCode::kUsage naming the file and the key on any error.
absl::StatusOr<ServeConfig> LoadServeConfig(const std::string& path);

struct ServeOptions {
  std::vector<std::string> ifaces;          // attached interfaces to serve
  std::optional<std::string> pin_root;
  std::vector<std::string> extra_sockets;   // each serves every interface (e.g. /tmp/afxdp.sock)
  bool per_iface_sockets = true;            // /tmp/afxdp_dp/<iface>/afxdp.sock
  std::optional<std::string> user;          // switch to this user after opening
  ServeConfig config;
};

class DpServer {
 public:
  // Opens each interface's pinned XSKMAP (ExitCode::kNotAttached when
  // xskit is not attached there) and binds the sockets (mode 0666: the
  // allow list is the gate). A live server on a path is an error; a stale
  // socket file is replaced.
  static absl::StatusOr<std::unique_ptr<DpServer>> Open(const ServeOptions& opts);
  ~DpServer();  // closes and unlinks the sockets
  DpServer(const DpServer&) = delete;
  DpServer& operator=(const DpServer&) = delete;

  // Drops every capability (and the user, with ServeOptions::user).
  absl::Status DropPrivileges();

  // Serves until SIGTERM or SIGINT (blocked here and taken by signalfd).
  absl::Status Run();

  std::vector<std::string> socket_paths() const;

 private:
  struct Listener {
    std::string path;
    Fd fd;
    std::vector<std::string> ifaces;  // what /xsk_map_fd may ask for here
  };
  struct Conn;
  DpServer() = default;
  void Accept(const Listener& l);
  // Handles one request; false when the connection is to be closed.
  bool Handle(Conn& c);

  ServeOptions opts_;
  std::map<std::string, Fd> maps_;  // iface -> its XSKMAP fd
  std::vector<Listener> listeners_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace xskit
