/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Data shared by bpf/xsk_links.bpf.c and lib/xsk_links_prog.cc: one record
 * per XDP bpf_link on the host, written by the bpf_link iterator with
 * bpf_seq_write(). Plain data only; the C++ side static_asserts the size and
 * checks the version of every record. */
#ifndef XSKIT_XSK_LINKS_H
#define XSKIT_XSK_LINKS_H

#define XSK_LINKS_VERSION 1

struct xsk_xdp_link_rec {
	__u32 version; /* XSK_LINKS_VERSION */
	__u32 link_id;
	__u32 prog_id;   /* the program the link runs */
	__u32 ifindex;   /* 0 once the device is gone (or the link detached) */
	__u64 netns_ino; /* the device's network namespace; 0 with ifindex 0 */
};

#endif
