/* graft convert IN -o OUT: between .onnx, .gir and .dot. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
	"usage: graft convert IN -o OUT [--to onnx|gir|dot] [--inline-max N]\n"
	"\n"
	"Reads IN (.onnx or .gir; '-' reads .gir text from standard input), checks it\n"
	"(shape inference and the verifier) and writes OUT, whose format follows its\n"
	"extension: .onnx, .gir (large constants go to the side file OUT.bin) or .dot\n"
	"(graphviz). '-o -' writes text to standard output (.gir unless --to dot), with\n"
	"large constants elided.\n"
	"\n"
	"  --inline-max N   .gir: write constants of up to N elements inline (default\n"
	"                   16); larger ones go to OUT.bin. -1 inlines everything,\n"
	"                   which makes one self-contained text file.\n"
	"\n"
	"Output is written to a temporary file and renamed, so a failed run leaves no\n"
	"partial file. Exit status: 0 success, 2 error.\n";

static ir_format parse_format(const char *s)
{
	if (strcmp(s, "onnx") == 0)
		return IR_FMT_ONNX;
	if (strcmp(s, "gir") == 0)
		return IR_FMT_GIR;
	if (strcmp(s, "dot") == 0)
		return IR_FMT_DOT;
	return IR_FMT_UNKNOWN;
}

int cmd_convert(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	ir_format fmt = IR_FMT_UNKNOWN;
	int inline_max = 16;
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	for (int i = 0; i < argc; i++) {
		if (arg_is(argv[i], "-o", "--output") && i + 1 < argc)
			out = argv[++i];
		else if (arg_is(argv[i], NULL, "--to") && i + 1 < argc) {
			fmt = parse_format(argv[++i]);
			if (fmt == IR_FMT_UNKNOWN)
				return usage_error("convert", "unknown format '%s'", argv[i]);
		} else if (arg_is(argv[i], NULL, "--inline-max") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < -1 || v > 1000000000)
				return usage_error("convert", "--inline-max wants a count (or -1), not '%s'", argv[i]);
			inline_max = (int)v;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("convert", "unknown option '%s'", argv[i]);
		else if (!in)
			in = argv[i];
		else
			return usage_error("convert", "unexpected argument '%s'", argv[i]);
	}
	if (!in || !out)
		return usage_error("convert", "need an input and -o OUTPUT");
	if (fmt == IR_FMT_UNKNOWN && ir_format_of_path(out) == IR_FMT_UNKNOWN)
		return usage_error("convert", "cannot tell the output format of '%s' (use .onnx, .gir, .dot or --to)", out);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = load_or_report(in, &d);
	int rc = EXIT_ERR;
	if (g && ir_verify(g, &d, in) == 0 && ir_save_inline(g, out, fmt, inline_max, &d))
		rc = EXIT_OK;
	if (rc != EXIT_OK && g)
		fail_with(&d);
	ir_graph_free(g);
	ir_diags_free(&d);
	return rc;
}
