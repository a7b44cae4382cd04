/* Model-local functions: a graph's function table, finding the function a
 * call names (through the scope chain of bodies and call instances), the
 * attributes a function declares, the verifier's checks of bodies and
 * calls, and comparing bodies.  Copying (functions, call instances,
 * inlining) is in func_copy.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_internal.h"

/* "" and "ai.onnx" name the same domain. */
static const char *norm_domain(const char *d)
{
	return d && strcmp(d, "ai.onnx") != 0 ? d : "";
}

static bool same_domain(const char *a, const char *b)
{
	return strcmp(norm_domain(a), norm_domain(b)) == 0;
}

/* ---------------------------------------------------------------- the table */

size_t ir_graph_nfuncs(const ir_graph *g)
{
	return g->funcs.n;
}

ir_func *ir_func_at(const ir_graph *g, ir_fid f)
{
	return f && f <= g->funcs.n ? &g->funcs.v[f - 1] : NULL;
}

ir_fid ir_func_find(const ir_graph *g, const char *domain, const char *name)
{
	for (uint32_t i = 0; i < g->funcs.n; i++) {
		const ir_func *f = &g->funcs.v[i];
		if (strcmp(ir_cstr(g, f->name), name) == 0 && same_domain(ir_cstr(g, f->domain), domain))
			return i + 1;
	}
	return 0;
}

ir_fid ir_func_new(ir_graph *g, const char *domain, const char *name)
{
	if (g->oom || ir_func_find(g, domain, name))
		return 0;
	ir_graph *body = ir_graph_new_alloc(g->alloc, g->ud);
	if (!body) {
		g->oom = true;
		return 0;
	}
	body->scope = g;
	domain = norm_domain(domain);
	ir_func f = {ir_intern_cstr(g, domain), ir_intern_cstr(g, name), 0, body};
	if (g->oom || !ir_vec_push(g, g->funcs, f)) {
		ir_graph_free(body);
		return 0;
	}
	return g->funcs.n;
}

void ir_funcs_free(ir_graph *g)
{
	for (uint32_t i = 0; i < g->funcs.n; i++)
		ir_graph_free(g->funcs.v[i].body);
	ir_vec_free(g, g->funcs);
	ir_vec_free(g, g->fattrs);
}

const ir_func *ir_func_lookup(const ir_graph *g, const char *domain, const char *op, const ir_graph **owner)
{
	for (const ir_graph *h = g; h; h = h->scope) {
		ir_fid f = ir_func_find(h, domain, op);
		if (f) {
			if (owner)
				*owner = h;
			return ir_func_at(h, f);
		}
	}
	return NULL;
}

const ir_func *ir_node_callee(const ir_graph *g, ir_nid n)
{
	if (!g->funcs.n && !g->scope)
		return NULL;
	const ir_node *x = ir_node_at(g, n);
	for (uint32_t i = 0; i < g->funcs.n; i++) /* g's own strings: compare ids */
		if (g->funcs.v[i].name == x->op && g->funcs.v[i].domain == x->domain)
			return &g->funcs.v[i];
	if (!g->scope && strcmp(ir_cstr(g, x->domain), "ai.onnx") != 0)
		return NULL;
	return ir_func_lookup(g, ir_cstr(g, x->domain), ir_cstr(g, x->op), NULL);
}

/* ---------------------------------------------------------------- declared attributes */

void ir_func_add_attr(ir_graph *body, const ir_attr *a)
{
	for (uint32_t i = 0; i < body->fattrs.n; i++)
		if (body->fattrs.v[i].name == a->name) {
			body->fattrs.v[i] = *a;
			return;
		}
	ir_vec_push(body, body->fattrs, *a);
}

size_t ir_func_nattrs(const ir_graph *body)
{
	return body->fattrs.n;
}

const ir_attr *ir_func_attr_at(const ir_graph *body, size_t i)
{
	return i < body->fattrs.n ? &body->fattrs.v[i] : NULL;
}

const ir_attr *ir_func_attr_find(const ir_graph *body, const char *name)
{
	for (uint32_t i = 0; i < body->fattrs.n; i++)
		if (strcmp(ir_cstr(body, body->fattrs.v[i].name), name) == 0)
			return &body->fattrs.v[i];
	return NULL;
}

bool ir_node_has_ref(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	const ir_attr *a = ir_node_attrs(g, n);
	for (uint32_t i = 0; i < x->nattr; i++)
		if (a[i].ref)
			return true;
	return false;
}

/* ---------------------------------------------------------------- verifying functions */

typedef struct fcx {
	const ir_graph *g;
	ir_diags *d;
	const char *file;
	size_t errors;
	char who[300]; /* "function 'domain::name'" being checked */
} fcx;

static void ferr(fcx *c, const char *fmt, ...) IR_PRINTF(2, 3);
static void ferr(fcx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ir_error(c->d, c->file, 0, 0, "%s: %s", c->who, msg);
	c->errors++;
}

static void func_label(const ir_graph *g, const ir_func *f, char *buf, size_t cap)
{
	const char *dom = ir_cstr(g, f->domain);
	snprintf(buf, cap, "function '%s%s%s'", dom, *dom ? "::" : "", ir_cstr(g, f->name));
}

/* The body's own structure, reported under the function's name. */
static void check_body_graph(fcx *c, const ir_graph *body)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	ir_verify(body, &tmp, c->file);
	for (size_t i = 0; i < tmp.n; i++)
		if (tmp.v[i].sev == IR_ERROR)
			ferr(c, "%s", tmp.v[i].msg);
	ir_diags_free(&tmp);
	if (ir_graph_nconsts(body))
		ferr(c, "its body holds constants: a function has no initializers (use Constant nodes)");
	for (size_t i = 0; i < ir_graph_ninputs(body); i++)
		if (ir_value_at(body, ir_graph_input_at(body, i))->tensor)
			ferr(c, "formal input %zu has a default tensor: functions have no initializers", i);
	for (size_t i = 0; i < ir_graph_noutputs(body); i++)
		if (!ir_graph_output_at(body, i))
			ferr(c, "formal output %zu is absent", i);
}

/* References name declared attributes; node domains are imported. */
static void check_body_nodes(fcx *c, const ir_graph *body)
{
	char lb[256];
	for (ir_nid n = ir_graph_first(body); n; n = ir_node_at(body, n)->next) {
		const ir_node *x = ir_node_at(body, n);
		const ir_attr *a = ir_node_attrs(body, n);
		for (uint32_t i = 0; i < x->nattr; i++)
			if (a[i].ref && !ir_func_attr_find(body, ir_cstr(body, a[i].ref))) {
				ir_node_label(body, n, lb, sizeof lb);
				ferr(c, "attribute '%s' of %s refers to '%s', which the function does not declare",
				     ir_cstr(body, a[i].name), lb, ir_cstr(body, a[i].ref));
			}
		if (ir_graph_opset(body, ir_cstr(body, x->domain)) < 0) {
			ir_node_label(body, n, lb, sizeof lb);
			ferr(c, "%s is in domain \"%s\", which the function's opsets do not import", lb,
			     ir_cstr(body, x->domain));
		}
	}
}

/* Follows calls from function f of g depth-first; true when f is reached
 * again through `via` (a cycle).  state: 0 new, 1 on the path, 2 done. */
static bool calls_back(const ir_graph *g, uint32_t f, uint8_t *state, uint32_t *via)
{
	const ir_graph *body = g->funcs.v[f].body;
	state[f] = 1;
	for (ir_nid n = ir_graph_first(body); n; n = ir_node_at(body, n)->next) {
		const ir_graph *owner = NULL;
		const ir_func *callee = ir_node_callee(body, n);
		if (callee)
			ir_func_lookup(body, ir_cstr(body, ir_node_at(body, n)->domain),
				       ir_cstr(body, ir_node_at(body, n)->op), &owner);
		if (!callee || owner != g)
			continue;
		uint32_t k = (uint32_t)(callee - g->funcs.v);
		if (state[k] == 1) {
			*via = k;
			return true;
		}
		if (state[k] == 0 && calls_back(g, k, state, via))
			return true;
	}
	state[f] = 2;
	return false;
}

static void check_recursion(fcx *c)
{
	const ir_graph *g = c->g;
	uint8_t state[256] = {0};
	if (g->funcs.n > sizeof state)
		return;
	for (uint32_t f = 0; f < g->funcs.n; f++) {
		uint32_t via = f;
		if (state[f] || !calls_back(g, f, state, &via))
			continue;
		func_label(g, &g->funcs.v[f], c->who, sizeof c->who);
		char other[300];
		func_label(g, &g->funcs.v[via], other, sizeof other);
		ferr(c, "calls itself (a cycle of calls through %s): functions may not recurse", other);
		return;
	}
}

/* Operand, result and attribute counts of call n against its function. */
static void check_call(fcx *c, ir_nid n, const ir_func *f)
{
	const ir_graph *g = c->g, *body = f->body;
	const ir_node *x = ir_node_at(g, n);
	char lb[256];
	ir_node_label(g, n, lb, sizeof lb);
	if (x->nin > ir_graph_ninputs(body))
		ferr(c, "%s has %u operands but the function takes %zu", lb, (unsigned)x->nin,
		     ir_graph_ninputs(body));
	if (x->nout > ir_graph_noutputs(body))
		ferr(c, "%s has %u results but the function has %zu outputs", lb, (unsigned)x->nout,
		     ir_graph_noutputs(body));
	const ir_attr *a = ir_node_attrs(g, n);
	for (uint32_t i = 0; i < x->nattr; i++)
		if (!ir_func_attr_find(body, ir_cstr(g, a[i].name)))
			ferr(c, "%s has attribute '%s', which the function does not declare", lb,
			     ir_cstr(g, a[i].name));
}

static void check_calls(fcx *c)
{
	const ir_graph *g = c->g;
	if (!g->funcs.n && !g->scope)
		return;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		const ir_graph *owner = g;
		const ir_node *x = ir_node_at(g, n);
		const ir_func *f = ir_node_callee(g, n);
		if (!f)
			continue;
		ir_func_lookup(g, ir_cstr(g, x->domain), ir_cstr(g, x->op), &owner);
		func_label(owner, f, c->who, sizeof c->who);
		check_call(c, n, f);
	}
}

size_t ir_verify_funcs(const ir_graph *g, ir_diags *d, const char *file)
{
	fcx c = {g, d, file, 0, ""};
	for (uint32_t i = 0; i < g->funcs.n; i++) {
		const ir_func *f = &g->funcs.v[i];
		func_label(g, f, c.who, sizeof c.who);
		if (!f->name)
			ferr(&c, "a function needs a name");
		if (ir_func_find(g, ir_cstr(g, f->domain), ir_cstr(g, f->name)) != i + 1)
			ferr(&c, "is defined twice");
		check_body_graph(&c, f->body);
		check_body_nodes(&c, f->body);
	}
	check_recursion(&c);
	check_calls(&c);
	return c.errors;
}

/* ---------------------------------------------------------------- equal bodies */

static bool str_eq(const ir_graph *ga, ir_str a, const ir_graph *gb, ir_str b)
{
	size_t na, nb;
	const char *sa = ir_str_get(ga, a, &na), *sb = ir_str_get(gb, b, &nb);
	return na == nb && memcmp(sa, sb, na) == 0;
}

static bool blob_eq(const ir_graph *ga, ir_bid a, const ir_graph *gb, ir_bid b)
{
	size_t na = 0, nb = 0;
	const void *pa = a ? ir_blob_get(ga, a, &na) : NULL, *pb = b ? ir_blob_get(gb, b, &nb) : NULL;
	return na == nb && (!na || memcmp(pa, pb, na) == 0);
}

static bool tensor_eq(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b)
{
	const ir_tensor *x = ir_tensor_at(ga, a), *y = ir_tensor_at(gb, b);
	if (!x || !y)
		return x == y;
	if (x->dtype != y->dtype || x->rank != y->rank || x->nbytes != y->nbytes)
		return false;
	size_t rank = x->rank > 0 ? (size_t)x->rank : 0;
	return !memcmp(ir_tensor_dims(ga, a), ir_tensor_dims(gb, b), rank * sizeof(int64_t)) &&
	       (!x->nbytes || !memcmp(x->data, y->data, x->nbytes));
}

static bool id_eq(const ir_graph *ga, const ir_attr *a, uint32_t ia, const ir_graph *gb, uint32_t ib)
{
	if (a->kind == IR_ATTR_STRINGS)
		return str_eq(ga, ia, gb, ib);
	return a->kind == IR_ATTR_TENSORS ? tensor_eq(ga, ia, gb, ib) : blob_eq(ga, ia, gb, ib);
}

static bool attr_value_eq(const ir_graph *ga, const ir_attr *a, const ir_graph *gb, const ir_attr *b)
{
	switch (a->kind) {
	case IR_ATTR_UNDEF:
		return true;
	case IR_ATTR_FLOAT:
		return !memcmp(&a->u.f, &b->u.f, sizeof a->u.f);
	case IR_ATTR_INT:
		return a->u.i == b->u.i;
	case IR_ATTR_STRING:
		return str_eq(ga, a->u.s, gb, b->u.s);
	case IR_ATTR_TENSOR:
		return tensor_eq(ga, a->u.t, gb, b->u.t);
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		return blob_eq(ga, a->u.b, gb, b->u.b);
	case IR_ATTR_INTS:
		return !a->n || !memcmp(ir_attr_ints(ga, a), ir_attr_ints(gb, b), a->n * sizeof(int64_t));
	case IR_ATTR_FLOATS:
		return !a->n || !memcmp(ir_attr_floats(ga, a), ir_attr_floats(gb, b), a->n * sizeof(float));
	default:
		for (uint32_t i = 0; i < a->n; i++)
			if (!id_eq(ga, a, ir_attr_ids(ga, a)[i], gb, ir_attr_ids(gb, b)[i]))
				return false;
		return true;
	}
}

static bool attr_eq(const ir_graph *ga, const ir_attr *a, const ir_graph *gb, const ir_attr *b)
{
	return a->kind == b->kind && a->n == b->n && str_eq(ga, a->name, gb, b->name) &&
	       str_eq(ga, a->ref, gb, b->ref) && (a->ref || attr_value_eq(ga, a, gb, b));
}

/* Per value id: -1 absent, the input's index, or 2^32 + (node ordinal << 16) + result. */
static int64_t *positions(const ir_graph *g)
{
	int64_t *pos = malloc((ir_nvalues(g) + 1) * sizeof *pos);
	if (!pos)
		return NULL;
	for (size_t v = 0; v <= ir_nvalues(g); v++)
		pos[v] = -1;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		pos[ir_graph_input_at(g, i)] = (int64_t)i;
	int64_t k = 0;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next, k++)
		for (uint32_t j = 0; j < ir_node_at(g, n)->nout; j++)
			pos[ir_node_output(g, n, j)] = ((int64_t)1 << 32) + (k << 16) + j;
	return pos;
}

static bool node_eq(const ir_graph *ga, ir_nid x, const int64_t *pa, const ir_graph *gb, ir_nid y, const int64_t *pb)
{
	const ir_node *a = ir_node_at(ga, x), *b = ir_node_at(gb, y);
	if (a->nin != b->nin || a->nout != b->nout || a->nattr != b->nattr || !str_eq(ga, a->op, gb, b->op) ||
	    !same_domain(ir_cstr(ga, a->domain), ir_cstr(gb, b->domain)))
		return false;
	for (uint32_t i = 0; i < a->nin; i++)
		if (pa[ir_node_input(ga, x, i)] != pb[ir_node_input(gb, y, i)])
			return false;
	for (uint32_t i = 0; i < a->nattr; i++)
		if (!attr_eq(ga, &ir_node_attrs(ga, x)[i], gb, &ir_node_attrs(gb, y)[i]))
			return false;
	return true;
}

static bool bodies_eq(const ir_graph *a, const ir_graph *b, const int64_t *pa, const int64_t *pb)
{
	if (ir_graph_ninputs(a) != ir_graph_ninputs(b) || ir_graph_noutputs(a) != ir_graph_noutputs(b) ||
	    ir_graph_nnodes(a) != ir_graph_nnodes(b) || ir_func_nattrs(a) != ir_func_nattrs(b))
		return false;
	for (size_t i = 0; i < ir_graph_noutputs(a); i++)
		if (pa[ir_graph_output_at(a, i)] != pb[ir_graph_output_at(b, i)])
			return false;
	for (size_t i = 0; i < ir_func_nattrs(a); i++)
		if (!attr_eq(a, ir_func_attr_at(a, i), b, ir_func_attr_at(b, i)))
			return false;
	for (ir_nid x = ir_graph_first(a), y = ir_graph_first(b); x && y;
	     x = ir_node_at(a, x)->next, y = ir_node_at(b, y)->next)
		if (!node_eq(a, x, pa, b, y, pb))
			return false;
	return true;
}

bool ir_body_equal(const ir_graph *a, const ir_graph *b)
{
	int64_t *pa = positions(a), *pb = positions(b);
	bool eq = pa && pb && bodies_eq(a, b, pa, pb);
	free(pa);
	free(pb);
	return eq;
}
