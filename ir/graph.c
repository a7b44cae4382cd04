/* The graph's arenas: allocation, interned strings, blobs, tensors, values,
 * use lists and graph-level lists.  Nodes and attributes are in node.c. */
#include <stdlib.h>
#include <string.h>

#include "ir_internal.h"

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	(void)osize;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, nsize);
}

void *ir_alloc(ir_graph *g, size_t n)
{
	if (g->oom)
		return NULL;
	void *p = g->alloc(g->ud, NULL, 0, n ? n : 1);
	if (!p)
		g->oom = true;
	return p;
}

void ir_free(ir_graph *g, void *p, size_t n)
{
	if (p)
		g->alloc(g->ud, p, n, 0);
}

bool ir_vec_grow_(ir_graph *g, void **v, uint32_t *cap, uint32_t need, size_t elt)
{
	if (g->oom)
		return false;
	uint64_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX) {
		g->oom = true;
		return false;
	}
	void *p = g->alloc(g->ud, *v, (size_t)*cap * elt, (size_t)ncap * elt);
	if (!p) {
		g->oom = true;
		return false;
	}
	*v = p;
	*cap = (uint32_t)ncap;
	return true;
}

void ir_vec_free_(ir_graph *g, void *v, uint32_t cap, size_t elt)
{
	if (v)
		g->alloc(g->ud, v, (size_t)cap * elt, 0);
}

uint32_t ir_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)n, w;
	for (; n >= 8; s += 8, n -= 8) { /* eight bytes a step: names are long */
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33; /* a final mix: the slot index takes the low bits */
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Every arena starts with a reserved entry 0 so that id 0 means "none". */
static void reserve_zero_ids(ir_graph *g)
{
	ir_vec_push(g, g->nodes, (ir_node){0});
	ir_vec_push(g, g->values, (ir_value){0});
	ir_vec_push(g, g->uses, (ir_use){0});
	ir_vec_push(g, g->tensors, (ir_tensor){0});
	ir_vec_push(g, g->blobs, (ir_blob){0});
	ir_vec_push(g, g->chars, '\0');
	ir_vec_push(g, g->strs, ((ir_strent){0, 0, 0}));
	/* The pools start allocated, so that `pool.v + offset` is never
	 * arithmetic on a null pointer (undefined even for offset 0). */
	(void)ir_vec_reserve(g, g->attrs, 1);
	(void)ir_vec_reserve(g, g->dims, 1);
	(void)ir_vec_reserve(g, g->i64, 1);
	(void)ir_vec_reserve(g, g->f32, 1);
	(void)ir_vec_reserve(g, g->u32, 1);
	(void)ir_vec_reserve(g, g->results, 1);
}

ir_graph *ir_graph_new_alloc(ir_allocf f, void *ud)
{
	ir_graph *g = f(ud, NULL, 0, sizeof *g);
	if (!g)
		return NULL;
	memset(g, 0, sizeof *g);
	g->alloc = f;
	g->ud = ud;
	reserve_zero_ids(g);
	return g;
}

ir_graph *ir_graph_new(void)
{
	return ir_graph_new_alloc(default_alloc, NULL);
}

bool ir_graph_adopts_malloc(const ir_graph *g)
{
	return g->alloc == default_alloc;
}

void ir_graph_free(ir_graph *g)
{
	if (!g)
		return;
	for (uint32_t i = 1; i < g->tensors.n; i++)
		ir_free(g, g->tensors.v[i].data, g->tensors.v[i].nbytes);
	for (uint32_t i = 1; i < g->blobs.n; i++)
		ir_free(g, g->blobs.v[i].p, g->blobs.v[i].n);
	ir_free(g, g->strhash, (size_t)g->hashcap * sizeof *g->strhash);
	ir_vec_free(g, g->chars);
	ir_vec_free(g, g->strs);
	ir_vec_free(g, g->nodes);
	ir_vec_free(g, g->values);
	ir_vec_free(g, g->uses);
	ir_vec_free(g, g->results);
	ir_vec_free(g, g->attrs);
	ir_vec_free(g, g->dims);
	ir_vec_free(g, g->i64);
	ir_vec_free(g, g->f32);
	ir_vec_free(g, g->u32);
	ir_vec_free(g, g->tensors);
	ir_vec_free(g, g->blobs);
	ir_vec_free(g, g->inputs);
	ir_vec_free(g, g->outputs);
	ir_vec_free(g, g->consts);
	ir_vec_free(g, g->opsets);
	ir_vec_free(g, g->props);
	ir_vec_free(g, g->locs);
	for (int k = 0; k < IR_EXTRA_KINDS; k++)
		ir_vec_free(g, g->extras[k]);
	ir_funcs_free(g);
	g->alloc(g->ud, g, sizeof *g, 0);
}

bool ir_graph_oom(const ir_graph *g)
{
	return g->oom;
}

size_t ir_graph_bytes(const ir_graph *g)
{
	size_t b = sizeof *g + (size_t)g->hashcap * sizeof *g->strhash;
	b += (size_t)g->chars.cap * sizeof(char) + (size_t)g->strs.cap * sizeof(ir_strent);
	b += (size_t)g->nodes.cap * sizeof(ir_node) + (size_t)g->values.cap * sizeof(ir_value);
	b += (size_t)g->uses.cap * sizeof(ir_use) + (size_t)g->results.cap * sizeof(ir_val);
	b += (size_t)g->attrs.cap * sizeof(ir_attr) + (size_t)g->dims.cap * sizeof(ir_dim);
	b += (size_t)g->i64.cap * sizeof(int64_t) + (size_t)g->f32.cap * sizeof(float);
	b += (size_t)g->u32.cap * sizeof(uint32_t) + (size_t)g->tensors.cap * sizeof(ir_tensor);
	b += (size_t)g->blobs.cap * sizeof(ir_blob);
	b += ((size_t)g->inputs.cap + g->outputs.cap + g->consts.cap) * sizeof(ir_val);
	b += (size_t)g->funcs.cap * sizeof(ir_func) + (size_t)g->fattrs.cap * sizeof(ir_attr);
	for (ir_fid f = 1; f <= ir_graph_nfuncs(g); f++)
		b += ir_graph_bytes(ir_func_at(g, f)->body);
	return b;
}

ir_meta *ir_graph_meta(ir_graph *g)
{
	return &g->meta;
}

const ir_meta *ir_graph_cmeta(const ir_graph *g)
{
	return &g->meta;
}

/* ---------------------------------------------------------------- strings */

/* A slot of the string index: the string id in the low half, its hash in
 * the high half (a probe compares hashes without reading the entries). */
#define SLOT_ID(x) ((uint32_t)(x))
#define SLOT_HASH(x) ((uint32_t)((x) >> 32))

static bool rehash(ir_graph *g, uint32_t ncap)
{
	uint64_t *h = ir_alloc(g, (size_t)ncap * sizeof *h);
	if (!h)
		return false;
	memset(h, 0, (size_t)ncap * sizeof *h);
	for (uint32_t id = 1; id < g->strs.n; id++) {
		uint32_t hash = g->strs.v[id].hash, i = hash & (ncap - 1);
		while (h[i])
			i = (i + 1) & (ncap - 1);
		h[i] = (uint64_t)hash << 32 | id;
	}
	ir_free(g, g->strhash, (size_t)g->hashcap * sizeof *h);
	g->strhash = h;
	g->hashcap = ncap;
	return true;
}

static uint32_t str_slot(const ir_graph *g, const char *s, size_t n, uint32_t hash)
{
	uint32_t i = hash & (g->hashcap - 1);
	for (;;) {
		uint64_t x = g->strhash[i];
		if (!x)
			return i;
		if (SLOT_HASH(x) == hash) {
			const ir_strent *e = &g->strs.v[SLOT_ID(x)];
			if (e->len == n && memcmp(g->chars.v + e->off, s, n) == 0)
				return i;
		}
		i = (i + 1) & (g->hashcap - 1);
	}
}

ir_str ir_str_lookup(const ir_graph *g, const char *s, size_t n)
{
	if (n == 0 || !g->hashcap)
		return 0;
	return SLOT_ID(g->strhash[str_slot(g, s, n, ir_hash_bytes(s, n))]);
}

void ir_intern_prefetch(const ir_graph *g, const char *s, size_t n)
{
	if (n && g->hashcap)
		__builtin_prefetch(&g->strhash[ir_hash_bytes(s, n) & (g->hashcap - 1)]);
}

bool ir_intern_reserve(ir_graph *g, size_t nstr, size_t nchars)
{
	if (g->oom || nstr >= UINT32_MAX / 4 - g->strs.n || nchars + nstr >= UINT32_MAX - g->chars.n)
		return false;
	uint32_t cap = g->hashcap ? g->hashcap : 256;
	while ((g->strs.n + (uint32_t)nstr + 1) * 2 > cap)
		cap *= 2;
	return (cap == g->hashcap || rehash(g, cap)) && ir_vec_reserve(g, g->strs, nstr) &&
	       ir_vec_reserve(g, g->chars, nchars + nstr);
}

ir_str ir_intern(ir_graph *g, const char *s, size_t n)
{
	if (n == 0 || g->oom)
		return 0;
	if ((g->strs.n + 1) * 2 > g->hashcap && !rehash(g, g->hashcap ? g->hashcap * 2 : 256))
		return 0;
	uint32_t hash = ir_hash_bytes(s, n);
	uint32_t slot = str_slot(g, s, n, hash);
	if (g->strhash[slot])
		return SLOT_ID(g->strhash[slot]);
	if (n >= UINT32_MAX - g->chars.n || !ir_vec_reserve(g, g->chars, n + 1) ||
	    !ir_vec_reserve(g, g->strs, 1))
		return 0;
	ir_strent e = {g->chars.n, (uint32_t)n, hash};
	memcpy(g->chars.v + g->chars.n, s, n);
	g->chars.v[g->chars.n + n] = '\0';
	g->chars.n += (uint32_t)n + 1;
	ir_str id = g->strs.n;
	g->strs.v[g->strs.n++] = e;
	g->strhash[slot] = (uint64_t)hash << 32 | id;
	return id;
}

ir_str ir_intern_cstr(ir_graph *g, const char *s)
{
	return s ? ir_intern(g, s, strlen(s)) : 0;
}

const char *ir_str_get(const ir_graph *g, ir_str s, size_t *len)
{
	if (s == 0 || s >= g->strs.n) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = g->strs.v[s].len;
	return g->chars.v + g->strs.v[s].off;
}

/* ---------------------------------------------------------------- blobs */

ir_bid ir_blob_add(ir_graph *g, const void *data, size_t n)
{
	void *p = ir_alloc(g, n);
	if (!p || !ir_vec_reserve(g, g->blobs, 1)) {
		ir_free(g, p, n);
		return 0;
	}
	if (n)
		memcpy(p, data, n);
	g->blobs.v[g->blobs.n] = (ir_blob){p, n};
	return g->blobs.n++;
}

const void *ir_blob_get(const ir_graph *g, ir_bid b, size_t *n)
{
	if (b == 0 || b >= g->blobs.n) {
		*n = 0;
		return NULL;
	}
	*n = g->blobs.v[b].n;
	return g->blobs.v[b].p;
}

size_t ir_nblobs(const ir_graph *g)
{
	return g->blobs.n - 1;
}

/* ---------------------------------------------------------------- types */

ir_type ir_type_unknown(void)
{
	return (ir_type){IR_TYPE_NONE, IR_UNDEF, -1, 0};
}

ir_type ir_type_tensor_dims(ir_graph *g, ir_dtype dt, int rank, const ir_dim *dims)
{
	ir_type t = {IR_TYPE_TENSOR, (uint8_t)dt, (int16_t)rank, 0};
	if (rank <= 0)
		return t;
	if (!ir_vec_reserve(g, g->dims, (uint32_t)rank))
		return ir_type_unknown();
	t.dims = g->dims.n;
	memcpy(g->dims.v + g->dims.n, dims, (size_t)rank * sizeof *dims);
	g->dims.n += (uint32_t)rank;
	return t;
}

ir_type ir_type_tensor(ir_graph *g, ir_dtype dt, int rank, const int64_t *dims)
{
	ir_dim d[IR_MAX_RANK];
	if (rank > IR_MAX_RANK)
		return ir_type_unknown();
	for (int i = 0; i < rank; i++)
		d[i] = (ir_dim){dims[i] < 0 ? -1 : dims[i], 0};
	return ir_type_tensor_dims(g, dt, rank, d);
}

ir_type ir_type_opaque(ir_graph *g, ir_bid typeproto)
{
	(void)g;
	return (ir_type){IR_TYPE_OPAQUE, IR_UNDEF, -1, typeproto};
}

const ir_dim *ir_type_dims(const ir_graph *g, ir_type t)
{
	if (t.kind != IR_TYPE_TENSOR || t.rank <= 0)
		return NULL;
	return g->dims.v + t.dims;
}

int64_t ir_type_numel(const ir_graph *g, ir_type t)
{
	if (t.kind != IR_TYPE_TENSOR || t.rank < 0)
		return -1;
	const ir_dim *d = ir_type_dims(g, t);
	int64_t n = 1;
	for (int i = 0; i < t.rank; i++) {
		if (d[i].v < 0)
			return -1;
		n *= d[i].v;
	}
	return n;
}

bool ir_type_is_static(const ir_graph *g, ir_type t)
{
	return t.kind == IR_TYPE_TENSOR && t.dtype != IR_UNDEF && ir_type_numel(g, t) >= 0;
}

bool ir_type_equal(const ir_graph *ga, ir_type a, const ir_graph *gb, ir_type b)
{
	if (a.kind != b.kind || a.dtype != b.dtype || a.rank != b.rank)
		return false;
	if (a.kind == IR_TYPE_OPAQUE) {
		size_t na, nb;
		const void *pa = ir_blob_get(ga, a.dims, &na), *pb = ir_blob_get(gb, b.dims, &nb);
		return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
	}
	const ir_dim *da = ir_type_dims(ga, a), *db = ir_type_dims(gb, b);
	for (int i = 0; i < a.rank; i++) {
		if (da[i].v != db[i].v)
			return false;
		size_t la, lb;
		const char *sa = ir_str_get(ga, da[i].sym, &la), *sb = ir_str_get(gb, db[i].sym, &lb);
		if (la != lb || memcmp(sa, sb, la) != 0)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- tensors */

ir_tid ir_tensor_adopt(ir_graph *g, ir_str name, ir_dtype dt, int rank, const int64_t *dims,
		       void *data, size_t nbytes)
{
	uint32_t off = rank > 0 ? ir_pool_i64(g, dims, (uint32_t)rank) : 0;
	if (!ir_vec_reserve(g, g->tensors, 1)) {
		ir_free(g, data, nbytes);
		return 0;
	}
	ir_tensor t = {name, 0, (uint8_t)dt, (int16_t)rank, off, data, nbytes};
	g->tensors.v[g->tensors.n] = t;
	return g->tensors.n++;
}

ir_tid ir_tensor_new(ir_graph *g, ir_str name, ir_dtype dt, int rank, const int64_t *dims,
		     const void *data, size_t nbytes)
{
	void *p = ir_alloc(g, nbytes);
	if (!p)
		return 0;
	if (data && nbytes)
		memcpy(p, data, nbytes);
	else
		memset(p, 0, nbytes);
	return ir_tensor_adopt(g, name, dt, rank, dims, p, nbytes);
}

ir_tensor *ir_tensor_at(const ir_graph *g, ir_tid t)
{
	return t && t < g->tensors.n ? &g->tensors.v[t] : NULL;
}

const int64_t *ir_tensor_dims(const ir_graph *g, ir_tid t)
{
	return g->i64.v + g->tensors.v[t].dims;
}

int64_t ir_tensor_numel(const ir_graph *g, ir_tid t)
{
	const ir_tensor *x = &g->tensors.v[t];
	int64_t n = 1;
	for (int i = 0; i < x->rank; i++)
		n *= g->i64.v[x->dims + (uint32_t)i];
	return n;
}

size_t ir_ntensors(const ir_graph *g)
{
	return g->tensors.n - 1;
}

ir_type ir_tensor_type(ir_graph *g, ir_tid t)
{
	int64_t dims[IR_MAX_RANK];
	const ir_tensor *x = &g->tensors.v[t];
	int rank = x->rank;
	if (rank > IR_MAX_RANK)
		return ir_type_unknown();
	for (int i = 0; i < rank; i++)
		dims[i] = g->i64.v[x->dims + (uint32_t)i];
	return ir_type_tensor(g, (ir_dtype)x->dtype, rank, dims);
}

/* ---------------------------------------------------------------- pools */

uint32_t ir_pool_i64(ir_graph *g, const int64_t *v, uint32_t n)
{
	if (!ir_vec_reserve(g, g->i64, n))
		return 0;
	uint32_t off = g->i64.n;
	if (n)
		memcpy(g->i64.v + off, v, n * sizeof *v);
	g->i64.n += n;
	return off;
}

uint32_t ir_pool_f32(ir_graph *g, const float *v, uint32_t n)
{
	if (!ir_vec_reserve(g, g->f32, n))
		return 0;
	uint32_t off = g->f32.n;
	if (n)
		memcpy(g->f32.v + off, v, n * sizeof *v);
	g->f32.n += n;
	return off;
}

uint32_t ir_pool_u32(ir_graph *g, const uint32_t *v, uint32_t n)
{
	if (!ir_vec_reserve(g, g->u32, n))
		return 0;
	uint32_t off = g->u32.n;
	if (n)
		memcpy(g->u32.v + off, v, n * sizeof *v);
	g->u32.n += n;
	return off;
}

/* ---------------------------------------------------------------- values */

ir_val ir_value_new(ir_graph *g, ir_str name, ir_type type)
{
	if (!ir_vec_reserve(g, g->values, 1))
		return 0;
	ir_value v = {0};
	v.name = name;
	v.type = type;
	g->values.v[g->values.n] = v;
	return g->values.n++;
}

ir_value *ir_value_at(const ir_graph *g, ir_val v)
{
	return v && v < g->values.n ? &g->values.v[v] : NULL;
}

size_t ir_nvalues(const ir_graph *g)
{
	return g->values.n - 1;
}

ir_val ir_const_new(ir_graph *g, ir_str name, ir_tid t)
{
	ir_type ty = ir_tensor_type(g, t);
	ir_val v = ir_value_new(g, name, ty);
	if (!v || !ir_vec_push(g, g->consts, v))
		return 0;
	g->values.v[v].def_kind = IR_DEF_CONST;
	g->values.v[v].tensor = t;
	return v;
}

ir_val ir_input_new(ir_graph *g, ir_str name, ir_type type, ir_tid init)
{
	ir_val v = ir_value_new(g, name, type);
	if (!v || !ir_vec_push(g, g->inputs, v))
		return 0;
	g->values.v[v].def_kind = IR_DEF_INPUT;
	g->values.v[v].tensor = init;
	return v;
}

void ir_graph_add_output(ir_graph *g, ir_val v)
{
	ir_vec_push(g, g->outputs, v);
}

size_t ir_graph_nconsts(const ir_graph *g)
{
	return g->consts.n;
}

ir_val ir_graph_const_at(const ir_graph *g, size_t i)
{
	return g->consts.v[i];
}

size_t ir_graph_ninputs(const ir_graph *g)
{
	return g->inputs.n;
}

ir_val ir_graph_input_at(const ir_graph *g, size_t i)
{
	return g->inputs.v[i];
}

size_t ir_graph_noutputs(const ir_graph *g)
{
	return g->outputs.n;
}

ir_val ir_graph_output_at(const ir_graph *g, size_t i)
{
	return g->outputs.v[i];
}

void ir_graph_set_output(ir_graph *g, size_t i, ir_val v)
{
	g->outputs.v[i] = v;
}

bool ir_value_is_output(const ir_graph *g, ir_val v)
{
	for (uint32_t i = 0; i < g->outputs.n; i++)
		if (g->outputs.v[i] == v)
			return true;
	return false;
}

void ir_const_remove(ir_graph *g, ir_val v)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < g->consts.n; i++)
		if (g->consts.v[i] != v)
			g->consts.v[j++] = g->consts.v[i];
	g->consts.n = j;
	g->values.v[v].def_kind = IR_DEF_NONE;
}

void ir_consts_remove(ir_graph *g, const ir_val *v, size_t n)
{
	/* The pass over the list tests a bitmap of the removed ids (small
	 * enough to stay in cache) rather than each constant's value entry. */
	size_t words = ((size_t)g->values.n + 63) / 64;
	uint64_t *gone = n ? ir_alloc(g, words * sizeof *gone) : NULL;
	if (!gone) {
		for (size_t i = 0; i < n; i++)
			if (g->values.v[v[i]].def_kind == IR_DEF_CONST && g->values.v[v[i]].nuses == 0 &&
			    !ir_value_is_output(g, v[i]))
				ir_const_remove(g, v[i]);
		return;
	}
	memset(gone, 0, words * sizeof *gone);
	for (size_t i = 0; i < n; i++) {
		if (i + 8 < n) /* the values are scattered: fetch ahead */
			__builtin_prefetch(&g->values.v[v[i + 8]]);
		ir_value *x = &g->values.v[v[i]];
		if (x->def_kind == IR_DEF_CONST && x->nuses == 0 && !ir_value_is_output(g, v[i])) {
			x->def_kind = IR_DEF_NONE;
			gone[v[i] / 64] |= 1ull << (v[i] % 64);
		}
	}
	uint32_t j = 0;
	for (uint32_t i = 0; i < g->consts.n; i++) {
		ir_val c = g->consts.v[i];
		if (!(gone[c / 64] >> (c % 64) & 1))
			g->consts.v[j++] = c;
	}
	g->consts.n = j;
	ir_free(g, gone, words * sizeof *gone);
}

/* ---------------------------------------------------------------- graph-level lists */

void ir_graph_add_opset(ir_graph *g, const char *domain, int64_t version)
{
	if (domain && strcmp(domain, "ai.onnx") == 0)
		domain = "";
	ir_opset o = {ir_intern_cstr(g, domain), version};
	for (uint32_t i = 0; i < g->opsets.n; i++)
		if (g->opsets.v[i].domain == o.domain) {
			g->opsets.v[i].version = version;
			return;
		}
	ir_vec_push(g, g->opsets, o);
}

size_t ir_graph_nopsets(const ir_graph *g)
{
	return g->opsets.n;
}

ir_opset ir_graph_opset_at(const ir_graph *g, size_t i)
{
	return g->opsets.v[i];
}

int64_t ir_graph_opset(const ir_graph *g, const char *domain)
{
	ir_str d = 0; /* the default domain ("" and "ai.onnx") */
	if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0 && !(d = ir_str_lookup(g, domain, strlen(domain))))
		return -1;
	for (uint32_t i = 0; i < g->opsets.n; i++)
		if (g->opsets.v[i].domain == d)
			return g->opsets.v[i].version;
	return -1;
}

void ir_graph_add_prop(ir_graph *g, ir_str key, ir_str value)
{
	ir_vec_push(g, g->props, ((ir_kv){key, value}));
}

size_t ir_graph_nprops(const ir_graph *g)
{
	return g->props.n;
}

ir_kv ir_graph_prop_at(const ir_graph *g, size_t i)
{
	return g->props.v[i];
}

void ir_graph_add_extra(ir_graph *g, ir_extra_kind k, ir_bid b)
{
	ir_vec_push(g, g->extras[k], b);
}

size_t ir_graph_nextras(const ir_graph *g, ir_extra_kind k)
{
	return g->extras[k].n;
}

ir_bid ir_graph_extra_at(const ir_graph *g, ir_extra_kind k, size_t i)
{
	return g->extras[k].v[i];
}

int ir_type_format(const ir_graph *g, ir_type t, char *buf, size_t cap)
{
	if (t.kind == IR_TYPE_NONE)
		return snprintf(buf, cap, "?");
	if (t.kind == IR_TYPE_OPAQUE)
		return snprintf(buf, cap, "opaque");
	size_t len = (size_t)snprintf(buf, cap, "%s", ir_dtype_name((ir_dtype)t.dtype));
	if (t.rank < 0)
		return (int)(len + (size_t)snprintf(buf + (len < cap ? len : cap), len < cap ? cap - len : 0, "[*]"));
	const ir_dim *d = ir_type_dims(g, t);
	for (int i = 0; i <= t.rank; i++) {
		char part[64];
		const char *open = i ? "," : "[";
		if (i == t.rank)
			snprintf(part, sizeof part, "%s]", t.rank ? "" : "[");
		else if (d[i].v >= 0)
			snprintf(part, sizeof part, "%s%lld", open, (long long)d[i].v);
		else if (d[i].sym)
			snprintf(part, sizeof part, "%s%s", open, ir_cstr(g, d[i].sym));
		else
			snprintf(part, sizeof part, "%s?", open);
		len += (size_t)snprintf(buf + (len < cap ? len : cap), len < cap ? cap - len : 0, "%s", part);
	}
	return (int)len;
}
