/* The fixpoint driver: order (phase, benefit, graph order), the report,
 * enabling rules, non-converging rule sets, and that the worklist reaches
 * the same fixpoint a full rescan would (no match is left). */
#include "engtest.h"

static char *print_graph(const ir_graph *g)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	ir_print_opts po = {-1, NULL};
	ir_print(g, f, &po, NULL, NULL);
	fclose(f);
	return text;
}

Test(driver, higher_benefit_first)
{
	/* low is listed first, but high claims the Relu it shares with low */
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: low\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = graft::Low($x)\n"
				   "  - name: high\n"
				   "    benefit: 5\n"
				   "    pattern: |\n"
				   "      a = Add($x, $y)\n"
				   "      r = Relu(a)\n"
				   "    replace: |\n"
				   "      r = graft::AddRelu($x, $y)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4], %y: f32[4]) -> (%r2) {\n"
			       "  %r1 = Relu(%x)\n"
			       "  %a = Add(%r1, %y)\n"
			       "  %r2 = Relu(%a)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(et_count(g, "AddRelu"), 1);
	cr_assert_eq(et_count(g, "Low"), 1);
	cr_assert_eq(rep.n, 2);
	cr_assert_str_eq(rep.v[0].rule, "high", "the higher benefit applies first everywhere");
	cr_assert_str_eq(rep.v[1].rule, "low");
	cr_assert_eq(rep.nodes_before, 3);
	cr_assert_eq(rep.nodes_after, 2);
	cr_assert(rep.converged);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* The report counts the rewrites per rule in the order of each rule's
 * first rewrite, with records or (eng_options.records off) without: the
 * counts do not depend on them. */
Test(driver, counts_per_rule_with_and_without_records)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: relu_sigmoid\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = Sigmoid($x)\n"
				   "  - name: neg_neg\n"
				   "    benefit: 5\n"
				   "    pattern: |\n"
				   "      n = Neg(Neg($x))\n"
				   "    replace: |\n"
				   "      n = $x\n");
	const char *gir = "graph @g(%x: f32[4]) -> (%o) {\n"
			  "  %a = Relu(%x)\n"
			  "  %b = Neg(%a)\n"
			  "  %c = Neg(%b)\n"
			  "  %d = Relu(%c)\n"
			  "  %e = Neg(%d)\n"
			  "  %f = Neg(%e)\n"
			  "  %o = Relu(%f)\n"
			  "}\n";
	for (int records = 0; records < 2; records++) {
		ir_graph *g = et_graph(gir);
		eng_options o = eng_default_options();
		o.verify_each = true;
		o.records = records;
		eng_report rep;
		ir_diags d;
		ir_diags_init(&d);
		cr_assert(eng_apply(rs, g, &o, &rep, &d));
		cr_assert_eq(rep.iterations, 5);
		cr_assert_eq(rep.n, records ? 5u : 0u, "records %d: %zu records", records, rep.n);
		cr_assert_eq(rep.nrules, 2);
		cr_assert_str_eq(rep.rules[0], "neg_neg");
		cr_assert_eq(rep.counts[0], 2);
		cr_assert_str_eq(rep.rules[1], "relu_sigmoid");
		cr_assert_eq(rep.counts[1], 3);
		cr_assert_eq(et_count(g, "Sigmoid"), 3);
		eng_report_free(&rep);
		ir_diags_free(&d);
		ir_graph_free(g);
	}
	eng_ruleset_free(rs);
}

/* A revisit is queued only when a rule could match there (the root's op
 * and its operands' producers' ops): the Relu is no ReluNeg root while its
 * operand comes from a Tanh or a Sigmoid, and becomes one when the lower
 * group's second rewrite gives it a Neg -- that edit touches it again. */
Test(driver, revisits_follow_each_change_of_the_operands)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: relu_neg\n"
				   "    benefit: 5\n"
				   "    pattern: |\n"
				   "      r = Relu(Neg($x))\n"
				   "    replace: |\n"
				   "      r = graft::ReluNeg($x)\n"
				   "  - name: tanh_to_sigmoid\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      t = Tanh($x)\n"
				   "    replace: |\n"
				   "      t = Sigmoid($x)\n"
				   "  - name: sigmoid_to_neg\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      s = Sigmoid($x)\n"
				   "    replace: |\n"
				   "      s = Neg($x)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r, %q) {\n"
			       "  %t = Tanh(%x)\n"
			       "  %r = Relu(%t)\n"
			       "  %q = Relu(%x)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 3);
	cr_assert_str_eq(rep.v[0].rule, "tanh_to_sigmoid");
	cr_assert_str_eq(rep.v[1].rule, "sigmoid_to_neg");
	cr_assert_str_eq(rep.v[2].rule, "relu_neg", "the Relu was visited again after its operand became a Neg");
	cr_assert_eq(et_count(g, "ReluNeg"), 1);
	cr_assert_eq(et_count(g, "Relu"), 1, "the other Relu never had a Neg operand");
	cr_assert_eq(et_count(g, "Neg") + et_count(g, "Sigmoid") + et_count(g, "Tanh"), 0);
	cr_assert(rep.converged);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* A rewrite may move a node that a lower group's sweep has passed to after
 * that sweep's position (the region moves behind the replacement): the
 * sweep will not come back to it, so it is revisited.  Here the pair
 * matches only once erf_to_neg has run (its Tanh then takes a Neg), while
 * the lower group's sweep stands at %y2; the Relu %r, passed already, moves
 * behind %q and takes graft::P, which relu_p then fuses. */
Test(driver, moved_nodes_are_revisited_by_sweeps_they_passed)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: pair\n"
				   "    benefit: 5\n"
				   "    pattern: |\n"
				   "      p = Sigmoid($x)\n"
				   "      q = Tanh(Neg($x))\n"
				   "    replace: |\n"
				   "      p = graft::P($x)\n"
				   "      q = graft::Q($x)\n"
				   "  - name: erf_to_neg\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      e = Erf($y)\n"
				   "    replace: |\n"
				   "      e = Neg($y)\n"
				   "  - name: relu_p\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      r = Relu(graft::P($y))\n"
				   "    replace: |\n"
				   "      r = graft::RP($y)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r, %y2, %q) {\n"
			       "  %p = Sigmoid(%x)\n"
			       "  %r = Relu(%p)\n"
			       "  %w = Erf(%x)\n"
			       "  %y2 = Relu(%x)\n"
			       "  %q = Tanh(%w)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 3);
	cr_assert_str_eq(rep.v[0].rule, "erf_to_neg");
	cr_assert_str_eq(rep.v[1].rule, "pair");
	cr_assert_str_eq(rep.v[2].rule, "relu_p", "the moved Relu was visited again");
	cr_assert_eq(et_count(g, "RP"), 1);
	cr_assert_eq(et_count(g, "Q"), 1);
	cr_assert_eq(et_count(g, "P") + et_count(g, "Sigmoid") + et_count(g, "Erf"), 0);
	cr_assert_eq(et_verify(g), 0);
	cr_assert(rep.converged);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* A node a higher group makes lies ahead of a lower group's sweep, which
 * collected its nodes before: that group must still visit it.  Here %b
 * becomes a Tanh while tanh_relu's sweep has not started (it stands at %a,
 * before the change), and only tanh_relu's rules can be anchored at a
 * Tanh; a second application must find nothing. */
Test(driver, new_nodes_ahead_of_a_lower_sweep_are_visited)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: sigmoid_tanh\n"
				   "    benefit: 10\n"
				   "    pattern: |\n"
				   "      y = Sigmoid($x)\n"
				   "    replace: |\n"
				   "      y = Tanh($x)\n"
				   "  - name: tanh_relu\n"
				   "    benefit: 1\n"
				   "    pattern: |\n"
				   "      y = Tanh($x)\n"
				   "    replace: |\n"
				   "      y = Relu($x)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%a, %b) {\n"
			       "  %a = Tanh(%x)\n"
			       "  %b = Sigmoid(%x)\n"
			       "}\n");
	eng_report rep, again;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 3, "%zu rewrites", rep.n);
	cr_assert_eq(et_count(g, "Relu"), 2);
	cr_assert_eq(et_count(g, "Tanh") + et_count(g, "Sigmoid"), 0);
	cr_assert(et_apply(rs, g, &again, &d));
	cr_assert_eq(again.n, 0, "the first application reached the fixpoint");
	eng_report_free(&again);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(driver, lower_phases_run_first)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: later\n"
				   "    phase: 1\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = Sigmoid($x)\n"
				   "  - name: earlier\n"
				   "    phase: 0\n"
				   "    pattern: |\n"
				   "      r = Sigmoid($x)\n"
				   "    replace: |\n"
				   "      r = Tanh($x)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r) {\n  %r = Relu(%x)\n}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(et_count(g, "Sigmoid"), 1, "phase 0 is done when phase 1 creates its pattern");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(driver, rules_that_undo_each_other_stop_with_a_diagnostic)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: a_to_b\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = Sigmoid($x)\n"
				   "  - name: b_to_a\n"
				   "    pattern: |\n"
				   "      r = Sigmoid($x)\n"
				   "    replace: |\n"
				   "      r = Relu($x)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r) {\n  %r = Relu(%x)\n}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(et_apply(rs, g, &rep, &d));
	cr_assert_not(rep.converged);
	cr_assert(ir_diags_contains(&d, "fixpoint"));
	cr_assert(ir_diags_contains(&d, "'a_to_b'") && ir_diags_contains(&d, "'b_to_a'"));
	cr_assert_eq(et_verify(g), 0, "the graph is still valid");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(driver, a_rule_that_regrows_what_it_removes_stops)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: regrow\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = Relu(Neg(Neg($x)))\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r) {\n  %r = Relu(%x)\n}\n");
	eng_options o = eng_default_options();
	o.max_iterations = 200;
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(eng_apply(rs, g, &o, &rep, &d));
	cr_assert_eq(rep.iterations, 200);
	cr_assert(ir_diags_contains(&d, "'regrow' (64)"), "the last 64 rewrites are all by regrow");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(driver, disabled_rules_do_not_apply)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: one\n"
				   "    pattern: |\n"
				   "      r = Relu($x)\n"
				   "    replace: |\n"
				   "      r = Sigmoid($x)\n"
				   "  - name: two\n"
				   "    pattern: |\n"
				   "      r = Neg($x)\n"
				   "    replace: |\n"
				   "      r = Tanh($x)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%a, %b) {\n  %a = Relu(%x)\n  %b = Neg(%x)\n}\n");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(eng_ruleset_enable(rs, "one", false, &d));
	cr_assert_not(eng_ruleset_enable(rs, "three", false, &d));
	eng_report rep;
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(et_count(g, "Relu"), 1);
	cr_assert_eq(et_count(g, "Tanh"), 1);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* ---------------------------------------------------------------- the worklist reaches the fixpoint */

static const char *simplify =
	"rules:\n"
	"  - name: double_neg\n"
	"    pattern: |\n"
	"      n = Neg(Neg($x))\n"
	"    replace: |\n"
	"      n = $x\n"
	"  - name: relu_relu\n"
	"    pattern: |\n"
	"      r = Relu(Relu($x))\n"
	"    replace: |\n"
	"      r = Relu($x)\n"
	"  - name: identity\n"
	"    pattern: |\n"
	"      y = Identity($x)\n"
	"    replace: |\n"
	"      y = $x\n"
	"  - name: add_relu\n"
	"    benefit: 3\n"
	"    pattern: |\n"
	"      a = Add($x, $y)\n"
	"      r = Relu(a)\n"
	"    replace: |\n"
	"      r = graft::AddRelu($x, $y)\n"
	"  - name: sub_self\n"
	"    pattern: |\n"
	"      s = Sub($x, Neg($y))\n"
	"    replace: |\n"
	"      s = Add($x, $y)\n"
	"  - name: shared\n"
	"    pattern: |\n"
	"      a = Sigmoid($x)\n"
	"      b = Tanh($x)\n"
	"    replace: |\n"
	"      a = graft::SigA($x)\n"
	"      b = graft::TanhB($x)\n"
	/* a multi-sink match that a lower group's rewrite enables (erf_to_neg
	 * makes the Neg), whose region can move nodes that group's sweep has
	 * passed ahead of it; relu_siga then matches there */
	"  - name: pair\n"
	"    benefit: 5\n"
	"    pattern: |\n"
	"      a = Sigmoid($x)\n"
	"      b = Tanh(Neg($x))\n"
	"    replace: |\n"
	"      a = graft::SigA($x)\n"
	"      b = graft::TanhN($x)\n"
	"  - name: erf_to_neg\n"
	"    pattern: |\n"
	"      e = Erf($x)\n"
	"    replace: |\n"
	"      e = Neg($x)\n"
	"  - name: relu_siga\n"
	"    pattern: |\n"
	"      r = Relu(graft::SigA($x))\n"
	"    replace: |\n"
	"      r = graft::ReluSigA($x)\n"
	/* a higher group makes a node only a lower group's rules can be
	 * anchored at, possibly ahead of that group's sweep */
	"  - name: relu_neg\n"
	"    benefit: 2\n"
	"    pattern: |\n"
	"      r = Relu(Neg($x))\n"
	"    replace: |\n"
	"      r = Identity(graft::RN($x))\n";

/* A random DAG of the ops the rules above look at. */
static char *random_graph(unsigned seed, int nodes)
{
	static const char *const unary[] = {"Neg", "Relu", "Identity", "Sigmoid", "Tanh", "Erf"};
	static const char *const binary[] = {"Add", "Sub"};
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	fprintf(f, "graph @g(%%x: f32[4], %%y: f32[4]) -> (%%v%d) {\n", nodes - 1);
	for (int i = 0; i < nodes; i++) {
		seed = seed * 1103515245u + 12345u;
		int pick = (int)(seed >> 16) % 8;
		int a = i ? (int)((seed >> 8) % (unsigned)i) : -1;
		int b = i ? (int)((seed >> 20) % (unsigned)i) : -1;
		char sa[16], sb[16];
		snprintf(sa, sizeof sa, a < 0 ? "x" : "v%d", a);
		snprintf(sb, sizeof sb, b < 0 || (seed & 1) ? "y" : "v%d", b);
		if (i > 2 && (seed >> 28) % 3 == 0) /* favour chains */
			snprintf(sa, sizeof sa, "v%d", i - 1);
		if (pick < 6)
			fprintf(f, "  %%v%d = %s(%%%s)\n", i, unary[pick], sa);
		else
			fprintf(f, "  %%v%d = %s(%%%s, %%%s)\n", i, binary[pick - 6], sa, sb);
	}
	fprintf(f, "}\n");
	fclose(f);
	return text;
}

Test(driver, worklist_reaches_the_fixpoint_deterministically)
{
	eng_ruleset *rs = et_rules(simplify);
	for (unsigned seed = 1; seed <= 20000; seed++) {
		char *gir = random_graph(seed, 10 + (int)(seed % 60));
		ir_graph *g1 = et_graph(gir), *g2 = et_graph(gir);
		eng_report rep;
		ir_diags d;
		ir_diags_init(&d);
		cr_assert(et_apply(rs, g1, &rep, &d), "seed %u", seed);
		eng_report_free(&rep);
		cr_assert(et_apply(rs, g2, &rep, &d));
		eng_report_free(&rep);
		cr_assert_eq(et_verify(g1), 0, "seed %u", seed);
		/* a fresh run sweeps the whole graph: it must find nothing to do */
		cr_assert(et_apply(rs, g1, &rep, &d));
		cr_assert_eq(rep.iterations, 0, "seed %u: %zu rewrites left after the fixpoint (first: %s)", seed,
			     rep.iterations, rep.n ? rep.v[0].rule : "");
		eng_report_free(&rep);
		char *p1 = print_graph(g1), *p2 = print_graph(g2);
		cr_assert_str_eq(p1, p2, "seed %u: two runs differ", seed);
		free(p1);
		free(p2);
		ir_diags_free(&d);
		ir_graph_free(g1);
		ir_graph_free(g2);
		free(gir);
	}
	eng_ruleset_free(rs);
}

Test(driver, match_budget_warns_and_the_driver_goes_on)
{
	/* 30 Adds share %x: the pattern asks for three of them and a constraint
	 * only the last binding decides (never true): the budget cuts it short */
	char *gir = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&gir, &n);
	fprintf(f, "graph @g(%%x: f32[4], %%y: f32[4]) -> (%%r");
	for (int i = 0; i < 30; i++)
		fprintf(f, ", %%a%d", i);
	fprintf(f, ") {\n  %%s = Relu(%%x)\n  %%r = Relu(%%s)\n");
	for (int i = 0; i < 30; i++)
		fprintf(f, "  %%a%d = Add(%%x, %%y)\n", i);
	fprintf(f, "}\n");
	fclose(f);
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: three\n"
				   "    allow_escape: true\n"
				   "    pattern: |\n"
				   "      a = Add($x, $p)\n"
				   "      b = Add($x, $q)\n"
				   "      c = Add($x, $r)\n"
				   "    where: uses($r) == 1000\n"
				   "    replace: |\n"
				   "      a = Add($x, $p)\n"
				   "      b = Add($x, $q)\n"
				   "      c = Add($x, $r)\n"
				   "  - name: relu_relu\n"
				   "    pattern: |\n"
				   "      r = Relu(Relu($x))\n"
				   "    replace: |\n"
				   "      r = Relu($x)\n");
	ir_graph *g = et_graph(gir);
	eng_options o = eng_default_options();
	o.match_budget = 500;
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(eng_apply(rs, g, &o, &rep, &d));
	cr_assert(ir_diags_contains(&d, "rule 'three': the match budget (500 steps) ran out in"));
	cr_assert_eq(rep.iterations, 1, "the other rules still apply");
	cr_assert_eq(et_count(g, "Relu"), 1);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
	free(gir);
}
