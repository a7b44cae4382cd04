/* MaxPool (with Indices), AveragePool and GlobalAveragePool.  Windows are
 * walked per (image, channel) plane; values are read as double so the same
 * loop serves f32 and the integer types MaxPool allows. */
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
