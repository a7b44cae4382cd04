/* Calls of model-local functions (graft's fused ops) as one fused kernel.
 *
 * The body is instantiated for the call (ir_call_instance) with the call's
 * operand types and inferred.  Its values live where the call's operands
 * and results live; everything in between stays on chip, so its ops read
 * and write nothing through global memory.  Each body op is costed as on
 * its own (cube ops tiled, vector ops by passes); the kernel's queues are
 * the sums of the ops' busy cycles, pipelined over the most steps any op
 * takes, with the largest start-up latency and one launch.  See
 * docs/simulator.md, "Fusion". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cost_internal.h"

typedef struct fused {
	double busy[SIM_NQ];
	double steps, latency;
	bool tiled; /* the tile of the first cube op is reported */
} fused;

/* Inputs where the call's operands are, outputs where its results are (an
 * output the call does not take, or that nothing reads, stays on chip),
 * the body's Constant nodes in L2 (prefetched, like a graph's constants),
 * everything else on chip. */
static sim_mem *instance_residency(const sim_cctx *c, ir_nid n, const ir_graph *inst)
{
	size_t nv = ir_nvalues(inst) + 1;
	sim_mem *where = malloc(nv * sizeof *where);
	if (!where)
		return NULL;
	for (size_t v = 0; v < nv; v++)
		where[v] = SIM_MEM_ONCHIP;
	for (ir_nid m = ir_graph_first(inst); m; m = ir_node_at(inst, m)->next)
		if (ir_node_at(inst, m)->opcode == IR_OP_Constant)
			where[ir_node_output(inst, m, 0)] = SIM_MEM_L2;
	const ir_node *x = ir_node_at(c->g, n);
	size_t k = 0;
	for (uint32_t i = 0; i < x->nin && k < ir_graph_ninputs(inst); i++) {
		ir_val v = ir_node_input(c->g, n, i);
		if (v)
			where[ir_graph_input_at(inst, k++)] = sim_value_mem(c, v);
	}
	for (uint32_t j = 0; j < x->nout && j < ir_graph_noutputs(inst); j++) {
		ir_val v = ir_node_output(c->g, n, j), o = ir_graph_output_at(inst, j);
		bool read = ir_value_at(c->g, v)->nuses || ir_value_is_output(c->g, v);
		if (o && read && ir_value_at(inst, o)->def_kind == IR_DEF_NODE)
			where[o] = sim_value_mem(c, v);
	}
	return where;
}

static void add_pipe(fused *f, const sim_pipe *p)
{
	for (int q = 0; q < SIM_NQ; q++)
		f->busy[q] += p->steps * p->q[q];
	f->steps = fmax(f->steps, p->steps);
	f->latency = fmax(f->latency, p->latency);
}

static void add_op(fused *f, sim_op_cost *o, const sim_op_cost *b)
{
	o->macs += b->macs;
	o->padded_macs += b->padded_macs;
	o->floor += b->floor;
	o->operand_bytes += b->operand_bytes;
	o->bytes_in += b->bytes_in;
	o->bytes_out += b->bytes_out;
	if (!f->tiled && b->padded_macs) {
		memcpy(o->tile, b->tile, sizeof o->tile);
		f->tiled = true;
	}
}

/* Costs every op of the instance into f and o; false when one is not costed. */
static bool cost_body(const sim_cctx *c, const ir_graph *inst, const sim_residency *r, bool *known, fused *f,
		      sim_op_cost *o)
{
	sim_pipe last;
	sim_cctx ic = {inst, c->hw, r, c->file, c->d, &last};
	for (ir_nid m = ir_graph_first(inst); m; m = ir_node_at(inst, m)->next) {
		bool folded = sim_node_folded(inst, m, known);
		for (uint32_t i = 0; folded && i < ir_node_at(inst, m)->nout; i++)
			known[ir_node_output(inst, m, i)] = true;
		sim_op_cost b = {0};
		last.steps = 0;
		if (!sim_cost_node(&ic, m, folded, &b))
			return false;
		if (last.steps > 0)
			add_pipe(f, &last);
		add_op(f, o, &b);
	}
	return true;
}

static void finish(const sim_cctx *c, const fused *f, sim_op_cost *o)
{
	sim_pipe p = {.steps = f->steps > 0 ? f->steps : 1, .latency = f->latency};
	for (int q = 0; q < SIM_NQ; q++)
		p.q[q] = f->busy[q] / p.steps;
	o->fused = true;
	o->cube_util = o->padded_macs ? (double)o->macs / (double)o->padded_macs : 0;
	sim_pipe_finish(c, &p, o);
}

bool sim_cost_call(const sim_cctx *c, ir_nid n, sim_op_cost *o)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	ir_graph *inst = ir_call_instance(c->g, n, &tmp, c->file);
	bool ok = inst && ir_infer(inst, &tmp, c->file) == 0;
	ir_diags_free(&tmp);
	sim_mem *where = ok ? instance_residency(c, n, inst) : NULL;
	bool *known = ok ? calloc(ir_nvalues(inst) + 1, sizeof *known) : NULL;
	fused f = {0};
	ok = where && known;
	if (ok) {
		sim_residency r = {where, NULL, ir_nvalues(inst) + 1, 0};
		ok = cost_body(c, inst, &r, known, &f, o);
	}
	if (ok)
		finish(c, &f, o);
	free(known);
	free(where);
	ir_graph_free(inst);
	return ok;
}
