/* The static type checker of rule expressions: resolves names to pattern
 * nodes and captures, checks operators, builtin signatures and the type a
 * context wants (a bool constraint, an attribute's kind, a constant). */
#include <string.h>

#include "engine_internal.h"

typedef enum { T_ERR, T_ANY, T_INT, T_FLOAT, T_BOOL, T_STRING, T_LIST, T_NONE, T_VALUE, T_VALUES, T_NODE, T_CONST } ty;

static const char *const ty_names[] = {
	[T_ERR] = "an error", [T_ANY] = "a value of unknown type", [T_INT] = "an int", [T_FLOAT] = "a float",
	[T_BOOL] = "a bool", [T_STRING] = "a string", [T_LIST] = "a list", [T_NONE] = "none",
	[T_VALUE] = "a capture", [T_VALUES] = "a list capture", [T_NODE] = "a pattern node",
	[T_CONST] = "a constant operand (fill/const)",
};

/* "int", "the pattern node 'conv'", "the capture $x", ... */
static const char *describe(const eng_ex *e, ty t, char *buf, size_t n)
{
	if (e->kind == EX_NODE && t == T_NODE)
		snprintf(buf, n, "the pattern node '%s'", e->s);
	else if (e->kind == EX_CAPTURE && (t == T_VALUE || t == T_VALUES))
		snprintf(buf, n, "the %scapture $%s", t == T_VALUES ? "list " : "", e->s);
	else
		snprintf(buf, n, "%s", ty_names[t]);
	return buf;
}

static bool is_num(ty t)
{
	return t == T_INT || t == T_FLOAT || t == T_ANY;
}

static bool is_data(ty t)
{
	return t == T_ANY || t == T_INT || t == T_FLOAT || t == T_BOOL || t == T_STRING || t == T_LIST;
}

static ty check(eng_cc *cc, eng_ex *e);

static ty resolve_node(eng_cc *cc, eng_ex *e)
{
	int result;
	e->ref = eng_pnode_by_name(cc->r, e->s, e->s_len, &result);
	if (e->ref >= 0)
		return T_NODE;
	const char *cands[64];
	size_t n = 0;
	for (int i = 0; i < cc->r->npnodes; i++)
		for (int k = 0; k < cc->r->pnodes[i].nresults && n < 64; k++)
			cands[n++] = cc->r->pnodes[i].result_names[k];
	const char *near = eng_closest(e->s, e->s_len, cands, n);
	if (near)
		eng_cc_error(cc, e->loc, "unknown name '%s' (did you mean '%s'?)", e->s, near);
	else
		eng_cc_error(cc, e->loc, "unknown name '%s': expressions refer to pattern nodes and $captures",
			     e->s);
	return T_ERR;
}

static ty resolve_capture(eng_cc *cc, eng_ex *e)
{
	e->ref = eng_capture_by_name(cc->r, e->s, e->s_len);
	if (e->ref >= 0)
		return cc->r->captures[e->ref].is_list ? T_VALUES : T_VALUE;
	const char *cands[64];
	size_t n = 0;
	for (int i = 0; i < cc->r->ncaptures && n < 64; i++)
		cands[n++] = cc->r->captures[i].name;
	const char *near = eng_closest(e->s, e->s_len, cands, n);
	if (near)
		eng_cc_error(cc, e->loc, "unknown capture $%s (did you mean $%s?)", e->s, near);
	else
		eng_cc_error(cc, e->loc, "unknown capture $%s: captures are bound by the pattern", e->s);
	return T_ERR;
}

static ty check_list(eng_cc *cc, eng_ex *e)
{
	char buf[96];
	ty res = T_LIST;
	for (int i = 0; i < e->nargs; i++) {
		ty t = check(cc, e->args[i]);
		if (t == T_ERR) {
			res = T_ERR;
		} else if (!is_data(t) && t != T_NONE) {
			eng_cc_error(cc, e->args[i]->loc, "a list element cannot be %s",
				     describe(e->args[i], t, buf, sizeof buf));
			res = T_ERR;
		}
	}
	return res;
}

static ty operand_error(eng_cc *cc, const eng_ex *op, const char *want, const eng_ex *a, ty ta, const eng_ex *b,
			ty tb)
{
	static const char *const names[] = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
	char ba[96], bb[96];
	if (!b)
		eng_cc_error(cc, op->loc, "operator %c wants %s, got %s", op->op, want, describe(a, ta, ba, sizeof ba));
	else
		eng_cc_error(cc, op->loc, "operator %s wants %s, got %s and %s", names[op->op], want,
			     describe(a, ta, ba, sizeof ba), describe(b, tb, bb, sizeof bb));
	return T_ERR;
}

static ty check_unary(eng_cc *cc, eng_ex *e)
{
	ty t = check(cc, e->args[0]);
	if (t == T_ERR)
		return T_ERR;
	if (e->op == '!')
		return t == T_BOOL || t == T_ANY ? T_BOOL : operand_error(cc, e, "a bool", e->args[0], t, NULL, 0);
	return is_num(t) ? t : operand_error(cc, e, "a number", e->args[0], t, NULL, 0);
}

/* Which types == and != may compare. */
static bool comparable(ty a, ty b)
{
	if (a == b && a != T_CONST && a != T_VALUES)
		return true;
	if (is_num(a) && is_num(b))
		return true;
	if (a == T_ANY || b == T_ANY)
		return is_data(a) || is_data(b) || a == T_NONE || b == T_NONE;
	return (a == T_NONE && b == T_VALUE) || (a == T_VALUE && b == T_NONE);
}

static ty check_binary(eng_cc *cc, eng_ex *e)
{
	eng_ex *a = e->args[0], *b = e->args[1];
	ty ta = check(cc, a), tb = check(cc, b);
	if (ta == T_ERR || tb == T_ERR)
		return T_ERR;
	switch ((eng_binop)e->op) {
	case OP_OR:
	case OP_AND:
		if ((ta == T_BOOL || ta == T_ANY) && (tb == T_BOOL || tb == T_ANY))
			return T_BOOL;
		return operand_error(cc, e, "bools", a, ta, b, tb);
	case OP_EQ:
	case OP_NE:
		return comparable(ta, tb) ? T_BOOL : operand_error(cc, e, "operands of the same type", a, ta, b, tb);
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		return is_num(ta) && is_num(tb) ? T_BOOL : operand_error(cc, e, "numbers", a, ta, b, tb);
	case OP_MOD:
		if ((ta == T_INT || ta == T_ANY) && (tb == T_INT || tb == T_ANY))
			return ta == T_ANY || tb == T_ANY ? T_ANY : T_INT;
		return operand_error(cc, e, "ints", a, ta, b, tb);
	default:
		if (!is_num(ta) || !is_num(tb))
			return operand_error(cc, e, "numbers", a, ta, b, tb);
		if (ta == T_ANY || tb == T_ANY)
			return T_ANY;
		return ta == T_FLOAT || tb == T_FLOAT ? T_FLOAT : T_INT;
	}
}

/* The type of `c ? a : b`. */
static ty unify(ty a, ty b)
{
	if (a == b)
		return a;
	if ((a == T_INT && b == T_FLOAT) || (a == T_FLOAT && b == T_INT))
		return T_FLOAT;
	if (a == T_ANY || b == T_ANY || a == T_NONE || b == T_NONE)
		return T_ANY;
	return T_ERR;
}

static ty check_cond(eng_cc *cc, eng_ex *e)
{
	char ba[96], bb[96];
	ty tc = check(cc, e->args[0]), ta = check(cc, e->args[1]), tb = check(cc, e->args[2]);
	if (tc == T_ERR || ta == T_ERR || tb == T_ERR)
		return T_ERR;
	if (tc != T_BOOL && tc != T_ANY) {
		eng_cc_error(cc, e->args[0]->loc, "the condition of ?: must be a bool, got %s",
			     describe(e->args[0], tc, ba, sizeof ba));
		return T_ERR;
	}
	ty t = unify(ta, tb);
	if (!is_data(ta) && ta != T_NONE)
		t = T_ERR;
	if (!is_data(tb) && tb != T_NONE)
		t = T_ERR;
	if (t == T_ERR)
		eng_cc_error(cc, e->loc, "the branches of ?: must be data of one type, got %s and %s",
			     describe(e->args[1], ta, ba, sizeof ba), describe(e->args[2], tb, bb, sizeof bb));
	return t;
}

/* ---- calls */

/* Argument letters: v value, n pattern node, i int, N number, s string,
 * B number or bool, S literal string, R literal regex, D literal dtype,
 * l list, K list or number, c list/list capture/string, a any data or
 * none, M see min/max. */
static const struct fnsig {
	int min, max;
	const char *args;
} sigs[FN_COUNT] = {
	[FN_DIM] = {2, 2, "vi"}, [FN_RANK] = {1, 1, "v"}, [FN_NUMEL] = {1, 1, "v"}, [FN_DTYPE] = {1, 1, "v"},
	[FN_SHAPE] = {1, 1, "v"}, [FN_ATTR] = {2, 3, "nSa"}, [FN_HAS_ATTR] = {2, 2, "nS"},
	[FN_IS_CONST] = {1, 1, "v"}, [FN_USES] = {1, 1, "v"}, [FN_IS_OUTPUT] = {1, 1, "v"},
	[FN_MATCHES] = {2, 2, "sR"}, [FN_VALUE] = {1, 1, "v"}, [FN_LEN] = {1, 1, "c"}, [FN_ABS] = {1, 1, "N"},
	[FN_MIN] = {1, 16, "M"}, [FN_MAX] = {1, 16, "M"}, [FN_OP] = {1, 1, "n"}, [FN_FILL] = {2, 3, "lBD"},
	[FN_CONST] = {1, 2, "KD"},
};

static const ty fn_result[FN_COUNT] = {
	[FN_DIM] = T_INT, [FN_RANK] = T_INT, [FN_NUMEL] = T_INT, [FN_DTYPE] = T_STRING, [FN_SHAPE] = T_LIST,
	[FN_ATTR] = T_ANY, [FN_HAS_ATTR] = T_BOOL, [FN_IS_CONST] = T_BOOL, [FN_USES] = T_INT,
	[FN_IS_OUTPUT] = T_BOOL, [FN_MATCHES] = T_BOOL, [FN_VALUE] = T_ANY, [FN_LEN] = T_INT, [FN_ABS] = T_ANY,
	[FN_MIN] = T_ANY, [FN_MAX] = T_ANY, [FN_OP] = T_STRING, [FN_FILL] = T_CONST, [FN_CONST] = T_CONST,
};

static const char *want_text(char c)
{
	switch (c) {
	case 'v': return "a value ($capture)";
	case 'n': return "a pattern node name";
	case 'i': return "an int";
	case 'N': return "a number";
	case 'B': return "a number or a bool";
	case 's': return "a string";
	case 'S': return "a literal string";
	case 'R': return "a literal regex string";
	case 'D': return "a literal dtype string (\"f32\", \"i64\", ...)";
	case 'l': return "a list (a shape)";
	case 'K': return "a number or a list";
	case 'c': return "a list, a list capture or a string";
	default: return "data or none";
	}
}

static bool arg_fits(char c, const eng_ex *a, ty t)
{
	switch (c) {
	case 'v': return t == T_VALUE;
	case 'n': return t == T_NODE;
	case 'i': return t == T_INT || t == T_ANY;
	case 'N': return is_num(t);
	case 'B': return is_num(t) || t == T_BOOL;
	case 's': return t == T_STRING || t == T_ANY;
	case 'S':
	case 'R': return a->kind == EX_STRING;
	case 'D': return a->kind == EX_STRING && ir_dtype_parse(a->s, a->s_len) != IR_UNDEF;
	case 'l': return t == T_LIST || t == T_ANY;
	case 'K': return t == T_LIST || is_num(t);
	case 'c': return t == T_LIST || t == T_VALUES || t == T_STRING || t == T_ANY;
	default: return is_data(t) || t == T_NONE;
	}
}

static bool check_arity(eng_cc *cc, const eng_ex *e)
{
	const struct fnsig *sg = &sigs[e->fn];
	const char *name = eng_fn_name(e->fn);
	if (e->nargs >= sg->min && e->nargs <= sg->max)
		return true;
	if (sg->min == sg->max)
		eng_cc_error(cc, e->loc, "%s() takes %d argument%s, got %d", name, sg->min, sg->min == 1 ? "" : "s",
			     e->nargs);
	else if (sg->max - sg->min == 1)
		eng_cc_error(cc, e->loc, "%s() takes %d or %d arguments, got %d", name, sg->min, sg->max, e->nargs);
	else
		eng_cc_error(cc, e->loc, "%s() takes %d to %d arguments, got %d", name, sg->min, sg->max, e->nargs);
	return false;
}

static ty kind_type(ir_attr_kind k)
{
	switch (k) {
	case IR_ATTR_INT: return T_INT;
	case IR_ATTR_FLOAT: return T_FLOAT;
	case IR_ATTR_STRING: return T_STRING;
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
	case IR_ATTR_STRINGS: return T_LIST;
	default: return T_ANY;
	}
}

static void join_ops(const eng_pnode *p, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (int i = 0; i < p->nnames && len + 1 < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "|" : "", p->names[i]);
}

/* attr(node, "name" [, default]) / has_attr: the registry's kind when known. */
static ty check_attr_name(eng_cc *cc, eng_ex *e)
{
	const eng_pnode *p = &cc->r->pnodes[e->args[0]->ref];
	const eng_ex *name = e->args[1];
	ir_attr_kind kind;
	const char *near;
	char ops[128];
	if (p->opkind != OPM_NAMES)
		return T_ANY;
	int found = eng_ops_attr(p->domain, p->names, p->nnames, name->s, &kind, &near);
	if (found < 0)
		return T_ANY;
	if (found > 0)
		return kind_type(kind);
	join_ops(p, ops, sizeof ops);
	eng_cc_error(cc, name->loc, "%s%s %s attribute '%s'%s%s%s", p->nnames > 1 ? "none of " : "", ops,
		     p->nnames > 1 ? "has an" : "has no", name->s, near ? " (did you mean '" : "", near ? near : "",
		     near ? "'?)" : "");
	return T_ERR;
}

static ty check_minmax(eng_cc *cc, eng_ex *e, const ty *ts)
{
	char buf[96];
	if (e->nargs == 1) {
		if (ts[0] == T_LIST || ts[0] == T_ANY)
			return T_ANY;
		eng_cc_error(cc, e->args[0]->loc, "%s() of one argument wants a list, got %s", eng_fn_name(e->fn),
			     describe(e->args[0], ts[0], buf, sizeof buf));
		return T_ERR;
	}
	ty res = T_INT;
	for (int i = 0; i < e->nargs; i++) {
		if (!is_num(ts[i])) {
			eng_cc_error(cc, e->args[i]->loc, "%s() wants numbers as arguments, got %s", eng_fn_name(e->fn),
				     describe(e->args[i], ts[i], buf, sizeof buf));
			return T_ERR;
		}
		if (ts[i] == T_ANY || (ts[i] == T_FLOAT && res != T_ANY))
			res = ts[i];
	}
	return res;
}

static ty call_result(eng_cc *cc, eng_ex *e, const ty *ts)
{
	switch (e->fn) {
	case FN_ATTR: {
		ty t = check_attr_name(cc, e);
		if (t == T_ERR || e->nargs < 3)
			return t;
		ty u = unify(t, ts[2]);
		if (u == T_ERR) {
			char buf[96];
			eng_cc_error(cc, e->args[2]->loc, "the default of attr() must be %s, got %s", ty_names[t],
				     describe(e->args[2], ts[2], buf, sizeof buf));
		}
		return u;
	}
	case FN_HAS_ATTR: return check_attr_name(cc, e) == T_ERR ? T_ERR : T_BOOL;
	case FN_ABS: return ts[0];
	case FN_MIN:
	case FN_MAX: return check_minmax(cc, e, ts);
	default: return fn_result[e->fn];
	}
}

static ty check_call(eng_cc *cc, eng_ex *e)
{
	ty ts[16];
	bool ok = true;
	for (int i = 0; i < e->nargs; i++)
		if ((ts[i] = check(cc, e->args[i])) == T_ERR)
			ok = false;
	if (!check_arity(cc, e) || !ok)
		return T_ERR;
	const char *sig = sigs[e->fn].args;
	for (int i = 0; i < e->nargs && sig[0] != 'M'; i++) {
		char c = sig[i < (int)strlen(sig) ? i : (int)strlen(sig) - 1], buf[96];
		if (c == 'R' && e->args[i]->kind == EX_STRING && !e->args[i]->re)
			return T_ERR; /* its regex error was reported */
		if (arg_fits(c, e->args[i], ts[i]))
			continue;
		if (c == 'D' && e->args[i]->kind == EX_STRING)
			eng_cc_error(cc, e->args[i]->loc, "unknown dtype \"%s\"", e->args[i]->s);
		else
			eng_cc_error(cc, e->args[i]->loc, "%s() wants %s as argument %d, got %s", eng_fn_name(e->fn),
				     want_text(c), i + 1, describe(e->args[i], ts[i], buf, sizeof buf));
		ok = false;
	}
	return ok ? call_result(cc, e, ts) : T_ERR;
}

static ty check(eng_cc *cc, eng_ex *e)
{
	switch (e->kind) {
	case EX_INT: return T_INT;
	case EX_FLOAT: return T_FLOAT;
	case EX_STRING: return T_STRING;
	case EX_BOOL: return T_BOOL;
	case EX_NONE: return T_NONE;
	case EX_LIST: return check_list(cc, e);
	case EX_CAPTURE: return resolve_capture(cc, e);
	case EX_NODE: return resolve_node(cc, e);
	case EX_CALL: return check_call(cc, e);
	case EX_UNARY: return check_unary(cc, e);
	case EX_BINARY: return check_binary(cc, e);
	case EX_COND: return check_cond(cc, e);
	}
	return T_ERR;
}

/* May a value of type t be stored in an attribute of kind k? */
static bool fits_kind(ty t, ir_attr_kind k)
{
	if (t == T_ANY || k == IR_ATTR_UNDEF)
		return true;
	switch (k) {
	case IR_ATTR_INT: return t == T_INT || t == T_BOOL;
	case IR_ATTR_FLOAT: return t == T_FLOAT || t == T_INT;
	case IR_ATTR_STRING: return t == T_STRING;
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
	case IR_ATTR_STRINGS: return t == T_LIST;
	default: return true;
	}
}

static const char *kind_text(ir_attr_kind k)
{
	switch (k) {
	case IR_ATTR_INT: return "an int";
	case IR_ATTR_FLOAT: return "a float";
	case IR_ATTR_STRING: return "a string";
	case IR_ATTR_INTS: return "a list of ints";
	case IR_ATTR_FLOATS: return "a list of floats";
	case IR_ATTR_STRINGS: return "a list of strings";
	default: return "of another kind";
	}
}

bool eng_check_expr(eng_cc *cc, eng_ex *e, eng_ex_ctx ctx, ir_attr_kind want)
{
	char buf[96];
	ty t = check(cc, e);
	if (t == T_ERR)
		return false;
	describe(e, t, buf, sizeof buf);
	if (t == T_CONST && ctx != ECTX_OPERAND) {
		eng_cc_error(cc, e->loc, "%s() makes a constant operand of a replacement; it has no value here",
			     eng_fn_name(e->fn));
		return false;
	}
	switch (ctx) {
	case ECTX_WHERE:
		if (t == T_BOOL || t == T_ANY)
			return true;
		eng_cc_error(cc, e->loc, "a where constraint must be a bool expression, got %s", buf);
		return false;
	case ECTX_OPERAND:
		if (t == T_CONST)
			return true;
		eng_cc_error(cc, e->loc, "an operand expression must be fill(...) or const(...), got %s", buf);
		return false;
	default:
		if (!is_data(t)) {
			eng_cc_error(cc, e->loc,
				     "an attribute value must be an int, float, bool, string or list, got %s", buf);
			return false;
		}
		if (fits_kind(t, want))
			return true;
		eng_cc_error(cc, e->loc, "the attribute is %s, got %s", kind_text(want), buf);
		return false;
	}
}
