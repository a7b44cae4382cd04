/* `graft diff` end to end: exit codes (0 equal, 1 different, 2 error), the
 * JSON shape, --stat, --dot, colour, and the --html page opened in a real
 * headless browser.  Graphs are built through the IR API and saved as .onnx
 * and .gir (diffs mix the two). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/clitest.h"

#include "ir.h"
#include "ir/diff_nets.h"

TestSuite(diff_cli, .init = cli_make_tmp, .fini = cli_remove_tmp, .timeout = 120);

static run_result *run(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	run_result *r = cli_vrun("diff", fmt, ap);
	va_end(ap);
	return r;
}

/* Builds a variant of the test network and saves it as cli_tmpdir/name. */
static const char *save(const char *name, net_opts o)
{
	ir_graph *g = net_build(&o);
	ir_diags d;
	ir_diags_init(&d);
	static char saved[16][512]; /* apart from tmp_path's ring: runs reuse that */
	static int k;
	k = (k + 1) % 16;
	char *path = saved[k];
	snprintf(path, sizeof saved[k], "%s", cli_tmp_path(name));
	bool ok = ir_save(g, path, IR_FMT_UNKNOWN, &d);
	if (!ok)
		ir_diags_print(&d, stderr);
	cr_assert(ok, "cannot save %s", path);
	ir_diags_free(&d);
	ir_graph_free(g);
	return path;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* When Python is there, the output must parse as one JSON object. */
static void assert_json(const char *text)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		return;
	FILE *f = fopen(cli_tmp_path("check.json"), "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '%s'",
		 cli_tmp_path("check.json"));
	cr_assert_eq(system(cmd), 0, "not JSON: %s", text);
}

Test(diff_cli, identical_graphs_exit_0)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.gir", (net_opts){0});
	run_result *r = run("'%s' '%s'", a, b);
	cr_assert_eq(r->status, 0, "stderr: %s", r->err);
	cr_assert(strstr(r->out, ": equal"), "%s", r->out);
}

Test(diff_cli, renamed_and_shuffled_exit_0)
{
	const char *a = save("a.gir", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.prefix = "x_", .reverse = true});
	run_result *r = run("'%s' '%s' --json", a, b);
	cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
	cr_assert(strstr(r->out, "\"equal\":true"));
	assert_json(r->out);
}

Test(diff_cli, attribute_change_exit_1_with_json)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.dilate = true});
	run_result *r = run("'%s' '%s' --json", a, b);
	cr_assert_eq(r->status, 1, "%s", r->err);
	assert_json(r->out);
	cr_assert(strstr(r->out, "{\"equal\":false,\"added\":0,\"removed\":0,\"changed\":1,\"replacements\":[]"), "%s",
		  r->out);
	cr_assert(strstr(r->out, "\"node\":\"conv2\""), "%s", r->out);
	cr_assert(strstr(r->out, "\"what\":\"attribute\",\"name\":\"dilations\",\"old\":\"[1,1]\",\"new\":\"[2,2]\""),
		  "%s", r->out);
}

Test(diff_cli, constant_change_and_tolerance)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.bias2 = 0.25f});
	run_result *r = run("'%s' '%s'", a, b);
	cr_assert_eq(r->status, 1);
	cr_assert(strstr(r->out, "operand 2 (constant data)"), "%s", r->out);
	cr_assert(strstr(r->out, "max |Δ| 0.25"), "%s", r->out);
	cr_assert_eq(run("'%s' '%s' --tolerance 0.3", a, b)->status, 0);
	cr_assert_eq(run("'%s' '%s' --ignore-constants", a, b)->status, 0);
	cr_assert_eq(run("'%s' '%s' --tolerance 0.1", a, b)->status, 1);
}

Test(diff_cli, fusion_is_one_replacement)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.fuse = true});
	run_result *r = run("'%s' '%s' --json", a, b);
	cr_assert_eq(r->status, 1, "%s", r->err);
	assert_json(r->out);
	cr_assert(strstr(r->out, "\"replacements\":[{\"summary\":\"Conv+BatchNormalization+Relu (3 nodes) → FusedConv\","
				 "\"removed\":[\"conv1\",\"bn\",\"relu1\"],\"added\":[\"conv1\"],"
				 "\"inputs\":[\"x\"],\"outputs\":[\"relu1_out\"]"),
		  "%s", r->out);
	cr_assert_eq(count(r->out, "\"summary\""), 1);
	r = run("'%s' '%s'", a, b);
	cr_assert(strstr(r->out, "1 added, 3 removed, 0 changed nodes"), "%s", r->out);
	cr_assert(strstr(r->out, "×1  Conv+BatchNormalization+Relu (3 nodes) → FusedConv"), "%s", r->out);
}

Test(diff_cli, inserted_and_duplicated)
{
	const char *a = save("a.onnx", (net_opts){0});
	run_result *r = run("'%s' '%s' --json", a, save("b.onnx", (net_opts){.insert = true}));
	cr_assert_eq(r->status, 1);
	cr_assert(strstr(r->out, "\"added\":1,\"removed\":0,\"changed\":0"), "%s", r->out);
	cr_assert(strstr(r->out, "\"summary\":\"Sigmoid added\""), "%s", r->out);
	r = run("'%s' '%s' --json", a, save("c.gir", (net_opts){.dup = true}));
	cr_assert_eq(r->status, 1);
	cr_assert(strstr(r->out, "\"added\":3,\"removed\":0,\"changed\":0"), "%s", r->out);
	cr_assert(strstr(r->out, "\"summary\":\"Conv+Relu+Add (3 nodes) added\""), "%s", r->out);
}

Test(diff_cli, stat_dot_and_colour)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.fuse = true});
	run_result *r = run("'%s' '%s' --stat --json", a, b);
	assert_json(r->out);
	cr_assert(strstr(r->out, "\"FusedConv\":{\"removed\":0,\"added\":1,\"changed\":0}") ||
			  strstr(r->out, "\"com.microsoft::FusedConv\":{\"removed\":0,\"added\":1,\"changed\":0}"),
		  "%s", r->out);
	cr_assert(strstr(r->out, "\"BatchNormalization\":{\"removed\":1,\"added\":0,\"changed\":0}"), "%s", r->out);
	r = run("'%s' '%s' --dot", a, b);
	cr_assert_eq(r->status, 1);
	cr_assert_eq(strncmp(r->out, "digraph", 7), 0);
	cr_assert(strstr(r->out, "#c9ecc4"), "added nodes are green");
	cr_assert_null(strchr(run("'%s' '%s'", a, b)->out, '\033'), "no colour when not on a terminal");
	cr_assert_not_null(strchr(run("'%s' '%s' --color", a, b)->out, '\033'));
}

Test(diff_cli, errors_exit_2)
{
	const char *a = save("a.onnx", (net_opts){0});
	run_result *r = run("'%s' '%s'", a, cli_tmp_path("missing.onnx"));
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "missing.onnx"), "%s", r->err);
	cr_assert_eq(run("'%s'", a)->status, 2);
	cr_assert_eq(run("'%s' '%s' --frobnicate", a, a)->status, 2);
	cr_assert_eq(run("'%s' '%s' --tolerance -1", a, a)->status, 2);
	cr_assert_eq(run("'%s' '%s' --json --dot", a, a)->status, 2);
	cr_assert_eq(run("--help")->status, 0);
}

/* ---------------------------------------------------------------- HTML */

static bool have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

Test(diff_cli, html_page_is_written_atomically)
{
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.fuse = true});
	const char *page = cli_tmp_path("report.html");
	run_result *r = run("'%s' '%s' --html '%s'", a, b, page);
	cr_assert_eq(r->status, 1, "%s", r->err);
	static char html[1 << 20];
	cli_slurp(page, html, sizeof html);
	cr_assert(strstr(html, "<!DOCTYPE html>"));
	cr_assert(strstr(html, "Conv+BatchNormalization+Relu (3 nodes) → FusedConv"));
	if (have("dot"))
		cr_assert_eq(count(html, "<svg"), 2, "both graphs drawn");
	else
		cr_assert(strstr(html, "graphviz's dot is not installed"));
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", cli_tmpdir);
	cr_assert_neq(system(cmd), 0, "no temporary file left beside the page");
}

static const char *chromium(void)
{
	return have("chromium") ? "chromium" : have("chromium-browser") ? "chromium-browser" : NULL;
}

Test(diff_cli, html_renders_in_a_headless_browser)
{
	const char *browser = chromium();
	if (!browser)
		cr_skip_test("chromium is not installed");
	if (!have("dot"))
		cr_skip_test("graphviz's dot is not installed");
	const char *a = save("a.onnx", (net_opts){0});
	const char *b = save("b.onnx", (net_opts){.fuse = true, .dilate = true});
	const char *page = cli_tmp_path("report.html");
	cr_assert_eq(run("'%s' '%s' --html '%s'", a, b, page)->status, 1);
	char cmd[4096];
	snprintf(cmd, sizeof cmd,
		 "%s --headless --no-sandbox --disable-gpu --disable-background-networking "
		 "--disable-component-update --disable-sync --no-first-run --user-data-dir='%s' "
		 "--dump-dom 'file://%s' >'%s' 2>'%s'",
		 browser, cli_tmp_path("profile"), page, cli_tmp_path("dom"), cli_tmp_path("browser.err"));
	cr_assert_eq(system(cmd), 0, "the browser failed");
	static char dom[1 << 20];
	cli_slurp(cli_tmp_path("dom"), dom, sizeof dom);
	cr_assert(strstr(dom, "id=\"graph-a\"") && strstr(dom, "id=\"graph-b\""), "both sides are in the DOM");
	cr_assert_eq(count(dom, "<svg"), 2, "the DOM holds both SVGs");
	cr_assert(strstr(dom, "id=\"a"), "A's nodes carry their ids");
	cr_assert(strstr(dom, "FusedConv"), "the added node is drawn");
	cr_assert(strstr(dom, "#fde2a7"), "the changed Conv is highlighted");
}

/* ---------------------------------------------------------------- a real model */

/* squeezenet with every Conv+Relu fused through the IR API, saved as ONNX,
 * against the original: exactly one replacement per fusion. */
Test(diff_cli, squeezenet_fusions_through_the_binary)
{
	char model[512];
	snprintf(model, sizeof model, "%s/models/squeezenet1_1/model.onnx", GRAFT_SHARED_DIR);
	if (access(model, R_OK) != 0)
		cr_skip_test("%s is absent", model);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_load(model, &d);
	cr_assert_not_null(g);
	int fused = net_fuse_conv_relu(g, false);
	const char *b = cli_tmp_path("fused.onnx");
	cr_assert(ir_save(g, b, IR_FMT_UNKNOWN, &d));
	ir_graph_free(g);
	ir_diags_free(&d);
	run_result *r = run("'%s' '%s' --json", model, b);
	cr_assert_eq(r->status, 1, "%s", r->err);
	assert_json(r->out);
	cr_assert_eq(count(r->out, "\"summary\":\"Conv+Relu (2 nodes) → FusedConv\""), (size_t)fused);
	cr_assert_eq(count(r->out, "\"summary\""), (size_t)fused);
	cr_assert_eq(fused, 26);
}
