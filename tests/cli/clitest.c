/* Helpers shared by the tests that run the graft binary (clitest.h). */
#include "clitest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

char cli_tmpdir[256];

void cli_make_tmp(void)
{
	snprintf(cli_tmpdir, sizeof cli_tmpdir, "/tmp/graft-cli-XXXXXX");
	cr_assert_not_null(mkdtemp(cli_tmpdir));
}

void cli_remove_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cli_tmpdir);
	cr_assert_eq(system(cmd), 0);
}

const char *cli_tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", cli_tmpdir, name);
	return buf[k];
}

void cli_slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

run_result *cli_vrun(const char *prefix, const char *fmt, va_list ap)
{
	static run_result r;
	char args[2048], cmd[4096];
	vsnprintf(args, sizeof args, fmt, ap);
	snprintf(cmd, sizeof cmd, "'%s' %s %s >'%s' 2>'%s'", GRAFT_BINARY, prefix, args, cli_tmp_path("stdout"),
		 cli_tmp_path("stderr"));
	int st = system(cmd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	cli_slurp(cli_tmp_path("stdout"), r.out, sizeof r.out);
	cli_slurp(cli_tmp_path("stderr"), r.err, sizeof r.err);
	return &r;
}
