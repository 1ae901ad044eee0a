#include "lib/xsk_sockets_prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/xsk_steer_prog.h"
#include "xsk_sockets.skel.h"

namespace xskit {
namespace {

std::string CString(const char* s, size_t n) { return std::string(s, strnlen(s, n)); }

// Namespace inode -> the name the pin layout uses: "" for PID 1's, the name
// under /run/netns, else "ns<inode>".
class NetnsNames {
 public:
  NetnsNames() {
    struct stat st;
    if (::stat("/proc/1/ns/net", &st) == 0) initial_ = st.st_ino;
    if (DIR* d = ::opendir("/run/netns")) {
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        if (::stat(absl::StrCat("/run/netns/", e->d_name).c_str(), &st) == 0)
          named_.emplace(st.st_ino, e->d_name);
      }
      ::closedir(d);
    }
  }
  std::string Name(uint64_t inode) const {
    if (inode == initial_) return "";
    if (auto it = named_.find(inode); it != named_.end()) return it->second;
    return absl::StrCat("ns", inode);
  }

 private:
  uint64_t initial_ = 0;
  std::map<uint64_t, std::string> named_;
};

}  // namespace

absl::StatusOr<XskSocketsProg> XskSocketsProg::Load() {
  XskSocketsProg p;
  p.skel_ = xsk_sockets__open();
  if (!p.skel_) return ErrnoError("open xsk_sockets skeleton", errno);
  if (int err = xsk_sockets__load(p.skel_))
    return ErrnoError("load the AF_XDP socket iterator (iter/task_file, kernel 5.8+ with BTF)",
                      err);
  bpf_link* link = bpf_program__attach_iter(p.skel_->progs.xsk_sockets, nullptr);
  if (!link) return ErrnoError("attach the AF_XDP socket iterator", errno);
  // The iterator's link fd is all a pass needs; the bpf_link wrapper is
  // disconnected and freed, the fd kept.
  bpf_link__disconnect(link);
  p.link_fd_ = dup(bpf_link__fd(link));
  bpf_link__destroy(link);
  if (p.link_fd_ < 0) return ErrnoError("dup the iterator link", errno);
  return p;
}

XskSocketsProg::XskSocketsProg(XskSocketsProg&& o) noexcept
    : skel_(std::exchange(o.skel_, nullptr)), link_fd_(std::exchange(o.link_fd_, -1)) {}

XskSocketsProg& XskSocketsProg::operator=(XskSocketsProg&& o) noexcept {
  if (this != &o) {
    this->~XskSocketsProg();
    skel_ = std::exchange(o.skel_, nullptr);
    link_fd_ = std::exchange(o.link_fd_, -1);
  }
  return *this;
}

XskSocketsProg::~XskSocketsProg() {
  if (link_fd_ >= 0) ::close(link_fd_);
  if (skel_) xsk_sockets__destroy(skel_);
  link_fd_ = -1;
  skel_ = nullptr;
}

namespace {

// Reads one iterator instance of `link_fd` to the end, appending its records.
absl::Status ReadIter(int link_fd, std::vector<xsk_socket_rec>& out) {
  Fd iter(bpf_iter_create(link_fd));
  if (!iter.valid()) return ErrnoError("bpf_iter_create(AF_XDP sockets)", errno);
  // bpf_seq_write() puts whole records into the seq_file; a read() may still
  // end mid-record, so bytes are accumulated.
  std::string buf;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(iter.get(), chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read the AF_XDP socket iterator", errno);
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  if (buf.size() % sizeof(xsk_socket_rec) != 0)
    return absl::InternalError(absl::StrCat("AF_XDP socket iterator: ", buf.size(),
                                            " bytes, not a multiple of the record size ",
                                            sizeof(xsk_socket_rec)));
  size_t first = out.size();
  out.resize(first + buf.size() / sizeof(xsk_socket_rec));
  if (!buf.empty()) std::memcpy(&out[first], buf.data(), buf.size());
  for (size_t i = first; i < out.size(); i++)
    if (out[i].version != XSK_SOCKETS_VERSION)
      return absl::InternalError(absl::StrCat("AF_XDP socket record version ", out[i].version,
                                              ", this build reads ", XSK_SOCKETS_VERSION));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<xsk_socket_rec>> XskSocketsProg::ReadRecords() const {
  std::vector<xsk_socket_rec> out;
  XSKIT_RETURN_IF_ERROR(ReadIter(link_fd_, out));
  return out;
}

absl::StatusOr<std::vector<xsk_socket_rec>> XskSocketsProg::ReadRecordsOf(
    const std::vector<uint32_t>& pids) const {
  std::vector<xsk_socket_rec> out;
  for (uint32_t pid : pids) {
    union bpf_iter_link_info linfo;
    std::memset(&linfo, 0, sizeof(linfo));
    linfo.task.pid = pid;
    LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof(linfo));
    bpf_link* link = bpf_program__attach_iter(skel_->progs.xsk_sockets, &opts);
    if (!link) {
      int err = errno;
      if (err == ESRCH || err == ENOENT) continue;  // the process is gone
      if (err == EINVAL || err == E2BIG || err == EOPNOTSUPP)
        return absl::UnimplementedError("no per-process task_file iterator (kernel before 6.1)");
      return ErrnoError(absl::StrCat("attach the AF_XDP socket iterator to pid ", pid), err);
    }
    absl::Status st = ReadIter(bpf_link__fd(link), out);
    bpf_link__destroy(link);
    XSKIT_RETURN_IF_ERROR(st);
  }
  return out;
}

std::vector<AfXdpSocket> MergeSocketRecords(const std::vector<xsk_socket_rec>& recs) {
  NetnsNames names;
  std::map<uint64_t, AfXdpSocket> by_inode;
  for (const auto& r : recs) {
    auto [it, fresh] = by_inode.try_emplace(r.inode);
    AfXdpSocket& s = it->second;
    if (fresh) {
      s.inode = r.inode;
      s.netns_inode = r.netns_inode;
      s.netns = names.Name(r.netns_inode);
      s.ifname = CString(r.ifname, sizeof(r.ifname));
      s.ifindex = r.ifindex;
      s.queue = r.queue;
      s.bound = r.flags & XSK_SOCKET_F_BOUND;
      s.zerocopy = r.flags & XSK_SOCKET_F_ZEROCOPY;
      s.need_wakeup = r.flags & XSK_SOCKET_F_NEED_WAKEUP;
      s.sg = r.flags & XSK_SOCKET_F_SG;
      s.shared_pool = r.flags & XSK_SOCKET_F_SHARED_POOL;
      s.uid = r.uid;
      s.rx_ring = r.rx_ring;
      s.tx_ring = r.tx_ring;
      s.fill_ring = r.fill_ring;
      s.comp_ring = r.comp_ring;
      s.umem_id = r.umem_id;
      s.umem_size = r.umem_size;
      s.chunk_size = r.chunk_size;
      s.headroom = r.headroom;
      s.counters = r.counters;
      for (uint32_t i = 0; i < r.nr_maps && i < XSK_SOCKETS_MAX_MAPS; i++)
        s.maps.push_back({r.map_id[i], r.map_key[i]});
    }
    if (r.pid) s.owners.push_back({r.pid, r.fd, CString(r.comm, sizeof(r.comm))});
  }
  std::vector<AfXdpSocket> out;
  std::map<uint32_t, uint32_t> umem_users;
  for (auto& [ino, s] : by_inode) {
    std::sort(s.owners.begin(), s.owners.end(),
              [](const auto& a, const auto& b) { return std::tie(a.pid, a.fd) < std::tie(b.pid, b.fd); });
    s.owners.erase(std::unique(s.owners.begin(), s.owners.end(),
                               [](const auto& a, const auto& b) { return a.pid == b.pid && a.fd == b.fd; }),
                   s.owners.end());
    if (s.umem_size) umem_users[s.umem_id]++;
    out.push_back(std::move(s));
  }
  for (auto& s : out) s.umem_sockets = s.umem_size ? umem_users[s.umem_id] : 0;
  // Worst first: the socket dropping most, then by place.
  std::sort(out.begin(), out.end(), [](const AfXdpSocket& a, const AfXdpSocket& b) {
    if (a.drops() != b.drops()) return a.drops() > b.drops();
    return std::tie(a.netns, a.ifname, a.queue, a.inode) <
           std::tie(b.netns, b.ifname, b.queue, b.inode);
  });
  return out;
}

std::vector<SteerRef> SteerRefs(const PinLayout& pins) {
  std::vector<SteerRef> out;
  for (const std::string& dir : pins.ListIfaceDirs()) {
    auto pinned = PinnedSteer::Open(pins.IfaceDir(dir));
    if (!pinned.ok()) continue;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(pinned->xsks_map_fd(), &info, &len) != 0) continue;
    out.push_back({dir, pinned->info(), info.id});
  }
  return out;
}

void MarkSteering(const std::vector<SteerRef>& steers, std::vector<AfXdpSocket>& sockets) {
  std::map<std::string, const SteerRef*> by_dir;
  for (const auto& r : steers) by_dir[r.dir] = &r;
  for (auto& s : sockets) {
    if (!s.bound) continue;
    NetnsId ns;
    ns.initial = s.netns.empty();
    ns.name = s.netns;
    ns.inode = s.netns_inode;
    auto it = by_dir.find(IfaceDirName(ns, s.ifname));
    if (it == by_dir.end()) continue;
    s.steer_dir = it->first;
    s.steered_queue = QueueInMask(it->second->info, s.queue);
    for (const auto& m : s.maps)
      if (m.map_id == it->second->xsks_map_id && m.key == s.queue) s.registered = true;
  }
}

absl::StatusOr<XskSocketInventory> TakeSocketInventory(const PinLayout* pins,
                                                       const XskSocketsProg* prog,
                                                       SocketSource source) {
  XskSocketInventory inv;
  absl::Status iter_status = absl::OkStatus();
  if (source != SocketSource::kSockDiag) {
    std::optional<XskSocketsProg> own;
    if (!prog) {
      auto loaded = XskSocketsProg::Load();
      if (loaded.ok()) {
        own.emplace(std::move(*loaded));
        prog = &*own;
      } else {
        iter_status = loaded.status();
      }
    }
    if (prog) {
      auto recs = prog->ReadRecords();
      if (recs.ok()) {
        inv.sockets = MergeSocketRecords(*recs);
        inv.coverage.source = "bpf_iter";
        inv.coverage.sock_diag_reason = "not needed: the BPF iterator sees every namespace in one pass";
        if (pins) MarkSteering(SteerRefs(*pins), inv.sockets);
        return inv;
      }
      iter_status = recs.status();
    }
    if (source == SocketSource::kBpfIter) return iter_status;
  }
  auto recs = SockDiagRecords();
  if (!recs.ok()) {
    if (source == SocketSource::kSockDiag) return recs.status();
    return absl::Status(iter_status.code(),
                        absl::StrCat("BPF iterator: ", iter_status.message(),
                                     "; sock_diag: ", recs.status().message()));
  }
  inv.sockets = MergeSocketRecords(*recs);
  inv.coverage.source = "sock_diag";
  inv.coverage.reason = source == SocketSource::kSockDiag
                            ? "sock_diag asked for"
                            : absl::StrCat("BPF iterator refused: ", iter_status.message());
  if (pins) MarkSteering(SteerRefs(*pins), inv.sockets);
  return inv;
}

nlohmann::json SocketJson(const AfXdpSocket& s) {
  nlohmann::json j;
  j["inode"] = s.inode;
  j["netns"] = s.netns;
  j["netns_inode"] = s.netns_inode;
  j["ifname"] = s.ifname;
  j["ifindex"] = s.ifindex;
  j["queue"] = s.queue;
  j["mode"] = s.mode();
  j["need_wakeup"] = s.need_wakeup;
  j["sg"] = s.sg;
  j["shared_umem_queue"] = s.shared_pool;
  j["uid"] = s.uid;
  j["rings"] = {{"rx", s.rx_ring}, {"tx", s.tx_ring}, {"fill", s.fill_ring},
                {"completion", s.comp_ring}};
  j["umem"] = {{"id", s.umem_id}, {"size", s.umem_size}, {"chunk_size", s.chunk_size},
               {"headroom", s.headroom}, {"sockets", s.umem_sockets}};
  j["counters"] = {{"rx_dropped", s.counters.rx_dropped},
                   {"rx_invalid", s.counters.rx_invalid},
                   {"rx_full", s.counters.rx_full},
                   {"fill_ring_empty", s.counters.fill_ring_empty},
                   {"tx_invalid", s.counters.tx_invalid},
                   {"tx_ring_empty", s.counters.tx_ring_empty}};
  nlohmann::json owners = nlohmann::json::array();
  for (const auto& o : s.owners) owners.push_back({{"pid", o.pid}, {"fd", o.fd}, {"comm", o.comm}});
  j["owners"] = owners;
  nlohmann::json maps = nlohmann::json::array();
  for (const auto& m : s.maps) maps.push_back({{"map_id", m.map_id}, {"key", m.key}});
  j["xskmaps"] = maps;
  j["xskit"] = {{"attachment", s.steer_dir},
                {"steered_queue", s.steered_queue},
                {"registered", s.registered},
                {"unregistered", s.unregistered()}};
  return j;
}

nlohmann::json InventoryJson(const XskSocketInventory& inv) {
  nlohmann::json j;
  j["coverage"] = {{"source", inv.coverage.source},
                   {"reason", inv.coverage.reason},
                   {"sock_diag", inv.coverage.sock_diag_reason}};
  nlohmann::json socks = nlohmann::json::array();
  for (const auto& s : inv.sockets) socks.push_back(SocketJson(s));
  j["sockets"] = socks;
  return j;
}

}  // namespace xskit
