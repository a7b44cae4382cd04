/* Residency: which tensors live in L2 and which in DDR.  Tensors are
 * allocated greedily over their live ranges in graph order; one that does
 * not fit in what L2 has free at its first use lives in DDR for its whole
 * life.  Views share the storage of the value they view. */
#include <stdlib.h>
#include <string.h>

#include "cost_internal.h"

typedef struct live {
	ir_val v;        /* the storage owner (a root) */
	int64_t start;   /* position of the first def or use; graph inputs 0 */
	int64_t end;     /* position of the last use */
	int64_t bytes;
	uint32_t seq;    /* discovery order: ties on start keep graph order */
} live;

bool sim_is_view_op(uint16_t opcode)
{
	switch (opcode) {
	case IR_OP_Reshape:
	case IR_OP_Flatten:
	case IR_OP_Squeeze:
	case IR_OP_Unsqueeze:
	case IR_OP_Identity:
		return true;
	default:
		return false;
	}
}

static int64_t storage_bytes(const ir_graph *g, const sim_hw *hw, ir_val v)
{
	const ir_value *x = ir_value_at(g, v);
	if (x->type.kind != IR_TYPE_TENSOR)
		return -1;
	int64_t n = ir_type_numel(g, x->type);
	return n < 0 ? -1 : n * sim_elem_bytes(hw, (ir_dtype)x->type.dtype);
}

static void find_roots(const ir_graph *g, ir_val *root, size_t n)
{
	for (size_t v = 0; v < n; v++)
		root[v] = (ir_val)v;
	for (ir_nid id = ir_graph_first(g); id; id = ir_node_at(g, id)->next) {
		const ir_node *nd = ir_node_at(g, id);
		ir_val in = nd->nin ? ir_node_input(g, id, 0) : IR_NONE;
		if (sim_is_view_op(nd->opcode) && in && nd->nout)
			root[ir_node_output(g, id, 0)] = root[in];
	}
}

static void touch(live *lv, uint32_t *seq, ir_val r, int64_t pos)
{
	live *l = &lv[r];
	if (l->start < 0) {
		l->start = pos;
		l->seq = (*seq)++;
	}
	if (pos > l->end)
		l->end = pos;
}

/* Live ranges of the roots, by node position (graph inputs at 0, graph
 * outputs live past the last node). */
static void live_ranges(const ir_graph *g, const ir_val *root, live *lv)
{
	uint32_t seq = 0;
	int64_t pos = 0;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		touch(lv, &seq, root[ir_graph_input_at(g, i)], 0);
	for (ir_nid id = ir_graph_first(g); id; id = ir_node_at(g, id)->next) {
		const ir_node *nd = ir_node_at(g, id);
		pos++;
		for (uint32_t i = 0; i < nd->nin; i++) {
			ir_val v = ir_node_input(g, id, i);
			if (v)
				touch(lv, &seq, root[v], pos);
		}
		for (uint32_t i = 0; i < nd->nout; i++)
			touch(lv, &seq, root[ir_node_output(g, id, i)], pos);
	}
	for (size_t i = 0; i < ir_graph_noutputs(g); i++) {
		ir_val v = ir_graph_output_at(g, i);
		if (v)
			touch(lv, &seq, root[v], pos + 1);
	}
}

static int by_start(const void *a, const void *b)
{
	const live *x = *(const live *const *)a, *y = *(const live *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Greedy first-fit by start: frees what ended before each start, then
 * places the tensor in L2 when it fits in what is free. */
static int64_t allocate(live **order, size_t n, live **active, int64_t l2, sim_mem *where)
{
	size_t nact = 0;
	int64_t used = 0, peak = 0;
	for (size_t i = 0; i < n; i++) {
		live *l = order[i];
		size_t k = 0;
		for (size_t j = 0; j < nact; j++)
			if (active[j]->end < l->start)
				used -= active[j]->bytes;
			else
				active[k++] = active[j];
		nact = k;
		if (l->bytes >= 0 && l->bytes <= l2 - used) {
			where[l->v] = SIM_MEM_L2;
			used += l->bytes;
			active[nact++] = l;
			peak = used > peak ? used : peak;
		} else {
			where[l->v] = SIM_MEM_DDR;
		}
	}
	return peak;
}

static bool plan(const ir_graph *g, const sim_hw *hw, sim_residency *r, live *lv, live **order,
		 live **active)
{
	find_roots(g, r->root, r->n);
	for (size_t v = 0; v < r->n; v++)
		lv[v] = (live){.v = (ir_val)v, .start = -1, .end = -1};
	live_ranges(g, r->root, lv);
	size_t n = 0;
	for (size_t v = 1; v < r->n; v++)
		if (lv[v].start >= 0) {
			lv[v].bytes = storage_bytes(g, hw, (ir_val)v);
			order[n++] = &lv[v];
		}
	qsort(order, n, sizeof *order, by_start);
	r->peak = allocate(order, n, active, hw->mem.l2, r->where);
	for (size_t v = 1; v < r->n; v++)
		r->where[v] = r->where[r->root[v]];
	return true;
}

bool sim_residency_plan(const ir_graph *g, const sim_hw *hw, sim_residency *r)
{
	memset(r, 0, sizeof *r);
	r->n = ir_nvalues(g) + 1;
	r->where = calloc(r->n, sizeof *r->where);
	r->root = calloc(r->n, sizeof *r->root);
	live *lv = calloc(r->n, sizeof *lv);
	live **order = calloc(r->n, sizeof *order);
	live **active = calloc(r->n, sizeof *active);
	bool ok = r->where && r->root && lv && order && active && plan(g, hw, r, lv, order, active);
	free(lv);
	free(order);
	free(active);
	if (!ok)
		sim_residency_free(r);
	return ok;
}

void sim_residency_free(sim_residency *r)
{
	free(r->where);
	free(r->root);
	memset(r, 0, sizeof *r);
}
