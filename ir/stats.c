/* Graph statistics shared by `graft info` and the simulator: MACs per node
 * and parameter totals. */
#include "ir.h"

static int64_t dim_or(const ir_graph *g, ir_val v, int i, int64_t dflt)
{
	const ir_value *x = ir_value_at(g, v);
	if (!x || x->type.kind != IR_TYPE_TENSOR || i >= x->type.rank || x->type.rank < 0)
		return dflt;
	int64_t d = ir_type_dims(g, x->type)[i].v;
	return d < 0 ? dflt : d;
}

static int64_t numel_of(const ir_graph *g, ir_val v)
{
	const ir_value *x = ir_value_at(g, v);
	return x ? ir_type_numel(g, x->type) : -1;
}

/* Conv: every output element takes (Cin/group)*prod(kernel) MACs. */
static int64_t conv_macs(const ir_graph *g, ir_nid n)
{
	ir_val w = ir_node_input(g, n, 1), y = ir_node_output(g, n, 0);
	int64_t out = numel_of(g, y), wn = numel_of(g, w), cout = dim_or(g, w, 0, -1);
	if (out < 0 || wn < 0 || cout <= 0)
		return -1;
	return out * (wn / cout);
}

/* MatMul/Gemm: output elements times the contracted dimension. */
static int64_t matmul_macs(const ir_graph *g, ir_nid n, bool gemm)
{
	ir_val a = ir_node_input(g, n, 0), y = ir_node_output(g, n, 0);
	const ir_value *av = ir_value_at(g, a);
	int64_t out = numel_of(g, y);
	if (out < 0 || !av || av->type.kind != IR_TYPE_TENSOR || av->type.rank < 1)
		return -1;
	int r = av->type.rank;
	int kdim = r - 1;
	if (gemm && ir_attr_int(g, n, "transA", 0))
		kdim = 0;
	int64_t k = dim_or(g, a, kdim, -1);
	return k < 0 ? -1 : out * k;
}

/* A call's: its body's, instantiated for the call and inferred. */
static int64_t call_macs(const ir_graph *g, ir_nid n)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *inst = ir_call_instance(g, n, &d, NULL);
	int64_t macs = inst && ir_infer(inst, &d, NULL) == 0 ? 0 : -1;
	for (ir_nid m = inst && macs == 0 ? ir_graph_first(inst) : 0; m; m = ir_node_at(inst, m)->next) {
		int64_t k = ir_node_macs(inst, m);
		macs = k < 0 ? -1 : macs + k;
		if (macs < 0)
			break;
	}
	ir_graph_free(inst);
	ir_diags_free(&d);
	return macs;
}

int64_t ir_node_macs(const ir_graph *g, ir_nid n)
{
	if (!ir_node_at(g, n)->opcode && ir_node_callee(g, n))
		return call_macs(g, n);
	switch (ir_node_at(g, n)->opcode) {
	case IR_OP_Conv:
		return conv_macs(g, n);
	case IR_OP_MatMul:
		return matmul_macs(g, n, false);
	case IR_OP_Gemm:
		return matmul_macs(g, n, true);
	default:
		return 0;
	}
}

ir_stats ir_graph_stats(const ir_graph *g)
{
	ir_stats s = {0};
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		const ir_value *v = ir_value_at(g, ir_graph_const_at(g, i));
		const ir_tensor *t = ir_tensor_at(g, v->tensor);
		s.params += ir_tensor_numel(g, v->tensor);
		s.param_bytes += (int64_t)t->nbytes;
	}
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		int64_t m = ir_node_macs(g, n);
		s.nodes++;
		if (m < 0)
			s.macs_unknown++;
		else
			s.macs += m;
		if (!ir_node_at(g, n)->opcode)
			s.opaque++;
	}
	return s;
}
