/* Run-time tensors: allocation, copies, views of graph constants, and
 * element access by dtype for the kernels' generic paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

int64_t sim_prod(const int64_t *dims, int from, int to)
{
	int64_t p = 1;
	for (int i = from; i < to; i++)
		p *= dims[i];
	return p;
}

size_t sim_numel(const sim_tensor *t)
{
	return (size_t)sim_prod(t->dims, 0, t->rank);
}

size_t sim_nbytes(const sim_tensor *t)
{
	return sim_numel(t) * ir_dtype_size(t->dtype);
}

static bool storable(ir_dtype dt)
{
	return ir_dtype_size(dt) > 0 && dt != IR_C64 && dt != IR_C128;
}

bool sim_dims_bytes(const int64_t *dims, int rank, size_t esize, size_t *bytes)
{
	size_t n = esize;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0 || (dims[i] > 0 && n > SIZE_MAX / 2 / (size_t)dims[i]))
			return false;
		n *= (size_t)dims[i];
	}
	*bytes = n;
	return true;
}

bool sim_tensor_alloc_raw(sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims)
{
	memset(t, 0, sizeof *t);
	size_t n;
	if (rank < 0 || rank > IR_MAX_RANK || !storable(dt) || !sim_dims_bytes(dims, rank, ir_dtype_size(dt), &n))
		return false;
	t->dtype = dt;
	t->rank = rank;
	for (int i = 0; i < rank; i++)
		t->dims[i] = dims[i];
	t->data = malloc(n ? n : 1); /* a zero-size tensor still has a buffer */
	t->owned = t->data != NULL;
	return t->data != NULL;
}

bool sim_tensor_alloc(sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims)
{
	if (!sim_tensor_alloc_raw(t, dt, rank, dims))
		return false;
	memset(t->data, 0, sim_nbytes(t));
	return true;
}

void sim_tensor_free(sim_tensor *t)
{
	if (t->owned)
		free(t->data);
	free(t->name);
	memset(t, 0, sizeof *t);
}

void sim_tensors_free(sim_tensor *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		sim_tensor_free(&v[i]);
	free(v);
}

bool sim_tensor_set_name(sim_tensor *t, const char *name)
{
	char *s = NULL;
	if (name) {
		size_t n = strlen(name);
		if (!(s = malloc(n + 1)))
			return false;
		memcpy(s, name, n + 1);
	}
	free(t->name);
	t->name = s;
	return true;
}

bool sim_tensor_copy(sim_tensor *dst, const sim_tensor *src)
{
	if (!sim_tensor_alloc_raw(dst, src->dtype, src->rank, src->dims))
		return false;
	memcpy(dst->data, src->data, sim_nbytes(src));
	if (!sim_tensor_set_name(dst, src->name)) {
		sim_tensor_free(dst);
		return false;
	}
	return true;
}

bool sim_tensor_view(const ir_graph *g, ir_tid tid, sim_tensor *out)
{
	memset(out, 0, sizeof *out);
	const ir_tensor *t = ir_tensor_at(g, tid);
	if (!t || t->rank < 0 || t->rank > IR_MAX_RANK || !storable((ir_dtype)t->dtype))
		return false;
	out->dtype = (ir_dtype)t->dtype;
	out->rank = t->rank;
	const int64_t *dims = ir_tensor_dims(g, tid);
	for (int i = 0; i < t->rank; i++)
		out->dims[i] = dims[i];
	if (t->nbytes < sim_nbytes(out) || (!t->data && sim_nbytes(out) > 0))
		return false;
	static const uint64_t empty; /* read-only stand-in for zero-size data */
	out->data = t->data ? t->data : (void *)&empty;
	out->owned = false;
	return true;
}

ir_tid sim_tensor_to_ir(ir_graph *g, ir_str name, const sim_tensor *t)
{
	return ir_tensor_new(g, name, t->dtype, t->rank, t->dims, t->data, sim_nbytes(t));
}

int sim_tensor_format(const sim_tensor *t, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s[", ir_dtype_name(t->dtype));
	for (int i = 0; i < t->rank && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, i ? ",%lld" : "%lld", (long long)t->dims[i]);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "]");
	return n;
}

/* ---------------------------------------------------------------- element access */

sim_class sim_dtype_class(ir_dtype t)
{
	switch (t) {
	case IR_F32: case IR_F16: case IR_BF16: case IR_F64:
		return SIM_CLASS_FLOAT;
	case IR_I8: case IR_I16: case IR_I32: case IR_I64:
		return SIM_CLASS_SIGNED;
	case IR_U8: case IR_U16: case IR_U32: case IR_U64:
		return SIM_CLASS_UNSIGNED;
	case IR_BOOL:
		return SIM_CLASS_BOOL;
	default:
		return SIM_CLASS_NONE;
	}
}

#define LOAD(T, p, i) (((const T *)(p))[i])

double sim_get_f64(const sim_tensor *t, size_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case IR_F32: return LOAD(float, p, i);
	case IR_F64: return LOAD(double, p, i);
	case IR_F16: return sim_f16_to_f32(LOAD(uint16_t, p, i));
	case IR_BF16: return sim_bf16_to_f32(LOAD(uint16_t, p, i));
	case IR_I8: return LOAD(int8_t, p, i);
	case IR_I16: return LOAD(int16_t, p, i);
	case IR_I32: return LOAD(int32_t, p, i);
	case IR_I64: return (double)LOAD(int64_t, p, i);
	case IR_U8: return LOAD(uint8_t, p, i);
	case IR_U16: return LOAD(uint16_t, p, i);
	case IR_U32: return LOAD(uint32_t, p, i);
	case IR_U64: return (double)LOAD(uint64_t, p, i);
	case IR_BOOL: return LOAD(uint8_t, p, i) != 0;
	default: return 0;
	}
}

/* double -> int64 truncating toward zero; NaN -> 0; saturating. */
static int64_t f64_to_i64(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 9223372036854775807.0)
		return INT64_MAX;
	if (v <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)v;
}

int64_t sim_get_i64(const sim_tensor *t, size_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case IR_I8: return LOAD(int8_t, p, i);
	case IR_I16: return LOAD(int16_t, p, i);
	case IR_I32: return LOAD(int32_t, p, i);
	case IR_I64: return LOAD(int64_t, p, i);
	case IR_U8: return LOAD(uint8_t, p, i);
	case IR_U16: return LOAD(uint16_t, p, i);
	case IR_U32: return LOAD(uint32_t, p, i);
	case IR_U64: return (int64_t)LOAD(uint64_t, p, i);
	case IR_BOOL: return LOAD(uint8_t, p, i) != 0;
	default: return f64_to_i64(sim_get_f64(t, i));
	}
}

#define STORE(T, p, i, v) (((T *)(p))[i] = (T)(v))

void sim_set_i64(sim_tensor *t, size_t i, int64_t v)
{
	void *p = t->data;
	uint64_t u = (uint64_t)v; /* narrowing through unsigned wraps without UB */
	switch (t->dtype) {
	case IR_I8: STORE(uint8_t, p, i, u); break;
	case IR_I16: STORE(uint16_t, p, i, u); break;
	case IR_I32: STORE(uint32_t, p, i, u); break;
	case IR_I64: STORE(uint64_t, p, i, u); break;
	case IR_U8: STORE(uint8_t, p, i, u); break;
	case IR_U16: STORE(uint16_t, p, i, u); break;
	case IR_U32: STORE(uint32_t, p, i, u); break;
	case IR_U64: STORE(uint64_t, p, i, u); break;
	case IR_BOOL: STORE(uint8_t, p, i, v != 0); break;
	default: sim_set_f64(t, i, (double)v); break;
	}
}

void sim_set_f64(sim_tensor *t, size_t i, double v)
{
	void *p = t->data;
	switch (t->dtype) {
	case IR_F32: STORE(float, p, i, v); break;
	case IR_F64: STORE(double, p, i, v); break;
	case IR_F16: STORE(uint16_t, p, i, sim_f64_to_f16(v)); break;
	case IR_BF16: STORE(uint16_t, p, i, sim_f64_to_bf16(v)); break;
	case IR_BOOL: STORE(uint8_t, p, i, v != 0); break;
	case IR_U64:
		STORE(uint64_t, p, i, v >= 18446744073709551615.0 ? UINT64_MAX : v > 0 ? (uint64_t)v : 0);
		break;
	default: sim_set_i64(t, i, f64_to_i64(v)); break;
	}
}

double sim_dtype_lowest(ir_dtype t)
{
	switch (t) {
	case IR_I8: return INT8_MIN;
	case IR_I16: return INT16_MIN;
	case IR_I32: return INT32_MIN;
	case IR_I64: return (double)INT64_MIN;
	case IR_U8: case IR_U16: case IR_U32: case IR_U64: case IR_BOOL: return 0;
	default: return -INFINITY;
	}
}

double sim_dtype_highest(ir_dtype t)
{
	switch (t) {
	case IR_I8: return INT8_MAX;
	case IR_I16: return INT16_MAX;
	case IR_I32: return INT32_MAX;
	case IR_I64: return (double)INT64_MAX;
	case IR_U8: return UINT8_MAX;
	case IR_U16: return UINT16_MAX;
	case IR_U32: return UINT32_MAX;
	case IR_U64: return (double)UINT64_MAX;
	case IR_BOOL: return 1;
	default: return INFINITY;
	}
}

bool sim_axis(int64_t axis, int rank, int *out)
{
	if (axis < 0)
		axis += rank;
	if (axis < 0 || axis >= rank)
		return false;
	*out = (int)axis;
	return true;
}
