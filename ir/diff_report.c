/* Graph diff, part 3: from the alignment to the report's lists: changed
 * nodes (attributes, operand wiring, constant data, result count), graph
 * inputs, outputs and constants on one side only, and changed shapes.
 *
 * An operand counts as rewired only when both the old and the new value
 * have counterparts: a kept node that now reads a new node's result, or no
 * longer reads a removed node's result, is the boundary of a replacement
 * (diff_group.c), not a change of its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

typedef struct change_list {
	ir_diff_change *v;
	uint32_t n, cap;
	bool oom;
} change_list;

static void add_change(change_list *l, ir_diff_change c)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		ir_diff_change *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
}

static ir_diff_change change_of(ir_diff_kind kind, ir_nid a, ir_nid b)
{
	return (ir_diff_change){(uint8_t)kind, a, b, 0, -1, -1, 0};
}

/* ---------------------------------------------------------------- attributes */

static int32_t find_attr(const ir_graph *g, ir_nid n, const ir_graph *gname, ir_str name)
{
	const ir_attr *v = ir_node_attrs(g, n);
	const char *s = ir_cstr(gname, name);
	for (uint32_t i = 0; i < ir_node_at(g, n)->nattr; i++)
		if (strcmp(ir_cstr(g, v[i].name), s) == 0)
			return (int32_t)i;
	return -1;
}

static void attr_changes(const diff_state *st, ir_nid a, ir_nid b, change_list *l)
{
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	const ir_attr *va = ir_node_attrs(ga, a), *vb = ir_node_attrs(gb, b);
	for (uint32_t i = 0; i < ir_node_at(ga, a)->nattr; i++) {
		int32_t j = find_attr(gb, b, ga, va[i].name);
		ir_diff_change c = change_of(IR_DIFF_ATTR, a, b);
		c.attr_a = (int32_t)i;
		c.attr_b = j;
		if (j < 0 && diff_attr_is_default(ga, a, &va[i]))
			continue;
		if (j < 0 || !diff_attr_equal(ga, &va[i], gb, &vb[j], &st->o, &c.max_abs))
			add_change(l, c);
	}
	for (uint32_t j = 0; j < ir_node_at(gb, b)->nattr; j++) {
		if (find_attr(ga, a, gb, vb[j].name) >= 0 || diff_attr_is_default(gb, b, &vb[j]))
			continue;
		ir_diff_change c = change_of(IR_DIFF_ATTR, a, b);
		c.attr_b = (int32_t)j;
		add_change(l, c);
	}
}

/* ---------------------------------------------------------------- operands */

/* The value is the result of a node that has no counterpart. */
static bool from_unmatched_node(const diff_state *st, int side, ir_val v)
{
	const ir_value *x = ir_value_at(st->s[side].g, v);
	return x->def_kind == IR_DEF_NODE && !st->nmap[side][x->node];
}

bool diff_operands_swapped(const diff_state *st, ir_nid a, ir_nid b)
{
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	if (!diff_op_commutes(ga, a) || !diff_op_commutes(gb, b))
		return false;
	ir_val a0 = ir_node_input(ga, a, 0), a1 = ir_node_input(ga, a, 1);
	ir_val b0 = ir_node_input(gb, b, 0), b1 = ir_node_input(gb, b, 1);
	bool straight = st->vmap[0][a0] == b0 && st->vmap[0][a1] == b1;
	return !straight && (st->vmap[0][a0] == b1 || st->vmap[0][a1] == b0);
}

static void operand_change(const diff_state *st, ir_nid a, ir_nid b, uint32_t i, ir_val va, ir_val vb,
			   change_list *l)
{
	ir_diff_change c = change_of(IR_DIFF_OPERAND, a, b);
	c.index = i;
	if (!va || !vb) {
		if (va || vb)
			add_change(l, c);
		return;
	}
	if (st->vmap[0][va] == vb) {
		const ir_value *x = ir_value_at(st->s[0].g, va), *y = ir_value_at(st->s[1].g, vb);
		if (x->def_kind != IR_DEF_CONST ||
		    diff_tensor_equal(st->s[0].g, x->tensor, st->s[1].g, y->tensor, &st->o, &c.max_abs))
			return;
		c.kind = IR_DIFF_CONST;
		add_change(l, c);
		return;
	}
	if (from_unmatched_node(st, 0, va) || from_unmatched_node(st, 1, vb))
		return; /* the boundary of a replacement */
	add_change(l, c);
}

static void node_changes(const diff_state *st, ir_nid a, ir_nid b, change_list *l)
{
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	const ir_node *x = ir_node_at(ga, a), *y = ir_node_at(gb, b);
	attr_changes(st, a, b, l);
	bool swap = diff_operands_swapped(st, a, b);
	uint32_t n = x->nin > y->nin ? x->nin : y->nin;
	for (uint32_t i = 0; i < n; i++) {
		ir_val va = i < x->nin ? ir_node_input(ga, a, i) : 0;
		ir_val vb = i < y->nin ? ir_node_input(gb, b, swap ? 1 - i : i) : 0;
		operand_change(st, a, b, i, va, vb, l);
	}
	if (x->nout != y->nout)
		add_change(l, change_of(IR_DIFF_RESULTS, a, b));
}

static bool collect_changes(const diff_state *st, ir_diff *r)
{
	change_list l = {0};
	const diff_side *s = &st->s[0];
	for (uint32_t i = 0; i < s->ntopo; i++) {
		ir_nid a = s->topo[i], b = st->nmap[0][a];
		uint32_t before = l.n;
		if (b)
			node_changes(st, a, b, &l);
		r->nchanged += l.n > before;
		r->nremoved += !b;
	}
	for (uint32_t i = 0; i < st->s[1].ntopo; i++)
		r->nadded += !st->nmap[1][st->s[1].topo[i]];
	r->changes = l.v;
	r->nchanges = l.n;
	return !l.oom;
}

/* ---------------------------------------------------------------- one-sided lists */

bool diff_push_val(ir_diff_vals *l, ir_val v)
{
	if ((l->n & (l->n - 1)) == 0) { /* grow at powers of two */
		ir_val *p = realloc(l->v, (l->n ? l->n * 2 : 1) * sizeof *p);
		if (!p)
			return false;
		l->v = p;
	}
	l->v[l->n++] = v;
	return true;
}

static bool unmatched_inputs(const diff_state *st, int side, ir_diff_vals *l)
{
	const ir_graph *g = st->s[side].g;
	bool ok = true;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
		ir_val v = ir_graph_input_at(g, i);
		if (!st->vmap[side][v])
			ok = diff_push_val(l, v) && ok;
	}
	return ok;
}

static bool unmatched_consts(const diff_state *st, int side, ir_diff_vals *l)
{
	const ir_graph *g = st->s[side].g;
	bool ok = true;
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		ir_val v = ir_graph_const_at(g, i);
		if (!st->vmap[side][v])
			ok = diff_push_val(l, v) && ok;
	}
	return ok;
}

static bool unmatched_outputs(const diff_state *st, int side, ir_diff_vals *l)
{
	const ir_graph *g = st->s[side].g;
	bool ok = true;
	for (size_t i = 0; i < ir_graph_noutputs(g); i++)
		if (!st->outmap[side][i])
			ok = diff_push_val(l, ir_graph_output_at(g, i)) && ok;
	return ok;
}

/* Paired outputs that read values which are kept but not counterparts. */
static bool rewired_outputs(const diff_state *st, ir_diff *r)
{
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	size_t n = ir_graph_noutputs(ga);
	r->rewired = malloc((n + 1) * sizeof *r->rewired);
	if (!r->rewired)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!st->outmap[0][i])
			continue;
		ir_val va = ir_graph_output_at(ga, i), vb = ir_graph_output_at(gb, st->outmap[0][i] - 1);
		if (st->vmap[0][va] == vb || from_unmatched_node(st, 0, va) || from_unmatched_node(st, 1, vb))
			continue;
		r->rewired[r->nrewired++] = (ir_diff_pair){va, vb};
	}
	return true;
}

/* ---------------------------------------------------------------- shapes */

/* Known parts of two types differ: element types, ranks, dims.  What is
 * unknown on either side (a type, a rank, a dim) is no difference: it is
 * missing information, e.g. after an op that shape inference does not
 * know, and dim symbols are names. */
static bool types_differ(const ir_graph *ga, ir_type a, const ir_graph *gb, ir_type b)
{
	if (a.kind != IR_TYPE_TENSOR || b.kind != IR_TYPE_TENSOR)
		return false;
	if (a.dtype != IR_UNDEF && b.dtype != IR_UNDEF && a.dtype != b.dtype)
		return true;
	if (a.rank < 0 || b.rank < 0)
		return false;
	if (a.rank != b.rank)
		return true;
	const ir_dim *da = ir_type_dims(ga, a), *db = ir_type_dims(gb, b);
	for (int i = 0; i < a.rank; i++)
		if (da[i].v >= 0 && db[i].v >= 0 && da[i].v != db[i].v)
			return true;
	return false;
}

static bool check_shape(const diff_state *st, ir_val va, ir_diff *r)
{
	ir_val vb = st->vmap[0][va];
	if (!vb || !types_differ(st->s[0].g, ir_value_at(st->s[0].g, va)->type, st->s[1].g,
				 ir_value_at(st->s[1].g, vb)->type))
		return true;
	if ((r->nshapes & (r->nshapes - 1)) == 0) {
		ir_diff_pair *p = realloc(r->shapes, (r->nshapes ? r->nshapes * 2 : 1) * sizeof *p);
		if (!p)
			return false;
		r->shapes = p;
	}
	r->shapes[r->nshapes++] = (ir_diff_pair){va, vb};
	return true;
}

static bool collect_shapes(const diff_state *st, ir_diff *r)
{
	const ir_graph *g = st->s[0].g;
	bool ok = true;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		ok = check_shape(st, ir_graph_input_at(g, i), r) && ok;
	for (uint32_t i = 0; i < st->s[0].ntopo; i++) {
		ir_nid n = st->s[0].topo[i];
		for (uint32_t k = 0; k < ir_node_at(g, n)->nout; k++)
			ok = check_shape(st, ir_node_output(g, n, k), r) && ok;
	}
	return ok;
}

static bool is_equal(const ir_diff *r)
{
	return !r->nadded && !r->nremoved && !r->nchanged && !r->inputs_removed.n && !r->inputs_added.n &&
	       !r->outputs_removed.n && !r->outputs_added.n && !r->consts_removed.n && !r->consts_added.n &&
	       !r->nrewired && !r->nshapes;
}

bool diff_report(diff_state *st, ir_diff *r)
{
	bool ok = collect_changes(st, r);
	ok = ok && unmatched_inputs(st, 0, &r->inputs_removed) && unmatched_inputs(st, 1, &r->inputs_added);
	ok = ok && unmatched_outputs(st, 0, &r->outputs_removed) && unmatched_outputs(st, 1, &r->outputs_added);
	ok = ok && unmatched_consts(st, 0, &r->consts_removed) && unmatched_consts(st, 1, &r->consts_added);
	ok = ok && rewired_outputs(st, r) && collect_shapes(st, r) && diff_groups(st, r);
	r->equal = is_equal(r);
	return ok;
}
