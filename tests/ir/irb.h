/* Small graph-building helpers for the inference and verifier tests. */
#ifndef GRAFT_TESTS_IRB_H
#define GRAFT_TESTS_IRB_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ir.h"

/* A graph importing the default domain at `opset`. */
static inline ir_graph *irb_graph(int64_t opset)
{
	ir_graph *g = ir_graph_new();
	ir_graph_add_opset(g, "", opset);
	return g;
}

/* dims: -1 unknown; syms (may be NULL) names dims (dim_param). */
static inline ir_type irb_type(ir_graph *g, ir_dtype dt, int rank, const int64_t *dims,
			       const char *const *syms)
{
	ir_dim d[IR_MAX_RANK];
	for (int i = 0; i < rank; i++) {
		d[i].v = dims[i];
		d[i].sym = syms && syms[i] ? ir_intern_cstr(g, syms[i]) : 0;
	}
	return ir_type_tensor_dims(g, dt, rank, d);
}

static inline ir_val irb_input(ir_graph *g, const char *name, ir_dtype dt, int rank,
			       const int64_t *dims)
{
	return ir_input_new(g, ir_intern_cstr(g, name), irb_type(g, dt, rank, dims, NULL), 0);
}

static inline ir_val irb_input_sym(ir_graph *g, const char *name, ir_dtype dt, int rank,
				   const int64_t *dims, const char *const *syms)
{
	return ir_input_new(g, ir_intern_cstr(g, name), irb_type(g, dt, rank, dims, syms), 0);
}

/* A constant int64 tensor of the given shape. */
static inline ir_val irb_const_i64(ir_graph *g, const char *name, int rank, const int64_t *dims,
				   const int64_t *v)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	ir_tid t = ir_tensor_new(g, ir_intern_cstr(g, name), IR_I64, rank, dims, v,
				 (size_t)n * sizeof *v);
	return ir_const_new(g, ir_intern_cstr(g, name), t);
}

/* A 1-D int64 constant. */
static inline ir_val irb_ints(ir_graph *g, const char *name, int n, const int64_t *v)
{
	int64_t dims[1] = {n};
	return irb_const_i64(g, name, 1, dims, v);
}

static inline ir_val irb_scalar_i64(ir_graph *g, const char *name, int64_t v)
{
	return irb_const_i64(g, name, 0, NULL, &v);
}

static inline ir_val irb_scalar_f32(ir_graph *g, const char *name, float v)
{
	ir_tid t = ir_tensor_new(g, ir_intern_cstr(g, name), IR_F32, 0, NULL, &v, sizeof v);
	return ir_const_new(g, ir_intern_cstr(g, name), t);
}

/* A node named `name` (may be NULL); its results get names name.0, name.1, ... */
static inline ir_nid irb_node(ir_graph *g, const char *name, const char *op, const ir_val *ins,
			      uint32_t nin, uint32_t nout)
{
	ir_nid n = ir_node_new(g, NULL, op, ins, nin, nout, 0);
	cr_assert(n, "ir_node_new(%s) failed", op);
	if (name) {
		ir_str s = ir_intern_cstr(g, name);
		ir_node_at(g, n)->name = s;
		for (uint32_t i = 0; i < nout; i++) {
			char buf[128];
			snprintf(buf, sizeof buf, nout == 1 ? "%s" : "%s.%u", name, (unsigned)i);
			ir_str vs = ir_intern_cstr(g, buf);
			ir_value_at(g, ir_node_output(g, n, i))->name = vs;
		}
	}
	return n;
}

static inline ir_val irb_out(const ir_graph *g, ir_nid n)
{
	return ir_node_output(g, n, 0);
}

static inline void irb_type_str(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	ir_type_format(g, ir_value_at(g, v)->type, buf, cap);
}

/* Asserts v's type prints as `want`. */
#define irb_expect(g, v, want)                                                                     \
	do {                                                                                       \
		char buf_[256];                                                                    \
		irb_type_str((g), (v), buf_, sizeof buf_);                                         \
		cr_expect_str_eq(buf_, (want), "type of value %u", (unsigned)(v));                \
	} while (0)

static inline void irb_log_diags(const ir_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		cr_log_info("diag: %s", d->v[i].msg);
}

/* Runs ir_infer expecting no error. */
static inline void irb_infer_ok(ir_graph *g)
{
	ir_diags d;
	ir_diags_init(&d);
	size_t n = ir_infer(g, &d, "test");
	if (n)
		irb_log_diags(&d);
	cr_expect_eq(n, 0, "ir_infer reported %zu errors (first: %s)", n, d.n ? d.v[0].msg : "");
	ir_diags_free(&d);
}

/* Runs ir_infer expecting errors, one of them containing needle. */
static inline void irb_infer_err(ir_graph *g, const char *needle)
{
	ir_diags d;
	ir_diags_init(&d);
	size_t n = ir_infer(g, &d, "test");
	cr_expect_gt(n, 0, "ir_infer reported no error (wanted '%s')", needle);
	if (!ir_diags_contains(&d, needle))
		irb_log_diags(&d);
	cr_expect(ir_diags_contains(&d, needle), "no diagnostic contains '%s'", needle);
	ir_diags_free(&d);
}

#endif
