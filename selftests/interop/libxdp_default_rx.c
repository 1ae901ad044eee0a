// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A receiver written the way a third-party AF_XDP tool is: libxdp calls
 * only, default configuration everywhere (xsk_umem__create and
 * xsk_socket__create with a NULL config: no INHIBIT_PROG_LOAD, no bind or
 * XDP flags). It knows nothing of xskit. The interop tests run it on an
 * interface where `xsk-loader attach` is in place.
 *
 *   libxdp_default_rx IFACE QUEUE PORT
 *
 * Prints "ready" once its socket is created (or "error: ..." and exits 1),
 * counts frames until stdin reaches end of file, then drains the Rx ring,
 * deletes socket and umem and prints
 *   "received <frames> port <frames whose UDP/IPv4 destination is PORT>". */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xdp/xsk.h>

#define NUM_FRAMES 4096
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE

static unsigned long long received, on_port;

static int udp_dport(const unsigned char *p, unsigned int len)
{
	/* Copies, not casts: the IP header sits at offset 14 of the frame,
	 * which is not 4-byte aligned. */
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;

	if (len < sizeof(eth) + sizeof(ip))
		return -1;
	memcpy(&eth, p, sizeof(eth));
	memcpy(&ip, p + sizeof(eth), sizeof(ip));
	if (eth.h_proto != htons(ETH_P_IP) || ip.protocol != IPPROTO_UDP ||
	    len < sizeof(eth) + ip.ihl * 4u + sizeof(udp))
		return -1;
	memcpy(&udp, p + sizeof(eth) + ip.ihl * 4u, sizeof(udp));
	return ntohs(udp.dest);
}

static void rx_batch(struct xsk_ring_cons *rx, struct xsk_ring_prod *fq, void *area, int port)
{
	__u32 idx_rx = 0, idx_fq = 0, n, i;

	n = xsk_ring_cons__peek(rx, 64, &idx_rx);
	if (!n)
		return;
	while (xsk_ring_prod__reserve(fq, n, &idx_fq) != n)
		;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx_rx + i);

		received++;
		if (udp_dport(xsk_umem__get_data(area, d->addr), d->len) == port)
			on_port++;
		*xsk_ring_prod__fill_addr(fq, idx_fq + i) = xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_prod__submit(fq, n);
	xsk_ring_cons__release(rx, n);
}

int main(int argc, char **argv)
{
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *xsk = NULL;
	size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	__u32 idx = 0, i, nfill;
	void *area;
	int err, port;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IFACE QUEUE PORT\n", argv[0]);
		return 2;
	}
	port = atoi(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		printf("error: mmap: %s\n", strerror(errno));
		return 1;
	}
	err = xsk_umem__create(&umem, area, size, &fq, &cq, NULL);
	if (err) {
		printf("error: xsk_umem__create: %s\n", strerror(-err));
		return 1;
	}
	err = xsk_socket__create(&xsk, argv[1], (__u32)atoi(argv[2]), umem, &rx, &tx, NULL);
	if (err) {
		printf("error: xsk_socket__create: %s\n", strerror(-err));
		xsk_umem__delete(umem);
		return 1;
	}
	nfill = XSK_RING_PROD__DEFAULT_NUM_DESCS;
	if (xsk_ring_prod__reserve(&fq, nfill, &idx) != nfill) {
		printf("error: fill ring reserve\n");
		return 1;
	}
	for (i = 0; i < nfill; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&fq, nfill);
	printf("ready\n");

	for (;;) {
		struct pollfd pfd[2] = { { xsk_socket__fd(xsk), POLLIN, 0 }, { 0, POLLIN, 0 } };
		char buf[64];

		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		rx_batch(&rx, &fq, area, port);
		if (pfd[1].revents && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	rx_batch(&rx, &fq, area, port);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, size);
	printf("received %llu port %d %llu\n", received, port, on_port);
	return 0;
}
