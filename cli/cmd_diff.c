/* graft diff A B: what really changed between two graphs. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff_cli.h"

static const char help[] =
	"usage: graft diff A B [--json | --dot | --stat] [--html FILE] [options]\n"
	"\n"
	"Compares two graphs (.onnx or .gir, in any mix) as computations: nodes are\n"
	"aligned by structure (op, attributes and the alignment of their operands),\n"
	"then by names as a hint, constants by content.  Renamed values and\n"
	"reordered nodes are not differences.  Reports, in order: a summary line;\n"
	"replacements (connected groups of removed nodes and the added nodes that\n"
	"took their place, grouped by shape, e.g. Conv+Relu (2 nodes) → FusedConv);\n"
	"changed nodes (attributes, operand wiring, constant data); inputs, outputs\n"
	"and initializers on one side only; changed shapes.\n"
	"\n"
	"  --json              one JSON object instead of text\n"
	"  --dot               one graphviz picture: kept, changed (orange), removed\n"
	"                      (red) and added (green) nodes\n"
	"  --stat              counts of removed, added and changed nodes per op only\n"
	"  --html FILE         also write a self-contained page with both graphs side\n"
	"                      by side (drawn by graphviz's dot when installed)\n"
	"  --ignore-names      do not use names to align nodes\n"
	"  --ignore-constants  compare constants by element type and shape only\n"
	"  --tolerance T       constant data is equal when no element differs by more\n"
	"                      than T (default 0: exact)\n"
	"  --color, --no-color colour the text (default: on a terminal, unless NO_COLOR\n"
	"                      is set)\n"
	"\n"
	"Exit status: 0 equal, 1 different, 2 error.\n";

typedef struct diff_args {
	const char *a, *b, *html;
	ir_diff_opts o;
	bool json, dot, stat;
	int color; /* -1: auto */
} diff_args;

static bool parse_tolerance(const char *s, double *out)
{
	char *end;
	errno = 0;
	double t = strtod(s, &end);
	if (errno || end == s || *end || !(t >= 0) || isinf(t))
		return false;
	*out = t;
	return true;
}

/* Options that take no value; false when arg is none of them. */
static bool flag(diff_args *x, const char *arg)
{
	bool *target = arg_is(arg, NULL, "--json")		 ? &x->json
		       : arg_is(arg, NULL, "--dot")		 ? &x->dot
		       : arg_is(arg, NULL, "--stat")		 ? &x->stat
		       : arg_is(arg, NULL, "--ignore-names")	 ? &x->o.ignore_names
		       : arg_is(arg, NULL, "--ignore-constants") ? &x->o.ignore_constants
								 : NULL;
	bool color = arg_is(arg, NULL, "--color") || arg_is(arg, NULL, "--no-color");
	if (target)
		*target = true;
	else if (color)
		x->color = arg_is(arg, NULL, "--color");
	return target || color;
}

static int parse_args(int argc, char **argv, diff_args *x)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		bool has_value = i + 1 < argc;
		if (flag(x, arg))
			continue;
		if (arg_is(arg, NULL, "--tolerance")) {
			if (!has_value || !parse_tolerance(argv[++i], &x->o.tolerance))
				return usage_error("diff", "--tolerance needs a number >= 0");
		} else if (arg_is(arg, NULL, "--html")) {
			if (!has_value)
				return usage_error("diff", "--html needs a file name");
			x->html = argv[++i];
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return usage_error("diff", "unknown option '%s'", arg);
		} else if (!x->a || !x->b) {
			*(x->a ? &x->b : &x->a) = arg;
		} else {
			return usage_error("diff", "unexpected argument '%s'", arg);
		}
	}
	if (!x->a || !x->b)
		return usage_error("diff", "need two graphs to compare");
	if (x->json + x->dot > 1 || (x->dot && x->stat))
		return usage_error("diff", "--json, --dot and --stat (with --dot) exclude each other");
	return EXIT_OK;
}

static bool use_color(const diff_args *x)
{
	if (x->color >= 0)
		return x->color;
	const char *no = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(no && *no);
}

static void print_result(const diff_args *x, const ir_diff *r)
{
	if (x->stat)
		diff_print_stat(stdout, r, x->json, use_color(x));
	else if (x->json)
		diff_print_json(stdout, r);
	else if (x->dot)
		diff_write_dot(stdout, r);
	else
		diff_print_text(stdout, r, x->a, x->b, use_color(x));
}

static int run(const diff_args *x, ir_diags *d)
{
	ir_graph *ga = load_or_report(x->a, d);
	ir_graph *gb = ga ? load_or_report(x->b, d) : NULL;
	ir_diff *r = gb ? ir_diff_graphs(ga, gb, &x->o, d) : NULL;
	int rc = EXIT_ERR;
	if (gb && !r) {
		fail_with(d);
	} else if (r) {
		print_result(x, r);
		rc = r->equal ? EXIT_OK : EXIT_DIFF;
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = EXIT_ERR;
		if (x->html && !diff_write_html(x->html, r, x->a, x->b, d))
			rc = fail_with(d);
	}
	ir_diff_free(r);
	ir_graph_free(ga);
	ir_graph_free(gb);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	diff_args x = {.color = -1};
	int rc = parse_args(argc, argv, &x);
	if (rc != EXIT_OK)
		return rc;
	ir_diags d;
	ir_diags_init(&d);
	rc = run(&x, &d);
	ir_diags_free(&d);
	return rc;
}
