/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Bounds-checked header parsing for XDP programs. Every helper checks the
 * whole header against data_end before it reads a byte of it, so truncated
 * and malformed frames fail the parse instead of reading out of bounds. */
#ifndef XSKIT_PARSE_BPF_H
#define XSKIT_PARSE_BPF_H

#include <bpf/bpf_endian.h>

#define XSKIT_ETH_P_IP 0x0800
#define XSKIT_ETH_P_IPV6 0x86DD
#define XSKIT_ETH_P_8021Q 0x8100
#define XSKIT_ETH_P_8021AD 0x88A8
#define XSKIT_IP_MF 0x2000
#define XSKIT_IP_OFFSET 0x1FFF
#define XSKIT_IPV6_MAX_EXT_HDRS 4

/* Not in the UAPI headers (the kernel's own are in if_vlan.h, net/ipv6.h). */
struct xskit_vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct xskit_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

struct cursor {
	void *pos;
	void *end;
};

/* Result of parsing up to the transport header. */
struct l4_info {
	__u8 proto;   /* IPPROTO_* */
	__be16 dport; /* network order; meaningless when the protocol has no ports */
};

static __always_inline void *cursor_take(struct cursor *c, __u32 len)
{
	void *hdr = c->pos;

	if (hdr + len > c->end)
		return NULL;
	c->pos = hdr + len;
	return hdr;
}

/* Ethernet with at most one 802.1Q/802.1ad tag. Returns the ethertype
 * (network order) or 0 on a truncated frame. */
static __always_inline __be16 parse_eth(struct cursor *c)
{
	struct ethhdr *eth = cursor_take(c, sizeof(*eth));
	struct xskit_vlan_hdr *vlan;
	__be16 proto;

	if (!eth)
		return 0;
	proto = eth->h_proto;
	if (proto == bpf_htons(XSKIT_ETH_P_8021Q) || proto == bpf_htons(XSKIT_ETH_P_8021AD)) {
		vlan = cursor_take(c, sizeof(*vlan));
		if (!vlan)
			return 0;
		proto = vlan->h_vlan_encapsulated_proto;
	}
	return proto;
}

/* A 16-bit length field in host order, bounded for the verifier. Kernels
 * before the verifier tracked ranges across byte swaps (Debian's 6.1, 6.12
 * and 6.18.15 among them) see any value after bpf_ntohs(), and a packet
 * pointer may only move by a bounded amount. The mask is asm so the compiler
 * cannot drop it as redundant; the result is 64-bit so adding it to a
 * pointer needs no zero extension (two instructions a use). */
static __always_inline __u64 xskit_len16(__be16 v)
{
	__u64 n = bpf_ntohs(v);

	asm volatile("%[n] &= 0xffff" : [n] "+r"(n));
	return n;
}

/* IPv4: version 4, IHL >= 5, the whole datagram (total length) inside the
 * frame, not a fragment (MF or an offset: see docs/DESIGN.md, fragments are
 * the stack's). Returns the L4 protocol and leaves the cursor on the
 * transport header with *room = the datagram's bytes from there on (what
 * follows is Ethernet padding), or -1. One bounds check: the options are
 * never read, and the datagram check covers them. */
static __always_inline int parse_ipv4(struct cursor *c, __u32 *room)
{
	struct iphdr *iph = c->pos;
	__u64 tot;
	__u32 hlen;
	__u8 vihl;

	if ((void *)(iph + 1) > c->end)
		return -1;
	vihl = *(__u8 *)iph;
	hlen = (vihl & 0x0f) * 4;
	if ((vihl & 0xf0) != 0x40 || hlen < sizeof(*iph))
		return -1;
	if (iph->frag_off & bpf_htons(XSKIT_IP_MF | XSKIT_IP_OFFSET))
		return -1;
	tot = xskit_len16(iph->tot_len);
	if (tot < hlen || (void *)iph + tot > c->end)
		return -1;
	c->pos = (void *)iph + hlen;
	*room = tot - hlen;
	return iph->protocol;
}

/* IPv6 with up to XSKIT_IPV6_MAX_EXT_HDRS extension headers (hop-by-hop,
 * routing, destination options, AH, fragment), the payload inside the
 * frame and every extension header inside the payload. An atomic fragment
 * (offset 0, M clear) is a whole datagram; any other fragment header gives
 * -1, as do a malformed header and a deeper chain. Returns the L4 protocol,
 * the cursor on the transport header and *room as parse_ipv4. One bounds
 * check per header: every extension header is at least 8 bytes and its
 * next-header, length and fragment fields lie in the first 8. */
static __always_inline int parse_ipv6(struct cursor *c, __u32 *room)
{
	struct ipv6hdr *ip6 = cursor_take(c, sizeof(*ip6));
	__u32 left, hlen;
	__u64 payload;
	__u8 *ext;
	int nexthdr, i;

	if (!ip6 || (*(__u8 *)ip6 & 0xf0) != 0x60)
		return -1;
	payload = xskit_len16(ip6->payload_len);
	if (c->pos + payload > c->end)
		return -1;
	left = payload;
	nexthdr = ip6->nexthdr;
#pragma unroll
	for (i = 0; i <= XSKIT_IPV6_MAX_EXT_HDRS; i++) {
		switch (nexthdr) {
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
		case 44: /* fragment */
		case IPPROTO_AH:
			if (i == XSKIT_IPV6_MAX_EXT_HDRS)
				return -1; /* one too many: the stack gets it */
			ext = c->pos;
			if ((void *)(ext + 8) > c->end)
				return -1;
			if (nexthdr == 44) {
				/* offset << 3 | reserved (2 bits) | M */
				if (((struct xskit_frag_hdr *)ext)->frag_off & bpf_htons(0xFFF9))
					return -1;
				hlen = 8;
			} else if (nexthdr == IPPROTO_AH) {
				hlen = ((__u32)ext[1] + 2) * 4;
			} else {
				hlen = ((__u32)ext[1] + 1) * 8;
			}
			if (hlen > left)
				return -1;
			left -= hlen;
			nexthdr = ext[0];
			c->pos = ext + hlen;
			break;
		default:
			*room = left;
			return nexthdr;
		}
	}
	return -1; /* not reached: the last round returns */
}

/* Length of the fixed transport header the destination port is read
 * from (UDP and UDP-Lite 8, TCP 20, SCTP 12); 0 for a protocol without
 * ports. */
static const __u8 xskit_port_hlen[256] = {
	[IPPROTO_TCP] = 20,
	[IPPROTO_UDP] = 8,
	[IPPROTO_SCTP] = 12,
	[IPPROTO_UDPLITE] = 8,
};

/* A table, not a switch: one load instead of a compare chain. */
static __always_inline __u32 l4_port_hlen(int proto)
{
	return xskit_port_hlen[proto & 0xff];
}

/* Untagged Ethernet, IPv4 without options and the transport ports: the
 * fast path's single bounds check. */
#define XSKIT_FAST_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + 4)

/* Parses Ethernet/VLAN/IP up to the transport header. Returns 0 and fills
 * *l4 on success, -1 when the frame is not IP, is truncated or malformed,
 * or is a fragment. UDP, UDP-Lite, TCP and SCTP match only with their whole
 * fixed header inside the IP datagram (total length / payload length bound
 * it, so ports in Ethernet padding never match); other protocols carry no
 * port. The rules are docs/DESIGN.md's "What --match matches". */
static __always_inline int parse_l4(struct cursor *c, struct l4_info *l4)
{
	void *data = c->pos;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__be16 eth_proto, *ports;
	__u32 hlen, room = 0;
	__u64 tot;
	int proto;

	/* Fast path, the common case: untagged IPv4 without options (ethertype
	 * and first IP byte 0x45 in one word) in a frame that reaches the
	 * ports. One bounds check for all three headers, one length check;
	 * the rules are parse_ipv4's with IHL 5. */
	if (data + XSKIT_FAST_LEN <= c->end &&
	    (*(__u32 *)(data + 12) & bpf_htonl(0xFFFFFF00)) == bpf_htonl(0x08004500)) {
		if (iph->frag_off & bpf_htons(XSKIT_IP_MF | XSKIT_IP_OFFSET))
			return -1;
		__u8 p = iph->protocol;

		hlen = xskit_port_hlen[p];
		tot = xskit_len16(iph->tot_len);
		if (tot < sizeof(*iph) + hlen || (void *)iph + tot > c->end)
			return -1;
		/* The port bytes are read whatever the protocol (they are inside
		 * the bounds checked): a rule of a protocol without ports has
		 * port 0 (the owner, lib/xsk_steer_prog.cc, makes sure), so it
		 * matches by protocol alone either way. */
		l4->proto = p;
		l4->dport = ((__be16 *)(iph + 1))[1];
		return 0;
	}

	eth_proto = parse_eth(c);
	if (eth_proto == bpf_htons(XSKIT_ETH_P_IP))
		proto = parse_ipv4(c, &room);
	else if (eth_proto == bpf_htons(XSKIT_ETH_P_IPV6))
		proto = parse_ipv6(c, &room);
	else
		return -1;
	if (proto < 0)
		return -1;
	l4->proto = proto;
	l4->dport = 0;
	hlen = l4_port_hlen(proto);
	if (!hlen)
		return 0;
	/* The whole fixed header inside the datagram (which is inside the
	 * frame); the verifier needs only the 4 port bytes checked. */
	if (hlen > room)
		return -1;
	ports = c->pos;
	if ((void *)(ports + 2) > c->end)
		return -1;
	l4->dport = ports[1];
	return 0;
}

#endif /* XSKIT_PARSE_BPF_H */
