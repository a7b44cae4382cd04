/* fp16 conversions (round to nearest even, subnormals, overflow) and the
 * cube / fp16 precision modes of the simulator. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simtest.h"

/* Reference rounding by search: positive fp16 patterns 0..0x7c00 are
 * ordered like their values, so find the neighbours of |x| and pick the
 * nearer (the even one on a tie); 0x7c00 stands for 2^16 when comparing. */
static uint16_t ref_f16(float x)
{
	if (isnan(x))
		return 0x7e00;
	uint16_t sign = signbit(x) ? 0x8000 : 0;
	double a = fabs((double)x);
	unsigned lo = 0, hi = 0x7c00; /* invariant: value(lo) <= a < value(hi) unless a is huge */
	if (a >= 65536.0)
		return sign | 0x7c00;
	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;
		if ((double)sim_f16_to_f32((uint16_t)mid) <= a)
			lo = mid;
		else
			hi = mid;
	}
	double vlo = sim_f16_to_f32((uint16_t)lo), vhi = hi == 0x7c00 ? 65536.0 : sim_f16_to_f32((uint16_t)hi);
	double dlo = a - vlo, dhi = vhi - a;
	unsigned h = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
	return (uint16_t)(sign | h);
}

static float bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

Test(fp16, exact_values_and_decoding)
{
	cr_assert_eq(sim_f32_to_f16(1.0f), 0x3c00);
	cr_assert_eq(sim_f32_to_f16(-2.0f), 0xc000);
	cr_assert_eq(sim_f32_to_f16(65504.0f), 0x7bff);
	cr_assert_eq(sim_f32_to_f16(0.0f), 0x0000);
	cr_assert_eq(sim_f32_to_f16(-0.0f), 0x8000);
	cr_assert_eq(sim_f16_to_f32(0x7bff), 65504.0f);
	cr_assert_eq(sim_f16_to_f32(0x0001), ldexpf(1, -24));
	cr_assert_eq(sim_f16_to_f32(0x03ff), 1023 * ldexpf(1, -24));
	cr_assert_eq(sim_f16_to_f32(0x0400), ldexpf(1, -14));
	cr_assert_eq(sim_f16_to_f32(0x3555), 0.333251953125f);
	cr_assert(isinf(sim_f16_to_f32(0xfc00)) && sim_f16_to_f32(0xfc00) < 0);
	cr_assert(isnan(sim_f16_to_f32(0x7e00)));
}

Test(fp16, every_half_round_trips)
{
	for (uint32_t h = 0; h < 0x10000; h++) {
		float f = sim_f16_to_f32((uint16_t)h);
		uint16_t back = sim_f32_to_f16(f);
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
			cr_assert(isnan(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff), "NaN %04x", h);
		else
			cr_assert_eq(back, h, "%04x -> %g -> %04x", h, f, back);
	}
}

Test(fp16, round_to_nearest_even)
{
	cr_assert_eq(sim_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3c00);              /* tie, even below */
	cr_assert_eq(sim_f32_to_f16(1.0f + 3 * ldexpf(1, -11)), 0x3c02);          /* tie, even above */
	cr_assert_eq(sim_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3c01); /* above the tie */
	cr_assert_eq(sim_f32_to_f16(1.0f + ldexpf(1, -11) - ldexpf(1, -20)), 0x3c00); /* below the tie */
	cr_assert_eq(sim_f32_to_f16(2047.5f), 0x6800);  /* tie above 2047 (odd): up to 2048 */
	cr_assert_eq(sim_f32_to_f16(2049.0f), 0x6800);  /* tie between 2048 and 2050: even is 2048 */
	cr_assert_eq(sim_round_f16(0.1f), 0.0999755859375f);
}

Test(fp16, subnormals)
{
	float tiny = ldexpf(1, -24);
	cr_assert_eq(sim_f32_to_f16(tiny), 0x0001);
	cr_assert_eq(sim_f32_to_f16(-tiny), 0x8001);
	cr_assert_eq(sim_f32_to_f16(tiny / 2), 0x0000);                    /* tie to even zero */
	cr_assert_eq(sim_f32_to_f16(tiny / 2 + ldexpf(1, -35)), 0x0001);   /* just above the tie */
	cr_assert_eq(sim_f32_to_f16(3 * tiny / 2), 0x0002);                /* tie to even 2 */
	cr_assert_eq(sim_f32_to_f16(5 * tiny / 2), 0x0002);                /* tie to even 2 */
	cr_assert_eq(sim_f32_to_f16(1023 * tiny), 0x03ff);
	cr_assert_eq(sim_f32_to_f16(1023.5f * tiny), 0x0400);              /* tie into the normals */
	cr_assert_eq(sim_f32_to_f16(1e-10f), 0x0000);
	cr_assert_eq(sim_f32_to_f16(bits(0x00000001)), 0x0000);            /* f32 subnormal */
	cr_assert_eq(sim_f32_to_f16(-bits(0x00000001)), 0x8000);
}

Test(fp16, overflow_to_infinity)
{
	cr_assert_eq(sim_f32_to_f16(65519.996f), 0x7bff);
	cr_assert_eq(sim_f32_to_f16(65520.0f), 0x7c00); /* tie: 65504 is odd, so infinity */
	cr_assert_eq(sim_f32_to_f16(1e6f), 0x7c00);
	cr_assert_eq(sim_f32_to_f16(-1e6f), 0xfc00);
	cr_assert_eq(sim_f32_to_f16(INFINITY), 0x7c00);
	cr_assert_eq(sim_f32_to_f16(-INFINITY), 0xfc00);
	uint16_t n = sim_f32_to_f16(NAN);
	cr_assert((n & 0x7c00) == 0x7c00 && (n & 0x3ff));
}

Test(fp16, matches_reference_rounding)
{
	uint64_t s = 12345;
	for (int i = 0; i < 200000; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		/* random bit patterns biased toward the fp16 range (exponents 90..150) */
		uint32_t u = (uint32_t)s;
		uint32_t e = 90 + (uint32_t)((s >> 40) % 61);
		u = (u & 0x807fffff) | (e << 23);
		float x = bits(u);
		cr_assert_eq(sim_f32_to_f16(x), ref_f16(x), "x = %a", x);
#ifdef __FLT16_MAX__
		_Float16 h = (_Float16)x;
		uint16_t hb;
		memcpy(&hb, &h, sizeof hb);
		cr_assert_eq(sim_f32_to_f16(x), hb, "x = %a (compiler _Float16)", x);
#endif
	}
}

Test(fp16, round_matches_the_conversions)
{
	uint64_t s = 777;
	for (int i = 0; i < 300000; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		uint32_t u = (uint32_t)s;
		if (i % 2) /* half of them near the fp16 range */
			u = (u & 0x807fffff) | ((uint32_t)(95 + (s >> 40) % 50) << 23);
		float x = bits(u), want = sim_f16_to_f32(sim_f32_to_f16(x)), got = sim_round_f16(x);
		if (isnan(x))
			cr_assert(isnan(got));
		else
			cr_assert(memcmp(&got, &want, sizeof got) == 0, "x = %a: %a, expected %a", x, got, want);
	}
	static const float edges[] = {65504, 65519.99f, 65520, 65536, 6.1035156e-05f, 6.1035153e-05f,
				      2049, 2047.5f, 1e-8f, -65520};
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		float want = sim_f16_to_f32(sim_f32_to_f16(edges[i]));
		cr_assert_eq(sim_round_f16(edges[i]), want, "x = %a", edges[i]);
	}
}

Test(fp16, from_double_rounds_once)
{
	/* 1 + 2^-11 + 2^-40: just above an fp16 tie; rounding to f32 first would
	 * land exactly on the tie and then go to even (down) */
	double v = 1.0 + ldexp(1, -11) + ldexp(1, -40);
	cr_assert_eq(sim_f32_to_f16((float)v), 0x3c00);
	cr_assert_eq(sim_f64_to_f16(v), 0x3c01);
	cr_assert_eq(sim_f64_to_f16(1.0 + ldexp(1, -11)), 0x3c00);
	cr_assert_eq(sim_f64_to_f16(-0.1), sim_f32_to_f16(-0.1f));
	cr_assert_eq(sim_f64_to_bf16(1.0 + ldexp(1, -8) + ldexp(1, -40)), 0x3f81);
	cr_assert_eq(sim_f64_to_f16(1e300), 0x7c00);
}

Test(fp16, bfloat16)
{
	cr_assert_eq(sim_f32_to_bf16(1.0f), 0x3f80);
	cr_assert_eq(sim_bf16_to_f32(0x3f80), 1.0f);
	cr_assert_eq(sim_f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3f80);     /* tie, even */
	cr_assert_eq(sim_f32_to_bf16(1.0f + 3 * ldexpf(1, -8)), 0x3f82); /* tie, even above */
	cr_assert(isnan(sim_bf16_to_f32(sim_f32_to_bf16(NAN))));
}

/* ---------------------------------------------------------------- precision modes */

static float one_result(ir_graph *g, ir_nid n, sim_mode mode)
{
	sim_tensor *out = st_eval(g, n, mode);
	float v = ((float *)out[0].data)[0];
	sim_tensors_free(out, 1);
	return v;
}

Test(modes, cube_ops_round_inputs_and_accumulate_in_fp32)
{
	ir_graph *g = ir_graph_new();
	/* 2048 + 1 + 1: fp32 accumulation gives 2050; an fp16 accumulator would stay at 2048 */
	ir_val a = st_f32(g, 2, DIMS(1, 3), F32S(2048, 1, 1));
	ir_val b = st_f32(g, 2, DIMS(3, 1), F32S(1, 1, 1));
	ir_nid mm = st_node(g, "MatMul", (ir_val[]){a, b}, 2, 1);
	cr_assert_eq(one_result(g, mm, SIM_CUBE), 2050.0f);
	/* an input that is not an fp16 value is rounded first */
	ir_val c = st_f32(g, 2, DIMS(1, 1), F32S(1.0f + ldexpf(1, -12)));
	ir_val d = st_f32(g, 2, DIMS(1, 1), F32S(3.0f));
	ir_nid mm2 = st_node(g, "MatMul", (ir_val[]){c, d}, 2, 1);
	cr_assert_eq(one_result(g, mm2, SIM_FP32), 3.0f * (1.0f + ldexpf(1, -12)));
	cr_assert_eq(one_result(g, mm2, SIM_CUBE), 3.0f);
	ir_graph_free(g);
}

Test(modes, cube_results_stay_fp32_but_fp16_mode_rounds_them)
{
	ir_graph *g = ir_graph_new();
	ir_val a = st_f32(g, 2, DIMS(1, 2), F32S(1, 1));
	ir_val b = st_f32(g, 2, DIMS(2, 1), F32S(1, ldexpf(1, -11)));
	ir_nid mm = st_node(g, "Gemm", (ir_val[]){a, b}, 2, 1);
	cr_assert_eq(one_result(g, mm, SIM_CUBE), 1.0f + ldexpf(1, -11));
	cr_assert_eq(one_result(g, mm, SIM_FP16), 1.0f);
	ir_graph_free(g);
}

Test(modes, vector_ops_round_inputs_and_outputs)
{
	ir_graph *g = ir_graph_new();
	ir_val a = st_f32(g, 1, DIMS(1), F32S(1.0f));
	ir_val b = st_f32(g, 1, DIMS(1), F32S(ldexpf(1, -11)));
	ir_nid add = st_node(g, "Add", (ir_val[]){a, b}, 2, 1);
	cr_assert_eq(one_result(g, add, SIM_FP32), 1.0f + ldexpf(1, -11));
	cr_assert_eq(one_result(g, add, SIM_CUBE), 1.0f); /* the tie rounds to even */
	ir_val big = st_f32(g, 1, DIMS(1), F32S(60000.0f));
	ir_nid twice = st_node(g, "Add", (ir_val[]){big, big}, 2, 1);
	cr_assert_eq(one_result(g, twice, SIM_FP32), 120000.0f);
	cr_assert(isinf(one_result(g, twice, SIM_CUBE)));
	ir_val third = st_f32(g, 1, DIMS(1), F32S(1.0f / 3));
	ir_nid relu = st_node(g, "Relu", (ir_val[]){third}, 1, 1);
	cr_assert_eq(one_result(g, relu, SIM_CUBE), sim_round_f16(1.0f / 3));
	ir_graph_free(g);
}

Test(modes, integer_operands_are_not_rounded)
{
	ir_graph *g = ir_graph_new();
	ir_val a = st_i64(g, 1, DIMS(1), I64S(2049));
	ir_val b = st_i64(g, 1, DIMS(1), I64S(0));
	ir_nid add = st_node(g, "Add", (ir_val[]){a, b}, 2, 1);
	sim_tensor *out = st_eval(g, add, SIM_CUBE);
	st_check_ints(&out[0], IR_I64, 1, DIMS(1), I64S(2049));
	sim_tensors_free(out, 1);
	ir_graph_free(g);
}

Test(modes, f16_tensors_compute_through_f32)
{
	ir_graph *g = ir_graph_new();
	uint16_t x[2] = {sim_f32_to_f16(1.5f), sim_f32_to_f16(-2.0f)};
	uint16_t w[2] = {sim_f32_to_f16(2.0f), sim_f32_to_f16(0.25f)};
	ir_val a = st_const(g, "a", IR_F16, 2, DIMS(1, 2), x);
	ir_val b = st_const(g, "b", IR_F16, 2, DIMS(2, 1), w);
	ir_nid mm = st_node(g, "MatMul", (ir_val[]){a, b}, 2, 1);
	sim_tensor *out = st_eval(g, mm, SIM_FP32);
	st_check_shape(&out[0], IR_F16, 2, DIMS(1, 1));
	cr_assert_eq(sim_get_f64(&out[0], 0), 2.5);
	sim_tensors_free(out, 1);
	ir_nid sq = st_node(g, "Sqrt", (ir_val[]){b}, 1, 1);
	out = st_eval(g, sq, SIM_FP32);
	st_check_shape(&out[0], IR_F16, 2, DIMS(2, 1));
	cr_assert_eq(((uint16_t *)out[0].data)[0], sim_f32_to_f16(sqrtf(2.0f)));
	cr_assert_eq(sim_get_f64(&out[0], 1), 0.5);
	sim_tensors_free(out, 1);
	ir_graph_free(g);
}
