/* cli/: the graft binary's subcommands.  Each takes argc/argv after the
 * subcommand name and returns the process exit code: 0 success, 1 "found
 * differences or failures", 2 error. */
#ifndef GRAFT_CLI_H
#define GRAFT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "ir.h"

enum { EXIT_OK = 0, EXIT_DIFF = 1, EXIT_ERR = 2 };

int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_opt(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_sim(int argc, char **argv);

/* ---- args.c: small helpers shared by the subcommands */
bool arg_is(const char *a, const char *shortopt, const char *longopt);
bool wants_help(int argc, char **argv);
/* Prints diagnostics to stderr and returns EXIT_ERR. */
int fail_with(ir_diags *d);
int usage_error(const char *cmd, const char *fmt, ...) IR_PRINTF(2, 3);
/* Loads a graph, printing diagnostics on failure. */
ir_graph *load_or_report(const char *path, ir_diags *d);

/* ---- json.c: a minimal streaming JSON writer */
typedef struct json {
	FILE *out;
	int depth;
	bool first[32];
	bool key_pending;
} json;
void json_begin(json *j, FILE *out);
void json_obj(json *j);
void json_arr(json *j);
void json_end_obj(json *j);
void json_end_arr(json *j);
void json_key(json *j, const char *k);
void json_str(json *j, const char *s);
void json_int(json *j, long long v);
void json_num(json *j, double v);
void json_bool(json *j, bool v);
void json_finish(json *j);

#endif
