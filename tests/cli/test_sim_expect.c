/* graft sim --expect: outputs compared with reference .pb files; exit 1 when
 * they differ, 0 when they match, 2 on a bad expectation directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MODEL GRAFT_SHARED_DIR "/models/squeezenet1_1"

static int run(const char *args, char *out, size_t cap)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", GRAFT_BINARY, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_model(void)
{
	struct stat st;
	return stat(MODEL "/model.onnx", &st) == 0;
}

Test(sim_expect, reference_outputs_match)
{
	if (!have_model())
		cr_skip_test("no model at %s", MODEL);
	static char out[1 << 16];
	int rc = run("sim " MODEL "/model.onnx --inputs " MODEL "/test_data_set_0 --expect " MODEL
		     "/test_data_set_0 --top 0",
		     out, sizeof out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "matches"), "%s", out);
	rc = run("sim " MODEL "/model.onnx --inputs " MODEL "/test_data_set_0 --mode cube --json --expect " MODEL
		 "/test_data_set_0 --top 0",
		 out, sizeof out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "\"matches\":true"), "%s", out);
}

Test(sim_expect, other_inputs_differ)
{
	if (!have_model())
		cr_skip_test("no model at %s", MODEL);
	static char out[1 << 16];
	int rc = run("sim " MODEL "/model.onnx --seed 5 --expect " MODEL "/test_data_set_0 --top 0", out, sizeof out);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(out, "DIFFERS"), "%s", out);
	/* a tolerance wide enough accepts anything of the right shape */
	rc = run("sim " MODEL "/model.onnx --seed 5 --expect " MODEL "/test_data_set_0 --tolerance 1e9 --top 0", out,
		 sizeof out);
	cr_assert_eq(rc, 0, "%s", out);
}

Test(sim_expect, bad_expectations)
{
	if (!have_model())
		cr_skip_test("no model at %s", MODEL);
	static char out[1 << 16];
	cr_assert_eq(run("sim " MODEL "/model.onnx --expect /nonexistent-dir --top 0", out, sizeof out), 2, "%s", out);
	cr_assert(strstr(out, "error"), "%s", out);
	cr_assert_eq(run("sim " MODEL "/model.onnx --tolerance 1e-3", out, sizeof out), 2, "%s", out);
	cr_assert_eq(run("sim " MODEL "/model.onnx --expect " MODEL "/test_data_set_0 --tolerance -1", out, sizeof out),
		     2, "%s", out);
	cr_assert_eq(run("sim " MODEL "/model.onnx --no-run --expect " MODEL "/test_data_set_0", out, sizeof out), 2,
		     "%s", out);
}
