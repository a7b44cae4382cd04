/* Evaluation of rule expressions over a (partial) match: exact int64
 * arithmetic, float promotion, facts about matched values (shapes, dtypes,
 * attributes, constants, uses).  An unknown fact makes the evaluation fail
 * with a reason, so the constraint does not hold. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

/* ---------------------------------------------------------------- scratch */

struct eng_scratch_block {
	eng_scratch_block *next;
	size_t used, cap;
	eng_ev items[];
};

static eng_ev *scratch_alloc(eng_scratch *s, size_t n)
{
	if (n == 0)
		n = 1;
	if (!s->head || s->head->cap - s->head->used < n) {
		size_t cap = n > 256 ? n : 256;
		eng_scratch_block *b = malloc(sizeof *b + cap * sizeof(eng_ev));
		if (!b)
			return NULL;
		b->next = s->head;
		b->used = 0;
		b->cap = cap;
		s->head = b;
	}
	eng_ev *p = s->head->items + s->head->used;
	s->head->used += n;
	memset(p, 0, n * sizeof *p);
	return p;
}

void eng_scratch_reset(eng_scratch *s)
{
	if (!s->head)
		return;
	eng_scratch_block *keep = s->head, *b = keep->next;
	while (b) {
		eng_scratch_block *next = b->next;
		free(b);
		b = next;
	}
	keep->next = NULL;
	keep->used = 0;
}

void eng_scratch_free(eng_scratch *s)
{
	eng_scratch_reset(s);
	free(s->head);
	s->head = NULL;
}

/* ---------------------------------------------------------------- context */

bool eng_eval_fail(eng_evalctx *c, const char *fmt, ...)
{
	if (c->why && c->why_n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, c->why_n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static eng_ev ev_int(int64_t i)
{
	return (eng_ev){.kind = EV_INT, .i = i};
}

static eng_ev ev_float(double f)
{
	return (eng_ev){.kind = EV_FLOAT, .f = f};
}

static eng_ev ev_bool(bool b)
{
	return (eng_ev){.kind = EV_BOOL, .i = b};
}

bool eng_eval_list(eng_evalctx *c, eng_ev *out, size_t n)
{
	eng_ev *items = scratch_alloc(c->s, n);
	if (!items)
		return eng_eval_fail(c, "out of memory");
	*out = (eng_ev){.kind = EV_LIST, .items = items, .n = (uint32_t)n};
	return true;
}

static const char *kind_name(eng_ev_kind k)
{
	static const char *const names[] = {"none", "an int", "a float", "a bool", "a string", "a list", "a value",
					    "a node"};
	return names[k];
}

/* The name of the capture or node an argument expression refers to. */
static const char *ref_name(const eng_evalctx *c, const eng_ex *e)
{
	if (!c->b)
		return e->s ? e->s : "?";
	if (e->kind == EX_CAPTURE && e->ref >= 0)
		return c->b->rule->captures[e->ref].name;
	if (e->kind == EX_NODE && e->ref >= 0)
		return c->b->rule->pnodes[e->ref].name;
	return "?";
}

/* ---------------------------------------------------------------- numbers */

static bool is_number(const eng_ev *v)
{
	return v->kind == EV_INT || v->kind == EV_FLOAT || v->kind == EV_BOOL;
}

static double as_double(const eng_ev *v)
{
	return v->kind == EV_FLOAT ? v->f : (double)v->i;
}

bool eng_ev_equal(const eng_ev *a, const eng_ev *b)
{
	if (is_number(a) && is_number(b)) {
		if (a->kind != EV_FLOAT && b->kind != EV_FLOAT)
			return a->i == b->i;
		return as_double(a) == as_double(b);
	}
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case EV_NONE: return true;
	case EV_STRING: return a->s_len == b->s_len && memcmp(a->s, b->s, a->s_len) == 0;
	case EV_LIST:
		if (a->n != b->n)
			return false;
		for (uint32_t i = 0; i < a->n; i++)
			if (!eng_ev_equal(&a->items[i], &b->items[i]))
				return false;
		return true;
	default: return a->i == b->i;
	}
}

static bool int_arith(eng_evalctx *c, int op, int64_t x, int64_t y, eng_ev *out)
{
	int64_t r = 0;
	bool overflow = false;
	switch ((eng_binop)op) {
	case OP_ADD: overflow = __builtin_add_overflow(x, y, &r); break;
	case OP_SUB: overflow = __builtin_sub_overflow(x, y, &r); break;
	case OP_MUL: overflow = __builtin_mul_overflow(x, y, &r); break;
	default:
		if (y == 0)
			return eng_eval_fail(c, "division by zero");
		if (x == INT64_MIN && y == -1)
			overflow = true;
		else
			r = op == OP_DIV ? x / y : x % y;
		break;
	}
	if (overflow)
		return eng_eval_fail(c, "integer overflow");
	*out = ev_int(r);
	return true;
}

static bool arith(eng_evalctx *c, int op, const eng_ev *a, const eng_ev *b, eng_ev *out)
{
	static const char *const sym[] = {[OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/",
					  [OP_MOD] = "%"};
	if (a->kind != EV_INT && a->kind != EV_FLOAT)
		return eng_eval_fail(c, "operator %s wants numbers, got %s", sym[op], kind_name(a->kind));
	if (b->kind != EV_INT && b->kind != EV_FLOAT)
		return eng_eval_fail(c, "operator %s wants numbers, got %s", sym[op], kind_name(b->kind));
	if (a->kind == EV_INT && b->kind == EV_INT)
		return int_arith(c, op, a->i, b->i, out);
	if (op == OP_MOD)
		return eng_eval_fail(c, "operator %% wants ints");
	double x = as_double(a), y = as_double(b);
	if (op == OP_DIV && y == 0)
		return eng_eval_fail(c, "division by zero");
	*out = ev_float(op == OP_ADD ? x + y : op == OP_SUB ? x - y : op == OP_MUL ? x * y : x / y);
	return true;
}

static bool compare(eng_evalctx *c, int op, const eng_ev *a, const eng_ev *b, eng_ev *out)
{
	if (!is_number(a) || !is_number(b))
		return eng_eval_fail(c, "an ordering comparison wants numbers, got %s and %s", kind_name(a->kind),
			    kind_name(b->kind));
	int cmp;
	if (a->kind != EV_FLOAT && b->kind != EV_FLOAT)
		cmp = (a->i > b->i) - (a->i < b->i);
	else
		cmp = (as_double(a) > as_double(b)) - (as_double(a) < as_double(b));
	bool r = op == OP_LT ? cmp < 0 : op == OP_LE ? cmp <= 0 : op == OP_GT ? cmp > 0 : cmp >= 0;
	*out = ev_bool(r);
	return true;
}

static bool truth(eng_evalctx *c, const eng_ex *e, bool *r)
{
	eng_ev v;
	if (!eng_eval_in(c, e, &v))
		return false;
	if (v.kind != EV_BOOL)
		return eng_eval_fail(c, "wanted a bool, got %s", kind_name(v.kind));
	*r = v.i != 0;
	return true;
}

static bool eval_binary(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	eng_ev a, b;
	if (e->op == OP_OR || e->op == OP_AND) {
		bool x = false, y = false;
		if (!truth(c, e->args[0], &x))
			return false;
		if (x == (e->op == OP_OR)) {
			*out = ev_bool(x);
			return true;
		}
		if (!truth(c, e->args[1], &y))
			return false;
		*out = ev_bool(y);
		return true;
	}
	if (!eng_eval_in(c, e->args[0], &a) || !eng_eval_in(c, e->args[1], &b))
		return false;
	switch ((eng_binop)e->op) {
	case OP_EQ: *out = ev_bool(eng_ev_equal(&a, &b)); return true;
	case OP_NE: *out = ev_bool(!eng_ev_equal(&a, &b)); return true;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE: return compare(c, e->op, &a, &b, out);
	default: return arith(c, e->op, &a, &b, out);
	}
}

static bool eval_unary(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	if (e->op == '!') {
		bool x = false;
		if (!truth(c, e->args[0], &x))
			return false;
		*out = ev_bool(!x);
		return true;
	}
	if (!eng_eval_in(c, e->args[0], out))
		return false;
	if (out->kind == EV_FLOAT) {
		out->f = -out->f;
		return true;
	}
	if (out->kind != EV_INT)
		return eng_eval_fail(c, "unary - wants a number, got %s", kind_name(out->kind));
	if (out->i == INT64_MIN)
		return eng_eval_fail(c, "integer overflow");
	out->i = -out->i;
	return true;
}

/* ---------------------------------------------------------------- references */

static bool eval_capture(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	const eng_binding *b = c->b;
	if (!b || !b->cap_bound || !b->cap_bound[e->ref])
		return eng_eval_fail(c, "$%s is not bound yet", ref_name(c, e));
	if (b->rule->captures[e->ref].is_list) {
		uint32_t n = b->list_n ? b->list_n[e->ref] : 0;
		if (!eng_eval_list(c, out, n))
			return false;
		for (uint32_t i = 0; i < n; i++)
			out->items[i] = b->list[e->ref][i] ? (eng_ev){.kind = EV_VALUE, .i = b->list[e->ref][i]}
							   : (eng_ev){.kind = EV_NONE};
		return true;
	}
	ir_val v = b->cap[e->ref];
	*out = v == IR_NONE ? (eng_ev){.kind = EV_NONE} : (eng_ev){.kind = EV_VALUE, .i = v};
	return true;
}

static bool eval_node(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	if (!c->b || !c->b->pnode || !c->b->pnode[e->ref])
		return eng_eval_fail(c, "'%s' is not bound yet", ref_name(c, e));
	*out = (eng_ev){.kind = EV_NODE, .i = c->b->pnode[e->ref]};
	return true;
}

static bool eval_list(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	if (!eng_eval_list(c, out, (size_t)e->nargs))
		return false;
	for (int i = 0; i < e->nargs; i++)
		if (!eng_eval_in(c, e->args[i], &out->items[i]))
			return false;
	return true;
}

bool eng_eval_in(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	switch (e->kind) {
	case EX_INT: *out = ev_int(e->i); return true;
	case EX_FLOAT: *out = ev_float(e->f); return true;
	case EX_BOOL: *out = ev_bool(e->i != 0); return true;
	case EX_NONE: *out = (eng_ev){.kind = EV_NONE}; return true;
	case EX_STRING: *out = (eng_ev){.kind = EV_STRING, .s = e->s, .s_len = e->s_len}; return true;
	case EX_LIST: return eval_list(c, e, out);
	case EX_CAPTURE: return eval_capture(c, e, out);
	case EX_NODE: return eval_node(c, e, out);
	case EX_UNARY: return eval_unary(c, e, out);
	case EX_BINARY: return eval_binary(c, e, out);
	case EX_COND: {
		bool x = false;
		return truth(c, e->args[0], &x) && eng_eval_in(c, e->args[x ? 1 : 2], out);
	}
	case EX_CALL: return eng_eval_builtin(c, e, out);
	}
	return eng_eval_fail(c, "bad expression");
}

bool eng_eval(const eng_ex *e, const ir_graph *g, const eng_binding *b, eng_scratch *s, eng_ev *out, char *why,
	      size_t why_n)
{
	eng_evalctx c = {g ? g : b->g, b, s, why, why_n};
	return eng_eval_in(&c, e, out);
}

bool eng_ex_ready(const eng_ex *e, const eng_binding *b)
{
	if (e->kind == EX_CAPTURE)
		return b->cap_bound && b->cap_bound[e->ref];
	if (e->kind == EX_NODE)
		return b->pnode && b->pnode[e->ref] != 0;
	for (int i = 0; i < e->nargs; i++)
		if (!eng_ex_ready(e->args[i], b))
			return false;
	return true;
}
