/* Comparison of a computed tensor with a reference: floats within a
 * tolerance relative to the reference's scale, everything else exactly. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

static bool same_shape(const sim_tensor *a, const sim_tensor *b)
{
	return a->dtype == b->dtype && a->rank == b->rank &&
	       memcmp(a->dims, b->dims, (size_t)a->rank * sizeof *a->dims) == 0;
}

/* max(max - min, max |x|) over the finite elements; 1 when that is 0. */
static double scale_of(const sim_tensor *t)
{
	double lo = INFINITY, hi = -INFINITY, mag = 0;
	for (size_t i = 0; i < sim_numel(t); i++) {
		double v = sim_get_f64(t, i);
		if (!isfinite(v))
			continue;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		mag = fabs(v) > mag ? fabs(v) : mag;
	}
	double s = hi > lo && hi - lo > mag ? hi - lo : mag;
	return s > 0 ? s : 1;
}

static bool float_close(double g, double w, double tol, double *diff)
{
	*diff = 0;
	if (isnan(w) || isnan(g))
		return isnan(w) && isnan(g);
	if (isinf(w) || isinf(g))
		return g == w;
	*diff = fabs(g - w);
	return *diff <= tol;
}

bool sim_compare(const sim_tensor *got, const sim_tensor *want, double tol, sim_cmp *r)
{
	memset(r, 0, sizeof *r);
	r->scale = 1;
	r->shape_ok = same_shape(got, want);
	if (!r->shape_ok)
		return false;
	size_t n = sim_numel(want);
	bool is_float = sim_dtype_class(want->dtype) == SIM_CLASS_FLOAT;
	if (is_float)
		r->scale = scale_of(want);
	for (size_t i = 0; i < n; i++) {
		double diff = 0;
		bool ok = is_float ? float_close(sim_get_f64(got, i), sim_get_f64(want, i), tol * r->scale, &diff)
				   : sim_get_i64(got, i) == sim_get_i64(want, i);
		r->mismatches += !ok;
		r->max_abs = diff > r->max_abs ? diff : r->max_abs;
	}
	r->max_rel = r->max_abs / r->scale;
	return r->mismatches == 0;
}
