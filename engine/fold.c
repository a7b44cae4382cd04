/* Constant folding through the simulator's kernels: a node whose operands
 * are all constants is evaluated with sim_eval_node and its results become
 * constants.  A result is written into the buffer of a constant operand that
 * has no other user and the same size (BatchNorm folding rewrites a
 * convolution's weights in place): an elementwise kernel computes it there
 * directly (sim_eval_node_give), others are copied there; otherwise it
 * becomes a new constant.  Operands that lose their last use are removed. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

/* Folding that would grow the model is refused above this many bytes
 * (an Expand or a ConstantOfShape of a large shape). */
#define FOLD_GROWTH_LIMIT (1u << 20)
#define FOLD_LOCAL 8

typedef struct folding {
	eng_rw *w;
	ir_nid n;
	uint32_t nin, nout;
	sim_tensor *in;           /* views of the operands */
	const sim_tensor **pin;   /* NULL for absent operands */
	sim_tensor *out;
	bool *donor_used;         /* per operand: its buffer was given to a result */
	bool *give;               /* per operand: the kernel may compute a result in its buffer */
	size_t in_bytes;
} folding;

static bool foldable(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	if (!x || x->dead || x->nout == 0 || !sim_op_supported(x->opcode))
		return false;
	for (uint32_t i = 0; i < x->nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		if (v && ir_value_at(g, v)->def_kind != IR_DEF_CONST)
			return false;
	}
	for (uint32_t i = 0; i < x->nout; i++)
		if (ir_value_is_output(g, ir_node_output(g, n, i)))
			return false;
	return true;
}

static bool views(folding *f)
{
	const ir_graph *g = f->w->g;
	for (uint32_t i = 0; i < f->nin; i++) {
		ir_val v = ir_node_input(g, f->n, i);
		if (!v)
			continue;
		if (!sim_tensor_view(g, ir_value_at(g, v)->tensor, &f->in[i]))
			return false;
		f->pin[i] = &f->in[i];
		f->in_bytes += sim_nbytes(&f->in[i]);
	}
	return true;
}

/* Operand v's constant is used only here and is not an output: its buffer
 * may hold a result. */
static bool spare(const ir_graph *g, ir_val v)
{
	return v && ir_value_at(g, v)->nuses == 1 && !ir_value_is_output(g, v);
}

/* Elementwise kernels may compute into the buffers of spare operands: they
 * take one only once the shapes are checked, and cannot fail after that. */
static void mark_give(folding *f)
{
	const ir_graph *g = f->w->g;
	const ir_opinfo *info = ir_op_info(ir_node_at(g, f->n)->opcode);
	bool ew = info && (info->traits & IR_TRAIT_ELEMENTWISE);
	for (uint32_t i = 0; i < f->nin; i++)
		f->give[i] = ew && f->pin[i] && spare(g, ir_node_input(g, f->n, i));
}

/* An operand constant whose buffer result t can take: the one it was
 * computed in, else one used only here, not an output, of the same
 * element type and byte size. */
static int donor(folding *f, const sim_tensor *t)
{
	const ir_graph *g = f->w->g;
	for (uint32_t i = 0; i < f->nin; i++)
		if (f->give[i] && !f->donor_used[i] && f->in[i].data == t->data)
			return (int)i;
	for (uint32_t i = 0; i < f->nin; i++) {
		ir_val v = ir_node_input(g, f->n, i);
		if (!v || f->donor_used[i] || !f->pin[i])
			continue;
		const ir_tensor *tt = ir_tensor_at(g, ir_value_at(g, v)->tensor);
		if (spare(g, v) && tt->dtype == (uint8_t)t->dtype && tt->nbytes == sim_nbytes(t))
			return (int)i;
	}
	return -1;
}

/* The simulator allocated t's buffer with malloc (sim_tensor_free frees
 * owned data with free): a new constant can take it over instead of a
 * copy. */
static bool can_take(const ir_graph *g, const sim_tensor *t)
{
	return t->owned && t->data && sim_nbytes(t) > 0 && ir_graph_adopts_malloc(g);
}

/* Writes t into operand i's constant (its shape becomes t's), unless the
 * kernel computed it there.  A copy into the constant's own buffer beats
 * taking t's: the simulator's next result then reuses t's memory instead
 * of fresh pages. */
static ir_val give_buffer(folding *f, int i, sim_tensor *t)
{
	ir_graph *g = f->w->g;
	ir_val v = ir_node_input(g, f->n, (uint32_t)i);
	ir_tid tid = ir_value_at(g, v)->tensor;
	uint32_t dims = t->rank > 0 ? ir_pool_i64(g, t->dims, (uint32_t)t->rank) : 0;
	if (ir_graph_oom(g))
		return IR_NONE;
	ir_tensor *tt = ir_tensor_at(g, tid);
	if (t->data == tt->data)
		t->owned = false; /* the constant's own buffer */
	else
		memcpy(tt->data, t->data, sim_nbytes(t));
	tt->rank = (int16_t)t->rank;
	tt->dims = dims;
	ir_value_at(g, v)->type = ir_tensor_type(g, tid);
	f->donor_used[i] = true;
	return v;
}

ir_tid eng_fold_tensor(ir_graph *g, sim_tensor *t)
{
	if (!can_take(g, t))
		return sim_tensor_to_ir(g, 0, t);
	t->owned = false; /* ir_tensor_adopt frees it on failure */
	return ir_tensor_adopt(g, 0, t->dtype, t->rank, t->dims, t->data, sim_nbytes(t));
}

/* The constant that replaces result k. */
static ir_val result_const(folding *f, uint32_t k)
{
	ir_graph *g = f->w->g;
	sim_tensor *t = &f->out[k];
	ir_val old = ir_node_output(g, f->n, k);
	int i = donor(f, t);
	if (i >= 0)
		return give_buffer(f, i, t);
	ir_tid tid = eng_fold_tensor(g, t);
	ir_val v = tid ? ir_const_new(g, 0, tid) : IR_NONE;
	if (v) {
		ir_value_at(g, v)->name = ir_value_at(g, old)->name;
		ir_value_at(g, old)->name = 0;
	}
	return v;
}

static bool too_big(const folding *f)
{
	size_t out = 0;
	for (uint32_t k = 0; k < f->nout; k++)
		out += sim_nbytes(&f->out[k]);
	return out > FOLD_GROWTH_LIMIT && out > 2 * f->in_bytes;
}

static bool replace_results(folding *f)
{
	eng_rw *w = f->w;
	ir_graph *g = w->g;
	for (uint32_t k = 0; k < f->nout; k++) {
		ir_val old = ir_node_output(g, f->n, k);
		if (!old || !f->out[k].data || !ir_value_at(g, old)->nuses)
			continue;
		ir_val c = result_const(f, k);
		if (!c)
			return false;
		for (uint32_t u = ir_first_use(g, old); u; u = ir_next_use(g, u))
			if (w->hooks.touched)
				w->hooks.touched(w->hooks.ctx, ir_use_at(g, u)->node);
		ir_replace_all_uses(g, old, c);
	}
	return true;
}

/* Small nodes use the arrays of `local`; larger ones allocate. */
typedef struct fold_local {
	sim_tensor in[FOLD_LOCAL], out[FOLD_LOCAL];
	const sim_tensor *pin[FOLD_LOCAL];
	bool donor_used[FOLD_LOCAL], give[FOLD_LOCAL];
} fold_local;

static bool fold_alloc(folding *f, fold_local *l)
{
	uint32_t nin = f->nin ? f->nin : 1, nout = f->nout;
	bool small = nin <= FOLD_LOCAL && nout <= FOLD_LOCAL;
	if (small) { /* views() fills in[]; only what is read before must be clear */
		memset(l->out, 0, nout * sizeof *l->out);
		memset(l->pin, 0, nin * sizeof *l->pin);
		memset(l->donor_used, 0, nin * sizeof *l->donor_used);
		memset(l->give, 0, nin * sizeof *l->give);
	}
	f->in = small ? l->in : calloc(nin, sizeof *f->in);
	f->pin = small ? l->pin : calloc(nin, sizeof *f->pin);
	f->out = small ? l->out : calloc(nout, sizeof *f->out);
	f->donor_used = small ? l->donor_used : calloc(nin, sizeof *f->donor_used);
	f->give = small ? l->give : calloc(nin, sizeof *f->give);
	return f->in && f->pin && f->out && f->donor_used && f->give;
}

/* True when result t was computed in a given operand's buffer (which the
 * graph still owns). */
static bool in_operand(const folding *f, const sim_tensor *t)
{
	for (uint32_t i = 0; t->data && f->give && i < f->nin; i++)
		if (f->give[i] && f->in[i].data == t->data)
			return true;
	return false;
}

static void fold_free(folding *f, fold_local *l)
{
	for (uint32_t k = 0; f->out && k < f->nout; k++) {
		if (in_operand(f, &f->out[k]))
			f->out[k].owned = false;
		sim_tensor_free(&f->out[k]);
	}
	if (f->in == l->in)
		return;
	free(f->in);
	free(f->pin);
	free(f->out);
	free(f->donor_used);
	free(f->give);
}

bool eng_fold_node(eng_rw *w, ir_nid n)
{
	ir_graph *g = w->g;
	if (!foldable(g, n))
		return false;
	const ir_node *x = ir_node_at(g, n);
	folding f = {.w = w, .n = n, .nin = x->nin, .nout = x->nout};
	fold_local local;
	bool ok = fold_alloc(&f, &local) && views(&f);
	if (ok) {
		ir_diags quiet;
		ir_diags_init(&quiet);
		mark_give(&f);
		ok = sim_eval_node_give(g, n, NULL, f.pin, f.nin, f.give, f.out, f.nout, &quiet) == SIM_OK &&
		     !too_big(&f);
		ir_diags_free(&quiet);
	}
	ok = ok && replace_results(&f);
	fold_free(&f, &local);
	if (!ok)
		return false;
	eng_rw_remove_node(w, n);
	w->folded++;
	return true;
}

size_t eng_fold_constants(ir_graph *g, ir_diags *d)
{
	eng_rw w;
	if (!eng_rw_init(&w, g, d, true)) {
		ir_error(d, NULL, 0, 0, "out of memory");
		return 0;
	}
	for (ir_nid n = ir_graph_first(g), next; n; n = next) {
		next = ir_node_at(g, n)->next;
		if (eng_fold_node(&w, n))
			eng_rw_sweep(&w);
	}
	size_t folded = w.folded;
	if (w.oom || ir_graph_oom(g))
		ir_error(d, NULL, 0, 0, "out of memory while folding constants");
	eng_rw_free(&w);
	return folded;
}
