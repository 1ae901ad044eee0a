#include "lib/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"

namespace xskit {
namespace {

// netdev genetlink family (uapi/linux/netdev.h).
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;
constexpr uint16_t kNetdevAttrXdpZcMaxSegs = 4;
constexpr uint16_t kNetdevAttrXskFeatures = 6;

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlCloser>;

absl::StatusOr<MnlSocket> OpenNetlink(int bus) {
  MnlSocket nl(mnl_socket_open(bus));
  if (!nl) return ErrnoError("mnl_socket_open", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return ErrnoError("mnl_socket_bind", errno);
  return nl;
}

// Sends one request and runs `cb` over every reply message. Returns the
// netlink error (negative errno) or 0.
int Transact(mnl_socket* nl, nlmsghdr* req, mnl_cb_t cb, void* data) {
  uint32_t portid = mnl_socket_get_portid(nl);
  if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) return -errno;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  while (true) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return -errno;
    int ret = mnl_cb_run(buf.data(), n, req->nlmsg_seq, portid, cb, data);
    if (ret < 0) return -errno;
    if (ret == MNL_CB_STOP) return 0;
  }
}

int LinkXdpAttr(const nlattr* attr, void* data) {
  auto* link = static_cast<LinkState*>(data);
  switch (mnl_attr_get_type(attr)) {
    case IFLA_XDP_ATTACHED: link->xdp_attached = mnl_attr_get_u8(attr); break;
    case IFLA_XDP_PROG_ID: link->xdp_prog_id = mnl_attr_get_u32(attr); break;
    case IFLA_XDP_SKB_PROG_ID: link->xdp_skb_prog_id = mnl_attr_get_u32(attr); break;
    case IFLA_XDP_DRV_PROG_ID: link->xdp_drv_prog_id = mnl_attr_get_u32(attr); break;
  }
  return MNL_CB_OK;
}

int LinkAttr(const nlattr* attr, void* data) {
  auto* link = static_cast<LinkState*>(data);
  switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME: link->ifname = mnl_attr_get_str(attr); break;
    case IFLA_MTU: link->mtu = mnl_attr_get_u32(attr); break;
    case IFLA_NUM_RX_QUEUES: link->num_rx_queues = mnl_attr_get_u32(attr); break;
    case IFLA_NUM_TX_QUEUES: link->num_tx_queues = mnl_attr_get_u32(attr); break;
    case IFLA_LINK: link->link_ifindex = static_cast<int>(mnl_attr_get_u32(attr)); break;
    case IFLA_XDP: mnl_attr_parse_nested(attr, LinkXdpAttr, data); break;
  }
  return MNL_CB_OK;
}

int LinkMsg(const nlmsghdr* nlh, void* data) {
  auto* link = static_cast<LinkState*>(data);
  auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  link->ifindex = ifm->ifi_index;
  link->up = ifm->ifi_flags & IFF_UP;
  mnl_attr_parse(nlh, sizeof(*ifm), LinkAttr, data);
  return MNL_CB_OK;
}

struct FamilyQuery {
  uint16_t id = 0;
};

int FamilyAttr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID)
    static_cast<FamilyQuery*>(data)->id = mnl_attr_get_u16(attr);
  return MNL_CB_OK;
}

int FamilyMsg(const nlmsghdr* nlh, void* data) {
  mnl_attr_parse(nlh, sizeof(genlmsghdr), FamilyAttr, data);
  return MNL_CB_OK;
}

int NetdevAttr(const nlattr* attr, void* data) {
  auto* f = static_cast<NetdevXdpFeatures*>(data);
  switch (mnl_attr_get_type(attr)) {
    case kNetdevAttrXdpFeatures: f->xdp_features = mnl_attr_get_u64(attr); break;
    case kNetdevAttrXdpZcMaxSegs:
      f->zc_max_segs = mnl_attr_get_u32(attr);
      f->has_zc_max_segs = true;
      break;
    case kNetdevAttrXskFeatures:
      f->xsk_features = mnl_attr_get_u64(attr);
      f->has_xsk_features = true;
      break;
  }
  return MNL_CB_OK;
}

int NetdevMsg(const nlmsghdr* nlh, void* data) {
  mnl_attr_parse(nlh, sizeof(genlmsghdr), NetdevAttr, data);
  return MNL_CB_OK;
}

nlmsghdr* GenlRequest(char* buf, uint16_t family, uint8_t cmd) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = family;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  genl->cmd = cmd;
  genl->version = 1;
  return nlh;
}

}  // namespace

absl::StatusOr<LinkState> GetLink(absl::string_view ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    return Error(ExitCode::kNoSuchInterface,
                 absl::StrCat("no such interface: '", ifname, "' (names are 1-",
                              IFNAMSIZ - 1, " characters; `ip link` lists them)"));
  XSKIT_ASSIGN_OR_RETURN(MnlSocket nl, OpenNetlink(NETLINK_ROUTE));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(ifname).c_str());
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  LinkState link;
  int err = Transact(nl.get(), nlh, LinkMsg, &link);
  if (err == -ENODEV || (err == 0 && link.ifindex == 0))
    return Error(ExitCode::kNoSuchInterface,
                 absl::StrCat("no such interface: ", ifname,
                              " in this network namespace (`ip link` lists them)"));
  if (err < 0) return ErrnoError(absl::StrCat("RTM_GETLINK ", ifname), err);
  return link;
}

absl::StatusOr<std::optional<NetdevXdpFeatures>> GetNetdevXdpFeatures(int ifindex) {
  XSKIT_ASSIGN_OR_RETURN(MnlSocket nl, OpenNetlink(NETLINK_GENERIC));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = GenlRequest(buf.data(), GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "netdev");
  FamilyQuery family;
  int err = Transact(nl.get(), nlh, FamilyMsg, &family);
  if (err == -ENOENT || family.id == 0) return std::optional<NetdevXdpFeatures>();
  if (err < 0) return ErrnoError("CTRL_CMD_GETFAMILY netdev", err);

  nlh = GenlRequest(buf.data(), family.id, kNetdevCmdDevGet);
  mnl_attr_put_u32(nlh, kNetdevAttrIfindex, static_cast<uint32_t>(ifindex));
  NetdevXdpFeatures features;
  err = Transact(nl.get(), nlh, NetdevMsg, &features);
  if (err < 0) return ErrnoError(absl::StrCat("netdev dev-get ifindex=", ifindex), err);
  return std::optional<NetdevXdpFeatures>(features);
}

}  // namespace xskit
