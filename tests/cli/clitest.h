/* Helpers shared by the tests that run the graft binary: a temporary
 * directory per test, paths in it, and running a command with its standard
 * output and error captured. */
#ifndef GRAFT_CLITEST_H
#define GRAFT_CLITEST_H

#include <stdarg.h>
#include <stddef.h>

extern char cli_tmpdir[256];

/* Criterion .init/.fini: a fresh /tmp/graft-cli-XXXXXX, removed after. */
void cli_make_tmp(void);
void cli_remove_tmp(void);
/* tmpdir/name in a ring of 8 static buffers. */
const char *cli_tmp_path(const char *name);
/* Reads at most cap-1 bytes of path into buf, NUL-terminated ("" when absent). */
void cli_slurp(const char *path, char *buf, size_t cap);

typedef struct run_result {
	int status; /* exit status; -1 when killed */
	char out[1 << 18];
	char err[1 << 14];
} run_result;

/* Runs `graft PREFIX ARGS` through the shell (ARGS formatted printf-style),
 * capturing both streams into a static result. */
run_result *cli_vrun(const char *prefix, const char *fmt, va_list ap);

#endif
