/* The anchored backtracking matcher.
 *
 * A search binds the rule's root pattern node to one graph node, then the
 * other pattern nodes in the plan's order (match_plan.c).  A pattern node
 * some bound node uses is the producer of a known value; the others are
 * searched among the users of a bound value.  Each binding is checked as
 * soon as it is made: op, arity, operands (commutative ops in every
 * permutation), captures (the same capture twice is the same value),
 * attributes, and the `where` constraints that became decidable at that
 * step; the no-escape condition is checked on complete matches.  Graph
 * nodes are bound injectively.  Chains `[m..n]` bind 1..n single-use links.
 *
 * Undo is a trail of capture and value bindings; pattern node bindings are
 * undone by the recursion that made them.  The graph is only read (a
 * callback that edits it stops the search).  Chains are in match_chain.c;
 * op, attribute, constraint and no-escape checks, and the explanations of
 * failures, in match_check.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define MAX_PERM 5 /* commutative operands permuted (more: the given order only) */

typedef enum { TR_CAP, TR_PVAL, TR_LIST } trail_kind;

/* ---------------------------------------------------------------- setup */

eng_matcher *eng_matcher_new(void)
{
	eng_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->md = pcre2_match_data_create(1, NULL);
	if (!m->md) {
		free(m);
		return NULL;
	}
	return m;
}

static void free_bufs(eng_vbuf *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].v);
	free(v);
}

static void free_arrays(eng_matcher *m)
{
	free(m->bind_block);
	m->bind_block = NULL;
	m->bind_bytes = 0;
	free_bufs(m->links, m->cap_p);
	free_bufs(m->cpos, m->cap_p);
	free_bufs(m->rlinks, m->cap_p);
	free_bufs(m->rpos, m->cap_p);
	free_bufs(m->lists, m->cap_c);
	free(m->deferred);
	free(m->pval_off);
	memset(&m->b, 0, sizeof m->b);
	m->links = m->cpos = m->rlinks = m->rpos = m->lists = NULL;
	m->deferred = NULL;
	m->pval_off = NULL;
	m->cap_p = m->cap_c = 0;
}

void eng_matcher_free(eng_matcher *m)
{
	if (!m)
		return;
	free_arrays(m);
	free(m->pval);
	free(m->trail);
	free(m->used);
	free(m->rest.v);
	pcre2_match_data_free(m->md);
	eng_scratch_free(&m->scratch);
	free(m);
}

void eng_matcher_explain(eng_matcher *m, bool on)
{
	m->explain = on;
}

const char *eng_matcher_why(const eng_matcher *m)
{
	return m->why;
}

/* The binding's arrays, cleared before every search, share one block:
 * pointers first, then 32-bit entries, then flags (each part aligned). */
static bool alloc_binding(eng_matcher *m, size_t p, size_t c)
{
	size_t bytes = p * sizeof *m->b.chain + c * sizeof *m->b.list + p * sizeof *m->b.pnode +
		       p * sizeof *m->b.chain_n + c * sizeof *m->b.cap + c * sizeof *m->b.list_n +
		       c * sizeof *m->b.cap_bound;
	char *blk = calloc(1, bytes);
	if (!blk)
		return false;
	m->bind_block = blk;
	m->bind_bytes = bytes;
	m->b.chain = (ir_nid **)(void *)blk;
	blk += p * sizeof *m->b.chain;
	m->b.list = (ir_val **)(void *)blk;
	blk += c * sizeof *m->b.list;
	m->b.pnode = (ir_nid *)(void *)blk;
	blk += p * sizeof *m->b.pnode;
	m->b.chain_n = (uint32_t *)(void *)blk;
	blk += p * sizeof *m->b.chain_n;
	m->b.cap = (ir_val *)(void *)blk;
	blk += c * sizeof *m->b.cap;
	m->b.list_n = (uint32_t *)(void *)blk;
	blk += c * sizeof *m->b.list_n;
	m->b.cap_bound = (bool *)(void *)blk;
	return true;
}

static bool alloc_arrays(eng_matcher *m, int np, int nc)
{
	free_arrays(m);
	m->pval_rule = NULL; /* pval_off is new */
	size_t p = (size_t)np, c = (size_t)nc;
	if (!alloc_binding(m, p, c))
		return false;
	m->links = calloc(p, sizeof(eng_vbuf));
	m->cpos = calloc(p, sizeof(eng_vbuf));
	m->rlinks = calloc(p, sizeof(eng_vbuf));
	m->rpos = calloc(p, sizeof(eng_vbuf));
	m->lists = calloc(c, sizeof(eng_vbuf));
	m->deferred = calloc(p, sizeof *m->deferred);
	m->pval_off = calloc(p, sizeof *m->pval_off);
	m->cap_p = np;
	m->cap_c = nc;
	return m->links && m->cpos && m->rlinks && m->rpos && m->lists && m->deferred && m->pval_off;
}

/* Sizes the arrays for r and clears every binding. */
static bool reset(eng_matcher *m, const eng_rule *r, const ir_graph *g)
{
	int np = r->npnodes > 0 ? r->npnodes : 1, nc = r->ncaptures > 0 ? r->ncaptures : 1;
	if ((np > m->cap_p || nc > m->cap_c) && !alloc_arrays(m, np > m->cap_p ? np : m->cap_p,
							     nc > m->cap_c ? nc : m->cap_c))
		return false;
	int nres = m->pval_rule == r ? m->pval_n : 0;
	for (int p = 0; m->pval_rule != r && p < r->npnodes; p++) { /* once per rule in a row */
		m->pval_off[p] = nres;
		nres += r->pnodes[p].nresults > 0 ? r->pnodes[p].nresults : 1;
	}
	m->pval_rule = r;
	m->pval_n = nres;
	if (nres > m->cap_pval) {
		ir_val *v = realloc(m->pval, (size_t)nres * sizeof *v);
		if (!v)
			return false;
		m->pval = v;
		m->cap_pval = nres;
	}
	memset(m->pval, 0, (size_t)nres * sizeof *m->pval);
	memset(m->bind_block, 0, m->bind_bytes);
	m->b.rule = r;
	m->b.g = g;
	m->r = r;
	m->g = g;
	m->ntrail = m->nused = 0;
	return true;
}

/* Ensures room for n elements of size sz in *b. */
bool eng_m_need(eng_matcher *m, eng_vbuf *b, uint32_t n, size_t sz)
{
	if (n <= b->cap)
		return true;
	uint32_t cap = b->cap ? b->cap : 8;
	while (cap < n)
		cap *= 2;
	void *v = realloc(b->v, (size_t)cap * sz);
	if (!v) {
		m->status = ENG_M_NOMEM;
		return false;
	}
	b->v = v;
	b->cap = cap;
	return true;
}

/* ---------------------------------------------------------------- bindings and undo */

static bool push_trail(eng_matcher *m, trail_kind k, uint32_t index)
{
	if (m->ntrail == m->trail_cap) {
		size_t cap = m->trail_cap ? m->trail_cap * 2 : 64;
		eng_trail *t = realloc(m->trail, cap * sizeof *t);
		if (!t) {
			m->status = ENG_M_NOMEM;
			return false;
		}
		m->trail = t;
		m->trail_cap = cap;
	}
	m->trail[m->ntrail++] = (eng_trail){(uint8_t)k, index};
	return true;
}

void eng_m_undo(eng_matcher *m, size_t mark)
{
	while (m->ntrail > mark) {
		eng_trail t = m->trail[--m->ntrail];
		if (t.kind == TR_PVAL) {
			m->pval[t.index] = IR_NONE;
		} else {
			m->b.cap_bound[t.index] = false;
			m->b.cap[t.index] = IR_NONE;
			m->b.list[t.index] = NULL;
			m->b.list_n[t.index] = 0;
		}
	}
}

bool eng_m_is_used(const eng_matcher *m, ir_nid n)
{
	for (size_t i = 0; i < m->nused; i++)
		if (m->used[i] == n)
			return true;
	return false;
}

bool eng_m_push_used(eng_matcher *m, ir_nid n)
{
	if (m->nused == m->used_cap) {
		size_t cap = m->used_cap ? m->used_cap * 2 : 32;
		ir_nid *u = realloc(m->used, cap * sizeof *u);
		if (!u) {
			m->status = ENG_M_NOMEM;
			return false;
		}
		m->used = u;
		m->used_cap = cap;
	}
	m->used[m->nused++] = n;
	return true;
}

static bool bind_cap(eng_matcher *m, int c, ir_val v)
{
	if (m->b.cap_bound[c])
		return m->b.cap[c] == v;
	if (!push_trail(m, TR_CAP, (uint32_t)c))
		return false;
	m->b.cap_bound[c] = true;
	m->b.cap[c] = v;
	return true;
}

bool eng_m_bind_list(eng_matcher *m, int c, const ir_val *v, uint32_t n)
{
	if (m->b.cap_bound[c])
		return m->b.list_n[c] == n && (n == 0 || memcmp(m->b.list[c], v, n * sizeof *v) == 0);
	if (!eng_m_need(m, &m->lists[c], n ? n : 1, sizeof(ir_val)) || !push_trail(m, TR_LIST, (uint32_t)c))
		return false;
	ir_val *dst = m->lists[c].v;
	if (n)
		memcpy(dst, v, n * sizeof *v);
	m->b.cap_bound[c] = true;
	m->b.list[c] = dst;
	m->b.list_n[c] = n;
	return true;
}

ir_val eng_binding_value(const eng_binding *b, int p, int r)
{
	ir_nid n = b->pnode[p];
	return n ? ir_node_output(b->g, n, (uint32_t)r) : IR_NONE;
}

/* Pattern result (p, r) must be value v: checked when p is bound, else
 * remembered for when p's turn comes. */
static bool bind_pval(eng_matcher *m, int p, int r, ir_val v)
{
	if (m->b.pnode[p])
		return eng_binding_value(&m->b, p, r) == v;
	uint32_t slot = (uint32_t)(m->pval_off[p] + r);
	if (m->pval[slot])
		return m->pval[slot] == v;
	if (!push_trail(m, TR_PVAL, slot))
		return false;
	m->pval[slot] = v;
	return true;
}

/* The values graph node n produces agree with those p's users required. */
static bool pvals_agree(const eng_matcher *m, int p, ir_nid n)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	for (int r = 0; r < pn->nresults; r++) {
		ir_val want = m->pval[m->pval_off[p] + r];
		if (want && ir_node_output(m->g, n, (uint32_t)r) != want)
			return false;
	}
	return true;
}

/* A required value of p (from a bound user): *res gets its result index. */
static ir_val find_pval(const eng_matcher *m, int p, int *res)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	for (int r = 0; r < pn->nresults; r++)
		if (m->pval[m->pval_off[p] + r]) {
			*res = r;
			return m->pval[m->pval_off[p] + r];
		}
	return IR_NONE;
}

/* ---------------------------------------------------------------- operands */

/* Matches one pattern operand (not variadic) against graph value v. */
bool eng_m_operand(eng_matcher *m, const eng_operand *o, ir_val v)
{
	if (!v) {
		if (!o->optional)
			return false;
		return o->kind == PO_CAPTURE ? bind_cap(m, o->index, IR_NONE) : o->kind == PO_WILDCARD;
	}
	switch (o->kind) {
	case PO_WILDCARD:
		return true;
	case PO_CAPTURE:
		return bind_cap(m, o->index, v);
	case PO_NODE:
		return bind_pval(m, o->index, o->result, v);
	}
	return false;
}

static bool next_perm(int *a, int n)
{
	int i = n - 2;
	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	int j = n - 1;
	while (a[j] <= a[i])
		j--;
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l];
		a[l] = a[r];
		a[r] = t;
	}
	return true;
}

/* ---------------------------------------------------------------- the search */

static bool step(eng_matcher *m, int i);

bool eng_m_budget_hit(eng_matcher *m)
{
	if (m->status != ENG_M_DONE)
		return true;
	if (m->budget && ++m->steps > m->budget) {
		m->status = ENG_M_BUDGET;
		ENG_M_FAIL(m, 1 << 30, "the match budget (%u steps) ran out", (unsigned)m->budget);
		return true;
	}
	return false;
}

static bool finish(eng_matcher *m)
{
	if (!eng_m_attrs_deferred(m) || !eng_m_wheres_at(m, m->r->npnodes))
		return false;
	if (!m->r->allow_escape && !eng_m_no_escape(m))
		return false;
	if (m->fn(m->ctx, &m->b)) {
		m->status = ENG_M_STOPPED;
		return true;
	}
	return false;
}

/* Attributes and constraints after binding step i, then the next step. */
bool eng_m_after_bind(eng_matcher *m, int i, int p)
{
	if (!eng_m_attrs_now(m, i, p) || !eng_m_wheres_at(m, i))
		return m->status != ENG_M_DONE;
	return step(m, i + 1);
}

/* Binds the operands of non-chain p to those of node n: pattern operand k
 * takes graph operand perm[k] (perm NULL: k). */
static bool operands_in(eng_matcher *m, int i, int p, ir_nid n, const int *perm, int np)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	for (int k = 0; k < np; k++) {
		ir_val v = ir_node_input(m->g, n, (uint32_t)(perm ? perm[k] : k));
		if (!eng_m_operand(m, &pn->ins[k], v)) {
			eng_m_operand_failed(m, i, p, k, v);
			return false;
		}
	}
	if (np == pn->nins)
		return true;
	uint32_t nin = ir_node_at(m->g, n)->nin, cnt = nin > (uint32_t)np ? nin - (uint32_t)np : 0;
	if (!eng_m_need(m, &m->rest, cnt + 1, sizeof(ir_val)))
		return false;
	ir_val *rest = m->rest.v;
	for (uint32_t j = 0; j < cnt; j++)
		rest[j] = ir_node_input(m->g, n, (uint32_t)np + j);
	return eng_m_bind_list(m, pn->ins[np].index, rest, cnt);
}

bool eng_m_commutative(const ir_graph *g, ir_nid n)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	return info && (info->traits & IR_TRAIT_COMMUTATIVE);
}

/* Operand j of n repeats an earlier operand's value. */
bool eng_m_dup_operand(const ir_graph *g, ir_nid n, uint32_t j)
{
	ir_val v = ir_node_input(g, n, j);
	for (uint32_t k = 0; k < j; k++)
		if (ir_node_input(g, n, k) == v)
			return true;
	return false;
}

/* Tries every distinct operand permutation of node n for non-chain p
 * (only the given order unless n's op is commutative). */
static bool operands_perms(eng_matcher *m, int i, int p, ir_nid n)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	bool var = pn->nins > 0 && pn->ins[pn->nins - 1].variadic;
	int np = pn->nins - (var ? 1 : 0);
	uint32_t nin = ir_node_at(m->g, n)->nin;
	char nb[96];
	for (uint32_t j = (uint32_t)np; !var && j < nin; j++)
		if (ir_node_input(m->g, n, j)) {
			ENG_M_FAIL(m, eng_m_depth(i, 1), "pattern node '%s' has %d operands; node %s has %u", pn->name,
			     np, eng_m_node_text(m->g, n, nb, sizeof nb), (unsigned)nin);
			return false;
		}
	bool permute = !var && np >= 2 && np <= MAX_PERM && eng_m_commutative(m->g, n);
	int perm[MAX_PERM];
	for (int k = 0; k < MAX_PERM; k++)
		perm[k] = k;
	ir_val seen[120][MAX_PERM];
	int nseen = 0;
	do {
		if (permute) {
			ir_val vals[MAX_PERM] = {0};
			bool dup = false;
			for (int k = 0; k < np; k++)
				vals[k] = ir_node_input(m->g, n, (uint32_t)perm[k]);
			for (int s = 0; s < nseen && !dup; s++)
				dup = memcmp(seen[s], vals, (size_t)np * sizeof *vals) == 0;
			if (dup)
				continue;
			memcpy(seen[nseen++], vals, sizeof vals);
		}
		size_t mark = m->ntrail;
		bool stop = operands_in(m, i, p, n, permute ? perm : NULL, np) ? eng_m_after_bind(m, i, p)
									   : m->status != ENG_M_DONE;
		eng_m_undo(m, mark);
		if (stop)
			return true;
	} while (permute && next_perm(perm, np));
	return false;
}

static bool bind_node(eng_matcher *m, int i, int p, ir_nid n)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	char nb[96], ob[128];
	if (eng_m_budget_hit(m))
		return true;
	if (!(i == 0 && p == m->r->root && m->root_ok) && !eng_op_matches(m, pn, m->g, n)) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s' wants %s; node %s does not match", pn->name,
		     eng_m_opm_text(pn, ob, sizeof ob), eng_m_node_text(m->g, n, nb, sizeof nb));
		return false;
	}
	if (eng_m_is_used(m, n)) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s': node %s is already bound to another pattern node",
		     pn->name, eng_m_node_text(m->g, n, nb, sizeof nb));
		return false;
	}
	if (ir_node_at(m->g, n)->nout < (uint32_t)pn->nresults || !pvals_agree(m, p, n)) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s': node %s does not produce the values its users need",
		     pn->name, eng_m_node_text(m->g, n, nb, sizeof nb));
		return false;
	}
	if (!eng_m_push_used(m, n))
		return true;
	m->b.pnode[p] = n;
	bool stop = operands_perms(m, i, p, n);
	m->b.pnode[p] = 0;
	m->nused--;
	return stop;
}

/* ---------------------------------------------------------------- steps */

/* A value bound so far that p uses: its users are p's candidates. */
static ir_val search_seed(const eng_matcher *m, const eng_pnode *pn)
{
	int nreach = eng_m_is_chain(pn) ? 1 : pn->nins;
	for (int k = 0; k < nreach && k < pn->nins; k++) {
		const eng_operand *o = &pn->ins[k];
		if (o->variadic)
			continue;
		if (o->kind == PO_NODE && m->b.pnode[o->index])
			return eng_binding_value(&m->b, o->index, o->result);
		if (o->kind == PO_CAPTURE && m->b.cap_bound[o->index] && m->b.cap[o->index])
			return m->b.cap[o->index];
	}
	return IR_NONE;
}

static bool try_users(eng_matcher *m, int i, int p)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	ir_val v = search_seed(m, pn);
	if (!v) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s': nothing bound to search from", pn->name);
		return false;
	}
	bool chain = eng_m_is_chain(pn);
	for (uint32_t slot = ir_first_use(m->g, v), next; slot; slot = next) {
		next = ir_next_use(m->g, slot);
		ir_nid u = ir_use_at(m->g, slot)->node;
		uint32_t j = ir_use_operand_index(m->g, slot);
		if (eng_m_dup_operand(m->g, u, j))
			continue;
		if (chain ? eng_m_chain_from_first(m, i, p, u, j) : bind_node(m, i, p, u))
			return true;
	}
	if (!ir_first_use(m->g, v))
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s': the value it should use has no users", pn->name);
	return false;
}

/* ---------------------------------------------------------------- the search */

static bool step(eng_matcher *m, int i)
{
	if (i == m->r->npnodes)
		return finish(m);
	int p = m->r->order[i];
	const eng_pnode *pn = &m->r->pnodes[p];
	int res = 0;
	ir_val v = find_pval(m, p, &res);
	if (!v)
		return try_users(m, i, p);
	const ir_value *x = ir_value_at(m->g, v);
	if (x->def_kind != IR_DEF_NODE || (eng_m_is_chain(pn) && x->index != 0)) {
		char vb[160];
		ENG_M_FAIL(m, eng_m_depth(i, 0), "pattern node '%s' should produce %s, which is not a result of a matching node",
		     pn->name, eng_m_value_text(m->g, v, vb, sizeof vb));
		return false;
	}
	return eng_m_is_chain(pn) ? eng_m_chain_from_last(m, i, p, x->node) : bind_node(m, i, p, x->node);
}

/* A necessary condition checked before a search is set up: the root's op
 * matches, and each operand of the root that a pattern node (not a chain,
 * not optional) produces comes from a node of an op that pattern node
 * accepts (for a commutative node, some operand of the node does).  Most
 * nodes offered to a rule fail here, at a few cached lookups each. */
bool eng_match_plausible(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at)
{
	return r->checks_none ||
	       (eng_op_matches(m, &r->pnodes[r->root], g, at) && eng_match_plausible_indexed(m, r, g, at));
}

bool eng_match_plausible_indexed(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at)
{
	if (r->checks_none || !r->nchecks)
		return true;
	uint32_t nin = ir_node_at(g, at)->nin;
	bool any = r->checks_perm && eng_m_commutative(g, at);
	uint32_t np = (uint32_t)r->pnodes[r->root].nins;
	for (int c = 0; c < r->nchecks; c++) {
		uint32_t k = (uint32_t)r->checks[c][0];
		const eng_pnode *p = &r->pnodes[r->checks[c][1]];
		bool found = false;
		for (uint32_t i = any ? 0 : k; !found && i < (any ? np : k + 1) && i < nin; i++) {
			const ir_value *x = ir_value_at(g, ir_node_input(g, at, i));
			found = x && x->def_kind == IR_DEF_NODE && eng_op_matches(m, p, g, x->node);
		}
		if (!found)
			return false;
	}
	return true;
}

bool eng_plan_checks(eng_ruleset *rs, eng_rule *r)
{
	const eng_pnode *pn = &r->pnodes[r->root];
	bool var = pn->nins > 0 && pn->ins[pn->nins - 1].variadic;
	int np = pn->nins - (var ? 1 : 0);
	r->checks_none = eng_m_is_chain(pn);
	r->checks_perm = !var && np >= 2 && np <= MAX_PERM;
	r->nchecks = 0;
	r->checks = eng_alloc(rs, (size_t)(np > 0 ? np : 1) * sizeof *r->checks);
	if (!r->checks)
		return false;
	for (int k = 0; k < np; k++) {
		const eng_operand *o = &pn->ins[k];
		if (o->kind != PO_NODE || o->optional || eng_m_is_chain(&r->pnodes[o->index]))
			continue;
		r->checks[r->nchecks][0] = k;
		r->checks[r->nchecks++][1] = o->index;
	}
	return true;
}

static eng_mstatus match_at(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at, uint32_t budget,
			    eng_on_match fn, void *ctx, bool root_ok)
{
	m->status = ENG_M_DONE;
	if (m->explain) {
		m->why_depth = -1;
		m->why[0] = '\0';
	}
	if (!r->order || r->npnodes < 1)
		return ENG_M_DONE;
	if (!m->explain && !(root_ok ? eng_match_plausible_indexed(m, r, g, at) : eng_match_plausible(m, r, g, at)))
		return ENG_M_DONE;
	if (!reset(m, r, g))
		return ENG_M_NOMEM;
	m->root_ok = root_ok && !m->explain;
	m->budget = budget;
	m->steps = 0;
	m->fn = fn;
	m->ctx = ctx;
	const eng_pnode *root = &r->pnodes[r->root];
	if (eng_m_is_chain(root))
		eng_m_chain_from_last(m, 0, r->root, at);
	else
		bind_node(m, 0, r->root, at);
	m->root_ok = false;
	return m->status;
}

eng_mstatus eng_match_at(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at, uint32_t budget,
			 eng_on_match fn, void *ctx)
{
	return match_at(m, r, g, at, budget, fn, ctx, false);
}

eng_mstatus eng_match_indexed(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at, uint32_t budget,
			      eng_on_match fn, void *ctx)
{
	return match_at(m, r, g, at, budget, fn, ctx, true);
}

uint32_t eng_binding_nodes(const eng_binding *b, ir_nid *out)
{
	uint32_t c = 0;
	for (int p = 0; p < b->rule->npnodes; p++) {
		uint32_t n = b->chain[p] ? b->chain_n[p] : 1;
		for (uint32_t k = 0; k < n; k++, c++)
			if (out)
				out[c] = b->chain[p] ? b->chain[p][k] : b->pnode[p];
	}
	return c;
}
