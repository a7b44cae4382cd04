/* Known values of small integer tensors during inference.
 *
 * Reshape, Expand, Slice, Pad, ... take shapes as operands, and exporters
 * often compute them (Shape -> Gather -> Unsqueeze -> Concat -> Reshape).
 * This file records, per value, the elements of integer tensors of at most
 * IR_KV_MAX elements as far as they are known, and evaluates the ops that
 * compute them.  Elements may be unknown one by one (a dynamic dimension
 * read by Shape), keeping the dim_param that names them. */
#include <string.h>

#include "infer_internal.h"

/* ---------------------------------------------------------------- the table */

static void *kv_realloc(ir_kvtab *t, void *p, size_t osize, size_t nsize)
{
	if (t->oom)
		return NULL;
	void *q = t->g->alloc(t->g->ud, p, osize, nsize);
	if (!q)
		t->oom = true;
	return q;
}

/* Grows an array of elt-sized items to hold need items. */
static bool kv_grow(ir_kvtab *t, void **p, uint32_t *cap, uint32_t need, size_t elt)
{
	if (need <= *cap)
		return true;
	uint32_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	void *q = kv_realloc(t, *p, (size_t)*cap * elt, (size_t)ncap * elt);
	if (!q)
		return false;
	*p = q;
	*cap = ncap;
	return true;
}

void ir_kvtab_init(ir_kvtab *t, const ir_graph *g)
{
	memset(t, 0, sizeof *t);
	t->g = g;
}

void ir_kvtab_free(ir_kvtab *t)
{
	const ir_graph *g = t->g;
	if (t->slots)
		g->alloc(g->ud, t->slots, (size_t)t->cap * sizeof *t->slots, 0);
	if (t->ents)
		g->alloc(g->ud, t->ents, (size_t)t->entcap * sizeof *t->ents, 0);
	if (t->pool)
		g->alloc(g->ud, t->pool, (size_t)t->poolcap * sizeof *t->pool, 0);
	if (t->syms)
		g->alloc(g->ud, t->syms, (size_t)t->symcap * sizeof *t->syms, 0);
	memset(t, 0, sizeof *t);
}

static uint32_t kv_hash(ir_val v)
{
	return v * 2654435761u;
}

static uint32_t *kv_slot(const ir_kvtab *t, ir_val v)
{
	uint32_t mask = t->cap - 1;
	for (uint32_t i = kv_hash(v) & mask;; i = (i + 1) & mask)
		if (!t->slots[i] || t->ents[t->slots[i] - 1].v == v)
			return &t->slots[i];
}

static bool kv_rehash(ir_kvtab *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : 256;
	uint32_t *s = kv_realloc(t, NULL, 0, (size_t)ncap * sizeof *s);
	if (!s)
		return false;
	memset(s, 0, (size_t)ncap * sizeof *s);
	if (t->slots)
		t->g->alloc(t->g->ud, t->slots, (size_t)t->cap * sizeof *s, 0);
	t->slots = s;
	t->cap = ncap;
	for (uint32_t e = 0; e < t->nents; e++)
		*kv_slot(t, t->ents[e].v) = e + 1;
	return true;
}

static bool has_syms(const ir_kval *k)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (k->sym[i])
			return true;
	return false;
}

static bool kv_put(ir_kvtab *t, ir_val v, const ir_kval *k)
{
	bool syms = has_syms(k);
	uint32_t need = (uint32_t)k->rank + k->n;
	if (((t->nents + 1) * 2 > t->cap && !kv_rehash(t)) ||
	    !kv_grow(t, (void **)&t->ents, &t->entcap, t->nents + 1, sizeof *t->ents) ||
	    !kv_grow(t, (void **)&t->pool, &t->poolcap, t->npool + need, sizeof *t->pool) ||
	    (syms && !kv_grow(t, (void **)&t->syms, &t->symcap, t->nsyms + k->n, sizeof *t->syms)))
		return false;
	ir_kvent e = {v, k->dtype, k->rank, k->n, k->unk, t->npool, UINT32_MAX};
	memcpy(t->pool + t->npool, k->dims, (size_t)k->rank * sizeof *k->dims);
	memcpy(t->pool + t->npool + k->rank, k->v, (size_t)k->n * sizeof *k->v);
	t->npool += need;
	if (syms) {
		e.symoff = t->nsyms;
		memcpy(t->syms + t->nsyms, k->sym, (size_t)k->n * sizeof *k->sym);
		t->nsyms += k->n;
	}
	uint32_t *slot = kv_slot(t, v);
	if (*slot) { /* replaced: the old data stays unused in the pools */
		t->ents[*slot - 1] = e;
		return true;
	}
	t->ents[t->nents++] = e;
	*slot = t->nents;
	return true;
}

static bool kv_find(const ir_kvtab *t, ir_val v, ir_kval *k)
{
	if (!t->cap)
		return false;
	uint32_t slot = *kv_slot(t, v);
	if (!slot)
		return false;
	const ir_kvent *e = &t->ents[slot - 1];
	k->dtype = e->dtype;
	k->rank = e->rank;
	k->n = e->n;
	k->unk = e->unk;
	memcpy(k->dims, t->pool + e->off, (size_t)e->rank * sizeof *k->dims);
	memcpy(k->v, t->pool + e->off + e->rank, (size_t)e->n * sizeof *k->v);
	if (e->symoff == UINT32_MAX)
		memset(k->sym, 0, (size_t)e->n * sizeof *k->sym);
	else
		memcpy(k->sym, t->syms + e->symoff, (size_t)e->n * sizeof *k->sym);
	return true;
}

/* ---------------------------------------------------------------- decoding constants */

static bool kv_dtype(int dt)
{
	return dt == IR_BOOL || ir_dtype_is_int((ir_dtype)dt);
}

/* Little-endian element i of a tensor of dtype dt; false when it does not
 * fit an int64 (large u64). */
static bool read_elem(const uint8_t *p, int dt, size_t i, int64_t *out)
{
	size_t sz = ir_dtype_size((ir_dtype)dt);
	uint64_t u = 0;
	for (size_t b = 0; b < sz; b++)
		u |= (uint64_t)p[i * sz + b] << (8 * b);
	bool is_signed = dt == IR_I8 || dt == IR_I16 || dt == IR_I32 || dt == IR_I64;
	if (is_signed && sz < 8 && (u >> (8 * sz - 1)) & 1)
		u |= ~(uint64_t)0 << (8 * sz);
	if (!is_signed && dt == IR_U64 && u > (uint64_t)INT64_MAX)
		return false;
	*out = (int64_t)u;
	return true;
}

static void kv_shape(ir_kval *k, int dtype, int rank, const int64_t *dims)
{
	k->dtype = (uint8_t)dtype;
	k->rank = (int16_t)rank;
	k->n = 1;
	k->unk = 0;
	for (int i = 0; i < rank; i++) {
		k->dims[i] = dims[i];
		k->n *= (uint32_t)dims[i];
	}
}

static bool small_dims(int rank, const int64_t *dims)
{
	if (rank < 0 || rank > IR_MAX_RANK)
		return false;
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0 || dims[i] > IR_KV_MAX)
			return false;
		n *= dims[i];
	}
	return n <= IR_KV_MAX;
}

bool ir_kv_from_tensor(const ir_graph *g, ir_tid t, ir_kval *k)
{
	const ir_tensor *x = ir_tensor_at(g, t);
	if (!x || !kv_dtype(x->dtype) || !small_dims(x->rank, ir_tensor_dims(g, t)))
		return false;
	kv_shape(k, x->dtype, x->rank, ir_tensor_dims(g, t));
	if (x->nbytes < k->n * ir_dtype_size((ir_dtype)x->dtype))
		return false;
	for (uint32_t i = 0; i < k->n; i++) {
		k->sym[i] = 0;
		if (!read_elem(x->data, x->dtype, i, &k->v[i]))
			k->unk |= 1ull << i;
	}
	return true;
}

/* ---------------------------------------------------------------- lookups */

static bool fold(ir_icx *cx, ir_nid n, ir_kval *k);

/* Evaluates the producer of v (lazy mode), recording the result. */
static bool kv_eval(ir_icx *cx, const ir_value *x, ir_kval *k)
{
	const ir_graph *g = cx->g;
	if (cx->lazy <= 0 || !x->node || x->node >= g->nodes.n || x->index != 0 ||
	    g->nodes.v[x->node].dead || !g->nodes.v[x->node].opcode)
		return false;
	cx->lazy--;
	bool ok = fold(cx, x->node, k);
	cx->lazy++;
	if (ok)
		kv_put(&cx->kv, ir_node_output(g, x->node, 0), k);
	return ok;
}

bool ir_kv_get(ir_icx *cx, ir_val v, ir_kval *k)
{
	const ir_graph *g = cx->g;
	cx->read_values = true;
	if (!v || v >= g->values.n)
		return false;
	const ir_value *x = &g->values.v[v];
	if (x->def_kind == IR_DEF_CONST)
		return ir_kv_from_tensor(g, x->tensor, k);
	if (x->def_kind != IR_DEF_NODE)
		return false;
	return kv_find(&cx->kv, v, k) || kv_eval(cx, x, k);
}

/* A scalar float from a constant tensor, an initializer or a Constant node. */
static bool tensor_scalar_f64(const ir_graph *g, ir_tid t, double *out)
{
	const ir_tensor *x = ir_tensor_at(g, t);
	if (!x || ir_tensor_numel(g, t) != 1)
		return false;
	if (x->dtype == IR_F32 && x->nbytes >= 4) {
		float f;
		memcpy(&f, x->data, 4);
		*out = f;
		return true;
	}
	if (x->dtype == IR_F64 && x->nbytes >= 8) {
		memcpy(out, x->data, 8);
		return true;
	}
	return false;
}

static bool constant_node_f64(const ir_graph *g, ir_nid n, double *out)
{
	if (g->nodes.v[n].opcode != IR_OP_Constant)
		return false;
	const ir_attr *a = ir_attr_find(g, n, "value");
	if (a && a->kind == IR_ATTR_TENSOR)
		return tensor_scalar_f64(g, a->u.t, out);
	a = ir_attr_find(g, n, "value_float");
	if (a && a->kind == IR_ATTR_FLOAT) {
		*out = a->u.f;
		return true;
	}
	return false;
}

bool ir_kv_scalar_f64(ir_icx *cx, ir_val v, double *out)
{
	ir_kval k;
	if (ir_kv_get(cx, v, &k)) {
		if (k.n != 1 || k.unk)
			return false;
		*out = (double)k.v[0];
		return true;
	}
	const ir_value *x = ir_value_at(cx->g, v);
	if (!x)
		return false;
	if (x->def_kind == IR_DEF_CONST)
		return tensor_scalar_f64(cx->g, x->tensor, out);
	return x->def_kind == IR_DEF_NODE && constant_node_f64(cx->g, x->node, out);
}

/* ---------------------------------------------------------------- folding */

/* The result type to fold into: a static integer tensor of few elements. */
static bool result_shape(const ir_graph *g, ir_nid n, ir_kval *k)
{
	ir_val v = ir_node_output(g, n, 0);
	ir_shape s;
	ir_shape_of_type(g, g->values.v[v].type, &s);
	if (s.kind != IR_TYPE_TENSOR || !kv_dtype(s.dtype) || s.rank < 0)
		return false;
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < s.rank; i++)
		dims[i] = s.d[i].v;
	if (!small_dims(s.rank, dims))
		return false;
	kv_shape(k, s.dtype, s.rank, dims);
	memset(k->sym, 0, k->n * sizeof *k->sym);
	return true;
}

static bool fold(ir_icx *cx, ir_nid n, ir_kval *k)
{
	if (!result_shape(cx->g, n, k))
		return false;
	return ir_kv_eval_op(cx, n, k);
}

void ir_kv_fold_node(ir_icx *cx, ir_nid n)
{
	if (!ir_kv_foldable(cx->g->nodes.v[n].opcode))
		return;
	ir_kval k;
	if (fold(cx, n, &k))
		kv_put(&cx->kv, ir_node_output(cx->g, n, 0), &k);
}
