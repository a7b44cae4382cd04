/* Helpers shared by the cycle-model tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "costtest.h"

ir_graph *ct_graph(void)
{
	ir_graph *g = ir_graph_new();
	cr_assert_not_null(g);
	ir_graph_add_opset(g, "", 13);
	return g;
}

ir_val ct_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims)
{
	return ir_input_new(g, ir_intern_cstr(g, name), ir_type_tensor(g, dt, rank, dims), 0);
}

ir_val ct_weight(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	ir_str s = ir_intern_cstr(g, name);
	ir_tid t = ir_tensor_new(g, s, dt, rank, dims, NULL, (size_t)n * ir_dtype_size(dt));
	return ir_const_new(g, s, t);
}

ir_nid ct_node_in(ir_graph *g, const char *domain, const char *op, const char *name, const ir_val *ins,
		  uint32_t nin)
{
	ir_nid n = ir_node_new(g, domain, op, ins, nin, 1, 0);
	cr_assert_neq(n, 0);
	ir_node_at(g, n)->name = ir_intern_cstr(g, name);
	ir_value_at(g, ir_node_output(g, n, 0))->name = ir_intern_cstr(g, name);
	return n;
}

ir_nid ct_node(ir_graph *g, const char *op, const char *name, const ir_val *ins, uint32_t nin)
{
	return ct_node_in(g, NULL, op, name, ins, nin);
}

ir_val ct_out(ir_graph *g, ir_nid n)
{
	return ir_node_output(g, n, 0);
}

void ct_ints(ir_graph *g, ir_nid n, const char *attr, const int64_t *v, size_t cnt)
{
	ir_attr_set_ints(g, n, attr, v, (uint32_t)cnt);
}

ir_nid ct_conv(ir_graph *g, const char *name, ir_val x, ir_val w, ir_val b, int64_t s, int64_t dl, int64_t p,
	       int64_t grp)
{
	ir_val ins[3] = {x, w, b};
	ir_nid n = ct_node(g, "Conv", name, ins, b ? 3 : 2);
	ct_ints(g, n, "strides", CT_INTS(s, s));
	ct_ints(g, n, "dilations", CT_INTS(dl, dl));
	ct_ints(g, n, "pads", CT_INTS(p, p, p, p));
	ir_attr_set_int(g, n, "group", grp);
	return n;
}

void ct_func(ir_graph *g, const char *func_gir)
{
	char text[4096];
	snprintf(text, sizeof text, "graft 1\n%sgraph () -> () {\n}\n", func_gir);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *h = ir_parse(text, strlen(text), "func.gir", NULL, 0, &d);
	if (!h)
		ir_diags_print(&d, stderr);
	cr_assert_not_null(h, "the function parses");
	for (ir_fid f = 1; f <= ir_graph_nfuncs(h); f++)
		cr_assert(ir_func_copy(g, h, f));
	ir_graph_free(h);
	ir_diags_free(&d);
}

void ct_finish(ir_graph *g, ir_val out)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph_add_output(g, out);
	size_t errors = ir_infer(g, &d, "test");
	if (errors)
		ir_diags_print(&d, stderr);
	cr_assert_eq(errors, 0, "the test graph infers");
	ir_diags_free(&d);
}

sim_hw ct_hw(const char *name)
{
	sim_hw hw;
	ir_diags d;
	ir_diags_init(&d);
	bool ok = sim_hw_load(name, &hw, &d);
	if (!ok)
		ir_diags_print(&d, stderr);
	cr_assert(ok, "hardware %s loads", name);
	ir_diags_free(&d);
	return hw;
}

sim_cost ct_cost(const ir_graph *g, const sim_hw *hw)
{
	sim_cost c;
	ir_diags d;
	ir_diags_init(&d);
	cr_assert(sim_cost_graph(g, hw, "test", &c, &d));
	ir_diags_free(&d);
	return c;
}

const sim_op_cost *ct_op(const ir_graph *g, const sim_cost *c, const char *name)
{
	for (size_t i = 0; i < c->nops; i++)
		if (!strcmp(ir_cstr(g, ir_node_at(g, c->ops[i].node)->name), name))
			return &c->ops[i];
	cr_assert_fail("no op named %s", name);
	return NULL;
}
