/* The graft binary end to end: convert, info, help, exit codes, and bad
 * input (a clear diagnostic, exit 2, no output file). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#define MODELS GRAFT_SHARED_DIR "/models"

static char tmpdir[256];

static void make_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/graft-cli-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(cli, .init = make_tmp, .fini = remove_tmp);

static char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

typedef struct run_result {
	int status;
	char out[1 << 16];
	char err[1 << 14];
} run_result;

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Runs `graft ARGS` through the shell, capturing stdout and stderr. */
static run_result *run(const char *fmt, ...)
{
	static run_result r;
	char args[2048], cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", GRAFT_BINARY, args, tmp_path("stdout"),
		 tmp_path("stderr"));
	int st = system(cmd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(tmp_path("stdout"), r.out, sizeof r.out);
	slurp(tmp_path("stderr"), r.err, sizeof r.err);
	return &r;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void write_text(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

static bool have_models(void)
{
	return exists(MODELS "/resnet18/model.onnx");
}

/* No file of the temp dir starts with `prefix` (no partial output left). */
static void assert_no_output(const char *prefix)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -q '^%s'", tmpdir, prefix);
	cr_assert_neq(system(cmd), 0, "an output file starting with '%s' was left behind", prefix);
}

Test(cli, help_everywhere)
{
	cr_assert_eq(run("--help")->status, 0);
	cr_assert(strstr(run("--help")->out, "convert"));
	const char *cmds[] = {"convert", "info"};
	for (size_t i = 0; i < 2; i++) {
		run_result *r = run("%s --help", cmds[i]);
		cr_assert_eq(r->status, 0, "%s --help", cmds[i]);
		cr_assert(strstr(r->out, "usage: graft"), "%s --help prints usage", cmds[i]);
	}
	run_result *r = run("frobnicate");
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "unknown command 'frobnicate'"));
	cr_assert_eq(run("convert")->status, 2);
	cr_assert_eq(run("info --bogus x.onnx")->status, 2);
}

Test(cli, convert_round_trip_onnx_gir_onnx)
{
	if (!have_models())
		cr_skip_test("no models in %s", MODELS);
	const char *m = MODELS "/squeezenet1_1/model.onnx";
	cr_assert_eq(run("convert '%s' -o '%s'", m, tmp_path("a.gir"))->status, 0);
	cr_assert(exists(tmp_path("a.gir.bin")), "large constants go to the side file");
	cr_assert_eq(run("convert '%s' -o '%s'", tmp_path("a.gir"), tmp_path("b.onnx"))->status, 0);
	/* same file name in another directory: the header names the side file */
	mkdir(tmp_path("again"), 0755);
	cr_assert_eq(run("convert '%s' -o '%s'", tmp_path("b.onnx"), tmp_path("again/a.gir"))->status, 0);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s' && cmp -s '%s.bin' '%s.bin'", tmp_path("a.gir"),
		 tmp_path("again/a.gir"), tmp_path("a.gir"), tmp_path("again/a.gir"));
	cr_assert_eq(system(cmd), 0, "ONNX -> .gir -> ONNX -> .gir must be identical");
	run_result *r = run("convert '%s' -o -", m);
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, "Conv("), "text to stdout");
	r = run("convert '%s' -o '%s'", m, tmp_path("m.dot"));
	cr_assert_eq(r->status, 0);
	slurp(tmp_path("m.dot"), r->out, sizeof r->out);
	cr_assert(strncmp(r->out, "digraph", 7) == 0);
	cr_assert(strstr(r->out, "Conv"));
}

Test(cli, info_text_and_json)
{
	if (!have_models())
		cr_skip_test("no models in %s", MODELS);
	run_result *r = run("info '%s'", MODELS "/resnet18/model.onnx");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert(strstr(r->out, "f32[1,3,224,224]"));
	cr_assert(strstr(r->out, "nodes: 69"));
	cr_assert(strstr(r->out, "BatchNormalization"));
	r = run("info --json '%s'", MODELS "/resnet18/model.onnx");
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, "\"nodes\":69"));
	cr_assert(strstr(r->out, "\"Conv\":20"));
	/* torchvision's resnet18: 1.814 G MACs (1,814,073,344 in its model card's count of conv+fc) */
	const char *macs = strstr(r->out, "\"macs\":");
	cr_assert_not_null(macs);
	long long v = atoll(macs + 7);
	cr_assert(v > 1800000000LL && v < 1830000000LL, "resnet18 MACs %lld", v);
}

/* ---- bad input: each gives a diagnostic, exit 2, no output */

static void expect_rejected(const char *in, const char *needle)
{
	run_result *r = run("convert '%s' -o '%s'", in, tmp_path("out.onnx"));
	cr_assert_eq(r->status, 2, "%s: exit %d, stderr: %s", in, r->status, r->err);
	cr_assert(strstr(r->err, "error:"), "%s: stderr has a diagnostic: %s", in, r->err);
	cr_assert(strstr(r->err, needle), "%s: expected '%s' in: %s", in, needle, r->err);
	assert_no_output("out.onnx");
	r = run("convert '%s' -o '%s'", in, tmp_path("out.gir"));
	cr_assert_eq(r->status, 2);
	assert_no_output("out.gir");
}

Test(cli, truncated_and_random_protobuf)
{
	if (!have_models())
		cr_skip_test("no models in %s", MODELS);
	FILE *f = fopen(MODELS "/squeezenet1_1/model.onnx", "rb");
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	write_bytes(tmp_path("trunc.onnx"), buf, n / 2);
	expect_rejected(tmp_path("trunc.onnx"), "trunc.onnx");
	srand(7);
	for (size_t i = 0; i < 4096; i++)
		buf[i] = (char)(rand() & 0xff);
	write_bytes(tmp_path("random.onnx"), buf, 4096);
	expect_rejected(tmp_path("random.onnx"), "random.onnx");
	write_bytes(tmp_path("empty.onnx"), buf, 0);
	expect_rejected(tmp_path("empty.onnx"), "empty.onnx");
	expect_rejected(tmp_path("missing.onnx"), "missing.onnx");
}

/* ---- hand-built ModelProtos (protobuf-c) for the semantic errors */

typedef struct mini {
	Onnx__ModelProto model;
	Onnx__GraphProto graph;
	Onnx__OperatorSetIdProto opset, *opsets[1];
	Onnx__ValueInfoProto in, out, *ins[1], *outs[1];
	Onnx__NodeProto nodes[4], *node_ptrs[4];
	char *node_in[4][2], *node_out[4][1];
	Onnx__AttributeProto attr, *attrs[1];
} mini;

static void mini_init(mini *m)
{
	memset(m, 0, sizeof *m);
	onnx__model_proto__init(&m->model);
	onnx__graph_proto__init(&m->graph);
	onnx__operator_set_id_proto__init(&m->opset);
	onnx__value_info_proto__init(&m->in);
	onnx__value_info_proto__init(&m->out);
	m->model.has_ir_version = 1;
	m->model.ir_version = 8;
	m->opset.has_version = 1;
	m->opset.version = 13;
	m->opset.domain = "";
	m->opsets[0] = &m->opset;
	m->model.opset_import = m->opsets;
	m->model.n_opset_import = 1;
	m->model.graph = &m->graph;
	m->graph.name = "g";
	m->in.name = "x";
	m->out.name = "y";
	m->ins[0] = &m->in;
	m->outs[0] = &m->out;
	m->graph.input = m->ins;
	m->graph.n_input = 1;
	m->graph.output = m->outs;
	m->graph.n_output = 1;
}

static void mini_node(mini *m, const char *op, const char *in, const char *out)
{
	size_t i = m->graph.n_node++;
	Onnx__NodeProto *n = &m->nodes[i];
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	m->node_in[i][0] = (char *)in;
	m->node_out[i][0] = (char *)out;
	n->input = m->node_in[i];
	n->n_input = 1;
	n->output = m->node_out[i];
	n->n_output = 1;
	m->node_ptrs[i] = n;
	m->graph.node = m->node_ptrs;
}

static void mini_write(mini *m, const char *path)
{
	size_t n = onnx__model_proto__get_packed_size(&m->model);
	uint8_t *buf = malloc(n);
	onnx__model_proto__pack(&m->model, buf);
	write_bytes(path, buf, n);
	free(buf);
}

Test(cli, onnx_semantic_errors)
{
	mini m;
	mini_init(&m);
	mini_node(&m, "Relu", "nowhere", "y");
	mini_write(&m, tmp_path("undef.onnx"));
	expect_rejected(tmp_path("undef.onnx"), "nowhere");

	mini_init(&m);
	mini_node(&m, "Relu", "x", "y");
	mini_node(&m, "Sigmoid", "x", "y");
	mini_write(&m, tmp_path("twice.onnx"));
	expect_rejected(tmp_path("twice.onnx"), "'y'");

	mini_init(&m);
	mini_node(&m, "Relu", "b", "a");
	mini_node(&m, "Relu", "a", "b");
	mini_node(&m, "Relu", "a", "y");
	mini_write(&m, tmp_path("cycle.onnx"));
	expect_rejected(tmp_path("cycle.onnx"), "cycle");

	mini_init(&m);
	mini_node(&m, "Softmax", "x", "y");
	onnx__attribute_proto__init(&m.attr);
	m.attr.name = "axis";
	m.attr.has_type = 1;
	m.attr.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
	m.attr.has_s = 1;
	m.attr.s.data = (uint8_t *)"one";
	m.attr.s.len = 3;
	m.attrs[0] = &m.attr;
	m.nodes[0].attribute = m.attrs;
	m.nodes[0].n_attribute = 1;
	mini_write(&m, tmp_path("attr.onnx"));
	expect_rejected(tmp_path("attr.onnx"), "axis");
}

Test(cli, malformed_gir_has_positions)
{
	write_text(tmp_path("bad.gir"), "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x : f32[4]\n}\n");
	run_result *r = run("convert '%s' -o '%s'", tmp_path("bad.gir"), tmp_path("out.onnx"));
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "bad.gir:3:"), "line:col in: %s", r->err);
	assert_no_output("out.onnx");
	write_text(tmp_path("bad2.gir"), "graft 1\ngraph @g(%x: f33[4]) -> (%y) {\n}\n");
	r = run("info '%s'", tmp_path("bad2.gir"));
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "bad2.gir:2:"), "line:col in: %s", r->err);
}

Test(cli, stdin_text_input)
{
	mini m;
	mini_init(&m);
	mini_node(&m, "Relu", "x", "y");
	mini_write(&m, tmp_path("relu.onnx"));
	run_result *r = run("convert '%s' -o -", tmp_path("relu.onnx"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	write_text(tmp_path("relu.gir"), r->out);
	r = run("convert - -o '%s' < '%s'", tmp_path("relu2.onnx"), tmp_path("relu.gir"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = run("info --json '%s'", tmp_path("relu2.onnx"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert(strstr(r->out, "\"Relu\":1"), "%s", r->out);
}
