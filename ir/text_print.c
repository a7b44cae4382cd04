/* The .gir printer: writes everything a graph holds as text that ir_parse
 * reads back into the same graph (grammar and conventions: docs/ir.md). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* ---------------------------------------------------------------- numbers */

/* The shortest %g spelling that reads back to the same bits; when it has
 * an exponent, a fixed-point spelling that is no longer wins (65504.0
 * rather than 6.55e+04, but 1e+06 rather than 1000000.0). */
static void fmt_finite(char *buf, uint64_t bits, ir_realfmt f)
{
	double v = ir_real_value(bits, f);
	int p = f == IR_REAL_F64 ? 15 : f == IR_REAL_F32 ? 6 : 1;
	if ((f == IR_REAL_F64 && fabs(v) < DBL_MIN) || (f == IR_REAL_F32 && fabs(v) < FLT_MIN))
		p = 1; /* subnormals have fewer digits */
	while (p < 17 && (snprintf(buf, 48, "%.*g", p, v), ir_real_parse(buf, f) != bits))
		p++;
	if (p == 17)
		snprintf(buf, 48, "%.17g", v);
	if (!strchr(buf, 'e') || fabs(v) < 1 || fabs(v) >= 1e16)
		return;
	char fixed[48];
	do
		snprintf(fixed, sizeof fixed, "%.*g", ++p, v);
	while (strchr(fixed, 'e') && p < 17);
	size_t len = strlen(fixed) + (strchr(fixed, '.') ? 0 : 2);
	if (!strchr(fixed, 'e') && len <= strlen(buf) && ir_real_parse(fixed, f) == bits)
		memcpy(buf, fixed, sizeof fixed);
}

/* Writes a value of format f given as bits: inf, -inf, nan, -nan (the
 * default quiet NaN), nan(0xBITS) for other NaNs, else a decimal that
 * reads back to the same bits and always holds a '.' or an 'e' so that
 * it reads as a float.  buf holds >= 48 bytes. */
static size_t fmt_real(char *buf, uint64_t bits, ir_realfmt f)
{
	unsigned w = ir_real_width(f);
	bool neg = (bits >> (w - 1)) & 1;
	uint64_t mag = w == 64 ? bits & ~(1ull << 63) : bits & ((1ull << (w - 1)) - 1);
	if (mag == ir_real_special(f, false, false))
		return (size_t)snprintf(buf, 48, "%sinf", neg ? "-" : "");
	if (mag == ir_real_special(f, true, false))
		return (size_t)snprintf(buf, 48, "%snan", neg ? "-" : "");
	if (mag > ir_real_special(f, false, false))
		return (size_t)snprintf(buf, 48, "nan(0x%0*llx)", (int)(w / 4), (unsigned long long)bits);
	fmt_finite(buf, bits, f);
	size_t n = strlen(buf);
	if (!strpbrk(buf, ".e")) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return n;
}

/* ---------------------------------------------------------------- output */

enum { VF_OUTPUT = 1 };

typedef struct printer {
	const ir_graph *g;
	FILE *out;
	bool ok;
	int inline_max;
	void **side; /* NULL: large constants are elided */
	size_t *side_n, side_cap;
	uint32_t *num;  /* value id -> 1 + its %N number; 0 when not numbered (yet) */
	uint8_t *flags; /* value id -> VF_* */
	uint32_t next_num;
	size_t n;
	char buf[1 << 16];
} printer;

static void flush(printer *p)
{
	if (p->n && fwrite(p->buf, 1, p->n, p->out) != p->n)
		p->ok = false;
	p->n = 0;
}

static void put(printer *p, const char *s, size_t n)
{
	if (n > sizeof p->buf - p->n) {
		flush(p);
		if (n > sizeof p->buf) {
			if (fwrite(s, 1, n, p->out) != n)
				p->ok = false;
			return;
		}
	}
	memcpy(p->buf + p->n, s, n);
	p->n += n;
}

static void puts_(printer *p, const char *s)
{
	put(p, s, strlen(s));
}

static void putch(printer *p, char c)
{
	if (p->n == sizeof p->buf)
		flush(p);
	p->buf[p->n++] = c;
}

static void put_u64(printer *p, uint64_t v)
{
	char t[24];
	int i = sizeof t;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(p, t + i, sizeof t - (size_t)i);
}

static void put_i64(printer *p, int64_t v)
{
	if (v < 0) {
		putch(p, '-');
		put_u64(p, -(uint64_t)v);
	} else {
		put_u64(p, (uint64_t)v);
	}
}

static const char hexdig[] = "0123456789abcdef";

static void put_hex_bytes(printer *p, const unsigned char *s, size_t n)
{
	char t[256];
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (; i < n && k < sizeof t; i++) {
			t[k++] = hexdig[s[i] >> 4];
			t[k++] = hexdig[s[i] & 15];
		}
		put(p, t, k);
	}
}

static void put_blob_bytes(printer *p, const void *s, size_t n)
{
	put(p, "x\"", 2);
	put_hex_bytes(p, s, n);
	putch(p, '"');
}

static void put_blob(printer *p, ir_bid b)
{
	size_t n;
	const void *s = ir_blob_get(p->g, b, &n);
	put_blob_bytes(p, s, n);
}

/* Length of the valid UTF-8 multibyte sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t cp = s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static void put_escape(printer *p, unsigned char c)
{
	switch (c) {
	case '"': put(p, "\\\"", 2); break;
	case '\\': put(p, "\\\\", 2); break;
	case '\n': put(p, "\\n", 2); break;
	case '\t': put(p, "\\t", 2); break;
	case '\r': put(p, "\\r", 2); break;
	default: {
		char t[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
		put(p, t, 4);
	}
	}
}

/* "..." with C-style escapes; valid UTF-8 passes through. */
static void put_quoted(printer *p, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0;
	putch(p, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t len = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? 1
			   : c >= 0x80 ? utf8_seq(u + i, n - i) : 0;
		if (len) {
			i += len;
			continue;
		}
		put(p, s + run, i - run);
		put_escape(p, c);
		run = ++i;
	}
	put(p, s + run, n - run);
	putch(p, '"');
}

static void put_string(printer *p, ir_str s)
{
	size_t n;
	const char *t = ir_str_get(p->g, s, &n);
	put_quoted(p, t, n);
}

/* An op, domain, attribute or dim name: bare when identifier-like. */
static void put_ident_bytes(printer *p, const char *t, size_t n)
{
	if (ir_text_is_ident(t, n))
		put(p, t, n);
	else
		put_quoted(p, t, n);
}

static void put_ident(printer *p, ir_str s)
{
	size_t n;
	const char *t = ir_str_get(p->g, s, &n);
	put_ident_bytes(p, t, n);
}

/* %value or @node name. */
static void put_name(printer *p, char sigil, ir_str s)
{
	size_t n;
	const char *t = ir_str_get(p->g, s, &n);
	putch(p, sigil);
	if (ir_text_is_name(t, n))
		put(p, t, n);
	else
		put_quoted(p, t, n);
}

static void put_value(printer *p, ir_val v)
{
	const ir_value *x = ir_value_at(p->g, v);
	if (!x) {
		putch(p, '_');
		return;
	}
	if (x->name) {
		put_name(p, '%', x->name);
		return;
	}
	if (!p->num[v]) /* referenced but not defined: still gets a number */
		p->num[v] = ++p->next_num;
	putch(p, '%');
	put_u64(p, p->num[v] - 1);
}

static void put_real(printer *p, uint64_t bits, ir_realfmt f)
{
	char b[48];
	put(p, b, fmt_real(b, bits, f));
}

static void put_f32(printer *p, float v)
{
	uint32_t b;
	memcpy(&b, &v, sizeof b);
	put_real(p, b, IR_REAL_F32);
}

static void put_dtype(printer *p, unsigned dt)
{
	if (dt < IR_DTYPE_COUNT) {
		puts_(p, ir_dtype_name((ir_dtype)dt));
	} else { /* a code graft has no name for: kept by number */
		puts_(p, "dtype");
		put_u64(p, dt);
	}
}

/* ---------------------------------------------------------------- types */

static void put_dim(printer *p, ir_dim d)
{
	if (d.sym) {
		put_ident(p, d.sym);
		if (d.v >= 0) {
			putch(p, '=');
			put_i64(p, d.v);
		}
	} else if (d.v >= 0) {
		put_i64(p, d.v);
	} else {
		putch(p, '?');
	}
}

static void put_type(printer *p, ir_type t)
{
	if (t.kind == IR_TYPE_OPAQUE) {
		puts_(p, "opaque ");
		put_blob(p, t.dims);
		return;
	}
	if (t.kind != IR_TYPE_TENSOR) {
		putch(p, '?');
		return;
	}
	put_dtype(p, t.dtype);
	putch(p, '[');
	if (t.rank < 0)
		putch(p, '*');
	const ir_dim *d = ir_type_dims(p->g, t);
	for (int i = 0; i < t.rank; i++) {
		if (i)
			putch(p, ',');
		put_dim(p, d[i]);
	}
	putch(p, ']');
}

/* ---------------------------------------------------------------- tensors */

static uint64_t load_le(const unsigned char *d, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static bool strings_well_formed(const ir_tensor *x, int64_t numel)
{
	const unsigned char *d = x->data;
	size_t pos = 0;
	for (int64_t i = 0; i < numel; i++) {
		if (x->nbytes - pos < 4)
			return false;
		size_t len = (size_t)load_le(d + pos, 4);
		pos += 4;
		if (x->nbytes - pos < len)
			return false;
		pos += len;
	}
	return pos == x->nbytes;
}

/* True when the data can be written as a list of numbers / strings. */
static bool list_printable(const ir_tensor *x, int64_t numel)
{
	if (numel < 0)
		return false;
	if (x->dtype == IR_STRING)
		return strings_well_formed(x, numel);
	size_t size = ir_dtype_size((ir_dtype)x->dtype);
	if (size == 0 || x->dtype == IR_C64 || x->dtype == IR_C128 ||
	    (uint64_t)numel * size != x->nbytes)
		return false;
	const unsigned char *d = x->data;
	if (x->dtype == IR_BOOL)
		for (size_t i = 0; i < x->nbytes; i++)
			if (d[i] > 1)
				return false;
	return true;
}

static void put_int_elem(printer *p, const unsigned char *d, ir_dtype dt)
{
	switch (dt) {
	case IR_BOOL: puts_(p, d[0] ? "true" : "false"); break;
	case IR_U8: put_u64(p, d[0]); break;
	case IR_I8: put_i64(p, (int8_t)d[0]); break;
	case IR_U16: put_u64(p, load_le(d, 2)); break;
	case IR_I16: put_i64(p, (int16_t)load_le(d, 2)); break;
	case IR_U32: put_u64(p, load_le(d, 4)); break;
	case IR_I32: put_i64(p, (int32_t)load_le(d, 4)); break;
	case IR_U64: put_u64(p, load_le(d, 8)); break;
	default: put_i64(p, (int64_t)load_le(d, 8)); break;
	}
}

static void put_list_data(printer *p, const ir_tensor *x, int64_t numel)
{
	const unsigned char *d = x->data;
	size_t size = ir_dtype_size((ir_dtype)x->dtype), pos = 0;
	ir_realfmt f;
	bool real = ir_real_fmt_of((ir_dtype)x->dtype, &f);
	putch(p, '[');
	for (int64_t i = 0; i < numel; i++) {
		if (i)
			put(p, ", ", 2);
		if (x->dtype == IR_STRING) {
			size_t len = (size_t)load_le(d + pos, 4);
			put_quoted(p, (const char *)d + pos + 4, len);
			pos += 4 + len;
		} else if (real) {
			put_real(p, load_le(d + (size_t)i * size, (unsigned)size), f);
		} else {
			put_int_elem(p, d + (size_t)i * size, (ir_dtype)x->dtype);
		}
	}
	putch(p, ']');
}

/* Appends bytes to the side buffer at a 64-byte aligned offset. */
static bool side_append(printer *p, const void *data, size_t n, size_t *off)
{
	size_t at = (*p->side_n + 63) & ~(size_t)63;
	if (at + n > p->side_cap) {
		size_t cap = p->side_cap ? p->side_cap : 4096;
		while (cap < at + n)
			cap *= 2;
		void *s = realloc(*p->side, cap);
		if (!s)
			return false;
		*p->side = s;
		p->side_cap = cap;
	}
	memset((char *)*p->side + *p->side_n, 0, at - *p->side_n);
	if (n)
		memcpy((char *)*p->side + at, data, n);
	*p->side_n = at + n;
	*off = at;
	return true;
}

static void put_big_data(printer *p, const ir_tensor *x)
{
	if (!p->side) {
		char t[40];
		snprintf(t, sizeof t, "elided(%016llx)",
			 (unsigned long long)ir_text_hash64(x->data, x->nbytes));
		puts_(p, t);
		return;
	}
	size_t off;
	if (!side_append(p, x->data, x->nbytes, &off)) {
		p->ok = false;
		return;
	}
	puts_(p, "data[");
	put_u64(p, off);
	putch(p, ':');
	put_u64(p, x->nbytes);
	putch(p, ']');
}

static void put_tensor_type(printer *p, ir_tid t)
{
	const ir_tensor *x = ir_tensor_at(p->g, t);
	const int64_t *dims = ir_tensor_dims(p->g, t);
	put_dtype(p, x->dtype);
	putch(p, '[');
	for (int i = 0; i < x->rank; i++) {
		if (i)
			putch(p, ',');
		put_i64(p, dims[i]);
	}
	putch(p, ']');
}

static bool is_big(const printer *p, ir_tid t)
{
	return p->inline_max >= 0 && ir_tensor_numel(p->g, t) > p->inline_max;
}

/* [type] data [name "..."] [doc "..."]: the name when it differs from
 * expect_name; the doc also when empty if force_doc (see put_attr). */
static void put_tensor(printer *p, ir_tid t, ir_str expect_name, bool with_type, bool force_doc)
{
	const ir_tensor *x = ir_tensor_at(p->g, t);
	int64_t numel = ir_tensor_numel(p->g, t);
	if (with_type) {
		put_tensor_type(p, t);
		putch(p, ' ');
	}
	if (is_big(p, t))
		put_big_data(p, x);
	else if (list_printable(x, numel))
		put_list_data(p, x, numel);
	else
		put_blob_bytes(p, x->data, x->nbytes);
	if (x->name != expect_name) {
		puts_(p, " name ");
		put_string(p, x->name);
	}
	if (x->doc || force_doc) {
		puts_(p, " doc ");
		put_string(p, x->doc);
	}
}

/* ---------------------------------------------------------------- attributes */

static bool attr_is_list(unsigned kind)
{
	return kind == IR_ATTR_FLOATS || kind == IR_ATTR_INTS || kind == IR_ATTR_STRINGS ||
	       kind == IR_ATTR_TENSORS || kind == IR_ATTR_GRAPHS || kind == IR_ATTR_SPARSE_TENSORS ||
	       kind == IR_ATTR_TYPE_PROTOS;
}

/* The word before a blob: graph, sparse_tensor or type_proto. */
static const char *blob_word(unsigned kind)
{
	switch (kind) {
	case IR_ATTR_GRAPH: case IR_ATTR_GRAPHS: return "graph ";
	case IR_ATTR_SPARSE_TENSOR: case IR_ATTR_SPARSE_TENSORS: return "sparse_tensor ";
	default: return "type_proto ";
	}
}

static void put_attr_elem(printer *p, const ir_attr *a, uint32_t i)
{
	switch (a->kind) {
	case IR_ATTR_FLOATS: put_f32(p, ir_attr_floats(p->g, a)[i]); break;
	case IR_ATTR_INTS: put_i64(p, ir_attr_ints(p->g, a)[i]); break;
	case IR_ATTR_STRINGS: put_string(p, ir_attr_ids(p->g, a)[i]); break;
	case IR_ATTR_TENSORS: put_tensor(p, ir_attr_ids(p->g, a)[i], 0, true, false); break;
	default:
		puts_(p, blob_word(a->kind));
		put_blob(p, ir_attr_ids(p->g, a)[i]);
	}
}

static void put_attr_value(printer *p, const ir_attr *a)
{
	switch (a->kind) {
	case IR_ATTR_FLOAT: put_f32(p, a->u.f); return;
	case IR_ATTR_INT: put_i64(p, a->u.i); return;
	case IR_ATTR_STRING: put_string(p, a->u.s); return;
	case IR_ATTR_TENSOR: put_tensor(p, a->u.t, 0, true, a->doc != 0); return;
	case IR_ATTR_GRAPH: case IR_ATTR_SPARSE_TENSOR: case IR_ATTR_TYPE_PROTO:
		puts_(p, blob_word(a->kind));
		put_blob(p, a->u.b);
		return;
	}
	putch(p, '[');
	for (uint32_t i = 0; i < a->n; i++) {
		if (i)
			put(p, ", ", 2);
		put_attr_elem(p, a, i);
	}
	putch(p, ']');
}

/* False for attributes whose value is "nothing": an undef kind, a tensor
 * or blob attribute with id 0. */
static bool attr_has_value(const ir_attr *a)
{
	switch (a->kind) {
	case IR_ATTR_FLOAT: case IR_ATTR_INT: case IR_ATTR_STRING: return true;
	case IR_ATTR_TENSOR: return a->u.t != 0;
	case IR_ATTR_GRAPH: case IR_ATTR_SPARSE_TENSOR: case IR_ATTR_TYPE_PROTO: return a->u.b != 0;
	default: return attr_is_list(a->kind);
	}
}

/* name=value | name: kind = [] | name: kind = @ref | name: kind; then [doc "..."]. */
static void put_attr(printer *p, const ir_attr *a)
{
	const char *kind = a->kind <= IR_ATTR_TYPE_PROTOS ? ir_text_attr_kinds[a->kind] : "undef";
	put_ident(p, a->name);
	if (a->ref || !attr_has_value(a) || (attr_is_list(a->kind) && a->n == 0)) {
		put(p, ": ", 2);
		puts_(p, kind);
		if (a->ref) {
			put(p, " = ", 3);
			put_name(p, '@', a->ref);
		} else if (attr_has_value(a)) {
			puts_(p, " = []");
		}
	} else {
		putch(p, '=');
		put_attr_value(p, a);
	}
	if (a->doc) {
		puts_(p, " doc ");
		put_string(p, a->doc);
	}
}

/* ---------------------------------------------------------------- header */

static bool attr_has_big(const printer *p, const ir_attr *a)
{
	if (a->kind == IR_ATTR_TENSOR)
		return a->u.t && is_big(p, a->u.t);
	if (a->kind != IR_ATTR_TENSORS)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (is_big(p, ir_attr_ids(p->g, a)[i]))
			return true;
	return false;
}

/* True when some printed tensor of p->g goes to the side file. */
static bool graph_uses_side(const printer *p)
{
	const ir_graph *g = p->g;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
		ir_tid t = ir_value_at(g, ir_graph_input_at(g, i))->tensor;
		if (t && is_big(p, t))
			return true;
	}
	for (size_t i = 0; i < ir_graph_nconsts(g); i++)
		if (is_big(p, ir_value_at(g, ir_graph_const_at(g, i))->tensor))
			return true;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		const ir_attr *a = ir_node_attrs(g, n);
		for (uint32_t i = 0; i < ir_node_at(g, n)->nattr; i++)
			if (attr_has_big(p, &a[i]))
				return true;
	}
	for (size_t i = 0; i < ir_func_nattrs(g); i++)
		if (attr_has_big(p, ir_func_attr_at(g, i)))
			return true;
	return false;
}

/* True when some printed tensor (of the graph or a function) goes to the side file. */
static bool uses_side(printer *p)
{
	const ir_graph *g = p->g;
	bool big = p->side && p->inline_max >= 0 && graph_uses_side(p);
	for (ir_fid f = 1; p->side && p->inline_max >= 0 && !big && f <= ir_graph_nfuncs(g); f++) {
		p->g = ir_func_at(g, f)->body;
		big = graph_uses_side(p);
		p->g = g;
	}
	return big;
}

/* " opset{...}" of p->g, when it imports any. */
static void put_opsets(printer *p)
{
	size_t nops = ir_graph_nopsets(p->g);
	if (!nops)
		return;
	puts_(p, " opset{");
	for (size_t i = 0; i < nops; i++) {
		ir_opset o = ir_graph_opset_at(p->g, i);
		if (i)
			put(p, ", ", 2);
		put_string(p, o.domain);
		putch(p, '=');
		put_i64(p, o.version);
	}
	putch(p, '}');
}

static void put_model(printer *p)
{
	const ir_meta *m = ir_graph_cmeta(p->g);
	size_t nops = ir_graph_nopsets(p->g);
	if (!m->ir_version && !m->producer_name && !m->producer_version && !m->domain &&
	    !m->model_version && !m->doc && !nops)
		return;
	puts_(p, "model");
	if (m->ir_version) {
		puts_(p, " ir_version=");
		put_i64(p, m->ir_version);
	}
	if (m->producer_name) {
		puts_(p, " producer=");
		put_string(p, m->producer_name);
	}
	if (m->producer_version) {
		puts_(p, " producer_version=");
		put_string(p, m->producer_version);
	}
	if (m->domain) {
		puts_(p, " domain=");
		put_string(p, m->domain);
	}
	if (m->model_version) {
		puts_(p, " model_version=");
		put_i64(p, m->model_version);
	}
	put_opsets(p);
	if (m->doc) {
		puts_(p, " doc=");
		put_string(p, m->doc);
	}
	putch(p, '\n');
}

static void put_header(printer *p, const ir_print_opts *o)
{
	puts_(p, "graft 1");
	if (o && o->side_name && uses_side(p)) {
		puts_(p, " data=");
		put_quoted(p, o->side_name, strlen(o->side_name));
	}
	putch(p, '\n');
	put_model(p);
	for (size_t i = 0; i < ir_graph_nprops(p->g); i++) {
		ir_kv kv = ir_graph_prop_at(p->g, i);
		puts_(p, "prop ");
		put_string(p, kv.key);
		put(p, " = ", 3);
		put_string(p, kv.value);
		putch(p, '\n');
	}
	for (int k = 0; k < IR_EXTRA_KINDS; k++)
		for (size_t i = 0; i < ir_graph_nextras(p->g, (ir_extra_kind)k); i++) {
			puts_(p, "extra ");
			puts_(p, ir_text_extra_kinds[k]);
			putch(p, ' ');
			put_blob(p, ir_graph_extra_at(p->g, (ir_extra_kind)k, i));
			putch(p, '\n');
		}
}

/* ---------------------------------------------------------------- graph */

/* True when the type says exactly the tensor's dtype and dims. */
static bool type_is_tensor(const ir_graph *g, ir_type t, ir_tid tid)
{
	const ir_tensor *x = ir_tensor_at(g, tid);
	if (t.kind != IR_TYPE_TENSOR || t.dtype != x->dtype || t.rank != x->rank)
		return false;
	const ir_dim *d = ir_type_dims(g, t);
	const int64_t *dims = ir_tensor_dims(g, tid);
	for (int i = 0; i < t.rank; i++)
		if (d[i].sym || d[i].v != dims[i])
			return false;
	return true;
}

static void put_input(printer *p, ir_val v)
{
	const ir_value *x = ir_value_at(p->g, v);
	put_value(p, v);
	put(p, ": ", 2);
	put_type(p, x->type);
	if (x->tensor) {
		put(p, " = ", 3);
		put_tensor(p, x->tensor, x->name, !type_is_tensor(p->g, x->type, x->tensor), false);
	}
}

static void put_signature(printer *p)
{
	const ir_graph *g = p->g;
	size_t nin = ir_graph_ninputs(g);
	bool multiline = nin > 4;
	for (size_t i = 0; i < nin; i++)
		multiline |= ir_value_at(g, ir_graph_input_at(g, i))->tensor != 0;
	puts_(p, "graph ");
	if (ir_graph_cmeta(g)->graph_name)
		put_name(p, '@', ir_graph_cmeta(g)->graph_name);
	putch(p, '(');
	for (size_t i = 0; i < nin; i++) {
		if (multiline)
			puts_(p, i ? ",\n    " : "\n    ");
		else if (i)
			put(p, ", ", 2);
		put_input(p, ir_graph_input_at(g, i));
	}
	puts_(p, multiline ? "\n) -> (" : ") -> (");
	for (size_t i = 0; i < ir_graph_noutputs(g); i++) {
		if (i)
			put(p, ", ", 2);
		put_value(p, ir_graph_output_at(g, i));
	}
	putch(p, ')');
	if (ir_graph_cmeta(g)->graph_doc) {
		puts_(p, " doc ");
		put_string(p, ir_graph_cmeta(g)->graph_doc);
	}
	puts_(p, " {\n");
}

static void put_value_doc(printer *p, ir_val v)
{
	const ir_value *x = ir_value_at(p->g, v);
	if (!x->doc)
		return;
	puts_(p, "  doc ");
	put_value(p, v);
	putch(p, ' ');
	put_string(p, x->doc);
	putch(p, '\n');
}

/* An absent optional result: unnamed, unused, not an output, no doc. */
static bool is_absent(const printer *p, ir_val v)
{
	const ir_value *x = ir_value_at(p->g, v);
	return !x->name && !x->nuses && !x->doc && !(p->flags[v] & VF_OUTPUT);
}

static void put_results(printer *p, const ir_node *x, ir_nid n)
{
	for (uint32_t i = 0; i < x->nout; i++) {
		ir_val v = ir_node_output(p->g, n, i);
		if (i)
			put(p, ", ", 2);
		if (is_absent(p, v))
			putch(p, '_');
		else
			put_value(p, v);
	}
	put(p, " = ", 3);
}

static void put_result_types(printer *p, const ir_node *x, ir_nid n)
{
	uint32_t i = 0;
	while (i < x->nout && ir_value_at(p->g, ir_node_output(p->g, n, i))->type.kind == IR_TYPE_NONE)
		i++;
	if (i == x->nout)
		return;
	put(p, " : ", 3);
	for (i = 0; i < x->nout; i++) {
		if (i)
			put(p, ", ", 2);
		put_type(p, ir_value_at(p->g, ir_node_output(p->g, n, i))->type);
	}
}

static void put_node(printer *p, ir_nid n)
{
	const ir_node *x = ir_node_at(p->g, n);
	puts_(p, "  ");
	if (x->nout)
		put_results(p, x, n);
	if (x->domain) {
		put_ident(p, x->domain);
		put(p, "::", 2);
	}
	put_ident(p, x->op);
	putch(p, '(');
	for (uint32_t i = 0; i < x->nin; i++) {
		if (i)
			put(p, ", ", 2);
		put_value(p, ir_node_input(p->g, n, i));
	}
	putch(p, ')');
	if (x->nattr) {
		const ir_attr *a = ir_node_attrs(p->g, n);
		put(p, " {", 2);
		for (uint32_t i = 0; i < x->nattr; i++) {
			if (i)
				put(p, ", ", 2);
			put_attr(p, &a[i]);
		}
		putch(p, '}');
	}
	put_result_types(p, x, n);
	if (x->name) {
		putch(p, ' ');
		put_name(p, '@', x->name);
	}
	if (x->doc) {
		puts_(p, " doc ");
		put_string(p, x->doc);
	}
	putch(p, '\n');
	for (uint32_t i = 0; i < x->nout; i++)
		put_value_doc(p, ir_node_output(p->g, n, i));
}

static void put_body(printer *p)
{
	const ir_graph *g = p->g;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		put_value_doc(p, ir_graph_input_at(g, i));
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		ir_val v = ir_graph_const_at(g, i);
		const ir_value *x = ir_value_at(g, v);
		puts_(p, "  ");
		put_value(p, v);
		puts_(p, " = const ");
		put_tensor(p, x->tensor, x->name, true, false);
		putch(p, '\n');
		put_value_doc(p, v);
	}
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		put_node(p, n);
	puts_(p, "}\n");
}

/* ---------------------------------------------------------------- entry */

static void number(printer *p, ir_val v)
{
	if (!ir_value_at(p->g, v)->name && !p->num[v])
		p->num[v] = ++p->next_num;
}

/* Unnamed values get %0, %1, ... in order of definition. */
static bool number_values(printer *p)
{
	const ir_graph *g = p->g;
	size_t nv = ir_nvalues(g) + 1;
	p->num = calloc(nv, sizeof *p->num);
	p->flags = calloc(nv, 1);
	if (!p->num || !p->flags)
		return false;
	for (size_t i = 0; i < ir_graph_noutputs(g); i++) {
		ir_val v = ir_graph_output_at(g, i);
		if (v < nv)
			p->flags[v] |= VF_OUTPUT;
	}
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		number(p, ir_graph_input_at(g, i));
	for (size_t i = 0; i < ir_graph_nconsts(g); i++)
		number(p, ir_graph_const_at(g, i));
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t i = 0; i < ir_node_at(g, n)->nout; i++)
			if (!is_absent(p, ir_node_output(g, n, i)))
				number(p, ir_node_output(g, n, i));
	return true;
}

/* ---------------------------------------------------------------- functions */

/* attrs{name, name=default, ...} of p->g, a body. */
static void put_func_attrs(printer *p)
{
	size_t n = ir_func_nattrs(p->g);
	if (!n)
		return;
	puts_(p, " attrs{");
	for (size_t i = 0; i < n; i++) {
		const ir_attr *a = ir_func_attr_at(p->g, i);
		if (i)
			put(p, ", ", 2);
		if (a->kind == IR_ATTR_UNDEF && !a->doc)
			put_ident(p, a->name);
		else
			put_attr(p, a);
	}
	putch(p, '}');
}

/* (%x, %w: f32[3]) -> (%y) attrs{...} opset{...} of p->g, a body. */
static void put_func_signature(printer *p)
{
	const ir_graph *b = p->g;
	putch(p, '(');
	for (size_t i = 0; i < ir_graph_ninputs(b); i++) {
		ir_val v = ir_graph_input_at(b, i);
		if (i)
			put(p, ", ", 2);
		put_value(p, v);
		if (ir_value_at(b, v)->type.kind != IR_TYPE_NONE) {
			put(p, ": ", 2);
			put_type(p, ir_value_at(b, v)->type);
		}
	}
	puts_(p, ") -> (");
	for (size_t i = 0; i < ir_graph_noutputs(b); i++) {
		if (i)
			put(p, ", ", 2);
		put_value(p, ir_graph_output_at(b, i));
	}
	putch(p, ')');
	put_func_attrs(p);
	put_opsets(p);
}

/* func [domain::]name(...) -> (...) ... [doc "..."] { body }: the body
 * numbered on its own (its value names are its own). */
static void put_function(printer *p, const ir_func *f)
{
	const ir_graph *g = p->g;
	uint32_t *num = p->num, next = p->next_num;
	uint8_t *flags = p->flags;
	size_t n;
	const char *s;
	puts_(p, "func ");
	if (f->domain) {
		s = ir_str_get(g, f->domain, &n);
		put_ident_bytes(p, s, n);
		put(p, "::", 2);
	}
	s = ir_str_get(g, f->name, &n);
	put_ident_bytes(p, s, n);
	p->g = f->body;
	p->next_num = 0;
	if (number_values(p)) {
		put_func_signature(p);
		if (f->doc) {
			s = ir_str_get(g, f->doc, &n);
			puts_(p, " doc ");
			put_quoted(p, s, n);
		}
		puts_(p, " {\n");
		put_body(p);
	} else {
		p->ok = false;
	}
	free(p->num);
	free(p->flags);
	p->g = g;
	p->num = num;
	p->flags = flags;
	p->next_num = next;
}

bool ir_print(const ir_graph *g, FILE *out, const ir_print_opts *o, void **side, size_t *side_n)
{
	printer *p = malloc(sizeof *p);
	if (!p)
		return false;
	p->g = g;
	p->out = out;
	p->ok = true;
	p->inline_max = o ? o->inline_max : 16;
	p->side = side && side_n ? side : NULL;
	p->side_n = side_n;
	p->side_cap = p->side ? *side_n : 0;
	p->next_num = 0;
	p->n = 0;
	p->flags = NULL;
	if (!number_values(p)) {
		p->ok = false;
	} else {
		put_header(p, o);
		for (ir_fid f = 1; f <= ir_graph_nfuncs(g); f++)
			put_function(p, ir_func_at(g, f));
		put_signature(p);
		put_body(p);
		flush(p);
	}
	bool ok = p->ok && !ferror(out);
	free(p->num);
	free(p->flags);
	free(p);
	return ok;
}
