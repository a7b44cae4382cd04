/* Vector ops: elementwise arithmetic, normalisation, reductions, pooling
 * and data movement.  Data streams through the Unified Buffer in chunks:
 * MTE2 brings operands in, the vector unit makes its passes, MTE3 writes
 * the result back; the three overlap when double buffering.  The cube is
 * idle.  docs/simulator.md derives the formulas. */
#include <math.h>
#include <string.h>

#include "cost_internal.h"

typedef struct vwork {
	double read;   /* global bytes read */
	double mte2;   /* cycles to read them, each at its residency's rate */
	double write;  /* global bytes written */
	double mte3;
	double work;   /* bytes the vector unit processes, passes included */
} vwork;

static bool read_operand(const sim_cctx *c, ir_val v, double bytes, vwork *w)
{
	if (bytes < 0)
		return false;
	w->read += sim_global_bytes(c, v, bytes);
	w->mte2 += bytes / sim_read_bw(c->hw, sim_value_mem(c, v));
	return true;
}

/* Reads every operand whole; for Slice and Gather only what the result
 * takes from operand 0 (the result's size). */
static bool read_operands(const sim_cctx *c, ir_nid n, uint16_t opcode, double out0, vwork *w)
{
	const ir_node *nd = ir_node_at(c->g, n);
	for (uint32_t i = 0; i < nd->nin; i++) {
		ir_val v = ir_node_input(c->g, n, i);
		if (!v)
			continue;
		bool partial = i == 0 && (opcode == IR_OP_Slice || opcode == IR_OP_Gather);
		if (!read_operand(c, v, partial ? out0 : (double)sim_value_bytes(c, v), w))
			return false;
	}
	return true;
}

static bool write_results(const sim_cctx *c, ir_nid n, vwork *w)
{
	const ir_node *nd = ir_node_at(c->g, n);
	for (uint32_t i = 0; i < nd->nout; i++) {
		ir_val v = ir_node_output(c->g, n, i);
		int64_t b = sim_value_bytes(c, v);
		if (b < 0)
			return false;
		if (!ir_value_at(c->g, v)->nuses && !ir_value_is_output(c->g, v) && i > 0)
			continue; /* an optional result nobody reads is not produced */
		w->write += sim_global_bytes(c, v, (double)b);
		w->mte3 += (double)b / sim_write_bw(c->hw, sim_value_mem(c, v));
	}
	return true;
}

static double largest_operand(const sim_cctx *c, ir_nid n)
{
	const ir_node *nd = ir_node_at(c->g, n);
	double m = (double)sim_value_bytes(c, ir_node_output(c->g, n, 0));
	for (uint32_t i = 0; i < nd->nin; i++) {
		ir_val v = ir_node_input(c->g, n, i);
		double b = v ? (double)sim_value_bytes(c, v) : 0;
		m = b > m ? b : m;
	}
	return m;
}

/* Elements of operand 0 per result element (a reduction's fan-in). */
static double fan_in(const sim_cctx *c, ir_nid n)
{
	int64_t in = sim_value_numel(c->g, ir_node_input(c->g, n, 0));
	int64_t out = sim_value_numel(c->g, ir_node_output(c->g, n, 0));
	return out > 0 && in > out ? (double)in / (double)out : 1;
}

/* A k-element window costs k - 1 max/add instructions per result repeat
 * (average pooling one more, for the scale). */
static double pool_work(const sim_cctx *c, ir_nid n, uint16_t opcode, double out0)
{
	int64_t k[IR_MAX_RANK];
	int nk = ir_attr_ints_get(c->g, n, "kernel_shape", k, IR_MAX_RANK);
	double window = 1;
	for (int i = 0; i < nk; i++)
		window *= (double)k[i];
	if (opcode == IR_OP_GlobalAveragePool)
		window = fan_in(c, n);
	bool average = opcode != IR_OP_MaxPool;
	return (window - 1 + average) * out0;
}

/* Bytes the vector unit processes for one node. */
static double vector_work(const sim_cctx *c, ir_nid n, uint16_t opcode, int passes, double out0)
{
	if (passes > 0)
		return passes * largest_operand(c, n);
	switch (opcode) {
	case IR_OP_MaxPool:
	case IR_OP_AveragePool:
	case IR_OP_GlobalAveragePool:
		return pool_work(c, n, opcode, out0);
	case IR_OP_ReduceMean:
	case IR_OP_ReduceSum:
		return (fmax(fan_in(c, n) - 1, 1) + (opcode == IR_OP_ReduceMean)) * out0;
	case IR_OP_Softmax:
		return 6 * out0; /* max, subtract, exp, sum, reciprocal, multiply */
	case IR_OP_Transpose:
		return out0;
	case IR_OP_Concat:
	case IR_OP_Slice:
	case IR_OP_Pad:
	case IR_OP_Gather:
	case IR_OP_Expand:
		return 0; /* the transfer engines move the data */
	default:
		return (sim_vector_passes(opcode) ? sim_vector_passes(opcode) : 1) * largest_operand(c, n);
	}
}

bool sim_cost_vector(const sim_cctx *c, ir_nid n, uint16_t opcode, int passes, sim_op_cost *o)
{
	const sim_hw *hw = c->hw;
	vwork w = {0};
	double out0 = (double)sim_value_bytes(c, ir_node_output(c->g, n, 0));
	if (out0 < 0 || !read_operands(c, n, opcode, out0, &w) || !write_results(c, n, &w))
		return false;
	w.work = vector_work(c, n, opcode, passes, out0);
	double db = hw->double_buffer ? 2 : 1;
	double chunks = fmax(1, ceil(db * (w.read + w.write) / (double)hw->mem.ub));
	sim_pipe p = {.steps = chunks};
	p.q[SIM_Q_MTE2] = w.mte2 / chunks;
	p.q[SIM_Q_VEC] = sim_vector_pass(hw, w.work / chunks);
	p.q[SIM_Q_MTE3] = w.mte3 / chunks;
	o->bytes_in = (int64_t)w.read;
	o->bytes_out = (int64_t)w.write;
	sim_pipe_finish(c, &p, o);
	return true;
}
