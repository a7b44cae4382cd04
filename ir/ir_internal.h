/* Layer-internal declarations of ir/: the graph's layout and helpers shared
 * by the files of this layer.  Not installed; other layers use ir.h. */
#ifndef GRAFT_IR_INTERNAL_H
#define GRAFT_IR_INTERNAL_H

#include "ir.h"

/* A growable array of T inside a graph; grown with ir_vec_grow. */
#define IR_VEC(T)                                                                                  \
	struct {                                                                                   \
		T *v;                                                                              \
		uint32_t n, cap;                                                                   \
	}

typedef struct ir_strent {
	uint32_t off, len;
	uint32_t hash;
} ir_strent;

typedef struct ir_blob {
	void *p;
	size_t n;
} ir_blob;

typedef struct ir_srcloc {
	int line, col;
} ir_srcloc;

/* A remembered registry lookup: (op, domain) at an opset version. */
typedef struct ir_opcache {
	ir_str op, domain;
	int64_t version;
	uint16_t opcode;
} ir_opcache;
#define IR_OPCACHE 64 /* entries, by op string id */

struct ir_graph {
	ir_allocf alloc;
	void *ud;
	bool oom;

	/* interned strings: bytes (each NUL-terminated), entries, hash index */
	IR_VEC(char) chars;
	IR_VEC(ir_strent) strs;
	uint64_t *strhash; /* open addressing: hash << 32 | string id; 0 = empty */
	uint32_t hashcap;

	IR_VEC(ir_node) nodes;
	IR_VEC(ir_value) values;
	IR_VEC(ir_use) uses;
	IR_VEC(ir_val) results;
	IR_VEC(ir_attr) attrs;
	IR_VEC(ir_dim) dims;
	IR_VEC(int64_t) i64;
	IR_VEC(float) f32;
	IR_VEC(uint32_t) u32;
	IR_VEC(ir_tensor) tensors;
	IR_VEC(ir_blob) blobs;

	IR_VEC(ir_val) inputs;
	IR_VEC(ir_val) outputs;
	IR_VEC(ir_val) consts;
	IR_VEC(ir_opset) opsets;
	IR_VEC(ir_kv) props;
	IR_VEC(ir_bid) extras[IR_EXTRA_KINDS];
	IR_VEC(ir_func) funcs;   /* model-local functions (func.c) */
	IR_VEC(ir_attr) fattrs;  /* a function body: the attributes its function declares */
	const ir_graph *scope;   /* a body or call instance: the graph holding its function */
	int depth;               /* a call instance: how many calls deep */
	IR_VEC(ir_srcloc) locs; /* by node id: where the .gir parser read it */

	ir_nid first, last;
	uint32_t live_nodes;
	ir_meta meta;
	ir_opcache opcache[IR_OPCACHE]; /* recent opcode lookups (node.c) */
};

/* Ensures room for `extra` more elements; false (and g->oom) on failure. */
bool ir_vec_grow_(ir_graph *g, void **v, uint32_t *cap, uint32_t need, size_t elt);
#define ir_vec_reserve(g, vec, extra)                                                              \
	((vec).n + (uint32_t)(extra) <= (vec).cap ||                                               \
	 ir_vec_grow_((g), (void **)&(vec).v, &(vec).cap, (vec).n + (uint32_t)(extra),             \
		      sizeof(*(vec).v)))
#define ir_vec_push(g, vec, x) (ir_vec_reserve(g, vec, 1) ? ((vec).v[(vec).n++] = (x), true) : false)
void ir_vec_free_(ir_graph *g, void *v, uint32_t cap, size_t elt);
#define ir_vec_free(g, vec) ir_vec_free_((g), (vec).v, (vec).cap, sizeof(*(vec).v))

/* A hash of n bytes (the string index's). */
uint32_t ir_hash_bytes(const void *p, size_t n);

/* Resolves one node's opcode from op/domain and the graph's opsets. */
void ir_node_resolve(ir_graph *g, ir_nid n);

/* ---------------------------------------------------------------- func.c, func_copy.c */

/* Frees the function table (ir_graph_free). */
void ir_funcs_free(ir_graph *g);
/* The function (domain, op) names as seen from g (g's table, then the
 * tables of the graphs g's scope chain leads to); *owner receives the graph
 * holding it.  NULL when none. */
const ir_func *ir_func_lookup(const ir_graph *g, const char *domain, const char *op, const ir_graph **owner);
/* Node n carries an attribute reference (it belongs to a function body). */
bool ir_node_has_ref(const ir_graph *g, ir_nid n);
/* ir_verify's part for functions: bodies, references, recursion, calls. */
size_t ir_verify_funcs(const ir_graph *g, ir_diags *d, const char *file);

#endif
