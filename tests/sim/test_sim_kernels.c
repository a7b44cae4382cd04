/* Each kernel on small hand-computed cases, through sim_eval_node on
 * one-node graphs built from constants. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simtest.h"

static ir_graph *g;

static void setup(void)
{
	g = ir_graph_new();
}

static void teardown(void)
{
	ir_graph_free(g);
}

TestSuite(kernels, .init = setup, .fini = teardown);

/* Evaluates n in fp32 and checks its only result against want. */
static void expect_f32(ir_nid n, int rank, const int64_t *dims, const float *want)
{
	sim_tensor *out = st_eval(g, n, SIM_FP32);
	st_check_f32(&out[0], rank, dims, want, 1e-6);
	sim_tensors_free(out, ir_node_at(g, n)->nout);
}

static void expect_ints(ir_nid n, ir_dtype dt, int rank, const int64_t *dims, const int64_t *want)
{
	sim_tensor *out = st_eval(g, n, SIM_FP32);
	st_check_ints(&out[0], dt, rank, dims, want);
	sim_tensors_free(out, ir_node_at(g, n)->nout);
}

static ir_nid unary(const char *op, ir_val x)
{
	return st_node(g, op, (ir_val[]){x}, 1, 1);
}

static ir_nid binary(const char *op, ir_val a, ir_val b)
{
	return st_node(g, op, (ir_val[]){a, b}, 2, 1);
}

/* ---------------------------------------------------------------- elementwise */

Test(kernels, activations)
{
	ir_val x = st_f32(g, 1, DIMS(3), F32S(-3, 0, 3));
	expect_f32(unary("Relu", x), 1, DIMS(3), F32S(0, 0, 3));
	expect_f32(unary("HardSigmoid", x), 1, DIMS(3), F32S(0, 0.5f, 1));
	ir_nid hs = unary("HardSigmoid", st_f32(g, 1, DIMS(2), F32S(1, -0.5f)));
	ir_attr_set_float(g, hs, "alpha", 0.25f);
	ir_attr_set_float(g, hs, "beta", 0.25f);
	expect_f32(hs, 1, DIMS(2), F32S(0.5f, 0.125f));
	ir_val s = st_f32(g, 1, DIMS(4), F32S(0, 2, -100, 100));
	expect_f32(unary("Sigmoid", s), 1, DIMS(4), F32S(0.5f, 0.880797078f, 3.720076e-44f, 1));
	expect_f32(unary("Sqrt", st_f32(g, 1, DIMS(3), F32S(4, 9, 2))), 1, DIMS(3), F32S(2, 3, 1.41421356f));
	expect_f32(unary("Erf", st_f32(g, 1, DIMS(3), F32S(0, 1, -0.5f))), 1, DIMS(3),
		   F32S(0, 0.842700793f, -0.520499878f));
	ir_val i = st_const(g, "i", IR_I32, 1, DIMS(2), (int32_t[]){-3, 4});
	expect_ints(unary("Relu", i), IR_I32, 1, DIMS(2), I64S(0, 4));
}

Test(kernels, clip_bounds)
{
	ir_val x = st_f32(g, 1, DIMS(3), F32S(-2, 0, 2));
	ir_val lo = st_f32(g, 0, NULL, F32S(-1)), hi = st_f32(g, 0, NULL, F32S(1));
	expect_f32(st_node(g, "Clip", (ir_val[]){x, lo, hi}, 3, 1), 1, DIMS(3), F32S(-1, 0, 1));
	expect_f32(st_node(g, "Clip", (ir_val[]){x, IR_NONE, hi}, 3, 1), 1, DIMS(3), F32S(-2, 0, 1));
	expect_f32(st_node(g, "Clip", (ir_val[]){x}, 1, 1), 1, DIMS(3), F32S(-2, 0, 2));
	expect_f32(st_node(g, "Clip", (ir_val[]){x, hi, lo}, 3, 1), 1, DIMS(3), F32S(-1, -1, -1));
	ir_val i8 = st_const(g, "i8", IR_I8, 1, DIMS(3), (int8_t[]){-128, 5, 127});
	ir_val zero = st_const(g, "z", IR_I8, 0, NULL, (int8_t[]){0});
	expect_ints(st_node(g, "Clip", (ir_val[]){i8, zero}, 2, 1), IR_I8, 1, DIMS(3), I64S(0, 5, 127));
}

Test(kernels, arithmetic_broadcasts)
{
	ir_val a = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val b = st_f32(g, 1, DIMS(3), F32S(10, 20, 30));
	ir_val c = st_f32(g, 2, DIMS(2, 1), F32S(2, 4));
	expect_f32(binary("Add", a, b), 2, DIMS(2, 3), F32S(11, 22, 33, 14, 25, 36));
	expect_f32(binary("Sub", b, a), 2, DIMS(2, 3), F32S(9, 18, 27, 6, 15, 24));
	expect_f32(binary("Mul", a, c), 2, DIMS(2, 3), F32S(2, 4, 6, 16, 20, 24));
	expect_f32(binary("Div", a, c), 2, DIMS(2, 3), F32S(0.5f, 1, 1.5f, 1, 1.25f, 1.5f));
	expect_f32(binary("Add", c, b), 2, DIMS(2, 3), F32S(12, 22, 32, 14, 24, 34));
	ir_val s = st_f32(g, 0, NULL, F32S(2));
	expect_f32(binary("Pow", a, s), 2, DIMS(2, 3), F32S(1, 4, 9, 16, 25, 36));
	ir_val d3 = st_f32(g, 3, DIMS(2, 1, 1), F32S(100, 200));
	expect_f32(binary("Add", d3, b), 3, DIMS(2, 1, 3), F32S(110, 120, 130, 210, 220, 230));
}

/* Row-major offset into a tensor of rank r broadcast into out coordinates o. */
static size_t bcast_offset(const int64_t *dims, int r, const int64_t *o, int orank)
{
	size_t off = 0;
	for (int i = 0; i < r; i++)
		off = off * (size_t)dims[i] + (size_t)(dims[i] == 1 ? 0 : o[orank - r + i]);
	return off;
}

/* A random shape of rank r whose dims are full's trailing dims or 1. */
static int64_t random_bshape(uint64_t *seed, const int64_t *full, int rank, int r, int64_t *dims)
{
	float u[4];
	st_fill_random(u, 4, seed);
	int64_t n = 1;
	for (int i = 0; i < r; i++) {
		dims[i] = u[i] < 0 ? 1 : full[rank - r + i];
		n *= dims[i];
	}
	return n;
}

/* Output coordinates of flat index j over dims. */
static void unflatten(size_t j, const int64_t *dims, int rank, int64_t *o)
{
	for (int i = rank - 1; i >= 0; i--) {
		o[i] = (int64_t)(j % (size_t)dims[i]);
		j /= (size_t)dims[i];
	}
}

Test(kernels, broadcasting_matches_naive_indexing)
{
	uint64_t seed = 42;
	for (int iter = 0; iter < 300; iter++) {
		float u[4];
		st_fill_random(u, 4, &seed);
		int rank = 1 + (int)((u[0] + 1) * 2); /* 1..4 */
		int ra = 1 + (int)((u[1] + 1) / 2 * rank), rc = 1 + (int)((u[2] + 1) / 2 * rank);
		int64_t full[4], da[4], db[4], dc[4], o[4];
		for (int i = 0; i < rank; i++) {
			st_fill_random(u, 1, &seed);
			full[i] = 2 + (int64_t)((u[0] + 1) * 1.5f); /* 2..4 */
		}
		float a[256], b[256];
		uint8_t c[256];
		int64_t na = random_bshape(&seed, full, rank, ra, da);
		int64_t nb = random_bshape(&seed, full, rank, rank, db);
		int64_t nc = random_bshape(&seed, full, rank, rc, dc);
		st_fill_random(a, (size_t)na, &seed);
		st_fill_random(b, (size_t)nb, &seed);
		for (int64_t i = 0; i < nc; i++)
			c[i] = (seed >> (i % 60)) & 1;
		ir_val va = st_f32(g, ra, da, a), vb = st_f32(g, rank, db, b);
		ir_val vc = st_const(g, "c", IR_BOOL, rc, dc, c);
		sim_tensor *sub = st_eval(g, binary("Sub", va, vb), SIM_FP32);
		sim_tensor *sel = st_eval(g, st_node(g, "Where", (ir_val[]){vc, va, vb}, 3, 1), SIM_FP32);
		for (int i = 0; i < rank; i++) {
			int64_t ea = i >= rank - ra ? da[i - (rank - ra)] : 1;
			int64_t ec = i >= rank - rc ? dc[i - (rank - rc)] : 1;
			cr_assert_eq(sub[0].dims[i], ea > db[i] ? ea : db[i]);
			cr_assert_eq(sel[0].dims[i], ea > db[i] ? ea : db[i] > ec ? db[i] : ec);
		}
		for (size_t j = 0; j < sim_numel(&sub[0]); j++) {
			unflatten(j, sub[0].dims, rank, o);
			float want = a[bcast_offset(da, ra, o, rank)] - b[bcast_offset(db, rank, o, rank)];
			cr_assert_eq(((float *)sub[0].data)[j], want, "iteration %d element %zu", iter, j);
		}
		for (size_t j = 0; j < sim_numel(&sel[0]); j++) {
			unflatten(j, sel[0].dims, rank, o);
			float x = a[bcast_offset(da, ra, o, rank)], y = b[bcast_offset(db, rank, o, rank)];
			cr_assert_eq(((float *)sel[0].data)[j], c[bcast_offset(dc, rc, o, rank)] ? x : y);
		}
		sim_tensors_free(sub, 1);
		sim_tensors_free(sel, 1);
	}
}

static float arith(const char *op, float a, float b)
{
	switch (op[0]) {
	case 'A': return a + b;
	case 'S': return a - b;
	case 'M': return a * b;
	case 'D': return a / b;
	default: return (float)pow(a, b);
	}
}

/* Every arithmetic op on the layouts the f32 kernel has fast paths for
 * (same shape, a scalar on either side, a per-channel operand, Pow by a
 * scalar 2) and on a general broadcast, bit for bit against naive loops. */
Test(kernels, arithmetic_fast_paths_match_naive_loops)
{
	static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
	static const int64_t full[4] = {2, 3, 4, 5};
	static const struct {
		int ra, rb;
		int64_t da[4], db[4];
	} layouts[] = {
		{4, 4, {2, 3, 4, 5}, {2, 3, 4, 5}}, {4, 0, {2, 3, 4, 5}, {0}}, {0, 4, {0}, {2, 3, 4, 5}},
		{4, 3, {2, 3, 4, 5}, {3, 1, 1}},    {3, 4, {3, 1, 1}, {2, 3, 4, 5}}, {4, 2, {2, 3, 4, 5}, {4, 1}},
		{2, 4, {1, 5}, {2, 3, 4, 1}},
	};
	uint64_t seed = 7;
	float a[120], b[120], two[120];
	st_fill_random(a, 120, &seed);
	st_fill_random(b, 120, &seed);
	a[3] = NAN, a[5] = -0.0f, a[7] = INFINITY, b[2] = 0;
	for (int i = 0; i < 120; i++)
		two[i] = 2;
	int64_t o[4];
	for (size_t l = 0; l < sizeof layouts / sizeof *layouts; l++) {
		for (int op = 0; op < 5; op++) {
			for (int sq = 0; sq < 2; sq++) { /* b = 2 everywhere: Pow's squaring path */
				const float *bs = sq ? two : b;
				ir_val va = st_f32(g, layouts[l].ra, layouts[l].da, a);
				ir_val vb = st_f32(g, layouts[l].rb, layouts[l].db, bs);
				sim_tensor *y = st_eval(g, binary(ops[op], va, vb), SIM_FP32);
				cr_assert_eq(sim_numel(&y[0]), 120);
				for (size_t j = 0; j < 120; j++) {
					unflatten(j, full, 4, o);
					float want = arith(ops[op], a[bcast_offset(layouts[l].da, layouts[l].ra, o, 4)],
							   bs[bcast_offset(layouts[l].db, layouts[l].rb, o, 4)]);
					float got = ((float *)y[0].data)[j];
					cr_assert(memcmp(&got, &want, sizeof got) == 0 || (isnan(got) && isnan(want)),
						  "%s layout %zu element %zu: %g, expected %g", ops[op], l, j, got, want);
				}
				sim_tensors_free(y, 1);
			}
		}
	}
}

Test(kernels, integer_arithmetic)
{
	ir_val a = st_const(g, "a", IR_I32, 1, DIMS(4), (int32_t[]){7, -7, 7, -7});
	ir_val b = st_const(g, "b", IR_I32, 1, DIMS(4), (int32_t[]){2, 2, -2, -2});
	expect_ints(binary("Div", a, b), IR_I32, 1, DIMS(4), I64S(3, -3, -3, 3));
	expect_ints(binary("Mul", a, b), IR_I32, 1, DIMS(4), I64S(14, -14, -14, 14));
	ir_val u = st_const(g, "u", IR_U8, 1, DIMS(2), (uint8_t[]){250, 3});
	ir_val v = st_const(g, "v", IR_U8, 1, DIMS(2), (uint8_t[]){10, 5});
	expect_ints(binary("Add", u, v), IR_U8, 1, DIMS(2), I64S(4, 8));
	expect_ints(binary("Sub", u, v), IR_U8, 1, DIMS(2), I64S(240, 254));
	ir_val p = st_i64(g, 1, DIMS(3), I64S(2, 3, -2));
	ir_val e = st_i64(g, 1, DIMS(3), I64S(3, 3, 3));
	expect_ints(binary("Pow", p, e), IR_I64, 1, DIMS(3), I64S(8, 27, -8));
	ir_val f = st_f32(g, 1, DIMS(1), F32S(0.5f));
	ir_val four = st_const(g, "four", IR_I32, 1, DIMS(1), (int32_t[]){9});
	expect_ints(binary("Pow", four, f), IR_I32, 1, DIMS(1), I64S(3));
	ir_val ue = st_const(g, "ue", IR_U32, 1, DIMS(1), (uint32_t[]){3});
	expect_f32(binary("Pow", st_f32(g, 1, DIMS(1), F32S(1.5f)), ue), 1, DIMS(1), F32S(3.375f));
}

Test(kernels, equal_and_where)
{
	ir_val a = st_i64(g, 1, DIMS(3), I64S(1, 2, 3));
	ir_val b = st_i64(g, 1, DIMS(1), I64S(2));
	expect_ints(binary("Equal", a, b), IR_BOOL, 1, DIMS(3), I64S(0, 1, 0));
	ir_val c = st_const(g, "c", IR_BOOL, 1, DIMS(2), (uint8_t[]){1, 0});
	ir_val x = st_f32(g, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	ir_val y = st_f32(g, 1, DIMS(1), F32S(9));
	expect_f32(st_node(g, "Where", (ir_val[]){c, x, y}, 3, 1), 2, DIMS(2, 2), F32S(1, 9, 3, 9));
	ir_val c2 = st_const(g, "c2", IR_BOOL, 2, DIMS(2, 1), (uint8_t[]){0, 1});
	expect_ints(st_node(g, "Where", (ir_val[]){c2, a, b}, 3, 1), IR_I64, 2, DIMS(2, 3),
		    I64S(2, 2, 2, 1, 2, 3));
}

Test(kernels, neg_tanh_leakyrelu)
{
	ir_val x = st_f32(g, 1, DIMS(3), F32S(-2, 0, 0.5f));
	expect_f32(unary("Neg", x), 1, DIMS(3), F32S(2, 0, -0.5f));
	expect_f32(unary("Tanh", x), 1, DIMS(3), F32S(-0.964027580f, 0, 0.462117157f));
	expect_f32(unary("LeakyRelu", x), 1, DIMS(3), F32S(-0.02f, 0, 0.5f));
	ir_nid lr = unary("LeakyRelu", x);
	ir_attr_set_float(g, lr, "alpha", 0.5f);
	expect_f32(lr, 1, DIMS(3), F32S(-1, 0, 0.5f));
	ir_val i = st_const(g, "i", IR_I8, 1, DIMS(3), (int8_t[]){-128, 3, 0});
	expect_ints(unary("Neg", i), IR_I8, 1, DIMS(3), I64S(-128, -3, 0));
}

static ir_nid cast_to(ir_val x, ir_dtype to)
{
	ir_nid n = unary("Cast", x);
	ir_attr_set_int(g, n, "to", to);
	return n;
}

Test(kernels, cast)
{
	ir_val x = st_f32(g, 1, DIMS(5), F32S(-2.7f, -0.5f, 0, 3.9f, 300));
	expect_ints(cast_to(x, IR_I32), IR_I32, 1, DIMS(5), I64S(-2, 0, 0, 3, 300));
	expect_ints(cast_to(x, IR_BOOL), IR_BOOL, 1, DIMS(5), I64S(1, 1, 0, 1, 1));
	expect_ints(cast_to(x, IR_U8), IR_U8, 1, DIMS(5), I64S(254, 0, 0, 3, 44));
	ir_val w = st_i64(g, 1, DIMS(2), I64S(-1, 70000));
	expect_ints(cast_to(w, IR_I16), IR_I16, 1, DIMS(2), I64S(-1, 4464));
	expect_f32(cast_to(w, IR_F32), 1, DIMS(2), F32S(-1, 70000));
	sim_tensor *out = st_eval(g, cast_to(st_f32(g, 1, DIMS(2), F32S(1.0f + 3 * ldexpf(1, -8), 1e6f)), IR_BF16),
				  SIM_FP32);
	st_check_shape(&out[0], IR_BF16, 1, DIMS(2));
	cr_assert_eq(((uint16_t *)out[0].data)[0], 0x3f82); /* tie between 0x3f81 and 0x3f82: even */
	sim_tensors_free(out, 1);
	ir_val d = st_const(g, "d", IR_F64, 1, DIMS(1), (double[]){1.0 + ldexp(1, -11) + ldexp(1, -40)});
	out = st_eval(g, cast_to(d, IR_F16), SIM_FP32);
	cr_assert_eq(((uint16_t *)out[0].data)[0], 0x3c01); /* one rounding, not two */
	sim_tensors_free(out, 1);
	ir_diags dg;
	ir_diags_init(&dg);
	cr_assert_eq(st_try(g, cast_to(x, IR_STRING), &dg), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&dg, "cast to string"));
	ir_diags_free(&dg);
}

/* ---------------------------------------------------------------- conv, pools */

Test(kernels, conv_pads_strides_bias)
{
	ir_val x = st_f32(g, 4, DIMS(1, 1, 3, 3), F32S(1, 2, 3, 4, 5, 6, 7, 8, 9));
	ir_val w = st_f32(g, 4, DIMS(1, 1, 2, 2), F32S(1, 0, 0, 1));
	expect_f32(binary("Conv", x, w), 4, DIMS(1, 1, 2, 2), F32S(6, 8, 12, 14));
	ir_val b = st_f32(g, 1, DIMS(1), F32S(10));
	ir_nid c = st_node(g, "Conv", (ir_val[]){x, w, b}, 3, 1);
	ir_attr_set_ints(g, c, "pads", I64S(1, 1, 1, 1), 4);
	ir_attr_set_ints(g, c, "strides", I64S(2, 2), 2);
	expect_f32(c, 4, DIMS(1, 1, 2, 2), F32S(11, 13, 17, 24));
	ir_nid same = binary("Conv", x, w);
	ir_attr_set_string(g, same, "auto_pad", "SAME_UPPER", 10);
	expect_f32(same, 4, DIMS(1, 1, 3, 3), F32S(6, 8, 3, 12, 14, 6, 7, 8, 9));
	ir_nid lower = binary("Conv", x, w);
	ir_attr_set_string(g, lower, "auto_pad", "SAME_LOWER", 10);
	expect_f32(lower, 4, DIMS(1, 1, 3, 3), F32S(1, 2, 3, 4, 6, 8, 7, 12, 14));
	ir_nid dil = binary("Conv", x, w);
	ir_attr_set_ints(g, dil, "dilations", I64S(2, 2), 2);
	expect_f32(dil, 4, DIMS(1, 1, 1, 1), F32S(10));
}

Test(kernels, conv_1d_and_groups)
{
	ir_val x = st_f32(g, 3, DIMS(1, 2, 4), F32S(1, 2, 3, 4, 10, 20, 30, 40));
	ir_val w = st_f32(g, 3, DIMS(2, 1, 2), F32S(1, 1, 1, -1));
	ir_nid dw = binary("Conv", x, w);
	ir_attr_set_int(g, dw, "group", 2);
	expect_f32(dw, 3, DIMS(1, 2, 3), F32S(3, 5, 7, -10, -10, -10));
	ir_val w2 = st_f32(g, 3, DIMS(1, 2, 1), F32S(1, 0.5f));
	expect_f32(binary("Conv", x, w2), 3, DIMS(1, 1, 4), F32S(6, 12, 18, 24));
}

Test(kernels, maxpool_with_indices)
{
	ir_val x = st_f32(g, 4, DIMS(1, 1, 4, 4), F32S(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
	ir_nid mp = st_node(g, "MaxPool", (ir_val[]){x}, 1, 2);
	ir_attr_set_ints(g, mp, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(g, mp, "strides", I64S(2, 2), 2);
	sim_tensor *out = st_eval(g, mp, SIM_FP32);
	st_check_f32(&out[0], 4, DIMS(1, 1, 2, 2), F32S(6, 8, 14, 16), 0);
	st_check_ints(&out[1], IR_I64, 4, DIMS(1, 1, 2, 2), I64S(5, 7, 13, 15));
	sim_tensors_free(out, 2);
	ir_attr_set_int(g, mp, "storage_order", 1);
	out = st_eval(g, mp, SIM_FP32);
	st_check_ints(&out[1], IR_I64, 4, DIMS(1, 1, 2, 2), I64S(5, 13, 7, 15));
	sim_tensors_free(out, 2);
}

Test(kernels, maxpool_ceil_mode_and_channels)
{
	float v[50];
	for (int i = 0; i < 50; i++)
		v[i] = (float)(i < 25 ? i + 1 : 25 - i);
	ir_val x = st_f32(g, 4, DIMS(1, 2, 5, 5), v);
	ir_nid mp = unary("MaxPool", x);
	ir_attr_set_ints(g, mp, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(g, mp, "strides", I64S(2, 2), 2);
	expect_f32(mp, 4, DIMS(1, 2, 2, 2), F32S(7, 9, 17, 19, 0, -2, -10, -12));
	ir_attr_set_int(g, mp, "ceil_mode", 1);
	expect_f32(mp, 4, DIMS(1, 2, 3, 3),
		   F32S(7, 9, 10, 17, 19, 20, 22, 24, 25, 0, -2, -4, -10, -12, -14, -20, -22, -24));
}

Test(kernels, averagepool_padding)
{
	ir_val x = st_f32(g, 4, DIMS(1, 1, 2, 2), F32S(1, 2, 3, 4));
	ir_nid ap = unary("AveragePool", x);
	ir_attr_set_ints(g, ap, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(g, ap, "pads", I64S(1, 1, 1, 1), 4);
	expect_f32(ap, 4, DIMS(1, 1, 3, 3), F32S(1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4));
	ir_attr_set_int(g, ap, "count_include_pad", 1);
	expect_f32(ap, 4, DIMS(1, 1, 3, 3), F32S(0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1));
}

Test(kernels, global_average_pool)
{
	ir_val x = st_f32(g, 4, DIMS(1, 2, 2, 2), F32S(1, 2, 3, 4, 5, 6, 7, 8));
	expect_f32(unary("GlobalAveragePool", x), 4, DIMS(1, 2, 1, 1), F32S(2.5f, 6.5f));
}

/* ---------------------------------------------------------------- matmul, gemm */

Test(kernels, gemm_attributes)
{
	ir_val a = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val b = st_f32(g, 2, DIMS(3, 2), F32S(1, 0, 0, 1, 1, 1));
	ir_val c = st_f32(g, 1, DIMS(2), F32S(10, 20));
	expect_f32(binary("Gemm", a, b), 2, DIMS(2, 2), F32S(4, 5, 10, 11));
	ir_nid gm = st_node(g, "Gemm", (ir_val[]){a, b, c}, 3, 1);
	ir_attr_set_float(g, gm, "alpha", 2);
	ir_attr_set_float(g, gm, "beta", 0.5f);
	expect_f32(gm, 2, DIMS(2, 2), F32S(13, 20, 25, 32));
	ir_val at = st_f32(g, 2, DIMS(3, 2), F32S(1, 4, 2, 5, 3, 6));
	ir_val bt = st_f32(g, 2, DIMS(2, 3), F32S(1, 0, 1, 0, 1, 1));
	ir_val col = st_f32(g, 2, DIMS(2, 1), F32S(1, 2));
	ir_nid tt = st_node(g, "Gemm", (ir_val[]){at, bt, col}, 3, 1);
	ir_attr_set_int(g, tt, "transA", 1);
	ir_attr_set_int(g, tt, "transB", 1);
	expect_f32(tt, 2, DIMS(2, 2), F32S(5, 6, 12, 13));
	ir_val ia = st_i64(g, 2, DIMS(1, 2), I64S(3, 4)), ib = st_i64(g, 2, DIMS(2, 1), I64S(5, 6));
	expect_ints(binary("Gemm", ia, ib), IR_I64, 2, DIMS(1, 1), I64S(39));
}

/* Gemm as sim_sgemm splits it: one row or one column (a matrix-vector
 * product), small products in row or column bands, and one plain call,
 * under every transA / transB, with and without C, against naive loops. */
Test(kernels, gemm_vector_banded_and_plain_products)
{
	static const int64_t shapes[][3] = {{1, 7, 5}, {6, 1, 5},    {1, 1, 8},    {1, 8, 1},
					    {40, 96, 120}, {8, 300, 300}, {3, 600, 500}, {70, 90, 200}};
	uint64_t seed = 11;
	float *a = malloc(300000 * sizeof *a), *b = malloc(300000 * sizeof *b), *c = malloc(20000 * sizeof *c);
	st_fill_random(a, 300000, &seed);
	st_fill_random(b, 300000, &seed);
	st_fill_random(c, 20000, &seed);
	for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
		int64_t m = shapes[sh][0], n = shapes[sh][1], kk = shapes[sh][2];
		for (int t = 0; t < 8; t++) {
			bool ta = t & 1, tb = t & 2, with_c = t & 4;
			int64_t ad[2] = {ta ? kk : m, ta ? m : kk}, bd[2] = {tb ? n : kk, tb ? kk : n}, cd[2] = {m, n};
			ir_val ins[3] = {st_f32(g, 2, ad, a), st_f32(g, 2, bd, b), st_f32(g, 2, cd, c)};
			ir_nid gm = st_node(g, "Gemm", ins, with_c ? 3 : 2, 1);
			ir_attr_set_int(g, gm, "transA", ta);
			ir_attr_set_int(g, gm, "transB", tb);
			ir_attr_set_float(g, gm, "alpha", 1.5f);
			ir_attr_set_float(g, gm, "beta", -2);
			sim_tensor *y = st_eval(g, gm, SIM_FP32);
			st_check_shape(&y[0], IR_F32, 2, cd);
			for (int64_t i = 0; i < m; i++) {
				for (int64_t j = 0; j < n; j++) {
					double want = with_c ? -2.0 * c[i * n + j] : 0, dot = 0;
					for (int64_t q = 0; q < kk; q++) {
						double x = a[ta ? q * m + i : i * kk + q];
						dot += x * b[tb ? j * kk + q : q * n + j];
					}
					want += 1.5 * dot;
					float got = ((float *)y[0].data)[i * n + j];
					cr_assert(fabs(got - want) <= 1e-5 * (1 + fabs(want) + sqrt((double)kk)),
						  "%lldx%lldx%lld ta %d tb %d c %d: [%lld,%lld] = %g, expected %g",
						  (long long)m, (long long)n, (long long)kk, ta, tb, with_c, (long long)i,
						  (long long)j, got, want);
				}
			}
			sim_tensors_free(y, 1);
		}
	}
	free(a);
	free(b);
	free(c);
}

Test(kernels, matmul_shapes)
{
	ir_val a = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val v = st_f32(g, 1, DIMS(3), F32S(1, 0, -1));
	expect_f32(binary("MatMul", a, v), 1, DIMS(2), F32S(-2, -2));
	ir_val u = st_f32(g, 1, DIMS(2), F32S(1, 1));
	expect_f32(binary("MatMul", u, a), 1, DIMS(3), F32S(5, 7, 9));
	ir_val a3 = st_f32(g, 3, DIMS(2, 1, 2), F32S(1, 2, 3, 4));
	ir_val b3 = st_f32(g, 3, DIMS(3, 2, 1), F32S(1, 0, 0, 1, 1, 1));
	expect_f32(binary("MatMul", a3, st_f32(g, 4, DIMS(1, 1, 2, 1), F32S(1, 1))), 4, DIMS(1, 2, 1, 1),
		   F32S(3, 7));
	sim_tensor *out = st_eval(g, binary("MatMul", st_f32(g, 4, DIMS(2, 1, 1, 2), F32S(1, 2, 3, 4)), b3),
				  SIM_FP32);
	st_check_f32(&out[0], 4, DIMS(2, 3, 1, 1), F32S(1, 2, 3, 3, 4, 7), 0);
	sim_tensors_free(out, 1);
	ir_val ia = st_const(g, "ia", IR_I32, 2, DIMS(1, 2), (int32_t[]){2, -3});
	ir_val ib = st_const(g, "ib", IR_I32, 2, DIMS(2, 2), (int32_t[]){1, 2, 3, 4});
	expect_ints(binary("MatMul", ia, ib), IR_I32, 2, DIMS(1, 2), I64S(-7, -8));
}

/* ---------------------------------------------------------------- normalisation, softmax, reduce */

Test(kernels, batchnorm_inference)
{
	ir_val x = st_f32(g, 4, DIMS(1, 2, 1, 2), F32S(1, 2, 3, 4));
	ir_val s = st_f32(g, 1, DIMS(2), F32S(1, 2)), b = st_f32(g, 1, DIMS(2), F32S(0, 1));
	ir_val m = st_f32(g, 1, DIMS(2), F32S(1, 3)), var = st_f32(g, 1, DIMS(2), F32S(4, 1));
	ir_nid bn = st_node(g, "BatchNormalization", (ir_val[]){x, s, b, m, var}, 5, 1);
	ir_attr_set_float(g, bn, "epsilon", 0);
	expect_f32(bn, 4, DIMS(1, 2, 1, 2), F32S(0, 0.5f, 1, 3));
}

Test(kernels, batchnorm_training_mode)
{
	ir_graph_add_opset(g, "", 15);
	ir_val x = st_f32(g, 3, DIMS(2, 1, 2), F32S(1, 2, 3, 4));
	ir_val s = st_f32(g, 1, DIMS(1), F32S(2)), b = st_f32(g, 1, DIMS(1), F32S(1));
	ir_val m = st_f32(g, 1, DIMS(1), F32S(0)), var = st_f32(g, 1, DIMS(1), F32S(1));
	ir_nid bn = st_node(g, "BatchNormalization", (ir_val[]){x, s, b, m, var}, 5, 3);
	ir_attr_set_int(g, bn, "training_mode", 1);
	ir_attr_set_float(g, bn, "epsilon", 0);
	sim_tensor *out = st_eval(g, bn, SIM_FP32);
	float r = 1 / sqrtf(1.25f);
	st_check_f32(&out[0], 3, DIMS(2, 1, 2), F32S(1 - 3 * r, 1 - r, 1 + r, 1 + 3 * r), 1e-6);
	st_check_f32(&out[1], 1, DIMS(1), F32S(0.25f), 1e-7);
	st_check_f32(&out[2], 1, DIMS(1), F32S(0.9f + 0.125f), 1e-7);
	sim_tensors_free(out, 3);
}

Test(kernels, softmax_axes)
{
	ir_val x = st_f32(g, 2, DIMS(1, 3), F32S(1, 2, 3));
	expect_f32(unary("Softmax", x), 2, DIMS(1, 3), F32S(0.0900305732f, 0.244728471f, 0.665240956f));
	ir_val big = st_f32(g, 1, DIMS(2), F32S(1000, 1001));
	expect_f32(unary("Softmax", big), 1, DIMS(2), F32S(0.268941421f, 0.731058579f));
	ir_nid a0 = unary("Softmax", st_f32(g, 2, DIMS(2, 1), F32S(0, 0)));
	ir_attr_set_int(g, a0, "axis", 0);
	expect_f32(a0, 2, DIMS(2, 1), F32S(0.5f, 0.5f));
}

Test(kernels, softmax_before_opset_13_flattens)
{
	ir_graph_add_opset(g, "", 11);
	ir_val x = st_f32(g, 3, DIMS(1, 2, 2), F32S(0, 0, 0, 0));
	ir_nid sm = st_node(g, "Softmax", (ir_val[]){x}, 1, 1);
	ir_node_at(g, sm)->opcode = IR_OP_Softmax; /* the registry lists Softmax from 13 */
	expect_f32(sm, 3, DIMS(1, 2, 2), F32S(0.25f, 0.25f, 0.25f, 0.25f));
}

Test(kernels, reduce_mean)
{
	ir_val x = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_nid r = unary("ReduceMean", x);
	ir_attr_set_ints(g, r, "axes", I64S(1), 1);
	expect_f32(r, 2, DIMS(2, 1), F32S(2, 5));
	ir_attr_set_int(g, r, "keepdims", 0);
	expect_f32(r, 1, DIMS(2), F32S(2, 5));
	ir_attr_set_ints(g, r, "axes", I64S(-2), 1);
	expect_f32(r, 1, DIMS(3), F32S(2.5f, 3.5f, 4.5f));
	expect_f32(unary("ReduceMean", x), 2, DIMS(1, 1), F32S(3.5f));
}

Test(kernels, reduce_mean_opset18_axes_input)
{
	ir_graph_add_opset(g, "", 18);
	ir_val x = st_f32(g, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	ir_val axes = st_i64(g, 1, DIMS(1), I64S(0));
	expect_f32(binary("ReduceMean", x, axes), 2, DIMS(1, 2), F32S(2, 3));
	ir_nid noop = unary("ReduceMean", x);
	ir_attr_set_int(g, noop, "noop_with_empty_axes", 1);
	expect_f32(noop, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	expect_f32(unary("ReduceMean", x), 2, DIMS(1, 1), F32S(2.5f));
}

Test(kernels, reduce_sum)
{
	ir_val x = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val ax = st_i64(g, 1, DIMS(1), I64S(-1));
	expect_f32(binary("ReduceSum", x, ax), 2, DIMS(2, 1), F32S(6, 15));
	expect_f32(unary("ReduceSum", x), 2, DIMS(1, 1), F32S(21));
	ir_nid noop = unary("ReduceSum", x);
	ir_attr_set_int(g, noop, "noop_with_empty_axes", 1);
	ir_attr_set_int(g, noop, "keepdims", 0);
	expect_f32(noop, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val big = st_i64(g, 1, DIMS(2), I64S(INT64_C(9007199254740993), 1));
	ir_nid is = unary("ReduceSum", big);
	ir_attr_set_int(g, is, "keepdims", 0);
	expect_ints(is, IR_I64, 0, NULL, I64S(INT64_C(9007199254740994))); /* exact beyond 2^53 */
}

Test(kernels, reduce_sum_before_opset_13)
{
	ir_graph_add_opset(g, "", 11);
	ir_val x = st_f32(g, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	ir_nid r = unary("ReduceSum", x);
	ir_attr_set_ints(g, r, "axes", I64S(0), 1);
	expect_f32(r, 2, DIMS(1, 2), F32S(4, 6));
}

Test(kernels, range)
{
	ir_val s = st_i64(g, 0, NULL, I64S(10)), l = st_i64(g, 0, NULL, I64S(4)), d = st_i64(g, 0, NULL, I64S(-3));
	expect_ints(st_node(g, "Range", (ir_val[]){s, l, d}, 3, 1), IR_I64, 1, DIMS(2), I64S(10, 7));
	ir_val fs = st_f32(g, 0, NULL, F32S(1)), fl = st_f32(g, 0, NULL, F32S(2)), fd = st_f32(g, 0, NULL, F32S(0.25f));
	expect_f32(st_node(g, "Range", (ir_val[]){fs, fl, fd}, 3, 1), 1, DIMS(4), F32S(1, 1.25f, 1.5f, 1.75f));
	expect_f32(st_node(g, "Range", (ir_val[]){fl, fs, fd}, 3, 1), 1, DIMS(0), NULL);
}

/* ---------------------------------------------------------------- layout */

Test(kernels, squeeze_unsqueeze)
{
	ir_val x = st_f32(g, 4, DIMS(1, 3, 1, 2), NULL);
	expect_ints(unary("Squeeze", x), IR_F32, 2, DIMS(3, 2), (int64_t[6]){0});
	expect_ints(binary("Squeeze", x, st_i64(g, 1, DIMS(1), I64S(-2))), IR_F32, 3, DIMS(1, 3, 2),
		    (int64_t[6]){0});
	ir_val y = st_f32(g, 2, DIMS(3, 2), F32S(1, 2, 3, 4, 5, 6));
	expect_f32(binary("Unsqueeze", y, st_i64(g, 1, DIMS(2), I64S(3, 0))), 4, DIMS(1, 3, 2, 1),
		   F32S(1, 2, 3, 4, 5, 6));
	expect_f32(binary("Unsqueeze", y, st_i64(g, 1, DIMS(1), I64S(-1))), 3, DIMS(3, 2, 1),
		   F32S(1, 2, 3, 4, 5, 6));
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, binary("Squeeze", y, st_i64(g, 1, DIMS(1), I64S(0))), &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "extent 1"));
	ir_diags_free(&d);
}

Test(kernels, squeeze_unsqueeze_attributes_before_opset_13)
{
	ir_graph_add_opset(g, "", 11);
	ir_val x = st_f32(g, 2, DIMS(1, 2), F32S(1, 2));
	ir_nid u = unary("Unsqueeze", x);
	ir_attr_set_ints(g, u, "axes", I64S(1), 1);
	expect_f32(u, 3, DIMS(1, 1, 2), F32S(1, 2));
	ir_nid q = unary("Squeeze", x);
	ir_attr_set_ints(g, q, "axes", I64S(0), 1);
	expect_f32(q, 1, DIMS(2), F32S(1, 2));
}

Test(kernels, reshape_flatten_identity)
{
	ir_val x = st_f32(g, 3, DIMS(2, 3, 4), NULL);
	expect_ints(binary("Reshape", x, st_i64(g, 1, DIMS(2), I64S(0, -1))), IR_F32, 2, DIMS(2, 12),
		    (int64_t[24]){0});
	expect_ints(binary("Reshape", x, st_i64(g, 1, DIMS(3), I64S(4, -1, 3))), IR_F32, 3, DIMS(4, 2, 3),
		    (int64_t[24]){0});
	ir_val y = st_f32(g, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	expect_f32(binary("Reshape", y, st_i64(g, 1, DIMS(1), I64S(-1))), 1, DIMS(4), F32S(1, 2, 3, 4));
	ir_nid f = unary("Flatten", x);
	ir_attr_set_int(g, f, "axis", 2);
	expect_ints(f, IR_F32, 2, DIMS(6, 4), (int64_t[24]){0});
	ir_attr_set_int(g, f, "axis", 0);
	expect_ints(f, IR_F32, 2, DIMS(1, 24), (int64_t[24]){0});
	ir_attr_set_int(g, f, "axis", -1);
	expect_ints(f, IR_F32, 2, DIMS(6, 4), (int64_t[24]){0});
	expect_f32(unary("Identity", y), 2, DIMS(2, 2), F32S(1, 2, 3, 4));
}

Test(kernels, reshape_allowzero)
{
	ir_graph_add_opset(g, "", 14);
	ir_val x = st_f32(g, 2, DIMS(0, 3), NULL);
	ir_val shape = st_i64(g, 1, DIMS(2), I64S(3, 0));
	ir_nid r = binary("Reshape", x, shape);
	ir_attr_set_int(g, r, "allowzero", 1);
	expect_f32(r, 2, DIMS(3, 0), NULL);
	ir_nid copy = binary("Reshape", x, shape); /* 0 copies dim 1 (3): 9 elements != 0 */
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, copy, &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "elements"));
	ir_diags_free(&d);
}

Test(kernels, transpose)
{
	ir_val x = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	expect_f32(unary("Transpose", x), 2, DIMS(3, 2), F32S(1, 4, 2, 5, 3, 6));
	ir_val y = st_f32(g, 3, DIMS(2, 2, 2), F32S(0, 1, 2, 3, 4, 5, 6, 7));
	ir_nid t = unary("Transpose", y);
	ir_attr_set_ints(g, t, "perm", I64S(1, 0, 2), 3);
	expect_f32(t, 3, DIMS(2, 2, 2), F32S(0, 1, 4, 5, 2, 3, 6, 7));
	ir_attr_set_ints(g, t, "perm", I64S(2, 0, 1), 3);
	expect_f32(t, 3, DIMS(2, 2, 2), F32S(0, 2, 4, 6, 1, 3, 5, 7));
}

Test(kernels, concat)
{
	ir_val a = st_f32(g, 2, DIMS(2, 1), F32S(1, 2));
	ir_val b = st_f32(g, 2, DIMS(2, 2), F32S(3, 4, 5, 6));
	ir_nid c = binary("Concat", a, b);
	ir_attr_set_int(g, c, "axis", 1);
	expect_f32(c, 2, DIMS(2, 3), F32S(1, 3, 4, 2, 5, 6));
	ir_nid c0 = st_node(g, "Concat", (ir_val[]){b, b, st_f32(g, 2, DIMS(0, 2), NULL)}, 3, 1);
	ir_attr_set_int(g, c0, "axis", -2);
	expect_f32(c0, 2, DIMS(4, 2), F32S(3, 4, 5, 6, 3, 4, 5, 6));
}

Test(kernels, slice)
{
	float v[12];
	for (int i = 0; i < 12; i++)
		v[i] = (float)i;
	ir_val x = st_f32(g, 2, DIMS(3, 4), v);
	ir_val s01 = st_i64(g, 1, DIMS(2), I64S(0, 1)), e23 = st_i64(g, 1, DIMS(2), I64S(2, 3));
	expect_f32(st_node(g, "Slice", (ir_val[]){x, s01, e23}, 3, 1), 2, DIMS(2, 2), F32S(1, 2, 5, 6));
	ir_val ax1 = st_i64(g, 1, DIMS(1), I64S(1)), m1 = st_i64(g, 1, DIMS(1), I64S(-1));
	ir_val lo = st_i64(g, 1, DIMS(1), I64S(INT64_MIN)), hi = st_i64(g, 1, DIMS(1), I64S(1000));
	expect_f32(st_node(g, "Slice", (ir_val[]){x, m1, lo, ax1, m1}, 5, 1), 2, DIMS(3, 4),
		   F32S(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8));
	ir_val zero = st_i64(g, 1, DIMS(1), I64S(0)), two = st_i64(g, 1, DIMS(1), I64S(2));
	expect_f32(st_node(g, "Slice", (ir_val[]){x, zero, hi, ax1, two}, 5, 1), 2, DIMS(3, 2),
		   F32S(0, 2, 4, 6, 8, 10));
	ir_val three = st_i64(g, 1, DIMS(1), I64S(3)), mm = st_i64(g, 1, DIMS(1), I64S(-100));
	ir_val m2 = st_i64(g, 1, DIMS(1), I64S(-2));
	expect_f32(st_node(g, "Slice", (ir_val[]){x, three, mm, ax1, m2}, 5, 1), 2, DIMS(3, 2),
		   F32S(3, 1, 7, 5, 11, 9));
	ir_val big = st_i64(g, 1, DIMS(1), I64S(10));
	expect_f32(st_node(g, "Slice", (ir_val[]){x, big, hi}, 3, 1), 2, DIMS(0, 4), NULL);
}

Test(kernels, gather)
{
	ir_val x = st_f32(g, 2, DIMS(3, 2), F32S(1, 2, 3, 4, 5, 6));
	ir_val i2 = st_i64(g, 2, DIMS(2, 2), I64S(0, 1, 1, 2));
	expect_f32(binary("Gather", x, i2), 3, DIMS(2, 2, 2), F32S(1, 2, 3, 4, 3, 4, 5, 6));
	expect_f32(binary("Gather", x, st_i64(g, 1, DIMS(1), I64S(-1))), 2, DIMS(1, 2), F32S(5, 6));
	expect_f32(binary("Gather", x, st_i64(g, 0, NULL, I64S(1))), 1, DIMS(2), F32S(3, 4));
	ir_nid a1 = binary("Gather", x, st_const(g, "i32", IR_I32, 1, DIMS(1), (int32_t[]){1}));
	ir_attr_set_int(g, a1, "axis", 1);
	expect_f32(a1, 2, DIMS(3, 1), F32S(2, 4, 6));
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, binary("Gather", x, st_i64(g, 1, DIMS(1), I64S(3))), &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "out of range"));
	ir_diags_free(&d);
}

Test(kernels, pad_modes)
{
	ir_val x = st_f32(g, 2, DIMS(2, 3), F32S(1, 2, 3, 4, 5, 6));
	ir_val p = st_i64(g, 1, DIMS(4), I64S(0, 1, 0, 2)), nine = st_f32(g, 0, NULL, F32S(9));
	expect_f32(st_node(g, "Pad", (ir_val[]){x, p, nine}, 3, 1), 2, DIMS(2, 6),
		   F32S(9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9));
	ir_val p2 = st_i64(g, 1, DIMS(4), I64S(0, 2, 0, 2));
	static const char *const modes[] = {"reflect", "edge", "wrap"};
	static const float want[3][7] = {
		{3, 2, 1, 2, 3, 2, 1}, {1, 1, 1, 2, 3, 3, 3}, {2, 3, 1, 2, 3, 1, 2}};
	ir_val row = st_f32(g, 2, DIMS(1, 3), F32S(1, 2, 3));
	for (int m = 0; m < 3; m++) {
		ir_nid n = binary("Pad", row, p2);
		ir_attr_set_string(g, n, "mode", modes[m], strlen(modes[m]));
		expect_f32(n, 2, DIMS(1, 7), want[m]);
	}
	expect_f32(binary("Pad", x, st_i64(g, 1, DIMS(4), I64S(0, -1, 0, 0))), 2, DIMS(2, 2),
		   F32S(2, 3, 5, 6));
	ir_nid bad = binary("Pad", x, p);
	ir_attr_set_string(g, bad, "mode", "mirror", 6);
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, bad, &d), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&d, "pad mode 'mirror'"));
	ir_diags_free(&d);
}

Test(kernels, pad_opset18_axes)
{
	ir_graph_add_opset(g, "", 18);
	ir_val x = st_f32(g, 2, DIMS(2, 2), F32S(1, 2, 3, 4));
	ir_val p = st_i64(g, 1, DIMS(2), I64S(1, 0)), ax = st_i64(g, 1, DIMS(1), I64S(-1));
	expect_f32(st_node(g, "Pad", (ir_val[]){x, p, IR_NONE, ax}, 4, 1), 2, DIMS(2, 3),
		   F32S(0, 1, 2, 0, 3, 4));
}

Test(kernels, expand)
{
	ir_val x = st_f32(g, 2, DIMS(3, 1), F32S(1, 2, 3));
	expect_f32(binary("Expand", x, st_i64(g, 1, DIMS(3), I64S(2, 1, 2))), 3, DIMS(2, 3, 2),
		   F32S(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3));
	expect_f32(binary("Expand", x, st_i64(g, 1, DIMS(1), I64S(1))), 2, DIMS(3, 1), F32S(1, 2, 3));
}

/* ---------------------------------------------------------------- shape ops */

Test(kernels, shape)
{
	ir_graph_add_opset(g, "", 15);
	ir_val x = st_f32(g, 3, DIMS(2, 3, 4), NULL);
	expect_ints(unary("Shape", x), IR_I64, 1, DIMS(3), I64S(2, 3, 4));
	ir_nid s = unary("Shape", x);
	ir_attr_set_int(g, s, "start", 1);
	expect_ints(s, IR_I64, 1, DIMS(2), I64S(3, 4));
	ir_attr_set_int(g, s, "start", -10);
	ir_attr_set_int(g, s, "end", -1);
	expect_ints(s, IR_I64, 1, DIMS(2), I64S(2, 3));
	ir_attr_set_int(g, s, "start", 2);
	ir_attr_set_int(g, s, "end", 1);
	expect_ints(s, IR_I64, 1, DIMS(0), NULL);
}

Test(kernels, constant_of_shape)
{
	ir_val s = st_i64(g, 1, DIMS(2), I64S(2, 3));
	ir_nid c = unary("ConstantOfShape", s);
	expect_f32(c, 2, DIMS(2, 3), F32S(0, 0, 0, 0, 0, 0));
	int64_t seven = 7;
	ir_attr_set_tensor(g, c, "value", ir_tensor_new(g, 0, IR_I64, 1, DIMS(1), &seven, 8));
	expect_ints(c, IR_I64, 2, DIMS(2, 3), I64S(7, 7, 7, 7, 7, 7));
	ir_nid e = unary("ConstantOfShape", st_i64(g, 1, DIMS(0), NULL));
	expect_f32(e, 0, NULL, F32S(0));
}

Test(kernels, constant_attributes)
{
	ir_nid c = st_node(g, "Constant", NULL, 0, 1);
	float data[2] = {1.5f, -2};
	ir_attr_set_tensor(g, c, "value", ir_tensor_new(g, 0, IR_F32, 2, DIMS(1, 2), data, sizeof data));
	expect_f32(c, 2, DIMS(1, 2), data);
	ir_nid f = st_node(g, "Constant", NULL, 0, 1);
	ir_attr_set_float(g, f, "value_float", 0.25f);
	expect_f32(f, 0, NULL, F32S(0.25f));
	ir_nid is = st_node(g, "Constant", NULL, 0, 1);
	ir_attr_set_ints(g, is, "value_ints", I64S(4, 5, 6), 3);
	expect_ints(is, IR_I64, 1, DIMS(3), I64S(4, 5, 6));
	ir_nid i = st_node(g, "Constant", NULL, 0, 1);
	ir_attr_set_int(g, i, "value_int", -3);
	expect_ints(i, IR_I64, 0, NULL, I64S(-3));
	ir_nid fs = st_node(g, "Constant", NULL, 0, 1);
	ir_attr_set_floats(g, fs, "value_floats", F32S(1, 2), 2);
	expect_f32(fs, 1, DIMS(2), F32S(1, 2));
	ir_nid s = st_node(g, "Constant", NULL, 0, 1);
	ir_attr_set_string(g, s, "value_string", "hi", 2);
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, s, &d), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&d, "value_string"));
	ir_diags_free(&d);
}

/* ---------------------------------------------------------------- errors */

Test(kernels, errors_name_the_node)
{
	ir_val a = st_f32(g, 1, DIMS(2), F32S(1, 2)), b = st_f32(g, 1, DIMS(3), F32S(1, 2, 3));
	ir_nid add = binary("Add", a, b);
	ir_node_at(g, add)->name = ir_intern_cstr(g, "add7");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, add, &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "node 'add7' (Add): shapes f32[2] and f32[3] do not broadcast"));
	ir_nid iff = st_node(g, "If", (ir_val[]){a}, 1, 1);
	ir_node_at(g, iff)->name = ir_intern_cstr(g, "X");
	cr_assert_eq(st_try(g, iff, &d), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&d, "node 'X' (If): op not supported by the simulator"));
	ir_diags_free(&d);
}

Test(kernels, oversized_results_are_refused)
{
	ir_val huge = st_i64(g, 1, DIMS(3), I64S(INT64_C(1) << 40, INT64_C(1) << 40, 16));
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, unary("ConstantOfShape", huge), &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "too large"));
	ir_val x = st_f32(g, 1, DIMS(1), F32S(1));
	cr_assert_eq(st_try(g, binary("Expand", x, huge), &d), SIM_EINVAL);
	ir_val shape = st_i64(g, 1, DIMS(3), I64S(INT64_C(1) << 40, INT64_C(1) << 40, 0));
	cr_assert_eq(st_try(g, binary("Reshape", x, shape), &d), SIM_EINVAL);
	ir_diags_free(&d);
}

Test(kernels, every_registry_op_has_a_kernel)
{
	for (uint16_t op = 1; op <= ir_op_count(); op++)
		cr_assert(sim_op_supported(op), "no kernel for %s", ir_op_info(op)->name);
	cr_assert(!sim_op_supported(IR_OP_OPAQUE));
}

/* sim_eval_small, the node-free path constant folding takes first, gives
 * bit for bit what sim_eval_node gives for each op it takes (equal shapes,
 * one-element operands on either side, Pow by 2, NaN and infinities), and
 * leaves the rest to sim_eval_node: broadcasts over more than one row,
 * other dtypes, other ops, attributes' ops. */
Test(kernels, small_path_matches_sim_eval_node)
{
	static const char *const binary_ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
	static const char *const unary_ops[] = {"Relu", "Sqrt", "Erf", "Sigmoid", "Neg", "Tanh", "LeakyRelu",
						"HardSigmoid"};
	static const float a4[4] = {-1.5f, 0.0f, 2.25f, NAN}, b4[4] = {3.0f, -0.5f, INFINITY, 2.0f};
	static const float two = 2.0f, half = 0.5f;
	const int64_t d4[2] = {2, 2}, d1[2] = {1, 1};
	ir_val a = st_f32(g, 2, d4, a4), b = st_f32(g, 2, d4, b4), s0 = st_f32(g, 0, NULL, &two),
	       s11 = st_f32(g, 2, d1, &half);
	ir_val pairs[][2] = {{a, b}, {a, s0}, {s0, a}, {b, s11}, {s11, b}, {s0, s11}};
	ir_graph_add_opset(g, "", 17);
	for (size_t o = 0; o < sizeof binary_ops / sizeof *binary_ops; o++)
		for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
			ir_nid n = st_node(g, binary_ops[o], pairs[p], 2, 1);
			sim_tensor *want = st_eval(g, n, SIM_FP32), va, vb, got;
			cr_assert(sim_tensor_view(g, ir_value_at(g, pairs[p][0])->tensor, &va));
			cr_assert(sim_tensor_view(g, ir_value_at(g, pairs[p][1])->tensor, &vb));
			const sim_tensor *in[2] = {&va, &vb};
			cr_assert_eq(sim_eval_small(ir_node_at(g, n)->opcode, in, 2, &got), SIM_OK, "%s", binary_ops[o]);
			cr_assert_eq(got.rank, want[0].rank);
			cr_assert_eq(sim_nbytes(&got), sim_nbytes(&want[0]));
			cr_assert(memcmp(got.data, want[0].data, sim_nbytes(&got)) == 0, "%s, pair %zu", binary_ops[o], p);
			sim_tensor_free(&got);
			sim_tensors_free(want, 1);
		}
	for (size_t o = 0; o < sizeof unary_ops / sizeof *unary_ops; o++) {
		ir_nid n = st_node(g, unary_ops[o], &a, 1, 1);
		sim_tensor *want = st_eval(g, n, SIM_FP32), va, got;
		cr_assert(sim_tensor_view(g, ir_value_at(g, a)->tensor, &va));
		const sim_tensor *in[1] = {&va};
		cr_assert_eq(sim_eval_small(ir_node_at(g, n)->opcode, in, 1, &got), SIM_OK, "%s", unary_ops[o]);
		cr_assert(memcmp(got.data, want[0].data, sim_nbytes(&got)) == 0, "%s", unary_ops[o]);
		sim_tensor_free(&got);
		sim_tensors_free(want, 1);
	}
	/* what it leaves to sim_eval_node */
	const int64_t d3[1] = {2}, di[1] = {2};
	static const float row[2] = {1, 2};
	static const int64_t ints[2] = {1, 2};
	ir_val r = st_f32(g, 1, d3, row), i = st_i64(g, 1, di, ints);
	sim_tensor va, vr, vi, got;
	cr_assert(sim_tensor_view(g, ir_value_at(g, a)->tensor, &va));
	cr_assert(sim_tensor_view(g, ir_value_at(g, r)->tensor, &vr));
	cr_assert(sim_tensor_view(g, ir_value_at(g, i)->tensor, &vi));
	const sim_tensor *bcast[2] = {&va, &vr}, *int2[2] = {&vi, &vi}, *one[1] = {&va};
	cr_assert_eq(sim_eval_small(IR_OP_Add, bcast, 2, &got), SIM_UNSUPPORTED, "[2,2] + [2] is two rows");
	cr_assert_eq(sim_eval_small(IR_OP_Add, int2, 2, &got), SIM_UNSUPPORTED, "i64");
	cr_assert_eq(sim_eval_small(IR_OP_Relu, int2, 1, &got), SIM_UNSUPPORTED, "i64");
	cr_assert_eq(sim_eval_small(IR_OP_Clip, one, 1, &got), SIM_UNSUPPORTED, "Clip");
	cr_assert_eq(sim_eval_small(IR_OP_Add, one, 1, &got), SIM_UNSUPPORTED, "one operand");
}
