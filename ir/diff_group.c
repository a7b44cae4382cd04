/* Graph diff, part 4: replacement groups.
 *
 * Seeds: where a kept node (or a graph output) read a removed node's result
 * in A and reads an added node's result (or a new constant) in B in the same
 * operand slot, the two producers took each other's place; seeds that share
 * a producer are one.  Then every removed or added node gets a label from
 * the nodes of its side that read its results, in reverse topological
 * order: a seed's own label, else the one label its unmatched readers
 * share, else a new label naming the set of its readers' labels.  Nodes of
 * A and B with equal labels form a group, so in a chain Conv→Relu→Conv→Relu
 * fused into FusedConv→FusedConv each Conv+Relu pairs with its own
 * FusedConv, and a removed node feeding two fused patterns pairs with the
 * added node feeding the same two.  Nodes without a label (their results
 * reach no seed) group by connectivity.  Labels do not flow from nodes that
 * compute from more than constants into nodes that compute from constants
 * only, so a removed Identity or Constant feeding a fused pattern forms a
 * group of its own instead of changing the shape of the fusion.  Groups
 * with the same summary (ops removed → ops added) are listed together, the
 * most frequent shape first. */
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

enum { SEED_GROUP = 0x67726f75, LABEL_BUF = 64 };

typedef struct const_link {
	ir_nid removed; /* a removed node of A ... */
	ir_val c;       /* ... whose result's reader now reads this new constant of B */
} const_link;

typedef struct grouper {
	const diff_state *st;
	uint32_t base[3];    /* union-find offsets of A's nodes, B's nodes, B's values */
	uint32_t *parent;    /* union-find over those */
	uint64_t *label[2];  /* per node: 0 when none */
	uint8_t *seeded[2];  /* per node: a producer that took another's place */
	uint32_t *gidx;      /* root -> group index + 1 */
	uint32_t *stamp[2];  /* per value: group index + 1 that last listed it */
	uint8_t *isout[2];   /* per value: is a graph output */
	const_link *links;
	size_t nlinks, caplinks;
	uint32_t ngroups;
	bool oom;
} grouper;

static uint32_t uf_find(grouper *gr, uint32_t x)
{
	while (gr->parent[x] != x) {
		gr->parent[x] = gr->parent[gr->parent[x]];
		x = gr->parent[x];
	}
	return x;
}

static void uf_unite(grouper *gr, uint32_t x, uint32_t y)
{
	x = uf_find(gr, x);
	y = uf_find(gr, y);
	if (x != y)
		gr->parent[x > y ? x : y] = x > y ? y : x;
}

static uint32_t gid(const grouper *gr, int side, ir_nid n)
{
	return gr->base[side] + n;
}

/* The node without counterpart that produces v, or 0. */
static ir_nid unmatched_producer(const diff_state *st, int side, ir_val v)
{
	const ir_value *x = ir_value_at(st->s[side].g, v);
	if (!x || x->def_kind != IR_DEF_NODE || st->nmap[side][x->node])
		return 0;
	return x->node;
}

/* ---------------------------------------------------------------- seeds */

static void add_const_link(grouper *gr, ir_nid removed, ir_val c)
{
	if (gr->nlinks == gr->caplinks) {
		size_t cap = gr->caplinks ? gr->caplinks * 2 : 16;
		const_link *v = realloc(gr->links, cap * sizeof *v);
		if (!v) {
			gr->oom = true;
			return;
		}
		gr->links = v;
		gr->caplinks = cap;
	}
	gr->links[gr->nlinks++] = (const_link){removed, c};
}

/* va of A and vb of B are read in the same place. */
static void seed_pair(grouper *gr, ir_val va, ir_val vb)
{
	const diff_state *st = gr->st;
	ir_nid p = va ? unmatched_producer(st, 0, va) : 0;
	if (!p || !vb)
		return;
	ir_nid q = unmatched_producer(st, 1, vb);
	if (q) {
		uf_unite(gr, gid(gr, 0, p), gid(gr, 1, q));
		gr->seeded[0][p] = gr->seeded[1][q] = 1;
	} else if (ir_value_at(st->s[1].g, vb)->def_kind == IR_DEF_CONST && !st->vmap[1][vb]) {
		uf_unite(gr, gid(gr, 0, p), gr->base[2] + vb);
		gr->seeded[0][p] = 1;
		add_const_link(gr, p, vb);
	}
}

static void seed_across(grouper *gr)
{
	const diff_state *st = gr->st;
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	for (uint32_t i = 0; i < st->s[0].ntopo; i++) {
		ir_nid a = st->s[0].topo[i], b = st->nmap[0][a];
		if (!b)
			continue;
		bool swap = diff_operands_swapped(st, a, b);
		uint32_t n = ir_node_at(ga, a)->nin, nb = ir_node_at(gb, b)->nin;
		for (uint32_t k = 0; k < n && k < nb; k++)
			seed_pair(gr, ir_node_input(ga, a, k), ir_node_input(gb, b, swap ? 1 - k : k));
	}
	for (size_t i = 0; i < ir_graph_noutputs(ga); i++)
		if (st->outmap[0][i])
			seed_pair(gr, ir_graph_output_at(ga, i), ir_graph_output_at(gb, st->outmap[0][i] - 1));
}

/* ---------------------------------------------------------------- anchors
 * A removed node and an added node that read the same constant in the same
 * operand slot, each its constant's only unmatched reader (the weights a
 * Conv keeps when it becomes a FusedConv), or that bear the same name (as
 * optimisers often keep), stand for each other: they join one group, and
 * the unmatched producers of their operands in the same slots are seeds,
 * which splits a chain of fused patterns into one group per fusion. */

static void anchor(grouper *gr, ir_nid a, ir_nid b)
{
	const diff_state *st = gr->st;
	const ir_graph *ga = st->s[0].g, *gb = st->s[1].g;
	uf_unite(gr, gid(gr, 0, a), gid(gr, 1, b));
	gr->seeded[0][a] = gr->seeded[1][b] = 1;
	for (uint32_t k = 0; k < ir_node_at(ga, a)->nin && k < ir_node_at(gb, b)->nin; k++) {
		ir_val va = ir_node_input(ga, a, k), vb = ir_node_input(gb, b, k);
		ir_nid p = unmatched_producer(st, 0, va), q = unmatched_producer(st, 1, vb);
		if ((p && st->s[0].constlike[p]) || (q && st->s[1].constlike[q]))
			continue;
		if (p && q)
			uf_unite(gr, gid(gr, 0, p), gid(gr, 1, q));
		/* a producer facing a kept value on the other side (a BatchNormalization
		 * folded into the kept Conv before it) is a group of its own */
		if (p && (q || (vb && st->vmap[1][vb])))
			gr->seeded[0][p] = 1;
		if (q && (p || (va && st->vmap[0][va])))
			gr->seeded[1][q] = 1;
	}
}

/* The only unmatched reader of v, and its operand slot; 0 when none or several. */
static ir_nid sole_unmatched_reader(const diff_state *st, int side, ir_val v, uint32_t *slot)
{
	const ir_graph *g = st->s[side].g;
	ir_nid found = 0;
	for (uint32_t u = ir_first_use(g, v); u; u = ir_next_use(g, u)) {
		ir_nid c = ir_use_at(g, u)->node;
		if (st->nmap[side][c])
			continue;
		if (found)
			return 0;
		found = c;
		*slot = ir_use_operand_index(g, u);
	}
	return found;
}

static void anchor_by_constants(grouper *gr)
{
	const diff_state *st = gr->st;
	const ir_graph *ga = st->s[0].g;
	for (size_t i = 0; i < ir_graph_nconsts(ga); i++) {
		ir_val va = ir_graph_const_at(ga, i), vb = st->vmap[0][va];
		uint32_t ka = 0, kb = 0;
		ir_nid a = vb ? sole_unmatched_reader(st, 0, va, &ka) : 0;
		ir_nid b = a ? sole_unmatched_reader(st, 1, vb, &kb) : 0;
		if (b && ka == kb)
			anchor(gr, a, b);
	}
}

typedef struct named {
	uint64_t hash;
	ir_nid n;
} named;

static int by_hash(const void *p, const void *q)
{
	const named *x = p, *y = q;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->n > y->n) - (x->n < y->n);
}

/* Unmatched named nodes of one side, sorted by name hash. */
static named *names_of(grouper *gr, int side, size_t *n)
{
	const diff_side *s = &gr->st->s[side];
	named *v = malloc((s->ntopo + 1) * sizeof *v);
	*n = 0;
	if (!v) {
		gr->oom = true;
		return NULL;
	}
	for (uint32_t i = 0; i < s->ntopo; i++) {
		ir_nid id = s->topo[i];
		if (!gr->st->nmap[side][id] && ir_node_at(s->g, id)->name)
			v[(*n)++] = (named){diff_hash_str(s->g, ir_node_at(s->g, id)->name), id};
	}
	qsort(v, *n, sizeof *v, by_hash);
	return v;
}

static size_t same_hash_run(const named *v, size_t n, size_t i)
{
	size_t j = i;
	while (j < n && v[j].hash == v[i].hash)
		j++;
	return j - i;
}

static void anchor_by_names(grouper *gr)
{
	const ir_graph *ga = gr->st->s[0].g, *gb = gr->st->s[1].g;
	size_t na, nb, i = 0, j = 0;
	named *va = names_of(gr, 0, &na), *vb = names_of(gr, 1, &nb);
	while (va && vb && i < na && j < nb) {
		if (va[i].hash != vb[j].hash) {
			va[i].hash < vb[j].hash ? i++ : j++;
			continue;
		}
		size_t ra = same_hash_run(va, na, i), rb = same_hash_run(vb, nb, j);
		if (ra == 1 && rb == 1 &&
		    strcmp(ir_cstr(ga, ir_node_at(ga, va[i].n)->name), ir_cstr(gb, ir_node_at(gb, vb[j].n)->name)) == 0)
			anchor(gr, va[i].n, vb[j].n);
		i += ra;
		j += rb;
	}
	free(va);
	free(vb);
}

/* ---------------------------------------------------------------- labels */

static int cmp_u64(const void *p, const void *q)
{
	uint64_t x = *(const uint64_t *)p, y = *(const uint64_t *)q;
	return (x > y) - (x < y);
}

/* Labels of n's unmatched readers into buf (cap entries); their count. */
static size_t reader_labels(grouper *gr, int side, ir_nid n, uint64_t *buf, size_t cap)
{
	const diff_side *s = &gr->st->s[side];
	size_t k = 0;
	for (uint32_t r = 0; r < ir_node_at(s->g, n)->nout; r++)
		for (uint32_t u = ir_first_use(s->g, ir_node_output(s->g, n, r)); u; u = ir_next_use(s->g, u)) {
			ir_nid c = ir_use_at(s->g, u)->node;
			if (gr->st->nmap[side][c] || !gr->label[side][c] || s->constlike[c] != s->constlike[n])
				continue;
			if (k < cap)
				buf[k] = gr->label[side][c];
			k++;
		}
	return k;
}

static uint64_t readers_label(uint64_t *buf, size_t k)
{
	qsort(buf, k, sizeof *buf, cmp_u64);
	uint64_t h = SEED_GROUP;
	size_t distinct = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || buf[i] != buf[i - 1]) {
			h = diff_mix(h, buf[i]);
			distinct++;
		}
	return distinct == 1 ? buf[0] : h;
}

static uint64_t node_label(grouper *gr, int side, ir_nid n)
{
	if (gr->seeded[side][n])
		return diff_mix(SEED_GROUP, uf_find(gr, gid(gr, side, n)));
	uint64_t small[LABEL_BUF], *buf = small;
	size_t k = reader_labels(gr, side, n, small, LABEL_BUF);
	if (k > LABEL_BUF) {
		buf = malloc(k * sizeof *buf);
		if (!buf) {
			gr->oom = true;
			return 0;
		}
		reader_labels(gr, side, n, buf, k);
	}
	uint64_t label = k ? readers_label(buf, k) : 0;
	if (buf != small)
		free(buf);
	return label;
}

static void label_side(grouper *gr, int side)
{
	const diff_side *s = &gr->st->s[side];
	for (uint32_t i = s->ntopo; i-- > 0;)
		if (!gr->st->nmap[side][s->topo[i]])
			gr->label[side][s->topo[i]] = node_label(gr, side, s->topo[i]);
}

typedef struct labelled {
	uint64_t label;
	uint32_t id;
} labelled;

static int by_label(const void *p, const void *q)
{
	const labelled *x = p, *y = q;
	if (x->label != y->label)
		return x->label < y->label ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Unites the nodes of both sides that carry the same label. */
static void unite_labels(grouper *gr)
{
	size_t total = (size_t)gr->st->s[0].ntopo + gr->st->s[1].ntopo, n = 0;
	labelled *v = malloc((total + 1) * sizeof *v);
	if (!v) {
		gr->oom = true;
		return;
	}
	for (int side = 0; side < 2; side++)
		for (uint32_t i = 0; i < gr->st->s[side].ntopo; i++) {
			ir_nid id = gr->st->s[side].topo[i];
			if (!gr->st->nmap[side][id] && gr->label[side][id])
				v[n++] = (labelled){gr->label[side][id], gid(gr, side, id)};
		}
	qsort(v, n, sizeof *v, by_label);
	for (size_t i = 1; i < n; i++)
		if (v[i].label == v[i - 1].label)
			uf_unite(gr, v[i].id, v[i - 1].id);
	free(v);
}

/* Nodes without a label: by connectivity within their side. */
static void unite_unlabelled(grouper *gr, int side)
{
	const diff_side *s = &gr->st->s[side];
	for (uint32_t i = 0; i < s->ntopo; i++) {
		ir_nid n = s->topo[i];
		if (gr->st->nmap[side][n] || gr->label[side][n])
			continue;
		for (uint32_t k = 0; k < ir_node_at(s->g, n)->nin; k++) {
			ir_nid p = unmatched_producer(gr->st, side, ir_node_input(s->g, n, k));
			if (p && !gr->label[side][p] && s->constlike[p] == s->constlike[n])
				uf_unite(gr, gid(gr, side, n), gid(gr, side, p));
		}
	}
}

/* ---------------------------------------------------------------- members */

static bool in_group(grouper *gr, int side, ir_nid n, uint32_t g)
{
	return !gr->st->nmap[side][n] && gr->gidx[uf_find(gr, gid(gr, side, n))] == g + 1;
}

static void number_groups(grouper *gr)
{
	for (int side = 0; side < 2; side++) {
		const diff_side *s = &gr->st->s[side];
		for (uint32_t i = 0; i < s->ntopo; i++) {
			uint32_t root = uf_find(gr, gid(gr, side, s->topo[i]));
			if (!gr->st->nmap[side][s->topo[i]] && !gr->gidx[root])
				gr->gidx[root] = ++gr->ngroups;
		}
	}
}

/* Counts (store false) or lists (store true) each group's removed and
 * added nodes, in topological order. */
static void fill_members(grouper *gr, ir_diff_group *groups, bool store)
{
	for (int side = 0; side < 2; side++) {
		const diff_side *s = &gr->st->s[side];
		for (uint32_t i = 0; i < s->ntopo; i++) {
			ir_nid n = s->topo[i];
			if (gr->st->nmap[side][n])
				continue;
			ir_diff_group *g = &groups[gr->gidx[uf_find(gr, gid(gr, side, n))] - 1];
			uint32_t *cnt = side ? &g->nadded : &g->nremoved;
			if (store)
				(side ? g->added : g->removed)[*cnt] = n;
			(*cnt)++;
		}
	}
}

static bool alloc_members(ir_diff_group *groups, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		ir_diff_group *g = &groups[i];
		g->removed = malloc((g->nremoved + 1) * sizeof *g->removed);
		g->added = malloc((g->nadded + 1) * sizeof *g->added);
		if (!g->removed || !g->added)
			return false;
		g->nremoved = g->nadded = 0;
	}
	return true;
}

static void count_consts(grouper *gr, ir_diff_group *groups)
{
	for (size_t i = 0; i < gr->nlinks; i++) {
		uint32_t g = gr->gidx[uf_find(gr, gid(gr, 0, gr->links[i].removed))] - 1;
		if (gr->stamp[1][gr->links[i].c] == g + 1)
			continue;
		gr->stamp[1][gr->links[i].c] = g + 1;
		groups[g].nconsts++;
	}
}

/* ---------------------------------------------------------------- boundary */

static bool read_outside(grouper *gr, int side, ir_val v, uint32_t g)
{
	const ir_graph *gg = gr->st->s[side].g;
	if (gr->isout[side][v])
		return true;
	for (uint32_t u = ir_first_use(gg, v); u; u = ir_next_use(gg, u))
		if (!in_group(gr, side, ir_use_at(gg, u)->node, g))
			return true;
	return false;
}

static bool node_boundary(grouper *gr, int side, ir_nid n, uint32_t g, ir_diff_group *grp)
{
	const ir_graph *gg = gr->st->s[side].g;
	bool ok = true;
	for (uint32_t k = 0; k < ir_node_at(gg, n)->nin; k++) {
		ir_val v = ir_node_input(gg, n, k);
		const ir_value *x = ir_value_at(gg, v);
		if (!x || x->def_kind == IR_DEF_CONST || gr->stamp[side][v] == g + 1 ||
		    (x->def_kind == IR_DEF_NODE &&
		     (in_group(gr, side, x->node, g) || gr->st->s[side].constlike[x->node])))
			continue;
		gr->stamp[side][v] = g + 1;
		ok = diff_push_val(&grp->in, v) && ok;
	}
	for (uint32_t k = 0; k < ir_node_at(gg, n)->nout; k++) {
		ir_val v = ir_node_output(gg, n, k);
		if (read_outside(gr, side, v, g))
			ok = diff_push_val(&grp->out, v) && ok;
	}
	return ok;
}

static bool boundaries(grouper *gr, ir_diff_group *groups)
{
	bool ok = true;
	for (uint32_t g = 0; g < gr->ngroups; g++) {
		ir_diff_group *grp = &groups[g];
		int side = grp->nremoved ? 0 : 1;
		uint32_t n = side ? grp->nadded : grp->nremoved;
		for (uint32_t i = 0; i < n; i++)
			ok = node_boundary(gr, side, side ? grp->added[i] : grp->removed[i], g, grp) && ok;
	}
	return ok;
}

/* ---------------------------------------------------------------- order */

typedef struct sortable {
	ir_diff_group g;
	uint32_t freq;
	uint64_t first;
} sortable;

static int by_summary(const void *p, const void *q)
{
	const sortable *x = p, *y = q;
	int c = strcmp(x->g.summary, y->g.summary);
	return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int by_frequency(const void *p, const void *q)
{
	const sortable *x = p, *y = q;
	if (x->freq != y->freq)
		return x->freq < y->freq ? 1 : -1;
	return by_summary(p, q);
}

static bool sort_groups(const diff_state *st, ir_diff_group *groups, uint32_t n)
{
	sortable *v = malloc((n + 1) * sizeof *v);
	if (!v)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		ir_diff_group *g = &groups[i];
		v[i].g = *g;
		v[i].first = g->nremoved ? st->s[0].pos[g->removed[0]]
					 : (1ull << 32) + st->s[1].pos[g->added[0]];
	}
	qsort(v, n, sizeof *v, by_summary);
	for (uint32_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && strcmp(v[j].g.summary, v[i].g.summary) == 0; j++)
			;
		for (uint32_t k = i; k < j; k++)
			v[k].freq = j - i;
	}
	qsort(v, n, sizeof *v, by_frequency);
	for (uint32_t i = 0; i < n; i++)
		groups[i] = v[i].g;
	free(v);
	return true;
}

/* ---------------------------------------------------------------- driver */

static bool grouper_init(grouper *gr, const diff_state *st)
{
	memset(gr, 0, sizeof *gr);
	gr->st = st;
	gr->base[1] = st->s[0].nnodes;
	gr->base[2] = gr->base[1] + st->s[1].nnodes;
	size_t total = (size_t)gr->base[2] + st->s[1].nvalues;
	gr->parent = malloc(total * sizeof *gr->parent);
	gr->gidx = calloc(total, sizeof *gr->gidx);
	for (int side = 0; side < 2; side++) {
		gr->label[side] = calloc(st->s[side].nnodes, sizeof *gr->label[side]);
		gr->seeded[side] = calloc(st->s[side].nnodes, 1);
		gr->stamp[side] = calloc(st->s[side].nvalues, sizeof *gr->stamp[side]);
		gr->isout[side] = calloc(st->s[side].nvalues, 1);
		if (!gr->label[side] || !gr->seeded[side] || !gr->stamp[side] || !gr->isout[side])
			return false;
		for (size_t i = 0; i < ir_graph_noutputs(st->s[side].g); i++)
			gr->isout[side][ir_graph_output_at(st->s[side].g, i)] = 1;
	}
	if (!gr->parent || !gr->gidx)
		return false;
	for (size_t i = 0; i < total; i++)
		gr->parent[i] = (uint32_t)i;
	return true;
}

static void grouper_free(grouper *gr)
{
	free(gr->parent);
	free(gr->gidx);
	for (int side = 0; side < 2; side++) {
		free(gr->label[side]);
		free(gr->seeded[side]);
		free(gr->stamp[side]);
		free(gr->isout[side]);
	}
	free(gr->links);
}

static bool build_groups(grouper *gr, ir_diff *r)
{
	seed_across(gr);
	anchor_by_constants(gr);
	if (!gr->st->o.ignore_names)
		anchor_by_names(gr);
	label_side(gr, 0);
	label_side(gr, 1);
	unite_labels(gr);
	unite_unlabelled(gr, 0);
	unite_unlabelled(gr, 1);
	number_groups(gr);
	r->groups = calloc(gr->ngroups + 1, sizeof *r->groups);
	if (!r->groups || gr->oom)
		return false;
	r->ngroups = gr->ngroups;
	fill_members(gr, r->groups, false);
	if (!alloc_members(r->groups, r->ngroups))
		return false;
	fill_members(gr, r->groups, true);
	count_consts(gr, r->groups);
	if (!boundaries(gr, r->groups))
		return false;
	for (uint32_t i = 0; i < r->ngroups; i++)
		if (!(r->groups[i].summary = diff_group_summary(gr->st, &r->groups[i])))
			return false;
	return sort_groups(gr->st, r->groups, r->ngroups);
}

bool diff_groups(const diff_state *st, ir_diff *r)
{
	grouper gr;
	bool ok = grouper_init(&gr, st) && build_groups(&gr, r);
	grouper_free(&gr);
	return ok;
}
