/* The .gir parser: statements, the graph and its header, built through
 * the ir.h API (grammar: docs/ir.md).  Errors go to the diagnostics sink
 * and parsing resumes at the next line, so one run reports several of
 * them.  Value names are resolved at the end (forward references are
 * allowed), then the nodes are put in topological order. */
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

enum { MAX_ERRORS = 50 };

/* A reference to a value that may be defined later: operand `index` of
 * `node`, graph output `index` (node 0), or the target of a doc statement. */
typedef struct fixup {
	uint64_t key;
	ir_nid node;
	uint32_t index;
	ir_str doc;
	int line, col;
} fixup;

typedef struct result {
	uint64_t key; /* 0: `_` */
	ir_str name;
	int line, col;
} result;

#define NUMBERED (1ull << 32)

/* ---------------------------------------------------------------- symbols */

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static sym *sym_slot(sym *tab, size_t cap, uint64_t key)
{
	size_t mask = cap - 1, i = mix(key) & mask;
	while (tab[i].key && tab[i].key != key)
		i = (i + 1) & mask;
	return &tab[i];
}

static bool rehash(parser *p)
{
	size_t cap = p->bigcap ? p->bigcap * 2 : 64;
	sym *tab = calloc(cap, sizeof *tab);
	if (!tab) {
		p->oom = true;
		return false;
	}
	for (size_t i = 0; i < p->bigcap; i++)
		if (p->big[i].key)
			*sym_slot(tab, cap, p->big[i].key) = p->big[i];
	free(p->big);
	p->big = tab;
	p->bigcap = cap;
	return true;
}

static sym *sym_hashed(parser *p, uint64_t key, bool insert)
{
	if (insert && (p->nbig + 1) * 2 > p->bigcap && !rehash(p))
		return NULL;
	if (!p->bigcap)
		return NULL;
	sym *s = sym_slot(p->big, p->bigcap, key);
	if (s->key || !insert)
		return s->key ? s : NULL;
	s->key = key;
	p->nbig++;
	return s;
}

static sym *sym_direct(parser *p, vec *v, uint64_t key, size_t i, bool insert)
{
	if (i >= v->n) {
		size_t more = i + 1 - v->n;
		sym *fresh = insert ? gir_grow(p, v, sizeof *fresh, more) : NULL;
		if (!fresh)
			return NULL;
		memset(fresh, 0, more * sizeof *fresh);
	}
	sym *s = (sym *)v->v + i;
	s->key = key;
	return s;
}

/* The symbol for key (v == 0: not defined yet); NULL when absent and
 * !insert.  Names, and %N as small as a text of this size can number,
 * index arrays (nearby definitions stay nearby in memory); larger %N go
 * to a hash table. */
static sym *sym_get(parser *p, uint64_t key, bool insert)
{
	if (!(key & NUMBERED))
		return sym_direct(p, &p->by_str, key, (size_t)key, insert);
	size_t n = (size_t)(key & 0xffffffffu);
	if (n <= p->n / 4 + 64)
		return sym_direct(p, &p->by_num, key, n, insert);
	return sym_hashed(p, key, insert);
}

/* "%name" or "%N" for messages. */
static const char *key_name(const parser *p, uint64_t key, char *buf, size_t cap)
{
	if (key & NUMBERED)
		snprintf(buf, cap, "%%%u", (unsigned)key);
	else
		snprintf(buf, cap, "%%%s", ir_cstr(p->g, (ir_str)key));
	return buf;
}

/* The key and name of a %value token. */
static bool val_key(parser *p, const tok *t, uint64_t *key, ir_str *name)
{
	if (t->kind == T_VALNUM) {
		uint64_t n = 0;
		for (size_t i = 0; i < t->len && n <= UINT32_MAX; i++)
			n = n * 10 + (uint64_t)(p->text[t->off + i] - '0');
		if (n > UINT32_MAX)
			return gir_fail_at(p, t->line, t->col, "value number %%%.*s is too large",
					   (int)t->len, p->text + t->off);
		*key = NUMBERED | n;
		*name = 0;
		return true;
	}
	*name = gir_tok_intern(p, t);
	if (!*name)
		return p->oom || ir_graph_oom(p->g) ? false
						    : gir_fail_at(p, t->line, t->col, "empty value name");
	*key = *name;
	return true;
}

static bool define(parser *p, uint64_t key, ir_val v, int line, int col)
{
	char buf[96];
	sym *s = sym_get(p, key, true);
	if (!s)
		return false;
	if (s->v)
		return gir_fail_at(p, line, col, "value %s defined twice (first at %d:%d)",
			       key_name(p, key, buf, sizeof buf), s->line, s->col);
	*s = (sym){key, v, line, col};
	return true;
}

/* The value a key names now, or 0 (not defined yet). */
static ir_val lookup(parser *p, uint64_t key)
{
	sym *s = sym_get(p, key, false);
	return s ? s->v : 0;
}

static bool add_fixup(parser *p, vec *list, fixup f)
{
	fixup *x = gir_grow(p, list, sizeof f, 1);
	if (x)
		*x = f;
	return x != NULL;
}

static void resolve_all(parser *p);
static void note_cycle(parser *p);
static void free_parser(parser *p);

/* ---------------------------------------------------------------- nodes */

/* One operand: %x, %N or _ (absent); forward references become fixups
 * with node 0 until the node exists. */
static bool parse_operand(parser *p)
{
	tok t = p->t;
	ir_val *in = gir_grow(p, &p->ins, sizeof *in, 1);
	if (!in)
		return false;
	*in = 0;
	if (gir_is_word(p, "_")) {
		gir_advance(p);
		return true;
	}
	uint64_t key;
	ir_str name;
	if (t.kind != T_VAL && t.kind != T_VALNUM)
		return gir_expected(p, "an operand (%x or _)");
	if (!val_key(p, &t, &key, &name))
		return false;
	gir_advance(p);
	*in = lookup(p, key);
	if (*in)
		return true;
	return add_fixup(p, &p->fixups, (fixup){key, 0, (uint32_t)(p->ins.n - 1), 0, t.line, t.col});
}

static bool parse_operands(parser *p, size_t *first_fix)
{
	p->ins.n = 0;
	*first_fix = p->fixups.n;
	if (!gir_expect(p, T_LPAREN, "'(' after the op name"))
		return false;
	while (p->t.kind != T_RPAREN) {
		if (!parse_operand(p))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	return gir_expect(p, T_RPAREN, "')' after operand list");
}

static bool parse_result_types(parser *p, ir_nid n, uint32_t nout)
{
	tok colon = p->t;
	gir_advance(p);
	for (uint32_t i = 0;; i++) {
		ir_type ty;
		if (!gir_parse_type(p, &ty))
			return false;
		if (i < nout)
			ir_value_at(p->g, ir_node_output(p->g, n, i))->type = ty;
		if (!gir_accept(p, T_COMMA)) {
			if (i + 1 == nout)
				return true;
			return gir_fail_at(p, colon.line, colon.col, "%u result types for %u results", i + 1, nout);
		}
	}
}

/* [domain::]op */
static bool parse_opref(parser *p, long *dom, long *op)
{
	tok t = p->t;
	p->names.n = 0;
	*dom = -1;
	if (t.kind != T_IDENT && t.kind != T_STRING)
		return gir_expected(p, "an op name");
	gir_advance(p);
	if (gir_accept(p, T_DCOLON)) {
		*dom = gir_tok_cstr(p, &t, "a domain");
		if (*dom < 0)
			return false;
		t = p->t;
		if (t.kind != T_IDENT && t.kind != T_STRING)
			return gir_expected(p, "an op name after '::'");
		gir_advance(p);
	}
	*op = gir_tok_cstr(p, &t, "an op name");
	return *op >= 0;
}

static bool define_results(parser *p, ir_nid n)
{
	const result *r = p->results.v;
	bool ok = true;
	for (size_t i = 0; i < p->results.n; i++) {
		ir_val v = ir_node_output(p->g, n, (uint32_t)i);
		if (!r[i].key)
			continue;
		ir_value_at(p->g, v)->name = r[i].name;
		ok &= define(p, r[i].key, v, r[i].line, r[i].col);
	}
	return ok;
}

/* [domain::]op(operands) [{attrs}] [: types] [@name] [doc "..."], the
 * results already in p->results. */
static bool parse_call(parser *p)
{
	long dom = -1, op = -1;
	size_t first_fix;
	tok at = p->t;
	if (!parse_opref(p, &dom, &op) || !parse_operands(p, &first_fix))
		return false;
	const char *names = p->names.v;
	ir_nid n = ir_node_new(p->g, dom >= 0 && names[dom] ? names + dom : NULL, names + op, p->ins.v,
			       (uint32_t)p->ins.n, (uint32_t)p->results.n, 0);
	if (!n)
		return p->oom = true, false;
	ir_node_set_loc(p->g, n, at.line, at.col);
	fixup *f = p->fixups.v;
	for (size_t i = first_fix; i < p->fixups.n; i++)
		f[i].node = n;
	if (!define_results(p, n))
		return false;
	if (p->t.kind == T_LBRACE && !gir_parse_attrs(p, n))
		return false;
	if (p->t.kind == T_COLON && !parse_result_types(p, n, (uint32_t)p->results.n))
		return false;
	if (p->t.kind == T_AT) {
		ir_node_at(p->g, n)->name = gir_tok_intern(p, &p->t);
		gir_advance(p);
	}
	ir_str doc = 0;
	if (!gir_accept_doc(p, &doc))
		return false;
	ir_node_at(p->g, n)->doc = doc;
	return true;
}

static bool parse_const(parser *p)
{
	const result *r = p->results.v;
	ir_tid t;
	if (p->results.n != 1 || !r[0].key)
		return gir_fail_at(p, r[0].line, r[0].col, "a constant defines exactly one value, not _");
	gir_advance(p);
	if (!gir_parse_tensor(p, r[0].name, NULL, &t))
		return false;
	ir_val v = ir_const_new(p->g, r[0].name, t);
	return v ? define(p, r[0].key, v, r[0].line, r[0].col) : (p->oom = true, false);
}

/* results = const ... | results = call */
static bool parse_def(parser *p)
{
	p->results.n = 0;
	do {
		tok t = p->t;
		result *r = gir_grow(p, &p->results, sizeof *r, 1);
		if (!r)
			return false;
		*r = (result){0, 0, t.line, t.col};
		if (gir_is_word(p, "_")) {
			gir_advance(p);
			continue;
		}
		if (t.kind != T_VAL && t.kind != T_VALNUM)
			return gir_expected(p, "a result (%x or _)");
		if (!val_key(p, &t, &r->key, &r->name))
			return false;
		gir_advance(p);
	} while (gir_accept(p, T_COMMA));
	if (!gir_expect(p, T_EQ, "'=' after the results"))
		return false;
	if (gir_is_word(p, "const")) {
		int nx = gir_peek(p).kind;
		if (nx != T_LPAREN && nx != T_DCOLON && p->in_func)
			return gir_expected_here(p, "an op: a function body holds no constants (use a Constant node)");
		if (nx != T_LPAREN && nx != T_DCOLON)
			return parse_const(p);
	}
	return parse_call(p);
}

/* doc %x "..." */
static bool parse_value_doc(parser *p)
{
	gir_advance(p);
	tok v = p->t, s;
	uint64_t key;
	ir_str name;
	if (!val_key(p, &v, &key, &name))
		return false;
	gir_advance(p);
	s = p->t;
	if (!gir_expect(p, T_STRING, "the doc string after the value"))
		return false;
	return add_fixup(p, &p->docs, (fixup){key, 0, 0, gir_tok_intern(p, &s), v.line, v.col});
}

static bool parse_stmt(parser *p)
{
	if (p->t.kind == T_VAL || p->t.kind == T_VALNUM || gir_is_word(p, "_"))
		return parse_def(p);
	if (gir_is_word(p, "doc")) {
		int nx = gir_peek(p).kind;
		if (nx == T_VAL || nx == T_VALNUM)
			return parse_value_doc(p);
	}
	if (p->t.kind == T_IDENT || p->t.kind == T_STRING) {
		p->results.n = 0;
		return parse_call(p);
	}
	return gir_expected_here(p, "a statement (%x = Op(...), %x = const ..., or doc %x \"...\")");
}

/* ---------------------------------------------------------------- graph */

/* Skips the rest of the line after an error. */
static void recover(parser *p)
{
	while (p->t.kind != T_EOF && p->t.line == p->prev_line)
		gir_advance(p);
}

/* Statements up to and past the closing '}'. */
static bool parse_body(parser *p, const tok *open, const char *what)
{
	while (p->t.kind != T_RBRACE) {
		size_t at = p->t.start;
		if (p->t.kind == T_EOF)
			return gir_fail_at(p, p->t.line, p->t.col,
				       "unexpected end of input: the %s body opened at %d:%d has no '}'",
				       what, open->line, open->col);
		if (p->nerr >= MAX_ERRORS)
			return gir_fail_at(p, p->t.line, p->t.col, "too many errors; stopping");
		if (!parse_stmt(p)) {
			if (p->t.start == at)
				gir_advance(p);
			recover(p);
		} else if (p->t.line == p->prev_line && p->t.kind != T_RBRACE && p->t.kind != T_EOF) {
			gir_expected(p, "the end of the line after the statement");
			recover(p);
		}
	}
	gir_advance(p);
	return true;
}

static bool parse_input(parser *p)
{
	tok t = p->t;
	uint64_t key;
	ir_str name;
	ir_type ty;
	ir_tid init = 0;
	if (t.kind != T_VAL && t.kind != T_VALNUM)
		return gir_expected(p, "an input, as %x: f32[1,3]");
	if (!val_key(p, &t, &key, &name))
		return false;
	gir_advance(p);
	if (!gir_expect(p, T_COLON, "':' and a type after the input name") || !gir_parse_type(p, &ty))
		return false;
	if (gir_accept(p, T_EQ) && !gir_parse_tensor(p, name, &ty, &init))
		return false;
	ir_val v = ir_input_new(p->g, name, ty, init);
	return v ? define(p, key, v, t.line, t.col) : (p->oom = true, false);
}

static bool parse_outputs(parser *p)
{
	if (!gir_expect(p, T_ARROW, "'->' and the outputs after the inputs") ||
	    !gir_expect(p, T_LPAREN, "'(' before the outputs"))
		return false;
	while (p->t.kind != T_RPAREN) {
		tok t = p->t;
		uint64_t key = 0; /* _ */
		ir_str name;
		if (t.kind == T_VAL || t.kind == T_VALNUM) {
			if (!val_key(p, &t, &key, &name))
				return false;
		} else if (!gir_is_word(p, "_")) {
			return gir_expected(p, "an output (%x or _)");
		}
		gir_advance(p);
		if (!add_fixup(p, &p->outs, (fixup){key, 0, (uint32_t)p->outs.n, 0, t.line, t.col}))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	return gir_expect(p, T_RPAREN, "',' or ')' after an output");
}

static bool parse_signature(parser *p)
{
	ir_meta *m = ir_graph_meta(p->g);
	gir_advance(p);
	if (p->t.kind == T_AT) {
		m->graph_name = gir_tok_intern(p, &p->t);
		gir_advance(p);
	}
	if (!gir_expect(p, T_LPAREN, "'(' and the inputs after the graph name"))
		return false;
	while (p->t.kind != T_RPAREN) {
		if (!parse_input(p))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (!gir_expect(p, T_RPAREN, "',' or ')' after an input") || !parse_outputs(p))
		return false;
	return gir_accept_doc(p, &m->graph_doc);
}

/* After an error in the signature: on to the '{' that ends a line. */
static void skip_to_body(parser *p)
{
	while (p->t.kind != T_EOF) {
		if (p->t.kind == T_LBRACE) {
			tok nx = gir_peek(p);
			if (nx.kind == T_EOF || nx.line > p->t.line)
				return;
		}
		gir_advance(p);
	}
}

static bool parse_graph(parser *p)
{
	if (!gir_is_word(p, "graph"))
		return gir_expected_here(p, "'graph'");
	if (!parse_signature(p))
		skip_to_body(p);
	tok open = p->t;
	if (!gir_expect(p, T_LBRACE, "'{' to open the graph body") || !parse_body(p, &open, "graph"))
		return false;
	return p->t.kind == T_EOF || gir_expected_here(p, "the end of input after the graph's '}'");
}

/* ---------------------------------------------------------------- header */

static bool parse_opsets(parser *p)
{
	gir_advance(p);
	if (!gir_expect(p, T_LBRACE, "'{' after opset"))
		return false;
	while (p->t.kind != T_RBRACE) {
		tok t = p->t;
		int64_t version;
		p->names.n = 0;
		if (!gir_expect(p, T_STRING, "a quoted domain, as \"\" or \"com.microsoft\""))
			return false;
		long dom = gir_tok_cstr(p, &t, "a domain");
		if (dom < 0 || !gir_expect(p, T_EQ, "'=' after the domain") ||
		    !gir_parse_int(p, &version, "the opset version"))
			return false;
		const char *d = (const char *)p->names.v + dom;
		if (ir_graph_opset(p->g, d) >= 0)
			return gir_fail_at(p, t.line, t.col, "opset for domain \"%s\" given twice", d);
		ir_graph_add_opset(p->g, d, version);
		if (!gir_accept(p, T_COMMA))
			break;
	}
	return gir_expect(p, T_RBRACE, "',' or '}' in the opsets");
}

enum { F_IR_VERSION, F_PRODUCER, F_PRODUCER_VERSION, F_DOMAIN, F_MODEL_VERSION, F_DOC, F_OPSET };

static const char *const model_fields[] = {
	"ir_version", "producer", "producer_version", "domain", "model_version", "doc", "opset", NULL,
};

static bool parse_model_field(parser *p, int field)
{
	ir_meta *m = ir_graph_meta(p->g);
	if (field == F_OPSET)
		return parse_opsets(p);
	gir_advance(p);
	if (!gir_expect(p, T_EQ, "'=' after the field name"))
		return false;
	if (field == F_IR_VERSION)
		return gir_parse_int(p, &m->ir_version, "the IR version");
	if (field == F_MODEL_VERSION)
		return gir_parse_int(p, &m->model_version, "the model version");
	tok t = p->t;
	if (!gir_expect(p, T_STRING, "a quoted string"))
		return false;
	ir_str s = gir_tok_intern(p, &t);
	if (field == F_PRODUCER)
		m->producer_name = s;
	else if (field == F_PRODUCER_VERSION)
		m->producer_version = s;
	else if (field == F_DOMAIN)
		m->domain = s;
	else
		m->doc = s;
	return true;
}

static bool parse_model(parser *p)
{
	unsigned seen = 0;
	gir_advance(p);
	while (p->t.kind == T_IDENT) {
		int nx = gir_peek(p).kind;
		if (nx != T_EQ && nx != T_LBRACE)
			break;
		tok t = p->t;
		int f = 0;
		while (model_fields[f] && !gir_is_word(p, model_fields[f]))
			f++;
		if (!model_fields[f])
			return gir_fail_at(p, t.line, t.col, "unknown model field '%.*s' (fields: ir_version, "
				       "producer, producer_version, domain, model_version, opset, doc)",
				       (int)t.len, p->text + t.off);
		if (seen & 1u << f)
			return gir_fail_at(p, t.line, t.col, "model field '%s' given twice", model_fields[f]);
		seen |= 1u << f;
		if (!parse_model_field(p, f))
			return false;
	}
	return true;
}

static bool parse_prop(parser *p)
{
	gir_advance(p);
	tok k = p->t, v;
	if (!gir_expect(p, T_STRING, "the property's quoted key"))
		return false;
	if (!gir_expect(p, T_EQ, "'=' after the key"))
		return false;
	v = p->t;
	if (!gir_expect(p, T_STRING, "the property's quoted value"))
		return false;
	ir_graph_add_prop(p->g, gir_tok_intern(p, &k), gir_tok_intern(p, &v));
	return true;
}

static bool parse_extra(parser *p)
{
	gir_advance(p);
	tok b;
	int kind = 0;
	while (kind < IR_EXTRA_KINDS && !gir_is_word(p, ir_text_extra_kinds[kind]))
		kind++;
	if (kind == IR_EXTRA_KINDS)
		return gir_expected(p, "an extra's kind (sparse_initializer, quantization_annotation or "
				   "training_info)");
	gir_advance(p);
	b = p->t;
	if (!gir_expect(p, T_BLOB, "the extra's bytes, as x\"0a02...\""))
		return false;
	ir_graph_add_extra(p->g, (ir_extra_kind)kind, gir_tok_blob(p, &b));
	return true;
}

static bool parse_version(parser *p)
{
	if (p->t.kind == T_EOF)
		return gir_fail_at(p, 1, 1, "empty input: a .gir file starts with 'graft 1'");
	if (!gir_is_word(p, "graft"))
		return gir_expected_here(p, "'graft 1' at the start of a .gir file");
	gir_advance(p);
	tok v = p->t;
	int64_t version;
	if (!gir_parse_int(p, &version, "the format version after 'graft'"))
		return false;
	if (version != 1)
		return gir_fail_at(p, v.line, v.col, "unsupported .gir version %lld (this graft reads version 1)",
			       (long long)version);
	if (!gir_is_word(p, "data"))
		return true;
	gir_advance(p);
	if (!gir_expect(p, T_EQ, "'=' after data"))
		return false;
	p->side_name = p->t;
	return gir_expect(p, T_STRING, "the side file's quoted name");
}

/* ---------------------------------------------------------------- functions */

/* %x [: type]: a formal input of the function whose body is p->g. */
static bool parse_formal(parser *p)
{
	tok t = p->t;
	uint64_t key;
	ir_str name;
	ir_type ty = ir_type_unknown();
	if (t.kind != T_VAL && t.kind != T_VALNUM)
		return gir_expected(p, "a formal input, as %x");
	if (!val_key(p, &t, &key, &name))
		return false;
	gir_advance(p);
	if (gir_accept(p, T_COLON) && !gir_parse_type(p, &ty))
		return false;
	ir_val v = ir_input_new(p->g, name, ty, 0);
	return v ? define(p, key, v, t.line, t.col) : (p->oom = true, false);
}

/* (formals) -> (outputs) [attrs{...}] [opset{...}] [doc "..."] */
static bool parse_func_signature(parser *p, ir_str *doc)
{
	if (!gir_expect(p, T_LPAREN, "'(' and the formal inputs after the function name"))
		return false;
	while (p->t.kind != T_RPAREN) {
		if (!parse_formal(p))
			return false;
		if (!gir_accept(p, T_COMMA))
			break;
	}
	if (!gir_expect(p, T_RPAREN, "',' or ')' after a formal input") || !parse_outputs(p))
		return false;
	if (gir_is_word(p, "attrs") && !gir_parse_func_attrs(p))
		return false;
	if (gir_is_word(p, "opset") && !parse_opsets(p))
		return false;
	return gir_accept_doc(p, doc);
}

/* The function after its name, parsed by a parser of its own (its names
 * are its own) that continues where p stands and hands the position back. */
static void parse_func_with(parser *p, parser *s, ir_fid f)
{
	size_t before = p->nerr;
	ir_str doc = 0;
	*s = (parser){.text = p->text, .n = p->n, .file = p->file, .d = p->d, .g = ir_func_at(p->g, f)->body,
		      .side = p->side, .side_n = p->side_n, .side_name = p->side_name, .lx = p->lx, .t = p->t,
		      .prev_line = p->prev_line, .prev_end = p->prev_end, .nerr = p->nerr, .in_func = true};
	if (!parse_func_signature(s, &doc))
		skip_to_body(s);
	tok open = s->t;
	if (gir_expect(s, T_LBRACE, "'{' to open the function body"))
		parse_body(s, &open, "function");
	if (s->nerr == before)
		resolve_all(s);
	if (s->nerr == before && !s->oom && !ir_toposort(s->g, s->d, s->file)) {
		s->nerr++;
		note_cycle(s);
	}
	size_t n;
	const char *text = ir_str_get(s->g, doc, &n);
	ir_func_at(p->g, f)->doc = doc ? ir_intern(p->g, text, n) : 0;
	p->lx = s->lx;
	p->t = s->t;
	p->prev_line = s->prev_line;
	p->prev_end = s->prev_end;
	p->nerr = s->nerr;
	p->oom |= s->oom;
}

/* func [domain::]name(...) -> (...) ... { body } */
static bool parse_func(parser *p)
{
	tok at = p->t;
	long dom, op;
	gir_advance(p);
	if (!parse_opref(p, &dom, &op))
		return false;
	const char *names = p->names.v;
	const char *domain = dom >= 0 ? names + dom : "";
	ir_fid f = ir_func_new(p->g, domain, names + op);
	if (!f && (p->oom || ir_graph_oom(p->g)))
		return false;
	if (!f)
		return gir_fail_at(p, at.line, at.col, "function %s%s%s defined twice", domain, *domain ? "::" : "",
			       names + op);
	parser *s = calloc(1, sizeof *s);
	if (!s)
		return p->oom = true, false;
	parse_func_with(p, s, f);
	free_parser(s);
	return p->t.kind == T_EOF || p->t.line != p->prev_line ||
	       gir_expected_here(p, "a new line after the function's '}'");
}

static void parse_file(parser *p)
{
	if (!parse_version(p))
		recover(p);
	for (;;) {
		bool ok;
		if (gir_is_word(p, "model"))
			ok = parse_model(p);
		else if (gir_is_word(p, "prop"))
			ok = parse_prop(p);
		else if (gir_is_word(p, "extra"))
			ok = parse_extra(p);
		else if (gir_is_word(p, "func"))
			ok = parse_func(p);
		else
			break;
		if (!ok)
			recover(p);
	}
	parse_graph(p);
}

/* ---------------------------------------------------------------- resolution */

static ir_val resolve(parser *p, const fixup *f)
{
	char buf[96];
	ir_val v = lookup(p, f->key);
	if (!v)
		gir_fail_at(p, f->line, f->col, "undefined value %s", key_name(p, f->key, buf, sizeof buf));
	return v;
}

static void resolve_all(parser *p)
{
	const fixup *f = p->fixups.v;
	for (size_t i = 0; i < p->fixups.n; i++) {
		ir_val v = resolve(p, &f[i]);
		if (v && f[i].node)
			ir_node_set_input(p->g, f[i].node, f[i].index, v);
	}
	f = p->outs.v;
	for (size_t i = 0; i < p->outs.n; i++)
		ir_graph_add_output(p->g, f[i].key ? resolve(p, &f[i]) : 0);
	f = p->docs.v;
	for (size_t i = 0; i < p->docs.n; i++) {
		ir_val v = resolve(p, &f[i]);
		if (v)
			ir_value_at(p->g, v)->doc = f[i].doc;
	}
}

static ir_nid producer(const ir_graph *g, ir_val v)
{
	const ir_value *x = ir_value_at(g, v);
	return x && x->def_kind == IR_DEF_NODE ? x->node : 0;
}

/* Kahn's algorithm: pending[n] ends > 0 for the nodes on or after a cycle. */
static void count_pending(const ir_graph *g, uint32_t *pending, uint32_t *queue)
{
	size_t head = 0, tail = 0;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		for (uint32_t i = 0; i < ir_node_at(g, n)->nin; i++)
			pending[n] += producer(g, ir_node_input(g, n, i)) != 0;
		if (!pending[n])
			queue[tail++] = n;
	}
	while (head < tail) {
		ir_nid n = queue[head++];
		for (uint32_t i = 0; i < ir_node_at(g, n)->nout; i++)
			for (uint32_t u = ir_first_use(g, ir_node_output(g, n, i)); u; u = ir_next_use(g, u))
				if (--pending[ir_use_at(g, u)->node] == 0)
					queue[tail++] = ir_use_at(g, u)->node;
	}
}

/* After ir_toposort found a cycle: a note pointing at a node on it.
 * Following pending producers from a pending node must end in a cycle. */
static void note_cycle(parser *p)
{
	const ir_graph *g = p->g;
	size_t nn = ir_nnodes_total(g) + 1;
	uint32_t *pending = calloc(nn, sizeof *pending), *seen = calloc(nn, sizeof *seen);
	ir_nid n = 0;
	if (pending && seen) {
		count_pending(g, pending, seen);
		memset(seen, 0, nn * sizeof *seen);
		for (n = ir_graph_first(g); n && !pending[n]; n = ir_node_at(g, n)->next)
			;
		while (n && !seen[n]) {
			ir_nid next = 0;
			seen[n] = 1;
			for (uint32_t i = 0; !next && i < ir_node_at(g, n)->nin; i++) {
				ir_nid m = producer(g, ir_node_input(g, n, i));
				next = m && pending[m] ? m : 0;
			}
			n = next;
		}
	}
	int line, col;
	ir_node_loc(g, n, &line, &col);
	if (n && line)
		ir_diag_add(p->d, IR_NOTE, p->file, line, col, "the cycle goes through this node");
	free(pending);
	free(seen);
}

static void free_parser(parser *p)
{
	vec *all[] = {&p->by_str, &p->by_num, &p->fixups, &p->docs, &p->outs,
		      &p->str,    &p->bytes,  &p->i64s,    &p->f32s,   &p->u32s, &p->dims,
		      &p->tdims,  &p->ins,    &p->results, &p->names};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		free(all[i]->v);
	free(p->big);
	free(p);
}

ir_graph *ir_parse(const char *text, size_t n, const char *file, const void *side, size_t side_n,
		   ir_diags *d)
{
	parser *p = calloc(1, sizeof *p);
	ir_graph *g = ir_graph_new();
	if (!p || !g) {
		ir_error(d, file, 0, 0, "out of memory");
		free(p);
		ir_graph_free(g);
		return NULL;
	}
	*p = (parser){.text = text, .n = n, .file = file, .d = d, .g = g, .side = side, .side_n = side_n};
	gir_start(p);
	parse_file(p);
	if (!p->nerr) /* after a syntax error, undefined names are mostly its echoes */
		resolve_all(p);
	if (p->oom || ir_graph_oom(g))
		gir_fail_at(p, 0, 0, "out of memory");
	if (!p->nerr && !ir_toposort(g, d, file)) {
		p->nerr++;
		note_cycle(p);
	}
	bool ok = p->nerr == 0;
	free_parser(p);
	if (!ok) {
		ir_graph_free(g);
		return NULL;
	}
	return g;
}
