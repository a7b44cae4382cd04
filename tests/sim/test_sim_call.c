/* Calls of model-local functions in the simulator: a call computes what its
 * inlined body computes (every precision mode), and the cycle model costs a
 * call as one fused kernel that saves its intermediates' traffic and the
 * launches of all but one of its ops. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

static ir_graph *parse(const char *text)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_parse(text, strlen(text), "call.gir", NULL, 0, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(g);
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	ir_diags_free(&d);
	return g;
}

/* g with every call replaced by its body. */
static ir_graph *inlined(const char *text)
{
	ir_graph *g = parse(text);
	ir_diags d;
	ir_diags_init(&d);
	for (ir_nid n = ir_graph_first(g), next; n; n = next) {
		next = ir_node_at(g, n)->next;
		if (ir_node_callee(g, n))
			cr_assert(ir_inline_call(g, n, &d, NULL));
	}
	cr_assert_eq(ir_verify(g, &d, NULL), 0);
	cr_assert_eq(ir_infer(g, &d, NULL), 0);
	ir_diags_free(&d);
	return g;
}

static const char *const calls_gir =
	"graft 1\n"
	"model opset{\"\"=13, \"graft\"=1}\n"
	"func graft::LN(%x, %scale, %bias) -> (%y) attrs{epsilon=1e-05} opset{\"\"=13} {\n"
	"  %m = ReduceMean(%x) {axes=[-1]}\n"
	"  %d = Sub(%x, %m)\n"
	"  %dd = Mul(%d, %d)\n"
	"  %v = ReduceMean(%dd) {axes=[-1]}\n"
	"  %e = Constant() {value_float: float = @epsilon}\n"
	"  %ve = Add(%v, %e)\n"
	"  %s = Sqrt(%ve)\n"
	"  %n = Div(%d, %s)\n"
	"  %sc = Mul(%n, %scale)\n"
	"  %y = Add(%sc, %bias)\n"
	"}\n"
	"func graft::ConvRelu(%x, %w, %b) -> (%y) attrs{pads, strides} opset{\"\"=13} {\n"
	"  %c = Conv(%x, %w, %b) {pads: ints = @pads, strides: ints = @strides}\n"
	"  %y = Relu(%c)\n"
	"}\n"
	"func graft::Affine(%a, %b, %c) -> (%y) opset{\"\"=13, \"graft\"=1} {\n"
	"  %p = Gemm(%a, %b, %c)\n"
	"  %y = graft::ReluOf(%p)\n"
	"}\n"
	"func graft::ReluOf(%a) -> (%b) opset{\"\"=13} {\n"
	"  %b = Relu(%a)\n"
	"}\n"
	"graph @g(%x: f32[2,3,8,8], %w: f32[5,3,3,3], %b: f32[5], %t: f32[4,16], %m: f32[16,6], %sc: f32[16],\n"
	"    %bi: f32[16]) -> (%y, %q, %z) {\n"
	"  %y = graft::ConvRelu(%x, %w, %b) {pads=[1, 1, 1, 1], strides=[2, 2]}\n"
	"  %z = graft::LN(%t, %sc, %bi)\n"
	"  %q = graft::Affine(%z, %m)\n"
	"}\n";

static void run_both(sim_mode mode)
{
	ir_graph *g = parse(calls_gir), *h = inlined(calls_gir);
	ir_diags d;
	ir_diags_init(&d);
	sim_tensor *in, *a, *b;
	size_t nin, na, nb;
	cr_assert_eq(sim_random_inputs(g, 7, &in, &nin, &d), SIM_OK);
	sim_opts o = {mode, NULL};
	cr_assert_eq(sim_run(g, &o, in, nin, &a, &na, &d), SIM_OK);
	cr_assert_eq(sim_run(h, &o, in, nin, &b, &nb, &d), SIM_OK);
	cr_assert_eq(na, 3);
	cr_assert_eq(nb, 3);
	for (size_t i = 0; i < na; i++) {
		cr_assert_eq(sim_nbytes(&a[i]), sim_nbytes(&b[i]));
		cr_expect_eq(memcmp(a[i].data, b[i].data, sim_nbytes(&a[i])), 0, "output %zu differs (mode %d)", i,
			     (int)mode);
	}
	const float *q = b[1].data;
	bool relu = true;
	for (size_t i = 0; i < sim_numel(&b[1]); i++)
		relu = relu && q[i] >= 0;
	cr_expect(relu, "the nested call ran its Relu");
	sim_tensors_free(in, nin);
	sim_tensors_free(a, na);
	sim_tensors_free(b, nb);
	ir_diags_free(&d);
	ir_graph_free(g);
	ir_graph_free(h);
}

Test(sim_call, a_call_computes_its_inlined_body)
{
	run_both(SIM_FP32);
}

Test(sim_call, in_cube_mode_too)
{
	run_both(SIM_CUBE);
}

Test(sim_call, one_node_evaluates_through_its_function)
{
	ir_graph *g = parse("graft 1\nmodel opset{\"\"=13, \"t\"=1}\n"
			    "func t::Twice(%a) -> (%b) attrs{k=2.0} opset{\"\"=13} {\n"
			    "  %k = Constant() {value_float: float = @k}\n  %b = Mul(%a, %k)\n}\n"
			    "graph @g(%x: f32[3]) -> (%y) {\n  %y = t::Twice(%x) {k=3.0}\n}\n");
	const float x[3] = {1, -2, 0.5f};
	sim_tensor t = {.dtype = IR_F32, .rank = 1, .dims = {3}, .data = (void *)x};
	const sim_tensor *in[1] = {&t};
	sim_tensor out;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_eval_node(g, ir_graph_first(g), NULL, in, 1, &out, 1, &d), SIM_OK);
	const float *y = out.data;
	cr_assert(y[0] == 3.0f && y[1] == -6.0f && y[2] == 1.5f, "the call's attribute, not the default");
	sim_tensor_free(&out);
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- costs */

static const char *const mm_gir =
	"graft 1\n"
	"model opset{\"\"=13, \"graft\"=1}\n"
	"func graft::MatMulBiasRelu(%a, %w, %b) -> (%y) opset{\"\"=13} {\n"
	"  %p = MatMul(%a, %w)\n"
	"  %s = Add(%p, %b)\n"
	"  %y = Relu(%s)\n"
	"}\n"
	"graph @g(%a: f16[2048,1024], %w: f16[1024,1024], %b: f16[1024]) -> (%y) {\n"
	"  %y = graft::MatMulBiasRelu(%a, %w, %b) @call\n"
	"}\n";

Test(sim_call, a_call_costs_less_than_its_body_ops)
{
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(sim_hw_load("ascend310", &hw, &d));
	ir_graph *g = parse(mm_gir), *h = inlined(mm_gir);
	sim_cost cg, ch;
	cr_assert(sim_cost_graph(g, &hw, NULL, &cg, &d));
	cr_assert(sim_cost_graph(h, &hw, NULL, &ch, &d));
	cr_assert_eq(cg.nops, 1);
	cr_assert_eq(ch.nops, 3);
	const sim_op_cost *call = &cg.ops[0];
	cr_assert(call->costed && call->fused);
	int64_t sum = 0, cube = 0, macs = 0;
	for (size_t i = 0; i < ch.nops; i++) {
		sum += ch.ops[i].cycles;
		cube += ch.ops[i].cube;
		macs += ch.ops[i].macs;
	}
	int64_t launch = (int64_t)sim_hw_launch_cycles(&hw);
	cr_expect_lt(call->cycles, sum - 2 * launch, "fusion saves two launches and the traffic: %lld vs %lld",
		     (long long)call->cycles, (long long)sum);
	cr_expect_eq(call->launch, launch, "one launch");
	cr_expect_eq(call->cube, cube, "the same cube work");
	cr_expect_eq(call->macs, macs);
	int64_t inter = 2048 * 1024 * 2; /* one fp16 intermediate */
	cr_expect_eq(call->bytes_out, inter, "only the result is written");
	cr_expect_eq(ch.bytes - cg.bytes, 4 * inter, "two intermediates' writes and read-backs saved");
	sim_cost_free(&cg);
	sim_cost_free(&ch);
	ir_graph_free(g);
	ir_graph_free(h);
	ir_diags_free(&d);
}
