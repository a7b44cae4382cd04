/* Graph diff: the entry point.  diff_hash.c orders and hashes both graphs,
 * diff_match.c aligns them, diff_report.c and diff_group.c turn the
 * alignment into the lists of ir_diff, diff_summary.c names the groups. */
#include <math.h>
#include <stdlib.h>

#include "diff_internal.h"

static bool state_init(diff_state *st, const ir_graph *a, const ir_graph *b)
{
	const ir_graph *g[2] = {a, b};
	bool ok = true;
	for (int side = 0; side < 2; side++) {
		ok = diff_side_init(&st->s[side], g[side]) && ok;
		st->nmap[side] = calloc(st->s[side].nnodes, sizeof *st->nmap[side]);
		st->vmap[side] = calloc(st->s[side].nvalues, sizeof *st->vmap[side]);
		st->outmap[side] = calloc(ir_graph_noutputs(g[side]) + 1, sizeof *st->outmap[side]);
		ok = ok && st->nmap[side] && st->vmap[side] && st->outmap[side];
	}
	return ok;
}

static void state_free(diff_state *st)
{
	for (int side = 0; side < 2; side++) {
		diff_side_free(&st->s[side]);
		free(st->nmap[side]);
		free(st->vmap[side]);
		free(st->outmap[side]);
	}
	for (int l = 0; l < DIFF_LEVELS; l++)
		free(st->q[l].v);
}

static bool check_inputs(const ir_graph *a, const ir_graph *b, const ir_diff_opts *o, ir_diags *d)
{
	if (!a || !b || ir_graph_oom(a) || ir_graph_oom(b)) {
		ir_error(d, NULL, 0, 0, "graph diff: a graph is missing or incomplete (out of memory)");
		return false;
	}
	if (o && !(o->tolerance >= 0)) {
		ir_error(d, NULL, 0, 0, "graph diff: the tolerance must be a number >= 0 (got %g)", o->tolerance);
		return false;
	}
	return true;
}

ir_diff *ir_diff_graphs(const ir_graph *a, const ir_graph *b, const ir_diff_opts *o, ir_diags *d)
{
	if (!check_inputs(a, b, o, d))
		return NULL;
	diff_state st = {0};
	if (o)
		st.o = *o;
	ir_diff *r = calloc(1, sizeof *r);
	bool ok = r && state_init(&st, a, b) && diff_match(&st);
	if (r) {
		r->a = a;
		r->b = b;
	}
	ok = ok && diff_report(&st, r);
	if (ok) {
		r->node_a2b = st.nmap[0];
		r->node_b2a = st.nmap[1];
		r->val_a2b = st.vmap[0];
		r->val_b2a = st.vmap[1];
		st.nmap[0] = st.nmap[1] = NULL;
		st.vmap[0] = st.vmap[1] = NULL;
	}
	state_free(&st);
	if (!ok) {
		ir_error(d, NULL, 0, 0, "graph diff: out of memory");
		ir_diff_free(r);
		return NULL;
	}
	return r;
}

void ir_diff_free(ir_diff *r)
{
	if (!r)
		return;
	free(r->node_a2b);
	free(r->node_b2a);
	free(r->val_a2b);
	free(r->val_b2a);
	for (uint32_t i = 0; i < r->ngroups; i++) {
		free(r->groups[i].removed);
		free(r->groups[i].added);
		free(r->groups[i].in.v);
		free(r->groups[i].out.v);
		free(r->groups[i].summary);
	}
	free(r->groups);
	free(r->changes);
	ir_diff_vals *lists[] = {&r->inputs_removed, &r->inputs_added, &r->outputs_removed,
				 &r->outputs_added, &r->consts_removed, &r->consts_added};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		free(lists[i]->v);
	free(r->rewired);
	free(r->shapes);
	free(r);
}
