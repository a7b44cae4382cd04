/* Graph diff, part 2: aligning the nodes and values of A and B.
 *
 *   1. graph inputs by name, then the rest by position (same element type
 *      and rank); paired inputs seed equal hashes on both sides;
 *   2. nodes, then constants, whose exact hash is unique in both graphs,
 *      then those whose loose hash is (diff_hash.c);
 *   3. graph outputs by name, then position; their producers pair up;
 *   4. propagation: from a matched node pair to the producers of operands
 *      in the same slot (top-down), and from a matched value pair to its
 *      consumers, grouped by op and operand slot (bottom-up); a candidate
 *      pairs only when it is the one of its kind on both sides;
 *   5. node and constant names as hints, then order among nodes that are
 *      still structurally identical; each followed by propagation.
 *
 * Propagation runs a worklist per strictness level: level 0 pairs only
 * candidates with equal exact hashes, level 1 equal loose hashes, level 2
 * equal ops.  A task examined at level L moves to level L+1, and the lowest
 * non-empty level always runs first, so every task runs three times and
 * identical subgraphs align before merely similar ones.  Cost: hashing and
 * sorting, O(n log n); propagation, O(edges) up to sorting of each value's
 * consumers. */
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

#define TASK_VALUE 0x80000000u
enum { SMALL_FANOUT = 32, SEED_INPUT = 0x696e7075 };

/* ---------------------------------------------------------------- worklists */

static void push(diff_state *st, int level, uint32_t task)
{
	diff_queue *q = &st->q[level];
	if (q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		uint32_t *v = realloc(q->v, cap * sizeof *v);
		if (!v) {
			st->oom = true;
			return;
		}
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n++] = task;
}

static const ir_graph *graph(const diff_state *st, int side)
{
	return st->s[side].g;
}

/* Pushes forward examination of the value pair of va when it has few
 * consumers (a later match may have made an ambiguous group unique). */
static void retrigger(diff_state *st, ir_val va)
{
	ir_val vb = st->vmap[0][va];
	if (vb && ir_value_at(graph(st, 0), va)->nuses <= SMALL_FANOUT &&
	    ir_value_at(graph(st, 1), vb)->nuses <= SMALL_FANOUT)
		push(st, 0, TASK_VALUE | va);
}

static void map_value(diff_state *st, ir_val va, ir_val vb)
{
	st->vmap[0][va] = vb;
	st->vmap[1][vb] = va;
	push(st, 0, TASK_VALUE | va);
}

static void match_nodes(diff_state *st, ir_nid a, ir_nid b)
{
	const ir_node *x = ir_node_at(graph(st, 0), a), *y = ir_node_at(graph(st, 1), b);
	st->nmap[0][a] = b;
	st->nmap[1][b] = a;
	for (uint32_t r = 0; r < x->nout && r < y->nout; r++)
		map_value(st, ir_node_output(graph(st, 0), a, r), ir_node_output(graph(st, 1), b, r));
	push(st, 0, a);
	for (uint32_t i = 0; i < x->nin; i++) {
		ir_val v = ir_node_input(graph(st, 0), a, i);
		if (v)
			retrigger(st, v);
	}
}

static bool nodes_compatible(const diff_state *st, ir_nid a, ir_nid b, int level)
{
	const diff_side *sa = &st->s[0], *sb = &st->s[1];
	if (st->nmap[0][a] || st->nmap[1][b] || sa->nop[a] != sb->nop[b])
		return false;
	if (ir_node_at(sa->g, a)->nout != ir_node_at(sb->g, b)->nout)
		return false;
	return level == 2 || (level == 1 ? sa->nl[a] == sb->nl[b] : sa->nx[a] == sb->nx[b]);
}

static bool try_nodes(diff_state *st, uint32_t a, uint32_t b, int level)
{
	if (!nodes_compatible(st, a, b, level))
		return false;
	match_nodes(st, a, b);
	return true;
}

static bool is_const(const ir_graph *g, ir_val v)
{
	return ir_value_at(g, v)->def_kind == IR_DEF_CONST;
}

static bool try_consts(diff_state *st, uint32_t va, uint32_t vb, int level)
{
	const diff_side *sa = &st->s[0], *sb = &st->s[1];
	if (st->vmap[0][va] || st->vmap[1][vb] || !is_const(sa->g, va) || !is_const(sb->g, vb))
		return false;
	if (level < 2 && (level == 1 ? sa->vl[va] != sb->vl[vb] : sa->vx[va] != sb->vx[vb]))
		return false;
	map_value(st, va, vb);
	return true;
}

/* ---------------------------------------------------------------- propagation */

/* Operands in the same slot of a matched pair: their producers pair up. */
static void pair_operands(diff_state *st, ir_val va, ir_val vb, int level)
{
	if (!va || !vb || st->vmap[0][va] || st->vmap[1][vb])
		return;
	const ir_value *x = ir_value_at(graph(st, 0), va), *y = ir_value_at(graph(st, 1), vb);
	if (x->def_kind == IR_DEF_NODE && y->def_kind == IR_DEF_NODE && x->index == y->index)
		try_nodes(st, x->node, y->node, level);
	else if (x->def_kind == IR_DEF_CONST && y->def_kind == IR_DEF_CONST)
		try_consts(st, va, vb, level);
}

/* For commutative ops: whether pairing operand 0 with 1 fits better. */
static bool swapped(const diff_state *st, ir_nid a, ir_nid b)
{
	const ir_graph *ga = graph(st, 0), *gb = graph(st, 1);
	if (!diff_op_commutes(ga, a) || !diff_op_commutes(gb, b))
		return false;
	ir_val a0 = ir_node_input(ga, a, 0), a1 = ir_node_input(ga, a, 1);
	ir_val b0 = ir_node_input(gb, b, 0), b1 = ir_node_input(gb, b, 1);
	const uint64_t *xa = st->s[0].vx, *xb = st->s[1].vx, *la = st->s[0].vl, *lb = st->s[1].vl;
	int straight = (st->vmap[0][a0] == b0) + (st->vmap[0][a1] == b1) + (xa[a0] == xb[b0]) +
		       (xa[a1] == xb[b1]) + (la[a0] == lb[b0]) + (la[a1] == lb[b1]);
	int crossed = (st->vmap[0][a0] == b1) + (st->vmap[0][a1] == b0) + (xa[a0] == xb[b1]) +
		      (xa[a1] == xb[b0]) + (la[a0] == lb[b1]) + (la[a1] == lb[b0]);
	return crossed > straight;
}

static void examine_back(diff_state *st, ir_nid a, int level)
{
	ir_nid b = st->nmap[0][a];
	const ir_graph *ga = graph(st, 0), *gb = graph(st, 1);
	uint32_t n = ir_node_at(ga, a)->nin, nb = ir_node_at(gb, b)->nin;
	bool swap = swapped(st, a, b);
	for (uint32_t i = 0; i < n && i < nb; i++)
		pair_operands(st, ir_node_input(ga, a, i), ir_node_input(gb, b, swap ? 1 - i : i), level);
}

typedef struct keyed {
	uint64_t key;
	uint32_t pos, id;
} keyed;

static int keyed_cmp(const void *p, const void *q)
{
	const keyed *x = p, *y = q;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static uint64_t level_key(const diff_side *s, ir_nid n, int level)
{
	return level == 0 ? s->nx[n] : level == 1 ? s->nl[n] : s->nop[n];
}

/* Most values have one or two readers: insertion sort below 16. */
static void sort_keyed(keyed *k, size_t n)
{
	if (n > 16) {
		qsort(k, n, sizeof *k, keyed_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && keyed_cmp(&k[j - 1], &k[j]) > 0; j--) {
			keyed t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
}

/* Unmatched consumers of v keyed by (level hash, operand slot); *n of them
 * in a malloc'd array, NULL when there are none or on out of memory. */
static keyed *consumers(diff_state *st, int side, ir_val v, int level, size_t *n)
{
	const diff_side *s = &st->s[side];
	const ir_value *x = ir_value_at(s->g, v);
	*n = 0;
	keyed *k = x->nuses ? malloc(x->nuses * sizeof *k) : NULL;
	if (x->nuses && !k)
		st->oom = true;
	for (uint32_t u = ir_first_use(s->g, v); k && u; u = ir_next_use(s->g, u)) {
		ir_nid c = ir_use_at(s->g, u)->node;
		if (st->nmap[side][c])
			continue;
		uint32_t slot = s->commutes[c] ? 0 : ir_use_operand_index(s->g, u);
		k[(*n)++] = (keyed){diff_mix(level_key(s, c, level), slot), s->pos[c], c};
	}
	sort_keyed(k, *n);
	return k;
}

/* Length of the run of equal keys starting at i. */
static size_t run_length(const keyed *k, size_t n, size_t i)
{
	size_t j = i;
	while (j < n && k[j].key == k[i].key)
		j++;
	return j - i;
}

static void examine_fwd(diff_state *st, ir_val va, int level)
{
	size_t na, nb;
	keyed *ka = consumers(st, 0, va, level, &na);
	keyed *kb = na ? consumers(st, 1, st->vmap[0][va], level, &nb) : NULL;
	size_t i = 0, j = 0;
	while (kb && i < na && j < nb) {
		if (ka[i].key != kb[j].key) {
			ka[i].key < kb[j].key ? i++ : j++;
			continue;
		}
		size_t ra = run_length(ka, na, i), rb = run_length(kb, nb, j);
		if (ra == 1 && rb == 1)
			try_nodes(st, ka[i].id, kb[j].id, level);
		i += ra;
		j += rb;
	}
	free(ka);
	free(kb);
}

static int lowest_level(const diff_state *st)
{
	for (int l = 0; l < DIFF_LEVELS; l++)
		if (st->q[l].head < st->q[l].n)
			return l;
	return -1;
}

static void propagate(diff_state *st)
{
	int level;
	while (!st->oom && (level = lowest_level(st)) >= 0) {
		uint32_t task = st->q[level].v[st->q[level].head++];
		if (task & TASK_VALUE)
			examine_fwd(st, task & ~TASK_VALUE, level);
		else
			examine_back(st, task, level);
		if (level + 1 < DIFF_LEVELS)
			push(st, level + 1, task);
	}
}

/* ---------------------------------------------------------------- classes */

typedef bool (*pair_fn)(diff_state *st, uint32_t a, uint32_t b, int level);

/* ka, kb sorted by key: pairs runs of equal keys, only runs of one on both
 * sides unless zip (then the i-th of A with the i-th of B). */
static void pair_runs(diff_state *st, const keyed *ka, size_t na, const keyed *kb, size_t nb,
		      bool zip, pair_fn f, int level)
{
	size_t i = 0, j = 0;
	while (i < na && j < nb) {
		if (ka[i].key != kb[j].key) {
			ka[i].key < kb[j].key ? i++ : j++;
			continue;
		}
		size_t ra = run_length(ka, na, i), rb = run_length(kb, nb, j);
		for (size_t k = 0; k < ra && k < rb && (zip || (ra == 1 && rb == 1)); k++)
			f(st, ka[i + k].id, kb[j + k].id, level);
		i += ra;
		j += rb;
	}
}

enum key_kind { KEY_EXACT, KEY_LOOSE, KEY_NAME };

static uint64_t node_key(const diff_side *s, ir_nid n, enum key_kind kind)
{
	if (kind == KEY_NAME)
		return diff_mix(s->nop[n], diff_hash_str(s->g, ir_node_at(s->g, n)->name));
	return kind == KEY_EXACT ? s->nx[n] : s->nl[n];
}

/* Unmatched nodes of one side (named ones only for KEY_NAME), sorted. */
static keyed *node_keys(diff_state *st, int side, enum key_kind kind, size_t *n)
{
	const diff_side *s = &st->s[side];
	keyed *k = malloc((s->ntopo + 1) * sizeof *k);
	*n = 0;
	if (!k) {
		st->oom = true;
		return NULL;
	}
	for (uint32_t i = 0; i < s->ntopo; i++) {
		ir_nid id = s->topo[i];
		if (!st->nmap[side][id] && (kind != KEY_NAME || ir_node_at(s->g, id)->name))
			k[(*n)++] = (keyed){node_key(s, id, kind), i, id};
	}
	qsort(k, *n, sizeof *k, keyed_cmp);
	return k;
}

static bool try_named_nodes(diff_state *st, uint32_t a, uint32_t b, int level)
{
	const ir_graph *ga = graph(st, 0), *gb = graph(st, 1);
	(void)level;
	if (strcmp(ir_cstr(ga, ir_node_at(ga, a)->name), ir_cstr(gb, ir_node_at(gb, b)->name)) != 0)
		return false;
	return try_nodes(st, a, b, 2);
}

static void node_classes(diff_state *st, enum key_kind kind, bool zip)
{
	size_t na, nb;
	keyed *ka = node_keys(st, 0, kind, &na), *kb = node_keys(st, 1, kind, &nb);
	if (ka && kb)
		pair_runs(st, ka, na, kb, nb, zip, kind == KEY_NAME ? try_named_nodes : try_nodes,
			  kind == KEY_EXACT ? 0 : 1);
	free(ka);
	free(kb);
}

static keyed *const_keys(diff_state *st, int side, enum key_kind kind, size_t *n)
{
	const diff_side *s = &st->s[side];
	size_t nc = ir_graph_nconsts(s->g);
	keyed *k = malloc((nc + 1) * sizeof *k);
	*n = 0;
	if (!k) {
		st->oom = true;
		return NULL;
	}
	for (uint32_t i = 0; i < nc; i++) {
		ir_val v = ir_graph_const_at(s->g, i);
		ir_str name = ir_value_at(s->g, v)->name;
		if (st->vmap[side][v] || (kind == KEY_NAME && !name))
			continue;
		uint64_t key = kind == KEY_NAME ? diff_hash_str(s->g, name) : kind == KEY_EXACT ? s->vx[v] : s->vl[v];
		k[(*n)++] = (keyed){key, i, v};
	}
	qsort(k, *n, sizeof *k, keyed_cmp);
	return k;
}

static bool try_named_consts(diff_state *st, uint32_t a, uint32_t b, int level)
{
	const ir_graph *ga = graph(st, 0), *gb = graph(st, 1);
	(void)level;
	if (strcmp(ir_cstr(ga, ir_value_at(ga, a)->name), ir_cstr(gb, ir_value_at(gb, b)->name)) != 0)
		return false;
	return try_consts(st, a, b, 2);
}

static void const_classes(diff_state *st, enum key_kind kind, bool zip)
{
	size_t na, nb;
	keyed *ka = const_keys(st, 0, kind, &na), *kb = const_keys(st, 1, kind, &nb);
	if (ka && kb)
		pair_runs(st, ka, na, kb, nb, zip, kind == KEY_NAME ? try_named_consts : try_consts,
			  kind == KEY_EXACT ? 0 : 1);
	free(ka);
	free(kb);
}

/* ---------------------------------------------------------------- graph inputs and outputs */

/* Interface values (inputs, or outputs by position) of one side; keyed by
 * name, or by element type and rank among the unpaired ones. */
static keyed *port_keys(diff_state *st, int side, bool outputs, bool by_name, size_t *n)
{
	const ir_graph *g = graph(st, side);
	size_t np = outputs ? ir_graph_noutputs(g) : ir_graph_ninputs(g);
	keyed *k = malloc((np + 1) * sizeof *k);
	*n = 0;
	if (!k) {
		st->oom = true;
		return NULL;
	}
	for (uint32_t i = 0; i < np; i++) {
		ir_val v = outputs ? ir_graph_output_at(g, i) : ir_graph_input_at(g, i);
		const ir_value *x = ir_value_at(g, v);
		if (outputs ? st->outmap[side][i] != 0 : st->vmap[side][v] != 0)
			continue;
		if (by_name && !x->name)
			continue;
		uint64_t key = by_name ? diff_hash_str(g, x->name)
				       : outputs ? 0 : diff_mix(x->type.dtype, (uint64_t)(int64_t)x->type.rank);
		k[(*n)++] = (keyed){key, i, outputs ? i : v};
	}
	qsort(k, *n, sizeof *k, keyed_cmp);
	return k;
}

static bool same_name(const diff_state *st, ir_val a, ir_val b)
{
	return strcmp(ir_cstr(graph(st, 0), ir_value_at(graph(st, 0), a)->name),
		      ir_cstr(graph(st, 1), ir_value_at(graph(st, 1), b)->name)) == 0;
}

static bool pair_inputs(diff_state *st, uint32_t a, uint32_t b, int by_name)
{
	if (by_name && !same_name(st, a, b))
		return false;
	map_value(st, a, b);
	return true;
}

static bool pair_outputs(diff_state *st, uint32_t a, uint32_t b, int by_name)
{
	if (by_name && !same_name(st, ir_graph_output_at(graph(st, 0), a), ir_graph_output_at(graph(st, 1), b)))
		return false;
	st->outmap[0][a] = b + 1;
	st->outmap[1][b] = a + 1;
	return true;
}

static void anchor_ports(diff_state *st, bool outputs)
{
	for (int by_name = !st->o.ignore_names; by_name >= 0; by_name--) {
		size_t na, nb;
		keyed *ka = port_keys(st, 0, outputs, by_name, &na);
		keyed *kb = port_keys(st, 1, outputs, by_name, &nb);
		if (ka && kb)
			pair_runs(st, ka, na, kb, nb, !by_name, outputs ? pair_outputs : pair_inputs, by_name);
		free(ka);
		free(kb);
	}
}

/* Paired inputs share a hash seed; the others get one of their own side. */
static bool hash_sides(diff_state *st)
{
	for (int side = 0; side < 2; side++) {
		const ir_graph *g = graph(st, side);
		uint64_t *seeds = calloc(st->s[side].nvalues, sizeof *seeds);
		if (!seeds)
			return false;
		for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
			ir_val v = ir_graph_input_at(g, i);
			ir_val key = side == 0 ? v : st->vmap[1][v];
			seeds[v] = key ? diff_mix(SEED_INPUT, key) : diff_mix(SEED_INPUT + 1 + (unsigned)side, v);
		}
		diff_side_hash(&st->s[side], &st->o, seeds);
		free(seeds);
	}
	return true;
}

static void anchor_outputs(diff_state *st)
{
	anchor_ports(st, true);
	for (size_t i = 0; i < ir_graph_noutputs(graph(st, 0)); i++)
		if (st->outmap[0][i])
			pair_operands(st, ir_graph_output_at(graph(st, 0), i),
				      ir_graph_output_at(graph(st, 1), st->outmap[0][i] - 1), 2);
}

bool diff_match(diff_state *st)
{
	anchor_ports(st, false);
	if (!hash_sides(st))
		return false;
	node_classes(st, KEY_EXACT, false);
	const_classes(st, KEY_EXACT, false);
	node_classes(st, KEY_LOOSE, false);
	const_classes(st, KEY_LOOSE, false);
	anchor_outputs(st);
	propagate(st);
	if (!st->o.ignore_names) {
		node_classes(st, KEY_NAME, false);
		const_classes(st, KEY_NAME, false);
		propagate(st);
	}
	node_classes(st, KEY_EXACT, true);
	const_classes(st, KEY_EXACT, true);
	propagate(st);
	node_classes(st, KEY_LOOSE, true);
	propagate(st);
	return !st->oom;
}
