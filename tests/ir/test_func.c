/* Model-local functions in the IR: ONNX import and export of FunctionProto
 * (byte-exact, attribute defaults included), the .gir func blocks through
 * ONNX and back, the verifier's checks of bodies and calls, and calls in
 * shape inference, instantiation and inlining. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "onnx.pb-c.h"

#define GIR(body) "graft 1\n" body

static ir_graph *parse_ok(const char *text)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(text, strlen(text), "f.gir", NULL, 0, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(g, "parse failed:\n%s", text);
	ir_diags_free(&d);
	return g;
}

static char *print(const ir_graph *g)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	cr_assert(ir_print(g, f, NULL, NULL, NULL));
	fclose(f);
	return text;
}

static void *export(const ir_graph *g, size_t *n)
{
	void *buf = NULL;
	ir_diags d;
	ir_diags_init(&d);
	bool ok = ir_onnx_write_buf(g, &buf, n, &d);
	if (!ok)
		ir_diags_print(&d, stderr);
	cr_assert(ok, "export failed");
	ir_diags_free(&d);
	return buf;
}

static ir_graph *import(const void *buf, size_t n)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_onnx_read_buf(buf, n, "f.onnx", NULL, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(g, "import failed");
	ir_diags_free(&d);
	return g;
}

/* ---------------------------------------------------------------- a FunctionProto built with protobuf-c */

typedef struct pb_model {
	Onnx__ModelProto mp;
	Onnx__GraphProto gp;
	Onnx__OperatorSetIdProto ops[2], fops[1], *opp[2], *fopp[1];
	Onnx__FunctionProto fn, *fnp[1];
	Onnx__NodeProto call, body[3], *callp[1], *bodyp[3];
	Onnx__AttributeProto call_alpha, ref, *call_attrs[1], *ref_attrs[1];
	Onnx__ValueInfoProto in[2], out, *inp[2], *outp[1];
	Onnx__TypeProto tp;
	Onnx__TypeProto__Tensor tt;
	char *fin[2], *fout[1], *fattr[1];
	char *call_in[2], *call_out[1], *b_in[3][2], *b_out[3][1];
	uint8_t dflt[64];
	ProtobufCMessageUnknownField unknown;
} pb_model;

static void pb_node(Onnx__NodeProto *n, const char *op, char **in, size_t nin, char **out)
{
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	n->input = in;
	n->n_input = nin;
	n->output = out;
	n->n_output = 1;
}

/* my.dom::Scale(x, s) -> (y) attrs{unused, alpha=2.0}:
 *   c = Constant() {value_float: float = @alpha}; m = Mul(x, s); y = Mul(m, c) */
static void pb_function(pb_model *p)
{
	Onnx__FunctionProto *f = &p->fn;
	onnx__function_proto__init(f);
	f->name = "Scale";
	f->domain = "my.dom";
	f->doc_string = "x * s * alpha";
	p->fin[0] = "x", p->fin[1] = "s", p->fout[0] = "y", p->fattr[0] = "unused";
	f->input = p->fin, f->n_input = 2, f->output = p->fout, f->n_output = 1;
	f->attribute = p->fattr, f->n_attribute = 1;
	onnx__attribute_proto__init(&p->ref);
	p->ref.name = "value_float", p->ref.ref_attr_name = "alpha";
	p->ref.has_type = 1, p->ref.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	p->ref_attrs[0] = &p->ref;
	p->b_out[0][0] = "c", p->b_in[1][0] = "x", p->b_in[1][1] = "s", p->b_out[1][0] = "m";
	p->b_in[2][0] = "m", p->b_in[2][1] = "c", p->b_out[2][0] = "y";
	pb_node(&p->body[0], "Constant", NULL, 0, p->b_out[0]);
	p->body[0].attribute = p->ref_attrs, p->body[0].n_attribute = 1;
	pb_node(&p->body[1], "Mul", p->b_in[1], 2, p->b_out[1]);
	pb_node(&p->body[2], "Mul", p->b_in[2], 2, p->b_out[2]);
	for (int i = 0; i < 3; i++)
		p->bodyp[i] = &p->body[i];
	f->node = p->bodyp, f->n_node = 3;
	onnx__operator_set_id_proto__init(&p->fops[0]);
	p->fops[0].domain = "", p->fops[0].has_version = 1, p->fops[0].version = 13;
	p->fopp[0] = &p->fops[0];
	f->opset_import = p->fopp, f->n_opset_import = 1;
	/* attribute_proto (field 11, unknown to this onnx.proto): alpha = 2.0 */
	Onnx__AttributeProto a = ONNX__ATTRIBUTE_PROTO__INIT;
	a.name = "alpha", a.has_f = 1, a.f = 2.0f, a.has_type = 1, a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	size_t len = onnx__attribute_proto__pack(&a, p->dflt + 1);
	p->dflt[0] = (uint8_t)len;
	p->unknown = (ProtobufCMessageUnknownField){11, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, len + 1, p->dflt};
	f->base.n_unknown_fields = 1, f->base.unknown_fields = &p->unknown;
}

static void pb_value(Onnx__ValueInfoProto *v, const char *name, Onnx__TypeProto *tp)
{
	onnx__value_info_proto__init(v);
	v->name = (char *)name;
	v->type = tp;
}

/* graph g(X: f32[2], S: f32[2]) -> (Y) { Y = my.dom::Scale(X, S) {alpha=3.0} } */
static void pb_graph(pb_model *p)
{
	onnx__type_proto__init(&p->tp);
	onnx__type_proto__tensor__init(&p->tt);
	p->tp.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, p->tp.tensor_type = &p->tt;
	p->tt.has_elem_type = 1, p->tt.elem_type = 1;
	pb_value(&p->in[0], "X", &p->tp);
	pb_value(&p->in[1], "S", &p->tp);
	pb_value(&p->out, "Y", &p->tp);
	p->inp[0] = &p->in[0], p->inp[1] = &p->in[1], p->outp[0] = &p->out;
	p->call_in[0] = "X", p->call_in[1] = "S", p->call_out[0] = "Y";
	pb_node(&p->call, "Scale", p->call_in, 2, p->call_out);
	p->call.domain = "my.dom";
	onnx__attribute_proto__init(&p->call_alpha);
	p->call_alpha.name = "alpha", p->call_alpha.has_f = 1, p->call_alpha.f = 3.0f;
	p->call_alpha.has_type = 1, p->call_alpha.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	p->call_attrs[0] = &p->call_alpha;
	p->call.attribute = p->call_attrs, p->call.n_attribute = 1;
	p->callp[0] = &p->call;
	onnx__graph_proto__init(&p->gp);
	p->gp.name = "g", p->gp.node = p->callp, p->gp.n_node = 1;
	p->gp.input = p->inp, p->gp.n_input = 2, p->gp.output = p->outp, p->gp.n_output = 1;
}

static void *pb_model_bytes(size_t *n, const char *mul_operand)
{
	pb_model *p = calloc(1, sizeof *p);
	pb_function(p);
	p->b_in[1][1] = (char *)mul_operand;
	pb_graph(p);
	onnx__model_proto__init(&p->mp);
	p->mp.has_ir_version = 1, p->mp.ir_version = 8;
	onnx__operator_set_id_proto__init(&p->ops[0]);
	onnx__operator_set_id_proto__init(&p->ops[1]);
	p->ops[0].domain = "", p->ops[0].has_version = 1, p->ops[0].version = 13;
	p->ops[1].domain = "my.dom", p->ops[1].has_version = 1, p->ops[1].version = 1;
	p->opp[0] = &p->ops[0], p->opp[1] = &p->ops[1];
	p->mp.opset_import = p->opp, p->mp.n_opset_import = 2;
	p->fnp[0] = &p->fn;
	p->mp.functions = p->fnp, p->mp.n_functions = 1;
	p->mp.graph = &p->gp;
	*n = onnx__model_proto__get_packed_size(&p->mp);
	void *buf = malloc(*n);
	onnx__model_proto__pack(&p->mp, buf);
	free(p);
	return buf;
}

static void *pb_bytes(size_t *n)
{
	return pb_model_bytes(n, "s");
}

Test(func_onnx, hand_built_functionproto_imports_and_exports_byte_exact)
{
	size_t n, m;
	void *bytes = pb_bytes(&n);
	ir_graph *g = import(bytes, n);
	cr_assert_eq(ir_graph_nfuncs(g), 1);
	const ir_func *f = ir_func_at(g, 1);
	cr_assert_str_eq(ir_cstr(g, f->domain), "my.dom");
	cr_assert_str_eq(ir_cstr(g, f->name), "Scale");
	cr_assert_str_eq(ir_cstr(g, f->doc), "x * s * alpha");
	const ir_graph *b = f->body;
	cr_assert_eq(ir_graph_ninputs(b), 2);
	cr_assert_eq(ir_graph_noutputs(b), 1);
	cr_assert_eq(ir_graph_nnodes(b), 3);
	cr_assert_eq(ir_graph_opset(b, ""), 13);
	cr_assert_eq(ir_func_nattrs(b), 2, "a name and a default");
	cr_assert_eq(ir_func_attr_at(b, 0)->kind, IR_ATTR_UNDEF);
	const ir_attr *alpha = ir_func_attr_find(b, "alpha");
	cr_assert(alpha && alpha->kind == IR_ATTR_FLOAT && alpha->u.f == 2.0f, "the default from field 11");
	const ir_attr *ref = ir_attr_find(b, ir_graph_first(b), "value_float");
	cr_assert(ref && ref->ref && !strcmp(ir_cstr(b, ref->ref), "alpha"));
	cr_assert_eq(ir_node_callee(g, ir_graph_first(g)), f, "the node is a call");
	cr_assert_eq(ir_verify(g, NULL, NULL), 0);
	void *again = export(g, &m);
	cr_assert(m == n && memcmp(again, bytes, n) == 0, "ONNX -> IR -> ONNX keeps every byte (%zu vs %zu)", m, n);
	free(again);
	free(bytes);
	ir_graph_free(g);
}

Test(func_onnx, errors_in_a_body_name_the_function)
{
	size_t n;
	void *bytes = pb_model_bytes(&n, "nope");
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_onnx_read_buf(bytes, n, "f.onnx", NULL, &d));
	cr_assert(ir_diags_contains(&d, "function 'my.dom::Scale': node #2 (Mul) reads undefined value 'nope'"),
		  "%s", d.n ? d.v[0].msg : "");
	ir_diags_free(&d);
	free(bytes);
}

Test(func_onnx, call_shapes_come_from_the_body)
{
	size_t n;
	void *bytes = pb_bytes(&n);
	ir_graph *g = import(bytes, n);
	ir_diags d;
	ir_diags_init(&d);
	ir_value_at(g, ir_graph_input_at(g, 0))->type = ir_type_tensor(g, IR_F32, 1, (int64_t[]){2});
	ir_value_at(g, ir_graph_input_at(g, 1))->type = ir_type_tensor(g, IR_F32, 1, (int64_t[]){2});
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	char ty[32];
	ir_type_format(g, ir_value_at(g, ir_graph_output_at(g, 0))->type, ty, sizeof ty);
	cr_assert_str_eq(ty, "f32[2]");
	ir_diags_free(&d);
	free(bytes);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- .gir through ONNX */

static const char *const funcs_gir = GIR(
	"model ir_version=8 opset{\"\"=13, \"graft\"=1}\n"
	"func graft::Norm(%x, %scale) -> (%y) attrs{axis, epsilon=1e-05} opset{\"\"=13, \"graft\"=1} "
	"doc \"a normalisation\" {\n"
	"  %m = ReduceMean(%x) {axes: ints = @axis}\n"
	"  %d = Sub(%x, %m)\n"
	"  %e = Constant() {value_float: float = @epsilon}\n"
	"  %v = graft::Square(%d)\n"
	"  %s = Add(%v, %e)\n"
	"  %y = Mul(%s, %scale)\n"
	"}\n"
	"func graft::Square(%a) -> (%b) opset{\"\"=13} {\n"
	"  %b = Mul(%a, %a)\n"
	"}\n"
	"graph @g(%x: f32[2,4], %s: f32[4]) -> (%y) {\n"
	"  %y = graft::Norm(%x, %s) {axis=[-1]} : f32[2,4]\n"
	"}\n");

Test(func_gir, functions_go_through_onnx_and_back_byte_exact)
{
	ir_graph *g = parse_ok(funcs_gir);
	size_t n, m;
	void *bytes = export(g, &n);
	ir_graph *g2 = import(bytes, n);
	char *a = print(g), *b = print(g2);
	cr_assert_str_eq(b, a, ".gir -> ONNX -> .gir");
	void *again = export(g2, &m);
	cr_assert(m == n && memcmp(again, bytes, n) == 0, "and the ONNX bytes are stable");
	cr_assert_str_eq(a, funcs_gir, "the printer writes the canonical text back");
	free(a);
	free(b);
	free(bytes);
	free(again);
	ir_graph_free(g);
	ir_graph_free(g2);
}

Test(func_gir, nested_calls_infer_and_verify)
{
	ir_graph *g = parse_ok(funcs_gir);
	ir_diags d;
	ir_diags_init(&d);
	ir_value_at(g, ir_graph_output_at(g, 0))->type = ir_type_unknown();
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	char ty[32];
	ir_type_format(g, ir_value_at(g, ir_graph_output_at(g, 0))->type, ty, sizeof ty);
	cr_assert_str_eq(ty, "f32[2,4]", "through Norm, and Square inside it");
	cr_assert_eq(ir_verify(g, &d, NULL), 0);
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- instances and inlining */

static const char *const bind_gir = GIR(
	"model opset{\"\"=13, \"t\"=1}\n"
	"func t::F(%x, %b) -> (%y, %z) attrs{alpha=0.5, beta, gamma} opset{\"\"=13} {\n"
	"  %y = LeakyRelu(%x) {alpha: float = @alpha} @leaky\n"
	"  %z = Gemm(%x, %x, %b) {beta: float = @beta, transB: int = @gamma}\n"
	"}\n"
	"graph @g(%x: f32[3,3]) -> (%y1, %y2) {\n"
	"  %y1 = t::F(%x) {beta=2.0} @call1\n"
	"  %y2, _ = t::F(%y1) {alpha=0.25} @call2\n"
	"}\n");

Test(func_calls, an_instance_binds_formals_and_attributes)
{
	ir_graph *g = parse_ok(bind_gir);
	ir_diags d;
	ir_diags_init(&d);
	ir_nid c1 = ir_graph_first(g);
	ir_graph *inst = ir_call_instance(g, c1, &d, NULL);
	cr_assert_not_null(inst);
	cr_assert_eq(ir_graph_ninputs(inst), 1, "the absent formal %%b is dropped");
	char ty[32];
	ir_type_format(inst, ir_value_at(inst, ir_graph_input_at(inst, 0))->type, ty, sizeof ty);
	cr_assert_str_eq(ty, "f32[3,3]", "typed as the operand");
	ir_nid leaky = ir_graph_first(inst), gemm = ir_node_at(inst, leaky)->next;
	cr_assert_float_eq(ir_attr_float(inst, leaky, "alpha", -1), 0.5f, 1e-9, "the default");
	cr_assert_float_eq(ir_attr_float(inst, gemm, "beta", -1), 2.0f, 1e-9, "the call's value");
	cr_assert_null(ir_attr_find(inst, gemm, "transB"), "neither: left out");
	cr_assert_eq(ir_node_input(inst, gemm, 2), IR_NONE, "the absent formal reads as absent");
	cr_assert_eq(ir_verify(inst, &d, NULL), 0);
	ir_graph_free(inst);
	inst = ir_call_instance(g, ir_node_at(g, c1)->next, &d, NULL);
	cr_assert_float_eq(ir_attr_float(inst, ir_graph_first(inst), "alpha", -1), 0.25f, 1e-9);
	ir_graph_free(inst);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(func_calls, inlining_replaces_calls_by_their_bodies)
{
	ir_graph *g = parse_ok(bind_gir);
	ir_diags d;
	ir_diags_init(&d);
	ir_nid c1 = ir_graph_first(g), c2 = ir_node_at(g, c1)->next;
	cr_assert(ir_inline_call(g, c1, &d, NULL));
	cr_assert(ir_inline_call(g, c2, &d, NULL));
	cr_assert_eq(ir_graph_nnodes(g), 4);
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		cr_assert_null(ir_node_callee(g, n));
	cr_assert_str_eq(ir_cstr(g, ir_node_at(g, ir_graph_first(g))->name), "call1/leaky");
	cr_assert_str_eq(ir_cstr(g, ir_value_at(g, ir_graph_output_at(g, 0))->name), "y1",
			 "the call's result names stay");
	cr_assert_eq(ir_verify(g, &d, NULL), 0);
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(func_calls, a_call_that_does_not_fit_is_refused)
{
	ir_graph *g = parse_ok(GIR("func t::G(%a) -> (%a) {\n}\n"
				   "graph @g(%x: f32[1]) -> (%y) {\n  %y = t::G(%x, %x)\n}\n"));
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_call_instance(g, ir_graph_first(g), &d, NULL));
	cr_assert(ir_diags_contains(&d, "has 2 operands and 1 results but its function takes 1"));
	cr_assert_not(ir_inline_call(g, ir_graph_first(g), &d, NULL));
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- the verifier */

typedef struct bad_func {
	const char *gir;
	const char *msg;
} bad_func;

static const bad_func bad_funcs[] = {
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %b = Relu(%a)\n}\n"
	     "graph @g(%x: f32[1]) -> (%y) {\n  %y = t::F(%x, %x)\n}\n"),
	 "function 't::F': node #1 (F) has 2 operands but the function takes 1"},
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %b = Relu(%a)\n}\n"
	     "graph @g(%x: f32[1]) -> (%y, %z) {\n  %y, %z = t::F(%x)\n}\n"),
	 "has 2 results but the function has 1 outputs"},
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %b = Relu(%a)\n}\n"
	     "graph @g(%x: f32[1]) -> (%y) {\n  %y = t::F(%x) {alpha=1.0}\n}\n"),
	 "has attribute 'alpha', which the function does not declare"},
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %b = LeakyRelu(%a) {alpha: float = @a}\n}\n"
	     "graph @g() -> () {\n}\n"),
	 "attribute 'alpha' of node #1 (LeakyRelu) refers to 'a', which the function does not declare"},
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13, \"t\"=1} {\n  %b = t::G(%a)\n}\n"
	     "func t::G(%a) -> (%b) opset{\"t\"=1} {\n  %b = t::F(%a)\n}\n"
	     "graph @g() -> () {\n}\n"),
	 "calls itself (a cycle of calls through function 't::"},
	{GIR("func t::F(%a) -> (%b) {\n  %b = Relu(%a)\n}\n"
	     "graph @g() -> () {\n}\n"),
	 "node #1 (Relu) is in domain \"\", which the function's opsets do not import"},
	{GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %b = Relu(%a, %a)\n}\n"
	     "graph @g() -> () {\n}\n"),
	 "function 't::F': node #1 (Relu) has 2 operands (expected 1 to 1)"},
	{GIR("func t::F(%a) -> (_) opset{\"\"=13} {\n}\n"
	     "graph @g() -> () {\n}\n"),
	 "formal output 0 is absent"},
};

Test(func_verify, bad_functions_and_calls_are_named)
{
	for (size_t i = 0; i < sizeof bad_funcs / sizeof *bad_funcs; i++) {
		ir_graph *g = parse_ok(bad_funcs[i].gir);
		ir_diags d;
		ir_diags_init(&d);
		size_t n = ir_verify(g, &d, "v.gir");
		cr_expect_gt(n, 0, "case %zu: no error", i);
		cr_expect(ir_diags_contains(&d, bad_funcs[i].msg), "case %zu: no '%s' in:\n%s", i, bad_funcs[i].msg,
			  d.n ? d.v[0].msg : "(nothing)");
		ir_diags_free(&d);
		ir_graph_free(g);
	}
}

Test(func_verify, bodies_hold_no_constants_and_define_before_use)
{
	ir_graph *g = parse_ok(GIR("func t::F(%a) -> (%b) opset{\"\"=13} {\n  %c = Neg(%a)\n  %b = Relu(%c)\n}\n"
				   "graph @g() -> () {\n}\n"));
	ir_graph *body = ir_func_at(g, 1)->body;
	ir_tid t = ir_tensor_new(body, 0, IR_F32, 0, NULL, NULL, 4);
	ir_const_new(body, ir_intern_cstr(body, "k"), t);
	ir_node_move(body, ir_graph_first(body), 0); /* Neg after Relu: used before defined */
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_gt(ir_verify(g, &d, NULL), 0);
	cr_expect(ir_diags_contains(&d, "its body holds constants"));
	cr_expect(ir_diags_contains(&d, "is used before its definition"));
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(func_verify, duplicate_functions_are_refused)
{
	ir_graph *g = ir_graph_new();
	cr_assert(ir_func_new(g, "d", "F"));
	cr_assert_eq(ir_func_new(g, "d", "F"), 0);
	cr_assert(ir_func_new(g, "e", "F"));
	cr_assert_eq(ir_func_new(g, "", "Q"), 3);
	cr_assert_eq(ir_func_find(g, "ai.onnx", "Q"), 3, "ai.onnx is the default domain");
	ir_graph_free(g);
}

Test(func_calls, a_calls_macs_are_its_bodys)
{
	ir_graph *g = parse_ok(bind_gir), *h = parse_ok(bind_gir);
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	for (ir_nid n = ir_graph_first(h), next; n; n = next) {
		next = ir_node_at(h, n)->next;
		cr_assert(ir_inline_call(h, n, &d, NULL));
	}
	cr_assert_eq(ir_infer(h, &d, NULL), 0);
	ir_stats a = ir_graph_stats(g), b = ir_graph_stats(h);
	cr_assert_eq(a.macs, 2 * 3 * 3 * 3, "two Gemms of 3x3 by 3x3 inside the calls");
	cr_assert_eq(a.macs, b.macs);
	cr_assert_eq(a.macs_unknown, 0);
	ir_diags_free(&d);
	ir_graph_free(g);
	ir_graph_free(h);
}
