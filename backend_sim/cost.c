/* The cycle model's driver: per-node dispatch (cube, vector, fused, free),
 * the pipeline formula shared by every kernel, and the graph totals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cost_internal.h"

/* ---------------------------------------------------------------- names */

const char *sim_bound_name(sim_bound b)
{
	static const char *const names[] = {"none", "cube", "vector", "memory", "launch"};
	return b <= SIM_BOUND_LAUNCH ? names[b] : "?";
}

const char *sim_mem_name(sim_mem m)
{
	static const char *const names[] = {"-", "on-chip", "L2", "DDR"};
	return m <= SIM_MEM_DDR ? names[m] : "?";
}

/* ---------------------------------------------------------------- shared helpers */

int64_t sim_elem_bytes(const sim_hw *hw, ir_dtype dt)
{
	if (hw->float_fp16 && ir_dtype_is_float(dt))
		return 2;
	return (int64_t)ir_dtype_size(dt);
}

int sim_value_dims(const ir_graph *g, ir_val v, int64_t *dims)
{
	const ir_value *x = v ? ir_value_at(g, v) : NULL;
	if (!x || x->type.kind != IR_TYPE_TENSOR || x->type.rank < 0 || x->type.rank > IR_MAX_RANK)
		return -1;
	const ir_dim *d = ir_type_dims(g, x->type);
	for (int i = 0; i < x->type.rank; i++) {
		if (d[i].v < 0)
			return -1;
		dims[i] = d[i].v;
	}
	return x->type.rank;
}

int64_t sim_value_numel(const ir_graph *g, ir_val v)
{
	const ir_value *x = v ? ir_value_at(g, v) : NULL;
	if (!x || x->type.kind != IR_TYPE_TENSOR)
		return -1;
	return ir_type_numel(g, x->type);
}

int64_t sim_value_bytes(const sim_cctx *c, ir_val v)
{
	int64_t n = sim_value_numel(c->g, v);
	if (n < 0)
		return -1;
	return n * sim_elem_bytes(c->hw, (ir_dtype)ir_value_at(c->g, v)->type.dtype);
}

sim_mem sim_value_mem(const sim_cctx *c, ir_val v)
{
	return v && v < c->res->n ? c->res->where[v] : SIM_MEM_NONE;
}

double sim_read_bw(const sim_hw *hw, sim_mem m)
{
	if (m == SIM_MEM_ONCHIP)
		return INFINITY;
	return m == SIM_MEM_DDR ? hw->bw.ddr_read : hw->bw.l2_read;
}

double sim_write_bw(const sim_hw *hw, sim_mem m)
{
	if (m == SIM_MEM_ONCHIP)
		return INFINITY;
	return m == SIM_MEM_DDR ? hw->bw.ddr_write : hw->bw.l2_write;
}

double sim_global_bytes(const sim_cctx *c, ir_val v, double bytes)
{
	return sim_value_mem(c, v) == SIM_MEM_ONCHIP ? 0 : bytes;
}

double sim_vector_pass(const sim_hw *hw, double bytes)
{
	if (bytes <= 0)
		return 0;
	double repeats = ceil(bytes / (double)hw->vector.bytes);
	double instrs = ceil(repeats / (double)hw->vector.max_repeat);
	return instrs * (double)hw->vector.startup + repeats / hw->vector.repeats_per_cycle;
}

int sim_vector_passes(uint16_t opcode)
{
	switch (opcode) {
	case IR_OP_Relu:
	case IR_OP_Add:
	case IR_OP_Sub:
	case IR_OP_Mul:
	case IR_OP_Neg:
	case IR_OP_Sqrt:
	case IR_OP_Equal:
	case IR_OP_Cast:
		return 1;
	case IR_OP_Clip:
	case IR_OP_Div:
	case IR_OP_LeakyRelu:
	case IR_OP_Where:
	case IR_OP_BatchNormalization:
		return 2;
	case IR_OP_Pow:
	case IR_OP_HardSigmoid:
		return 3;
	case IR_OP_Sigmoid:
		return 4;
	case IR_OP_Tanh:
		return 5;
	case IR_OP_Erf:
		return 8;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- the pipeline */

double sim_pipe_cycles(const sim_pipe *p, bool overlap)
{
	if (p->steps <= 0)
		return 0;
	double sum = 0, max = 0;
	for (int i = 0; i < SIM_NQ; i++) {
		sum += p->q[i];
		max = p->q[i] > max ? p->q[i] : max;
	}
	if (overlap)
		return sum + p->latency + (p->steps - 1) * max;
	return p->steps * (sum + p->latency);
}

static sim_bound bound_of(const sim_op_cost *o)
{
	int64_t mte = o->mte2 > o->mte1 ? o->mte2 : o->mte1;
	mte = o->mte3 > mte ? o->mte3 : mte;
	int64_t busy = o->cube > o->vector ? o->cube : o->vector;
	busy = mte > busy ? mte : busy;
	if (busy == 0 && o->launch == 0)
		return SIM_BOUND_NONE;
	if (o->launch > busy)
		return SIM_BOUND_LAUNCH;
	if (busy == o->cube)
		return SIM_BOUND_CUBE;
	return busy == o->vector ? SIM_BOUND_VECTOR : SIM_BOUND_MEMORY;
}

/* Whole cycles, rounding up, but not past an integer that per-step
 * division and multiplication merely blurred. */
static int64_t whole(double x)
{
	double r = nearbyint(x);
	if (fabs(x - r) <= 1e-9 * (x > 1 ? x : 1))
		return (int64_t)r;
	return (int64_t)ceil(x);
}

void sim_pipe_finish(const sim_cctx *c, const sim_pipe *p, sim_op_cost *o)
{
	double launch = sim_hw_launch_cycles(c->hw);
	o->mte2 = whole(p->steps * p->q[SIM_Q_MTE2]);
	o->mte1 = whole(p->steps * p->q[SIM_Q_MTE1]);
	o->cube = whole(p->steps * p->q[SIM_Q_CUBE]);
	o->vector = whole(p->steps * p->q[SIM_Q_VEC]);
	o->mte3 = whole(p->steps * p->q[SIM_Q_MTE3]);
	o->launch = whole(launch);
	o->cycles = whole(sim_pipe_cycles(p, c->hw->double_buffer) + launch);
	o->bound = bound_of(o);
	if (c->last)
		*c->last = *p;
}

/* ---------------------------------------------------------------- ONNX Runtime's fused ops
 * com.microsoft's Fused* ops carry no body: their op name is read as their
 * stages.  (graft's own fused ops are calls of model-local functions,
 * costed from their bodies by cost_call.c.) */

/* Registry op whose name is the longest prefix of s, or IR_OP_OPAQUE. */
static uint16_t op_prefix(const char *s, size_t *len)
{
	uint16_t best = IR_OP_OPAQUE;
	*len = 0;
	for (uint16_t i = 1; i < IR_OP_COUNT; i++) {
		const char *name = ir_op_info(i)->name;
		size_t n = strlen(name);
		if (n > *len && strncmp(s, name, n) == 0) {
			best = i;
			*len = n;
		}
	}
	return best;
}

static bool is_separator(char ch)
{
	return ch == '_' || ch == '.' || ch == '-';
}

typedef struct stages {
	uint16_t cube;  /* the first cube op named, or IR_OP_OPAQUE */
	int passes;     /* vector passes of every other stage */
} stages;

/* Reads a fused op's name as its stages: registry op names, optionally
 * separated by '_', '.' or '-' ("Conv_Add_Relu", "ConvAddRelu",
 * "FusedConv").  A capitalised word that names no op ("Bias") counts as
 * one vector pass; "Fused" and "Fusion" count as nothing. */
static stages parse_stages(const char *name)
{
	stages s = {IR_OP_OPAQUE, 0};
	const char *p = name;
	while (*p) {
		size_t len;
		uint16_t op = op_prefix(p, &len);
		if (op != IR_OP_OPAQUE) {
			if ((ir_op_info(op)->traits & IR_TRAIT_CUBE) && s.cube == IR_OP_OPAQUE)
				s.cube = op;
			else
				s.passes += sim_vector_passes(op) ? sim_vector_passes(op) : 1;
			p += len;
			continue;
		}
		if (is_separator(*p)) {
			p++;
			continue;
		}
		const char *w = p++;
		while (*p && (*p < 'A' || *p > 'Z') && !is_separator(*p))
			p++;
		if (strncmp(w, "Fused", 5) && strncmp(w, "Fusion", 6))
			s.passes++;
	}
	return s;
}

/* Vector passes of a fused activation attribute ("Relu", "Sigmoid", ...). */
static int activation_passes(const ir_graph *g, ir_nid n)
{
	const ir_attr *a = ir_attr_find(g, n, "activation");
	if (!a || a->kind != IR_ATTR_STRING)
		return 0;
	size_t len;
	uint16_t op = op_prefix(ir_cstr(g, a->u.s), &len);
	return op != IR_OP_OPAQUE && sim_vector_passes(op) ? sim_vector_passes(op) : 1;
}

static bool is_fused_node(const ir_graph *g, const ir_node *nd)
{
	const char *dom = ir_cstr(g, nd->domain);
	const char *op = ir_cstr(g, nd->op);
	return !strcmp(dom, "com.microsoft") && !strncmp(op, "Fused", 5);
}

/* Operands after the cube's own: small ones (at most the output's channel
 * count) are a bias, larger ones are read whole (a residual, say). */
static void fused_operands(const sim_cctx *c, ir_nid n, sim_epilogue *e)
{
	const ir_graph *g = c->g;
	int64_t od[IR_MAX_RANK];
	int orank = sim_value_dims(g, ir_node_output(g, n, 0), od);
	int64_t channels = orank >= 2 ? od[1] : orank == 1 ? od[0] : 1;
	for (uint32_t i = 2; i < ir_node_at(g, n)->nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		int64_t numel = sim_value_numel(g, v);
		if (!v)
			continue;
		if (numel >= 0 && numel <= channels && !e->bias)
			e->bias = true;
		else if (numel >= 0)
			e->extra_bytes += sim_value_bytes(c, v);
	}
}

static bool cost_fused(const sim_cctx *c, ir_nid n, sim_op_cost *o)
{
	const ir_node *nd = ir_node_at(c->g, n);
	stages s = parse_stages(ir_cstr(c->g, nd->op));
	int act = activation_passes(c->g, n);
	o->fused = true;
	if (s.cube == IR_OP_OPAQUE)
		return sim_cost_vector(c, n, IR_OP_OPAQUE, s.passes + act > 0 ? s.passes + act : 1, o);
	sim_epilogue e = {.passes = s.passes + act};
	fused_operands(c, n, &e);
	return sim_cost_cube(c, n, s.cube, &e, o);
}

/* ---------------------------------------------------------------- dispatch */

static bool is_free_op(uint16_t opcode)
{
	switch (opcode) {
	case IR_OP_Shape:
	case IR_OP_Constant:
	case IR_OP_ConstantOfShape:
	case IR_OP_Range:
		return true;
	default:
		return sim_is_view_op(opcode);
	}
}

static bool cost_cube_op(const sim_cctx *c, ir_nid n, sim_op_cost *o)
{
	const ir_node *nd = ir_node_at(c->g, n);
	sim_epilogue e = {.passes = activation_passes(c->g, n)};
	o->fused = e.passes > 0;
	if (nd->opcode != IR_OP_MatMul && nd->nin > 2 && ir_node_input(c->g, n, 2))
		e.bias = true;
	return sim_cost_cube(c, n, nd->opcode, &e, o);
}

bool sim_cost_node(const sim_cctx *c, ir_nid n, bool folded, sim_op_cost *o)
{
	const ir_node *nd = ir_node_at(c->g, n);
	o->node = n;
	if (nd->opcode == IR_OP_OPAQUE && ir_node_callee(c->g, n))
		return sim_cost_call(c, n, o);
	if (is_fused_node(c->g, nd))
		return cost_fused(c, n, o);
	if (folded || is_free_op(nd->opcode))
		return true;
	if (nd->opcode != IR_OP_OPAQUE && (ir_op_info(nd->opcode)->traits & IR_TRAIT_CUBE))
		return cost_cube_op(c, n, o);
	if (nd->opcode == IR_OP_OPAQUE) {
		o->generic = true;
		return sim_cost_vector(c, n, IR_OP_OPAQUE, 1, o);
	}
	return sim_cost_vector(c, n, nd->opcode, 0, o);
}

/* ---------------------------------------------------------------- residency per op */

static sim_mem worse(sim_mem a, sim_mem b)
{
	return a > b ? a : b;
}

static void op_residency(const sim_cctx *c, ir_nid n, sim_op_cost *o)
{
	const ir_node *nd = ir_node_at(c->g, n);
	for (uint32_t i = 0; i < nd->nin; i++) {
		ir_val v = ir_node_input(c->g, n, i);
		if (!v)
			continue;
		if (ir_value_at(c->g, v)->def_kind == IR_DEF_CONST)
			o->weight_mem = worse(o->weight_mem, sim_value_mem(c, v));
		else
			o->in_mem = worse(o->in_mem, sim_value_mem(c, v));
	}
	for (uint32_t i = 0; i < nd->nout; i++)
		o->out_mem = worse(o->out_mem, sim_value_mem(c, ir_node_output(c->g, n, i)));
}

/* ---------------------------------------------------------------- the graph */

/* Values known at compile time: constants and everything computed from
 * them or from shapes alone.  Nodes producing only such values are folded
 * by a graph compiler and cost nothing. */
bool sim_node_folded(const ir_graph *g, ir_nid n, const bool *known)
{
	const ir_node *nd = ir_node_at(g, n);
	if (nd->opcode == IR_OP_Shape)
		return true;
	if (nd->nin == 0)
		return nd->opcode != IR_OP_OPAQUE;
	for (uint32_t i = 0; i < nd->nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		if (v && !known[v])
			return false;
	}
	return nd->opcode != IR_OP_OPAQUE;
}

static void add_totals(sim_cost *c, const sim_op_cost *o)
{
	c->total_cycles += o->cycles;
	c->macs += o->macs;
	c->padded_macs += o->padded_macs;
	c->cube += o->cube;
	c->vector += o->vector;
	c->transfer += o->mte1 + o->mte2 + o->mte3;
	c->launch += o->launch;
	c->bytes += o->bytes_in + o->bytes_out;
	c->floor += o->floor;
}

static void cost_all(const sim_cctx *cx, sim_cost *c, bool *known)
{
	const ir_graph *g = cx->g;
	for (size_t i = 0; i < ir_graph_nconsts(g); i++)
		known[ir_graph_const_at(g, i)] = true;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		const ir_node *nd = ir_node_at(g, n);
		sim_op_cost *o = &c->ops[c->nops++];
		bool folded = sim_node_folded(g, n, known);
		for (uint32_t i = 0; folded && i < nd->nout; i++)
			known[ir_node_output(g, n, i)] = true;
		o->costed = sim_cost_node(cx, n, folded, o);
		if (!o->costed) {
			memset(o, 0, sizeof *o);
			o->node = n;
			c->uncosted++;
			ir_diag_add(cx->d, IR_WARNING, cx->file, 0, 0, "node '%s' (%s): shapes unknown; not costed",
				    ir_cstr(g, nd->name), ir_cstr(g, nd->op));
		}
		op_residency(cx, n, o);
		add_totals(c, o);
	}
}

bool sim_cost_graph(const ir_graph *g, const sim_hw *hw, const char *file, sim_cost *c, ir_diags *d)
{
	memset(c, 0, sizeof *c);
	sim_residency res;
	if (!sim_residency_plan(g, hw, &res)) {
		ir_error(d, file, 0, 0, "out of memory");
		return false;
	}
	c->ops = calloc(ir_graph_nnodes(g) + 1, sizeof *c->ops);
	bool *known = calloc(res.n, sizeof *known);
	if (!c->ops || !known) {
		free(known);
		sim_residency_free(&res);
		sim_cost_free(c);
		ir_error(d, file, 0, 0, "out of memory");
		return false;
	}
	sim_cctx cx = {g, hw, &res, file, d, NULL};
	cost_all(&cx, c, known);
	free(known);
	c->l2_peak = res.peak;
	c->where = res.where;
	c->nwhere = res.n;
	free(res.root);
	return true;
}

void sim_cost_free(sim_cost *c)
{
	free(c->ops);
	free(c->where);
	memset(c, 0, sizeof *c);
}
