/* graft: the command-line entry point; dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sim.h"

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{"convert", cmd_convert, "convert a graph between .onnx, .gir and .dot"},
	{"info", cmd_info, "describe a graph: inputs, outputs, ops, parameters, MACs"},
	{"rules", cmd_rules, "check rule files and list their rules"},
	{"diff", cmd_diff, "compare two graphs: replacements, changed nodes, interface"},
	{"sim", cmd_sim, "run a graph on the simulator and estimate its cycles"},
	{"opt", cmd_opt, "apply a rule set to a model and write the rewritten model"},
	{"match", cmd_match, "list where rules match in a model, or explain why one does not"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: graft <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'graft <command> --help' describes a command.\n"
		     "Exit status: 0 success, 1 differences or failures found, 2 error.\n");
}

int main(int argc, char **argv)
{
	sim_blas_idle(); /* a BLAS worker polling for work would take a core for nothing */
	if (argc < 2) {
		usage(stderr);
		return EXIT_ERR;
	}
	if (arg_is(argv[1], "-h", "--help") || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (arg_is(argv[1], NULL, "--version")) {
		printf("graft 0.1\n");
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "graft: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_ERR;
}
