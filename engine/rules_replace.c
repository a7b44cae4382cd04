/* The rule compiler's replacement side: replace lines -> replacement nodes
 * and output maps, name resolution, dependency order, and the checks that
 * tie the replacement to the pattern (attributes, operands, sinks). */
#include <string.h>

#include "engine_internal.h"

/* A name defined on the left of a replace line. */
typedef struct local {
	const char *name;
	eng_loc loc;
	int rnode, result;  /* a replacement node's result (rnode >= 0) */
	eng_roperand alias; /* rnode < 0: `name = rvalue` */
	bool resolving, bad, used;
} local;

typedef struct rctx {
	eng_cc *cc;
	local *locals;
	int nlocals, lcap;
} rctx;

static void skip_newlines(eng_lexer *lx)
{
	while (lx->tok.kind == TK_NEWLINE)
		eng_lex_next(lx);
}

static bool tok_text_is(const eng_lexer *lx, const char *s)
{
	size_t n = strlen(s);
	return lx->tok.end - lx->tok.pos == n && memcmp(lx->t->s + lx->tok.pos, s, n) == 0;
}

/* A builtin function call (fill(...), const(...), or a misplaced other). */
static bool at_call(const eng_lexer *lx)
{
	eng_tok next = eng_lex_peek(lx);
	if (lx->tok.kind != TK_NAME || !eng_tok_is(&next, '('))
		return false;
	for (int f = 0; f < FN_COUNT; f++)
		if (tok_text_is(lx, eng_fn_name((eng_fn)f)))
			return true;
	return false;
}

static bool at_expr(const eng_lexer *lx)
{
	const eng_tok *tk = &lx->tok;
	return at_call(lx) || tk->kind == TK_INT || tk->kind == TK_FLOAT || tk->kind == TK_STRING ||
	       eng_tok_is(tk, '[') || eng_tok_is(tk, '-') || eng_tok_is(tk, '(');
}

static bool is_underscore(const eng_lexer *lx)
{
	return lx->tok.kind == TK_NAME && tok_text_is(lx, "_");
}

/* ---------------------------------------------------------------- parsing */

static int parse_rterm(rctx *rc, eng_lexer *lx);

static int capture_index(rctx *rc, const eng_lexer *lx)
{
	eng_cc *cc = rc->cc;
	const char *s = lx->t->s + lx->tok.pos + 1;
	size_t n = lx->tok.end - lx->tok.pos - 1;
	int i = eng_capture_by_name(cc->r, s, n);
	if (i >= 0 || cc->pattern_failed)
		return i;
	const char *cands[64];
	size_t nc = 0;
	for (int k = 0; k < cc->r->ncaptures && nc < 64; k++)
		cands[nc++] = cc->r->captures[k].name;
	const char *near = eng_closest(s, n, cands, nc);
	if (near)
		eng_cc_error(cc, eng_tok_loc(lx), "unknown capture $%.*s (did you mean $%s?)", (int)n, s, near);
	else
		eng_cc_error(cc, eng_tok_loc(lx), "unknown capture $%.*s: captures are bound by the pattern", (int)n, s);
	return -1;
}

static bool parse_roperand(rctx *rc, eng_lexer *lx, eng_roperand *ro);

static bool parse_capture_roperand(rctx *rc, eng_lexer *lx, eng_roperand *ro)
{
	eng_cc *cc = rc->cc;
	ro->kind = RO_CAPTURE;
	ro->index = capture_index(rc, lx);
	eng_lex_next(lx);
	if (eng_tok_is(&lx->tok, P_ELLIPSIS)) { /* `$xs...`: spelled as in the pattern */
		if (ro->index >= 0 && !cc->r->captures[ro->index].is_list)
			eng_cc_error(cc, eng_tok_loc(lx), "$%s is a single value: '...' spreads a list capture",
				     cc->r->captures[ro->index].name);
		eng_lex_next(lx);
		return true;
	}
	if (!eng_tok_is(&lx->tok, P_COALESCE))
		return true;
	eng_loc at = eng_tok_loc(lx);
	eng_lex_next(lx);
	if (cc->fn)
		eng_cc_error(cc, at, "'?\?' picks a fallback for an absent capture of a match: a function body has none");
	if (ro->index >= 0 && cc->r->captures[ro->index].is_list)
		eng_cc_error(cc, at, "a list capture cannot be absent: '?\?' needs an optional $capture on its left");
	if (!(ro->fallback = eng_alloc(cc->rs, sizeof *ro->fallback)))
		return eng_cc_oom(cc, at), false;
	return parse_roperand(rc, lx, ro->fallback);
}

static bool parse_name_roperand(rctx *rc, eng_lexer *lx, eng_roperand *ro)
{
	eng_cc *cc = rc->cc;
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
	if (eng_tok_is(&lx->tok, P_COALESCE)) {
		eng_cc_error(cc, eng_tok_loc(lx),
			     "only an optional $capture can be absent: '?\?' needs a capture on its left");
		return false;
	}
	ro->kind = RO_PNODE; /* pending: resolved once every line is read */
	ro->result = -1;
	ro->index = eng_pending_add(cc, s, n, result, ro->loc);
	return ro->index >= 0;
}

static bool parse_roperand(rctx *rc, eng_lexer *lx, eng_roperand *ro)
{
	*ro = (eng_roperand){.loc = eng_tok_loc(lx)};
	if (is_underscore(lx)) {
		ro->kind = RO_NONE;
		eng_lex_next(lx);
		return true;
	}
	if (lx->tok.kind == TK_CAPTURE)
		return parse_capture_roperand(rc, lx, ro);
	if (at_expr(lx)) {
		ro->kind = RO_EXPR;
		return (ro->expr = eng_parse_expr(rc->cc, lx)) != NULL;
	}
	if (eng_at_term(lx)) {
		ro->kind = RO_RNODE;
		return (ro->index = parse_rterm(rc, lx)) >= 0;
	}
	if (lx->tok.kind == TK_NAME)
		return parse_name_roperand(rc, lx, ro);
	return eng_syntax_error(rc->cc, lx, "an operand ($capture, a name, _, Op(...), fill(...) or const(...))");
}

static bool parse_roperands(rctx *rc, eng_lexer *lx, eng_roperand **ins, int *n)
{
	int cap = 0;
	*ins = NULL;
	*n = 0;
	skip_newlines(lx);
	if (!eng_tok_is(&lx->tok, ')')) {
		do {
			eng_roperand ro;
			skip_newlines(lx);
			if (!parse_roperand(rc, lx, &ro))
				return false;
			eng_roperand *v = eng_grow(rc->cc->rs, *ins, *n, &cap, sizeof *v);
			if (!v)
				return eng_cc_oom(rc->cc, ro.loc), false;
			*ins = v;
			v[(*n)++] = ro;
			eng_skip_newlines_before(lx, ')');
		} while (eng_tok_is(&lx->tok, ',') && (eng_lex_next(lx), true));
	}
	return eng_expect(rc->cc, lx, ')', "',' or ')'");
}

/* Is `name` an attribute the function being compiled declares? */
static bool declared(const eng_cc *cc, const char *name, size_t n)
{
	for (int i = 0; cc->fn && i < cc->fn->nattrs; i++)
		if (strlen(cc->fn->attrs[i]) == n && memcmp(cc->fn->attrs[i], name, n) == 0)
			return true;
	return false;
}

/* `@name` after '=' (or `@` after '...'): only function bodies refer to
 * their function's attributes. */
static bool parse_ref(eng_cc *cc, eng_lexer *lx, eng_rattr *a, bool spread)
{
	eng_loc at = eng_tok_loc(lx);
	eng_lex_next(lx);
	if (!cc->fn)
		eng_cc_error(cc, at, "attribute references (@name) belong in function bodies (functions:)");
	if (spread) {
		a->spread_node = ENG_SPREAD_REFS;
		return true;
	}
	if (lx->tok.kind != TK_NAME)
		return eng_syntax_error(cc, lx, "the name of the function's attribute after '@'");
	const char *s = lx->t->s + lx->tok.pos;
	size_t n = lx->tok.end - lx->tok.pos;
	if (cc->fn && !declared(cc, s, n))
		eng_cc_error(cc, eng_tok_loc(lx), "@%.*s: function %s declares no attribute '%.*s' (list it under attributes:)",
			     (int)n, s, cc->fn->name, (int)n, s);
	if (!(a->ref = eng_strdup(cc->rs, s, n)))
		return eng_cc_oom(cc, at), false;
	eng_lex_next(lx);
	return true;
}

static bool parse_rattr(rctx *rc, eng_lexer *lx, eng_rattr *a)
{
	eng_cc *cc = rc->cc;
	*a = (eng_rattr){.loc = eng_tok_loc(lx), .spread_node = -1};
	if (eng_tok_is(&lx->tok, P_ELLIPSIS)) {
		int result;
		eng_lex_next(lx);
		if (eng_tok_is(&lx->tok, '@'))
			return parse_ref(cc, lx, a, true);
		if (lx->tok.kind != TK_NAME)
			return eng_syntax_error(cc, lx, "a pattern node name after '...'");
		a->spread_node = eng_pnode_by_name(cc->r, lx->t->s + lx->tok.pos, lx->tok.end - lx->tok.pos, &result);
		if (a->spread_node < 0 && !cc->pattern_failed)
			eng_cc_error(cc, eng_tok_loc(lx),
				     "unknown pattern node '%.*s': '...' copies a matched node's attributes",
				     (int)(lx->tok.end - lx->tok.pos), lx->t->s + lx->tok.pos);
		eng_lex_next(lx);
		return true;
	}
	if (lx->tok.kind != TK_NAME)
		return eng_syntax_error(cc, lx, "an attribute name or '...node'");
	if (!(a->name = eng_strdup(cc->rs, lx->t->s + lx->tok.pos, lx->tok.end - lx->tok.pos)))
		return eng_cc_oom(cc, a->loc), false;
	eng_lex_next(lx);
	if (!eng_expect(cc, lx, '=', "'=' after the attribute name"))
		return false;
	if (eng_tok_is(&lx->tok, '@'))
		return parse_ref(cc, lx, a, false);
	return (a->value = eng_parse_expr(cc, lx)) != NULL;
}

static bool parse_rattrs(rctx *rc, eng_lexer *lx, eng_rattr **attrs, int *n)
{
	int cap = 0;
	eng_lex_next(lx); /* { */
	do {
		eng_rattr a;
		skip_newlines(lx);
		if (!parse_rattr(rc, lx, &a))
			return false;
		for (int i = 0; a.name && i < *n; i++)
			if ((*attrs)[i].name && strcmp((*attrs)[i].name, a.name) == 0)
				eng_cc_error(rc->cc, a.loc, "attribute '%s' is set twice", a.name);
		eng_rattr *v = eng_grow(rc->cc->rs, *attrs, *n, &cap, sizeof *v);
		if (!v)
			return eng_cc_oom(rc->cc, a.loc), false;
		*attrs = v;
		v[(*n)++] = a;
		skip_newlines(lx);
	} while (eng_tok_is(&lx->tok, ',') && (eng_lex_next(lx), true));
	return eng_expect(rc->cc, lx, '}', "',' or '}'");
}

/* Operand count against the registry or the function's formal inputs
 * (unless a list capture spreads). */
static void check_rarity(eng_cc *cc, const eng_rnode *rn)
{
	int mn, mx, mo;
	if (rn->func) {
		mn = 0;
		mx = rn->func->ninputs;
	} else if (rn->domain || !eng_op_arity(rn->op, &mn, &mx, &mo)) {
		return;
	}
	for (int i = 0; i < rn->nins; i++)
		if (rn->ins[i].kind == RO_CAPTURE && rn->ins[i].index >= 0 &&
		    cc->r->captures[rn->ins[i].index].is_list)
			return;
	if (rn->nins < mn || (mx >= 0 && rn->nins > mx)) {
		if (mx == mn)
			eng_cc_error(cc, rn->loc, "%s takes %d operand%s, got %d", rn->op, mn, mn == 1 ? "" : "s",
				     rn->nins);
		else if (mx < 0)
			eng_cc_error(cc, rn->loc, "%s takes at least %d operands, got %d", rn->op, mn, rn->nins);
		else
			eng_cc_error(cc, rn->loc, "%s takes %d to %d operands, got %d", rn->op, mn, mx, rn->nins);
	}
}

static int new_rnode(eng_cc *cc, const eng_rnode *rn)
{
	eng_rule *r = cc->r;
	eng_rnode *v = eng_grow(cc->rs, r->rnodes, r->nrnodes, &cc->rcap, sizeof *v);
	if (!v)
		return eng_cc_oom(cc, rn->loc), -1;
	r->rnodes = v;
	v[r->nrnodes] = *rn;
	return r->nrnodes++;
}

static int parse_rterm(rctx *rc, eng_lexer *lx)
{
	eng_cc *cc = rc->cc;
	eng_rnode rn = {.loc = eng_tok_loc(lx), .nresults = 1};
	if (!eng_parse_domain(cc, lx, &rn.domain))
		return -1;
	if (lx->tok.kind != TK_NAME)
		return eng_syntax_error(cc, lx, "an op name (a replacement creates ops by name)"), -1;
	if (!(rn.op = eng_strdup(cc->rs, lx->t->s + lx->tok.pos, lx->tok.end - lx->tok.pos)))
		return eng_cc_oom(cc, rn.loc), -1;
	rn.func = eng_func_find(cc->rs, rn.domain, rn.op);
	if (!rn.func)
		eng_check_op(cc, rn.domain, rn.op, eng_tok_loc(lx));
	eng_lex_next(lx);
	if (eng_tok_is(&lx->tok, '|'))
		return eng_cc_error(cc, eng_tok_loc(lx), "a replacement creates one op: alternatives (|) are for patterns"),
		       -1;
	if (!eng_expect(cc, lx, '(', "'(' after the op") || !parse_roperands(rc, lx, &rn.ins, &rn.nins))
		return -1;
	if (eng_tok_is(&lx->tok, '{') && !parse_rattrs(rc, lx, &rn.attrs, &rn.nattrs))
		return -1;
	check_rarity(cc, &rn);
	return new_rnode(cc, &rn);
}

static local *find_local(rctx *rc, const char *name, size_t n)
{
	for (int i = 0; i < rc->nlocals; i++)
		if (strlen(rc->locals[i].name) == n && memcmp(rc->locals[i].name, name, n) == 0)
			return &rc->locals[i];
	return NULL;
}

static bool define(rctx *rc, const char *name, eng_loc at, int rnode, int result, const eng_roperand *alias)
{
	if (strcmp(name, "_") == 0)
		return true;
	if (find_local(rc, name, strlen(name))) {
		eng_cc_error(rc->cc, at, "'%s' is defined twice in the replacement", name);
		return true;
	}
	local *v = eng_grow(rc->cc->rs, rc->locals, rc->nlocals, &rc->lcap, sizeof *v);
	if (!v)
		return eng_cc_oom(rc->cc, at), false;
	rc->locals = v;
	v[rc->nlocals++] = (local){.name = name, .loc = at, .rnode = rnode, .result = result,
				   .alias = alias ? *alias : (eng_roperand){0}};
	return true;
}

static bool replace_line(rctx *rc, eng_lexer *lx)
{
	const char *names[16];
	eng_loc locs[16];
	int n = eng_parse_results(rc->cc, lx, names, locs, 16);
	if (n < 0)
		return false;
	if (eng_at_term(lx) && !at_call(lx)) {
		int rn = parse_rterm(rc, lx);
		if (rn < 0)
			return false;
		eng_rnode *node = &rc->cc->r->rnodes[rn];
		const char **v = eng_alloc(rc->cc->rs, (size_t)n * sizeof *v);
		if (!v)
			return eng_cc_oom(rc->cc, locs[0]), false;
		memcpy(v, names, (size_t)n * sizeof *v);
		node->name = strcmp(names[0], "_") ? names[0] : NULL;
		node->loc = locs[0];
		node->nresults = n;
		node->result_names = v;
		for (int k = 0; k < n; k++)
			if (!define(rc, names[k], locs[k], rn, k, NULL))
				return false;
	} else {
		eng_roperand ro;
		if (n > 1)
			return eng_cc_error(rc->cc, locs[1], "only an op has several results"), false;
		if (!parse_roperand(rc, lx, &ro) || !define(rc, names[0], locs[0], -1, 0, &ro))
			return false;
	}
	if (lx->tok.kind != TK_NEWLINE && lx->tok.kind != TK_EOF)
		return eng_syntax_error(rc->cc, lx, "the end of the line");
	return true;
}

static void parse_replace(rctx *rc, const eng_text *t)
{
	eng_lexer lx;
	eng_lex_init(&lx, t, false, rc->cc->d);
	while (lx.tok.kind != TK_EOF) {
		if (lx.tok.kind == TK_NEWLINE)
			eng_lex_next(&lx);
		else if (!replace_line(rc, &lx))
			eng_skip_line(&lx);
	}
}

/* ---------------------------------------------------------------- resolution */

static bool resolve_roperand(rctx *rc, eng_roperand *ro);

/* A deep copy (fallbacks included) so that every operand owns its chain. */
static bool copy_roperand(eng_cc *cc, eng_roperand *dst, const eng_roperand *src, eng_loc at)
{
	*dst = *src;
	dst->loc = at;
	if (!src->fallback)
		return true;
	if (!(dst->fallback = eng_alloc(cc->rs, sizeof *dst->fallback)))
		return eng_cc_oom(cc, at), false;
	return copy_roperand(cc, dst->fallback, src->fallback, src->fallback->loc);
}

static void unknown_name(rctx *rc, const eng_pending *pd, eng_loc at)
{
	const eng_rule *r = rc->cc->r;
	const char *cands[96];
	size_t n = 0;
	for (int i = 0; i < rc->nlocals && n < 48; i++)
		cands[n++] = rc->locals[i].name;
	for (int i = 0; i < r->npnodes; i++)
		for (int k = 0; k < r->pnodes[i].nresults && n < 96; k++)
			cands[n++] = r->pnodes[i].result_names[k];
	const char *near = eng_closest(pd->name, pd->len, cands, n);
	if (eng_capture_by_name(r, pd->name, pd->len) >= 0)
		eng_cc_error(rc->cc, at, "unknown name '%s' (did you mean $%s?)", pd->name, pd->name);
	else if (near)
		eng_cc_error(rc->cc, at, "unknown name '%s' (did you mean '%s'?)", pd->name, near);
	else
		eng_cc_error(rc->cc, at, "unknown name '%s': neither the pattern nor the replacement defines it",
			     pd->name);
}

static bool resolve_local(rctx *rc, local *l, const eng_pending *pd, eng_roperand *ro)
{
	eng_cc *cc = rc->cc;
	l->used = true;
	if (l->rnode >= 0) {
		int nres = cc->r->rnodes[l->rnode].nresults;
		ro->kind = RO_RNODE;
		ro->index = l->rnode;
		ro->result = pd->result >= 0 ? pd->result : l->result;
		if (ro->result < nres)
			return true;
		eng_cc_error(cc, ro->loc, "result index %d is out of range: '%s' has %d result%s", ro->result,
			     pd->name, nres, nres == 1 ? "" : "s");
		return false;
	}
	if (pd->result >= 0)
		return eng_cc_error(cc, ro->loc, "'%s' names a single value: '.N' selects a result of an op", pd->name),
		       false;
	if (l->bad)
		return false;
	if (l->resolving) {
		eng_cc_error(cc, l->loc, "'%s' is defined in terms of itself", l->name);
		l->bad = true;
		return false;
	}
	l->resolving = true;
	bool ok = resolve_roperand(rc, &l->alias);
	l->resolving = false;
	l->bad = !ok;
	return ok && copy_roperand(cc, ro, &l->alias, ro->loc);
}

/* A pending name: a replacement-local name first, else a pattern value. */
static bool resolve_ref(rctx *rc, eng_roperand *ro)
{
	eng_cc *cc = rc->cc;
	const eng_pending *pd = &cc->names[ro->index];
	local *l = find_local(rc, pd->name, pd->len);
	if (l)
		return resolve_local(rc, l, pd, ro);
	int result, q = eng_pnode_by_name(cc->r, pd->name, pd->len, &result);
	if (q < 0)
		return unknown_name(rc, pd, ro->loc), false;
	if (pd->result >= 0)
		result = pd->result;
	int limit = eng_pnode_result_limit(&cc->r->pnodes[q]);
	if (result >= limit)
		return eng_cc_error(cc, ro->loc, "result index %d is out of range: '%s' has %d result%s", result,
				    pd->name, limit, limit == 1 ? "" : "s"),
		       false;
	ro->index = q;
	ro->result = result;
	return true;
}

static bool resolve_roperand(rctx *rc, eng_roperand *ro)
{
	bool ok = true;
	if (ro->kind == RO_PNODE && ro->result < 0)
		ok = resolve_ref(rc, ro);
	if (ro->kind == RO_CAPTURE && ro->index < 0)
		ok = false; /* reported while parsing */
	if (ro->fallback && !resolve_roperand(rc, ro->fallback))
		ok = false;
	return ok;
}

static bool add_output(eng_cc *cc, int pnode, int presult, const eng_roperand *with, eng_loc at)
{
	eng_rule *r = cc->r;
	for (int i = 0; i < r->noutputs; i++)
		if (r->outputs[i].pnode == pnode && r->outputs[i].presult == presult) {
			eng_cc_error(cc, at, "'%s' is replaced twice", r->pnodes[pnode].result_names[presult]);
			return true;
		}
	if (with->kind == RO_NONE)
		return eng_cc_error(cc, at, "a replaced value cannot be absent (_)"), true;
	eng_output_map *v = eng_grow(cc->rs, r->outputs, r->noutputs, &cc->ocap, sizeof *v);
	if (!v)
		return eng_cc_oom(cc, at), false;
	r->outputs = v;
	v[r->noutputs++] = (eng_output_map){pnode, presult, *with};
	return true;
}

/* Every local named like a pattern value replaces that value. */
static void make_outputs(rctx *rc)
{
	eng_cc *cc = rc->cc;
	for (int i = 0; i < rc->nlocals && !cc->oom; i++) {
		local *l = &rc->locals[i];
		int result, q = eng_pnode_by_name(cc->r, l->name, strlen(l->name), &result);
		if (q < 0)
			continue;
		eng_roperand with = {.kind = RO_RNODE, .index = l->rnode, .result = l->result, .loc = l->loc};
		if (l->rnode < 0) {
			l->used = true;
			if (l->bad || !resolve_roperand(rc, &l->alias))
				continue;
			if (!copy_roperand(cc, &with, &l->alias, l->alias.loc))
				continue;
		}
		add_output(cc, q, result, &with, l->loc);
	}
}

/* ---------------------------------------------------------------- checks */

/* Operand expressions, each once (an alias's copies share it). */
typedef struct seen {
	const eng_ex **v;
	int n, cap;
} seen;

static void check_operand_exprs(eng_cc *cc, const eng_roperand *ro, seen *done)
{
	for (; ro; ro = ro->fallback) {
		if (ro->kind != RO_EXPR)
			continue;
		int i = 0;
		while (i < done->n && done->v[i] != ro->expr)
			i++;
		if (i < done->n)
			continue;
		const eng_ex **v = eng_grow(cc->rs, done->v, done->n, &done->cap, sizeof *v);
		if (!v)
			return (void)eng_cc_oom(cc, ro->loc);
		done->v = v;
		v[done->n++] = ro->expr;
		eng_check_expr(cc, ro->expr, ECTX_OPERAND, IR_ATTR_UNDEF);
	}
}

static void check_exprs(rctx *rc)
{
	eng_cc *cc = rc->cc;
	const eng_rule *r = cc->r;
	seen done = {0};
	for (int i = 0; i < r->nrnodes; i++) {
		eng_check_rattrs(cc, &r->rnodes[i]);
		for (int k = 0; k < r->rnodes[i].nins; k++)
			check_operand_exprs(cc, &r->rnodes[i].ins[k], &done);
	}
	for (int i = 0; i < r->noutputs; i++)
		check_operand_exprs(cc, &r->outputs[i].with, &done);
	for (int i = 0; i < rc->nlocals; i++)
		if (rc->locals[i].rnode < 0 && !rc->locals[i].bad)
			check_operand_exprs(cc, &rc->locals[i].alias, &done);
}

static void resolve_aliases(rctx *rc)
{
	for (int i = 0; i < rc->nlocals; i++) {
		local *l = &rc->locals[i];
		if (l->rnode >= 0 || l->bad)
			continue;
		l->resolving = true;
		l->bad = !resolve_roperand(rc, &l->alias);
		l->resolving = false;
	}
}

static void warn_unused(rctx *rc)
{
	for (int i = 0; i < rc->nlocals; i++) {
		const local *l = &rc->locals[i];
		int result;
		if (!l->used && eng_pnode_by_name(rc->cc->r, l->name, strlen(l->name), &result) < 0)
			ir_diag_add(rc->cc->d, IR_WARNING, l->loc.file, l->loc.line, l->loc.col,
				    "'%s' is never used: it is not a replaced pattern value", l->name);
	}
}

/* An output name of a function body: a local of the body or a formal. */
static void resolve_body_output(rctx *rc, const char *name, eng_loc at, eng_roperand *out)
{
	eng_cc *cc = rc->cc;
	*out = (eng_roperand){.kind = RO_NONE, .loc = at};
	int cap = eng_capture_by_name(cc->r, name, strlen(name));
	local *l = find_local(rc, name, strlen(name));
	if (cap >= 0) {
		*out = (eng_roperand){.kind = RO_CAPTURE, .index = cap, .loc = at};
	} else if (!l) {
		eng_cc_error(cc, at, "output '%s' is not defined by the body (a name on the left of a body line, "
				     "or an input)", name);
	} else if (l->rnode >= 0) {
		l->used = true;
		*out = (eng_roperand){.kind = RO_RNODE, .index = l->rnode, .result = l->result, .loc = at};
	} else if (!l->bad && resolve_roperand(rc, &l->alias)) {
		l->used = true;
		copy_roperand(cc, out, &l->alias, at);
	}
}

void eng_compile_body(eng_cc *cc, const eng_text *t, const char *const *outs, const eng_loc *locs, int nouts,
		      eng_roperand *out_ops)
{
	rctx rc = {.cc = cc};
	eng_rule *r = cc->r;
	parse_replace(&rc, t);
	if (cc->oom)
		return;
	int before = cc->nerrors;
	resolve_aliases(&rc);
	for (int i = 0; i < r->nrnodes; i++)
		for (int k = 0; k < r->rnodes[i].nins; k++)
			resolve_roperand(&rc, &r->rnodes[i].ins[k]);
	for (int i = 0; i < nouts; i++)
		resolve_body_output(&rc, outs[i], locs[i], &out_ops[i]);
	if (cc->nerrors == before)
		warn_unused(&rc);
	if (cc->nerrors == before && r->nrnodes > 0)
		eng_order_rnodes(cc);
	check_exprs(&rc);
}

/* ---------------------------------------------------------------- fuse */

/* The sinks' named results become the call's, in pattern order. */
static void fuse_outputs(eng_cc *cc, eng_rnode *rn)
{
	eng_rule *r = cc->r;
	for (int p = 0; p < r->npnodes; p++) {
		bool used = false;
		for (int q = 0; q < r->npnodes && !used; q++)
			for (int i = 0; i < r->pnodes[q].nins; i++)
				used = used || (r->pnodes[q].ins[i].kind == PO_NODE && r->pnodes[q].ins[i].index == p);
		for (int k = 0; !used && k < r->pnodes[p].nresults; k++) {
			if (strcmp(r->pnodes[p].result_names[k], "_") == 0)
				continue;
			eng_roperand with = {.kind = RO_RNODE, .index = 0, .result = rn->nresults, .loc = rn->loc};
			if (!add_output(cc, p, k, &with, rn->loc))
				return;
			rn->result_names[rn->nresults++] = r->pnodes[p].result_names[k];
		}
	}
	rn->name = rn->nresults ? rn->result_names[0] : NULL;
}

static void make_fuse(eng_cc *cc, eng_rnode *rn)
{
	eng_rule *r = cc->r;
	int n = 0;
	if (r->allow_escape)
		eng_cc_error(cc, rn->loc, "fuse replaces the whole match by one call: allow_escape would keep part of it");
	for (int i = 0; i < r->ncaptures; i++)
		if (r->captures[i].is_list)
			eng_cc_error(cc, r->captures[i].loc, "fuse makes the match's operands its inputs: a variadic "
							     "capture ($%s...) would make their number vary", r->captures[i].name);
	for (int p = 0; p < r->npnodes; p++)
		n += r->pnodes[p].nresults;
	if (!(rn->result_names = eng_alloc(cc->rs, (size_t)(n + 1) * sizeof *rn->result_names)))
		return (void)eng_cc_oom(cc, rn->loc);
	fuse_outputs(cc, rn);
	if (new_rnode(cc, rn) >= 0) {
		r->fuse_domain = rn->domain;
		r->fuse_op = rn->op;
	}
}

/* `fuse [domain::]Op` as the whole replacement: true when t is one
 * (errors reported). */
static bool parse_fuse(eng_cc *cc, const eng_text *t)
{
	eng_lexer lx;
	eng_lex_init(&lx, t, true, cc->d);
	eng_tok next = eng_lex_peek(&lx);
	if (lx.tok.kind != TK_NAME || !tok_text_is(&lx, "fuse") || next.kind != TK_NAME)
		return false;
	eng_lex_next(&lx);
	eng_rnode rn = {.loc = eng_tok_loc(&lx)};
	if (!eng_parse_domain(cc, &lx, &rn.domain))
		return true;
	if (lx.tok.kind != TK_NAME)
		return eng_syntax_error(cc, &lx, "the fused op's name"), true;
	if (!(rn.op = eng_strdup(cc->rs, lx.t->s + lx.tok.pos, lx.tok.end - lx.tok.pos)))
		return eng_cc_oom(cc, rn.loc), true;
	eng_lex_next(&lx);
	if (lx.tok.kind != TK_EOF)
		return eng_syntax_error(cc, &lx, "the end of the replacement (fuse is the whole of it)"), true;
	if (!rn.domain || eng_func_find(cc->rs, rn.domain, rn.op))
		eng_cc_error(cc, rn.loc, "fuse makes a function of its own: name it domain::Op, and not after a "
					 "function of the rule files");
	else if (!cc->pattern_failed)
		make_fuse(cc, &rn);
	return true;
}

void eng_compile_replace(eng_cc *cc, const eng_text *t)
{
	rctx rc = {.cc = cc};
	if (t && parse_fuse(cc, t))
		return;
	if (t)
		parse_replace(&rc, t);
	if (cc->pattern_failed || cc->oom)
		return;
	eng_rule *r = cc->r;
	int before = cc->nerrors;
	resolve_aliases(&rc);
	for (int i = 0; i < r->nrnodes; i++)
		for (int k = 0; k < r->rnodes[i].nins; k++)
			resolve_roperand(&rc, &r->rnodes[i].ins[k]);
	make_outputs(&rc);
	warn_unused(&rc);
	if (cc->nerrors == before && r->nrnodes > 0)
		eng_order_rnodes(cc);
	check_exprs(&rc);
	eng_check_sinks(cc);
}
