/* The rule language (docs/rules.md): one test per feature, asserting the
 * compiled structures (pattern nodes, captures, constraints, replacement
 * nodes, output maps, positions), loading files and directories, and the
 * ruleset API. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"

typedef struct fx {
	eng_ruleset *rs;
	ir_diags d;
	const eng_rule *r;
} fx;

/* Appends "    key: |" and the text's lines indented by six spaces. */
static void block(char *buf, size_t cap, const char *key, const char *text)
{
	size_t n = strlen(buf);
	n += (size_t)snprintf(buf + n, cap - n, "    %s: |\n", key);
	while (*text) {
		size_t k = strcspn(text, "\n");
		n += (size_t)snprintf(buf + n, cap - n, "      %.*s\n", (int)k, text);
		text += k + (text[k] == '\n');
	}
}

static void load_yaml(fx *f, const char *yaml)
{
	ir_diags_init(&f->d);
	f->rs = eng_ruleset_new();
	cr_assert_not_null(f->rs);
	bool ok = eng_load_text(f->rs, yaml, strlen(yaml), "t.yaml", &f->d);
	if (!ok || f->d.n)
		ir_diags_print(&f->d, stderr);
	cr_assert(ok, "the rule file should compile");
	cr_assert_eq(f->d.nerrors, 0);
	f->r = eng_rule_at(f->rs, 0);
}

/* One rule named t; where: one expression per line (each a YAML item). */
static void compile(fx *f, const char *pattern, const char *where, const char *replace)
{
	char yaml[8192] = "rules:\n  - name: t\n";
	block(yaml, sizeof yaml, "pattern", pattern);
	if (where) {
		size_t n = strlen(yaml);
		n += (size_t)snprintf(yaml + n, sizeof yaml - n, "    where:\n");
		while (*where) {
			size_t k = strcspn(where, "\n");
			n += (size_t)snprintf(yaml + n, sizeof yaml - n, "      - |-\n        %.*s\n", (int)k, where);
			where += k + (where[k] == '\n');
		}
	}
	block(yaml, sizeof yaml, "replace", replace);
	load_yaml(f, yaml);
}

static void fx_free(fx *f)
{
	eng_ruleset_free(f->rs);
	ir_diags_free(&f->d);
}

/* An expression printed back in the language's syntax. */
static char *ex_text(const eng_ex *e, const eng_rule *r)
{
	static char buf[1024];
	FILE *m = fmemopen(buf, sizeof buf, "w");
	cr_assert_not_null(m);
	eng_ex_print(e, r, m);
	fclose(m);
	return buf;
}

/* ---------------------------------------------------------------- op matchers */

Test(pattern, op_by_name)
{
	fx f;
	compile(&f, "y = Relu($x)", NULL, "y = Sigmoid($x)");
	const eng_rule *r = f.r;
	cr_assert_eq(r->npnodes, 1);
	const eng_pnode *p = &r->pnodes[0];
	cr_assert_eq(p->opkind, OPM_NAMES);
	cr_assert_eq(p->nnames, 1);
	cr_assert_str_eq(p->names[0], "Relu");
	cr_assert_null(p->domain);
	cr_assert_str_eq(p->name, "y");
	cr_assert_eq(p->nresults, 1);
	cr_assert_eq(p->min_repeat, 1);
	cr_assert_eq(p->max_repeat, 1);
	cr_assert_not(p->commutative);
	cr_assert_eq(p->nins, 1);
	cr_assert_eq(p->ins[0].kind, PO_CAPTURE);
	cr_assert_eq(p->ins[0].index, 0);
	cr_assert_eq(r->ncaptures, 1);
	cr_assert_str_eq(r->captures[0].name, "x");
	cr_assert_not(r->captures[0].is_list);
	cr_assert_eq(r->nrnodes, 1);
	cr_assert_str_eq(r->rnodes[0].op, "Sigmoid");
	cr_assert_eq(r->rnodes[0].ins[0].kind, RO_CAPTURE);
	cr_assert_eq(r->noutputs, 1);
	cr_assert_eq(r->outputs[0].pnode, 0);
	cr_assert_eq(r->outputs[0].presult, 0);
	cr_assert_eq(r->outputs[0].with.kind, RO_RNODE);
	cr_assert_eq(r->outputs[0].with.index, 0);
	fx_free(&f);
}

Test(pattern, alternatives_and_commutativity)
{
	fx f;
	compile(&f, "y = Relu|Sigmoid|Tanh($x)\nz = Add|Mul(y, $b)\nw = Add|Sub(z, $c)", NULL, "w = $x");
	const eng_pnode *p = f.r->pnodes;
	cr_assert_eq(p[0].nnames, 3);
	cr_assert_str_eq(p[0].names[2], "Tanh");
	cr_assert(p[1].commutative, "Add and Mul are both commutative");
	cr_assert_not(p[2].commutative, "Sub is not");
	cr_assert_not(p[0].commutative);
	fx_free(&f);
}

Test(pattern, regex_is_anchored)
{
	fx f;
	compile(&f, "y = /Reduce(Mean|Sum)/($x)\nz = /Add|Mul/(y, $x)", NULL, "z = $x");
	const eng_pnode *p = &f.r->pnodes[0];
	cr_assert_eq(p->opkind, OPM_REGEX);
	cr_assert_not_null(p->re);
	cr_assert_str_eq(p->names[0], "Reduce(Mean|Sum)");
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
	const char *yes[] = {"ReduceMean", "ReduceSum"}, *no[] = {"ReduceMax", "ReduceMeanX", "XReduceSum"};
	for (int i = 0; i < 2; i++)
		cr_assert_geq(pcre2_match(p->re, (PCRE2_SPTR)yes[i], strlen(yes[i]), 0, 0, md, NULL), 0, "%s", yes[i]);
	for (int i = 0; i < 3; i++)
		cr_assert_lt(pcre2_match(p->re, (PCRE2_SPTR)no[i], strlen(no[i]), 0, 0, md, NULL), 0, "%s", no[i]);
	pcre2_match_data_free(md);
	cr_assert_not(p->commutative);
	cr_assert(f.r->pnodes[1].commutative, "every registered op /Add|Mul/ matches is commutative");
	fx_free(&f);
}

Test(pattern, classes_and_any)
{
	fx f;
	compile(&f, "y = @elementwise+unary($x)\nz = @commutative(y, $b)\nw = *(z)", NULL, "w = $x");
	const eng_pnode *p = f.r->pnodes;
	cr_assert_eq(p[0].opkind, OPM_CLASS);
	cr_assert_eq(p[0].traits, IR_TRAIT_ELEMENTWISE | IR_TRAIT_UNARY);
	cr_assert_not(p[0].commutative);
	cr_assert(p[1].commutative);
	cr_assert_eq(p[2].opkind, OPM_ANY);
	fx_free(&f);
}

Test(pattern, domains)
{
	fx f;
	compile(&f, "a = com.microsoft::FusedConv($x)\nb = ai.onnx::Relu(a)\nc = graft::Gelu(b)", NULL,
		"c = graft::Gelu2($x) {alpha = 1}");
	const eng_pnode *p = f.r->pnodes;
	cr_assert_str_eq(p[0].domain, "com.microsoft");
	cr_assert_str_eq(p[0].names[0], "FusedConv");
	cr_assert_null(p[1].domain, "ai.onnx is the default domain");
	cr_assert_str_eq(p[2].domain, "graft");
	cr_assert_str_eq(f.r->rnodes[0].domain, "graft");
	cr_assert_str_eq(f.r->rnodes[0].op, "Gelu2");
	fx_free(&f);
}

/* ---------------------------------------------------------------- operands */

Test(pattern, capture_reused_means_same_value)
{
	fx f;
	compile(&f, "y = Mul($x, $x)", NULL, "y = Pow($x, const(2.0))");
	const eng_pnode *p = &f.r->pnodes[0];
	cr_assert_eq(f.r->ncaptures, 1);
	cr_assert_eq(p->ins[0].kind, PO_CAPTURE);
	cr_assert_eq(p->ins[1].kind, PO_CAPTURE);
	cr_assert_eq(p->ins[0].index, p->ins[1].index);
	fx_free(&f);
}

Test(pattern, wildcards_and_optional)
{
	fx f;
	compile(&f, "y = Clip($x, _, _?)\nc = Conv(y, $w, $b?)", NULL, "c = Conv($x, $w, $b)");
	const eng_operand *in = f.r->pnodes[0].ins;
	cr_assert_eq(in[1].kind, PO_WILDCARD);
	cr_assert_not(in[1].optional);
	cr_assert_eq(in[2].kind, PO_WILDCARD);
	cr_assert(in[2].optional);
	const eng_operand *c = f.r->pnodes[1].ins;
	cr_assert_eq(c[2].kind, PO_CAPTURE);
	cr_assert(c[2].optional);
	cr_assert_not(c[1].optional);
	fx_free(&f);
}

Test(pattern, variadic_list_capture)
{
	fx f;
	compile(&f, "y = Concat($first, $rest...)", "len($rest) >= 1", "y = Concat($rest..., $first)");
	const eng_pnode *p = &f.r->pnodes[0];
	cr_assert(p->ins[1].variadic);
	cr_assert_not(p->ins[0].variadic);
	int rest = eng_capture_by_name(f.r, "rest", 4);
	cr_assert_geq(rest, 0);
	cr_assert(f.r->captures[rest].is_list);
	cr_assert_eq(f.r->rnodes[0].nins, 2);
	cr_assert_eq(f.r->rnodes[0].ins[0].index, rest);
	fx_free(&f);
}

Test(pattern, nested_terms_are_anonymous_nodes)
{
	fx f;
	compile(&f, "y = Relu(Add(Mul($a, $b), $c))", NULL, "y = $a");
	const eng_rule *r = f.r;
	cr_assert_eq(r->npnodes, 3);
	cr_assert_str_eq(r->pnodes[0].name, "y");
	cr_assert_eq(r->pnodes[0].ins[0].kind, PO_NODE);
	const eng_pnode *add = &r->pnodes[r->pnodes[0].ins[0].index];
	cr_assert_str_eq(add->names[0], "Add");
	cr_assert_eq(add->name[0], '_', "anonymous: %s", add->name);
	cr_assert_eq(add->ins[0].kind, PO_NODE);
	cr_assert_str_eq(r->pnodes[add->ins[0].index].names[0], "Mul");
	cr_assert_eq(add->ins[1].kind, PO_CAPTURE);
	fx_free(&f);
}

Test(pattern, multi_result_names)
{
	fx f;
	compile(&f, "y, idx = MaxPool($x)\nz = Add(idx, y.1)\nw = Relu(y)", NULL, "z = $x\nw = $x");
	const eng_rule *r = f.r;
	cr_assert_eq(r->pnodes[0].nresults, 2);
	cr_assert_str_eq(r->pnodes[0].result_names[1], "idx");
	const eng_operand *in = r->pnodes[1].ins;
	cr_assert_eq(in[0].kind, PO_NODE);
	cr_assert_eq(in[0].index, 0);
	cr_assert_eq(in[0].result, 1);
	cr_assert_eq(in[1].index, 0);
	cr_assert_eq(in[1].result, 1, "y.1 is the second result");
	cr_assert_eq(r->pnodes[2].ins[0].result, 0);
	fx_free(&f);
}

Test(pattern, forward_references)
{
	fx f;
	compile(&f, "z = Relu(y)\ny = Sigmoid($x)", NULL, "z = $x");
	cr_assert_eq(f.r->pnodes[0].ins[0].kind, PO_NODE);
	cr_assert_eq(f.r->pnodes[0].ins[0].index, 1);
	fx_free(&f);
}

Test(pattern, chains)
{
	fx f;
	compile(&f, "c = @elementwise+unary[1..8]($x)\nd = @elementwise[2..4](c, $rest...)", NULL,
		"d = graft::Fused($x, $rest...)");
	const eng_pnode *p = f.r->pnodes;
	cr_assert_eq(p[0].min_repeat, 1);
	cr_assert_eq(p[0].max_repeat, 8);
	cr_assert_eq(p[1].min_repeat, 2);
	cr_assert_eq(p[1].max_repeat, 4);
	cr_assert(p[1].ins[1].variadic);
	fx_free(&f);
}

Test(pattern, attribute_checks)
{
	fx f;
	compile(&f, "y = Conv($x, $w) {group = 1, strides = [1, 1], auto_pad = \"NOTSET\"}", NULL, "y = $x");
	const eng_pnode *p = &f.r->pnodes[0];
	cr_assert_eq(p->nattrs, 3);
	cr_assert_str_eq(p->attrs[0].name, "group");
	cr_assert_eq(p->attrs[0].value->kind, EX_INT);
	cr_assert_eq(p->attrs[0].value->i, 1);
	cr_assert_eq(p->attrs[1].value->kind, EX_LIST);
	cr_assert_eq(p->attrs[1].value->nargs, 2);
	cr_assert_str_eq(p->attrs[2].value->s, "NOTSET");
	fx_free(&f);
}

Test(pattern, operands_span_lines)
{
	fx f;
	compile(&f, "y = Conv(\n  $x,\n  $w\n) {group = 1}\nz = Relu(y)", NULL, "z = $x");
	cr_assert_eq(f.r->npnodes, 2);
	cr_assert_eq(f.r->pnodes[0].nins, 2);
	cr_assert_eq(f.r->pnodes[0].ins[1].loc.line, 6);
	cr_assert_eq(f.r->pnodes[0].ins[1].loc.col, 9);
	fx_free(&f);
}

Test(pattern, comments_and_blank_lines)
{
	fx f;
	compile(&f, "# the producer\ny = Relu($x)   # a comment\n\nz = Tanh(y)", NULL, "z = $x");
	cr_assert_eq(f.r->npnodes, 2);
	fx_free(&f);
}

/* ---------------------------------------------------------------- positions */

Test(positions, block_scalars_map_to_file_lines)
{
	fx f;
	compile(&f, "conv = Conv($x, $w)\nbn = BatchNormalization(conv, $s, $b, $m, $v) {epsilon = 1e-5}",
		"is_const($w)", "bn = $x");
	const eng_rule *r = f.r;
	/* line 1 "rules:", 2 "- name", 3 "pattern: |", 4 and 5 the pattern */
	cr_assert_eq(r->pnodes[0].loc.line, 4);
	cr_assert_eq(r->pnodes[0].loc.col, 7);
	cr_assert_eq(r->pnodes[0].ins[1].loc.line, 4);
	cr_assert_eq(r->pnodes[0].ins[1].loc.col, 23);
	cr_assert_eq(r->captures[1].loc.col, 23, "a capture's first occurrence");
	cr_assert_eq(r->pnodes[1].attrs[0].loc.line, 5);
	cr_assert_eq(r->pnodes[1].attrs[0].loc.col, 54);
	/* where: line 6, item "- |-" line 7, expression line 8 indented by 8 */
	cr_assert_eq(r->where[0]->loc.line, 8);
	cr_assert_eq(r->where[0]->loc.col, 9);
	cr_assert_str_eq(r->loc.file, "t.yaml");
	cr_assert_str_eq(eng_rule_file(r), "t.yaml:2:5");
	cr_assert_eq(eng_rule_line(r), 2);
	fx_free(&f);
}

Test(positions, plain_and_quoted_scalars)
{
	fx f;
	load_yaml(&f, "rules:\n"
		      "  - name: t\n"
		      "    pattern: y = Relu($x)\n"
		      "    where: \"rank($x) == 4\"\n"
		      "    replace: 'y = $x'\n");
	const eng_rule *r = f.r;
	cr_assert_eq(r->pnodes[0].loc.line, 3);
	cr_assert_eq(r->pnodes[0].loc.col, 14);
	cr_assert_eq(r->pnodes[0].ins[0].loc.col, 23);
	/* the == of "rank($x) == 4" inside double quotes */
	cr_assert_eq(r->where[0]->loc.line, 4);
	cr_assert_eq(r->where[0]->loc.col, 22);
	cr_assert_eq(r->outputs[0].with.loc.col, 19);
	fx_free(&f);
}

/* ---------------------------------------------------------------- where */

Test(where, precedence_round_trips)
{
	fx f;
	compile(&f, "y = Relu($x)",
		"1 + 2 * 3 - 4 % 3 == 6 && !false || $x == none\n"
		"(1 + 2) * 3 == 9 ? true : false\n"
		"-dim($x, -1) < 0 && -(1 + 2) == -3\n"
		"!(1 < 2) != (2 >= 3)",
		"y = $x");
	const eng_rule *r = f.r;
	cr_assert_eq(r->nwhere, 4);
	cr_assert_str_eq(ex_text(r->where[0], r), "1 + 2 * 3 - 4 % 3 == 6 && !false || $x == none");
	cr_assert_eq(r->where[0]->kind, EX_BINARY);
	cr_assert_eq(r->where[0]->op, OP_OR);
	cr_assert_str_eq(ex_text(r->where[1], r), "(1 + 2) * 3 == 9 ? true : false");
	cr_assert_eq(r->where[1]->kind, EX_COND);
	cr_assert_str_eq(ex_text(r->where[2], r), "-dim($x, -1) < 0 && -(1 + 2) == -3");
	cr_assert_str_eq(ex_text(r->where[3], r), "!(1 < 2) != (2 >= 3)");
	fx_free(&f);
}

Test(where, every_function_resolves)
{
	fx f;
	compile(&f, "c = Conv($x, $w, $b?)\ny = Relu(c)",
		"dim($x, 0) + rank($x) + numel($w) > 0\n"
		"dtype($x) == \"f32\" && shape($w) == [16, 3, 3, 3]\n"
		"attr(c, \"group\") == 1 && attr(c, \"pads\", [0, 0, 0, 0]) == [0, 0, 0, 0]\n"
		"has_attr(c, \"strides\") || is_const($w) || is_output($x)\n"
		"uses($x) == 1 && matches(op(c), \"Co.v\")\n"
		"len(shape($x)) == 4 && abs(-2) == 2 && min(1, 2) < max([1, 5])\n"
		"$b == none || value($b) == 0",
		"y = Relu($x)");
	const eng_rule *r = f.r;
	cr_assert_eq(r->nwhere, 7);
	const eng_ex *m = r->where[4]->args[1];
	cr_assert_eq(m->kind, EX_CALL);
	cr_assert_eq(m->fn, FN_MATCHES);
	cr_assert_not_null(m->args[1]->re, "a literal regex compiles at load time");
	const eng_ex *attr = r->where[2]->args[0]->args[0];
	cr_assert_eq(attr->fn, FN_ATTR);
	cr_assert_eq(attr->args[0]->kind, EX_NODE);
	cr_assert_eq(attr->args[0]->ref, 0);
	cr_assert_eq(r->where[6]->args[0]->args[0]->kind, EX_CAPTURE);
	cr_assert_eq(r->where[6]->args[0]->args[0]->ref, eng_capture_by_name(r, "b", 1));
	fx_free(&f);
}

Test(where, one_string_or_a_list)
{
	fx f;
	load_yaml(&f, "rules:\n"
		      "  - name: t\n"
		      "    pattern: y = Relu($x)\n"
		      "    where: is_const($x)\n"
		      "    replace: y = $x\n");
	cr_assert_eq(f.r->nwhere, 1);
	fx_free(&f);
}

/* ---------------------------------------------------------------- replacements */

Test(replace, new_ops_and_output_maps)
{
	fx f;
	compile(&f, "c = Conv($x, $w)\nr = Relu(c)", NULL, "r = graft::ConvRelu($x, $w) {...c}");
	const eng_rule *r = f.r;
	cr_assert_eq(r->nrnodes, 1);
	const eng_rnode *n = &r->rnodes[0];
	cr_assert_str_eq(n->name, "r");
	cr_assert_eq(n->nins, 2);
	cr_assert_eq(n->nattrs, 1);
	cr_assert_null(n->attrs[0].name, "a spread has no name");
	cr_assert_eq(n->attrs[0].spread_node, 0);
	cr_assert_eq(r->noutputs, 1);
	cr_assert_eq(r->outputs[0].pnode, 1);
	fx_free(&f);
}

Test(replace, computed_attributes)
{
	fx f;
	compile(&f, "y = LeakyRelu($x)", NULL, "y = LeakyRelu($x) {alpha = attr(y, \"alpha\") * 2.0}");
	const eng_rattr *a = &f.r->rnodes[0].attrs[0];
	cr_assert_str_eq(a->name, "alpha");
	cr_assert_eq(a->value->kind, EX_BINARY);
	cr_assert_eq(a->value->op, OP_MUL);
	cr_assert_str_eq(ex_text(a->value, f.r), "attr(y, \"alpha\") * 2.0");
	fx_free(&f);
}

Test(replace, fill_const_and_coalesce)
{
	fx f;
	compile(&f, "c = Conv($x, $w, $b?)", NULL,
		"c = Conv($x, Reshape($w, const([-1, 1, 1, 1])), $b ?? fill([dim($w, 0)], 0.0, \"f32\"))");
	const eng_rule *r = f.r;
	cr_assert_eq(r->nrnodes, 2);
	/* dependency order: the Reshape first */
	cr_assert_str_eq(r->rnodes[0].op, "Reshape");
	const eng_roperand *k = &r->rnodes[0].ins[1];
	cr_assert_eq(k->kind, RO_EXPR);
	cr_assert_eq(k->expr->fn, FN_CONST);
	const eng_rnode *conv = &r->rnodes[1];
	cr_assert_eq(conv->ins[1].kind, RO_RNODE);
	cr_assert_eq(conv->ins[1].index, 0);
	const eng_roperand *b = &conv->ins[2];
	cr_assert_eq(b->kind, RO_CAPTURE);
	cr_assert_not_null(b->fallback);
	cr_assert_eq(b->fallback->kind, RO_EXPR);
	cr_assert_eq(b->fallback->expr->fn, FN_FILL);
	cr_assert_null(b->fallback->fallback);
	fx_free(&f);
}

Test(replace, identity_removal_maps_to_capture)
{
	fx f;
	compile(&f, "y = Identity($x)", NULL, "y = $x");
	cr_assert_eq(f.r->nrnodes, 0);
	cr_assert_eq(f.r->noutputs, 1);
	cr_assert_eq(f.r->outputs[0].with.kind, RO_CAPTURE);
	cr_assert_eq(f.r->outputs[0].with.index, 0);
	fx_free(&f);
}

Test(replace, locals_order_and_aliases)
{
	fx f;
	compile(&f, "a = Relu($x)\nb = Tanh(a)", NULL, "b = Mul(t, k)\nk = Sigmoid(t)\nt = $x");
	const eng_rule *r = f.r;
	cr_assert_eq(r->nrnodes, 2);
	cr_assert_str_eq(r->rnodes[0].name, "k", "k is used by b: it comes first");
	cr_assert_eq(r->rnodes[0].ins[0].kind, RO_CAPTURE, "t is an alias of $x");
	cr_assert_eq(r->rnodes[1].ins[1].kind, RO_RNODE);
	cr_assert_eq(r->rnodes[1].ins[1].index, 0);
	cr_assert_eq(r->outputs[0].pnode, 1);
	fx_free(&f);
}

Test(replace, multi_result_replacement)
{
	fx f;
	compile(&f, "y, i = MaxPool($x)", NULL, "y, i = MaxPool($x) {...y}");
	cr_assert_eq(f.r->rnodes[0].nresults, 2);
	cr_assert_eq(f.r->noutputs, 2);
	cr_assert_eq(f.r->outputs[1].presult, 1);
	cr_assert_eq(f.r->outputs[1].with.result, 1);
	fx_free(&f);
}

Test(replace, pattern_values_and_absent_operands)
{
	fx f;
	compile(&f, "c = Conv($x, $w)\nr = Relu(c)", NULL, "r = Clip(c, _, const(6.0))");
	const eng_roperand *in = f.r->rnodes[0].ins;
	cr_assert_eq(in[0].kind, RO_PNODE, "c is the matched Conv's value");
	cr_assert_eq(in[0].index, 0);
	cr_assert_eq(in[1].kind, RO_NONE);
	fx_free(&f);
}

Test(replace, empty_replace_deletes_dead_code)
{
	fx f;
	load_yaml(&f, "rules:\n"
		      "  - name: dead\n"
		      "    pattern: y = Relu($x)\n"
		      "    where: uses($x) > 0\n"
		      "    replace: \"\"\n");
	cr_assert_eq(f.r->nrnodes, 0);
	cr_assert_eq(f.r->noutputs, 0);
	fx_free(&f);
}

/* ---------------------------------------------------------------- metadata and rule sets */

Test(rules, metadata_fields)
{
	fx f;
	load_yaml(&f, "version: 1\n"
		      "rules:\n"
		      "  - name: gelu.approx-v2\n"
		      "    doc: |\n"
		      "      Approximates GELU.\n"
		      "      Changes numerics.\n"
		      "    phase: 2\n"
		      "    benefit: -3\n"
		      "    exact: false\n"
		      "    tolerance: 1e-3\n"
		      "    when: cheaper\n"
		      "    allow_escape: true\n"
		      "    pattern: y = Erf($x)\n"
		      "    replace: y = Tanh($x)\n"
		      "  - name: plain\n"
		      "    pattern: y = Relu($x)\n"
		      "    replace: y = $x\n");
	const eng_rule *r = f.r;
	cr_assert_str_eq(eng_rule_name(r), "gelu.approx-v2");
	cr_assert_str_eq(eng_rule_doc(r), "Approximates GELU.\nChanges numerics.\n");
	cr_assert_eq(eng_rule_phase(r), 2);
	cr_assert_eq(eng_rule_benefit(r), -3);
	cr_assert_not(eng_rule_exact(r));
	cr_assert_float_eq(eng_rule_tolerance(r), 1e-3, 1e-12);
	cr_assert(eng_rule_when_cheaper(r));
	cr_assert(r->allow_escape);
	const eng_rule *p = eng_rule_at(f.rs, 1);
	cr_assert_eq(eng_rule_phase(p), 0);
	cr_assert_eq(eng_rule_benefit(p), 1);
	cr_assert(eng_rule_exact(p));
	cr_assert_not(p->when_cheaper);
	cr_assert_not(p->allow_escape);
	cr_assert_str_eq(eng_rule_doc(p), "");
	cr_assert(eng_rule_enabled(p));
	fx_free(&f);
}

Test(rules, find_enable_only)
{
	fx f;
	load_yaml(&f, "rules:\n"
		      "  - {name: a, pattern: y = Relu($x), replace: y = $x}\n"
		      "  - {name: b, pattern: y = Tanh($x), replace: y = $x}\n"
		      "  - {name: c, pattern: y = Erf($x), replace: y = $x}\n");
	cr_assert_eq(eng_nrules(f.rs), 3);
	cr_assert_eq(eng_rule_find(f.rs, "b"), eng_rule_at(f.rs, 1));
	cr_assert_null(eng_rule_find(f.rs, "z"));
	cr_assert_null(eng_rule_at(f.rs, 3));
	cr_assert(eng_ruleset_enable(f.rs, "b", false, &f.d));
	cr_assert_not(eng_rule_enabled(eng_rule_at(f.rs, 1)));
	const char *only[] = {"c"};
	cr_assert(eng_ruleset_only(f.rs, only, 1, &f.d));
	cr_assert_not(eng_rule_enabled(eng_rule_at(f.rs, 0)));
	cr_assert(eng_rule_enabled(eng_rule_at(f.rs, 2)));
	cr_assert_not(eng_ruleset_enable(f.rs, "bb", true, &f.d));
	cr_assert(ir_diags_contains(&f.d, "unknown rule 'bb'"));
	const char *bad[] = {"c", "nope"};
	cr_assert_not(eng_ruleset_only(f.rs, bad, 2, &f.d));
	cr_assert(eng_rule_enabled(eng_rule_at(f.rs, 2)), "a failed --only changes nothing");
	fx_free(&f);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

Test(rules, load_directory_sorted)
{
	char dir[] = "/tmp/graft-rules-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	write_file(dir, "b.yaml", "rules:\n  - {name: from_b, pattern: y = Relu($x), replace: y = $x}\n");
	write_file(dir, "a.yml", "rules:\n  - {name: from_a, pattern: y = Tanh($x), replace: y = $x}\n");
	write_file(dir, "notes.txt", "not yaml: [\n");
	write_file(dir, ".hidden.yaml", "not yaml: [\n");
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(eng_load_path(rs, dir, &d));
	cr_assert_eq(eng_nrules(rs), 2);
	cr_assert_str_eq(eng_rule_name(eng_rule_at(rs, 0)), "from_a");
	cr_assert_str_eq(eng_rule_name(eng_rule_at(rs, 1)), "from_b");
	cr_assert(strstr(eng_rule_file(eng_rule_at(rs, 0)), "/a.yml:2:5"), "%s", eng_rule_file(eng_rule_at(rs, 0)));
	/* a bad file: its rules are not loaded, the others' are */
	write_file(dir, "c.yaml", "rules:\n  - {name: from_c, pattern: y = Rellu($x), replace: y = $x}\n");
	eng_ruleset *rs2 = eng_ruleset_new();
	cr_assert_not(eng_load_path(rs2, dir, &d));
	cr_assert_eq(eng_nrules(rs2), 2);
	cr_assert_null(eng_rule_find(rs2, "from_c"));
	cr_assert(ir_diags_contains(&d, "unknown op 'Rellu'"));
	eng_ruleset_free(rs);
	eng_ruleset_free(rs2);
	ir_diags_free(&d);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(rules, dump_shows_the_compiled_rule)
{
	fx f;
	compile(&f, "c = Conv($x, $w, $b?) {group = 1}\nr = Relu|Clip(c)", "$b == none || is_const($b)",
		"r = graft::ConvRelu($x, $w, $b ?? fill([1], 0.0)) {...c}");
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	eng_rule_dump(f.r, m);
	fclose(m);
	cr_assert(strstr(buf, "rule t  (t.yaml:2:5)"), "%s", buf);
	cr_assert(strstr(buf, "p0 c = Conv($x, $w, $b?) {group == 1}  @4:7"), "%s", buf);
	cr_assert(strstr(buf, "p1 r = Relu|Clip(c)"), "%s", buf);
	cr_assert(strstr(buf, "w0 $b == none || is_const($b)"), "%s", buf);
	cr_assert(strstr(buf, "r0 r = graft::ConvRelu($x, $w, $b ?? fill([1], 0.0)) {...c}"), "%s", buf);
	cr_assert(strstr(buf, "r <- r0"), "%s", buf);
	free(buf);
	fx_free(&f);
}

/* ---------------------------------------------------------------- evaluation
 * A small graph, a rule whose pattern binds it by hand, and expressions
 * evaluated against that binding. */

typedef struct gx {
	ir_graph *g;
	ir_val x, w, s, h, kv, u, cv, b0, b1;
	ir_nid conv, relu, bn, cat;
	eng_ruleset *rs;
	int nrules;
	eng_scratch scratch;
	ir_diags d;
	char why[256];
} gx;

static ir_val add_const(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const void *data,
			size_t nbytes)
{
	ir_tid t = ir_tensor_new(g, ir_intern_cstr(g, name), dt, rank, dims, data, nbytes);
	return ir_const_new(g, ir_intern_cstr(g, name), t);
}

static void gx_init(gx *x)
{
	memset(x, 0, sizeof *x);
	ir_graph *g = x->g = ir_graph_new();
	ir_graph_add_opset(g, "", 17);
	x->x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 4, (int64_t[]){1, 3, 8, 8}), 0);
	x->u = ir_input_new(g, ir_intern_cstr(g, "u"), ir_type_tensor(g, IR_F32, 2, (int64_t[]){-1, 4}), 0);
	x->w = add_const(g, "w", IR_F32, 4, (int64_t[]){16, 3, 3, 3}, NULL, 432 * 4);
	x->s = add_const(g, "s", IR_I64, 1, (int64_t[]){2}, (int64_t[]){2, 3}, 16);
	x->h = add_const(g, "h", IR_F16, 0, NULL, (uint16_t[]){0x3800}, 2);
	x->conv = ir_node_new(g, NULL, "Conv", (ir_val[]){x->x, x->w}, 2, 1, 0);
	ir_attr_set_int(g, x->conv, "group", 1);
	ir_attr_set_ints(g, x->conv, "strides", (int64_t[]){1, 1}, 2);
	x->cv = ir_node_output(g, x->conv, 0);
	ir_value_at(g, x->cv)->type = ir_type_tensor(g, IR_F32, 4, (int64_t[]){1, 16, 6, 6});
	x->relu = ir_node_new(g, NULL, "Relu", &x->cv, 1, 1, 0);
	ir_nid k = ir_node_new(g, NULL, "Constant", NULL, 0, 1, 0);
	ir_attr_set_float(g, k, "value_float", 2.5f);
	x->kv = ir_node_output(g, k, 0);
	x->bn = ir_node_new(g, NULL, "BatchNormalization", (ir_val[]){x->cv, x->s, x->s, x->s, x->s}, 5, 1, 0);
	x->b0 = ir_node_output(g, x->bn, 0);
	x->b1 = ir_node_output(g, x->relu, 0);
	x->cat = ir_node_new(g, NULL, "Concat", (ir_val[]){x->x, x->s}, 2, 1, 0);
	ir_graph_add_output(g, x->b1);
	ir_graph_add_output(g, x->cv);
	cr_assert_not(ir_graph_oom(g));
	x->rs = eng_ruleset_new();
	ir_diags_init(&x->d);
}

static void gx_free(gx *x)
{
	eng_scratch_free(&x->scratch);
	eng_ruleset_free(x->rs);
	ir_diags_free(&x->d);
	ir_graph_free(x->g);
}

/* Compiles a rule whose replacement is `r = graft::Probe($x, OPERAND) {v = ATTR}`. */
static const eng_rule *probe_rule(gx *x, const char *operand, const char *attr)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml,
		 "rules:\n"
		 "  - name: t%d\n"
		 "    pattern: |\n"
		 "      c = Conv($x, $w, $b?)\n"
		 "      r = Relu(c)\n"
		 "      m = Concat($x, $s, $h, $k, $u, $cv, $rest...)\n"
		 "    replace: |\n"
		 "      r = graft::Probe($x, %s) {v = %s}\n"
		 "      m = $x\n",
		 x->nrules++, operand, attr);
	size_t before = eng_nrules(x->rs);
	bool ok = eng_load_text(x->rs, yaml, strlen(yaml), "probe.yaml", &x->d);
	if (!ok)
		ir_diags_print(&x->d, stderr);
	cr_assert(ok, "%s / %s should compile", operand, attr);
	return eng_rule_at(x->rs, before);
}

typedef struct bx {
	eng_binding b;
	ir_nid pnode[3];
	ir_val cap[16], rest[2];
	bool bound[16];
	ir_val *list[16];
	uint32_t list_n[16];
} bx;

static void bind(gx *x, const eng_rule *r, bx *bb)
{
	memset(bb, 0, sizeof *bb);
	cr_assert_eq(r->npnodes, 3);
	cr_assert_leq(r->ncaptures, 16);
	bb->pnode[0] = x->conv;
	bb->pnode[1] = x->relu;
	bb->pnode[2] = x->cat;
	const struct {
		const char *name;
		ir_val v;
	} caps[] = {{"x", x->x}, {"w", x->w}, {"b", IR_NONE}, {"s", x->s}, {"h", x->h}, {"k", x->kv}, {"u", x->u},
		    {"cv", x->cv}};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		int c = eng_capture_by_name(r, caps[i].name, strlen(caps[i].name));
		cr_assert_geq(c, 0);
		bb->cap[c] = caps[i].v;
		bb->bound[c] = true;
	}
	int rest = eng_capture_by_name(r, "rest", 4);
	bb->rest[0] = x->w;
	bb->rest[1] = x->s;
	bb->list[rest] = bb->rest;
	bb->list_n[rest] = 2;
	bb->bound[rest] = true;
	bb->b = (eng_binding){r, x->g, bb->pnode, NULL, NULL, bb->cap, bb->bound, bb->list, bb->list_n};
}

/* Evaluates EXPR (as a computed attribute) against the bound graph. */
static bool ev(gx *x, const char *expr, eng_ev *out)
{
	bx bb;
	const eng_rule *r = probe_rule(x, "$x", expr);
	bind(x, r, &bb);
	x->why[0] = 0;
	return eng_eval(r->rnodes[0].attrs[0].value, x->g, &bb.b, &x->scratch, out, x->why, sizeof x->why);
}

static void ev_int(gx *x, const char *expr, int64_t want)
{
	eng_ev v;
	cr_assert(ev(x, expr, &v), "%s: %s", expr, x->why);
	cr_assert_eq(v.kind, EV_INT, "%s: kind %d", expr, v.kind);
	cr_assert_eq(v.i, want, "%s = %lld, want %lld", expr, (long long)v.i, (long long)want);
}

static void ev_float(gx *x, const char *expr, double want)
{
	eng_ev v;
	cr_assert(ev(x, expr, &v), "%s: %s", expr, x->why);
	cr_assert_eq(v.kind, EV_FLOAT, "%s: kind %d", expr, v.kind);
	cr_assert_float_eq(v.f, want, 1e-12, "%s = %g", expr, v.f);
}

static void ev_bool(gx *x, const char *expr, bool want)
{
	eng_ev v;
	cr_assert(ev(x, expr, &v), "%s: %s", expr, x->why);
	cr_assert_eq(v.kind, EV_BOOL, "%s: kind %d", expr, v.kind);
	cr_assert_eq(v.i != 0, want, "%s", expr);
}

static void ev_str(gx *x, const char *expr, const char *want)
{
	eng_ev v;
	cr_assert(ev(x, expr, &v), "%s: %s", expr, x->why);
	cr_assert_eq(v.kind, EV_STRING, "%s: kind %d", expr, v.kind);
	cr_assert_eq(v.s_len, strlen(want));
	cr_assert_eq(memcmp(v.s, want, v.s_len), 0, "%s", expr);
}

static void ev_ints(gx *x, const char *expr, const int64_t *want, uint32_t n)
{
	eng_ev v;
	cr_assert(ev(x, expr, &v), "%s: %s", expr, x->why);
	cr_assert_eq(v.kind, EV_LIST, "%s: kind %d", expr, v.kind);
	cr_assert_eq(v.n, n, "%s: %u items", expr, v.n);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(v.items[i].kind, EV_INT);
		cr_assert_eq(v.items[i].i, want[i], "%s[%u]", expr, i);
	}
}

static void ev_fails(gx *x, const char *expr, const char *reason)
{
	eng_ev v;
	cr_assert_not(ev(x, expr, &v), "%s should fail", expr);
	cr_assert(strstr(x->why, reason), "%s: '%s' should say '%s'", expr, x->why, reason);
}

Test(eval, integer_arithmetic_is_exact)
{
	gx x;
	gx_init(&x);
	ev_int(&x, "1 + 2 * 3", 7);
	ev_int(&x, "7 / 2", 3);
	ev_int(&x, "-7 / 2", -3);
	ev_int(&x, "7 % 3", 1);
	ev_int(&x, "-7 % 3", -1);
	ev_int(&x, "9007199254740993 + 0", 9007199254740993LL); /* not representable as a double */
	ev_int(&x, "-(2 - 5)", 3);
	ev_fails(&x, "9223372036854775807 + 1", "overflow");
	ev_fails(&x, "(0 - 9223372036854775807 - 1) / -1", "overflow");
	ev_fails(&x, "1 / 0", "division by zero");
	ev_fails(&x, "5 % 0", "division by zero");
	gx_free(&x);
}

Test(eval, float_promotion_and_comparisons)
{
	gx x;
	gx_init(&x);
	ev_float(&x, "2 + 0.5", 2.5);
	ev_float(&x, "3 * 1.5", 4.5);
	ev_float(&x, "1 / 4.0", 0.25);
	ev_float(&x, "-1e-5", -1e-5);
	ev_bool(&x, "3 * 1.5 == 4.5", true);
	ev_bool(&x, "2 == 2.0", true);
	ev_bool(&x, "1 < 2.5", true);
	ev_bool(&x, "2 >= 2 && 2 <= 2 && !(2 > 2) && 2 != 3", true);
	ev_fails(&x, "1.5 / 0", "division by zero");
	gx_free(&x);
}

Test(eval, lists_strings_and_conditionals)
{
	gx x;
	gx_init(&x);
	ev_bool(&x, "[1, 2] == [1, 2]", true);
	ev_bool(&x, "[1, 2] == [2, 1]", false);
	ev_bool(&x, "[1, [2, 3]] != [1, [2, 4]]", true);
	ev_bool(&x, "[1, 2] == [1, 2, 3]", false);
	ev_bool(&x, "[] == []", true);
	ev_bool(&x, "\"ab\" == \"ab\" && \"ab\" != \"abc\"", true);
	ev_int(&x, "len(\"abc\")", 3);
	ev_int(&x, "len([1, 2, 3])", 3);
	ev_int(&x, "true ? 1 : 2.5", 1);
	ev_float(&x, "false ? 1 : 2.5", 2.5);
	ev_bool(&x, "false || true && !false", true);
	gx_free(&x);
}

Test(eval, shapes_and_dtypes)
{
	gx x;
	gx_init(&x);
	ev_int(&x, "dim($x, 1)", 3);
	ev_int(&x, "dim($x, -1)", 8);
	ev_int(&x, "rank($w)", 4);
	ev_int(&x, "numel($w)", 432);
	ev_str(&x, "dtype($x)", "f32");
	ev_str(&x, "dtype($s)", "i64");
	ev_ints(&x, "shape($x)", (int64_t[]){1, 3, 8, 8}, 4);
	ev_int(&x, "dim($u, 1)", 4);
	ev_int(&x, "rank($u)", 2);
	ev_fails(&x, "dim($u, 0)", "dim 0 of $u is unknown");
	ev_fails(&x, "numel($u)", "not fully known");
	ev_fails(&x, "shape($u)", "unknown");
	ev_fails(&x, "dim($x, 4)", "out of range");
	ev_fails(&x, "dim($x, -5)", "out of range");
	gx_free(&x);
}

Test(eval, attributes_with_registry_defaults)
{
	gx x;
	gx_init(&x);
	ev_int(&x, "attr(c, \"group\")", 1);
	ev_ints(&x, "attr(c, \"strides\")", (int64_t[]){1, 1}, 2);
	ev_str(&x, "attr(c, \"auto_pad\")", "NOTSET");
	ev_ints(&x, "attr(c, \"pads\", [0, 0])", (int64_t[]){0, 0}, 2);
	ev_int(&x, "attr(c, \"group\", 7)", 1);
	ev_fails(&x, "attr(c, \"kernel_shape\")", "absent and has no default");
	ev_bool(&x, "has_attr(c, \"group\")", true);
	ev_bool(&x, "has_attr(c, \"pads\")", false);
	ev_str(&x, "op(c)", "Conv");
	ev_str(&x, "op(r)", "Relu");
	eng_ev v;
	cr_assert(eng_attr_ev(x.g, x.bn, "epsilon", &x.scratch, &v, x.why, sizeof x.why), "%s", x.why);
	cr_assert_eq(v.kind, EV_FLOAT);
	cr_assert_float_eq(v.f, 1e-5, 1e-15);
	cr_assert(eng_attr_ev(x.g, x.bn, "training_mode", &x.scratch, &v, x.why, sizeof x.why));
	cr_assert_eq(v.kind, EV_INT);
	cr_assert_eq(v.i, 0);
	cr_assert_not(eng_attr_ev(x.g, x.relu, "alpha", &x.scratch, &v, x.why, sizeof x.why));
	for (int round = 0; round < 3; round++) { /* parsed defaults are remembered, 4 at a time */
		ev_int(&x, "attr(c, \"group\")", 1);
		ev_str(&x, "attr(c, \"auto_pad\")", "NOTSET");
		cr_assert(eng_attr_ev(x.g, x.bn, "epsilon", &x.scratch, &v, x.why, sizeof x.why));
		cr_assert(v.kind == EV_FLOAT && v.f == strtod("1e-05", NULL), "round %d", round);
		cr_assert(eng_attr_ev(x.g, x.bn, "momentum", &x.scratch, &v, x.why, sizeof x.why));
		cr_assert(v.kind == EV_FLOAT && v.f == strtod("0.9", NULL), "round %d", round);
		cr_assert(eng_attr_ev(x.g, x.bn, "training_mode", &x.scratch, &v, x.why, sizeof x.why));
		cr_assert(v.kind == EV_INT && v.i == 0, "round %d", round);
		eng_scratch_reset(&x.scratch);
	}
	gx_free(&x);
}

Test(eval, constants_uses_and_outputs)
{
	gx x;
	gx_init(&x);
	ev_bool(&x, "is_const($w)", true);
	ev_bool(&x, "is_const($k)", true);
	ev_bool(&x, "is_const($x)", false);
	ev_bool(&x, "is_const($b)", false);
	ev_bool(&x, "is_const($cv)", false);
	ev_int(&x, "uses($x)", 2);
	ev_int(&x, "uses($cv)", 3); /* Relu, BatchNormalization and a graph output */
	ev_int(&x, "uses($b)", 0);
	ev_bool(&x, "is_output($cv)", true);
	ev_bool(&x, "is_output($x)", false);
	gx_free(&x);
}

Test(eval, values_of_small_constants)
{
	gx x;
	gx_init(&x);
	ev_ints(&x, "value($s)", (int64_t[]){2, 3}, 2);
	ev_float(&x, "value($h)", 0.5);
	ev_float(&x, "value($k)", 2.5);
	ev_bool(&x, "value($s) == [2, 3]", true);
	ev_fails(&x, "value($x)", "not a constant");
	ev_fails(&x, "value($b)", "absent");
	gx_free(&x);
}

Test(eval, optional_and_list_captures)
{
	gx x;
	gx_init(&x);
	ev_bool(&x, "$b == none", true);
	ev_bool(&x, "$x == none", false);
	ev_bool(&x, "$x != none", true);
	ev_bool(&x, "$x == $w", false);
	ev_bool(&x, "$b == none || dim($b, 0) == 1", true);
	ev_fails(&x, "dim($b, 0)", "$b is absent");
	ev_int(&x, "len($rest)", 2);
	gx_free(&x);
}

Test(eval, min_max_abs_matches)
{
	gx x;
	gx_init(&x);
	ev_int(&x, "min(3, 1, 2)", 1);
	ev_int(&x, "max([1, 5, 2])", 5);
	ev_float(&x, "min(1, 2.5)", 1.0);
	ev_float(&x, "max(1, 2.5)", 2.5);
	ev_int(&x, "max(shape($x))", 8);
	ev_int(&x, "abs(-3)", 3);
	ev_float(&x, "abs(-2.5)", 2.5);
	ev_fails(&x, "min([])", "empty");
	ev_bool(&x, "matches(op(c), \"Co.v\")", true);
	ev_bool(&x, "matches(op(c), \"onv\")", false);
	ev_bool(&x, "matches(dtype($x), \"f(16|32)\")", true);
	ev_bool(&x, "matches(\"a/b\", \"a\\\\/b\")", true);
	gx_free(&x);
}

Test(eval, readiness_and_unbound_names)
{
	gx x;
	gx_init(&x);
	bx bb;
	const eng_rule *r = probe_rule(&x, "$x", "attr(c, \"group\") + dim($w, 0)");
	bind(&x, r, &bb);
	const eng_ex *e = r->rnodes[0].attrs[0].value;
	cr_assert(eng_ex_ready(e, &bb.b));
	bb.pnode[0] = 0;
	cr_assert_not(eng_ex_ready(e, &bb.b));
	eng_ev v;
	cr_assert_not(eng_eval(e, NULL, &bb.b, &x.scratch, &v, x.why, sizeof x.why));
	cr_assert(strstr(x.why, "'c' is not bound"), "%s", x.why);
	bb.pnode[0] = x.conv;
	bb.bound[eng_capture_by_name(r, "w", 1)] = false;
	cr_assert_not(eng_ex_ready(e, &bb.b));
	cr_assert_not(eng_eval(e, NULL, &bb.b, &x.scratch, &v, NULL, 0));
	bb.bound[eng_capture_by_name(r, "w", 1)] = true;
	cr_assert(eng_eval(e, NULL, &bb.b, &x.scratch, &v, NULL, 0));
	cr_assert_eq(v.i, 17);
	gx_free(&x);
}

/* Builds the constant of a replacement operand. */
static ir_val mk_const(gx *x, const char *operand)
{
	bx bb;
	const eng_rule *r = probe_rule(x, operand, "1");
	bind(x, r, &bb);
	const eng_roperand *o = &r->rnodes[0].ins[1];
	cr_assert_eq(o->kind, RO_EXPR);
	x->why[0] = 0;
	return eng_eval_const(o->expr, x->g, &bb.b, &x->scratch, x->why, sizeof x->why);
}

static const ir_tensor *const_tensor(gx *x, ir_val v, ir_dtype dt, int rank)
{
	cr_assert_neq(v, IR_NONE, "%s", x->why);
	const ir_value *val = ir_value_at(x->g, v);
	cr_assert_eq(val->def_kind, IR_DEF_CONST);
	const ir_tensor *t = ir_tensor_at(x->g, val->tensor);
	cr_assert_eq(t->dtype, dt);
	cr_assert_eq(t->rank, rank);
	return t;
}

Test(eval, fill_and_const_build_constants)
{
	gx x;
	gx_init(&x);
	ir_val v = mk_const(&x, "fill([2, 3], 1.5)");
	const ir_tensor *t = const_tensor(&x, v, IR_F32, 2);
	cr_assert_eq(ir_tensor_dims(x.g, ir_value_at(x.g, v)->tensor)[1], 3);
	for (int i = 0; i < 6; i++)
		cr_assert_float_eq(((const float *)t->data)[i], 1.5f, 0);
	v = mk_const(&x, "const([-1, 1, 1, 1])");
	t = const_tensor(&x, v, IR_I64, 1);
	cr_assert_eq(((const int64_t *)t->data)[0], -1);
	cr_assert_eq(((const int64_t *)t->data)[3], 1);
	v = mk_const(&x, "const(0.5, \"f16\")");
	t = const_tensor(&x, v, IR_F16, 0);
	cr_assert_eq(((const uint16_t *)t->data)[0], 0x3800);
	v = mk_const(&x, "fill(shape($x), attr(c, \"group\"))");
	t = const_tensor(&x, v, IR_I64, 4);
	cr_assert_eq(ir_tensor_numel(x.g, ir_value_at(x.g, v)->tensor), 192);
	cr_assert_eq(((const int64_t *)t->data)[191], 1);
	v = mk_const(&x, "fill([2], true)");
	t = const_tensor(&x, v, IR_BOOL, 1);
	cr_assert_eq(((const uint8_t *)t->data)[1], 1);
	v = mk_const(&x, "const([1, 2.5], \"i32\")");
	cr_assert_eq(v, IR_NONE, "2.5 is not an i32");
	cr_assert(strstr(x.why, "not an integer"), "%s", x.why);
	v = mk_const(&x, "fill([2], 300, \"i8\")");
	cr_assert_eq(v, IR_NONE);
	cr_assert(strstr(x.why, "does not fit i8"), "%s", x.why);
	v = mk_const(&x, "fill(shape($u), 0)");
	cr_assert_eq(v, IR_NONE);
	cr_assert(strstr(x.why, "unknown"), "%s", x.why);
	gx_free(&x);
}

/* ---------------------------------------------------------------- the reference's examples */

/* Every ```yaml block of docs/rules.md is a valid rule file (blocks that
 * show errors are ```text). */
Test(docs, every_yaml_example_compiles)
{
	size_t n;
	ir_diags d;
	ir_diags_init(&d);
	char *doc = ir_read_file(GRAFT_SOURCE_DIR "/docs/rules.md", &n, &d);
	cr_assert_not_null(doc, "docs/rules.md");
	int blocks = 0;
	for (char *p = strstr(doc, "```yaml\n"); p; p = strstr(p, "```yaml\n")) {
		p += 8;
		char *end = strstr(p, "```");
		cr_assert_not_null(end);
		char file[64];
		snprintf(file, sizeof file, "docs/rules.md#%d", ++blocks);
		eng_ruleset *rs = eng_ruleset_new();
		bool ok = eng_load_text(rs, p, (size_t)(end - p), file, &d);
		if (!ok)
			ir_diags_print(&d, stderr);
		cr_assert(ok, "yaml example %d of docs/rules.md", blocks);
		cr_assert_gt(eng_nrules(rs), 0);
		eng_ruleset_free(rs);
		p = end + 3;
	}
	cr_assert_geq(blocks, 20, "%d examples", blocks);
	free(doc);
	ir_diags_free(&d);
}
