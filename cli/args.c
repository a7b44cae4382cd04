/* Argument helpers shared by the subcommands. */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

bool arg_is(const char *a, const char *shortopt, const char *longopt)
{
	return (shortopt && strcmp(a, shortopt) == 0) || (longopt && strcmp(a, longopt) == 0);
}

bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (arg_is(argv[i], "-h", "--help"))
			return true;
	return false;
}

int fail_with(ir_diags *d)
{
	ir_diags_print(d, stderr);
	if (d->nerrors == 0)
		fprintf(stderr, "graft: error: failed\n");
	return EXIT_ERR;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "graft %s: error: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see 'graft %s --help')\n", cmd);
	va_end(ap);
	return EXIT_ERR;
}

ir_graph *load_or_report(const char *path, ir_diags *d)
{
	ir_graph *g = ir_load(path, d);
	if (!g)
		fail_with(d);
	else
		ir_diags_print(d, stderr); /* warnings */
	if (g)
		ir_diags_clear(d);
	return g;
}
