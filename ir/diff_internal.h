/* Shared state of the graph diff (diff.c, diff_hash.c, diff_match.c, diff_group.c, diff_summary.c,
 * diff_report.c).  Not installed; users see ir_diff in ir.h.
 *
 * Side 0 is graph A, side 1 is graph B.  Every array is indexed by the
 * side's node or value ids and sized by its id bound, so memory is linear
 * in the two graphs. */
#ifndef GRAFT_DIFF_INTERNAL_H
#define GRAFT_DIFF_INTERNAL_H

#include "ir.h"

typedef struct diff_side {
	const ir_graph *g;
	uint32_t nnodes, nvalues; /* id bounds: ids are < these */
	ir_nid *topo;             /* live nodes in a topological order */
	uint32_t ntopo;
	uint32_t *pos;            /* node -> index in topo */
	uint64_t *nx, *nl, *nop;  /* per node: exact, loose and op hashes */
	uint64_t *vx, *vl;        /* per value: exact and loose hashes */
	uint8_t *constlike;       /* per node: computes from constants only */
	uint8_t *commutes;        /* per node: diff_op_commutes() */
} diff_side;

/* Three propagation queues, one per strictness level (see diff_match.c). */
enum { DIFF_LEVELS = 3 };

typedef struct diff_queue {
	uint32_t *v;
	size_t head, n, cap;
} diff_queue;

typedef struct diff_state {
	diff_side s[2];
	ir_diff_opts o;
	ir_nid *nmap[2]; /* nmap[0][a] = b, nmap[1][b] = a */
	ir_val *vmap[2];
	uint32_t *outmap[2]; /* graph output position -> counterpart's position + 1; 0: none */
	diff_queue q[DIFF_LEVELS];
	bool oom;
} diff_state;

/* ---- diff_hash.c */
/* 64-bit mixing of a hash with one more word. */
uint64_t diff_mix(uint64_t h, uint64_t x);
uint64_t diff_hash_bytes(const void *p, size_t n);
uint64_t diff_hash_str(const ir_graph *g, ir_str s);
/* Topological order and per-node arrays; false on out of memory. */
bool diff_side_init(diff_side *s, const ir_graph *g);
void diff_side_free(diff_side *s);
/* Hashes every value and node; seeds[v] gives each graph input's hash. */
void diff_side_hash(diff_side *s, const ir_diff_opts *o, const uint64_t *seeds);
/* True when attribute x equals the registry's default for node n's op. */
bool diff_attr_is_default(const ir_graph *g, ir_nid n, const ir_attr *x);
/* Attribute equality across graphs (tensors with the options' tolerance). */
bool diff_attr_equal(const ir_graph *ga, const ir_attr *a, const ir_graph *gb, const ir_attr *b,
		     const ir_diff_opts *o, double *max_abs);
/* Constant equality across graphs under the options. */
bool diff_tensor_equal(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b,
		       const ir_diff_opts *o, double *max_abs);
bool diff_op_commutes(const ir_graph *g, ir_nid n);

/* ---- diff_match.c */
/* Fills nmap and vmap; false on out of memory. */
bool diff_match(diff_state *st);

/* ---- diff_report.c */
/* Fills the result's changes, lists and groups from the alignment. */
bool diff_report(diff_state *st, ir_diff *r);
/* Whether b's two commutative operands line up with a's crosswise. */
bool diff_operands_swapped(const diff_state *st, ir_nid a, ir_nid b);
/* Appends v to the list (grown at powers of two); false on out of memory. */
bool diff_push_val(ir_diff_vals *l, ir_val v);

/* ---- diff_group.c */
/* Fills the result's replacement groups. */
bool diff_groups(const diff_state *st, ir_diff *r);

/* ---- diff_summary.c */
/* "Conv+Relu (2 nodes) → FusedConv", "Identity removed" (malloc'd; NULL on out of memory). */
char *diff_group_summary(const diff_state *st, const ir_diff_group *g);

#endif
