/* Whole-graph execution (input binding, outputs, errors), TensorProto
 * files, seeded random inputs and comparison. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "simtest.h"

/* y = Relu(x * w + b); z = Add(y, y); outputs (z, y). */
static ir_graph *small_graph(void)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_input(g, "x", IR_F32, 2, DIMS(1, 3));
	ir_val w = st_const(g, "w", IR_F32, 1, DIMS(3), F32S(1, -1, 2));
	ir_tid bt = ir_tensor_new(g, ir_intern_cstr(g, "b"), IR_F32, 0, NULL, F32S(0.5f), 4);
	ir_val b = ir_input_new(g, ir_intern_cstr(g, "b"), ir_type_tensor(g, IR_F32, 0, NULL), bt);
	ir_nid mul = st_node(g, "Mul", (ir_val[]){x, w}, 2, 1);
	ir_nid add = st_node(g, "Add", (ir_val[]){ir_node_output(g, mul, 0), b}, 2, 1);
	ir_nid relu = st_node(g, "Relu", (ir_val[]){ir_node_output(g, add, 0)}, 1, 1);
	ir_val y = ir_node_output(g, relu, 0);
	ir_nid twice = st_node(g, "Add", (ir_val[]){y, y}, 2, 1);
	ir_value_at(g, y)->name = ir_intern_cstr(g, "y");
	ir_value_at(g, ir_node_output(g, twice, 0))->name = ir_intern_cstr(g, "z");
	ir_node_at(g, twice)->name = ir_intern_cstr(g, "twice");
	ir_graph_add_output(g, ir_node_output(g, twice, 0));
	ir_graph_add_output(g, y);
	return g;
}

Test(exec, runs_a_graph_and_names_outputs)
{
	ir_graph *g = small_graph();
	sim_tensor x = st_tensor(IR_F32, 2, DIMS(1, 3), F32S(1, 2, 3));
	sim_tensor *out;
	size_t n;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_run(g, NULL, &x, 1, &out, &n, &d), SIM_OK);
	cr_assert_eq(n, 2);
	st_check_f32(&out[0], 2, DIMS(1, 3), F32S(3, 0, 13), 0);
	st_check_f32(&out[1], 2, DIMS(1, 3), F32S(1.5f, 0, 6.5f), 0);
	cr_assert_str_eq(out[0].name, "z");
	cr_assert_str_eq(out[1].name, "y");
	sim_tensors_free(out, n);
	/* binding by name, overriding the initializer of b */
	sim_tensor in[2] = {st_tensor(IR_F32, 0, NULL, F32S(-10)), x};
	sim_tensor_set_name(&in[0], "b");
	sim_tensor_set_name(&in[1], "x");
	cr_assert_eq(sim_run(g, NULL, in, 2, &out, &n, &d), SIM_OK);
	st_check_f32(&out[1], 2, DIMS(1, 3), F32S(0, 0, 0), 0);
	sim_tensors_free(out, n);
	/* by position over all inputs */
	sim_tensor_free(&in[0]);
	sim_tensor_set_name(&in[1], NULL);
	in[0] = in[1];
	in[1] = st_tensor(IR_F32, 0, NULL, F32S(1));
	cr_assert_eq(sim_run(g, NULL, in, 2, &out, &n, &d), SIM_OK);
	st_check_f32(&out[1], 2, DIMS(1, 3), F32S(2, 0, 7), 0);
	sim_tensors_free(out, n);
	cr_assert_eq(d.nerrors, 0);
	sim_tensor_free(&in[0]);
	sim_tensor_free(&in[1]);
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* Peak bytes of running g on x in mode m, results checked by the caller. */
static size_t peak_of(ir_graph *g, sim_mode m, const sim_tensor *x, size_t nx, sim_tensor **out, size_t *n)
{
	ir_diags d;
	ir_diags_init(&d);
	sim_stats stats;
	sim_opts o = {m, "peak"};
	cr_assert_eq(sim_run_stats(g, &o, x, nx, out, n, &stats, &d), SIM_OK);
	cr_assert_eq(d.nerrors, 0);
	ir_diags_free(&d);
	return stats.peak_bytes;
}

Test(exec, intermediates_are_freed_after_their_last_use)
{
	ir_graph *g = ir_graph_new();
	ir_val v = st_input(g, "x", IR_F32, 1, DIMS(1000));
	for (int i = 0; i < 10; i++)
		v = ir_node_output(g, st_node(g, i % 2 ? "LeakyRelu" : "Neg", (ir_val[]){v}, 1, 1), 0);
	ir_val shape = st_const(g, "s", IR_I64, 1, DIMS(2), I64S(10, 100));
	v = ir_node_output(g, st_node(g, "Reshape", (ir_val[]){v, shape}, 2, 1), 0);
	ir_graph_add_output(g, v);
	float xs[1000];
	for (int i = 0; i < 1000; i++)
		xs[i] = (float)(i % 7) - 3;
	sim_tensor x = st_tensor(IR_F32, 1, DIMS(1000), xs);
	sim_tensor *out;
	size_t n;
	/* fp32: the first Neg reads the bound input, the rest compute in place,
	 * the Reshape moves */
	cr_assert_eq(peak_of(g, SIM_FP32, &x, 1, &out, &n), 1000 * sizeof(float));
	for (int i = 0; i < 1000; i++) {
		float want = xs[i];
		for (int j = 0; j < 10; j++)
			want = j % 2 ? (want < 0 ? 0.01f * want : want) : -want;
		cr_assert_eq(((float *)out[0].data)[i], want);
	}
	cr_assert(out[0].data != x.data);
	sim_tensors_free(out, n);
	/* fp16 rounds after each kernel: no sharing, one node's operand and result */
	cr_assert_eq(peak_of(g, SIM_FP16, &x, 1, &out, &n), 2 * 1000 * sizeof(float));
	sim_tensors_free(out, n);
	sim_tensor_free(&x);
	ir_graph_free(g);
}

/* Reshapes of constants are views, of dying intermediates moves; values
 * still read later, and graph outputs, are never overwritten. */
Test(exec, buffers_are_handed_on_only_when_safe)
{
	ir_graph *g = ir_graph_new();
	float ws[1000];
	for (int i = 0; i < 1000; i++)
		ws[i] = (float)i;
	ir_val x = st_input(g, "x", IR_F32, 1, DIMS(1000));
	ir_val w = st_const(g, "w", IR_F32, 1, DIMS(1000), ws);
	ir_val shape = st_const(g, "s", IR_I64, 1, DIMS(2), I64S(10, 100));
	ir_val wv = ir_node_output(g, st_node(g, "Identity", (ir_val[]){w}, 1, 1), 0);
	ir_val a = ir_node_output(g, st_node(g, "Add", (ir_val[]){x, wv}, 2, 1), 0);   /* x + w */
	ir_val neg = ir_node_output(g, st_node(g, "Neg", (ir_val[]){a}, 1, 1), 0);     /* a still read */
	ir_val sum = ir_node_output(g, st_node(g, "Add", (ir_val[]){a, a}, 2, 1), 0);  /* 2a, in place */
	ir_val r = ir_node_output(g, st_node(g, "Reshape", (ir_val[]){sum, shape}, 2, 1), 0);
	ir_val twice = ir_node_output(g, st_node(g, "Add", (ir_val[]){neg, neg}, 2, 1), 0);
	ir_graph_add_output(g, neg);
	ir_graph_add_output(g, r);
	ir_graph_add_output(g, twice);
	sim_tensor in = st_tensor(IR_F32, 1, DIMS(1000), NULL);
	for (int i = 0; i < 1000; i++)
		((float *)in.data)[i] = 1;
	sim_tensor *out;
	size_t n;
	/* live at most: a, neg and 2a (the Identity views w, the Reshape moves 2a) */
	cr_assert_eq(peak_of(g, SIM_FP32, &in, 1, &out, &n), 3 * 1000 * sizeof(float));
	cr_assert_eq(n, 3);
	st_check_shape(&out[1], IR_F32, 2, DIMS(10, 100));
	for (int i = 0; i < 1000; i++) {
		float ai = 1 + ws[i];
		cr_assert_eq(((float *)out[0].data)[i], -ai);
		cr_assert_eq(((float *)out[1].data)[i], 2 * ai);
		cr_assert_eq(((float *)out[2].data)[i], -2 * ai);
	}
	for (size_t i = 0; i < n; i++)
		cr_assert(out[i].owned && out[i].data != in.data);
	sim_tensors_free(out, n);
	/* the constant is intact */
	sim_tensor c;
	cr_assert(sim_tensor_view(g, ir_value_at(g, w)->tensor, &c));
	cr_assert_eq(memcmp(c.data, ws, sizeof ws), 0);
	sim_tensor_free(&in);
	ir_graph_free(g);
}

/* An output that is just a view of a constant or input is copied out. */
Test(exec, viewed_outputs_are_copies)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_input(g, "x", IR_F32, 1, DIMS(3));
	ir_val w = st_const(g, "w", IR_F32, 1, DIMS(3), F32S(1, 2, 3));
	ir_graph_add_output(g, ir_node_output(g, st_node(g, "Identity", (ir_val[]){x}, 1, 1), 0));
	ir_graph_add_output(g, ir_node_output(g, st_node(g, "Flatten", (ir_val[]){w}, 1, 1), 0));
	sim_tensor in = st_tensor(IR_F32, 1, DIMS(3), F32S(4, 5, 6));
	sim_tensor *out;
	size_t n;
	cr_assert_eq(peak_of(g, SIM_FP32, &in, 1, &out, &n), 0);
	st_check_f32(&out[0], 1, DIMS(3), F32S(4, 5, 6), 0);
	st_check_f32(&out[1], 2, DIMS(3, 1), F32S(1, 2, 3), 0);
	cr_assert(out[0].owned && out[0].data != in.data);
	cr_assert(out[1].owned);
	sim_tensors_free(out, n);
	sim_tensor_free(&in);
	ir_graph_free(g);
}

Test(exec, input_errors)
{
	ir_graph *g = small_graph();
	sim_tensor bad = st_tensor(IR_F32, 2, DIMS(1, 4), NULL);
	sim_tensor *out;
	size_t n;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_run(g, NULL, &bad, 1, &out, &n, &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "graph input 'x' expects f32[1,3], got f32[1,4]"));
	cr_assert_eq(sim_run(g, NULL, NULL, 0, &out, &n, &d), SIM_EINVAL);
	cr_assert(ir_diags_contains(&d, "got 0"));
	sim_tensor three[3] = {bad, bad, bad};
	cr_assert_eq(sim_run(g, NULL, three, 3, &out, &n, &d), SIM_EINVAL);
	cr_assert_null(out);
	sim_tensor_free(&bad);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(exec, unsupported_op_names_node_and_op)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_input(g, "x", IR_F32, 1, DIMS(2));
	ir_nid n = st_node(g, "If", (ir_val[]){x}, 1, 1);
	ir_node_at(g, n)->name = ir_intern_cstr(g, "X");
	ir_graph_add_output(g, ir_node_output(g, n, 0));
	sim_tensor in = st_tensor(IR_F32, 1, DIMS(2), NULL);
	sim_tensor *out;
	size_t nout;
	ir_diags d;
	ir_diags_init(&d);
	sim_opts o = {SIM_FP32, "m.onnx"};
	cr_assert_eq(sim_run(g, &o, &in, 1, &out, &nout, &d), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&d, "node 'X' (If): op not supported by the simulator"));
	cr_assert_str_eq(d.v[0].file, "m.onnx");
	sim_tensor_free(&in);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(exec, training_outputs_in_inference_mode_are_refused)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_input(g, "x", IR_F32, 2, DIMS(1, 1));
	ir_val p = st_f32(g, 1, DIMS(1), F32S(1));
	ir_nid bn = st_node(g, "BatchNormalization", (ir_val[]){x, p, p, p, p}, 5, 2);
	ir_node_at(g, bn)->name = ir_intern_cstr(g, "bn");
	ir_graph_add_output(g, ir_node_output(g, bn, 1));
	sim_tensor in = st_tensor(IR_F32, 2, DIMS(1, 1), F32S(2));
	sim_tensor *out;
	size_t n;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_run(g, NULL, &in, 1, &out, &n, &d), SIM_UNSUPPORTED);
	cr_assert(ir_diags_contains(&d, "node 'bn' (BatchNormalization): result 1"));
	sim_tensor_free(&in);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(exec, outputs_can_be_inputs_and_constants)
{
	ir_graph *g = ir_graph_new();
	ir_val x = st_input(g, "x", IR_I64, 1, DIMS(2));
	ir_val c = st_const(g, "c", IR_I64, 1, DIMS(1), I64S(42));
	ir_graph_add_output(g, x);
	ir_graph_add_output(g, c);
	ir_graph_add_output(g, x);
	sim_tensor in = st_tensor(IR_I64, 1, DIMS(2), I64S(7, 8));
	sim_tensor *out;
	size_t n;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_run(g, NULL, &in, 1, &out, &n, &d), SIM_OK);
	cr_assert_eq(n, 3);
	st_check_ints(&out[0], IR_I64, 1, DIMS(2), I64S(7, 8));
	st_check_ints(&out[1], IR_I64, 1, DIMS(1), I64S(42));
	st_check_ints(&out[2], IR_I64, 1, DIMS(2), I64S(7, 8));
	cr_assert_neq(out[0].data, in.data);
	sim_tensors_free(out, n);
	sim_tensor_free(&in);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(exec, const_to_ir_round_trip)
{
	ir_graph *g = ir_graph_new();
	sim_tensor t = st_tensor(IR_I32, 2, DIMS(2, 2), (int32_t[]){1, 2, 3, 4});
	ir_tid tid = sim_tensor_to_ir(g, ir_intern_cstr(g, "t"), &t);
	sim_tensor v;
	cr_assert(sim_tensor_view(g, tid, &v));
	cr_assert(!v.owned);
	st_check_ints(&v, IR_I32, 2, DIMS(2, 2), I64S(1, 2, 3, 4));
	sim_tensor_free(&t);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- TensorProto files */

Test(pb, raw_data_round_trip_through_files)
{
	char dir[] = "/tmp/graft_simXXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	sim_tensor ts[3] = {
		st_tensor(IR_F32, 2, DIMS(2, 2), F32S(1, -2, 3.5f, 1e-30f)),
		st_tensor(IR_BOOL, 1, DIMS(3), (uint8_t[]){1, 0, 1}),
		st_tensor(IR_I64, 0, NULL, I64S(-5)),
	};
	sim_tensor_set_name(&ts[0], "x");
	ir_diags d;
	ir_diags_init(&d);
	char path[256];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/input_%d.pb", dir, i);
		cr_assert(sim_pb_write(path, &ts[i], &d));
	}
	sim_tensor *back;
	size_t n;
	cr_assert_eq(sim_pb_read_set(dir, "input", &back, &n, &d), SIM_OK);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		sim_cmp r;
		cr_assert(sim_compare(&back[i], &ts[i], 0, &r));
		cr_assert_eq(r.max_abs, 0);
	}
	cr_assert_str_eq(back[0].name, "x");
	cr_assert_null(back[1].name);
	sim_tensors_free(back, n);
	cr_assert_eq(sim_pb_read_set(dir, "output", &back, &n, &d), SIM_OK);
	cr_assert_eq(n, 0);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/input_%d.pb", dir, i);
		unlink(path);
		sim_tensor_free(&ts[i]);
	}
	rmdir(dir);
	ir_diags_free(&d);
}

/* Packs a TensorProto built by the caller and decodes it. */
static sim_tensor decode(Onnx__TensorProto *p, sim_status want)
{
	size_t n = onnx__tensor_proto__get_packed_size(p);
	uint8_t *buf = malloc(n + 1);
	onnx__tensor_proto__pack(p, buf);
	sim_tensor t;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_eq(sim_pb_decode(buf, n, &t, "t.pb", &d), want);
	ir_diags_free(&d);
	free(buf);
	return t;
}

Test(pb, typed_fields)
{
	int64_t dims[1] = {2};
	Onnx__TensorProto p = ONNX__TENSOR_PROTO__INIT;
	p.n_dims = 1;
	p.dims = dims;
	p.has_data_type = 1;
	p.data_type = IR_F32;
	p.n_float_data = 2;
	p.float_data = (float[]){0.5f, -1};
	sim_tensor t = decode(&p, SIM_OK);
	st_check_f32(&t, 1, dims, F32S(0.5f, -1), 0);
	sim_tensor_free(&t);

	Onnx__TensorProto q = ONNX__TENSOR_PROTO__INIT;
	q.n_dims = 1;
	q.dims = dims;
	q.has_data_type = 1;
	q.data_type = IR_F16;
	q.n_int32_data = 2;
	q.int32_data = (int32_t[]){0x3c00, 0xc000};
	t = decode(&q, SIM_OK);
	cr_assert_eq(sim_get_f64(&t, 0), 1.0);
	cr_assert_eq(sim_get_f64(&t, 1), -2.0);
	sim_tensor_free(&t);
	q.data_type = IR_I8;
	q.int32_data = (int32_t[]){-3, 100};
	t = decode(&q, SIM_OK);
	st_check_ints(&t, IR_I8, 1, dims, I64S(-3, 100));
	sim_tensor_free(&t);

	Onnx__TensorProto u = ONNX__TENSOR_PROTO__INIT;
	u.n_dims = 1;
	u.dims = dims;
	u.has_data_type = 1;
	u.data_type = IR_U32;
	u.n_uint64_data = 2;
	u.uint64_data = (uint64_t[]){7, 4000000000u};
	t = decode(&u, SIM_OK);
	st_check_ints(&t, IR_U32, 1, dims, I64S(7, 4000000000));
	sim_tensor_free(&t);
	u.n_uint64_data = 1; /* too few values */
	decode(&u, SIM_EINVAL);
	u.data_type = IR_STRING;
	decode(&u, SIM_UNSUPPORTED);
}

/* ---------------------------------------------------------------- random inputs, comparison */

Test(random, deterministic_typed_and_in_range)
{
	ir_graph *g = ir_graph_new();
	ir_dim dyn[2] = {{-1, ir_intern_cstr(g, "N")}, {64, 0}};
	ir_input_new(g, ir_intern_cstr(g, "f"), ir_type_tensor_dims(g, IR_F32, 2, dyn), 0);
	st_input(g, "i", IR_I64, 1, DIMS(100));
	st_input(g, "u", IR_U8, 1, DIMS(100));
	st_input(g, "h", IR_F16, 1, DIMS(10));
	ir_tid bt = ir_tensor_new(g, 0, IR_F32, 0, NULL, NULL, 4);
	ir_input_new(g, ir_intern_cstr(g, "with_init"), ir_type_tensor(g, IR_F32, 0, NULL), bt);
	ir_diags d;
	ir_diags_init(&d);
	sim_tensor *a, *b, *c;
	size_t na, nb, nc;
	cr_assert_eq(sim_random_inputs(g, 1, &a, &na, &d), SIM_OK);
	cr_assert_eq(sim_random_inputs(g, 1, &b, &nb, &d), SIM_OK);
	cr_assert_eq(sim_random_inputs(g, 2, &c, &nc, &d), SIM_OK);
	cr_assert_eq(na, 4);
	st_check_shape(&a[0], IR_F32, 2, DIMS(1, 64));
	cr_assert_str_eq(a[1].name, "i");
	for (size_t i = 0; i < na; i++)
		cr_assert_eq(memcmp(a[i].data, b[i].data, sim_nbytes(&a[i])), 0);
	cr_assert_neq(memcmp(a[0].data, c[0].data, sim_nbytes(&a[0])), 0);
	double lo = 1, hi = -1;
	for (size_t i = 0; i < 64; i++) {
		double v = sim_get_f64(&a[0], i);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	cr_assert(lo >= -1 && hi < 1 && hi - lo > 1.5);
	for (size_t i = 0; i < 100; i++) {
		cr_assert(sim_get_i64(&a[1], i) >= -8 && sim_get_i64(&a[1], i) < 8);
		cr_assert(sim_get_i64(&a[2], i) < 16);
	}
	sim_tensors_free(a, na);
	sim_tensors_free(b, nb);
	sim_tensors_free(c, nc);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(compare, tolerance_is_relative_to_the_scale)
{
	sim_tensor want = st_tensor(IR_F32, 1, DIMS(4), F32S(-10, 0, 10, INFINITY));
	sim_tensor got = st_tensor(IR_F32, 1, DIMS(4), F32S(-10, 0.0001f, 10, INFINITY));
	sim_cmp r;
	cr_assert(sim_compare(&got, &want, 1e-5, &r));
	cr_assert_float_eq(r.scale, 20, 1e-9);
	cr_assert(!sim_compare(&got, &want, 1e-6, &r));
	cr_assert_eq(r.mismatches, 1);
	((float *)got.data)[3] = 1e30f;
	cr_assert(!sim_compare(&got, &want, 1, &r));
	sim_tensor_free(&got);
	got = st_tensor(IR_F32, 1, DIMS(3), NULL);
	cr_assert(!sim_compare(&got, &want, 1, &r));
	cr_assert(!r.shape_ok);
	sim_tensor_free(&got);
	sim_tensor_free(&want);
	sim_tensor ia = st_tensor(IR_I64, 1, DIMS(2), I64S(1, 2)), ib = st_tensor(IR_I64, 1, DIMS(2), I64S(1, 3));
	cr_assert(!sim_compare(&ia, &ib, 1e9, &r));
	sim_tensor_free(&ia);
	sim_tensor_free(&ib);
}
