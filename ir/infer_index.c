/* Inference rules: indexing, padding and tensor generators (Pad, Slice,
 * Gather, Shape, ConstantOfShape, Constant, Range). */
#include <math.h>
#include <string.h>

#include "infer_internal.h"

static void copy_shape(ir_shape *out, const ir_shape *x)
{
	ir_shape_tensor(out, x->dtype, x->rank);
	if (x->rank > 0 && x->rank <= IR_MAX_RANK)
		memcpy(out->d, x->d, (size_t)x->rank * sizeof *x->d);
}

/* Axes operand (known values normalized into [0, rank)); false after an error.
 * *known is false when the operand's value is unknown. */
static bool axes_operand(ir_icx *cx, uint32_t i, int rank, int *axes, int *n, bool *known)
{
	ir_list_arg a;
	bool seen[IR_MAX_RANK] = {false};
	if (!ir_icx_list(cx, i, false, IR_MAX_RANK, &a))
		return false;
	*known = a.known && !a.k.unk;
	*n = a.len;
	for (int j = 0; *known && j < a.len; j++) {
		if (!ir_icx_axis(cx, "axis", a.k.v[j], rank, &axes[j]))
			return false;
		if (seen[axes[j]])
			return ir_icx_err(cx, "axis %d is repeated", axes[j]);
		seen[axes[j]] = true;
	}
	return true;
}

/* ---------------------------------------------------------------- Pad */

static bool pad_mode(ir_icx *cx)
{
	const char *m = ir_icx_str(cx, "mode", "constant");
	if (strcmp(m, "constant") && strcmp(m, "reflect") && strcmp(m, "edge") &&
	    (cx->opset < 19 || strcmp(m, "wrap")))
		return ir_icx_err(cx, "unknown mode '%s'", m);
	return !cx->failed;
}

/* One padded dim; pads of elements that are unknown leave it unknown. */
static bool pad_dim(ir_icx *cx, const ir_list_arg *p, int j, int naxes, ir_dim *d)
{
	ir_dim b = ir_list_dim(p, j), e = ir_list_dim(p, j + naxes);
	if (b.v == 0 && e.v == 0 && !b.sym && !e.sym && !((p->k.unk >> j) & 1) &&
	    !((p->k.unk >> (j + naxes)) & 1))
		return true;
	if (d->v < 0 || ((p->k.unk >> j) & 1) || ((p->k.unk >> (j + naxes)) & 1)) {
		*d = IR_DIM_UNKNOWN;
		return true;
	}
	int64_t n = d->v + b.v + e.v;
	if (n < 0)
		return ir_icx_err(cx, "pads make dim %lld negative", (long long)d->v);
	*d = (ir_dim){n, 0};
	return true;
}

/* pads lists begins then ends for every axis (or for `axes`, opset >= 18). */
bool ir_infer_op_Pad(ir_icx *cx)
{
	ir_shape x, c, *out = &cx->out[0];
	ir_list_arg p;
	int axes[IR_MAX_RANK], naxes;
	bool known = true;
	ir_icx_in(cx, 0, &x);
	ir_icx_in(cx, 2, &c);
	if (cx->opset < 18 && cx->nin > 3)
		return ir_icx_err(cx, "the axes operand needs opset 18");
	if (!pad_mode(cx) || !ir_icx_list(cx, 1, true, 2 * IR_MAX_RANK, &p))
		return false;
	if (c.dtype && x.dtype && c.dtype != x.dtype)
		return ir_icx_err(cx, "constant_value is %s, not %s", ir_dtype_name((ir_dtype)c.dtype),
				  ir_dtype_name((ir_dtype)x.dtype));
	copy_shape(out, &x);
	if (x.rank < 0)
		return true;
	naxes = x.rank;
	for (int j = 0; j < naxes; j++)
		axes[j] = j;
	if (ir_icx_has(cx, 3) && !axes_operand(cx, 3, x.rank, axes, &naxes, &known))
		return false;
	if (p.len >= 0 && naxes >= 0 && p.len != 2 * naxes)
		return ir_icx_err(cx, "pads has %d entries for %d axes", p.len, naxes);
	for (int j = 0; j < naxes && known && p.known; j++)
		if (!pad_dim(cx, &p, j, naxes, &out->d[axes[j]]))
			return false;
	if (!known || !p.known)
		ir_shape_tensor(out, x.dtype, x.rank);
	return true;
}

/* ---------------------------------------------------------------- Slice */

typedef struct slice_args {
	ir_list_arg io[4]; /* starts, ends, axes, steps */
	bool present[4];
	int n;             /* sliced axes, -1 unknown */
} slice_args;

static bool slice_args_of(ir_icx *cx, slice_args *s)
{
	s->n = -1;
	for (uint32_t i = 0; i < 4; i++) {
		s->io[i].len = -1;
		s->io[i].known = false;
		s->present[i] = ir_icx_has(cx, i + 1);
		if (s->present[i] && !ir_icx_list(cx, i + 1, false, IR_MAX_RANK, &s->io[i]))
			return false;
		if (s->io[i].len >= 0 && s->n >= 0 && s->io[i].len != s->n)
			return ir_icx_err(cx, "starts, ends, axes and steps differ in length");
		if (s->io[i].len >= 0)
			s->n = s->io[i].len;
	}
	return true;
}

/* Element j of starts/ends/steps (steps absent: 1); false when unknown. */
static bool slice_elem(const slice_args *s, int which, int j, int64_t *v)
{
	const ir_list_arg *a = &s->io[which];
	if (!s->present[which]) { /* steps absent */
		*v = 1;
		return true;
	}
	if (!a->known || ((a->k.unk >> j) & 1))
		return false;
	*v = a->k.v[j];
	return true;
}

static bool slice_axis(ir_icx *cx, const slice_args *s, int j, ir_dim *d)
{
	int64_t start, end, step, first;
	bool has_step = slice_elem(s, 3, j, &step);
	if (has_step && step == 0)
		return ir_icx_err(cx, "steps[%d] is 0", j);
	bool ok = has_step && slice_elem(s, 0, j, &start) && slice_elem(s, 1, j, &end);
	if (!ok || d->v < 0)
		*d = IR_DIM_UNKNOWN;
	else
		*d = (ir_dim){ir_slice_len(d->v, start, end, step, &first), 0};
	return true;
}

bool ir_infer_op_Slice(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	slice_args s;
	int axes[IR_MAX_RANK], naxes;
	bool known = true;
	ir_icx_in(cx, 0, &x);
	if (!slice_args_of(cx, &s))
		return false;
	copy_shape(out, &x);
	if (x.rank < 0)
		return true;
	if (s.n > x.rank)
		return ir_icx_err(cx, "slices %d axes of a rank-%d input", s.n, x.rank);
	naxes = s.n;
	for (int j = 0; j < naxes; j++)
		axes[j] = j;
	if (ir_icx_has(cx, 3) && !axes_operand(cx, 3, x.rank, axes, &naxes, &known))
		return false;
	if (!known || naxes < 0) {
		ir_shape_tensor(out, x.dtype, x.rank);
		return true;
	}
	for (int j = 0; j < naxes; j++)
		if (!slice_axis(cx, &s, j, &out->d[axes[j]]))
			return false;
	return true;
}

/* ---------------------------------------------------------------- Gather */

/* Known indices must lie in [-dim, dim). */
static bool gather_check(ir_icx *cx, ir_dim dim)
{
	ir_kval k;
	if (dim.v < 0 || !ir_icx_kv(cx, 1, &k))
		return true;
	for (uint32_t i = 0; i < k.n; i++)
		if (!((k.unk >> i) & 1) && (k.v[i] < -dim.v || k.v[i] >= dim.v))
			return ir_icx_err(cx, "index %lld is out of range for dim %lld", (long long)k.v[i],
					  (long long)dim.v);
	return true;
}

bool ir_infer_op_Gather(ir_icx *cx)
{
	ir_shape x, ind, *out = &cx->out[0];
	int axis;
	ir_icx_in(cx, 0, &x);
	ir_icx_in(cx, 1, &ind);
	if (ind.dtype && ind.dtype != IR_I32 && ind.dtype != IR_I64)
		return ir_icx_err(cx, "indices must be int32 or int64");
	if (x.rank == 0)
		return ir_icx_err(cx, "data must have rank >= 1");
	int64_t a = ir_icx_int(cx, "axis", 0);
	int rank = x.rank < 0 || ind.rank < 0 ? -1 : x.rank + ind.rank - 1;
	if (!ir_icx_rank_ok(cx, rank))
		return false;
	ir_shape_tensor(out, x.dtype, rank);
	if (x.rank < 0 || !ir_icx_axis(cx, "axis", a, x.rank, &axis) || !gather_check(cx, x.d[axis]))
		return !cx->failed;
	for (int i = 0, r = 0; rank >= 0 && i < x.rank; i++) {
		if (i != axis) {
			out->d[r++] = x.d[i];
			continue;
		}
		for (int j = 0; j < ind.rank; j++)
			out->d[r++] = ind.d[j];
	}
	return true;
}

/* ---------------------------------------------------------------- Shape */

/* start and end (opset >= 15) select dims, clamped like Python slices. */
bool ir_infer_op_Shape(ir_icx *cx)
{
	ir_shape x;
	ir_icx_in(cx, 0, &x);
	ir_shape_tensor(&cx->out[0], IR_I64, 1);
	if (!ir_icx_since(cx, "start", 15) || !ir_icx_since(cx, "end", 15))
		return false;
	int64_t r = x.rank, start = ir_icx_int(cx, "start", 0), end = ir_icx_int(cx, "end", r);
	if (cx->failed || x.rank < 0)
		return !cx->failed;
	start = start < 0 ? start + r : start;
	end = end < 0 ? end + r : end;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	cx->out[0].d[0] = (ir_dim){end > start ? end - start : 0, 0};
	return true;
}

/* ---------------------------------------------------------------- generators */

/* value: a one-element tensor giving the dtype (absent: f32 zero). */
bool ir_infer_op_ConstantOfShape(ir_icx *cx)
{
	ir_list_arg a;
	int dtype = IR_F32;
	const ir_attr *v = ir_icx_attr(cx, "value");
	if (v && v->kind != IR_ATTR_TENSOR)
		return ir_icx_err(cx, "attribute 'value' has the wrong kind");
	if (v && ir_tensor_numel(cx->g, v->u.t) != 1)
		return ir_icx_err(cx, "attribute 'value' must hold one element");
	if (v)
		dtype = ir_tensor_at(cx->g, v->u.t)->dtype;
	if (!ir_icx_list(cx, 0, true, IR_MAX_RANK, &a))
		return false;
	ir_shape_tensor(&cx->out[0], dtype, a.len);
	for (int i = 0; a.known && i < a.len; i++) {
		cx->out[0].d[i] = ir_list_dim(&a, i);
		if (!((a.k.unk >> i) & 1) && a.k.v[i] < 0)
			return ir_icx_err(cx, "shape has the negative dim %lld", (long long)a.k.v[i]);
	}
	return true;
}

static const struct {
	const char *name;
	ir_attr_kind kind;
	int since;
	int dtype; /* IR_UNDEF: from the tensor */
	int rank;  /* -1: from the tensor; 1: the list's length */
} const_attrs[] = {
	{"value", IR_ATTR_TENSOR, 1, IR_UNDEF, -1},
	{"sparse_value", IR_ATTR_SPARSE_TENSOR, 11, IR_UNDEF, -1},
	{"value_float", IR_ATTR_FLOAT, 12, IR_F32, 0},
	{"value_floats", IR_ATTR_FLOATS, 12, IR_F32, 1},
	{"value_int", IR_ATTR_INT, 12, IR_I64, 0},
	{"value_ints", IR_ATTR_INTS, 12, IR_I64, 1},
	{"value_string", IR_ATTR_STRING, 12, IR_STRING, 0},
	{"value_strings", IR_ATTR_STRINGS, 12, IR_STRING, 1},
};

static bool constant_tensor(ir_icx *cx, ir_tid t)
{
	const ir_tensor *x = ir_tensor_at(cx->g, t);
	if (!x)
		return ir_icx_err(cx, "attribute 'value' holds no tensor");
	if (!ir_icx_rank_ok(cx, x->rank))
		return false;
	ir_shape_tensor(&cx->out[0], x->dtype, x->rank);
	for (int i = 0; i < x->rank; i++)
		cx->out[0].d[i] = (ir_dim){ir_tensor_dims(cx->g, t)[i], 0};
	return true;
}

/* Exactly one value attribute; a sparse_value leaves the type unknown. */
bool ir_infer_op_Constant(ir_icx *cx)
{
	int found = -1;
	const ir_attr *a = NULL;
	for (int i = 0; i < (int)(sizeof const_attrs / sizeof *const_attrs); i++) {
		const ir_attr *x = ir_icx_attr(cx, const_attrs[i].name);
		if (!x)
			continue;
		if (found >= 0)
			return ir_icx_err(cx, "has both '%s' and '%s'", const_attrs[found].name,
					  const_attrs[i].name);
		if (x->kind != const_attrs[i].kind)
			return ir_icx_err(cx, "attribute '%s' has the wrong kind", const_attrs[i].name);
		if (cx->opset < const_attrs[i].since)
			return ir_icx_err(cx, "attribute '%s' needs opset %d", const_attrs[i].name,
					  const_attrs[i].since);
		found = i;
		a = x;
	}
	if (found < 0)
		return ir_icx_err(cx, "has no value attribute");
	if (a->kind == IR_ATTR_TENSOR)
		return constant_tensor(cx, a->u.t);
	if (a->kind == IR_ATTR_SPARSE_TENSOR)
		return true;
	ir_shape_tensor(&cx->out[0], const_attrs[found].dtype, const_attrs[found].rank);
	if (const_attrs[found].rank == 1)
		cx->out[0].d[0] = (ir_dim){a->n, 0};
	return true;
}

/* ceil((limit - start) / delta), at least 0; ints exactly, f32/f64 like
 * ONNX Runtime (difference in the element type, quotient in double). */
static bool range_count(ir_icx *cx, int dtype, int64_t *count)
{
	double f[3];
	ir_kval k[3];
	for (uint32_t i = 0; i < 3; i++) {
		bool ints = ir_dtype_is_int((ir_dtype)dtype);
		if (ints ? !ir_icx_kv(cx, i, &k[i]) || k[i].n != 1 || k[i].unk
			 : !ir_kv_scalar_f64(cx, ir_node_input(cx->g, cx->n, i), &f[i]))
			return false;
		if (ints && (k[i].v[0] > (1ll << 52) || k[i].v[0] < -(1ll << 52)))
			return false;
		if (ints)
			f[i] = (double)k[i].v[0];
	}
	if (f[2] == 0)
		return ir_icx_err(cx, "delta is 0");
	double diff = dtype == IR_F32 ? (double)((float)f[1] - (float)f[0]) : f[1] - f[0];
	double n = ceil(diff / f[2]);
	*count = n > 0 ? (int64_t)n : 0;
	return true;
}

bool ir_infer_op_Range(ir_icx *cx)
{
	ir_shape s[3];
	int64_t count = -1;
	for (uint32_t i = 0; i < 3; i++) {
		ir_icx_in(cx, i, &s[i]);
		if (s[i].rank > 0)
			return ir_icx_err(cx, "operand %u must be a scalar", (unsigned)i);
		if (s[i].dtype && s[0].dtype && s[i].dtype != s[0].dtype)
			return ir_icx_err(cx, "operands have different element types");
	}
	int dtype = s[0].dtype ? s[0].dtype : s[1].dtype ? s[1].dtype : s[2].dtype;
	ir_shape_tensor(&cx->out[0], dtype, 1);
	bool exact = ir_dtype_is_int((ir_dtype)dtype) || dtype == IR_F32 || dtype == IR_F64;
	if (exact && range_count(cx, dtype, &count))
		cx->out[0].d[0] = (ir_dim){count, 0};
	return !cx->failed;
}
