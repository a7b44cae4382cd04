/* The matching plan of a rule: which pattern node the matcher anchors at
 * (the root, a sink), the order in which the others are bound, and after
 * which step each `where` constraint is decidable.
 *
 * The order is VF2++-like: starting from the root, the next pattern node is
 * the most constrained one adjacent to those already bound.  A node that a
 * bound node uses as an operand is fully determined (its result is a known
 * value, so the graph node is that value's producer); a node that only
 * uses something bound must be searched among that value's users, so it
 * comes later, preferring the one with the most connections to the bound
 * part and the most selective op match.  Other sinks of a multi-sink
 * pattern are joined that way, through shared captures or pattern nodes. */
#include <string.h>

#include "engine_internal.h"

/* How selective an op match is (higher: fewer graph nodes match it). */
static int op_selectivity(const eng_pnode *p)
{
	switch (p->opkind) {
	case OPM_NAMES:
		return p->nnames <= 1 ? 4 : 3;
	case OPM_REGEX:
		return 2;
	case OPM_CLASS:
		return 1;
	case OPM_ANY:
		break;
	}
	return 0;
}

/* True when pattern node q uses pattern node p as an operand. */
static bool uses_pnode(const eng_pnode *q, int p)
{
	for (int k = 0; k < q->nins; k++)
		if (q->ins[k].kind == PO_NODE && q->ins[k].index == p)
			return true;
	return false;
}

/* A capture that can seed a search among its value's users: bound to a
 * single value that is never absent.  Only required (non-optional,
 * non-variadic) occurrences bind such captures. */
static bool firm_capture(const eng_operand *o)
{
	return o->kind == PO_CAPTURE && !o->optional && !o->variadic;
}

/* Operands a chain can be reached through: only its chain input. */
static int reach_operands(const eng_pnode *p)
{
	return p->max_repeat > 1 || p->min_repeat != 1 ? (p->nins > 0 ? 1 : 0) : p->nins;
}

typedef struct planner {
	const eng_rule *r;
	bool *bound;     /* per pattern node */
	bool *cap_firm;  /* per capture: bound to a known value by some bound node */
} planner;

/* Connections of unbound p to the bound part: operands referring to bound
 * pattern nodes or firm captures.  *user is set when a bound node uses p. */
static int connections(const planner *pl, int p, bool *user)
{
	const eng_rule *r = pl->r;
	const eng_pnode *pn = &r->pnodes[p];
	int c = 0;
	*user = false;
	for (int q = 0; q < r->npnodes; q++)
		if (pl->bound[q] && uses_pnode(&r->pnodes[q], p)) {
			*user = true;
			c++;
		}
	int nreach = reach_operands(pn);
	for (int k = 0; k < nreach; k++) {
		const eng_operand *o = &pn->ins[k];
		if (o->kind == PO_NODE && pl->bound[o->index])
			c++;
		else if (firm_capture(o) && pl->cap_firm[o->index])
			c++;
	}
	return c;
}

static void mark_bound(planner *pl, int p)
{
	const eng_pnode *pn = &pl->r->pnodes[p];
	pl->bound[p] = true;
	int nreach = reach_operands(pn);
	for (int k = 0; k < nreach; k++)
		if (firm_capture(&pn->ins[k]))
			pl->cap_firm[pn->ins[k].index] = true;
}

/* The next pattern node to bind, or -1 when none is reachable. */
static int pick_next(const planner *pl)
{
	const eng_rule *r = pl->r;
	int best = -1;
	long best_score = -1;
	for (int p = 0; p < r->npnodes; p++) {
		if (pl->bound[p])
			continue;
		bool user;
		int c = connections(pl, p, &user);
		if (c == 0)
			continue;
		long score = (user ? 1000000L : 0) + c * 100L + op_selectivity(&r->pnodes[p]) * 10L;
		if (score > best_score) {
			best_score = score;
			best = p;
		}
	}
	return best;
}

/* Number of pattern nodes reachable from p through operand edges. */
static int operand_reach(const eng_rule *r, int p, bool *seen)
{
	if (seen[p])
		return 0;
	seen[p] = true;
	int n = 1;
	const eng_pnode *pn = &r->pnodes[p];
	for (int k = 0; k < pn->nins; k++)
		if (pn->ins[k].kind == PO_NODE)
			n += operand_reach(r, pn->ins[k].index, seen);
	return n;
}

/* The root: the sink with the most selective op match, then the largest
 * part of the pattern reachable through its operands, then the first. */
static int pick_root(const eng_rule *r, bool *seen)
{
	int best = -1;
	long best_score = -1;
	for (int s = 0; s < r->nsinks; s++) {
		int p = r->sinks[s];
		memset(seen, 0, (size_t)r->npnodes * sizeof *seen);
		long score = op_selectivity(&r->pnodes[p]) * 100000L + operand_reach(r, p, seen);
		if (score > best_score) {
			best_score = score;
			best = p;
		}
	}
	return best;
}

static bool plan_error(const eng_rule *r, const eng_loc *loc, ir_diags *d, const char *msg,
		       const char *name)
{
	const eng_loc *l = loc ? loc : &r->loc;
	ir_error(d, l->file, l->line, l->col, "rule '%s': %s%s%s", r->name, msg, name ? " " : "",
		 name ? name : "");
	return false;
}

/* A chain's operands: the chain input, then optionally one variadic capture. */
static bool check_chain(const eng_rule *r, const eng_pnode *p, ir_diags *d)
{
	if (p->min_repeat < 1 || p->max_repeat < p->min_repeat)
		return plan_error(r, &p->loc, d, "bad repetition bounds on pattern node", p->name);
	if (p->nins < 1 || p->ins[0].variadic)
		return plan_error(r, &p->loc, d, "a chain needs its chain input as first operand:", p->name);
	if (p->nins > 2 || (p->nins == 2 && (!p->ins[1].variadic || p->ins[1].kind != PO_CAPTURE)))
		return plan_error(r, &p->loc, d,
				  "a chain takes its input and at most one variadic capture ($rest...):",
				  p->name);
	if (p->nresults != 1)
		return plan_error(r, &p->loc, d, "a chain has exactly one result:", p->name);
	return true;
}

static bool check_pnodes(const eng_rule *r, ir_diags *d)
{
	for (int p = 0; p < r->npnodes; p++) {
		const eng_pnode *pn = &r->pnodes[p];
		if ((pn->min_repeat != 1 || pn->max_repeat != 1) && !check_chain(r, pn, d))
			return false;
		for (int k = 0; k < pn->nins; k++) {
			const eng_operand *o = &pn->ins[k];
			if (o->variadic && k != pn->nins - 1)
				return plan_error(r, &o->loc, d, "a variadic operand must be the last one of",
						  pn->name);
			if (o->kind == PO_NODE &&
			    (o->index < 0 || o->index >= r->npnodes || o->index == p ||
			     o->result >= r->pnodes[o->index].nresults))
				return plan_error(r, &o->loc, d, "bad pattern operand in", pn->name);
		}
	}
	return true;
}

static void find_sinks(const eng_rule *r, int *sinks, int *nsinks)
{
	*nsinks = 0;
	for (int p = 0; p < r->npnodes; p++) {
		bool used = false;
		for (int q = 0; q < r->npnodes && !used; q++)
			used = q != p && uses_pnode(&r->pnodes[q], p);
		if (!used)
			sinks[(*nsinks)++] = p;
	}
}

/* The step after which every capture and pattern node e mentions is bound. */
static int ex_step(const eng_ex *e, const int *cap_step, const int *node_step)
{
	if (!e)
		return 0;
	int s = 0;
	if (e->kind == EX_CAPTURE && e->ref >= 0)
		s = cap_step[e->ref];
	else if (e->kind == EX_NODE && e->ref >= 0)
		s = node_step[e->ref];
	for (int i = 0; i < e->nargs; i++) {
		int t = ex_step(e->args[i], cap_step, node_step);
		if (t > s)
			s = t;
	}
	return s;
}

/* cap_step: the first step binding each capture (any occurrence binds it,
 * optional ones to "absent"). */
static void capture_steps(const eng_rule *r, int *cap_step, int *node_step)
{
	for (int c = 0; c < r->ncaptures; c++)
		cap_step[c] = r->npnodes - 1;
	for (int i = r->npnodes - 1; i >= 0; i--) {
		const eng_pnode *pn = &r->pnodes[r->order[i]];
		node_step[r->order[i]] = i;
		for (int k = 0; k < pn->nins; k++)
			if (pn->ins[k].kind == PO_CAPTURE)
				cap_step[pn->ins[k].index] = i;
	}
}

static bool plan_order(eng_rule *r, planner *pl, ir_diags *d)
{
	r->order[0] = r->root;
	mark_bound(pl, r->root);
	for (int i = 1; i < r->npnodes; i++) {
		int p = pick_next(pl);
		if (p < 0) {
			for (p = 0; pl->bound[p]; p++)
				;
			return plan_error(r, &r->pnodes[p].loc, d,
					  "pattern is not connected: cannot reach pattern node",
					  r->pnodes[p].name);
		}
		r->order[i] = p;
		mark_bound(pl, p);
	}
	return true;
}

bool eng_plan(eng_ruleset *rs, eng_rule *r, ir_diags *d)
{
	if (r->npnodes < 1)
		return plan_error(r, NULL, d, "empty pattern", NULL);
	if (!check_pnodes(r, d))
		return false;
	size_t np = (size_t)r->npnodes, nc = (size_t)(r->ncaptures > 0 ? r->ncaptures : 1);
	r->order = eng_alloc(rs, np * sizeof *r->order);
	r->sinks = eng_alloc(rs, np * sizeof *r->sinks);
	r->where_step = eng_alloc(rs, (size_t)(r->nwhere > 0 ? r->nwhere : 1) * sizeof *r->where_step);
	planner pl = {r, eng_alloc(rs, np * sizeof(bool)), eng_alloc(rs, nc * sizeof(bool))};
	int *cap_step = eng_alloc(rs, nc * sizeof(int)), *node_step = eng_alloc(rs, np * sizeof(int));
	if (!r->order || !r->sinks || !r->where_step || !pl.bound || !pl.cap_firm || !cap_step ||
	    !node_step) {
		ir_error(d, r->loc.file, r->loc.line, r->loc.col, "out of memory");
		return false;
	}
	find_sinks(r, r->sinks, &r->nsinks);
	if (r->nsinks == 0)
		return plan_error(r, NULL, d, "the pattern has no sink (its nodes use each other in a cycle)",
				  NULL);
	r->root = pick_root(r, pl.bound);
	memset(pl.bound, 0, np * sizeof(bool));
	if (!plan_order(r, &pl, d))
		return false;
	capture_steps(r, cap_step, node_step);
	for (int w = 0; w < r->nwhere; w++)
		r->where_step[w] = ex_step(r->where[w], cap_step, node_step);
	bool ok = eng_plan_checks(rs, r);
	for (int p = 0; ok && p < r->npnodes; p++)
		ok = eng_pnode_opcodes(&r->pnodes[p]);
	if (!ok)
		ir_error(d, r->loc.file, r->loc.line, r->loc.col, "out of memory");
	return ok;
}

/* ---------------------------------------------------------------- heights */

#define HEIGHT_CAP 64

static int height(const eng_rule *r, int p, int *memo)
{
	if (memo[p] >= 0)
		return memo[p];
	const eng_pnode *pn = &r->pnodes[p];
	int links = pn->max_repeat < HEIGHT_CAP ? pn->max_repeat : HEIGHT_CAP, below = 0;
	memo[p] = 0; /* patterns are acyclic (the front end checks); this bounds the recursion */
	for (int q = 0; q < r->npnodes; q++)
		if (q != p && uses_pnode(&r->pnodes[q], p)) {
			int h = 1 + height(r, q, memo);
			below = h > below ? h : below;
		}
	memo[p] = (links > 1 ? links : 1) - 1 + below;
	if (memo[p] > HEIGHT_CAP)
		memo[p] = HEIGHT_CAP;
	return memo[p];
}

void eng_plan_heights(const eng_rule *r, int *heights)
{
	for (int p = 0; p < r->npnodes; p++)
		heights[p] = -1;
	for (int p = 0; p < r->npnodes; p++)
		height(r, p, heights);
}
