/* Sliding-window geometry shared by Conv and the pools: strides, dilations,
 * explicit pads or auto_pad, and the output extents (ONNX semantics); and
 * the two-dim view with per-window tap ranges that the direct f32 kernels
 * walk. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Reads an ints attribute of exactly n entries, or fills dflt when absent. */
static sim_status read_spatial(sim_kctx *k, const char *name, int n, int64_t dflt, int64_t *out,
			       int64_t min)
{
	int64_t v[2 * SIM_MAX_SPATIAL];
	int got = sim_attr_ints(k, name, v, 2 * SIM_MAX_SPATIAL);
	if (got < 0) {
		for (int i = 0; i < n; i++)
			out[i] = dflt;
		return SIM_OK;
	}
	if (got != n)
		return sim_fail(k, SIM_EINVAL, "%s has %d entries, expected %d", name, got, n);
	for (int i = 0; i < n; i++) {
		if (v[i] < min)
			return sim_fail(k, SIM_EINVAL, "%s[%d] = %lld is out of range", name, i,
					(long long)v[i]);
		out[i] = v[i];
	}
	return SIM_OK;
}

static void same_pads(sim_window *w, int i, bool upper)
{
	int64_t dk = (w->kernel[i] - 1) * w->dilation[i] + 1;
	w->out[i] = (w->in[i] + w->stride[i] - 1) / w->stride[i];
	int64_t total = (w->out[i] - 1) * w->stride[i] + dk - w->in[i];
	if (total < 0)
		total = 0;
	int64_t small = total / 2;
	w->pad_begin[i] = upper ? small : total - small;
	w->pad_end[i] = total - w->pad_begin[i];
}

/* Output extent of dim i from explicit pads; -1 when the window does not fit. */
static int64_t explicit_out(const sim_window *w, int i, bool ceil_mode)
{
	int64_t dk = (w->kernel[i] - 1) * w->dilation[i] + 1;
	int64_t span = w->in[i] + w->pad_begin[i] + w->pad_end[i] - dk;
	if (span < 0)
		return -1;
	int64_t out = (ceil_mode ? span + w->stride[i] - 1 : span) / w->stride[i] + 1;
	/* ceil mode never starts a window inside the end padding */
	if (ceil_mode && (out - 1) * w->stride[i] >= w->in[i] + w->pad_begin[i])
		out--;
	return out;
}

static sim_status explicit_pads(sim_kctx *k, sim_window *w, bool ceil_mode, bool valid)
{
	int64_t pads[2 * SIM_MAX_SPATIAL];
	sim_status st = read_spatial(k, "pads", 2 * w->nsp, 0, pads, 0);
	if (st != SIM_OK)
		return st;
	for (int i = 0; i < w->nsp; i++) {
		w->pad_begin[i] = valid ? 0 : pads[i];
		w->pad_end[i] = valid ? 0 : pads[w->nsp + i];
		w->out[i] = explicit_out(w, i, ceil_mode && !valid);
		if (w->out[i] < 0)
			return sim_fail(k, SIM_EINVAL, "window of extent %lld does not fit spatial dim %d (%lld)",
					(long long)((w->kernel[i] - 1) * w->dilation[i] + 1), i,
					(long long)w->in[i]);
	}
	return SIM_OK;
}

sim_status sim_window_init(sim_kctx *k, sim_window *w, const sim_tensor *x, bool ceil_mode)
{
	if (x->rank < 3)
		return sim_fail(k, SIM_EINVAL, "input must have rank >= 3 (N, C, spatial...), got %d",
				x->rank);
	w->nsp = x->rank - 2;
	for (int i = 0; i < w->nsp; i++) {
		w->in[i] = x->dims[i + 2];
		if (w->kernel[i] < 1)
			return sim_fail(k, SIM_EINVAL, "kernel extent %lld is not positive",
					(long long)w->kernel[i]);
	}
	sim_status st = read_spatial(k, "strides", w->nsp, 1, w->stride, 1);
	if (st == SIM_OK)
		st = read_spatial(k, "dilations", w->nsp, 1, w->dilation, 1);
	if (st != SIM_OK)
		return st;
	const char *ap = sim_attr_str(k, "auto_pad", "NOTSET");
	bool upper = strcmp(ap, "SAME_UPPER") == 0;
	if (upper || strcmp(ap, "SAME_LOWER") == 0) {
		for (int i = 0; i < w->nsp; i++)
			same_pads(w, i, upper);
		return SIM_OK;
	}
	bool valid = strcmp(ap, "VALID") == 0;
	if (!valid && strcmp(ap, "NOTSET") != 0 && ap[0])
		return sim_fail(k, SIM_EINVAL, "unknown auto_pad '%s'", ap);
	return explicit_pads(k, w, ceil_mode, valid);
}

/* ---------------------------------------------------------------- two-dim view */

static void plane2_init(const sim_window *w, sim_plane2 *g)
{
	int first = 2 - w->nsp;
	for (int i = 0; i < 2; i++) {
		int j = i - first;
		bool real = j >= 0;
		g->in[i] = real ? w->in[j] : 1;
		g->out[i] = real ? w->out[j] : 1;
		g->k[i] = real ? w->kernel[j] : 1;
		g->s[i] = real ? w->stride[j] : 1;
		g->d[i] = real ? w->dilation[j] : 1;
		g->pb[i] = real ? w->pad_begin[j] : 0;
		g->pe[i] = real ? w->pad_end[j] : 0;
	}
}

/* ceil(a / b) for b > 0, and 0 when a <= 0. */
static int64_t ceil_pos(int64_t a, int64_t b)
{
	return a > 0 ? (a + b - 1) / b : 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static sim_taps taps_at(const sim_plane2 *g, int i, int64_t o)
{
	sim_taps t = {.start = o * g->s[i] - g->pb[i]};
	t.lo = min64(g->k[i], ceil_pos(-t.start, g->d[i]));
	t.hi = min64(g->k[i], ceil_pos(g->in[i] - t.start, g->d[i]));
	t.hi = t.hi < t.lo ? t.lo : t.hi;
	/* a window starts at or after -pb, so only its end can leave the padding */
	t.padded = min64(g->k[i], ceil_pos(g->in[i] + g->pe[i] - t.start, g->d[i]));
	return t;
}

/* Output columns [*lo, *hi) whose kernel column b lands inside the input. */
static void tap_columns(const sim_plane2 *g, int64_t b, int64_t *lo, int64_t *hi)
{
	int64_t off = b * g->d[1] - g->pb[1], out = g->out[1];
	*lo = min64(out, ceil_pos(-off, g->s[1]));
	*hi = min64(out, ceil_pos(g->in[1] - off, g->s[1]));
	*hi = *hi < *lo ? *lo : *hi;
}

bool sim_plane_init(sim_plane *p, const sim_window *w)
{
	sim_plane2 *g = &p->g;
	plane2_init(w, g);
	size_t nt = (size_t)(g->out[0] + g->out[1]), nc = 2 * (size_t)g->k[1];
	p->rows = malloc(nt * sizeof *p->rows + nc * sizeof *p->col_lo + 1);
	if (!p->rows)
		return false;
	p->cols = p->rows + g->out[0];
	p->col_lo = (int64_t *)(p->cols + g->out[1]);
	p->col_hi = p->col_lo + g->k[1];
	for (int64_t o = 0; o < g->out[0]; o++)
		p->rows[o] = taps_at(g, 0, o);
	for (int64_t o = 0; o < g->out[1]; o++)
		p->cols[o] = taps_at(g, 1, o);
	p->full_lo = 0;
	p->full_hi = g->out[1];
	for (int64_t b = 0; b < g->k[1]; b++) {
		tap_columns(g, b, &p->col_lo[b], &p->col_hi[b]);
		p->full_lo = p->col_lo[b] > p->full_lo ? p->col_lo[b] : p->full_lo;
		p->full_hi = min64(p->col_hi[b], p->full_hi);
	}
	return true;
}

void sim_plane_free(sim_plane *p)
{
	free(p->rows);
	p->rows = NULL;
}
