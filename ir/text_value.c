/* .gir types, tensor literals and node attributes (grammar: docs/ir.md). */
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* ---------------------------------------------------------------- types */

/* dtype names, "?" (IR_UNDEF) and dtypeN for codes graft has no name for. */
static bool dtype_of(const parser *p, const tok *t, unsigned *dt)
{
	const char *s = p->text + t->off;
	if (t->kind == T_QUESTION) {
		*dt = IR_UNDEF;
		return true;
	}
	if (t->kind != T_IDENT)
		return false;
	*dt = ir_dtype_parse(s, t->len);
	if (*dt != IR_UNDEF)
		return true;
	if (t->len < 6 || t->len > 8 || memcmp(s, "dtype", 5) != 0)
		return false;
	unsigned v = 0;
	for (size_t i = 5; i < t->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*dt = v;
	return v < 256;
}

static bool parse_dim(parser *p, ir_dim *d)
{
	*d = (ir_dim){-1, 0};
	if (gir_accept(p, T_QUESTION))
		return true;
	if (p->t.kind == T_IDENT || p->t.kind == T_STRING) {
		d->sym = gir_tok_intern(p, &p->t);
		gir_advance(p);
		return !gir_accept(p, T_EQ) || gir_parse_int(p, &d->v, "the dim's size after '='");
	}
	tok t = p->t;
	if (!gir_parse_int(p, &d->v, "a dim: a size, ? or a name"))
		return false;
	return d->v >= 0 || gir_fail_at(p, t.line, t.col, "dims must be >= 0 (write ? for an unknown dim)");
}

/* [d, d, ...] or [*] after the dtype. */
static bool parse_dims(parser *p, ir_dtype dt, ir_type *ty)
{
	if (!gir_expect(p, T_LBRACK, "'[' and the dims after the dtype"))
		return false;
	if (gir_accept(p, T_STAR)) {
		*ty = (ir_type){IR_TYPE_TENSOR, (uint8_t)dt, -1, 0};
		return gir_expect(p, T_RBRACK, "']' after '*'");
	}
	p->dims.n = 0;
	while (p->t.kind != T_RBRACK) {
		ir_dim *d = gir_grow(p, &p->dims, sizeof *d, 1);
		if (!d || !parse_dim(p, d))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (!gir_expect(p, T_RBRACK, "',' or ']' in the dims"))
		return false;
	if (p->dims.n > INT16_MAX)
		return gir_expected(p, "fewer dims");
	*ty = ir_type_tensor_dims(p->g, dt, (int)p->dims.n, p->dims.v);
	return true;
}

bool gir_parse_type(parser *p, ir_type *ty)
{
	unsigned dt;
	tok t = p->t;
	if (gir_is_word(p, "opaque")) {
		gir_advance(p);
		tok b = p->t;
		if (!gir_expect(p, T_BLOB, "the opaque type's bytes, as x\"0a02...\""))
			return false;
		*ty = ir_type_opaque(p->g, gir_tok_blob(p, &b));
		return true;
	}
	if (t.kind == T_QUESTION && gir_peek(p).kind != T_LBRACK) {
		gir_advance(p);
		*ty = ir_type_unknown();
		return true;
	}
	if (dtype_of(p, &t, &dt)) {
		gir_advance(p);
		return parse_dims(p, (ir_dtype)dt, ty);
	}
	if (t.kind == T_IDENT)
		return gir_fail_at(p, t.line, t.col, "unknown dtype '%.*s'", (int)t.len, p->text + t.off);
	return gir_expected(p, "a type, as f32[1,3], f32[*] or ?");
}

/* ---------------------------------------------------------------- tensors */

static void store_le(unsigned char *d, uint64_t v, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static bool int_in_range(ir_dtype dt, int64_t v)
{
	switch (dt) {
	case IR_U8: return v >= 0 && v <= UINT8_MAX;
	case IR_I8: return v >= INT8_MIN && v <= INT8_MAX;
	case IR_U16: return v >= 0 && v <= UINT16_MAX;
	case IR_I16: return v >= INT16_MIN && v <= INT16_MAX;
	case IR_U32: return v >= 0 && v <= UINT32_MAX;
	case IR_I32: return v >= INT32_MIN && v <= INT32_MAX;
	default: return true;
	}
}

static bool parse_int_elem(parser *p, ir_dtype dt, unsigned char *out)
{
	tok t = p->t;
	size_t size = ir_dtype_size(dt);
	if (dt == IR_U64) {
		uint64_t u;
		if (!gir_parse_u64(p, &u, "an integer"))
			return false;
		store_le(out, u, size);
		return true;
	}
	int64_t v;
	if (!gir_parse_int(p, &v, "an integer"))
		return false;
	if (!int_in_range(dt, v))
		return gir_fail_at(p, t.line, t.col, "%lld is out of range for %s", (long long)v,
			       ir_dtype_name(dt));
	store_le(out, (uint64_t)v, size);
	return true;
}

/* One list element appended to p->bytes. */
static bool parse_elem(parser *p, ir_dtype dt)
{
	ir_realfmt f;
	if (dt == IR_STRING) {
		tok t = p->t;
		const char *s;
		size_t n;
		unsigned char len[4];
		if (!gir_expect(p, T_STRING, "a string") || !gir_tok_bytes(p, &t, &s, &n))
			return false;
		store_le(len, n, 4);
		return gir_push_bytes(p, &p->bytes, len, 4) && gir_push_bytes(p, &p->bytes, s, n);
	}
	unsigned char *out = gir_grow(p, &p->bytes, 1, ir_dtype_size(dt));
	if (!out)
		return false;
	if (ir_real_fmt_of(dt, &f)) {
		uint64_t bits;
		if (!gir_parse_real(p, f, &bits))
			return false;
		store_le(out, bits, ir_dtype_size(dt));
		return true;
	}
	if (dt == IR_BOOL) {
		*out = gir_is_word(p, "true");
		return gir_is_word(p, "true") || gir_is_word(p, "false") ? (gir_advance(p), true)
								 : gir_expected(p, "true or false");
	}
	return parse_int_elem(p, dt, out);
}

/* [e, e, ...] into p->bytes; numel elements expected. */
static bool parse_list_data(parser *p, ir_dtype dt, int64_t numel)
{
	tok open = p->t;
	if (dt == IR_C64 || dt == IR_C128 || (dt != IR_STRING && ir_dtype_size(dt) == 0))
		return gir_fail_at(p, open.line, open.col, "%s data is written in hex, as x\"0000803f\"",
			       dt < IR_DTYPE_COUNT ? ir_dtype_name(dt) : "this dtype's");
	gir_advance(p);
	p->bytes.n = 0;
	int64_t count = 0;
	while (p->t.kind != T_RBRACK) {
		if (!parse_elem(p, dt))
			return false;
		count++;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (!gir_expect(p, T_RBRACK, "',' or ']' in the tensor data"))
		return false;
	if (count != numel)
		return gir_fail_at(p, open.line, open.col, "tensor data has %lld elements, its type needs %lld",
			       (long long)count, (long long)numel);
	return true;
}

/* data[off:len]: points *data into the side file. */
static bool parse_side_ref(parser *p, const void **data, size_t *nbytes)
{
	tok t = p->t;
	uint64_t off, len;
	gir_advance(p);
	if (!gir_expect(p, T_LBRACK, "'[' after data") || !gir_parse_u64(p, &off, "the data's offset") ||
	    !gir_expect(p, T_COLON, "':' between offset and length") ||
	    !gir_parse_u64(p, &len, "the data's length in bytes") || !gir_expect(p, T_RBRACK, "']' after data[off:len"))
		return false;
	if (!p->side && p->side_name.kind == T_STRING)
		return gir_fail_at(p, t.line, t.col, "constant data is in the side file \"%.*s\" named in "
				   "the header, but no side file was given", (int)p->side_name.len,
				   p->text + p->side_name.off);
	if (!p->side)
		return gir_fail_at(p, t.line, t.col, "constant data is in a side file, but no side file was given");
	if (off > p->side_n || len > p->side_n - off)
		return gir_fail_at(p, t.line, t.col, "data[%llu:%llu] is outside the side file (%zu bytes)",
			       (unsigned long long)off, (unsigned long long)len, p->side_n);
	*data = p->side + off;
	*nbytes = (size_t)len;
	return true;
}

static bool parse_elided(parser *p)
{
	tok t = p->t;
	gir_advance(p);
	char hash[17] = "";
	if (gir_accept(p, T_LPAREN) && (p->t.kind == T_NUM || p->t.kind == T_IDENT) && p->t.len == 16)
		memcpy(hash, p->text + p->t.off, 16);
	return gir_fail_at(p, t.line, t.col,
		       "constant data was elided (hash %s); write to a file to keep it", hash);
}

/* The element count, or -1 when the data could not fit in memory (so that
 * numel * element size never overflows). */
static int64_t numel_of(const int64_t *dims, size_t rank)
{
	const int64_t max = (int64_t)(SIZE_MAX / 32 < INT64_MAX / 32 ? SIZE_MAX / 32 : INT64_MAX / 32);
	int64_t n = 1;
	for (size_t i = 0; i < rank; i++) {
		if (dims[i] && n > max / dims[i])
			return -1;
		n *= dims[i];
	}
	return n;
}

/* The data part of a tensor literal. */
static bool parse_tensor_data(parser *p, ir_dtype dt, int64_t numel, const void **data, size_t *nbytes)
{
	tok t = p->t;
	size_t size = ir_dtype_size(dt);
	if (t.kind == T_LBRACK) {
		if (!parse_list_data(p, dt, numel))
			return false;
		*data = p->bytes.v;
		*nbytes = p->bytes.n;
		return true;
	}
	if (gir_is_word(p, "elided"))
		return parse_elided(p);
	if (gir_is_word(p, "data")) {
		if (!parse_side_ref(p, data, nbytes))
			return false;
	} else if (t.kind == T_BLOB) {
		if (!gir_decode_hex(p, &t, &p->bytes))
			return false;
		gir_advance(p);
		*data = p->bytes.v;
		*nbytes = p->bytes.n;
	} else {
		return gir_expected(p, "tensor data: [...], data[offset:length] or x\"...\"");
	}
	if (size && dt != IR_STRING && *nbytes != (uint64_t)numel * size)
		return gir_fail_at(p, t.line, t.col, "tensor data has %zu bytes, its type needs %llu", *nbytes,
			       (unsigned long long)numel * size);
	return true;
}

/* dtype[dims] of a tensor literal into p->tdims. */
static bool parse_tensor_type(parser *p, unsigned *dt)
{
	tok t = p->t;
	if (!dtype_of(p, &t, dt))
		return gir_fail_at(p, t.line, t.col, "unknown dtype '%.*s'", (int)t.len, p->text + t.off);
	gir_advance(p);
	if (!gir_expect(p, T_LBRACK, "'[' and the tensor's dims after the dtype"))
		return false;
	p->tdims.n = 0;
	while (p->t.kind != T_RBRACK) {
		tok d = p->t;
		int64_t *v = gir_grow(p, &p->tdims, sizeof *v, 1);
		if (!v || !gir_parse_int(p, v, "a tensor dim (tensors have known dims)"))
			return false;
		if (*v < 0)
			return gir_fail_at(p, d.line, d.col, "tensor dims must be >= 0");
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (p->tdims.n > INT16_MAX)
		return gir_expected(p, "fewer dims");
	return gir_expect(p, T_RBRACK, "',' or ']' in the tensor's dims");
}

/* The dims of a default given without its type, from the input's type. */
static bool dims_from_type(parser *p, const ir_type *ty, unsigned *dt)
{
	if (ty->kind != IR_TYPE_TENSOR || ty->rank < 0 || ir_type_numel(p->g, *ty) < 0)
		return gir_expected(p, "the default's type (the input's type is not static), as '= f32[2] [...]'");
	const ir_dim *d = ir_type_dims(p->g, *ty);
	p->tdims.n = 0;
	int64_t *v = gir_grow(p, &p->tdims, sizeof *v, (size_t)ty->rank);
	if (!v)
		return false;
	for (int i = 0; i < ty->rank; i++)
		v[i] = d[i].v;
	*dt = ty->dtype;
	return true;
}

static bool at_tensor_type(parser *p)
{
	unsigned dt;
	return (p->t.kind == T_QUESTION && gir_peek(p).kind == T_LBRACK) ||
	       (p->t.kind == T_IDENT && dtype_of(p, &p->t, &dt));
}

/* A trailing `doc "..."` (not `doc %v`, the next statement). */
bool gir_accept_doc(parser *p, ir_str *doc)
{
	if (!gir_is_word(p, "doc"))
		return true;
	tok nx = gir_peek(p);
	if (nx.kind != T_STRING && nx.kind != T_ERROR)
		return true;
	gir_advance(p);
	tok t = p->t;
	if (!gir_expect(p, T_STRING, "a string after doc"))
		return false;
	*doc = gir_tok_intern(p, &t);
	return true;
}

/* [dtype[dims]] data [name "..."] [doc "..."]; decl gives the type when
 * the literal has none (an input's default). */
bool gir_parse_tensor(parser *p, ir_str dflt_name, const ir_type *decl, ir_tid *out)
{
	unsigned dt;
	const void *data = NULL;
	size_t nbytes = 0;
	ir_str name = dflt_name, doc = 0;
	if (p->t.kind == T_IDENT && gir_peek(p).kind == T_LBRACK && !at_tensor_type(p) &&
	    !gir_is_word(p, "data"))
		return gir_fail_at(p, p->t.line, p->t.col, "unknown dtype '%.*s'", (int)p->t.len,
				   p->text + p->t.off);
	if (at_tensor_type(p) ? !parse_tensor_type(p, &dt)
	    : decl ? !dims_from_type(p, decl, &dt) : !gir_expected(p, "a tensor type, as f32[2,3]"))
		return false;
	int64_t numel = numel_of(p->tdims.v, p->tdims.n);
	if (numel < 0)
		return gir_expected(p, "a tensor that fits in memory");
	if (!parse_tensor_data(p, (ir_dtype)dt, numel, &data, &nbytes))
		return false;
	if (gir_is_word(p, "name") && gir_peek(p).kind == T_STRING) {
		gir_advance(p);
		name = gir_tok_intern(p, &p->t);
		gir_advance(p);
	}
	if (!gir_accept_doc(p, &doc))
		return false;
	*out = ir_tensor_new(p->g, name, (ir_dtype)dt, (int)p->tdims.n, p->tdims.v, data, nbytes);
	if (*out)
		ir_tensor_at(p->g, *out)->doc = doc;
	return *out != 0 || (p->oom = true, false);
}

/* ---------------------------------------------------------------- attributes */

static int attr_kind_of(const parser *p, const tok *t)
{
	for (int k = 0; k <= IR_ATTR_TYPE_PROTOS; k++)
		if (t->kind == T_IDENT && strlen(ir_text_attr_kinds[k]) == t->len &&
		    memcmp(ir_text_attr_kinds[k], p->text + t->off, t->len) == 0)
			return k;
	return -1;
}

/* graph / sparse_tensor / type_proto before a blob: the singular kind. */
static int blob_kind(const parser *p)
{
	if (gir_is_word(p, "graph"))
		return IR_ATTR_GRAPH;
	if (gir_is_word(p, "sparse_tensor"))
		return IR_ATTR_SPARSE_TENSOR;
	if (gir_is_word(p, "type_proto"))
		return IR_ATTR_TYPE_PROTO;
	return -1;
}

static int plural(int kind)
{
	switch (kind) {
	case IR_ATTR_FLOAT: return IR_ATTR_FLOATS;
	case IR_ATTR_INT: return IR_ATTR_INTS;
	case IR_ATTR_STRING: return IR_ATTR_STRINGS;
	case IR_ATTR_TENSOR: return IR_ATTR_TENSORS;
	case IR_ATTR_GRAPH: return IR_ATTR_GRAPHS;
	case IR_ATTR_SPARSE_TENSOR: return IR_ATTR_SPARSE_TENSORS;
	case IR_ATTR_TYPE_PROTO: return IR_ATTR_TYPE_PROTOS;
	default: return -1;
	}
}

static int singular(int kind)
{
	for (int k = IR_ATTR_FLOAT; kind >= 0 && k <= IR_ATTR_TYPE_PROTO; k++)
		if (plural(k) == kind)
			return k;
	return -1;
}

/* The kind a scalar value starting at the current token has (want: the
 * declared kind or -1); -1 when no value starts here. */
static int scalar_kind(parser *p, int want)
{
	if (p->t.kind == T_STRING)
		return IR_ATTR_STRING;
	if (gir_at_real(p))
		return p->t.kind == T_NUM && !p->t.is_float && want != IR_ATTR_FLOAT ? IR_ATTR_INT
										      : IR_ATTR_FLOAT;
	if (blob_kind(p) >= 0)
		return blob_kind(p);
	if (at_tensor_type(p))
		return IR_ATTR_TENSOR;
	return -1;
}

/* One scalar of the given kind: an int, a float (f32 bits), a string,
 * tensor or blob id. */
static bool parse_scalar(parser *p, int kind, int64_t *i, uint32_t *id)
{
	uint64_t bits;
	tok t = p->t;
	switch (kind) {
	case IR_ATTR_INT:
		return gir_parse_int(p, i, "an integer");
	case IR_ATTR_FLOAT:
		if (!gir_parse_real(p, IR_REAL_F32, &bits))
			return false;
		*id = (uint32_t)bits;
		return true;
	case IR_ATTR_STRING:
		*id = gir_tok_intern(p, &t);
		gir_advance(p);
		return true;
	case IR_ATTR_TENSOR:
		return gir_parse_tensor(p, 0, NULL, id);
	default:
		gir_advance(p);
		t = p->t;
		if (!gir_expect(p, T_BLOB, "the bytes, as x\"0a02...\""))
			return false;
		*id = gir_tok_blob(p, &t);
		return *id != 0 || (p->oom = true, false);
	}
}

static bool kind_mismatch(parser *p, const tok *t, int want, int got)
{
	return gir_fail_at(p, t->line, t->col, "the attribute is declared %s but its value is %s",
		       ir_text_attr_kinds[want], got < 0 ? "not a value" : ir_text_attr_kinds[got]);
}

/* Appends one list element; *kind is the list's element kind so far. */
static bool parse_list_elem(parser *p, int *kind, int want)
{
	tok t = p->t;
	int k = scalar_kind(p, singular(want));
	if (k < 0)
		return gir_expected(p, "a list element");
	if (*kind == IR_ATTR_INT && k == IR_ATTR_FLOAT && want < 0) { /* ints so far: now floats */
		float *f = gir_grow(p, &p->f32s, sizeof *f, p->i64s.n);
		if (!f)
			return false;
		for (size_t j = 0; j < p->i64s.n; j++)
			f[j] = (float)((int64_t *)p->i64s.v)[j];
		*kind = IR_ATTR_FLOAT;
	}
	if (*kind == IR_ATTR_FLOAT && k == IR_ATTR_INT)
		k = IR_ATTR_FLOAT;
	if (*kind >= 0 && k != *kind)
		return gir_fail_at(p, t.line, t.col, "list elements must all be %ss; this one is %s",
			       ir_text_attr_kinds[*kind], ir_text_attr_kinds[k]);
	*kind = k;
	int64_t i = 0;
	uint32_t id = 0;
	if (!parse_scalar(p, k, &i, &id))
		return false;
	if (k == IR_ATTR_INT) {
		int64_t *x = gir_grow(p, &p->i64s, sizeof *x, 1);
		return x && (*x = i, true);
	}
	vec *v = k == IR_ATTR_FLOAT ? &p->f32s : &p->u32s;
	uint32_t *x = gir_grow(p, v, sizeof *x, 1);
	return x && (*x = id, true);
}

static bool parse_attr_list(parser *p, int want, ir_attr *a)
{
	tok open = p->t;
	int kind = -1;
	gir_advance(p);
	p->i64s.n = p->f32s.n = p->u32s.n = 0;
	while (p->t.kind != T_RBRACK) {
		if (!parse_list_elem(p, &kind, want))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (!gir_expect(p, T_RBRACK, "',' or ']' in the list"))
		return false;
	if (kind < 0 && singular(want) < 0)
		return gir_fail_at(p, open.line, open.col, "an empty list needs its kind, as in 'axes: ints = []'");
	a->kind = (uint8_t)(kind < 0 ? want : plural(kind));
	if (want >= 0 && a->kind != want)
		return kind_mismatch(p, &open, want, a->kind);
	if (a->kind == IR_ATTR_INTS) {
		a->n = (uint32_t)p->i64s.n;
		a->u.off = ir_pool_i64(p->g, p->i64s.v, a->n);
	} else if (a->kind == IR_ATTR_FLOATS) {
		a->n = (uint32_t)p->f32s.n;
		a->u.off = ir_pool_f32(p->g, p->f32s.v, a->n);
	} else {
		a->n = (uint32_t)p->u32s.n;
		a->u.off = ir_pool_u32(p->g, p->u32s.v, a->n);
	}
	return true;
}

static bool parse_attr_value(parser *p, int want, ir_attr *a)
{
	tok t = p->t;
	if (t.kind == T_LBRACK)
		return parse_attr_list(p, want, a);
	int k = scalar_kind(p, want);
	if (k < 0 && t.kind == T_IDENT && gir_peek(p).kind == T_LBRACK)
		return gir_fail_at(p, t.line, t.col, "unknown dtype '%.*s'", (int)t.len, p->text + t.off);
	if (k < 0)
		return gir_expected(p, "an attribute value (a number, \"string\", [list], tensor or blob)");
	if (want >= 0 && k != want)
		return kind_mismatch(p, &t, want, k);
	int64_t i = 0;
	uint32_t id = 0;
	if (!parse_scalar(p, k, &i, &id))
		return false;
	a->kind = (uint8_t)k;
	if (k == IR_ATTR_INT)
		a->u.i = i;
	else if (k == IR_ATTR_FLOAT)
		memcpy(&a->u.f, &id, sizeof a->u.f);
	else if (k == IR_ATTR_STRING)
		a->u.s = id;
	else if (k == IR_ATTR_TENSOR)
		a->u.t = id;
	else
		a->u.b = id;
	return true;
}

/* After the attribute's name: =value | : kind [= value | = @ref], then
 * [doc "..."]. */
static bool parse_attr_rest(parser *p, ir_attr *a)
{
	int want = -1;
	if (gir_accept(p, T_COLON)) {
		tok kt = p->t;
		want = attr_kind_of(p, &kt);
		if (want < 0)
			return gir_fail_at(p, kt.line, kt.col, "unknown attribute kind '%.*s' (kinds: int, float, "
				       "string, tensor, graph, ints, floats, ...)", (int)kt.len, p->text + kt.off);
		gir_advance(p);
		a->kind = (uint8_t)want;
	}
	if (want < 0 && p->t.kind != T_EQ)
		return gir_expected(p, "'=' and a value after the attribute name");
	if (gir_accept(p, T_EQ)) {
		if (p->t.kind == T_AT) {
			if (want < 0)
				return gir_fail_at(p, p->t.line, p->t.col,
					       "a reference needs the attribute's kind, as 'alpha: float = @alpha'");
			a->ref = gir_tok_intern(p, &p->t);
			gir_advance(p);
		} else if (!parse_attr_value(p, want, a)) {
			return false;
		}
	}
	return gir_accept_doc(p, &a->doc);
}

/* name=value | name: kind [= value | = @ref] then [doc "..."]. */
static bool parse_attr(parser *p, ir_nid n)
{
	tok nt = p->t;
	ir_attr a = {0};
	if (nt.kind != T_IDENT && nt.kind != T_STRING)
		return gir_expected(p, "an attribute name");
	a.name = gir_tok_intern(p, &nt);
	gir_advance(p);
	const ir_attr *all = ir_node_attrs(p->g, n);
	for (uint32_t i = 0; i < ir_node_at(p->g, n)->nattr; i++)
		if (all[i].name == a.name)
			return gir_fail_at(p, nt.line, nt.col, "attribute '%s' given twice", ir_cstr(p->g, a.name));
	if (!parse_attr_rest(p, &a))
		return false;
	ir_attr_put(p->g, n, &a);
	return true;
}

/* A declared attribute: a bare name (no default) or an attribute whose
 * value is the default. */
static bool parse_func_attr(parser *p)
{
	tok nt = p->t;
	ir_attr a = {0};
	if (nt.kind != T_IDENT && nt.kind != T_STRING)
		return gir_expected(p, "an attribute name");
	a.name = gir_tok_intern(p, &nt);
	gir_advance(p);
	if (a.name && ir_func_attr_find(p->g, ir_cstr(p->g, a.name)))
		return gir_fail_at(p, nt.line, nt.col, "attribute '%s' declared twice", ir_cstr(p->g, a.name));
	if (p->t.kind != T_COMMA && p->t.kind != T_RBRACE && !parse_attr_rest(p, &a))
		return false;
	if (a.ref)
		return gir_fail_at(p, nt.line, nt.col, "the default of attribute '%s' cannot be a reference",
			       ir_cstr(p->g, a.name));
	ir_func_add_attr(p->g, &a);
	return true;
}

bool gir_parse_func_attrs(parser *p)
{
	gir_advance(p);
	if (!gir_expect(p, T_LBRACE, "'{' after attrs"))
		return false;
	while (p->t.kind != T_RBRACE) {
		if (!parse_func_attr(p))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	return gir_expect(p, T_RBRACE, "',' or '}' after a declared attribute");
}

bool gir_parse_attrs(parser *p, ir_nid n)
{
	gir_advance(p);
	while (p->t.kind != T_RBRACE) {
		if (!parse_attr(p, n))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	return gir_expect(p, T_RBRACE, "',' or '}' after an attribute");
}
