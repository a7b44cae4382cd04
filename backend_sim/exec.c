/* Whole-graph execution: binds inputs and constants to values, runs the
 * nodes in graph order through sim_eval_node, frees each intermediate after
 * its last use, and hands back the graph outputs.  In fp32 mode a node may
 * take over the buffer of an operand that dies with it (elementwise ops
 * compute in place, reshapes move) or view a constant instead of copying. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

typedef struct run_state {
	const ir_graph *g;
	const sim_opts *o;
	ir_diags *d;
	size_t nv;
	sim_tensor *slot; /* per value id; data NULL when not (yet) available */
	uint32_t *uses;   /* operand slots still to run, per value */
	bool *keep;       /* graph outputs */
	sim_stats stats;
	size_t live;      /* bytes of owned tensors in slots */
	sim_scratch scratch;
} run_state;

static const char *file_of(const run_state *s)
{
	return s->o ? s->o->file : NULL;
}

static const char *vname(const run_state *s, ir_val v)
{
	const char *n = ir_cstr(s->g, ir_value_at(s->g, v)->name);
	return n[0] ? n : "(unnamed)";
}

/* The tensor of value v, viewing its constant or initializer on demand. */
static const sim_tensor *fetch(run_state *s, ir_val v)
{
	sim_tensor *t = &s->slot[v];
	if (t->data)
		return t;
	const ir_value *x = ir_value_at(s->g, v);
	bool has_data = x->def_kind == IR_DEF_CONST || (x->def_kind == IR_DEF_INPUT && x->tensor);
	if (has_data && sim_tensor_view(s->g, x->tensor, t))
		return t;
	if (has_data)
		ir_error(s->d, file_of(s), 0, 0, "value '%s': constant of type %s not supported by the simulator",
			 vname(s, v), ir_dtype_name((ir_dtype)x->type.dtype));
	else if (x->def_kind == IR_DEF_INPUT)
		ir_error(s->d, file_of(s), 0, 0, "graph input '%s' has no value", vname(s, v));
	else
		ir_error(s->d, file_of(s), 0, 0, "value '%s' is used before it is computed", vname(s, v));
	return NULL;
}

static void slot_free(run_state *s, ir_val v)
{
	if (s->slot[v].owned)
		s->live -= sim_nbytes(&s->slot[v]);
	sim_tensor_free(&s->slot[v]);
}

static void slot_set(run_state *s, ir_val v, const sim_tensor *t)
{
	slot_free(s, v);
	s->slot[v] = *t;
	if (t->owned)
		s->live += sim_nbytes(t);
	if (s->live > s->stats.peak_bytes)
		s->stats.peak_bytes = s->live;
}

static void release(run_state *s, ir_val v)
{
	if (v && s->uses[v] > 0 && --s->uses[v] == 0 && !s->keep[v])
		slot_free(s, v);
}

/* ---------------------------------------------------------------- inputs */

static bool type_matches(const ir_graph *g, ir_type t, const sim_tensor *x)
{
	if (t.kind != IR_TYPE_TENSOR)
		return t.kind == IR_TYPE_NONE;
	if (t.dtype != IR_UNDEF && t.dtype != x->dtype)
		return false;
	if (t.rank < 0)
		return true;
	if (t.rank != x->rank)
		return false;
	const ir_dim *dims = ir_type_dims(g, t);
	for (int i = 0; i < x->rank; i++)
		if (dims[i].v >= 0 && dims[i].v != x->dims[i])
			return false;
	return true;
}

static sim_status bind(run_state *s, ir_val v, const sim_tensor *x)
{
	const ir_value *val = ir_value_at(s->g, v);
	if (!type_matches(s->g, val->type, x)) {
		char want[256], got[128];
		ir_type_format(s->g, val->type, want, sizeof want);
		sim_tensor_format(x, got, sizeof got);
		ir_error(s->d, file_of(s), 0, 0, "graph input '%s' expects %s, got %s", vname(s, v), want, got);
		return SIM_EINVAL;
	}
	sim_tensor *t = &s->slot[v];
	*t = *x; /* a borrowed view of the caller's data */
	t->owned = false;
	t->name = NULL;
	return SIM_OK;
}

/* The graph input named name, or IR_NONE. */
static ir_val input_named(const ir_graph *g, const char *name)
{
	for (size_t i = 0; name && i < ir_graph_ninputs(g); i++) {
		ir_val v = ir_graph_input_at(g, i);
		if (strcmp(ir_cstr(g, ir_value_at(g, v)->name), name) == 0)
			return v;
	}
	return IR_NONE;
}

static sim_status bind_inputs(run_state *s, const sim_tensor *in, size_t nin)
{
	const ir_graph *g = s->g;
	size_t all = ir_graph_ninputs(g), plain = 0;
	bool by_name = nin > 0;
	for (size_t i = 0; i < all; i++)
		plain += ir_value_at(g, ir_graph_input_at(g, i))->tensor == IR_NONE;
	for (size_t i = 0; i < nin && by_name; i++)
		by_name = input_named(g, in[i].name) != IR_NONE;
	if (!by_name && nin != all && nin != plain) {
		ir_error(s->d, file_of(s), 0, 0, "the graph has %zu inputs (%zu without initializer), got %zu",
			 all, plain, nin);
		return SIM_EINVAL;
	}
	size_t j = 0;
	for (size_t i = 0; i < all && j < nin && !by_name; i++) {
		ir_val v = ir_graph_input_at(g, i);
		if (nin == all || ir_value_at(g, v)->tensor == IR_NONE)
			if (bind(s, v, &in[j++]) != SIM_OK)
				return SIM_EINVAL;
	}
	for (size_t i = 0; i < nin && by_name; i++)
		if (bind(s, input_named(g, in[i].name), &in[i]) != SIM_OK)
			return SIM_EINVAL;
	return SIM_OK;
}

/* ---------------------------------------------------------------- buffer hand-offs */

/* What node n may do with operand i's buffer (sim_hand): take over an
 * owned intermediate that dies here, or view a constant or bound input
 * (they outlive the run, and views are never written). */
static uint8_t hand_of(const run_state *s, ir_nid n, uint32_t i)
{
	const ir_node *x = ir_node_at(s->g, n);
	ir_val v = ir_node_input(s->g, n, i);
	if (!v)
		return SIM_HAND_NONE;
	if (!s->slot[v].owned)
		return SIM_HAND_LEND;
	uint32_t here = 0;
	for (uint32_t j = 0; j < x->nin; j++)
		here += ir_node_input(s->g, n, j) == v;
	return !s->keep[v] && s->uses[v] == here ? SIM_HAND_GIVE : SIM_HAND_NONE;
}

/* A result that took over an operand's buffer owns it now: the operand's
 * slot lets go of it (and it is counted once, with the result). */
static void settle_hands(run_state *s, ir_nid n, const sim_tensor *out, uint32_t nout)
{
	const ir_node *x = ir_node_at(s->g, n);
	for (uint32_t i = 0; i < nout; i++) {
		for (uint32_t j = 0; j < x->nin && out[i].owned; j++) {
			sim_tensor *t = &s->slot[ir_node_input(s->g, n, j)];
			if (t->owned && t->data == out[i].data) {
				s->live -= sim_nbytes(t);
				t->owned = false;
			}
		}
	}
}

/* ---------------------------------------------------------------- nodes */

static void count_uses(run_state *s)
{
	for (ir_nid n = ir_graph_first(s->g); n; n = ir_node_at(s->g, n)->next)
		for (uint32_t i = 0; i < ir_node_at(s->g, n)->nin; i++)
			s->uses[ir_node_input(s->g, n, i)]++;
	s->uses[IR_NONE] = 0;
	for (size_t i = 0; i < ir_graph_noutputs(s->g); i++)
		s->keep[ir_graph_output_at(s->g, i)] = true;
}

/* Moves the node's results into their slots; unused ones are dropped. */
static sim_status store_results(run_state *s, ir_nid n, sim_tensor *out, uint32_t nout)
{
	sim_status st = SIM_OK;
	for (uint32_t i = 0; i < nout; i++) {
		ir_val v = ir_node_output(s->g, n, i);
		bool needed = v && (s->uses[v] > 0 || s->keep[v]);
		if (needed && !out[i].data && st == SIM_OK) {
			const ir_node *x = ir_node_at(s->g, n);
			ir_error(s->d, file_of(s), 0, 0, "node '%s' (%s): result %u ('%s') is not computed by the simulator",
				 ir_cstr(s->g, x->name), ir_cstr(s->g, x->op), (unsigned)i, vname(s, v));
			st = SIM_UNSUPPORTED;
		}
		if (needed && st == SIM_OK) {
			slot_set(s, v, &out[i]);
		} else {
			sim_tensor_free(&out[i]);
		}
	}
	return st;
}

static sim_status run_node(run_state *s, ir_nid n, const sim_tensor **in, uint8_t *hand, sim_tensor *out)
{
	const ir_node *x = ir_node_at(s->g, n);
	uint32_t nin = x->nin, nout = x->nout;
	for (uint32_t i = 0; i < nin; i++) {
		ir_val v = ir_node_input(s->g, n, i);
		in[i] = v ? fetch(s, v) : NULL;
		if (v && !in[i])
			return SIM_EINVAL;
		hand[i] = hand_of(s, n, i);
	}
	sim_lend lend = {hand, &s->scratch};
	sim_status st = sim_eval_node_hand(s->g, n, s->o, in, nin, &lend, out, nout, s->d);
	if (st != SIM_OK)
		return st;
	settle_hands(s, n, out, nout);
	s->stats.nodes++;
	st = store_results(s, n, out, nout);
	for (uint32_t i = 0; i < nin; i++)
		release(s, ir_node_input(s->g, n, i));
	return st;
}

static sim_status run_nodes(run_state *s)
{
	uint32_t maxin = 1, maxout = 1;
	for (ir_nid n = ir_graph_first(s->g); n; n = ir_node_at(s->g, n)->next) {
		const ir_node *x = ir_node_at(s->g, n);
		maxin = x->nin > maxin ? x->nin : maxin;
		maxout = x->nout > maxout ? x->nout : maxout;
	}
	const sim_tensor **in = calloc(maxin, sizeof *in);
	uint8_t *hand = calloc(maxin, sizeof *hand);
	sim_tensor *out = calloc(maxout, sizeof *out);
	sim_status st = in && hand && out ? SIM_OK : SIM_ENOMEM;
	if (st == SIM_ENOMEM)
		ir_error(s->d, file_of(s), 0, 0, "out of memory");
	for (ir_nid n = ir_graph_first(s->g); n && st == SIM_OK; n = ir_node_at(s->g, n)->next)
		st = run_node(s, n, in, hand, out);
	free(in);
	free(hand);
	free(out);
	return st;
}

/* ---------------------------------------------------------------- outputs */

static sim_status collect(run_state *s, sim_tensor **outputs, size_t *nout)
{
	size_t n = ir_graph_noutputs(s->g);
	sim_tensor *res = calloc(n ? n : 1, sizeof *res);
	if (!res) {
		ir_error(s->d, file_of(s), 0, 0, "out of memory");
		return SIM_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ir_val v = ir_graph_output_at(s->g, i);
		const sim_tensor *t = fetch(s, v);
		bool ok = t != NULL;
		if (ok && t->owned) { /* move; a repeated output then copies the moved tensor */
			res[i] = *t;
			memset(&s->slot[v], 0, sizeof s->slot[v]);
			s->slot[v] = res[i];
			s->slot[v].owned = false;
		} else if (ok) {
			ok = sim_tensor_copy(&res[i], t);
		}
		if (ok)
			ok = sim_tensor_set_name(&res[i], ir_cstr(s->g, ir_value_at(s->g, v)->name));
		if (!ok) {
			sim_tensors_free(res, n);
			if (t)
				ir_error(s->d, file_of(s), 0, 0, "out of memory");
			return t ? SIM_ENOMEM : SIM_EINVAL;
		}
	}
	*outputs = res;
	*nout = n;
	return SIM_OK;
}

sim_status sim_run(const ir_graph *g, const sim_opts *o, const sim_tensor *inputs, size_t nin,
		   sim_tensor **outputs, size_t *nout, ir_diags *d)
{
	return sim_run_stats(g, o, inputs, nin, outputs, nout, NULL, d);
}

sim_status sim_run_stats(const ir_graph *g, const sim_opts *o, const sim_tensor *inputs, size_t nin,
			 sim_tensor **outputs, size_t *nout, sim_stats *stats, ir_diags *d)
{
	*outputs = NULL;
	*nout = 0;
	run_state s = {g, o, d, ir_nvalues(g), NULL, NULL, NULL, {0, 0}, 0, {NULL, 0}};
	s.slot = calloc(s.nv + 1, sizeof *s.slot);
	s.uses = calloc(s.nv + 1, sizeof *s.uses);
	s.keep = calloc(s.nv + 1, sizeof *s.keep);
	sim_status st = s.slot && s.uses && s.keep ? SIM_OK : SIM_ENOMEM;
	if (st == SIM_ENOMEM)
		ir_error(d, o ? o->file : NULL, 0, 0, "out of memory");
	if (st == SIM_OK)
		st = bind_inputs(&s, inputs, nin);
	if (st == SIM_OK) {
		count_uses(&s);
		st = run_nodes(&s);
	}
	if (st == SIM_OK)
		st = collect(&s, outputs, nout);
	if (stats)
		*stats = s.stats;
	for (size_t v = 0; s.slot && v <= s.nv; v++)
		sim_tensor_free(&s.slot[v]);
	free(s.slot);
	free(s.uses);
	free(s.keep);
	free(s.scratch.data);
	return st;
}
