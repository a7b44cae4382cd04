/* Inference rules: elementwise ops (numpy broadcasting), matrix products,
 * Softmax and reductions. */
#include <string.h>

#include "infer_internal.h"

/* ---------------------------------------------------------------- broadcasting */

bool ir_dim_broadcast(ir_dim a, ir_dim b, ir_dim *out)
{
	if (a.v >= 0 && b.v >= 0) {
		if (a.v != b.v && a.v != 1 && b.v != 1)
			return false;
		*out = a.v == 1 ? b : a;
	} else if (a.v >= 0) { /* b unknown: a unless a is 1 */
		*out = a.v == 1 ? b : a;
	} else if (b.v >= 0) {
		*out = b.v == 1 ? a : b;
	} else { /* both unknown: equal names stay, others could be 1 */
		*out = a.sym && a.sym == b.sym ? a : IR_DIM_UNKNOWN;
	}
	return true;
}

bool ir_icx_broadcast(ir_icx *cx, ir_shape *out, const ir_shape *a, const ir_shape *b)
{
	if (a->rank < 0 || b->rank < 0) {
		ir_shape_tensor(out, a->dtype, -1);
		return true;
	}
	int r = a->rank > b->rank ? a->rank : b->rank;
	ir_shape_tensor(out, a->dtype, r);
	for (int i = 0; i < r; i++) {
		int ia = i - (r - a->rank), ib = i - (r - b->rank);
		ir_dim da = ia >= 0 ? a->d[ia] : (ir_dim){1, 0};
		ir_dim db = ib >= 0 ? b->d[ib] : (ir_dim){1, 0};
		if (!ir_dim_broadcast(da, db, &out->d[i]))
			return ir_icx_err(cx, "cannot broadcast dim %lld with dim %lld (axis %d of the result)",
					  (long long)da.v, (long long)db.v, i);
	}
	return true;
}

/* ---------------------------------------------------------------- elementwise */

static bool same_dtype(ir_icx *cx, const ir_shape *a, const ir_shape *b, uint32_t ia, uint32_t ib)
{
	if (a->dtype && b->dtype && a->dtype != b->dtype)
		return ir_icx_err(cx, "operands %u and %u have different element types (%s, %s)",
				  (unsigned)ia, (unsigned)ib, ir_dtype_name((ir_dtype)a->dtype),
				  ir_dtype_name((ir_dtype)b->dtype));
	return true;
}

/* The result is operand 0's type (unary elementwise ops). */
static bool unary(ir_icx *cx)
{
	ir_icx_in(cx, 0, &cx->out[0]);
	if (cx->out[0].kind != IR_TYPE_TENSOR)
		ir_shape_none(&cx->out[0]);
	return true;
}

bool ir_infer_op_Relu(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_Sqrt(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_Erf(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_Sigmoid(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_HardSigmoid(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_Neg(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_Tanh(ir_icx *cx) { return unary(cx); }
bool ir_infer_op_LeakyRelu(ir_icx *cx) { return unary(cx); }

/* min and max (optional) are scalars of the input's type. */
bool ir_infer_op_Clip(ir_icx *cx)
{
	ir_shape x, m;
	ir_icx_in(cx, 0, &x);
	for (uint32_t i = 1; i < 3; i++) {
		ir_icx_in(cx, i, &m);
		if (!same_dtype(cx, &x, &m, 0, i))
			return false;
		if (m.rank > 0)
			return ir_icx_err(cx, "operand %u must be a scalar", (unsigned)i);
	}
	return unary(cx);
}

bool ir_infer_op_Cast(ir_icx *cx)
{
	int64_t to = ir_icx_int(cx, "to", 0);
	if (!ir_icx_since(cx, "saturate", 19) || !ir_icx_since(cx, "round_mode", 25))
		return false;
	if (to <= 0)
		return ir_icx_err(cx, "attribute 'to' is not a data type (%lld)", (long long)to);
	unary(cx);
	if (cx->out[0].kind == IR_TYPE_NONE)
		ir_shape_tensor(&cx->out[0], IR_UNDEF, -1);
	/* ONNX types graft has no name for (float8, int4, ...) stay unknown */
	cx->out[0].dtype = (uint8_t)(to < IR_DTYPE_COUNT ? to : IR_UNDEF);
	return true;
}

static bool binary(ir_icx *cx, bool check_dtype)
{
	ir_shape a, b;
	ir_icx_in(cx, 0, &a);
	ir_icx_in(cx, 1, &b);
	if (check_dtype && !same_dtype(cx, &a, &b, 0, 1))
		return false;
	return ir_icx_broadcast(cx, &cx->out[0], &a, &b);
}

bool ir_infer_op_Add(ir_icx *cx) { return binary(cx, true); }
bool ir_infer_op_Sub(ir_icx *cx) { return binary(cx, true); }
bool ir_infer_op_Mul(ir_icx *cx) { return binary(cx, true); }
bool ir_infer_op_Div(ir_icx *cx) { return binary(cx, true); }
/* The exponent may have another type; the result has the base's. */
bool ir_infer_op_Pow(ir_icx *cx) { return binary(cx, false); }

bool ir_infer_op_Equal(ir_icx *cx)
{
	if (!binary(cx, true))
		return false;
	cx->out[0].dtype = IR_BOOL;
	return true;
}

bool ir_infer_op_Where(ir_icx *cx)
{
	ir_shape c, x, y, t;
	ir_icx_in(cx, 0, &c);
	ir_icx_in(cx, 1, &x);
	ir_icx_in(cx, 2, &y);
	if (c.dtype && c.dtype != IR_BOOL)
		return ir_icx_err(cx, "condition must be bool, not %s", ir_dtype_name((ir_dtype)c.dtype));
	if (!same_dtype(cx, &x, &y, 1, 2) || !ir_icx_broadcast(cx, &t, &x, &y) ||
	    !ir_icx_broadcast(cx, &cx->out[0], &c, &t))
		return false;
	cx->out[0].dtype = x.dtype ? x.dtype : y.dtype;
	return true;
}

/* ---------------------------------------------------------------- matrix products */

static bool same_dim(ir_icx *cx, ir_dim a, ir_dim b, const char *what)
{
	if (a.v >= 0 && b.v >= 0 && a.v != b.v)
		return ir_icx_err(cx, "%s differ (%lld and %lld)", what, (long long)a.v, (long long)b.v);
	return true;
}

/* Batch dims of a [.., M, K] @ b [.., K, N] (stacks broadcast). */
static bool matmul_batch(ir_icx *cx, const ir_shape *a, const ir_shape *b, ir_shape *out)
{
	ir_shape ba, bb;
	ir_shape_copy(&ba, a);
	ir_shape_copy(&bb, b);
	ba.rank = (int16_t)(a->rank > 2 ? a->rank - 2 : 0);
	bb.rank = (int16_t)(b->rank > 2 ? b->rank - 2 : 0);
	return ir_icx_broadcast(cx, out, &ba, &bb);
}

/* 1-D operands are promoted (a: [1,K], b: [K,1]) and the added dim removed. */
bool ir_infer_op_MatMul(ir_icx *cx)
{
	ir_shape a, b, *out = &cx->out[0];
	ir_icx_in(cx, 0, &a);
	ir_icx_in(cx, 1, &b);
	if (!same_dtype(cx, &a, &b, 0, 1))
		return false;
	if (a.rank == 0 || b.rank == 0)
		return ir_icx_err(cx, "operands must have rank >= 1");
	if (a.rank < 0 || b.rank < 0) {
		ir_shape_tensor(out, a.dtype ? a.dtype : b.dtype, -1);
		return true;
	}
	ir_dim ka = a.d[a.rank - 1], kb = b.d[b.rank == 1 ? 0 : b.rank - 2];
	if (!same_dim(cx, ka, kb, "contracted dims") || !matmul_batch(cx, &a, &b, out))
		return false;
	int r = out->rank;
	if (!ir_icx_rank_ok(cx, r + 2))
		return false;
	if (a.rank >= 2)
		out->d[r++] = a.d[a.rank - 2];
	if (b.rank >= 2)
		out->d[r++] = b.d[b.rank - 1];
	out->rank = (int16_t)r;
	out->dtype = a.dtype ? a.dtype : b.dtype;
	return true;
}

/* C must broadcast to [M, N] (unidirectionally). */
static bool gemm_c(ir_icx *cx, ir_dim m, ir_dim n)
{
	ir_shape c;
	ir_icx_in(cx, 2, &c);
	if (c.rank < 0)
		return true;
	if (c.rank > 2)
		return ir_icx_err(cx, "C has rank %d (at most 2)", c.rank);
	ir_dim target[2] = {m, n};
	for (int i = 0; i < c.rank; i++) {
		ir_dim d = c.d[i], t = target[2 - c.rank + i];
		if (d.v >= 0 && t.v >= 0 && d.v != 1 && d.v != t.v)
			return ir_icx_err(cx, "C dim %lld does not broadcast to %lld", (long long)d.v,
					  (long long)t.v);
	}
	return true;
}

bool ir_infer_op_Gemm(ir_icx *cx)
{
	ir_shape a, b;
	ir_icx_in(cx, 0, &a);
	ir_icx_in(cx, 1, &b);
	if (!same_dtype(cx, &a, &b, 0, 1))
		return false;
	if (cx->opset < 11 && !ir_icx_has(cx, 2))
		return ir_icx_err(cx, "C is required before opset 11");
	if ((a.rank >= 0 && a.rank != 2) || (b.rank >= 0 && b.rank != 2))
		return ir_icx_err(cx, "A and B must have rank 2");
	ir_shape_tensor(&cx->out[0], a.dtype ? a.dtype : b.dtype, 2);
	int ta = ir_icx_int(cx, "transA", 0) != 0, tb = ir_icx_int(cx, "transB", 0) != 0;
	ir_dim m = a.rank == 2 ? a.d[ta] : IR_DIM_UNKNOWN, n = b.rank == 2 ? b.d[!tb] : IR_DIM_UNKNOWN;
	if (a.rank == 2 && b.rank == 2 && !same_dim(cx, a.d[!ta], b.d[tb], "contracted dims"))
		return false;
	cx->out[0].d[0] = m;
	cx->out[0].d[1] = n;
	return gemm_c(cx, m, n);
}

/* ---------------------------------------------------------------- Softmax */

bool ir_infer_op_Softmax(ir_icx *cx)
{
	ir_shape x;
	int axis;
	ir_icx_in(cx, 0, &x);
	int64_t a = ir_icx_int(cx, "axis", -1);
	if (x.rank >= 0 && !ir_icx_axis(cx, "axis", a, x.rank, &axis))
		return false;
	return unary(cx);
}

/* ---------------------------------------------------------------- reductions */

typedef struct reduce_axes {
	int n;       /* -1: unknown (an operand without known value) */
	int64_t v[IR_MAX_RANK];
	int64_t count; /* -1 unknown: number of axes when their values are not known */
} reduce_axes;

/* Axes from the operand (from opset `since`) or the attribute (before). */
static bool reduce_axes_of(ir_icx *cx, int64_t since, reduce_axes *ax)
{
	ax->count = -1;
	if (cx->opset < since) {
		if (ir_icx_has(cx, 1))
			return ir_icx_err(cx, "axes is an attribute before opset %lld", (long long)since);
		if (!ir_icx_since(cx, "noop_with_empty_axes", since))
			return false;
		ax->n = ir_icx_ints(cx, "axes", ax->v, IR_MAX_RANK);
		ax->n = ax->n < 0 ? 0 : ax->n;
		return !cx->failed;
	}
	if (ir_icx_attr(cx, "axes"))
		return ir_icx_err(cx, "axes is an operand from opset %lld", (long long)since);
	ax->n = 0;
	if (!ir_icx_has(cx, 1))
		return true;
	ir_kval k;
	ir_shape s;
	ir_icx_in(cx, 1, &s);
	if (!ir_icx_kv(cx, 1, &k) || k.unk) {
		ax->n = -1;
		ax->count = s.rank == 1 ? s.d[0].v : -1;
		return true;
	}
	if (k.rank != 1 || k.n > IR_MAX_RANK)
		return ir_icx_err(cx, "axes must be a 1-D tensor of at most %d axes", IR_MAX_RANK);
	ax->n = (int)k.n;
	memcpy(ax->v, k.v, k.n * sizeof *k.v);
	return true;
}

/* Axes unknown: with keepdims the rank stays and dims of 1 stay 1. */
static void reduce_unknown(const ir_shape *x, const reduce_axes *ax, bool keep, ir_shape *out)
{
	if (keep) {
		ir_shape_tensor(out, x->dtype, x->rank);
		for (int i = 0; i < x->rank; i++)
			if (x->d[i].v == 1)
				out->d[i] = x->d[i];
	} else {
		ir_shape_tensor(out, x->dtype, ax->count >= 0 && x->rank >= 0 ? x->rank - (int)ax->count : -1);
	}
}

static bool reduce(ir_icx *cx, int64_t since)
{
	ir_shape x, *out = &cx->out[0];
	reduce_axes ax;
	ir_icx_in(cx, 0, &x);
	bool keep = ir_icx_int(cx, "keepdims", 1) != 0;
	bool noop = cx->opset >= since && ir_icx_int(cx, "noop_with_empty_axes", 0) != 0;
	if (!reduce_axes_of(cx, since, &ax))
		return false;
	if (ax.n == 0 && noop)
		return unary(cx);
	if (x.rank < 0 || ax.n < 0) {
		reduce_unknown(&x, &ax, keep, out);
		return true;
	}
	bool red[IR_MAX_RANK] = {false};
	for (int i = 0; i < ax.n; i++) {
		int a;
		if (!ir_icx_axis(cx, "axis", ax.v[i], x.rank, &a))
			return false;
		if (red[a])
			return ir_icx_err(cx, "axis %d is reduced twice", a);
		red[a] = true;
	}
	ir_shape_tensor(out, x.dtype, 0);
	for (int i = 0; i < x.rank; i++) {
		bool r = ax.n == 0 || red[i];
		if (!r || keep)
			out->d[out->rank++] = r ? (ir_dim){1, 0} : x.d[i];
	}
	return true;
}

bool ir_infer_op_ReduceMean(ir_icx *cx) { return reduce(cx, 18); }
bool ir_infer_op_ReduceSum(ir_icx *cx) { return reduce(cx, 13); }
