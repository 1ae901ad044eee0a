// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xsk_steer without a filter: bpf/xsk_steer.bpf.c built with nr_rules a
 * compile-time 0, so the program does not even read the filter. The frozen
 * rodata already lets the verifier drop the filter path, but the load of
 * nr_rules stays, and it cost 0.4 ns a packet in bench/steer_bench (a
 * tenth of the steering work over XDP_PASS). Same maps, program names and
 * rodata layout: lib/xsk_steer_prog.cc opens the xsk_steer skeleton over
 * this object's ELF when there is no --match. */
#define XSK_STEER_NO_FILTER 1
#include "xsk_steer.bpf.c"
