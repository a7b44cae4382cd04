/* The .gir lexer and the parser's token-level helpers: diagnostics with
 * line:col, scratch vectors, tokens with one-token lookahead, and the
 * payloads of strings, blobs and numbers. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* ---------------------------------------------------------------- errors */

bool gir_fail_at(parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(p->d, IR_ERROR, p->file, line, col, fmt, ap);
	va_end(ap);
	p->nerr++;
	return false;
}

/* Describes the current token for "found ..." in messages. */
static const char *found(const parser *p, char *buf, size_t cap)
{
	if (p->t.kind == T_EOF)
		return "end of input";
	size_t n = p->t.end - p->t.start;
	if (n > 24)
		snprintf(buf, cap, "'%.24s...'", p->text + p->t.start);
	else
		snprintf(buf, cap, "'%.*s'", (int)n, p->text + p->t.start);
	return buf;
}

/* "expected <what>, found ...": at the current token, or just after the
 * previous one when the current token is on a later line. */
bool gir_expected(parser *p, const char *what)
{
	char buf[48];
	if (p->t.kind == T_ERROR) /* the lexer has said what is wrong */
		return false;
	if (p->prev_line && p->t.line > p->prev_line)
		return gir_fail_at(p, p->prev_line, p->prev_end, "expected %s, found %s", what,
			       found(p, buf, sizeof buf));
	return gir_expected_here(p, what);
}

bool gir_expected_here(parser *p, const char *what)
{
	char buf[48];
	if (p->t.kind == T_ERROR)
		return false;
	return gir_fail_at(p, p->t.line, p->t.col, "expected %s, found %s", what, found(p, buf, sizeof buf));
}

/* ---------------------------------------------------------------- scratch vectors */

void *gir_grow(parser *p, vec *v, size_t elt, size_t more)
{
	if (v->n + more > v->cap || !v->v) {
		size_t cap = v->cap ? v->cap : 64;
		while (cap < v->n + more)
			cap *= 2;
		void *q = realloc(v->v, cap * elt);
		if (!q) {
			p->oom = true;
			return NULL;
		}
		v->v = q;
		v->cap = cap;
	}
	void *at = (char *)v->v + v->n * elt;
	v->n += more;
	return at;
}

bool gir_push_bytes(parser *p, vec *v, const void *s, size_t n)
{
	void *at = gir_grow(p, v, 1, n);
	if (at && n)
		memcpy(at, s, n);
	return at != NULL;
}

/* ---------------------------------------------------------------- lexer */

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int col_of(const lexer *lx, size_t pos)
{
	return (int)(pos - lx->line_start) + 1;
}

static void skip_space(const parser *p, lexer *lx)
{
	while (lx->pos < p->n) {
		char c = p->text[lx->pos];
		if (c == '\n') {
			lx->line++;
			lx->line_start = ++lx->pos;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx->pos++;
		} else if (c == '/' && lx->pos + 1 < p->n && p->text[lx->pos + 1] == '/') {
			while (lx->pos < p->n && p->text[lx->pos] != '\n')
				lx->pos++;
		} else {
			return;
		}
	}
}

static int lex_error(parser *p, bool report, int line, int col, const char *msg, int c)
{
	if (report) {
		if (c >= 0x21 && c < 0x7f)
			gir_fail_at(p, line, col, "%s '%c'", msg, c);
		else if (c >= 0)
			gir_fail_at(p, line, col, "%s (byte 0x%02x)", msg, (unsigned)c);
		else
			gir_fail_at(p, line, col, "%s", msg);
	}
	return T_ERROR;
}

/* A string body after its opening quote; escapes are checked here and
 * decoded by gir_tok_bytes. */
static int lex_string(parser *p, lexer *lx, tok *t, bool report)
{
	int kind = T_STRING;
	t->off = ++lx->pos;
	for (;;) {
		if (lx->pos >= p->n || p->text[lx->pos] == '\n')
			return lex_error(p, report, t->line, t->col, "unterminated string", -1);
		char c = p->text[lx->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			char e = lx->pos + 1 < p->n ? p->text[lx->pos + 1] : 0;
			if (e == 'x' && lx->pos + 3 < p->n && hexval(p->text[lx->pos + 2]) >= 0 &&
			    hexval(p->text[lx->pos + 3]) >= 0) {
				lx->pos += 4;
				continue;
			}
			if (!strchr("nrt\"\\", e) || !e)
				kind = lex_error(p, report, lx->line, col_of(lx, lx->pos),
						 e == 'x' ? "bad escape: \\x needs two hex digits"
							  : "unknown escape in string",
						 e == 'x' ? -1 : (unsigned char)e);
			lx->pos += 2;
			continue;
		}
		lx->pos++;
	}
	t->len = lx->pos++ - t->off;
	return kind;
}

/* x"0a1b..." after the x. */
static int lex_blob(parser *p, lexer *lx, tok *t, bool report)
{
	int kind = T_BLOB;
	t->off = ++lx->pos;
	for (; lx->pos < p->n && p->text[lx->pos] != '"'; lx->pos++) {
		char c = p->text[lx->pos];
		if (c == '\n')
			break;
		if (hexval(c) < 0 && kind == T_BLOB)
			kind = lex_error(p, report, lx->line, col_of(lx, lx->pos), "bad hex digit in blob",
					 (unsigned char)c);
	}
	if (lx->pos >= p->n || p->text[lx->pos] != '"')
		return lex_error(p, report, t->line, t->col, "unterminated blob", -1);
	t->len = lx->pos++ - t->off;
	if (kind == T_BLOB && t->len % 2)
		kind = lex_error(p, report, t->line, t->col, "odd number of hex digits in blob", -1);
	return kind;
}

/* A sign after this character belongs to an exponent: 1e-5, 0x1p-3. */
static bool after_exponent(char prev, bool hex)
{
	return hex ? prev == 'p' || prev == 'P' : prev == 'e' || prev == 'E';
}

/* Numbers are read like C's preprocessing numbers and checked by the parser. */
static int lex_number(parser *p, lexer *lx, tok *t)
{
	const char *s = p->text;
	bool hex = false;
	t->off = lx->pos;
	if (s[lx->pos] == '-')
		lx->pos++;
	hex = lx->pos + 1 < p->n && s[lx->pos] == '0' && (s[lx->pos + 1] == 'x' || s[lx->pos + 1] == 'X');
	while (lx->pos < p->n) {
		char c = s[lx->pos];
		if ((c == '+' || c == '-') && lx->pos > t->off && after_exponent(s[lx->pos - 1], hex))
			lx->pos++;
		else if (is_alpha(c) || is_digit(c) || c == '.')
			lx->pos++;
		else
			break;
	}
	t->len = lx->pos - t->off;
	const char *mark = hex ? "pP." : "eE.";
	t->is_float = false;
	for (int i = 0; i < 3; i++)
		t->is_float = t->is_float || memchr(s + t->off, mark[i], t->len);
	return T_NUM;
}

/* %name, %"name", %123, @name, @"name" after the sigil. */
static int lex_sigil(parser *p, lexer *lx, tok *t, bool report)
{
	char sigil = p->text[lx->pos++];
	const char *s = p->text;
	if (lx->pos < p->n && s[lx->pos] == '"') {
		t->quoted = true;
		int k = lex_string(p, lx, t, report);
		return k == T_ERROR ? k : sigil == '%' ? T_VAL : T_AT;
	}
	t->off = lx->pos;
	bool numeric = lx->pos < p->n && is_digit(s[lx->pos]);
	if (numeric)
		while (lx->pos < p->n && is_digit(s[lx->pos]))
			lx->pos++;
	else
		lx->pos += ir_text_name_len(s + lx->pos, p->n - lx->pos);
	t->len = lx->pos - t->off;
	if (numeric && (lx->pos < p->n && ir_text_is_name_char(s[lx->pos]) && s[lx->pos] != ':')) {
		while (lx->pos < p->n && ir_text_is_name_char(s[lx->pos]))
			lx->pos++;
		return lex_error(p, report, t->line, t->col,
				 "a name that starts with a digit must be quoted, as %\"1a\"", -1);
	}
	if (t->len == 0)
		return lex_error(p, report, t->line, t->col,
				 sigil == '%' ? "expected a name after '%'" : "expected a name after '@'", -1);
	if (numeric && sigil == '@')
		return lex_error(p, report, t->line, t->col,
				 "a name that starts with a digit must be quoted, as @\"1\"", -1);
	return numeric ? T_VALNUM : sigil == '%' ? T_VAL : T_AT;
}

static int lex_punct(parser *p, lexer *lx, bool report, const tok *t)
{
	const char *s = p->text;
	char c = s[lx->pos++];
	char next = lx->pos < p->n ? s[lx->pos] : 0;
	switch (c) {
	case '(': return T_LPAREN;
	case ')': return T_RPAREN;
	case '[': return T_LBRACK;
	case ']': return T_RBRACK;
	case '{': return T_LBRACE;
	case '}': return T_RBRACE;
	case ',': return T_COMMA;
	case '=': return T_EQ;
	case '?': return T_QUESTION;
	case '*': return T_STAR;
	case ':':
		if (next != ':')
			return T_COLON;
		lx->pos++;
		return T_DCOLON;
	case '-':
		if (next != '>')
			return T_MINUS;
		lx->pos++;
		return T_ARROW;
	}
	return lex_error(p, report, t->line, t->col, "unexpected character", (unsigned char)c);
}

static tok lex(parser *p, lexer *lx, bool report)
{
	skip_space(p, lx);
	tok t = {0};
	t.start = lx->pos;
	t.line = lx->line;
	t.col = col_of(lx, lx->pos);
	const char *s = p->text;
	if (lx->pos >= p->n) {
		t.kind = T_EOF;
	} else if (is_digit(s[lx->pos]) ||
		   (s[lx->pos] == '-' && lx->pos + 1 < p->n && is_digit(s[lx->pos + 1]))) {
		t.kind = lex_number(p, lx, &t);
	} else if (is_alpha(s[lx->pos])) {
		t.off = lx->pos;
		while (lx->pos < p->n && (is_alpha(s[lx->pos]) || is_digit(s[lx->pos]) || s[lx->pos] == '.'))
			lx->pos++;
		t.len = lx->pos - t.off;
		t.kind = T_IDENT;
		if (t.len == 1 && s[t.off] == 'x' && lx->pos < p->n && s[lx->pos] == '"')
			t.kind = lex_blob(p, lx, &t, report);
	} else if (s[lx->pos] == '"') {
		t.kind = lex_string(p, lx, &t, report);
	} else if (s[lx->pos] == '%' || s[lx->pos] == '@') {
		t.kind = lex_sigil(p, lx, &t, report);
	} else {
		t.kind = lex_punct(p, lx, report, &t);
	}
	t.end = lx->pos;
	return t;
}

void gir_advance(parser *p)
{
	p->prev_line = p->t.line;
	p->prev_end = p->t.col + (int)(p->t.end - p->t.start);
	p->t = lex(p, &p->lx, true);
}

/* Reads the first token. */
void gir_start(parser *p)
{
	p->lx.line = 1;
	p->t = lex(p, &p->lx, true);
}

tok gir_peek(parser *p)
{
	lexer copy = p->lx;
	return lex(p, &copy, false);
}

bool gir_is_word(const parser *p, const char *w)
{
	size_t n = strlen(w);
	return p->t.kind == T_IDENT && p->t.len == n && memcmp(p->text + p->t.off, w, n) == 0;
}

bool gir_accept(parser *p, int kind)
{
	if (p->t.kind != kind)
		return false;
	gir_advance(p);
	return true;
}

bool gir_expect(parser *p, int kind, const char *what)
{
	return gir_accept(p, kind) || gir_expected(p, what);
}

/* ---------------------------------------------------------------- token payloads */

/* The bytes a string-like token stands for (escapes decoded into p->str). */
bool gir_tok_bytes(parser *p, const tok *t, const char **s, size_t *n)
{
	const char *src = p->text + t->off;
	if (!memchr(src, '\\', t->len)) {
		*s = src;
		*n = t->len;
		return true;
	}
	p->str.n = 0;
	char *out = gir_grow(p, &p->str, 1, t->len);
	if (!out)
		return false;
	size_t k = 0;
	for (size_t i = 0; i < t->len; i++) {
		char c = src[i];
		if (c == '\\') {
			char e = src[++i];
			if (e == 'x') {
				c = (char)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
				i += 2;
			} else {
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			}
		}
		out[k++] = c;
	}
	*s = out;
	*n = p->str.n = k;
	return true;
}

ir_str gir_tok_intern(parser *p, const tok *t)
{
	const char *s;
	size_t n;
	if (!gir_tok_bytes(p, t, &s, &n))
		return 0;
	return ir_intern(p->g, s, n);
}

/* Copies the token's bytes, NUL-terminated, to the end of p->names;
 * returns the offset, or -1 (with an error) when they hold a NUL byte. */
long gir_tok_cstr(parser *p, const tok *t, const char *what)
{
	const char *s;
	size_t n;
	if (!gir_tok_bytes(p, t, &s, &n))
		return -1;
	if (memchr(s, '\0', n))
		return gir_fail_at(p, t->line, t->col, "%s cannot contain a NUL byte", what), -1;
	size_t off = p->names.n;
	if (!gir_push_bytes(p, &p->names, s, n) || !gir_push_bytes(p, &p->names, "", 1))
		return -1;
	return (long)off;
}

bool gir_decode_hex(parser *p, const tok *t, vec *out)
{
	out->n = 0;
	unsigned char *b = gir_grow(p, out, 1, t->len / 2);
	if (!b)
		return false;
	const char *s = p->text + t->off;
	for (size_t i = 0; i < t->len / 2; i++)
		b[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return true;
}

ir_bid gir_tok_blob(parser *p, const tok *t)
{
	if (!gir_decode_hex(p, t, &p->bytes))
		return 0;
	return ir_blob_add(p->g, p->bytes.v, p->bytes.n);
}

/* The number's text, NUL-terminated, in buf[64]. */
static bool num_text(parser *p, const tok *t, char *buf)
{
	if (t->len >= 64)
		return gir_fail_at(p, t->line, t->col, "bad number '%.20s...'", p->text + t->off);
	memcpy(buf, p->text + t->off, t->len);
	buf[t->len] = '\0';
	return true;
}

/* An integer token; what describes it for the "expected" message. */
bool gir_parse_int(parser *p, int64_t *out, const char *what)
{
	char buf[64], *end;
	tok t = p->t;
	if (t.kind != T_NUM || t.is_float)
		return gir_expected(p, what);
	if (!num_text(p, &t, buf))
		return false;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (*end)
		return gir_fail_at(p, t.line, t.col, "bad number '%s'", buf);
	if (errno == ERANGE)
		return gir_fail_at(p, t.line, t.col, "integer %s is out of range", buf);
	*out = v;
	gir_advance(p);
	return true;
}

bool gir_parse_u64(parser *p, uint64_t *out, const char *what)
{
	char buf[64], *end;
	tok t = p->t;
	if (t.kind != T_NUM || t.is_float)
		return gir_expected(p, what);
	if (!num_text(p, &t, buf))
		return false;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, buf[0] == '0' && buf[1] == 'x' ? 16 : 10);
	if (*end || buf[0] == '-')
		return gir_fail_at(p, t.line, t.col, "bad number '%s'", buf);
	if (errno == ERANGE)
		return gir_fail_at(p, t.line, t.col, "integer %s is out of range", buf);
	*out = v;
	gir_advance(p);
	return true;
}

bool gir_at_real(const parser *p)
{
	return p->t.kind == T_NUM || p->t.kind == T_MINUS || gir_is_word(p, "inf") || gir_is_word(p, "nan");
}

/* nan, -nan, nan(0xBITS), inf, -inf or a decimal number, as bits of f. */
bool gir_parse_real(parser *p, ir_realfmt f, uint64_t *bits)
{
	tok t = p->t;
	bool neg = gir_accept(p, T_MINUS);
	unsigned w = ir_real_width(f);
	if (gir_is_word(p, "inf") || gir_is_word(p, "nan")) {
		bool nan = gir_is_word(p, "nan");
		gir_advance(p);
		*bits = ir_real_special(f, nan, neg);
		if (!nan || neg || !gir_accept(p, T_LPAREN))
			return true;
		tok b = p->t;
		if (!gir_parse_u64(p, bits, "the NaN's bits, as nan(0x7fc00001)") ||
		    !gir_expect(p, T_RPAREN, "')' after the NaN's bits"))
			return false;
		if (w < 64 && *bits >> w)
			return gir_fail_at(p, b.line, b.col, "NaN bits wider than %u bits", w);
		return true;
	}
	char buf[64], *end;
	if (neg || t.kind != T_NUM)
		return gir_expected(p, "a number");
	if (!num_text(p, &t, buf))
		return false;
	strtod(buf, &end);
	if (*end)
		return gir_fail_at(p, t.line, t.col, "bad number '%s'", buf);
	*bits = ir_real_parse(buf, f);
	if ((*bits & ~(1ull << (w - 1))) == ir_real_special(f, false, false))
		return gir_fail_at(p, t.line, t.col, "number %s is too large for its type", buf);
	gir_advance(p);
	return true;
}
