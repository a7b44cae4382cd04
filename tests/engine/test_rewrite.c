/* The rewriter: building replacements, rewiring, names, dead code,
 * topological order (moving the region), cycle rejection, type checks,
 * constant folding (in place) and the cost guard. */
#include <math.h>

#include "engtest.h"

/* Runs g before and after applying yaml; outputs must agree within tol. */
static void check_same_function(const char *yaml, const char *gir, double tol, size_t want_rewrites)
{
	eng_ruleset *rs = et_rules(yaml);
	ir_graph *g = et_graph(gir);
	sim_tensor *in, *before, *after;
	size_t nin, nb, na;
	et_run(g, 7, &in, &nin, &before, &nb);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, want_rewrites);
	cr_assert_eq(et_verify(g), 0);
	sim_tensors_free(in, nin);
	et_run(g, 7, &in, &nin, &after, &na);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		sim_cmp c;
		cr_assert(sim_compare(&after[i], &before[i], tol, &c), "output %zu: max rel %g", i, c.max_rel);
	}
	sim_tensors_free(in, nin);
	sim_tensors_free(before, nb);
	sim_tensors_free(after, na);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

static const char *add_relu =
	"functions:\n"
	"  - name: graft::AddRelu\n"
	"    inputs: [a, b]\n"
	"    outputs: [y]\n"
	"    body: y = Relu(Add($a, $b))\n"
	"rules:\n"
	"  - name: add_relu\n"
	"    pattern: |\n"
	"      a = Add($x, $y)\n"
	"      r = Relu(a)\n"
	"    replace: |\n"
	"      r = graft::AddRelu($x, $y)\n";

/* Calls' types are remembered per operand types (infer_memo.c): calls
 * with other operand types get their own, equal ones the same. */
Test(rewrite, each_call_gets_the_types_of_its_operands)
{
	eng_ruleset *rs = et_rules(add_relu);
	ir_graph *g = et_graph("graph @g(%x: f32[2,3], %y: f32[3], %u: f32[4,1], %v: f32[1,5]) -> (%o1, %o2, %o3, %o4) {\n"
			       "  %a = Add(%x, %y)\n"
			       "  %o1 = Relu(%a)\n"
			       "  %b = Add(%u, %v)\n"
			       "  %o2 = Relu(%b)\n"
			       "  %c = Add(%y, %x)\n"
			       "  %o3 = Relu(%c)\n"
			       "  %e = Add(%x, %y)\n"
			       "  %o4 = Relu(%e)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 4, "every fusion kept (a wrong type would reject one)");
	cr_assert_eq(d.n, 0, "no warning");
	static const char *const want[] = {"f32[2,3]", "f32[4,5]", "f32[2,3]", "f32[2,3]"};
	for (size_t i = 0; i < 4; i++) {
		ir_val out = ir_graph_output_at(g, i);
		const ir_value *x = ir_value_at(g, out);
		cr_assert_eq(x->def_kind, IR_DEF_NODE);
		cr_assert_str_eq(ir_cstr(g, ir_node_at(g, x->node)->op), "AddRelu");
		char ty[64];
		ir_type_format(g, x->type, ty, sizeof ty);
		cr_assert_str_eq(ty, want[i], "output %zu: %s", i, ty);
	}
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* Registered ops' types are remembered too, but never from an inference
 * that read operand values: two replacement Reshapes with operands of equal
 * types and different shape constants get their own types, and equal
 * Relus (remembered) get the types of their operands. */
Test(rewrite, remembered_types_never_come_from_operand_values)
{
	eng_ruleset *rs = et_rules("version: 1\n"
				   "rules:\n"
				   "  - name: reshape_relu\n"
				   "    pattern: |\n"
				   "      r = Relu(Reshape($x, $s))\n"
				   "    replace: |\n"
				   "      r = Reshape(Relu($x), $s)\n");
	ir_graph *g = et_graph("graph @g(%x: f32[2,6]) -> (%o1, %o2, %o3) {\n"
			       "  %s1 = const i64[2] [3, 4]\n"
			       "  %s2 = const i64[2] [4, 3]\n"
			       "  %s3 = const i64[3] [2, 3, 2]\n"
			       "  %a = Reshape(%x, %s1)\n"
			       "  %o1 = Relu(%a)\n"
			       "  %b = Reshape(%x, %s2)\n"
			       "  %o2 = Relu(%b)\n"
			       "  %c = Reshape(%x, %s3)\n"
			       "  %o3 = Relu(%c)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 3);
	cr_assert_eq(d.n, 0, "no warning");
	static const char *const want[] = {"f32[3,4]", "f32[4,3]", "f32[2,3,2]"};
	for (size_t i = 0; i < 3; i++) {
		const ir_value *x = ir_value_at(g, ir_graph_output_at(g, i));
		cr_assert_str_eq(ir_cstr(g, ir_node_at(g, x->node)->op), "Reshape");
		char ty[64];
		ir_type_format(g, x->type, ty, sizeof ty);
		cr_assert_str_eq(ty, want[i], "output %zu: %s", i, ty);
		const ir_value *r = ir_value_at(g, ir_node_input(g, x->node, 0));
		ir_type_format(g, r->type, ty, sizeof ty);
		cr_assert_str_eq(ty, "f32[2,6]", "the Relu of output %zu: %s", i, ty);
	}
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* Each rewrite's root is the node the one before made: every name is
 * "<root's name cut at 127>/bump" (cut at 255), composed only when asked,
 * through more levels than a composition reads (names.c cuts the chain). */
Test(rewrite, names_of_rewritten_replacements_compose_like_eager_names)
{
	eng_ruleset *rs = et_rules("version: 1\n"
				   "rules:\n"
				   "  - name: bump\n"
				   "    pattern: y = LeakyRelu($x)\n"
				   "    where: attr(y, \"alpha\", 0.01) < 40.0\n"
				   "    replace: y = LeakyRelu($x) {alpha = attr(y, \"alpha\", 0.01) + 1.0}\n");
	ir_graph *g = et_graph("graph @g(%x: f32[2]) -> (%out) {\n"
			       "  %out = LeakyRelu(%x) {alpha=0.5} @a\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 40);
	char base[128] = "a", want[256] = "a", lb[ENG_NAME_CAP];
	for (size_t k = 0; k < rep.n; k++) {
		cr_assert_eq(rep.v[k].nmatched, 1);
		cr_assert_str_eq(eng_ref_label(&rep, g, rep.v[k].matched[0], lb, sizeof lb), want, "rewrite %zu", k);
		snprintf(want, sizeof want, "%s/bump", base);
		cr_assert_eq(rep.v[k].nadded, 1);
		cr_assert_str_eq(eng_ref_label(&rep, g, rep.v[k].added[0], lb, sizeof lb), want, "rewrite %zu", k);
		memcpy(base, want, sizeof base - 1); /* cut at 127 */
		base[sizeof base - 1] = '\0';
	}
	cr_assert_eq(strlen(want), 127 + strlen("/bump"));
	ir_nid n = et_node(g, want);
	cr_assert(n && !ir_node_at(g, n)->dead, "the surviving node has the composed name");
	cr_assert_float_eq(ir_attr_float(g, n, "alpha", 0), 40.5f, 1e-6);
	cr_assert_str_eq(eng_ref_label(&rep, g, rep.v[5].added[0], lb, 8), "a/bump/", "cut to the buffer");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, fusion_names_nodes_and_keeps_output_names)
{
	eng_ruleset *rs = et_rules(add_relu);
	ir_graph *g = et_graph("graph @g(%x: f32[2,3], %y: f32[3]) -> (%out) {\n"
			       "  %a = Add(%x, %y) @add\n"
			       "  %out = Relu(%a) @relu\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(ir_graph_nnodes(g), 1);
	ir_nid n = et_node(g, "relu/add_relu");
	cr_assert(n, "the new node is named after the root and the rule");
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, n)->domain), "graft");
	ir_val out = ir_graph_output_at(g, 0);
	cr_assert_eq(out, ir_node_output(g, n, 0));
	cr_assert_str_eq(ir_cstr(g, ir_value_at(g, out)->name), "out");
	char ty[64];
	ir_type_format(g, ir_value_at(g, out)->type, ty, sizeof ty);
	cr_assert_str_eq(ty, "f32[2,3]", "inferred through Add: %s", ty);
	cr_assert_eq(rep.n, 1);
	cr_assert_str_eq(rep.v[0].rule, "add_relu");
	cr_assert_eq(rep.v[0].nmatched, 2);
	char lb[32];
	cr_assert_str_eq(eng_ref_label(&rep, g, rep.v[0].matched[0], lb, sizeof lb), "add");
	cr_assert_str_eq(eng_ref_label(&rep, g, rep.v[0].added[0], lb, sizeof lb), "relu/add_relu");
	cr_assert_str_eq(eng_ref_label(&rep, g, ENG_REF_ID | 42u, lb, sizeof lb), "#42", "a node with no name");
	cr_assert(ir_graph_opset(g, "graft") >= 1, "the graft domain is imported");
	cr_assert_eq(ir_graph_nfuncs(g), 1, "the function is installed with its first call");
	const ir_func *f = ir_node_callee(g, n);
	cr_assert(f && ir_graph_nnodes(f->body) == 2, "its body: Add, Relu");
	int64_t opset = ir_graph_opset(g, "") < 0 ? 13 : ir_graph_opset(g, ""); /* 13: export's default */
	cr_assert_eq(ir_graph_opset(f->body, ""), opset, "at the graph's opset");
	cr_assert_eq(ir_verify(g, &d, NULL), 0);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, fusion_keeps_the_function)
{
	check_same_function(add_relu,
			    "graph @g(%x: f32[2,3], %y: f32[3]) -> (%o) {\n"
			    "  %a = Add(%x, %y)\n"
			    "  %r = Relu(%a)\n"
			    "  %b = Add(%r, %x)\n"
			    "  %o = Relu(%b)\n"
			    "}\n",
			    0, 2);
}

static const char *identity =
	"rules:\n"
	"  - name: identity_removal\n"
	"    pattern: |\n"
	"      y = Identity($x)\n"
	"    replace: |\n"
	"      y = $x\n";

Test(rewrite, identity_removal_rewires_and_respects_outputs)
{
	eng_ruleset *rs = et_rules(identity);
	/* i1 feeds a node; i2 is an output fed by a node (its input takes the
	 * output's name); i3 is an output fed by a graph input (kept) */
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%o2, %o3, %r) {\n"
			       "  %a = Identity(%x) @i1\n"
			       "  %r = Relu(%a)\n"
			       "  %s = Sigmoid(%x)\n"
			       "  %o2 = Identity(%s) @i2\n"
			       "  %o3 = Identity(%x) @i3\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 2);
	cr_assert_eq(et_count(g, "Identity"), 1);
	cr_assert(et_node(g, "i3"));
	cr_assert_str_eq(ir_cstr(g, ir_value_at(g, ir_graph_output_at(g, 0))->name), "o2");
	cr_assert_eq(ir_node_at(g, ir_value_at(g, ir_graph_output_at(g, 0))->node)->opcode, IR_OP_Sigmoid);
	cr_assert_eq(ir_node_input(g, ir_value_at(g, et_value(g, "r"))->node, 0), et_value(g, "x"));
	cr_assert_eq(et_verify(g), 0);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, users_between_matched_nodes_move_after_the_replacement)
{
	/* n uses a (replaced) but sits between a and b in the graph order */
	const char *rules = "rules:\n"
			    "  - name: swap\n"
			    "    pattern: |\n"
			    "      a = Relu($x)\n"
			    "      b = Add(a, $z)\n"
			    "    replace: |\n"
			    "      a = Sigmoid($x)\n"
			    "      b = Sub(a, $z)\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph("graph @g(%x: f32[4], %z: f32[4]) -> (%n, %b) {\n"
			       "  %a = Relu(%x)\n"
			       "  %n = Neg(%a) @neg\n"
			       "  %b = Add(%a, %z)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 1);
	cr_assert_eq(et_verify(g), 0, "the order stays topological");
	ir_val a = ir_node_input(g, et_node(g, "neg"), 0);
	cr_assert_eq(ir_node_at(g, ir_value_at(g, a)->node)->opcode, IR_OP_Sigmoid);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, fusion_that_would_create_a_cycle_is_rejected)
{
	/* a -> s -> b leaves the match {a, b} and comes back */
	const char *rules = "rules:\n"
			    "  - name: fuse\n"
			    "    allow_escape: true\n"
			    "    pattern: |\n"
			    "      a = Relu($x)\n"
			    "      b = Add(a, $y)\n"
			    "    replace: |\n"
			    "      b = graft::AddRelu($x, $y)\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%b) {\n"
			       "  %a = Relu(%x)\n"
			       "  %s = Sigmoid(%a)\n"
			       "  %b = Add(%a, %s)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 0);
	cr_assert_eq(ir_graph_nnodes(g), 3);
	cr_assert_eq(et_count(g, "AddRelu"), 0);
	cr_assert_eq(et_verify(g), 0);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, replacement_that_changes_a_type_is_rejected)
{
	const char *rules = "rules:\n"
			    "  - name: bad\n"
			    "    pattern: |\n"
			    "      r = Relu($x)\n"
			    "    replace: |\n"
			    "      r = ReduceSum($x) {keepdims = 0}\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph("graph @g(%x: f32[2,4]) -> (%r) {\n  %r = Relu(%x)\n}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 0);
	cr_assert(ir_diags_contains(&d, "changes a type"));
	cr_assert_eq(et_count(g, "Relu"), 1);
	cr_assert_eq(et_count(g, "ReduceSum"), 0, "the rejected replacement is removed");
	cr_assert_eq(et_verify(g), 0);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

static const char *bn_fold =
	"rules:\n"
	"  - name: conv_bn_fold\n"
	"    pattern: |\n"
	"      c = Conv($x, $w, $b?)\n"
	"      bn = BatchNormalization(c, $scale, $bias, $mean, $var)\n"
	"    where:\n"
	"      - is_const($w) && is_const($scale) && is_const($bias) && is_const($mean) && is_const($var)\n"
	"      - $b == none || is_const($b)\n"
	"    replace: |\n"
	"      k = Div($scale, Sqrt(Add($var, fill([], attr(bn, \"epsilon\")))))\n"
	"      w2 = Mul($w, Reshape(k, const([-1, 1, 1, 1])))\n"
	"      b2 = Add(Mul(Sub($b ?? fill(shape($mean), 0.0), $mean), k), $bias)\n"
	"      bn = Conv($x, w2, b2) {...c}\n";

/* A Conv with bias and a BatchNormalization, with varied constants; the
 * weights (4,608 bytes) are too large to be folded eagerly. */
static char *conv_bn(void)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	fprintf(f, "graph @g(%%x: f32[1,32,6,6]) -> (%%y) {\n  %%w = const f32[4,32,3,3] [");
	for (int i = 0; i < 4 * 32 * 9; i++)
		fprintf(f, "%s%.4f", i ? ", " : "", sin(i * 0.7) * 0.5);
	fprintf(f, "]\n"
		   "  %%b = const f32[4] [0.5, -0.25, 0.125, 1.0]\n"
		   "  %%scale = const f32[4] [1.5, 0.5, 2.0, 0.75]\n"
		   "  %%bias = const f32[4] [0.1, 0.2, -0.3, 0.4]\n"
		   "  %%mean = const f32[4] [0.05, -0.1, 0.2, 0.0]\n"
		   "  %%var = const f32[4] [1.2, 0.8, 0.5, 2.0]\n"
		   "  %%c = Conv(%%x, %%w, %%b) {pads=[1, 1, 1, 1]}\n"
		   "  %%y = BatchNormalization(%%c, %%scale, %%bias, %%mean, %%var) {epsilon=0.001}\n"
		   "}\n");
	fclose(f);
	return text;
}

Test(rewrite, conv_bn_fold_keeps_the_function)
{
	char *gir = conv_bn();
	check_same_function(bn_fold, gir, 1e-5, 1);
	free(gir);
}

static const char *small_bn =
	"graph @g(%x: f32[1,2,4,4]) -> (%y) {\n"
	"  %w = const f32[3,2,1,1] [0.5, -1.0, 0.25, 2.0, -0.75, 1.5]\n"
	"  %scale = const f32[3] [1.5, 0.5, 2.0]\n"
	"  %bias = const f32[3] [0.1, 0.2, -0.3]\n"
	"  %mean = const f32[3] [0.05, -0.1, 0.2]\n"
	"  %var = const f32[3] [1.2, 0.8, 0.5]\n"
	"  %c = Conv(%x, %w)\n"
	"  %y = BatchNormalization(%c, %scale, %bias, %mean, %var) {epsilon=0.001}\n"
	"}\n";

/* Small weights (operands of at most 4 KiB) are folded as soon as their
 * replacement node would be built, into a new constant: same function. */
Test(rewrite, conv_bn_fold_of_small_weights_keeps_the_function)
{
	check_same_function(bn_fold, small_bn, 1e-5, 1);
}

Test(rewrite, conv_bn_fold_folds_in_place_and_removes_dead_constants)
{
	eng_ruleset *rs = et_rules(bn_fold);
	char *gir = conv_bn();
	ir_graph *g = et_graph(gir);
	free(gir);
	ir_val w = et_value(g, "w");
	const void *wdata = ir_tensor_at(g, ir_value_at(g, w)->tensor)->data;
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(ir_graph_nnodes(g), 1, "only the folded Conv is left");
	ir_nid conv = ir_graph_first(g);
	cr_assert_eq(ir_node_at(g, conv)->opcode, IR_OP_Conv);
	ir_val w2 = ir_node_input(g, conv, 1);
	cr_assert_eq(w2, w, "the weights were rewritten in their own constant");
	cr_assert_eq(ir_tensor_at(g, ir_value_at(g, w2)->tensor)->data, wdata);
	cr_assert_eq(ir_graph_nconsts(g), 2, "weights and the new bias; the BatchNorm constants are gone");
	cr_assert(rep.folded >= 6, "k, its parts, w2 and b2 folded: %zu", rep.folded);
	int64_t pads[4];
	cr_assert_eq(ir_attr_ints_get(g, conv, "pads", pads, 4), 4, "...c copied the attributes");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* Constant-only replacement nodes over small operands are evaluated on the
 * spot: the Conv is the only node built, and only the constants it takes
 * are added (intermediate results and fill/const operands never become
 * constants). */
Test(rewrite, small_constant_arithmetic_is_evaluated_without_nodes)
{
	eng_ruleset *rs = et_rules(bn_fold);
	ir_graph *g = et_graph(small_bn);
	size_t nodes = ir_nnodes_total(g), values = ir_nvalues(g);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(ir_graph_nnodes(g), 1);
	cr_assert_eq(ir_nnodes_total(g), nodes + 1, "one node built: the Conv");
	/* the Conv's result, w2 and b2 (fill/const operands stay tensors too) */
	cr_assert_eq(ir_nvalues(g), values + 3, "%zu values added", ir_nvalues(g) - values);
	cr_assert_eq(ir_graph_nconsts(g), 2, "w2 and b2 only");
	cr_assert_eq(rep.folded, 8, "k's three nodes, the reshape, w2 and b2's four: %zu", rep.folded);
	ir_nid conv = ir_graph_first(g);
	const ir_tensor *w2 = ir_tensor_at(g, ir_value_at(g, ir_node_input(g, conv, 1))->tensor);
	cr_assert_eq(w2->rank, 4);
	float k0 = 1.5f / sqrtf(1.2f + 0.001f);
	cr_assert_float_eq(((const float *)w2->data)[0], 0.5f * k0, 1e-6);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* A constant expression that reads nothing of the match is evaluated once
 * and copied for each rewrite: every rewrite gets its own constant with
 * the same data, next to one that reads the match (shape($x)). */
Test(rewrite, fixed_constant_expressions_are_copied_for_each_rewrite)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: shift\n"
				   "    pattern: |\n"
				   "      y = Relu($x)\n"
				   "    replace: |\n"
				   "      y = Add(Add($x, Mul(const([1.0, 2.0]), fill([2], 3.0))), fill(shape($x), 0.5))\n");
	ir_graph *g = et_graph("graph @g(%x: f32[2], %z: f32[3,2]) -> (%a, %b, %c) {\n"
			       "  %a = Relu(%x)\n"
			       "  %b = Relu(%x)\n"
			       "  %c = Relu(%z)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 3);
	cr_assert_eq(ir_graph_nconsts(g), 6, "each rewrite its own two constants");
	size_t shifts = 0, halves = 0;
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		const ir_tensor *t = ir_tensor_at(g, ir_value_at(g, ir_graph_const_at(g, i))->tensor);
		const float *f = t->data;
		if (t->nbytes == 8 && f[0] == 3.0f && f[1] == 6.0f)
			shifts++;
		else if (f[0] == 0.5f)
			halves++;
	}
	cr_assert_eq(shifts, 3, "[1, 2] * [3, 3] in every rewrite");
	cr_assert_eq(halves, 3);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* A rewrite rejected after its constants were evaluated leaves no
 * constant behind; an op the simulator lacks is built as a node. */
Test(rewrite, rejected_eager_results_leave_nothing_behind)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: bad_type\n"
				   "    pattern: |\n"
				   "      y = Relu(Add($x, $c))\n"
				   "    where: is_const($c)\n"
				   "    replace: |\n"
				   "      y = Add($x, Cast(Neg($c)) {to = 7})\n");
	ir_graph *g = et_graph("graph @g(%x: f32[3]) -> (%y) {\n"
			       "  %c = const f32[3] [1.0, 2.0, 3.0]\n"
			       "  %a = Add(%x, %c)\n"
			       "  %y = Relu(%a)\n"
			       "}\n");
	size_t consts = ir_graph_nconsts(g);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.iterations, 0, "Add(f32, i64) fails inference: rejected");
	cr_assert_eq(rep.folded, 0);
	cr_assert_eq(ir_graph_nnodes(g), 2);
	cr_assert_eq(ir_graph_nconsts(g), consts, "the evaluated Neg and Cast left no constant");
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rewrite, fold_constants_evaluates_constant_subgraphs)
{
	ir_graph *g = et_graph("graph @g(%x: f32[3]) -> (%y) {\n"
			       "  %a = const f32[3] [1.0, 2.0, 3.0]\n"
			       "  %b = const f32[3] [0.5, 0.5, 0.5]\n"
			       "  %s = Add(%a, %b)\n"
			       "  %m = Mul(%s, %s)\n"
			       "  %y = Add(%x, %m)\n"
			       "}\n");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(eng_fold_constants(g, &d), 2);
	cr_assert_eq(ir_graph_nnodes(g), 1);
	ir_val m = ir_node_input(g, ir_graph_first(g), 1);
	cr_assert_eq(ir_value_at(g, m)->def_kind, IR_DEF_CONST);
	const float *v = ir_tensor_at(g, ir_value_at(g, m)->tensor)->data;
	cr_assert_float_eq(v[0], 2.25f, 1e-6);
	cr_assert_float_eq(v[2], 12.25f, 1e-6);
	cr_assert_eq(ir_graph_nconsts(g), 1, "the operands that lost their last use are removed");
	cr_assert_eq(et_verify(g), 0);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(rewrite, dead_producers_are_removed)
{
	const char *rules = "rules:\n"
			    "  - name: clip_to_relu\n"
			    "    pattern: |\n"
			    "      r = Clip($x, $lo, $hi)\n"
			    "    where: is_const($lo) && value($lo) == 0\n"
			    "    replace: |\n"
			    "      r = Relu($x)\n";
	eng_ruleset *rs = et_rules(rules);
	ir_graph *g = et_graph("graph @g(%x: f32[4]) -> (%r) {\n"
			       "  %lo = Constant() {value=f32[] [0.0]}\n"
			       "  %hi = Constant() {value=f32[] [1e9]}\n"
			       "  %r = Clip(%x, %lo, %hi)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(ir_graph_nnodes(g), 1, "the Constant nodes died with the Clip");
	cr_assert_eq(et_count(g, "Relu"), 1);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

static const char *conv_relu_gir = "graph @g(%x: f32[1,16,28,28]) -> (%r) {\n"
				   "  %w = const f32[16,16,3,3] data[0:9216]\n"
				   "  %c = Conv(%x, %w) {pads=[1, 1, 1, 1]}\n"
				   "  %r = Relu(%c)\n"
				   "}\n";

static eng_report guarded(const char *rules, ir_graph **gp)
{
	eng_ruleset *rs = et_rules(rules);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	fprintf(f, "graft 1\n%s", conv_relu_gir);
	fclose(f);
	float *side = calloc(9216, sizeof *side);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(text, n, "test.gir", side, 9216 * sizeof *side, &d);
	free(side);
	cr_assert(g);
	ir_infer(g, &d, "test.gir");
	eng_report rep;
	cr_assert(et_apply(rs, g, &rep, &d));
	free(text);
	ir_diags_free(&d);
	eng_ruleset_free(rs);
	*gp = g;
	return rep;
}

Test(rewrite, cost_guard_keeps_a_cheaper_fusion)
{
	ir_graph *g;
	eng_report rep = guarded("functions:\n"
				 "  - name: graft::ConvRelu\n"
				 "    inputs: [x, w]\n"
				 "    outputs: [y]\n"
				 "    attributes: [auto_pad, dilations, group, kernel_shape, pads, strides]\n"
				 "    body: y = Relu(Conv($x, $w) {...@})\n"
				 "rules:\n"
				 "  - name: conv_relu\n"
				 "    when: cheaper\n"
				 "    pattern: |\n"
				 "      c = Conv($x, $w)\n"
				 "      r = Relu(c)\n"
				 "    replace: |\n"
				 "      r = graft::ConvRelu($x, $w) {...c}\n",
				 &g);
	cr_assert_eq(rep.iterations, 1);
	cr_assert_eq(rep.n, 1);
	cr_assert(rep.v[0].cycles_before > rep.v[0].cycles_after && rep.v[0].cycles_after > 0,
		  "%g -> %g", rep.v[0].cycles_before, rep.v[0].cycles_after);
	cr_assert_not(rep.v[0].rejected);
	cr_assert_eq(et_count(g, "ConvRelu"), 1);
	eng_report_free(&rep);
	ir_graph_free(g);
}

Test(rewrite, cost_guard_rejects_a_costlier_rewrite)
{
	ir_graph *g;
	eng_report rep = guarded("rules:\n"
				 "  - name: unfuse\n"
				 "    when: cheaper\n"
				 "    pattern: |\n"
				 "      r = Relu($x)\n"
				 "    replace: |\n"
				 "      r = Relu(Relu($x))\n",
				 &g);
	cr_assert_eq(rep.iterations, 0);
	cr_assert_eq(rep.n, 1, "the rejected attempt is reported");
	cr_assert(rep.v[0].rejected);
	cr_assert_eq(rep.nrules, 0, "a rewrite the guard undid is not counted");
	cr_assert(rep.v[0].cycles_after >= rep.v[0].cycles_before);
	cr_assert_eq(rep.v[0].nmatched, 1, "the rejected attempt names the node it matched");
	cr_assert_eq(et_count(g, "Relu"), 1);
	cr_assert_eq(et_verify(g), 0);
	eng_report_free(&rep);
	ir_graph_free(g);
}
