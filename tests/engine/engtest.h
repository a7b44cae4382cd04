/* Helpers shared by the engine's back-end tests: graphs from .gir text,
 * rule sets from YAML text, counting ops, running the simulator. */
#ifndef GRAFT_TESTS_ENGTEST_H
#define GRAFT_TESTS_ENGTEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

/* Parses .gir text (the "graft 1" header is added) and infers types. */
static inline ir_graph *et_graph(const char *body)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	fprintf(f, "graft 1\n%s", body);
	fclose(f);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(text, n, "test.gir", NULL, 0, &d);
	if (g)
		ir_infer(g, &d, "test.gir");
	if (!g || d.nerrors) {
		ir_diags_print(&d, stderr);
		cr_assert_fail("cannot parse the test graph");
	}
	ir_diags_free(&d);
	free(text);
	return g;
}

/* Loads a rule set from YAML text; fails the test on any error. */
static inline eng_ruleset *et_rules(const char *yaml)
{
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	bool ok = eng_load_text(rs, yaml, strlen(yaml), "test.yaml", &d);
	if (!ok) {
		ir_diags_print(&d, stderr);
		cr_assert_fail("cannot load the test rules");
	}
	ir_diags_free(&d);
	return rs;
}

static inline size_t et_count(const ir_graph *g, const char *op)
{
	size_t n = 0;
	for (ir_nid x = ir_graph_first(g); x; x = ir_node_at(g, x)->next)
		if (strcmp(ir_cstr(g, ir_node_at(g, x)->op), op) == 0)
			n++;
	return n;
}

/* The live node named name (0 when none). */
static inline ir_nid et_node(const ir_graph *g, const char *name)
{
	for (ir_nid x = ir_graph_first(g); x; x = ir_node_at(g, x)->next)
		if (strcmp(ir_cstr(g, ir_node_at(g, x)->name), name) == 0)
			return x;
	return 0;
}

/* The value named name among inputs, constants and node results. */
static inline ir_val et_value(const ir_graph *g, const char *name)
{
	for (ir_val v = 1; v <= ir_nvalues(g); v++) {
		const ir_value *x = ir_value_at(g, v);
		if (x->def_kind != IR_DEF_NONE && strcmp(ir_cstr(g, x->name), name) == 0)
			return v;
	}
	return 0;
}

static inline size_t et_verify(const ir_graph *g)
{
	ir_diags d;
	ir_diags_init(&d);
	size_t n = ir_verify(g, &d, "test.gir");
	if (n)
		ir_diags_print(&d, stderr);
	ir_diags_free(&d);
	return n;
}

/* Applies rs to g with default options; returns eng_apply's result. */
static inline bool et_apply(const eng_ruleset *rs, ir_graph *g, eng_report *rep, ir_diags *d)
{
	eng_options o = eng_default_options();
	o.verify_each = true;
	return eng_apply(rs, g, &o, rep, d);
}

/* Runs g on seeded random inputs; *out holds its outputs. */
static inline void et_run(const ir_graph *g, uint64_t seed, sim_tensor **in, size_t *nin, sim_tensor **out,
			  size_t *nout)
{
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_random_inputs(g, seed, in, nin, &d), SIM_OK);
	sim_status st = sim_run(g, NULL, *in, *nin, out, nout, &d);
	if (st != SIM_OK)
		ir_diags_print(&d, stderr);
	cr_assert_eq(st, SIM_OK);
	ir_diags_free(&d);
}

#endif
