/* Graph diff, part 1: a topological order of each graph and bottom-up
 * structural hashes of its values and nodes.
 *
 * Two hashes per node: the exact one covers op, domain, attributes and the
 * exact hashes of the operands (constants by content), so equal exact hashes
 * mean equal computations; the loose one leaves out attributes and constant
 * data, so a node whose attribute or weights changed keeps the loose hash of
 * its old self, and so do all nodes downstream of it.  Attributes equal to
 * the registry's default count as absent.  Also here: attribute and tensor
 * comparison across two graphs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

enum { SEED_NONE = 0x6e6f6e65, SEED_CONST = 0x636f6e73, SEED_OUT = 0x6f757470 };

uint64_t diff_mix(uint64_t h, uint64_t x)
{
	uint64_t z = h ^ (x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t diff_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = diff_mix(0x243f6a8885a308d3ull, n);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	uint64_t tail = 0;
	for (; i < n; i++)
		tail = (tail << 8) | s[i];
	return diff_mix(h, tail);
}

uint64_t diff_hash_str(const ir_graph *g, ir_str s)
{
	size_t n;
	const char *p = ir_str_get(g, s, &n);
	return diff_hash_bytes(p, n);
}

/* ---------------------------------------------------------------- order */

/* Kahn's algorithm over producer -> consumer edges; nodes left on a cycle
 * (an invalid graph) follow in graph order. */
static void topo_order(diff_side *s)
{
	const ir_graph *g = s->g;
	uint32_t *indeg = s->pos; /* reused as scratch, then overwritten */
	memset(indeg, 0, s->nnodes * sizeof *indeg);
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t i = 0; i < ir_node_at(g, n)->nin; i++) {
			const ir_value *v = ir_value_at(g, ir_node_input(g, n, i));
			indeg[n] += v && v->def_kind == IR_DEF_NODE;
		}
	uint32_t k = 0;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		if (indeg[n] == 0)
			s->topo[k++] = n;
	for (uint32_t head = 0; head < k; head++) {
		const ir_node *x = ir_node_at(g, s->topo[head]);
		for (uint32_t r = 0; r < x->nout; r++)
			for (uint32_t u = ir_first_use(g, ir_node_output(g, s->topo[head], r)); u;
			     u = ir_next_use(g, u))
				if (--indeg[ir_use_at(g, u)->node] == 0)
					s->topo[k++] = ir_use_at(g, u)->node;
	}
	for (ir_nid n = ir_graph_first(g); n && k < s->ntopo; n = ir_node_at(g, n)->next)
		if (indeg[n] != 0)
			s->topo[k++] = n;
	for (uint32_t i = 0; i < s->ntopo; i++)
		s->pos[s->topo[i]] = i;
}

static bool value_is_constlike(const diff_side *s, ir_val v)
{
	const ir_value *x = ir_value_at(s->g, v);
	if (!x)
		return true;
	return x->def_kind == IR_DEF_CONST || (x->def_kind == IR_DEF_NODE && s->constlike[x->node]);
}

/* Also caches which nodes have commutative operands. */
static void mark_constlike(diff_side *s)
{
	for (uint32_t i = 0; i < s->ntopo; i++) {
		ir_nid n = s->topo[i];
		s->commutes[n] = diff_op_commutes(s->g, n);
		bool c = true;
		for (uint32_t k = 0; c && k < ir_node_at(s->g, n)->nin; k++)
			c = value_is_constlike(s, ir_node_input(s->g, n, k));
		s->constlike[n] = c;
	}
}

bool diff_side_init(diff_side *s, const ir_graph *g)
{
	memset(s, 0, sizeof *s);
	s->g = g;
	s->nnodes = (uint32_t)ir_nnodes_total(g) + 1;
	s->nvalues = (uint32_t)ir_nvalues(g) + 1;
	s->ntopo = (uint32_t)ir_graph_nnodes(g);
	s->topo = malloc((s->ntopo + 1) * sizeof *s->topo);
	s->pos = calloc(s->nnodes, sizeof *s->pos);
	s->nx = calloc(s->nnodes, sizeof *s->nx);
	s->nl = calloc(s->nnodes, sizeof *s->nl);
	s->nop = calloc(s->nnodes, sizeof *s->nop);
	s->vx = calloc(s->nvalues, sizeof *s->vx);
	s->vl = calloc(s->nvalues, sizeof *s->vl);
	s->constlike = calloc(s->nnodes, 1);
	s->commutes = calloc(s->nnodes, 1);
	if (!s->topo || !s->pos || !s->nx || !s->nl || !s->nop || !s->vx || !s->vl || !s->constlike ||
	    !s->commutes)
		return false;
	topo_order(s);
	mark_constlike(s);
	return true;
}

void diff_side_free(diff_side *s)
{
	free(s->topo);
	free(s->pos);
	free(s->nx);
	free(s->nl);
	free(s->nop);
	free(s->vx);
	free(s->vl);
	free(s->constlike);
	free(s->commutes);
}

/* ---------------------------------------------------------------- hashes */

static uint64_t tensor_shape_hash(const ir_graph *g, const ir_tensor *t, ir_tid id)
{
	uint64_t h = diff_mix(SEED_CONST, t->dtype);
	const int64_t *d = ir_tensor_dims(g, id);
	h = diff_mix(h, (uint64_t)(int64_t)t->rank);
	for (int i = 0; i < t->rank; i++)
		h = diff_mix(h, (uint64_t)d[i]);
	return h;
}

static uint64_t tensor_hash(const ir_graph *g, ir_tid id, const ir_diff_opts *o)
{
	const ir_tensor *t = ir_tensor_at(g, id);
	if (!t)
		return SEED_NONE;
	uint64_t h = tensor_shape_hash(g, t, id);
	if (o->ignore_constants)
		return h;
	return diff_mix(h, diff_hash_bytes(t->data, t->nbytes));
}

static uint64_t ids_hash(const ir_graph *g, const ir_attr *a, const ir_diff_opts *o)
{
	const uint32_t *ids = ir_attr_ids(g, a);
	uint64_t h = a->n;
	for (uint32_t i = 0; i < a->n; i++) {
		size_t n;
		const void *p;
		if (a->kind == IR_ATTR_STRINGS) {
			h = diff_mix(h, diff_hash_str(g, ids[i]));
		} else if (a->kind == IR_ATTR_TENSORS) {
			h = diff_mix(h, tensor_hash(g, ids[i], o));
		} else {
			p = ir_blob_get(g, ids[i], &n);
			h = diff_mix(h, diff_hash_bytes(p, n));
		}
	}
	return h;
}

static uint64_t attr_value_hash(const ir_graph *g, const ir_attr *a, const ir_diff_opts *o)
{
	size_t n;
	const void *p;
	uint32_t bits;
	switch (a->kind) {
	case IR_ATTR_INT:
		return (uint64_t)a->u.i;
	case IR_ATTR_FLOAT:
		memcpy(&bits, &a->u.f, sizeof bits);
		return bits;
	case IR_ATTR_STRING:
		return diff_hash_str(g, a->u.s);
	case IR_ATTR_INTS:
		return diff_hash_bytes(ir_attr_ints(g, a), a->n * sizeof(int64_t));
	case IR_ATTR_FLOATS:
		return diff_hash_bytes(ir_attr_floats(g, a), a->n * sizeof(float));
	case IR_ATTR_TENSOR:
		return tensor_hash(g, a->u.t, o);
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		p = ir_blob_get(g, a->u.b, &n);
		return diff_hash_bytes(p, n);
	default:
		return ids_hash(g, a, o);
	}
}

/* Order-independent: attributes are kept in insertion order, which is not
 * part of a node's meaning. */
static uint64_t attrs_hash(const ir_graph *g, ir_nid n, const ir_diff_opts *o)
{
	const ir_attr *v = ir_node_attrs(g, n);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < ir_node_at(g, n)->nattr; i++) {
		if (diff_attr_is_default(g, n, &v[i]))
			continue;
		uint64_t h = diff_mix(diff_hash_str(g, v[i].name), v[i].kind);
		sum += diff_mix(h, attr_value_hash(g, &v[i], o));
	}
	return sum;
}

bool diff_op_commutes(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	const ir_opinfo *info = ir_op_info(x->opcode);
	return x->nin == 2 && info && (info->traits & IR_TRAIT_COMMUTATIVE);
}

/* Operands in order, or as an unordered pair for commutative ops. */
static uint64_t operands_hash(const diff_side *s, ir_nid n, const uint64_t *vh)
{
	const ir_node *x = ir_node_at(s->g, n);
	uint64_t h = diff_mix(x->nin, x->nout);
	if (diff_op_commutes(s->g, n)) {
		uint64_t p = vh[ir_node_input(s->g, n, 0)], q = vh[ir_node_input(s->g, n, 1)];
		return diff_mix(diff_mix(h, p < q ? p : q), p < q ? q : p);
	}
	for (uint32_t i = 0; i < x->nin; i++)
		h = diff_mix(h, vh[ir_node_input(s->g, n, i)]);
	return h;
}

static void hash_node(diff_side *s, const ir_diff_opts *o, ir_nid n)
{
	const ir_node *x = ir_node_at(s->g, n);
	uint64_t op = diff_mix(diff_hash_str(s->g, x->op), diff_hash_str(s->g, x->domain));
	s->nop[n] = op;
	s->nl[n] = diff_mix(op, operands_hash(s, n, s->vl));
	s->nx[n] = diff_mix(diff_mix(op, operands_hash(s, n, s->vx)), attrs_hash(s->g, n, o));
	for (uint32_t r = 0; r < x->nout; r++) {
		ir_val v = ir_node_output(s->g, n, r);
		s->vx[v] = diff_mix(s->nx[n], SEED_OUT + r);
		s->vl[v] = diff_mix(s->nl[n], SEED_OUT + r);
	}
}

static void hash_leaves(diff_side *s, const ir_diff_opts *o, const uint64_t *seeds)
{
	const ir_graph *g = s->g;
	s->vx[0] = s->vl[0] = SEED_NONE;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
		ir_val v = ir_graph_input_at(g, i);
		s->vx[v] = s->vl[v] = seeds[v];
	}
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		ir_val v = ir_graph_const_at(g, i);
		ir_tid t = ir_value_at(g, v)->tensor;
		const ir_tensor *x = ir_tensor_at(g, t);
		s->vl[v] = x ? tensor_shape_hash(g, x, t) : SEED_NONE;
		s->vx[v] = tensor_hash(g, t, o);
	}
}

void diff_side_hash(diff_side *s, const ir_diff_opts *o, const uint64_t *seeds)
{
	hash_leaves(s, o, seeds);
	for (uint32_t i = 0; i < s->ntopo; i++)
		hash_node(s, o, s->topo[i]);
}

/* ---------------------------------------------------------------- attributes */

static const ir_attrdef *attr_def(const ir_graph *g, ir_nid n, const ir_attr *x)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	const char *name = ir_cstr(g, x->name);
	for (const ir_attrdef *d = info ? info->attrs : NULL; d && d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

bool diff_attr_is_default(const ir_graph *g, ir_nid n, const ir_attr *x)
{
	const ir_attrdef *d = attr_def(g, n, x);
	if (!d || !d->dflt || d->kind != (ir_attr_kind)x->kind)
		return false;
	size_t len;
	const char *s;
	switch (x->kind) {
	case IR_ATTR_INT:
		return strtoll(d->dflt, NULL, 10) == x->u.i;
	case IR_ATTR_FLOAT:
		return (float)strtod(d->dflt, NULL) == x->u.f;
	case IR_ATTR_STRING:
		s = ir_str_get(g, x->u.s, &len);
		return d->dflt[0] == '"' && strlen(d->dflt) == len + 2 && memcmp(d->dflt + 1, s, len) == 0;
	default:
		return false;
	}
}

static bool str_equal(const ir_graph *ga, ir_str a, const ir_graph *gb, ir_str b)
{
	size_t na, nb;
	const char *pa = ir_str_get(ga, a, &na), *pb = ir_str_get(gb, b, &nb);
	return na == nb && memcmp(pa, pb, na) == 0;
}

static bool blob_equal(const ir_graph *ga, ir_bid a, const ir_graph *gb, ir_bid b)
{
	size_t na, nb;
	const void *pa = ir_blob_get(ga, a, &na), *pb = ir_blob_get(gb, b, &nb);
	return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

/* Lists of strings, tensors or blobs, element by element. */
static bool ids_equal(const ir_graph *ga, const ir_attr *a, const ir_graph *gb, const ir_attr *b,
		      const ir_diff_opts *o, double *max_abs)
{
	const uint32_t *ia = ir_attr_ids(ga, a), *ib = ir_attr_ids(gb, b);
	bool eq = true;
	for (uint32_t i = 0; i < a->n; i++) {
		double m = 0;
		if (a->kind == IR_ATTR_STRINGS)
			eq = eq && str_equal(ga, ia[i], gb, ib[i]);
		else if (a->kind == IR_ATTR_TENSORS)
			eq = diff_tensor_equal(ga, ia[i], gb, ib[i], o, &m) && eq;
		else
			eq = eq && blob_equal(ga, ia[i], gb, ib[i]);
		if (isnan(m) || m > *max_abs)
			*max_abs = m;
	}
	return eq;
}

bool diff_attr_equal(const ir_graph *ga, const ir_attr *a, const ir_graph *gb, const ir_attr *b,
		     const ir_diff_opts *o, double *max_abs)
{
	*max_abs = 0;
	if (a->kind != b->kind || a->n != b->n)
		return false;
	switch (a->kind) {
	case IR_ATTR_INT:
		return a->u.i == b->u.i;
	case IR_ATTR_FLOAT:
		return a->u.f == b->u.f || (isnan(a->u.f) && isnan(b->u.f));
	case IR_ATTR_STRING:
		return str_equal(ga, a->u.s, gb, b->u.s);
	case IR_ATTR_INTS:
		return a->n == 0 || memcmp(ir_attr_ints(ga, a), ir_attr_ints(gb, b), a->n * sizeof(int64_t)) == 0;
	case IR_ATTR_FLOATS:
		return a->n == 0 || memcmp(ir_attr_floats(ga, a), ir_attr_floats(gb, b), a->n * sizeof(float)) == 0;
	case IR_ATTR_TENSOR:
		return diff_tensor_equal(ga, a->u.t, gb, b->u.t, o, max_abs);
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		return blob_equal(ga, a->u.b, gb, b->u.b);
	default:
		return ids_equal(ga, a, gb, b, o, max_abs);
	}
}

/* ---------------------------------------------------------------- tensors */

static bool same_shape(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b)
{
	const ir_tensor *x = ir_tensor_at(ga, a), *y = ir_tensor_at(gb, b);
	if (!x || !y || x->dtype != y->dtype || x->rank != y->rank)
		return false;
	const int64_t *da = ir_tensor_dims(ga, a), *db = ir_tensor_dims(gb, b);
	return x->rank <= 0 || memcmp(da, db, (size_t)x->rank * sizeof *da) == 0;
}

static double half_value(uint16_t h)
{
	int e = (h >> 10) & 0x1f;
	double m = h & 0x3ff, v;
	if (e == 0)
		v = ldexp(m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp(m + 1024, e - 25);
	return h & 0x8000 ? -v : v;
}

/* Element i as a double (tensors are little-endian, as the host); false
 * when the type has no numeric reading. */
static bool element(const ir_tensor *t, size_t i, double *out)
{
	const unsigned char *p = t->data;
	uint16_t h;
	uint32_t bits;
	float f;
	switch (t->dtype) {
	case IR_F16:
		memcpy(&h, p + i * 2, 2);
		*out = half_value(h);
		return true;
	case IR_BF16:
		memcpy(&h, p + i * 2, 2);
		bits = (uint32_t)h << 16;
		memcpy(&f, &bits, 4);
		*out = f;
		return true;
#define ELT(code, T)                                                                               \
	case code: {                                                                               \
		T v;                                                                               \
		memcpy(&v, p + i * sizeof v, sizeof v);                                            \
		*out = (double)v;                                                                  \
		return true;                                                                       \
	}
		ELT(IR_F32, float)
		ELT(IR_F64, double)
		ELT(IR_U8, uint8_t)
		ELT(IR_I8, int8_t)
		ELT(IR_U16, uint16_t)
		ELT(IR_I16, int16_t)
		ELT(IR_I32, int32_t)
		ELT(IR_I64, int64_t)
		ELT(IR_U32, uint32_t)
		ELT(IR_U64, uint64_t)
		ELT(IR_BOOL, uint8_t)
#undef ELT
	default:
		return false;
	}
}

double ir_tensor_max_diff(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b)
{
	if (!same_shape(ga, a, gb, b))
		return NAN;
	const ir_tensor *x = ir_tensor_at(ga, a), *y = ir_tensor_at(gb, b);
	size_t size = ir_dtype_size((ir_dtype)x->dtype);
	if (size == 0 || x->nbytes != y->nbytes)
		return x->nbytes == y->nbytes && memcmp(x->data, y->data, x->nbytes) == 0 ? 0 : NAN;
	double worst = 0;
	for (size_t i = 0; i < x->nbytes / size; i++) {
		double p, q;
		if (!element(x, i, &p) || !element(y, i, &q))
			return memcmp(x->data, y->data, x->nbytes) == 0 ? 0 : NAN;
		double d = isnan(p) || isnan(q) ? (isnan(p) && isnan(q) ? 0 : INFINITY) : fabs(p - q);
		if (d > worst)
			worst = d;
	}
	return worst;
}

bool diff_tensor_equal(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b,
		       const ir_diff_opts *o, double *max_abs)
{
	*max_abs = 0;
	if (!same_shape(ga, a, gb, b)) {
		*max_abs = NAN;
		return false;
	}
	const ir_tensor *x = ir_tensor_at(ga, a), *y = ir_tensor_at(gb, b);
	if (o->ignore_constants)
		return true;
	if (x->nbytes == y->nbytes && (x->nbytes == 0 || memcmp(x->data, y->data, x->nbytes) == 0))
		return true;
	*max_abs = ir_tensor_max_diff(ga, a, gb, b);
	return !isnan(*max_abs) && *max_abs <= o->tolerance;
}
