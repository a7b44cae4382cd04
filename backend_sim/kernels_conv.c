/* Conv (1-D, 2-D, 3-D, ...): im2col into a [Cg*prod(kernel), prod(out)]
 * matrix, then one sgemm per (image, group) with the group's weights. */
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
	float *col = direct ? NULL : malloc((size_t)(kdim * cs->out_size) * sizeof *col + 1);
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
	free(col);
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
	st = sim_out_alloc(k, 0, IR_F32, x->rank, dims);
	if (st == SIM_OK)
		st = conv_run(k, &cs, x->data, wt->data, k->out[0].data);
	if (st == SIM_OK)
		st = conv_bias(k, &cs, b, k->out[0].data);
	return st;
}
