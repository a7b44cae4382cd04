/* Differential test of the matcher: on thousands of random labelled DAGs
 * and random patterns (chains, diamonds, multi-sink, commutative ops,
 * optional and variadic operands, repeated captures, wildcards), the
 * bindings the matcher enumerates (anchored at every node) are exactly
 * those of a brute-force enumerator written from the definition of a match:
 *
 *   every pattern node is bound to distinct graph nodes (a chain [m..n] to
 *   m..n links, each taking the previous link's result as its first operand
 *   or, when commutative, any operand; all links but the last have exactly
 *   one use and are not graph outputs); ops match; operands match in the
 *   given order or, for commutative ops, in any order; a capture is the same
 *   value everywhere; absent operands only match optional ones; and, unless
 *   the rule allows escapes, values the replacement neither replaces nor
 *   uses have no users outside the match and are not graph outputs. */
#include "engtest.h"

#define MAXP 6
#define MAXL 4
#define MAXPERM 5

typedef struct rng {
	uint64_t s;
} rng;

static unsigned rnd(rng *r, unsigned n)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(r->s >> 33) % n;
}

/* ---------------------------------------------------------------- keys */

typedef struct keys {
	char **v;
	size_t n, cap;
} keys;

static void keys_add(keys *k, const char *s)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->v = realloc(k->v, k->cap * sizeof *k->v);
		cr_assert(k->v);
	}
	k->v[k->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keys_sort_unique(keys *k, bool unique)
{
	if (k->n == 0)
		return;
	qsort(k->v, k->n, sizeof *k->v, cmp_str);
	if (!unique)
		return;
	size_t j = 0;
	for (size_t i = 0; i < k->n; i++) {
		if (j && strcmp(k->v[j - 1], k->v[i]) == 0)
			free(k->v[i]);
		else
			k->v[j++] = k->v[i];
	}
	k->n = j;
}

static void keys_free(keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof *k);
}

/* "p0=3,4;p1=7;|$0=5;$1=[2,_];" */
static void key_of(const eng_rule *r, ir_nid (*links)[MAXL], const int *nl, const ir_val *cap,
		   ir_val (*list)[16], const int *nlist, char *buf, size_t n)
{
	size_t len = 0;
	for (int p = 0; p < r->npnodes; p++) {
		len += (size_t)snprintf(buf + len, n - len, "p%d=", p);
		for (int k = 0; k < nl[p]; k++)
			len += (size_t)snprintf(buf + len, n - len, "%u,", (unsigned)links[p][k]);
		len += (size_t)snprintf(buf + len, n - len, ";");
	}
	len += (size_t)snprintf(buf + len, n - len, "|");
	for (int c = 0; c < r->ncaptures; c++) {
		if (!r->captures[c].is_list) {
			len += (size_t)snprintf(buf + len, n - len, "$%d=%u;", c, (unsigned)cap[c]);
			continue;
		}
		len += (size_t)snprintf(buf + len, n - len, "$%d=[", c);
		for (int i = 0; i < nlist[c]; i++)
			len += (size_t)snprintf(buf + len, n - len, "%u,", (unsigned)list[c][i]);
		len += (size_t)snprintf(buf + len, n - len, "];");
	}
}

/* ---------------------------------------------------------------- the matcher's side */

typedef struct collect_ctx {
	keys *k;
} collect_ctx;

static bool collect(void *ctx, const eng_binding *b)
{
	const eng_rule *r = b->rule;
	ir_nid links[MAXP][MAXL];
	int nl[MAXP], nlist[16] = {0};
	ir_val cap[16] = {0}, list[16][16];
	for (int p = 0; p < r->npnodes; p++) {
		nl[p] = b->chain[p] ? (int)b->chain_n[p] : 1;
		for (int k = 0; k < nl[p]; k++)
			links[p][k] = b->chain[p] ? b->chain[p][k] : b->pnode[p];
	}
	for (int c = 0; c < r->ncaptures; c++) {
		cap[c] = b->cap[c];
		nlist[c] = (int)b->list_n[c];
		for (int i = 0; i < nlist[c] && i < 16; i++)
			list[c][i] = b->list[c][i];
	}
	char buf[1024];
	key_of(r, links, nl, cap, list, nlist, buf, sizeof buf);
	keys_add(((collect_ctx *)ctx)->k, buf);
	return false;
}

/* ---------------------------------------------------------------- the brute-force side */

typedef struct bf {
	const eng_rule *r;
	const ir_graph *g;
	eng_matcher *m; /* only for its op test (eng_op_matches) */
	ir_nid links[MAXP][MAXL];
	uint32_t pos[MAXP][MAXL];
	int nl[MAXP];
	int perm[MAXP][MAXPERM];
	ir_nid used[MAXP * MAXL];
	int nused;
	keys *out;
} bf;

static bool is_chain(const eng_pnode *pn)
{
	return pn->min_repeat != 1 || pn->max_repeat != 1;
}

static bool commutative(const ir_graph *g, ir_nid n)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	return info && (info->traits & IR_TRAIT_COMMUTATIVE);
}

static bool in_use(const bf *s, ir_nid n)
{
	for (int i = 0; i < s->nused; i++)
		if (s->used[i] == n)
			return true;
	return false;
}

static bool is_output(const ir_graph *g, ir_val v)
{
	return ir_value_is_output(g, v);
}

typedef struct leaf {
	ir_val cap[16];
	bool bound[16];
	ir_val list[16][16];
	int nlist[16];
} leaf;

static ir_val pvalue(const bf *s, int p, int r)
{
	return ir_node_output(s->g, s->links[p][s->nl[p] - 1], (uint32_t)r);
}

static bool op_match(const bf *s, leaf *l, const eng_operand *o, ir_val v)
{
	if (!v) {
		if (!o->optional || o->kind == PO_NODE)
			return false;
		if (o->kind == PO_WILDCARD)
			return true;
	} else if (o->kind == PO_WILDCARD) {
		return true;
	} else if (o->kind == PO_NODE) {
		return pvalue(s, o->index, o->result) == v;
	}
	if (l->bound[o->index])
		return l->cap[o->index] == v;
	l->bound[o->index] = true;
	l->cap[o->index] = v;
	return true;
}

static bool bind_list(leaf *l, int c, const ir_val *v, int n)
{
	if (l->bound[c])
		return l->nlist[c] == n && memcmp(l->list[c], v, (size_t)n * sizeof *v) == 0;
	l->bound[c] = true;
	l->nlist[c] = n;
	memcpy(l->list[c], v, (size_t)n * sizeof *v);
	return true;
}

static bool leaf_chain(const bf *s, leaf *l, int p)
{
	const eng_pnode *pn = &s->r->pnodes[p];
	ir_val rest[16];
	int nrest = 0;
	if (!op_match(s, l, &pn->ins[0], ir_node_input(s->g, s->links[p][0], s->pos[p][0])))
		return false;
	for (int k = 0; k < s->nl[p]; k++) {
		ir_nid n = s->links[p][k];
		for (uint32_t j = 0; j < ir_node_at(s->g, n)->nin; j++) {
			ir_val v = ir_node_input(s->g, n, j);
			if (j == s->pos[p][k])
				continue;
			if (pn->nins < 2 && v)
				return false;
			if (pn->nins == 2 && nrest < 16)
				rest[nrest++] = v;
		}
	}
	return pn->nins < 2 || bind_list(l, pn->ins[1].index, rest, nrest);
}

static bool leaf_node(const bf *s, leaf *l, int p)
{
	const eng_pnode *pn = &s->r->pnodes[p];
	ir_nid n = s->links[p][0];
	bool var = pn->nins && pn->ins[pn->nins - 1].variadic;
	int np = pn->nins - var;
	uint32_t nin = ir_node_at(s->g, n)->nin;
	for (uint32_t j = (uint32_t)np; !var && j < nin; j++)
		if (ir_node_input(s->g, n, j))
			return false;
	for (int k = 0; k < np; k++)
		if (!op_match(s, l, &pn->ins[k], ir_node_input(s->g, n, (uint32_t)s->perm[p][k])))
			return false;
	if (!var)
		return true;
	ir_val rest[16];
	int nrest = 0;
	for (uint32_t j = (uint32_t)np; j < nin && nrest < 16; j++)
		rest[nrest++] = ir_node_input(s->g, n, j);
	return bind_list(l, pn->ins[np].index, rest, nrest);
}

/* The replacement replaces v (a pattern node's result it names) or uses it. */
static bool replaced_or_kept(const bf *s, const leaf *l, ir_val v)
{
	const eng_rule *r = s->r;
	for (int i = 0; i < r->noutputs; i++)
		if (pvalue(s, r->outputs[i].pnode, r->outputs[i].presult) == v)
			return true;
	for (int i = 0; i < r->nrnodes; i++)
		for (int k = 0; k < r->rnodes[i].nins; k++) {
			const eng_roperand *o = &r->rnodes[i].ins[k];
			if (o->kind != RO_CAPTURE)
				continue;
			if (!r->captures[o->index].is_list && l->cap[o->index] == v)
				return true;
			for (int j = 0; r->captures[o->index].is_list && j < l->nlist[o->index]; j++)
				if (l->list[o->index][j] == v)
					return true;
		}
	return false;
}

static bool no_escape(const bf *s, const leaf *l)
{
	for (int i = 0; i < s->nused; i++) {
		ir_nid n = s->used[i];
		for (uint32_t k = 0; k < ir_node_at(s->g, n)->nout; k++) {
			ir_val v = ir_node_output(s->g, n, k);
			if (replaced_or_kept(s, l, v))
				continue;
			if (is_output(s->g, v))
				return false;
			for (uint32_t u = ir_first_use(s->g, v); u; u = ir_next_use(s->g, u))
				if (!in_use(s, ir_use_at(s->g, u)->node))
					return false;
		}
	}
	return true;
}

static void bf_leaf(bf *s)
{
	leaf l;
	memset(&l, 0, sizeof l);
	for (int p = 0; p < s->r->npnodes; p++)
		if (!(is_chain(&s->r->pnodes[p]) ? leaf_chain(s, &l, p) : leaf_node(s, &l, p)))
			return;
	if (!s->r->allow_escape && !no_escape(s, &l))
		return;
	char buf[1024];
	key_of(s->r, s->links, s->nl, l.cap, l.list, l.nlist, buf, sizeof buf);
	keys_add(s->out, buf);
}

static void bf_pnode(bf *s, int p);

static bool next_perm(int *a, int n)
{
	int i = n - 2;
	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	int j = n - 1;
	while (a[j] <= a[i])
		j--;
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (int x = i + 1, y = n - 1; x < y; x++, y--) {
		t = a[x];
		a[x] = a[y];
		a[y] = t;
	}
	return true;
}

static void bf_node(bf *s, int p)
{
	const eng_pnode *pn = &s->r->pnodes[p];
	bool var = pn->nins && pn->ins[pn->nins - 1].variadic;
	int np = pn->nins - var;
	for (ir_nid n = ir_graph_first(s->g); n; n = ir_node_at(s->g, n)->next) {
		if (in_use(s, n) || !eng_op_matches(s->m, pn, s->g, n) || ir_node_at(s->g, n)->nout < (uint32_t)pn->nresults)
			continue;
		s->links[p][0] = n;
		s->nl[p] = 1;
		s->used[s->nused++] = n;
		bool permute = commutative(s->g, n) && !var && np >= 2 && np <= MAXPERM;
		for (int k = 0; k < MAXPERM; k++)
			s->perm[p][k] = k;
		do
			bf_pnode(s, p + 1);
		while (permute && next_perm(s->perm[p], np));
		s->nused--;
	}
}

/* Link k of chain p, after links[0..k). */
static void bf_chain(bf *s, int p, int k)
{
	const eng_pnode *pn = &s->r->pnodes[p];
	if (k >= pn->min_repeat) { /* stop here: choose the first link's chain operand */
		ir_nid first = s->links[p][0];
		uint32_t nin = ir_node_at(s->g, first)->nin;
		uint32_t n0 = commutative(s->g, first) ? nin : 1;
		s->nl[p] = k;
		for (uint32_t c0 = 0; c0 < (n0 ? n0 : 1); c0++) {
			s->pos[p][0] = c0;
			bf_pnode(s, p + 1);
		}
	}
	if (k == pn->max_repeat)
		return;
	for (ir_nid n = ir_graph_first(s->g); n; n = ir_node_at(s->g, n)->next) {
		if (in_use(s, n) || !eng_op_matches(s->m, pn, s->g, n) || ir_node_at(s->g, n)->nout < 1)
			continue;
		uint32_t j = 0, hits = 0;
		if (k > 0) {
			ir_val prev = ir_node_output(s->g, s->links[p][k - 1], 0);
			if (ir_value_at(s->g, prev)->nuses != 1 || is_output(s->g, prev))
				continue;
			for (uint32_t i = 0; i < ir_node_at(s->g, n)->nin; i++)
				if (ir_node_input(s->g, n, i) == prev) {
					j = i;
					hits++;
				}
			if (hits != 1 || (j != 0 && !commutative(s->g, n)))
				continue;
		}
		s->links[p][k] = n;
		s->pos[p][k] = j;
		s->used[s->nused++] = n;
		bf_chain(s, p, k + 1);
		s->nused--;
	}
}

static void bf_pnode(bf *s, int p)
{
	if (p == s->r->npnodes) {
		bf_leaf(s);
		return;
	}
	if (is_chain(&s->r->pnodes[p]))
		bf_chain(s, p, 0);
	else
		bf_node(s, p);
}

/* ---------------------------------------------------------------- random graphs */

static ir_graph *random_dag(rng *r, int nodes)
{
	static const char *const ops[] = {"Relu", "Neg", "Sigmoid", "Add", "Mul", "Sub", "Clip", "Concat"};
	ir_graph *g = ir_graph_new();
	ir_val vals[64];
	int nv = 0;
	vals[nv++] = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_unknown(), 0);
	vals[nv++] = ir_input_new(g, ir_intern_cstr(g, "y"), ir_type_unknown(), 0);
	vals[nv++] = ir_input_new(g, ir_intern_cstr(g, "z"), ir_type_unknown(), 0);
	for (int i = 0; i < nodes; i++) {
		const char *op = ops[rnd(r, 8)];
		ir_val ins[3];
		uint32_t nin = 1;
		if (!strcmp(op, "Add") || !strcmp(op, "Mul") || !strcmp(op, "Sub"))
			nin = 2;
		else if (!strcmp(op, "Clip") || !strcmp(op, "Concat"))
			nin = 1 + rnd(r, 3);
		for (uint32_t k = 0; k < nin; k++)
			ins[k] = rnd(r, 2) ? vals[nv - 1 - rnd(r, nv < 3 ? (unsigned)nv : 3)] : vals[rnd(r, (unsigned)nv)];
		if (!strcmp(op, "Clip") && nin == 3 && rnd(r, 2))
			ins[1] = IR_NONE;
		ir_nid n = ir_node_new(g, NULL, op, ins, nin, 1, 0);
		vals[nv++] = ir_node_output(g, n, 0);
	}
	ir_graph_add_output(g, vals[nv - 1]);
	if (rnd(r, 2))
		ir_graph_add_output(g, vals[3 + rnd(r, (unsigned)nodes)]);
	return g;
}

/* ---------------------------------------------------------------- random patterns */

typedef struct pgen {
	rng *r;
	FILE *f;
	int np;
	bool used[MAXP];
	int caps_of[MAXP][4]; /* firm captures each pattern node uses (index into "abc") */
	int ncaps[MAXP];
	int lists;
} pgen;

/* One operand: an earlier pattern node, a shared capture, or a wildcard. */
static void operand(pgen *p, int i, bool first)
{
	unsigned c = rnd(p->r, 10);
	if (i > 0 && (c < 5 || first)) {
		int j = (int)rnd(p->r, (unsigned)i);
		p->used[j] = true;
		fprintf(p->f, "n%d", j);
	} else if (c < 9 || first) {
		int k = (int)rnd(p->r, 3);
		p->caps_of[i][p->ncaps[i]++] = k;
		fprintf(p->f, "$%c", "abc"[k]);
	} else {
		fprintf(p->f, "_");
	}
}

static void pattern_line(pgen *p, int i)
{
	static const char *const un[] = {"Relu", "Neg", "Sigmoid", "Relu|Neg"};
	static const char *const bin[] = {"Add", "Mul", "Sub", "*"};
	fprintf(p->f, "      n%d = ", i);
	unsigned kind = rnd(p->r, 10);
	if (kind < 3) {
		fprintf(p->f, "%s(", un[rnd(p->r, 4)]);
		operand(p, i, true);
	} else if (kind < 6) {
		fprintf(p->f, "%s(", bin[rnd(p->r, 4)]);
		operand(p, i, true);
		fprintf(p->f, ", ");
		operand(p, i, false);
	} else if (kind < 7) {
		fprintf(p->f, "Clip(");
		operand(p, i, true);
		fprintf(p->f, rnd(p->r, 2) ? ", $o%d?, _?" : ", _?", i);
	} else if (kind < 8) {
		fprintf(p->f, "Concat(");
		operand(p, i, true);
		fprintf(p->f, ", $l%d...", p->lists++);
	} else if (kind < 9) {
		fprintf(p->f, "@elementwise+unary[1..%u](", 1 + rnd(p->r, 3));
		operand(p, i, true);
	} else {
		fprintf(p->f, "@elementwise[1..2](");
		operand(p, i, true);
		fprintf(p->f, ", $l%d...", p->lists++);
	}
	fprintf(p->f, ")\n");
}

/* A rule text with np pattern nodes; sinks are replaced by graft ops using
 * a capture. */
static char *random_rule(rng *r, bool *ok)
{
	char *text = NULL;
	size_t n = 0;
	pgen p = {.r = r, .np = 1 + (int)rnd(r, 4)};
	p.f = open_memstream(&text, &n);
	fprintf(p.f, "rules:\n  - name: p\n    allow_escape: %s\n    pattern: |\n", rnd(r, 3) ? "false" : "true");
	for (int i = 0; i < p.np; i++)
		pattern_line(&p, i);
	int cap = -1;
	for (int i = 0; i < p.np && cap < 0; i++)
		if (p.ncaps[i])
			cap = p.caps_of[i][0];
	fprintf(p.f, "    replace: |\n");
	for (int i = 0; i < p.np; i++)
		if (!p.used[i])
			fprintf(p.f, cap >= 0 ? "      n%d = graft::R%d($%c)\n" : "      n%d = graft::R%d()\n", i, i,
				cap >= 0 ? "abc"[cap] : ' ');
	fclose(p.f);
	*ok = cap >= 0;
	return text;
}

/* ---------------------------------------------------------------- the test */

static void compare(const eng_rule *rule, const ir_graph *g, eng_matcher *m, size_t *total)
{
	keys mine = {0}, ref = {0}, indexed = {0};
	collect_ctx ctx = {&mine}, ictx = {&indexed};
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		cr_assert_eq(eng_match_at(m, rule, g, n, 0, collect, &ctx), ENG_M_DONE);
		/* what the driver calls where the index chose the rule: the same bindings */
		if (eng_op_matches(m, &rule->pnodes[rule->root], g, n))
			cr_assert_eq(eng_match_indexed(m, rule, g, n, 0, collect, &ictx), ENG_M_DONE);
	}
	keys_sort_unique(&indexed, false);
	bf s = {.r = rule, .g = g, .m = m, .out = &ref};
	bf_pnode(&s, 0);
	keys_sort_unique(&mine, false);
	keys_sort_unique(&ref, true);
	for (size_t i = 1; i < mine.n; i++)
		cr_assert_str_neq(mine.v[i - 1], mine.v[i], "the matcher found a binding twice");
	cr_assert_eq(mine.n, ref.n, "matcher %zu bindings, brute force %zu (first: %s / %s)", mine.n, ref.n,
		     mine.n ? mine.v[0] : "-", ref.n ? ref.v[0] : "-");
	for (size_t i = 0; i < mine.n; i++)
		cr_assert_str_eq(mine.v[i], ref.v[i]);
	cr_assert_eq(indexed.n, mine.n, "indexed %zu bindings, matcher %zu", indexed.n, mine.n);
	for (size_t i = 0; i < mine.n; i++)
		cr_assert_str_eq(indexed.v[i], mine.v[i]);
	*total += mine.n;
	keys_free(&indexed);
	keys_free(&mine);
	keys_free(&ref);
}

Test(match_diff, matcher_equals_brute_force, .timeout = 600)
{
	rng r = {12345};
	eng_matcher *m = eng_matcher_new();
	size_t tried = 0, compiled = 0, bindings = 0;
	while (compiled < 4000) {
		bool usable;
		char *yaml = random_rule(&r, &usable);
		eng_ruleset *rs = eng_ruleset_new();
		ir_diags d;
		ir_diags_init(&d);
		tried++;
		if (usable && eng_load_text(rs, yaml, strlen(yaml), "random.yaml", &d)) {
			compiled++;
			const eng_rule *rule = eng_rule_at(rs, 0);
			for (int k = 0; k < 5; k++) {
				ir_graph *g = random_dag(&r, 5 + (int)rnd(&r, 16));
				compare(rule, g, m, &bindings);
				ir_graph_free(g);
			}
		}
		ir_diags_free(&d);
		eng_ruleset_free(rs);
		free(yaml);
	}
	cr_log_info("%zu random patterns, %zu compiled, %zu bindings", tried, compiled, bindings);
	cr_assert(compiled * 3 > tried, "most random patterns compile (%zu of %zu)", compiled, tried);
	cr_assert(bindings > 1000, "the patterns do match something (%zu bindings)", bindings);
	eng_matcher_free(m);
}
