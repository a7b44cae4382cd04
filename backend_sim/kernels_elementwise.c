/* Elementwise kernels: the unary activations, Clip, the broadcasting binary
 * arithmetic ops, Equal and Where.  f32 has a fast path; other dtypes go
 * through double (float types) or 64-bit wrapping integer arithmetic. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

/* ---------------------------------------------------------------- unary */

typedef struct unary_args {
	uint16_t op;
	float alpha, beta;
} unary_args;

static double unary_f64(const unary_args *a, double x)
{
	switch (a->op) {
	case IR_OP_Relu: return x < 0 ? 0 : x;
	case IR_OP_Sqrt: return sqrt(x);
	case IR_OP_Erf: return erf(x);
	case IR_OP_Sigmoid: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
	case IR_OP_Neg: return -x;
	case IR_OP_Tanh: return tanh(x);
	case IR_OP_LeakyRelu: return x < 0 ? a->alpha * x : x;
	default: return fmax(0, fmin(1, a->alpha * x + a->beta)); /* HardSigmoid */
	}
}

static float sigmoid_f32(float x)
{
	if (x >= 0)
		return 1 / (1 + expf(-x));
	float e = expf(x);
	return e / (1 + e);
}

static void unary_f32(const unary_args *a, const float *x, float *y, size_t n)
{
	switch (a->op) {
	case IR_OP_Relu:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] < 0 ? 0 : x[i];
		break;
	case IR_OP_Sqrt:
		for (size_t i = 0; i < n; i++)
			y[i] = sqrtf(x[i]);
		break;
	case IR_OP_Erf:
		for (size_t i = 0; i < n; i++)
			y[i] = erff(x[i]);
		break;
	case IR_OP_Sigmoid:
		for (size_t i = 0; i < n; i++)
			y[i] = sigmoid_f32(x[i]);
		break;
	case IR_OP_Neg:
		for (size_t i = 0; i < n; i++)
			y[i] = -x[i];
		break;
	case IR_OP_Tanh:
		for (size_t i = 0; i < n; i++)
			y[i] = tanhf(x[i]);
		break;
	case IR_OP_LeakyRelu:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] < 0 ? a->alpha * x[i] : x[i];
		break;
	default:
		for (size_t i = 0; i < n; i++)
			y[i] = fmaxf(0, fminf(1, a->alpha * x[i] + a->beta));
		break;
	}
}

/* Relu and Neg on integers: exact, Neg wrapping. */
static void unary_int(uint16_t op, const sim_tensor *x, sim_tensor *y)
{
	bool is_signed = sim_dtype_class(x->dtype) == SIM_CLASS_SIGNED;
	for (size_t i = 0; i < sim_numel(x); i++) {
		int64_t v = sim_get_i64(x, i);
		if (op == IR_OP_Neg)
			v = (int64_t)(0 - (uint64_t)v);
		else if (is_signed && v < 0)
			v = 0;
		sim_set_i64(y, i, v);
	}
}

sim_status sim_k_unary(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	uint16_t op = sim_opcode(k);
	float alpha = sim_attr_float(k, "alpha", op == IR_OP_LeakyRelu ? 0.01f : 0.2f);
	unary_args a = {op, alpha, sim_attr_float(k, "beta", 0.5f)};
	sim_class c = sim_dtype_class(x->dtype);
	bool on_ints = (op == IR_OP_Relu && (c == SIM_CLASS_SIGNED || c == SIM_CLASS_UNSIGNED)) ||
		       (op == IR_OP_Neg && c == SIM_CLASS_SIGNED);
	if (c != SIM_CLASS_FLOAT && !on_ints)
		return sim_bad_dtype(k, x);
	sim_status st = sim_out_inplace(k, 1, x->dtype, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	size_t n = sim_numel(x);
	sim_tensor *y = &k->out[0];
	if (x->dtype == IR_F32)
		unary_f32(&a, x->data, y->data, n);
	else if (on_ints)
		unary_int(op, x, y);
	else
		for (size_t i = 0; i < n; i++)
			sim_set_f64(y, i, unary_f64(&a, sim_get_f64(x, i)));
	return SIM_OK;
}

/* ---------------------------------------------------------------- Clip */

/* Bound from operand i (opset >= 11) or attribute name (older opsets). */
static sim_status clip_bound(sim_kctx *k, uint32_t i, const char *name, double dflt, double *out)
{
	*out = dflt;
	if (k->opset < 11) {
		const ir_attr *a = ir_attr_find(k->g, k->node, name);
		if (a)
			*out = a->u.f;
		return SIM_OK;
	}
	const sim_tensor *t = sim_in(k, i);
	if (!t)
		return SIM_OK;
	if (sim_numel(t) != 1)
		return sim_fail(k, SIM_EINVAL, "%s must be a scalar", name);
	*out = sim_get_f64(t, 0);
	return SIM_OK;
}

sim_status sim_k_clip(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	sim_class c = sim_dtype_class(x->dtype);
	if (c == SIM_CLASS_BOOL || c == SIM_CLASS_NONE)
		return sim_bad_dtype(k, x);
	double lo, hi;
	sim_status st = clip_bound(k, 1, "min", sim_dtype_lowest(x->dtype), &lo);
	if (st == SIM_OK)
		st = clip_bound(k, 2, "max", sim_dtype_highest(x->dtype), &hi);
	if (st == SIM_OK)
		st = sim_out_inplace(k, 1, x->dtype, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	size_t n = sim_numel(x);
	sim_tensor *y = &k->out[0];
	if (x->dtype == IR_F32) {
		const float *xs = x->data;
		float *ys = y->data, l = (float)lo, h = (float)hi;
		for (size_t i = 0; i < n; i++)
			ys[i] = xs[i] < l ? l : xs[i] > h ? h : xs[i];
		for (size_t i = 0; l > h && i < n; i++)
			ys[i] = h; /* numpy clip: max wins when the bounds cross */
	} else {
		for (size_t i = 0; i < n; i++)
			sim_set_f64(y, i, fmin(fmax(sim_get_f64(x, i), lo), hi));
	}
	return SIM_OK;
}

/* ---------------------------------------------------------------- binary arithmetic */

typedef struct binary_args {
	uint16_t op;
	const sim_tensor *a, *b;
	sim_tensor *y;
	sim_class c;
} binary_args;

/* y[i] = a[i * sa] op b[i * sb], i < cnt.  Inlined into row_f32 with
 * constant strides for the common layouts so those loops vectorize. */
static inline void arith_f32(uint16_t op, const float *a, int64_t sa, const float *b, int64_t sb, float *y,
			     int64_t cnt)
{
	switch (op) {
	case IR_OP_Add:
		for (int64_t i = 0; i < cnt; i++)
			y[i] = a[i * sa] + b[i * sb];
		break;
	case IR_OP_Sub:
		for (int64_t i = 0; i < cnt; i++)
			y[i] = a[i * sa] - b[i * sb];
		break;
	case IR_OP_Mul:
		for (int64_t i = 0; i < cnt; i++)
			y[i] = a[i * sa] * b[i * sb];
		break;
	case IR_OP_Div:
		for (int64_t i = 0; i < cnt; i++)
			y[i] = a[i * sa] / b[i * sb];
		break;
	default:
		for (int64_t i = 0; i < cnt; i++)
			y[i] = (float)pow(a[i * sa], b[i * sb]);
		break;
	}
}

static void row_f32(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const binary_args *p = ctx;
	const float *a = (const float *)p->a->data + in[0], *b = (const float *)p->b->data + in[1];
	float *y = (float *)p->y->data + out;
	int64_t sa = step[0], sb = step[1];
	if (p->op == IR_OP_Pow && sb == 0 && b[0] == 2) {
		/* a float's square is exact in double, so pow rounds it as float multiplication does */
		for (int64_t i = 0; i < cnt; i++)
			y[i] = a[i * sa] * a[i * sa];
	} else if (sa == 1 && sb == 1) {
		arith_f32(p->op, a, 1, b, 1, y, cnt);
	} else if (sa == 1 && sb == 0) {
		arith_f32(p->op, a, 1, b, 0, y, cnt);
	} else if (sa == 0 && sb == 1) {
		arith_f32(p->op, a, 0, b, 1, y, cnt);
	} else {
		arith_f32(p->op, a, sa, b, sb, y, cnt);
	}
}

static double arith_f64(uint16_t op, double a, double b)
{
	switch (op) {
	case IR_OP_Add: return a + b;
	case IR_OP_Sub: return a - b;
	case IR_OP_Mul: return a * b;
	case IR_OP_Div: return a / b;
	default: return pow(a, b);
	}
}

/* Integer power with wrapping; negative exponents truncate the real result. */
static uint64_t ipow(int64_t base, int64_t e)
{
	if (e < 0)
		return base == 1 ? 1 : base == -1 ? (e % 2 ? (uint64_t)-1 : 1) : 0;
	uint64_t r = 1, x = (uint64_t)base;
	for (; e; e >>= 1, x *= x)
		if (e & 1)
			r *= x;
	return r;
}

/* Wrapping integer arithmetic (two's complement through uint64). */
static int64_t arith_int(uint16_t op, bool is_signed, int64_t a, int64_t b)
{
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (op) {
	case IR_OP_Add: return (int64_t)(ua + ub);
	case IR_OP_Sub: return (int64_t)(ua - ub);
	case IR_OP_Mul: return (int64_t)(ua * ub);
	case IR_OP_Div:
		if (b == 0)
			return 0; /* undefined in ONNX; graft defines it as 0 */
		if (!is_signed)
			return (int64_t)(ua / ub);
		return b == -1 ? (int64_t)(0 - ua) : a / b;
	default: return (int64_t)ipow(a, b);
	}
}

static void binary_elem(const binary_args *p, size_t o, size_t ia, size_t ib)
{
	sim_class cb = sim_dtype_class(p->b->dtype);
	if (p->c == SIM_CLASS_FLOAT || cb == SIM_CLASS_FLOAT) {
		double r = arith_f64(p->op, sim_get_f64(p->a, ia), sim_get_f64(p->b, ib));
		sim_set_f64(p->y, o, r);
		return;
	}
	int64_t r = arith_int(p->op, p->c == SIM_CLASS_SIGNED, sim_get_i64(p->a, ia), sim_get_i64(p->b, ib));
	sim_set_i64(p->y, o, r);
}

static void row_generic(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	for (int64_t i = 0; i < cnt; i++)
		binary_elem(ctx, out + (size_t)i, in[0] + (size_t)(i * step[0]), in[1] + (size_t)(i * step[1]));
}

/* Broadcasts operands 0..n-1 into result 0 of dtype dt, which may take
 * over the buffer of an operand in reuse (see sim_out_inplace). */
static sim_status bcast_out(sim_kctx *k, const sim_tensor *const *ops, int n, ir_dtype dt, uint32_t reuse,
			    sim_bcast *b)
{
	int64_t dims[IR_MAX_RANK];
	int rank;
	if (!sim_broadcast_shape(ops, n, dims, &rank)) {
		char s0[128], s1[128];
		sim_tensor_format(ops[0], s0, sizeof s0);
		sim_tensor_format(ops[n - 1], s1, sizeof s1);
		return sim_fail(k, SIM_EINVAL, "shapes %s and %s do not broadcast", s0, s1);
	}
	sim_status st = sim_out_inplace(k, reuse, dt, rank, dims);
	if (st == SIM_OK)
		sim_bcast_init(b, ops, n, dims, rank);
	return st;
}

/* Which operand gives the result its shape when the broadcast is one row:
 * equal shapes, or the other operand holds one element and has no more
 * dimensions; -1 otherwise. */
static int one_row(const sim_tensor *a, const sim_tensor *b)
{
	bool same = a->rank == b->rank;
	for (int i = 0; same && i < a->rank; i++)
		same = a->dims[i] == b->dims[i];
	if (same || (sim_numel(b) == 1 && b->rank <= a->rank))
		return 0;
	if (sim_numel(a) == 1 && a->rank <= b->rank)
		return 1;
	return -1;
}

/* p->y (allocated, the shape of the larger operand) := p->a op p->b for
 * f32 operands one_row accepted. */
static void one_row_f32(binary_args *p)
{
	size_t at[2] = {0, 0};
	size_t na = sim_numel(p->a), nb = sim_numel(p->b);
	int64_t step[2] = {na == 1 ? 0 : 1, nb == 1 ? 0 : 1};
	int64_t cnt = (int64_t)sim_numel(p->y);
	if (cnt > 0)
		row_f32(p, 0, at, step, cnt);
}

sim_status sim_k_binary(sim_kctx *k)
{
	const sim_tensor *ops[2] = {sim_need(k, 0), sim_need(k, 1)};
	if (!ops[0] || !ops[1])
		return k->status;
	binary_args p = {sim_opcode(k), ops[0], ops[1], NULL, sim_dtype_class(ops[0]->dtype)};
	sim_class cb = sim_dtype_class(ops[1]->dtype);
	if (p.c == SIM_CLASS_BOOL || p.c == SIM_CLASS_NONE)
		return sim_bad_dtype(k, ops[0]);
	if (cb == SIM_CLASS_BOOL || cb == SIM_CLASS_NONE)
		return sim_bad_dtype(k, ops[1]);
	if (p.op != IR_OP_Pow && ops[0]->dtype != ops[1]->dtype)
		return sim_fail(k, SIM_EINVAL, "operand types %s and %s differ",
				ir_dtype_name(ops[0]->dtype), ir_dtype_name(ops[1]->dtype));
	bool fast = ops[0]->dtype == IR_F32 && ops[1]->dtype == IR_F32;
	int whole = fast ? one_row(ops[0], ops[1]) : -1;
	if (whole >= 0) { /* one row: no broadcast walk (folding's small constants, mostly) */
		const sim_tensor *big = ops[whole];
		sim_status st = sim_out_inplace(k, 3, IR_F32, big->rank, big->dims);
		if (st != SIM_OK)
			return st;
		p.y = &k->out[0];
		one_row_f32(&p);
		return SIM_OK;
	}
	sim_bcast b;
	sim_status st = bcast_out(k, ops, 2, ops[0]->dtype, 3, &b);
	if (st != SIM_OK)
		return st;
	p.y = &k->out[0];
	sim_bcast_rows(&b, fast ? row_f32 : row_generic, &p);
	return SIM_OK;
}

/* ---------------------------------------------------------------- Equal */

static void row_equal(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const binary_args *p = ctx;
	uint8_t *y = (uint8_t *)p->y->data + out;
	for (int64_t i = 0; i < cnt; i++) {
		size_t ia = in[0] + (size_t)(i * step[0]), ib = in[1] + (size_t)(i * step[1]);
		if (p->c == SIM_CLASS_FLOAT)
			y[i] = sim_get_f64(p->a, ia) == sim_get_f64(p->b, ib);
		else
			y[i] = sim_get_i64(p->a, ia) == sim_get_i64(p->b, ib);
	}
}

sim_status sim_k_equal(sim_kctx *k)
{
	const sim_tensor *ops[2] = {sim_need(k, 0), sim_need(k, 1)};
	if (!ops[0] || !ops[1])
		return k->status;
	binary_args p = {IR_OP_Equal, ops[0], ops[1], NULL, sim_dtype_class(ops[0]->dtype)};
	if (p.c == SIM_CLASS_NONE)
		return sim_bad_dtype(k, ops[0]);
	if (ops[0]->dtype != ops[1]->dtype)
		return sim_fail(k, SIM_EINVAL, "operand types %s and %s differ",
				ir_dtype_name(ops[0]->dtype), ir_dtype_name(ops[1]->dtype));
	sim_bcast b;
	sim_status st = bcast_out(k, ops, 2, IR_BOOL, 0, &b);
	if (st != SIM_OK)
		return st;
	p.y = &k->out[0];
	sim_bcast_rows(&b, row_equal, &p);
	return SIM_OK;
}

/* ---------------------------------------------------------------- Where */

typedef struct where_args {
	const uint8_t *cond;
	const char *x, *y;
	char *out;
	size_t esize;
} where_args;

static void row_where(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const where_args *p = ctx;
	size_t es = p->esize;
	for (int64_t i = 0; i < cnt; i++) {
		bool c = p->cond[in[0] + (size_t)(i * step[0])] != 0;
		const char *src = c ? p->x + (in[1] + (size_t)(i * step[1])) * es
				    : p->y + (in[2] + (size_t)(i * step[2])) * es;
		memcpy(p->out + (out + (size_t)i) * es, src, es);
	}
}

sim_status sim_k_where(sim_kctx *k)
{
	const sim_tensor *ops[3] = {sim_need(k, 0), sim_need(k, 1), sim_need(k, 2)};
	if (!ops[0] || !ops[1] || !ops[2])
		return k->status;
	if (ops[0]->dtype != IR_BOOL)
		return sim_fail(k, SIM_EINVAL, "condition must be bool, not %s", ir_dtype_name(ops[0]->dtype));
	if (ops[1]->dtype != ops[2]->dtype)
		return sim_fail(k, SIM_EINVAL, "operand types %s and %s differ",
				ir_dtype_name(ops[1]->dtype), ir_dtype_name(ops[2]->dtype));
	sim_bcast b;
	sim_status st = bcast_out(k, ops, 3, ops[1]->dtype, 0, &b);
	if (st != SIM_OK)
		return st;
	where_args p = {ops[0]->data, ops[1]->data, ops[2]->data, k->out[0].data,
			ir_dtype_size(ops[1]->dtype)};
	sim_bcast_rows(&b, row_where, &p);
	return SIM_OK;
}

/* ---------------------------------------------------------------- without a node */

sim_status sim_eval_small(uint16_t opcode, const sim_tensor *const *in, uint32_t nin, sim_tensor *out)
{
	memset(out, 0, sizeof *out);
	const sim_tensor *x = nin ? in[0] : NULL;
	switch (opcode) {
	case IR_OP_Add:
	case IR_OP_Sub:
	case IR_OP_Mul:
	case IR_OP_Div:
	case IR_OP_Pow: {
		if (nin != 2 || !x || !in[1] || x->dtype != IR_F32 || in[1]->dtype != IR_F32)
			return SIM_UNSUPPORTED;
		int whole = one_row(x, in[1]);
		if (whole < 0)
			return SIM_UNSUPPORTED;
		const sim_tensor *big = in[whole];
		if (!sim_tensor_alloc_raw(out, IR_F32, big->rank, big->dims))
			return SIM_ENOMEM;
		binary_args p = {opcode, x, in[1], out, SIM_CLASS_FLOAT};
		one_row_f32(&p);
		return SIM_OK;
	}
	case IR_OP_Relu:
	case IR_OP_Sqrt:
	case IR_OP_Erf:
	case IR_OP_Sigmoid:
	case IR_OP_Neg:
	case IR_OP_Tanh:
	case IR_OP_LeakyRelu:
	case IR_OP_HardSigmoid: {
		if (nin != 1 || !x || x->dtype != IR_F32)
			return SIM_UNSUPPORTED;
		if (!sim_tensor_alloc_raw(out, IR_F32, x->rank, x->dims))
			return SIM_ENOMEM;
		unary_args a = {opcode, opcode == IR_OP_LeakyRelu ? 0.01f : 0.2f, 0.5f}; /* sim_k_unary's defaults */
		unary_f32(&a, x->data, out->data, sim_numel(x));
		return SIM_OK;
	}
	default:
		return SIM_UNSUPPORTED;
	}
}
