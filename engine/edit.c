/* The graph-editing context the driver, the rewriter and constant folding
 * share: order labels (the position of every node in the graph order, so
 * "is a before b" is O(1)), scratch membership marks, and dead-code removal
 * (nodes and constants that lose their last use), with hooks that keep the
 * driver's worklists in step with every edit. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

#define GAP ENG_LABEL_GAP

static bool grow(eng_rw *w, void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p) {
		w->oom = true;
		return false;
	}
	*v = p;
	*cap = c;
	return true;
}

/* A zeroed array of cap elements holding the first n of old (freed):
 * calloc's fresh pages are zero already, so the part not used yet costs
 * nothing until it is. */
static void *regrow(void *old, size_t n, size_t cap, size_t size)
{
	void *p = calloc(cap, size);
	if (p && n)
		memcpy(p, old, n * size);
	if (p)
		free(old);
	return p;
}

/* Sizes the per-node arrays for every node id of the graph (a quarter
 * more, for the nodes rewrites make). */
static bool ensure_ids(eng_rw *w)
{
	size_t need = ir_nnodes_total(w->g) + 1;
	if (need <= w->nids)
		return true;
	size_t cap = w->nids ? w->nids : 1024;
	while (cap < need + need / 4)
		cap *= 2;
	uint64_t *l = regrow(w->label, w->nids, cap, sizeof *l);
	if (l)
		w->label = l;
	uint32_t *s = l ? regrow(w->stamp, w->nids, cap, sizeof *s) : NULL;
	if (!l || !s) {
		w->oom = true;
		return false;
	}
	w->stamp = s;
	w->nids = cap;
	return true;
}

static void relabel(eng_rw *w)
{
	uint64_t x = GAP;
	for (ir_nid n = ir_graph_first(w->g); n; n = ir_node_at(w->g, n)->next, x += GAP)
		w->label[n] = x;
}

bool eng_rw_init(eng_rw *w, ir_graph *g, ir_diags *d, bool label)
{
	memset(w, 0, sizeof *w);
	w->g = g;
	w->d = d;
	w->nn_first = (ir_nid)ir_nnodes_total(g) + 1;
	if (!ensure_ids(w))
		return false;
	if (label)
		relabel(w);
	return true;
}

void eng_rw_free(eng_rw *w)
{
	eng_rw_flush_consts(w);
	free(w->label);
	free(w->stamp);
	free(w->dead);
	free(w->queue);
	free(w->tmp);
	free(w->tmp2);
	free(w->vals);
	free(w->nn);
	free(w->nn_of);
	free(w->rnc);
	eng_excache_free(w->exc);
	free(w->hw_own);
	eng_memo_free(w->memo);
	ir_graph_free(w->eager);
	eng_scratch_free(&w->scratch);
	memset(w, 0, sizeof *w);
}

bool eng_rw_label_new(eng_rw *w, ir_nid n)
{
	if (!ensure_ids(w))
		return false;
	const ir_node *x = ir_node_at(w->g, n);
	uint64_t lo = x->prev ? w->label[x->prev] : 0;
	uint64_t hi = x->next ? w->label[x->next] : lo + 2 * GAP;
	if (hi <= lo || hi - lo < 2)
		relabel(w);
	else
		w->label[n] = lo + (hi - lo) / 2;
	return true;
}

/* ---------------------------------------------------------------- arenas */

#define CHUNK_MIN (64u << 10)

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
} chunk;

void *eng_arena_alloc(void **arena, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	chunk *c = *arena;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		chunk *fresh = malloc(sizeof *fresh + cap);
		if (!fresh)
			return NULL;
		fresh->next = c;
		fresh->used = 0;
		fresh->cap = cap;
		*arena = c = fresh;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void eng_arena_free(void *arena)
{
	for (chunk *c = arena, *next; c; c = next) {
		next = c->next;
		free(c);
	}
}

/* ---------------------------------------------------------------- marks */

/* A fresh stamp: no node carries it yet. */
uint32_t eng_rw_stamp(eng_rw *w)
{
	if (!ensure_ids(w))
		return 0;
	if (++w->cur == 0) {
		memset(w->stamp, 0, w->nids * sizeof *w->stamp);
		w->cur = 1;
	}
	return w->cur;
}

bool eng_rw_need(eng_rw *w, ir_nid **v, size_t *cap, size_t n)
{
	return grow(w, (void **)v, cap, n, sizeof **v);
}

/* ---------------------------------------------------------------- dead code */

static void touched(eng_rw *w, ir_nid n)
{
	if (w->hooks.touched && n && !ir_node_at(w->g, n)->dead)
		w->hooks.touched(w->hooks.ctx, n);
}

void eng_rw_queue(eng_rw *w, ir_val v)
{
	if (v && grow(w, (void **)&w->queue, &w->queue_cap, w->nqueue + 1, sizeof *w->queue))
		w->queue[w->nqueue++] = v;
}

void eng_rw_touch_value(eng_rw *w, ir_val v)
{
	const ir_value *x = ir_value_at(w->g, v);
	if (x && x->def_kind == IR_DEF_NODE)
		touched(w, x->node);
}

void eng_rw_remove_node(eng_rw *w, ir_nid n)
{
	const ir_node *x = ir_node_at(w->g, n);
	if (!x || x->dead)
		return;
	uint32_t nin = x->nin;
	for (uint32_t i = 0; i < nin; i++)
		eng_rw_queue(w, ir_node_input(w->g, n, i));
	ir_node_remove(w->g, n);
	if (w->hooks.removed)
		w->hooks.removed(w->hooks.ctx, n);
}

static bool value_dead(const ir_graph *g, ir_val v)
{
	return ir_value_at(g, v)->nuses == 0 && !ir_value_is_output(g, v);
}

static bool node_dead(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	for (uint32_t i = 0; i < x->nout; i++) {
		ir_val v = ir_node_output(g, n, i);
		if (v && !value_dead(g, v))
			return false;
	}
	return true;
}

void eng_rw_sweep(eng_rw *w)
{
	while (w->nqueue) {
		ir_val v = w->queue[--w->nqueue];
		const ir_value *x = ir_value_at(w->g, v);
		if (x->def_kind == IR_DEF_CONST && value_dead(w->g, v)) {
			if (grow(w, (void **)&w->dead, &w->dead_cap, w->ndead + 1, sizeof *w->dead))
				w->dead[w->ndead++] = v;
		} else if (x->def_kind == IR_DEF_NODE && !ir_node_at(w->g, x->node)->dead) {
			if (node_dead(w->g, x->node))
				eng_rw_remove_node(w, x->node);
			else
				touched(w, x->node);
		}
	}
	if (w->ndead > 4096 && w->ndead * 2 > ir_graph_nconsts(w->g)) /* a pass over the list per flush */
		eng_rw_flush_consts(w);
}

void eng_rw_flush_consts(eng_rw *w)
{
	if (w->ndead) /* those still unused (nothing revives a dead constant now, but it costs nothing) */
		ir_consts_remove(w->g, w->dead, w->ndead);
	w->ndead = 0;
}

/* ---------------------------------------------------------------- the cost model */

const void *eng_rw_hw(eng_rw *w)
{
	if (w->hw)
		return w->hw;
	if (!w->hw_own) {
		sim_hw *hw = calloc(1, sizeof *hw);
		const char *name = sim_hw_builtin_name(0);
		if (!hw || !name || !sim_hw_load(name, hw, w->d)) {
			free(hw);
			return NULL;
		}
		w->hw_own = hw;
	}
	return w->hw_own;
}
