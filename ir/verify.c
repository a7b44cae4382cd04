/* The verifier (structure, registry, types) and the topological sort.
 *
 * ir_verify never modifies the graph: its scratch arrays come from the
 * graph's allocator and every id it reads is range-checked first, so that
 * a corrupted graph yields diagnostics, not crashes. */
#include <string.h>

#include "infer_internal.h"

enum { V_UNDEF, V_LATER, V_READY }; /* value state along the graph order */

typedef struct vcx {
	const ir_graph *g;
	ir_diags *d;
	const char *file;
	size_t errors;
	uint8_t *state; /* per value */
	uint8_t *seen;  /* per operand slot: found in its value's use list */
	uint8_t *bad;   /* per node: skip the type check */
	ir_nid at;      /* the node being checked (for its .gir position), or 0 */
} vcx;

static void *scratch(const ir_graph *g, size_t n)
{
	void *p = g->alloc(g->ud, NULL, 0, n ? n : 1);
	if (p)
		memset(p, 0, n);
	return p;
}

static void scratch_free(const ir_graph *g, void *p, size_t n)
{
	if (p)
		g->alloc(g->ud, p, n ? n : 1, 0);
}

static void verr(vcx *vc, const char *fmt, ...) IR_PRINTF(2, 3);
static void verr(vcx *vc, const char *fmt, ...)
{
	va_list ap;
	int line, col;
	ir_node_loc(vc->g, vc->at, &line, &col);
	va_start(ap, fmt);
	ir_diag_vadd(vc->d, IR_ERROR, vc->file, line, col, fmt, ap);
	va_end(ap);
	vc->errors++;
}

/* Labels for messages, formatted only when an error is reported. */
#define LABEL_CAP 256

static const char *nlab(const vcx *vc, ir_nid n, char *buf)
{
	ir_node_label(vc->g, n, buf, LABEL_CAP);
	return buf;
}

static const char *vlab(const vcx *vc, ir_val v, char *buf)
{
	ir_value_label(vc->g, v, buf, LABEL_CAP);
	return buf;
}

/* ---------------------------------------------------------------- the order list */

/* Live nodes only, prev/next consistent, no loop; false when unwalkable. */
static bool check_order(vcx *vc)
{
	const ir_graph *g = vc->g;
	uint32_t count = 0;
	ir_nid prev = 0;
	char nb[LABEL_CAP];
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		if (n >= g->nodes.n || ++count >= g->nodes.n) {
			verr(vc, "the graph order is corrupt (invalid node id or a loop)");
			return false;
		}
		const ir_node *x = &g->nodes.v[n];
		if (x->dead)
			verr(vc, "removed %s is still in the graph order", nlab(vc, n, nb));
		if (x->prev != prev)
			verr(vc, "the graph order is broken before %s", nlab(vc, n, nb));
		prev = n;
	}
	if (g->last != prev)
		verr(vc, "the graph order's last node is wrong");
	if (count != g->live_nodes)
		verr(vc, "the graph counts %u live nodes but its order holds %u",
		     (unsigned)g->live_nodes, (unsigned)count);
	return true;
}

/* ---------------------------------------------------------------- definitions */

/* where: a node, or 0 with what naming the graph-level list. */
static bool valid_value(vcx *vc, ir_val v, ir_nid where, const char *what)
{
	char nb[LABEL_CAP];
	if (v && v < vc->g->values.n)
		return true;
	verr(vc, "%s refers to the invalid value id %u", where ? nlab(vc, where, nb) : what,
	     (unsigned)v);
	return false;
}

/* by: the defining node, or 0 with what naming the graph-level list. */
static void define(vcx *vc, ir_val v, uint8_t state, ir_nid by, const char *what)
{
	char vb[LABEL_CAP], nb[LABEL_CAP];
	if (vc->state[v] != V_UNDEF)
		verr(vc, "%s is defined twice (again %s %s)", vlab(vc, v, vb), by ? "by" : "as a",
		     by ? nlab(vc, by, nb) : what);
	vc->state[v] = state;
}

static void define_list(vcx *vc, const ir_val *vals, uint32_t n, uint8_t kind, const char *what)
{
	char vb[LABEL_CAP];
	for (uint32_t i = 0; i < n; i++) {
		ir_val v = vals[i];
		if (!valid_value(vc, v, 0, what))
			continue;
		const ir_value *x = &vc->g->values.v[v];
		if (x->def_kind != kind)
			verr(vc, "%s is listed as a %s but not defined as one", vlab(vc, v, vb), what);
		if (kind == IR_DEF_CONST && !ir_tensor_at(vc->g, x->tensor))
			verr(vc, "constant %s has no tensor", vlab(vc, v, vb));
		define(vc, v, V_READY, 0, what);
	}
}

static void define_results(vcx *vc, ir_nid n)
{
	const ir_graph *g = vc->g;
	const ir_node *x = &g->nodes.v[n];
	char nb[LABEL_CAP], vb[LABEL_CAP];
	if ((uint64_t)x->out + x->nout > g->results.n) {
		verr(vc, "%s has an invalid result list", nlab(vc, n, nb));
		vc->bad[n] = 1;
		return;
	}
	for (uint32_t i = 0; i < x->nout; i++) {
		ir_val v = g->results.v[x->out + i];
		if (!valid_value(vc, v, n, NULL)) {
			vc->bad[n] = 1;
			continue;
		}
		const ir_value *y = &g->values.v[v];
		if (vc->state[v] == V_UNDEF &&
		    (y->def_kind != IR_DEF_NODE || y->node != n || y->index != i))
			verr(vc, "%s is result %u of %s but is not defined as such", vlab(vc, v, vb),
			     (unsigned)i, nlab(vc, n, nb));
		define(vc, v, V_LATER, n, NULL);
	}
}

/* Each value is defined once, by the input list, the constant list or the
 * result list of a live node, and its def says so. */
static void check_definitions(vcx *vc)
{
	const ir_graph *g = vc->g;
	char vb[LABEL_CAP];
	define_list(vc, g->inputs.v, g->inputs.n, IR_DEF_INPUT, "graph input");
	define_list(vc, g->consts.v, g->consts.n, IR_DEF_CONST, "constant");
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next)
		define_results(vc, n);
	for (ir_val v = 1; v < g->values.n; v++)
		if (g->values.v[v].def_kind != IR_DEF_NONE && vc->state[v] == V_UNDEF)
			verr(vc, "%s has a definition that does not list it", vlab(vc, v, vb));
}

/* ---------------------------------------------------------------- operands */

static void check_operand(vcx *vc, ir_nid n, uint32_t i)
{
	const ir_graph *g = vc->g;
	const ir_use *u = &g->uses.v[g->nodes.v[n].in + i];
	char nb[LABEL_CAP], vb[LABEL_CAP];
	if (u->node != n)
		verr(vc, "operand %u of %s is recorded as another node's", (unsigned)i,
		     nlab(vc, n, nb));
	if (!u->v)
		return;
	if (!valid_value(vc, u->v, n, NULL)) {
		vc->bad[n] = 1;
		return;
	}
	if (vc->state[u->v] == V_READY)
		return;
	vc->bad[n] = 1;
	if (vc->state[u->v] == V_LATER)
		verr(vc, "operand %u of %s (%s) is used before its definition (the graph order is not "
			 "topological)", (unsigned)i, nlab(vc, n, nb), vlab(vc, u->v, vb));
	else
		verr(vc, "operand %u of %s (%s) is not defined", (unsigned)i, nlab(vc, n, nb),
		     vlab(vc, u->v, vb));
}

/* Operands are defined by inputs, constants or earlier nodes. */
static void check_operands(vcx *vc)
{
	const ir_graph *g = vc->g;
	char nb[LABEL_CAP];
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		const ir_node *x = &g->nodes.v[n];
		if ((uint64_t)x->in + x->nin > g->uses.n) {
			verr(vc, "%s has an invalid operand list", nlab(vc, n, nb));
			vc->bad[n] = 1;
			continue;
		}
		for (uint32_t i = 0; i < x->nin; i++)
			check_operand(vc, n, i);
		if ((uint64_t)x->out + x->nout > g->results.n)
			continue;
		for (uint32_t i = 0; i < x->nout; i++) {
			ir_val v = g->results.v[x->out + i];
			if (v && v < g->values.n)
				vc->state[v] = V_READY;
		}
	}
}

/* ---------------------------------------------------------------- use lists */

/* Slot s is an operand of a live node and lies inside its operand list. */
static bool slot_of_live_node(const ir_graph *g, uint32_t s)
{
	ir_nid n = g->uses.v[s].node;
	if (!n || n >= g->nodes.n || g->nodes.v[n].dead)
		return false;
	const ir_node *x = &g->nodes.v[n];
	return s >= x->in && s - x->in < x->nin;
}

static void check_use_list(vcx *vc, ir_val v)
{
	const ir_graph *g = vc->g;
	uint32_t count = 0, prev = 0;
	char b[LABEL_CAP];
	for (uint32_t s = g->values.v[v].first_use; s; s = g->uses.v[s].next) {
		if (s >= g->uses.n || ++count > g->uses.n) {
			verr(vc, "the use list of %s is corrupt", vlab(vc, v, b));
			return;
		}
		const ir_use *u = &g->uses.v[s];
		if (u->v != v || u->prev != prev || !slot_of_live_node(g, s) || vc->seen[s]) {
			verr(vc, "the use list of %s holds a slot that is not one of its operands",
			     vlab(vc, v, b));
			return;
		}
		vc->seen[s] = 1;
		prev = s;
	}
	if (count != g->values.v[v].nuses)
		verr(vc, "%s counts %u uses but its use list holds %u", vlab(vc, v, b),
		     (unsigned)g->values.v[v].nuses, (unsigned)count);
}

/* Every value's use list holds exactly the operand slots naming it. */
static void check_uses(vcx *vc)
{
	const ir_graph *g = vc->g;
	char nb[LABEL_CAP], vb[LABEL_CAP];
	for (ir_val v = 1; v < g->values.n; v++)
		check_use_list(vc, v);
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		const ir_node *x = &g->nodes.v[n];
		if ((uint64_t)x->in + x->nin > g->uses.n)
			continue;
		for (uint32_t i = 0; i < x->nin; i++) {
			ir_val v = g->uses.v[x->in + i].v;
			if (!v || v >= g->values.n || vc->seen[x->in + i])
				continue;
			verr(vc, "operand %u of %s is missing from the use list of %s", (unsigned)i,
			     nlab(vc, n, nb), vlab(vc, v, vb));
		}
	}
}

static void check_outputs(vcx *vc)
{
	const ir_graph *g = vc->g;
	char b[LABEL_CAP];
	for (uint32_t i = 0; i < g->outputs.n; i++) {
		ir_val v = g->outputs.v[i];
		if (valid_value(vc, v, 0, "a graph output") && vc->state[v] != V_READY)
			verr(vc, "graph output %u (%s) is not defined", (unsigned)i,
			     vlab(vc, v, b));
	}
}

/* ---------------------------------------------------------------- the registry */

static const char *kind_name(int k)
{
	static const char *names[] = {"undefined", "float", "int", "string", "tensor", "graph",
				      "floats", "ints", "strings", "tensors", "graphs",
				      "sparse tensor", "sparse tensors", "type", "types"};
	return k >= 0 && k < (int)(sizeof names / sizeof *names) ? names[k] : "unknown";
}

static const ir_attrdef *attrdef(const ir_opinfo *info, const char *name)
{
	for (const ir_attrdef *a = info->attrs; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void check_attrs(vcx *vc, ir_nid n, const ir_opinfo *info)
{
	const ir_graph *g = vc->g;
	const ir_node *x = &g->nodes.v[n];
	char who[LABEL_CAP];
	for (uint32_t i = 0; i < x->nattr; i++) {
		const ir_attr *a = &g->attrs.v[x->attr + i];
		const char *name = ir_cstr(g, a->name);
		const ir_attrdef *def = attrdef(info, name);
		for (uint32_t j = 0; j < i; j++)
			if (g->attrs.v[x->attr + j].name == a->name)
				verr(vc, "%s has attribute '%s' twice", nlab(vc, n, who), name);
		if (!def)
			verr(vc, "%s has the unknown attribute '%s'", nlab(vc, n, who), name);
		else if (def->kind != a->kind)
			verr(vc, "attribute '%s' of %s is %s, expected %s", name, nlab(vc, n, who),
			     kind_name(a->kind),
			     kind_name((int)def->kind));
		if (!def || def->kind != a->kind)
			vc->bad[n] = 1;
	}
	for (const ir_attrdef *a = info->attrs; a->name; a++)
		if (a->required && !ir_attr_find(g, n, a->name)) {
			verr(vc, "%s lacks the required attribute '%s'", nlab(vc, n, who), a->name);
			vc->bad[n] = 1;
		}
}

static void check_arity(vcx *vc, ir_nid n, const ir_opinfo *info)
{
	const ir_graph *g = vc->g;
	const ir_node *x = &g->nodes.v[n];
	char who[LABEL_CAP];
	if (x->nin < (uint32_t)info->min_in || (info->max_in >= 0 && x->nin > (uint32_t)info->max_in))
		verr(vc, "%s has %u operands (expected %d to %d)", nlab(vc, n, who), (unsigned)x->nin,
		     info->min_in,
		     info->max_in);
	else if (x->nout < (uint32_t)info->min_out || x->nout > (uint32_t)info->max_out)
		verr(vc, "%s has %u results (expected %d to %d)", nlab(vc, n, who), (unsigned)x->nout,
		     info->min_out,
		     info->max_out);
	else if ((uint64_t)x->in + x->nin <= g->uses.n)
		for (uint32_t i = 0; i < (uint32_t)info->min_in; i++)
			if (!g->uses.v[x->in + i].v)
				verr(vc, "%s lacks its required operand %u", nlab(vc, n, who),
				     (unsigned)i);
}

static void check_registry(vcx *vc)
{
	const ir_graph *g = vc->g;
	char nb[LABEL_CAP];
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		const ir_node *x = &g->nodes.v[n];
		const ir_opinfo *info = ir_op_info(x->opcode);
		if (!x->opcode)
			continue;
		if (!info || x->domain || strcmp(info->name, ir_cstr(g, x->op)) != 0) {
			verr(vc, "%s has a stale opcode", nlab(vc, n, nb));
			vc->bad[n] = 1;
			continue;
		}
		size_t before = vc->errors;
		vc->at = n;
		check_arity(vc, n, info);
		check_attrs(vc, n, info);
		vc->at = 0;
		if (vc->errors != before)
			vc->bad[n] = 1;
	}
}

/* ---------------------------------------------------------------- types */

/* Result types agree with inference where both are known. */
static void check_types(vcx *vc)
{
	const ir_graph *g = vc->g;
	ir_icx cx;
	ir_icx_init(&cx, g, vc->d, vc->file, 0);
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		if (!g->nodes.v[n].opcode || vc->bad[n] || ir_node_has_ref(g, n))
			continue;
		if (ir_icx_run(&cx, n))
			ir_icx_check(&cx);
		ir_kv_fold_node(&cx, n);
	}
	vc->errors += cx.errors;
	ir_icx_free(&cx);
}

size_t ir_verify(const ir_graph *g, ir_diags *d, const char *file)
{
	vcx vc = {g, d, file, 0, NULL, NULL, NULL, 0};
	vc.state = scratch(g, g->values.n);
	vc.seen = scratch(g, g->uses.n);
	vc.bad = scratch(g, g->nodes.n);
	if (!vc.state || !vc.seen || !vc.bad)
		verr(&vc, "out of memory while verifying");
	else if (check_order(&vc)) {
		check_definitions(&vc);
		check_operands(&vc);
		check_uses(&vc);
		check_outputs(&vc);
		check_registry(&vc);
		check_types(&vc);
		vc.errors += ir_verify_funcs(g, d, file);
	}
	scratch_free(g, vc.state, g->values.n);
	scratch_free(g, vc.seen, g->uses.n);
	scratch_free(g, vc.bad, g->nodes.n);
	return vc.errors;
}

/* ---------------------------------------------------------------- topological sort */

/* Kahn's algorithm with a min-heap on the original position, so that an
 * order that is already topological is kept. */
typedef struct topo {
	ir_graph *g;
	uint32_t *pos;   /* per node id: position in the current order */
	uint32_t *indeg; /* per node id: operand slots whose producer is not yet placed */
	uint32_t *heap, nheap;
	uint32_t *order, norder;
	size_t nn, live;
} topo;

/* The live node defining v, or 0. */
static ir_nid producer(const ir_graph *g, ir_val v)
{
	if (!v || v >= g->values.n)
		return 0;
	const ir_value *x = &g->values.v[v];
	if (x->def_kind != IR_DEF_NODE || !x->node || x->node >= g->nodes.n ||
	    g->nodes.v[x->node].dead)
		return 0;
	return x->node;
}

static void heap_push(topo *t, ir_nid n)
{
	uint32_t i = t->nheap++;
	while (i && t->pos[t->heap[(i - 1) / 2]] > t->pos[n]) {
		t->heap[i] = t->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->heap[i] = n;
}

static ir_nid heap_pop(topo *t)
{
	ir_nid top = t->heap[0], last = t->heap[--t->nheap];
	uint32_t i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= t->nheap)
			break;
		if (c + 1 < t->nheap && t->pos[t->heap[c + 1]] < t->pos[t->heap[c]])
			c++;
		if (t->pos[t->heap[c]] >= t->pos[last])
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	t->heap[i] = last;
	return top;
}

/* Numbers the nodes; true when every operand's producer comes earlier. */
static bool number_nodes(topo *t)
{
	const ir_graph *g = t->g;
	bool sorted = true;
	uint32_t k = 1;
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next)
		t->pos[n] = k++;
	t->live = k - 1;
	for (ir_nid n = g->first; n && sorted; n = g->nodes.v[n].next)
		for (uint32_t i = 0; i < g->nodes.v[n].nin; i++) {
			ir_nid p = producer(g, ir_node_input(g, n, i));
			if (p && t->pos[p] >= t->pos[n])
				sorted = false;
		}
	return sorted;
}

static void place(topo *t, ir_nid n)
{
	const ir_graph *g = t->g;
	t->order[t->norder++] = n;
	for (uint32_t r = 0; r < g->nodes.v[n].nout; r++)
		for (uint32_t s = ir_first_use(g, ir_node_output(g, n, r)); s; s = ir_next_use(g, s)) {
			ir_nid m = g->uses.v[s].node;
			if (!g->nodes.v[m].dead && --t->indeg[m] == 0)
				heap_push(t, m);
		}
}

static void kahn(topo *t)
{
	const ir_graph *g = t->g;
	for (ir_nid n = g->first; n; n = g->nodes.v[n].next) {
		for (uint32_t i = 0; i < g->nodes.v[n].nin; i++)
			if (producer(g, ir_node_input(g, n, i)))
				t->indeg[n]++;
		if (!t->indeg[n])
			heap_push(t, n);
	}
	while (t->nheap)
		place(t, heap_pop(t));
}

/* Some operand of n whose producer is not placed (n is on or behind a cycle). */
static ir_nid unplaced_producer(const topo *t, ir_nid n)
{
	for (uint32_t i = 0; i < t->g->nodes.v[n].nin; i++) {
		ir_nid p = producer(t->g, ir_node_input(t->g, n, i));
		if (p && t->indeg[p])
			return p;
	}
	return 0;
}

static size_t append_label(const ir_graph *g, ir_nid n, char *buf, size_t cap, size_t len)
{
	const ir_node *x = &g->nodes.v[n];
	const char *sep = len ? " -> " : "";
	int k = x->name ? snprintf(buf + len, cap - len, "%s'%s' (%s)", sep, ir_cstr(g, x->name),
				   ir_cstr(g, x->op))
			: snprintf(buf + len, cap - len, "%s#%u (%s)", sep, (unsigned)n, ir_cstr(g, x->op));
	len += k > 0 ? (size_t)k : 0;
	return len < cap ? len : cap - 1;
}

/* Walks producers back from an unplaced node until one repeats; the walk
 * (reused order array) then holds the cycle, listed in data-flow order. */
static void report_cycle(topo *t, ir_diags *d, const char *file)
{
	ir_graph *g = t->g;
	ir_nid n = 0;
	uint32_t len = 0, from = 0;
	for (ir_nid m = g->first; m && !n; m = g->nodes.v[m].next)
		n = t->indeg[m] ? m : 0;
	for (ir_nid m = g->first; m; m = g->nodes.v[m].next)
		g->nodes.v[m].mark = 0;
	while (n && !g->nodes.v[n].mark) {
		g->nodes.v[n].mark = 1;
		t->order[len++] = n;
		n = unplaced_producer(t, n);
	}
	while (from < len && t->order[from] != n)
		from++;
	char buf[900];
	size_t k = 0;
	buf[0] = '\0';
	for (uint32_t i = len; i-- > from && k < sizeof buf - 64;)
		k = append_label(g, t->order[i], buf, sizeof buf, k);
	if (from < len)
		k = append_label(g, t->order[len - 1], buf, sizeof buf, k);
	ir_error(d, file, 0, 0, "cycle through nodes %s", buf);
}

static void topo_free(topo *t)
{
	ir_free(t->g, t->pos, t->nn * sizeof *t->pos);
	ir_free(t->g, t->indeg, t->nn * sizeof *t->indeg);
	ir_free(t->g, t->heap, t->nn * sizeof *t->heap);
	ir_free(t->g, t->order, t->nn * sizeof *t->order);
}

bool ir_toposort(ir_graph *g, ir_diags *d, const char *file)
{
	topo t = {g, NULL, NULL, NULL, 0, NULL, 0, g->nodes.n, 0};
	t.pos = ir_alloc(g, t.nn * sizeof *t.pos);
	t.indeg = ir_alloc(g, t.nn * sizeof *t.indeg);
	t.heap = ir_alloc(g, t.nn * sizeof *t.heap);
	t.order = ir_alloc(g, t.nn * sizeof *t.order);
	bool ok = t.pos && t.indeg && t.heap && t.order;
	if (!ok) {
		ir_error(d, file, 0, 0, "out of memory while sorting the graph");
	} else if (!number_nodes(&t)) {
		memset(t.indeg, 0, t.nn * sizeof *t.indeg);
		kahn(&t);
		ok = t.norder == t.live;
		if (!ok)
			report_cycle(&t, d, file);
		for (uint32_t i = 0; ok && i < t.norder; i++)
			ir_node_move(g, t.order[i], 0);
	}
	topo_free(&t);
	return ok;
}
