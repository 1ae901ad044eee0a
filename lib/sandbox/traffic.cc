#include "lib/sandbox/traffic.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "lib/sandbox/run.h"

namespace xskit::sandbox {

absl::Status SendFrames(const std::string& netns, const std::string& dev,
                        const std::vector<std::vector<uint8_t>>& frames) {
  return InNetns(netns, [&]() -> absl::Status {
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoError("socket(AF_PACKET)", errno);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    sll.sll_halen = ETH_ALEN;
    for (const auto& f : frames) {
      std::copy(f.begin(), f.begin() + 6, sll.sll_addr);
      if (::sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) !=
          static_cast<ssize_t>(f.size())) {
        absl::Status s = ErrnoError(absl::StrCat("AF_PACKET sendto on ", dev), errno);
        ::close(fd);
        return s;
      }
    }
    ::close(fd);
    return absl::OkStatus();
  });
}

absl::StatusOr<UdpSink> UdpSink::Open(const std::string& netns, uint16_t port) {
  UdpSink sink;
  XSKIT_RETURN_IF_ERROR(InNetns(netns, [&]() -> absl::Status {
    sink.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sink.fd_ < 0) return ErrnoError("socket(AF_INET, SOCK_DGRAM)", errno);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    int big = 4 << 20;
    ::setsockopt(sink.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    if (::bind(sink.fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
      return ErrnoError(absl::StrCat("bind(UDP 0.0.0.0:", port, ") in netns ", netns), errno);
    return absl::OkStatus();
  }));
  return sink;
}

UdpSink::~UdpSink() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t UdpSink::Drain(int settle_ms) {
  char buf[2048];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n >= 0) {
      received_++;
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, settle_ms) <= 0) break;
  }
  return received_;
}

}  // namespace xskit::sandbox
