/* Indexing kernels: Slice (negative steps, clamping), Gather (negative
 * indices) and Pad (constant, reflect, edge, wrap; negative pads crop). */
#include <string.h>

#include "sim_internal.h"

static void row_strides(const sim_tensor *x, int64_t *s)
{
	int64_t acc = 1;
	for (int i = x->rank - 1; i >= 0; i--) {
		s[i] = acc;
		acc *= x->dims[i];
	}
}

/* ---------------------------------------------------------------- Slice */

typedef struct slice_spec {
	int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK];
} slice_spec;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Normalises one axis' start/end/step into start and length. */
static void slice_axis(slice_spec *s, int ax, int64_t dim, int64_t start, int64_t end, int64_t step)
{
	if (start < 0)
		start += dim;
	if (end < 0)
		end += dim;
	if (step > 0) {
		start = clamp64(start, 0, dim);
		end = clamp64(end, 0, dim);
		s->len[ax] = end > start ? (end - start + step - 1) / step : 0;
	} else {
		start = clamp64(start, 0, dim - 1);
		end = clamp64(end, -1, dim - 1);
		s->len[ax] = start > end ? (start - end - step - 1) / -step : 0;
	}
	if (dim == 0)
		s->len[ax] = 0;
	s->start[ax] = start;
	s->step[ax] = step;
}

static sim_status slice_read(sim_kctx *k, const sim_tensor *x, slice_spec *s)
{
	int64_t v[4][IR_MAX_RANK];
	static const char *const what[] = {"starts", "ends", "axes", "steps"};
	int n[4];
	for (uint32_t i = 0; i < 4; i++) {
		const sim_tensor *t = i < 2 ? sim_need(k, i + 1) : sim_in(k, i + 1);
		if (i < 2 && !t)
			return k->status;
		n[i] = t ? sim_read_ints(k, t, what[i], v[i], IR_MAX_RANK) : -2;
		if (n[i] == -1)
			return k->status;
		if (n[i] != -2 && n[i] != n[0])
			return sim_fail(k, SIM_EINVAL, "%s has %d entries, starts has %d", what[i], n[i], n[0]);
	}
	for (int i = 0; i < x->rank; i++)
		slice_axis(s, i, x->dims[i], 0, x->dims[i], 1);
	bool seen[IR_MAX_RANK] = {false};
	for (int j = 0; j < n[0]; j++) {
		int ax;
		if (!sim_axis(n[2] >= 0 ? v[2][j] : j, x->rank, &ax) || seen[ax])
			return sim_fail(k, SIM_EINVAL, "axes entry %d is out of range or repeated", j);
		seen[ax] = true;
		int64_t step = n[3] >= 0 ? v[3][j] : 1;
		if (step == 0)
			return sim_fail(k, SIM_EINVAL, "steps entry %d is 0", j);
		slice_axis(s, ax, x->dims[ax], v[0][j], v[1][j], step);
	}
	return SIM_OK;
}

sim_status sim_k_slice(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	slice_spec s;
	sim_status st = slice_read(k, x, &s);
	if (st == SIM_OK)
		st = sim_out_alloc_raw(k, 0, x->dtype, x->rank, s.len);
	if (st != SIM_OK)
		return st;
	int64_t in_stride[IR_MAX_RANK], strides[IR_MAX_RANK];
	row_strides(x, in_stride);
	size_t base = 0;
	for (int i = 0; i < x->rank; i++) {
		strides[i] = s.step[i] * in_stride[i];
		if (s.len[i])
			base += (size_t)(s.start[i] * in_stride[i]);
	}
	if (sim_numel(&k->out[0]))
		sim_strided_copy(x, base, strides, s.len, x->rank, k->out[0].data);
	return SIM_OK;
}

/* ---------------------------------------------------------------- Gather */

sim_status sim_k_gather(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0), *ind = sim_need(k, 1);
	if (!x || !ind)
		return k->status;
	int axis;
	if (!sim_axis(sim_attr_int(k, "axis", 0), x->rank, &axis))
		return sim_fail(k, SIM_EINVAL, "axis out of range for rank %d", x->rank);
	if (ind->dtype != IR_I64 && ind->dtype != IR_I32)
		return sim_fail(k, SIM_EINVAL, "indices must be int32 or int64");
	int rank = x->rank - 1 + ind->rank;
	int64_t dims[2 * IR_MAX_RANK];
	memcpy(dims, x->dims, (size_t)axis * sizeof *dims);
	memcpy(dims + axis, ind->dims, (size_t)ind->rank * sizeof *dims);
	memcpy(dims + axis + ind->rank, x->dims + axis + 1, (size_t)(x->rank - axis - 1) * sizeof *dims);
	sim_status st = sim_out_alloc_raw(k, 0, x->dtype, rank, dims);
	if (st != SIM_OK)
		return st;
	size_t es = ir_dtype_size(x->dtype), nind = sim_numel(ind);
	int64_t outer = sim_prod(x->dims, 0, axis), dim = x->dims[axis];
	size_t chunk = (size_t)sim_prod(x->dims, axis + 1, x->rank) * es;
	char *dst = k->out[0].data;
	for (size_t j = 0; j < nind; j++) {
		int64_t i = sim_get_i64(ind, j);
		if (i < -dim || i >= dim)
			return sim_fail(k, SIM_EINVAL, "index %lld out of range [%lld, %lld)", (long long)i,
					(long long)-dim, (long long)dim);
	}
	for (int64_t o = 0; o < outer; o++) {
		for (size_t j = 0; j < nind; j++, dst += chunk) {
			int64_t i = sim_get_i64(ind, j);
			i += i < 0 ? dim : 0;
			memcpy(dst, (const char *)x->data + ((size_t)(o * dim + i)) * chunk, chunk);
		}
	}
	return SIM_OK;
}

/* ---------------------------------------------------------------- Pad */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

typedef struct pad_spec {
	pad_mode mode;
	int64_t begin[IR_MAX_RANK], end[IR_MAX_RANK];
	char value[16]; /* the constant, as one element of the data's dtype */
} pad_spec;

/* Source coordinate of output coordinate o along a dim of n, or -1 for the constant. */
static int64_t pad_source(pad_mode mode, int64_t c, int64_t n)
{
	if (c >= 0 && c < n)
		return c;
	switch (mode) {
	case PAD_EDGE:
		return c < 0 ? 0 : n - 1;
	case PAD_WRAP:
		return ((c % n) + n) % n;
	case PAD_REFLECT: {
		if (n == 1)
			return 0;
		int64_t period = 2 * (n - 1), m = ((c % period) + period) % period;
		return m < n ? m : period - m;
	}
	default:
		return -1;
	}
}

static sim_status pad_mode_of(sim_kctx *k, pad_mode *m)
{
	static const char *const names[] = {"constant", "reflect", "edge", "wrap"};
	const char *s = sim_attr_str(k, "mode", "constant");
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*m = (pad_mode)i;
			return SIM_OK;
		}
	return sim_fail(k, SIM_UNSUPPORTED, "pad mode '%s' not supported", s);
}

/* pads (and axes from opset 18) from the operands, or the attribute before opset 11. */
static sim_status pad_amounts(sim_kctx *k, const sim_tensor *x, pad_spec *p)
{
	int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
	int n, na = -1;
	if (k->opset < 11) {
		n = sim_attr_ints(k, "pads", pads, 2 * IR_MAX_RANK);
	} else {
		const sim_tensor *t = sim_need(k, 1), *a = sim_in(k, 3);
		if (!t)
			return k->status;
		if ((n = sim_read_ints(k, t, "pads", pads, 2 * IR_MAX_RANK)) < 0)
			return k->status;
		if (a && (na = sim_read_ints(k, a, "axes", axes, IR_MAX_RANK)) < 0)
			return k->status;
	}
	if (na < 0)
		for (na = 0; na < x->rank; na++)
			axes[na] = na;
	if (n != 2 * na)
		return sim_fail(k, SIM_EINVAL, "pads has %d entries, expected %d", n, 2 * na);
	for (int i = 0; i < na; i++) {
		int ax;
		if (!sim_axis(axes[i], x->rank, &ax))
			return sim_fail(k, SIM_EINVAL, "axes entry %d out of range", i);
		p->begin[ax] = pads[i];
		p->end[ax] = pads[na + i];
	}
	return SIM_OK;
}

static sim_status pad_value(sim_kctx *k, const sim_tensor *x, pad_spec *p)
{
	sim_tensor v = {.dtype = x->dtype, .rank = 0, .data = p->value};
	memset(p->value, 0, sizeof p->value);
	const sim_tensor *c = k->opset >= 11 ? sim_in(k, 2) : NULL;
	if (k->opset < 11) {
		sim_set_f64(&v, 0, sim_attr_float(k, "value", 0));
	} else if (c) {
		if (c->dtype != x->dtype || sim_numel(c) != 1)
			return sim_fail(k, SIM_EINVAL, "constant_value must be one %s", ir_dtype_name(x->dtype));
		memcpy(p->value, c->data, ir_dtype_size(x->dtype));
	}
	return SIM_OK;
}

static void pad_copy(const pad_spec *p, const sim_tensor *x, sim_tensor *y)
{
	size_t es = ir_dtype_size(x->dtype), n = sim_numel(y);
	int64_t in_stride[IR_MAX_RANK], o[IR_MAX_RANK] = {0};
	row_strides(x, in_stride);
	char *dst = y->data;
	for (size_t j = 0; j < n; j++, dst += es) {
		int64_t off = 0;
		for (int i = 0; i < x->rank && off >= 0; i++) {
			int64_t c = pad_source(p->mode, o[i] - p->begin[i], x->dims[i]);
			off = c < 0 ? -1 : off + c * in_stride[i];
		}
		memcpy(dst, off < 0 ? p->value : (const char *)x->data + (size_t)off * es, es);
		for (int i = y->rank - 1; i >= 0; i--) {
			if (++o[i] < y->dims[i])
				break;
			o[i] = 0;
		}
	}
}

sim_status sim_k_pad(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	pad_spec p;
	memset(&p, 0, sizeof p);
	sim_status st = pad_mode_of(k, &p.mode);
	if (st == SIM_OK)
		st = pad_amounts(k, x, &p);
	if (st == SIM_OK)
		st = pad_value(k, x, &p);
	if (st != SIM_OK)
		return st;
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < x->rank; i++) {
		dims[i] = x->dims[i] + p.begin[i] + p.end[i];
		bool grows = p.begin[i] > 0 || p.end[i] > 0;
		if (dims[i] < 0 || (grows && x->dims[i] == 0 && p.mode != PAD_CONSTANT))
			return sim_fail(k, SIM_EINVAL, "pads do not fit dim %d of extent %lld", i,
					(long long)x->dims[i]);
	}
	st = sim_out_alloc_raw(k, 0, x->dtype, x->rank, dims);
	if (st == SIM_OK)
		pad_copy(&p, x, &k->out[0]);
	return st;
}
