// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_links: where every XDP bpf_link is attached.
 *
 * A bpf_link iterator (5.19+) visits every link on the host; for each XDP
 * link it writes one struct xsk_xdp_link_rec: its id, its program's id and
 * the device it is attached to (ifindex and network namespace; 0 once the
 * device was deleted or the link detached, when the kernel clears the
 * link's device).
 *
 * Why: xsk-exporter needs to know whether an attach is live (the device is
 * there and runs the program) without opening the link pin, which is
 * root's and read-write only (docs/DESIGN.md, "Pin ownership"). It matches
 * the records to its attaches by the id of the pinned program. The iterator
 * is loaded once with privilege; a pass needs no capability on kernels where
 * bpf() is not gated as a whole (lib/privileges.h).
 *
 * struct bpf_xdp_link (net/core/dev.c) and every field read here are CO-RE
 * reads; the layout is unchanged from 5.9 to 6.18. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "xsk_links.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("iter/bpf_link")
int xsk_xdp_links(struct bpf_iter__bpf_link *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_link *link = ctx->link;
	struct xsk_xdp_link_rec rec = {};
	struct bpf_xdp_link *xdp;
	struct net_device *dev;

	if (!link)
		return 0;
	if (BPF_CORE_READ(link, type) != BPF_LINK_TYPE_XDP)
		return 0;
	xdp = (struct bpf_xdp_link *)link;

	rec.version = XSK_LINKS_VERSION;
	rec.link_id = BPF_CORE_READ(link, id);
	rec.prog_id = BPF_CORE_READ(link, prog, aux, id);
	dev = BPF_CORE_READ(xdp, dev);
	if (dev) {
		rec.ifindex = BPF_CORE_READ(dev, ifindex);
		rec.netns_ino = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	}
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
