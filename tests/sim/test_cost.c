/* The cycle model: hardware descriptions and their diagnostics, the cube,
 * vector and pipeline formulas on hand-built graphs, residency, fusion, and
 * the plausibility of a real model's report against the physical floor.
 * The claims of the seed talk are in test_claims.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cost_internal.h"
#include "costtest.h"

/* ---------------------------------------------------------------- hardware descriptions */

static const char good_hw[] =
	"name: tiny\n"
	"clock_mhz: 1000\n"
	"launch_us: 0.5\n"
	"cube: {m: 16, k: 16, n: 16, units: 1, latency: 23}\n"
	"vector: {bytes: 256, startup: 6, repeats_per_cycle: 1}\n"
	"memory: {l0a: 64 KiB, l0b: 64KiB, l0c: 262144, l1: 1 MiB, ub: 248 KiB, l2: 8 MiB}\n"
	"bandwidth: {l1_to_l0a: 512, l1_to_l0b: 256, l0c_to_ub: 256, l2_read: 128, l2_write: 64,\n"
	"            ddr_read: 67, ddr_write: 64}\n";

static bool parse(const char *text, sim_hw *hw, ir_diags *d)
{
	return sim_hw_parse(text, strlen(text), "hw.yaml", hw, d);
}

/* Replaces the first occurrence of from with to in good_hw. */
static void edited(char *out, size_t cap, const char *from, const char *to)
{
	const char *p = strstr(good_hw, from);
	cr_assert_not_null(p, "'%s' is in the base description", from);
	snprintf(out, cap, "%.*s%s%s", (int)(p - good_hw), good_hw, to, p + strlen(from));
}

static bool has_diag(const ir_diags *d, int line, int col, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && d->v[i].col == col && strstr(d->v[i].msg, needle))
			return true;
	return false;
}

Test(hw, builtins_load_with_their_documented_figures)
{
	cr_assert_eq(sim_hw_builtin_count(), 2);
	sim_hw a = ct_hw("ascend310"), t = ct_hw("tensorcore-4x4x4");
	cr_assert_str_eq(a.name, "ascend310");
	cr_assert_eq(sim_hw_peak(&a, false), 4096);
	cr_assert_eq(sim_hw_peak(&a, true), 8192);
	cr_assert_eq(a.mem.l2, 8 << 20);
	cr_assert_eq(a.mem.ub, 248 << 10);
	cr_assert_float_eq(a.bw.ddr_read, 67, 1e-9);
	cr_assert_float_eq(sim_hw_launch_cycles(&a), 680, 1e-9);
	cr_assert(a.double_buffer && a.float_fp16);
	cr_assert_eq(sim_hw_peak(&t, false), 512, "8 tensor cores x 64 FMA");
	cr_assert_eq(sim_hw_peak(&t, true), 512, "no int8 fractal: int8 runs on the fp16 shape");
	cr_assert_eq(t.mem.l2, 6 << 20);
}

Test(hw, builtin_text_matches_the_source_tree)
{
	size_t n;
	const char *text = sim_hw_builtin_text("ascend310", &n);
	cr_assert_not_null(text);
	char path[512];
	snprintf(path, sizeof path, "%s/backend_sim/hw/ascend310.yaml", GRAFT_SOURCE_DIR);
	ir_diags d;
	ir_diags_init(&d);
	size_t fn;
	char *file = ir_read_file(path, &fn, &d);
	cr_assert_not_null(file);
	cr_assert_eq(fn, n);
	cr_assert(memcmp(file, text, n) == 0, "the embedded copy is the file");
	free(file);
	ir_diags_free(&d);
	cr_assert_null(sim_hw_builtin_text("nonesuch", NULL));
}

Test(hw, a_users_file_loads_by_path)
{
	char path[] = "/tmp/graft_hw_XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, good_hw, strlen(good_hw)), (ssize_t)strlen(good_hw));
	close(fd);
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	bool ok = sim_hw_load(path, &hw, &d);
	unlink(path);
	cr_assert(ok);
	cr_assert_str_eq(hw.name, "tiny");
	cr_assert_eq(hw.mem.l0b, 64 << 10);
	cr_assert_eq(hw.mem.l0c, 262144);
	cr_assert_eq(hw.cores, 1, "optional keys take their defaults");
	cr_assert_eq(hw.vector.max_repeat, 255);
	cr_assert_float_eq(sim_hw_launch_cycles(&hw), 500, 1e-9);
	ir_diags_free(&d);
}

Test(hw, unknown_name_is_an_error)
{
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(sim_hw_load("ascend999", &hw, &d));
	cr_assert(ir_diags_contains(&d, "unknown hardware 'ascend999'"));
	cr_assert(ir_diags_contains(&d, "ascend310"), "the message lists the built-ins");
	ir_diags_free(&d);
}

Test(hw, unknown_key_with_its_location)
{
	char text[2048];
	edited(text, sizeof text, "launch_us: 0.5\n", "launch_us: 0.5\nfrobs: 3\n");
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(text, &hw, &d));
	cr_assert(has_diag(&d, 4, 1, "unknown key 'frobs'"));
	cr_assert_eq(d.nerrors, 1);
	ir_diags_free(&d);
}

Test(hw, unknown_key_in_a_section)
{
	char text[2048];
	edited(text, sizeof text, "units: 1,", "units: 1, warp: 2,");
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(text, &hw, &d));
	cr_assert(ir_diags_contains(&d, "unknown key 'warp' in 'cube'"));
	cr_assert(has_diag(&d, 4, 39, "warp"));
	ir_diags_free(&d);
}

Test(hw, wrong_types)
{
	char a[2048], b[2048];
	edited(a, sizeof a, "clock_mhz: 1000", "clock_mhz: fast");
	edited(b, sizeof b, "m: 16,", "m: \"16\",");
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(has_diag(&d, 2, 12, "wrong type for 'clock_mhz': expected a number, got 'fast'"));
	ir_diags_clear(&d);
	cr_assert_not(parse(b, &hw, &d));
	cr_assert(ir_diags_contains(&d, "wrong type for 'cube.m': expected an integer"),
		  "a quoted number is a string");
	ir_diags_clear(&d);
	edited(a, sizeof a, "cube: {m: 16, k: 16, n: 16, units: 1, latency: 23}", "cube: [16, 16, 16]");
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(ir_diags_contains(&d, "wrong type for 'cube': expected a mapping, got a sequence"));
	ir_diags_free(&d);
}

Test(hw, missing_required_keys_and_sections)
{
	char a[2048], b[2048];
	edited(a, sizeof a, "l2: 8 MiB", "l2x: 8 MiB");
	edited(b, sizeof b, "name: tiny\n", "");
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(ir_diags_contains(&d, "missing required key 'l2' in 'memory'"));
	cr_assert(ir_diags_contains(&d, "unknown key 'l2x' in 'memory'"));
	ir_diags_clear(&d);
	cr_assert_not(parse(b, &hw, &d));
	cr_assert(has_diag(&d, 1, 1, "missing required key 'name'"));
	ir_diags_clear(&d);
	cr_assert_not(parse("name: x\nclock_mhz: 1\nlaunch_us: 1\n", &hw, &d));
	cr_assert(ir_diags_contains(&d, "missing required section 'cube'"));
	cr_assert(ir_diags_contains(&d, "missing required section 'bandwidth'"));
	ir_diags_free(&d);
}

Test(hw, zero_and_negative_sizes)
{
	char a[2048], b[2048];
	edited(a, sizeof a, "l1: 1 MiB", "l1: 0");
	edited(b, sizeof b, "ddr_read: 67", "ddr_read: -67");
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(ir_diags_contains(&d, "'memory.l1' must be positive, got 0"));
	ir_diags_clear(&d);
	cr_assert_not(parse(b, &hw, &d));
	cr_assert(has_diag(&d, 8, 23, "'bandwidth.ddr_read' must not be negative, got -67"));
	ir_diags_clear(&d);
	edited(a, sizeof a, "m: 16,", "m: 99999999,");
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(ir_diags_contains(&d, "'cube.m' is too large"));
	ir_diags_clear(&d);
	edited(a, sizeof a, "l2: 8 MiB", "l2: 99999999999999999 GiB");
	cr_assert_not(parse(a, &hw, &d));
	cr_assert(ir_diags_contains(&d, "wrong type for 'memory.l2'"), "an overflowing size is not a size");
	ir_diags_free(&d);
}

Test(hw, every_error_in_a_file_is_reported)
{
	const char *text = "name: bad\n"
			   "clock_mhz: 0\n"
			   "launch_us: x\n"
			   "colour: blue\n"
			   "cube: {m: 16, k: -1, n: 16, units: 1, latency: 23}\n"
			   "vector: {bytes: 256, startup: 6, repeats_per_cycle: 1}\n"
			   "memory: {l0a: 64 KiB, l0b: 64 KiB, l0c: 256 KiB, l1: 1 MiB, ub: 248 KiB}\n";
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse(text, &hw, &d));
	cr_assert(has_diag(&d, 2, 12, "'clock_mhz' must be positive"));
	cr_assert(has_diag(&d, 3, 12, "wrong type for 'launch_us'"));
	cr_assert(has_diag(&d, 4, 1, "unknown key 'colour'"));
	cr_assert(has_diag(&d, 5, 18, "'cube.k' must not be negative"));
	cr_assert(ir_diags_contains(&d, "missing required key 'l2' in 'memory'"));
	cr_assert(ir_diags_contains(&d, "missing required section 'bandwidth'"));
	cr_assert_eq(d.nerrors, 6);
	ir_diags_free(&d);
}

Test(hw, malformed_yaml_reports_the_parser_position)
{
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(parse("name: x\ncube: {m: 16\nvector: 3\n", &hw, &d));
	cr_assert_eq(d.nerrors, 1);
	cr_assert(ir_diags_contains(&d, "malformed YAML"));
	cr_assert_gt(d.v[0].line, 1);
	ir_diags_clear(&d);
	cr_assert_not(parse("", &hw, &d));
	cr_assert(ir_diags_contains(&d, "empty hardware description"));
	ir_diags_clear(&d);
	cr_assert_not(parse("- 1\n- 2\n", &hw, &d));
	cr_assert(ir_diags_contains(&d, "must be a mapping"));
	ir_diags_free(&d);
}

/* ---------------------------------------------------------------- the pipeline formula */

Test(pipe, overlap_is_sum_plus_steps_times_the_slowest_stage)
{
	sim_pipe p = {.steps = 10, .q = {[SIM_Q_MTE2] = 4, [SIM_Q_CUBE] = 6, [SIM_Q_MTE3] = 2}, .latency = 3};
	cr_assert_float_eq(sim_pipe_cycles(&p, true), 4 + 6 + 2 + 3 + 9 * 6, 1e-9);
	cr_assert_float_eq(sim_pipe_cycles(&p, false), 10 * (4 + 6 + 2 + 3), 1e-9);
	p.steps = 1;
	cr_assert_float_eq(sim_pipe_cycles(&p, true), sim_pipe_cycles(&p, false), 1e-9, "one step: no overlap");
}

Test(pipe, vector_pass_pays_startup_per_instruction)
{
	sim_hw hw = ct_hw("ascend310");
	cr_assert_float_eq(sim_vector_pass(&hw, 256), 6 + 1, 1e-9);
	cr_assert_float_eq(sim_vector_pass(&hw, 257), 6 + 2, 1e-9);
	cr_assert_float_eq(sim_vector_pass(&hw, 256.0 * 255), 6 + 255, 1e-9);
	cr_assert_float_eq(sim_vector_pass(&hw, 256.0 * 256), 2 * 6 + 256, 1e-9, "256 repeats: two instructions");
	cr_assert_float_eq(sim_vector_pass(&hw, 0), 0, 1e-9);
}

/* ---------------------------------------------------------------- cube ops */

/* Conv on x[1,cin,h,h] with cout k x k filters. */
static ir_graph *conv_graph(ir_dtype dt, int64_t cin, int64_t h, int64_t cout, int64_t k, int64_t s,
			    int64_t pad, int64_t group)
{
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", dt, 4, CT_DIMS(1, cin, h, h));
	ir_val w = ct_weight(g, "w", dt, 4, CT_DIMS(cout, cin / group, k, k));
	ir_nid n = ct_conv(g, "conv", x, w, IR_NONE, s, 1, pad, group);
	ct_finish(g, ct_out(g, n));
	return g;
}

Test(cube, anchor_3x3_conv_56x56_64_to_64_is_exactly_macs_over_4096)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = conv_graph(IR_F16, 64, 56, 64, 3, 1, 1, 1);
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "conv");
	cr_assert_eq(o->macs, 56LL * 56 * 64 * 64 * 9);
	cr_assert_eq(o->macs, ir_node_macs(g, o->node), "the same MACs as graft info");
	cr_assert_eq(o->cube, 28224);
	cr_assert_eq(o->padded_macs, o->macs);
	cr_assert_float_eq(o->cube_util, 1.0, 1e-12);
	cr_assert_eq(o->bound, SIM_BOUND_CUBE);
	cr_assert_geq(o->cycles, o->cube + o->launch);
	cr_assert_lt(o->cycles, (o->cube + o->launch) * 11 / 10, "double buffering hides the transfers");
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(cube, matmul_pads_k_to_the_fractal)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val a = ct_input(g, "a", IR_F16, 2, CT_DIMS(256, 17));
	ir_val b = ct_weight(g, "b", IR_F16, 2, CT_DIMS(17, 256));
	ir_nid n = ct_node(g, "MatMul", "mm", (ir_val[]){a, b}, 2);
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "mm");
	cr_assert_eq(o->cube, 16 * 2 * 16, "K = 17 takes two K fractals");
	cr_assert_float_eq(o->cube_util, 17.0 / 32, 1e-12);
	cr_assert_eq(o->operand_bytes, o->cube * (16 * 16 * 2 * 2), "one A and one B fractal per cube cycle");
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(cube, batched_matmul_with_a_shared_weight_folds_the_batch_into_m)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val a = ct_input(g, "a", IR_F16, 3, CT_DIMS(4, 8, 64));
	ir_val b = ct_weight(g, "b", IR_F16, 2, CT_DIMS(64, 64));
	ir_nid n = ct_node(g, "MatMul", "mm", (ir_val[]){a, b}, 2);
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "mm");
	cr_assert_eq(o->cube, 2 * 4 * 4, "M = 4 x 8 = 32: two M fractals, not four");
	cr_assert_eq(o->macs, 4 * 8 * 64 * 64);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(cube, gemm_bias_is_read_and_added_in_the_epilogue)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val a = ct_input(g, "a", IR_F16, 2, CT_DIMS(64, 128));
	ir_val b = ct_weight(g, "b", IR_F16, 2, CT_DIMS(256, 128));
	ir_val bias = ct_weight(g, "bias", IR_F16, 1, CT_DIMS(256));
	ir_nid n = ct_node(g, "Gemm", "fc", (ir_val[]){a, b, bias}, 3);
	ir_attr_set_int(g, n, "transB", 1);
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "fc");
	cr_assert_eq(o->macs, 64 * 128 * 256);
	cr_assert_eq(o->bytes_in, 64 * 128 * 2 + 256 * 128 * 2 + 256 * 2);
	cr_assert_eq(o->bytes_out, 64 * 256 * 2);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(cube, int8_uses_the_32_deep_fractal_and_twice_the_peak)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val a = ct_input(g, "a", IR_I8, 2, CT_DIMS(256, 64));
	ir_val b = ct_weight(g, "b", IR_I8, 2, CT_DIMS(64, 256));
	ir_nid n = ct_node(g, "MatMul", "mm", (ir_val[]){a, b}, 2);
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "mm");
	cr_assert_eq(o->cube, 16 * 2 * 16, "K = 64 is two 32-deep fractals");
	cr_assert_float_eq(o->cube_util, 1.0, 1e-12);
	cr_assert_float_eq(o->floor, (double)o->macs / 8192, 1e-9);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(cube, unknown_shapes_are_reported_not_costed)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_dim dims[4] = {{-1, ir_intern_cstr(g, "N")}, {8, 0}, {16, 0}, {16, 0}};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor_dims(g, IR_F16, 4, dims), 0);
	ir_val w = ct_weight(g, "w", IR_F16, 4, CT_DIMS(8, 8, 3, 3));
	ir_nid n = ct_conv(g, "conv", x, w, IR_NONE, 1, 1, 1, 1);
	ct_finish(g, ct_out(g, n));
	sim_cost c;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(sim_cost_graph(g, &hw, "t.gir", &c, &d));
	cr_assert_eq(c.uncosted, 1);
	cr_assert_not(c.ops[0].costed);
	cr_assert_eq(c.total_cycles, 0);
	cr_assert(ir_diags_contains(&d, "node 'conv' (Conv): shapes unknown"));
	cr_assert_eq(d.nerrors, 0, "a warning, not an error");
	sim_cost_free(&c);
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- vector ops and free ops */

Test(vector, relu_streams_through_the_unified_buffer)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(1024, 1024));
	ir_nid n = ct_node(g, "Relu", "relu", &x, 1);
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "relu");
	double bytes = 1024.0 * 1024 * 2;
	cr_assert_eq(o->cube, 0);
	cr_assert_eq(o->bytes_in, (int64_t)bytes);
	cr_assert_eq(o->mte2, (int64_t)(bytes / 128), "read at the L2 rate");
	cr_assert_eq(o->mte3, (int64_t)(bytes / 64), "written at the L2 write rate");
	cr_assert_eq(o->bound, SIM_BOUND_MEMORY);
	cr_assert_geq(o->cycles, o->mte3 + o->launch);
	cr_assert_lt(o->cycles, (o->mte3 + o->launch) * 11 / 10);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(vector, views_shape_ops_and_folded_constants_are_free)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(64, 64));
	int64_t flat[1] = {4096};
	ir_str sn = ir_intern_cstr(g, "shape");
	ir_val shape = ir_const_new(g, sn, ir_tensor_new(g, sn, IR_I64, 1, CT_DIMS(1), flat, sizeof flat));
	ir_nid r = ct_node(g, "Reshape", "reshape", (ir_val[]){x, shape}, 2);
	ir_nid s = ct_node(g, "Shape", "shape_of", (ir_val[]){ct_out(g, r)}, 1);
	ir_nid cast = ct_node(g, "Cast", "cast_shape", (ir_val[]){ct_out(g, s)}, 1);
	ir_attr_set_int(g, cast, "to", IR_I32);
	ir_nid relu = ct_node(g, "Relu", "relu", (ir_val[]){ct_out(g, r)}, 1);
	ir_graph_add_output(g, ct_out(g, cast));
	ct_finish(g, ct_out(g, relu));
	sim_cost c = ct_cost(g, &hw);
	cr_assert_eq(ct_op(g, &c, "reshape")->cycles, 0);
	cr_assert_eq(ct_op(g, &c, "shape_of")->cycles, 0);
	cr_assert_eq(ct_op(g, &c, "cast_shape")->cycles, 0, "computed from a shape: folded");
	cr_assert_gt(ct_op(g, &c, "relu")->cycles, 0);
	cr_assert_eq(c.total_cycles, ct_op(g, &c, "relu")->cycles);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(vector, an_opaque_op_is_one_generic_vector_pass)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(128, 128));
	ir_nid n = ct_node_in(g, "com.example", "Frob", "frob", &x, 1);
	ir_value_at(g, ct_out(g, n))->type = ir_type_tensor(g, IR_F16, 2, CT_DIMS(128, 128));
	ct_finish(g, ct_out(g, n));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *o = ct_op(g, &c, "frob");
	cr_assert(o->generic && o->costed);
	cr_assert_float_eq((double)o->vector, sim_vector_pass(&hw, 128.0 * 128 * 2), 1.0);
	sim_cost_free(&c);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- residency */

Test(residency, greedy_over_live_ranges)
{
	sim_hw hw = ct_hw("ascend310");
	hw.mem.l2 = 3 << 20; /* room for three 1 MiB tensors */
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(512, 1024)); /* 1 MiB, live to the end */
	ir_nid a = ct_node(g, "Relu", "a", &x, 1);                   /* 1 MiB, live to b */
	ir_nid b = ct_node(g, "Relu", "b", (ir_val[]){ct_out(g, a)}, 1);
	ir_nid big = ct_node(g, "Concat", "big", (ir_val[]){ct_out(g, b), ct_out(g, b)}, 2); /* 2 MiB */
	ir_attr_set_int(g, big, "axis", 0);
	ir_nid y = ct_node(g, "Add", "y", (ir_val[]){x, x}, 2);
	ir_graph_add_output(g, ct_out(g, big));
	ct_finish(g, ct_out(g, y));
	sim_cost c = ct_cost(g, &hw);
	cr_assert_eq(c.where[x], SIM_MEM_L2);
	cr_assert_eq(c.where[ct_out(g, a)], SIM_MEM_L2);
	cr_assert_eq(c.where[ct_out(g, b)], SIM_MEM_L2, "x, a and b fill L2 exactly");
	cr_assert_eq(c.where[ct_out(g, big)], SIM_MEM_DDR, "x and b are live: 2 MiB does not fit in the 1 left");
	cr_assert_eq(c.where[ct_out(g, y)], SIM_MEM_L2, "b died at big; y fits");
	cr_assert_eq(ct_op(g, &c, "big")->out_mem, SIM_MEM_DDR);
	cr_assert_eq(ct_op(g, &c, "big")->mte3, (int64_t)((2 << 20) / hw.bw.ddr_write), "written at the DDR rate");
	cr_assert_leq(c.l2_peak, hw.mem.l2);
	sim_cost_free(&c);
	ir_graph_free(g);
}

Test(residency, a_view_lives_where_its_operand_lives)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(64, 64));
	ir_nid f = ct_node(g, "Flatten", "flat", &x, 1);
	ir_nid r = ct_node(g, "Relu", "relu", (ir_val[]){ct_out(g, f)}, 1);
	ct_finish(g, ct_out(g, r));
	sim_cost c = ct_cost(g, &hw);
	cr_assert_eq(c.where[ct_out(g, f)], c.where[x]);
	sim_cost_free(&c);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- fusion */

Test(fusion, a_call_keeps_its_intermediates_on_chip)
{
	sim_hw hw = ct_hw("ascend310");
	ir_graph *g = ct_graph();
	ir_graph_add_opset(g, "graft", 1);
	ct_func(g, "func graft::AddRelu(%a, %b) -> (%y) opset{\"\"=13} {\n  %s = Add(%a, %b)\n  %y = Relu(%s)\n}\n");
	ir_val x = ct_input(g, "x", IR_F16, 2, CT_DIMS(256, 256));
	ir_val y = ct_input(g, "y", IR_F16, 2, CT_DIMS(256, 256));
	ir_nid add = ct_node(g, "Add", "add", (ir_val[]){x, y}, 2);
	ir_nid relu = ct_node(g, "Relu", "relu", (ir_val[]){ct_out(g, add)}, 1);
	ir_nid fused = ct_node_in(g, "graft", "AddRelu", "fused", (ir_val[]){x, y}, 2);
	ir_graph_add_output(g, ct_out(g, relu));
	ct_finish(g, ct_out(g, fused));
	sim_cost c = ct_cost(g, &hw);
	const sim_op_cost *a = ct_op(g, &c, "add"), *r = ct_op(g, &c, "relu"), *f = ct_op(g, &c, "fused");
	cr_assert(f->fused);
	int64_t inter = 256 * 256 * 2;
	cr_assert_eq(a->bytes_in + a->bytes_out + r->bytes_in + r->bytes_out - (f->bytes_in + f->bytes_out),
		     2 * inter, "the intermediate's write and read-back are saved");
	cr_assert_lt(f->cycles + a->launch, a->cycles + r->cycles, "one launch and the traffic saved");
	cr_assert_geq(f->vector, 2 * inter / 256, "two passes on chip");
	cr_assert_leq(f->vector, 2 * inter / 256 * 11 / 10);
	sim_cost_free(&c);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- a real model */

Test(model, resnet18_report_is_plausible_against_the_physical_floor)
{
	char path[512];
	snprintf(path, sizeof path, "%s/models/resnet18/model.onnx", GRAFT_SHARED_DIR);
	if (access(path, R_OK) != 0)
		cr_skip_test("%s is absent", path);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_load(path, &d);
	cr_assert_not_null(g);
	cr_assert_eq(ir_infer(g, &d, path), 0);
	sim_hw hw = ct_hw("ascend310");
	sim_cost c;
	cr_assert(sim_cost_graph(g, &hw, path, &c, &d));
	ir_stats s = ir_graph_stats(g);
	cr_assert_eq(c.uncosted, 0);
	cr_assert_eq(c.macs, s.macs, "the report's MACs are graft info's");
	cr_assert_float_eq(c.floor, (double)s.macs / 4096, 1e-3);
	cr_assert_geq((double)c.total_cycles, (double)s.macs / 4096, "never below MACs/4096 on one core");
	cr_assert_lt((double)c.total_cycles, 4.0 * c.floor, "and not absurdly above it");
	for (size_t i = 0; i < c.nops; i++) {
		const sim_op_cost *o = &c.ops[i];
		if (o->macs == 0)
			continue;
		cr_assert_geq((double)o->cycles, o->floor, "every cube op is at or above its own floor");
		cr_assert_geq(o->cube, (o->padded_macs + 4095) / 4096);
		const char *name = ir_cstr(g, ir_node_at(g, o->node)->name);
		if (!strcmp(name, "/conv1/Conv")) {
			cr_assert_float_eq((double)o->padded_macs / (double)o->macs, 784.0 / 147, 1e-9,
					   "Cin = 3 pads to 16: 5.3x");
			cr_assert_gt(o->cycles / o->floor, 5.0);
		}
	}
	sim_cost_free(&c);
	ir_graph_free(g);
	ir_diags_free(&d);
}

/* ---------------------------------------------------------------- graft sim */

/* Runs the graft binary; returns its exit status, stdout in out. */
static int graft(const char *args, char *out, size_t cap)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", GRAFT_BINARY, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *resnet18_or_skip(char *path, size_t cap)
{
	snprintf(path, cap, "%s/models/resnet18", GRAFT_SHARED_DIR);
	char model[600];
	snprintf(model, sizeof model, "%s/model.onnx", path);
	if (access(model, R_OK) != 0)
		cr_skip_test("%s is absent", model);
	return path;
}

Test(cli, sim_prints_the_table_and_writes_outputs)
{
	static char out[1 << 16];
	char dir[512], args[2048], tmp[] = "/tmp/graft_sim_XXXXXX";
	resnet18_or_skip(dir, sizeof dir);
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(args, sizeof args, "sim %s/model.onnx --inputs %s/test_data_set_0 -o %s --top 5", dir, dir, tmp);
	cr_assert_eq(graft(args, out, sizeof out), 0);
	cr_assert_not_null(strstr(out, "/conv1/Conv"), "the costliest op is listed");
	cr_assert_not_null(strstr(out, "x floor"));
	cr_assert_not_null(strstr(out, "total: "));
	cr_assert_not_null(strstr(out, "output output f32[1,1000]"));
	char pb[600];
	snprintf(pb, sizeof pb, "%s/output_0.pb", tmp);
	sim_tensor got, want;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_pb_read(pb, &got, &d), SIM_OK);
	snprintf(pb, sizeof pb, "%s/test_data_set_0/output_0.pb", dir);
	cr_assert_eq(sim_pb_read(pb, &want, &d), SIM_OK);
	sim_cmp r;
	cr_assert(sim_compare(&got, &want, 1e-4, &r), "the written output is the model's (max rel %g)", r.max_rel);
	sim_tensor_free(&got);
	sim_tensor_free(&want);
	ir_diags_free(&d);
	snprintf(pb, sizeof pb, "%s/output_0.pb", tmp);
	unlink(pb);
	rmdir(tmp);
}

Test(cli, sim_json_has_totals_ops_and_outputs)
{
	static char out[1 << 20];
	char dir[512], args[1024];
	resnet18_or_skip(dir, sizeof dir);
	snprintf(args, sizeof args, "sim %s/model.onnx --json --no-run --top 3", dir);
	cr_assert_eq(graft(args, out, sizeof out), 0);
	cr_assert_eq(out[0], '{');
	const char *keys[] = {"\"total_cycles\":", "\"ops\":[{\"name\":\"/conv1/Conv\",\"op\":\"Conv\",\"cycles\":",
			      "\"macs\":", "\"cube_util\":", "\"bound\":\"cube\"", "\"x_floor\":",
			      "\"outputs\":[{\"name\":\"output\",\"shape\":[1,1000]", "\"weights\":\"L2\""};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cr_assert_not_null(strstr(out, keys[i]), "has %s", keys[i]);
	size_t ops = 0;
	for (const char *p = out; (p = strstr(p, "\"costed\":")); p++)
		ops++;
	cr_assert_eq(ops, 3, "--top 3 lists three ops");
}

Test(cli, sim_reports_bad_arguments_and_hardware)
{
	static char out[1 << 12];
	char args[1024];
	cr_assert_eq(graft("sim --help", out, sizeof out), 0);
	cr_assert_not_null(strstr(out, "usage: graft sim MODEL"));
	cr_assert_eq(graft("sim", out, sizeof out), 2);
	cr_assert_eq(graft("sim m.onnx --mode fp64", out, sizeof out), 2);
	cr_assert_eq(graft("sim m.onnx --frob", out, sizeof out), 2);
	snprintf(args, sizeof args, "sim %s/models/resnet18/model.onnx --hw nonesuch", GRAFT_SHARED_DIR);
	cr_assert_eq(graft(args, out, sizeof out), 2);
}
