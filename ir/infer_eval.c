/* Evaluation of the ops that compute shapes on known small integer tensors
 * (see infer_kv.c).  Each evaluator gets the result's dtype and dims (from
 * its inferred type) in k and fills the elements it can determine; the
 * others stay unknown.  Nothing is guessed: overflow, division with
 * rounding doubts and out-of-range indices leave elements unknown. */
#include <string.h>

#include "infer_internal.h"

typedef bool (*eval_fn)(ir_icx *cx, ir_nid n, ir_kval *k);

static bool in_kv(ir_icx *cx, ir_nid n, uint32_t i, ir_kval *a)
{
	return ir_kv_get(cx, ir_node_input(cx->g, n, i), a);
}

static void set_unknown(ir_kval *k, uint32_t i, ir_str sym)
{
	k->unk |= 1ull << i;
	k->v[i] = 0;
	k->sym[i] = sym;
}

static bool is_unknown(const ir_kval *k, uint32_t i)
{
	return (k->unk >> i) & 1;
}

/* Element i of k := element j of a. */
static void copy_elem(ir_kval *k, uint32_t i, const ir_kval *a, uint32_t j)
{
	if (is_unknown(a, j))
		set_unknown(k, i, a->sym[j]);
	else
		k->v[i] = a->v[j];
}

static bool dims_equal(const ir_kval *a, int rank, const int64_t *dims)
{
	if (a->rank != rank)
		return false;
	for (int i = 0; i < rank; i++)
		if (a->dims[i] != dims[i])
			return false;
	return true;
}

static bool fits(int dt, int64_t v)
{
	switch (dt) {
	case IR_BOOL: return v == 0 || v == 1;
	case IR_I8: return v >= INT8_MIN && v <= INT8_MAX;
	case IR_U8: return v >= 0 && v <= UINT8_MAX;
	case IR_I16: return v >= INT16_MIN && v <= INT16_MAX;
	case IR_U16: return v >= 0 && v <= UINT16_MAX;
	case IR_I32: return v >= INT32_MIN && v <= INT32_MAX;
	case IR_U32: return v >= 0 && v <= (int64_t)UINT32_MAX;
	case IR_U64: return v >= 0;
	default: return true;
	}
}

/* ---------------------------------------------------------------- data movement */

/* Identity, Reshape, Flatten, Unsqueeze, Squeeze: same elements. */
static bool ev_copy(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a;
	if (!in_kv(cx, n, 0, &a) || a.n != k->n || a.dtype != k->dtype)
		return false;
	for (uint32_t i = 0; i < k->n; i++)
		copy_elem(k, i, &a, i);
	return true;
}

static bool ev_constant(ir_icx *cx, ir_nid n, ir_kval *k)
{
	const ir_graph *g = cx->g;
	ir_kval a;
	const ir_attr *t = ir_attr_find(g, n, "value");
	const ir_attr *i = ir_attr_find(g, n, "value_int");
	const ir_attr *is = ir_attr_find(g, n, "value_ints");
	if (t && t->kind == IR_ATTR_TENSOR) {
		if (!ir_kv_from_tensor(g, t->u.t, &a) || !dims_equal(&a, k->rank, k->dims))
			return false;
		*k = a;
		return true;
	}
	if (i && i->kind == IR_ATTR_INT && k->n == 1) {
		k->v[0] = i->u.i;
		return true;
	}
	if (is && is->kind == IR_ATTR_INTS && k->n == is->n) {
		memcpy(k->v, ir_attr_ints(g, is), k->n * sizeof *k->v);
		return true;
	}
	return false;
}

static bool ev_shape(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_shape s;
	ir_val v = ir_node_input(cx->g, n, 0);
	if (!v)
		return false;
	ir_shape_of_type(cx->g, cx->g->values.v[v].type, &s);
	if (s.kind != IR_TYPE_TENSOR || s.rank < 0)
		return false;
	int64_t start = 0, end = s.rank;
	if (cx->opset >= 15) {
		start = ir_attr_int(cx->g, n, "start", 0);
		end = ir_attr_int(cx->g, n, "end", s.rank);
	}
	start = start < 0 ? start + s.rank : start;
	end = end < 0 ? end + s.rank : end;
	start = start < 0 ? 0 : start > s.rank ? s.rank : start;
	if (k->rank != 1 || start + (int64_t)k->n > s.rank)
		return false;
	for (uint32_t i = 0; i < k->n; i++) {
		ir_dim d = s.d[start + i];
		if (d.v >= 0)
			k->v[i] = d.v;
		else
			set_unknown(k, i, d.sym);
	}
	return true;
}

static int norm_axis(int64_t axis, int rank)
{
	if (axis < -rank || axis >= rank)
		return -1;
	return (int)(axis < 0 ? axis + rank : axis);
}

/* Product of dims [from, to). */
static uint32_t span(const int64_t *dims, int from, int to)
{
	uint32_t p = 1;
	for (int i = from; i < to; i++)
		p *= (uint32_t)dims[i];
	return p;
}

static bool ev_gather(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a, b;
	if (!in_kv(cx, n, 0, &a) || !in_kv(cx, n, 1, &b))
		return false;
	int axis = norm_axis(ir_attr_int(cx->g, n, "axis", 0), a.rank);
	if (axis < 0 || k->rank != a.rank + b.rank - 1)
		return false;
	int64_t len = a.dims[axis];
	uint32_t outer = span(a.dims, 0, axis), inner = span(a.dims, axis + 1, a.rank);
	if (outer * b.n * inner != k->n)
		return false;
	for (uint32_t o = 0; o < outer; o++)
		for (uint32_t j = 0; j < b.n; j++)
			for (uint32_t i = 0; i < inner; i++) {
				uint32_t at = (o * b.n + j) * inner + i;
				int64_t idx = b.v[j] < 0 ? b.v[j] + len : b.v[j];
				if (is_unknown(&b, j) || idx < 0 || idx >= len)
					set_unknown(k, at, 0);
				else
					copy_elem(k, at, &a, (uint32_t)((o * len + idx) * inner + i));
			}
	return true;
}

static bool ev_concat(ir_icx *cx, ir_nid n, ir_kval *k)
{
	int axis = norm_axis(ir_attr_int(cx->g, n, "axis", 0), k->rank);
	if (axis < 0)
		return false;
	uint32_t outer = span(k->dims, 0, axis), inner = span(k->dims, axis + 1, k->rank);
	uint32_t row = (uint32_t)k->dims[axis] * inner, col = 0;
	for (uint32_t i = 0; i < cx->g->nodes.v[n].nin; i++) {
		ir_kval a;
		if (!in_kv(cx, n, i, &a) || a.rank != k->rank)
			return false;
		uint32_t w = (uint32_t)a.dims[axis] * inner;
		if (col + w > row || a.n != outer * w)
			return false;
		for (uint32_t o = 0; o < outer; o++)
			for (uint32_t j = 0; j < w; j++)
				copy_elem(k, o * row + col + j, &a, o * w + j);
		col += w;
	}
	return col == row;
}

/* ---------------------------------------------------------------- Slice */

typedef struct slice_plan {
	int64_t start[IR_MAX_RANK], step[IR_MAX_RANK];
} slice_plan;

/* Clamped start and length of one sliced axis (ONNX Slice semantics). */
int64_t ir_slice_len(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first)
{
	start = start < 0 ? start + dim : start;
	end = end < 0 ? end + dim : end;
	if (step > 0) {
		start = start < 0 ? 0 : start > dim ? dim : start;
		end = end < 0 ? 0 : end > dim ? dim : end;
		*first = start;
		return end > start ? (end - start - 1) / step + 1 : 0;
	}
	start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
	end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
	*first = start;
	int64_t mag = step == INT64_MIN ? INT64_MAX : -step;
	return start > end ? (start - end - 1) / mag + 1 : 0;
}

static bool slice_inputs(ir_icx *cx, ir_nid n, ir_kval io[4], int rank)
{
	uint32_t nin = cx->g->nodes.v[n].nin;
	for (uint32_t i = 0; i < 4; i++) {
		bool present = i + 1 < nin && ir_node_input(cx->g, n, i + 1);
		if (i < 2 && !present)
			return false;
		if (!present) { /* default axes 0..L-1, steps 1 */
			io[i].n = io[0].n;
			io[i].unk = 0;
			for (uint32_t j = 0; j < io[0].n; j++)
				io[i].v[j] = i == 2 ? (int64_t)j : 1;
			continue;
		}
		if (!in_kv(cx, n, i + 1, &io[i]) || io[i].unk || io[i].n != io[0].n)
			return false;
	}
	return io[0].n <= (uint32_t)rank;
}

static bool slice_plan_of(ir_icx *cx, ir_nid n, const ir_kval *a, const ir_kval *k, slice_plan *p)
{
	ir_kval io[4]; /* starts, ends, axes, steps */
	if (!slice_inputs(cx, n, io, a->rank))
		return false;
	int64_t len[IR_MAX_RANK];
	for (int i = 0; i < a->rank; i++) {
		p->start[i] = 0;
		p->step[i] = 1;
		len[i] = a->dims[i];
	}
	for (uint32_t j = 0; j < io[0].n; j++) {
		int axis = norm_axis(io[2].v[j], a->rank);
		if (axis < 0 || io[3].v[j] == 0)
			return false;
		p->step[axis] = io[3].v[j];
		len[axis] = ir_slice_len(a->dims[axis], io[0].v[j], io[1].v[j], io[3].v[j], &p->start[axis]);
	}
	return dims_equal(k, a->rank, len);
}

static bool ev_slice(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a;
	slice_plan p;
	if (!in_kv(cx, n, 0, &a) || !slice_plan_of(cx, n, &a, k, &p))
		return false;
	for (uint32_t o = 0; o < k->n; o++) {
		uint32_t rest = o, src = 0, stride = 1;
		for (int i = k->rank - 1; i >= 0; i--) {
			uint32_t c = rest % (uint32_t)k->dims[i];
			rest /= (uint32_t)k->dims[i];
			src += (uint32_t)(p.start[i] + (int64_t)c * p.step[i]) * stride;
			stride *= (uint32_t)a.dims[i];
		}
		copy_elem(k, o, &a, src);
	}
	return true;
}

/* ---------------------------------------------------------------- broadcasting */

static bool bcast_ok(const ir_kval *out, const ir_kval *in)
{
	if (in->rank > out->rank)
		return false;
	for (int j = 0; j < in->rank; j++) {
		int64_t d = in->dims[j], o = out->dims[out->rank - in->rank + j];
		if (d != 1 && d != o)
			return false;
	}
	return true;
}

/* Flat index into `in` of element o of `out` (in broadcast to out). */
static uint32_t bcast_at(const ir_kval *out, const ir_kval *in, uint32_t o)
{
	uint32_t idx = 0, stride = 1;
	for (int i = out->rank - 1, j = in->rank - 1; j >= 0; i--, j--) {
		uint32_t c = o % (uint32_t)out->dims[i];
		o /= (uint32_t)out->dims[i];
		if (in->dims[j] != 1)
			idx += c * stride;
		stride *= (uint32_t)in->dims[j];
	}
	return idx;
}

static bool ev_expand(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a;
	if (!in_kv(cx, n, 0, &a) || !bcast_ok(k, &a))
		return false;
	for (uint32_t o = 0; o < k->n; o++)
		copy_elem(k, o, &a, bcast_at(k, &a, o));
	return true;
}

static bool ev_where(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval c, x, y;
	if (!in_kv(cx, n, 0, &c) || !in_kv(cx, n, 1, &x) || !in_kv(cx, n, 2, &y) ||
	    !bcast_ok(k, &c) || !bcast_ok(k, &x) || !bcast_ok(k, &y))
		return false;
	for (uint32_t o = 0; o < k->n; o++) {
		uint32_t ci = bcast_at(k, &c, o);
		if (is_unknown(&c, ci))
			set_unknown(k, o, 0);
		else if (c.v[ci])
			copy_elem(k, o, &x, bcast_at(k, &x, o));
		else
			copy_elem(k, o, &y, bcast_at(k, &y, o));
	}
	return true;
}

/* ---------------------------------------------------------------- arithmetic */

static bool mul_exact(int64_t a, int64_t b, int64_t *r)
{
	if (a == 0 || b == 0) {
		*r = 0;
		return true;
	}
	if ((a == -1 && b == INT64_MIN) || (b == -1 && a == INT64_MIN))
		return false;
	int64_t p = (int64_t)((uint64_t)a * (uint64_t)b); /* wraps; checked below */
	if (p / b != a)
		return false;
	*r = p;
	return true;
}

/* a op b into *r; false when the result is not an exact int64. */
static bool arith(uint16_t op, int64_t a, int64_t b, int64_t *r)
{
	switch (op) {
	case IR_OP_Add:
		if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
			return false;
		*r = a + b;
		return true;
	case IR_OP_Sub:
		if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
			return false;
		*r = a - b;
		return true;
	case IR_OP_Mul:
		return mul_exact(a, b, r);
	case IR_OP_Div: /* exact or same-sign: truncation and floor agree */
		if (b == 0 || (a == INT64_MIN && b == -1) || (a % b != 0 && (a < 0) != (b < 0)))
			return false;
		*r = a / b;
		return true;
	case IR_OP_Equal:
		*r = a == b;
		return true;
	default:
		return false;
	}
}

static bool ev_binary(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a, b;
	uint16_t op = cx->g->nodes.v[n].opcode;
	if (!in_kv(cx, n, 0, &a) || !in_kv(cx, n, 1, &b) || !bcast_ok(k, &a) || !bcast_ok(k, &b))
		return false;
	for (uint32_t o = 0; o < k->n; o++) {
		uint32_t i = bcast_at(k, &a, o), j = bcast_at(k, &b, o);
		if (is_unknown(&a, i) || is_unknown(&b, j) || !arith(op, a.v[i], b.v[j], &k->v[o]) ||
		    !fits(k->dtype, k->v[o]))
			set_unknown(k, o, 0);
	}
	return true;
}

static bool ev_neg(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a;
	if (!in_kv(cx, n, 0, &a) || a.n != k->n)
		return false;
	for (uint32_t i = 0; i < k->n; i++) {
		if (is_unknown(&a, i) || a.v[i] == INT64_MIN || !fits(k->dtype, -a.v[i]))
			set_unknown(k, i, 0);
		else
			k->v[i] = -a.v[i];
	}
	return true;
}

static bool ev_cast(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval a;
	if (!in_kv(cx, n, 0, &a) || a.n != k->n)
		return false;
	for (uint32_t i = 0; i < k->n; i++) {
		int64_t v = k->dtype == IR_BOOL ? a.v[i] != 0 : a.v[i];
		if (is_unknown(&a, i))
			set_unknown(k, i, k->dtype == IR_BOOL ? 0 : a.sym[i]);
		else if (!fits(k->dtype, v))
			set_unknown(k, i, 0);
		else
			k->v[i] = v;
	}
	return true;
}

/* ---------------------------------------------------------------- generators */

static bool ev_constant_of_shape(ir_icx *cx, ir_nid n, ir_kval *k)
{
	const ir_attr *t = ir_attr_find(cx->g, n, "value");
	ir_kval a;
	if (!t || t->kind != IR_ATTR_TENSOR || !ir_kv_from_tensor(cx->g, t->u.t, &a) || a.n != 1 ||
	    a.unk)
		return false;
	for (uint32_t i = 0; i < k->n; i++)
		k->v[i] = a.v[0];
	return true;
}

static bool ev_range(ir_icx *cx, ir_nid n, ir_kval *k)
{
	ir_kval s, d;
	if (!in_kv(cx, n, 0, &s) || !in_kv(cx, n, 2, &d) || s.n != 1 || d.n != 1 || s.unk || d.unk)
		return false;
	for (uint32_t i = 0; i < k->n; i++) {
		int64_t step, v;
		if (!arith(IR_OP_Mul, (int64_t)i, d.v[0], &step) || !arith(IR_OP_Add, s.v[0], step, &v))
			return false;
		k->v[i] = v;
	}
	return true;
}

/* ---------------------------------------------------------------- dispatch */

static eval_fn evaluator(uint16_t opcode)
{
	switch (opcode) {
	case IR_OP_Identity: case IR_OP_Reshape: case IR_OP_Flatten: case IR_OP_Unsqueeze:
	case IR_OP_Squeeze:
		return ev_copy;
	case IR_OP_Constant: return ev_constant;
	case IR_OP_Shape: return ev_shape;
	case IR_OP_Gather: return ev_gather;
	case IR_OP_Concat: return ev_concat;
	case IR_OP_Slice: return ev_slice;
	case IR_OP_Expand: return ev_expand;
	case IR_OP_Where: return ev_where;
	case IR_OP_Add: case IR_OP_Sub: case IR_OP_Mul: case IR_OP_Div: case IR_OP_Equal:
		return ev_binary;
	case IR_OP_Neg: return ev_neg;
	case IR_OP_Cast: return ev_cast;
	case IR_OP_ConstantOfShape: return ev_constant_of_shape;
	case IR_OP_Range: return ev_range;
	default: return NULL;
	}
}

bool ir_kv_foldable(uint16_t opcode)
{
	return evaluator(opcode) != NULL;
}

bool ir_kv_eval_op(ir_icx *cx, ir_nid n, ir_kval *k)
{
	eval_fn f = evaluator(cx->g->nodes.v[n].opcode);
	return f && f(cx, n, k);
}
