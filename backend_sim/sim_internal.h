/* Layer-internal declarations of backend_sim/ numerics, sectioned by the
 * file that defines each group.  Other layers use sim.h. */
#ifndef GRAFT_SIM_INTERNAL_H
#define GRAFT_SIM_INTERNAL_H

#include "sim.h"

/* ---------------------------------------------------------------- sim_tensor.c */

/* Element classes for the generic (non-f32) kernel paths. */
typedef enum { SIM_CLASS_FLOAT, SIM_CLASS_SIGNED, SIM_CLASS_UNSIGNED, SIM_CLASS_BOOL, SIM_CLASS_NONE } sim_class;

sim_class sim_dtype_class(ir_dtype t);
/* Stores v converted to t's dtype (floats round to nearest even for f16). */
void sim_set_f64(sim_tensor *t, size_t i, double v);
/* Stores v truncated to t's width (wraps, as C unsigned conversion does). */
void sim_set_i64(sim_tensor *t, size_t i, int64_t v);
/* Bytes of a dense tensor of these dims; false when a dim is negative or
 * the size overflows. */
bool sim_dims_bytes(const int64_t *dims, int rank, size_t esize, size_t *bytes);
/* Like sim_tensor_alloc but without zeroing large buffers the kernel fills. */
bool sim_tensor_alloc_raw(sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims);
/* Product of dims[from..to). */
int64_t sim_prod(const int64_t *dims, int from, int to);
/* Normalises axis into [0, rank); false when out of range. */
bool sim_axis(int64_t axis, int rank, int *out);
/* The lowest / highest finite value of a dtype, as double. */
double sim_dtype_lowest(ir_dtype t);
double sim_dtype_highest(ir_dtype t);

/* ---------------------------------------------------------------- broadcast.c */

#define SIM_BCAST_MAX 3

/* Output shape and per-operand element strides (0 along broadcast dims),
 * with contiguous dims merged so the innermost row is as long as possible. */
typedef struct sim_bcast {
	int rank, n;
	int64_t dims[IR_MAX_RANK];
	int64_t strides[SIM_BCAST_MAX][IR_MAX_RANK];
} sim_bcast;

/* numpy multidirectional broadcast of n shapes; false when incompatible. */
bool sim_broadcast_shape(const sim_tensor *const *ops, int n, int64_t *dims, int *rank);
/* requires: outdims is a broadcast of every operand's shape. */
void sim_bcast_init(sim_bcast *b, const sim_tensor *const *ops, int n, const int64_t *outdims,
		    int outrank);
/* Calls row(ctx, out_offset, in_offsets, in_steps, count) for each
 * innermost row of the (merged) output in row-major order. */
typedef void (*sim_row_fn)(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt);
void sim_bcast_rows(const sim_bcast *b, sim_row_fn row, void *ctx);
/* Copies the elements of src at base + sum(idx[j] * strides[j]) (strides in
 * elements, possibly negative or 0) over idx < dims, row-major into dst. */
void sim_strided_copy(const sim_tensor *src, size_t base, const int64_t *strides, const int64_t *dims,
		      int rank, void *dst);
/* Copies operand 0 of b (src) broadcast to b's output shape into dst. */
void sim_bcast_copy(const sim_bcast *b, const sim_tensor *src, void *dst);

/* ---------------------------------------------------------------- eval.c: the kernel context */

/* Working memory that a whole-graph run lends its kernels, kept from node
 * to node so large buffers are not allocated (and faulted in) anew. */
typedef struct sim_scratch {
	void *data;
	size_t cap;
} sim_scratch;

/* What a whole-graph run lets a node do with an operand's buffer. */
typedef enum {
	SIM_HAND_NONE,
	SIM_HAND_GIVE, /* owned and dead after this node: a result may take it over */
	SIM_HAND_LEND, /* not owned and valid for the whole run: a result may view it */
} sim_hand;

typedef struct sim_kctx {
	const ir_graph *g;
	ir_nid node;
	int64_t opset; /* default-domain opset of the graph (13 when not imported) */
	sim_mode mode;
	const char *file;
	const sim_tensor *const *in;
	uint32_t nin;
	sim_tensor *out;
	uint32_t nout;
	ir_diags *d;
	sim_status status;
	const uint8_t *hand; /* sim_hand per operand; NULL: none (always so outside fp32 mode) */
	sim_scratch *scratch; /* NULL outside whole-graph runs */
} sim_kctx;

typedef sim_status (*sim_kernel)(sim_kctx *k);

/* Reports "node 'X' (Op): message" and returns st. */
sim_status sim_fail(sim_kctx *k, sim_status st, const char *fmt, ...) IR_PRINTF(3, 4);
sim_status sim_nomem(sim_kctx *k);
uint16_t sim_opcode(const sim_kctx *k);
/* Operand i, or NULL when absent or beyond nin. */
const sim_tensor *sim_in(const sim_kctx *k, uint32_t i);
/* Fails unless operand i is present. */
const sim_tensor *sim_need(sim_kctx *k, uint32_t i);
int64_t sim_attr_int(const sim_kctx *k, const char *name, int64_t dflt);
float sim_attr_float(const sim_kctx *k, const char *name, float dflt);
/* Up to cap ints; -1 when absent. */
int sim_attr_ints(const sim_kctx *k, const char *name, int64_t *out, int cap);
/* A STRING attribute (NUL-terminated) or dflt. */
const char *sim_attr_str(const sim_kctx *k, const char *name, const char *dflt);
/* Reads a 1-D integer tensor (i32/i64) into out (up to cap); -1 when it
 * is not one (and reports). */
int sim_read_ints(sim_kctx *k, const sim_tensor *t, const char *what, int64_t *out, int cap);
/* Allocates result i; reports out-of-memory. */
sim_status sim_out_alloc(sim_kctx *k, uint32_t i, ir_dtype dt, int rank, const int64_t *dims);
sim_status sim_out_alloc_raw(sim_kctx *k, uint32_t i, ir_dtype dt, int rank, const int64_t *dims);
/* Allocates result 0 like sim_out_alloc_raw, or takes over the buffer of
 * an operand in mask (bit i: operand i) that the run gives away and that
 * has result 0's dtype and size.  requires: the kernel reads element j of
 * such an operand only before it writes element j of result 0. */
sim_status sim_out_inplace(sim_kctx *k, uint32_t mask, ir_dtype dt, int rank, const int64_t *dims);
/* Result 0 = operand i's elements under dims (as many elements): its
 * buffer taken over or viewed when the run allows, else copied. */
sim_status sim_out_alias(sim_kctx *k, uint32_t i, int rank, const int64_t *dims);
/* A buffer of at least bytes for the kernel's own use until it returns:
 * the run's scratch when there is one, else malloc'd.  NULL when out of
 * memory.  Give it back with sim_scratch_put. */
void *sim_scratch_get(sim_kctx *k, size_t bytes);
void sim_scratch_put(sim_kctx *k, void *p);

/* Fails with SIM_UNSUPPORTED naming the dtype. */
sim_status sim_bad_dtype(sim_kctx *k, const sim_tensor *t);

/* What exec.c lends sim_eval_node_hand: hand-offs (sim_hand per operand,
 * or NULL) and scratch (or NULL).  A result whose data is an operand's
 * has taken over a SIM_HAND_GIVE buffer (owned) or views a SIM_HAND_LEND
 * one (not owned). */
typedef struct sim_lend {
	const uint8_t *hand;
	sim_scratch *scratch;
} sim_lend;

sim_status sim_eval_node_hand(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			      uint32_t nin, const sim_lend *lend, sim_tensor *out, uint32_t nout, ir_diags *d);

/* ---------------------------------------------------------------- kernels_*.c */

sim_status sim_k_unary(sim_kctx *k);  /* Relu Sqrt Erf Sigmoid HardSigmoid Neg Tanh LeakyRelu */
sim_status sim_k_cast(sim_kctx *k);
sim_status sim_k_clip(sim_kctx *k);
sim_status sim_k_binary(sim_kctx *k); /* Add Sub Mul Div Pow */
sim_status sim_k_equal(sim_kctx *k);
sim_status sim_k_where(sim_kctx *k);
sim_status sim_k_conv(sim_kctx *k);
sim_status sim_k_maxpool(sim_kctx *k);
sim_status sim_k_avgpool(sim_kctx *k);
sim_status sim_k_gap(sim_kctx *k);
sim_status sim_k_matmul(sim_kctx *k);
sim_status sim_k_gemm(sim_kctx *k);
sim_status sim_k_batchnorm(sim_kctx *k);
sim_status sim_k_softmax(sim_kctx *k);
sim_status sim_k_reduce(sim_kctx *k); /* ReduceMean ReduceSum */
sim_status sim_k_reshape(sim_kctx *k);
sim_status sim_k_flatten(sim_kctx *k);
sim_status sim_k_squeeze(sim_kctx *k);
sim_status sim_k_unsqueeze(sim_kctx *k);
sim_status sim_k_identity(sim_kctx *k);
sim_status sim_k_transpose(sim_kctx *k);
sim_status sim_k_concat(sim_kctx *k);
sim_status sim_k_slice(sim_kctx *k);
sim_status sim_k_gather(sim_kctx *k);
sim_status sim_k_expand(sim_kctx *k);
sim_status sim_k_pad(sim_kctx *k);
sim_status sim_k_shape(sim_kctx *k);
sim_status sim_k_constant(sim_kctx *k);
sim_status sim_k_constantofshape(sim_kctx *k);
sim_status sim_k_range(sim_kctx *k);

/* ---------------------------------------------------------------- call.c */

/* A call of a model-local function (requires: ir_node_callee): runs its
 * body on the operands. */
sim_status sim_run_call(sim_kctx *k);

/* ---------------------------------------------------------------- kernels_gemm.c */

/* Row-major C = alpha * op(A) op(B) + beta * C through cblas_sgemm (or
 * cblas_sgemv when m or n is 1); m x n result, inner dimension kk.  Zero-size products only scale C.  false when
 * a dimension exceeds the BLAS int range. */
bool sim_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, float alpha, const float *a,
	       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* ---------------------------------------------------------------- window.c: conv/pool geometry */

#define SIM_MAX_SPATIAL (IR_MAX_RANK - 2)

/* Spatial geometry of a sliding window over the dims after N and C. */
typedef struct sim_window {
	int nsp;
	int64_t in[SIM_MAX_SPATIAL], out[SIM_MAX_SPATIAL];
	int64_t kernel[SIM_MAX_SPATIAL], stride[SIM_MAX_SPATIAL], dilation[SIM_MAX_SPATIAL];
	int64_t pad_begin[SIM_MAX_SPATIAL], pad_end[SIM_MAX_SPATIAL];
} sim_window;

/* Reads strides, dilations, pads and auto_pad for input x, with the kernel
 * extents already in w->kernel; computes the output extents (ceil_mode for
 * pools).  Reports and returns non-OK on bad attributes. */
sim_status sim_window_init(sim_kctx *k, sim_window *w, const sim_tensor *x, bool ceil_mode);

/* A window of 1 or 2 spatial dims seen as 2 (a 1-D window gets a leading
 * dim of extent 1), for the direct f32 kernels. */
typedef struct sim_plane2 {
	int64_t in[2], out[2], k[2], s[2], d[2], pb[2], pe[2];
} sim_plane2;

/* Along one dim, a window starts at input index start; its taps
 * lo <= t < hi land inside the input and its first `padded` taps inside
 * the padded input. */
typedef struct sim_taps {
	int64_t start, lo, hi, padded;
} sim_taps;

/* The taps of every window of a plane: rows[o] for output row o, cols[o]
 * for output column o, and for each kernel column b the output columns
 * col_lo[b] <= j < col_hi[b] whose tap b lands inside the input; in the
 * output columns full_lo <= j < full_hi every tap does (none when
 * full_lo >= full_hi). */
typedef struct sim_plane {
	sim_plane2 g;
	sim_taps *rows, *cols;
	int64_t *col_lo, *col_hi;
	int64_t full_lo, full_hi;
} sim_plane;

/* requires: w->nsp is 1 or 2.  false when out of memory. */
bool sim_plane_init(sim_plane *p, const sim_window *w);
void sim_plane_free(sim_plane *p);

#endif
