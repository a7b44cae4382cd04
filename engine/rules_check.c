/* Checks of the rule compiler against the op registry and of a pattern's
 * structure: op names, operand and result counts, attributes,
 * commutativity, name resolution, cycles and connectivity; a replacement's
 * dependency order, attributes and that it replaces every sink. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- the op registry */

static bool default_domain(const char *d)
{
	return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

/* Registry entries named `name` (an op may have several version ranges). */
static const ir_opinfo *next_entry(const char *name, size_t *i)
{
	for (size_t n = ir_op_count(); *i < n;) {
		const ir_opinfo *info = ir_op_info((uint16_t)++*i);
		if (info && strcmp(info->name, name) == 0)
			return info;
	}
	return NULL;
}

bool eng_op_arity(const char *name, int *min_in, int *max_in, int *max_out)
{
	size_t i = 0;
	const ir_opinfo *info;
	bool found = false;
	while ((info = next_entry(name, &i))) {
		if (!found || info->min_in < *min_in)
			*min_in = info->min_in;
		if (!found || info->max_in < 0 || (*max_in >= 0 && info->max_in > *max_in))
			*max_in = info->max_in;
		if (!found || info->max_out < 0 || (*max_out >= 0 && info->max_out > *max_out))
			*max_out = info->max_out;
		found = true;
	}
	return found;
}

static unsigned op_traits_all(const char *name, bool *found)
{
	size_t i = 0;
	const ir_opinfo *info;
	unsigned t = ~0u;
	*found = false;
	while ((info = next_entry(name, &i))) {
		t &= info->traits;
		*found = true;
	}
	return *found ? t : 0;
}

int eng_ops_attr(const char *domain, const char *const *ops, int nops, const char *attr, ir_attr_kind *kind,
		 const char **suggest)
{
	const char *cands[128];
	size_t ncands = 0;
	int found = 0;
	*suggest = NULL;
	if (!default_domain(domain))
		return -1;
	for (int k = 0; k < nops; k++) {
		size_t i = 0;
		const ir_opinfo *info;
		bool registered = false;
		while ((info = next_entry(ops[k], &i))) {
			registered = true;
			for (const ir_attrdef *a = info->attrs; a && a->name; a++) {
				if (strcmp(a->name, attr) != 0) {
					if (ncands < 128)
						cands[ncands++] = a->name;
					continue;
				}
				*kind = found && *kind != a->kind ? IR_ATTR_UNDEF : a->kind;
				found = 1;
			}
		}
		if (!registered)
			return -1;
	}
	if (!found)
		*suggest = eng_closest(attr, strlen(attr), cands, ncands);
	return found;
}

void eng_check_op(eng_cc *cc, const char *domain, const char *name, eng_loc at)
{
	if (!default_domain(domain) || ir_op_known(name))
		return;
	size_t n = ir_op_count();
	const char **names = malloc(n * sizeof *names);
	const char *near = NULL;
	if (names) {
		for (size_t i = 0; i < n; i++)
			names[i] = ir_op_info((uint16_t)(i + 1))->name;
		near = eng_closest(name, strlen(name), names, n);
	}
	if (near)
		eng_cc_error(cc, at, "unknown op '%s' (did you mean '%s'?)", name, near);
	else
		eng_cc_error(cc, at, "unknown op '%s' (not in graft's registry; ops of other domains are written "
				     "domain::Op)", name);
	free(names);
}

/* ---------------------------------------------------------------- pattern terms */

bool eng_is_chain(const eng_pnode *p)
{
	return p->min_repeat != 1 || p->max_repeat != 1;
}

/* Operand shapes: variadic last; a chain's (input [, $rest...]). */
static void check_operand_shape(eng_cc *cc, const eng_pnode *p)
{
	for (int i = 0; i + 1 < p->nins; i++)
		if (p->ins[i].variadic)
			eng_cc_error(cc, p->ins[i].loc, "a variadic operand ($%s...) must be the last one",
				     cc->r->captures[p->ins[i].index].name);
	if (!eng_is_chain(p))
		return;
	bool ok = p->nins == 1 || (p->nins == 2 && p->ins[1].variadic);
	if (p->nins >= 1 && p->ins[0].variadic)
		ok = false;
	if (!ok)
		eng_cc_error(cc, p->loc, "a chain takes its input and optionally one variadic capture of the "
					 "links' other operands: @unary[1..8]($x) or @elementwise[1..8]($x, $rest...)");
}

/* Operand counts against the registry (every alternative registered). */
static void check_arity(eng_cc *cc, const eng_pnode *p)
{
	if (p->opkind != OPM_NAMES || !default_domain(p->domain) || eng_is_chain(p))
		return;
	int lo = 0, hi = 0, any_out;
	bool variadic = p->nins > 0 && p->ins[p->nins - 1].variadic;
	for (int i = 0; i < p->nnames; i++) {
		int mn, mx;
		if (!eng_op_arity(p->names[i], &mn, &mx, &any_out))
			return;
		lo = i == 0 || mn < lo ? mn : lo;
		hi = i == 0 || mx < 0 || (hi >= 0 && mx > hi) ? mx : hi;
	}
	int fixed = p->nins - variadic;
	const char *op = p->nnames == 1 ? p->names[0] : "the alternatives";
	if (hi >= 0 && fixed > hi)
		eng_cc_error(cc, p->loc, "%s take%s at most %d operand%s, the pattern gives %d", op,
			     p->nnames == 1 ? "s" : "", hi, hi == 1 ? "" : "s", fixed);
	else if (!variadic && p->nins < lo)
		eng_cc_error(cc, p->loc, "%s take%s at least %d operand%s, the pattern gives %d", op,
			     p->nnames == 1 ? "s" : "", lo, lo == 1 ? "" : "s", p->nins);
}

static bool regex_all_commutative(const pcre2_code *re)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	bool any = false, all = true;
	for (size_t i = 1; md && i <= ir_op_count(); i++) {
		const ir_opinfo *info = ir_op_info((uint16_t)i);
		if (pcre2_match(re, (PCRE2_SPTR)info->name, strlen(info->name), 0, 0, md, NULL) < 0)
			continue;
		any = true;
		all = all && (info->traits & IR_TRAIT_COMMUTATIVE);
	}
	pcre2_match_data_free(md);
	return any && all;
}

/* True when every op p can match is commutative in the registry. */
static bool is_commutative(const eng_pnode *p)
{
	switch (p->opkind) {
	case OPM_NAMES:
		if (!default_domain(p->domain))
			return false;
		for (int i = 0; i < p->nnames; i++) {
			bool found;
			if (!(op_traits_all(p->names[i], &found) & IR_TRAIT_COMMUTATIVE))
				return false;
		}
		return true;
	case OPM_CLASS: return (p->traits & IR_TRAIT_COMMUTATIVE) != 0;
	case OPM_REGEX: return p->re && regex_all_commutative(p->re);
	default: return false;
	}
}

/* ---------------------------------------------------------------- pattern checks */

static void unknown_name(eng_cc *cc, const eng_pending *pd, eng_loc at)
{
	const eng_rule *r = cc->r;
	const char *cands[64];
	size_t n = 0;
	for (int i = 0; i < r->npnodes; i++)
		for (int k = 0; k < r->pnodes[i].nresults && n < 64; k++)
			cands[n++] = r->pnodes[i].result_names[k];
	const char *near = eng_closest(pd->name, pd->len, cands, n);
	if (eng_capture_by_name(r, pd->name, pd->len) >= 0)
		eng_cc_error(cc, at, "unknown name '%s' (did you mean $%s?)", pd->name, pd->name);
	else if (near)
		eng_cc_error(cc, at, "unknown name '%s' (did you mean '%s'?)", pd->name, near);
	else
		eng_cc_error(cc, at, "unknown name '%s': no pattern line defines it", pd->name);
}

/* The number of results a reference to p may index. */
int eng_pnode_result_limit(const eng_pnode *p)
{
	int mn, mx, out = -1;
	if (p->opkind == OPM_NAMES && default_domain(p->domain)) {
		int best = 0;
		for (int i = 0; i < p->nnames; i++) {
			if (!eng_op_arity(p->names[i], &mn, &mx, &out))
				return p->nresults;
			if (out < 0)
				return 1 << 16;
			best = out > best ? out : best;
		}
		return best > p->nresults ? best : p->nresults;
	}
	return p->nresults;
}

static bool resolve_operand(eng_cc *cc, int p, eng_operand *op)
{
	const eng_pending *pd = &cc->names[op->index];
	int result, q = eng_pnode_by_name(cc->r, pd->name, pd->len, &result);
	if (q < 0)
		return unknown_name(cc, pd, op->loc), false;
	if (q == p)
		return eng_cc_error(cc, op->loc, "'%s' uses its own result", pd->name), false;
	if (pd->result >= 0)
		result = pd->result;
	int limit = eng_pnode_result_limit(&cc->r->pnodes[q]);
	if (result >= limit)
		return eng_cc_error(cc, op->loc, "result index %d is out of range: '%s' has %d result%s", result,
				    pd->name, limit, limit == 1 ? "" : "s"),
		       false;
	op->index = q;
	op->result = result;
	return true;
}

static bool resolve_pattern(eng_cc *cc)
{
	bool ok = true;
	for (int p = 0; p < cc->r->npnodes; p++)
		for (int i = 0; i < cc->r->pnodes[p].nins; i++) {
			eng_operand *op = &cc->r->pnodes[p].ins[i];
			if (op->kind == PO_NODE && op->result < 0 && !resolve_operand(cc, p, op))
				ok = false;
		}
	return ok;
}

/* Depth-first search for a cycle; state 1 = on the stack, 2 = done. */
static bool find_cycle(const eng_rule *r, int p, char *state)
{
	if (state[p] == 2)
		return false;
	if (state[p] == 1)
		return true;
	state[p] = 1;
	for (int i = 0; i < r->pnodes[p].nins; i++)
		if (r->pnodes[p].ins[i].kind == PO_NODE && find_cycle(r, r->pnodes[p].ins[i].index, state))
			return true;
	state[p] = 2;
	return false;
}

static int uf_find(int *parent, int x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

/* Connected through operands: pattern nodes and captures are the vertices. */
static void check_connected(eng_cc *cc, int *parent)
{
	const eng_rule *r = cc->r;
	for (int i = 0; i < r->npnodes + r->ncaptures; i++)
		parent[i] = i;
	for (int p = 0; p < r->npnodes; p++)
		for (int i = 0; i < r->pnodes[p].nins; i++) {
			const eng_operand *op = &r->pnodes[p].ins[i];
			int other = -1;
			if (op->kind == PO_NODE)
				other = op->index;
			else if (op->kind == PO_CAPTURE)
				other = r->npnodes + op->index;
			if (other >= 0)
				parent[uf_find(parent, p)] = uf_find(parent, other);
		}
	for (int p = 1; p < r->npnodes; p++)
		if (uf_find(parent, p) != uf_find(parent, 0)) {
			eng_cc_error(cc, r->pnodes[p].loc,
				     "the pattern is not connected: '%s' shares no node or capture with '%s'",
				     r->pnodes[p].name, r->pnodes[0].name);
			return;
		}
}

static void check_structure(eng_cc *cc)
{
	const eng_rule *r = cc->r;
	int *scratch = calloc((size_t)(r->npnodes + r->ncaptures) + 1, sizeof *scratch);
	char *state = calloc((size_t)r->npnodes + 1, 1);
	if (!scratch || !state) {
		eng_cc_oom(cc, r->pnodes[0].loc);
	} else {
		bool cyclic = false;
		for (int p = 0; p < r->npnodes && !cyclic; p++)
			if ((cyclic = find_cycle(r, p, state)))
				eng_cc_error(cc, r->pnodes[p].loc, "the pattern has a cycle through '%s'",
					     r->pnodes[p].name);
		check_connected(cc, scratch);
	}
	free(scratch);
	free(state);
}

static void check_pattern_attrs(eng_cc *cc)
{
	for (int p = 0; p < cc->r->npnodes; p++)
		for (int i = 0; i < cc->r->pnodes[p].nattrs; i++) {
			const eng_pnode *pn = &cc->r->pnodes[p];
			eng_attr_check *a = &pn->attrs[i];
			ir_attr_kind kind = IR_ATTR_UNDEF;
			const char *near = NULL;
			int found = pn->opkind == OPM_NAMES
					    ? eng_ops_attr(pn->domain, pn->names, pn->nnames, a->name, &kind, &near)
					    : -1;
			if (found == 0) {
				eng_cc_error(cc, a->loc, "%s has no attribute '%s'%s%s%s",
					     pn->nnames == 1 ? pn->names[0] : "no alternative", a->name,
					     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
				continue;
			}
			eng_check_expr(cc, a->value, ECTX_MATCH_ATTR, found > 0 ? kind : IR_ATTR_UNDEF);
		}
}

void eng_check_term(eng_cc *cc, int p)
{
	eng_pnode *pn = &cc->r->pnodes[p];
	check_operand_shape(cc, pn);
	check_arity(cc, pn);
	pn->commutative = is_commutative(pn);
}

void eng_check_pattern(eng_cc *cc)
{
	if (resolve_pattern(cc))
		check_structure(cc);
	check_pattern_attrs(cc);
}

/* ---------------------------------------------------------------- replacements */

static void remap(eng_roperand *ro, const int *pos)
{
	for (; ro; ro = ro->fallback)
		if (ro->kind == RO_RNODE)
			ro->index = pos[ro->index];
}

static bool visit(eng_cc *cc, int i, char *state, int *order, int *n)
{
	if (state[i] == 2)
		return true;
	if (state[i] == 1) {
		eng_rnode *rn = &cc->r->rnodes[i];
		eng_cc_error(cc, rn->loc, "the replacement has a cycle through '%s'", rn->name ? rn->name : rn->op);
		return false;
	}
	state[i] = 1;
	for (int k = 0; k < cc->r->rnodes[i].nins; k++)
		for (const eng_roperand *ro = &cc->r->rnodes[i].ins[k]; ro; ro = ro->fallback)
			if (ro->kind == RO_RNODE && !visit(cc, ro->index, state, order, n))
				return false;
	state[i] = 2;
	order[(*n)++] = i;
	return true;
}

static void permute(eng_cc *cc, const int *order, int *pos)
{
	eng_rule *r = cc->r;
	eng_rnode *v = eng_alloc(cc->rs, (size_t)r->nrnodes * sizeof *v);
	if (!v) {
		eng_cc_oom(cc, r->rnodes[0].loc);
		return;
	}
	for (int i = 0; i < r->nrnodes; i++) {
		v[i] = r->rnodes[order[i]];
		pos[order[i]] = i;
	}
	r->rnodes = v;
	for (int i = 0; i < r->nrnodes; i++)
		for (int k = 0; k < v[i].nins; k++)
			remap(&v[i].ins[k], pos);
	for (int i = 0; i < r->noutputs; i++)
		remap(&r->outputs[i].with, pos);
}

/* Operands before users; anonymous nodes named after their new index. */
void eng_order_rnodes(eng_cc *cc)
{
	eng_rule *r = cc->r;
	int n = 0, *order = calloc((size_t)r->nrnodes + 1, 2 * sizeof *order);
	char *state = calloc((size_t)r->nrnodes + 1, 1);
	bool ok = order && state;
	for (int i = 0; ok && i < r->nrnodes; i++)
		ok = visit(cc, i, state, order, &n);
	if (ok)
		permute(cc, order, order + r->nrnodes);
	if (!order || !state)
		eng_cc_oom(cc, r->rnodes[0].loc);
	free(order);
	free(state);
	for (int i = 0; i < r->nrnodes && !cc->oom; i++) {
		char name[16];
		if (r->rnodes[i].name)
			continue;
		snprintf(name, sizeof name, "_%d", i);
		const char **names = eng_alloc(cc->rs, sizeof *names);
		if (!names || !(r->rnodes[i].name = eng_strdup(cc->rs, name, strlen(name))))
			return (void)eng_cc_oom(cc, r->rnodes[i].loc);
		if (r->rnodes[i].nresults == 1) {
			names[0] = r->rnodes[i].name;
			r->rnodes[i].result_names = names;
		}
	}
}

void eng_check_rattrs(eng_cc *cc, const eng_rnode *rn)
{
	for (int i = 0; i < rn->nattrs; i++) {
		eng_rattr *a = &rn->attrs[i];
		ir_attr_kind kind = IR_ATTR_UNDEF;
		const char *near;
		if (!a->name)
			continue;
		int found = eng_ops_attr(rn->domain, &rn->op, 1, a->name, &kind, &near);
		if (found == 0 && !rn->func)
			eng_cc_error(cc, a->loc, "%s has no attribute '%s'%s%s%s", rn->op, a->name,
				     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		else if (a->value)
			eng_check_expr(cc, a->value, ECTX_SET_ATTR, found > 0 ? kind : IR_ATTR_UNDEF);
	}
}

/* Every sink (a pattern node no other one uses) must be replaced, unless
 * the replacement is empty (the rule deletes dead code). */
void eng_check_sinks(eng_cc *cc)
{
	const eng_rule *r = cc->r;
	if (r->nrnodes == 0 && r->noutputs == 0)
		return;
	bool *used = calloc((size_t)r->npnodes + 1, sizeof *used);
	if (!used) {
		eng_cc_oom(cc, r->pnodes[0].loc);
		return;
	}
	for (int p = 0; p < r->npnodes; p++)
		for (int i = 0; i < r->pnodes[p].nins; i++)
			if (r->pnodes[p].ins[i].kind == PO_NODE)
				used[r->pnodes[p].ins[i].index] = true;
	for (int i = 0; i < r->noutputs; i++)
		used[r->outputs[i].pnode] = true;
	for (int p = 0; p < r->npnodes; p++)
		if (!used[p])
			eng_cc_error(cc, r->pnodes[p].loc,
				     "the pattern's sink '%s' is not replaced: name %s on the left of a replace line",
				     r->pnodes[p].name, r->pnodes[p].nresults > 1 ? "one of its results" : "it");
	free(used);
}
