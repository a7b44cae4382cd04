/* Conv (1-D, 2-D, 3-D, ...): im2col into a [Cg*prod(kernel), prod(out)]
 * matrix, then one sgemm per (image, group) with the group's weights; a
 * pointwise conv multiplies the input itself, and a depthwise conv (one
 * input channel per group, 1-D or 2-D) accumulates its taps directly. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct conv_shape {
	sim_window w;
	int64_t n, c, m, group, cg, mg;
	int64_t in_size, kernel_size, out_size; /* products over the spatial dims */
} conv_shape;

/* One im2col row (a channel and a kernel offset) over all output positions. */
static void im2col_row(const sim_window *w, const float *xc, const int64_t *koff, float *dst)
{
	int last = w->nsp - 1;
	int64_t inner = w->out[last], s = w->stride[last], len = w->in[last];
	int64_t start = koff[last] * w->dilation[last] - w->pad_begin[last];
	/* output columns j with 0 <= start + j*s < len */
	int64_t lo = start >= 0 ? 0 : (-start + s - 1) / s;
	int64_t hi = len - start > 0 ? (len - start + s - 1) / s : 0;
	lo = lo < inner ? lo : inner;
	hi = hi < lo ? lo : hi > inner ? inner : hi;
	int64_t outer = sim_prod(w->out, 0, last);
	int64_t idx[SIM_MAX_SPATIAL] = {0};
	for (int64_t o = 0; o < outer; o++, dst += inner) {
		int64_t off = 0;
		bool inside = true;
		for (int i = 0; i < last && inside; i++) {
			int64_t c = idx[i] * w->stride[i] - w->pad_begin[i] + koff[i] * w->dilation[i];
			inside = c >= 0 && c < w->in[i];
			off = off * w->in[i] + c;
		}
		for (int i = last - 1; i >= 0; i--) { /* advance the outer odometer */
			if (++idx[i] < w->out[i])
				break;
			idx[i] = 0;
		}
		if (!inside) {
			memset(dst, 0, (size_t)inner * sizeof *dst);
			continue;
		}
		const float *src = xc + off * len;
		memset(dst, 0, (size_t)lo * sizeof *dst);
		if (s == 1 && hi > lo)
			memcpy(dst + lo, src + start + lo, (size_t)(hi - lo) * sizeof *dst);
		else
			for (int64_t j = lo; j < hi; j++)
				dst[j] = src[start + j * s];
		memset(dst + hi, 0, (size_t)(inner - hi) * sizeof *dst);
	}
}

/* The image-to-column matrix of one group of one image. */
static void im2col(const conv_shape *cs, const float *xg, float *col)
{
	const sim_window *w = &cs->w;
	for (int64_t c = 0; c < cs->cg; c++) {
		int64_t koff[SIM_MAX_SPATIAL] = {0};
		for (int64_t r = 0; r < cs->kernel_size; r++) {
			im2col_row(w, xg + c * cs->in_size, koff, col);
			col += cs->out_size;
			for (int i = w->nsp - 1; i >= 0; i--) {
				if (++koff[i] < w->kernel[i])
					break;
				koff[i] = 0;
			}
		}
	}
}

static bool pointwise(const sim_window *w)
{
	for (int i = 0; i < w->nsp; i++)
		if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] || w->pad_end[i])
			return false;
	return true;
}

/* ---------------------------------------------------------------- depthwise */

/* y[j] += w * x[j * s], j < n. */
static void tap_row(float *restrict y, const float *restrict x, int64_t s, float w, int64_t n)
{
	if (s == 1) /* the common strides as constants, so the loops vectorize */
		for (int64_t j = 0; j < n; j++)
			y[j] += w * x[j];
	else if (s == 2)
		for (int64_t j = 0; j < n; j++)
			y[j] += w * x[2 * j];
	else
		for (int64_t j = 0; j < n; j++)
			y[j] += w * x[j * s];
}

/* The nine taps of a 3x3 kernel w over rows r[0..2], added to y[j], j < n,
 * in kernel order.  Inlined with constant strides for the common cases. */
static inline void taps3x3(float *restrict y, const float *const *r, int64_t s, int64_t d, const float *w,
			   int64_t n)
{
	const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2];
	for (int64_t j = 0; j < n; j++) {
		int64_t c = j * s;
		float acc = y[j];
		acc += w[0] * r0[c];
		acc += w[1] * r0[c + d];
		acc += w[2] * r0[c + 2 * d];
		acc += w[3] * r1[c];
		acc += w[4] * r1[c + d];
		acc += w[5] * r1[c + 2 * d];
		acc += w[6] * r2[c];
		acc += w[7] * r2[c + d];
		acc += w[8] * r2[c + 2 * d];
		y[j] = acc;
	}
}

/* acc + the taps of the 3x3 kernel w at output column j over rows
 * r[0..2] that land inside, in kernel order. */
static float dw_column(const sim_plane *p, const float *const *r, const float *w, int64_t j, float acc)
{
	const sim_taps *tw = &p->cols[j];
	for (int a = 0; a < 3; a++)
		for (int64_t b = tw->lo; b < tw->hi; b++)
			acc += w[3 * a + b] * r[a][tw->start + b * p->g.d[1]];
	return acc;
}

/* One output row of a 3x3 kernel whose rows r[0..2] are all inside the
 * input: the columns where every tap lands inside in one pass, the others
 * one by one. */
static void dw_row3x3(const sim_plane *p, const float *const *r, const float *w, float *y)
{
	const sim_plane2 *g = &p->g;
	int64_t s = g->s[1], d = g->d[1], lo = p->full_lo, n = p->full_hi - lo;
	for (int64_t j = 0; j < lo; j++)
		y[j] = dw_column(p, r, w, j, y[j]);
	for (int64_t j = p->full_hi; j < g->out[1]; j++)
		y[j] = dw_column(p, r, w, j, y[j]);
	const float *rs[3] = {r[0] + lo * s - g->pb[1], r[1] + lo * s - g->pb[1], r[2] + lo * s - g->pb[1]};
	if (s == 1 && d == 1)
		taps3x3(y + lo, rs, 1, 1, w, n);
	else if (s == 2 && d == 1)
		taps3x3(y + lo, rs, 2, 1, w, n);
	else
		taps3x3(y + lo, rs, s, d, w, n);
}

/* One output plane: y = the sum of each tap of kernel w over input plane
 * x, taps in kernel order from 0, one output row at a time. */
static void dw_plane(const sim_plane *p, const float *x, const float *w, float *y)
{
	const sim_plane2 *g = &p->g;
	bool k3x3 = g->k[0] == 3 && g->k[1] == 3 && p->full_lo < p->full_hi;
	for (int64_t oh = 0; oh < g->out[0]; oh++, y += g->out[1]) {
		const sim_taps *th = &p->rows[oh];
		memset(y, 0, (size_t)g->out[1] * sizeof *y);
		if (k3x3 && th->lo == 0 && th->hi == 3) {
			const float *r[3];
			for (int a = 0; a < 3; a++)
				r[a] = x + (th->start + a * g->d[0]) * g->in[1];
			dw_row3x3(p, r, w, y);
			continue;
		}
		for (int64_t a = th->lo; a < th->hi; a++) {
			const float *row = x + (th->start + a * g->d[0]) * g->in[1];
			for (int64_t b = 0; b < g->k[1]; b++) {
				int64_t off = b * g->d[1] - g->pb[1], lo = p->col_lo[b], hi = p->col_hi[b], s = g->s[1];
				if (lo < hi) /* row + off + lo * s is inside the row */
					tap_row(y + lo, row + off + lo * s, s, w[a * g->k[1] + b], hi - lo);
			}
		}
	}
}

/* A conv with one input channel per group and 1 or 2 spatial dims: direct
 * taps instead of a GEMM per group whose inner dimension would be just the
 * kernel size. */
static sim_status conv_depthwise(sim_kctx *k, const conv_shape *cs, const float *x, const float *wt, float *y)
{
	sim_plane p;
	if (!sim_plane_init(&p, &cs->w))
		return sim_nomem(k);
	for (int64_t n = 0; n < cs->n; n++) {
		for (int64_t m = 0; m < cs->m; m++) {
			const float *xp = x + (n * cs->c + m / cs->mg) * cs->in_size;
			dw_plane(&p, xp, wt + m * cs->kernel_size, y + (n * cs->m + m) * cs->out_size);
		}
	}
	sim_plane_free(&p);
	return SIM_OK;
}

/* ---------------------------------------------------------------- checks and GEMM path */

static sim_status conv_check(sim_kctx *k, const sim_tensor *x, const sim_tensor *wt, conv_shape *cs)
{
	if (x->dtype != IR_F32)
		return sim_bad_dtype(k, x);
	if (wt->dtype != IR_F32 || wt->rank != x->rank || x->rank < 3)
		return sim_fail(k, SIM_EINVAL, "weights must be f32 of the input's rank (>= 3)");
	cs->group = sim_attr_int(k, "group", 1);
	cs->n = x->dims[0];
	cs->c = x->dims[1];
	cs->m = wt->dims[0];
	cs->cg = wt->dims[1];
	if (cs->group < 1 || cs->cg * cs->group != cs->c || cs->m % cs->group)
		return sim_fail(k, SIM_EINVAL, "%lld input channels, %lld output channels and weights "
				"with %lld channels do not fit group %lld", (long long)cs->c,
				(long long)cs->m, (long long)cs->cg, (long long)cs->group);
	cs->mg = cs->m / cs->group;
	int64_t ks[SIM_MAX_SPATIAL];
	int nk = sim_attr_ints(k, "kernel_shape", ks, SIM_MAX_SPATIAL);
	for (int i = 0; i < x->rank - 2; i++) {
		cs->w.kernel[i] = wt->dims[i + 2];
		if (nk >= 0 && (nk != x->rank - 2 || ks[i] != wt->dims[i + 2]))
			return sim_fail(k, SIM_EINVAL, "kernel_shape disagrees with the weights");
	}
	return sim_window_init(k, &cs->w, x, false);
}

static sim_status conv_bias(sim_kctx *k, const conv_shape *cs, const sim_tensor *b, float *y)
{
	if (!b)
		return SIM_OK;
	if (b->dtype != IR_F32 || (int64_t)sim_numel(b) != cs->m)
		return sim_fail(k, SIM_EINVAL, "bias must be f32 with %lld elements", (long long)cs->m);
	const float *bias = b->data;
	for (int64_t i = 0; i < cs->n * cs->m; i++, y += cs->out_size)
		for (int64_t j = 0; j < cs->out_size; j++)
			y[j] += bias[i % cs->m];
	return SIM_OK;
}

static sim_status conv_run(sim_kctx *k, const conv_shape *cs, const float *x, const float *wt, float *y)
{
	int64_t kdim = cs->cg * cs->kernel_size;
	bool direct = pointwise(&cs->w);
	float *col = direct ? NULL : sim_scratch_get(k, (size_t)(kdim * cs->out_size) * sizeof *col);
	if (!direct && !col)
		return sim_nomem(k);
	sim_status st = SIM_OK;
	for (int64_t n = 0; n < cs->n && st == SIM_OK; n++) {
		for (int64_t g = 0; g < cs->group && st == SIM_OK; g++) {
			const float *xg = x + (n * cs->c + g * cs->cg) * cs->in_size;
			if (!direct)
				im2col(cs, xg, col);
			float *yg = y + (n * cs->m + g * cs->mg) * cs->out_size;
			if (!sim_sgemm(false, false, cs->mg, cs->out_size, kdim, 1, wt + g * cs->mg * kdim, kdim,
				       direct ? xg : col, cs->out_size, 0, yg, cs->out_size))
				st = sim_fail(k, SIM_UNSUPPORTED, "GEMM dimensions exceed the BLAS int range");
		}
	}
	if (col)
		sim_scratch_put(k, col);
	return st;
}

sim_status sim_k_conv(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0), *wt = sim_need(k, 1), *b = sim_in(k, 2);
	if (!x || !wt)
		return k->status;
	conv_shape cs;
	memset(&cs, 0, sizeof cs);
	sim_status st = conv_check(k, x, wt, &cs);
	if (st != SIM_OK)
		return st;
	int nsp = cs.w.nsp;
	cs.in_size = sim_prod(x->dims, 2, x->rank);
	cs.kernel_size = sim_prod(cs.w.kernel, 0, nsp);
	cs.out_size = sim_prod(cs.w.out, 0, nsp);
	int64_t dims[IR_MAX_RANK] = {cs.n, cs.m};
	memcpy(dims + 2, cs.w.out, (size_t)nsp * sizeof *dims);
	st = sim_out_alloc_raw(k, 0, IR_F32, x->rank, dims); /* both paths write every element */
	if (st == SIM_OK && cs.cg == 1 && nsp <= 2)
		st = conv_depthwise(k, &cs, x->data, wt->data, k->out[0].data);
	else if (st == SIM_OK)
		st = conv_run(k, &cs, x->data, wt->data, k->out[0].data);
	if (st == SIM_OK)
		st = conv_bias(k, &cs, b, k->out[0].data);
	return st;
}
