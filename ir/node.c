/* Nodes, operand slots with their use lists, and node attributes. */
#include <string.h>

#include "ir_internal.h"

/* ---------------------------------------------------------------- use lists */

static void use_link(ir_graph *g, uint32_t slot)
{
	ir_use *u = &g->uses.v[slot];
	u->prev = u->next = 0;
	if (!u->v)
		return;
	ir_value *v = &g->values.v[u->v];
	u->next = v->first_use;
	if (v->first_use)
		g->uses.v[v->first_use].prev = slot;
	v->first_use = slot;
	v->nuses++;
}

static void use_unlink(ir_graph *g, uint32_t slot)
{
	ir_use *u = &g->uses.v[slot];
	if (!u->v)
		return;
	ir_value *v = &g->values.v[u->v];
	if (u->prev)
		g->uses.v[u->prev].next = u->next;
	else
		v->first_use = u->next;
	if (u->next)
		g->uses.v[u->next].prev = u->prev;
	v->nuses--;
	u->prev = u->next = 0;
}

ir_use *ir_use_at(const ir_graph *g, uint32_t slot)
{
	return &g->uses.v[slot];
}

uint32_t ir_first_use(const ir_graph *g, ir_val v)
{
	return g->values.v[v].first_use;
}

uint32_t ir_next_use(const ir_graph *g, uint32_t slot)
{
	return g->uses.v[slot].next;
}

uint32_t ir_use_operand_index(const ir_graph *g, uint32_t slot)
{
	return slot - g->nodes.v[g->uses.v[slot].node].in;
}

void ir_replace_all_uses(ir_graph *g, ir_val from, ir_val to)
{
	if (from == to)
		return;
	while (g->values.v[from].first_use) {
		uint32_t slot = g->values.v[from].first_use;
		use_unlink(g, slot);
		g->uses.v[slot].v = to;
		use_link(g, slot);
	}
	for (uint32_t i = 0; i < g->outputs.n; i++)
		if (g->outputs.v[i] == from)
			g->outputs.v[i] = to;
}

/* ---------------------------------------------------------------- node order */

static void order_unlink(ir_graph *g, ir_nid n)
{
	ir_node *x = &g->nodes.v[n];
	if (x->prev)
		g->nodes.v[x->prev].next = x->next;
	else
		g->first = x->next;
	if (x->next)
		g->nodes.v[x->next].prev = x->prev;
	else
		g->last = x->prev;
	x->prev = x->next = 0;
}

static void order_insert(ir_graph *g, ir_nid n, ir_nid before)
{
	ir_node *x = &g->nodes.v[n];
	if (!before) {
		x->prev = g->last;
		x->next = 0;
		if (g->last)
			g->nodes.v[g->last].next = n;
		else
			g->first = n;
		g->last = n;
		return;
	}
	ir_node *b = &g->nodes.v[before];
	x->next = before;
	x->prev = b->prev;
	if (b->prev)
		g->nodes.v[b->prev].next = n;
	else
		g->first = n;
	b->prev = n;
}

void ir_node_move(ir_graph *g, ir_nid n, ir_nid before)
{
	if (n == before)
		return;
	order_unlink(g, n);
	order_insert(g, n, before);
}

ir_nid ir_graph_first(const ir_graph *g)
{
	return g->first;
}

ir_nid ir_graph_last(const ir_graph *g)
{
	return g->last;
}

/* ---------------------------------------------------------------- nodes */

/* The version the graph imports for the node's domain (-1: none), found
 * by string id: ir_graph_add_opset interns domains as ir_node_new does
 * ("ai.onnx" as the default domain, id 0). */
static int64_t node_opset(const ir_graph *g, const ir_node *x)
{
	ir_str dom = x->domain && strcmp(ir_cstr(g, x->domain), "ai.onnx") == 0 ? 0 : x->domain;
	for (uint32_t i = 0; i < g->opsets.n; i++)
		if (g->opsets.v[i].domain == dom)
			return g->opsets.v[i].version;
	return -1;
}

/* The registry is searched by name; the answer for (op, domain, version)
 * is remembered per graph (a slot per op string id, modulo the size). */
void ir_node_resolve(ir_graph *g, ir_nid n)
{
	ir_node *x = &g->nodes.v[n];
	int64_t version = node_opset(g, x);
	ir_opcache *c = &g->opcache[x->op % IR_OPCACHE];
	if (!x->op || c->op != x->op || c->domain != x->domain || c->version != version) {
		uint16_t code = ir_op_lookup(ir_cstr(g, x->domain), ir_cstr(g, x->op), version);
		*c = (ir_opcache){x->op, x->domain, version, code};
	}
	x->opcode = c->opcode;
}

void ir_graph_resolve_ops(ir_graph *g)
{
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next)
		ir_node_resolve(g, n);
}

void ir_node_set_loc(ir_graph *g, ir_nid n, int line, int col)
{
	if (n >= g->locs.n) {
		uint32_t more = n + 1 - g->locs.n;
		if (!ir_vec_reserve(g, g->locs, more))
			return;
		memset(g->locs.v + g->locs.n, 0, more * sizeof *g->locs.v);
		g->locs.n += more;
	}
	g->locs.v[n] = (ir_srcloc){line, col};
}

void ir_node_loc(const ir_graph *g, ir_nid n, int *line, int *col)
{
	ir_srcloc at = n < g->locs.n ? g->locs.v[n] : (ir_srcloc){0, 0};
	*line = at.line;
	*col = at.col;
}

/* Allocates nin fresh slots at the end of the use arena. */
static uint32_t alloc_slots(ir_graph *g, ir_nid n, const ir_val *ins, uint32_t nin)
{
	if (!ir_vec_reserve(g, g->uses, nin))
		return 0;
	uint32_t first = g->uses.n;
	for (uint32_t i = 0; i < nin; i++) {
		g->uses.v[first + i] = (ir_use){ins ? ins[i] : 0, n, 0, 0};
		use_link(g, first + i);
	}
	g->uses.n += nin;
	return first;
}

ir_nid ir_node_new(ir_graph *g, const char *domain, const char *op, const ir_val *ins, uint32_t nin,
		   uint32_t nout, ir_nid before)
{
	ir_str o = ir_intern_cstr(g, op);
	ir_str d = (domain && strcmp(domain, "ai.onnx") != 0) ? ir_intern_cstr(g, domain) : 0;
	return g->oom ? 0 : ir_node_new_str(g, d, o, ins, nin, nout, before);
}

ir_nid ir_node_new_str(ir_graph *g, ir_str domain, ir_str op, const ir_val *ins, uint32_t nin, uint32_t nout,
		       ir_nid before)
{
	if (!ir_vec_reserve(g, g->nodes, 1) || !ir_vec_reserve(g, g->uses, nin) ||
	    !ir_vec_reserve(g, g->results, nout) || !ir_vec_reserve(g, g->values, nout))
		return 0;
	ir_nid n = g->nodes.n++;
	ir_node x = {0};
	x.op = op;
	x.domain = domain;
	x.nin = nin;
	x.nout = nout;
	x.attr = g->attrs.n;
	x.out = g->results.n;
	g->nodes.v[n] = x;
	g->nodes.v[n].in = alloc_slots(g, n, ins, nin);
	for (uint32_t i = 0; i < nout; i++) {
		ir_val v = ir_value_new(g, 0, ir_type_unknown());
		g->values.v[v].def_kind = IR_DEF_NODE;
		g->values.v[v].node = n;
		g->values.v[v].index = (uint16_t)i;
		g->results.v[g->results.n++] = v;
	}
	order_insert(g, n, before);
	g->live_nodes++;
	ir_node_resolve(g, n);
	return g->oom ? 0 : n;
}

ir_node *ir_node_at(const ir_graph *g, ir_nid n)
{
	return n && n < g->nodes.n ? &g->nodes.v[n] : NULL;
}

void ir_prefetch_node(const ir_graph *g, ir_nid n, int stage)
{
	if (!n || n >= g->nodes.n)
		return;
	const ir_node *x = &g->nodes.v[n];
	if (stage == 0) {
		__builtin_prefetch(x);
		return;
	}
	uint32_t nin = x->nin < 4 ? x->nin : 4;
	for (uint32_t i = 0; i < nin; i++) {
		const ir_use *u = &g->uses.v[x->in + i];
		if (stage == 1) {
			__builtin_prefetch(u);
			continue;
		}
		if (!u->v || u->v >= g->values.n)
			continue;
		const ir_value *v = &g->values.v[u->v];
		if (stage == 2) {
			__builtin_prefetch(v);
		} else if (v->def_kind == IR_DEF_NODE && v->node < g->nodes.n) {
			const ir_node *p = &g->nodes.v[v->node];
			if (stage == 3) {
				__builtin_prefetch(p);
				continue;
			}
			uint32_t pin = p->nin < 4 ? p->nin : 4;
			for (uint32_t j = 0; j < pin; j++) {
				const ir_use *pu = &g->uses.v[p->in + j];
				if (stage == 4)
					__builtin_prefetch(pu);
				else if (stage == 5 && pu->v && pu->v < g->values.n)
					__builtin_prefetch(&g->values.v[pu->v]);
			}
		} else if (v->def_kind == IR_DEF_CONST && v->tensor && v->tensor < g->tensors.n) {
			const ir_tensor *t = &g->tensors.v[v->tensor];
			if (stage == 3)
				__builtin_prefetch(t);
			else if (stage == 4 && t->data)
				__builtin_prefetch(t->data);
		}
	}
}

size_t ir_nnodes_total(const ir_graph *g)
{
	return g->nodes.n - 1;
}

size_t ir_graph_nnodes(const ir_graph *g)
{
	return g->live_nodes;
}

ir_val ir_node_input(const ir_graph *g, ir_nid n, uint32_t i)
{
	const ir_node *x = &g->nodes.v[n];
	return i < x->nin ? g->uses.v[x->in + i].v : 0;
}

ir_val ir_node_output(const ir_graph *g, ir_nid n, uint32_t i)
{
	const ir_node *x = &g->nodes.v[n];
	return i < x->nout ? g->results.v[x->out + i] : 0;
}

void ir_node_set_input(ir_graph *g, ir_nid n, uint32_t i, ir_val v)
{
	uint32_t slot = g->nodes.v[n].in + i;
	use_unlink(g, slot);
	g->uses.v[slot].v = v;
	use_link(g, slot);
}

void ir_node_set_inputs(ir_graph *g, ir_nid n, const ir_val *ins, uint32_t nin)
{
	ir_node *x = &g->nodes.v[n];
	if (nin <= x->nin) {
		for (uint32_t i = 0; i < nin; i++)
			ir_node_set_input(g, n, i, ins[i]);
		for (uint32_t i = nin; i < x->nin; i++)
			use_unlink(g, x->in + i);
		g->nodes.v[n].nin = nin;
		return;
	}
	if (!ir_vec_reserve(g, g->uses, nin))
		return;
	for (uint32_t i = 0; i < x->nin; i++)
		use_unlink(g, x->in + i);
	uint32_t first = alloc_slots(g, n, ins, nin);
	g->nodes.v[n].in = first;
	g->nodes.v[n].nin = nin;
}

void ir_node_remove(ir_graph *g, ir_nid n)
{
	ir_node *x = &g->nodes.v[n];
	if (x->dead)
		return;
	for (uint32_t i = 0; i < x->nin; i++)
		use_unlink(g, x->in + i);
	for (uint32_t i = 0; i < x->nout; i++)
		g->values.v[g->results.v[x->out + i]].def_kind = IR_DEF_NONE;
	order_unlink(g, n);
	g->nodes.v[n].dead = 1;
	g->live_nodes--;
}

/* ---------------------------------------------------------------- attributes */

ir_attr *ir_node_attrs(const ir_graph *g, ir_nid n)
{
	return g->attrs.v + g->nodes.v[n].attr;
}

const ir_attr *ir_attr_find(const ir_graph *g, ir_nid n, const char *name)
{
	const ir_node *x = &g->nodes.v[n];
	ir_str s = ir_str_lookup(g, name, strlen(name));
	if (!s)
		return NULL;
	for (uint32_t i = 0; i < x->nattr; i++)
		if (g->attrs.v[x->attr + i].name == s)
			return &g->attrs.v[x->attr + i];
	return NULL;
}

void ir_attr_put(ir_graph *g, ir_nid n, const ir_attr *a)
{
	ir_node *x = &g->nodes.v[n];
	for (uint32_t i = 0; i < x->nattr; i++)
		if (g->attrs.v[x->attr + i].name == a->name) {
			g->attrs.v[x->attr + i] = *a;
			return;
		}
	ir_attr copy = *a;
	if (x->attr + x->nattr == g->attrs.n) { /* block is last: grow in place */
		ir_vec_push(g, g->attrs, copy);
	} else { /* move the block to the end */
		if (!ir_vec_reserve(g, g->attrs, x->nattr + 1))
			return;
		uint32_t off = g->attrs.n;
		memcpy(g->attrs.v + off, g->attrs.v + x->attr, x->nattr * sizeof(ir_attr));
		g->attrs.v[off + x->nattr] = copy;
		g->attrs.n += x->nattr + 1;
		x->attr = off;
	}
	if (!g->oom)
		x->nattr++;
}

void ir_attr_remove(ir_graph *g, ir_nid n, const char *name)
{
	ir_node *x = &g->nodes.v[n];
	ir_str s = ir_str_lookup(g, name, strlen(name));
	for (uint32_t i = 0; s && i < x->nattr; i++)
		if (g->attrs.v[x->attr + i].name == s) {
			memmove(g->attrs.v + x->attr + i, g->attrs.v + x->attr + i + 1,
				(x->nattr - i - 1) * sizeof(ir_attr));
			x->nattr--;
			return;
		}
}

static ir_attr attr_of(ir_graph *g, const char *name, ir_attr_kind kind)
{
	ir_attr a = {0};
	a.name = ir_intern_cstr(g, name);
	a.kind = (uint8_t)kind;
	return a;
}

void ir_attr_set_int(ir_graph *g, ir_nid n, const char *name, int64_t v)
{
	ir_attr a = attr_of(g, name, IR_ATTR_INT);
	a.u.i = v;
	ir_attr_put(g, n, &a);
}

void ir_attr_set_float(ir_graph *g, ir_nid n, const char *name, float v)
{
	ir_attr a = attr_of(g, name, IR_ATTR_FLOAT);
	a.u.f = v;
	ir_attr_put(g, n, &a);
}

void ir_attr_set_string(ir_graph *g, ir_nid n, const char *name, const char *s, size_t len)
{
	ir_attr a = attr_of(g, name, IR_ATTR_STRING);
	a.u.s = ir_intern(g, s, len);
	ir_attr_put(g, n, &a);
}

void ir_attr_set_ints(ir_graph *g, ir_nid n, const char *name, const int64_t *v, uint32_t cnt)
{
	ir_attr a = attr_of(g, name, IR_ATTR_INTS);
	a.n = cnt;
	a.u.off = ir_pool_i64(g, v, cnt);
	ir_attr_put(g, n, &a);
}

void ir_attr_set_floats(ir_graph *g, ir_nid n, const char *name, const float *v, uint32_t cnt)
{
	ir_attr a = attr_of(g, name, IR_ATTR_FLOATS);
	a.n = cnt;
	a.u.off = ir_pool_f32(g, v, cnt);
	ir_attr_put(g, n, &a);
}

void ir_attr_set_strs(ir_graph *g, ir_nid n, const char *name, const ir_str *v, uint32_t cnt)
{
	ir_attr a = attr_of(g, name, IR_ATTR_STRINGS);
	a.n = cnt;
	a.u.off = ir_pool_u32(g, v, cnt);
	ir_attr_put(g, n, &a);
}

void ir_attr_set_tensor(ir_graph *g, ir_nid n, const char *name, ir_tid t)
{
	ir_attr a = attr_of(g, name, IR_ATTR_TENSOR);
	a.u.t = t;
	ir_attr_put(g, n, &a);
}

void ir_attr_set_tensors(ir_graph *g, ir_nid n, const char *name, const ir_tid *v, uint32_t cnt)
{
	ir_attr a = attr_of(g, name, IR_ATTR_TENSORS);
	a.n = cnt;
	a.u.off = ir_pool_u32(g, v, cnt);
	ir_attr_put(g, n, &a);
}

void ir_attr_set_blobs(ir_graph *g, ir_nid n, const char *name, ir_attr_kind kind, const ir_bid *v,
		       uint32_t cnt)
{
	ir_attr a = attr_of(g, name, kind);
	if (kind == IR_ATTR_GRAPH || kind == IR_ATTR_SPARSE_TENSOR || kind == IR_ATTR_TYPE_PROTO) {
		a.u.b = cnt ? v[0] : 0;
	} else {
		a.n = cnt;
		a.u.off = ir_pool_u32(g, v, cnt);
	}
	ir_attr_put(g, n, &a);
}

const int64_t *ir_attr_ints(const ir_graph *g, const ir_attr *a)
{
	return g->i64.v + a->u.off;
}

const float *ir_attr_floats(const ir_graph *g, const ir_attr *a)
{
	return g->f32.v + a->u.off;
}

const uint32_t *ir_attr_ids(const ir_graph *g, const ir_attr *a)
{
	return g->u32.v + a->u.off;
}

int64_t ir_attr_int(const ir_graph *g, ir_nid n, const char *name, int64_t dflt)
{
	const ir_attr *a = ir_attr_find(g, n, name);
	return a && a->kind == IR_ATTR_INT ? a->u.i : dflt;
}

float ir_attr_float(const ir_graph *g, ir_nid n, const char *name, float dflt)
{
	const ir_attr *a = ir_attr_find(g, n, name);
	return a && a->kind == IR_ATTR_FLOAT ? a->u.f : dflt;
}

int ir_attr_ints_get(const ir_graph *g, ir_nid n, const char *name, int64_t *out, int cap)
{
	const ir_attr *a = ir_attr_find(g, n, name);
	if (!a || a->kind != IR_ATTR_INTS)
		return -1;
	const int64_t *v = ir_attr_ints(g, a);
	for (uint32_t i = 0; i < a->n && (int)i < cap; i++)
		out[i] = v[i];
	return (int)a->n;
}
