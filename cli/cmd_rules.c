/* graft rules PATH... [--json] [--dump]: check rule files, list their rules. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"

static const char help[] =
	"usage: graft rules PATH... [--json] [--dump]\n"
	"\n"
	"Checks rule files (YAML; a directory loads every *.yaml and *.yml file in\n"
	"it, sorted by name) and lists their rules: name, phase, benefit, whether the\n"
	"rule is exact, where it is defined and its doc; then the functions they\n"
	"define (graft's fused ops with their bodies).  Every error of every file is\n"
	"reported as file:line:col; the exit status is then 2.  See docs/rules.md.\n"
	"\n"
	"  --json   print one JSON object instead of text\n"
	"  --dump   also print each rule's compiled form (pattern nodes, constraints,\n"
	"           replacement, matching plan) and each function's body (.gir)\n";

static void print_doc(const char *doc)
{
	while (*doc) {
		size_t n = strcspn(doc, "\n");
		printf("    %.*s\n", (int)n, doc);
		doc += n + (doc[n] == '\n');
	}
}

static void list_text(const eng_ruleset *rs, bool dump)
{
	for (size_t i = 0; i < eng_nrules(rs); i++) {
		const eng_rule *r = eng_rule_at(rs, i);
		printf("%-28s phase %-3d benefit %-4d %-8s %s\n", eng_rule_name(r), eng_rule_phase(r),
		       eng_rule_benefit(r), eng_rule_exact(r) ? "exact" : "inexact", eng_rule_file(r));
		if (eng_rule_when_cheaper(r) && eng_rule_exact(r))
			printf("    when cheaper\n");
		else if (eng_rule_when_cheaper(r))
			printf("    when cheaper, %.3g max relative error\n", eng_rule_tolerance(r));
		else if (!eng_rule_exact(r))
			printf("    %.3g max relative error\n", eng_rule_tolerance(r));
		print_doc(eng_rule_doc(r));
		if (dump)
			eng_rule_dump(r, stdout);
	}
	printf("%zu rule%s\n", eng_nrules(rs), eng_nrules(rs) == 1 ? "" : "s");
}

static void list_funcs_text(const eng_ruleset *rs, bool dump)
{
	for (size_t i = 0; i < eng_nfuncs(rs); i++) {
		eng_func_info f = eng_func_info_at(rs, i);
		char name[256], shape[64];
		snprintf(name, sizeof name, "%s%s%s", f.domain, *f.domain ? "::" : "", f.name);
		snprintf(shape, sizeof shape, "%d in, %d out, %d attr%s", f.ninputs, f.noutputs, f.nattrs,
			 f.nattrs == 1 ? "" : "s");
		printf("%-28s %-28s %s:%d:%d\n", name, shape, f.file, f.line, f.col);
		print_doc(f.doc);
		if (dump)
			ir_print(f.graph, stdout, NULL, NULL, NULL);
	}
	if (eng_nfuncs(rs))
		printf("%zu function%s\n", eng_nfuncs(rs), eng_nfuncs(rs) == 1 ? "" : "s");
}

static void funcs_json(json *j, const eng_ruleset *rs)
{
	json_key(j, "functions");
	json_arr(j);
	for (size_t i = 0; i < eng_nfuncs(rs); i++) {
		eng_func_info f = eng_func_info_at(rs, i);
		char at[600];
		snprintf(at, sizeof at, "%s:%d:%d", f.file, f.line, f.col);
		json_obj(j);
		json_key(j, "domain");
		json_str(j, f.domain);
		json_key(j, "name");
		json_str(j, f.name);
		json_key(j, "defined_at");
		json_str(j, at);
		json_key(j, "inputs");
		json_int(j, f.ninputs);
		json_key(j, "outputs");
		json_int(j, f.noutputs);
		json_key(j, "doc");
		json_str(j, f.doc);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void list_json(const eng_ruleset *rs)
{
	json j;
	json_begin(&j, stdout);
	json_obj(&j);
	json_key(&j, "rules");
	json_arr(&j);
	for (size_t i = 0; i < eng_nrules(rs); i++) {
		const eng_rule *r = eng_rule_at(rs, i);
		json_obj(&j);
		json_key(&j, "name");
		json_str(&j, eng_rule_name(r));
		json_key(&j, "defined_at");
		json_str(&j, eng_rule_file(r));
		json_key(&j, "phase");
		json_int(&j, eng_rule_phase(r));
		json_key(&j, "benefit");
		json_int(&j, eng_rule_benefit(r));
		json_key(&j, "exact");
		json_bool(&j, eng_rule_exact(r));
		json_key(&j, "tolerance");
		json_num(&j, eng_rule_tolerance(r));
		json_key(&j, "when_cheaper");
		json_bool(&j, eng_rule_when_cheaper(r));
		json_key(&j, "doc");
		json_str(&j, eng_rule_doc(r));
		json_end_obj(&j);
	}
	json_end_arr(&j);
	funcs_json(&j, rs);
	json_end_obj(&j);
	json_finish(&j);
}

int cmd_rules(int argc, char **argv)
{
	bool as_json = false, dump = false;
	int npaths = 0;
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	for (int i = 0; i < argc; i++) {
		if (arg_is(argv[i], NULL, "--json"))
			as_json = true;
		else if (arg_is(argv[i], NULL, "--dump"))
			dump = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("rules", "unknown option '%s'", argv[i]);
		else
			npaths++;
	}
	if (npaths == 0)
		return usage_error("rules", "expected one or more rule files or directories");
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	bool ok = rs != NULL;
	for (int i = 0; rs && i < argc; i++)
		if (argv[i][0] != '-' || !argv[i][1])
			ok = eng_load_path(rs, argv[i], &d) && ok;
	ir_diags_print(&d, stderr);
	if (ok && as_json)
		list_json(rs);
	else if (ok)
		list_text(rs, dump);
	if (ok && !as_json)
		list_funcs_text(rs, dump);
	if (!rs)
		fprintf(stderr, "graft rules: error: out of memory\n");
	ir_diags_free(&d);
	eng_ruleset_free(rs);
	return ok ? EXIT_OK : EXIT_ERR;
}
