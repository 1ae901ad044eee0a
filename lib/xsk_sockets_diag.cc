// The second source of the AF_XDP socket inventory: NETLINK_SOCK_DIAG for
// AF_XDP (linux/xdp_diag.h; CONFIG_XDP_SOCKETS_DIAG, Debian's module
// xsk_diag), through libmnl. sock_diag answers for one network namespace
// at a time, so every namespace is visited on a thread of its own (setns):
// PID 1's, those under /run/netns and those of running processes,
// deduplicated by inode. It names no owner: owners come from /proc/*/fd.
#include <dirent.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/xdp_diag.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/xsk_sockets_prog.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace xskit {
namespace {

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

void CopyName(char* dst, size_t n, const std::string& src) {
  std::memset(dst, 0, n);
  std::memcpy(dst, src.data(), std::min(n - 1, src.size()));
}

int OnAttr(const nlattr* attr, void* data) {
  auto* tb = static_cast<const nlattr**>(data);
  int type = mnl_attr_get_type(attr);
  if (type > 0 && type <= XDP_DIAG_MAX) tb[type] = attr;
  return MNL_CB_OK;
}

struct DumpState {
  uint64_t netns_inode = 0;
  std::vector<xsk_socket_rec>* out = nullptr;
};

int OnMessage(const nlmsghdr* nlh, void* data) {
  auto* st = static_cast<DumpState*>(data);
  const auto* msg = static_cast<const xdp_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  if (msg->xdiag_family != AF_XDP) return MNL_CB_OK;
  const nlattr* tb[XDP_DIAG_MAX + 1] = {};
  mnl_attr_parse(nlh, sizeof(*msg), OnAttr, tb);
  xsk_socket_rec r{};
  r.version = XSK_SOCKETS_VERSION;
  r.inode = msg->xdiag_ino;
  r.netns_inode = st->netns_inode;
  if (tb[XDP_DIAG_INFO]) {
    const auto* i = static_cast<const xdp_diag_info*>(mnl_attr_get_payload(tb[XDP_DIAG_INFO]));
    r.ifindex = i->ifindex;
    r.queue = i->queue_id;
    char name[IF_NAMESIZE] = {};
    // The kernel reports the device only while the socket is bound to it.
    if (r.ifindex && if_indextoname(r.ifindex, name)) {
      CopyName(r.ifname, sizeof(r.ifname), name);
      r.flags |= XSK_SOCKET_F_BOUND;
    }
  }
  if (tb[XDP_DIAG_UID]) r.uid = mnl_attr_get_u32(tb[XDP_DIAG_UID]);
  auto ring = [&](int type) -> uint32_t {
    return tb[type] ? static_cast<const xdp_diag_ring*>(mnl_attr_get_payload(tb[type]))->entries
                    : 0;
  };
  r.rx_ring = ring(XDP_DIAG_RX_RING);
  r.tx_ring = ring(XDP_DIAG_TX_RING);
  r.fill_ring = ring(XDP_DIAG_UMEM_FILL_RING);
  r.comp_ring = ring(XDP_DIAG_UMEM_COMPLETION_RING);
  if (tb[XDP_DIAG_UMEM]) {
    const auto* u = static_cast<const xdp_diag_umem*>(mnl_attr_get_payload(tb[XDP_DIAG_UMEM]));
    r.umem_id = u->id;
    r.umem_size = u->size;
    r.chunk_size = u->chunk_size;
    r.headroom = u->headroom;
    if (u->flags & XDP_DU_F_ZEROCOPY) r.flags |= XSK_SOCKET_F_ZEROCOPY;
  }
  if (tb[XDP_DIAG_STATS]) {
    const auto* s = static_cast<const xdp_diag_stats*>(mnl_attr_get_payload(tb[XDP_DIAG_STATS]));
    r.counters = {s->n_rx_dropped, s->n_rx_invalid, s->n_rx_full,
                  s->n_fill_ring_empty, s->n_tx_invalid, s->n_tx_ring_empty};
  }
  st->out->push_back(r);
  return MNL_CB_OK;
}

// One AF_XDP dump in the caller's (thread's) namespace.
absl::Status DumpHere(uint64_t netns_inode, std::vector<xsk_socket_rec>& out) {
  std::unique_ptr<mnl_socket, MnlCloser> nl(mnl_socket_open(NETLINK_SOCK_DIAG));
  if (!nl) return ErrnoError("mnl_socket_open(NETLINK_SOCK_DIAG)", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return ErrnoError("bind NETLINK_SOCK_DIAG", errno);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* req = static_cast<xdp_diag_req*>(mnl_nlmsg_put_extra_header(nlh, sizeof(xdp_diag_req)));
  req->sdiag_family = AF_XDP;
  req->xdiag_show = XDP_SHOW_INFO | XDP_SHOW_RING_CFG | XDP_SHOW_UMEM | XDP_SHOW_STATS;
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0)
    return ErrnoError("send the AF_XDP sock_diag request", errno);
  DumpState st{netns_inode, &out};
  uint32_t portid = mnl_socket_get_portid(nl.get());
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) return ErrnoError("receive the AF_XDP sock_diag dump", errno);
    int ret = mnl_cb_run(buf.data(), n, 1, portid, OnMessage, &st);
    if (ret == MNL_CB_ERROR) {
      int err = errno;
      if (err == ENOENT || err == EOPNOTSUPP || err == EINVAL)
        return absl::UnimplementedError(
            "sock_diag has no AF_XDP handler: kernel without CONFIG_XDP_SOCKETS_DIAG, or module "
            "xsk_diag not loaded (modprobe xsk_diag)");
      return ErrnoError("AF_XDP sock_diag dump", err);
    }
    if (ret == MNL_CB_STOP) break;
  }
  return absl::OkStatus();
}

// Every network namespace: inode -> a path to enter it by.
std::map<uint64_t, std::string> AllNetns() {
  std::map<uint64_t, std::string> out;
  auto add = [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) out.emplace(st.st_ino, path);
  };
  add("/proc/1/ns/net");
  if (DIR* d = ::opendir("/run/netns")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') add(absl::StrCat("/run/netns/", e->d_name));
    ::closedir(d);
  }
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      uint32_t pid = 0;
      if (absl::SimpleAtoi(e->d_name, &pid)) add(absl::StrCat("/proc/", pid, "/ns/net"));
    }
    ::closedir(d);
  }
  return out;
}

// Owners of the sockets in `recs` (by inode) from /proc/*/fd: one record
// per (pid, fd), as the iterator gives them.
std::vector<xsk_socket_rec> WithOwners(const std::vector<xsk_socket_rec>& recs) {
  std::map<uint64_t, const xsk_socket_rec*> by_ino;
  for (const auto& r : recs) by_ino[r.inode] = &r;
  std::vector<xsk_socket_rec> out;
  std::set<uint64_t> owned;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      uint32_t pid = 0;
      if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
      std::string fddir = absl::StrCat("/proc/", pid, "/fd");
      DIR* fds = ::opendir(fddir.c_str());
      if (!fds) continue;
      std::string comm;
      while (dirent* f = ::readdir(fds)) {
        uint32_t fd = 0;
        if (!absl::SimpleAtoi(f->d_name, &fd)) continue;
        char link[64] = {};
        ssize_t n = ::readlink(absl::StrCat(fddir, "/", fd).c_str(), link, sizeof(link) - 1);
        uint64_t ino = 0;
        if (n <= 9 || std::strncmp(link, "socket:[", 8) != 0 ||
            !absl::SimpleAtoi(std::string(link + 8, n - 9), &ino))
          continue;
        auto it = by_ino.find(ino);
        if (it == by_ino.end()) continue;
        if (comm.empty()) {
          std::ifstream in(absl::StrCat("/proc/", pid, "/comm"));
          std::getline(in, comm);
        }
        xsk_socket_rec r = *it->second;
        r.pid = pid;
        r.fd = fd;
        CopyName(r.comm, sizeof(r.comm), comm);
        out.push_back(r);
        owned.insert(ino);
      }
      ::closedir(fds);
    }
    ::closedir(d);
  }
  for (const auto& r : recs)
    if (!owned.count(r.inode)) out.push_back(r);  // no owner visible (pid 0)
  return out;
}

}  // namespace

absl::StatusOr<std::vector<xsk_socket_rec>> SockDiagRecords() {
  std::vector<xsk_socket_rec> recs;
  std::set<uint64_t> seen;  // a socket is dumped by its own namespace only
  for (const auto& [ino, path] : AllNetns()) {
    absl::Status st;
    std::vector<xsk_socket_rec> here;
    std::thread t([&, ino = ino, path = path] {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        st = ErrnoError(absl::StrCat("open ", path), errno);
        return;
      }
      if (::setns(fd, CLONE_NEWNET) != 0) {
        st = ErrnoError(absl::StrCat("setns(", path, ")"), errno);
        ::close(fd);
        return;
      }
      ::close(fd);
      st = DumpHere(ino, here);
    });
    t.join();
    if (absl::IsUnimplemented(st)) return st;
    if (!st.ok()) continue;  // a process's namespace that went away
    for (const auto& r : here)
      if (seen.insert(r.inode).second) recs.push_back(r);
  }
  return WithOwners(recs);
}

}  // namespace xskit
