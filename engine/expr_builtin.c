/* The builtin functions of rule expressions: facts about matched values
 * (dim, rank, numel, dtype, shape, is_const, uses, is_output, value), about
 * matched nodes (attr, has_attr, op), and small helpers (matches, len, abs,
 * min, max).  fill and const build constants: expr_const.c. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

enum { VALUE_MAX = 1024 }; /* value() reads constants of at most this many elements */

static const char *arg_name(const eng_evalctx *c, const eng_ex *a)
{
	if (a->kind == EX_CAPTURE && a->ref >= 0 && c->b)
		return c->b->rule->captures[a->ref].name;
	if (a->kind == EX_NODE && a->ref >= 0 && c->b)
		return c->b->rule->pnodes[a->ref].name;
	return "the operand";
}

/* Argument i as a graph value; *v = IR_NONE for an absent optional. */
static bool value_arg(eng_evalctx *c, const eng_ex *e, int i, ir_val *v)
{
	eng_ev x;
	if (!eng_eval_in(c, e->args[i], &x))
		return false;
	if (x.kind != EV_VALUE && x.kind != EV_NONE)
		return eng_eval_fail(c, "%s() wants a value", eng_fn_name(e->fn));
	*v = x.kind == EV_VALUE ? (ir_val)x.i : IR_NONE;
	return true;
}

static bool present_value(eng_evalctx *c, const eng_ex *e, ir_val *v)
{
	if (!value_arg(c, e, 0, v))
		return false;
	if (*v == IR_NONE)
		return eng_eval_fail(c, "$%s is absent", arg_name(c, e->args[0]));
	return true;
}

/* The tensor type of argument 0 with a known rank. */
static bool ranked_type(eng_evalctx *c, const eng_ex *e, ir_type *t)
{
	ir_val v = IR_NONE;
	if (!present_value(c, e, &v))
		return false;
	*t = ir_value_at(c->g, v)->type;
	if (t->kind != IR_TYPE_TENSOR || t->rank < 0)
		return eng_eval_fail(c, "the rank of $%s is unknown", arg_name(c, e->args[0]));
	return true;
}

static bool node_arg(eng_evalctx *c, const eng_ex *e, ir_nid *n)
{
	eng_ev x;
	if (!eng_eval_in(c, e->args[0], &x))
		return false;
	if (x.kind != EV_NODE)
		return eng_eval_fail(c, "%s() wants a pattern node", eng_fn_name(e->fn));
	*n = (ir_nid)x.i;
	return true;
}

/* ---------------------------------------------------------------- shapes */

static bool fn_dim(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_type t;
	eng_ev i;
	if (!ranked_type(c, e, &t) || !eng_eval_in(c, e->args[1], &i))
		return false;
	if (i.kind != EV_INT)
		return eng_eval_fail(c, "dim() wants an int axis");
	int64_t k = i.i < 0 ? i.i + t.rank : i.i;
	if (k < 0 || k >= t.rank)
		return eng_eval_fail(c, "dim($%s, %lld) is out of range: its rank is %d", arg_name(c, e->args[0]),
				     (long long)i.i, t.rank);
	const ir_dim *d = ir_type_dims(c->g, t);
	if (d[k].v < 0)
		return eng_eval_fail(c, "dim %lld of $%s is unknown", (long long)k, arg_name(c, e->args[0]));
	*out = (eng_ev){.kind = EV_INT, .i = d[k].v};
	return true;
}

static bool fn_shape(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_type t;
	if (!ranked_type(c, e, &t))
		return false;
	const ir_dim *d = ir_type_dims(c->g, t);
	if (e->fn == FN_RANK) {
		*out = (eng_ev){.kind = EV_INT, .i = t.rank};
		return true;
	}
	if (e->fn == FN_NUMEL) {
		int64_t n = ir_type_numel(c->g, t);
		*out = (eng_ev){.kind = EV_INT, .i = n};
		return n >= 0 || eng_eval_fail(c, "the shape of $%s is not fully known", arg_name(c, e->args[0]));
	}
	if (!eng_eval_list(c, out, (size_t)t.rank))
		return false;
	for (int k = 0; k < t.rank; k++) {
		if (d[k].v < 0)
			return eng_eval_fail(c, "dim %d of $%s is unknown", k, arg_name(c, e->args[0]));
		out->items[k] = (eng_ev){.kind = EV_INT, .i = d[k].v};
	}
	return true;
}

static bool fn_dtype(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_val v = IR_NONE;
	if (!present_value(c, e, &v))
		return false;
	ir_type t = ir_value_at(c->g, v)->type;
	if (t.kind != IR_TYPE_TENSOR || t.dtype == IR_UNDEF)
		return eng_eval_fail(c, "the dtype of $%s is unknown", arg_name(c, e->args[0]));
	const char *s = ir_dtype_name((ir_dtype)t.dtype);
	*out = (eng_ev){.kind = EV_STRING, .s = s, .s_len = strlen(s)};
	return true;
}

/* ---------------------------------------------------------------- uses and constants */

static bool is_constant(const ir_graph *g, ir_val v)
{
	const ir_value *x = ir_value_at(g, v);
	if (x->def_kind == IR_DEF_CONST)
		return true;
	return x->def_kind == IR_DEF_NODE && ir_node_at(g, x->node)->opcode == IR_OP_Constant;
}

static bool fn_uses(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_val v = IR_NONE;
	if (!value_arg(c, e, 0, &v))
		return false;
	int64_t n = 0;
	bool r = false;
	if (v != IR_NONE && e->fn == FN_USES) {
		n = ir_value_at(c->g, v)->nuses;
		for (size_t i = 0; i < ir_graph_noutputs(c->g); i++)
			n += ir_graph_output_at(c->g, i) == v;
	} else if (v != IR_NONE) {
		r = e->fn == FN_IS_OUTPUT ? ir_value_is_output(c->g, v) : is_constant(c->g, v);
	}
	*out = e->fn == FN_USES ? (eng_ev){.kind = EV_INT, .i = n} : (eng_ev){.kind = EV_BOOL, .i = r};
	return true;
}

static bool tensor_ev(eng_evalctx *c, const sim_tensor *t, const char *name, eng_ev *out)
{
	size_t n = sim_numel(t);
	if (n > VALUE_MAX)
		return eng_eval_fail(c, "$%s has %zu elements: value() reads constants of at most %d", name, n,
				     VALUE_MAX);
	bool fl = ir_dtype_is_float(t->dtype), bl = t->dtype == IR_BOOL;
	eng_ev one, *items = &one;
	if (t->rank > 0) {
		if (!eng_eval_list(c, out, n))
			return false;
		items = out->items;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = fl ? (eng_ev){.kind = EV_FLOAT, .f = sim_get_f64(t, i)}
			      : (eng_ev){.kind = bl ? EV_BOOL : EV_INT, .i = sim_get_i64(t, i)};
	if (t->rank == 0)
		*out = one;
	return true;
}

static bool attr_value(eng_evalctx *c, const ir_graph *g, const ir_attr *a, eng_ev *out);

/* value(v): a constant's data, or a Constant node's value attribute. */
static bool fn_value(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_val v = IR_NONE;
	sim_tensor t;
	if (!present_value(c, e, &v))
		return false;
	const char *name = arg_name(c, e->args[0]);
	const ir_value *x = ir_value_at(c->g, v);
	ir_tid tid = x->def_kind == IR_DEF_CONST ? x->tensor : 0;
	if (!tid && is_constant(c->g, v)) {
		static const char *const scalars[] = {"value_float", "value_int", "value_floats", "value_ints"};
		const ir_attr *a = ir_attr_find(c->g, x->node, "value");
		for (size_t i = 0; !a && i < sizeof scalars / sizeof scalars[0]; i++)
			if ((a = ir_attr_find(c->g, x->node, scalars[i])))
				return attr_value(c, c->g, a, out);
		tid = a && a->kind == IR_ATTR_TENSOR ? a->u.t : 0;
	}
	if (!tid)
		return eng_eval_fail(c, "$%s is not a constant", name);
	if (!sim_tensor_view(c->g, tid, &t))
		return eng_eval_fail(c, "the data of $%s cannot be read (dtype)", name);
	return tensor_ev(c, &t, name, out);
}

/* ---------------------------------------------------------------- attributes */

static bool attr_list(eng_evalctx *c, const ir_graph *g, const ir_attr *a, eng_ev *out)
{
	if (!eng_eval_list(c, out, a->n))
		return false;
	const int64_t *ints = a->kind == IR_ATTR_INTS ? ir_attr_ints(g, a) : NULL;
	const float *floats = a->kind == IR_ATTR_FLOATS ? ir_attr_floats(g, a) : NULL;
	const uint32_t *strs = a->kind == IR_ATTR_STRINGS ? ir_attr_ids(g, a) : NULL;
	for (uint32_t i = 0; i < a->n; i++) {
		eng_ev *it = &out->items[i];
		if (ints)
			*it = (eng_ev){.kind = EV_INT, .i = ints[i]};
		else if (floats)
			*it = (eng_ev){.kind = EV_FLOAT, .f = floats[i]};
		else
			*it = (eng_ev){.kind = EV_STRING, .s = ir_str_get(g, strs[i], &it->s_len)};
	}
	return true;
}

static bool attr_value(eng_evalctx *c, const ir_graph *g, const ir_attr *a, eng_ev *out)
{
	switch (a->kind) {
	case IR_ATTR_INT: *out = (eng_ev){.kind = EV_INT, .i = a->u.i}; return true;
	case IR_ATTR_FLOAT: *out = (eng_ev){.kind = EV_FLOAT, .f = a->u.f}; return true;
	case IR_ATTR_STRING: *out = (eng_ev){.kind = EV_STRING, .s = ir_str_get(g, a->u.s, &out->s_len)}; return true;
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
	case IR_ATTR_STRINGS: return attr_list(c, g, a, out);
	default:
		return eng_eval_fail(c, "attribute '%s' is a tensor or graph: expressions read ints, floats, strings "
					"and their lists", ir_cstr(g, a->name));
	}
}

/* A registry default in .gir attribute syntax: 1, 0.5, "NOTSET", [1, 2]. */
static bool parse_scalar(ir_attr_kind kind, const char **p, eng_ev *out)
{
	char *end;
	while (**p == ' ')
		(*p)++;
	if (**p == '"') {
		const char *q = strchr(*p + 1, '"');
		if (!q)
			return false;
		*out = (eng_ev){.kind = EV_STRING, .s = *p + 1, .s_len = (size_t)(q - *p - 1)};
		*p = q + 1;
		return true;
	}
	if (kind == IR_ATTR_FLOAT || kind == IR_ATTR_FLOATS)
		*out = (eng_ev){.kind = EV_FLOAT, .f = strtod(*p, &end)};
	else
		*out = (eng_ev){.kind = EV_INT, .i = strtoll(*p, &end, 10)};
	bool ok = end != *p;
	*p = end;
	return ok;
}

static bool parse_default(eng_evalctx *c, ir_attr_kind kind, const char *text, eng_ev *out)
{
	const char *p = text;
	if (kind != IR_ATTR_INTS && kind != IR_ATTR_FLOATS && kind != IR_ATTR_STRINGS) {
		eng_scratch *s = c->s;
		for (unsigned i = 0; i < ENG_DEFAULTS; i++)
			if (s->dflt_text[i] == text) {
				*out = s->dflt[i];
				return true;
			}
		if (!parse_scalar(kind, &p, out))
			return eng_eval_fail(c, "bad registry default '%s'", text);
		s->dflt_text[s->dflt_next] = text; /* a string points into the registry's text */
		s->dflt[s->dflt_next] = *out;
		s->dflt_next = (s->dflt_next + 1) % ENG_DEFAULTS;
		return true;
	}
	size_t n = text[1] == ']' ? 0 : 1;
	for (const char *q = text; *q; q++)
		n += *q == ',';
	if (!eng_eval_list(c, out, n))
		return false;
	p = text + 1;
	for (size_t i = 0; i < n; i++, p++)
		if (!parse_scalar(kind, &p, &out->items[i]))
			return eng_eval_fail(c, "bad registry default '%s'", text);
	return true;
}

static bool registry_default(eng_evalctx *c, ir_nid n, const char *name, eng_ev *out)
{
	const ir_node *nd = ir_node_at(c->g, n);
	const ir_opinfo *info = ir_op_info(nd->opcode);
	for (const ir_attrdef *a = info ? info->attrs : NULL; a && a->name; a++)
		if (strcmp(a->name, name) == 0) {
			if (!a->dflt)
				break;
			return parse_default(c, a->kind, a->dflt, out);
		}
	return eng_eval_fail(c, "attribute '%s' of %s is absent and has no default", name, ir_cstr(c->g, nd->op));
}

bool eng_attr_ev(const ir_graph *g, ir_nid n, const char *name, eng_scratch *s, eng_ev *out, char *why, size_t why_n)
{
	eng_evalctx c = {g, NULL, s, why, why_n};
	const ir_attr *a = ir_attr_find(g, n, name);
	return a ? attr_value(&c, g, a, out) : registry_default(&c, n, name, out);
}

static bool fn_attr(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_nid n = 0;
	if (!node_arg(c, e, &n))
		return false;
	const ir_attr *a = ir_attr_find(c->g, n, e->args[1]->s);
	if (e->fn == FN_HAS_ATTR) {
		*out = (eng_ev){.kind = EV_BOOL, .i = a != NULL};
		return true;
	}
	if (a)
		return attr_value(c, c->g, a, out);
	if (e->nargs == 3)
		return eng_eval_in(c, e->args[2], out);
	return registry_default(c, n, e->args[1]->s, out);
}

static bool fn_op(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	ir_nid n = 0;
	if (!node_arg(c, e, &n))
		return false;
	*out = (eng_ev){.kind = EV_STRING};
	out->s = ir_str_get(c->g, ir_node_at(c->g, n)->op, &out->s_len);
	return true;
}

/* ---------------------------------------------------------------- helpers */

static bool fn_matches(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	eng_ev s;
	const pcre2_code *re = e->args[1]->re;
	if (!eng_eval_in(c, e->args[0], &s))
		return false;
	if (s.kind != EV_STRING)
		return eng_eval_fail(c, "matches() wants a string");
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		return eng_eval_fail(c, "out of memory");
	int rc = pcre2_match(re, (PCRE2_SPTR)s.s, s.s_len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		return eng_eval_fail(c, "regex match failed (pcre2 error %d)", rc);
	*out = (eng_ev){.kind = EV_BOOL, .i = rc >= 0};
	return true;
}

static bool fn_len(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	eng_ev x;
	if (!eng_eval_in(c, e->args[0], &x))
		return false;
	if (x.kind != EV_LIST && x.kind != EV_STRING)
		return eng_eval_fail(c, "len() wants a list or a string");
	*out = (eng_ev){.kind = EV_INT, .i = x.kind == EV_LIST ? (int64_t)x.n : (int64_t)x.s_len};
	return true;
}

static bool fn_abs(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	if (!eng_eval_in(c, e->args[0], out))
		return false;
	if (out->kind == EV_FLOAT) {
		out->f = out->f < 0 ? -out->f : out->f;
		return true;
	}
	if (out->kind != EV_INT)
		return eng_eval_fail(c, "abs() wants a number");
	if (out->i == INT64_MIN)
		return eng_eval_fail(c, "integer overflow");
	out->i = out->i < 0 ? -out->i : out->i;
	return true;
}

static bool fn_minmax(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	eng_ev list, *items = NULL;
	uint32_t n = (uint32_t)e->nargs;
	if (n == 1) {
		if (!eng_eval_in(c, e->args[0], &list))
			return false;
		if (list.kind != EV_LIST)
			return eng_eval_fail(c, "%s() of one argument wants a list", eng_fn_name(e->fn));
		items = list.items;
		n = list.n;
	} else if (eng_eval_list(c, &list, n)) {
		items = list.items;
		for (uint32_t i = 0; i < n; i++)
			if (!eng_eval_in(c, e->args[i], &items[i]))
				return false;
	} else {
		return false;
	}
	if (n == 0)
		return eng_eval_fail(c, "%s() of an empty list", eng_fn_name(e->fn));
	bool any_float = false;
	for (uint32_t i = 0; i < n; i++) {
		if (items[i].kind != EV_INT && items[i].kind != EV_FLOAT)
			return eng_eval_fail(c, "%s() wants numbers", eng_fn_name(e->fn));
		any_float = any_float || items[i].kind == EV_FLOAT;
	}
	eng_ev best = items[0];
	for (uint32_t i = 1; i < n; i++) {
		double a = items[i].kind == EV_FLOAT ? items[i].f : (double)items[i].i;
		double b = best.kind == EV_FLOAT ? best.f : (double)best.i;
		bool better = items[i].kind == EV_INT && best.kind == EV_INT
				      ? (e->fn == FN_MIN ? items[i].i < best.i : items[i].i > best.i)
				      : (e->fn == FN_MIN ? a < b : a > b);
		if (better)
			best = items[i];
	}
	if (any_float && best.kind == EV_INT)
		best = (eng_ev){.kind = EV_FLOAT, .f = (double)best.i};
	*out = best;
	return true;
}

bool eng_eval_builtin(eng_evalctx *c, const eng_ex *e, eng_ev *out)
{
	switch (e->fn) {
	case FN_DIM: return fn_dim(c, e, out);
	case FN_RANK:
	case FN_NUMEL:
	case FN_SHAPE: return fn_shape(c, e, out);
	case FN_DTYPE: return fn_dtype(c, e, out);
	case FN_ATTR:
	case FN_HAS_ATTR: return fn_attr(c, e, out);
	case FN_IS_CONST:
	case FN_USES:
	case FN_IS_OUTPUT: return fn_uses(c, e, out);
	case FN_MATCHES: return fn_matches(c, e, out);
	case FN_VALUE: return fn_value(c, e, out);
	case FN_LEN: return fn_len(c, e, out);
	case FN_ABS: return fn_abs(c, e, out);
	case FN_MIN:
	case FN_MAX: return fn_minmax(c, e, out);
	case FN_OP: return fn_op(c, e, out);
	default: return eng_eval_fail(c, "%s() builds a constant operand: it has no value in an expression",
				      eng_fn_name(e->fn));
	}
}
