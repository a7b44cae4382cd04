/* ONNX import: a serialized ModelProto becomes an ir_graph.
 *
 * protobuf-c parses; this file maps the messages onto the IR.  Nodes are
 * created first with empty operands, and operand names are resolved once
 * every definition is known, so forward references (and cycles, which
 * ir_toposort reports) are representable.  Messages graft does not
 * interpret are kept byte-exact as blobs of the re-packed messages. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

/* Buffers from a huge page's size on (a large tensor's raw_data) start on
 * a huge page and ask for huge pages: protobuf-c copies raw_data into them,
 * and filling fresh memory page by page costs more than the copy.  Still
 * malloc's memory (free releases it): the graph adopts these buffers. */
#define HUGE_PAGE (2u << 20)

static void *malloc_pb_alloc(void *ud, size_t n)
{
	(void)ud;
#ifdef MADV_HUGEPAGE
	void *p;
	if (n >= HUGE_PAGE && posix_memalign(&p, HUGE_PAGE, n) == 0) {
		madvise(p, n & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE); /* advice only */
		return p;
	}
#endif
	return malloc(n);
}

static void malloc_pb_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

typedef struct importer {
	ir_graph *g;
	ir_diags *d;
	const char *file;
	const char *base_dir;
	const Onnx__GraphProto *gp;
	ir_tid *inits;     /* initializer i -> its tensor */
	bool *init_is_input; /* initializer i is the default of a graph input */
	ir_nid *nodes;     /* NodeProto i -> its node */
	ir_val *defs;      /* interned name -> the value it names */
	uint32_t ndefs;
} importer;

static bool fail(importer *m, const char *fmt, ...) IR_PRINTF(2, 3);

static bool fail(importer *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(m->d, IR_ERROR, m->file, 0, 0, fmt, ap);
	va_end(ap);
	return false;
}

static ir_str intern(importer *m, const char *s)
{
	return s ? ir_intern_cstr(m->g, s) : 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Packs a message into a new blob of the graph (0 and oom on failure). */
static ir_bid pack_blob(importer *m, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *tmp = ir_alloc(m->g, n);
	if (!tmp)
		return 0;
	protobuf_c_message_pack(msg, tmp);
	ir_bid b = ir_blob_add(m->g, tmp, n);
	ir_free(m->g, tmp, n);
	return b;
}

/* ---------------------------------------------------------------- tensors */

static const char *tname(const Onnx__TensorProto *t)
{
	return t->name && *t->name ? t->name : "<unnamed>";
}

static void store_le(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* One typed data field of a TensorProto, read element by element as bits. */
typedef enum { FIELD_FLOAT, FIELD_INT32, FIELD_INT64, FIELD_DOUBLE, FIELD_UINT64 } field_kind;

typedef struct field {
	field_kind kind;
	size_t n;
	const void *v;
	const char *name;
} field;

static field typed_field(const Onnx__TensorProto *t, ir_dtype dt)
{
	switch (dt) {
	case IR_F32:
	case IR_C64:
		return (field){FIELD_FLOAT, t->n_float_data, t->float_data, "float_data"};
	case IR_F64:
	case IR_C128:
		return (field){FIELD_DOUBLE, t->n_double_data, t->double_data, "double_data"};
	case IR_I64:
		return (field){FIELD_INT64, t->n_int64_data, t->int64_data, "int64_data"};
	case IR_U32:
	case IR_U64:
		return (field){FIELD_UINT64, t->n_uint64_data, t->uint64_data, "uint64_data"};
	default: /* i32, i16, i8, u16, u8, bool, f16, bf16 */
		return (field){FIELD_INT32, t->n_int32_data, t->int32_data, "int32_data"};
	}
}

static uint64_t field_bits(const field *f, size_t i)
{
	uint32_t u32;
	uint64_t u64;
	switch (f->kind) {
	case FIELD_FLOAT:
		memcpy(&u32, (const float *)f->v + i, sizeof u32);
		return u32;
	case FIELD_INT32:
		return (uint32_t)((const int32_t *)f->v)[i];
	case FIELD_DOUBLE:
		memcpy(&u64, (const double *)f->v + i, sizeof u64);
		return u64;
	case FIELD_INT64:
		return (uint64_t)((const int64_t *)f->v)[i];
	default:
		return ((const uint64_t *)f->v)[i];
	}
}

/* Name of a data field set that dt does not read, or NULL. */
static const char *stray_field(const Onnx__TensorProto *t, ir_dtype dt)
{
	const char *own = dt == IR_STRING ? "string_data" : typed_field(t, dt).name;
	const struct {
		size_t n;
		const char *name;
	} f[] = {
		{t->n_float_data, "float_data"},   {t->n_int32_data, "int32_data"},
		{t->n_string_data, "string_data"}, {t->n_int64_data, "int64_data"},
		{t->n_double_data, "double_data"}, {t->n_uint64_data, "uint64_data"},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].n && (t->has_raw_data || strcmp(f[i].name, own) != 0))
			return f[i].name;
	return NULL;
}

/* Checks the data type, the dims and the data fields; sets dt and numel. */
static bool tensor_header(importer *m, const Onnx__TensorProto *t, ir_dtype *dt, size_t *numel)
{
	int32_t code = t->has_data_type ? t->data_type : 0;
	if (code <= 0 || code >= IR_DTYPE_COUNT)
		return fail(m, "tensor '%s' has unsupported data type %" PRId32, tname(t), code);
	*dt = (ir_dtype)code;
	if (t->segment)
		return fail(m, "tensor '%s' is a segment, which graft does not support", tname(t));
	if (t->n_dims > INT16_MAX)
		return fail(m, "tensor '%s' has rank %zu", tname(t), t->n_dims);
	uint64_t n = 1;
	for (size_t i = 0; i < t->n_dims; i++) {
		int64_t d = t->dims[i];
		if (d < 0 || (d && n > (uint64_t)INT64_MAX / 16 / (uint64_t)d))
			return fail(m, "tensor '%s' has invalid dims", tname(t));
		n *= (uint64_t)d;
	}
	*numel = (size_t)n;
	const char *stray = stray_field(t, *dt);
	if (stray && t->has_raw_data)
		return fail(m, "tensor '%s' holds both raw_data and %s", tname(t), stray);
	if (stray)
		return fail(m, "tensor '%s' of type %s holds %s", tname(t), ir_dtype_name(*dt), stray);
	return true;
}

static void *from_field(importer *m, const Onnx__TensorProto *t, ir_dtype dt, size_t numel,
			size_t *nbytes)
{
	bool cplx = dt == IR_C64 || dt == IR_C128;
	size_t count = numel * (cplx ? 2 : 1), width = ir_dtype_size(dt) / (cplx ? 2 : 1);
	field f = typed_field(t, dt);
	if (f.n != count) {
		fail(m, "tensor '%s' (%s) has %zu elements but %s holds %zu values", tname(t),
		     ir_dtype_name(dt), numel, f.name, f.n);
		return NULL;
	}
	unsigned char *p = ir_alloc(m->g, count * width);
	for (size_t i = 0; p && i < count; i++)
		store_le(p + i * width, field_bits(&f, i), width);
	*nbytes = count * width;
	return p;
}

/* IR_STRING layout: per element a little-endian uint32 length, then the bytes. */
static void *from_strings(importer *m, const Onnx__TensorProto *t, size_t numel, size_t *nbytes)
{
	if (t->n_string_data != numel) {
		fail(m, "tensor '%s' (string) has %zu elements but string_data holds %zu values",
		     tname(t), numel, t->n_string_data);
		return NULL;
	}
	size_t total = 0;
	for (size_t i = 0; i < numel; i++) {
		if (t->string_data[i].len > UINT32_MAX) {
			fail(m, "tensor '%s' holds a string longer than 4 GB", tname(t));
			return NULL;
		}
		total += 4 + t->string_data[i].len;
	}
	unsigned char *p = ir_alloc(m->g, total), *q = p;
	for (size_t i = 0; p && i < numel; i++) {
		size_t len = t->string_data[i].len;
		store_le(q, len, 4);
		if (len)
			memcpy(q + 4, t->string_data[i].data, len);
		q += 4 + len;
	}
	*nbytes = total;
	return p;
}

/* Takes raw_data's buffer: both sides allocate with malloc (see above). */
static void *from_raw(importer *m, Onnx__TensorProto *t, size_t nbytes)
{
	if (t->raw_data.len != nbytes) {
		fail(m, "tensor '%s' has %zu bytes of raw_data, expected %zu", tname(t),
		     t->raw_data.len, nbytes);
		return NULL;
	}
	void *p = t->raw_data.data;
	if (!p)
		return ir_alloc(m->g, 0);
	t->raw_data.data = NULL;
	t->raw_data.len = 0;
	return p;
}

static const char *ext_key(const Onnx__TensorProto *t, const char *key)
{
	for (size_t i = 0; i < t->n_external_data; i++)
		if (t->external_data[i]->key && strcmp(t->external_data[i]->key, key) == 0)
			return or_empty(t->external_data[i]->value);
	return NULL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-')
		return false;
	*v = x;
	return true;
}

/* The spec: a relative path under the model's directory. */
static bool inside_base_dir(const char *loc)
{
	if (loc[0] == '/')
		return false;
	while (*loc) {
		size_t n = strcspn(loc, "/");
		if (n == 2 && loc[0] == '.' && loc[1] == '.')
			return false;
		loc += n + (loc[n] == '/');
	}
	return true;
}

static char *join_path(const char *dir, const char *name)
{
	size_t nd = dir ? strlen(dir) : 0, nn = strlen(name);
	char *p = malloc(nd + nn + 2);
	if (!p)
		return NULL;
	if (nd) {
		memcpy(p, dir, nd);
		p[nd++] = '/';
	}
	memcpy(p + nd, name, nn + 1);
	return p;
}

/* Reads nbytes at offset from path into graph memory. */
static void *read_at(importer *m, const Onnx__TensorProto *t, const char *path, uint64_t offset,
		     size_t nbytes)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(m, "cannot open external data file '%s' of tensor '%s': %s", path, tname(t),
		     strerror(errno));
		return NULL;
	}
	void *p = offset <= INT64_MAX ? ir_alloc(m->g, nbytes) : NULL;
	if (p && (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(p, 1, nbytes, f) != nbytes)) {
		fail(m, "external data file '%s' is too short for tensor '%s' "
		     "(needs %zu bytes at offset %" PRIu64 ")", path, tname(t), nbytes, offset);
		ir_free(m->g, p, nbytes);
		p = NULL;
	}
	fclose(f);
	return p;
}

static void *from_external(importer *m, const Onnx__TensorProto *t, size_t nbytes)
{
	const char *loc = ext_key(t, "location"), *off = ext_key(t, "offset");
	const char *len = ext_key(t, "length");
	uint64_t offset = 0, length = nbytes;
	if (!loc || !*loc) {
		fail(m, "tensor '%s' has external data without a location", tname(t));
		return NULL;
	}
	if (!inside_base_dir(loc)) {
		fail(m, "external data location '%s' of tensor '%s' is not a relative path "
		     "inside the model's directory", loc, tname(t));
		return NULL;
	}
	if ((off && !parse_u64(off, &offset)) || (len && !parse_u64(len, &length))) {
		fail(m, "tensor '%s' has an invalid external data offset or length", tname(t));
		return NULL;
	}
	if (length != nbytes) {
		fail(m, "tensor '%s' has %" PRIu64 " bytes of external data, expected %zu", tname(t),
		     length, nbytes);
		return NULL;
	}
	char *path = join_path(m->base_dir, loc);
	void *p = path ? read_at(m, t, path, offset, nbytes) : NULL;
	free(path);
	return p;
}

static void *tensor_data(importer *m, Onnx__TensorProto *t, ir_dtype dt, size_t numel,
			 size_t *nbytes)
{
	bool external = t->has_data_location &&
			t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	if (dt == IR_STRING && (external || t->has_raw_data)) {
		fail(m, "string tensor '%s' must use string_data", tname(t));
		return NULL;
	}
	if (dt == IR_STRING)
		return from_strings(m, t, numel, nbytes);
	*nbytes = numel * ir_dtype_size(dt);
	if (external)
		return from_external(m, t, *nbytes);
	if (t->has_raw_data)
		return from_raw(m, t, *nbytes);
	return from_field(m, t, dt, numel, nbytes);
}

/* Converts to the raw little-endian layout; 0 on error. */
static ir_tid import_tensor(importer *m, Onnx__TensorProto *t)
{
	ir_dtype dt = IR_UNDEF;
	size_t numel = 0, nbytes = 0;
	if (!tensor_header(m, t, &dt, &numel))
		return 0;
	void *p = tensor_data(m, t, dt, numel, &nbytes);
	if (!p)
		return 0;
	ir_str name = intern(m, t->name), doc = intern(m, t->doc_string);
	ir_tid id = ir_tensor_adopt(m->g, name, dt, (int)t->n_dims, t->dims, p, nbytes);
	if (id)
		ir_tensor_at(m->g, id)->doc = doc;
	return id;
}

/* ---------------------------------------------------------------- types */

static ir_type import_tensor_type(importer *m, const Onnx__TypeProto__Tensor *tt)
{
	ir_dtype dt = tt->has_elem_type ? (ir_dtype)tt->elem_type : IR_UNDEF;
	ir_dim dims[IR_MAX_RANK];
	if (!tt->shape)
		return ir_type_tensor_dims(m->g, dt, -1, NULL);
	for (size_t i = 0; i < tt->shape->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
		dims[i] = (ir_dim){-1, 0};
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			dims[i].v = d->dim_value < 0 ? -1 : d->dim_value;
		else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
			dims[i].sym = intern(m, d->dim_param);
	}
	return ir_type_tensor_dims(m->g, dt, (int)tt->shape->n_dim, dims);
}

/* Tensor types graft can express become tensor types; every other type
 * (sequence, map, optional, sparse, unknown element types, huge ranks) is
 * kept as an opaque blob.  Denotations are not kept. */
static ir_type import_type(importer *m, const Onnx__TypeProto *tp)
{
	if (!tp)
		return ir_type_unknown();
	const Onnx__TypeProto__Tensor *tt =
		tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? tp->tensor_type : NULL;
	if (tt && (!tt->has_elem_type || (tt->elem_type >= 0 && tt->elem_type < IR_DTYPE_COUNT)) &&
	    (!tt->shape || tt->shape->n_dim <= IR_MAX_RANK))
		return import_tensor_type(m, tt);
	ir_bid b = pack_blob(m, &tp->base);
	return b ? ir_type_opaque(m->g, b) : ir_type_unknown();
}

/* ---------------------------------------------------------------- attributes */

static const char *const attr_kind_names[] = {
	"UNDEFINED", "FLOAT",   "INT",    "STRING",        "TENSOR",         "GRAPH",      "FLOATS",
	"INTS",      "STRINGS", "TENSORS", "GRAPHS",       "SPARSE_TENSOR", "SPARSE_TENSORS",
	"TYPE_PROTO", "TYPE_PROTOS",
};

/* Bit k set when the field of attribute kind k holds a value. */
static unsigned attr_fields(const Onnx__AttributeProto *a)
{
	unsigned s = 0;
	s |= a->has_f ? 1u << IR_ATTR_FLOAT : 0;
	s |= a->has_i ? 1u << IR_ATTR_INT : 0;
	s |= a->has_s ? 1u << IR_ATTR_STRING : 0;
	s |= a->t ? 1u << IR_ATTR_TENSOR : 0;
	s |= a->g ? 1u << IR_ATTR_GRAPH : 0;
	s |= a->sparse_tensor ? 1u << IR_ATTR_SPARSE_TENSOR : 0;
	s |= a->tp ? 1u << IR_ATTR_TYPE_PROTO : 0;
	s |= a->n_floats ? 1u << IR_ATTR_FLOATS : 0;
	s |= a->n_ints ? 1u << IR_ATTR_INTS : 0;
	s |= a->n_strings ? 1u << IR_ATTR_STRINGS : 0;
	s |= a->n_tensors ? 1u << IR_ATTR_TENSORS : 0;
	s |= a->n_graphs ? 1u << IR_ATTR_GRAPHS : 0;
	s |= a->n_sparse_tensors ? 1u << IR_ATTR_SPARSE_TENSORS : 0;
	s |= a->n_type_protos ? 1u << IR_ATTR_TYPE_PROTOS : 0;
	return s;
}

static unsigned lowest_bit(unsigned s)
{
	unsigned k = 0;
	while (!(s & (1u << k)))
		k++;
	return k;
}

static bool is_message_kind(unsigned k)
{
	return k == IR_ATTR_TENSOR || k == IR_ATTR_GRAPH || k == IR_ATTR_SPARSE_TENSOR ||
	       k == IR_ATTR_TYPE_PROTO;
}

/* The attribute's kind: its type field, or (old models) the field set. */
static bool attr_kind(importer *m, const Onnx__AttributeProto *a, const char *where, uint8_t *kind)
{
	const char *name = or_empty(a->name);
	unsigned set = attr_fields(a), k = a->has_type ? (unsigned)a->type : 0;
	if (k == 0 && set && !(set & (set - 1)))
		k = lowest_bit(set);
	if (k == 0 && set)
		return fail(m, "attribute '%s' of %s has no type and holds several values", name,
			    where);
	if (k == 0 || k > IR_ATTR_TYPE_PROTOS)
		return fail(m, "attribute '%s' of %s has no valid type", name, where);
	if (set & ~(1u << k))
		return fail(m, "attribute '%s' of %s has type %s but holds %s", name, where,
			    attr_kind_names[k], attr_kind_names[lowest_bit(set & ~(1u << k))]);
	if (is_message_kind(k) && !set && !a->ref_attr_name)
		return fail(m, "attribute '%s' of %s has type %s but holds no value", name, where,
			    attr_kind_names[k]);
	*kind = (uint8_t)k;
	return true;
}

static size_t attr_count(const Onnx__AttributeProto *a, unsigned kind)
{
	switch (kind) {
	case IR_ATTR_STRINGS:
		return a->n_strings;
	case IR_ATTR_TENSORS:
		return a->n_tensors;
	case IR_ATTR_GRAPHS:
		return a->n_graphs;
	case IR_ATTR_SPARSE_TENSORS:
		return a->n_sparse_tensors;
	default:
		return a->n_type_protos;
	}
}

static uint32_t attr_item(importer *m, Onnx__AttributeProto *a, unsigned kind, size_t i)
{
	switch (kind) {
	case IR_ATTR_STRINGS:
		return ir_intern(m->g, (const char *)a->strings[i].data, a->strings[i].len);
	case IR_ATTR_TENSORS:
		return import_tensor(m, a->tensors[i]);
	case IR_ATTR_GRAPHS:
		return pack_blob(m, &a->graphs[i]->base);
	case IR_ATTR_SPARSE_TENSORS:
		return pack_blob(m, &a->sparse_tensors[i]->base);
	default:
		return pack_blob(m, &a->type_protos[i]->base);
	}
}

/* STRINGS, TENSORS and the blob lists: a list of ids in the u32 pool. */
static bool attr_id_list(importer *m, Onnx__AttributeProto *a, ir_attr *x)
{
	size_t n = attr_count(a, x->kind);
	if (n > UINT32_MAX)
		return fail(m, "attribute '%s' is too long", or_empty(a->name));
	uint32_t *ids = ir_alloc(m->g, n * sizeof *ids);
	bool ok = ids != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		ids[i] = attr_item(m, a, x->kind, i);
		ok = ids[i] || (x->kind == IR_ATTR_STRINGS && !m->g->oom);
	}
	x->n = (uint32_t)n;
	x->u.off = ok ? ir_pool_u32(m->g, ids, x->n) : 0;
	ir_free(m->g, ids, n * sizeof *ids);
	return ok && !m->g->oom;
}

static ir_bid blob_or_none(importer *m, const ProtobufCMessage *msg)
{
	return msg ? pack_blob(m, msg) : 0;
}

static bool attr_value(importer *m, Onnx__AttributeProto *a, ir_attr *x)
{
	ir_graph *g = m->g;
	switch (x->kind) {
	case IR_ATTR_FLOAT:
		x->u.f = a->f;
		return true;
	case IR_ATTR_INT:
		x->u.i = a->i;
		return true;
	case IR_ATTR_STRING:
		x->u.s = ir_intern(g, (const char *)a->s.data, a->s.len);
		return !g->oom;
	case IR_ATTR_TENSOR:
		x->u.t = a->t ? import_tensor(m, a->t) : 0;
		return !a->t || x->u.t;
	case IR_ATTR_GRAPH:
		x->u.b = blob_or_none(m, a->g ? &a->g->base : NULL);
		return !g->oom;
	case IR_ATTR_SPARSE_TENSOR:
		x->u.b = blob_or_none(m, a->sparse_tensor ? &a->sparse_tensor->base : NULL);
		return !g->oom;
	case IR_ATTR_TYPE_PROTO:
		x->u.b = blob_or_none(m, a->tp ? &a->tp->base : NULL);
		return !g->oom;
	case IR_ATTR_FLOATS:
		x->n = (uint32_t)a->n_floats;
		x->u.off = ir_pool_f32(g, a->floats, x->n);
		return a->n_floats <= UINT32_MAX && !g->oom;
	case IR_ATTR_INTS:
		x->n = (uint32_t)a->n_ints;
		x->u.off = ir_pool_i64(g, a->ints, x->n);
		return a->n_ints <= UINT32_MAX && !g->oom;
	default:
		return attr_id_list(m, a, x);
	}
}

/* "node 'name' (Op)", or "node #id (Op)" for an unnamed node. */
static void node_desc(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	if (x->name)
		snprintf(buf, cap, "node '%s' (%s)", ir_cstr(g, x->name), ir_cstr(g, x->op));
	else
		snprintf(buf, cap, "node #%" PRIu32 " (%s)", n, ir_cstr(g, x->op));
}

static bool import_attr(importer *m, ir_nid n, Onnx__AttributeProto *a)
{
	char where[256];
	node_desc(m->g, n, where, sizeof where);
	if (!a->name || !*a->name)
		return fail(m, "%s has an attribute without a name", where);
	if (ir_attr_find(m->g, n, a->name))
		return fail(m, "attribute '%s' of %s is given twice", a->name, where);
	ir_attr x = {0};
	if (!attr_kind(m, a, where, &x.kind) || !attr_value(m, a, &x))
		return false;
	x.name = intern(m, a->name);
	x.ref = intern(m, a->ref_attr_name);
	x.doc = intern(m, a->doc_string);
	ir_attr_put(m->g, n, &x);
	return !m->g->oom;
}

bool ir_onnx_attr_unpack(ir_graph *g, Onnx__AttributeProto *a, const char *where, const char *file,
			 const char *base_dir, ir_diags *d, ir_attr *out)
{
	importer m = {0};
	m.g = g;
	m.d = d;
	m.file = file;
	m.base_dir = base_dir;
	*out = (ir_attr){0};
	if (!a->name || !*a->name)
		return fail(&m, "%s has an attribute without a name", where);
	if (!attr_kind(&m, a, where, &out->kind) || !attr_value(&m, a, out))
		return false;
	out->name = intern(&m, a->name);
	out->ref = intern(&m, a->ref_attr_name);
	out->doc = intern(&m, a->doc_string);
	return !g->oom;
}

/* ---------------------------------------------------------------- nodes */

/* Creates node i with its results named; operands are resolved later. */
static bool import_node(importer *m, Onnx__NodeProto *np, size_t i)
{
	if (!np->op_type || !*np->op_type)
		return fail(m, "node #%zu has no op_type", i + 1);
	if (np->n_input > UINT32_MAX || np->n_output > UINT16_MAX)
		return fail(m, "node #%zu (%s) has too many operands", i + 1, np->op_type);
	ir_nid n = ir_node_new(m->g, np->domain, np->op_type, NULL, (uint32_t)np->n_input,
			       (uint32_t)np->n_output, 0);
	if (!n)
		return false;
	m->nodes[i] = n;
	ir_str name = intern(m, np->name), doc = intern(m, np->doc_string);
	ir_node_at(m->g, n)->name = name;
	ir_node_at(m->g, n)->doc = doc;
	for (size_t j = 0; j < np->n_output; j++) {
		ir_str s = intern(m, np->output[j]);
		ir_value_at(m->g, ir_node_output(m->g, n, (uint32_t)j))->name = s;
	}
	for (size_t k = 0; k < np->n_attribute; k++)
		if (!import_attr(m, n, np->attribute[k]))
			return false;
	return !m->g->oom;
}

static bool import_nodes(importer *m, Onnx__GraphProto *gp)
{
	m->nodes = calloc(gp->n_node + 1, sizeof *m->nodes);
	if (!m->nodes)
		return fail(m, "out of memory");
	for (size_t i = 0; i < gp->n_node; i++)
		if (!import_node(m, gp->node[i], i))
			return false;
	return true;
}

/* ---------------------------------------------------------------- definitions */

static void def_desc(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	const ir_value *x = ir_value_at(g, v);
	if (x->def_kind == IR_DEF_NODE)
		node_desc(g, x->node, buf, cap);
	else
		snprintf(buf, cap, "%s", x->def_kind == IR_DEF_INPUT ? "a graph input" : "an initializer");
}

static bool define(importer *m, ir_val v)
{
	ir_str s = ir_value_at(m->g, v)->name;
	if (!s)
		return true;
	if (!m->defs[s]) {
		m->defs[s] = v;
		return true;
	}
	char first[256], second[256];
	def_desc(m->g, m->defs[s], first, sizeof first);
	def_desc(m->g, v, second, sizeof second);
	return fail(m, "value '%s' is defined twice: by %s and by %s", ir_cstr(m->g, s), first,
		    second);
}

/* requires: every value name interned (inputs, initializers, nodes). */
static bool build_defs(importer *m)
{
	ir_graph *g = m->g;
	m->ndefs = g->strs.n;
	m->defs = calloc(m->ndefs, sizeof *m->defs);
	if (!m->defs)
		return fail(m, "out of memory");
	bool ok = true;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		ok = define(m, ir_graph_input_at(g, i)) && ok;
	for (size_t i = 0; i < ir_graph_nconsts(g); i++)
		ok = define(m, ir_graph_const_at(g, i)) && ok;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t j = 0; j < ir_node_at(g, n)->nout; j++)
			ok = define(m, ir_node_output(g, n, j)) && ok;
	return ok;
}

static ir_val lookup(const importer *m, const char *name)
{
	ir_str s = ir_str_lookup(m->g, name, strlen(name));
	return s && s < m->ndefs ? m->defs[s] : 0;
}

static bool is_sparse_init(const Onnx__GraphProto *gp, const char *name)
{
	for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
		const Onnx__SparseTensorProto *s = gp->sparse_initializer[i];
		if (s->values && s->values->name && strcmp(s->values->name, name) == 0)
			return true;
	}
	return false;
}

static bool resolve_node(importer *m, const Onnx__NodeProto *np, ir_nid n)
{
	bool ok = true;
	for (size_t i = 0; i < np->n_input; i++) {
		const char *name = or_empty(np->input[i]);
		ir_val v = *name ? lookup(m, name) : IR_NONE;
		if (v || !*name) {
			ir_node_set_input(m->g, n, (uint32_t)i, v);
			continue;
		}
		char where[256];
		node_desc(m->g, n, where, sizeof where);
		if (is_sparse_init(m->gp, name))
			ok = fail(m, "%s reads sparse initializer '%s', which graft does not support",
				  where, name);
		else
			ok = fail(m, "%s reads undefined value '%s'", where, name);
	}
	return ok;
}

static bool resolve_nodes(importer *m, const Onnx__GraphProto *gp)
{
	bool ok = true;
	for (size_t i = 0; i < gp->n_node; i++)
		ok = resolve_node(m, gp->node[i], m->nodes[i]) && ok;
	return ok;
}

/* ---------------------------------------------------------------- graph */

static void set_info(importer *m, ir_val v, const Onnx__ValueInfoProto *vi)
{
	ir_type t = vi->type ? import_type(m, vi->type) : ir_type_unknown();
	ir_str doc = intern(m, vi->doc_string);
	ir_value *x = ir_value_at(m->g, v);
	if (vi->type)
		x->type = t;
	if (doc)
		x->doc = doc;
}

static bool import_initializers(importer *m, Onnx__GraphProto *gp)
{
	m->inits = calloc(gp->n_initializer + 1, sizeof *m->inits);
	m->init_is_input = calloc(gp->n_initializer + 1, sizeof *m->init_is_input);
	if (!m->inits || !m->init_is_input)
		return fail(m, "out of memory");
	for (size_t i = 0; i < gp->n_initializer; i++) {
		Onnx__TensorProto *t = gp->initializer[i];
		if (!t->name || !*t->name)
			return fail(m, "initializer #%zu has no name", i + 1);
		m->inits[i] = import_tensor(m, t);
		if (!m->inits[i])
			return false;
	}
	return true;
}

/* The initializer named like a graph input becomes its default. */
static ir_tid input_default(importer *m, const uint32_t *init_of, uint32_t n, const char *name)
{
	ir_str s = ir_str_lookup(m->g, name, strlen(name));
	if (!s || s >= n || !init_of[s])
		return 0;
	m->init_is_input[init_of[s] - 1] = true;
	return m->inits[init_of[s] - 1];
}

static bool add_inputs(importer *m, const Onnx__GraphProto *gp, const uint32_t *init_of, uint32_t n)
{
	for (size_t i = 0; i < gp->n_input; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		if (!vi->name || !*vi->name)
			return fail(m, "graph input #%zu has no name", i + 1);
		ir_tid init = input_default(m, init_of, n, vi->name);
		ir_type t = init ? ir_tensor_type(m->g, init) : ir_type_unknown();
		ir_val v = ir_input_new(m->g, intern(m, vi->name), t, init);
		if (!v)
			return false;
		set_info(m, v, vi);
	}
	return !m->g->oom;
}

static bool import_inputs(importer *m, const Onnx__GraphProto *gp)
{
	uint32_t n = m->g->strs.n;
	uint32_t *init_of = calloc(n, sizeof *init_of); /* name -> initializer index + 1 */
	if (!init_of)
		return fail(m, "out of memory");
	for (size_t i = gp->n_initializer; i-- > 0;)
		init_of[ir_tensor_at(m->g, m->inits[i])->name] = (uint32_t)i + 1;
	bool ok = add_inputs(m, gp, init_of, n);
	free(init_of);
	return ok;
}

static bool import_consts(importer *m, const Onnx__GraphProto *gp)
{
	for (size_t i = 0; i < gp->n_initializer; i++)
		if (!m->init_is_input[i] &&
		    !ir_const_new(m->g, ir_tensor_at(m->g, m->inits[i])->name, m->inits[i]))
			return false;
	return true;
}

/* value_info types intermediate values only: inputs and constants keep
 * theirs, so that export (which writes value_info for node results only)
 * round-trips. */
static void import_value_info(importer *m, const Onnx__GraphProto *gp)
{
	for (size_t i = 0; i < gp->n_value_info; i++) {
		const Onnx__ValueInfoProto *vi = gp->value_info[i];
		ir_val v = vi->name ? lookup(m, vi->name) : 0;
		if (v && ir_value_at(m->g, v)->def_kind == IR_DEF_NODE)
			set_info(m, v, vi);
	}
}

static bool import_outputs(importer *m, const Onnx__GraphProto *gp)
{
	for (size_t i = 0; i < gp->n_output; i++) {
		const Onnx__ValueInfoProto *vi = gp->output[i];
		ir_val v = lookup(m, or_empty(vi->name));
		if (!v)
			return fail(m, "graph output '%s' names an unknown value", or_empty(vi->name));
		set_info(m, v, vi);
		ir_graph_add_output(m->g, v);
	}
	return !m->g->oom;
}

static void import_graph_extras(importer *m, const Onnx__GraphProto *gp)
{
	for (size_t i = 0; i < gp->n_sparse_initializer; i++)
		ir_graph_add_extra(m->g, IR_EXTRA_SPARSE_INIT,
				   pack_blob(m, &gp->sparse_initializer[i]->base));
	for (size_t i = 0; i < gp->n_quantization_annotation; i++)
		ir_graph_add_extra(m->g, IR_EXTRA_QUANT_ANNOT,
				   pack_blob(m, &gp->quantization_annotation[i]->base));
}

static bool import_graph(importer *m, Onnx__GraphProto *gp)
{
	ir_meta *meta = ir_graph_meta(m->g);
	meta->graph_name = intern(m, gp->name);
	meta->graph_doc = intern(m, gp->doc_string);
	import_graph_extras(m, gp);
	if (!import_initializers(m, gp) || !import_inputs(m, gp) || !import_consts(m, gp) ||
	    !import_nodes(m, gp) || !build_defs(m) || !resolve_nodes(m, gp))
		return false;
	import_value_info(m, gp);
	return import_outputs(m, gp);
}

/* ---------------------------------------------------------------- model */

static void import_meta(importer *m, const Onnx__ModelProto *mp)
{
	ir_meta *meta = ir_graph_meta(m->g);
	meta->ir_version = mp->has_ir_version ? mp->ir_version : 0;
	meta->producer_name = intern(m, mp->producer_name);
	meta->producer_version = intern(m, mp->producer_version);
	meta->domain = intern(m, mp->domain);
	meta->model_version = mp->has_model_version ? mp->model_version : 0;
	meta->doc = intern(m, mp->doc_string);
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
		ir_graph_add_opset(m->g, or_empty(o->domain), o->has_version ? o->version : 0);
	}
	for (size_t i = 0; i < mp->n_metadata_props; i++) {
		const Onnx__StringStringEntryProto *p = mp->metadata_props[i];
		ir_graph_add_prop(m->g, intern(m, p->key), intern(m, p->value));
	}
	for (size_t i = 0; i < mp->n_training_info; i++)
		ir_graph_add_extra(m->g, IR_EXTRA_TRAINING,
				   pack_blob(m, &mp->training_info[i]->base));
}

static bool import_model(importer *m, Onnx__ModelProto *mp)
{
	if (!mp->graph)
		return fail(m, "not a valid ONNX model: it has no graph");
	m->gp = mp->graph;
	import_meta(m, mp); /* opsets first: ir_node_new resolves opcodes with them */
	if (!ir_onnx_import_funcs(m->g, mp, m->file, m->base_dir, m->d))
		return false;
	if (!import_graph(m, mp->graph) || m->g->oom)
		return false;
	return ir_toposort(m->g, m->d, m->file);
}

static void importer_free(importer *m)
{
	free(m->inits);
	free(m->init_is_input);
	free(m->nodes);
	free(m->defs);
}

ir_graph *ir_onnx_read_buf(const void *buf, size_t n, const char *file, const char *base_dir,
			   ir_diags *d)
{
	ProtobufCAllocator pa = {malloc_pb_alloc, malloc_pb_free, NULL};
	Onnx__ModelProto *mp = onnx__model_proto__unpack(&pa, n, buf);
	if (!mp) {
		ir_error(d, file, 0, 0, "not a valid ONNX model (protobuf parse failed)");
		return NULL;
	}
	importer m = {0};
	m.g = ir_graph_new();
	m.d = d;
	m.file = file;
	m.base_dir = base_dir;
	size_t errors = d ? d->nerrors : 0;
	bool ok = m.g && import_model(&m, mp);
	importer_free(&m);
	onnx__model_proto__free_unpacked(mp, &pa);
	if (ok && !ir_graph_oom(m.g))
		return m.g;
	if (d && d->nerrors == errors)
		ir_error(d, file, 0, 0, "out of memory while importing the ONNX model");
	ir_graph_free(m.g);
	return NULL;
}

/* The directory part of path ("." when none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	if (slash == path)
		n = 1;
	char *dir = malloc(n + 1);
	if (dir) {
		memcpy(dir, slash ? path : ".", n);
		dir[n] = '\0';
	}
	return dir;
}

/* A regular file mapped read-only (no copy: protobuf-c parses the page
 * cache); NULL when it cannot be mapped (then it is read). */
static void *map_file(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *p = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
		flags |= MAP_POPULATE; /* one call maps every page: no fault per page */
#endif
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
		if (p == MAP_FAILED)
			p = NULL;
		*n = (size_t)st.st_size;
	}
	if (fd >= 0)
		close(fd);
	return p;
}

ir_graph *ir_onnx_read_file(const char *path, ir_diags *d)
{
	size_t n = 0;
	void *map = strcmp(path, "-") ? map_file(path, &n) : NULL;
	void *buf = map ? map : ir_read_file(path, &n, d);
	if (!buf)
		return NULL;
	char *dir = dir_of(path);
	ir_graph *g = NULL;
	if (dir)
		g = ir_onnx_read_buf(buf, n, path, dir, d);
	else
		ir_error(d, path, 0, 0, "out of memory");
	free(dir);
	if (map)
		munmap(map, n);
	else
		free(buf);
	return g;
}
