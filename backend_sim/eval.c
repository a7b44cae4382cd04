/* One node's evaluation: the kernel table, the kernel context helpers, and
 * the precision modes (fp16 rounding around kernels, half-float promotion). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

enum {
	K_FLOAT = 1u << 0, /* float math in f32: f16/bf16 operands promoted, f64 refused */
};

typedef struct kentry {
	sim_kernel fn;
	unsigned flags;
} kentry;

static const kentry kernels[IR_OP_COUNT] = {
	[IR_OP_Conv] = {sim_k_conv, K_FLOAT},
	[IR_OP_BatchNormalization] = {sim_k_batchnorm, K_FLOAT},
	[IR_OP_Relu] = {sim_k_unary, 0},
	[IR_OP_Clip] = {sim_k_clip, 0},
	[IR_OP_Add] = {sim_k_binary, 0},
	[IR_OP_Mul] = {sim_k_binary, 0},
	[IR_OP_Sub] = {sim_k_binary, 0},
	[IR_OP_Div] = {sim_k_binary, 0},
	[IR_OP_Pow] = {sim_k_binary, 0},
	[IR_OP_Sqrt] = {sim_k_unary, 0},
	[IR_OP_Erf] = {sim_k_unary, 0},
	[IR_OP_Sigmoid] = {sim_k_unary, 0},
	[IR_OP_HardSigmoid] = {sim_k_unary, 0},
	[IR_OP_MatMul] = {sim_k_matmul, K_FLOAT},
	[IR_OP_Gemm] = {sim_k_gemm, K_FLOAT},
	[IR_OP_Reshape] = {sim_k_reshape, 0},
	[IR_OP_Transpose] = {sim_k_transpose, 0},
	[IR_OP_Flatten] = {sim_k_flatten, 0},
	[IR_OP_Concat] = {sim_k_concat, 0},
	[IR_OP_Softmax] = {sim_k_softmax, K_FLOAT},
	[IR_OP_ReduceMean] = {sim_k_reduce, 0},
	[IR_OP_ReduceSum] = {sim_k_reduce, 0},
	[IR_OP_MaxPool] = {sim_k_maxpool, K_FLOAT},
	[IR_OP_AveragePool] = {sim_k_avgpool, K_FLOAT},
	[IR_OP_GlobalAveragePool] = {sim_k_gap, K_FLOAT},
	[IR_OP_Identity] = {sim_k_identity, 0},
	[IR_OP_Constant] = {sim_k_constant, 0},
	[IR_OP_Pad] = {sim_k_pad, 0},
	[IR_OP_Slice] = {sim_k_slice, 0},
	[IR_OP_Gather] = {sim_k_gather, 0},
	[IR_OP_Shape] = {sim_k_shape, 0},
	[IR_OP_ConstantOfShape] = {sim_k_constantofshape, 0},
	[IR_OP_Expand] = {sim_k_expand, 0},
	[IR_OP_Equal] = {sim_k_equal, 0},
	[IR_OP_Where] = {sim_k_where, 0},
	[IR_OP_Unsqueeze] = {sim_k_unsqueeze, 0},
	[IR_OP_Squeeze] = {sim_k_squeeze, 0},
	[IR_OP_Cast] = {sim_k_cast, 0},
	[IR_OP_Neg] = {sim_k_unary, 0},
	[IR_OP_Tanh] = {sim_k_unary, 0},
	[IR_OP_LeakyRelu] = {sim_k_unary, 0},
	[IR_OP_Range] = {sim_k_range, 0},
};

bool sim_op_supported(uint16_t opcode)
{
	return opcode > 0 && opcode < IR_OP_COUNT && kernels[opcode].fn;
}

/* ---------------------------------------------------------------- context helpers */

sim_status sim_fail(sim_kctx *k, sim_status st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const ir_node *x = ir_node_at(k->g, k->node);
	const char *name = ir_cstr(k->g, x->name);
	int line, col;
	ir_node_loc(k->g, k->node, &line, &col);
	if (name[0])
		ir_error(k->d, k->file, line, col, "node '%s' (%s): %s", name, ir_cstr(k->g, x->op), msg);
	else
		ir_error(k->d, k->file, line, col, "node #%u (%s): %s", (unsigned)k->node,
			 ir_cstr(k->g, x->op), msg);
	k->status = st;
	return st;
}

sim_status sim_nomem(sim_kctx *k)
{
	return sim_fail(k, SIM_ENOMEM, "out of memory");
}

sim_status sim_bad_dtype(sim_kctx *k, const sim_tensor *t)
{
	return sim_fail(k, SIM_UNSUPPORTED, "element type %s not supported by the simulator",
			ir_dtype_name(t->dtype));
}

uint16_t sim_opcode(const sim_kctx *k)
{
	return ir_node_at(k->g, k->node)->opcode;
}

const sim_tensor *sim_in(const sim_kctx *k, uint32_t i)
{
	return i < k->nin ? k->in[i] : NULL;
}

const sim_tensor *sim_need(sim_kctx *k, uint32_t i)
{
	const sim_tensor *t = sim_in(k, i);
	if (!t)
		sim_fail(k, SIM_EINVAL, "operand %u is missing", (unsigned)i);
	return t;
}

int64_t sim_attr_int(const sim_kctx *k, const char *name, int64_t dflt)
{
	return ir_attr_int(k->g, k->node, name, dflt);
}

float sim_attr_float(const sim_kctx *k, const char *name, float dflt)
{
	return ir_attr_float(k->g, k->node, name, dflt);
}

int sim_attr_ints(const sim_kctx *k, const char *name, int64_t *out, int cap)
{
	return ir_attr_ints_get(k->g, k->node, name, out, cap);
}

const char *sim_attr_str(const sim_kctx *k, const char *name, const char *dflt)
{
	const ir_attr *a = ir_attr_find(k->g, k->node, name);
	return a && a->kind == IR_ATTR_STRING ? ir_cstr(k->g, a->u.s) : dflt;
}

int sim_read_ints(sim_kctx *k, const sim_tensor *t, const char *what, int64_t *out, int cap)
{
	if ((t->dtype != IR_I64 && t->dtype != IR_I32) || t->rank > 1) {
		sim_fail(k, SIM_EINVAL, "%s must be a 1-D int64 tensor", what);
		return -1;
	}
	size_t n = sim_numel(t);
	if (n > (size_t)cap) {
		sim_fail(k, SIM_EINVAL, "%s has %zu entries (at most %d)", what, n, cap);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = sim_get_i64(t, i);
	return (int)n;
}

static sim_status out_check(sim_kctx *k, uint32_t i, ir_dtype dt, int rank, const int64_t *dims)
{
	size_t bytes;
	if (i >= k->nout)
		return sim_fail(k, SIM_EINVAL, "result %u expected", (unsigned)i);
	if (rank > IR_MAX_RANK)
		return sim_fail(k, SIM_UNSUPPORTED, "rank %d exceeds %d", rank, IR_MAX_RANK);
	if (!sim_dims_bytes(dims, rank, ir_dtype_size(dt), &bytes))
		return sim_fail(k, SIM_EINVAL, "result %u has invalid or too large dims", (unsigned)i);
	return SIM_OK;
}

sim_status sim_out_alloc(sim_kctx *k, uint32_t i, ir_dtype dt, int rank, const int64_t *dims)
{
	sim_status st = out_check(k, i, dt, rank, dims);
	if (st == SIM_OK && !sim_tensor_alloc(&k->out[i], dt, rank, dims))
		st = sim_nomem(k);
	return st;
}

sim_status sim_out_alloc_raw(sim_kctx *k, uint32_t i, ir_dtype dt, int rank, const int64_t *dims)
{
	sim_status st = out_check(k, i, dt, rank, dims);
	if (st == SIM_OK && !sim_tensor_alloc_raw(&k->out[i], dt, rank, dims))
		st = sim_nomem(k);
	return st;
}

void *sim_scratch_get(sim_kctx *k, size_t bytes)
{
	sim_scratch *s = k->scratch;
	bytes = bytes ? bytes : 1;
	if (!s)
		return malloc(bytes);
	if (s->cap < bytes) {
		free(s->data);
		s->data = malloc(bytes);
		s->cap = s->data ? bytes : 0;
	}
	return s->data;
}

void sim_scratch_put(sim_kctx *k, void *p)
{
	if (!k->scratch)
		free(p);
}

/* Result 0 of dtype dt and dims over data (owned or a view). */
static sim_status out_adopt(sim_kctx *k, ir_dtype dt, int rank, const int64_t *dims, void *data, bool owned)
{
	sim_status st = out_check(k, 0, dt, rank, dims);
	if (st != SIM_OK)
		return st;
	sim_tensor *y = &k->out[0];
	memset(y, 0, sizeof *y);
	y->dtype = dt;
	y->rank = rank;
	memcpy(y->dims, dims, (size_t)rank * sizeof *dims);
	y->data = data;
	y->owned = owned;
	return SIM_OK;
}

/* True when operand i's buffer is also an operand outside mask. */
static bool shared_outside(const sim_kctx *k, uint32_t i, uint32_t mask)
{
	for (uint32_t j = 0; j < k->nin; j++)
		if (k->in[j] && k->in[j]->data == k->in[i]->data && (j >= 32 || !(mask >> j & 1)))
			return true;
	return false;
}

sim_status sim_out_inplace(sim_kctx *k, uint32_t mask, ir_dtype dt, int rank, const int64_t *dims)
{
	size_t bytes;
	bool sized = rank >= 0 && rank <= IR_MAX_RANK && sim_dims_bytes(dims, rank, ir_dtype_size(dt), &bytes);
	for (uint32_t i = 0; sized && k->hand && i < k->nin && i < 32; i++) {
		const sim_tensor *x = k->in[i];
		bool fits = x && x->dtype == dt && sim_nbytes(x) == bytes;
		if ((mask >> i & 1) && k->hand[i] == SIM_HAND_GIVE && fits && !shared_outside(k, i, mask))
			return out_adopt(k, dt, rank, dims, x->data, true);
	}
	return sim_out_alloc_raw(k, 0, dt, rank, dims);
}

sim_status sim_out_alias(sim_kctx *k, uint32_t i, int rank, const int64_t *dims)
{
	const sim_tensor *x = k->in[i];
	sim_hand h = k->hand ? (sim_hand)k->hand[i] : SIM_HAND_NONE;
	if (h != SIM_HAND_NONE)
		return out_adopt(k, x->dtype, rank, dims, x->data, h == SIM_HAND_GIVE);
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, rank, dims);
	if (st == SIM_OK)
		memcpy(k->out[0].data, x->data, sim_nbytes(x));
	return st;
}

/* ---------------------------------------------------------------- precision handling */

static bool is_half(ir_dtype t)
{
	return t == IR_F16 || t == IR_BF16;
}

/* Converts a float tensor to an owned f32 copy. */
static bool to_f32(const sim_tensor *src, sim_tensor *dst)
{
	if (!sim_tensor_alloc_raw(dst, IR_F32, src->rank, src->dims))
		return false;
	float *o = dst->data;
	size_t n = sim_numel(src);
	for (size_t i = 0; i < n; i++)
		o[i] = (float)sim_get_f64(src, i);
	return true;
}

/* Converts an f32 result in place to dt (f16/bf16). */
static bool from_f32(sim_tensor *t, ir_dtype dt)
{
	sim_tensor c;
	if (!sim_tensor_alloc_raw(&c, dt, t->rank, t->dims))
		return false;
	const float *s = t->data;
	size_t n = sim_numel(t);
	for (size_t i = 0; i < n; i++)
		sim_set_f64(&c, i, s[i]);
	c.name = t->name;
	t->name = NULL;
	sim_tensor_free(t);
	*t = c;
	return true;
}

/* Operand i as the kernel sees it: promoted and/or fp16-rounded into tmp
 * when the flags and mode ask for it, else the caller's tensor. */
static sim_status prepare_operand(sim_kctx *k, unsigned flags, const sim_tensor *t, sim_tensor *tmp,
				  const sim_tensor **use, ir_dtype *half)
{
	*use = t;
	if (!t)
		return SIM_OK;
	if ((flags & K_FLOAT) && t->dtype == IR_F64)
		return sim_bad_dtype(k, t);
	bool promote = (flags & K_FLOAT) && is_half(t->dtype);
	bool round = k->mode != SIM_FP32 && (t->dtype == IR_F32 || promote);
	if (!promote && !round)
		return SIM_OK;
	if (promote) {
		*half = t->dtype;
		if (!to_f32(t, tmp))
			return sim_nomem(k);
	} else if (!sim_tensor_alloc_raw(tmp, IR_F32, t->rank, t->dims)) {
		return sim_nomem(k);
	} else {
		memcpy(tmp->data, t->data, sim_nbytes(t));
	}
	if (round)
		sim_round_f16_array(tmp->data, sim_numel(tmp));
	*use = tmp;
	return SIM_OK;
}

static sim_status finish_results(sim_kctx *k, ir_dtype half, bool round)
{
	for (uint32_t i = 0; i < k->nout; i++) {
		sim_tensor *t = &k->out[i];
		if (!t->data || t->dtype != IR_F32)
			continue;
		if (half != IR_UNDEF) {
			if (!from_f32(t, half))
				return sim_nomem(k);
		} else if (round) {
			sim_round_f16_array(t->data, sim_numel(t));
		}
	}
	return SIM_OK;
}

#define RUN_LOCAL 4 /* operands whose scratch lives on the stack */

static sim_status run_kernel(sim_kctx *k, const kentry *e, const sim_tensor *const *in)
{
	uint32_t n = k->nin ? k->nin : 1;
	sim_tensor ltmp[RUN_LOCAL];
	const sim_tensor *luse[RUN_LOCAL];
	bool local = n <= RUN_LOCAL; /* most nodes: no allocation per call */
	sim_tensor *tmp = local ? ltmp : calloc(n, sizeof *tmp);
	const sim_tensor **use = local ? luse : calloc(n, sizeof *use);
	if (!tmp || !use) {
		if (!local) {
			free(tmp);
			free(use);
		}
		return sim_nomem(k);
	}
	/* prepare_operand sets use[i] (tmp[i] only when use[i] points at it) */
	ir_dtype half = IR_UNDEF;
	sim_status st = SIM_OK;
	uint32_t i = 0;
	for (; i < k->nin && st == SIM_OK; i++) {
		st = prepare_operand(k, e->flags, in[i], &tmp[i], &use[i], &half);
		if (use[i] != in[i] || k->mode != SIM_FP32)
			k->hand = NULL; /* results must not share buffers that change after the kernel */
	}
	if (st == SIM_OK) {
		k->in = use;
		st = e->fn(k);
		k->in = in;
	}
	if (st == SIM_OK) {
		const ir_opinfo *info = k->mode == SIM_CUBE ? ir_op_info(ir_node_at(k->g, k->node)->opcode) : NULL;
		bool cube = info && (info->traits & IR_TRAIT_CUBE);
		bool round = k->mode == SIM_FP16 || (k->mode == SIM_CUBE && !cube);
		st = finish_results(k, half, round);
	}
	for (uint32_t j = 0; j < i; j++)
		if (use[j] == &tmp[j])
			sim_tensor_free(&tmp[j]);
	if (!local) {
		free(tmp);
		free(use);
	}
	return st;
}

static int64_t graph_opset(const ir_graph *g)
{
	int64_t v = ir_graph_opset(g, "");
	return v < 0 ? 13 : v;
}

/* Frees the results of a failed node, except buffers that are an operand's. */
static void drop_results(const sim_kctx *k, const sim_tensor *const *in)
{
	for (uint32_t i = 0; i < k->nout; i++) {
		for (uint32_t j = 0; j < k->nin && k->out[i].data; j++)
			if (in[j] && in[j]->data == k->out[i].data)
				k->out[i].owned = false;
		sim_tensor_free(&k->out[i]);
	}
}

sim_status sim_eval_node(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			 uint32_t nin, sim_tensor *out, uint32_t nout, ir_diags *d)
{
	return sim_eval_node_hand(g, n, o, in, nin, NULL, out, nout, d);
}

sim_status sim_eval_node_give(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			      uint32_t nin, const bool *give, sim_tensor *out, uint32_t nout, ir_diags *d)
{
	uint8_t local[16];
	uint8_t *hand = nin <= 16 ? local : malloc(nin);
	if (!hand)
		return sim_eval_node(g, n, o, in, nin, out, nout, d);
	for (uint32_t i = 0; i < nin; i++)
		hand[i] = give[i] && in[i] ? SIM_HAND_GIVE : SIM_HAND_NONE;
	sim_lend lend = {hand, NULL};
	sim_status st = sim_eval_node_hand(g, n, o, in, nin, &lend, out, nout, d);
	if (hand != local)
		free(hand);
	return st;
}

sim_status sim_eval_node_hand(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			      uint32_t nin, const sim_lend *lend, sim_tensor *out, uint32_t nout, ir_diags *d)
{
	const ir_node *x = ir_node_at(g, n);
	sim_kctx k = {
		.g = g, .node = n, .opset = graph_opset(g), .mode = o ? o->mode : SIM_FP32,
		.file = o ? o->file : NULL, .in = in, .nin = nin, .out = out, .nout = nout, .d = d,
		.hand = lend ? lend->hand : NULL, .scratch = lend ? lend->scratch : NULL,
	};
	for (uint32_t i = 0; i < nout; i++)
		memset(&out[i], 0, sizeof out[i]);
	bool call = x->opcode == IR_OP_OPAQUE && ir_node_callee(g, n); /* graft's fused ops: call.c */
	if (!call && !sim_op_supported(x->opcode))
		return sim_fail(&k, SIM_UNSUPPORTED, "op not supported by the simulator");
	if (nin != x->nin || nout != x->nout)
		return sim_fail(&k, SIM_EINVAL, "called with %u operands and %u results (node has %u, %u)",
				(unsigned)nin, (unsigned)nout, (unsigned)x->nin, (unsigned)x->nout);
	sim_status st = call ? sim_run_call(&k) : run_kernel(&k, &kernels[x->opcode], in);
	if (st != SIM_OK)
		drop_results(&k, in);
	return st;
}
