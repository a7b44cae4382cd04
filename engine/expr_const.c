/* The constants a replacement creates: fill(shape, value [, "dtype"]) and
 * const(number-or-list [, "dtype"]).  Default dtype: f32 when a float is
 * involved, bool for bools, else i64. */
#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

enum { FILL_MAX = 1 << 28 }; /* elements */

static bool is_num(const eng_ev *v)
{
	return v->kind == EV_INT || v->kind == EV_FLOAT || v->kind == EV_BOOL;
}

static bool int_range(ir_dtype dt, int64_t *lo, uint64_t *hi)
{
	switch (dt) {
	case IR_I8: *lo = INT8_MIN, *hi = INT8_MAX; return true;
	case IR_I16: *lo = INT16_MIN, *hi = INT16_MAX; return true;
	case IR_I32: *lo = INT32_MIN, *hi = INT32_MAX; return true;
	case IR_I64: *lo = INT64_MIN, *hi = INT64_MAX; return true;
	case IR_U8: *lo = 0, *hi = UINT8_MAX; return true;
	case IR_U16: *lo = 0, *hi = UINT16_MAX; return true;
	case IR_U32: *lo = 0, *hi = UINT32_MAX; return true;
	case IR_U64: *lo = 0, *hi = UINT64_MAX; return true;
	default: return false;
	}
}

static bool store_int(eng_evalctx *c, ir_dtype dt, unsigned char *p, const eng_ev *v)
{
	int64_t lo = 0;
	uint64_t hi = 0;
	int_range(dt, &lo, &hi);
	if (v->kind == EV_FLOAT && v->f != trunc(v->f))
		return eng_eval_fail(c, "%g is not an integer: it does not fit %s", v->f, ir_dtype_name(dt));
	if (v->kind == EV_FLOAT && !(v->f >= -9.3e18 && v->f <= 9.2e18))
		return eng_eval_fail(c, "%g does not fit %s", v->f, ir_dtype_name(dt));
	int64_t k = v->kind == EV_FLOAT ? (int64_t)v->f : v->i;
	if (k < lo || (k > 0 && (uint64_t)k > hi))
		return eng_eval_fail(c, "%lld does not fit %s", (long long)k, ir_dtype_name(dt));
	uint64_t bits = (uint64_t)k; /* little-endian: the low bytes are the value */
	for (size_t i = 0; i < ir_dtype_size(dt); i++)
		p[i] = (unsigned char)(bits >> (8 * i));
	return true;
}

static bool store(eng_evalctx *c, ir_dtype dt, unsigned char *p, const eng_ev *v)
{
	double f = v->kind == EV_FLOAT ? v->f : (double)v->i;
	float f32 = (float)f;
	uint16_t h;
	switch (dt) {
	case IR_F32: memcpy(p, &f32, 4); return true;
	case IR_F64: memcpy(p, &f, 8); return true;
	case IR_F16: h = sim_f64_to_f16(f); memcpy(p, &h, 2); return true;
	case IR_BF16: h = sim_f64_to_bf16(f); memcpy(p, &h, 2); return true;
	case IR_BOOL: *p = f != 0; return true;
	default:
		if (int_range(dt, &(int64_t){0}, &(uint64_t){0}))
			return store_int(c, dt, p, v);
		return eng_eval_fail(c, "fill() and const() cannot make %s constants", ir_dtype_name(dt));
	}
}

static ir_dtype default_dtype(const eng_ev *v, size_t n)
{
	bool any_float = false, all_bool = n > 0;
	for (size_t i = 0; i < n; i++) {
		any_float = any_float || v[i].kind == EV_FLOAT;
		all_bool = all_bool && v[i].kind == EV_BOOL;
	}
	return any_float ? IR_F32 : all_bool ? IR_BOOL : IR_I64;
}

/* fill's shape argument: a list of ints >= 0. */
static bool shape_of(eng_evalctx *c, const eng_ev *s, int *rank, int64_t *dims, size_t *numel)
{
	if (s->kind != EV_LIST || s->n > IR_MAX_RANK)
		return eng_eval_fail(c, "fill() wants a shape: a list of at most %d ints", IR_MAX_RANK);
	*rank = (int)s->n;
	*numel = 1;
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->items[i].kind != EV_INT || s->items[i].i < 0)
			return eng_eval_fail(c, "fill() wants a shape of ints >= 0");
		dims[i] = s->items[i].i;
		if (dims[i] && *numel > FILL_MAX / (size_t)dims[i])
			return eng_eval_fail(c, "fill() shape too large (at most %d elements)", FILL_MAX);
		*numel *= (size_t)dims[i];
	}
	return true;
}

/* The elements (data), shape and dtype of a fill/const call. */
typedef struct spec {
	const eng_ev *elems; /* n values; fill: one value repeated numel times */
	size_t n, numel;
	int rank;
	int64_t dims[IR_MAX_RANK];
	ir_dtype dtype;
} spec;

static bool read_spec(eng_evalctx *c, const eng_ex *e, spec *sp, eng_ev *a, eng_ev *b)
{
	bool fill = e->fn == FN_FILL;
	if (!eng_eval_in(c, e->args[0], a) || (fill && !eng_eval_in(c, e->args[1], b)))
		return false;
	if (fill) {
		if (!shape_of(c, a, &sp->rank, sp->dims, &sp->numel))
			return false;
		sp->elems = b;
		sp->n = 1;
	} else if (a->kind == EV_LIST) {
		sp->elems = a->items;
		sp->numel = sp->n = a->n;
		sp->rank = 1;
		sp->dims[0] = a->n;
	} else {
		sp->elems = a;
		sp->numel = sp->n = 1;
	}
	for (size_t i = 0; i < sp->n; i++)
		if (!is_num(&sp->elems[i]))
			return eng_eval_fail(c, "%s() wants numbers%s", eng_fn_name(e->fn),
					     fill ? "" : " (a flat list)");
	int dt_arg = fill ? 2 : 1;
	sp->dtype = e->nargs > dt_arg ? ir_dtype_parse(e->args[dt_arg]->s, e->args[dt_arg]->s_len)
				      : default_dtype(sp->elems, sp->n);
	return true;
}

bool eng_eval_tensor(const eng_ex *e, const ir_graph *g, const eng_binding *b, eng_scratch *s, char *why,
		     size_t why_n, sim_tensor *out)
{
	eng_evalctx c = {g, b, s, why, why_n};
	eng_ev a, v;
	spec sp = {0};
	if (e->kind != EX_CALL || (e->fn != FN_FILL && e->fn != FN_CONST))
		return eng_eval_fail(&c, "not a fill(...) or const(...) expression");
	if (!read_spec(&c, e, &sp, &a, &v))
		return false;
	if (!sim_tensor_alloc(out, sp.dtype, sp.rank, sp.dims))
		return eng_eval_fail(&c, "out of memory");
	size_t size = ir_dtype_size(sp.dtype);
	for (size_t i = 0; i < sp.numel; i++)
		if (!store(&c, sp.dtype, (unsigned char *)out->data + i * size, &sp.elems[sp.n == 1 ? 0 : i])) {
			sim_tensor_free(out);
			return false;
		}
	return true;
}

ir_val eng_eval_const(const eng_ex *e, ir_graph *g, const eng_binding *b, eng_scratch *s, char *why, size_t why_n)
{
	sim_tensor t;
	if (!eng_eval_tensor(e, g, b, s, why, why_n, &t))
		return IR_NONE;
	ir_tid tid = sim_tensor_to_ir(g, 0, &t);
	sim_tensor_free(&t);
	ir_val out = tid ? ir_const_new(g, 0, tid) : IR_NONE;
	if (!out || ir_graph_oom(g)) {
		eng_evalctx c = {g, b, s, why, why_n};
		return eng_eval_fail(&c, "out of memory"), IR_NONE;
	}
	return out;
}
