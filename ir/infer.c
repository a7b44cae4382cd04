/* Shape and type inference, the driver: runs the rule of every registered
 * node (infer_ew.c, infer_nn.c, infer_shape.c, infer_index.c) in graph
 * order, merges what it infers with the declared types, and records known
 * small integer tensors along the way (infer_kv.c). */
#include <stdio.h>
#include <string.h>

#include "infer_internal.h"

/* ---------------------------------------------------------------- shapes */

void ir_shape_none(ir_shape *s)
{
	s->kind = IR_TYPE_NONE;
	s->dtype = IR_UNDEF;
	s->rank = -1;
	s->blob = 0;
}

void ir_shape_tensor(ir_shape *s, int dtype, int rank)
{
	s->kind = IR_TYPE_TENSOR;
	s->dtype = (uint8_t)dtype;
	s->rank = (int16_t)(rank >= 0 && rank <= IR_MAX_RANK ? rank : -1);
	s->blob = 0;
	for (int i = 0; i < s->rank; i++)
		s->d[i] = IR_DIM_UNKNOWN;
}

/* Types of rank above IR_MAX_RANK read as rank unknown. */
void ir_shape_of_type(const ir_graph *g, ir_type t, ir_shape *s)
{
	ir_shape_none(s);
	s->kind = t.kind;
	if (t.kind == IR_TYPE_OPAQUE) {
		s->blob = t.dims;
		return;
	}
	if (t.kind != IR_TYPE_TENSOR)
		return;
	s->dtype = t.dtype;
	if (t.rank < 0 || t.rank > IR_MAX_RANK)
		return;
	s->rank = t.rank;
	const ir_dim *d = g->dims.v + t.dims;
	for (int i = 0; i < t.rank; i++) /* short: a loop beats memcpy here */
		s->d[i] = d[i];
}

static bool blobs_equal(const ir_graph *g, ir_bid a, ir_bid b)
{
	size_t na, nb;
	const void *pa = ir_blob_get(g, a, &na), *pb = ir_blob_get(g, b, &nb);
	return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

static size_t put(char *buf, size_t cap, size_t len, const char *s)
{
	if (len < cap)
		snprintf(buf + len, cap - len, "%s", s);
	return len + strlen(s);
}

/* Same text as ir_type_format. */
int ir_shape_format(const ir_graph *g, const ir_shape *s, char *buf, size_t cap)
{
	if (cap)
		buf[0] = '\0';
	if (s->kind == IR_TYPE_NONE)
		return (int)put(buf, cap, 0, "?");
	if (s->kind == IR_TYPE_OPAQUE)
		return (int)put(buf, cap, 0, "opaque");
	size_t len = put(buf, cap, 0, ir_dtype_name((ir_dtype)s->dtype));
	if (s->rank < 0)
		return (int)put(buf, cap, len, "[*]");
	len = put(buf, cap, len, "[");
	for (int i = 0; i < s->rank; i++) {
		char part[48];
		if (s->d[i].v >= 0)
			snprintf(part, sizeof part, "%lld", (long long)s->d[i].v);
		else
			snprintf(part, sizeof part, "%s", s->d[i].sym ? ir_cstr(g, s->d[i].sym) : "?");
		len = put(buf, cap, len, i ? "," : "");
		len = put(buf, cap, len, part);
	}
	return (int)put(buf, cap, len, "]");
}

/* ---------------------------------------------------------------- labels */

void ir_node_label(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = &g->nodes.v[n];
	const char *op = ir_cstr(g, x->op);
	if (x->name)
		snprintf(buf, cap, "node '%s' (%s)", ir_cstr(g, x->name), op);
	else
		snprintf(buf, cap, "node #%u (%s)", (unsigned)n, op);
}

void ir_value_label(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	if (v && v < g->values.n && g->values.v[v].name)
		snprintf(buf, cap, "%%%s", ir_cstr(g, g->values.v[v].name));
	else
		snprintf(buf, cap, "value #%u", (unsigned)v);
}

/* ---------------------------------------------------------------- the current node */

void ir_icx_init(ir_icx *cx, const ir_graph *g, ir_diags *d, const char *file, int lazy)
{
	memset(cx, 0, sizeof *cx);
	cx->g = g;
	cx->d = d;
	cx->file = file;
	cx->opset = ir_graph_opset(g, "");
	if (cx->opset < 0)
		cx->opset = 13; /* the registry's assumption for graphs without imports */
	cx->lazy = lazy;
	ir_kvtab_init(&cx->kv, g);
}

void ir_icx_free(ir_icx *cx)
{
	ir_kvtab_free(&cx->kv);
}

bool ir_icx_has(const ir_icx *cx, uint32_t i)
{
	return i < cx->nin && ir_node_input(cx->g, cx->n, i) != IR_NONE;
}

void ir_icx_in(const ir_icx *cx, uint32_t i, ir_shape *s)
{
	ir_val v = i < cx->nin ? ir_node_input(cx->g, cx->n, i) : IR_NONE;
	if (!v || v >= cx->g->values.n) {
		ir_shape_none(s);
		return;
	}
	ir_shape_of_type(cx->g, cx->g->values.v[v].type, s);
}

bool ir_icx_err(ir_icx *cx, const char *fmt, ...)
{
	char who[256], msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line, col;
	ir_node_label(cx->g, cx->n, who, sizeof who);
	ir_node_loc(cx->g, cx->n, &line, &col);
	ir_error(cx->d, cx->file, line, col, "%s: %s", who, msg);
	cx->errors++;
	cx->failed = true;
	return false;
}

const ir_attr *ir_icx_attr(const ir_icx *cx, const char *name)
{
	return ir_attr_find(cx->g, cx->n, name);
}

static const ir_attr *attr_of_kind(ir_icx *cx, const char *name, ir_attr_kind kind)
{
	const ir_attr *a = ir_icx_attr(cx, name);
	if (a && a->kind != kind) {
		ir_icx_err(cx, "attribute '%s' has the wrong kind", name);
		return NULL;
	}
	return a;
}

int64_t ir_icx_int(ir_icx *cx, const char *name, int64_t dflt)
{
	const ir_attr *a = attr_of_kind(cx, name, IR_ATTR_INT);
	return a ? a->u.i : dflt;
}

int ir_icx_ints(ir_icx *cx, const char *name, int64_t *out, int cap)
{
	const ir_attr *a = attr_of_kind(cx, name, IR_ATTR_INTS);
	if (!a)
		return -1;
	if (a->n > (uint32_t)cap) {
		ir_icx_err(cx, "attribute '%s' has %u entries (at most %d supported)", name,
			   (unsigned)a->n, cap);
		return -1;
	}
	if (a->n)
		memcpy(out, ir_attr_ints(cx->g, a), a->n * sizeof *out);
	return (int)a->n;
}

const char *ir_icx_str(ir_icx *cx, const char *name, const char *dflt)
{
	const ir_attr *a = attr_of_kind(cx, name, IR_ATTR_STRING);
	return a ? ir_cstr(cx->g, a->u.s) : dflt;
}

bool ir_icx_axis(ir_icx *cx, const char *what, int64_t axis, int rank, int *out)
{
	if (axis < -rank || axis >= rank)
		return ir_icx_err(cx, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
	*out = (int)(axis < 0 ? axis + rank : axis);
	return true;
}

bool ir_icx_since(ir_icx *cx, const char *name, int64_t version)
{
	if (cx->opset < version && ir_icx_attr(cx, name))
		return ir_icx_err(cx, "attribute '%s' needs opset %lld", name, (long long)version);
	return true;
}

bool ir_icx_rank_ok(ir_icx *cx, int64_t rank)
{
	if (rank > IR_MAX_RANK)
		return ir_icx_err(cx, "result rank %lld exceeds %d", (long long)rank, IR_MAX_RANK);
	return true;
}

bool ir_icx_kv(ir_icx *cx, uint32_t i, ir_kval *k)
{
	return ir_icx_has(cx, i) && ir_kv_get(cx, ir_node_input(cx->g, cx->n, i), k);
}

/* ---------------------------------------------------------------- running a rule */

static bool check_arity(ir_icx *cx, const ir_opinfo *info)
{
	if (cx->nin < (uint32_t)info->min_in || (info->max_in >= 0 && cx->nin > (uint32_t)info->max_in))
		return ir_icx_err(cx, "has %u operands (expected %d to %d)", (unsigned)cx->nin,
				  info->min_in, info->max_in);
	if (cx->nout < (uint32_t)info->min_out || cx->nout > (uint32_t)info->max_out)
		return ir_icx_err(cx, "has %u results (expected %d to %d)", (unsigned)cx->nout,
				  info->min_out, info->max_out);
	for (uint32_t i = 0; i < (uint32_t)info->min_in; i++)
		if (!ir_icx_has(cx, i))
			return ir_icx_err(cx, "required operand %u is missing", (unsigned)i);
	for (const ir_attrdef *a = info->attrs; a->name; a++)
		if (a->required && !ir_icx_attr(cx, a->name))
			return ir_icx_err(cx, "required attribute '%s' is missing", a->name);
	return true;
}

static bool dispatch(ir_icx *cx)
{
	switch (cx->opcode) {
#define IR_OP(id, ...)                                                                             \
	case IR_OP_##id:                                                                           \
		return ir_infer_op_##id(cx);
#include "ops.def"
#undef IR_OP
	default:
		return true;
	}
}

bool ir_icx_run(ir_icx *cx, ir_nid n)
{
	const ir_node *x = &cx->g->nodes.v[n];
	cx->n = n;
	cx->opcode = x->opcode;
	cx->nin = x->nin;
	cx->nout = x->nout;
	cx->failed = false;
	for (int i = 0; i < IR_INFER_MAXOUT; i++)
		ir_shape_none(&cx->out[i]);
	const ir_opinfo *info = ir_op_info(cx->opcode);
	if (!info || !check_arity(cx, info))
		return false;
	return dispatch(cx) && !cx->failed;
}

/* ---------------------------------------------------------------- merging */

/* Nothing is inferred: not even the dtype or the rank. */
static bool shape_empty(const ir_shape *s)
{
	return s->kind == IR_TYPE_NONE ||
	       (s->kind == IR_TYPE_TENSOR && s->dtype == IR_UNDEF && s->rank < 0);
}

void ir_shape_copy(ir_shape *dst, const ir_shape *src)
{
	dst->kind = src->kind;
	dst->dtype = src->dtype;
	dst->rank = src->rank;
	dst->blob = src->blob;
	for (int i = 0; i < src->rank; i++)
		dst->d[i] = src->d[i];
}

static bool dim_same(ir_dim a, ir_dim b)
{
	return a.v == b.v && a.sym == b.sym;
}

/* Declared dims win: a known dim, or a dim_param (kept even when inference
 * computes a value for it); unknown declared parts take the inferred ones. */
static bool merge_dims(ir_shape *m, const ir_shape *inf, bool *changed)
{
	if (m->rank < 0) {
		ir_shape_copy(m, inf);
		*changed = true;
		return true;
	}
	if (m->rank != inf->rank)
		return false;
	for (int i = 0; i < m->rank; i++) {
		if (m->d[i].v >= 0) {
			if (inf->d[i].v >= 0 && inf->d[i].v != m->d[i].v)
				return false;
		} else if (!m->d[i].sym && !dim_same(m->d[i], inf->d[i])) {
			m->d[i] = inf->d[i];
			*changed = true;
		}
	}
	return true;
}

/* m holds the declared type on entry, the merged one on return; *changed
 * is set when they differ.  False on conflict. */
static bool merge(const ir_graph *g, ir_shape *m, const ir_shape *inf, bool *changed)
{
	if (shape_empty(inf))
		return true;
	if (m->kind == IR_TYPE_NONE) {
		ir_shape_copy(m, inf);
		*changed = true;
		return true;
	}
	if (m->kind != inf->kind)
		return false;
	if (m->kind == IR_TYPE_OPAQUE)
		return m->blob == inf->blob || blobs_equal(g, m->blob, inf->blob);
	if (m->dtype && inf->dtype && m->dtype != inf->dtype)
		return false;
	if (!m->dtype && inf->dtype) {
		m->dtype = inf->dtype;
		*changed = true;
	}
	return inf->rank < 0 || merge_dims(m, inf, changed);
}

static void conflict(ir_icx *cx, ir_val v, const ir_shape *inf, const char *how)
{
	char a[256], b[256], name[160];
	ir_shape decl;
	ir_shape_of_type(cx->g, cx->g->values.v[v].type, &decl);
	ir_shape_format(cx->g, inf, a, sizeof a);
	ir_shape_format(cx->g, &decl, b, sizeof b);
	ir_value_label(cx->g, v, name, sizeof name);
	ir_icx_err(cx, "inferred %s for %s but %s %s", a, name, how, b);
}

/* Merges result i; *changed tells whether the merged type differs from the
 * stored one.  False on conflict (reported). */
static bool merge_result(ir_icx *cx, uint32_t i, ir_shape *m, bool *changed, const char *how)
{
	ir_val v = ir_node_output(cx->g, cx->n, i);
	*changed = false;
	if (!v)
		return true;
	ir_type t = cx->g->values.v[v].type;
	if (t.kind == IR_TYPE_TENSOR && t.rank > IR_MAX_RANK)
		return true;
	ir_shape_of_type(cx->g, t, m);
	if (!merge(cx->g, m, &cx->out[i], changed)) {
		conflict(cx, v, &cx->out[i], how);
		*changed = false;
		return false;
	}
	return true;
}

void ir_icx_check(ir_icx *cx)
{
	ir_shape m;
	bool changed;
	for (uint32_t i = 0; i < cx->nout && i < IR_INFER_MAXOUT; i++)
		merge_result(cx, i, &m, &changed, "it has type");
}

/* The dims of an operand of the node equal to s's, or NULL: a result
 * shaped like an operand (elementwise ops) shares its dims (the pool is
 * append-only and types share dims freely), so the pool grows less. */
static const ir_dim *operand_dims(const ir_icx *cx, const ir_graph *g, const ir_shape *s, uint32_t *off)
{
	for (uint32_t i = 0; s->rank > 0 && i < cx->nin; i++) {
		ir_val v = ir_node_input(g, cx->n, i);
		ir_type t = v ? g->values.v[v].type : ir_type_unknown();
		if (t.kind != IR_TYPE_TENSOR || t.rank != s->rank)
			continue;
		const ir_dim *d = g->dims.v + t.dims;
		int k = 0;
		while (k < s->rank && d[k].v == s->d[k].v && d[k].sym == s->d[k].sym)
			k++;
		if (k == s->rank) {
			*off = t.dims;
			return d;
		}
	}
	return NULL;
}

static ir_type shape_to_type(const ir_icx *cx, ir_graph *g, const ir_shape *s)
{
	if (s->kind == IR_TYPE_OPAQUE)
		return ir_type_opaque(g, s->blob);
	if (s->kind != IR_TYPE_TENSOR)
		return ir_type_unknown();
	uint32_t off;
	if (operand_dims(cx, g, s, &off))
		return (ir_type){IR_TYPE_TENSOR, s->dtype, s->rank, off};
	return ir_type_tensor_dims(g, (ir_dtype)s->dtype, s->rank, s->d);
}

static void commit(ir_icx *cx, ir_graph *g)
{
	ir_shape m;
	bool changed;
	for (uint32_t i = 0; i < cx->nout && i < IR_INFER_MAXOUT; i++) {
		if (!merge_result(cx, i, &m, &changed, "it is declared") || !changed)
			continue;
		ir_type t = shape_to_type(cx, g, &m);
		if (!g->oom)
			g->values.v[ir_node_output(g, cx->n, i)].type = t;
	}
}

/* A type of another graph as a shape of g (symbols and blobs carried over). */
static void shape_from(ir_graph *g, const ir_graph *src, ir_type t, ir_shape *s)
{
	ir_shape_of_type(src, t, s);
	size_t n;
	const void *b = s->kind == IR_TYPE_OPAQUE ? ir_blob_get(src, s->blob, &n) : NULL;
	if (b)
		s->blob = ir_blob_add(g, b, n);
	for (int i = 0; i < s->rank; i++)
		if (s->d[i].sym)
			s->d[i].sym = ir_intern_cstr(g, ir_cstr(src, s->d[i].sym));
}

/* A call: its function's body, instantiated with the operands' types, is
 * inferred; its outputs' types are the call's result types. */
static void infer_call(ir_icx *cx, ir_graph *g, ir_nid n)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	ir_graph *inst = ir_call_instance(g, n, &tmp, cx->file);
	if (inst)
		ir_infer(inst, &tmp, cx->file);
	cx->n = n;
	cx->opcode = 0;
	cx->nin = g->nodes.v[n].nin;
	cx->nout = g->nodes.v[n].nout;
	cx->failed = false;
	for (int i = 0; i < IR_INFER_MAXOUT; i++)
		ir_shape_none(&cx->out[i]);
	for (size_t i = 0; i < tmp.n; i++)
		if (tmp.v[i].sev == IR_ERROR)
			ir_icx_err(cx, "in the body of its function: %s", tmp.v[i].msg);
	for (uint32_t i = 0; inst && !cx->failed && i < cx->nout && i < IR_INFER_MAXOUT; i++) {
		ir_val v = ir_graph_output_at(inst, i);
		if (v)
			shape_from(g, inst, ir_value_at(inst, v)->type, &cx->out[i]);
	}
	if (inst && !cx->failed)
		commit(cx, g);
	ir_graph_free(inst);
	ir_diags_free(&tmp);
}

static void infer_one(ir_icx *cx, ir_graph *g, ir_nid n)
{
	if (!g->nodes.v[n].opcode) {
		if (ir_node_callee(g, n))
			infer_call(cx, g, n);
		return;
	}
	if (ir_node_has_ref(g, n))
		return;
	if (!ir_icx_run(cx, n))
		return;
	commit(cx, g);
	if (!cx->lazy)
		ir_kv_fold_node(cx, n);
}

static void report_oom(ir_icx *cx, ir_graph *g)
{
	if (g->oom || cx->kv.oom) {
		ir_error(cx->d, cx->file, 0, 0, "out of memory during shape inference");
		cx->errors++;
	}
}

size_t ir_infer(ir_graph *g, ir_diags *d, const char *file)
{
	ir_icx cx;
	ir_icx_init(&cx, g, d, file, 0);
	for (ir_nid n = g->first; n && !g->oom; n = g->nodes.v[n].next)
		infer_one(&cx, g, n);
	report_oom(&cx, g);
	ir_icx_free(&cx);
	return cx.errors;
}

/* Producers' known values are evaluated on demand, a few levels deep. */
bool ir_infer_node_ex(ir_graph *g, ir_nid n, ir_diags *d, const char *file, bool *read_values)
{
	ir_icx cx;
	ir_icx_init(&cx, g, d, file, 16);
	if (n && n < g->nodes.n && !g->nodes.v[n].dead)
		infer_one(&cx, g, n);
	report_oom(&cx, g);
	ir_icx_free(&cx);
	if (read_values)
		*read_values = cx.read_values;
	return cx.errors == 0;
}

bool ir_infer_node(ir_graph *g, ir_nid n, ir_diags *d, const char *file)
{
	return ir_infer_node_ex(g, n, d, file, NULL);
}
