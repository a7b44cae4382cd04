/* Private to the .gir text form (text_*.c): the helpers the printer and
 * the parser share, and the parser's state, split over text_lex.c (tokens),
 * text_value.c (types, tensors, attributes) and text_parse.c (the graph). */
#ifndef GRAFT_TEXT_INTERNAL_H
#define GRAFT_TEXT_INTERNAL_H

#include "ir.h"

/* ---------------------------------------------------------------- text_num.c
 * Names and numbers, shared by the printer and the parser. */
extern const char *const ir_text_attr_kinds[IR_ATTR_TYPE_PROTOS + 1];
extern const char *const ir_text_extra_kinds[IR_EXTRA_KINDS];
/* [A-Za-z_][A-Za-z0-9_.]*: printed bare as op, attribute and dim names. */
bool ir_text_is_ident(const char *s, size_t n);
/* Characters of bare %value / @node names: [A-Za-z0-9_.:/-]. */
bool ir_text_is_name_char(int c);
/* How many bytes of s a bare name takes: name characters, where a ':'
 * counts only next to another ':' or before a digit ("input:0",
 * "onnx::Mul_1"), and not at the end; so "%x: f32" and "%x:f32" both end
 * the name at x. */
size_t ir_text_name_len(const char *s, size_t n);
/* A name printed bare after % or @ (else quoted). */
bool ir_text_is_name(const char *s, size_t n);
/* 64-bit FNV-1a: the hash of elided constants. */
uint64_t ir_text_hash64(const void *p, size_t n);

/* Binary floating-point formats of tensor elements, as raw bits. */
typedef enum { IR_REAL_F16, IR_REAL_BF16, IR_REAL_F32, IR_REAL_F64 } ir_realfmt;
bool ir_real_fmt_of(ir_dtype t, ir_realfmt *f);
unsigned ir_real_width(ir_realfmt f); /* bits */
/* Decimal text (NUL-terminated, as strtod accepts) -> nearest value's bits. */
uint64_t ir_real_parse(const char *s, ir_realfmt f);
/* Bits of +-inf, or of the default quiet NaN with the given sign. */
uint64_t ir_real_special(ir_realfmt f, bool nan, bool neg);
double ir_real_value(uint64_t bits, ir_realfmt f);
uint64_t ir_real_from_double(double x, ir_realfmt f);

/* ---------------------------------------------------------------- the parser's state */

enum {
	T_EOF, T_ERROR, T_IDENT, T_NUM, T_STRING, T_BLOB, T_VAL, T_VALNUM, T_AT,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE, T_COMMA, T_EQ,
	T_COLON, T_DCOLON, T_ARROW, T_QUESTION, T_STAR, T_MINUS
};

typedef struct tok {
	int kind;
	bool quoted;       /* T_VAL / T_AT written as a string */
	bool is_float;     /* T_NUM with a '.' or an exponent */
	size_t start, end; /* the token's bytes */
	size_t off, len;   /* payload: name, string body (escapes kept), hex digits, number */
	int line, col;
} tok;

typedef struct lexer {
	size_t pos, line_start;
	int line;
} lexer;

typedef struct vec {
	void *v;
	size_t n, cap;
} vec;

typedef struct sym {
	uint64_t key; /* the name's ir_str, or NUMBERED | N for %N; 0: empty slot */
	ir_val v;     /* 0 until defined */
	int line, col;
} sym;


typedef struct parser {
	const char *text;
	size_t n;
	const char *file;
	ir_diags *d;
	ir_graph *g;
	const unsigned char *side;
	size_t side_n;
	tok side_name; /* the header's data="..." (kind T_EOF when absent) */
	lexer lx;
	tok t;
	int prev_line, prev_end; /* line and end column of the last consumed token */
	size_t nerr;
	bool oom;
	vec by_str, by_num; /* sym, indexed by the name's ir_str / by N of %N */
	sym *big; /* %N with N beyond by_num's range: open addressing on key */
	size_t nbig, bigcap;
	vec fixups, docs, outs; /* fixup (text_parse.c) */
	bool in_func;           /* parsing a function body: p->g is the body */
	/* scratch: decoded strings, tensor bytes, list elements, dims of
	 * types and tensors, operands, results, NUL-terminated names */
	vec str, bytes, i64s, f32s, u32s, dims, tdims, ins, results, names;
} parser;

/* ---------------------------------------------------------------- text_lex.c
 * Diagnostics, scratch vectors, tokens and their payloads.  The parse_*
 * and expect functions report an error and return false on bad input;
 * gir_expected says "expected <what>, found <token>". */
bool gir_fail_at(parser *p, int line, int col, const char *fmt, ...) IR_PRINTF(4, 5);
bool gir_expected(parser *p, const char *what);
/* The same, always at the current token: for what starts a new line. */
bool gir_expected_here(parser *p, const char *what);
void *gir_grow(parser *p, vec *v, size_t elt, size_t more);
bool gir_push_bytes(parser *p, vec *v, const void *s, size_t n);
void gir_start(parser *p);
void gir_advance(parser *p);
tok gir_peek(parser *p);
bool gir_is_word(const parser *p, const char *w);
bool gir_accept(parser *p, int kind);
bool gir_expect(parser *p, int kind, const char *what);
bool gir_tok_bytes(parser *p, const tok *t, const char **s, size_t *n);
ir_str gir_tok_intern(parser *p, const tok *t);
long gir_tok_cstr(parser *p, const tok *t, const char *what);
bool gir_decode_hex(parser *p, const tok *t, vec *out);
ir_bid gir_tok_blob(parser *p, const tok *t);
bool gir_parse_int(parser *p, int64_t *out, const char *what);
bool gir_parse_u64(parser *p, uint64_t *out, const char *what);
bool gir_at_real(const parser *p);
bool gir_parse_real(parser *p, ir_realfmt f, uint64_t *bits);

/* ---------------------------------------------------------------- text_value.c */
bool gir_parse_type(parser *p, ir_type *ty);
bool gir_accept_doc(parser *p, ir_str *doc);
bool gir_parse_tensor(parser *p, ir_str dflt_name, const ir_type *decl, ir_tid *out);
bool gir_parse_attrs(parser *p, ir_nid n);
/* attrs{name, name=default, ...}: the attributes the function whose body
 * is p->g declares. */
bool gir_parse_func_attrs(parser *p);

#endif
