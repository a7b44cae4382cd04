/* Softmax (numerically stable; opset-13 single-axis semantics and the older
 * coerce-to-2-D semantics), ReduceMean and ReduceSum (axes attribute, or
 * input with noop_with_empty_axes from opset 18 and 13 respectively). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* ---------------------------------------------------------------- Softmax */

static void softmax_rows(const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
	for (int64_t o = 0; o < outer; o++) {
		for (int64_t i = 0; i < inner; i++) {
			const float *xr = x + o * len * inner + i;
			float *yr = y + o * len * inner + i;
			float mx = -INFINITY;
			for (int64_t j = 0; j < len; j++)
				mx = xr[j * inner] > mx ? xr[j * inner] : mx;
			double sum = 0;
			for (int64_t j = 0; j < len; j++) {
				yr[j * inner] = expf(xr[j * inner] - mx);
				sum += yr[j * inner];
			}
			for (int64_t j = 0; j < len; j++)
				yr[j * inner] = (float)(yr[j * inner] / sum);
		}
	}
}

sim_status sim_k_softmax(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	if (x->dtype != IR_F32)
		return sim_bad_dtype(k, x);
	bool legacy = k->opset < 13; /* flattens to 2-D at axis */
	int axis;
	int64_t a = sim_attr_int(k, "axis", legacy ? 1 : -1);
	if (x->rank == 0 ? a != 0 && a != -1 : !sim_axis(a, x->rank, &axis))
		return sim_fail(k, SIM_EINVAL, "axis %lld out of range for rank %d", (long long)a, x->rank);
	if (x->rank == 0)
		axis = 0;
	sim_status st = sim_out_alloc_raw(k, 0, IR_F32, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	int64_t outer = sim_prod(x->dims, 0, axis);
	int64_t len = legacy ? sim_prod(x->dims, axis, x->rank) : x->rank ? x->dims[axis] : 1;
	int64_t inner = legacy || !x->rank ? 1 : sim_prod(x->dims, axis + 1, x->rank);
	softmax_rows(x->data, k->out[0].data, outer, len, inner);
	return SIM_OK;
}

/* ---------------------------------------------------------------- ReduceMean, ReduceSum */

/* Marks the reduced axes; *noop when the op is the identity.  The axes are
 * an input from opset input_since (ReduceSum 13, ReduceMean 18). */
static sim_status reduce_axes(sim_kctx *k, int rank, int64_t input_since, bool *reduced, bool *noop)
{
	int64_t axes[IR_MAX_RANK];
	int n;
	*noop = false;
	if (k->opset >= input_since) {
		const sim_tensor *t = sim_in(k, 1);
		n = t ? sim_read_ints(k, t, "axes", axes, IR_MAX_RANK) : 0;
		if (n < 0)
			return k->status;
		if (n == 0 && sim_attr_int(k, "noop_with_empty_axes", 0))
			*noop = true;
	} else {
		n = sim_attr_ints(k, "axes", axes, IR_MAX_RANK);
	}
	for (int i = 0; i < rank; i++)
		reduced[i] = n <= 0 && !*noop;
	for (int i = 0; i < n; i++) {
		int ax;
		if (!sim_axis(axes[i], rank, &ax))
			return sim_fail(k, SIM_EINVAL, "axis %lld out of range for rank %d",
					(long long)axes[i], rank);
		reduced[ax] = true;
	}
	return SIM_OK;
}

typedef struct sum_args {
	const sim_tensor *x;
	double *acc;       /* float types */
	uint64_t *iacc;    /* integer types: exact, wrapping */
} sum_args;

/* The walk runs over x; operand 0 is the result, with stride 0 on reduced axes. */
static void sum_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const sum_args *p = ctx;
	if (p->iacc) {
		for (int64_t i = 0; i < cnt; i++)
			p->iacc[in[0] + (size_t)(i * step[0])] += (uint64_t)sim_get_i64(p->x, out + (size_t)i);
		return;
	}
	if (p->x->dtype == IR_F32) {
		const float *xs = (const float *)p->x->data + out;
		for (int64_t i = 0; i < cnt; i++)
			p->acc[in[0] + (size_t)(i * step[0])] += xs[i];
		return;
	}
	for (int64_t i = 0; i < cnt; i++)
		p->acc[in[0] + (size_t)(i * step[0])] += sim_get_f64(p->x, out + (size_t)i);
}

/* Sums over the reduced axes into result 0; mean divides by the count. */
static sim_status reduce_run(sim_kctx *k, const sim_tensor *x, const bool *reduced, bool mean)
{
	sim_tensor kept; /* the result's shape with reduced axes kept as 1 */
	memset(&kept, 0, sizeof kept);
	kept.rank = x->rank;
	int64_t dims[IR_MAX_RANK];
	int rank = 0;
	bool keepdims = sim_attr_int(k, "keepdims", 1) != 0;
	for (int i = 0; i < x->rank; i++) {
		kept.dims[i] = reduced[i] ? 1 : x->dims[i];
		if (!reduced[i] || keepdims)
			dims[rank++] = kept.dims[i];
	}
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, rank, dims);
	if (st != SIM_OK)
		return st;
	sim_tensor *y = &k->out[0];
	size_t nout = sim_numel(y);
	bool exact = !mean && sim_dtype_class(x->dtype) != SIM_CLASS_FLOAT;
	sum_args p = {x, exact ? NULL : calloc(nout + 1, sizeof(double)),
		      exact ? calloc(nout + 1, sizeof(uint64_t)) : NULL};
	if (!p.acc && !p.iacc)
		return sim_nomem(k);
	const sim_tensor *ops[1] = {&kept};
	sim_bcast b;
	sim_bcast_init(&b, ops, 1, x->dims, x->rank);
	sim_bcast_rows(&b, sum_row, &p);
	double cnt = mean && nout ? (double)sim_numel(x) / (double)nout : 1;
	for (size_t i = 0; i < nout; i++) {
		if (exact)
			sim_set_i64(y, i, (int64_t)p.iacc[i]);
		else
			sim_set_f64(y, i, p.acc[i] / cnt);
	}
	free(p.acc);
	free(p.iacc);
	return SIM_OK;
}

sim_status sim_k_reduce(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	sim_class c = sim_dtype_class(x->dtype);
	if (c != SIM_CLASS_FLOAT && c != SIM_CLASS_SIGNED && c != SIM_CLASS_UNSIGNED)
		return sim_bad_dtype(k, x);
	bool mean = sim_opcode(k) == IR_OP_ReduceMean;
	bool reduced[IR_MAX_RANK], noop;
	sim_status st = reduce_axes(k, x->rank, mean ? 18 : 13, reduced, &noop);
	if (st != SIM_OK)
		return st;
	if (noop)
		return sim_tensor_copy(&k->out[0], x) && sim_tensor_set_name(&k->out[0], NULL) ? SIM_OK
											       : sim_nomem(k);
	return reduce_run(k, x, reduced, mean);
}
