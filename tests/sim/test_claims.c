/* The eleven claims of the seed talk (docs/simulator.md, "Claims"), each on
 * small graphs built for it.  The cost model reads only the IR and the
 * hardware description; claims 6 and 9 also run the numerics. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "costtest.h"

static sim_hw ascend(void)
{
	return ct_hw("ascend310");
}

/* The cost of the only (or the named) op of a graph. */
static sim_op_cost cost_of(const ir_graph *g, const sim_hw *hw, const char *name)
{
	sim_cost c = ct_cost(g, hw);
	sim_op_cost o = *ct_op(g, &c, name);
	sim_cost_free(&c);
	return o;
}

static ir_graph *matmul(ir_dtype dt, int64_t m, int64_t k, int64_t n)
{
	ir_graph *g = ct_graph();
	ir_val a = ct_input(g, "a", dt, 2, CT_DIMS(m, k));
	ir_val b = ct_weight(g, "b", dt, 2, CT_DIMS(k, n));
	ir_nid mm = ct_node(g, "MatMul", "mm", (ir_val[]){a, b}, 2);
	ct_finish(g, ct_out(g, mm));
	return g;
}

/* Conv of x[batch,cin,h,h] with cout k x k filters. */
static ir_graph *conv(ir_dtype dt, int64_t batch, int64_t cin, int64_t h, int64_t cout, int64_t k, int64_t s,
		      int64_t dil, int64_t pad, int64_t group)
{
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", dt, 4, CT_DIMS(batch, cin, h, h));
	ir_val w = ct_weight(g, "w", dt, 4, CT_DIMS(cout, cin / group, k, k));
	ir_nid n = ct_conv(g, "conv", x, w, IR_NONE, s, dil, pad, group);
	ct_finish(g, ct_out(g, n));
	return g;
}

static sim_op_cost cost_matmul(const sim_hw *hw, ir_dtype dt, int64_t m, int64_t k, int64_t n)
{
	ir_graph *g = matmul(dt, m, k, n);
	sim_op_cost o = cost_of(g, hw, "mm");
	ir_graph_free(g);
	return o;
}

static sim_op_cost cost_conv(const sim_hw *hw, ir_dtype dt, int64_t batch, int64_t cin, int64_t h, int64_t cout,
			     int64_t k, int64_t s, int64_t dil, int64_t pad, int64_t group)
{
	ir_graph *g = conv(dt, batch, cin, h, cout, k, s, dil, pad, group);
	sim_op_cost o = cost_of(g, hw, "conv");
	ir_graph_free(g);
	return o;
}

/* ---------------------------------------------------------------- 1. peak and alignment */

Test(claim1, aligned_gemm_reaches_near_peak_fp16_and_int8)
{
	sim_hw hw = ascend();
	sim_op_cost f = cost_matmul(&hw, IR_F16, 1024, 1024, 1024);
	cr_assert_eq(f.cube, 1024LL * 1024 * 1024 / 4096, "4096 fp16 MACs per cycle");
	cr_assert_float_eq(f.cube_util, 1.0, 1e-12);
	cr_assert_eq(f.bound, SIM_BOUND_CUBE);
	cr_assert_lt((double)(f.cycles - f.launch), 1.05 * (double)f.cube, "within 5%% of peak");
	sim_op_cost i = cost_matmul(&hw, IR_I8, 1024, 1024, 1024);
	cr_assert_eq(i.cube, 1024LL * 1024 * 1024 / 8192, "8192 int8 MACs per cycle");
	cr_assert_float_eq(i.cube_util, 1.0, 1e-12);
}

Test(claim1, k_of_17_needs_two_k_fractals)
{
	sim_hw hw = ascend();
	sim_op_cost o = cost_matmul(&hw, IR_F16, 1024, 17, 1024);
	sim_op_cost full = cost_matmul(&hw, IR_F16, 1024, 32, 1024);
	cr_assert_eq(o.cube, full.cube, "K = 17 costs the cube time of K = 32");
	cr_assert_float_eq(o.cube_util, 17.0 / 32, 1e-12, "about 53%%");
	sim_op_cost i = cost_matmul(&hw, IR_I8, 1024, 33, 1024);
	cr_assert_float_eq(i.cube_util, 33.0 / 64, 1e-12, "int8 pads K to 32");
}

/* ---------------------------------------------------------------- 2. misaligned input channels */

Test(claim2, input_channels_pad_to_c0)
{
	sim_hw hw = ascend();
	sim_op_cost c17 = cost_conv(&hw, IR_F16, 1, 17, 28, 64, 3, 1, 1, 1, 1);
	sim_op_cost c32 = cost_conv(&hw, IR_F16, 1, 32, 28, 64, 3, 1, 1, 1, 1);
	sim_op_cost c16 = cost_conv(&hw, IR_F16, 1, 16, 28, 64, 3, 1, 1, 1, 1);
	cr_assert_eq(c17.cube, c32.cube, "Cin = 17 costs as much cube time as Cin = 32");
	cr_assert_eq(c16.cube * 2, c32.cube);
	cr_assert_float_eq((double)c17.padded_macs / (double)c17.macs, 32.0 / 17, 1e-12, "waste in proportion");
	sim_op_cost i17 = cost_conv(&hw, IR_I8, 1, 17, 28, 64, 3, 1, 1, 1, 1);
	sim_op_cost i32 = cost_conv(&hw, IR_I8, 1, 32, 28, 64, 3, 1, 1, 1, 1);
	cr_assert_eq(i17.cube, i32.cube, "int8: Cin pads to 32");
}

Test(claim2, conv1_with_three_input_channels_grows_5_3x)
{
	sim_hw hw = ascend();
	sim_op_cost o = cost_conv(&hw, IR_F16, 1, 3, 224, 64, 7, 2, 1, 3, 1);
	cr_assert_eq(o.macs, 112LL * 112 * 64 * 3 * 49);
	cr_assert_float_eq((double)o.padded_macs / (double)o.macs, 16.0 / 3, 1e-12);
	cr_assert_gt((double)o.cube / o.floor, 5.3);
}

/* ---------------------------------------------------------------- 3. depthwise */

Test(claim3, depthwise_uses_at_most_a_sixteenth_of_the_cube)
{
	sim_hw hw = ascend();
	sim_op_cost o = cost_conv(&hw, IR_F16, 1, 64, 56, 64, 3, 1, 1, 1, 64);
	cr_assert_float_eq(o.floor, 441, 1e-9, "56*56*64*9 / 4096");
	cr_assert_eq(o.cube, 7056);
	cr_assert_leq(o.cube_util, 1.0 / 16 + 1e-12);
	sim_op_cost d2 = cost_conv(&hw, IR_F16, 1, 32, 56, 64, 3, 1, 1, 1, 32); /* channel multiplier 2 */
	cr_assert_leq(d2.cube_util, 1.0 / 8 + 1e-12);
}

/* ---------------------------------------------------------------- 4. a 4x4x4 unit */

Test(claim4, a_4x4x4_unit_wastes_less_on_odd_shapes)
{
	sim_hw big = ascend(), small = ct_hw("tensorcore-4x4x4");
	sim_op_cost b = cost_conv(&big, IR_F16, 1, 3, 224, 64, 7, 2, 1, 3, 1);
	sim_op_cost s = cost_conv(&small, IR_F16, 1, 3, 224, 64, 7, 2, 1, 3, 1);
	cr_assert_float_eq(s.cube_util, 3.0 / 4, 1e-12, "Cin = 3 pads to 4");
	cr_assert_float_eq(b.cube_util, 3.0 / 16, 1e-12, "but to 16 on the 16^3 cube");
	sim_op_cost bk = cost_matmul(&big, IR_F16, 256, 17, 256), sk = cost_matmul(&small, IR_F16, 256, 17, 256);
	cr_assert_float_eq(sk.cube_util, 17.0 / 20, 1e-12);
	cr_assert_gt(sk.cube_util, bk.cube_util);
}

Test(claim4, but_needs_four_times_the_operand_bandwidth_per_mac)
{
	sim_hw big = ascend(), small = ct_hw("tensorcore-4x4x4");
	sim_op_cost b = cost_matmul(&big, IR_F16, 512, 512, 512), s = cost_matmul(&small, IR_F16, 512, 512, 512);
	double per_mac_big = (double)b.operand_bytes / (double)b.padded_macs;
	double per_mac_small = (double)s.operand_bytes / (double)s.padded_macs;
	cr_assert_float_eq(per_mac_small / per_mac_big, 4.0, 1e-12);
	cr_assert_float_eq(per_mac_big, 2.0 * (16 * 16 * 2) / 4096, 1e-12);
}

/* ---------------------------------------------------------------- 5. pooling */

static ir_graph *pool(const char *op, int64_t c, int64_t h, int64_t k, int64_t s, int64_t pad)
{
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 4, CT_DIMS(1, c, h, h));
	ir_nid n = ct_node(g, op, "pool", &x, 1);
	ct_ints(g, n, "kernel_shape", CT_INTS(k, k));
	ct_ints(g, n, "strides", CT_INTS(s, s));
	ct_ints(g, n, "pads", CT_INTS(pad, pad, pad, pad));
	ct_finish(g, ct_out(g, n));
	return g;
}

Test(claim5, pooling_is_vector_or_memory_bound_with_the_cube_idle)
{
	sim_hw hw = ascend();
	const char *ops[] = {"MaxPool", "AveragePool"};
	for (int i = 0; i < 2; i++) {
		ir_graph *g = pool(ops[i], 64, 112, 3, 2, 1);
		sim_op_cost o = cost_of(g, &hw, "pool");
		cr_assert_eq(o.cube, 0, "%s leaves the cube idle", ops[i]);
		cr_assert_eq(o.macs, 0);
		cr_assert(o.bound == SIM_BOUND_VECTOR || o.bound == SIM_BOUND_MEMORY, "%s is bound by %s", ops[i],
			  sim_bound_name(o.bound));
		cr_assert_geq(o.vector, (3 * 3 - 1) * (64 * 56 * 56 * 2 / 256), "k*k-1 passes per output repeat");
		ir_graph_free(g);
	}
}

/* ---------------------------------------------------------------- 6. pooling as a convolution */

static ir_val const_f32(ir_graph *g, const char *name, int rank, const int64_t *dims, const float *data,
			size_t n)
{
	ir_str s = ir_intern_cstr(g, name);
	return ir_const_new(g, s, ir_tensor_new(g, s, IR_F32, rank, dims, data, n * sizeof(float)));
}

/* y = op(x) with a 2x2 window, stride 2, on x[1,8,16,16]; "Conv" is the
 * depthwise convolution with weights 1/4. */
static ir_graph *pool_or_conv(const char *op)
{
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F32, 4, CT_DIMS(1, 8, 16, 16));
	ir_nid n;
	if (!strcmp(op, "Conv")) {
		float w[8 * 4];
		for (int i = 0; i < 8 * 4; i++)
			w[i] = 0.25f;
		ir_val wv = const_f32(g, "w", 4, CT_DIMS(8, 1, 2, 2), w, 32);
		n = ct_conv(g, "pool", x, wv, IR_NONE, 2, 1, 0, 8);
		ct_ints(g, n, "kernel_shape", CT_INTS(2, 2));
	} else {
		n = ct_node(g, op, "pool", &x, 1);
		ct_ints(g, n, "kernel_shape", CT_INTS(2, 2));
		ct_ints(g, n, "strides", CT_INTS(2, 2));
	}
	ct_finish(g, ct_out(g, n));
	return g;
}

static sim_tensor run(const ir_graph *g, const sim_tensor *x, sim_mode mode)
{
	sim_tensor *out = NULL;
	size_t nout = 0;
	ir_diags d;
	ir_diags_init(&d);
	sim_opts o = {mode, "claims"};
	sim_status st = sim_run(g, &o, x, 1, &out, &nout, &d);
	if (st != SIM_OK)
		ir_diags_print(&d, stderr);
	cr_assert_eq(st, SIM_OK);
	cr_assert_eq(nout, 1);
	sim_tensor y = out[0];
	free(out);
	ir_diags_free(&d);
	return y;
}

static sim_tensor random_input(const ir_graph *g, uint64_t seed)
{
	sim_tensor *in = NULL;
	size_t n = 0;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_random_inputs(g, seed, &in, &n, &d), SIM_OK);
	cr_assert_eq(n, 1);
	sim_tensor x = in[0];
	free(in);
	ir_diags_free(&d);
	return x;
}

Test(claim6, average_pooling_equals_its_strided_depthwise_conv_max_pooling_does_not)
{
	ir_graph *avg = pool_or_conv("AveragePool"), *max = pool_or_conv("MaxPool"), *cv = pool_or_conv("Conv");
	sim_tensor x = random_input(avg, 6);
	sim_tensor ya = run(avg, &x, SIM_FP32), ym = run(max, &x, SIM_FP32), yc = run(cv, &x, SIM_FP32);
	sim_cmp r;
	cr_assert(sim_compare(&yc, &ya, 1e-6, &r), "avg pool == conv (max rel %g)", r.max_rel);
	cr_assert_not(sim_compare(&yc, &ym, 1e-3, &r), "max pool is not that conv");
	cr_assert_gt(r.mismatches, 0);
	sim_hw hw = ascend();
	sim_op_cost ca = cost_of(avg, &hw, "pool"), cc = cost_of(cv, &hw, "pool");
	cr_assert_eq(ca.cube, 0, "the pool runs on the vector unit");
	cr_assert_gt(cc.cube, 0, "the rewrite moves it to the cube");
	cr_assert_leq(cc.cube_util, 1.0 / 16 + 1e-12, "as a depthwise conv");
	cr_assert_gt(ca.cycles, 0);
	sim_tensor_free(&x);
	sim_tensor_free(&ya);
	sim_tensor_free(&ym);
	sim_tensor_free(&yc);
	ir_graph_free(avg);
	ir_graph_free(max);
	ir_graph_free(cv);
}

/* ---------------------------------------------------------------- 7 and 8. fully connected layers */

Test(claim7, fc_at_batch_1_is_bandwidth_bound)
{
	sim_hw hw = ascend();
	ir_graph *g = matmul(IR_F16, 1, 2048, 2048);
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "mm");
	cr_assert_eq(o->cube, 16384, "M pads to 16: 128 x 128 fractals");
	cr_assert_eq(c.where[ir_node_input(g, o->node, 1)], SIM_MEM_DDR, "the 8 MiB weight lives in DDR");
	cr_assert_eq(o->bound, SIM_BOUND_MEMORY);
	double load = 2048.0 * 2048 * 2 / hw.bw.ddr_read;
	cr_assert_geq((double)o->mte2, load, "about 131,072 cycles at 64 B/cycle");
	cr_assert_gt(o->mte2, 7 * o->cube);
	sim_op_cost b16 = cost_matmul(&hw, IR_F16, 16, 2048, 2048);
	cr_assert_eq(b16.macs, 16 * o->macs);
	cr_assert_float_eq((double)b16.cycles / (double)o->cycles, 1.0, 0.05, "16x the work, about the same time");
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(claim8, an_8_mib_weight_spills_to_ddr_a_4_mib_one_stays_in_l2)
{
	sim_hw hw = ascend();
	ir_graph *big = matmul(IR_F16, 1, 2048, 2048), *half = matmul(IR_F16, 1, 1024, 2048);
	sim_cost cb = ct_cost(big, &hw), ch = ct_cost(half, &hw);
	const sim_op_cost *ob = ct_op(big, &cb, "mm"), *oh = ct_op(half, &ch, "mm");
	cr_assert_eq(ob->weight_mem, SIM_MEM_DDR, "8 MiB + a live activation exceed the 8 MiB L2");
	cr_assert_eq(oh->weight_mem, SIM_MEM_L2);
	double rate_big = (double)ob->bytes_in / (double)ob->mte2, rate_half = (double)oh->bytes_in / (double)oh->mte2;
	cr_assert_float_eq(rate_half / rate_big, 2.0, 0.15, "loads about 2x faster (%.2fx)", rate_half / rate_big);
	sim_cost_free(&cb);
	sim_cost_free(&ch);
	ir_graph_free(big);
	ir_graph_free(half);
}

/* ---------------------------------------------------------------- 9. conv + bias + ReLU fusion */

/* fused 0: Conv -> Add(bias) -> Relu; 1: Conv(bias){activation=Relu};
 * 2: a call of graft::ConvRelu (a function: Conv(bias), then Relu);
 * 3: Conv(bias) -> Relu (for the numerics). */
static ir_graph *conv_bias_relu(int form, uint64_t seed)
{
	ir_graph *g = ct_graph();
	ir_graph_add_opset(g, "graft", 1);
	ir_val x = ct_input(g, "x", IR_F32, 4, CT_DIMS(1, 16, 28, 28));
	float w[32 * 16 * 9], b[32];
	for (size_t i = 0; i < 32 * 16 * 9; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		w[i] = (float)((seed >> 40) & 0xffff) / 65536.0f - 0.5f;
	}
	for (int i = 0; i < 32; i++)
		b[i] = 0.05f * (float)(i - 16);
	ir_val wv = const_f32(g, "w", 4, CT_DIMS(32, 16, 3, 3), w, 32 * 16 * 9);
	ir_val bv = const_f32(g, "b", form == 0 ? 4 : 1, form == 0 ? CT_DIMS(1, 32, 1, 1) : CT_DIMS(32), b, 32);
	ir_nid y;
	if (form == 2) {
		ct_func(g, "func graft::ConvRelu(%x, %w, %b) -> (%y) attrs{pads} opset{\"\"=13} {\n"
			   "  %c = Conv(%x, %w, %b) {pads: ints = @pads}\n  %y = Relu(%c)\n}\n");
		y = ct_node_in(g, "graft", "ConvRelu", "conv", (ir_val[]){x, wv, bv}, 3);
		ct_ints(g, y, "pads", CT_INTS(1, 1, 1, 1));
	} else {
		ir_nid c = ct_conv(g, "conv", x, wv, form == 0 ? IR_NONE : bv, 1, 1, 1, 1);
		if (form == 1)
			ir_attr_set_string(g, c, "activation", "Relu", 4);
		y = c;
		if (form == 0)
			y = ct_node(g, "Add", "bias", (ir_val[]){ct_out(g, c), bv}, 2);
		if (form == 0 || form == 3)
			y = ct_node(g, "Relu", "relu", (ir_val[]){ct_out(g, y)}, 1);
	}
	ct_finish(g, ct_out(g, y));
	return g;
}

Test(claim9, conv_bias_relu_fusion_saves_the_intermediate_traffic_and_two_launches)
{
	sim_hw hw = ascend();
	ir_graph *un = conv_bias_relu(0, 9);
	sim_cost cu = ct_cost(un, &hw);
	int64_t inter = 32 * 28 * 28 * 2; /* the fp16 intermediate */
	for (int form = 1; form <= 2; form++) {
		ir_graph *fu = conv_bias_relu(form, 9);
		sim_cost cf = ct_cost(fu, &hw);
		const sim_op_cost *f = ct_op(fu, &cf, "conv");
		cr_assert(f->fused, "form %d is fused", form);
		/* Besides the conv's own loads of x and w (whose halo depends on
		 * the tiling): unfused 4 I + bias + y, fused bias + y. */
		int64_t around_un = cu.bytes - ct_op(un, &cu, "conv")->bytes_in;
		int64_t around_fu = cf.bytes - f->bytes_in + 32 * 2;
		cr_assert_eq(around_un - around_fu, 4 * inter, "form %d: two writes and two read-backs saved (%lld)",
			     form, (long long)(around_un - around_fu));
		cr_assert_eq(cu.launch - cf.launch, 2 * f->launch, "two launches saved");
		cr_assert_gt(cu.total_cycles - cf.total_cycles, 2 * f->launch, "the saving");
		cr_assert_gt(f->vector, ct_op(un, &cu, "conv")->vector, "the epilogue grows on chip");
		sim_cost_free(&cf);
		ir_graph_free(fu);
	}
	sim_cost_free(&cu);
	ir_graph_free(un);
}

Test(claim9, fused_and_unfused_numerics_agree_within_tolerance)
{
	ir_graph *un = conv_bias_relu(0, 9), *fu = conv_bias_relu(3, 9);
	sim_tensor x = random_input(un, 9);
	sim_tensor a = run(un, &x, SIM_CUBE), b = run(fu, &x, SIM_CUBE);
	sim_cmp r;
	cr_assert(sim_compare(&b, &a, 2e-3, &r), "max rel %g", r.max_rel);
	sim_tensor_free(&x);
	sim_tensor_free(&a);
	sim_tensor_free(&b);
	ir_graph_free(un);
	ir_graph_free(fu);
}

/* ---------------------------------------------------------------- 10. double buffering */

static double db_gain(sim_hw hw, ir_graph *g, const char *name)
{
	hw.double_buffer = true;
	sim_op_cost on = cost_of(g, &hw, name);
	hw.double_buffer = false;
	sim_op_cost off = cost_of(g, &hw, name);
	return (double)(off.cycles - off.launch) / (double)(on.cycles - on.launch);
}

Test(claim10, double_buffering_gains_most_when_stages_are_balanced)
{
	sim_hw hw = ascend();
	ir_graph *balanced = matmul(IR_F16, 4096, 256, 64);
	ir_graph *streaming = matmul(IR_F16, 1, 2048, 2048);   /* MTE2 dominates */
	ir_graph *window = pool("AveragePool", 64, 56, 7, 1, 3); /* the vector unit dominates */
	double gb = db_gain(hw, balanced, "mm"), gs = db_gain(hw, streaming, "mm");
	double gw = db_gain(hw, window, "pool");
	cr_assert_gt(gb, 2.5, "balanced stages: %.2fx", gb);
	cr_assert_leq(gb, 5.0, "bounded by the number of stages");
	cr_assert_lt(gs, gb, "weight streaming gains less: %.2fx", gs);
	cr_assert_lt(gw, 1.2, "one stage dominates: %.2fx", gw);
	cr_assert_geq(gw, 1.0);
	ir_graph_free(balanced);
	ir_graph_free(streaming);
	ir_graph_free(window);
}

/* ---------------------------------------------------------------- 11. data reuse */

static double bytes_per_mac(const sim_op_cost *o)
{
	return (double)(o->bytes_in + o->bytes_out) / (double)o->macs;
}

Test(claim11, stride_and_dilation_lower_reuse_size_and_batch_raise_it)
{
	sim_hw hw = ascend();
	sim_op_cost base = cost_conv(&hw, IR_F16, 1, 64, 56, 64, 3, 1, 1, 1, 1);
	sim_op_cost strided = cost_conv(&hw, IR_F16, 1, 64, 56, 64, 3, 2, 1, 1, 1);
	sim_op_cost dilated = cost_conv(&hw, IR_F16, 1, 64, 56, 64, 3, 1, 2, 2, 1);
	sim_op_cost small = cost_conv(&hw, IR_F16, 1, 64, 14, 64, 3, 1, 1, 1, 1);
	sim_op_cost batched = cost_conv(&hw, IR_F16, 8, 64, 14, 64, 3, 1, 1, 1, 1);
	cr_assert_eq(dilated.macs, base.macs, "same output size");
	cr_assert_gt(bytes_per_mac(&strided), bytes_per_mac(&base), "stride lowers reuse");
	cr_assert_gt(bytes_per_mac(&dilated), bytes_per_mac(&base), "dilation lowers reuse");
	cr_assert_lt(bytes_per_mac(&base), bytes_per_mac(&small), "a larger feature map raises reuse");
	cr_assert_lt(bytes_per_mac(&batched), bytes_per_mac(&small), "a larger batch raises reuse");
}
