/* Inference rules: ops that rearrange dims (Reshape, Transpose, Flatten,
 * Concat, Unsqueeze, Squeeze, Expand, Identity). */
#include <string.h>

#include "infer_internal.h"

/* ---------------------------------------------------------------- shape operands */

bool ir_icx_list(ir_icx *cx, uint32_t i, bool i64_only, int max, ir_list_arg *a)
{
	ir_shape s;
	ir_icx_in(cx, i, &s);
	bool int_ok = s.dtype == IR_I64 || (!i64_only && s.dtype == IR_I32);
	if (s.dtype && !int_ok)
		return ir_icx_err(cx, "operand %u must be %s, not %s", (unsigned)i,
				  i64_only ? "int64" : "int32 or int64", ir_dtype_name((ir_dtype)s.dtype));
	a->known = ir_icx_kv(cx, i, &a->k);
	if ((s.rank >= 0 && s.rank != 1) || (a->known && a->k.rank != 1))
		return ir_icx_err(cx, "operand %u must be a 1-D tensor", (unsigned)i);
	int64_t len = a->known ? (int64_t)a->k.n : s.rank == 1 ? s.d[0].v : -1;
	if (len > max)
		return ir_icx_err(cx, "operand %u has %lld entries (at most %d)", (unsigned)i,
				  (long long)len, max);
	a->len = (int)len;
	return true;
}

ir_dim ir_list_dim(const ir_list_arg *a, int i)
{
	if ((a->k.unk >> i) & 1)
		return (ir_dim){-1, a->k.sym[i]};
	return (ir_dim){a->k.v[i], 0};
}

static bool dims_operand(ir_icx *cx, uint32_t i, ir_list_arg *a)
{
	return ir_icx_list(cx, i, true, IR_MAX_RANK, a);
}

/* ---------------------------------------------------------------- Reshape */

/* Unknown dims on both sides cancel when they carry the same names. */
static bool names_cancel(const ir_str *a, int na, ir_str *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++) {
		int j = 0;
		while (j < nb && (!a[i] || b[j] != a[i]))
			j++;
		if (j == nb)
			return false;
		b[j] = 0;
	}
	return true;
}

/* Product of the known dims of s except those skipped; collects the names
 * of its unknown dims.  -1 when the product gets absurdly large. */
static int64_t known_product(const ir_shape *s, const bool *skip, ir_str *names, int *nnames)
{
	int64_t p = 1;
	*nnames = 0;
	for (int i = 0; i < s->rank; i++) {
		if (skip[i])
			continue;
		if (s->d[i].v < 0)
			names[(*nnames)++] = s->d[i].sym;
		else if (s->d[i].v && p > (INT64_MAX >> 2) / s->d[i].v)
			return -1;
		else
			p *= s->d[i].v;
	}
	return p;
}

/* Infers the -1 dim (neg >= 0) or checks the element count.  Dims copied
 * by a 0 are the same on both sides and are left out. */
static bool reshape_count(ir_icx *cx, const ir_shape *x, ir_shape *out, int neg, const bool *copied)
{
	bool skip_in[IR_MAX_RANK] = {false}, skip_out[IR_MAX_RANK] = {false};
	ir_str nin[IR_MAX_RANK], nout[IR_MAX_RANK];
	int cin, cout;
	for (int i = 0; i < out->rank; i++) {
		skip_out[i] = copied[i] || i == neg;
		skip_in[i] = copied[i];
	}
	int64_t pin = known_product(x, skip_in, nin, &cin);
	int64_t pout = known_product(out, skip_out, nout, &cout);
	if (pin < 0 || pout < 0 || !names_cancel(nin, cin, nout, cout))
		return true;
	if (neg < 0 && pin != pout)
		return ir_icx_err(cx, "cannot reshape %lld elements into %lld", (long long)pin,
				  (long long)pout);
	if (neg < 0 || (pout == 0 && pin == 0))
		return true;
	if (pout == 0 || pin % pout)
		return ir_icx_err(cx, "cannot reshape %lld elements into a multiple of %lld",
				  (long long)pin, (long long)pout);
	out->d[neg] = (ir_dim){pin / pout, 0};
	return true;
}

/* 0 copies the input's dim (unless allowzero, opset >= 14); one -1 is inferred. */
bool ir_infer_op_Reshape(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	ir_list_arg a;
	ir_icx_in(cx, 0, &x);
	if (!dims_operand(cx, 1, &a) || !ir_icx_since(cx, "allowzero", 14))
		return false;
	ir_shape_tensor(out, x.dtype, a.len);
	if (!a.known)
		return true;
	bool allowzero = cx->opset >= 14 && ir_icx_int(cx, "allowzero", 0) != 0, zero = false;
	bool copied[IR_MAX_RANK] = {false};
	int neg = -1;
	for (int i = 0; i < a.len; i++) {
		int64_t v = a.k.v[i];
		out->d[i] = ir_list_dim(&a, i);
		if ((a.k.unk >> i) & 1)
			continue;
		if (v == -1 && neg >= 0)
			return ir_icx_err(cx, "shape has more than one -1");
		if (v < -1)
			return ir_icx_err(cx, "shape has the invalid dim %lld", (long long)v);
		if (v == -1) {
			neg = i;
			out->d[i] = IR_DIM_UNKNOWN;
		} else if (v == 0 && !allowzero) {
			if (x.rank >= 0 && i >= x.rank)
				return ir_icx_err(cx, "shape copies dim %d of a rank-%d input", i, x.rank);
			out->d[i] = x.rank >= 0 ? x.d[i] : IR_DIM_UNKNOWN;
			copied[i] = true;
		}
		zero |= v == 0;
	}
	if (allowzero && zero && neg >= 0)
		return ir_icx_err(cx, "shape has both 0 and -1 with allowzero=1");
	return x.rank < 0 || reshape_count(cx, &x, out, neg, copied);
}

/* ---------------------------------------------------------------- Transpose */

bool ir_infer_op_Transpose(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	int64_t perm[IR_MAX_RANK];
	ir_icx_in(cx, 0, &x);
	int n = ir_icx_ints(cx, "perm", perm, IR_MAX_RANK);
	if (cx->failed)
		return false;
	if (n < 0) {
		n = x.rank;
		for (int i = 0; i < n; i++)
			perm[i] = n - 1 - i;
	}
	if (x.rank >= 0 && n != x.rank)
		return ir_icx_err(cx, "perm has %d entries for rank %d", n, x.rank);
	bool seen[IR_MAX_RANK] = {false};
	for (int i = 0; i < n; i++) {
		if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
			return ir_icx_err(cx, "perm is not a permutation of 0..%d", n - 1);
		seen[perm[i]] = true;
	}
	ir_shape_tensor(out, x.dtype, n);
	for (int i = 0; i < n && x.rank >= 0; i++)
		out->d[i] = x.d[perm[i]];
	return true;
}

/* ---------------------------------------------------------------- Flatten */

/* Product of dims [from, to): a lone unknown dim among 1s keeps its name. */
static ir_dim dim_product(const ir_shape *s, int from, int to)
{
	int64_t p = 1;
	int unknown = 0, lone = -1;
	for (int i = from; i < to; i++) {
		if (s->d[i].v == 0)
			return (ir_dim){0, 0};
		if (s->d[i].v < 0) {
			unknown++;
			lone = i;
		} else if (p > (INT64_MAX >> 2) / s->d[i].v) {
			return IR_DIM_UNKNOWN;
		} else {
			p *= s->d[i].v;
		}
	}
	if (!unknown)
		return (ir_dim){p, 0};
	return unknown == 1 && p == 1 ? s->d[lone] : IR_DIM_UNKNOWN;
}

bool ir_infer_op_Flatten(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	ir_icx_in(cx, 0, &x);
	int64_t axis = ir_icx_int(cx, "axis", 1);
	ir_shape_tensor(out, x.dtype, 2);
	if (x.rank < 0)
		return !cx->failed;
	if (axis < -x.rank || axis > x.rank)
		return ir_icx_err(cx, "axis %lld is out of range for rank %d", (long long)axis, x.rank);
	int a = (int)(axis < 0 ? axis + x.rank : axis);
	out->d[0] = dim_product(&x, 0, a);
	out->d[1] = dim_product(&x, a, x.rank);
	return true;
}

/* ---------------------------------------------------------------- Concat */

/* The first operand type with a known rank fixes rank and dtype. */
static int concat_rank(ir_icx *cx, ir_shape *first)
{
	ir_shape_none(first);
	for (uint32_t i = 0; i < cx->nin; i++) {
		ir_icx_in(cx, i, first);
		if (first->rank >= 0)
			return first->rank;
	}
	return -1;
}

static bool concat_merge(ir_icx *cx, ir_shape *out, const ir_shape *s, uint32_t i, int axis)
{
	if (s->dtype && out->dtype && s->dtype != out->dtype)
		return ir_icx_err(cx, "operand %u is %s, not %s", (unsigned)i,
				  ir_dtype_name((ir_dtype)s->dtype), ir_dtype_name((ir_dtype)out->dtype));
	if (!out->dtype)
		out->dtype = s->dtype;
	if (s->rank < 0) {
		out->d[axis] = IR_DIM_UNKNOWN;
		return true;
	}
	if (s->rank != out->rank)
		return ir_icx_err(cx, "operand %u has rank %d, not %d", (unsigned)i, s->rank, out->rank);
	for (int j = 0; j < s->rank; j++) {
		ir_dim a = out->d[j], b = s->d[j];
		if (j == axis)
			out->d[j] = a.v >= 0 && b.v >= 0 ? (ir_dim){a.v + b.v, 0} : IR_DIM_UNKNOWN;
		else if (a.v >= 0 && b.v >= 0 && a.v != b.v)
			return ir_icx_err(cx, "operand %u has dim %lld on axis %d, not %lld", (unsigned)i,
					  (long long)b.v, j, (long long)a.v);
		else if (a.v < 0 && (b.v >= 0 || !a.sym))
			out->d[j] = b;
	}
	return true;
}

bool ir_infer_op_Concat(ir_icx *cx)
{
	ir_shape first, s, *out = &cx->out[0];
	int axis, rank = concat_rank(cx, &first);
	int64_t a = ir_icx_int(cx, "axis", 0);
	ir_shape_tensor(out, IR_UNDEF, rank);
	if (rank == 0)
		return ir_icx_err(cx, "cannot concatenate scalars");
	if (rank > 0 && !ir_icx_axis(cx, "axis", a, rank, &axis))
		return false;
	if (rank > 0) {
		memcpy(out->d, first.d, (size_t)rank * sizeof *out->d);
		out->d[axis] = (ir_dim){0, 0};
	}
	for (uint32_t i = 0; i < cx->nin; i++) {
		if (!ir_icx_has(cx, i))
			return ir_icx_err(cx, "operand %u is missing", (unsigned)i);
		ir_icx_in(cx, i, &s);
		if (rank < 0)
			out->dtype = out->dtype ? out->dtype : s.dtype;
		else if (!concat_merge(cx, out, &s, i, axis))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- Unsqueeze, Squeeze */

typedef struct axes_arg {
	int n;         /* -1: values unknown */
	int64_t count; /* number of axes, -1 unknown */
	int64_t v[IR_MAX_RANK];
} axes_arg;

/* Axes from the attribute before opset 13, from operand 1 after. */
static bool axes_of(ir_icx *cx, bool required, axes_arg *ax)
{
	ax->n = 0;
	ax->count = 0;
	if (cx->opset < 13) {
		if (cx->nin > 1)
			return ir_icx_err(cx, "axes is an attribute before opset 13");
		ax->n = ir_icx_ints(cx, "axes", ax->v, IR_MAX_RANK);
		if (ax->n < 0 && required && !cx->failed)
			return ir_icx_err(cx, "required attribute 'axes' is missing");
		ax->n = ax->n < 0 ? 0 : ax->n;
		ax->count = ax->n;
		return !cx->failed;
	}
	if (ir_icx_attr(cx, "axes"))
		return ir_icx_err(cx, "axes is an operand from opset 13");
	if (!ir_icx_has(cx, 1))
		return !required || ir_icx_err(cx, "required operand 1 (axes) is missing");
	ir_list_arg a;
	if (!dims_operand(cx, 1, &a))
		return false;
	ax->count = a.len;
	ax->n = a.known && !a.k.unk ? a.len : -1;
	if (ax->n > 0)
		memcpy(ax->v, a.k.v, (size_t)ax->n * sizeof *ax->v);
	return true;
}

/* Marks normalized axes in mark[rank]; errors on duplicates. */
static bool mark_axes(ir_icx *cx, const axes_arg *ax, int rank, bool *mark)
{
	memset(mark, 0, (size_t)rank * sizeof *mark);
	for (int i = 0; i < ax->n; i++) {
		int a;
		if (!ir_icx_axis(cx, "axis", ax->v[i], rank, &a))
			return false;
		if (mark[a])
			return ir_icx_err(cx, "axis %d is repeated", a);
		mark[a] = true;
	}
	return true;
}

bool ir_infer_op_Unsqueeze(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	axes_arg ax;
	bool mark[IR_MAX_RANK];
	ir_icx_in(cx, 0, &x);
	if (!axes_of(cx, true, &ax))
		return false;
	int64_t rank = x.rank >= 0 && ax.count >= 0 ? x.rank + ax.count : -1;
	if (!ir_icx_rank_ok(cx, rank))
		return false;
	ir_shape_tensor(out, x.dtype, (int)rank);
	if (rank < 0 || ax.n < 0)
		return true;
	if (!mark_axes(cx, &ax, (int)rank, mark))
		return false;
	for (int i = 0, j = 0; i < rank; i++)
		out->d[i] = mark[i] ? (ir_dim){1, 0} : x.d[j++];
	return true;
}

/* Without axes, every dim of 1 goes (rank unknown while some dim is). */
static bool squeeze_all(const ir_shape *x, ir_shape *out)
{
	ir_shape_tensor(out, x->dtype, 0);
	for (int i = 0; i < x->rank; i++) {
		if (x->d[i].v < 0) {
			ir_shape_tensor(out, x->dtype, -1);
			return true;
		}
		if (x->d[i].v != 1)
			out->d[out->rank++] = x->d[i];
	}
	return true;
}

bool ir_infer_op_Squeeze(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	axes_arg ax;
	bool mark[IR_MAX_RANK];
	ir_icx_in(cx, 0, &x);
	if (!axes_of(cx, false, &ax))
		return false;
	bool given = cx->opset < 13 ? ir_icx_attr(cx, "axes") != NULL : ir_icx_has(cx, 1);
	ir_shape_tensor(out, x.dtype, -1);
	if (x.rank < 0)
		return true;
	if (!given)
		return squeeze_all(&x, out);
	if (ax.n < 0) {
		ir_shape_tensor(out, x.dtype, ax.count >= 0 ? x.rank - (int)ax.count : -1);
		return true;
	}
	if (!mark_axes(cx, &ax, x.rank, mark))
		return false;
	ir_shape_tensor(out, x.dtype, 0);
	for (int i = 0; i < x.rank; i++) {
		if (mark[i] && x.d[i].v >= 0 && x.d[i].v != 1)
			return ir_icx_err(cx, "cannot squeeze axis %d of size %lld", i, (long long)x.d[i].v);
		if (!mark[i])
			out->d[out->rank++] = x.d[i];
	}
	return true;
}

/* ---------------------------------------------------------------- Expand, Identity */

/* The result is the broadcast of the input's shape with the shape operand. */
bool ir_infer_op_Expand(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	ir_list_arg a;
	ir_icx_in(cx, 0, &x);
	if (!dims_operand(cx, 1, &a))
		return false;
	int rank = x.rank < 0 || a.len < 0 ? -1 : x.rank > a.len ? x.rank : a.len;
	ir_shape_tensor(out, x.dtype, rank);
	for (int i = 0; i < rank; i++) {
		int ix = i - (rank - x.rank), is = i - (rank - a.len);
		ir_dim dx = ix >= 0 ? x.d[ix] : (ir_dim){1, 0};
		ir_dim ds = is < 0 ? (ir_dim){1, 0} : a.known ? ir_list_dim(&a, is) : IR_DIM_UNKNOWN;
		if (!ir_dim_broadcast(dx, ds, &out->d[i]))
			return ir_icx_err(cx, "cannot expand dim %lld to %lld (axis %d)", (long long)dx.v,
					  (long long)ds.v, i);
	}
	return true;
}

/* Any type passes, opaque ones (sequences, optionals) included. */
bool ir_infer_op_Identity(ir_icx *cx)
{
	ir_icx_in(cx, 0, &cx->out[0]);
	return true;
}
