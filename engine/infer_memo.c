/* Inference of the replacement nodes, remembered.
 *
 * A call (a node of an op without a registry entry: graft's fused ops are
 * functions) is inferred through an instance of its function's body, typed
 * by the call's operand types and bound to its attributes: building and
 * inferring that instance costs far more than the rest of a rewrite.  Its
 * result depends on nothing else (ir_call_instance binds formals by type
 * only), and during one eng_apply a function, once in the graph, stays as
 * it is (eng_func_install adds missing ones and replaces none).  A
 * registered op's results depend on the same things plus the graph's
 * opsets (which rewrites do not change), unless its inference read known
 * values of its operands (ir_infer_node_ex tells).  So the result types are
 * remembered under a key made of the op, domain, arity, operand types and
 * attributes, and reused for the next node with the same key.  Only
 * inferences without errors that read no values are kept. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define KEY_CAP 192      /* words of a key; nodes with more are not remembered */
#define MEMO_SLOTS 4096  /* table size (a power of two) */
#define MEMO_MAX 2048    /* entries kept at most (half the slots) */
#define MEMO_OUT 4       /* results remembered per node */

typedef struct memo_ent {
	uint64_t hash;      /* 0: empty slot */
	uint32_t off, len;  /* the key in the word pool */
	uint32_t nout;
	ir_type out[MEMO_OUT];
} memo_ent;

struct eng_memo {
	memo_ent *slots;
	uint32_t used;
	uint32_t *pool;
	size_t npool, pool_cap;
};

void eng_memo_free(eng_memo *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->pool);
	free(m);
}

/* ---------------------------------------------------------------- keys */

typedef struct key {
	uint32_t w[KEY_CAP];
	uint32_t n;
	bool ok; /* false: too long, or something a key cannot hold */
} key;

static void put(key *k, uint32_t x)
{
	if (k->n == KEY_CAP)
		k->ok = false;
	else
		k->w[k->n++] = x;
}

static void put64(key *k, uint64_t x)
{
	put(k, (uint32_t)x);
	put(k, (uint32_t)(x >> 32));
}

static void put_type(key *k, const ir_graph *g, ir_type t)
{
	put(k, (uint32_t)t.kind | (uint32_t)t.dtype << 8 | (uint32_t)(uint16_t)t.rank << 16);
	if (t.kind == IR_TYPE_OPAQUE)
		put(k, t.dims); /* the blob holding the TypeProto */
	const ir_dim *d = ir_type_dims(g, t);
	for (int i = 0; d && i < t.rank; i++) {
		put64(k, (uint64_t)d[i].v);
		put(k, d[i].sym);
	}
}

static void put_attr(key *k, const ir_graph *g, const ir_attr *a)
{
	put(k, a->name);
	put(k, (uint32_t)a->kind | (uint32_t)(a->ref != 0) << 8);
	put(k, a->ref);
	put(k, a->n);
	uint32_t fbits;
	switch (a->kind) {
	case IR_ATTR_INT:
		put64(k, (uint64_t)a->u.i);
		break;
	case IR_ATTR_FLOAT:
		memcpy(&fbits, &a->u.f, sizeof fbits);
		put(k, fbits);
		break;
	case IR_ATTR_STRING:
		put(k, a->u.s);
		break;
	case IR_ATTR_INTS:
		for (uint32_t i = 0; i < a->n; i++)
			put64(k, (uint64_t)ir_attr_ints(g, a)[i]);
		break;
	case IR_ATTR_FLOATS:
		for (uint32_t i = 0; i < a->n; i++) {
			memcpy(&fbits, &ir_attr_floats(g, a)[i], sizeof fbits);
			put(k, fbits);
		}
		break;
	case IR_ATTR_STRINGS:
		for (uint32_t i = 0; i < a->n; i++)
			put(k, ir_attr_ids(g, a)[i]);
		break;
	default: /* tensors, graphs, blobs: not remembered */
		k->ok = false;
		break;
	}
}

/* The key of node n; k->ok false when it has none. */
static void make_key(key *k, const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	k->n = 0;
	k->ok = x->nout <= MEMO_OUT;
	put(k, x->op);
	put(k, x->domain);
	put(k, x->nin);
	put(k, x->nout);
	for (uint32_t i = 0; i < x->nin && k->ok; i++) {
		ir_val v = ir_node_input(g, n, i);
		put(k, v != IR_NONE);
		if (v)
			put_type(k, g, ir_value_at(g, v)->type);
	}
	const ir_attr *a = ir_node_attrs(g, n);
	for (uint32_t i = 0; i < x->nattr && k->ok; i++)
		put_attr(k, g, &a[i]);
}

static uint64_t hash_key(const key *k)
{
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < k->n; i++)
		h = (h ^ k->w[i]) * 1099511628211ull;
	return h ? h : 1;
}

/* ---------------------------------------------------------------- the table */

/* The slot of k: its entry, or the empty slot where it would go. */
static memo_ent *slot_of(eng_memo *m, const key *k, uint64_t h)
{
	for (uint32_t i = (uint32_t)h & (MEMO_SLOTS - 1);; i = (i + 1) & (MEMO_SLOTS - 1)) {
		memo_ent *e = &m->slots[i];
		if (!e->hash || (e->hash == h && e->len == k->n &&
				 memcmp(m->pool + e->off, k->w, k->n * sizeof *k->w) == 0))
			return e;
	}
}

static void remember(eng_memo *m, memo_ent *e, const key *k, uint64_t h, const ir_graph *g, ir_nid n)
{
	if (m->used >= MEMO_MAX)
		return;
	if (m->npool + k->n > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap * 2 : 4096;
		while (cap < m->npool + k->n)
			cap *= 2;
		uint32_t *p = realloc(m->pool, cap * sizeof *p);
		if (!p)
			return;
		m->pool = p;
		m->pool_cap = cap;
	}
	memcpy(m->pool + m->npool, k->w, k->n * sizeof *k->w);
	e->off = (uint32_t)m->npool;
	e->len = k->n;
	m->npool += k->n;
	e->nout = ir_node_at(g, n)->nout;
	for (uint32_t i = 0; i < e->nout; i++)
		e->out[i] = ir_value_at(g, ir_node_output(g, n, i))->type;
	e->hash = h;
	m->used++;
}

static eng_memo *memo_of(eng_rw *w)
{
	if (!w->memo && (w->memo = calloc(1, sizeof *w->memo)) != NULL &&
	    !(w->memo->slots = calloc(MEMO_SLOTS, sizeof *w->memo->slots))) {
		free(w->memo);
		w->memo = NULL;
	}
	return w->memo;
}

void eng_infer_replacement(eng_rw *w, ir_nid n, ir_diags *d)
{
	ir_graph *g = w->g;
	bool call = ir_node_at(g, n)->opcode == IR_OP_OPAQUE;
	eng_memo *m = memo_of(w);
	key k;
	if (m)
		make_key(&k, g, n);
	if (!m || !k.ok) {
		ir_infer_node(g, n, d, w->file);
		return;
	}
	uint64_t h = hash_key(&k);
	memo_ent *e = slot_of(m, &k, h);
	if (e->hash) { /* a fresh node: its results have no type of their own yet */
		for (uint32_t i = 0; i < e->nout; i++)
			ir_value_at(g, ir_node_output(g, n, i))->type = e->out[i];
		return;
	}
	size_t errors = d->nerrors;
	bool read = false;
	ir_infer_node_ex(g, n, d, w->file, &read);
	if (d->nerrors == errors && !ir_graph_oom(g) && (call || !read))
		remember(m, e, &k, h, g, n);
}
