/* The .gir text form: every construct round-trips byte for byte, graphs
 * built with the API print -> parse -> print the same, every dtype's data
 * survives exactly, the side file and elided data behave as documented,
 * malformed text is reported at the right line:col, models round-trip. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir.h"

/* ---------------------------------------------------------------- helpers */

typedef struct printed {
	char *text;
	size_t n;
	void *side;
	size_t side_n;
} printed;

static printed print_graph(const ir_graph *g, int inline_max, bool with_side)
{
	printed r = {0};
	FILE *f = open_memstream(&r.text, &r.n);
	cr_assert_not_null(f);
	ir_print_opts o = {inline_max, "t.gir.bin"};
	cr_assert(ir_print(g, f, &o, with_side ? &r.side : NULL, with_side ? &r.side_n : NULL));
	fclose(f);
	return r;
}

static void printed_free(printed *r)
{
	free(r->text);
	free(r->side);
}

static ir_graph *parse_side(const char *text, const void *side, size_t side_n)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(text, strlen(text), "t.gir", side, side_n, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(g, "parse failed:\n%s", text);
	cr_assert_eq(d.nerrors, 0);
	ir_diags_free(&d);
	return g;
}

static ir_graph *parse_ok(const char *text)
{
	return parse_side(text, NULL, 0);
}

/* text -> graph -> text gives the same bytes. */
static void check_roundtrip(const char *text)
{
	ir_graph *g = parse_ok(text);
	printed r = print_graph(g, 16, true);
	cr_assert_str_eq(r.text, text);
	cr_assert_eq(r.side_n, 0);
	printed_free(&r);
	ir_graph_free(g);
}

/* graph -> text -> graph -> text: both texts and side files equal. */
static ir_graph *check_reprint(const ir_graph *g, int inline_max)
{
	printed a = print_graph(g, inline_max, true);
	ir_graph *g2 = parse_side(a.text, a.side, a.side_n);
	printed b = print_graph(g2, inline_max, true);
	cr_assert_str_eq(b.text, a.text);
	cr_assert_eq(b.side_n, a.side_n);
	cr_assert(a.side_n == 0 || memcmp(a.side, b.side, a.side_n) == 0);
	printed_free(&a);
	printed_free(&b);
	return g2;
}

#define GIR(body) "graft 1\n" body

/* ---------------------------------------------------------------- every construct, byte-exact */

static const char *const snippets[] = {
	/* empty graph */
	GIR("graph () -> () {\n}\n"),
	/* model fields, opsets, props, extras of every kind */
	GIR("model ir_version=8 producer=\"pytorch\" producer_version=\"1.13\" domain=\"ai.graft\" "
	    "model_version=3 opset{\"\"=13, \"com.microsoft\"=1} doc=\"two\\nlines \\\"quoted\\\"\"\n"
	    "prop \"author\" = \"me\"\n"
	    "prop \"k\\x01\" = \"\"\n"
	    "extra sparse_initializer x\"01\"\n"
	    "extra quantization_annotation x\"02ff\"\n"
	    "extra training_info x\"0304\"\n"
	    "graph @torch_jit(%x: f32[1,3]) -> (%x) doc \"the graph\" {\n}\n"),
	/* every kind of type */
	GIR("graph @types(%a: f32[1,3,224,224], %b: i64[N,?,3], %c: ?, %d: f32[*]) -> (%a) {\n}\n"),
	GIR("graph @types2(%a: ?[2,?], %b: ?[*], %c: bf16[], %d: opaque x\"220d0a0b\") -> (%a) {\n}\n"),
	GIR("graph @syms(%a: f32[N=3,\"2*N\",batch.size,\"\\t\"], %b: dtype40[2]) -> (%a) {\n}\n"),
	/* more than four inputs: one per line */
	GIR("graph @many(\n    %a: f32[1],\n    %b: f32[2],\n    %c: f32[3],\n    %d: f32[4],\n"
	    "    %e: f32[5]\n) -> (%e) {\n}\n"),
	/* inputs with defaults, with and without their own type, named, documented */
	GIR("graph @defaults(\n    %x: f32[2],\n    %w: f32[2] = [1.0, 2.5],\n"
	    "    %v: f32[N] = f32[2] [1.0, -2.0] doc \"tensor doc\",\n"
	    "    %u: i64[] = [7] name \"other\"\n) -> (%x) {\n"
	    "  doc %x \"input doc\"\n}\n"),
	/* constants of every dtype */
	GIR("graph @consts() -> (%f32) {\n"
	    "  %f32 = const f32[4] [1.0, -2.5, 0.1, 3e+38]\n"
	    "  %f64 = const f64[3] [0.1, -1e-300, 1.0000000000000002]\n"
	    "  %f16 = const f16[4] [1.0, 0.1, 65504.0, 6e-08]\n"
	    "  %bf16 = const bf16[3] [1.0, 0.1, -3e+38]\n"
	    "  %i8 = const i8[2] [-128, 127]\n"
	    "  %u8 = const u8[2] [0, 255]\n"
	    "  %i16 = const i16[2] [-32768, 32767]\n"
	    "  %u16 = const u16[1] [65535]\n"
	    "  %i32 = const i32[2] [-2147483648, 2147483647]\n"
	    "  %u32 = const u32[1] [4294967295]\n"
	    "  %i64 = const i64[2] [-9223372036854775808, 9223372036854775807]\n"
	    "  %u64 = const u64[1] [18446744073709551615]\n"
	    "  %bool = const bool[3] [true, false, true]\n"
	    "  %str = const string[3] [\"a\", \"\", \"tab\\there\\x00\"]\n"
	    "  %c64 = const c64[1] x\"0000803f00000040\"\n"
	    "  %c128 = const c128[] x\"000000000000f03f0000000000000040\"\n"
	    "  %undef = const ?[2] x\"0102\"\n"
	    "  %code = const dtype40[3] x\"aabbcc\"\n"
	    "  %badbool = const bool[2] x\"0102\"\n"
	    "  %empty = const f32[0,3] []\n"
	    "}\n"),
	/* special floats in every float dtype */
	GIR("graph @special() -> (%a) {\n"
	    "  %a = const f32[8] [inf, -inf, nan, -nan, nan(0x7fc00001), nan(0xff800001), 1e-45, -0.0]\n"
	    "  %b = const f64[5] [inf, -inf, nan, nan(0x7ff0000000000001), 5e-324]\n"
	    "  %c = const f16[5] [inf, -inf, nan, nan(0x7c01), -0.0]\n"
	    "  %d = const bf16[4] [inf, -nan, nan(0xff81), 9e-41]\n"
	    "}\n"),
	/* constants: tensor name, tensor doc, value doc, unnamed */
	GIR("graph @cdoc() -> (%k) {\n"
	    "  %k = const i64[2] [1, 2] name \"k_init\" doc \"tensor doc\"\n"
	    "  doc %k \"value doc\"\n"
	    "  %0 = const f32[] [1.0]\n"
	    "  %y = Add(%k, %0)\n"
	    "}\n"),
	/* nodes: results, absent operands and results, unnamed values, domains,
	 * quoted ops, zero results, names, docs, result types */
	GIR("model opset{\"\"=13, \"com.microsoft\"=1}\n"
	    "graph @nodes(%x: f32[1,3]) -> (%y, %1) {\n"
	    "  %0 = Relu(%x) : f32[1,3]\n"
	    "  %y, _ = Dropout(%0, _, _) : f32[*], ?\n"
	    "  %1, %m = com.microsoft::Fused(%y) : ?, bool[1,3] @Fused_0 doc \"a node\"\n"
	    "  \"weird domain\"::\"op with space\"(%m, %1) @\"1st node\"\n"
	    "  Print()\n"
	    "  %z = NoInputs()\n"
	    "  doc %z \"unused but documented\"\n"
	    "  %2 = Identity(%x)\n"
	    "  doc %2 \"unnamed with doc\"\n"
	    "}\n"),
	/* value names: bare, quoted, colons, slashes */
	GIR("graph @names(%\"123\": f32[1], %\"a b\": f32[1], %\"x:\": f32[1], %input:0: f32[1]) -> (%\"123\") {\n"
	    "  %onnx::MatMul_7 = Neg(%\"123\")\n"
	    "  %/model/conv.1/Conv_output_0 = Neg(%\"a b\")\n"
	    "  %\"\\xe9t\\xe9\" = Neg(%\"x:\")\n"
	    "  %\"été\" = Neg(%input:0)\n"
	    "  %\"\\\"q\\\\\" = Neg(%onnx::MatMul_7) @\"/a b\"\n"
	    "  %-1 = Neg(%/model/conv.1/Conv_output_0)\n"
	    "}\n"),
	/* attributes of every kind */
	GIR("graph @attrs(%x: f32[1]) -> (%x) {\n"
	    "  Op(%x) {i=-3, f=0.5, s=\"SAME\\n\", t=f32[2] [1.0, 2.0], g=graph x\"0a00\", "
	    "fs=[1.0, 2.5, -inf], is=[1, -2, 3], ss=[\"a\", \"b\"], ts=[i64[] [1], f16[1] [0.5] name \"n\"], "
	    "gs=[graph x\"01\", graph x\"\"], st=sparse_tensor x\"02\", sts=[sparse_tensor x\"03\"], "
	    "tp=type_proto x\"04\", tps=[type_proto x\"05\", type_proto x\"06\"]}\n"
	    "}\n"),
	/* attributes: empty lists, references, undefined kind, zero values, docs */
	GIR("graph @attrs2(%x: f32[1]) -> (%x) {\n"
	    "  Op(%x) {e1: ints = [], e2: floats = [], e3: strings = [], e4: tensors = [], e5: graphs = [], "
	    "e6: sparse_tensors = [], e7: type_protos = [], alpha: float = @alpha, "
	    "axes: ints = @\"the axes\", u: undef, t0: tensor, g0: graph, "
	    "d=1 doc \"int doc\", td=f32[] [1.0] doc \"tensor doc\" doc \"attr doc\", "
	    "te=f32[] [2.0] doc \"\" doc \"attr doc only\", \"odd name\"=\"\", z=0.0, n=nan(0x7fc00002)}\n"
	    "}\n"),
	/* outputs: repeated, an input, a constant, absent */
	GIR("graph @outs(%x: f32[1]) -> (%x, %c, %x, _) {\n  %c = const f32[1] [1.0]\n}\n"),
	/* side-file header: only when data goes to a side file (not here) */
	GIR("graph @big() -> (%c) {\n  %c = const f32[16] [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, "
	    "9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]\n}\n"),
	/* utf-8 passes through strings; bad utf-8 and controls are escaped */
	GIR("graph @strings() -> (%s) {\n"
	    "  %s = const string[4] [\"日本語\", \"\\xff\\xfe\", \"\\x7f\\x1b\\r\", \"\\xed\\xa0\\x80\"]\n"
	    "}\n"),
	/* functions: formals (typed or not), references, declared attributes with
	 * and without defaults, opsets, docs, unnamed values numbered per body,
	 * an output that is a formal, calls with fewer results */
	GIR("model opset{\"\"=13, \"graft\"=1}\n"
	    "func graft::ConvRelu(%x, %w, %b) -> (%y) attrs{strides, pads, alpha=0.5, odd: undef doc \"d\"} "
	    "opset{\"\"=13} doc \"conv then relu\" {\n"
	    "  doc %x \"the input\"\n"
	    "  %c = Conv(%x, %w, %b) {strides: ints = @strides, pads: ints = @pads}\n"
	    "  %s = Constant() {value_float: float = @alpha}\n"
	    "  %0 = Mul(%c, %s) @mul\n"
	    "  %y = Relu(%0)\n"
	    "}\n"
	    "func Plain(%a: f32[2]) -> (%a, %0) {\n"
	    "  %0 = Neg(%a)\n"
	    "}\n"
	    "func my.domain::\"odd name\"() -> () {\n"
	    "}\n"
	    "graph @calls(%x: f32[1,3,4,4], %w: f32[2,3,1,1], %b: f32[2]) -> (%y, %0) {\n"
	    "  %y = graft::ConvRelu(%x, %w, %b) {pads=[0, 0, 0, 0]}\n"
	    "  %0, _ = Plain(%b)\n"
	    "}\n"),
};

Test(text, snippets_roundtrip_byte_exact)
{
	for (size_t i = 0; i < sizeof snippets / sizeof *snippets; i++)
		check_roundtrip(snippets[i]);
}

Test(text, snippet_contents)
{
	ir_graph *g = parse_ok(snippets[1]);
	const ir_meta *m = ir_graph_cmeta(g);
	cr_assert_eq(m->ir_version, 8);
	cr_assert_str_eq(ir_cstr(g, m->producer_name), "pytorch");
	cr_assert_str_eq(ir_cstr(g, m->doc), "two\nlines \"quoted\"");
	cr_assert_eq(ir_graph_opset(g, "com.microsoft"), 1);
	cr_assert_eq(ir_graph_opset(g, ""), 13);
	cr_assert_eq(ir_graph_nprops(g), 2);
	size_t n;
	cr_assert_str_eq(ir_str_get(g, ir_graph_prop_at(g, 1).key, &n), "k\x01");
	cr_assert_eq(ir_graph_nextras(g, IR_EXTRA_SPARSE_INIT), 1);
	cr_assert_eq(ir_graph_nfuncs(g), 0);
	const unsigned char *b = ir_blob_get(g, ir_graph_extra_at(g, IR_EXTRA_QUANT_ANNOT, 0), &n);
	cr_assert(n == 2 && b[0] == 2 && b[1] == 0xff);
	cr_assert_str_eq(ir_cstr(g, m->graph_name), "torch_jit");
	cr_assert_str_eq(ir_cstr(g, m->graph_doc), "the graph");
	ir_graph_free(g);

	g = parse_ok(snippets[10]);
	ir_nid first = ir_graph_first(g);
	ir_nid drop = ir_node_at(g, first)->next;
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, drop)->op), "Dropout");
	cr_assert_eq(ir_node_at(g, drop)->nin, 3);
	cr_assert_eq(ir_node_input(g, drop, 1), IR_NONE);
	cr_assert_eq(ir_node_at(g, drop)->nout, 2);
	ir_value *mask = ir_value_at(g, ir_node_output(g, drop, 1));
	cr_assert(mask->name == 0 && mask->nuses == 0);
	ir_nid fused = ir_node_at(g, drop)->next;
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, fused)->domain), "com.microsoft");
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, fused)->name), "Fused_0");
	ir_value *mv = ir_value_at(g, ir_node_output(g, fused, 1));
	cr_assert_eq(mv->type.dtype, IR_BOOL);
	cr_assert_eq(ir_graph_noutputs(g), 2);
	cr_assert_eq(ir_graph_output_at(g, 1), ir_node_output(g, fused, 0));
	ir_graph_free(g);
}

Test(text, attributes_parse_to_their_kinds)
{
	ir_graph *g = parse_ok(snippets[12]);
	ir_nid n = ir_graph_first(g);
	cr_assert_eq(ir_attr_int(g, n, "i", 0), -3);
	cr_assert_float_eq(ir_attr_float(g, n, "f", 0), 0.5f, 0);
	const ir_attr *a = ir_attr_find(g, n, "ts");
	cr_assert_eq(a->kind, IR_ATTR_TENSORS);
	cr_assert_eq(a->n, 2);
	const ir_tensor *t = ir_tensor_at(g, ir_attr_ids(g, a)[1]);
	cr_assert_eq(t->dtype, IR_F16);
	cr_assert_str_eq(ir_cstr(g, t->name), "n");
	cr_assert_eq(*(const uint16_t *)t->data, 0x3800);
	int64_t is[4];
	cr_assert_eq(ir_attr_ints_get(g, n, "is", is, 4), 3);
	cr_assert_eq(is[1], -2);
	cr_assert_eq(ir_attr_find(g, n, "gs")->kind, IR_ATTR_GRAPHS);
	cr_assert_eq(ir_attr_find(g, n, "sts")->kind, IR_ATTR_SPARSE_TENSORS);
	cr_assert_eq(ir_attr_find(g, n, "tps")->kind, IR_ATTR_TYPE_PROTOS);
	ir_graph_free(g);

	g = parse_ok(snippets[13]);
	n = ir_graph_first(g);
	a = ir_attr_find(g, n, "alpha");
	cr_assert_eq(a->kind, IR_ATTR_FLOAT);
	cr_assert_str_eq(ir_cstr(g, a->ref), "alpha");
	cr_assert_eq(ir_attr_find(g, n, "e4")->kind, IR_ATTR_TENSORS);
	cr_assert_eq(ir_attr_find(g, n, "u")->kind, IR_ATTR_UNDEF);
	a = ir_attr_find(g, n, "td");
	cr_assert_str_eq(ir_cstr(g, a->doc), "attr doc");
	cr_assert_str_eq(ir_cstr(g, ir_tensor_at(g, a->u.t)->doc), "tensor doc");
	a = ir_attr_find(g, n, "te");
	cr_assert_eq(ir_tensor_at(g, a->u.t)->doc, 0);
	ir_graph_free(g);
}

/* Hex floats as C's strtod reads them, with signed exponents too (docs/ir.md). */
Test(text, hex_float_literals)
{
	ir_graph *g = parse_ok("graft 1\ngraph @g() -> (%c) {\n"
			       "  %c = const f32[5] [0x1p-3, -0x1.8p+1, 0x10, 0X1P2, 1e-2]\n}\n");
	const float want[5] = {0.125f, -3.0f, 16.0f, 4.0f, 0.01f};
	const ir_tensor *t = ir_tensor_at(g, ir_value_at(g, ir_graph_const_at(g, 0))->tensor);
	cr_assert_eq(t->nbytes, sizeof want);
	for (int i = 0; i < 5; i++)
		cr_assert_float_eq(((const float *)t->data)[i], want[i], 0, "element %d", i);
	ir_graph_free(g);
}

/* Nodes keep where they were written, for later diagnostics (shape
 * inference, the verifier, the simulator). */
Test(text, nodes_remember_their_position)
{
	ir_graph *g = parse_ok("graft 1\ngraph @g(%x: f32[4]) -> (%y) {\n  %r = Relu(%x)\n"
			       "    %y = Neg(%r)\n}\n");
	ir_nid a = ir_graph_first(g), b = ir_node_at(g, a)->next;
	int line, col;
	ir_node_loc(g, a, &line, &col);
	cr_assert(line == 3 && col == 8, "Relu at %d:%d", line, col);
	ir_node_loc(g, b, &line, &col);
	cr_assert(line == 4 && col == 10, "Neg at %d:%d", line, col);
	ir_nid c = ir_node_new(g, NULL, "Neg", (ir_val[]){ir_node_output(g, b, 0)}, 1, 1, 0);
	ir_node_loc(g, c, &line, &col);
	cr_assert(line == 0 && col == 0, "a node made later has no position");
	ir_graph_free(g);

	ir_diags d;
	ir_diags_init(&d);
	const char *bad = "graft 1\ngraph @g(%a: f32[3], %b: f32[4]) -> (%y) {\n  %y = Add(%a, %b)\n}\n";
	g = ir_parse(bad, strlen(bad), "t.gir", NULL, 0, &d);
	cr_assert_not_null(g, "the text is well formed");
	cr_assert_neq(ir_infer(g, &d, "t.gir"), 0);
	cr_assert_eq(d.v[0].line, 3);
	cr_assert_eq(d.v[0].col, 8);
	ir_graph_free(g);
	ir_diags_free(&d);
}

/* Non-canonical spellings parse and print in canonical form. */
Test(text, canonical_form)
{
	static const char *const in[][2] = {
		{GIR("// a comment\ngraph@g(%x:f32[1]) ->(%y){ %y=Relu(%x)  // c\n}"),
		 GIR("graph @g(%x: f32[1]) -> (%y) {\n  %y = Relu(%x)\n}\n")},
		{GIR("graph () -> (%y) {\n  %y = Op() {a=[1, 2.5], b: float = 2, c={}, d=1e3}\n}\n"),
		 NULL},
		{GIR("graph () -> (%y) {\n  %y = Op() {a=[1, 2.5], b: float = 2, d=1e3, e: ints}\n}\n"),
		 GIR("graph () -> (%y) {\n  %y = Op() {a=[1.0, 2.5], b=2.0, d=1000.0, e: ints = []}\n}\n")},
		{GIR("graph () -> (%b) {\n  %b = Neg(%a)\n  %a = const f32[] [0x1p0]\n}\n"),
		 GIR("graph () -> (%b) {\n  %a = const f32[] [1.0]\n  %b = Neg(%a)\n}\n")},
		{GIR("graph () -> (%\"y\") {\n  %\"y\" = Neg(%7)\n  %7 = const f16[] [0.1000000000001]\n}\n"),
		 GIR("graph () -> (%y) {\n  %0 = const f16[] [0.1]\n  %y = Neg(%0)\n}\n")},
	};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		if (!in[i][1]) { /* must be rejected */
			ir_diags d;
			ir_diags_init(&d);
			cr_assert_null(ir_parse(in[i][0], strlen(in[i][0]), "t", NULL, 0, &d));
			ir_diags_free(&d);
			continue;
		}
		ir_graph *g = parse_ok(in[i][0]);
		printed r = print_graph(g, 16, true);
		cr_assert_str_eq(r.text, in[i][1]);
		printed_free(&r);
		ir_graph_free(g);
	}
}

/* Forward references resolve; nodes come out in topological order. */
Test(text, forward_references_sorted)
{
	const char *text = GIR("graph (%x: f32[1]) -> (%d) {\n"
			       "  %d = Add(%c, %b)\n  %c = Neg(%b)\n  %b = Relu(%a)\n  %a = Exp(%x)\n}\n");
	ir_graph *g = parse_ok(text);
	printed r = print_graph(g, 16, true);
	cr_assert_str_eq(r.text, GIR("graph (%x: f32[1]) -> (%d) {\n  %a = Exp(%x)\n  %b = Relu(%a)\n"
				     "  %c = Neg(%b)\n  %d = Add(%c, %b)\n}\n"));
	printed_free(&r);
	ir_verify(g, NULL, NULL);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- graphs built with the API */

static ir_tid tensor_of(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims,
			const void *data, size_t n)
{
	return ir_tensor_new(g, ir_intern_cstr(g, name), dt, rank, dims, data, n);
}

static ir_graph *build_everything(void)
{
	ir_graph *g = ir_graph_new();
	ir_meta *m = ir_graph_meta(g);
	m->ir_version = 9;
	m->producer_name = ir_intern_cstr(g, "graft-test");
	m->model_version = -1;
	m->graph_name = ir_intern_cstr(g, "everything");
	m->graph_doc = ir_intern(g, "doc\0with nul", 12);
	ir_graph_add_opset(g, "", 17);
	ir_graph_add_opset(g, "custom.domain", 2);
	ir_graph_add_prop(g, ir_intern_cstr(g, "a"), ir_intern_cstr(g, "b"));
	unsigned char blob[3] = {0, 1, 255};
	ir_graph_add_extra(g, IR_EXTRA_TRAINING, ir_blob_add(g, blob, 3));

	int64_t d2[2] = {2, 3};
	ir_dim dims[3] = {{-1, ir_intern_cstr(g, "batch")}, {4, 0}, {-1, 0}};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor_dims(g, IR_F32, 3, dims), 0);
	float w[6] = {1, 2, 3, 4, 5, -0.0f};
	ir_val win = ir_input_new(g, ir_intern_cstr(g, "w"), ir_type_tensor(g, IR_F32, 2, d2),
				  tensor_of(g, "w", IR_F32, 2, d2, w, sizeof w));
	ir_value_at(g, win)->doc = ir_intern_cstr(g, "weights");
	ir_val anon = ir_input_new(g, 0, ir_type_unknown(), 0);
	ir_val op = ir_input_new(g, ir_intern_cstr(g, "seq"), ir_type_opaque(g, ir_blob_add(g, blob, 2)), 0);

	uint16_t h[4] = {0x3c00, 0x7e01, 0x0001, 0xfbff};
	int64_t d4 = 4;
	ir_val c16 = ir_const_new(g, ir_intern(g, "nul\0name", 8), tensor_of(g, "t16", IR_F16, 1, &d4, h, 8));
	ir_value_at(g, c16)->doc = ir_intern_cstr(g, "a half");
	ir_tensor_at(g, ir_value_at(g, c16)->tensor)->doc = ir_intern_cstr(g, "tdoc");
	ir_val c0 = ir_const_new(g, 0, tensor_of(g, "", IR_I64, 0, NULL, (int64_t[]){42}, 8));

	ir_val ins[4] = {x, win, IR_NONE, c16};
	ir_nid n1 = ir_node_new(g, NULL, "Conv", ins, 4, 3, 0);
	ir_value_at(g, ir_node_output(g, n1, 0))->name = ir_intern_cstr(g, "conv out");
	ir_value_at(g, ir_node_output(g, n1, 0))->type = ir_type_tensor(g, IR_F32, 2, d2);
	ir_value_at(g, ir_node_output(g, n1, 2))->type = ir_type_tensor(g, IR_BF16, -1, NULL);
	ir_node_at(g, n1)->name = ir_intern_cstr(g, "conv0");
	ir_node_at(g, n1)->doc = ir_intern_cstr(g, "node doc");
	ir_attr_set_int(g, n1, "group", 1);
	ir_attr_set_float(g, n1, "eps", 1e-5f);
	ir_attr_set_string(g, n1, "mode", "a\"b\\c\n\x01", 7);
	int64_t iv[3] = {INT64_MIN, 0, INT64_MAX};
	ir_attr_set_ints(g, n1, "pads", iv, 3);
	float fv[3] = {NAN, INFINITY, 1.17549435e-38f};
	ir_attr_set_floats(g, n1, "scales", fv, 3);
	ir_str sv[2] = {ir_intern_cstr(g, "x"), 0};
	ir_attr_set_strs(g, n1, "names", sv, 2);
	ir_attr_set_tensor(g, n1, "value", tensor_of(g, "tv", IR_BOOL, 1, &d4, "\1\0\1\1", 4));
	ir_tid tl[2] = {tensor_of(g, "", IR_STRING, 0, NULL, "\3\0\0\0abc", 7),
			tensor_of(g, "", IR_U8, 1, &d4, "\0\1\2\3", 4)};
	ir_attr_set_tensors(g, n1, "tl", tl, 2);
	ir_bid bl[2] = {ir_blob_add(g, blob, 3), ir_blob_add(g, blob, 0)};
	ir_attr_set_blobs(g, n1, "body", IR_ATTR_GRAPH, bl, 1);
	ir_attr_set_blobs(g, n1, "bodies", IR_ATTR_GRAPHS, bl, 2);
	ir_attr_set_blobs(g, n1, "tps", IR_ATTR_TYPE_PROTOS, bl, 0);
	ir_attr ref = {ir_intern_cstr(g, "alpha"), IR_ATTR_FLOAT, ir_intern_cstr(g, "outer alpha"),
		       ir_intern_cstr(g, "adoc"), 0, {0}};
	ir_attr_put(g, n1, &ref);

	ir_val in2[2] = {ir_node_output(g, n1, 1), anon};
	ir_nid n2 = ir_node_new(g, "custom.domain", "My Op", in2, 2, 1, 0);
	ir_val in3[3] = {ir_node_output(g, n2, 0), op, c0};
	ir_nid n3 = ir_node_new(g, NULL, "Sink", in3, 3, 0, 0);
	(void)n3;
	ir_graph_add_output(g, ir_node_output(g, n1, 0));
	ir_graph_add_output(g, ir_node_output(g, n2, 0));
	ir_graph_add_output(g, c0);
	return g;
}

Test(text, api_graph_reprints)
{
	ir_graph *g = build_everything();
	ir_graph *g2 = check_reprint(g, 16);
	/* structure survived */
	cr_assert_eq(ir_graph_nnodes(g2), 3);
	cr_assert_eq(ir_graph_ninputs(g2), 4);
	cr_assert_eq(ir_graph_nconsts(g2), 2);
	size_t n;
	const char *s = ir_str_get(g2, ir_value_at(g2, ir_graph_const_at(g2, 0))->name, &n);
	cr_assert(n == 8 && memcmp(s, "nul\0name", 8) == 0);
	s = ir_str_get(g2, ir_graph_cmeta(g2)->graph_doc, &n);
	cr_assert(n == 12 && memcmp(s, "doc\0with nul", 12) == 0);
	ir_nid conv = ir_graph_first(g2);
	const ir_attr *a = ir_attr_find(g2, conv, "scales");
	cr_assert(isnan(ir_attr_floats(g2, a)[0]) && isinf(ir_attr_floats(g2, a)[1]));
	cr_assert_eq(ir_attr_floats(g2, a)[2], 1.17549435e-38f);
	a = ir_attr_find(g2, conv, "alpha");
	cr_assert_str_eq(ir_cstr(g2, a->ref), "outer alpha");
	cr_assert_str_eq(ir_cstr(g2, a->doc), "adoc");
	const ir_tensor *t = ir_tensor_at(g2, ir_value_at(g2, ir_graph_const_at(g2, 0))->tensor);
	cr_assert_eq(memcmp(t->data, (uint16_t[]){0x3c00, 0x7e01, 0x0001, 0xfbff}, 8), 0);
	cr_assert_str_eq(ir_cstr(g2, t->name), "t16");
	ir_value *o1 = ir_value_at(g2, ir_node_output(g2, conv, 1));
	cr_assert_eq(o1->name, 0);
	cr_assert_eq(o1->nuses, 1);
	cr_assert_eq(ir_value_at(g2, ir_node_output(g2, conv, 2))->type.rank, -1);
	cr_assert_eq(ir_node_input(g2, conv, 2), IR_NONE);
	ir_graph_free(g2);
	/* everything inline, and everything in the side file */
	ir_graph_free(check_reprint(g, -1));
	ir_graph_free(check_reprint(g, 0));
	ir_graph_free(g);
}

/* Unused unnamed results print as _; used ones get fresh numbers in order. */
Test(text, unnamed_numbering)
{
	ir_graph *g = ir_graph_new();
	ir_val x = ir_input_new(g, 0, ir_type_unknown(), 0);
	ir_nid a = ir_node_new(g, NULL, "Split", &x, 1, 3, 0);
	ir_val used[2] = {ir_node_output(g, a, 2), ir_node_output(g, a, 0)};
	ir_nid b = ir_node_new(g, NULL, "Add", used, 2, 1, 0);
	ir_graph_add_output(g, ir_node_output(g, b, 0));
	printed r = print_graph(g, 16, true);
	cr_assert_str_eq(r.text, GIR("graph (%0: ?) -> (%3) {\n  %1, _, %2 = Split(%0)\n"
				     "  %3 = Add(%2, %1)\n}\n"));
	printed_free(&r);
	ir_graph_free(check_reprint(g, 16));
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- every dtype's data, exactly */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A constant of n elements of dt with the given bytes round-trips exactly. */
static void check_data(ir_dtype dt, const void *data, size_t nbytes, int64_t n, int inline_max)
{
	ir_graph *g = ir_graph_new();
	ir_val c = ir_const_new(g, ir_intern_cstr(g, "c"), tensor_of(g, "c", dt, 1, &n, data, nbytes));
	ir_graph_add_output(g, c);
	ir_graph *g2 = check_reprint(g, inline_max);
	const ir_tensor *t = ir_tensor_at(g2, ir_value_at(g2, ir_graph_const_at(g2, 0))->tensor);
	cr_assert_eq(t->dtype, dt);
	cr_assert_eq(t->nbytes, nbytes);
	cr_assert(nbytes == 0 || memcmp(t->data, data, nbytes) == 0, "%s data changed",
		  ir_dtype_name(dt));
	ir_graph_free(g2);
	ir_graph_free(g);
}

Test(text, all_16bit_floats_exact)
{
	uint16_t *v = malloc(65536 * 2);
	for (uint32_t i = 0; i < 65536; i++)
		v[i] = (uint16_t)i;
	check_data(IR_F16, v, 65536 * 2, 65536, -1);
	check_data(IR_BF16, v, 65536 * 2, 65536, -1);
	free(v);
}

Test(text, random_data_every_dtype_exact)
{
	static const ir_dtype fixed[] = {IR_F32, IR_U8,  IR_I8,  IR_U16, IR_I16, IR_I32, IR_I64,
					 IR_BOOL, IR_F16, IR_F64, IR_U32, IR_U64, IR_C64, IR_C128,
					 IR_BF16};
	uint64_t seed = 88172645463325252ull;
	enum { N = 20000 };
	unsigned char *buf = malloc(N * 16);
	for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++) {
		size_t size = ir_dtype_size(fixed[k]);
		for (size_t i = 0; i < N * size; i++)
			buf[i] = (unsigned char)rnd(&seed);
		if (fixed[k] == IR_BOOL)
			for (size_t i = 0; i < N; i++)
				buf[i] &= 1;
		check_data(fixed[k], buf, N * size, N, -1);
		check_data(fixed[k], buf, N * size, N, 16);
		check_data(fixed[k], buf, 4 * size, 4, 16);
	}
	/* string tensors: per element a u32 length and the bytes */
	size_t pos = 0;
	for (int i = 0; i < 50; i++) {
		uint32_t len = (uint32_t)(rnd(&seed) % 20);
		memcpy(buf + pos, &len, 4);
		for (uint32_t j = 0; j < len; j++)
			buf[pos + 4 + j] = (unsigned char)rnd(&seed);
		pos += 4 + len;
	}
	check_data(IR_STRING, buf, pos, 50, -1);
	check_data(IR_STRING, buf, pos, 50, 16);
	/* malformed string layout and non-0/1 bools fall back to hex, still exact */
	check_data(IR_STRING, "\x09\0\0\0ab", 6, 1, -1);
	check_data(IR_BOOL, "\x02\x01", 2, 2, -1);
	free(buf);
}

Test(text, random_float_bits_exact)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	enum { N = 200000 };
	uint32_t *f = malloc(N * sizeof *f);
	uint64_t *d = malloc(N * sizeof *d);
	for (size_t i = 0; i < N; i++) {
		f[i] = (uint32_t)rnd(&seed);
		d[i] = rnd(&seed);
		if (i % 7 == 0) /* denormals and tiny exponents */
			f[i] &= 0x807fffff, d[i] &= 0x800fffffffffffffull;
	}
	check_data(IR_F32, f, N * 4, N, -1);
	check_data(IR_F64, d, N * 8, N, -1);
	free(f);
	free(d);
}

/* ---------------------------------------------------------------- side file and elided data */

static ir_graph *graph_with_consts(int count, int64_t numel)
{
	ir_graph *g = ir_graph_new();
	float *v = malloc((size_t)numel * sizeof *v);
	char name[16];
	for (int c = 0; c < count; c++) {
		for (int64_t i = 0; i < numel; i++)
			v[i] = (float)(c * 1000 + i) * 0.25f;
		snprintf(name, sizeof name, "c%d", c);
		ir_val k = ir_const_new(g, ir_intern_cstr(g, name),
					tensor_of(g, name, IR_F32, 1, &numel, v, (size_t)numel * 4));
		ir_graph_add_output(g, k);
	}
	free(v);
	return g;
}

Test(text, side_file)
{
	ir_graph *g = graph_with_consts(3, 17);
	printed r = print_graph(g, 16, true);
	cr_assert(strncmp(r.text, "graft 1 data=\"t.gir.bin\"\n", 25) == 0, "%s", r.text);
	/* offsets are 64-byte aligned, the bytes are the data */
	const char *at = r.text;
	for (int c = 0; c < 3; c++) {
		at = strstr(at, "data[");
		cr_assert_not_null(at);
		unsigned long long off, len;
		cr_assert_eq(sscanf(at, "data[%llu:%llu]", &off, &len), 2);
		cr_assert_eq(off % 64, 0);
		cr_assert_eq(len, 17 * 4);
		const ir_tensor *t = ir_tensor_at(g, ir_value_at(g, ir_graph_const_at(g, (size_t)c))->tensor);
		cr_assert_eq(memcmp((char *)r.side + off, t->data, len), 0);
		at++;
	}
	ir_graph_free(check_reprint(g, 16));
	/* parsing needs the side file, and every reference inside it */
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_parse(r.text, r.n, "t.gir", NULL, 0, &d));
	cr_assert(ir_diags_contains(&d, "no side file was given"));
	ir_diags_clear(&d);
	cr_assert_null(ir_parse(r.text, r.n, "t.gir", r.side, r.side_n - 1, &d));
	cr_assert(ir_diags_contains(&d, "is outside the side file"));
	cr_assert_eq(d.v[0].line, 5);
	ir_diags_free(&d);
	printed_free(&r);
	ir_graph_free(g);
}

Test(text, side_file_appends_to_existing_buffer)
{
	ir_graph *g = graph_with_consts(1, 20);
	void *side = malloc(10);
	size_t side_n = 10;
	memset(side, 7, 10);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	cr_assert(ir_print(g, f, NULL, &side, &side_n));
	fclose(f);
	cr_assert_not_null(strstr(text, "data[64:80]"), "%s", text);
	cr_assert_eq(side_n, 144);
	cr_assert_eq(((unsigned char *)side)[9], 7);
	cr_assert_eq(((unsigned char *)side)[10], 0);
	ir_graph *g2 = parse_side(text, side, side_n);
	ir_graph_free(g2);
	free(side);
	free(text);
	ir_graph_free(g);
}

Test(text, no_side_header_without_side_data)
{
	ir_graph *g = graph_with_consts(2, 3);
	printed r = print_graph(g, 16, true);
	cr_assert(strncmp(r.text, "graft 1\n", 8) == 0);
	cr_assert_eq(r.side_n, 0);
	printed_free(&r);
	r = print_graph(g, 2, true); /* now 3 > 2: to the side file */
	cr_assert(strncmp(r.text, "graft 1 data=", 13) == 0);
	printed_free(&r);
	ir_graph_free(g);
}

static uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

Test(text, elided_constants_are_rejected)
{
	ir_graph *g = graph_with_consts(2, 40);
	printed r = print_graph(g, 16, false);
	cr_assert(strncmp(r.text, "graft 1\n", 8) == 0);
	const ir_tensor *t = ir_tensor_at(g, ir_value_at(g, ir_graph_const_at(g, 1))->tensor);
	char want[64];
	snprintf(want, sizeof want, "  %%c1 = const f32[40] elided(%016llx)\n",
		 (unsigned long long)fnv1a64(t->data, t->nbytes));
	cr_assert_not_null(strstr(r.text, want), "%s", r.text);
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_parse(r.text, r.n, "t.gir", NULL, 0, &d));
	cr_assert_eq(d.nerrors, 2); /* both constants, each on its own line */
	cr_assert(ir_diags_contains(&d, "constant data was elided"));
	cr_assert(ir_diags_contains(&d, "write to a file to keep it"));
	cr_assert_eq(d.v[0].line, 3);
	cr_assert_eq(d.v[0].col, 23);
	cr_assert_eq(d.v[1].line, 4);
	ir_diags_free(&d);
	printed_free(&r);
	/* small constants stay inline even without a side file */
	ir_graph_free(g);
	g = graph_with_consts(1, 4);
	r = print_graph(g, 16, false);
	cr_assert_null(strstr(r.text, "elided"));
	printed_free(&r);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- malformed text */

typedef struct bad {
	const char *text;
	int line, col;
	const char *msg;
} bad;

static const bad bads[] = {
	{"", 1, 1, "empty input"},
	{"  // only a comment\n", 1, 1, "empty input"},
	{"hello 1\n", 1, 1, "expected 'graft 1' at the start"},
	{"graft 2\ngraph () -> () {\n}\n", 1, 7, "unsupported .gir version 2"},
	{"graft 1\ngraf () -> () {\n}\n", 2, 1, "expected 'graph'"},
	/* missing paren: reported just after the last operand */
	{GIR("graph (%x: f32[1]) -> (%a) {\n  %a = Relu(%x\n}\n"), 3, 15, "expected ')' after operand list"},
	{GIR("graph (%x: f32[1] -> (%a) {\n}\n"), 2, 19, "expected ',' or ')' after an input"},
	{GIR("graph (%x: f32[1]) (%a) {\n}\n"), 2, 20, "expected '->'"},
	/* bad dtype */
	{GIR("graph (%x: f33[1]) -> (%x) {\n}\n"), 2, 12, "unknown dtype 'f33'"},
	{GIR("graph () -> (%c) {\n  %c = const f33[1] [1]\n}\n"), 3, 14, "unknown dtype 'f33'"},
	{GIR("graph () -> () {\n  Op() {t=f33[1] [1]}\n}\n"), 3, 11, "unknown dtype 'f33'"},
	/* bad numbers */
	{GIR("graph () -> () {\n  Op() {a=12abc}\n}\n"), 3, 11, "bad number '12abc'"},
	{GIR("graph () -> (%c) {\n  %c = const f32[2] [1.0, 1.2.3]\n}\n"), 3, 27, "bad number '1.2.3'"},
	{GIR("graph () -> (%c) {\n  %c = const u8[1] [300]\n}\n"), 3, 21, "300 is out of range for u8"},
	{GIR("graph () -> (%c) {\n  %c = const f32[1] [1e39]\n}\n"), 3, 22, "too large for its type"},
	{GIR("graph () -> (%c) {\n  %c = const f16[1] [70000.0]\n}\n"), 3, 22, "too large for its type"},
	{GIR("graph () -> (%c) {\n  %c = const i64[1] [99999999999999999999]\n}\n"), 3, 22, "out of range"},
	{GIR("graph () -> (%c) {\n  %c = const i32[1] [1.5]\n}\n"), 3, 22, "expected an integer"},
	{GIR("graph (%x: f32[-1]) -> (%x) {\n}\n"), 2, 16, "dims must be >= 0"},
	/* strings and blobs */
	{GIR("graph () -> () {\n  Op() {s=\"abc}\n}\n"), 3, 11, "unterminated string"},
	{GIR("graph () -> () {\n  Op() {s=\"a\\qb\"}\n}\n"), 3, 13, "unknown escape in string 'q'"},
	{GIR("graph () -> () {\n  Op() {s=\"a\\x4\"}\n}\n"), 3, 13, "\\x needs two hex digits"},
	{GIR("graph () -> () {\n  Op() {g=graph x\"0g\"}\n}\n"), 3, 20, "bad hex digit in blob 'g'"},
	{GIR("graph () -> () {\n  Op() {g=graph x\"012\"}\n}\n"), 3, 17, "odd number of hex digits"},
	/* values */
	{GIR("graph () -> (%a) {\n  %a = Relu(%foo)\n}\n"), 3, 13, "undefined value %foo"},
	{GIR("graph () -> (%nope) {\n}\n"), 2, 14, "undefined value %nope"},
	{GIR("graph () -> (%a) {\n  doc %b \"x\"\n  %a = Op()\n}\n"), 3, 7, "undefined value %b"},
	{GIR("graph (%x: f32[1]) -> (%x) {\n  %y = Relu(%x)\n  %y = Neg(%x)\n}\n"), 4, 3,
	 "value %y defined twice (first at 3:3)"},
	{GIR("graph (%x: f32[1], %x: f32[2]) -> (%x) {\n}\n"), 2, 20, "value %x defined twice (first at 2:8)"},
	{GIR("graph () -> (%0) {\n  %0 = Op()\n  %0 = Op()\n}\n"), 4, 3, "value %0 defined twice"},
	{GIR("graph () -> () {\n  %12ab = Op()\n}\n"), 3, 3, "must be quoted"},
	{GIR("graph () -> () {\n  %\"\" = Op()\n}\n"), 3, 3, "empty value name"},
	{GIR("graph () -> () {\n  % = Op()\n}\n"), 3, 3, "expected a name after '%'"},
	/* unknown tokens and stray text */
	{GIR("graph () -> () {\n  %a = Op() $\n}\n"), 3, 13, "unexpected character '$'"},
	{GIR("graph () -> () {\n  %a = Op() junk\n}\n"), 3, 13, "expected the end of the line after the statement"},
	{GIR("graph () -> () {\n  ) = Op()\n}\n"), 3, 3, "expected a statement"},
	{GIR("graph () -> () {\n}\nextra\n"), 4, 1, "expected the end of input after the graph's '}'"},
	/* attributes */
	{GIR("graph () -> () {\n  Op() {a: ints = 1.5}\n}\n"), 3, 19, "declared ints but its value is float"},
	{GIR("graph () -> () {\n  Op() {a=[]}\n}\n"), 3, 11, "an empty list needs its kind"},
	{GIR("graph () -> () {\n  Op() {a: wat = 1}\n}\n"), 3, 12, "unknown attribute kind 'wat'"},
	{GIR("graph () -> () {\n  Op() {a=1, a=2}\n}\n"), 3, 14, "attribute 'a' given twice"},
	{GIR("graph () -> () {\n  Op() {a=[1, \"x\"]}\n}\n"), 3, 15, "list elements must all be ints"},
	{GIR("graph () -> () {\n  Op() {a=@r}\n}\n"), 3, 11, "a reference needs the attribute's kind"},
	{GIR("graph () -> () {\n  Op() {a}\n}\n"), 3, 10, "expected '=' and a value"},
	{GIR("graph () -> () {\n  Op() {a=1 b=2}\n}\n"), 3, 13, "expected ',' or '}' after an attribute"},
	/* types and tensors */
	{GIR("graph () -> () {\n  %a, %b = Op() : f32[1]\n}\n"), 3, 17, "1 result types for 2 results"},
	{GIR("graph () -> (%c) {\n  %c = const f32[3] [1.0, 2.0]\n}\n"), 3, 21, "tensor data has 2 elements, its type needs 3"},
	{GIR("graph () -> (%c) {\n  %c = const f32[1] x\"0000\"\n}\n"), 3, 21, "tensor data has 2 bytes, its type needs 4"},
	{GIR("graph () -> (%c) {\n  %c = const c64[1] [1.0]\n}\n"), 3, 21, "c64 data is written in hex"},
	{GIR("graph () -> (%c) {\n  %c = const f32[1] wat\n}\n"), 3, 21, "expected tensor data"},
	{GIR("graph () -> (%c) {\n  %a, %c = const f32[1] [1.0]\n}\n"), 3, 3, "a constant defines exactly one"},
	{GIR("graph (%w: f32[N] = [1.0]) -> (%w) {\n}\n"), 2, 21, "the input's type is not static"},
	{GIR("graph () -> (%c) {\n  %c = const bool[1] [yes]\n}\n"), 3, 23, "expected true or false"},
	/* side file */
	{GIR("graph () -> (%c) {\n  %c = const f32[4] data[0:16]\n}\n"), 3, 21, "no side file was given"},
	/* elided */
	{GIR("graph () -> (%c) {\n  %c = const f32[40] elided(0123456789abcdef)\n}\n"), 3, 22,
	 "constant data was elided (hash 0123456789abcdef); write to a file to keep it"},
	/* header */
	{GIR("model foo=1\ngraph () -> () {\n}\n"), 2, 7, "unknown model field 'foo'"},
	{GIR("model ir_version=1 ir_version=2\ngraph () -> () {\n}\n"), 2, 20, "model field 'ir_version' given twice"},
	{GIR("model opset{\"\"=13, \"ai.onnx\"=14}\ngraph () -> () {\n}\n"), 2, 20, "opset for domain \"ai.onnx\" given twice"},
	{GIR("extra functions x\"00\"\ngraph () -> () {\n}\n"), 2, 7, "expected an extra's kind"},
	{GIR("extra function x\"00\"\ngraph () -> () {\n}\n"), 2, 7, "expected an extra's kind"},
	/* functions */
	{GIR("func F(%x) -> (%x) {\n}\nfunc F() -> () {\n}\ngraph () -> () {\n}\n"), 4, 1,
	 "function F defined twice"},
	{GIR("func d::F(%x -> (%x) {\n}\ngraph () -> () {\n}\n"), 2, 14, "expected ',' or ')' after a formal input"},
	{GIR("func F(x) -> () {\n}\ngraph () -> () {\n}\n"), 2, 8, "expected a formal input"},
	{GIR("func F(%x) -> (%y) {\n}\ngraph () -> () {\n}\n"), 2, 16, "undefined value %y"},
	{GIR("func F(%x) -> (%x) attrs{a, a=1} {\n}\ngraph () -> () {\n}\n"), 2, 29, "attribute 'a' declared twice"},
	{GIR("func F(%x) -> (%x) attrs{a: int = @b} {\n}\ngraph () -> () {\n}\n"), 2, 26,
	 "the default of attribute 'a' cannot be a reference"},
	{GIR("func F(%x) -> (%x) attrs{a b} {\n}\ngraph () -> () {\n}\n"), 2, 28, "expected '=' and a value"},
	{GIR("func F(%x) -> (%c) {\n  %c = const f32[1] [1.0]\n}\ngraph () -> () {\n}\n"), 3, 8,
	 "a function body holds no constants"},
	{GIR("func F(%x) -> (%y) {\n  %y = Relu(%x)\n  %y = Neg(%x)\n}\ngraph () -> () {\n}\n"), 4, 3,
	 "value %y defined twice (first at 3:3)"},
	{GIR("func F(%x) -> (%x) {\n  %y = Relu(%x)\n"), 4, 1, "the function body opened at 2:20 has no '}'"},
	{GIR("func F(%x) -> (%x) {\n} graph () -> () {\n}\n"), 3, 3, "expected a new line after the function's '}'"},
	{GIR("func (%x) -> (%x) {\n}\ngraph () -> () {\n}\n"), 2, 6, "expected an op name"},
	{GIR("prop \"a\" \"b\"\ngraph () -> () {\n}\n"), 2, 10, "expected '=' after the key"},
	/* truncated input */
	{GIR("graph () -> (%a) {\n  %a = Relu("), 3, 13, "found end of input"},
	{GIR("graph () -> (%a) {\n  %a = Relu()\n"), 4, 1, "the graph body opened at 2:18 has no '}'"},
	{GIR("graph (%x: f32[1,"), 2, 18, "found end of input"},
	{"graft", 1, 6, "expected the format version"},
};

Test(text, malformed_text_reports_line_col)
{
	for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
		const bad *b = &bads[i];
		ir_diags d;
		ir_diags_init(&d);
		ir_graph *g = ir_parse(b->text, strlen(b->text), "bad.gir", NULL, 0, &d);
		cr_assert_null(g, "case %zu parsed:\n%s", i, b->text);
		cr_assert_geq(d.nerrors, 1, "case %zu: no error", i);
		cr_expect(strstr(d.v[0].msg, b->msg) != NULL, "case %zu: message '%s', want '%s'", i,
			  d.v[0].msg, b->msg);
		cr_expect(d.v[0].line == b->line && d.v[0].col == b->col,
			  "case %zu (%s): at %d:%d, want %d:%d", i, b->msg, d.v[0].line, d.v[0].col,
			  b->line, b->col);
		cr_expect_str_eq(d.v[0].file, "bad.gir");
		ir_diags_free(&d);
	}
}

Test(text, cycle_reported_with_position)
{
	const char *text = GIR("graph (%x: f32[1]) -> (%c) {\n  %c = Relu(%b)\n  %a = Add(%x, %b)\n"
			       "  %b = Neg(%a)\n}\n");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_parse(text, strlen(text), "cyc.gir", NULL, 0, &d));
	cr_assert(ir_diags_contains(&d, "cycle"));
	bool noted = false;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].sev == IR_NOTE) {
			cr_assert(d.v[i].line == 4 || d.v[i].line == 5, "note at line %d", d.v[i].line);
			cr_assert_eq(d.v[i].col, 8);
			noted = true;
		}
	cr_assert(noted);
	ir_diags_free(&d);
}

Test(text, several_errors_in_one_run)
{
	const char *text = GIR("graph (%x: f32[1]) -> (%x) {\n  %a = Relu(%x\n  %b = Neg(%x) : f33[1]\n"
			       "  %c = Neg(%x)\n  %d = Op() {a=[]}\n}\n");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_parse(text, strlen(text), "m.gir", NULL, 0, &d));
	cr_assert_eq(d.nerrors, 3);
	cr_assert_eq(d.v[0].line, 3);
	cr_assert_eq(d.v[1].line, 4);
	cr_assert_eq(d.v[2].line, 6);
	ir_diags_free(&d);
}

Test(text, printed_diagnostic_format)
{
	const char *text = GIR("graph () -> (%a) {\n  %a = Relu(%foo)\n}\n");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_parse(text, strlen(text), "f.gir", NULL, 0, &d));
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	ir_diags_print(&d, f);
	fclose(f);
	cr_assert_str_eq(out, "f.gir:3:13: error: undefined value %foo\n");
	free(out);
	ir_diags_free(&d);
}

/* Parses n bytes from an exact-size buffer (no NUL after them, so that an
 * over-read shows under ASan); a failure must come with errors. */
static void parse_any(const char *text, size_t n)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, text, n);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(copy, n, "fuzz.gir", NULL, 0, &d);
	if (g) {
		cr_assert_eq(d.nerrors, 0);
		ir_verify(g, NULL, NULL);
		printed r = print_graph(g, 16, true);
		printed_free(&r);
	} else {
		cr_assert_geq(d.nerrors, 1, "rejected without an error: %.*s", (int)n, text);
	}
	ir_graph_free(g);
	ir_diags_free(&d);
	free(copy);
}

Test(text, truncated_and_mutated_inputs_fail_cleanly, .timeout = 300)
{
	static const char pool[] = " %@\"[](){},:=-_x0a9.\\\n?*/";
	uint64_t seed = 12345;
	for (size_t i = 0; i < sizeof snippets / sizeof *snippets; i++) {
		const char *s = snippets[i];
		size_t n = strlen(s);
		char *buf = malloc(n);
		for (size_t cut = 0; cut < n; cut++)
			parse_any(s, cut);
		for (int k = 0; k < 300; k++) {
			memcpy(buf, s, n);
			for (int e = 0; e <= k % 3; e++)
				buf[rnd(&seed) % n] = pool[rnd(&seed) % (sizeof pool - 1)];
			parse_any(buf, n);
		}
		free(buf);
	}
}

/* ---------------------------------------------------------------- models */

/* An ONNX model prints -> parses -> prints identically, and the parsed
 * graph exports to the same ONNX bytes as the original graph. */
static void check_model(const char *path)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_onnx_read_file(path, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(g, "%s: ONNX import failed", path);
	ir_graph *g2 = check_reprint(g, 16);
	void *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	cr_assert(ir_onnx_write_buf(g, &a, &na, &d), "%s: export failed", path);
	cr_assert(ir_onnx_write_buf(g2, &b, &nb, &d), "%s: export after .gir failed", path);
	cr_assert(na == nb && memcmp(a, b, na) == 0, "%s: ONNX -> .gir -> ONNX changed the model", path);
	free(a);
	free(b);
	ir_graph_free(g2);
	ir_graph_free(g);
	ir_diags_free(&d);
}

/* Calls check_model on dir/<each>/model.onnx; returns how many. */
static int check_models_in(const char *dir)
{
	DIR *dp = opendir(dir);
	int count = 0;
	if (!dp)
		return 0;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name) >= (int)sizeof path)
			continue;
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		fclose(f);
		check_model(path);
		count++;
	}
	closedir(dp);
	return count;
}

Test(text, shared_models_roundtrip, .timeout = 600)
{
	if (check_models_in(GRAFT_SHARED_DIR "/models") == 0)
		cr_skip_test("no models in " GRAFT_SHARED_DIR "/models");
}

Test(text, onnx_backend_models_roundtrip, .timeout = 600)
{
	static const char *const dirs[] = {"node", "pytorch-converted", "pytorch-operator", "simple", "real"};
	char dir[4096];
	int count = 0;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(dir, sizeof dir, "%s/%s", GRAFT_ONNX_TESTDATA, dirs[i]);
		count += check_models_in(dir);
	}
	if (count == 0)
		cr_skip_test("no ONNX test data in " GRAFT_ONNX_TESTDATA);
}

/* ---------------------------------------------------------------- speed */

/* CPU time of this process: other jobs on the machine do not count. */
static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

Test(text, million_nodes_fast, .timeout = 120)
{
	enum { N = 1000000 };
	ir_graph *g = ir_graph_new();
	int64_t dims[2] = {1, 64};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 2, dims), 0);
	ir_val prev = x;
	char name[32];
	for (int i = 0; i < N; i++) {
		ir_val ins[2] = {prev, x};
		ir_nid n = ir_node_new(g, NULL, i % 3 ? "Add" : "Relu", ins, i % 3 ? 2 : 1, 1, 0);
		ir_val v = ir_node_output(g, n, 0);
		if (i % 2) {
			snprintf(name, sizeof name, "v%d", i);
			ir_value_at(g, v)->name = ir_intern_cstr(g, name);
		}
		ir_value_at(g, v)->type = ir_type_tensor(g, IR_F32, 2, dims);
		if (i % 5 == 0)
			ir_attr_set_int(g, n, "axis", i);
		prev = v;
	}
	ir_graph_add_output(g, prev);
	double t0 = seconds();
	printed r = print_graph(g, 16, true);
	double t1 = seconds();
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g2 = ir_parse(r.text, r.n, "big.gir", r.side, r.side_n, &d);
	double t2 = seconds();
	cr_assert_not_null(g2);
	cr_assert_eq(ir_graph_nnodes(g2), N);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
	double limit = 1.0; /* the requirement: well under a second each */
#else
	double limit = 10.0; /* unoptimized or sanitized builds */
#endif
	cr_log_info("1M nodes: print %.2f s, parse %.2f s (CPU)", t1 - t0, t2 - t1);
	cr_expect_lt(t1 - t0, limit, "printing took %.2f s", t1 - t0);
	cr_expect_lt(t2 - t1, limit, "parsing took %.2f s", t2 - t1);
	printed_free(&r);
	ir_diags_free(&d);
	ir_graph_free(g2);
	ir_graph_free(g);
}
