/* Shape inference internals, shared by infer*.c and verify.c.
 *
 * An inference context (ir_icx) runs one node's rule at a time: the rule
 * reads its operands' types (ir_shape copies, so that growing the graph's
 * dim pool cannot invalidate them), its attributes and the known values of
 * small integer operands, and writes the inferred types of the results to
 * cx->out.  The driver (infer.c) then merges them into the graph (ir_infer)
 * or compares them with the stored types (ir_verify). */
#ifndef GRAFT_INFER_INTERNAL_H
#define GRAFT_INFER_INTERNAL_H

#include "ir_internal.h"

#define IR_KV_MAX 64     /* elements of a tracked integer tensor */
#define IR_INFER_MAXOUT 5 /* most results of a registered op (BatchNormalization < 14) */

/* A type under construction: like ir_type, with the dims inline. */
typedef struct ir_shape {
	uint8_t kind;  /* ir_type_kind */
	uint8_t dtype; /* ir_dtype */
	int16_t rank;  /* -1 unknown */
	ir_bid blob;   /* IR_TYPE_OPAQUE: the TypeProto */
	ir_dim d[IR_MAX_RANK];
} ir_shape;

#define IR_DIM_UNKNOWN ((ir_dim){-1, 0})

/* A small integer (or bool) tensor whose value is known, element by element:
 * bit i of unk set means element i is unknown (sym may name it, when it is a
 * dimension taken by Shape from a dim_param). */
typedef struct ir_kval {
	uint8_t dtype;
	int16_t rank;
	uint32_t n;
	uint64_t unk;
	int64_t dims[IR_MAX_RANK];
	int64_t v[IR_KV_MAX];
	ir_str sym[IR_KV_MAX];
} ir_kval;

typedef struct ir_kvent {
	ir_val v;
	uint8_t dtype;
	int16_t rank;
	uint32_t n;
	uint64_t unk;
	uint32_t off;    /* pool: rank dims, then n values */
	uint32_t symoff; /* syms: n names, or UINT32_MAX when none */
} ir_kvent;

/* Known values by value id: open addressing over entry indices; storage
 * comes from the graph's allocator but never touches the graph. */
typedef struct ir_kvtab {
	const ir_graph *g;
	uint32_t *slots; /* entry index + 1; 0 empty */
	uint32_t cap;
	ir_kvent *ents;
	uint32_t nents, entcap;
	int64_t *pool;
	uint32_t npool, poolcap;
	ir_str *syms;
	uint32_t nsyms, symcap;
	bool oom;
} ir_kvtab;

typedef struct ir_icx {
	const ir_graph *g;
	ir_diags *d;
	const char *file;
	int64_t opset;
	ir_kvtab kv;
	int lazy;      /* depth budget to evaluate producers on demand; 0: table only */
	size_t errors;
	ir_nid n;      /* the current node */
	uint16_t opcode;
	uint32_t nin, nout;
	bool failed;   /* the current node reported an error */
	bool read_values; /* ir_kv_get was asked (inference read known values) */
	ir_shape out[IR_INFER_MAXOUT];
} ir_icx;

/* ---------------------------------------------------------------- infer.c */
void ir_icx_init(ir_icx *cx, const ir_graph *g, ir_diags *d, const char *file, int lazy);
void ir_icx_free(ir_icx *cx);
/* Runs node n's rule (arity and required attributes first); fills cx->out.
 * requires: n registered and live.  False after an error. */
bool ir_icx_run(ir_icx *cx, ir_nid n);
/* Compares cx->out with the stored result types: errors on conflict. */
void ir_icx_check(ir_icx *cx);

void ir_shape_none(ir_shape *s);
/* A tensor of rank `rank` (<= IR_MAX_RANK) with unknown dims. */
void ir_shape_tensor(ir_shape *s, int dtype, int rank);
void ir_shape_of_type(const ir_graph *g, ir_type t, ir_shape *s);
/* Copies the header and the rank dims only. */
void ir_shape_copy(ir_shape *dst, const ir_shape *src);
int ir_shape_format(const ir_graph *g, const ir_shape *s, char *buf, size_t cap);

/* "node 'conv1' (Conv)" or "node #12 (Conv)"; "%x" or "value #7". */
void ir_node_label(const ir_graph *g, ir_nid n, char *buf, size_t cap);
void ir_value_label(const ir_graph *g, ir_val v, char *buf, size_t cap);

/* The current node, for rules. */
void ir_icx_in(const ir_icx *cx, uint32_t i, ir_shape *s); /* absent: nothing known */
bool ir_icx_has(const ir_icx *cx, uint32_t i);
bool ir_icx_err(ir_icx *cx, const char *fmt, ...) IR_PRINTF(2, 3); /* returns false */
const ir_attr *ir_icx_attr(const ir_icx *cx, const char *name);
/* Typed attribute getters: absent -> default, wrong kind -> error. */
int64_t ir_icx_int(ir_icx *cx, const char *name, int64_t dflt);
/* Copies the list into out (cap entries); -1 when absent; errors when longer. */
int ir_icx_ints(ir_icx *cx, const char *name, int64_t *out, int cap);
/* NUL-terminated string attribute, or dflt. */
const char *ir_icx_str(ir_icx *cx, const char *name, const char *dflt);
/* Normalizes an axis into [0, rank): errors when out of range. */
bool ir_icx_axis(ir_icx *cx, const char *what, int64_t axis, int rank, int *out);
/* An error when attribute name is set at an opset before `version`. */
bool ir_icx_since(ir_icx *cx, const char *name, int64_t version);
/* An error unless rank <= IR_MAX_RANK. */
bool ir_icx_rank_ok(ir_icx *cx, int64_t rank);
/* Known value of operand i (false when unknown or absent). */
bool ir_icx_kv(ir_icx *cx, uint32_t i, ir_kval *k);

/* ---------------------------------------------------------------- infer_kv.c */
void ir_kvtab_init(ir_kvtab *t, const ir_graph *g);
void ir_kvtab_free(ir_kvtab *t);
/* The known value of v: from the table, a constant, or (lazy) its producer. */
bool ir_kv_get(ir_icx *cx, ir_val v, ir_kval *k);
/* Computes and records the known values of node n's first result from the
 * stored types and its operands' known values. */
void ir_kv_fold_node(ir_icx *cx, ir_nid n);
/* A scalar operand as a double: known integers or constant float tensors. */
bool ir_kv_scalar_f64(ir_icx *cx, ir_val v, double *out);
/* Decodes a small integer tensor (false for other dtypes or > IR_KV_MAX). */
bool ir_kv_from_tensor(const ir_graph *g, ir_tid t, ir_kval *k);

/* ---------------------------------------------------------------- infer_shape.c */
/* A 1-D integer operand (shape, pads, axes, starts...): its length and,
 * when known, its value (elements may still be unknown one by one). */
typedef struct ir_list_arg {
	int len;    /* -1 unknown */
	bool known;
	ir_kval k;
} ir_list_arg;
/* Reads operand i; errors unless 1-D, int64 (or int32 when !i64_only) and
 * at most max entries. */
bool ir_icx_list(ir_icx *cx, uint32_t i, bool i64_only, int max, ir_list_arg *a);
/* Element i as a dim (unknown ones keep their name). */
ir_dim ir_list_dim(const ir_list_arg *a, int i);

/* ---------------------------------------------------------------- infer_eval.c */
/* True for ops whose known operand values determine their result's. */
bool ir_kv_foldable(uint16_t opcode);
/* Evaluates node n on its operands' known values; k holds the result's
 * dtype and shape (from its stored type) on entry.  False when nothing can
 * be computed. */
bool ir_kv_eval_op(ir_icx *cx, ir_nid n, ir_kval *k);
/* Slice of one axis of size dim: returns the length, *first the first index. */
int64_t ir_slice_len(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first);

/* ---------------------------------------------------------------- infer_ew.c */
/* Multidirectional broadcast of a and b into out (errors on mismatch). */
bool ir_icx_broadcast(ir_icx *cx, ir_shape *out, const ir_shape *a, const ir_shape *b);
/* Broadcast of one dim pair; false when incompatible. */
bool ir_dim_broadcast(ir_dim a, ir_dim b, ir_dim *out);

/* ---------------------------------------------------------------- rules, one per op of ops.def */
#define IR_OP(id, ...) bool ir_infer_op_##id(ir_icx *cx);
#include "ops.def" /* IWYU pragma: keep */
#undef IR_OP

#endif
