/* The rule compiler: pattern lines -> pattern nodes and captures, name
 * resolution, the pattern's structural checks, and the orchestration of a
 * rule's compilation (pattern, where, replace). */
#include <stdarg.h>
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- diagnostics */

void eng_cc_error(eng_cc *cc, eng_loc at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(cc->d, IR_ERROR, at.file, at.line, at.col, fmt, ap);
	va_end(ap);
	cc->nerrors++;
}

void *eng_cc_oom(eng_cc *cc, eng_loc at)
{
	if (!cc->oom)
		eng_cc_error(cc, at, "out of memory");
	cc->oom = true;
	return NULL;
}

eng_loc eng_tok_loc(const eng_lexer *lx)
{
	return eng_text_loc(lx->t, lx->tok.pos);
}

bool eng_syntax_error(eng_cc *cc, const eng_lexer *lx, const char *what)
{
	char buf[96];
	if (lx->tok.kind == TK_ERROR)
		return false; /* the lexer reported it */
	eng_tok_describe(lx->t, &lx->tok, buf, sizeof buf);
	eng_cc_error(cc, eng_tok_loc(lx), "expected %s, got %s", what, buf);
	return false;
}

bool eng_expect(eng_cc *cc, eng_lexer *lx, int punct, const char *what)
{
	if (!eng_tok_is(&lx->tok, punct))
		return eng_syntax_error(cc, lx, what);
	eng_lex_next(lx);
	return true;
}

void eng_skip_line(eng_lexer *lx)
{
	while (lx->tok.kind != TK_NEWLINE && lx->tok.kind != TK_EOF)
		eng_lex_next(lx);
}

void eng_skip_newlines_before(eng_lexer *lx, int punct)
{
	eng_lexer probe = *lx;
	while (probe.tok.kind == TK_NEWLINE)
		probe.tok = eng_lex_peek(&probe);
	if (eng_tok_is(&probe.tok, punct))
		while (lx->tok.kind == TK_NEWLINE)
			eng_lex_next(lx);
}

static void skip_newlines(eng_lexer *lx)
{
	while (lx->tok.kind == TK_NEWLINE)
		eng_lex_next(lx);
}

/* ---------------------------------------------------------------- op classes */

static const struct {
	const char *name;
	unsigned bit;
} classes[] = {
	{"elementwise", IR_TRAIT_ELEMENTWISE}, {"unary", IR_TRAIT_UNARY},
	{"binary", IR_TRAIT_BINARY}, {"commutative", IR_TRAIT_COMMUTATIVE},
	{"associative", IR_TRAIT_ASSOCIATIVE}, {"shape_preserving", IR_TRAIT_SHAPE_PRESERVING},
	{"has_weights", IR_TRAIT_HAS_WEIGHTS}, {"cube", IR_TRAIT_CUBE},
	{"pool", IR_TRAIT_POOL}, {"reduction", IR_TRAIT_REDUCTION},
	{"layout", IR_TRAIT_LAYOUT}, {"shape_op", IR_TRAIT_SHAPE_OP},
};
#define NCLASSES (sizeof classes / sizeof classes[0])

const char *eng_class_name(unsigned bit)
{
	for (size_t i = 0; i < NCLASSES; i++)
		if (classes[i].bit == bit)
			return classes[i].name;
	return NULL;
}

/* ---------------------------------------------------------------- names */

int eng_pnode_by_name(const eng_rule *r, const char *name, size_t n, int *result)
{
	for (int i = 0; i < r->npnodes; i++)
		for (int k = 0; k < r->pnodes[i].nresults; k++) {
			const char *s = r->pnodes[i].result_names[k];
			if (strlen(s) == n && memcmp(s, name, n) == 0 && strcmp(s, "_") != 0) {
				*result = k;
				return i;
			}
		}
	return -1;
}

int eng_capture_by_name(const eng_rule *r, const char *name, size_t n)
{
	for (int i = 0; i < r->ncaptures; i++)
		if (strlen(r->captures[i].name) == n && memcmp(r->captures[i].name, name, n) == 0)
			return i;
	return -1;
}

int eng_pending_add(eng_cc *cc, const char *name, size_t len, int result, eng_loc at)
{
	eng_pending *v = eng_grow(cc->rs, cc->names, cc->nnames, &cc->ncap, sizeof *v);
	const char *s = eng_strdup(cc->rs, name, len);
	if (!v || !s) {
		eng_cc_oom(cc, at);
		return -1;
	}
	cc->names = v;
	v[cc->nnames] = (eng_pending){s, (uint32_t)len, result};
	return cc->nnames++;
}

/* The capture named by the current TK_CAPTURE token, created at its first
 * occurrence; -1 on error. */
static int capture_ref(eng_cc *cc, const eng_lexer *lx, bool is_list)
{
	const char *s = lx->t->s + lx->tok.pos + 1;
	size_t n = lx->tok.end - lx->tok.pos - 1;
	eng_loc at = eng_tok_loc(lx);
	int i = eng_capture_by_name(cc->r, s, n);
	eng_rule *r = cc->r;
	if (i >= 0) {
		if (r->captures[i].is_list != is_list)
			eng_cc_error(cc, at, "$%s is used both as a list capture ($%s...) and as a single value",
				     r->captures[i].name, r->captures[i].name);
		return i;
	}
	eng_capture *v = eng_grow(cc->rs, r->captures, r->ncaptures, &cc->ccap, sizeof *v);
	const char *name = eng_strdup(cc->rs, s, n);
	if (!v || !name)
		return eng_cc_oom(cc, at), -1;
	r->captures = v;
	v[r->ncaptures] = (eng_capture){name, is_list, at};
	return r->ncaptures++;
}

/* ---------------------------------------------------------------- pattern terms */

bool eng_at_term(const eng_lexer *lx)
{
	const eng_tok *tk = &lx->tok;
	if (eng_tok_is(tk, '/') || eng_tok_is(tk, '@') || eng_tok_is(tk, '*'))
		return true;
	if (tk->kind != TK_NAME)
		return false;
	eng_tok next = eng_lex_peek(lx);
	if (eng_tok_is(&next, '(') || eng_tok_is(&next, '|') || eng_tok_is(&next, '[') ||
	    eng_tok_is(&next, P_DCOLON))
		return true;
	if (!eng_tok_is(&next, '.'))
		return false;
	eng_lexer probe = *lx;
	probe.tok = next;
	next = eng_lex_peek(&probe);
	return next.kind == TK_NAME; /* a dotted domain: com.microsoft::Op */
}

bool eng_parse_domain(eng_cc *cc, eng_lexer *lx, const char **domain)
{
	*domain = NULL;
	eng_lexer probe = *lx;
	while (probe.tok.kind == TK_NAME) {
		eng_tok next = eng_lex_peek(&probe);
		if (eng_tok_is(&next, P_DCOLON))
			break;
		if (!eng_tok_is(&next, '.'))
			return true; /* no domain */
		probe.tok = next;
		probe.tok = eng_lex_peek(&probe);
	}
	if (probe.tok.kind != TK_NAME)
		return true;
	char buf[256];
	size_t n = 0;
	for (; !eng_tok_is(&lx->tok, P_DCOLON); eng_lex_next(lx)) {
		size_t k = lx->tok.end - lx->tok.pos;
		if (n + k >= sizeof buf)
			return eng_syntax_error(cc, lx, "a shorter domain name");
		memcpy(buf + n, lx->t->s + lx->tok.pos, k);
		n += k;
	}
	eng_lex_next(lx); /* :: */
	if (!(n == 7 && memcmp(buf, "ai.onnx", 7) == 0) && !(*domain = eng_strdup(cc->rs, buf, n)))
		return eng_cc_oom(cc, eng_tok_loc(lx)), false;
	return true;
}

static eng_pnode *pnode(eng_cc *cc, int i)
{
	return &cc->r->pnodes[i];
}

static int new_pnode(eng_cc *cc, eng_loc at)
{
	eng_rule *r = cc->r;
	eng_pnode *v = eng_grow(cc->rs, r->pnodes, r->npnodes, &cc->pcap, sizeof *v);
	char name[16];
	snprintf(name, sizeof name, "_%d", r->npnodes);
	const char *s = eng_strdup(cc->rs, name, strlen(name));
	const char **names = eng_alloc(cc->rs, sizeof *names);
	if (!v || !s || !names)
		return eng_cc_oom(cc, at), -1;
	r->pnodes = v;
	names[0] = s;
	v[r->npnodes] = (eng_pnode){.name = s, .loc = at, .min_repeat = 1, .max_repeat = 1, .nresults = 1,
				    .result_names = names};
	return r->npnodes++;
}

static bool parse_op_names(eng_cc *cc, eng_lexer *lx, int p)
{
	const char *domain, *names[32];
	int n = 0;
	if (!eng_parse_domain(cc, lx, &domain))
		return false;
	do {
		if (lx->tok.kind != TK_NAME)
			return eng_syntax_error(cc, lx, "an op name");
		if (n == 32)
			return eng_syntax_error(cc, lx, "'(' (at most 32 alternatives)");
		names[n] = eng_strdup(cc->rs, lx->t->s + lx->tok.pos, lx->tok.end - lx->tok.pos);
		if (!names[n])
			return eng_cc_oom(cc, eng_tok_loc(lx)), false;
		eng_check_op(cc, domain, names[n++], eng_tok_loc(lx));
		eng_lex_next(lx);
	} while (eng_tok_is(&lx->tok, '|') && (eng_lex_next(lx), true));
	const char **v = eng_alloc(cc->rs, (size_t)n * sizeof *v);
	if (!v)
		return eng_cc_oom(cc, eng_tok_loc(lx)), false;
	memcpy(v, names, (size_t)n * sizeof *v);
	eng_pnode *pn = pnode(cc, p);
	pn->opkind = OPM_NAMES;
	pn->names = v;
	pn->nnames = n;
	pn->domain = domain;
	return true;
}

static bool parse_op_regex(eng_cc *cc, eng_lexer *lx, int p)
{
	size_t start, end;
	int err;
	size_t off;
	if (!eng_lex_regex(lx, &start, &end))
		return false;
	pcre2_code *re = eng_regex(cc->rs, lx->t->s + start, end - start, &err, &off);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof msg);
		eng_cc_error(cc, eng_text_loc(lx->t, start + off), "bad regex: %s", (char *)msg);
	}
	const char **src = eng_alloc(cc->rs, sizeof *src);
	if (!src || !(src[0] = eng_strdup(cc->rs, lx->t->s + start, end - start)))
		return eng_cc_oom(cc, eng_tok_loc(lx)), false;
	pnode(cc, p)->opkind = OPM_REGEX;
	pnode(cc, p)->re = re;
	pnode(cc, p)->names = src;
	pnode(cc, p)->nnames = 1;
	return true;
}

static bool parse_op_class(eng_cc *cc, eng_lexer *lx, int p)
{
	unsigned traits = 0;
	do {
		eng_lex_next(lx); /* @ or + */
		if (lx->tok.kind != TK_NAME)
			return eng_syntax_error(cc, lx, "a class name");
		const char *s = lx->t->s + lx->tok.pos;
		size_t n = lx->tok.end - lx->tok.pos, i = 0;
		while (i < NCLASSES && !(strlen(classes[i].name) == n && memcmp(classes[i].name, s, n) == 0))
			i++;
		if (i < NCLASSES) {
			traits |= classes[i].bit;
		} else {
			const char *cands[NCLASSES];
			for (size_t k = 0; k < NCLASSES; k++)
				cands[k] = classes[k].name;
			const char *near = eng_closest(s, n, cands, NCLASSES);
			eng_cc_error(cc, eng_tok_loc(lx), "unknown class '@%.*s'%s%s%s", (int)n, s,
				     near ? " (did you mean '@" : "", near ? near : "", near ? "'?)" : "");
		}
		eng_lex_next(lx);
	} while (eng_tok_is(&lx->tok, '+'));
	pnode(cc, p)->opkind = OPM_CLASS;
	pnode(cc, p)->traits = traits;
	return true;
}

static bool parse_opmatch(eng_cc *cc, eng_lexer *lx, int p)
{
	if (eng_tok_is(&lx->tok, '*')) {
		eng_lex_next(lx);
		pnode(cc, p)->opkind = OPM_ANY;
		return true;
	}
	if (eng_tok_is(&lx->tok, '/'))
		return parse_op_regex(cc, lx, p);
	if (eng_tok_is(&lx->tok, '@'))
		return parse_op_class(cc, lx, p);
	if (lx->tok.kind == TK_NAME)
		return parse_op_names(cc, lx, p);
	return eng_syntax_error(cc, lx, "an op (Name, Name|Name, /regex/, @class or *)");
}

static bool parse_repeat(eng_cc *cc, eng_lexer *lx, int p)
{
	eng_loc at = eng_tok_loc(lx);
	eng_lex_next(lx); /* [ */
	if (lx->tok.kind != TK_INT)
		return eng_syntax_error(cc, lx, "the chain's minimum length");
	int64_t lo = lx->tok.i;
	eng_lex_next(lx);
	if (!eng_expect(cc, lx, P_DOTDOT, "'..'"))
		return false;
	if (lx->tok.kind != TK_INT)
		return eng_syntax_error(cc, lx, "the chain's maximum length");
	int64_t hi = lx->tok.i;
	eng_lex_next(lx);
	if (!eng_expect(cc, lx, ']', "']'"))
		return false;
	if (lo < 1 || hi < lo || hi > 64) {
		eng_cc_error(cc, at, "a chain's length must be [MIN..MAX] with 1 <= MIN <= MAX <= 64, got [%lld..%lld]",
			     (long long)lo, (long long)hi);
		lo = hi = 1;
	}
	pnode(cc, p)->min_repeat = (int)lo;
	pnode(cc, p)->max_repeat = (int)hi;
	return true;
}

static int parse_term(eng_cc *cc, eng_lexer *lx);

static bool is_underscore(const eng_lexer *lx)
{
	return lx->tok.kind == TK_NAME && lx->tok.end - lx->tok.pos == 1 && lx->t->s[lx->tok.pos] == '_';
}

static bool parse_capture_operand(eng_cc *cc, eng_lexer *lx, eng_operand *op)
{
	eng_tok next = eng_lex_peek(lx);
	bool list = eng_tok_is(&next, P_ELLIPSIS);
	op->kind = PO_CAPTURE;
	if ((op->index = capture_ref(cc, lx, list)) < 0)
		return false;
	eng_lex_next(lx);
	if (list) {
		op->variadic = true;
		eng_lex_next(lx);
	} else if (eng_tok_is(&lx->tok, '?')) {
		op->optional = true;
		eng_lex_next(lx);
	}
	return true;
}

/* NAME ('.' INT)?: another pattern node's result, resolved later. */
static bool parse_name_operand(eng_cc *cc, eng_lexer *lx, int *pending, eng_loc at)
{
	const char *s = lx->t->s + lx->tok.pos;
	size_t n = lx->tok.end - lx->tok.pos;
	int result = -1;
	eng_lex_next(lx);
	if (eng_tok_is(&lx->tok, '.')) {
		eng_lex_next(lx);
		if (lx->tok.kind != TK_INT || lx->tok.i > 255)
			return eng_syntax_error(cc, lx, "a result index after '.'");
		result = (int)lx->tok.i;
		eng_lex_next(lx);
	}
	*pending = eng_pending_add(cc, s, n, result, at);
	return *pending >= 0;
}

static bool parse_operand(eng_cc *cc, eng_lexer *lx, eng_operand *op)
{
	*op = (eng_operand){.loc = eng_tok_loc(lx)};
	if (lx->tok.kind == TK_CAPTURE)
		return parse_capture_operand(cc, lx, op);
	if (is_underscore(lx)) {
		op->kind = PO_WILDCARD;
		eng_lex_next(lx);
		if (eng_tok_is(&lx->tok, '?')) {
			op->optional = true;
			eng_lex_next(lx);
		}
		return true;
	}
	op->kind = PO_NODE;
	if (eng_at_term(lx))
		return (op->index = parse_term(cc, lx)) >= 0;
	if (lx->tok.kind == TK_NAME) {
		op->result = -1; /* pending until every line is read */
		return parse_name_operand(cc, lx, &op->index, op->loc);
	}
	return eng_syntax_error(cc, lx, "an operand ($capture, _, a node name or Op(...))");
}

static bool parse_operands(eng_cc *cc, eng_lexer *lx, int p)
{
	eng_operand *ins = NULL;
	int n = 0, cap = 0;
	skip_newlines(lx);
	if (!eng_tok_is(&lx->tok, ')')) {
		do {
			eng_operand op;
			skip_newlines(lx);
			if (!parse_operand(cc, lx, &op))
				return false;
			if (!(ins = eng_grow(cc->rs, ins, n, &cap, sizeof *ins)))
				return eng_cc_oom(cc, op.loc), false;
			ins[n++] = op;
			eng_skip_newlines_before(lx, ')');
		} while (eng_tok_is(&lx->tok, ',') && (eng_lex_next(lx), true));
	}
	if (!eng_expect(cc, lx, ')', "',' or ')'"))
		return false;
	pnode(cc, p)->ins = ins;
	pnode(cc, p)->nins = n;
	return true;
}

static bool parse_match_attrs(eng_cc *cc, eng_lexer *lx, int p)
{
	eng_attr_check *v = NULL;
	int n = 0, cap = 0;
	eng_lex_next(lx); /* { */
	do {
		skip_newlines(lx);
		if (lx->tok.kind != TK_NAME)
			return eng_syntax_error(cc, lx, "an attribute name");
		eng_attr_check a = {eng_strdup(cc->rs, lx->t->s + lx->tok.pos, lx->tok.end - lx->tok.pos), NULL,
				    eng_tok_loc(lx)};
		eng_lex_next(lx);
		if (!eng_expect(cc, lx, '=', "'=' after the attribute name"))
			return false;
		if (!(a.value = eng_parse_expr(cc, lx)))
			return false;
		for (int i = 0; a.name && i < n; i++)
			if (strcmp(v[i].name, a.name) == 0)
				eng_cc_error(cc, a.loc, "attribute '%s' is checked twice", a.name);
		if (!a.name || !(v = eng_grow(cc->rs, v, n, &cap, sizeof *v)))
			return eng_cc_oom(cc, a.loc), false;
		v[n++] = a;
		skip_newlines(lx);
	} while (eng_tok_is(&lx->tok, ',') && (eng_lex_next(lx), true));
	if (!eng_expect(cc, lx, '}', "',' or '}'"))
		return false;
	pnode(cc, p)->attrs = v;
	pnode(cc, p)->nattrs = n;
	return true;
}

static int parse_term(eng_cc *cc, eng_lexer *lx)
{
	int p = new_pnode(cc, eng_tok_loc(lx));
	if (p < 0 || !parse_opmatch(cc, lx, p))
		return -1;
	if (eng_tok_is(&lx->tok, '[') && !parse_repeat(cc, lx, p))
		return -1;
	if (!eng_expect(cc, lx, '(', "'(' after the op"))
		return -1;
	if (!parse_operands(cc, lx, p))
		return -1;
	if (eng_tok_is(&lx->tok, '{') && !parse_match_attrs(cc, lx, p))
		return -1;
	eng_check_term(cc, p);
	return p;
}

/* ---------------------------------------------------------------- pattern lines */

static bool reserved_name(const char *s, size_t n)
{
	return (n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
	       (n == 4 && memcmp(s, "none", 4) == 0) || (n > 1 && s[0] == '_');
}

/* results '=': the names (n of them, at most max) and their locations. */
int eng_parse_results(eng_cc *cc, eng_lexer *lx, const char **names, eng_loc *locs, int max)
{
	int n = 0;
	do {
		if (lx->tok.kind != TK_NAME) {
			eng_syntax_error(cc, lx, "a result name");
			return -1;
		}
		const char *s = lx->t->s + lx->tok.pos;
		size_t len = lx->tok.end - lx->tok.pos;
		locs[n] = eng_tok_loc(lx);
		if (reserved_name(s, len))
			eng_cc_error(cc, locs[n], "'%.*s' is reserved: choose another name", (int)len, s);
		if (n == max) {
			eng_syntax_error(cc, lx, "'=' (too many results)");
			return -1;
		}
		if (!(names[n++] = eng_strdup(cc->rs, s, len))) {
			eng_cc_oom(cc, locs[0]);
			return -1;
		}
		eng_lex_next(lx);
	} while (eng_tok_is(&lx->tok, ',') && (eng_lex_next(lx), true));
	if (!eng_expect(cc, lx, '=', n > 1 ? "'='" : "',' or '='"))
		return -1;
	return n;
}

static bool set_results(eng_cc *cc, int p, const char **names, const eng_loc *locs, int n)
{
	int dummy;
	for (int k = 0; k < n; k++) {
		bool dup = eng_pnode_by_name(cc->r, names[k], strlen(names[k]), &dummy) >= 0;
		for (int j = 0; j < k; j++)
			dup = dup || (strcmp(names[j], names[k]) == 0 && strcmp(names[k], "_") != 0);
		if (dup)
			eng_cc_error(cc, locs[k], "'%s' is defined twice in the pattern", names[k]);
	}
	const char **v = eng_alloc(cc->rs, (size_t)n * sizeof *v);
	if (!v)
		return eng_cc_oom(cc, locs[0]), false;
	memcpy(v, names, (size_t)n * sizeof *v);
	eng_pnode *pn = pnode(cc, p);
	if (n > 1 && eng_is_chain(pn))
		eng_cc_error(cc, locs[1], "a chain has one result");
	if (strcmp(names[0], "_") != 0)
		pn->name = names[0];
	pn->loc = locs[0];
	pn->result_names = v;
	pn->nresults = n;
	return true;
}

static bool pattern_line(eng_cc *cc, eng_lexer *lx)
{
	const char *names[16];
	eng_loc locs[16];
	int n = eng_parse_results(cc, lx, names, locs, 16);
	if (n < 0)
		return false;
	int p = parse_term(cc, lx);
	if (p < 0 || !set_results(cc, p, names, locs, n))
		return false;
	if (lx->tok.kind != TK_NEWLINE && lx->tok.kind != TK_EOF)
		return eng_syntax_error(cc, lx, "the end of the line");
	return true;
}

static void parse_pattern(eng_cc *cc, const eng_text *t)
{
	eng_lexer lx;
	eng_lex_init(&lx, t, false, cc->d);
	while (lx.tok.kind != TK_EOF) {
		if (lx.tok.kind == TK_NEWLINE) {
			eng_lex_next(&lx);
		} else if (!pattern_line(cc, &lx)) {
			cc->pattern_failed = true;
			eng_skip_line(&lx);
		}
	}
	if (cc->r->npnodes == 0 && !cc->pattern_failed) {
		eng_cc_error(cc, eng_text_loc(t, 0),
			     "the pattern is empty: write one node per line, e.g. y = Relu($x)");
		cc->pattern_failed = true;
	}
}

/* ---------------------------------------------------------------- rules */

static void parse_where(eng_cc *cc, const eng_text *t)
{
	eng_lexer lx;
	eng_rule *r = cc->r;
	eng_lex_init(&lx, t, true, cc->d);
	eng_ex *e = eng_parse_expr(cc, &lx);
	if (!e)
		return;
	if (lx.tok.kind != TK_EOF) {
		eng_syntax_error(cc, &lx, "the end of the constraint (an operator?)");
		return;
	}
	eng_ex **v = eng_grow(cc->rs, r->where, r->nwhere, &cc->wcap, sizeof *v);
	if (!v) {
		eng_cc_oom(cc, e->loc);
		return;
	}
	r->where = v;
	v[r->nwhere++] = e;
	if (!cc->pattern_failed)
		eng_check_expr(cc, e, ECTX_WHERE, IR_ATTR_UNDEF);
}

bool eng_compile_rule(eng_ruleset *rs, eng_rule *r, const eng_rule_src *src, ir_diags *d)
{
	eng_cc cc = {.rs = rs, .r = r, .d = d};
	parse_pattern(&cc, src->pattern);
	if (!cc.pattern_failed)
		eng_check_pattern(&cc);
	for (int i = 0; i < src->nwhere; i++)
		parse_where(&cc, &src->where[i]);
	eng_compile_replace(&cc, src->replace);
	return cc.nerrors == 0;
}
