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

struct cursor {
	void *pos;
	void *end;
};

/* Result of parsing up to the transport header. */
struct l4_info {
	__u8 proto;   /* IPPROTO_* */
	__u16 dport;  /* host order; 0 when the protocol has no ports */
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
	struct vlan_hdr *vlan;
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

/* IPv4: returns the L4 protocol, or -1 for a malformed header or a
 * non-first fragment (which carries no transport header). */
static __always_inline int parse_ipv4(struct cursor *c)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > c->end)
		return -1;
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph))
		return -1;
	if (!cursor_take(c, hlen))
		return -1;
	if (iph->frag_off & bpf_htons(XSKIT_IP_OFFSET))
		return -1;
	return iph->protocol;
}

/* IPv6 with up to XSKIT_IPV6_MAX_EXT_HDRS extension headers. Returns the
 * L4 protocol or -1 (malformed, too many extension headers, or a
 * non-first fragment). */
static __always_inline int parse_ipv6(struct cursor *c)
{
	struct ipv6hdr *ip6 = cursor_take(c, sizeof(*ip6));
	struct frag_hdr *frag;
	__u8 *ext;
	int nexthdr, i;

	if (!ip6 || ip6->version != 6)
		return -1;
	nexthdr = ip6->nexthdr;
#pragma unroll
	for (i = 0; i < XSKIT_IPV6_MAX_EXT_HDRS; i++) {
		switch (nexthdr) {
		case 0: /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
			ext = c->pos;
			if ((void *)(ext + 2) > c->end)
				return -1;
			nexthdr = ext[0];
			if (!cursor_take(c, ((__u32)ext[1] + 1) * 8))
				return -1;
			break;
		case IPPROTO_AH:
			ext = c->pos;
			if ((void *)(ext + 2) > c->end)
				return -1;
			nexthdr = ext[0];
			if (!cursor_take(c, ((__u32)ext[1] + 2) * 4))
				return -1;
			break;
		case 44: /* fragment */
			frag = cursor_take(c, sizeof(*frag));
			if (!frag)
				return -1;
			if (frag->frag_off & bpf_htons(0xFFF8))
				return -1;
			nexthdr = frag->nexthdr;
			break;
		default:
			return nexthdr;
		}
	}
	/* Still in an extension header chain: give up, the stack gets it. */
	return -1;
}

/* Parses Ethernet/VLAN/IP up to the transport header. Returns 0 and fills
 * *l4 on success, -1 when the frame is not IP or is truncated/malformed. */
static __always_inline int parse_l4(struct cursor *c, struct l4_info *l4)
{
	__be16 eth_proto = parse_eth(c);
	__be16 *ports;
	__u32 hlen;
	int proto;

	if (eth_proto == bpf_htons(XSKIT_ETH_P_IP))
		proto = parse_ipv4(c);
	else if (eth_proto == bpf_htons(XSKIT_ETH_P_IPV6))
		proto = parse_ipv6(c);
	else
		return -1;
	if (proto < 0)
		return -1;
	l4->proto = proto;
	l4->dport = 0;
	switch (proto) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		hlen = 8;
		break;
	case IPPROTO_TCP:
		hlen = 20;
		break;
	case IPPROTO_SCTP:
		hlen = 12;
		break;
	default:
		return 0;
	}
	/* The whole fixed header must be there; source and destination port
	 * lead all four. A truncated transport header does not match. */
	ports = cursor_take(c, hlen);
	if (!ports)
		return -1;
	l4->dport = bpf_ntohs(ports[1]);
	return 0;
}

#endif /* XSKIT_PARSE_BPF_H */
