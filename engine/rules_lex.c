/* The tokenizer of the rule language's line syntax (pattern, replace and
 * expression lines), and small text helpers of the rule compiler. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_internal.h"

eng_loc eng_text_loc(const eng_text *t, size_t i)
{
	if (i > t->n)
		i = t->n;
	return (eng_loc){t->file, t->line[i], t->col[i]};
}

void eng_lex_init(eng_lexer *lx, const eng_text *t, bool nl_blank, ir_diags *d)
{
	lx->t = t;
	lx->d = d;
	lx->nl_blank = nl_blank;
	lx->tok = (eng_tok){TK_NEWLINE, 0, 0, 0, 0, 0};
	eng_lex_next(lx);
}

bool eng_tok_is(const eng_tok *tk, int punct)
{
	return tk->kind == TK_PUNCT && tk->punct == punct;
}

static void lex_error(const eng_lexer *lx, bool report, size_t at, const char *msg)
{
	if (!report)
		return;
	eng_loc l = eng_text_loc(lx->t, at);
	ir_error(lx->d, l.file, l.line, l.col, "%s", msg);
}

static bool is_name_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Skips blanks and comments; stops at a newline (unless nl) or a token. */
static size_t skip_blanks(const char *s, size_t p, size_t n, bool nl)
{
	while (p < n) {
		if (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || (nl && s[p] == '\n'))
			p++;
		else if (s[p] == '#')
			while (p < n && s[p] != '\n')
				p++;
		else
			break;
	}
	return p;
}

/* Numbers: 12, 1.5, 1e-5, 2.5e3; "1..8" lexes as 1, .., 8. */
static void lex_number(const eng_lexer *lx, bool report, eng_tok *tk)
{
	const char *s = lx->t->s;
	size_t p = tk->pos;
	bool is_float = false;
	while (isdigit((unsigned char)s[p]))
		p++;
	if (s[p] == '.' && isdigit((unsigned char)s[p + 1])) {
		is_float = true;
		for (p++; isdigit((unsigned char)s[p]); p++)
			;
	}
	if ((s[p] == 'e' || s[p] == 'E') &&
	    (isdigit((unsigned char)s[p + 1]) ||
	     ((s[p + 1] == '-' || s[p + 1] == '+') && isdigit((unsigned char)s[p + 2])))) {
		is_float = true;
		for (p += 2; isdigit((unsigned char)s[p]); p++)
			;
	}
	tk->end = p;
	errno = 0;
	if (is_float) {
		tk->kind = TK_FLOAT;
		tk->f = strtod(s + tk->pos, NULL);
	} else {
		tk->kind = TK_INT;
		tk->i = strtoll(s + tk->pos, NULL, 10);
	}
	if (errno == ERANGE) {
		lex_error(lx, report, tk->pos, "number out of range");
		tk->kind = TK_ERROR;
	}
}

static void lex_string(const eng_lexer *lx, bool report, eng_tok *tk)
{
	const char *s = lx->t->s;
	char q = s[tk->pos];
	size_t p = tk->pos + 1;
	while (p < lx->t->n && s[p] != q && s[p] != '\n')
		p += s[p] == '\\' && p + 1 < lx->t->n && s[p + 1] != '\n' ? 2 : 1;
	if (p >= lx->t->n || s[p] != q) {
		lex_error(lx, report, tk->pos, "unterminated string");
		tk->kind = TK_ERROR;
		tk->end = p;
		return;
	}
	tk->kind = TK_STRING;
	tk->end = p + 1;
}

static const struct {
	const char *text;
	int code;
} long_puncts[] = {
	{"...", P_ELLIPSIS}, {"==", P_EQ}, {"!=", P_NE}, {"<=", P_LE}, {">=", P_GE}, {"&&", P_AND},
	{"||", P_OR}, {"::", P_DCOLON}, {"??", P_COALESCE}, {"..", P_DOTDOT},
};

static void lex_punct(const eng_lexer *lx, bool report, eng_tok *tk)
{
	const char *s = lx->t->s + tk->pos;
	tk->kind = TK_PUNCT;
	for (size_t i = 0; i < sizeof long_puncts / sizeof long_puncts[0]; i++) {
		size_t k = strlen(long_puncts[i].text);
		if (strncmp(s, long_puncts[i].text, k) == 0) {
			tk->punct = long_puncts[i].code;
			tk->end = tk->pos + k;
			return;
		}
	}
	tk->end = tk->pos + 1;
	if (strchr("()[]{},=<>+-*/%!?:.|@", *s)) {
		tk->punct = *s;
		return;
	}
	char msg[64];
	if (isprint((unsigned char)*s))
		snprintf(msg, sizeof msg, "unexpected character '%c'", *s);
	else
		snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned char)*s);
	lex_error(lx, report, tk->pos, msg);
	tk->kind = TK_ERROR;
}

static eng_tok lex_at(const eng_lexer *lx, size_t p, bool report)
{
	const eng_text *t = lx->t;
	eng_tok tk = {TK_EOF, 0, 0, 0, 0, 0};
	p = skip_blanks(t->s, p, t->n, lx->nl_blank);
	tk.pos = tk.end = p;
	if (p >= t->n)
		return tk;
	unsigned char c = (unsigned char)t->s[p];
	if (c == '\n') {
		tk.kind = TK_NEWLINE;
		tk.end = p + 1;
	} else if (is_name_start(c)) {
		while (is_name_char((unsigned char)t->s[++p]))
			;
		tk.kind = TK_NAME;
		tk.end = p;
	} else if (c == '$' && is_name_start((unsigned char)t->s[p + 1])) {
		for (p++; is_name_char((unsigned char)t->s[p]); p++)
			;
		tk.kind = TK_CAPTURE;
		tk.end = p;
	} else if (isdigit(c)) {
		lex_number(lx, report, &tk);
	} else if (c == '"' || c == '\'') {
		lex_string(lx, report, &tk);
	} else {
		lex_punct(lx, report, &tk);
	}
	return tk;
}

void eng_lex_next(eng_lexer *lx)
{
	if (lx->tok.kind == TK_EOF && lx->tok.pos >= lx->t->n)
		return;
	lx->tok = lex_at(lx, lx->tok.end, true);
}

eng_tok eng_lex_peek(const eng_lexer *lx)
{
	return lex_at(lx, lx->tok.end, false);
}

bool eng_lex_regex(eng_lexer *lx, size_t *start, size_t *end)
{
	const eng_text *t = lx->t;
	size_t p = lx->tok.end;
	*start = p;
	while (p < t->n && t->s[p] != '/' && t->s[p] != '\n')
		p += t->s[p] == '\\' && p + 1 < t->n && t->s[p + 1] != '\n' ? 2 : 1;
	if (p >= t->n || t->s[p] != '/') {
		lex_error(lx, true, lx->tok.pos, "unterminated regex: expected a closing '/'");
		lx->tok.kind = TK_ERROR;
		lx->tok.end = p;
		return false;
	}
	*end = p;
	lx->tok.end = p + 1;
	eng_lex_next(lx);
	return true;
}

static char escaped(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	default: return c;
	}
}

/* An escape the decoder consumes; other backslashes stay (regexes). */
static bool is_escape(char c, char quote)
{
	return c == '\\' || c == quote || c == 'n' || c == 't';
}

const char *eng_lex_string(eng_ruleset *rs, const eng_text *t, const eng_tok *tk, uint32_t *len)
{
	const char *s = t->s;
	char q = s[tk->pos];
	char *out = eng_alloc(rs, tk->end - tk->pos);
	if (!out)
		return NULL;
	size_t n = 0;
	for (size_t p = tk->pos + 1; p + 1 < tk->end; p++) {
		if (s[p] == '\\' && is_escape(s[p + 1], q))
			out[n++] = escaped(s[++p]);
		else
			out[n++] = s[p];
	}
	out[n] = 0;
	*len = (uint32_t)n;
	return out;
}

size_t eng_lex_string_src(const eng_text *t, const eng_tok *tk, size_t off)
{
	const char *s = t->s;
	char q = s[tk->pos];
	size_t p = tk->pos + 1;
	for (size_t k = 0; k < off && p + 1 < tk->end; k++)
		p += s[p] == '\\' && is_escape(s[p + 1], q) ? 2 : 1;
	return p;
}

void eng_tok_describe(const eng_text *t, const eng_tok *tk, char *buf, size_t n)
{
	int len = (int)(tk->end - tk->pos);
	const char *s = t->s + tk->pos;
	switch (tk->kind) {
	case TK_EOF: snprintf(buf, n, "end of text"); break;
	case TK_NEWLINE: snprintf(buf, n, "end of line"); break;
	case TK_NAME: snprintf(buf, n, "name '%.*s'", len, s); break;
	case TK_CAPTURE: snprintf(buf, n, "capture '%.*s'", len, s); break;
	case TK_INT:
	case TK_FLOAT: snprintf(buf, n, "number %.*s", len, s); break;
	case TK_STRING: snprintf(buf, n, "string %.*s", len > 40 ? 40 : len, s); break;
	default: snprintf(buf, n, "'%.*s'", len, s); break;
	}
}

static int lower(int c)
{
	return tolower((unsigned char)c);
}

/* Edit distance counting an insertion, a deletion, a substitution or a
 * swap of two neighbours as one edit (optimal string alignment); a change
 * of case costs nothing. */
size_t eng_edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t rows[3][64], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	if (an >= 64 || bn >= 64)
		return (size_t)-1;
	for (size_t j = 0; j <= bn; j++)
		prev[j] = j;
	for (size_t i = 1; i <= an; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= bn; j++) {
			size_t best = prev[j - 1] + (lower(a[i - 1]) != lower(b[j - 1]));
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			bool swap = i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
				    lower(a[i - 2]) == lower(b[j - 1]);
			if (swap && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[bn];
}

/* Close: at most a third of the name's letters wrong (one for names of
 * three or four letters, none but case for shorter ones), or the candidate
 * extends the name (a prefix). */
const char *eng_closest(const char *name, size_t n, const char *const *cands, size_t ncands)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < ncands; i++) {
		size_t k = strlen(cands[i]);
		size_t dist = eng_edit_distance(name, n, cands[i], k);
		if (n >= 3 && k > n && strncasecmp(cands[i], name, n) == 0 && dist > 1)
			dist = 1 + (k - n > 8);
		if (dist < best_d) {
			best_d = dist;
			best = cands[i];
		}
	}
	size_t limit = n < 3 ? 0 : n / 3 > 1 ? n / 3 : 1;
	return best && best_d <= limit ? best : NULL;
}
