/* Functions defined in rule files (docs/rules.md, 7.9): the body a
 * `functions:` entry compiles to, its installation into the graphs rules
 * rewrite (once, at the graph's opset, with the model's IR version raised
 * for model-local functions), what the rewritten graph computes and
 * exports, and every diagnostic of the section with its position. */
#include "engtest.h"

static const char *const funcs_yaml =
	"version: 1\n"
	"functions:\n"
	"  - name: graft::Gelu\n"
	"    doc: gelu\n"
	"    inputs: [x]\n"
	"    outputs: [y]\n"
	"    body: |\n"
	"      e = Erf(Div($x, const(1.4142135623730951)))\n"
	"      y = Mul(Mul($x, Add(e, const(1.0))), const(0.5))\n"
	"  - name: graft::ConvRelu\n"
	"    inputs: [x, w, b]\n"
	"    outputs: [y]\n"
	"    attributes: [auto_pad, dilations, group, kernel_shape, pads, strides, \"slope = 0.0\"]\n"
	"    body: |\n"
	"      c = Conv($x, $w, $b) {...@}\n"
	"      y = LeakyRelu(c) {alpha = @slope}\n"
	"rules:\n"
	"  - name: gelu\n"
	"    pattern: |\n"
	"      y = Mul(Mul($x, Add(Erf(Div($x, $s)), $one)), $half)\n"
	"    replace: y = graft::Gelu($x)\n"
	"  - name: conv_relu\n"
	"    pattern: |\n"
	"      c = Conv($x, $w, $b?)\n"
	"      r = Relu(c)\n"
	"    replace: r = graft::ConvRelu($x, $w, $b ?? fill([dim($w, 0)], 0.0)) {...c}\n";

static const ir_func *template_of(const eng_ruleset *rs, const char *name)
{
	const eng_func *f = eng_func_find(rs, "graft", name);
	cr_assert_not_null(f, "graft::%s is loaded", name);
	cr_assert_not_null(f->tmpl);
	return ir_func_at(f->tmpl, 1);
}

Test(rules_func, a_body_compiles_to_a_function)
{
	eng_ruleset *rs = et_rules(funcs_yaml);
	const ir_func *gelu = template_of(rs, "Gelu");
	const ir_graph *b = gelu->body;
	cr_assert_eq(ir_graph_ninputs(b), 1);
	cr_assert_eq(ir_graph_noutputs(b), 1);
	cr_assert_eq(ir_graph_nconsts(b), 0, "functions have no initializers");
	size_t consts = 0;
	for (ir_nid n = ir_graph_first(b); n; n = ir_node_at(b, n)->next)
		if (ir_node_at(b, n)->opcode == IR_OP_Constant) {
			cr_assert(ir_attr_find(b, n, "value"), "const(...) became a Constant node");
			consts++;
		}
	cr_assert_eq(consts, 3);
	cr_assert_eq(ir_graph_nnodes(b), 8);
	cr_assert_str_eq(ir_cstr(b, ir_value_at(b, ir_graph_output_at(b, 0))->name), "y");
	const ir_func *conv = template_of(rs, "ConvRelu");
	b = conv->body;
	ir_nid c = ir_graph_first(b);
	cr_assert_eq(ir_node_at(b, c)->opcode, IR_OP_Conv);
	cr_assert_eq(ir_node_at(b, c)->nattr, 6, "...@: every declared attribute Conv has");
	const ir_attr *pads = ir_attr_find(b, c, "pads");
	cr_assert(pads && pads->ref && pads->kind == IR_ATTR_INTS, "by reference, of the registry's kind");
	const ir_attr *alpha = ir_attr_find(b, ir_node_at(b, c)->next, "alpha");
	cr_assert(alpha && !strcmp(ir_cstr(b, alpha->ref), "slope"));
	const ir_attr *slope = ir_func_attr_find(b, "slope");
	cr_assert(slope && slope->kind == IR_ATTR_FLOAT && slope->u.f == 0.0f, "a default");
	cr_assert_eq(ir_func_attr_find(b, "pads")->kind, IR_ATTR_UNDEF, "no default");
	eng_ruleset_free(rs);
}

static const char *const model_gir =
	"model ir_version=7 opset{\"\"=13}\n"
	"graph @g(%x: f32[1,2,5,5]) -> (%o) {\n"
	"  %w = const f32[2,2,1,1] [0.5, -1.0, 2.0, 0.25]\n"
	"  %s = const f32[] [1.4142135]\n"
	"  %one = const f32[] [1.0]\n"
	"  %half = const f32[] [0.5]\n"
	"  %c1 = Conv(%x, %w) @conv1\n"
	"  %r1 = Relu(%c1)\n"
	"  %c2 = Conv(%r1, %w) {pads=[0, 0, 0, 0]} @conv2\n"
	"  %r2 = Relu(%c2)\n"
	"  %d = Div(%r2, %s)\n"
	"  %e = Erf(%d)\n"
	"  %a = Add(%e, %one)\n"
	"  %m = Mul(%r2, %a)\n"
	"  %o = Mul(%m, %half)\n"
	"}\n";

Test(rules_func, a_rewrite_installs_the_function_once)
{
	eng_ruleset *rs = et_rules(funcs_yaml);
	ir_graph *g = et_graph(model_gir);
	sim_tensor *in, *before, *after;
	size_t nin, nb, na;
	et_run(g, 3, &in, &nin, &before, &nb);
	sim_tensors_free(in, nin);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 3);
	cr_assert_eq(et_count(g, "ConvRelu"), 2);
	cr_assert_eq(et_count(g, "Gelu"), 1);
	cr_assert_eq(ir_graph_nfuncs(g), 2, "one definition per function, however many calls");
	cr_assert_eq(ir_graph_cmeta(g)->ir_version, 8, "model-local functions need IR version 8");
	cr_assert_eq(ir_graph_opset(g, "graft"), 1);
	cr_assert_eq(et_verify(g), 0);
	et_run(g, 3, &in, &nin, &after, &na);
	sim_cmp cmp;
	cr_assert(sim_compare(&after[0], &before[0], 1e-6, &cmp), "max rel %g", cmp.max_rel);
	void *bytes;
	size_t n;
	cr_assert(ir_onnx_write_buf(g, &bytes, &n, &d));
	ir_graph *g2 = ir_onnx_read_buf(bytes, n, "opt.onnx", NULL, &d);
	cr_assert_not_null(g2);
	cr_assert_eq(ir_graph_nfuncs(g2), 2, "the functions travel with the model");
	cr_assert_eq(et_verify(g2), 0);
	free(bytes);
	ir_graph_free(g2);
	sim_tensors_free(in, nin);
	sim_tensors_free(before, nb);
	sim_tensors_free(after, na);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

/* Applies yaml to gir; returns the warnings' text. */
static char *apply_warnings(const char *yaml, const char *gir, size_t *rewrites)
{
	eng_ruleset *rs = et_rules(yaml);
	ir_graph *g = et_graph(gir);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	*rewrites = rep.n;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ir_diags_print(&d, f);
	fclose(f);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
	return text;
}

Test(rules_func, a_body_that_does_not_hold_at_the_graphs_opset_is_not_used)
{
	size_t n;
	char *w = apply_warnings("functions:\n"
				 "  - name: t::Mean\n"
				 "    inputs: [x]\n"
				 "    outputs: [y]\n"
				 "    body: y = ReduceMean($x) {axes = [-1]}\n"
				 "rules:\n"
				 "  - name: r\n"
				 "    pattern: y = ReduceMean($x) {axes = [-1]}\n"
				 "    replace: y = t::Mean($x)\n",
				 "model opset{\"\"=18}\ngraph @g(%x: f32[2,3], %a: i64[1]) -> (%y) {\n"
				 "  %y = ReduceMean(%x, %a)\n}\n",
				 &n);
	cr_assert_eq(n, 0, "no match: ReduceMean 18 takes axes as an operand");
	free(w);
	w = apply_warnings("functions:\n"
			   "  - name: t::Mean\n"
			   "    inputs: [x]\n"
			   "    outputs: [y]\n"
			   "    body: y = ReduceMean($x) {axes = [-1]}\n"
			   "rules:\n"
			   "  - name: r\n"
			   "    pattern: y = Neg($x)\n"
			   "    replace: y = t::Mean($x)\n",
			   "model opset{\"\"=18}\ngraph @g(%x: f32[2,3]) -> (%y) {\n  %y = Neg(%x)\n}\n", &n);
	cr_assert_eq(n, 0);
	cr_assert(strstr(w, "its function does not hold in this graph") && strstr(w, "axes"), "%s", w);
	free(w);
}

Test(rules_func, a_call_gets_only_declared_attributes)
{
	size_t n;
	char *w = apply_warnings("functions:\n"
				 "  - name: t::ConvRelu\n"
				 "    inputs: [x, w]\n"
				 "    outputs: [y]\n"
				 "    attributes: [pads]\n"
				 "    body: y = Relu(Conv($x, $w) {pads = @pads})\n"
				 "rules:\n"
				 "  - name: r\n"
				 "    pattern: |\n"
				 "      c = Conv($x, $w)\n"
				 "      y = Relu(c)\n"
				 "    replace: y = t::ConvRelu($x, $w) {...c}\n",
				 "graph @g(%x: f32[1,2,3,3], %w: f32[2,1,1,1]) -> (%y) {\n"
				 "  %c = Conv(%x, %w) {group=2}\n  %y = Relu(%c)\n}\n",
				 &n);
	cr_assert_eq(n, 0, "the fused op would ignore group=2");
	cr_assert(strstr(w, "the call gets an attribute its function cannot read: 'group'"), "%s", w);
	free(w);
}

/* ---------------------------------------------------------------- diagnostics */

typedef struct bad {
	const char *yaml;
	int line, col;
	const char *msg;
} bad;

#define FN(body) "functions:\n  - name: t::F\n    inputs: [x]\n    outputs: [y]\n" body "rules: []\n"

static const bad bads[] = {
	{FN("    body: y = LeakyRelu($x) {alpha = @beta}\n"), 5, 39, "@beta: function F declares no attribute 'beta'"},
	{FN("    body: y = Mul($x, fill(shape($x), 2.0))\n"), 5, 23, "they cannot read an input"},
	{FN("    body: y = Relu($x ?? $x)\n"), 5, 23, "a function body has none"},
	{FN("    body: z = Relu($x)\n"), 4, 15, "output 'y' is not defined by the body"},
	{FN("    body: y = Relu($x, $x)\n"), 5, 15, "Relu takes 1 operand, got 2"},
	{FN("    attributes: [\"a = $x\"]\n    body: y = Relu($x)\n"), 5, 23, "they cannot read an input"},
	{FN("    attributes: [a, a]\n    body: y = Relu($x)\n"), 5, 21, "attribute 'a' is declared twice"},
	{FN("    attributes: [\"a b\"]\n    body: y = Relu($x)\n"), 5, 21, "expected the end of the attribute"},
	{FN("    bdy: y = Relu($x)\n"), 5, 5, "unknown key 'bdy' in a function (did you mean 'body'?)"},
	{"functions:\n  - name: t::F\n    outputs: [y]\nrules: []\n", 2, 5, "function 't::F' has no body"},
	{"functions:\n  - name: t::9F\n    outputs: [y]\n    body: y = Relu($x)\nrules: []\n", 2, 5,
	 "invalid function name 't::9F'"},
	{"functions:\n  - name: Relu\n    inputs: [x]\n    outputs: [y]\n    body: y = Neg($x)\nrules: []\n", 2, 5,
	 "would hide the ONNX op of that name"},
	{"functions:\n  - name: t::F\n    inputs: [x, x]\n    outputs: [x]\n    body: y = Neg($x)\nrules: []\n", 3, 17,
	 "input 'x' is listed twice"},
	{"functions: {name: t::F}\nrules: []\n", 1, 12, "'functions' must be a list of functions"},
	{FN("    body: y = Relu($x)\n  - name: t::F\n    inputs: [x]\n    outputs: [y]\n    body: y = Neg($x)\n"), 6, 5,
	 "function 't::F' is defined twice"},
	{"functions:\n  - name: t::F\n    inputs: [x]\n    outputs: [y]\n    body: y = Neg($x)\n"
	 "rules:\n  - name: r\n    pattern: y = Relu($x)\n    replace: y = t::F($x, $x)\n", 9, 18, "F takes 0 to 1 operands, got 2"},
	{"functions:\n  - name: t::F\n    inputs: [x]\n    outputs: [y]\n    body: y = Neg($x)\n"
	 "rules:\n  - name: r\n    pattern: y = Relu($x)\n    replace: y = Relu($x) {a = @b}\n", 9, 32,
	 "attribute references (@name) belong in function bodies"},
};

Test(rules_func, every_error_of_a_function_at_its_position)
{
	for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
		eng_ruleset *rs = eng_ruleset_new();
		ir_diags d;
		ir_diags_init(&d);
		bool ok = eng_load_text(rs, bads[i].yaml, strlen(bads[i].yaml), "r.yaml", &d);
		cr_expect_not(ok, "case %zu loads", i);
		bool found = false;
		for (size_t k = 0; k < d.n && !found; k++)
			found = d.v[k].sev == IR_ERROR && d.v[k].line == bads[i].line && d.v[k].col == bads[i].col &&
				strstr(d.v[k].msg, bads[i].msg);
		if (!found)
			ir_diags_print(&d, stderr);
		cr_expect(found, "case %zu: no error at %d:%d containing '%s'", i, bads[i].line, bads[i].col,
			  bads[i].msg);
		cr_expect_eq(rs->nfuncs, 0, "case %zu: a file with errors contributes no function", i);
		ir_diags_free(&d);
		eng_ruleset_free(rs);
	}
}

/* ---------------------------------------------------------------- fuse */

static const char *const fuse_yaml =
	"rules:\n"
	"  - name: conv_relu\n"
	"    pattern: |\n"
	"      c = Conv($x, $w)\n"
	"      r = Relu(c)\n"
	"    replace: fuse t::ConvRelu\n";

Test(rules_fuse, the_match_becomes_the_body_and_equal_bodies_are_shared)
{
	eng_ruleset *rs = et_rules(fuse_yaml);
	ir_graph *g = et_graph("model ir_version=7 opset{\"\"=13}\n"
			       "graph @g(%x: f32[1,2,6,6], %w: f32[2,2,3,3]) -> (%o) {\n"
			       "  %c1 = Conv(%x, %w) {pads=[1, 1, 1, 1]}\n"
			       "  %r1 = Relu(%c1)\n"
			       "  %c2 = Conv(%r1, %w) {pads=[1, 1, 1, 1]}\n"
			       "  %r2 = Relu(%c2)\n"
			       "  %c3 = Conv(%r2, %w)\n"
			       "  %o = Relu(%c3)\n"
			       "}\n");
	sim_tensor *in, *before, *after;
	size_t nin, nb, na;
	et_run(g, 5, &in, &nin, &before, &nb);
	sim_tensors_free(in, nin);
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	cr_assert_eq(rep.n, 3);
	cr_assert_eq(ir_graph_nfuncs(g), 2, "pads 1 and pads 0: two bodies");
	cr_assert_eq(et_count(g, "ConvRelu"), 2, "the two equal matches share one function");
	cr_assert_eq(et_count(g, "ConvRelu_2"), 1);
	const ir_graph *b = ir_func_at(g, ir_func_find(g, "t", "ConvRelu"))->body;
	cr_assert_eq(ir_graph_nnodes(b), 2);
	cr_assert_str_eq(ir_cstr(b, ir_value_at(b, ir_graph_input_at(b, 0))->name), "x", "formals named after captures");
	cr_assert_str_eq(ir_cstr(b, ir_value_at(b, ir_graph_output_at(b, 0))->name), "r");
	int64_t pads[4];
	cr_assert_eq(ir_attr_ints_get(b, ir_graph_first(b), "pads", pads, 4), 4, "attributes by value");
	cr_assert_eq(ir_graph_cmeta(g)->ir_version, 8);
	cr_assert_eq(et_verify(g), 0);
	et_run(g, 5, &in, &nin, &after, &na);
	sim_cmp cmp;
	cr_assert(sim_compare(&after[0], &before[0], 1e-6, &cmp), "max rel %g", cmp.max_rel);
	sim_tensors_free(in, nin);
	sim_tensors_free(before, nb);
	sim_tensors_free(after, na);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

Test(rules_fuse, several_sinks_make_several_results_and_chains_fuse_whole)
{
	eng_ruleset *rs = et_rules("rules:\n"
				   "  - name: two\n"
				   "    pattern: |\n"
				   "      a = Sigmoid($x)\n"
				   "      b = Tanh($x)\n"
				   "    replace: fuse t::SigTanh\n"
				   "  - name: chain\n"
				   "    pattern: c = @elementwise+unary[2..4]($x)\n"
				   "    replace: fuse t::Chain\n");
	ir_graph *g = et_graph("graph @g(%x: f32[3]) -> (%a, %b, %e) {\n"
			       "  %a = Sigmoid(%x)\n"
			       "  %b = Tanh(%x)\n"
			       "  %c = Neg(%x)\n"
			       "  %d = Relu(%c)\n"
			       "  %e = Sqrt(%d)\n"
			       "}\n");
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(et_apply(rs, g, &rep, &d));
	ir_nid two = ir_graph_first(g);
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, two)->op), "SigTanh");
	cr_assert_eq(ir_node_at(g, two)->nout, 2, "one result per sink");
	const ir_func *chain = ir_func_at(g, ir_func_find(g, "t", "Chain"));
	cr_assert(chain && ir_graph_nnodes(chain->body) == 2, "every link of the chain (Neg, Relu: the first match)");
	cr_assert_eq(et_verify(g), 0);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
	eng_ruleset_free(rs);
}

static const bad fuse_bads[] = {
	{"rules:\n  - name: r\n    pattern: y = Relu($x)\n    replace: fuse Fused\n", 4, 19, "name it domain::Op"},
	{"rules:\n  - name: r\n    pattern: y = Relu($x)\n    replace: fuse t::F y\n", 4, 24,
	 "expected the end of the replacement (fuse is the whole of it)"},
	{"rules:\n  - name: r\n    pattern: y = Concat($xs...)\n    replace: fuse t::F\n", 3, 25,
	 "a variadic capture ($xs...) would make their number vary"},
	{"rules:\n  - name: r\n    allow_escape: true\n    pattern: y = Relu($x)\n    replace: fuse t::F\n", 5, 19,
	 "allow_escape would keep part of it"},
	{"functions:\n  - name: t::F\n    inputs: [x]\n    outputs: [y]\n    body: y = Neg($x)\n"
	 "rules:\n  - name: r\n    pattern: y = Relu($x)\n    replace: fuse t::F\n", 9, 19, "not after a function of the rule files"},
};

Test(rules_fuse, errors_at_their_position)
{
	for (size_t i = 0; i < sizeof fuse_bads / sizeof *fuse_bads; i++) {
		eng_ruleset *rs = eng_ruleset_new();
		ir_diags d;
		ir_diags_init(&d);
		cr_expect_not(eng_load_text(rs, fuse_bads[i].yaml, strlen(fuse_bads[i].yaml), "r.yaml", &d));
		bool found = false;
		for (size_t k = 0; k < d.n && !found; k++)
			found = d.v[k].line == fuse_bads[i].line && d.v[k].col == fuse_bads[i].col &&
				strstr(d.v[k].msg, fuse_bads[i].msg);
		if (!found)
			ir_diags_print(&d, stderr);
		cr_expect(found, "case %zu: no error at %d:%d containing '%s'", i, fuse_bads[i].line, fuse_bads[i].col,
			  fuse_bads[i].msg);
		ir_diags_free(&d);
		eng_ruleset_free(rs);
	}
}

/* ---------------------------------------------------------------- graft rules */

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, p)) > 0)
		fwrite(buf, 1, k, f);
	fclose(f);
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	return out;
}

Test(rules_func, graft_rules_lists_the_functions)
{
	char *out = run(GRAFT_BINARY " rules " GRAFT_SOURCE_DIR "/rules.d");
	cr_assert(strstr(out, "graft::ConvRelu") && strstr(out, "3 in, 1 out, 6 attrs"), "%s", out);
	cr_assert(strstr(out, "\n8 functions\n"), "%s", out);
	free(out);
	out = run(GRAFT_BINARY " rules --json " GRAFT_SOURCE_DIR "/rules.d/15-normalize.yaml");
	cr_assert(strstr(out, "\"functions\":[{\"domain\":\"graft\",\"name\":\"Gelu\""), "%s", out);
	free(out);
	out = run(GRAFT_BINARY " rules --dump " GRAFT_SOURCE_DIR "/rules.d/15-normalize.yaml");
	cr_assert(strstr(out, "func graft::LayerNorm(%x, %scale, %bias) -> (%y) attrs{epsilon}"), "%s", out);
	free(out);
}
