/* Kernels that make tensors from shapes and attributes: Shape (start/end
 * from opset 15), Constant (every value_* attribute), ConstantOfShape,
 * Range. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

sim_status sim_k_shape(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	int64_t start = 0, end = x->rank;
	if (k->opset >= 15) {
		start = sim_attr_int(k, "start", 0);
		end = sim_attr_int(k, "end", x->rank);
	}
	start += start < 0 ? x->rank : 0;
	end += end < 0 ? x->rank : 0;
	start = start < 0 ? 0 : start > x->rank ? x->rank : start;
	end = end < 0 ? 0 : end > x->rank ? x->rank : end;
	int64_t n = end > start ? end - start : 0;
	sim_status st = sim_out_alloc_raw(k, 0, IR_I64, 1, &n);
	if (st == SIM_OK)
		memcpy(k->out[0].data, x->dims + start, (size_t)n * sizeof(int64_t));
	return st;
}

/* Result 0 = a copy of graph tensor tid. */
static sim_status from_tensor(sim_kctx *k, ir_tid tid)
{
	sim_tensor v;
	if (!sim_tensor_view(k->g, tid, &v))
		return sim_fail(k, SIM_UNSUPPORTED, "constant tensor of this type not supported");
	sim_status st = sim_out_alloc_raw(k, 0, v.dtype, v.rank, v.dims);
	if (st == SIM_OK)
		memcpy(k->out[0].data, v.data, sim_nbytes(&v));
	return st;
}

/* Result 0 = n values of dtype dt from src (rank 0 when scalar). */
static sim_status from_values(sim_kctx *k, ir_dtype dt, const void *src, int64_t n, bool scalar)
{
	sim_status st = sim_out_alloc_raw(k, 0, dt, scalar ? 0 : 1, &n);
	if (st == SIM_OK)
		memcpy(k->out[0].data, src, (size_t)n * ir_dtype_size(dt));
	return st;
}

sim_status sim_k_constant(sim_kctx *k)
{
	const ir_attr *attrs = ir_node_attrs(k->g, k->node);
	uint32_t n = ir_node_at(k->g, k->node)->nattr;
	for (uint32_t i = 0; i < n; i++) {
		const ir_attr *a = &attrs[i];
		const char *name = ir_cstr(k->g, a->name);
		if (strcmp(name, "value") == 0 && a->kind == IR_ATTR_TENSOR)
			return from_tensor(k, a->u.t);
		if (strcmp(name, "value_float") == 0 && a->kind == IR_ATTR_FLOAT)
			return from_values(k, IR_F32, &a->u.f, 1, true);
		if (strcmp(name, "value_int") == 0 && a->kind == IR_ATTR_INT)
			return from_values(k, IR_I64, &a->u.i, 1, true);
		if (strcmp(name, "value_floats") == 0 && a->kind == IR_ATTR_FLOATS)
			return from_values(k, IR_F32, ir_attr_floats(k->g, a), a->n, false);
		if (strcmp(name, "value_ints") == 0 && a->kind == IR_ATTR_INTS)
			return from_values(k, IR_I64, ir_attr_ints(k->g, a), a->n, false);
		if (strncmp(name, "value_string", 12) == 0 || strcmp(name, "sparse_value") == 0)
			return sim_fail(k, SIM_UNSUPPORTED, "attribute %s not supported by the simulator", name);
	}
	return sim_fail(k, SIM_EINVAL, "no value attribute");
}

sim_status sim_k_constantofshape(sim_kctx *k)
{
	const sim_tensor *s = sim_need(k, 0);
	if (!s)
		return k->status;
	int64_t dims[IR_MAX_RANK];
	int rank = sim_read_ints(k, s, "shape", dims, IR_MAX_RANK);
	if (rank < 0)
		return k->status;
	for (int i = 0; i < rank; i++)
		if (dims[i] < 0)
			return sim_fail(k, SIM_EINVAL, "shape[%d] = %lld is negative", i, (long long)dims[i]);
	const ir_attr *a = ir_attr_find(k->g, k->node, "value");
	sim_tensor v = {.dtype = IR_F32};
	static const float zero;
	v.data = (void *)&zero;
	if (a && (a->kind != IR_ATTR_TENSOR || !sim_tensor_view(k->g, a->u.t, &v) || sim_numel(&v) != 1))
		return sim_fail(k, SIM_EINVAL, "value must be a one-element tensor");
	sim_status st = sim_out_alloc_raw(k, 0, v.dtype, rank, dims);
	if (st != SIM_OK)
		return st;
	size_t es = ir_dtype_size(v.dtype), n = sim_numel(&k->out[0]);
	for (size_t i = 0; i < n; i++)
		memcpy((char *)k->out[0].data + i * es, v.data, es);
	return SIM_OK;
}

/* ---------------------------------------------------------------- Range */

static int64_t range_count_int(int64_t start, int64_t limit, int64_t delta)
{
	int64_t span = limit - start;
	if ((span > 0) != (delta > 0) || span == 0)
		return 0;
	return span / delta + (span % delta != 0);
}

sim_status sim_k_range(sim_kctx *k)
{
	const sim_tensor *t[3] = {sim_need(k, 0), sim_need(k, 1), sim_need(k, 2)};
	if (!t[0] || !t[1] || !t[2])
		return k->status;
	ir_dtype dt = t[0]->dtype;
	sim_class c = sim_dtype_class(dt);
	for (int i = 0; i < 3; i++)
		if (t[i]->dtype != dt || sim_numel(t[i]) != 1)
			return sim_fail(k, SIM_EINVAL, "start, limit and delta must be scalars of one type");
	if (c != SIM_CLASS_FLOAT && c != SIM_CLASS_SIGNED)
		return sim_bad_dtype(k, t[0]);
	bool is_float = c == SIM_CLASS_FLOAT;
	double fs = sim_get_f64(t[0], 0), fd = sim_get_f64(t[2], 0);
	int64_t is = sim_get_i64(t[0], 0), id = sim_get_i64(t[2], 0);
	if (is_float ? fd == 0 : id == 0)
		return sim_fail(k, SIM_EINVAL, "delta is zero");
	double fn = is_float ? ceil((sim_get_f64(t[1], 0) - fs) / fd) : 0;
	if (is_float && !(fn < 1e12))
		return sim_fail(k, SIM_EINVAL, "range has too many elements");
	int64_t n = is_float ? (fn > 0 ? (int64_t)fn : 0) : range_count_int(is, sim_get_i64(t[1], 0), id);
	sim_status st = sim_out_alloc_raw(k, 0, dt, 1, &n);
	for (int64_t i = 0; st == SIM_OK && i < n; i++) {
		if (is_float)
			sim_set_f64(&k->out[0], (size_t)i, fs + (double)i * fd);
		else
			sim_set_i64(&k->out[0], (size_t)i, (int64_t)((uint64_t)is + (uint64_t)i * (uint64_t)id));
	}
	return st;
}
