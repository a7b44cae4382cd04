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

#include "cli/clitest.h"

#include "onnx.pb-c.h"

#define MODELS GRAFT_SHARED_DIR "/models"

TestSuite(cli, .init = cli_make_tmp, .fini = cli_remove_tmp);

static run_result *run(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	run_result *r = cli_vrun("", fmt, ap);
	va_end(ap);
	return r;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The first cap bytes of a file (fewer when it is shorter). */
static size_t read_head(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
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
	snprintf(cmd, sizeof cmd, "ls '%s' | grep -q '^%s'", cli_tmpdir, prefix);
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
	cr_assert_eq(run("convert '%s' -o '%s'", m, cli_tmp_path("a.gir"))->status, 0);
	cr_assert(exists(cli_tmp_path("a.gir.bin")), "large constants go to the side file");
	cr_assert_eq(run("convert '%s' -o '%s'", cli_tmp_path("a.gir"), cli_tmp_path("b.onnx"))->status, 0);
	/* same file name in another directory: the header names the side file */
	mkdir(cli_tmp_path("again"), 0755);
	cr_assert_eq(run("convert '%s' -o '%s'", cli_tmp_path("b.onnx"), cli_tmp_path("again/a.gir"))->status, 0);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s' && cmp -s '%s.bin' '%s.bin'", cli_tmp_path("a.gir"),
		 cli_tmp_path("again/a.gir"), cli_tmp_path("a.gir"), cli_tmp_path("again/a.gir"));
	cr_assert_eq(system(cmd), 0, "ONNX -> .gir -> ONNX -> .gir must be identical");
	run_result *r = run("convert '%s' -o -", m);
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, "Conv("), "text to stdout");
	r = run("convert '%s' -o '%s'", m, cli_tmp_path("m.dot"));
	cr_assert_eq(r->status, 0);
	cli_slurp(cli_tmp_path("m.dot"), r->out, sizeof r->out);
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
	run_result *r = run("convert '%s' -o '%s'", in, cli_tmp_path("out.onnx"));
	cr_assert_eq(r->status, 2, "%s: exit %d, stderr: %s", in, r->status, r->err);
	cr_assert(strstr(r->err, "error:"), "%s: stderr has a diagnostic: %s", in, r->err);
	cr_assert(strstr(r->err, needle), "%s: expected '%s' in: %s", in, needle, r->err);
	assert_no_output("out.onnx");
	r = run("convert '%s' -o '%s'", in, cli_tmp_path("out.gir"));
	cr_assert_eq(r->status, 2);
	assert_no_output("out.gir");
}

Test(cli, truncated_and_random_protobuf)
{
	if (!have_models())
		cr_skip_test("no models in %s", MODELS);
	static char buf[1 << 20];
	size_t n = read_head(MODELS "/squeezenet1_1/model.onnx", buf, sizeof buf);
	write_bytes(cli_tmp_path("trunc.onnx"), buf, n / 2);
	expect_rejected(cli_tmp_path("trunc.onnx"), "trunc.onnx");
	srand(7);
	for (size_t i = 0; i < 4096; i++)
		buf[i] = (char)(rand() & 0xff);
	write_bytes(cli_tmp_path("random.onnx"), buf, 4096);
	expect_rejected(cli_tmp_path("random.onnx"), "random.onnx");
	write_bytes(cli_tmp_path("empty.onnx"), buf, 0);
	expect_rejected(cli_tmp_path("empty.onnx"), "empty.onnx");
	expect_rejected(cli_tmp_path("missing.onnx"), "missing.onnx");
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
	mini_write(&m, cli_tmp_path("undef.onnx"));
	expect_rejected(cli_tmp_path("undef.onnx"), "nowhere");

	mini_init(&m);
	mini_node(&m, "Relu", "x", "y");
	mini_node(&m, "Sigmoid", "x", "y");
	mini_write(&m, cli_tmp_path("twice.onnx"));
	expect_rejected(cli_tmp_path("twice.onnx"), "'y'");

	mini_init(&m);
	mini_node(&m, "Relu", "b", "a");
	mini_node(&m, "Relu", "a", "b");
	mini_node(&m, "Relu", "a", "y");
	mini_write(&m, cli_tmp_path("cycle.onnx"));
	expect_rejected(cli_tmp_path("cycle.onnx"), "cycle");

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
	mini_write(&m, cli_tmp_path("attr.onnx"));
	expect_rejected(cli_tmp_path("attr.onnx"), "axis");
}

Test(cli, malformed_gir_has_positions)
{
	write_text(cli_tmp_path("bad.gir"), "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x : f32[4]\n}\n");
	run_result *r = run("convert '%s' -o '%s'", cli_tmp_path("bad.gir"), cli_tmp_path("out.onnx"));
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "bad.gir:3:"), "line:col in: %s", r->err);
	assert_no_output("out.onnx");
	write_text(cli_tmp_path("bad2.gir"), "graft 1\ngraph @g(%x: f33[4]) -> (%y) {\n}\n");
	r = run("info '%s'", cli_tmp_path("bad2.gir"));
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "bad2.gir:2:"), "line:col in: %s", r->err);
}

Test(cli, stdin_text_input)
{
	mini m;
	mini_init(&m);
	mini_node(&m, "Relu", "x", "y");
	mini_write(&m, cli_tmp_path("relu.onnx"));
	run_result *r = run("convert '%s' -o -", cli_tmp_path("relu.onnx"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	write_text(cli_tmp_path("relu.gir"), r->out);
	r = run("convert - -o '%s' < '%s'", cli_tmp_path("relu2.onnx"), cli_tmp_path("relu.gir"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	r = run("info --json '%s'", cli_tmp_path("relu2.onnx"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert(strstr(r->out, "\"Relu\":1"), "%s", r->out);
}

/* ---- the bad-input sweep: convert, info, sim and diff all fail cleanly */

/* `graft ARGS` fails: exit 2, a diagnostic holding `needle`, and no file of
 * the temp dir starting with `left` (when not NULL). */
static void expect_error(const char *needle, const char *left, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect_error(const char *needle, const char *left, const char *fmt, ...)
{
	char args[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	run_result *r = run("%s", args);
	cr_assert_eq(r->status, 2, "graft %s: exit %d, stderr: %s", args, r->status, r->err);
	cr_assert(strstr(r->err, "error:"), "graft %s: no diagnostic in: %s", args, r->err);
	cr_assert(strstr(r->err, needle), "graft %s: expected '%s' in: %s", args, needle, r->err);
	if (left)
		assert_no_output(left);
}

/* Every command that reads `path` rejects it with `needle`, writing nothing. */
static void rejected_everywhere(const char *path, const char *needle)
{
	char in[512]; /* tmp_path's buffers are reused by run() */
	snprintf(in, sizeof in, "%s", path);
	expect_error(needle, "out.", "convert '%s' -o '%s'", in, cli_tmp_path("out.onnx"));
	expect_error(needle, "out.", "convert '%s' -o '%s'", in, cli_tmp_path("out.gir"));
	expect_error(needle, NULL, "info --json '%s'", in);
	expect_error(needle, "out.", "sim '%s' -o '%s'", in, cli_tmp_path("out.sim"));
	expect_error(needle, "out.", "diff '%s' '%s' --html '%s'", in, in, cli_tmp_path("out.html"));
}

typedef struct bad_gir {
	const char *name, *text, *where, *what;
} bad_gir;

/* One mistake per file, each at a different place of the grammar. */
static const bad_gir bad_girs[] = {
	{"version.gir", "graft 2\ngraph @g(%x: f32[4]) -> (%x) {\n}\n", ":1:7:", "version 2"},
	{"dtype.gir", "graft 1\ngraph @g(%x: f33[4]) -> (%x) {\n}\n", ":2:14:", "unknown dtype 'f33'"},
	{"undef.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%z)\n}\n", ":3:13:", "%z"},
	{"twice.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x)\n  %y = Relu(%x)\n}\n", ":4:3:",
	 "defined twice"},
	{"string.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x) doc \"abc\n}\n", ":3:21:",
	 "unterminated string"},
	{"bigdim.gir", "graft 1\ngraph @g(%x: f32[99999999999999999999]) -> (%x) {\n}\n", ":2:18:",
	 "out of range"},
	{"attr.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Softmax(%x) {axis=}\n}\n", ":3:26:",
	 "attribute value"},
	{"eof.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x)\n", ":4:1:", "no '}'"},
	{"count.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %c = const f32[2] [1, 2, 3]\n  %y = Add(%x, %c)\n}\n",
	 ":3:21:", "3 elements"},
	{"result.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%q) {\n  %y = Relu(%x)\n}\n", ":2:26:", "%q"},
	{"kind.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Softmax(%x) {axis=\"one\"}\n}\n", ":3:8:",
	 "'axis'"},
	{"arity.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x, %x)\n}\n", ":3:8:", "2 operands"},
	{"cycle.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %t = Relu(%y)\n  %y = Relu(%t)\n}\n", ":3:8:",
	 "cycle"},
};

Test(cli, malformed_gir_everywhere_with_positions)
{
	for (size_t i = 0; i < sizeof bad_girs / sizeof bad_girs[0]; i++) {
		const bad_gir *b = &bad_girs[i];
		char where[128];
		write_text(cli_tmp_path(b->name), b->text);
		snprintf(where, sizeof where, "%s%s", b->name, b->where);
		rejected_everywhere(cli_tmp_path(b->name), where);
		expect_error(b->what, NULL, "info '%s'", cli_tmp_path(b->name));
	}
}

/* Every prefix of a valid file that stops before its closing brace is an
 * error with a line:col, never a crash or a half-read graph. */
Test(cli, truncated_gir_at_every_offset)
{
	const char *full = "graft 1\n"
			   "model ir_version=8 producer=\"qa\" opset{\"\"=13}\n"
			   "graph @g(%x: f32[1,2,4,4], %s: f32[2]) -> (%y, %z) {\n"
			   "  %w = const f32[3,2,1,1] [1, 2, 3, 4, 5, 6]\n"
			   "  %b = const f32[3] [0.5, -0.5, 0x1p-3]\n"
			   "  %c = Conv(%x, %w, %b) {kernel_shape=[1, 1]} : f32[1,3,4,4] @conv\n"
			   "  %r = Relu(%c) doc \"activation\"\n"
			   "  %y = Softmax(%r) {axis=1}\n"
			   "  %z = Mul(%s, %s)\n"
			   "}\n";
	write_text(cli_tmp_path("full.gir"), full);
	run_result *r = run("sim '%s'", cli_tmp_path("full.gir"));
	cr_assert_eq(r->status, 0, "the whole file is valid: %s", r->err);
	size_t end = (size_t)(strrchr(full, '}') - full);
	for (size_t n = 0; n < end; n += 3) {
		write_bytes(cli_tmp_path("cut.gir"), full, n);
		r = run("convert '%s' -o '%s'", cli_tmp_path("cut.gir"), cli_tmp_path("cut.onnx"));
		cr_assert_eq(r->status, 2, "cut at %zu: exit %d: %s", n, r->status, r->err);
		cr_assert(strstr(r->err, "cut.gir:") && strstr(r->err, ": error:"), "cut at %zu: %s", n, r->err);
		int line = 0, col = 0;
		cr_assert_eq(sscanf(strstr(r->err, "cut.gir:") + 8, "%d:%d:", &line, &col), 2,
			     "cut at %zu: no line:col in: %s", n, r->err);
		cr_assert(line >= 1 && col >= 1, "cut at %zu: %s", n, r->err);
		assert_no_output("cut.onnx");
	}
}

Test(cli, bad_models_fail_in_every_command)
{
	static char buf[4096];
	srand(11);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)(rand() & 0xff);
	write_bytes(cli_tmp_path("random.onnx"), buf, sizeof buf);
	rejected_everywhere(cli_tmp_path("random.onnx"), "random.onnx");
	buf[0] = 'x'; /* not "graft 1" */
	write_bytes(cli_tmp_path("random.gir"), buf, sizeof buf);
	rejected_everywhere(cli_tmp_path("random.gir"), "random.gir:1:1:");
	write_bytes(cli_tmp_path("empty.onnx"), buf, 0);
	rejected_everywhere(cli_tmp_path("empty.onnx"), "empty.onnx");
	rejected_everywhere(cli_tmp_path("missing.gir"), "missing.gir");
	mkdir(cli_tmp_path("dir.onnx"), 0755);
	rejected_everywhere(cli_tmp_path("dir.onnx"), "dir.onnx");
	expect_error("unknown file type", NULL, "info '%s'", cli_tmp_path("model.txt"));
	if (!have_models())
		return;
	static char model[1 << 20];
	size_t n = read_head(MODELS "/squeezenet1_1/model.onnx", model, sizeof model);
	write_bytes(cli_tmp_path("trunc.onnx"), model, n / 3);
	rejected_everywhere(cli_tmp_path("trunc.onnx"), "trunc.onnx");
}

/* Shapes that cannot be: the node and its .gir position are named. */
Test(cli, impossible_shapes_name_the_node)
{
	static const bad_gir shapes[] = {
		{"convrank.gir",
		 "graft 1\ngraph @g(%x: f32[1,3,8,8], %w: f32[4,3,3]) -> (%y) {\n  %y = Conv(%x, %w) @c1\n}\n",
		 ":3:8:", "node 'c1' (Conv)"},
		{"add34.gir", "graft 1\ngraph @g(%a: f32[3], %b: f32[4]) -> (%y) {\n  %y = Add(%a, %b)\n}\n", ":3:8:",
		 "cannot broadcast dim 3 with dim 4"},
		{"matmul.gir", "graft 1\ngraph @g(%a: f32[2,3], %b: f32[4,5]) -> (%y) {\n  %y = MatMul(%a, %b)\n}\n",
		 ":3:8:", "(MatMul)"},
		{"reshape.gir",
		 "graft 1\ngraph @g(%x: f32[1,3,8,8]) -> (%y) {\n  %s = const i64[2] [5, 7]\n"
		 "  %y = Reshape(%x, %s)\n}\n",
		 ":4:8:", "cannot reshape 192 elements into 35"},
		{"declared.gir", "graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %y = Relu(%x) : f32[5]\n}\n", ":3:8:",
		 "declared f32[5]"},
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		char where[128];
		write_text(cli_tmp_path(shapes[i].name), shapes[i].text);
		snprintf(where, sizeof where, "%s%s", shapes[i].name, shapes[i].where);
		rejected_everywhere(cli_tmp_path(shapes[i].name), where);
		rejected_everywhere(cli_tmp_path(shapes[i].name), shapes[i].what);
	}
}

Test(cli, sim_names_an_op_it_lacks)
{
	write_text(cli_tmp_path("odd.gir"),
		   "graft 1\ngraph @g(%a: f32[3]) -> (%y) {\n  %t = Relu(%a)\n  %y = NoSuchOp(%t) : f32[3] @odd\n}\n");
	run_result *r = run("sim '%s' -o '%s'", cli_tmp_path("odd.gir"), cli_tmp_path("out.sim"));
	cr_assert_eq(r->status, 2, "%s", r->err);
	cr_assert(strstr(r->err, "odd.gir:4:8: error: node 'odd' (NoSuchOp): op not supported by the simulator"),
		  "%s", r->err);
	cr_assert(strstr(r->err, "--no-run"), "the way out is suggested: %s", r->err);
	assert_no_output("out.sim");
	r = run("sim '%s' --no-run --json", cli_tmp_path("odd.gir"));
	cr_assert_eq(r->status, 0, "cycles are estimated without the numerics: %s", r->err);
	cr_assert(strstr(r->out, "\"op\":\"NoSuchOp\""), "%s", r->out);
	write_text(cli_tmp_path("anon.gir"), "graft 1\ngraph @g(%a: f32[3]) -> (%y) {\n  %y = NoSuchOp(%a) : f32[3]\n}\n");
	expect_error("node #1 (NoSuchOp)", NULL, "sim '%s'", cli_tmp_path("anon.gir"));
}

static const char add_gir[] = "graft 1\ngraph @g(%a: f32[2,3], %b: f32[3]) -> (%y) {\n"
			      "  %s = Add(%a, %b)\n  %y = Relu(%s)\n}\n";

Test(cli, sim_rejects_bad_inputs_and_hardware)
{
	char m[512];
	snprintf(m, sizeof m, "%s", cli_tmp_path("add.gir"));
	write_text(m, add_gir);
	run_result *r = run("sim '%s' -o '%s'", m, cli_tmp_path("ref"));
	cr_assert_eq(r->status, 0, "%s", r->err);
	char pb[600];
	snprintf(pb, sizeof pb, "%s/output_0.pb", cli_tmp_path("ref")); /* f32[2,3] */
	cr_assert(exists(pb));
	expect_error("no input 'nosuch' to bind (its inputs: a, b)", NULL, "sim '%s' --input nosuch='%s'", m, pb);
	expect_error("graph input 'b' expects f32[3], got f32[2,3]", NULL, "sim '%s' --input b='%s'", m, pb);
	expect_error("--input wants NAME=FILE", NULL, "sim '%s' --input '%s'", m, pb);
	write_text(cli_tmp_path("junk.pb"), "\xff\xff\xff\xff not a tensor");
	expect_error("junk.pb: error:", NULL, "sim '%s' --input a='%s'", m, cli_tmp_path("junk.pb"));
	expect_error("nothere.pb: error: cannot open", NULL, "sim '%s' --input a='%s'", m, cli_tmp_path("nothere.pb"));
	expect_error("cannot open the directory", NULL, "sim '%s' --inputs '%s'", m, cli_tmp_path("nodir"));
	expect_error("not a directory", NULL, "sim '%s' --inputs '%s'", m, pb);
	/* a failed --expect leaves no -o directory behind */
	expect_error("nodir: error:", "out.sim", "sim '%s' -o '%s' --expect '%s'", m, cli_tmp_path("out.sim"),
		     cli_tmp_path("nodir"));
	expect_error("not a directory", NULL, "sim '%s' -o '%s'", m, pb);
	write_text(cli_tmp_path("hw.yaml"), "name: broken\nclock_mhz: fast\n");
	expect_error("hw.yaml:2:12: error:", NULL, "sim '%s' --hw '%s'", m, cli_tmp_path("hw.yaml"));
	expect_error("unknown hardware 'nosuchchip'", NULL, "sim '%s' --hw nosuchchip", m);
	expect_error("cannot open", NULL, "sim '%s' --hw '%s'", m, cli_tmp_path("nothere.yaml"));
}

Test(cli, outputs_that_cannot_be_written)
{
	char m[512];
	snprintf(m, sizeof m, "%s", cli_tmp_path("add.gir"));
	write_text(m, add_gir);
	const char *outs[] = {"no/x.onnx", "no/x.gir", "no/x.dot"};
	for (size_t i = 0; i < 3; i++)
		expect_error(outs[i], NULL, "convert '%s' -o '%s'", m, cli_tmp_path(outs[i]));
	expect_error("no/dir: error: cannot create the directory", NULL, "sim '%s' -o '%s'", m, cli_tmp_path("no/dir"));
	expect_error("no/d.html", NULL, "diff '%s' '%s' --html '%s'", m, m, cli_tmp_path("no/d.html"));
	assert_no_output("no");
	expect_error("give an output file name", NULL, "convert '%s' -o - --to onnx", m);
	/* an output that is a directory: no side file is written beside it */
	write_text(m, "graft 1\ngraph @g(%a: f32[4]) -> (%y) {\n  %c = const f32[4] [1, 2, 3, 4]\n"
		      "  %y = Add(%a, %c)\n}\n");
	mkdir(cli_tmp_path("taken.gir"), 0755);
	expect_error("taken.gir: error: is a directory", "taken.gir.", "convert '%s' -o '%s' --inline-max 0", m,
		     cli_tmp_path("taken.gir"));
}
