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

struct ir_graph {
	ir_allocf alloc;
	void *ud;
	bool oom;

	/* interned strings: bytes (each NUL-terminated), entries, hash index */
	IR_VEC(char) chars;
	IR_VEC(ir_strent) strs;
	uint32_t *strhash; /* open addressing, holds string ids, 0 = empty */
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

	ir_nid first, last;
	uint32_t live_nodes;
	ir_meta meta;
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

/* FNV-1a over bytes. */
uint32_t ir_hash_bytes(const void *p, size_t n);

/* Resolves one node's opcode from op/domain and the graph's opsets. */
void ir_node_resolve(ir_graph *g, ir_nid n);

#endif
