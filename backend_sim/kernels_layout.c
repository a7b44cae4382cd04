/* Layout kernels that move data without arithmetic: Identity, Reshape,
 * Flatten, Squeeze, Unsqueeze, Transpose, Concat, Expand.  All work on raw elements of any
 * dtype.  The first five copy only when the run cannot hand the operand's
 * buffer on (sim_out_alias). */
#include <string.h>

#include "sim_internal.h"

sim_status sim_k_identity(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	return x ? sim_out_alias(k, 0, x->rank, x->dims) : k->status;
}

/* ---------------------------------------------------------------- Reshape */

static sim_status reshape_dims(sim_kctx *k, const sim_tensor *x, int64_t *dims, int n, bool allowzero)
{
	int infer = -1;
	int64_t known = 1;
	for (int i = 0; i < n; i++) {
		if (dims[i] == 0 && !allowzero) {
			if (i >= x->rank)
				return sim_fail(k, SIM_EINVAL, "shape[%d] = 0 copies a dim the input lacks", i);
			dims[i] = x->dims[i];
		}
		if (dims[i] == -1) {
			if (infer >= 0)
				return sim_fail(k, SIM_EINVAL, "shape has more than one -1");
			infer = i;
			continue;
		}
		if (dims[i] < 0 || (dims[i] > 0 && known > INT64_MAX / dims[i]))
			return sim_fail(k, SIM_EINVAL, "shape[%d] = %lld is invalid", i, (long long)dims[i]);
		known *= dims[i];
	}
	int64_t numel = (int64_t)sim_numel(x);
	if (infer >= 0) {
		if (known == 0 || numel % known)
			return sim_fail(k, SIM_EINVAL, "cannot infer the -1 dim of %lld elements", (long long)numel);
		dims[infer] = numel / known;
		known *= dims[infer];
	}
	if (known != numel)
		return sim_fail(k, SIM_EINVAL, "shape holds %lld elements, input has %lld", (long long)known,
				(long long)numel);
	return SIM_OK;
}

sim_status sim_k_reshape(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0), *s = sim_need(k, 1);
	if (!x || !s)
		return k->status;
	int64_t dims[IR_MAX_RANK];
	int n = sim_read_ints(k, s, "shape", dims, IR_MAX_RANK);
	if (n < 0)
		return k->status;
	bool allowzero = k->opset >= 14 && sim_attr_int(k, "allowzero", 0) != 0;
	sim_status st = reshape_dims(k, x, dims, n, allowzero);
	return st == SIM_OK ? sim_out_alias(k, 0, n, dims) : st;
}

sim_status sim_k_flatten(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	int64_t axis = sim_attr_int(k, "axis", 1);
	if (axis < 0)
		axis += x->rank;
	if (axis < 0 || axis > x->rank)
		return sim_fail(k, SIM_EINVAL, "axis %lld out of range for rank %d",
				(long long)sim_attr_int(k, "axis", 1), x->rank);
	int64_t dims[2] = {sim_prod(x->dims, 0, (int)axis), sim_prod(x->dims, (int)axis, x->rank)};
	return sim_out_alias(k, 0, 2, dims);
}

/* ---------------------------------------------------------------- Squeeze, Unsqueeze */

/* axes from operand 1 (opset >= 13) or the attribute; -1 when absent. */
static int squeeze_axes(sim_kctx *k, int64_t *axes)
{
	if (k->opset < 13)
		return sim_attr_ints(k, "axes", axes, IR_MAX_RANK);
	const sim_tensor *t = sim_in(k, 1);
	if (!t)
		return -1;
	int n = sim_read_ints(k, t, "axes", axes, IR_MAX_RANK);
	return n < 0 ? -2 : n;
}

sim_status sim_k_squeeze(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	int64_t axes[IR_MAX_RANK], dims[IR_MAX_RANK];
	int n = squeeze_axes(k, axes), rank = 0;
	if (n == -2)
		return k->status;
	bool drop[IR_MAX_RANK] = {false};
	for (int i = 0; i < x->rank; i++)
		drop[i] = n < 0 && x->dims[i] == 1;
	for (int i = 0; i < n; i++) {
		int ax;
		if (!sim_axis(axes[i], x->rank, &ax) || x->dims[ax] != 1)
			return sim_fail(k, SIM_EINVAL, "axes entry %d does not name a dim of extent 1", i);
		drop[ax] = true;
	}
	for (int i = 0; i < x->rank; i++)
		if (!drop[i])
			dims[rank++] = x->dims[i];
	return sim_out_alias(k, 0, rank, dims);
}

sim_status sim_k_unsqueeze(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	int64_t axes[IR_MAX_RANK], dims[IR_MAX_RANK];
	int n = squeeze_axes(k, axes);
	if (n == -2)
		return k->status;
	if (n < 0 || x->rank + n > IR_MAX_RANK)
		return sim_fail(k, SIM_EINVAL, "axes missing or too many");
	int rank = x->rank + n;
	bool added[IR_MAX_RANK] = {false};
	for (int i = 0; i < n; i++) {
		int ax;
		if (!sim_axis(axes[i], rank, &ax) || added[ax])
			return sim_fail(k, SIM_EINVAL, "axes entry %d is out of range or repeated", i);
		added[ax] = true;
	}
	for (int i = 0, j = 0; i < rank; i++)
		dims[i] = added[i] ? 1 : x->dims[j++];
	return sim_out_alias(k, 0, rank, dims);
}

/* ---------------------------------------------------------------- Transpose */

sim_status sim_k_transpose(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	int64_t perm[IR_MAX_RANK];
	int n = sim_attr_ints(k, "perm", perm, IR_MAX_RANK);
	if (n < 0)
		for (n = 0; n < x->rank; n++)
			perm[n] = x->rank - 1 - n;
	bool seen[IR_MAX_RANK] = {false};
	for (int i = 0; i < n; i++) {
		if (n != x->rank || perm[i] < 0 || perm[i] >= x->rank || seen[perm[i]])
			return sim_fail(k, SIM_EINVAL, "perm is not a permutation of %d axes", x->rank);
		seen[perm[i]] = true;
	}
	int64_t dims[IR_MAX_RANK], in_stride[IR_MAX_RANK], strides[IR_MAX_RANK];
	int64_t s = 1;
	for (int i = x->rank - 1; i >= 0; i--) {
		in_stride[i] = s;
		s *= x->dims[i];
	}
	for (int i = 0; i < x->rank; i++) {
		dims[i] = x->dims[perm[i]];
		strides[i] = in_stride[perm[i]];
	}
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, x->rank, dims);
	if (st == SIM_OK)
		sim_strided_copy(x, 0, strides, dims, x->rank, k->out[0].data);
	return st;
}

/* ---------------------------------------------------------------- Concat */

static sim_status concat_dims(sim_kctx *k, int axis, int64_t *dims)
{
	const sim_tensor *x0 = k->in[0];
	memcpy(dims, x0->dims, (size_t)x0->rank * sizeof *dims);
	dims[axis] = 0;
	for (uint32_t i = 0; i < k->nin; i++) {
		const sim_tensor *x = sim_need(k, i);
		if (!x)
			return k->status;
		bool same = x->dtype == x0->dtype && x->rank == x0->rank;
		for (int j = 0; same && j < x->rank; j++)
			same = j == axis || x->dims[j] == x0->dims[j];
		if (!same)
			return sim_fail(k, SIM_EINVAL, "operand %u does not match operand 0 off the axis",
					(unsigned)i);
		dims[axis] += x->dims[axis];
	}
	return SIM_OK;
}

sim_status sim_k_concat(sim_kctx *k)
{
	const sim_tensor *x0 = sim_need(k, 0);
	if (!x0)
		return k->status;
	int axis;
	if (!sim_axis(sim_attr_int(k, "axis", 0), x0->rank, &axis))
		return sim_fail(k, SIM_EINVAL, "axis out of range for rank %d", x0->rank);
	int64_t dims[IR_MAX_RANK];
	sim_status st = concat_dims(k, axis, dims);
	if (st == SIM_OK)
		st = sim_out_alloc_raw(k, 0, x0->dtype, x0->rank, dims);
	if (st != SIM_OK)
		return st;
	size_t es = ir_dtype_size(x0->dtype);
	int64_t outer = sim_prod(dims, 0, axis), inner = sim_prod(dims, axis + 1, x0->rank);
	char *dst = k->out[0].data;
	for (int64_t o = 0; o < outer; o++) {
		for (uint32_t i = 0; i < k->nin; i++) {
			size_t chunk = (size_t)(k->in[i]->dims[axis] * inner) * es;
			memcpy(dst, (const char *)k->in[i]->data + (size_t)o * chunk, chunk);
			dst += chunk;
		}
	}
	return SIM_OK;
}

/* ---------------------------------------------------------------- Expand */

sim_status sim_k_expand(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0), *s = sim_need(k, 1);
	if (!x || !s)
		return k->status;
	sim_tensor shape;
	memset(&shape, 0, sizeof shape);
	shape.rank = sim_read_ints(k, s, "shape", shape.dims, IR_MAX_RANK);
	if (shape.rank < 0)
		return k->status;
	const sim_tensor *ops[2] = {x, &shape};
	int64_t dims[IR_MAX_RANK];
	int rank;
	if (!sim_broadcast_shape(ops, 2, dims, &rank))
		return sim_fail(k, SIM_EINVAL, "shape does not broadcast with the input");
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, rank, dims);
	if (st != SIM_OK)
		return st;
	sim_bcast b;
	sim_bcast_init(&b, ops, 1, dims, rank);
	sim_bcast_copy(&b, x, k->out[0].data);
	return SIM_OK;
}
