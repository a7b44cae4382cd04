/* MaxPool (with Indices), AveragePool and GlobalAveragePool.  Windows are
 * walked per (image, channel) plane.  f32 pools of 1 or 2 spatial dims clip
 * each window to the input once per dim and sweep whole output rows (3x3
 * MaxPool windows in one pass); the general path reads values as double so
 * one loop serves every rank, f32 and the integer types MaxPool allows.
 * Both visit each window's taps in the same order: the same results, bit
 * for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct pool {
	sim_window w;
	bool is_max, include_pad, col_major;
	int64_t plane_in, plane_out;
} pool;

typedef struct window_acc {
	double best, sum;
	int64_t arg;        /* spatial flat index of best in the plane */
	int64_t count, padded_count;
} window_acc;

/* Flat index of spatial coordinates c in the plane (row- or column-major). */
static int64_t flat_index(const pool *p, const int64_t *c)
{
	int64_t f = 0;
	if (p->col_major)
		for (int i = p->w.nsp - 1; i >= 0; i--)
			f = f * p->w.in[i] + c[i];
	else
		for (int i = 0; i < p->w.nsp; i++)
			f = f * p->w.in[i] + c[i];
	return f;
}

/* Visits every kernel position of the window at output coordinates o. */
static void visit_window(const pool *p, const double *plane, const int64_t *o, window_acc *acc)
{
	const sim_window *w = &p->w;
	int64_t kp[SIM_MAX_SPATIAL] = {0}, c[SIM_MAX_SPATIAL];
	for (;;) {
		bool inside = true, in_padded = true;
		int64_t off = 0;
		for (int i = 0; i < w->nsp; i++) {
			c[i] = o[i] * w->stride[i] - w->pad_begin[i] + kp[i] * w->dilation[i];
			inside &= c[i] >= 0 && c[i] < w->in[i];
			in_padded &= c[i] >= -w->pad_begin[i] && c[i] < w->in[i] + w->pad_end[i];
			off = off * w->in[i] + c[i];
		}
		acc->padded_count += in_padded;
		if (inside) {
			double v = plane[off];
			acc->sum += v;
			if (acc->count++ == 0 || v > acc->best) {
				acc->best = v;
				acc->arg = flat_index(p, c);
			}
		}
		int i = w->nsp - 1;
		for (; i >= 0; i--) {
			if (++kp[i] < w->kernel[i])
				break;
			kp[i] = 0;
		}
		if (i < 0)
			return;
	}
}

static void pool_plane(const pool *p, const double *plane, sim_tensor *y, size_t yoff,
		       sim_tensor *idx, int64_t idx_base)
{
	int64_t o[SIM_MAX_SPATIAL] = {0};
	for (int64_t j = 0; j < p->plane_out; j++) {
		window_acc acc = {0, 0, 0, 0, 0};
		visit_window(p, plane, o, &acc);
		double v;
		if (p->is_max)
			v = acc.count ? acc.best : sim_dtype_lowest(y->dtype);
		else
			v = acc.count ? acc.sum / (double)(p->include_pad ? acc.padded_count : acc.count) : 0;
		sim_set_f64(y, yoff + (size_t)j, v);
		if (idx)
			((int64_t *)idx->data)[yoff + (size_t)j] = idx_base + acc.arg;
		for (int i = p->w.nsp - 1; i >= 0; i--) {
			if (++o[i] < p->w.out[i])
				break;
			o[i] = 0;
		}
	}
}

static sim_status pool_setup(sim_kctx *k, pool *p, const sim_tensor *x)
{
	int64_t ks[SIM_MAX_SPATIAL];
	int nk = sim_attr_ints(k, "kernel_shape", ks, SIM_MAX_SPATIAL);
	if (x->rank < 3 || nk != x->rank - 2)
		return sim_fail(k, SIM_EINVAL, "kernel_shape must have one entry per spatial dim");
	memcpy(p->w.kernel, ks, (size_t)nk * sizeof *ks);
	bool ceil_mode = sim_attr_int(k, "ceil_mode", 0) != 0;
	sim_status st = sim_window_init(k, &p->w, x, ceil_mode);
	p->plane_in = sim_prod(p->w.in, 0, p->w.nsp);
	p->plane_out = sim_prod(p->w.out, 0, p->w.nsp);
	return st;
}

/* ---------------------------------------------------------------- f32 planes, 1-D and 2-D */

/* v if it is greater than m, else m (so NaNs never win). */
static inline float max_of(float m, float v)
{
	return v > m ? v : m;
}

/* The maxima of 3x3 windows over rows r[0..2] for output columns j < n,
 * taps in kernel order from -inf.  Inlined with constant strides for the
 * common cases. */
static inline void max3x3(float *restrict y, const float *const *r, int64_t s, int64_t d, int64_t n)
{
	const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2];
	for (int64_t j = 0; j < n; j++) {
		int64_t c = j * s;
		float m = max_of(max_of(max_of(-INFINITY, r0[c]), r0[c + d]), r0[c + 2 * d]);
		m = max_of(max_of(max_of(m, r1[c]), r1[c + d]), r1[c + 2 * d]);
		y[j] = max_of(max_of(max_of(m, r2[c]), r2[c + d]), r2[c + 2 * d]);
	}
}

/* The maximum of the 3x3 window of output column j over rows r[0..2],
 * its taps in kernel order from -inf. */
static float max_column(const sim_plane *p, const float *const *r, int64_t j)
{
	const sim_taps *tw = &p->cols[j];
	float m = -INFINITY;
	for (int a = 0; a < 3; a++)
		for (int64_t b = tw->lo; b < tw->hi; b++)
			m = max_of(m, r[a][tw->start + b * p->g.d[1]]);
	return m;
}

/* One output row of a 3x3 MaxPool whose rows r[0..2] are all inside the
 * input: the columns where every tap lands inside in one pass, the others
 * one by one. */
static void max_row3x3(const sim_plane *p, const float *const *r, float *y)
{
	const sim_plane2 *g = &p->g;
	int64_t s = g->s[1], d = g->d[1], lo = p->full_lo, n = p->full_hi - lo;
	for (int64_t j = 0; j < lo; j++)
		y[j] = max_column(p, r, j);
	for (int64_t j = p->full_hi; j < g->out[1]; j++)
		y[j] = max_column(p, r, j);
	const float *rs[3] = {r[0] + lo * s - g->pb[1], r[1] + lo * s - g->pb[1], r[2] + lo * s - g->pb[1]};
	if (s == 1 && d == 1)
		max3x3(y + lo, rs, 1, 1, n);
	else if (s == 2 && d == 1)
		max3x3(y + lo, rs, 2, 1, n);
	else
		max3x3(y + lo, rs, s, d, n);
}

/* MaxPool's output row y for rows th in general: one tap over the whole
 * row at a time, in kernel order, from -inf. */
static void max_row_taps(const sim_plane *p, const sim_taps *th, const float *x, float *y)
{
	const sim_plane2 *g = &p->g;
	int64_t s = g->s[1];
	for (int64_t j = 0; j < g->out[1]; j++)
		y[j] = -INFINITY;
	for (int64_t a = th->lo; a < th->hi; a++) {
		const float *row = x + (th->start + a * g->d[0]) * g->in[1];
		for (int64_t b = 0; b < g->k[1]; b++) {
			int64_t off = b * g->d[1] - g->pb[1];
			for (int64_t j = p->col_lo[b]; j < p->col_hi[b]; j++)
				y[j] = max_of(y[j], row[j * s + off]);
		}
	}
}

/* One output row of MaxPool: y = the maximum over each window.  Starting
 * from -inf instead of the window's first tap (as visit_window does) gives
 * the same value unless that first tap is NaN, which then wins for good. */
static void max_row(const sim_plane *p, const sim_taps *th, const float *x, float *y)
{
	const sim_plane2 *g = &p->g;
	if (g->k[0] == 3 && g->k[1] == 3 && p->full_lo < p->full_hi && th->lo == 0 && th->hi == 3) {
		const float *r[3];
		for (int a = 0; a < 3; a++)
			r[a] = x + (th->start + a * g->d[0]) * g->in[1];
		max_row3x3(p, r, y);
	} else {
		max_row_taps(p, th, x, y);
	}
	for (int64_t j = 0; th->lo < th->hi && j < g->out[1]; j++) {
		const sim_taps *tw = &p->cols[j];
		float first = x[(th->start + th->lo * g->d[0]) * g->in[1] + tw->start + tw->lo * g->d[1]];
		if (tw->lo < tw->hi && isnan(first))
			y[j] = first;
	}
}

/* visit_window's flat index of the maximum in the plane (row- or
 * column-major): the first tap inside the input starts it, later NaNs
 * never win. */
static int64_t window_argmax(const pool *pl, const sim_plane2 *g, const float *x, const sim_taps *th,
			     const sim_taps *tw)
{
	float best = -INFINITY;
	int64_t arg = 0;
	bool any = false;
	for (int64_t a = th->lo; a < th->hi; a++) {
		int64_t ih = th->start + a * g->d[0];
		for (int64_t b = tw->lo; b < tw->hi; b++) {
			int64_t iw = tw->start + b * g->d[1];
			float v = x[ih * g->in[1] + iw];
			if (!any || v > best) {
				best = v;
				arg = pl->col_major ? iw * g->in[0] + ih : ih * g->in[1] + iw;
				any = true;
			}
		}
	}
	return arg;
}

/* The mean over one window, summed row-major in double as visit_window does. */
static float window_avg(const pool *pl, const sim_plane2 *g, const float *x, const sim_taps *th,
			const sim_taps *tw)
{
	double sum = 0;
	for (int64_t a = th->lo; a < th->hi; a++) {
		const float *row = x + (th->start + a * g->d[0]) * g->in[1] + tw->start;
		for (int64_t b = tw->lo; b < tw->hi; b++)
			sum += row[b * g->d[1]];
	}
	int64_t count = (th->hi - th->lo) * (tw->hi - tw->lo);
	if (!count)
		return 0;
	return (float)(sum / (double)(pl->include_pad ? th->padded * tw->padded : count));
}

static void pool_plane_f32(const pool *pl, const sim_plane *p, const float *x, float *y, int64_t *idx,
			   int64_t idx_base)
{
	const sim_plane2 *g = &p->g;
	for (int64_t oh = 0; oh < g->out[0]; oh++, y += g->out[1]) {
		const sim_taps *th = &p->rows[oh];
		if (pl->is_max)
			max_row(p, th, x, y);
		for (int64_t ow = 0; !pl->is_max && ow < g->out[1]; ow++)
			y[ow] = window_avg(pl, g, x, th, &p->cols[ow]);
		for (int64_t ow = 0; idx && ow < g->out[1]; ow++)
			*idx++ = idx_base + window_argmax(pl, g, x, th, &p->cols[ow]);
	}
}

/* requires: x is f32 with 1 or 2 spatial dims. */
static sim_status pool_run_f32(sim_kctx *k, const pool *pl, const sim_tensor *x, float *y, int64_t *idx)
{
	sim_plane p;
	if (!sim_plane_init(&p, &pl->w))
		return sim_nomem(k);
	int64_t planes = x->dims[0] * x->dims[1];
	const float *xs = x->data;
	for (int64_t q = 0; q < planes; q++)
		pool_plane_f32(pl, &p, xs + q * pl->plane_in, y + q * pl->plane_out,
			       idx ? idx + q * pl->plane_out : NULL, q * pl->plane_in);
	sim_plane_free(&p);
	return SIM_OK;
}

static sim_status pool_run(sim_kctx *k, pool *p, const sim_tensor *x)
{
	int64_t dims[IR_MAX_RANK] = {x->dims[0], x->dims[1]};
	memcpy(dims + 2, p->w.out, (size_t)p->w.nsp * sizeof *dims);
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, x->rank, dims);
	bool want_idx = p->is_max && k->nout > 1;
	if (st == SIM_OK && want_idx)
		st = sim_out_alloc_raw(k, 1, IR_I64, x->rank, dims);
	if (st != SIM_OK)
		return st;
	if (x->dtype == IR_F32 && p->w.nsp <= 2)
		return pool_run_f32(k, p, x, k->out[0].data, want_idx ? k->out[1].data : NULL);
	size_t n = sim_numel(x);
	double *xs = malloc(n * sizeof *xs + 1);
	if (!xs)
		return sim_nomem(k);
	for (size_t i = 0; i < n; i++)
		xs[i] = sim_get_f64(x, i);
	int64_t planes = x->dims[0] * x->dims[1];
	for (int64_t q = 0; q < planes; q++)
		pool_plane(p, xs + q * p->plane_in, &k->out[0], (size_t)(q * p->plane_out),
			   want_idx ? &k->out[1] : NULL, q * p->plane_in);
	free(xs);
	return SIM_OK;
}

sim_status sim_k_maxpool(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	sim_class c = sim_dtype_class(x->dtype);
	if (c != SIM_CLASS_FLOAT && c != SIM_CLASS_SIGNED && c != SIM_CLASS_UNSIGNED)
		return sim_bad_dtype(k, x);
	pool p = {.is_max = true, .col_major = sim_attr_int(k, "storage_order", 0) != 0};
	sim_status st = pool_setup(k, &p, x);
	return st == SIM_OK ? pool_run(k, &p, x) : st;
}

sim_status sim_k_avgpool(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	if (x->dtype != IR_F32)
		return sim_bad_dtype(k, x);
	pool p = {.is_max = false, .include_pad = sim_attr_int(k, "count_include_pad", 0) != 0};
	sim_status st = pool_setup(k, &p, x);
	return st == SIM_OK ? pool_run(k, &p, x) : st;
}

sim_status sim_k_gap(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	if (x->dtype != IR_F32)
		return sim_bad_dtype(k, x);
	if (x->rank < 2)
		return sim_fail(k, SIM_EINVAL, "input must have rank >= 2");
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < 2 ? x->dims[i] : 1;
	sim_status st = sim_out_alloc_raw(k, 0, IR_F32, x->rank, dims);
	if (st != SIM_OK)
		return st;
	int64_t planes = x->dims[0] * x->dims[1], size = sim_prod(x->dims, 2, x->rank);
	const float *xs = x->data;
	float *ys = k->out[0].data;
	for (int64_t q = 0; q < planes; q++, xs += size) {
		double s = 0;
		for (int64_t j = 0; j < size; j++)
			s += xs[j];
		ys[q] = size ? (float)(s / (double)size) : NAN;
	}
	return SIM_OK;
}
