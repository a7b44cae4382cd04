/* Diagnostics of the rule language (docs/rules.md, "Diagnostics"): one
 * test per error, each asserting the exact file:line:col (positions inside
 * block and quoted scalars mapped to the file), that every error of a file
 * is reported, and the `graft rules` command. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"

typedef struct dx {
	eng_ruleset *rs;
	ir_diags d;
	bool ok;
} dx;

static void load(dx *x, const char *yaml)
{
	ir_diags_init(&x->d);
	x->rs = eng_ruleset_new();
	cr_assert_not_null(x->rs);
	x->ok = eng_load_text(x->rs, yaml, strlen(yaml), "r.yaml", &x->d);
}

static void dx_free(dx *x)
{
	eng_ruleset_free(x->rs);
	ir_diags_free(&x->d);
}

static void show(const dx *x)
{
	fprintf(stderr, "---- diagnostics:\n");
	ir_diags_print(&x->d, stderr);
}

/* An error at exactly line:col of r.yaml whose message contains needle. */
static void expect(const dx *x, int line, int col, const char *needle)
{
	cr_assert_not(x->ok, "the load should fail");
	for (size_t i = 0; i < x->d.n; i++) {
		const ir_diag *g = &x->d.v[i];
		if (g->sev == IR_ERROR && g->line == line && g->col == col && strstr(g->msg, needle) &&
		    g->file && strcmp(g->file, "r.yaml") == 0)
			return;
	}
	show(x);
	cr_assert_fail("no error at r.yaml:%d:%d containing \"%s\"", line, col, needle);
}

static void expect_errors(const dx *x, size_t n)
{
	if (x->d.nerrors != n)
		show(x);
	cr_assert_eq(x->d.nerrors, n, "%zu errors, want %zu", x->d.nerrors, n);
}

/* Loads, expects exactly one error, at line:col, containing needle. */
static void one_error(const char *yaml, int line, int col, const char *needle)
{
	dx x;
	load(&x, yaml);
	expect(&x, line, col, needle);
	expect_errors(&x, 1);
	cr_assert_eq(eng_nrules(x.rs), 0, "a file with errors loads no rule");
	dx_free(&x);
}

/* ---------------------------------------------------------------- the file */

Test(yaml, malformed)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: [\n",
		  4, 1, "malformed YAML: did not find expected node content");
	one_error("rules:\n"
		  "  - name: a\n"
		  "   bad: x\n",
		  3, 4, "malformed YAML");
}

Test(yaml, colon_in_a_plain_where_gets_a_hint)
{
	/* a list item: YAML reads a mapping */
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: y = Relu($x)\n"
		  "    where:\n"
		  "      - rank($x) > 1 ? true : false\n"
		  "    replace: y = $x\n",
		  5, 9, "a where item must be a string, got a mapping: quote expressions that contain ': '");
	/* a value: YAML itself fails */
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: y = Relu($x)\n"
		  "    where: rank($x) > 1 ? true : false\n"
		  "    replace: y = $x\n",
		  4, 32, "quote a where expression that contains ': '");
}

Test(yaml, file_shape)
{
	one_error("", 1, 1, "the file is empty");
	one_error("- name: a\n", 1, 1, "a rule file is a mapping with a 'rules:' list, got a list");
	one_error("rules: a\n", 1, 8, "'rules' must be a list of rules");
	one_error("version: 2\nrules: []\n", 1, 10, "unsupported version '2'");
	one_error("rules:\n  - just a string\n", 2, 5, "a rule must be a mapping");
	one_error("rules: []\n---\nrules: []\n", 3, 1, "a rule file holds one YAML document");
	dx x;
	load(&x, "rulez: []\n");
	expect(&x, 1, 1, "unknown key 'rulez' in a rule file (did you mean 'rules'?)");
	expect(&x, 1, 1, "the file has no 'rules:' list");
	dx_free(&x);
}

Test(yaml, unknown_and_duplicate_keys)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    patern: y = Relu($x)\n"
		  "    pattern: y = Relu($x)\n"
		  "    replace: y = $x\n",
		  3, 5, "unknown key 'patern' in a rule (did you mean 'pattern'?)");
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: y = Relu($x)\n"
		  "    replace: y = $x\n"
		  "    pattern: y = Tanh($x)\n",
		  5, 5, "duplicate key 'pattern' in a rule");
}

/* ---------------------------------------------------------------- metadata */

Test(metadata, missing_name_pattern_replace)
{
	one_error("rules:\n  - pattern: y = Relu($x)\n    replace: y = $x\n", 2, 5, "a rule needs a name");
	one_error("rules:\n  - name: a\n    replace: y = $x\n", 2, 5, "rule 'a' has no pattern");
	one_error("rules:\n  - name: a\n    pattern: y = Relu($x)\n", 2, 5, "rule 'a' has no replace");
	one_error("rules:\n  - name: 9lives\n    pattern: y = Relu($x)\n    replace: y = $x\n", 2, 11,
		  "invalid rule name '9lives'");
}

Test(metadata, bad_values)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    phase: high\n"
		 "    benefit: [1]\n"
		 "    exact: maybe\n"
		 "    tolerance: -1\n"
		 "    when: faster\n"
		 "    allow_escape: 1\n"
		 "    pattern: y = Relu($x)\n"
		 "    replace: y = $x\n");
	expect(&x, 3, 12, "'phase' must be an integer, got 'high'");
	expect(&x, 4, 14, "'benefit' must be an integer, got a list");
	expect(&x, 5, 12, "'exact' must be true or false, got 'maybe'");
	expect(&x, 6, 16, "'tolerance' must be a number >= 0");
	expect(&x, 7, 11, "'when' must be 'cheaper'");
	expect(&x, 8, 19, "'allow_escape' must be true or false");
	expect_errors(&x, 6);
	dx_free(&x);
}

Test(metadata, inexact_needs_a_tolerance)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    exact: false\n"
		  "    pattern: y = Erf($x)\n"
		  "    replace: y = Tanh($x)\n",
		  3, 12, "an inexact rule (exact: false) needs a 'tolerance'");
}

Test(metadata, duplicate_rule_names)
{
	one_error("rules:\n"
		  "  - {name: a, pattern: y = Relu($x), replace: y = $x}\n"
		  "  - {name: a, pattern: y = Tanh($x), replace: y = $x}\n",
		  3, 12, "duplicate rule name 'a' (first defined at r.yaml:2:5)");
	dx x;
	load(&x, "rules:\n  - {name: a, pattern: y = Relu($x), replace: y = $x}\n");
	cr_assert(x.ok);
	const char *second = "rules:\n  - {name: a, pattern: y = Tanh($x), replace: y = $x}\n";
	cr_assert_not(eng_load_text(x.rs, second, strlen(second), "other.yaml", &x.d));
	cr_assert(ir_diags_contains(&x.d, "duplicate rule name 'a' (first defined at r.yaml:2:5)"));
	cr_assert_eq(x.d.v[0].line, 2);
	cr_assert_eq(x.d.v[0].col, 12);
	cr_assert_str_eq(x.d.v[0].file, "other.yaml");
	cr_assert_eq(eng_nrules(x.rs), 1);
	dx_free(&x);
}

/* ---------------------------------------------------------------- patterns */

Test(pattern, unknown_op_with_suggestion)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      c = Conv($x, $w)\n"
		 "      y = Rellu(c)\n"
		 "      z = relu|Sigmoid(y)\n"
		 "    replace: |\n"
		 "      z = Frobnicate($x)\n"
		 "  - name: b\n"
		 "    pattern: y = com.acme::Frobnicate($x)\n"
		 "    replace: y = graft::Frob2($x)\n");
	expect(&x, 5, 11, "unknown op 'Rellu' (did you mean 'Relu'?)");
	expect(&x, 6, 11, "unknown op 'relu' (did you mean 'Relu'?)");
	expect(&x, 8, 11, "unknown op 'Frobnicate' (not in graft's registry");
	expect_errors(&x, 3);
	dx_free(&x);
}

Test(pattern, unknown_class)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      y = @elementwize+unary($x)\n"
		 "      z = @unary+foo(y)\n"
		 "    replace: z = $x\n");
	expect(&x, 4, 12, "unknown class '@elementwize' (did you mean '@elementwise'?)");
	expect(&x, 5, 18, "unknown class '@foo'");
	expect_errors(&x, 2);
	dx_free(&x);
}

Test(pattern, bad_regex_maps_pcre2_offset)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: |\n"
		  "      y = /Add(/($x)\n"
		  "    replace: y = $x\n",
		  4, 16, "bad regex: missing closing parenthesis");
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: y = Relu($x)\n"
		  "    where: matches(op(y), \"a\\\\d[\")\n"
		  "    replace: y = $x\n",
		  4, 33, "bad regex: missing terminating ] for character class");
}

Test(pattern, operand_shapes)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      y = Concat($xs..., $z)\n"
		 "      c = @unary[1..8](y, $k)\n"
		 "      d = @unary[0..3](c)\n"
		 "      e = Relu(d, $z)\n"
		 "      f = Conv(e)\n"
		 "    replace: f = $z\n");
	expect(&x, 4, 18, "a variadic operand ($xs...) must be the last one");
	expect(&x, 5, 11, "a chain takes its input and optionally one variadic capture");
	expect(&x, 6, 17, "a chain's length must be [MIN..MAX] with 1 <= MIN <= MAX <= 64, got [0..3]");
	expect(&x, 7, 11, "Relu takes at most 1 operand, the pattern gives 2");
	expect(&x, 8, 11, "Conv takes at least 2 operands, the pattern gives 1");
	expect_errors(&x, 5);
	dx_free(&x);
}

Test(pattern, names_results_and_cycles)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      y = Relu($x)\n"
		 "      m, i = MaxPool(y)\n"
		 "      z = Add(y.3, m.2)\n"
		 "      w = Add(z, q)\n"
		 "    replace: w = $x\n"
		 "  - name: b\n"
		 "    pattern: |\n"
		 "      a = Relu(b)\n"
		 "      b = Relu(a)\n"
		 "    replace: \"\"\n"
		 "  - name: c\n"
		 "    pattern: |\n"
		 "      none = Relu($x)\n"
		 "      y = Relu($x)\n"
		 "      y = Tanh($x)\n"
		 "      _t = Tanh($x)\n"
		 "    replace: \"\"\n");
	expect(&x, 6, 15, "result index 3 is out of range: 'y' has 1 result");
	expect(&x, 6, 20, "result index 2 is out of range: 'm' has 2 results");
	expect(&x, 7, 18, "unknown name 'q': no pattern line defines it");
	expect(&x, 11, 7, "the pattern has a cycle through 'a'");
	expect(&x, 16, 7, "'none' is reserved");
	expect(&x, 18, 7, "'y' is defined twice in the pattern");
	expect(&x, 19, 7, "'_t' is reserved");
	expect_errors(&x, 7);
	dx_free(&x);
}

Test(pattern, disconnected)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: |\n"
		  "      y = Relu($x)\n"
		  "      z = Tanh($k)\n"
		  "    replace: |\n"
		  "      y = $x\n"
		  "      z = $k\n",
		  5, 7, "the pattern is not connected: 'z' shares no node or capture with 'y'");
}

Test(pattern, unknown_attribute_and_kind)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      c = Conv($x, $w) {grop = 1}\n"
		 "      y = Conv(c, $w) {group = \"x\", strides = 1}\n"
		 "    replace: y = $x\n");
	expect(&x, 4, 25, "Conv has no attribute 'grop' (did you mean 'group'?)");
	expect(&x, 5, 32, "the attribute is an int, got a string");
	expect(&x, 5, 47, "the attribute is a list of ints, got an int");
	expect_errors(&x, 3);
	dx_free(&x);
}

Test(pattern, syntax_errors_each_line)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      y = Relu($x\n"
		 "      z = Tanh($x) ^\n"
		 "      w Relu($x)\n"
		 "      v = Relu($x, \"open)\n"
		 "    replace: y = $x\n");
	expect(&x, 4, 18, "expected ',' or ')', got end of line");
	expect(&x, 5, 20, "unexpected character '^'");
	expect(&x, 6, 9, "expected ',' or '=', got name 'Relu'");
	expect(&x, 7, 20, "unterminated string");
	expect_errors(&x, 4);
	dx_free(&x);
}

/* ---------------------------------------------------------------- where */

Test(where, unknown_names_and_captures)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: c = Conv($x, $weight)\n"
		 "    where:\n"
		 "      - $q == none\n"
		 "      - $wieght == none\n"
		 "      - attr(conv, \"group\") == 1\n"
		 "      - attr(cc, \"group\") == 1\n"
		 "    replace: c = $x\n");
	expect(&x, 5, 9, "unknown capture $q: captures are bound by the pattern");
	expect(&x, 6, 9, "unknown capture $wieght (did you mean $weight?)");
	expect(&x, 7, 14, "unknown name 'conv': expressions refer to pattern nodes and $captures");
	expect(&x, 8, 14, "unknown name 'cc'");
	expect_errors(&x, 4);
	dx_free(&x);
}

Test(where, captures_nodes_and_types)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: c = Conv($x, $w, $rest...)\n"
		 "    where:\n"
		 "      - attr($x, \"group\") == 1\n"
		 "      - dim(c, 0) == 1\n"
		 "      - '\"a\" + 1 == 2'\n"
		 "      - dim($x, 0)\n"
		 "      - dtype($x) == 1\n"
		 "      - rank($rest) == 1\n"
		 "      - attr(c, \"grup\") == 1\n"
		 "      - fill([1], 0) == 1 || true\n"
		 "      - fill([1], 0)\n"
		 "      - true && 1\n"
		 "    replace: c = $x\n");
	expect(&x, 5, 14, "attr() wants a pattern node name as argument 1, got the capture $x");
	expect(&x, 6, 13, "dim() wants a value ($capture) as argument 1, got the pattern node 'c'");
	expect(&x, 7, 14, "operator + wants numbers, got a string and an int");
	expect(&x, 8, 9, "a where constraint must be a bool expression, got an int");
	expect(&x, 9, 19, "operator == wants operands of the same type, got a string and an int");
	expect(&x, 10, 14, "rank() wants a value ($capture) as argument 1, got the list capture $rest");
	expect(&x, 11, 17, "Conv has no attribute 'grup' (did you mean 'group'?)");
	expect(&x, 12, 22, "operator == wants operands of the same type, got a constant operand");
	expect(&x, 13, 9, "fill() makes a constant operand of a replacement");
	expect(&x, 14, 14, "operator && wants bools, got a bool and an int");
	expect_errors(&x, 10);
	dx_free(&x);
}

Test(where, builtin_arity_and_unknown_functions)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: c = Conv($x, $w)\n"
		 "    where:\n"
		 "      - dim($x) == 1\n"
		 "      - attr(c) == 1\n"
		 "      - min() == 1\n"
		 "      - dimm($x, 0) == 1\n"
		 "      - matches(op(c), $x)\n"
		 "      - fill([1], 0, \"f33\") == 1\n"
		 "    replace: c = $x\n");
	expect(&x, 5, 9, "dim() takes 2 arguments, got 1");
	expect(&x, 6, 9, "attr() takes 2 or 3 arguments, got 1");
	expect(&x, 7, 9, "min() takes 1 to 16 arguments, got 0");
	expect(&x, 8, 9, "unknown function 'dimm' (did you mean 'dim'?)");
	expect(&x, 9, 24, "matches() wants a literal regex string as argument 2, got the capture $x");
	expect(&x, 10, 22, "unknown dtype \"f33\"");
	expect_errors(&x, 6);
	dx_free(&x);
}

Test(where, positions_in_quoted_and_folded_scalars)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: y = Relu($x)\n"
		 "    where:\n"
		 "      - \"\\\"s\\\" + $q\"\n"
		 "      - >\n"
		 "        rank($x) == 4 &&\n"
		 "        dim($z, 0) == 1\n"
		 "      - '\"it''s\" + 1 == 2'\n"
		 "    replace: y = $x\n");
	/* "\"s\" + $q": the capture is past two escaped quotes */
	expect(&x, 5, 18, "unknown capture $q");
	expect(&x, 8, 13, "unknown capture $z");
	expect(&x, 9, 18, "operator + wants numbers, got a string and an int");
	expect_errors(&x, 3);
	dx_free(&x);
}

Test(where, items_must_be_strings)
{
	one_error("rules:\n"
		  "  - name: a\n"
		  "    pattern: y = Relu($x)\n"
		  "    where:\n"
		  "      - [1, 2]\n"
		  "    replace: y = $x\n",
		  5, 9, "a where item must be a string, got a list");
}

/* ---------------------------------------------------------------- replace */

Test(replace, unknown_names_ops_and_captures)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      c = Conv($x, $w)\n"
		 "      y = Relu(c)\n"
		 "    replace: |\n"
		 "      y = Relu(Add(x, $z))\n"
		 "      kern = Sigmoid(kernl)\n"
		 "      c = Relu|Tanh($x)\n");
	expect(&x, 7, 20, "unknown name 'x' (did you mean $x?)");
	expect(&x, 7, 23, "unknown capture $z");
	expect(&x, 9, 15, "a replacement creates one op: alternatives (|) are for patterns");
	expect(&x, 8, 22, "unknown name 'kernl' (did you mean 'kern'?)");
	expect_errors(&x, 4);
	dx_free(&x);
}

Test(replace, structure)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      c = Conv($x, $w, $b?)\n"
		 "      y = Relu(c)\n"
		 "      m = Tanh(y)\n"
		 "    replace: |\n"
		 "      y = Relu(k)\n"
		 "      k = Relu(y)\n"
		 "      t = Relu(c ?? $x)\n"
		 "      m = Relu($x, $w)\n"
		 "      m = $x\n"
		 "      u, v = $x\n");
	expect(&x, 8, 7, "the replacement has a cycle through 'y'");
	expect(&x, 10, 18, "only an optional $capture can be absent");
	expect(&x, 11, 11, "Relu takes 1 operand, got 2");
	expect(&x, 12, 7, "'m' is defined twice in the replacement");
	expect(&x, 13, 10, "only an op has several results");
	expect_errors(&x, 5);
	dx_free(&x);
}

Test(replace, sinks_attributes_and_operands)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: a\n"
		 "    pattern: |\n"
		 "      y = LeakyRelu($x)\n"
		 "      z = Tanh($x)\n"
		 "    replace: |\n"
		 "      y = LeakyRelu($x, shape($x)) {alpah = 0.1, ...q}\n"
		 "      t = fill([1], 0)\n");
	expect(&x, 5, 7, "the pattern's sink 'z' is not replaced");
	expect(&x, 7, 53, "unknown pattern node 'q'");
	expect(&x, 7, 11, "LeakyRelu takes 1 operand, got 2");
	expect(&x, 7, 25, "an operand expression must be fill(...) or const(...), got a list");
	expect(&x, 7, 37, "LeakyRelu has no attribute 'alpah' (did you mean 'alpha'?)");
	expect_errors(&x, 5);
	cr_assert(ir_diags_contains(&x.d, "'t' is never used"), "a warning for an unused local");
	dx_free(&x);
}

/* ---------------------------------------------------------------- all errors, files, CLI */

Test(errors, every_error_of_a_file_is_reported)
{
	dx x;
	load(&x, "rules:\n"
		 "  - name: one\n"
		 "    pattern: |\n"
		 "      y = Rlu($x)\n"
		 "      z = Tanh(y\n"
		 "    replace: y = $x\n"
		 "  - name: two\n"
		 "    pattern: y = Relu($x)\n"
		 "    where: dim(y, 0) == 1\n"
		 "    replace: y = Relu($q)\n"
		 "  - name: one\n"
		 "    benefit: x\n"
		 "    pattern: y = Relu($x)\n"
		 "    replace: y = $x\n");
	expect(&x, 4, 11, "unknown op 'Rlu'");
	expect(&x, 5, 17, "expected ',' or ')'");
	expect(&x, 9, 16, "dim() wants a value");
	expect(&x, 10, 23, "unknown capture $q");
	expect(&x, 11, 11, "duplicate rule name 'one'");
	expect(&x, 12, 14, "'benefit' must be an integer");
	expect_errors(&x, 6);
	cr_assert_eq(eng_nrules(x.rs), 0);
	dx_free(&x);
}

Test(errors, files_and_directories)
{
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(eng_load_path(rs, "/nonexistent/rules.yaml", &d));
	cr_assert(ir_diags_contains(&d, "cannot open"));
	char dir[] = "/tmp/graft-diag-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[600];
	snprintf(path, sizeof path, "%s/a.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("rules:\n  - {name: a, pattern: y = Rlu($x), replace: y = $x}\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/b.yaml", dir);
	f = fopen(path, "w");
	fputs("rules:\n  - {name: b, pattern: y = Tanh($x), replace: y = $q}\n", f);
	fclose(f);
	ir_diags_clear(&d);
	cr_assert_not(eng_load_path(rs, dir, &d));
	cr_assert_eq(d.nerrors, 2, "both files' errors");
	cr_assert(strstr(d.v[0].file, "/a.yaml"));
	cr_assert_eq(d.v[0].line, 2);
	cr_assert_eq(d.v[0].col, 28);
	cr_assert(strstr(d.v[1].file, "/b.yaml"));
	eng_ruleset_free(rs);
	ir_diags_free(&d);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
}

/* Runs `graft ARGS`, returning the exit status; out and err capture
 * stdout and stderr. */
static int graft(char *out, size_t nout, char *err, size_t nerr, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	char ofile[] = "/tmp/graft-rules-outXXXXXX", efile[] = "/tmp/graft-rules-errXXXXXX";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	close(mkstemp(ofile));
	close(mkstemp(efile));
	snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", GRAFT_BINARY, args, ofile, efile);
	int st = system(cmd);
	FILE *f = fopen(ofile, "r");
	out[fread(out, 1, nout - 1, f)] = 0;
	fclose(f);
	f = fopen(efile, "r");
	err[fread(err, 1, nerr - 1, f)] = 0;
	fclose(f);
	unlink(ofile);
	unlink(efile);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli, graft_rules)
{
	char dir[] = "/tmp/graft-cli-rules-XXXXXX", path[600], bad[600];
	static char out[1 << 16], err[1 << 14];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/good.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("rules:\n"
	      "  - name: drop_identity\n"
	      "    doc: Removes Identity nodes.\n"
	      "    benefit: 5\n"
	      "    pattern: y = Identity($x)\n"
	      "    replace: y = $x\n"
	      "  - name: gelu_tanh\n"
	      "    exact: false\n"
	      "    tolerance: 0.001\n"
	      "    pattern: y = Erf($x)\n"
	      "    replace: y = Tanh($x)\n",
	      f);
	fclose(f);
	snprintf(bad, sizeof bad, "%s/bad.yaml", dir);
	f = fopen(bad, "w");
	fputs("rules:\n  - name: b\n    pattern: y = Rlu($x)\n    replace: y = $z\n", f);
	fclose(f);

	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules '%s'", path), 0, "%s", err);
	cr_assert(strstr(out, "drop_identity"), "%s", out);
	cr_assert(strstr(out, "Removes Identity nodes."), "%s", out);
	cr_assert(strstr(out, "inexact"), "%s", out);
	cr_assert(strstr(out, "2 rules"), "%s", out);

	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules --json '%s'", path), 0, "%s", err);
	cr_assert(strstr(out, "\"name\":\"gelu_tanh\""), "%s", out);
	cr_assert(strstr(out, "\"exact\":false"), "%s", out);
	cr_assert(strstr(out, "\"benefit\":5"), "%s", out);

	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules --dump '%s'", path), 0, "%s", err);
	cr_assert(strstr(out, "p0 y = Identity($x)"), "%s", out);

	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules '%s' '%s'", path, bad), 2);
	char want[700];
	snprintf(want, sizeof want, "%s:3:18: error: unknown op 'Rlu' (did you mean 'Relu'?)", bad);
	cr_assert(strstr(err, want), "%s", err);
	snprintf(want, sizeof want, "%s:4:18: error: unknown capture $z", bad);
	cr_assert(strstr(err, want), "%s", err);
	cr_assert_eq(out[0], 0, "no listing when a file has errors");

	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules"), 2);
	cr_assert_eq(graft(out, sizeof out, err, sizeof err, "rules --help"), 0);
	cr_assert(strstr(out, "usage: graft rules"));
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
}
