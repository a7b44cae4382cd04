/* The fixpoint driver: applies the enabled rules of a rule set phase by
 * phase (lower first, each to its fixpoint).  Within a phase, rules are
 * grouped by benefit; the group with the highest benefit that has work goes
 * first, and within a group nodes are visited in graph order.  Each node is
 * offered only to the rules whose root accepts its op (match_index.c); the
 * first match applied wins (greedy: the nodes it removes cannot be matched
 * again).
 *
 * Near-linear: each group sweeps once over the nodes its rules can be
 * anchored at (collected in one pass over the graph), plus a worklist of
 * the nodes a rewrite touched.  A new match contains a changed node, at a
 * pattern node accepting its op, and its root (a sink of the pattern) lies
 * downstream of it at most that pattern node's height away, so those nodes
 * are revisited.
 * Multi-sink patterns (whose other sinks may lie sideways) and capped
 * neighbourhoods get one confirming sweep that must find nothing.  The
 * iteration budget stops rule sets that never converge. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define RING 64           /* rewrites remembered for the non-convergence message */
#define CONE_CAP 4096     /* nodes revisited after one rewrite before giving up on precision */
#define PREFETCH_STEP 3   /* sweep positions between the stages of ir_prefetch_node */

eng_options eng_default_options(void)
{
	eng_options o = {0};
	o.max_iterations = 0; /* automatic: 10 per node of the graph, plus 1000 */
	o.match_budget = 20000;
	o.records = true;
#ifndef NDEBUG
	o.verify_each = true;
#endif
	return o;
}

void eng_report_free(eng_report *r)
{
	eng_arena_free(r->names); /* every record's names */
	free(r->newnames);
	free(r->v);
	free(r->rules);
	free(r->counts);
	memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- worklists */

typedef struct hent {
	uint64_t label;
	ir_nid n;
} hent;

/* A group of rules of equal benefit.  Its sweep visits, in graph order,
 * the nodes its rules can be anchored at (collected when the sweep starts);
 * its heap holds the nodes to visit again because a rewrite touched their
 * neighbourhood. */
typedef struct level {
	int benefit;
	const eng_rule **rules;
	size_t nrules;
	eng_index *ix;
	ir_nid *cand;     /* the sweep's nodes */
	size_t ncand, cand_cap, pos; /* pos: the next one */
	ir_nid head;      /* sweep_head's answer at pos, while that node is not removed */
	size_t head_pos;
	bool head_ok;
	hent *heap;       /* revisits, by graph position */
	size_t nheap, heap_cap;
	/* Revisits queued before the group's turn came (nodes made or moved
	 * meanwhile, mostly): appended unsorted, sorted once when the turn
	 * comes, then read in order -- a heap of them costs a sift per node. */
	hent *back;
	size_t nback, back_cap, bpos;
	bool started;     /* the group has had its turn in this sweep */
	bool moved_ahead; /* a node its sweep passed may lie ahead of the head (moves) */
} level;

/* The groups whose rules can be anchored at nodes of one (op, domain): bit
 * i for group i; 0 when not computed yet. */
#define MASK_KNOWN (1ull << 63) /* set in every computed mask */
#define MASK_LEVELS 63          /* groups a mask can tell about */
#define REACH_LEVELS 16         /* groups whose reach a mask remembers */

typedef struct opmask {
	ir_str domain;
	uint64_t bits;
	uint64_t multi; /* the groups with a multi-sink rule among those */
	int8_t reach[REACH_LEVELS]; /* per group: eng_index_reach (heights are capped at 64) */
} opmask;

typedef struct drv {
	ir_graph *g;
	const eng_options *o;
	eng_report *rep;
	ir_diags *d;
	eng_rw w;
	eng_matcher *m;
	level *lv;
	int nlv;
	uint32_t *qmask;  /* per node: queued in the heap of level i (bit i, i < 32) */
	size_t nq;
	ir_nid *changed;  /* nodes the current rewrite touched */
	size_t nchanged, changed_cap;
	uint32_t *passed; /* per node: passed by the sweep of group i (bit i, i < 32) */
	uint32_t *pend;   /* per node: still to come in the sweep of group i (bit i, i < 32) */
	size_t npassed;   /* nodes passed and pend describe (those made later: neither) */
	uint8_t *dist;    /* scratch: per node, its distance from a change */
	uint8_t *tsweep;  /* per node: the sweep (mod 256) during which a rewrite last touched it */
	size_t ndist;     /* nodes dist and tsweep have room for */
	uint8_t sweep_no; /* the current sweep's number (mod 256) */
	bool confirm;     /* the phase needs a confirming sweep */
	bool confirm_all; /* ... for every rule: a neighbourhood was too large to revisit */
	bool multi_only;  /* the current sweep confirms multi-sink rules only */
	size_t since_sweep;
	uint64_t rewrites, max_rewrites;
	const eng_rule *ring[RING];
	ir_nid last_at;   /* the root of the last match offered to the rewriter */
	size_t last_rule; /* the report's count the last rewrite went to */
	const eng_rule **exhausted; /* rules whose match budget ran out */
	size_t *nexhausted;
	size_t nex;
	const eng_rule **all;
	size_t nall;
	opmask *masks;    /* per op string id: which groups' rules can be anchored at it */
	size_t nmasks;
	bool applied, error, stopped;
	bool unlabelled;  /* the order labels are still to be given (eng_rw_init) */
} drv;

/* Room for one more entry in a list of n entries (the heap or the backlog). */
static bool hent_room(hent **v, size_t n, size_t *cap)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 256;
	hent *h = realloc(*v, c * sizeof *h);
	if (!h)
		return false;
	*v = h;
	*cap = c;
	return true;
}

static bool back_push(level *lv, uint64_t label, ir_nid n)
{
	if (!hent_room(&lv->back, lv->nback, &lv->back_cap))
		return false;
	lv->back[lv->nback++] = (hent){label, n};
	return true;
}

static int hent_cmp(const void *a, const void *b)
{
	const hent *x = a, *y = b;
	return x->label < y->label ? -1 : x->label > y->label ? 1 : (x->n > y->n) - (x->n < y->n);
}

static bool heap_push(level *lv, uint64_t label, ir_nid n)
{
	if (!hent_room(&lv->heap, lv->nheap, &lv->heap_cap))
		return false;
	size_t i = lv->nheap++;
	while (i && lv->heap[(i - 1) / 2].label > label) {
		lv->heap[i] = lv->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	lv->heap[i] = (hent){label, n};
	return true;
}

static hent heap_pop(level *lv)
{
	hent top = lv->heap[0], x = lv->heap[--lv->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= lv->nheap)
			break;
		if (c + 1 < lv->nheap && lv->heap[c + 1].label < lv->heap[c].label)
			c++;
		if (lv->heap[c].label >= x.label)
			break;
		lv->heap[i] = lv->heap[c];
		i = c;
	}
	if (lv->nheap)
		lv->heap[i] = x;
	return top;
}

static bool ensure_qmask(drv *dv)
{
	size_t need = ir_nnodes_total(dv->g) + 1;
	if (need <= dv->nq)
		return true;
	size_t cap = dv->nq ? dv->nq : 1024;
	while (cap < need)
		cap *= 2;
	uint32_t *q = realloc(dv->qmask, cap * sizeof *q);
	if (!q)
		return false;
	memset(q + dv->nq, 0, (cap - dv->nq) * sizeof *q);
	dv->qmask = q;
	dv->nq = cap;
	return true;
}

/* True when group lv's rules (its multi-sink ones when multi) can be
 * anchored at n. */
static bool relevant(drv *dv, level *lv, ir_nid n, bool multi)
{
	uint32_t cnt;
	const uint32_t *ri = eng_index_rules(lv->ix, dv->m, dv->g, n, &cnt);
	if (!ri) {
		dv->error = true;
		return false;
	}
	for (uint32_t k = 0; multi && k < cnt; k++)
		if (lv->rules[ri[k]]->nsinks > 1)
			return true;
	return !multi && cnt > 0;
}

/* requires: dv->nlv <= MASK_LEVELS. */
static opmask compute_mask(drv *dv, ir_nid n)
{
	opmask e = {.domain = ir_node_at(dv->g, n)->domain, .bits = MASK_KNOWN};
	for (int i = 0; i < dv->nlv; i++) {
		if (relevant(dv, &dv->lv[i], n, false))
			e.bits |= 1ull << i;
		if (relevant(dv, &dv->lv[i], n, true))
			e.multi |= 1ull << i;
		if (i < REACH_LEVELS) {
			int r = eng_index_reach(dv->lv[i].ix, dv->m, dv->g, n);
			dv->error = dv->error || r == -2;
			e.reach[i] = (int8_t)(r < -1 ? -1 : r);
		}
	}
	return e;
}

static const opmask *level_entry_new(drv *dv, ir_nid n, ir_str op);

/* What the groups' indexes say about n's (op, domain), remembered per op:
 * they answer the same for every node of an (op, domain).  NULL when it
 * cannot be remembered (out of memory). */
static inline const opmask *level_entry(drv *dv, ir_nid n)
{
	const ir_node *x = ir_node_at(dv->g, n);
	ir_str op = x->op;
	if (op < dv->nmasks && dv->masks[op].bits && dv->masks[op].domain == x->domain)
		return &dv->masks[op];
	return level_entry_new(dv, n, op);
}

/* level_entry for an op not remembered yet (or of another domain). */
static const opmask *level_entry_new(drv *dv, ir_nid n, ir_str op)
{
	if (op >= dv->nmasks) {
		size_t cap = dv->nmasks ? dv->nmasks : 64;
		while (cap <= op)
			cap *= 2;
		opmask *v = realloc(dv->masks, cap * sizeof *v);
		if (!v)
			return NULL;
		memset(v + dv->nmasks, 0, (cap - dv->nmasks) * sizeof *v);
		dv->masks = v;
		dv->nmasks = cap;
	}
	dv->masks[op] = compute_mask(dv, n);
	return &dv->masks[op];
}

/* The index of the lowest set bit of b (b != 0). */
static int lowest(uint64_t b)
{
	return __builtin_ctzll(b);
}

/* Which groups' rules (multi-sink ones when multi) can be anchored at n
 * (bit i: group i). */
static uint64_t level_bits(drv *dv, ir_nid n, bool multi)
{
	const opmask *e = level_entry(dv, n);
	opmask x;
	if (!e) {
		x = compute_mask(dv, n);
		e = &x;
	}
	return multi ? e->multi : e->bits & ~MASK_KNOWN;
}

/* The sweep's next live node, or 0 (remembered: it is asked for after
 * every rewrite, and changes only when the sweep moves on or the node is
 * removed, which on_removed tells; looking at the node itself would be a
 * cache miss per group per rewrite). */
static ir_nid sweep_head(drv *dv, level *lv)
{
	if (lv->head_ok && lv->head_pos == lv->pos)
		return lv->head;
	while (lv->pos < lv->ncand && ir_node_at(dv->g, lv->cand[lv->pos])->dead)
		lv->pos++;
	lv->head = lv->pos < lv->ncand ? lv->cand[lv->pos] : 0;
	lv->head_pos = lv->pos;
	lv->head_ok = true;
	return lv->head;
}

/* Whether a rule of group lv anchored at n can match n as the graph is
 * now, as far as eng_match_plausible tells.  What that depends on (n's op
 * and its operands' producers) changes only when n's operands do, and every
 * such edit touches n, which schedules it again; so a revisit that fails
 * here need not be queued (in the dense benchmark none of the million
 * revisits found a match, and most fail here while n is still in cache). */
static bool may_match(drv *dv, level *lv, ir_nid n)
{
	uint32_t cnt;
	const uint32_t *ri = eng_index_rules(lv->ix, dv->m, dv->g, n, &cnt);
	if (!ri) {
		dv->error = true;
		return false;
	}
	for (uint32_t k = 0; k < cnt; k++)
		if (eng_match_plausible_indexed(dv->m, lv->rules[ri[k]], dv->g, n))
			return true;
	return false;
}

/* Makes sure group i (whose rules can be anchored at n) visits n again:
 * its sweep will when n is still to come in it, ahead of its head, and the
 * sweep offers nodes to all the group's rules (not a confirming sweep of
 * multi-sink rules); else its heap -- unless no rule of the group can
 * match there.  A node the sweep left out (no rule of the group could
 * match there when it started) or made later is never counted on. */
static void schedule_at(drv *dv, int i, ir_nid n)
{
	level *lv = &dv->lv[i];
	uint32_t bit = i < 32 ? 1u << i : 0;
	if (dv->qmask[n] & bit)
		return;
	uint64_t label = dv->w.label[n];
	ir_nid head = sweep_head(dv, lv);
	bool pending = n < dv->npassed && (dv->pend[n] & bit);
	if (pending && !dv->multi_only && head && label >= dv->w.label[head])
		return;
	/* the sweep took n iff a rule could match there when it started, and
	 * that can change only when a rewrite touches n */
	bool known = bit && n < dv->npassed && n < dv->ndist && !dv->multi_only && dv->tsweep[n] != dv->sweep_no;
	if (known ? !((dv->pend[n] | dv->passed[n]) & bit) : !may_match(dv, lv, n))
		return;
	if (!(lv->started ? heap_push(lv, label, n) : back_push(lv, label, n)))
		dv->error = true;
	dv->qmask[n] |= bit;
}

/* schedule_at for every group whose rules can be anchored at n. */
static void schedule(drv *dv, ir_nid n)
{
	if (ir_node_at(dv->g, n)->dead)
		return;
	if (!ensure_qmask(dv)) {
		dv->error = true;
		return;
	}
	if (dv->nlv > MASK_LEVELS) {
		for (int i = 0; i < dv->nlv; i++)
			if (relevant(dv, &dv->lv[i], n, false))
				schedule_at(dv, i, n);
		return;
	}
	for (uint64_t b = level_bits(dv, n, false); b; b &= b - 1)
		schedule_at(dv, lowest(b), n);
}

/* The next node group lv visits, or 0; *swept: it comes from the sweep
 * (not from the revisits). */
static ir_nid level_next(drv *dv, level *lv, int i, bool *swept)
{
	*swept = false;
	uint32_t bit = i < 32 ? 1u << i : 0;
	if (!lv->started) {
		lv->started = true;
		if (lv->nback > 1)
			qsort(lv->back, lv->nback, sizeof *lv->back, hent_cmp);
	}
	while (lv->nheap || lv->bpos < lv->nback) {
		ir_nid head = sweep_head(dv, lv);
		uint64_t until = head ? dv->w.label[head] : UINT64_MAX;
		bool heap = lv->nheap && lv->heap[0].label < until;
		bool back = lv->bpos < lv->nback && lv->back[lv->bpos].label < until;
		if (!heap && !back)
			break;
		hent h = heap && (!back || lv->heap[0].label <= lv->back[lv->bpos].label) ? heap_pop(lv)
											   : lv->back[lv->bpos++];
		dv->qmask[h.n] &= ~bit;
		if (!ir_node_at(dv->g, h.n)->dead)
			return h.n;
	}
	ir_nid head = sweep_head(dv, lv);
	if (head) {
		if (i < 32 && head < dv->npassed) {
			dv->passed[head] |= bit;
			dv->pend[head] &= ~bit;
		}
		lv->pos++;
		/* a node moved before the sweep reached it is passed where it was,
		 * and may lie ahead of the next one now */
		ir_nid next = sweep_head(dv, lv);
		if (next && dv->w.label[next] < dv->w.label[head])
			lv->moved_ahead = true;
		/* the nodes the sweep reaches next, and what matching them reads */
		for (int s = 0; s < IR_PREFETCH_STAGES; s++) {
			size_t ahead = lv->pos + (size_t)(IR_PREFETCH_STAGES - s) * PREFETCH_STEP;
			if (ahead < lv->ncand)
				ir_prefetch_node(dv->g, lv->cand[ahead], s);
		}
	}
	*swept = head != 0;
	return head;
}

/* ---------------------------------------------------------------- hooks */

static void on_touched(void *ctx, ir_nid n)
{
	drv *dv = ctx;
	if (dv->nchanged == dv->changed_cap) {
		size_t cap = dv->changed_cap ? dv->changed_cap * 2 : 64;
		ir_nid *v = realloc(dv->changed, cap * sizeof *v);
		if (!v) {
			dv->error = true;
			return;
		}
		dv->changed = v;
		dv->changed_cap = cap;
	}
	dv->changed[dv->nchanged++] = n;
}

static void on_removed(void *ctx, ir_nid n)
{
	drv *dv = ctx;
	for (int i = 0; i < dv->nlv; i++)
		if (dv->lv[i].head == n)
			dv->lv[i].head_ok = false;
}

/* A moved node leaves its place in the order (the region of a match moves
 * behind the replacement): a sweep that had passed it may find it ahead of
 * its head now, where it will not come back.  From then on the group
 * revisits what changes even ahead of its head (needy_groups), and
 * schedule_at does not count on the sweep for nodes it passed. */
static void on_moved(void *ctx, ir_nid n)
{
	drv *dv = ctx;
	uint32_t p = n < dv->npassed ? dv->passed[n] : 0;
	for (int i = 0; p && i < dv->nlv && i < 32; i++)
		if (p & 1u << i)
			dv->lv[i].moved_ahead = true;
	for (int i = 32; i < dv->nlv; i++) /* no bits for these: assume the worst */
		dv->lv[i].moved_ahead = true;
}

static bool ensure_dist(drv *dv)
{
	size_t need = ir_nnodes_total(dv->g) + 1;
	if (need <= dv->ndist)
		return true;
	size_t cap = dv->ndist ? dv->ndist : 1024;
	while (cap < need)
		cap *= 2;
	uint8_t *v = realloc(dv->dist, cap);
	if (v)
		dv->dist = v;
	uint8_t *t = v ? realloc(dv->tsweep, cap) : NULL;
	if (!t)
		return false;
	/* "touched in the sweep before this one": not in this sweep or the next 254 (the
	 * number of a later sweep would make nodes look touched in it) */
	memset(t + dv->ndist, (uint8_t)(dv->sweep_no - 1), cap - dv->ndist);
	dv->tsweep = t;
	dv->ndist = cap;
	return true;
}

/* Queues node y at remaining reach rem (again when that is more than it
 * had); false when the list is full (or out of memory). */
static bool reach_node(drv *dv, ir_nid y, int rem, uint32_t seen, size_t *n)
{
	eng_rw *w = &dv->w;
	if (w->stamp[y] == seen && dv->dist[y] >= rem)
		return true;
	if (*n >= CONE_CAP + dv->nchanged || !eng_rw_need(w, &w->tmp2, &w->tmp2_cap, *n + 1))
		return false;
	w->stamp[y] = seen;
	dv->dist[y] = (uint8_t)rem;
	w->tmp2[(*n)++] = y;
	return true;
}

static bool reach_users(drv *dv, ir_nid x, uint32_t seen, size_t *n)
{
	int rem = dv->dist[x] - 1;
	uint32_t nout = ir_node_at(dv->g, x)->nout;
	for (uint32_t k = 0; k < nout; k++) {
		ir_val v = ir_node_output(dv->g, x, k);
		for (uint32_t u = v ? ir_first_use(dv->g, v) : 0; u; u = ir_next_use(dv->g, u))
			if (!reach_node(dv, ir_use_at(dv->g, u)->node, rem, seen, n))
				return false;
	}
	return true;
}

/* Which groups need revisits downstream of the changes: those whose sweep
 * is over or behind a changed node (a sweep that has not reached the
 * changes yet will see the nodes downstream of them it holds, which come
 * later in graph order; those it left out could not match, and only a
 * change of their operands, which touches them, changes that), those whose
 * sweep passed a node that moves may have put ahead of its head (the sweep
 * will not come back to it: on_moved, level_next), and all during a
 * confirming sweep, which offers nodes to multi-sink rules only. */
static void needy_groups(drv *dv, bool *needs)
{
	uint64_t first = UINT64_MAX;
	for (size_t i = 0; i < dv->nchanged; i++)
		if (!ir_node_at(dv->g, dv->changed[i])->dead && dv->w.label[dv->changed[i]] < first)
			first = dv->w.label[dv->changed[i]];
	for (int i = 0; i < dv->nlv; i++) {
		ir_nid head = sweep_head(dv, &dv->lv[i]);
		needs[i] = !head || first < dv->w.label[head] || dv->lv[i].moved_ahead || dv->multi_only;
	}
}

/* How far below node n the root of a match of a needy group may lie. */
static int node_reach(drv *dv, ir_nid n, const bool *needs)
{
	int reach = -1;
	const opmask *e = dv->nlv <= REACH_LEVELS ? level_entry(dv, n) : NULL;
	for (int i = 0; e && i < dv->nlv; i++)
		if (needs[i] && e->reach[i] > reach)
			reach = e->reach[i];
	for (int i = 0; !e && i < dv->nlv; i++) {
		int r = needs[i] ? eng_index_reach(dv->lv[i].ix, dv->m, dv->g, n) : -1;
		dv->error = dv->error || r == -2;
		reach = r > reach ? r : reach;
	}
	return reach;
}

/* Schedules the changed nodes (for every group: a node made meanwhile is
 * in no sweep) and the nodes downstream of them that a new match's root
 * can be: a changed node can only be in a match at a pattern node
 * accepting its op, whose height bounds the distance to the root.  A
 * neighbourhood too large to walk makes the phase end with a confirming
 * sweep instead. */
static void revisit_cone(drv *dv)
{
	eng_rw *w = &dv->w;
	uint32_t seen = eng_rw_stamp(w);
	bool needs[64];
	size_t n = 0;
	if (!seen || !ensure_dist(dv) || dv->nlv > 64) {
		dv->error = true;
		return;
	}
	needy_groups(dv, needs);
	for (size_t i = 0; i < dv->nchanged; i++)
		if (dv->changed[i] < dv->ndist)
			dv->tsweep[dv->changed[i]] = dv->sweep_no;
	for (size_t i = 0; i < dv->nchanged && !dv->error; i++) {
		ir_nid c = dv->changed[i];
		int reach = ir_node_at(dv->g, c)->dead ? -1 : node_reach(dv, c, needs);
		if (reach >= 0 && !reach_node(dv, c, reach, seen, &n))
			dv->error = true;
	}
	for (size_t head = 0; head < n && !dv->error; head++)
		if (dv->dist[w->tmp2[head]] > 0 && !reach_users(dv, w->tmp2[head], seen, &n)) {
			dv->confirm = dv->confirm_all = true;
			break;
		}
	for (size_t i = 0; i < n; i++)
		schedule(dv, w->tmp2[i]);
	for (size_t i = 0; i < dv->nchanged; i++) /* those no needy group reaches from */
		if (w->stamp[dv->changed[i]] != seen)
			schedule(dv, dv->changed[i]);
	dv->nchanged = 0;
}

/* ---------------------------------------------------------------- applying */

static bool push_record(drv *dv, const eng_rewrite *rec)
{
	eng_report *r = dv->rep;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		eng_rewrite *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return false;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *rec;
	return true;
}

/* One more rewrite by rule r in the report's counts. */
static void count_rule(drv *dv, const eng_rule *r)
{
	eng_report *rep = dv->rep;
	size_t k = rep->nrules;
	if (k && rep->rules[dv->last_rule] == r->name) /* runs of one rule are common */
		k = dv->last_rule;
	for (size_t i = 0; k == rep->nrules && i < rep->nrules; i++)
		if (rep->rules[i] == r->name)
			k = i;
	if (k == rep->nrules) /* room for every enabled rule: collect_rules */
		rep->rules[rep->nrules++] = r->name;
	rep->counts[k]++;
	dv->last_rule = k;
}

static bool on_match(void *ctx, const eng_binding *b)
{
	drv *dv = ctx;
	eng_rewrite rec = {0};
	dv->last_at = b->pnode[b->rule->root];
	eng_rwstatus st = eng_rw_apply(&dv->w, b, dv->rep && dv->o->records ? &rec : NULL);
	bool keep = dv->rep && dv->o->records &&
		    (st == ENG_RW_DONE || (st == ENG_RW_REJECTED && rec.cycles_before >= 0));
	if (keep && !push_record(dv, &rec))
		st = ENG_RW_ERROR;
	if (st == ENG_RW_DONE && dv->rep)
		count_rule(dv, b->rule);
	if (st == ENG_RW_ERROR) {
		dv->error = true;
		return true;
	}
	dv->applied = st == ENG_RW_DONE;
	return dv->applied;
}

static void note_exhausted(drv *dv, const eng_rule *r)
{
	for (size_t i = 0; i < dv->nex; i++)
		if (dv->exhausted[i] == r) {
			dv->nexhausted[i]++;
			return;
		}
	dv->exhausted[dv->nex] = r;
	dv->nexhausted[dv->nex++] = 1;
}

static void not_converging(drv *dv)
{
	const eng_rule *names[RING];
	size_t counts[RING], nn = 0, k = dv->rewrites < RING ? (size_t)dv->rewrites : RING;
	for (size_t i = 0; i < k; i++) {
		const eng_rule *r = dv->ring[i];
		size_t j = 0;
		while (j < nn && names[j] != r)
			j++;
		if (j == nn) {
			names[nn] = r;
			counts[nn++] = 0;
		}
		counts[j]++;
	}
	char list[512], lb[ENG_NAME_CAP];
	size_t len = 0;
	for (size_t j = 0; j < nn && len < sizeof list; j++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s' (%zu)", j ? ", " : "", names[j]->name,
					counts[j]);
	ir_error(dv->d, NULL, 0, 0,
		 "the rules did not reach a fixpoint within %llu rewrites (do some rules undo each other, or "
		 "regrow what they remove?); the last %zu rewrites were by %s, the last at node '%s'",
		 (unsigned long long)dv->rewrites, k, list, eng_rw_label(&dv->w, dv->last_at, lb, sizeof lb));
	dv->stopped = true;
}

static void after_rewrite(drv *dv, const eng_rule *r)
{
	dv->ring[dv->rewrites % RING] = r;
	dv->rewrites++;
	dv->since_sweep++;
	revisit_cone(dv);
	if (dv->rewrites >= dv->max_rewrites)
		not_converging(dv);
}

/* Offers node n to the rules of group lv (only the multi-sink ones when
 * multi); stops at the first rewrite. */
static void visit(drv *dv, level *lv, ir_nid n, bool multi)
{
	uint32_t cnt;
	const uint32_t *ri = eng_index_rules(lv->ix, dv->m, dv->g, n, &cnt);
	if (!ri) {
		dv->error = true;
		return;
	}
	for (uint32_t k = 0; k < cnt && !dv->error; k++) {
		const eng_rule *r = lv->rules[ri[k]];
		if (multi && r->nsinks < 2)
			continue;
		dv->applied = false;
		eng_mstatus st = eng_match_indexed(dv->m, r, dv->g, n, dv->o->match_budget, on_match, dv);
		if (st == ENG_M_NOMEM)
			dv->error = true;
		if (st == ENG_M_BUDGET)
			note_exhausted(dv, r);
		if (dv->applied) {
			after_rewrite(dv, r);
			return;
		}
	}
	dv->nchanged = 0;
}

/* The group with the highest benefit that has work, or NULL. */
static level *busy_level(drv *dv, int *index)
{
	for (int i = 0; i < dv->nlv; i++)
		if (dv->lv[i].nheap || dv->lv[i].bpos < dv->lv[i].nback || sweep_head(dv, &dv->lv[i])) {
			*index = i;
			return &dv->lv[i];
		}
	return NULL;
}

static bool push_cand(level *lv, ir_nid n)
{
	if (lv->ncand == lv->cand_cap) {
		size_t cap = lv->cand_cap ? lv->cand_cap * 2 : 1024;
		ir_nid *v = realloc(lv->cand, cap * sizeof *v);
		if (!v)
			return false;
		lv->cand = v;
		lv->cand_cap = cap;
	}
	lv->cand[lv->ncand++] = n;
	return true;
}

/* Group i's sweep takes node n (pending until it passes n). */
static void take(drv *dv, int i, ir_nid n)
{
	if (!push_cand(&dv->lv[i], n))
		dv->error = true;
	else if (i < 32)
		dv->pend[n] |= 1u << i;
}

/* Every group's sweep: its candidate nodes, in graph order (for a sweep
 * confirming the multi-sink rules, only where they can be anchored), where
 * a rule of the group can match as far as eng_match_plausible tells.  The
 * walk over the graph reads what that check reads while it is in cache;
 * a node left out becomes plausible only when its operands change, which
 * touches it and schedules it (revisit_cone). */
static void start_sweep(drv *dv)
{
	bool multi = dv->multi_only;
	size_t nodes = ir_nnodes_total(dv->g) + 1;
	if (nodes > dv->npassed) {
		uint32_t *p = realloc(dv->passed, nodes * sizeof *p);
		if (p)
			dv->passed = p;
		uint32_t *q = p ? realloc(dv->pend, nodes * sizeof *q) : NULL;
		if (!q) {
			dv->error = true;
			return;
		}
		dv->pend = q;
		dv->npassed = nodes;
	}
	memset(dv->passed, 0, dv->npassed * sizeof *dv->passed);
	memset(dv->pend, 0, dv->npassed * sizeof *dv->pend);
	dv->sweep_no++; /* no node is touched in the new sweep yet (a wrap only costs checks) */
	for (int i = 0; i < dv->nlv; i++) {
		dv->lv[i].moved_ahead = false;
		dv->lv[i].ncand = dv->lv[i].pos = 0;
		dv->lv[i].nback = dv->lv[i].bpos = 0;
		dv->lv[i].started = false;
		dv->lv[i].head_ok = false;
	}
	bool masked = dv->nlv <= MASK_LEVELS, label = dv->unlabelled;
	uint64_t x = 0;
	dv->unlabelled = false;
	for (ir_nid n = ir_graph_first(dv->g); n && !dv->error; n = ir_node_at(dv->g, n)->next) {
		if (label)
			dv->w.label[n] = x += ENG_LABEL_GAP;
		if (masked) /* the groups whose bit is set, lowest first */
			for (uint64_t b = level_bits(dv, n, multi); b; b &= b - 1)
				if (may_match(dv, &dv->lv[lowest(b)], n))
					take(dv, lowest(b), n);
		for (int i = 0; !masked && i < dv->nlv; i++)
			if (relevant(dv, &dv->lv[i], n, multi) && may_match(dv, &dv->lv[i], n))
				take(dv, i, n);
	}
	dv->since_sweep = 0;
}

/* A phase: one sweep, the revisits its rewrites cause, then confirming
 * sweeps until one finds nothing.  Revisits are exact for single-sink
 * rules (see the top), so a confirming sweep offers nodes only to the
 * multi-sink rules, unless some neighbourhood was too large to revisit. */
static void run_phase(drv *dv)
{
	dv->multi_only = dv->confirm_all = false;
	start_sweep(dv);
	for (;;) {
		int i;
		level *lv = busy_level(dv, &i);
		if (!lv) {
			if (!dv->confirm || !dv->since_sweep)
				return;
			dv->multi_only = !dv->confirm_all;
			dv->confirm_all = false;
			start_sweep(dv);
			continue;
		}
		bool swept;
		ir_nid n = level_next(dv, lv, i, &swept);
		if (n)
			visit(dv, lv, n, swept && dv->multi_only);
		if (dv->error || dv->stopped)
			return;
	}
}

/* ---------------------------------------------------------------- setup */

static int rule_cmp(const void *a, const void *b)
{
	const eng_rule *x = *(const eng_rule *const *)a, *y = *(const eng_rule *const *)b;
	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	if (x->benefit != y->benefit)
		return x->benefit > y->benefit ? -1 : 1;
	return 0;
}

/* Splits the rules of one phase (all[from..to)) into benefit groups. */
static bool make_levels(drv *dv, size_t from, size_t to)
{
	dv->nlv = 0;
	dv->confirm = false;
	for (size_t i = from; i < to; i++) {
		const eng_rule *r = dv->all[i];
		if (dv->nlv == 0 || dv->lv[dv->nlv - 1].benefit != r->benefit) {
			level *lv = &dv->lv[dv->nlv++];
			memset(lv, 0, sizeof *lv);
			lv->benefit = r->benefit;
			lv->rules = &dv->all[i];
		}
		dv->lv[dv->nlv - 1].nrules++;
		dv->confirm = dv->confirm || r->nsinks > 1;
	}
	for (int i = 0; i < dv->nlv; i++)
		if (!(dv->lv[i].ix = eng_index_new(dv->lv[i].rules, dv->lv[i].nrules)))
			return false;
	return true;
}

static void free_levels(drv *dv)
{
	if (dv->masks) /* the next phase has other groups */
		memset(dv->masks, 0, dv->nmasks * sizeof *dv->masks);
	for (int i = 0; i < dv->nlv; i++) {
		eng_index_free(dv->lv[i].ix);
		free(dv->lv[i].heap);
		free(dv->lv[i].back);
		free(dv->lv[i].cand);
	}
	dv->nlv = 0;
}

static bool collect_rules(drv *dv, const eng_ruleset *rs)
{
	dv->all = malloc((rs->n ? rs->n : 1) * sizeof *dv->all);
	if (dv->rep) {
		dv->rep->rules = calloc(rs->n ? rs->n : 1, sizeof *dv->rep->rules);
		dv->rep->counts = calloc(rs->n ? rs->n : 1, sizeof *dv->rep->counts);
		if (!dv->rep->rules || !dv->rep->counts)
			return false;
	}
	dv->lv = calloc(rs->n ? rs->n : 1, sizeof *dv->lv);
	dv->exhausted = calloc(rs->n ? rs->n : 1, sizeof *dv->exhausted);
	dv->nexhausted = calloc(rs->n ? rs->n : 1, sizeof *dv->nexhausted);
	if (!dv->all || !dv->lv || !dv->exhausted || !dv->nexhausted)
		return false;
	for (size_t i = 0; i < rs->n; i++) {
		const eng_rule *r = rs->rules[i];
		if (!r->enabled)
			continue;
		if (!r->order) {
			ir_error(dv->d, r->loc.file, r->loc.line, r->loc.col, "rule '%s' has no matching plan",
				 r->name);
			return false;
		}
		dv->all[dv->nall++] = r;
	}
	/* a stable sort: insertion keeps the file order among equals */
	for (size_t i = 1; i < dv->nall; i++)
		for (size_t j = i; j > 0 && rule_cmp(&dv->all[j - 1], &dv->all[j]) > 0; j--) {
			const eng_rule *t = dv->all[j];
			dv->all[j] = dv->all[j - 1];
			dv->all[j - 1] = t;
		}
	return true;
}

static void report_budgets(drv *dv)
{
	for (size_t i = 0; i < dv->nex; i++) {
		const eng_rule *r = dv->exhausted[i];
		ir_diag_add(dv->d, IR_WARNING, r->loc.file, r->loc.line, r->loc.col,
			    "rule '%s': the match budget (%u steps) ran out in %zu search%s; matches there "
			    "may be missed",
			    r->name, (unsigned)dv->o->match_budget, dv->nexhausted[i], dv->nexhausted[i] == 1 ? "" : "es");
	}
}

static void run_phases(drv *dv)
{
	for (size_t from = 0; from < dv->nall && !dv->error && !dv->stopped;) {
		size_t to = from;
		while (to < dv->nall && dv->all[to]->phase == dv->all[from]->phase)
			to++;
		if (!make_levels(dv, from, to))
			dv->error = true;
		else
			run_phase(dv);
		free_levels(dv);
		from = to;
	}
}

static void drv_free(drv *dv)
{
	eng_rw_free(&dv->w);
	eng_matcher_free(dv->m);
	free(dv->all);
	free(dv->lv);
	free(dv->exhausted);
	free(dv->nexhausted);
	free(dv->qmask);
	free(dv->masks);
	free(dv->dist);
	free(dv->tsweep);
	free(dv->changed);
	free(dv->passed);
	free(dv->pend);
}

bool eng_apply(const eng_ruleset *rs, ir_graph *g, const eng_options *o, eng_report *rep, ir_diags *d)
{
	eng_options dflt = eng_default_options();
	size_t errors = d->nerrors;
	drv dv = {.g = g, .o = o ? o : &dflt, .rep = rep, .d = d};
	if (rep) {
		memset(rep, 0, sizeof *rep);
		rep->nodes_before = ir_graph_nnodes(g);
	}
	size_t nodes = ir_graph_nnodes(g);
	dv.max_rewrites = dv.o->max_iterations ? dv.o->max_iterations : 10 * (uint64_t)nodes + 1000;
	bool ok = eng_rw_init(&dv.w, g, d, false) && (dv.m = eng_matcher_new()) && collect_rules(&dv, rs);
	dv.unlabelled = ok; /* the first sweep's walk labels the nodes (start_sweep) */
	if (ok) {
		dv.w.verify_each = dv.o->verify_each;
		dv.w.hw = dv.o->hw;
		dv.w.hooks = (eng_hooks){&dv, on_touched, on_removed, on_moved};
		dv.w.names = rep ? &rep->names : NULL;
		run_phases(&dv);
		report_budgets(&dv);
	}
	eng_rw_name_nodes(&dv.w);
	if (rep)
		eng_rw_give_names(&dv.w, rep);
	if ((!ok || dv.error || dv.w.oom || ir_graph_oom(g)) && d->nerrors == errors)
		ir_error(d, NULL, 0, 0, "out of memory while rewriting");
	size_t folded = dv.w.folded;
	bool good = ok && !dv.error && !dv.stopped && !dv.w.oom && !ir_graph_oom(g);
	drv_free(&dv);
	if (rep) {
		rep->nodes_after = ir_graph_nnodes(g);
		rep->iterations = (size_t)dv.rewrites;
		rep->folded = folded;
		rep->converged = good;
	}
	return good;
}
