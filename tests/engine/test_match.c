/* The matcher: op matches, operands (commutative, optional, variadic,
 * wildcards, repeated captures), chains, multi-sink patterns, constraints,
 * no-escape, explanations and the match budget. */
#include "engtest.h"

static size_t nmatches(const char *yaml, const char *gir)
{
	eng_ruleset *rs = et_rules(yaml);
	ir_graph *g = et_graph(gir);
	eng_matches m = {0};
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(eng_find_matches(rs, NULL, g, &m, &d));
	size_t n = m.n;
	eng_matches_free(&m);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
	return n;
}

static const char *add_relu =
	"rules:\n"
	"  - name: add_relu\n"
	"    pattern: |\n"
	"      a = Add($x, $y)\n"
	"      r = Relu(a)\n"
	"    replace: |\n"
	"      r = graft::AddRelu($x, $y)\n";

static const char *two_add_relu =
	"graph @g(%x: f32[4], %y: f32[4]) -> (%r1, %r2, %s) {\n"
	"  %a1 = Add(%x, %y) @add1\n"
	"  %r1 = Relu(%a1) @relu1\n"
	"  %a2 = Add(%y, %x) @add2\n"
	"  %r2 = Relu(%a2) @relu2\n"
	"  %s = Sigmoid(%a2) @sig\n"
	"}\n";

Test(match, no_escape_by_default)
{
	/* add2's result also feeds a Sigmoid: fusing it would lose that value */
	cr_assert_eq(nmatches(add_relu, two_add_relu), 1);
}

Test(match, allow_escape_relaxes_no_escape)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml, "%s    allow_escape: true\n", add_relu);
	cr_assert_eq(nmatches(yaml, two_add_relu), 2);
}

Test(match, graph_outputs_escape)
{
	const char *g = "graph @g(%x: f32[4], %y: f32[4]) -> (%r, %a) {\n"
			"  %a = Add(%x, %y)\n"
			"  %r = Relu(%a)\n"
			"}\n";
	cr_assert_eq(nmatches(add_relu, g), 0);
}

Test(match, commutative_operands_match_in_either_order)
{
	const char *rules = "rules:\n"
			    "  - name: r\n"
			    "    pattern: |\n"
			    "      s = Sigmoid($y)\n"
			    "      a = Add(s, $x)\n"
			    "    replace: |\n"
			    "      a = Mul($x, $y)\n"
			    "  - name: nc\n"
			    "    pattern: |\n"
			    "      s = Sigmoid($y)\n"
			    "      a = Sub(s, $x)\n"
			    "    replace: |\n"
			    "      a = Mul($x, $y)\n";
	const char *g = "graph @g(%x: f32[4], %y: f32[4]) -> (%a, %b) {\n"
			"  %s = Sigmoid(%y)\n"
			"  %a = Add(%x, %s)\n"
			"  %t = Sigmoid(%x)\n"
			"  %b = Sub(%y, %t)\n"
			"}\n";
	cr_assert_eq(nmatches(rules, g), 1); /* the Add in swapped order; not the Sub */
}

Test(match, same_capture_twice_is_the_same_value)
{
	const char *rules = "rules:\n"
			    "  - name: square\n"
			    "    pattern: |\n"
			    "      m = Mul($x, $x)\n"
			    "    replace: |\n"
			    "      m = Pow($x, const(2.0))\n";
	const char *g = "graph @g(%x: f32[4], %y: f32[4]) -> (%a, %b) {\n"
			"  %a = Mul(%x, %x)\n"
			"  %b = Mul(%x, %y)\n"
			"}\n";
	cr_assert_eq(nmatches(rules, g), 1);
}

Test(match, optional_operands)
{
	const char *rules = "rules:\n"
			    "  - name: conv\n"
			    "    pattern: |\n"
			    "      c = Conv($x, $w, $b?)\n"
			    "    where: $b == none\n"
			    "    replace: |\n"
			    "      c = Conv($x, $w)\n"
			    "  - name: conv_any\n"
			    "    pattern: |\n"
			    "      c = Conv($x, $w, _?)\n"
			    "    replace: |\n"
			    "      c = Conv($x, $w)\n"
			    "  - name: conv_bias\n"
			    "    pattern: |\n"
			    "      c = Conv($x, $w, $b)\n"
			    "    replace: |\n"
			    "      c = Conv($x, $w, $b)\n";
	const char *g = "graph @g(%x: f32[1,2,4,4], %w: f32[2,2,1,1], %b: f32[2]) -> (%c1, %c2) {\n"
			"  %c1 = Conv(%x, %w)\n"
			"  %c2 = Conv(%x, %w, %b)\n"
			"}\n";
	/* conv: c1 only; conv_any: both; conv_bias: c2 only */
	cr_assert_eq(nmatches(rules, g), 4);
}

Test(match, variadic_list_capture)
{
	const char *rules = "rules:\n"
			    "  - name: cat3\n"
			    "    pattern: |\n"
			    "      c = Concat($first, $rest...)\n"
			    "    where: len($rest) == 2\n"
			    "    replace: |\n"
			    "      c = Concat($rest, $first) {axis = 0}\n";
	const char *g = "graph @g(%x: f32[2], %y: f32[2], %z: f32[2]) -> (%a, %b) {\n"
			"  %a = Concat(%x, %y, %z) {axis=0}\n"
			"  %b = Concat(%x, %y) {axis=0}\n"
			"}\n";
	cr_assert_eq(nmatches(rules, g), 1);
}

Test(match, op_alternatives_regex_class_and_any)
{
	const char *rules = "rules:\n"
			    "  - name: alt\n"
			    "    pattern: |\n"
			    "      r = Relu|Sigmoid($x)\n"
			    "    replace: |\n"
			    "      r = $x\n"
			    "  - name: re\n"
			    "    pattern: |\n"
			    "      r = /Reduce(Mean|Sum)/($x)\n"
			    "    replace: |\n"
			    "      r = $x\n"
			    "  - name: cls\n"
			    "    pattern: |\n"
			    "      r = @elementwise+unary($x)\n"
			    "    replace: |\n"
			    "      r = $x\n"
			    "  - name: any\n"
			    "    pattern: |\n"
			    "      r = *($x, $y)\n"
			    "    replace: |\n"
			    "      r = $x\n";
	const char *g = "graph @g(%x: f32[4]) -> (%a, %b, %c, %d, %e) {\n"
			"  %a = Relu(%x)\n"
			"  %b = Sigmoid(%x)\n"
			"  %c = Tanh(%x)\n"
			"  %d = ReduceSum(%x) {keepdims=0}\n"
			"  %e = Add(%x, %x)\n"
			"}\n";
	/* alt: a, b; re: d; cls: a, b, c; any: e */
	cr_assert_eq(nmatches(rules, g), 2 + 1 + 3 + 1);
}

Test(match, wildcards)
{
	const char *rules = "rules:\n"
			    "  - name: w\n"
			    "    pattern: |\n"
			    "      s = Sub(_, $y)\n"
			    "    replace: |\n"
			    "      s = Neg($y)\n";
	const char *g = "graph @g(%x: f32[4], %y: f32[4]) -> (%a, %b) {\n"
			"  %a = Sub(%x, %y)\n"
			"  %b = Sub(%y, %x)\n"
			"}\n";
	cr_assert_eq(nmatches(rules, g), 2);
}

static const char *chain_rule =
	"rules:\n"
	"  - name: chain\n"
	"    pattern: |\n"
	"      c = @elementwise+unary[2..3]($x)\n"
	"    replace: |\n"
	"      c = $x\n";

Test(match, chains_bind_runs_of_single_use_links)
{
	/* r1 -> r2 -> r3 -> r4: anchored at r2 (length 2), r3 (2, 3), r4 (2, 3) */
	const char *g = "graph @g(%x: f32[4]) -> (%r4) {\n"
			"  %r1 = Relu(%x)\n"
			"  %r2 = Sigmoid(%r1)\n"
			"  %r3 = Tanh(%r2)\n"
			"  %r4 = Neg(%r3)\n"
			"}\n";
	cr_assert_eq(nmatches(chain_rule, g), 5);
}

Test(match, chain_links_must_have_one_use)
{
	/* r2 also feeds an output: the chain cannot run through it */
	const char *g = "graph @g(%x: f32[4]) -> (%r4, %r2) {\n"
			"  %r1 = Relu(%x)\n"
			"  %r2 = Sigmoid(%r1)\n"
			"  %r3 = Tanh(%r2)\n"
			"  %r4 = Neg(%r3)\n"
			"}\n";
	/* r2 (r1,r2): 1; r3 cannot extend past r2 (two uses); r4 (r3,r4): 1 —
	 * but a chain ending at r2 replaces an output value without escaping:
	 * r2 is the chain's result, which the replacement maps */
	cr_assert_eq(nmatches(chain_rule, g), 2);
}

Test(match, chain_collects_other_operands)
{
	const char *rules = "rules:\n"
			    "  - name: ew\n"
			    "    pattern: |\n"
			    "      c = @elementwise[2..2]($x, $rest...)\n"
			    "    where: len($rest) == 2\n"
			    "    replace: |\n"
			    "      c = graft::Sum($x, $rest)\n";
	const char *g = "graph @g(%x: f32[4], %a: f32[4], %b: f32[4]) -> (%r) {\n"
			"  %m = Mul(%x, %a)\n"
			"  %r = Sub(%m, %b)\n"
			"}\n";
	/* Mul is commutative: the chain input may be x or a (the same nodes:
	 * listed once) */
	cr_assert_eq(nmatches(rules, g), 1);
}

Test(match, multi_sink_patterns_join_through_captures)
{
	const char *rules = "rules:\n"
			    "  - name: pair\n"
			    "    pattern: |\n"
			    "      a = Relu($x)\n"
			    "      b = Sigmoid($x)\n"
			    "    replace: |\n"
			    "      a = Relu($x)\n"
			    "      b = Sigmoid($x)\n";
	const char *g = "graph @g(%x: f32[4], %y: f32[4]) -> (%a, %b, %c, %d) {\n"
			"  %a = Relu(%x)\n"
			"  %b = Sigmoid(%x)\n"
			"  %c = Relu(%y)\n"
			"  %d = Sigmoid(%x)\n"
			"}\n";
	/* (a, b) and (a, d); c's input has no Sigmoid */
	cr_assert_eq(nmatches(rules, g), 2);
}

Test(match, nodes_bind_injectively)
{
	const char *rules = "rules:\n"
			    "  - name: twins\n"
			    "    pattern: |\n"
			    "      a = Relu($x)\n"
			    "      b = Relu($x)\n"
			    "    replace: |\n"
			    "      a = Relu($x)\n"
			    "      b = Relu($x)\n";
	const char *one = "graph @g(%x: f32[4]) -> (%a) {\n  %a = Relu(%x)\n}\n";
	const char *two = "graph @g(%x: f32[4]) -> (%a, %b) {\n  %a = Relu(%x)\n  %b = Relu(%x)\n}\n";
	cr_assert_eq(nmatches(rules, one), 0);
	cr_assert_eq(nmatches(rules, two), 2); /* (a, b) and (b, a) */
}

Test(match, attribute_checks_use_registry_defaults)
{
	const char *rules = "rules:\n"
			    "  - name: g1\n"
			    "    pattern: |\n"
			    "      c = Conv($x, $w) {group = 1}\n"
			    "    where: dim($w, 0) % 4 == 0\n"
			    "    replace: |\n"
			    "      c = Conv($x, $w)\n";
	const char *g = "graph @g(%x: f32[1,4,4,4], %w: f32[4,4,1,1], %v: f32[2,4,1,1], %u: f32[4,1,1,1]) "
			"-> (%a, %b, %c, %d) {\n"
			"  %a = Conv(%x, %w)\n"
			"  %b = Conv(%x, %w) {group=1}\n"
			"  %c = Conv(%x, %v)\n"
			"  %d = Conv(%x, %u) {group=4}\n"
			"}\n";
	cr_assert_eq(nmatches(rules, g), 2); /* a (default group 1) and b */
}

Test(match, explain_names_the_failure)
{
	eng_ruleset *rs = et_rules(add_relu);
	ir_graph *g = et_graph(two_add_relu);
	const eng_rule *r = eng_rule_find(rs, "add_relu");
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	cr_assert_not(eng_explain(r, g, et_node(g, "relu2"), f));
	cr_assert_not(eng_explain(r, g, et_node(g, "add1"), f));
	cr_assert(eng_explain(r, g, et_node(g, "relu1"), f));
	fclose(f);
	cr_assert(strstr(text, "escapes") && strstr(text, "'sig'"), "%s", text);
	cr_assert(strstr(text, "wants Relu") && strstr(text, "'add1'"), "%s", text);
	cr_assert(strstr(text, "matches at node 'relu1'"), "%s", text);
	free(text);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(match, explain_shows_constraint_and_values)
{
	const char *rules = "rules:\n"
			    "  - name: big\n"
			    "    pattern: |\n"
			    "      r = Relu($x)\n"
			    "    where: dim($x, 0) > 8\n"
			    "    replace: |\n"
			    "      r = $x\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r) {\n  %r = Relu(%x) @relu\n}\n");
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	cr_assert_not(eng_explain(eng_rule_find(rs, "big"), g, et_node(g, "relu"), f));
	fclose(f);
	cr_assert(strstr(text, "dim($x, 0) > 8") && strstr(text, "is false"), "%s", text);
	free(text);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(match, budget_stops_a_pathological_search)
{
	/* 40 Adds share %x; the pattern asks for 4 of them and a constraint
	 * that only the last binding can decide (and never holds): 40^4 tries */
	char *gir = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&gir, &n);
	fprintf(f, "graph @g(%%x: f32[4], %%y: f32[4]) -> (");
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s%%a%d", i ? ", " : "", i);
	fprintf(f, ") {\n");
	for (int i = 0; i < 40; i++)
		fprintf(f, "  %%a%d = Add(%%x, %%y)\n", i);
	fprintf(f, "}\n");
	fclose(f);
	const char *rules = "rules:\n"
			    "  - name: four\n"
			    "    pattern: |\n"
			    "      a = Add($x, $p)\n"
			    "      b = Add($x, $q)\n"
			    "      c = Add($x, $r)\n"
			    "      d = Add($x, $s)\n"
			    "    where: uses($s) == 1000\n"
			    "    allow_escape: true\n"
			    "    replace: |\n"
			    "      a = Add($x, $p)\n"
			    "      b = Add($x, $q)\n"
			    "      c = Add($x, $r)\n"
			    "      d = Add($x, $s)\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph(gir);
	eng_matches m = {0};
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(eng_find_matches(rs, NULL, g, &m, &d));
	cr_assert_eq(m.n, 0);
	cr_assert(ir_diags_contains(&d, "match budget"));
	eng_matches_free(&m);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
	free(gir);
}

/* A pattern node's op match on a registered op of the default domain comes
 * from the table the rule keeps (eng_pnode_opcodes); on anything else from
 * the op's name and domain.  Both give the same answers: every registered
 * op (at the opsets where it exists and where it does not) and some others,
 * against names, alternatives, regexes, classes, any op and domains. */
Test(match, registered_ops_match_as_their_names_do)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: ops\n"
				   "    pattern: |\n"
				   "      a = Relu($x)\n"
				   "      b = Add|Mul|Pow(a, $y)\n"
				   "      c = /^(Re|Conv).*/(b)\n"
				   "      d = @elementwise+unary(c)\n"
				   "      e = @binary(d, $z)\n"
				   "      f = *(e)\n"
				   "      g = graft::Relu(f)\n"
				   "      h = ai.onnx::Sigmoid(g)\n"
				   "      i = /Gemm|MatMul/(h)\n"
				   "    replace: |\n"
				   "      i = graft::T($x, $y, $z)\n");
	const eng_rule *r = eng_rule_at(rs, 0);
	eng_matcher *fast = eng_matcher_new(), *slow = eng_matcher_new();
	eng_pnode by_name[16]; /* copies that ask by name (one address each: the matcher remembers by address) */
	cr_assert_leq(r->npnodes, 16);
	for (int p = 0; p < r->npnodes; p++) {
		by_name[p] = r->pnodes[p];
		cr_assert(by_name[p].opcodes_known);
		by_name[p].opcodes_known = false;
	}
	size_t yes = 0, checked = 0;
	for (int64_t opset = 7; opset <= 21; opset += 7) {
		ir_graph *g = ir_graph_new();
		ir_graph_add_opset(g, "", opset);
		for (uint16_t c = 1; c < IR_OP_COUNT; c++)
			ir_node_new(g, NULL, ir_op_info(c)->name, NULL, 0, 1, 0);
		ir_node_new(g, "graft", "Relu", NULL, 0, 1, 0);
		ir_node_new(g, "com.example", "Sigmoid", NULL, 0, 1, 0);
		ir_node_new(g, NULL, "NotAnOp", NULL, 0, 1, 0);
		for (int p = 0; p < r->npnodes; p++) {
			for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
				bool a = eng_op_matches(fast, &r->pnodes[p], g, n), b = eng_op_matches(slow, &by_name[p], g, n);
				cr_assert_eq(a, b, "pattern node %d on %s (opset %lld): %d by table, %d by name", p,
					     ir_cstr(g, ir_node_at(g, n)->op), (long long)opset, a, b);
				yes += a;
				checked++;
			}
		}
		ir_graph_free(g);
	}
	cr_assert_gt(yes, 30, "%zu of %zu matched", yes, checked);
	eng_matcher_free(fast);
	eng_matcher_free(slow);
	eng_ruleset_free(rs);
}
