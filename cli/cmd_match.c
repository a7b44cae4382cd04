/* graft match MODEL --rules PATH...: list matches, or explain a non-match. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"

static const char help[] =
	"usage: graft match MODEL --rules PATH... [--rule NAME] [--json]\n"
	"       graft match MODEL --rules PATH... --explain RULE --at NODE\n"
	"\n"
	"Lists where the rules of every PATH (a YAML file or a directory of them)\n"
	"match in MODEL, without rewriting: per match the rule and the matched nodes\n"
	"(pattern order).  Overlapping matches are all listed.\n"
	"\n"
	"  --rules PATH...   rule files or directories (repeatable)\n"
	"  --rule NAME       only this rule\n"
	"  --json            print {\"matches\": [{\"rule\", \"nodes\", \"captures\"}], \"count\"}\n"
	"  --explain RULE --at NODE\n"
	"                    say why RULE does (or does not) match with its root at\n"
	"                    NODE (a node name, a result's name, or #id): the pattern\n"
	"                    node or constraint that failed, with the values it saw\n"
	"\n"
	"Exit status: 0 success (with --explain: the rule matches); 1 with --explain\n"
	"when the rule does not match there; 2 error.\n";

typedef struct match_args {
	const char *model, *rule, *explain, *at;
	const char **rules;
	int nrules;
	bool json;
} match_args;

static int parse(int argc, char **argv, match_args *a)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (arg_is(s, NULL, "--rules")) {
			int start = a->nrules;
			while (i + 1 < argc && (argv[i + 1][0] != '-' || !argv[i + 1][1]))
				a->rules[a->nrules++] = argv[++i];
			if (a->nrules == start)
				return usage_error("match", "--rules needs at least one path");
		} else if (arg_is(s, NULL, "--rule") && i + 1 < argc) {
			a->rule = argv[++i];
		} else if (arg_is(s, NULL, "--explain") && i + 1 < argc) {
			a->explain = argv[++i];
		} else if (arg_is(s, NULL, "--at") && i + 1 < argc) {
			a->at = argv[++i];
		} else if (arg_is(s, NULL, "--json")) {
			a->json = true;
		} else if (s[0] == '-' && s[1]) {
			return usage_error("match", "unknown option '%s'", s);
		} else if (!a->model) {
			a->model = s;
		} else {
			return usage_error("match", "unexpected argument '%s'", s);
		}
	}
	if (!a->model || a->nrules == 0)
		return usage_error("match", "need a MODEL and --rules PATH");
	if (!a->explain != !a->at)
		return usage_error("match", "--explain RULE and --at NODE go together");
	return EXIT_OK;
}

/* A node by name, by the name of one of its results, or "#id". */
static ir_nid find_node(const ir_graph *g, const char *s)
{
	if (s[0] == '#') {
		char *end;
		unsigned long id = strtoul(s + 1, &end, 10);
		const ir_node *x = ir_node_at(g, (ir_nid)id);
		return !*end && x && !x->dead ? (ir_nid)id : 0;
	}
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		if (strcmp(ir_cstr(g, ir_node_at(g, n)->name), s) == 0)
			return n;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t k = 0; k < ir_node_at(g, n)->nout; k++) {
			ir_val v = ir_node_output(g, n, k);
			if (v && strcmp(ir_cstr(g, ir_value_at(g, v)->name), s) == 0)
				return n;
		}
	return 0;
}

static const char *node_name(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	ir_val v = x->nout ? ir_node_output(g, n, 0) : 0;
	if (x->name)
		return ir_cstr(g, x->name);
	if (v && ir_value_at(g, v)->name)
		return ir_cstr(g, ir_value_at(g, v)->name);
	snprintf(buf, cap, "#%u", (unsigned)n);
	return buf;
}

static void print_text(const ir_graph *g, const eng_matches *m)
{
	char buf[32];
	for (size_t i = 0; i < m->n; i++) {
		const eng_match *mt = &m->v[i];
		printf("%s:", eng_rule_name(mt->rule));
		for (uint32_t k = 0; k < mt->nnodes; k++)
			printf(" %s", node_name(g, mt->nodes[k], buf, sizeof buf));
		printf("\n");
	}
	printf("%zu match%s\n", m->n, m->n == 1 ? "" : "es");
}

static void print_json(const ir_graph *g, const eng_matches *m)
{
	char buf[32];
	json j;
	json_begin(&j, stdout);
	json_obj(&j);
	json_key(&j, "matches");
	json_arr(&j);
	for (size_t i = 0; i < m->n; i++) {
		const eng_match *mt = &m->v[i];
		json_obj(&j);
		json_key(&j, "rule");
		json_str(&j, eng_rule_name(mt->rule));
		json_key(&j, "nodes");
		json_arr(&j);
		for (uint32_t k = 0; k < mt->nnodes; k++)
			json_str(&j, node_name(g, mt->nodes[k], buf, sizeof buf));
		json_end_arr(&j);
		json_key(&j, "captures");
		json_arr(&j);
		for (uint32_t k = 0; k < mt->ncaptures; k++) {
			ir_val v = mt->captures[k];
			if (!v)
				json_str(&j, "");
			else if (ir_value_at(g, v)->name)
				json_str(&j, ir_cstr(g, ir_value_at(g, v)->name));
			else {
				snprintf(buf, sizeof buf, "%%#%u", (unsigned)v);
				json_str(&j, buf);
			}
		}
		json_end_arr(&j);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_key(&j, "count");
	json_int(&j, (long long)m->n);
	json_end_obj(&j);
	json_finish(&j);
}

static int list(const match_args *a, const eng_ruleset *rs, const ir_graph *g, ir_diags *d)
{
	const eng_rule *r = NULL;
	if (a->rule && !(r = eng_rule_find(rs, a->rule))) {
		fprintf(stderr, "graft match: error: no rule named '%s'\n", a->rule);
		return EXIT_ERR;
	}
	eng_matches m = {0};
	bool ok = eng_find_matches(rs, r, g, &m, d);
	ir_diags_print(d, stderr);
	if (ok && a->json)
		print_json(g, &m);
	else if (ok)
		print_text(g, &m);
	eng_matches_free(&m);
	return ok ? EXIT_OK : EXIT_ERR;
}

static int explain(const match_args *a, const eng_ruleset *rs, const ir_graph *g)
{
	const eng_rule *r = eng_rule_find(rs, a->explain);
	ir_nid at = find_node(g, a->at);
	if (!r) {
		fprintf(stderr, "graft match: error: no rule named '%s'\n", a->explain);
		return EXIT_ERR;
	}
	if (!at) {
		fprintf(stderr, "graft match: error: no node named '%s'\n", a->at);
		return EXIT_ERR;
	}
	return eng_explain(r, g, at, stdout) ? EXIT_OK : EXIT_DIFF;
}

static int run(const match_args *a, eng_ruleset *rs, ir_diags *d)
{
	ir_graph *g = load_or_report(a->model, d);
	if (!g)
		return EXIT_ERR;
	bool ok = true;
	for (int i = 0; i < a->nrules; i++)
		ok = eng_load_path(rs, a->rules[i], d) && ok;
	int rc = EXIT_ERR;
	if (!ok)
		fail_with(d);
	else if (a->explain)
		rc = explain(a, rs, g);
	else
		rc = list(a, rs, g, d);
	ir_graph_free(g);
	return rc;
}

int cmd_match(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	match_args a = {0};
	a.rules = calloc((size_t)argc + 1, sizeof *a.rules);
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	int rc = EXIT_ERR;
	if (!a.rules || !rs)
		fprintf(stderr, "graft match: error: out of memory\n");
	else if ((rc = parse(argc, argv, &a)) == EXIT_OK)
		rc = run(&a, rs, &d);
	ir_diags_free(&d);
	eng_ruleset_free(rs);
	free(a.rules);
	return rc;
}
