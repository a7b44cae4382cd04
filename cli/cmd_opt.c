/* graft opt MODEL --rules PATH... -o OUT: apply a rule set, write the result. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "engine.h"

static const char help[] =
	"usage: graft opt MODEL --rules PATH... -o OUT [--trace] [--json]\n"
	"                 [--disable RULE...] [--only RULE...] [--max-rewrites N]\n"
	"\n"
	"Loads MODEL (.onnx or .gir), applies the rules of every PATH (a YAML file or a\n"
	"directory of them) to a fixpoint, and writes the rewritten model to OUT (.onnx\n"
	"or .gir, by extension; '-' writes .gir text to standard output).  Rules apply\n"
	"in order of phase, then benefit, then graph order; constant-only nodes the\n"
	"replacements create are folded through the simulator's kernels.\n"
	"\n"
	"Prints a summary: rewrites per rule and node counts before and after.\n"
	"\n"
	"  --rules PATH...     rule files or directories (repeatable)\n"
	"  --disable RULE...   do not apply these rules\n"
	"  --only RULE...      apply only these rules\n"
	"  --trace             list every rewrite: the rule, the nodes it matched and\n"
	"                      the nodes that replaced them\n"
	"  --json              print the summary as JSON: rewrites, per_rule,\n"
	"                      nodes_before, nodes_after, time_ms {load, rewrite, write}\n"
	"  --max-rewrites N    give up after N rewrites (default: 10 per node + 1000)\n"
	"\n"
	"Exit status: 0 success; 2 error (bad rules, or a rule set that does not\n"
	"converge: nothing is written then).\n";

typedef struct opt_args {
	const char *model, *out;
	const char **rules, **disable, **only;
	int nrules, ndisable, nonly;
	bool trace, json;
	unsigned long max_rewrites;
} opt_args;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Consumes the arguments after option argv[*i] up to the next option. */
static int take_list(int argc, char **argv, int *i, const char **list, int n)
{
	int start = n;
	while (*i + 1 < argc && (argv[*i + 1][0] != '-' || !argv[*i + 1][1]))
		list[n++] = argv[++*i];
	return n > start ? n : -1;
}

static int parse(int argc, char **argv, opt_args *a)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		int n = 0;
		if (arg_is(s, NULL, "--rules"))
			n = a->nrules = take_list(argc, argv, &i, a->rules, a->nrules);
		else if (arg_is(s, NULL, "--disable"))
			n = a->ndisable = take_list(argc, argv, &i, a->disable, a->ndisable);
		else if (arg_is(s, NULL, "--only"))
			n = a->nonly = take_list(argc, argv, &i, a->only, a->nonly);
		else if (arg_is(s, "-o", "--output") && i + 1 < argc)
			a->out = argv[++i];
		else if (arg_is(s, NULL, "--max-rewrites") && i + 1 < argc)
			a->max_rewrites = strtoul(argv[++i], NULL, 10);
		else if (arg_is(s, NULL, "--trace"))
			a->trace = true;
		else if (arg_is(s, NULL, "--json"))
			a->json = true;
		else if (s[0] == '-' && s[1])
			return usage_error("opt", "unknown option '%s'", s);
		else if (!a->model)
			a->model = s;
		else
			return usage_error("opt", "unexpected argument '%s'", s);
		if (n < 0)
			return usage_error("opt", "%s needs at least one argument", s);
	}
	if (!a->model || !a->out || a->nrules <= 0)
		return usage_error("opt", "need a MODEL, --rules PATH and -o OUT");
	return EXIT_OK;
}

/* Loads the rules and applies --disable / --only. */
static bool load_rules(eng_ruleset *rs, const opt_args *a, ir_diags *d)
{
	bool ok = true;
	for (int i = 0; i < a->nrules; i++)
		ok = eng_load_path(rs, a->rules[i], d) && ok;
	for (int i = 0; ok && i < a->ndisable; i++)
		ok = eng_ruleset_enable(rs, a->disable[i], false, d);
	if (ok && a->nonly > 0)
		ok = eng_ruleset_only(rs, a->only, (size_t)a->nonly, d);
	return ok;
}

static void print_names(FILE *f, const eng_report *rep, const ir_graph *g, const eng_ref *v, size_t n)
{
	char buf[ENG_NAME_CAP];
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", eng_ref_label(rep, g, v[i], buf, sizeof buf));
}

static void print_text(FILE *f, const opt_args *a, const ir_graph *g, const eng_report *rep, const double *ms)
{
	for (size_t i = 0; a->trace && i < rep->n; i++) {
		const eng_rewrite *w = &rep->v[i];
		fprintf(f, "%s%s: [", w->rejected ? "rejected " : "", w->rule);
		print_names(f, rep, g, w->matched, w->nmatched);
		fprintf(f, "] -> [");
		print_names(f, rep, g, w->added, w->nadded);
		fprintf(f, "]");
		if (w->cycles_before >= 0)
			fprintf(f, "  cycles %.0f -> %.0f", w->cycles_before, w->cycles_after);
		fprintf(f, "\n");
	}
	fprintf(f, "%s: %zu -> %zu nodes, %zu rewrite%s, %zu constant%s folded (load %.1f ms, rewrite %.1f ms, write %.1f ms)\n",
		a->model, rep->nodes_before, rep->nodes_after, rep->iterations, rep->iterations == 1 ? "" : "s",
		rep->folded, rep->folded == 1 ? "" : "s", ms[0], ms[1], ms[2]);
	for (size_t k = 0; k < rep->nrules; k++)
		fprintf(f, "  %-32s %zu\n", rep->rules[k], rep->counts[k]);
}

static void json_names(json *j, const char *key, const eng_report *rep, const ir_graph *g, const eng_ref *v,
		       size_t n)
{
	char buf[ENG_NAME_CAP];
	json_key(j, key);
	json_arr(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, eng_ref_label(rep, g, v[i], buf, sizeof buf));
	json_end_arr(j);
}

static void json_rewrite(json *j, const eng_report *rep, const ir_graph *g, const eng_rewrite *w)
{
	json_obj(j);
	json_key(j, "rule");
	json_str(j, w->rule);
	json_names(j, "matched", rep, g, w->matched, w->nmatched);
	json_names(j, "added", rep, g, w->added, w->nadded);
	if (w->cycles_before >= 0) {
		json_key(j, "cycles_before");
		json_num(j, w->cycles_before);
		json_key(j, "cycles_after");
		json_num(j, w->cycles_after);
		json_key(j, "rejected");
		json_bool(j, w->rejected);
	}
	json_end_obj(j);
}

static void print_json(FILE *f, const ir_graph *g, const eng_report *rep, const double *ms)
{
	json j;
	json_begin(&j, f);
	json_obj(&j);
	json_key(&j, "rewrites");
	json_arr(&j);
	for (size_t i = 0; i < rep->n; i++)
		json_rewrite(&j, rep, g, &rep->v[i]);
	json_end_arr(&j);
	json_key(&j, "per_rule");
	json_obj(&j);
	for (size_t k = 0; k < rep->nrules; k++) {
		json_key(&j, rep->rules[k]);
		json_int(&j, (long long)rep->counts[k]);
	}
	json_end_obj(&j);
	json_key(&j, "nodes_before");
	json_int(&j, (long long)rep->nodes_before);
	json_key(&j, "nodes_after");
	json_int(&j, (long long)rep->nodes_after);
	json_key(&j, "folded");
	json_int(&j, (long long)rep->folded);
	json_key(&j, "time_ms");
	json_obj(&j);
	static const char *const phases[3] = {"load", "rewrite", "write"};
	for (int i = 0; i < 3; i++) {
		json_key(&j, phases[i]);
		json_num(&j, ms[i]);
	}
	json_end_obj(&j);
	json_end_obj(&j);
	json_finish(&j);
}

static void summary(const opt_args *a, const ir_graph *g, const eng_report *rep, const double *ms)
{
	FILE *f = strcmp(a->out, "-") == 0 ? stderr : stdout;
	if (a->json)
		print_json(f, g, rep, ms);
	else
		print_text(f, a, g, rep, ms);
}

static int run(const opt_args *a, eng_ruleset *rs, ir_diags *d)
{
	double ms[3], t0 = now_ms();
	ir_graph *g = load_or_report(a->model, d);
	if (!g)
		return EXIT_ERR;
	if (ir_verify(g, d, a->model) || !load_rules(rs, a, d)) {
		ir_graph_free(g);
		return fail_with(d);
	}
	ir_diags_print(d, stderr);
	ir_diags_clear(d);
	double t1 = now_ms();
	eng_options o = eng_default_options();
	if (a->max_rewrites)
		o.max_iterations = (uint32_t)a->max_rewrites;
	o.records = a->trace || a->json; /* the summary needs the counts per rule only */
	eng_report rep;
	bool ok = eng_apply(rs, g, &o, &rep, d);
	double t2 = now_ms();
	ok = ok && ir_verify(g, d, a->model) == 0 && ir_save(g, a->out, IR_FMT_UNKNOWN, d);
	double t3 = now_ms();
	ms[0] = t1 - t0;
	ms[1] = t2 - t1;
	ms[2] = t3 - t2;
	ir_diags_print(d, stderr);
	if (ok)
		summary(a, g, &rep, ms);
	eng_report_free(&rep);
	ir_graph_free(g);
	return ok ? EXIT_OK : EXIT_ERR;
}

int cmd_opt(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	opt_args a = {0};
	size_t cap = (size_t)argc + 1;
	a.rules = calloc(cap, sizeof *a.rules);
	a.disable = calloc(cap, sizeof *a.disable);
	a.only = calloc(cap, sizeof *a.only);
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	int rc = EXIT_ERR;
	if (!a.rules || !a.disable || !a.only || !rs)
		fprintf(stderr, "graft opt: error: out of memory\n");
	else if ((rc = parse(argc, argv, &a)) == EXIT_OK)
		rc = run(&a, rs, &d);
	ir_diags_free(&d);
	eng_ruleset_free(rs);
	free(a.rules);
	free(a.disable);
	free(a.only);
	return rc;
}
