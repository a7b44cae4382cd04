/* Calls of model-local functions (graft's fused ops among them): the
 * function's body, instantiated for the call with its formal inputs typed
 * as the operands' run-time tensors, runs as a graph of its own in the
 * caller's precision mode. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* The instance's inputs (the present operands, in order) typed as the
 * tensors that bind them. */
static void type_inputs(ir_graph *inst, const sim_tensor *args, size_t nargs)
{
	for (size_t i = 0; i < nargs && i < ir_graph_ninputs(inst); i++)
		ir_value_at(inst, ir_graph_input_at(inst, i))->type =
			ir_type_tensor(inst, args[i].dtype, args[i].rank, args[i].dims);
}

/* Borrowed, unnamed views of the present operands. */
static size_t present_operands(const sim_kctx *k, sim_tensor *args)
{
	size_t n = 0;
	for (uint32_t i = 0; i < k->nin; i++)
		if (k->in[i]) {
			args[n] = *k->in[i];
			args[n].owned = false;
			args[n++].name = NULL;
		}
	return n;
}

/* Moves the body's outputs into the call's results. */
static void take_outputs(sim_kctx *k, sim_tensor *outs, size_t nouts)
{
	for (uint32_t j = 0; j < k->nout && j < nouts; j++) {
		k->out[j] = outs[j];
		free(k->out[j].name);
		k->out[j].name = NULL;
		memset(&outs[j], 0, sizeof outs[j]);
	}
}

sim_status sim_run_call(sim_kctx *k)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	ir_graph *inst = ir_call_instance(k->g, k->node, &tmp, k->file);
	sim_tensor *args = calloc(k->nin + 1, sizeof *args), *outs = NULL;
	size_t nouts = 0;
	sim_status st = !inst ? SIM_EINVAL : args ? SIM_OK : SIM_ENOMEM;
	if (st == SIM_OK) {
		size_t nargs = present_operands(k, args);
		sim_opts o = {k->mode, k->file};
		type_inputs(inst, args, nargs);
		st = ir_graph_oom(inst) ? SIM_ENOMEM : sim_run(inst, &o, args, nargs, &outs, &nouts, &tmp);
	}
	if (st == SIM_OK)
		take_outputs(k, outs, nouts);
	sim_tensors_free(outs, nouts);
	for (size_t i = 0; i < tmp.n; i++)
		if (tmp.v[i].sev == IR_ERROR)
			sim_fail(k, st, "in the body of its function: %s", tmp.v[i].msg);
	if (st == SIM_ENOMEM && !tmp.nerrors)
		sim_nomem(k);
	ir_diags_free(&tmp);
	free(args);
	ir_graph_free(inst);
	return st;
}
