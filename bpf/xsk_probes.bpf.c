// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_probes: transmit-path, allocation and drop probes for AF_XDP.
 *
 * One object, several variants per signal; the loader picks them with
 * bpf_program__set_autoload() from the running kernel's BTF and a trial
 * load (lib/xsk_probes_prog.cc):
 *   fentry mode      fentry/fexit on xsk_sendmsg, xsk_poll, __dev_direct_xmit,
 *                    sock_alloc_send_pskb, kmem_cache_alloc_bulk(_noprof),
 *                    napi_build_skb, xsk_destruct_skb; the zero-copy
 *                    driver side (xsk_probes_zc.bpf.h)
 *   tracepoint mode  syscalls:sys_{enter,exit}_{sendto,sendmsg}, with plain
 *                    loads through bpf_rdonly_cast (6.2+) or, as the
 *                    fallback, a bpf_probe_read_kernel per field
 *   both             tp_btf/kfree_skb (or skb:kfree_skb), xdp_redirect_err,
 *                    xdp_exception
 *
 * Per syscall, not per packet: the Tx ring's cached consumer before and
 * after a sendmsg is the exact number of descriptors it consumed; the
 * completion ring, sk_wmem_alloc and the budget at exit say why it stopped.
 * Every counter lives in a per-CPU map; nothing goes through a ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "xsk_probes_maps.bpf.h"
#include "xsk_probes_zc.bpf.h"

/* ------------------------------------------------- sendmsg entry / exit */

static __always_inline void tx_enter(struct sock *sk, __u32 flags, bool dontwait)
{
	struct xdp_sock *xs = (struct xdp_sock *)sk;
	struct xsk_queue *tx = BPF_CORE_READ(xs, tx);
	struct call_state st = {};
	__u64 tid = bpf_get_current_pid_tgid();

	zc_count_call(xs, flags, dontwait);
	if (!tx || !BPF_CORE_READ(xs, dev))
		return;
	st.sk = (__u64)sk;
	st.cons = BPF_CORE_READ(tx, cached_cons);
	st.flags = flags;
	bpf_map_update_elem(&calls, &tid, &st, BPF_ANY);
}

static __always_inline __u32 decide_cause(long err, __u32 consumed, __u32 budget,
					  bool tx_left, bool cq_full, bool txq_stopped,
					  bool sndbuf_full, __u32 flags)
{
	/* The kernel checks the budget before it reserves a CQ slot. */
	if (err == EAGAIN && tx_left && consumed == budget)
		return XSK_PROBES_CAUSE_BUDGET;
	if (err == EAGAIN && cq_full)
		return XSK_PROBES_CAUSE_CQ_FULL;
	if (err == EAGAIN && ((flags & CALL_SAW_BUSY) || txq_stopped))
		return XSK_PROBES_CAUSE_DRIVER_BUSY;
	if (err == EAGAIN && ((flags & CALL_SAW_SNDBUF) || sndbuf_full))
		return XSK_PROBES_CAUSE_SNDBUF;
	if (err == ENOMEM || (flags & CALL_SAW_ALLOC_FAIL))
		return XSK_PROBES_CAUSE_ALLOC_FAIL;
	if (err == EBUSY)
		return XSK_PROBES_CAUSE_XMIT_DROP;
	if (err == ENXIO || err == ENETDOWN || err == EOPNOTSUPP)
		return XSK_PROBES_CAUSE_NOT_READY;
	if (err == ENOBUFS)
		return XSK_PROBES_CAUSE_ALLOC_FAIL; /* a Tx ring exists: skb alloc */
	return XSK_PROBES_CAUSE_OTHER;
}

/* What a sendmsg exit reads from its socket, filled by one of two readers:
 * tx_observe() (bpf_probe_read_kernel through BPF_CORE_READ: fentry mode and
 * the tracepoint fallback) or tx_observe_plain() (plain loads through BTF
 * pointers, the tracepoint fast path). tx_count() counts from it, so both
 * readers give the same counts. */
struct tx_obs {
	struct xsk_probes_qkey k;
	__u32 consumed;
	__u32 budget;
	__u32 cq_size;
	__u32 cq_prod;      /* CQ cached_prod */
	__u32 cq_cons;      /* CQ ring consumer */
	__u32 cq_producer;  /* CQ ring producer */
	bool tx_left;
	bool cq_full;
	bool sndbuf_full;
	bool copy;          /* not zero-copy */
};

/* false when the socket has no device (unbound meanwhile: nothing counted). */
static __always_inline bool tx_observe(struct xdp_sock *xs, __u32 cons_at_entry,
				       struct tx_obs *o)
{
	struct xsk_queue *tx = BPF_CORE_READ(xs, tx), *cq;
	struct xdp_ring *cq_ring;
	__u32 tx_cons = BPF_CORE_READ(tx, cached_cons);
	int wmem, sndbuf;

	o->consumed = tx_cons - cons_at_entry;
	if (!xs_qkey(xs, &o->k))
		return false;
	o->tx_left = BPF_CORE_READ(tx, ring, producer) != tx_cons;
	cq = BPF_CORE_READ(xs, pool, cq);
	cq_ring = BPF_CORE_READ(cq, ring);
	o->cq_size = BPF_CORE_READ(cq, nentries);
	o->cq_prod = BPF_CORE_READ(cq, cached_prod);
	o->cq_cons = BPF_CORE_READ(cq_ring, consumer);
	o->cq_producer = BPF_CORE_READ(cq_ring, producer);
	o->cq_full = o->cq_size && o->cq_prod - o->cq_cons >= o->cq_size;
	wmem = BPF_CORE_READ(&xs->sk, sk_wmem_alloc.refs.counter) - 1;
	sndbuf = BPF_CORE_READ(&xs->sk, sk_sndbuf);
	o->sndbuf_full = wmem >= sndbuf;
	o->budget = xs_tx_budget(xs);
	o->copy = !BPF_CORE_READ(xs, zc);
	return true;
}

static __always_inline bool tx_observe_plain(struct xdp_sock *xs, __u32 cons_at_entry,
					     struct tx_obs *o);
static __always_inline bool xs_txq_stopped_plain(struct xdp_sock *xs);
static __always_inline bool dev_no_linear_plain(struct xdp_sock *xs);

/* `plain`: xs is a bpf_rdonly_cast() pointer, read with plain loads (a
 * constant of each caller: the other branch is compiled out). The reads
 * only some calls need (the Tx queue's state, the device's flags) are made
 * only then. */
static __always_inline void tx_count(long ret, __u32 flags, struct xdp_sock *xs,
				     struct tx_obs *o, bool plain)
{
	struct xsk_probes_err_key ek = {};
	struct xsk_probes_tx *v = tx_slot(&o->k);
	__u32 consumed = o->consumed;
	bool stopped, no_linear;

	if (!v)
		return;
	if (flags & CALL_POLL) {
		__sync_fetch_and_add(&v->poll_calls, 1);
		__sync_fetch_and_add(&v->poll_descs, consumed);
	} else {
		__sync_fetch_and_add(&v->calls, 1);
		__sync_fetch_and_add(&v->descs, consumed);
		__sync_fetch_and_add(&v->hist[batch_bucket(consumed) & 15], 1);
	}
	if (derive_skb_build && consumed && o->copy) {
		no_linear = plain ? dev_no_linear_plain(xs) : dev_no_linear(BPF_CORE_READ(xs, dev));
		if (no_linear)
			__sync_fetch_and_add(&v->frag_skbs, consumed);
		else
			__sync_fetch_and_add(&v->linear_skbs, consumed);
	}
	v->gauge_ns = bpf_ktime_get_ns();
	v->cq_size = o->cq_size;
	v->cq_pending = o->cq_prod - o->cq_cons;
	v->in_flight = o->cq_prod - o->cq_producer;
	v->tx_budget = o->budget;

	ek.q = o->k;
	if (ret < 0) {
		__sync_fetch_and_add(&v->errors, 1);
		ek.err = -ret;
		/* Only an EAGAIN that neither the budget nor a full CQ explains
		 * needs the Tx queue's state. */
		stopped = false;
		if (-ret == EAGAIN && !(o->tx_left && consumed == o->budget) && !o->cq_full)
			stopped = plain ? xs_txq_stopped_plain(xs) : xs_txq_stopped(xs);
		ek.cause = decide_cause(-ret, consumed, o->budget, o->tx_left, o->cq_full, stopped,
					o->sndbuf_full, flags);
		count_u64(&tx_errors, &ek);
	} else if (o->tx_left && o->cq_full && !(flags & CALL_POLL)) {
		/* Kernels that stop on a full CQ without an error. */
		__sync_fetch_and_add(&v->stalls, 1);
		ek.err = 0;
		ek.cause = XSK_PROBES_CAUSE_CQ_FULL;
		count_u64(&tx_errors, &ek);
	}
}

static __always_inline void tx_exit(long ret)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct call_state *st = bpf_map_lookup_elem(&calls, &tid);
	struct xdp_sock *xs;
	struct tx_obs o = {};
	__u32 flags;
	bool ok;

	if (!st)
		return;
	xs = (struct xdp_sock *)st->sk;
	flags = st->flags;
	ok = tx_observe(xs, st->cons, &o);
	bpf_map_delete_elem(&calls, &tid);
	if (ok)
		tx_count(ret, flags, xs, &o, false);
}

/* fentry mode: the socket layer itself (sendto, sendmsg, sendmmsg, io_uring). */
SEC("fentry/xsk_sendmsg")
int BPF_PROG(fentry_xsk_sendmsg, struct socket *sock, struct msghdr *m)
{
	tx_enter(BPF_CORE_READ(sock, sk), 0, BPF_CORE_READ(m, msg_flags) & MSG_DONTWAIT);
	return 0;
}

SEC("fexit/xsk_sendmsg")
int BPF_PROG(fexit_xsk_sendmsg, struct socket *sock, struct msghdr *m, size_t len, int ret)
{
	tx_exit(ret);
	return 0;
}

/* poll() drives copy-mode Tx too. */
SEC("fentry/xsk_poll")
int BPF_PROG(fentry_xsk_poll, struct file *file, struct socket *sock)
{
	tx_enter(BPF_CORE_READ(sock, sk), CALL_POLL, true);
	return 0;
}

SEC("fexit/xsk_poll")
int BPF_PROG(fexit_xsk_poll, struct file *file, struct socket *sock, void *wait, int ret)
{
	tx_exit(0);
	return 0;
}

/* tracepoint mode: sendto(2) and sendmsg(2) on an AF_XDP socket's fd. */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

static __always_inline struct sock *fd_to_xsk(__u64 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_XDP)
		return NULL;
	return sk;
}

/* `flags`: sendto's 4th argument, sendmsg's 3rd (the msg_flags sendmsg sees). */
static __always_inline void sys_enter(struct sys_enter_ctx *ctx, __u64 flags)
{
	struct sock *sk = fd_to_xsk(ctx->args[0]);

	if (sk)
		tx_enter(sk, 0, flags & MSG_DONTWAIT);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_enter_sendto(struct sys_enter_ctx *ctx)
{
	sys_enter(ctx, ctx->args[3]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_enter_sendmsg(struct sys_enter_ctx *ctx)
{
	sys_enter(ctx, ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int tp_exit_sendto(struct sys_exit_ctx *ctx)
{
	tx_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp_exit_sendmsg(struct sys_exit_ctx *ctx)
{
	tx_exit(ctx->ret);
	return 0;
}

/* --------------------------- tracepoint mode with plain loads (6.2+) */

/* The same programs without a bpf_probe_read_kernel call per field: the
 * current task is a BTF pointer (bpf_get_current_task_btf, 5.11+), and
 * bpf_rdonly_cast (a kfunc for every program type, 6.2+; the verifier
 * turns it into a register move) types a kernel address held as a scalar
 * (the fd table's slot, file->private_data, the stashed socket), so every
 * field is a plain load the verifier converts into an exception-handled
 * one (a bad address reads 0, as a failed probe read leaves 0). The call in
 * progress lives in the thread's task storage, not in a hash map. Where the
 * kernel lacks the kfunc (6.1) the load fails and the loader keeps the
 * programs above (lib/xsk_probes_prog.cc, variant tx/tracepoint). */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;

#define RDONLY_CAST(type, addr) \
	((type *)bpf_rdonly_cast((void *)(__u64)(addr), bpf_core_type_id_kernel(type)))

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_state);
} task_calls SEC(".maps");

static __always_inline bool xs_qkey_plain(struct xdp_sock *xs, struct xsk_probes_qkey *k)
{
	struct net_device *dev = xs->dev;

	if (!dev)
		return false;
	k->netns_ino = dev->nd_net.net->ns.inum;
	k->ifindex = dev->ifindex;
	k->queue = xs->queue_id;
	return true;
}

static __always_inline bool tx_observe_plain(struct xdp_sock *xs, __u32 cons_at_entry,
					     struct tx_obs *o)
{
	struct xsk_queue *tx = xs->tx, *cq;
	struct xdp_ring *cq_ring;
	__u32 tx_cons = tx->cached_cons;

	o->consumed = tx_cons - cons_at_entry;
	if (!xs_qkey_plain(xs, &o->k))
		return false;
	o->tx_left = tx->ring->producer != tx_cons;
	cq = xs->pool->cq;
	cq_ring = cq->ring;
	o->cq_size = cq->nentries;
	o->cq_prod = cq->cached_prod;
	o->cq_cons = cq_ring->consumer;
	o->cq_producer = cq_ring->producer;
	o->cq_full = o->cq_size && o->cq_prod - o->cq_cons >= o->cq_size;
	o->sndbuf_full = xs->sk.sk_wmem_alloc.refs.counter - 1 >= xs->sk.sk_sndbuf;
	o->budget = bpf_core_field_exists(xs->max_tx_budget) ? xs->max_tx_budget
							     : default_tx_budget;
	o->copy = !xs->zc;
	return true;
}

/* As xs_txq_stopped(). No arithmetic on a BTF pointer: the queue's
 * address is computed as a scalar and cast. */
static __always_inline bool xs_txq_stopped_plain(struct xdp_sock *xs)
{
	struct net_device *dev = xs->dev;
	__u64 txq = (__u64)dev->_tx;
	__u32 qid = xs->queue_id;
	unsigned long mask;

	if (!txq || qid >= dev->num_tx_queues)
		return false;
	txq += (__u64)qid * bpf_core_type_size(struct netdev_queue);
	mask = (1UL << bpf_core_enum_value(enum netdev_queue_state_t, __QUEUE_STATE_DRV_XOFF)) |
	       (1UL << bpf_core_enum_value(enum netdev_queue_state_t, __QUEUE_STATE_FROZEN));
	return RDONLY_CAST(struct netdev_queue, txq)->state & mask;
}

static __always_inline bool dev_no_linear_plain(struct xdp_sock *xs)
{
	struct net_device *dev = xs->dev;
	__u64 flags = BPF_CORE_READ_BITFIELD(dev, priv_flags);

	return flags & (1ULL << 31); /* as dev_no_linear() */
}

/* As fd_to_xsk(). The fd table's slot (a pointer to a pointer, which the
 * verifier types as a scalar) is the one helper read. */
static __always_inline struct xdp_sock *fd_to_xsk_plain(struct task_struct *task, __u64 fd)
{
	struct fdtable *fdt = task->files->fdt;
	__u64 fds = (__u64)fdt->fd, addr = 0;
	struct file *file;
	struct sock *sk;

	if (fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&addr, sizeof(addr), (void *)(fds + fd * sizeof(addr)));
	if (!addr)
		return NULL;
	file = RDONLY_CAST(struct file, addr);
	if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sk = RDONLY_CAST(struct socket, file->private_data)->sk;
	if (!sk || sk->__sk_common.skc_family != AF_XDP)
		return NULL;
	return RDONLY_CAST(struct xdp_sock, sk);
}

/* As zc_count_call() for sendto/sendmsg (tracepoint mode sees no poll). */
static __always_inline void zc_count_call_plain(struct xdp_sock *xs, bool dontwait)
{
	struct xsk_buff_pool *pool = xs->pool;
	struct net_device *dev = xs->dev;
	struct xsk_probes_qkey k = {};
	struct xsk_probes_zc *z;
	struct sock *sk;
	bool no_wakeup = false;
	__u8 nw;

	if (!pool || !dev || !(dev->flags & 1 /* IFF_UP */))
		return;
	if (!dontwait || !xs->tx)
		return; /* EOPNOTSUPP, ENOBUFS */
	if (!xs_qkey_plain(xs, &k))
		return;
	z = zc_slot(&k);
	if (!z)
		return;
	nw = pool->cached_need_wakeup;
	if (nw & XDP_WAKEUP_TX)
		__sync_fetch_and_add(&z->sendmsg_need_wakeup, 1);
	else
		__sync_fetch_and_add(&z->sendmsg_no_need_wakeup, 1);
	if (!xs->zc || !(nw & XDP_WAKEUP_TX))
		return;
	sk = &xs->sk;
	if (bpf_core_field_exists(sk->sk_prefer_busy_poll) && bpf_core_field_exists(sk->sk_napi_id))
		no_wakeup = sk->sk_prefer_busy_poll && sk->sk_ll_usec && sk->sk_napi_id;
	if (!no_wakeup)
		__sync_fetch_and_add(&z->wakeups_sendmsg, 1);
}

static __always_inline void sys_enter_plain(struct sys_enter_ctx *ctx, __u64 flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct xdp_sock *xs = fd_to_xsk_plain(task, ctx->args[0]);
	struct call_state *st;
	struct xsk_queue *tx;

	if (!xs)
		return;
	zc_count_call_plain(xs, flags & MSG_DONTWAIT);
	tx = xs->tx;
	if (!tx || !xs->dev)
		return;
	st = bpf_task_storage_get(&task_calls, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return;
	st->sk = (__u64)xs;
	st->cons = tx->cached_cons;
	st->flags = 0;
}

static __always_inline void sys_exit_plain(long ret)
{
	struct call_state *st = bpf_task_storage_get(&task_calls, bpf_get_current_task_btf(),
						     NULL, 0);
	struct tx_obs o = {};
	struct xdp_sock *xs;

	if (!st || !st->sk)
		return;
	xs = RDONLY_CAST(struct xdp_sock, st->sk);
	st->sk = 0;
	if (tx_observe_plain(xs, st->cons, &o))
		tx_count(ret, 0, xs, &o, true);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_enter_sendto_plain(struct sys_enter_ctx *ctx)
{
	sys_enter_plain(ctx, ctx->args[3]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_enter_sendmsg_plain(struct sys_enter_ctx *ctx)
{
	sys_enter_plain(ctx, ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int tp_exit_sendto_plain(struct sys_exit_ctx *ctx)
{
	sys_exit_plain(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp_exit_sendmsg_plain(struct sys_exit_ctx *ctx)
{
	sys_exit_plain(ctx->ret);
	return 0;
}

/* ----------------------------------------- inside the xmit (fentry only) */

static __always_inline struct xsk_probes_tx *sk_tx_slot(struct sock *sk)
{
	struct xsk_probes_qkey k = {};

	if (!xs_qkey((struct xdp_sock *)sk, &k))
		return NULL;
	return tx_slot(&k);
}

static __always_inline void flag_call(__u32 flag)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct call_state *st = bpf_map_lookup_elem(&calls, &tid);

	if (st)
		st->flags |= flag;
}

SEC("fexit/__dev_direct_xmit")
int BPF_PROG(fexit_dev_direct_xmit, struct sk_buff *skb, u16 queue_id, int ret)
{
	struct xsk_probes_tx *v;
	struct sock *sk;

	if (ret != NETDEV_TX_BUSY)
		return 0;
	/* On NETDEV_TX_BUSY the caller still owns the skb. */
	sk = BPF_CORE_READ(skb, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_XDP)
		return 0;
	flag_call(CALL_SAW_BUSY);
	v = sk_tx_slot(sk);
	if (v)
		__sync_fetch_and_add(&v->xmit_busy, 1);
	return 0;
}

SEC("fexit/sock_alloc_send_pskb")
int BPF_PROG(fexit_sock_alloc_send_pskb, struct sock *sk, unsigned long header_len,
	     unsigned long data_len, int noblock, int *errcode, int max_page_order,
	     struct sk_buff *ret)
{
	struct xsk_probes_tx *v;
	struct xdp_sock *xs = (struct xdp_sock *)sk;
	int err = 0;

	if (BPF_CORE_READ(sk, __sk_common.skc_family) != AF_XDP)
		return 0;
	v = sk_tx_slot(sk);
	if (!v)
		return 0;
	if (!ret) {
		bpf_probe_read_kernel(&err, sizeof(err), errcode);
		if (err == -EAGAIN) {
			flag_call(CALL_SAW_SNDBUF);
		} else {
			flag_call(CALL_SAW_ALLOC_FAIL);
			__sync_fetch_and_add(&v->alloc_fail, 1);
		}
		return 0;
	}
	if (dev_no_linear(BPF_CORE_READ(xs, dev)))
		__sync_fetch_and_add(&v->frag_skbs, 1);
	else
		__sync_fetch_and_add(&v->linear_skbs, 1);
	return 0;
}

/* ------------------------------------------------ host allocation path */

static __always_inline struct xsk_probes_alloc *alloc_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&alloc_stats, &zero);
}

/* "skbuff_head_cache": the cache of skb heads (sk_buff) that NAPI, XDP
 * and batched xmit take in bulk. Its full name, NUL included: a read of one
 * byte more tells it from a longer name with the same start. */
static __always_inline bool is_skb_head_cache(struct kmem_cache *s)
{
	const char want[] = "skbuff_head_cache";
	char name[sizeof(want) + 1] = {};

	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(s, name)) != sizeof(want))
		return false;
#pragma unroll
	for (int i = 0; i < sizeof(want) - 1; i++)
		if (name[i] != want[i])
			return false;
	return true;
}

static __always_inline void count_bulk(struct kmem_cache *s, long ret)
{
	struct xsk_probes_alloc *a;

	if (ret <= 0 || !is_skb_head_cache(s))
		return;
	a = alloc_slot();
	if (!a)
		return;
	__sync_fetch_and_add(&a->bulk_calls, 1);
	__sync_fetch_and_add(&a->bulk_objs, ret);
}

SEC("fexit/kmem_cache_alloc_bulk")
int BPF_PROG(fexit_kmem_cache_alloc_bulk, struct kmem_cache *s, gfp_t flags, size_t size,
	     void **p, int ret)
{
	count_bulk(s, ret);
	return 0;
}

SEC("fexit/kmem_cache_alloc_bulk_noprof")
int BPF_PROG(fexit_kmem_cache_alloc_bulk_noprof, struct kmem_cache *s, gfp_t flags,
	     size_t size, void **p, int ret)
{
	count_bulk(s, ret);
	return 0;
}

/* Only calls to the out-of-line function: net/core/skbuff.c inlines it into
 * skb_pp_cow_data() (Debian's 6.12 build), so the copies veth and generic
 * XDP make of an skb without XDP headroom are not seen here (their NAPI
 * cache refills are, as bulk allocations). */
SEC("fexit/napi_build_skb")
int BPF_PROG(fexit_napi_build_skb, void *data, unsigned int frag_size, struct sk_buff *ret)
{
	struct xsk_probes_alloc *a = alloc_slot();

	if (!a)
		return 0;
	__sync_fetch_and_add(&a->napi_build_skb, 1);
	if (!ret)
		__sync_fetch_and_add(&a->napi_build_fail, 1);
	return 0;
}

/* ------------------------------------ completion latency (behind a flag) */

SEC("fexit/sock_alloc_send_pskb")
int BPF_PROG(lat_alloc, struct sock *sk, unsigned long header_len, unsigned long data_len,
	     int noblock, int *errcode, int max_page_order, struct sk_buff *ret)
{
	__u64 key = (__u64)ret, now;

	if (!ret || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_XDP)
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&lat_start, &key, &now, BPF_ANY);
	return 0;
}

SEC("fentry/xsk_destruct_skb")
int BPF_PROG(lat_destruct, struct sk_buff *skb)
{
	__u64 key = (__u64)skb, *start, d;
	struct xsk_probes_latency *l, zero = {};
	struct xsk_probes_qkey k = {};
	__u32 b = 0;

	start = bpf_map_lookup_elem(&lat_start, &key);
	if (!start)
		return 0;
	d = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&lat_start, &key);
	if (!xs_qkey((struct xdp_sock *)BPF_CORE_READ(skb, sk), &k))
		return 0;
	l = bpf_map_lookup_elem(&latency, &k);
	if (!l) {
		bpf_map_update_elem(&latency, &k, &zero, BPF_NOEXIST);
		l = bpf_map_lookup_elem(&latency, &k);
		if (!l)
			return 0;
	}
	b = log2_u64(d);
	if (b > XSK_PROBES_LAT_BUCKETS - 1)
		b = XSK_PROBES_LAT_BUCKETS - 1; /* open-ended, never wrapped to 0 */
	__sync_fetch_and_add(&l->hist[b & (XSK_PROBES_LAT_BUCKETS - 1)], 1);
	__sync_fetch_and_add(&l->count, 1);
	__sync_fetch_and_add(&l->sum_ns, d);
	return 0;
}

/* ----------------------------------------------------------------- drops */

static __always_inline bool drop_consumed(__u32 reason)
{
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED);
}

/* A drop whose slot holds another key: claim the slot when it is free
 * (on this CPU), else count it in the hash map. Off the fast path: the key
 * is built and the netns inode (another cache line) read only here. */
static __always_inline void claim_or_hash(struct xsk_probes_drop_slot *slot, void *dev,
					  void *net, __u32 ifindex, __u32 reason, __u32 xsk)
{
	struct xsk_probes_drop_key k = {
		.ifindex = ifindex, .reason = reason, .xsk = xsk,
	};

	if (net)
		k.netns_ino = BPF_CORE_READ((struct net *)net, ns.inum);
	if (slot && !slot->skbs) {
		slot->key = k;
		slot->dev = (__u64)dev;
		slot->net = (__u64)net;
		slot->skbs = 1;
		return;
	}
	count_u64(&drops, &k);
}

/* One drop of an skb on `dev` (in `net`): its direct-mapped per-CPU slot when
 * that holds this device, netns, ifindex, reason and xsk, the hash map otherwise.
 * The common case is an array lookup and five compares of values at hand,
 * nothing written but the count. A free slot is all zeros, so it matches
 * only the all-zero key (no device, reason 0, not AF_XDP): it then counts
 * that key, as a claim would have. The ifindex compare keeps a reused
 * net_device address from inheriting an old device's slot. */
static __always_inline void count_drop(void *dev, void *net, __u32 ifindex, __u32 reason,
				       __u32 xsk)
{
	/* Hashed on scalars: the verifier allows no arithmetic on a BTF
	 * pointer, only storing and comparing it. */
	__u32 idx = (ifindex * 0x9E3779B1u) ^ (reason * 0x85EBCA6Bu) ^ xsk;
	struct xsk_probes_drop_slot *slot;

	idx &= XSK_PROBES_DROP_SLOTS - 1;
	slot = bpf_map_lookup_elem(&drop_slots, &idx);
	if (slot && slot->dev == (__u64)dev && slot->net == (__u64)net &&
	    slot->key.ifindex == ifindex && slot->key.reason == reason && slot->key.xsk == xsk) {
		slot->skbs++;
		return;
	}
	claim_or_hash(slot, dev, net, ifindex, reason, xsk);
}

/* --drops=reasons: the slot of the reason itself (reason mod the slot
 * count), so the common case is an array lookup, one compare and the
 * count. Only this mode's program writes its probe set's slots, so every
 * slot's device, netns, ifindex and xsk are 0 and the reason alone tells
 * a slot's key; a subsystem reason (bits 16-31) that lands on a taken slot
 * goes to the hash map. */
static __always_inline void count_reason(__u32 reason)
{
	__u32 idx = reason & (XSK_PROBES_DROP_SLOTS - 1);
	struct xsk_probes_drop_slot *slot = bpf_map_lookup_elem(&drop_slots, &idx);

	if (slot && slot->key.reason == reason) {
		slot->skbs++;
		return;
	}
	claim_or_hash(slot, NULL, NULL, 0, reason, 0);
}

/* BTF-typed pointers are read directly: plain loads, no
 * bpf_probe_read_kernel call per field. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct net_device *dev;
	struct sock *sk;
	struct net *net = NULL;
	__u32 ifindex = 0;

	if (drop_consumed(reason))
		return 0;
	dev = skb->dev;
	sk = skb->sk;
	if (dev) {
		ifindex = dev->ifindex;
		net = dev->nd_net.net;
	}
	count_drop(dev, net, ifindex, reason, sk && sk->__sk_common.skc_family == AF_XDP);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int tp_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)BPF_CORE_READ(ctx, skbaddr);
	struct net_device *dev;
	struct sock *sk;
	__u32 reason = 0, ifindex = 0;
	struct net *net = NULL;

	if (bpf_core_field_exists(ctx->reason))
		reason = BPF_CORE_READ(ctx, reason);
	if (drop_consumed(reason))
		return 0;
	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		ifindex = BPF_CORE_READ(dev, ifindex);
		net = BPF_CORE_READ(dev, nd_net.net);
	}
	sk = BPF_CORE_READ(skb, sk);
	count_drop(dev, net, ifindex, reason,
		   sk && BPF_CORE_READ(sk, __sk_common.skc_family) == AF_XDP);
	return 0;
}

/* --drops=reasons: counts by reason alone (key ifindex 0, netns 0, xsk 0),
 * the smallest useful drop probe: no read of the skb at all, one per-CPU
 * array slot per reason. For hosts whose drop rate makes even the
 * per-interface key's few loads matter (bench/probes_bench.cc measures both). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_kfree_skb_reasons, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	if (drop_consumed(reason))
		return 0;
	count_reason(reason);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int tp_kfree_skb_reasons(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = 0;

	if (bpf_core_field_exists(ctx->reason))
		reason = BPF_CORE_READ(ctx, reason);
	if (drop_consumed(reason))
		return 0;
	count_reason(reason);
	return 0;
}

/* ------------------------------------------------------------ XDP errors */

static __always_inline void count_xdp(__u64 netns, __u32 ifindex, __u32 event, __u32 value)
{
	struct xsk_probes_xdp_key k = {
		.netns_ino = netns, .ifindex = ifindex, .event = event, .value = value,
	};

	count_u64(&xdp_errors, &k);
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(btf_xdp_redirect_err, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err)
{
	count_xdp(dev_netns(dev), BPF_CORE_READ(dev, ifindex), XSK_PROBES_XDP_REDIRECT_ERR,
		  err < 0 ? -err : err);
	return 0;
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(btf_xdp_exception, const struct net_device *dev, const struct bpf_prog *xdp,
	     u32 act)
{
	count_xdp(dev_netns(dev), BPF_CORE_READ(dev, ifindex), XSK_PROBES_XDP_EXCEPTION, act);
	return 0;
}

SEC("tracepoint/xdp/xdp_redirect_err")
int tp_xdp_redirect_err(struct trace_event_raw_xdp_redirect_template *ctx)
{
	int err = ctx->err;

	count_xdp(0, ctx->ifindex, XSK_PROBES_XDP_REDIRECT_ERR, err < 0 ? -err : err);
	return 0;
}

SEC("tracepoint/xdp/xdp_exception")
int tp_xdp_exception(struct trace_event_raw_xdp_exception *ctx)
{
	count_xdp(0, ctx->ifindex, XSK_PROBES_XDP_EXCEPTION, ctx->act);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
