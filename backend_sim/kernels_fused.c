/* graft's own fused ops (domain "graft"), which the rule engine's fusions
 * produce: mostly a registered kernel followed by an epilogue applied in
 * place (an activation, a sum), and two normalisations of decomposed
 * subgraphs.
 *
 *   graft::FusedConv(X, W, B?, Z?) {Conv's attributes, activation, activation_params}
 *       Y = activation(Conv(X, W, B) + Z)       (com.microsoft FusedConv's semantics;
 *                                                 here Z may broadcast to Y's shape)
 *   graft::FusedGemm(A, B, C?) {Gemm's attributes, activation, activation_params}
 *       Y = activation(Gemm(A, B, C))
 *   graft::AddRelu(A, B)
 *       Y = Relu(A + B)                          (numpy broadcasting)
 *   graft::MatMulAdd(A, B, C)
 *       Y = MatMul(A, B) + C                     (C broadcasts to Y's shape)
 *   graft::Gelu(X)
 *       Y = X * (1 + erf(X / sqrt(2))) / 2
 *   graft::LayerNorm(X, Scale, Bias) {axis (default -1), epsilon (default 1e-5)}
 *       Y = (X - mean) / sqrt(variance + epsilon) * Scale + Bias over the axes
 *       from `axis` to the last (Scale and Bias broadcast to Y's shape)
 *
 * Activations (the string attribute `activation`, absent: none): Relu, Tanh,
 * Sigmoid, LeakyRelu (params: alpha), Clip (params: min, max), HardSigmoid
 * (params: alpha, beta).  Computed in f32 (the normalisation accumulates in
 * double). */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

typedef enum { ACT_NONE, ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_LEAKY, ACT_CLIP, ACT_HARDSIGMOID } act_kind;

typedef struct act {
	act_kind kind;
	float p[2];
} act;

static const struct {
	const char *name;
	act_kind kind;
	int nparams;
	float dflt[2];
} acts[] = {
	{"Relu", ACT_RELU, 0, {0, 0}},
	{"Tanh", ACT_TANH, 0, {0, 0}},
	{"Sigmoid", ACT_SIGMOID, 0, {0, 0}},
	{"LeakyRelu", ACT_LEAKY, 1, {0.01f, 0}},
	{"Clip", ACT_CLIP, 2, {-INFINITY, INFINITY}},
	{"HardSigmoid", ACT_HARDSIGMOID, 2, {0.2f, 0.5f}},
};

static sim_status read_act(sim_kctx *k, act *a)
{
	const char *name = sim_attr_str(k, "activation", NULL);
	a->kind = ACT_NONE;
	if (!name)
		return SIM_OK;
	for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
		if (strcmp(name, acts[i].name) != 0)
			continue;
		a->kind = acts[i].kind;
		a->p[0] = acts[i].dflt[0];
		a->p[1] = acts[i].dflt[1];
		const ir_attr *pa = ir_attr_find(k->g, k->node, "activation_params");
		if (pa && pa->kind == IR_ATTR_FLOATS)
			for (uint32_t j = 0; j < pa->n && j < (uint32_t)acts[i].nparams; j++)
				a->p[j] = ir_attr_floats(k->g, pa)[j];
		return SIM_OK;
	}
	return sim_fail(k, SIM_UNSUPPORTED, "activation '%s' not supported", name);
}

static float apply(const act *a, float x)
{
	switch (a->kind) {
	case ACT_RELU:
		return x > 0 ? x : 0;
	case ACT_TANH:
		return tanhf(x);
	case ACT_SIGMOID:
		return 1.0f / (1.0f + expf(-x));
	case ACT_LEAKY:
		return x >= 0 ? x : a->p[0] * x;
	case ACT_CLIP:
		return x < a->p[0] ? a->p[0] : x > a->p[1] ? a->p[1] : x;
	case ACT_HARDSIGMOID: {
		float y = a->p[0] * x + a->p[1];
		return y < 0 ? 0 : y > 1 ? 1 : y;
	}
	case ACT_NONE:
		break;
	}
	return x;
}

static sim_status finish(sim_kctx *k, sim_status st, const act *a)
{
	if (st != SIM_OK || a->kind == ACT_NONE)
		return st;
	float *y = k->out[0].data;
	size_t n = sim_numel(&k->out[0]);
	for (size_t i = 0; i < n; i++)
		y[i] = apply(a, y[i]);
	return SIM_OK;
}

typedef struct sum_rows {
	float *y;
	const float *z;
} sum_rows;

static void sum_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const sum_rows *r = ctx;
	for (int64_t i = 0; i < cnt; i++)
		r->y[out + (size_t)i] += r->z[in[1] + (size_t)(i * step[1])];
}

static void mul_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const sum_rows *r = ctx;
	for (int64_t i = 0; i < cnt; i++)
		r->y[out + (size_t)i] *= r->z[in[1] + (size_t)(i * step[1])];
}

/* Adds z, broadcast to the result's shape, to the result. */
static sim_status add_sum(sim_kctx *k, const sim_tensor *z)
{
	sim_tensor *y = &k->out[0];
	const sim_tensor *ops[2] = {y, z};
	int64_t dims[IR_MAX_RANK];
	int rank;
	if (z->dtype != IR_F32)
		return sim_bad_dtype(k, z);
	if (!sim_broadcast_shape(ops, 2, dims, &rank) || rank != y->rank ||
	    memcmp(dims, y->dims, (size_t)rank * sizeof *dims) != 0)
		return sim_fail(k, SIM_EINVAL, "the sum operand does not broadcast to the result's shape");
	sim_bcast b;
	sim_bcast_init(&b, ops, 2, dims, rank);
	sum_rows r = {y->data, z->data};
	sim_bcast_rows(&b, sum_row, &r);
	return SIM_OK;
}

static sim_status k_fused_conv(sim_kctx *k)
{
	act a;
	sim_status st = read_act(k, &a);
	if (st != SIM_OK)
		return st;
	st = sim_k_conv(k);
	const sim_tensor *z = sim_in(k, 3);
	if (st == SIM_OK && z)
		st = add_sum(k, z);
	return finish(k, st, &a);
}

static sim_status k_fused_gemm(sim_kctx *k)
{
	act a;
	sim_status st = read_act(k, &a);
	if (st != SIM_OK)
		return st;
	return finish(k, sim_k_gemm(k), &a);
}

typedef struct add_rows {
	float *y;
	const float *a, *b;
} add_rows;

static void add_relu_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const add_rows *r = ctx;
	for (int64_t i = 0; i < cnt; i++) {
		float s = r->a[in[0] + (size_t)(i * step[0])] + r->b[in[1] + (size_t)(i * step[1])];
		r->y[out + (size_t)i] = s > 0 ? s : 0;
	}
}

static sim_status k_add_relu(sim_kctx *k)
{
	const sim_tensor *ops[2] = {sim_need(k, 0), sim_need(k, 1)};
	if (!ops[0] || !ops[1])
		return k->status;
	if (ops[0]->dtype != IR_F32 || ops[1]->dtype != IR_F32)
		return sim_bad_dtype(k, ops[0]->dtype != IR_F32 ? ops[0] : ops[1]);
	int64_t dims[IR_MAX_RANK];
	int rank;
	if (!sim_broadcast_shape(ops, 2, dims, &rank))
		return sim_fail(k, SIM_EINVAL, "operand shapes do not broadcast");
	sim_status st = sim_out_alloc_raw(k, 0, IR_F32, rank, dims);
	if (st != SIM_OK)
		return st;
	sim_bcast b;
	sim_bcast_init(&b, ops, 2, dims, rank);
	add_rows r = {k->out[0].data, ops[0]->data, ops[1]->data};
	sim_bcast_rows(&b, add_relu_row, &r);
	return SIM_OK;
}

static sim_status k_matmul_add(sim_kctx *k)
{
	const sim_tensor *c = sim_need(k, 2);
	if (!c)
		return k->status;
	sim_status st = sim_k_matmul(k);
	return st == SIM_OK ? add_sum(k, c) : st;
}

static sim_status f32_operand(sim_kctx *k, uint32_t i, const sim_tensor **t)
{
	*t = sim_need(k, i);
	if (!*t)
		return k->status;
	return (*t)->dtype == IR_F32 ? SIM_OK : sim_bad_dtype(k, *t);
}

static sim_status k_gelu(sim_kctx *k)
{
	const sim_tensor *x;
	sim_status st = f32_operand(k, 0, &x);
	if (st == SIM_OK)
		st = sim_out_alloc_raw(k, 0, IR_F32, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	const float *xd = x->data;
	float *y = k->out[0].data;
	size_t n = sim_numel(x);
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(0.5 * xd[i] * (1.0 + erf(xd[i] / sqrt(2.0))));
	return SIM_OK;
}

/* Normalises each row of `len` elements of x into y (double accumulation). */
static void normalise_rows(const float *x, float *y, size_t rows, size_t len, double eps)
{
	for (size_t r = 0; r < rows; r++, x += len, y += len) {
		double mean = 0, var = 0;
		for (size_t i = 0; i < len; i++)
			mean += x[i];
		mean /= (double)len;
		for (size_t i = 0; i < len; i++)
			var += (x[i] - mean) * (x[i] - mean);
		double inv = 1.0 / sqrt(var / (double)len + eps);
		for (size_t i = 0; i < len; i++)
			y[i] = (float)((x[i] - mean) * inv);
	}
}

/* y = y * scale + bias, both broadcast to y's shape. */
static sim_status scale_shift(sim_kctx *k, const sim_tensor *scale, const sim_tensor *bias)
{
	sim_tensor *y = &k->out[0];
	const sim_tensor *ops[2] = {y, scale};
	int64_t dims[IR_MAX_RANK];
	int rank;
	if (!sim_broadcast_shape(ops, 2, dims, &rank) || rank != y->rank ||
	    memcmp(dims, y->dims, (size_t)rank * sizeof *dims) != 0)
		return sim_fail(k, SIM_EINVAL, "the scale does not broadcast to the result's shape");
	sim_bcast b;
	sim_bcast_init(&b, ops, 2, dims, rank);
	sum_rows r = {y->data, scale->data};
	sim_bcast_rows(&b, mul_row, &r);
	return add_sum(k, bias);
}

static sim_status k_layer_norm(sim_kctx *k)
{
	const sim_tensor *x, *scale, *bias;
	sim_status st = f32_operand(k, 0, &x);
	if (st == SIM_OK)
		st = f32_operand(k, 1, &scale);
	if (st == SIM_OK)
		st = f32_operand(k, 2, &bias);
	if (st != SIM_OK)
		return st;
	int axis;
	if (!sim_axis(sim_attr_int(k, "axis", -1), x->rank, &axis))
		return sim_fail(k, SIM_EINVAL, "axis out of range");
	st = sim_out_alloc_raw(k, 0, IR_F32, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	size_t len = (size_t)sim_prod(x->dims, axis, x->rank);
	size_t rows = len ? sim_numel(x) / len : 0;
	normalise_rows(x->data, k->out[0].data, rows, len, sim_attr_float(k, "epsilon", 1e-5f));
	return scale_shift(k, scale, bias);
}

sim_kernel sim_fused_kernel(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	if (strcmp(ir_cstr(g, x->domain), "graft") != 0)
		return NULL;
	const char *op = ir_cstr(g, x->op);
	if (strcmp(op, "FusedConv") == 0)
		return k_fused_conv;
	if (strcmp(op, "FusedGemm") == 0)
		return k_fused_gemm;
	if (strcmp(op, "AddRelu") == 0)
		return k_add_relu;
	if (strcmp(op, "MatMulAdd") == 0)
		return k_matmul_add;
	if (strcmp(op, "Gelu") == 0)
		return k_gelu;
	if (strcmp(op, "LayerNorm") == 0)
		return k_layer_norm;
	return NULL;
}
