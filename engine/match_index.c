/* Candidate roots from an op-type index, and the read-only entry points
 * built on the matcher: eng_find_matches (`graft match`) and eng_explain
 * (`graft match --explain`).
 *
 * The index maps a node's (op, domain) to the rules whose root pattern
 * node accepts that op, computed once per distinct op of the graph, so one
 * pass over the graph serves every rule: each node is offered only to the
 * rules that can be anchored at it.  It also knows how far below a node of
 * that op the root of a match may lie (the driver's revisits). */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

typedef eng_index_entry entry; /* (engine_internal.h has the index's layout) */

const uint32_t eng_index_none = 0;

eng_index *eng_index_new(const eng_rule *const *rules, size_t n)
{
	eng_index *ix = calloc(1, sizeof *ix);
	if (!ix)
		return NULL;
	ix->rules = rules;
	ix->nrules = n;
	ix->heights = calloc(n ? n : 1, sizeof *ix->heights);
	for (size_t i = 0; ix->heights && i < n; i++) {
		int np = rules[i]->npnodes;
		if (!(ix->heights[i] = malloc((size_t)(np > 0 ? np : 1) * sizeof(int)))) {
			eng_index_free(ix);
			return NULL;
		}
		eng_plan_heights(rules[i], ix->heights[i]);
	}
	if (!ix->heights) {
		free(ix);
		return NULL;
	}
	return ix;
}

static void clear_table(eng_index *ix)
{
	free(ix->by_op);
	free(ix->keys);
	free(ix->slot);
	free(ix->ent);
	free(ix->pool);
	ix->by_op = ix->slot = ix->pool = NULL;
	ix->keys = NULL;
	ix->ent = NULL;
	ix->nby_op = ix->cap = ix->used = ix->nent = ix->ent_cap = ix->npool = ix->pool_cap = 0;
}

void eng_index_free(eng_index *ix)
{
	if (!ix)
		return;
	clear_table(ix);
	for (size_t i = 0; ix->heights && i < ix->nrules; i++)
		free(ix->heights[i]);
	free(ix->heights);
	free(ix);
}

static size_t hash_slot(uint64_t key, size_t cap)
{
	return (size_t)(key * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
}

static bool grow_table(eng_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	uint64_t *keys = calloc(cap, sizeof *keys);
	uint32_t *slot = calloc(cap, sizeof *slot);
	if (!keys || !slot) {
		free(keys);
		free(slot);
		return false;
	}
	for (size_t i = 0; i < ix->cap; i++) {
		if (!ix->keys[i])
			continue;
		size_t j = hash_slot(ix->keys[i], cap);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = ix->keys[i];
		slot[j] = ix->slot[i];
	}
	free(ix->keys);
	free(ix->slot);
	ix->keys = keys;
	ix->slot = slot;
	ix->cap = cap;
	return true;
}

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* The largest height of a pattern node of rule i that accepts node n. */
static int rule_reach(eng_index *ix, eng_matcher *m, size_t i, const ir_graph *g, ir_nid n)
{
	const eng_rule *r = ix->rules[i];
	int reach = -1;
	for (int p = 0; p < r->npnodes; p++)
		if (ix->heights[i][p] > reach && eng_op_matches(m, &r->pnodes[p], g, n))
			reach = ix->heights[i][p];
	return reach;
}

/* A new entry for node n's op: the rules anchored at it, and its reach. */
static long add_entry(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n)
{
	if (!grow((void **)&ix->ent, &ix->ent_cap, ix->nent + 1, sizeof *ix->ent))
		return -1;
	entry e = {(uint32_t)ix->npool, 0, -1};
	for (size_t i = 0; i < ix->nrules; i++) {
		const eng_rule *r = ix->rules[i];
		if (!r->order)
			continue;
		if (eng_op_matches(m, &r->pnodes[r->root], g, n)) {
			if (!grow((void **)&ix->pool, &ix->pool_cap, ix->npool + 1, sizeof *ix->pool))
				return -1;
			ix->pool[ix->npool++] = (uint32_t)i;
			e.cnt++;
		}
		int reach = rule_reach(ix, m, i, g, n);
		e.reach = reach > e.reach ? reach : e.reach;
	}
	ix->ent[ix->nent] = e;
	return (long)ix->nent++;
}

/* The entry of node n's (op, domain), added when new; -1 on OOM. */
static long lookup(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n)
{
	if ((ix->used + 1) * 2 > ix->cap && !grow_table(ix))
		return -1;
	const ir_node *x = ir_node_at(g, n);
	uint64_t key = (1ull << 63) | ((uint64_t)x->op << 32) | x->domain;
	size_t j = hash_slot(key, ix->cap);
	while (ix->keys[j] && ix->keys[j] != key)
		j = (j + 1) & (ix->cap - 1);
	if (ix->keys[j])
		return (long)ix->slot[j];
	long e = add_entry(ix, m, g, n);
	if (e < 0)
		return -1;
	ix->keys[j] = key;
	ix->slot[j] = (uint32_t)e;
	ix->used++;
	return e;
}

/* Remembers a default-domain op's entry for direct lookups. */
static void remember(eng_index *ix, ir_str op, long e)
{
	size_t old = ix->nby_op;
	if (op >= old && !grow((void **)&ix->by_op, &ix->nby_op, (size_t)op + 1, sizeof *ix->by_op))
		return;
	if (ix->nby_op > old)
		memset(ix->by_op + old, 0, (ix->nby_op - old) * sizeof *ix->by_op);
	ix->by_op[op] = (uint32_t)e + 1;
}

static const entry *find(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n)
{
	if (ix->g != g) {
		clear_table(ix);
		ix->g = g;
	}
	const ir_node *x = ir_node_at(g, n);
	if (!x->domain && x->op < ix->nby_op && ix->by_op[x->op])
		return &ix->ent[ix->by_op[x->op] - 1];
	long e = lookup(ix, m, g, n);
	if (e < 0)
		return NULL;
	if (!x->domain)
		remember(ix, x->op, e);
	return &ix->ent[e];
}

const uint32_t *eng_index_lookup(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n, uint32_t *count)
{
	const entry *e = find(ix, m, g, n);
	*count = e ? e->cnt : 0;
	if (!e)
		return NULL;
	return e->cnt ? ix->pool + e->off : &eng_index_none;
}

int eng_index_reach(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n)
{
	const entry *e = find(ix, m, g, n);
	return e ? e->reach : -2;
}

/* ---------------------------------------------------------------- eng_find_matches */

typedef struct collector {
	eng_matches *out;
	size_t first;  /* first match of the current anchor */
	bool oom;
} collector;

/* Two bindings of the same nodes (commutative operands matched in another
 * order, say) are one match for listing: the first found is kept. */
static bool same_match(const eng_match *a, const eng_match *b)
{
	return a->rule == b->rule && a->nnodes == b->nnodes &&
	       memcmp(a->nodes, b->nodes, a->nnodes * sizeof *a->nodes) == 0;
}

static bool fill_match(eng_match *mt, const eng_binding *b)
{
	const eng_rule *r = b->rule;
	mt->rule = r;
	mt->nnodes = eng_binding_nodes(b, NULL);
	mt->ncaptures = (uint32_t)r->ncaptures;
	mt->nodes = malloc((mt->nnodes ? mt->nnodes : 1) * sizeof *mt->nodes);
	mt->captures = calloc(mt->ncaptures ? mt->ncaptures : 1, sizeof *mt->captures);
	if (!mt->nodes || !mt->captures)
		return false;
	eng_binding_nodes(b, mt->nodes);
	for (int c = 0; c < r->ncaptures; c++)
		mt->captures[c] = r->captures[c].is_list ? IR_NONE : b->cap[c];
	return true;
}

static void match_free(eng_match *mt)
{
	free(mt->nodes);
	free(mt->captures);
}

/* Records a match unless one of the same nodes was found at this anchor. */
static bool collect(void *ctx, const eng_binding *b)
{
	collector *c = ctx;
	eng_matches *out = c->out;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		eng_match *v = realloc(out->v, cap * sizeof *v);
		if (!v) {
			c->oom = true;
			return true;
		}
		out->v = v;
		out->cap = cap;
	}
	eng_match *mt = &out->v[out->n];
	memset(mt, 0, sizeof *mt);
	if (!fill_match(mt, b)) {
		match_free(mt);
		c->oom = true;
		return true;
	}
	for (size_t i = c->first; i < out->n; i++)
		if (same_match(&out->v[i], mt)) {
			match_free(mt);
			return false;
		}
	out->n++;
	return false;
}

void eng_matches_free(eng_matches *m)
{
	for (size_t i = 0; i < m->n; i++)
		match_free(&m->v[i]);
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* The rules a search covers: `rule`, or every enabled rule of rs. */
static const eng_rule **rule_list(const eng_ruleset *rs, const eng_rule *rule, size_t *n)
{
	const eng_rule **v = malloc((rs && rs->n ? rs->n : 1) * sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	if (rule)
		v[(*n)++] = rule;
	for (size_t i = 0; !rule && rs && i < rs->n; i++)
		if (rs->rules[i]->enabled)
			v[(*n)++] = rs->rules[i];
	return v;
}

static void budget_warning(ir_diags *d, const eng_rule *r, size_t count, const char *where, uint32_t budget)
{
	ir_diag_add(d, IR_WARNING, r->loc.file, r->loc.line, r->loc.col,
		    "rule '%s': the match budget (%u steps) ran out at %zu anchor%s (first at node '%s'); "
		    "matches there may be missed",
		    r->name, (unsigned)budget, count, count == 1 ? "" : "s", where);
}

typedef struct find_state {
	const eng_rule **rules;
	size_t nrules;
	size_t *exhausted; /* per rule: anchors where the budget ran out */
	char (*first)[64]; /* per rule: the first such anchor */
} find_state;

static bool find_at(find_state *fs, eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n,
		    collector *c, uint32_t budget)
{
	uint32_t cnt;
	const uint32_t *ri = eng_index_rules(ix, m, g, n, &cnt);
	if (!ri)
		return false;
	for (uint32_t k = 0; k < cnt; k++) {
		c->first = c->out->n;
		eng_mstatus st = eng_match_indexed(m, fs->rules[ri[k]], g, n, budget, collect, c);
		if (st == ENG_M_NOMEM || c->oom)
			return false;
		if (st == ENG_M_BUDGET && fs->exhausted[ri[k]]++ == 0) {
			char lb[64];
			snprintf(fs->first[ri[k]], sizeof fs->first[0], "%s", eng_node_label(g, n, lb, sizeof lb));
		}
	}
	return true;
}

bool eng_find_matches(const eng_ruleset *rs, const eng_rule *rule, const ir_graph *g, eng_matches *out,
		      ir_diags *d)
{
	find_state fs = {0};
	fs.rules = rule_list(rs, rule, &fs.nrules);
	fs.exhausted = calloc(fs.nrules + 1, sizeof *fs.exhausted);
	fs.first = calloc(fs.nrules + 1, sizeof *fs.first);
	eng_index *ix = fs.rules ? eng_index_new(fs.rules, fs.nrules) : NULL;
	eng_matcher *m = eng_matcher_new();
	collector c = {out, 0, false};
	bool ok = ix && m && fs.exhausted && fs.first;
	uint32_t budget = eng_default_options().match_budget;
	for (ir_nid n = ir_graph_first(g); ok && n; n = ir_node_at(g, n)->next)
		ok = find_at(&fs, ix, m, g, n, &c, budget);
	if (!ok)
		ir_error(d, NULL, 0, 0, "out of memory while matching");
	for (size_t i = 0; ok && i < fs.nrules; i++)
		if (fs.exhausted[i])
			budget_warning(d, fs.rules[i], fs.exhausted[i], fs.first[i], budget);
	eng_matcher_free(m);
	eng_index_free(ix);
	free(fs.exhausted);
	free(fs.first);
	free(fs.rules);
	return ok;
}

/* ---------------------------------------------------------------- eng_explain */

static bool stop_found(void *ctx, const eng_binding *b)
{
	eng_binding *copy = ctx;
	const eng_rule *r = b->rule;
	uint32_t n = eng_binding_nodes(b, NULL);
	copy->pnode = malloc((n ? n : 1) * sizeof *copy->pnode);
	if (copy->pnode)
		eng_binding_nodes(b, copy->pnode);
	copy->chain_n = malloc(sizeof *copy->chain_n);
	if (copy->chain_n)
		copy->chain_n[0] = n;
	copy->rule = r;
	return true;
}

static void print_nodes(const ir_graph *g, const ir_nid *v, uint32_t n, FILE *out)
{
	char lb[64];
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "%s'%s' (%s)", i ? ", " : "", eng_node_label(g, v[i], lb, sizeof lb),
			ir_cstr(g, ir_node_at(g, v[i])->op));
}

bool eng_explain(const eng_rule *rule, const ir_graph *g, ir_nid at, FILE *out)
{
	char lb[64];
	const char *where = eng_node_label(g, at, lb, sizeof lb);
	eng_matcher *m = eng_matcher_new();
	if (!m) {
		fprintf(out, "out of memory\n");
		return false;
	}
	eng_matcher_explain(m, true);
	eng_binding found = {0};
	eng_mstatus st = eng_match_at(m, rule, g, at, eng_default_options().match_budget, stop_found, &found);
	bool ok = st == ENG_M_STOPPED && found.pnode && found.chain_n;
	if (ok) {
		fprintf(out, "rule '%s' matches at node '%s': ", rule->name, where);
		print_nodes(g, found.pnode, found.chain_n[0], out);
		fprintf(out, "\n");
	} else if (st == ENG_M_NOMEM || (st == ENG_M_STOPPED && !ok)) {
		fprintf(out, "out of memory\n");
	} else {
		const char *why = eng_matcher_why(m);
		fprintf(out, "rule '%s' does not match at node '%s' (%s): %s\n", rule->name, where,
			ir_cstr(g, ir_node_at(g, at)->op), why[0] ? why : "no reason recorded");
	}
	free(found.pnode);
	free(found.chain_n);
	eng_matcher_free(m);
	return ok;
}
