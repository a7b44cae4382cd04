/* Conv against a naive direct convolution on random shapes: groups
 * (depthwise included), dilations, strides, explicit and automatic
 * padding, bias, 1-D to 3-D.  Pools against naive windows likewise. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simtest.h"

typedef struct rng {
	uint64_t s;
} rng;

static int64_t rnd(rng *r, int64_t lo, int64_t hi) /* inclusive */
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return lo + (int64_t)((r->s >> 33) % (uint64_t)(hi - lo + 1));
}

typedef struct conv_case {
	int nsp;
	int64_t n, c, m, group;
	int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
	int auto_pad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
	bool bias;
} conv_case;

static const char *const auto_pads[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

/* Derives pads and output extents the way the ONNX spec states them. */
static bool derive(conv_case *cc)
{
	for (int i = 0; i < cc->nsp; i++) {
		int64_t dk = (cc->k[i] - 1) * cc->d[i] + 1;
		if (cc->auto_pad == 1 || cc->auto_pad == 2) {
			cc->out[i] = (cc->in[i] + cc->s[i] - 1) / cc->s[i];
			int64_t total = (cc->out[i] - 1) * cc->s[i] + dk - cc->in[i];
			total = total > 0 ? total : 0;
			cc->pb[i] = cc->auto_pad == 1 ? total / 2 : total - total / 2;
			cc->pe[i] = total - cc->pb[i];
			continue;
		}
		if (cc->auto_pad == 3)
			cc->pb[i] = cc->pe[i] = 0;
		int64_t span = cc->in[i] + cc->pb[i] + cc->pe[i] - dk;
		if (span < 0)
			return false;
		cc->out[i] = span / cc->s[i] + 1;
	}
	return true;
}

static void random_case(rng *r, conv_case *cc)
{
	do {
		memset(cc, 0, sizeof *cc);
		cc->nsp = (int)rnd(r, 1, 3);
		cc->n = rnd(r, 1, 2);
		int64_t cg = rnd(r, 1, 4), mg = rnd(r, 1, 3);
		cc->group = rnd(r, 0, 3) == 0 ? rnd(r, 2, 6) : rnd(r, 1, 2);
		if (rnd(r, 0, 4) == 0) /* depthwise */
			cg = 1, mg = rnd(r, 1, 2);
		cc->c = cg * cc->group;
		cc->m = mg * cc->group;
		for (int i = 0; i < cc->nsp; i++) {
			cc->in[i] = rnd(r, 1, cc->nsp == 3 ? 6 : 11);
			cc->k[i] = rnd(r, 1, 3);
			cc->s[i] = rnd(r, 1, 3);
			cc->d[i] = rnd(r, 1, 2);
			cc->pb[i] = rnd(r, 0, 2);
			cc->pe[i] = rnd(r, 0, 2);
		}
		cc->auto_pad = rnd(r, 0, 5) <= 2 ? 0 : (int)rnd(r, 1, 3);
		cc->bias = rnd(r, 0, 1);
	} while (!derive(cc));
}

/* The textbook loop nest, one output element at a time. */
static float direct(const conv_case *cc, const float *x, const float *w, const float *b, int64_t n,
		    int64_t m, const int64_t *o)
{
	int64_t cg = cc->c / cc->group, g = m / (cc->m / cc->group);
	int64_t ksize = 1, insize = 1;
	for (int i = 0; i < cc->nsp; i++)
		ksize *= cc->k[i], insize *= cc->in[i];
	double acc = b ? b[m] : 0;
	for (int64_t c = 0; c < cg; c++) {
		for (int64_t kp = 0; kp < ksize; kp++) {
			int64_t rest = kp, koff[3], xoff = 0;
			bool inside = true;
			for (int i = cc->nsp - 1; i >= 0; i--) {
				koff[i] = rest % cc->k[i];
				rest /= cc->k[i];
			}
			for (int i = 0; i < cc->nsp; i++) {
				int64_t xi = o[i] * cc->s[i] - cc->pb[i] + koff[i] * cc->d[i];
				inside &= xi >= 0 && xi < cc->in[i];
				xoff = xoff * cc->in[i] + xi;
			}
			if (!inside)
				continue;
			acc += (double)x[(n * cc->c + g * cg + c) * insize + xoff] * w[(m * cg + c) * ksize + kp];
		}
	}
	return (float)acc;
}

static void check_case(const conv_case *cc, uint64_t seed)
{
	ir_graph *g = ir_graph_new();
	int64_t xd[5] = {cc->n, cc->c}, wd[5] = {cc->m, cc->c / cc->group}, od[5] = {cc->n, cc->m};
	for (int i = 0; i < cc->nsp; i++)
		xd[i + 2] = cc->in[i], wd[i + 2] = cc->k[i], od[i + 2] = cc->out[i];
	int rank = cc->nsp + 2;
	size_t nx = 1, nw = 1, no = 1;
	for (int i = 0; i < rank; i++)
		nx *= (size_t)xd[i], nw *= (size_t)wd[i], no *= (size_t)od[i];
	float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), b[64];
	st_fill_random(x, nx, &seed);
	st_fill_random(w, nw, &seed);
	st_fill_random(b, (size_t)cc->m, &seed);
	ir_val ins[3] = {st_f32(g, rank, xd, x), st_f32(g, rank, wd, w), st_f32(g, 1, &cc->m, b)};
	ir_nid n = st_node(g, "Conv", ins, cc->bias ? 3 : 2, 1);
	ir_attr_set_int(g, n, "group", cc->group);
	ir_attr_set_ints(g, n, "strides", cc->s, (uint32_t)cc->nsp);
	ir_attr_set_ints(g, n, "dilations", cc->d, (uint32_t)cc->nsp);
	if (cc->auto_pad) {
		ir_attr_set_string(g, n, "auto_pad", auto_pads[cc->auto_pad], strlen(auto_pads[cc->auto_pad]));
	} else {
		int64_t pads[6];
		for (int i = 0; i < cc->nsp; i++)
			pads[i] = cc->pb[i], pads[cc->nsp + i] = cc->pe[i];
		ir_attr_set_ints(g, n, "pads", pads, (uint32_t)(2 * cc->nsp));
	}
	sim_tensor *out = st_eval(g, n, SIM_FP32);
	st_check_shape(&out[0], IR_F32, rank, od);
	const float *y = out[0].data;
	int64_t o[3] = {0};
	for (size_t j = 0; j < no; j++) {
		int64_t rest = (int64_t)j;
		for (int i = cc->nsp - 1; i >= 0; i--)
			o[i] = rest % cc->out[i], rest /= cc->out[i];
		int64_t m = rest % cc->m, nn = rest / cc->m;
		float want = direct(cc, x, w, cc->bias ? b : NULL, nn, m, o);
		cr_assert(fabsf(y[j] - want) <= 1e-5f * (1 + fabsf(want)),
			  "element %zu: %g, expected %g (nsp %d group %lld auto_pad %s)", j, y[j], want,
			  cc->nsp, (long long)cc->group, auto_pads[cc->auto_pad]);
	}
	sim_tensors_free(out, 1);
	free(x);
	free(w);
	ir_graph_free(g);
}

Test(conv, matches_direct_convolution_on_random_shapes)
{
	rng r = {0x5eed5eedull};
	for (int i = 0; i < 300; i++) {
		conv_case cc;
		random_case(&r, &cc);
		check_case(&cc, 1000 + (uint64_t)i);
	}
}

Test(conv, pointwise_and_large_channel_counts)
{
	conv_case cc = {.nsp = 2, .n = 2, .c = 32, .m = 48, .group = 1, .in = {7, 5}, .k = {1, 1},
			.s = {1, 1}, .d = {1, 1}, .bias = true};
	cr_assert(derive(&cc));
	check_case(&cc, 7);
	conv_case dw = {.nsp = 2, .n = 1, .c = 24, .m = 24, .group = 24, .in = {9, 9}, .k = {3, 3},
			.s = {2, 2}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
	cr_assert(derive(&dw));
	check_case(&dw, 8);
}

Test(conv, rejects_mismatched_groups)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_f32(g, 4, DIMS(1, 3, 4, 4), NULL), w = st_f32(g, 4, DIMS(4, 2, 1, 1), NULL);
	ir_nid n = st_node(g, "Conv", (ir_val[]){x, w}, 2, 1);
	ir_attr_set_int(g, n, "group", 2);
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(st_try(g, n, &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "group 2"));
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- pools */

static void check_pool(rng *r, bool is_max)
{
	conv_case cc;
	do {
		random_case(r, &cc);
	} while (cc.auto_pad == 0 && (cc.pb[0] >= cc.k[0] || cc.pe[0] >= cc.k[0] ||
				      (cc.nsp > 1 && (cc.pb[1] >= cc.k[1] || cc.pe[1] >= cc.k[1]))));
	if (cc.nsp == 3)
		cc.nsp = 2;
	cc.d[0] = cc.d[1] = 1;
	if (!derive(&cc))
		return;
	ir_graph *g = ir_graph_new();
	int64_t xd[4] = {cc.n, cc.c, cc.in[0], cc.in[1]};
	int rank = cc.nsp + 2;
	size_t nx = (size_t)(cc.n * cc.c * cc.in[0] * (cc.nsp > 1 ? cc.in[1] : 1));
	float *x = malloc(nx * sizeof *x);
	uint64_t seed = 99;
	st_fill_random(x, nx, &seed);
	ir_nid n = st_node(g, is_max ? "MaxPool" : "AveragePool", (ir_val[]){st_f32(g, rank, xd, x)}, 1, 1);
	ir_attr_set_ints(g, n, "kernel_shape", cc.k, (uint32_t)cc.nsp);
	ir_attr_set_ints(g, n, "strides", cc.s, (uint32_t)cc.nsp);
	int64_t pads[4] = {cc.pb[0], cc.pb[1], cc.pe[0], cc.pe[1]};
	if (cc.nsp == 1)
		pads[1] = cc.pe[0];
	ir_attr_set_ints(g, n, "pads", pads, (uint32_t)(2 * cc.nsp));
	sim_tensor *out = st_eval(g, n, SIM_FP32);
	const float *y = out[0].data;
	int64_t in1 = cc.nsp > 1 ? cc.in[1] : 1, out1 = cc.nsp > 1 ? cc.out[1] : 1;
	for (int64_t q = 0; q < cc.n * cc.c; q++) {
		for (int64_t i = 0; i < cc.out[0]; i++) {
			for (int64_t j = 0; j < out1; j++) {
				double best = -INFINITY, sum = 0;
				int cnt = 0;
				for (int64_t a = 0; a < cc.k[0]; a++) {
					for (int64_t b = 0; b < (cc.nsp > 1 ? cc.k[1] : 1); b++) {
						int64_t u = i * cc.s[0] - cc.pb[0] + a;
						int64_t v = cc.nsp > 1 ? j * cc.s[1] - cc.pb[1] + b : 0;
						if (u < 0 || u >= cc.in[0] || v < 0 || v >= in1)
							continue;
						double e = x[(q * cc.in[0] + u) * in1 + v];
						best = e > best ? e : best;
						sum += e;
						cnt++;
					}
				}
				double want = is_max ? best : cnt ? sum / cnt : 0;
				float got = y[(q * cc.out[0] + i) * out1 + j];
				cr_assert(fabs(got - want) <= 1e-6, "%s: %g, expected %g", is_max ? "max" : "avg",
					  got, want);
			}
		}
	}
	sim_tensors_free(out, 1);
	free(x);
	ir_graph_free(g);
}

Test(pool, max_and_average_match_naive_windows)
{
	rng r = {0xabcdef12345ull};
	for (int i = 0; i < 100; i++) {
		check_pool(&r, true);
		check_pool(&r, false);
	}
}

/* ---------------------------------------------------------------- direct f32 paths */

/* Depthwise convs (one input channel per group, 1-D or 2-D) take direct
 * taps, with a one-pass kernel for 3x3 windows: every stride, dilation and
 * padding around it against the textbook loops. */
Test(conv, depthwise_direct_kernel_matches_direct_convolution)
{
	rng r = {0xd3e9d3e9ull};
	for (int i = 0; i < 250; i++) {
		conv_case cc;
		do {
			memset(&cc, 0, sizeof cc);
			cc.nsp = (int)rnd(&r, 1, 2);
			cc.n = rnd(&r, 1, 2);
			cc.group = cc.c = rnd(&r, 1, 6);
			cc.m = cc.group * rnd(&r, 1, 2);
			for (int j = 0; j < cc.nsp; j++) {
				cc.in[j] = rnd(&r, 1, 19);
				cc.k[j] = rnd(&r, 0, 2) ? 3 : rnd(&r, 1, 5);
				cc.s[j] = rnd(&r, 1, 3);
				cc.d[j] = rnd(&r, 1, 2);
				cc.pb[j] = rnd(&r, 0, 2);
				cc.pe[j] = rnd(&r, 0, 2);
			}
			cc.auto_pad = rnd(&r, 0, 3) ? 0 : (int)rnd(&r, 1, 3);
			cc.bias = rnd(&r, 0, 1);
		} while (!derive(&cc));
		check_case(&cc, 5000 + (uint64_t)i);
	}
}

typedef struct pool_case {
	bool is_max, ceil_mode, col_major, include_pad;
	int nsp;
	int64_t n, c, in[2], k[2], s[2], d[2], pads[4];
} pool_case;

/* Pool node of pc over x: of rank nsp + 2, or padded with leading
 * spatial dims of extent 1 to rank 5, which the general path computes. */
static sim_tensor *pool_eval(const pool_case *pc, const float *x, bool general)
{
	ir_graph *g = ir_graph_new();
	int lead = general ? 3 - pc->nsp : 0, nsp = pc->nsp + lead;
	int64_t xd[5] = {pc->n, pc->c}, k[3], s[3], d[3], pads[6];
	for (int i = 0; i < nsp; i++) {
		bool real = i >= lead;
		xd[2 + i] = real ? pc->in[i - lead] : 1;
		k[i] = real ? pc->k[i - lead] : 1;
		s[i] = real ? pc->s[i - lead] : 1;
		d[i] = real ? pc->d[i - lead] : 1;
		pads[i] = real ? pc->pads[i - lead] : 0;
		pads[nsp + i] = real ? pc->pads[pc->nsp + i - lead] : 0;
	}
	ir_val xv = st_f32(g, nsp + 2, xd, x);
	ir_nid n = st_node(g, pc->is_max ? "MaxPool" : "AveragePool", &xv, 1, pc->is_max ? 2 : 1);
	ir_attr_set_ints(g, n, "kernel_shape", k, (uint32_t)nsp);
	ir_attr_set_ints(g, n, "strides", s, (uint32_t)nsp);
	ir_attr_set_ints(g, n, "pads", pads, (uint32_t)(2 * nsp));
	ir_attr_set_int(g, n, "ceil_mode", pc->ceil_mode);
	if (pc->is_max) {
		ir_attr_set_ints(g, n, "dilations", d, (uint32_t)nsp);
		ir_attr_set_int(g, n, "storage_order", pc->col_major);
	} else {
		ir_attr_set_int(g, n, "count_include_pad", pc->include_pad);
	}
	sim_tensor *out = st_eval(g, n, SIM_FP32);
	ir_graph_free(g);
	return out;
}

static void random_pool(rng *r, pool_case *pc)
{
	memset(pc, 0, sizeof *pc);
	pc->is_max = rnd(r, 0, 2) != 0;
	pc->ceil_mode = rnd(r, 0, 1);
	pc->col_major = rnd(r, 0, 1);
	pc->include_pad = rnd(r, 0, 1);
	pc->nsp = (int)rnd(r, 1, 2);
	pc->n = rnd(r, 1, 2);
	pc->c = rnd(r, 1, 3);
	for (int i = 0; i < pc->nsp; i++) {
		pc->k[i] = rnd(r, 0, 1) ? 3 : rnd(r, 1, 4);
		pc->s[i] = rnd(r, 1, 3);
		pc->d[i] = pc->is_max ? rnd(r, 1, 2) : 1;
		pc->pads[i] = rnd(r, 0, pc->k[i] - 1);
		pc->pads[pc->nsp + i] = rnd(r, 0, pc->k[i] - 1);
		pc->in[i] = rnd(r, (pc->k[i] - 1) * pc->d[i] + 1, 17);
	}
}

/* The f32 pools of 1 or 2 spatial dims (one-pass 3x3 MaxPool windows
 * included) give bit for bit the values and indices of the general path:
 * NaN, signed zeros and ties included. */
Test(pool, direct_f32_path_matches_the_general_path)
{
	rng r = {0x9001ull};
	for (int iter = 0; iter < 300; iter++) {
		pool_case pc;
		random_pool(&r, &pc);
		size_t nx = (size_t)(pc.n * pc.c * pc.in[0] * (pc.nsp > 1 ? pc.in[1] : 1));
		float *x = malloc(nx * sizeof *x);
		uint64_t seed = 500 + (uint64_t)iter;
		st_fill_random(x, nx, &seed);
		for (size_t i = 0; i < nx; i++) { /* mostly signed zeros over negatives: order matters */
			int64_t pick = rnd(&r, 0, 39);
			x[i] = pick == 0 ? NAN : pick <= 12 ? -0.0f : pick <= 24 ? 0.0f : pick <= 28 ? 0.5f
											 : -fabsf(x[i]);
		}
		sim_tensor *fast = pool_eval(&pc, x, false), *slow = pool_eval(&pc, x, true);
		size_t ny = sim_numel(&fast[0]);
		cr_assert_eq(ny, sim_numel(&slow[0]));
		cr_assert_eq(memcmp(fast[0].data, slow[0].data, ny * sizeof(float)), 0,
			     "case %d: values differ (max %d, k %lldx%lld, s %lld, d %lld)", iter, pc.is_max,
			     (long long)pc.k[0], (long long)pc.k[1], (long long)pc.s[0], (long long)pc.d[0]);
		if (pc.is_max)
			cr_assert_eq(memcmp(fast[1].data, slow[1].data, ny * sizeof(int64_t)), 0,
				     "case %d: indices differ", iter);
		sim_tensors_free(fast, pc.is_max ? 2 : 1);
		sim_tensors_free(slow, pc.is_max ? 2 : 1);
		free(x);
	}
}
