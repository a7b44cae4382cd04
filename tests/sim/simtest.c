/* Helpers shared by the simulator tests. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simtest.h"

ir_val st_const(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const void *data)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	ir_str s = name ? ir_intern_cstr(g, name) : 0;
	ir_tid t = ir_tensor_new(g, s, dt, rank, dims, data, (size_t)n * ir_dtype_size(dt));
	return ir_const_new(g, s, t);
}

ir_val st_f32(ir_graph *g, int rank, const int64_t *dims, const float *data)
{
	return st_const(g, NULL, IR_F32, rank, dims, data);
}

ir_val st_i64(ir_graph *g, int rank, const int64_t *dims, const int64_t *data)
{
	return st_const(g, NULL, IR_I64, rank, dims, data);
}

ir_val st_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims)
{
	return ir_input_new(g, ir_intern_cstr(g, name), ir_type_tensor(g, dt, rank, dims), 0);
}

ir_nid st_node(ir_graph *g, const char *op, const ir_val *ins, uint32_t nin, uint32_t nout)
{
	ir_nid n = ir_node_new(g, NULL, op, ins, nin, nout, 0);
	cr_assert_neq(n, 0);
	return n;
}

static sim_status eval(ir_graph *g, ir_nid n, sim_mode mode, sim_tensor *out, ir_diags *d)
{
	uint32_t nin = ir_node_at(g, n)->nin, nout = ir_node_at(g, n)->nout;
	sim_tensor views[16];
	const sim_tensor *in[16];
	cr_assert_leq(nin, 16);
	for (uint32_t i = 0; i < nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		in[i] = NULL;
		if (v) {
			cr_assert(sim_tensor_view(g, ir_value_at(g, v)->tensor, &views[i]));
			in[i] = &views[i];
		}
	}
	sim_opts o = {mode, "test"};
	return sim_eval_node(g, n, &o, in, nin, out, nout, d);
}

sim_tensor *st_eval(ir_graph *g, ir_nid n, sim_mode mode)
{
	uint32_t nout = ir_node_at(g, n)->nout;
	sim_tensor *out = calloc(nout, sizeof *out);
	ir_diags d;
	ir_diags_init(&d);
	sim_status st = eval(g, n, mode, out, &d);
	if (st != SIM_OK)
		ir_diags_print(&d, stderr);
	cr_assert_eq(st, SIM_OK, "evaluation failed");
	ir_diags_free(&d);
	return out;
}

sim_status st_try(ir_graph *g, ir_nid n, ir_diags *d)
{
	uint32_t nout = ir_node_at(g, n)->nout;
	sim_tensor *out = calloc(nout, sizeof *out);
	sim_status st = eval(g, n, SIM_FP32, out, d);
	sim_tensors_free(out, nout);
	return st;
}

void st_check_shape(const sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims)
{
	cr_assert_eq(t->dtype, dt, "dtype %s, expected %s", ir_dtype_name(t->dtype), ir_dtype_name(dt));
	cr_assert_eq(t->rank, rank, "rank %d, expected %d", t->rank, rank);
	for (int i = 0; i < rank; i++)
		cr_assert_eq(t->dims[i], dims[i], "dim %d is %lld, expected %lld", i, (long long)t->dims[i],
			     (long long)dims[i]);
}

void st_check_f32(const sim_tensor *t, int rank, const int64_t *dims, const float *want, double tol)
{
	st_check_shape(t, IR_F32, rank, dims);
	const float *got = t->data;
	for (size_t i = 0; i < sim_numel(t); i++) {
		if (isnan(want[i])) {
			cr_assert(isnan(got[i]), "element %zu: %g, expected NaN", i, got[i]);
			continue;
		}
		cr_assert(fabs((double)got[i] - want[i]) <= tol || got[i] == want[i],
			  "element %zu: %.9g, expected %.9g", i, got[i], want[i]);
	}
}

void st_check_ints(const sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims, const int64_t *want)
{
	st_check_shape(t, dt, rank, dims);
	for (size_t i = 0; i < sim_numel(t); i++) {
		int64_t v = dt == IR_I64 ? ((const int64_t *)t->data)[i] : (int64_t)sim_get_f64(t, i);
		cr_assert_eq(v, want[i], "element %zu: %lld, expected %lld", i, (long long)v, (long long)want[i]);
	}
}

sim_tensor st_tensor(ir_dtype dt, int rank, const int64_t *dims, const void *data)
{
	sim_tensor t;
	cr_assert(sim_tensor_alloc(&t, dt, rank, dims));
	if (data)
		memcpy(t.data, data, sim_nbytes(&t));
	return t;
}

void st_fill_random(float *x, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t s = *state;
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		*state = s;
		x[i] = (float)((double)(s >> 40) / (double)(1 << 23) - 1.0);
	}
}
