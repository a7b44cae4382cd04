/* The expression language of rules: a recursive-descent parser, one
 * function per grammar level of docs/rules.md (types: expr_check.c). */
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- parser */

static const char *const fn_names[FN_COUNT] = {
	[FN_DIM] = "dim", [FN_RANK] = "rank", [FN_NUMEL] = "numel", [FN_DTYPE] = "dtype",
	[FN_SHAPE] = "shape", [FN_ATTR] = "attr", [FN_HAS_ATTR] = "has_attr",
	[FN_IS_CONST] = "is_const", [FN_USES] = "uses", [FN_IS_OUTPUT] = "is_output",
	[FN_MATCHES] = "matches", [FN_VALUE] = "value", [FN_LEN] = "len", [FN_ABS] = "abs",
	[FN_MIN] = "min", [FN_MAX] = "max", [FN_OP] = "op", [FN_FILL] = "fill", [FN_CONST] = "const",
};

const char *eng_fn_name(eng_fn f)
{
	return f < FN_COUNT ? fn_names[f] : "?";
}

static eng_ex *new_ex(eng_cc *cc, eng_ex_kind k, eng_loc loc)
{
	eng_ex *e = eng_alloc(cc->rs, sizeof *e);
	if (!e)
		return eng_cc_oom(cc, loc);
	e->kind = k;
	e->loc = loc;
	e->ref = -1;
	return e;
}

static void *syntax_error(eng_cc *cc, const eng_lexer *lx, const char *what)
{
	char buf[96];
	if (lx->tok.kind == TK_ERROR)
		return NULL; /* the lexer reported it */
	eng_tok_describe(lx->t, &lx->tok, buf, sizeof buf);
	eng_cc_error(cc, eng_tok_loc(lx), "expected %s, got %s", what, buf);
	return NULL;
}

static bool accept(eng_lexer *lx, int punct)
{
	if (!eng_tok_is(&lx->tok, punct))
		return false;
	eng_lex_next(lx);
	return true;
}

static eng_ex *binary(eng_cc *cc, int op, eng_loc at, eng_ex *a, eng_ex *b)
{
	if (!a || !b)
		return NULL;
	eng_ex *e = new_ex(cc, EX_BINARY, at);
	eng_ex **args = eng_alloc(cc->rs, 2 * sizeof *args);
	if (!e || !args)
		return eng_cc_oom(cc, at);
	e->op = op;
	e->args = args;
	e->nargs = 2;
	args[0] = a;
	args[1] = b;
	return e;
}

static bool is_name(const eng_lexer *lx, const char *s)
{
	size_t n = strlen(s);
	return lx->tok.kind == TK_NAME && lx->tok.end - lx->tok.pos == n && memcmp(lx->t->s + lx->tok.pos, s, n) == 0;
}

static int fn_lookup(const char *s, size_t n)
{
	for (int f = 0; f < FN_COUNT; f++)
		if (strlen(fn_names[f]) == n && memcmp(fn_names[f], s, n) == 0)
			return f;
	return -1;
}

/* matches(s, "re"): compiles a literal regex now, where its offsets still
 * map to the file. */
static void compile_matches_regex(eng_cc *cc, const eng_lexer *lx, const eng_tok *tk, eng_ex *lit)
{
	int err;
	size_t off;
	lit->re = eng_regex(cc->rs, lit->s, lit->s_len, &err, &off);
	if (lit->re)
		return;
	PCRE2_UCHAR msg[256];
	pcre2_get_error_message(err, msg, sizeof msg);
	eng_cc_error(cc, eng_text_loc(lx->t, eng_lex_string_src(lx->t, tk, off)), "bad regex: %s", (char *)msg);
}

static eng_ex *parse_args(eng_cc *cc, eng_lexer *lx, eng_ex *call)
{
	eng_ex *args[16];
	int n = 0;
	if (!eng_tok_is(&lx->tok, ')')) {
		do {
			eng_tok first = lx->tok;
			if (n == 16)
				return syntax_error(cc, lx, "')' (at most 16 arguments)");
			if (!(args[n] = eng_parse_expr(cc, lx)))
				return NULL;
			/* an EX_STRING that starts with a string token is that literal */
			if (call->fn == FN_MATCHES && n == 1 && args[n]->kind == EX_STRING && first.kind == TK_STRING)
				compile_matches_regex(cc, lx, &first, args[n]);
			n++;
		} while (accept(lx, ','));
	}
	if (!accept(lx, ')'))
		return syntax_error(cc, lx, "',' or ')'");
	call->nargs = n;
	call->args = eng_alloc(cc->rs, (size_t)(n ? n : 1) * sizeof *call->args);
	if (!call->args)
		return eng_cc_oom(cc, call->loc);
	memcpy(call->args, args, (size_t)n * sizeof *args);
	return call;
}

static eng_ex *parse_call(eng_cc *cc, eng_lexer *lx)
{
	const char *s = lx->t->s + lx->tok.pos;
	size_t n = lx->tok.end - lx->tok.pos;
	eng_loc at = eng_tok_loc(lx);
	int f = fn_lookup(s, n);
	if (f < 0) {
		const char *near = eng_closest(s, n, fn_names, FN_COUNT);
		eng_cc_error(cc, at, "unknown function '%.*s'%s%s%s", (int)n, s, near ? " (did you mean '" : "",
			     near ? near : "", near ? "'?)" : "");
		return NULL;
	}
	eng_ex *e = new_ex(cc, EX_CALL, at);
	if (!e)
		return NULL;
	e->fn = (eng_fn)f;
	eng_lex_next(lx); /* name */
	eng_lex_next(lx); /* ( */
	return parse_args(cc, lx, e);
}

static eng_ex *parse_list(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = new_ex(cc, EX_LIST, eng_tok_loc(lx));
	int cap = 0;
	eng_lex_next(lx);
	if (!e)
		return NULL;
	if (!eng_tok_is(&lx->tok, ']')) {
		do {
			eng_ex *item = eng_parse_expr(cc, lx);
			eng_ex **v = eng_grow(cc->rs, e->args, e->nargs, &cap, sizeof *v);
			if (!item)
				return NULL;
			if (!v)
				return eng_cc_oom(cc, e->loc);
			e->args = v;
			v[e->nargs++] = item;
		} while (accept(lx, ','));
	}
	if (!accept(lx, ']'))
		return syntax_error(cc, lx, "',' or ']'");
	return e;
}

static eng_ex *parse_name(eng_cc *cc, eng_lexer *lx, eng_ex_kind kind, size_t skip)
{
	eng_ex *e = new_ex(cc, kind, eng_tok_loc(lx));
	if (!e)
		return NULL;
	e->s_len = (uint32_t)(lx->tok.end - lx->tok.pos - skip);
	e->s = eng_strdup(cc->rs, lx->t->s + lx->tok.pos + skip, e->s_len);
	if (!e->s)
		return eng_cc_oom(cc, e->loc);
	eng_lex_next(lx);
	return e;
}

static eng_ex *parse_literal(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = NULL;
	eng_loc at = eng_tok_loc(lx);
	if (lx->tok.kind == TK_INT) {
		if ((e = new_ex(cc, EX_INT, at)))
			e->i = lx->tok.i;
	} else if (lx->tok.kind == TK_FLOAT) {
		if ((e = new_ex(cc, EX_FLOAT, at)))
			e->f = lx->tok.f;
	} else if (lx->tok.kind == TK_STRING) {
		if ((e = new_ex(cc, EX_STRING, at)) && !(e->s = eng_lex_string(cc->rs, lx->t, &lx->tok, &e->s_len)))
			return eng_cc_oom(cc, at);
	} else if (is_name(lx, "true") || is_name(lx, "false")) {
		if ((e = new_ex(cc, EX_BOOL, at)))
			e->i = is_name(lx, "true");
	} else if (is_name(lx, "none")) {
		e = new_ex(cc, EX_NONE, at);
	} else {
		return syntax_error(cc, lx, "an expression");
	}
	if (e)
		eng_lex_next(lx);
	return e;
}

static eng_ex *parse_primary(eng_cc *cc, eng_lexer *lx)
{
	if (eng_tok_is(&lx->tok, '(')) {
		eng_lex_next(lx);
		eng_ex *e = eng_parse_expr(cc, lx);
		if (e && !accept(lx, ')'))
			return syntax_error(cc, lx, "')'");
		return e;
	}
	if (eng_tok_is(&lx->tok, '['))
		return parse_list(cc, lx);
	if (lx->tok.kind == TK_CAPTURE)
		return parse_name(cc, lx, EX_CAPTURE, 1);
	if (lx->tok.kind == TK_NAME && !is_name(lx, "true") && !is_name(lx, "false") && !is_name(lx, "none")) {
		eng_tok next = eng_lex_peek(lx);
		if (eng_tok_is(&next, '('))
			return parse_call(cc, lx);
		return parse_name(cc, lx, EX_NODE, 0);
	}
	return parse_literal(cc, lx);
}

/* Prefix operators: '-' at the unary level, '!' at the not level (so
 * !a == b is !(a == b)). */
static eng_ex *parse_prefix(eng_cc *cc, eng_lexer *lx, int op, eng_ex *(*operand)(eng_cc *, eng_lexer *))
{
	eng_ex *e = new_ex(cc, EX_UNARY, eng_tok_loc(lx));
	eng_ex **args = eng_alloc(cc->rs, sizeof *args);
	if (!e || !args)
		return eng_cc_oom(cc, eng_tok_loc(lx));
	eng_lex_next(lx);
	e->op = op;
	e->args = args;
	e->nargs = 1;
	args[0] = operand(cc, lx);
	return args[0] ? e : NULL;
}

static eng_ex *parse_unary(eng_cc *cc, eng_lexer *lx)
{
	if (eng_tok_is(&lx->tok, '-'))
		return parse_prefix(cc, lx, '-', parse_unary);
	return parse_primary(cc, lx);
}

typedef struct binop_tok {
	int punct;
	eng_binop op;
} binop_tok;

static const binop_tok prod_ops[] = {{'*', OP_MUL}, {'/', OP_DIV}, {'%', OP_MOD}};
static const binop_tok sum_ops[] = {{'+', OP_ADD}, {'-', OP_SUB}};
static const binop_tok cmp_ops[] = {{P_EQ, OP_EQ}, {P_NE, OP_NE}, {'<', OP_LT},
				    {P_LE, OP_LE}, {'>', OP_GT}, {P_GE, OP_GE}};

static int match_op(const eng_lexer *lx, const binop_tok *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (eng_tok_is(&lx->tok, ops[i].punct))
			return (int)ops[i].op;
	return -1;
}

/* One left-associative level: next (op next)* over the n operators of ops. */
static eng_ex *parse_level(eng_cc *cc, eng_lexer *lx, const binop_tok *ops, size_t n,
			   eng_ex *(*next)(eng_cc *, eng_lexer *))
{
	eng_ex *e = next(cc, lx);
	int op;
	while (e && (op = match_op(lx, ops, n)) >= 0) {
		eng_loc at = eng_tok_loc(lx);
		eng_lex_next(lx);
		e = binary(cc, op, at, e, next(cc, lx));
	}
	return e;
}

static eng_ex *parse_prod(eng_cc *cc, eng_lexer *lx)
{
	return parse_level(cc, lx, prod_ops, 3, parse_unary);
}

static eng_ex *parse_sum(eng_cc *cc, eng_lexer *lx)
{
	return parse_level(cc, lx, sum_ops, 2, parse_prod);
}

static eng_ex *parse_cmp(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = parse_sum(cc, lx);
	int op;
	if (e && (op = match_op(lx, cmp_ops, 6)) >= 0) {
		eng_loc at = eng_tok_loc(lx);
		eng_lex_next(lx);
		e = binary(cc, op, at, e, parse_sum(cc, lx));
	}
	return e;
}

static eng_ex *parse_not(eng_cc *cc, eng_lexer *lx)
{
	if (eng_tok_is(&lx->tok, '!'))
		return parse_prefix(cc, lx, '!', parse_not);
	return parse_cmp(cc, lx);
}

static eng_ex *parse_and(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = parse_not(cc, lx);
	while (e && eng_tok_is(&lx->tok, P_AND)) {
		eng_loc at = eng_tok_loc(lx);
		eng_lex_next(lx);
		e = binary(cc, OP_AND, at, e, parse_not(cc, lx));
	}
	return e;
}

static eng_ex *parse_or(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = parse_and(cc, lx);
	while (e && eng_tok_is(&lx->tok, P_OR)) {
		eng_loc at = eng_tok_loc(lx);
		eng_lex_next(lx);
		e = binary(cc, OP_OR, at, e, parse_and(cc, lx));
	}
	return e;
}

eng_ex *eng_parse_expr(eng_cc *cc, eng_lexer *lx)
{
	eng_ex *e = parse_or(cc, lx);
	if (!e || !eng_tok_is(&lx->tok, '?'))
		return e;
	eng_ex *c = new_ex(cc, EX_COND, eng_tok_loc(lx));
	eng_ex **args = eng_alloc(cc->rs, 3 * sizeof *args);
	if (!c || !args)
		return eng_cc_oom(cc, eng_tok_loc(lx));
	eng_lex_next(lx);
	c->args = args;
	c->nargs = 3;
	args[0] = e;
	if (!(args[1] = eng_parse_expr(cc, lx)))
		return NULL;
	if (!accept(lx, ':'))
		return syntax_error(cc, lx, "':' of '?:'");
	args[2] = eng_parse_expr(cc, lx);
	return args[2] ? c : NULL;
}
