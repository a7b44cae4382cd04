/* Copying between graphs: types, tensors and attributes, whole functions,
 * a body specialised for one call (a call instance, which the shape
 * inference, the simulator and the cycle model run), and inlining a call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_internal.h"

enum { MAX_CALL_DEPTH = 16 };

static ir_str cp_str(ir_graph *dst, const ir_graph *src, ir_str s)
{
	size_t n;
	const char *p = ir_str_get(src, s, &n);
	return s ? ir_intern(dst, p, n) : 0;
}

static ir_bid cp_blob(ir_graph *dst, const ir_graph *src, ir_bid b)
{
	size_t n;
	const void *p = b ? ir_blob_get(src, b, &n) : NULL;
	return p ? ir_blob_add(dst, p, n) : 0;
}

ir_type ir_type_copy(ir_graph *dst, const ir_graph *src, ir_type t)
{
	if (t.kind == IR_TYPE_OPAQUE)
		return ir_type_opaque(dst, cp_blob(dst, src, t.dims));
	if (t.kind != IR_TYPE_TENSOR || t.rank > IR_MAX_RANK)
		return ir_type_unknown();
	ir_dim dims[IR_MAX_RANK];
	const ir_dim *d = ir_type_dims(src, t);
	for (int i = 0; i < t.rank; i++)
		dims[i] = (ir_dim){d[i].v, cp_str(dst, src, d[i].sym)};
	return ir_type_tensor_dims(dst, (ir_dtype)t.dtype, t.rank, t.rank > 0 ? dims : NULL);
}

static ir_tid cp_tensor(ir_graph *dst, const ir_graph *src, ir_tid t)
{
	const ir_tensor *x = ir_tensor_at(src, t);
	if (!x)
		return 0;
	int rank = x->rank > 0 ? x->rank : 0;
	int64_t *dims = malloc((size_t)(rank ? rank : 1) * sizeof *dims); /* src's pool may move */
	if (!dims) {
		dst->oom = true;
		return 0;
	}
	memcpy(dims, ir_tensor_dims(src, t), (size_t)rank * sizeof *dims);
	ir_str name = cp_str(dst, src, x->name), doc = cp_str(dst, src, x->doc);
	x = ir_tensor_at(src, t);
	ir_tid id = ir_tensor_new(dst, name, (ir_dtype)x->dtype, x->rank, dims, x->data, x->nbytes);
	free(dims);
	if (id)
		ir_tensor_at(dst, id)->doc = doc;
	return id;
}

/* The ids of a STRINGS / TENSORS / blob-list attribute, each copied. */
static uint32_t cp_ids(ir_graph *dst, const ir_graph *src, const ir_attr *a)
{
	uint32_t *ids = malloc((a->n ? a->n : 1) * sizeof *ids);
	if (!ids) {
		dst->oom = true;
		return 0;
	}
	memcpy(ids, ir_attr_ids(src, a), a->n * sizeof *ids);
	for (uint32_t i = 0; i < a->n; i++)
		ids[i] = a->kind == IR_ATTR_STRINGS ? cp_str(dst, src, ids[i])
			 : a->kind == IR_ATTR_TENSORS ? cp_tensor(dst, src, ids[i])
						      : cp_blob(dst, src, ids[i]);
	uint32_t off = ir_pool_u32(dst, ids, a->n);
	free(ids);
	return off;
}

/* A numeric list through a temporary copy (src may be dst: its pool may move). */
static uint32_t cp_pool(ir_graph *dst, const ir_graph *src, const ir_attr *a)
{
	bool ints = a->kind == IR_ATTR_INTS;
	size_t es = ints ? sizeof(int64_t) : sizeof(float);
	void *tmp = malloc(a->n ? a->n * es : 1);
	if (!tmp) {
		dst->oom = true;
		return 0;
	}
	memcpy(tmp, ints ? (const void *)ir_attr_ints(src, a) : (const void *)ir_attr_floats(src, a), a->n * es);
	uint32_t off = ints ? ir_pool_i64(dst, tmp, a->n) : ir_pool_f32(dst, tmp, a->n);
	free(tmp);
	return off;
}

bool ir_attr_copy(ir_graph *dst, const ir_graph *src, const ir_attr *a, ir_attr *out)
{
	*out = *a;
	out->name = cp_str(dst, src, a->name);
	out->ref = cp_str(dst, src, a->ref);
	out->doc = cp_str(dst, src, a->doc);
	switch (a->kind) {
	case IR_ATTR_STRING:
		out->u.s = cp_str(dst, src, a->u.s);
		break;
	case IR_ATTR_TENSOR:
		out->u.t = cp_tensor(dst, src, a->u.t);
		break;
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		out->u.b = cp_blob(dst, src, a->u.b);
		break;
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
		out->u.off = a->n ? cp_pool(dst, src, a) : 0;
		break;
	case IR_ATTR_STRINGS:
	case IR_ATTR_TENSORS:
	case IR_ATTR_GRAPHS:
	case IR_ATTR_SPARSE_TENSORS:
	case IR_ATTR_TYPE_PROTOS:
		out->u.off = a->n ? cp_ids(dst, src, a) : 0;
		break;
	default:
		break;
	}
	return !ir_graph_oom(dst);
}

/* ---------------------------------------------------------------- copying a body */

/* Copies the nodes of a body into dst.  With call_g set, references are
 * bound to the call's attributes (else the function's defaults, else left
 * out); otherwise they are copied as they are. */
typedef struct copier {
	ir_graph *dst;
	const ir_graph *src;   /* the body */
	ir_val *map;           /* src value id -> dst value (0: absent) */
	const ir_graph *call_g;
	ir_nid call;
	ir_nid before;         /* copies go before this node of dst (0: at the end) */
	ir_str prefix;         /* of dst: node and value names get "<prefix>/" (0: none) */
	ir_diags *d;
	const char *file;
	bool failed;
} copier;

static ir_str prefixed(copier *c, ir_str s)
{
	if (!c->prefix || !s)
		return cp_str(c->dst, c->src, s);
	char buf[512];
	int k = snprintf(buf, sizeof buf, "%s/%s", ir_cstr(c->dst, c->prefix), ir_cstr(c->src, s));
	return ir_intern(c->dst, buf, k > 0 && (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}

/* The attribute a reference is bound to (in *from), or NULL: left out. */
static const ir_attr *bound_attr(copier *c, const ir_attr *a, const ir_graph **from, const char *who)
{
	const char *ref = ir_cstr(c->src, a->ref);
	const ir_attr *b = ir_attr_find(c->call_g, c->call, ref);
	*from = c->call_g;
	if (!b) {
		b = ir_func_attr_find(c->src, ref);
		*from = c->src;
		if (b && b->kind == IR_ATTR_UNDEF)
			b = NULL;
	}
	if (b && a->kind != IR_ATTR_UNDEF && b->kind != a->kind) {
		ir_error(c->d, c->file, 0, 0, "%s: attribute '%s' refers to '%s', which is of another kind", who,
			 ir_cstr(c->src, a->name), ref);
		c->failed = true;
		return NULL;
	}
	return b;
}

static void copy_attrs(copier *c, ir_nid from, ir_nid to, const char *who)
{
	const ir_node *x = ir_node_at(c->src, from);
	for (uint32_t i = 0; i < x->nattr; i++) {
		const ir_attr a = ir_node_attrs(c->src, from)[i];
		const ir_graph *owner = c->src;
		const ir_attr *value = &a;
		if (a.ref && c->call_g && !(value = bound_attr(c, &a, &owner, who)))
			continue;
		ir_attr out;
		if (!ir_attr_copy(c->dst, owner, value, &out))
			return;
		out.name = cp_str(c->dst, c->src, a.name);
		out.doc = cp_str(c->dst, c->src, a.doc);
		if (c->call_g)
			out.ref = 0;
		ir_attr_put(c->dst, to, &out);
	}
}

static void copy_value_info(copier *c, ir_val from, ir_val to)
{
	const ir_value *x = ir_value_at(c->src, from);
	ir_type t = ir_type_copy(c->dst, c->src, x->type);
	ir_str name = prefixed(c, x->name), doc = cp_str(c->dst, c->src, x->doc);
	ir_value *y = ir_value_at(c->dst, to);
	if (ir_graph_oom(c->dst))
		return;
	y->type = t;
	y->name = name;
	y->doc = doc;
}

static bool copy_node(copier *c, ir_nid n, const char *who)
{
	const ir_node *x = ir_node_at(c->src, n);
	uint32_t nin = x->nin, nout = x->nout;
	ir_val *ins = malloc((nin ? nin : 1) * sizeof *ins);
	if (!ins)
		return false;
	for (uint32_t i = 0; i < nin; i++)
		ins[i] = c->map[ir_node_input(c->src, n, i)];
	char dom[256], op[256];
	snprintf(dom, sizeof dom, "%s", ir_cstr(c->src, x->domain));
	snprintf(op, sizeof op, "%s", ir_cstr(c->src, x->op));
	ir_nid m = ir_node_new(c->dst, dom, op, ins, nin, nout, c->before);
	free(ins);
	if (!m)
		return false;
	ir_str name = prefixed(c, x->name), doc = cp_str(c->dst, c->src, x->doc);
	ir_node_at(c->dst, m)->name = name;
	ir_node_at(c->dst, m)->doc = doc;
	copy_attrs(c, n, m, who);
	for (uint32_t j = 0; j < nout; j++) {
		ir_val v = ir_node_output(c->src, n, j), w = ir_node_output(c->dst, m, j);
		c->map[v] = w;
		copy_value_info(c, v, w);
	}
	return !ir_graph_oom(c->dst) && !c->failed;
}

static bool copy_nodes(copier *c, const char *who)
{
	for (ir_nid n = ir_graph_first(c->src); n; n = ir_node_at(c->src, n)->next)
		if (!copy_node(c, n, who))
			return false;
	return true;
}

static void copy_opsets(ir_graph *dst, const ir_graph *src)
{
	for (size_t i = 0; i < ir_graph_nopsets(src); i++) {
		ir_opset o = ir_graph_opset_at(src, i);
		ir_graph_add_opset(dst, ir_cstr(src, o.domain), o.version);
	}
}

/* ---------------------------------------------------------------- whole functions */

/* Copies the functions src's body calls that dst does not have. */
static bool copy_callees(ir_graph *dst, const ir_graph *body)
{
	for (ir_nid n = ir_graph_first(body); n; n = ir_node_at(body, n)->next) {
		const ir_node *x = ir_node_at(body, n);
		const ir_graph *owner = NULL;
		const char *dom = ir_cstr(body, x->domain), *op = ir_cstr(body, x->op);
		const ir_func *f = ir_func_lookup(body, dom, op, &owner);
		if (!f || ir_func_find(dst, dom, op))
			continue;
		if (!ir_func_copy(dst, owner, (ir_fid)(f - ir_func_at(owner, 1)) + 1))
			return false;
	}
	return true;
}

static bool copy_body(ir_graph *db, const ir_graph *sb)
{
	copier c = {db, sb, calloc(ir_nvalues(sb) + 1, sizeof(ir_val)), NULL, 0, 0, 0, NULL, NULL, false};
	if (!c.map)
		return false;
	copy_opsets(db, sb);
	for (size_t i = 0; i < ir_graph_ninputs(sb); i++) {
		ir_val v = ir_graph_input_at(sb, i);
		c.map[v] = ir_input_new(db, 0, ir_type_unknown(), 0);
		if (c.map[v])
			copy_value_info(&c, v, c.map[v]);
	}
	bool ok = copy_nodes(&c, "");
	for (size_t i = 0; ok && i < ir_graph_noutputs(sb); i++)
		ir_graph_add_output(db, c.map[ir_graph_output_at(sb, i)]);
	for (size_t i = 0; ok && i < ir_func_nattrs(sb); i++) {
		ir_attr a;
		ok = ir_attr_copy(db, sb, ir_func_attr_at(sb, i), &a);
		if (ok)
			ir_func_add_attr(db, &a);
	}
	free(c.map);
	return ok && !ir_graph_oom(db);
}

ir_fid ir_func_copy(ir_graph *dst, const ir_graph *src, ir_fid f)
{
	const ir_func *sf = ir_func_at(src, f);
	if (!sf)
		return 0;
	ir_fid nf = ir_func_new(dst, ir_cstr(src, sf->domain), ir_cstr(src, sf->name));
	if (!nf)
		return 0;
	ir_str doc = cp_str(dst, src, sf->doc);
	ir_func *df = ir_func_at(dst, nf);
	df->doc = doc;
	if (!copy_body(df->body, sf->body) || !copy_callees(dst, sf->body))
		return 0;
	return nf;
}

/* ---------------------------------------------------------------- calls */

/* The function call n calls, checked against the call; NULL (reported). */
static const ir_func *callee_checked(const ir_graph *g, ir_nid n, const ir_graph **owner, ir_diags *d,
				     const char *file, char *who, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	const ir_func *f = ir_func_lookup(g, ir_cstr(g, x->domain), ir_cstr(g, x->op), owner);
	ir_node_label(g, n, who, cap);
	if (!f)
		ir_error(d, file, 0, 0, "%s calls no function", who);
	else if (g->depth >= MAX_CALL_DEPTH)
		ir_error(d, file, 0, 0, "%s: calls nest more than %d deep (does a function call itself?)", who,
			 MAX_CALL_DEPTH);
	else if (x->nin > ir_graph_ninputs(f->body) || x->nout > ir_graph_noutputs(f->body))
		ir_error(d, file, 0, 0, "%s has %u operands and %u results but its function takes %zu and gives %zu",
			 who, (unsigned)x->nin, (unsigned)x->nout, ir_graph_ninputs(f->body),
			 ir_graph_noutputs(f->body));
	else
		return f;
	return NULL;
}

/* Formal input i of the body takes the call's operand i (absent: 0). */
static void bind_formals(copier *c, const ir_graph *g, ir_nid n, ir_graph *inst)
{
	const ir_graph *body = c->src;
	uint32_t nin = ir_node_at(g, n)->nin;
	for (size_t i = 0; i < ir_graph_ninputs(body); i++) {
		ir_val formal = ir_graph_input_at(body, i);
		ir_val v = i < nin ? ir_node_input(g, n, (uint32_t)i) : IR_NONE;
		c->map[formal] = 0;
		if (!v)
			continue;
		if (!inst) {
			c->map[formal] = v;
			continue;
		}
		ir_type t = ir_type_copy(inst, g, ir_value_at(g, v)->type);
		c->map[formal] = ir_input_new(inst, cp_str(inst, body, ir_value_at(body, formal)->name), t, 0);
	}
}

ir_graph *ir_call_instance(const ir_graph *g, ir_nid n, ir_diags *d, const char *file)
{
	const ir_graph *owner = NULL;
	char who[256];
	const ir_func *f = callee_checked(g, n, &owner, d, file, who, sizeof who);
	if (!f)
		return NULL;
	ir_graph *inst = ir_graph_new_alloc(g->alloc, g->ud);
	ir_val *map = calloc(ir_nvalues(f->body) + 1, sizeof *map);
	if (!inst || !map) {
		free(map);
		ir_graph_free(inst);
		ir_error(d, file, 0, 0, "out of memory");
		return NULL;
	}
	inst->scope = owner;
	inst->depth = g->depth + 1;
	copy_opsets(inst, f->body);
	copier c = {inst, f->body, map, g, n, 0, 0, d, file, false};
	bind_formals(&c, g, n, inst);
	bool ok = copy_nodes(&c, who);
	for (size_t i = 0; ok && i < ir_graph_noutputs(f->body); i++)
		ir_graph_add_output(inst, map[ir_graph_output_at(f->body, i)]);
	free(map);
	if (ok && !ir_graph_oom(inst))
		return inst;
	if (!c.failed)
		ir_error(d, file, 0, 0, "%s: out of memory while instantiating its function", who);
	ir_graph_free(inst);
	return NULL;
}

/* The body's domains are imported by g at the same versions (added when
 * g lacks them), so that the copied nodes mean what they meant. */
static bool opsets_agree(ir_graph *g, const ir_graph *body, const char *who, ir_diags *d, const char *file)
{
	for (size_t i = 0; i < ir_graph_nopsets(body); i++) {
		ir_opset o = ir_graph_opset_at(body, i);
		const char *dom = ir_cstr(body, o.domain);
		int64_t have = ir_graph_opset(g, dom);
		if (have < 0) {
			ir_graph_add_opset(g, dom, o.version);
		} else if (have != o.version) {
			ir_error(d, file, 0, 0, "%s: its function imports domain \"%s\" at version %lld, the graph at %lld",
				 who, dom, (long long)o.version, (long long)have);
			return false;
		}
	}
	return true;
}

/* Call result j reads formal output j from now on. */
static void take_results(ir_graph *g, ir_nid n, const ir_graph *body, const ir_val *map, ir_val first_new)
{
	for (uint32_t j = 0; j < ir_node_at(g, n)->nout; j++) {
		ir_val old = ir_node_output(g, n, j), nv = map[ir_graph_output_at(body, j)];
		ir_value *o = ir_value_at(g, old);
		if (!o->nuses && !ir_value_is_output(g, old))
			continue;
		ir_replace_all_uses(g, old, nv); /* nv 0: the output is an absent formal */
		if (!nv)
			continue;
		ir_value *x = ir_value_at(g, nv);
		if (nv >= first_new && x->def_kind == IR_DEF_NODE) {
			x->name = o->name;
			x->doc = o->doc;
			if (x->type.kind == IR_TYPE_NONE)
				x->type = o->type;
			o->name = 0;
		}
	}
}

bool ir_inline_call(ir_graph *g, ir_nid n, ir_diags *d, const char *file)
{
	const ir_graph *owner = NULL;
	char who[256];
	const ir_func *f = callee_checked(g, n, &owner, d, file, who, sizeof who);
	if (!f || !opsets_agree(g, f->body, who, d, file))
		return false;
	ir_val *map = calloc(ir_nvalues(f->body) + 1, sizeof *map);
	if (!map) {
		ir_error(d, file, 0, 0, "out of memory");
		return false;
	}
	const ir_node *x = ir_node_at(g, n);
	ir_str prefix = x->name ? x->name : ir_intern_cstr(g, who);
	ir_val first_new = (ir_val)ir_nvalues(g) + 1;
	copier c = {g, f->body, map, g, n, n, prefix, d, file, false};
	bind_formals(&c, g, n, NULL);
	bool ok = copy_nodes(&c, who);
	if (ok) {
		take_results(g, n, f->body, map, first_new);
		ir_node_remove(g, n);
	}
	free(map);
	if (!ok && !c.failed)
		ir_error(d, file, 0, 0, "%s: out of memory while inlining", who);
	return ok && !ir_graph_oom(g);
}
