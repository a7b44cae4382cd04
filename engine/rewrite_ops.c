/* What the rewriter knows about ops: setting the attributes of a new node
 * from expression values (in the registry's kind for registered ops),
 * and comparing types.  (graft's own fused ops are calls: ir_infer_node
 * infers them through their functions' bodies.) */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- attributes */

static bool put_list(ir_graph *g, ir_nid n, const char *name, const eng_ev *v, ir_attr_kind want)
{
	bool strs = v->n > 0, floats = want == IR_ATTR_FLOATS;
	for (uint32_t i = 0; i < v->n; i++) {
		strs = strs && v->items[i].kind == EV_STRING;
		floats = floats || v->items[i].kind == EV_FLOAT;
		if (v->items[i].kind != EV_STRING && v->items[i].kind != EV_INT && v->items[i].kind != EV_FLOAT &&
		    v->items[i].kind != EV_BOOL)
			return false;
	}
	size_t cnt = v->n ? v->n : 1;
	int64_t *iv = malloc(cnt * sizeof *iv);
	float *fv = malloc(cnt * sizeof *fv);
	ir_str *sv = malloc(cnt * sizeof *sv);
	bool ok = iv && fv && sv;
	for (uint32_t i = 0; ok && i < v->n; i++) {
		const eng_ev *x = &v->items[i];
		iv[i] = x->kind == EV_FLOAT ? (int64_t)x->f : x->i;
		fv[i] = x->kind == EV_FLOAT ? (float)x->f : (float)x->i;
		sv[i] = x->kind == EV_STRING ? ir_intern(g, x->s, x->s_len) : 0;
	}
	if (ok && strs)
		ir_attr_set_strs(g, n, name, sv, v->n);
	else if (ok && floats)
		ir_attr_set_floats(g, n, name, fv, v->n);
	else if (ok)
		ir_attr_set_ints(g, n, name, iv, v->n);
	free(iv);
	free(fv);
	free(sv);
	return ok;
}

static bool put_kind(ir_graph *g, ir_nid n, const char *name, const eng_ev *v, ir_attr_kind want)
{
	switch (v->kind) {
	case EV_NONE:
		ir_attr_remove(g, n, name);
		return true;
	case EV_INT:
	case EV_BOOL:
		if (want == IR_ATTR_FLOAT)
			ir_attr_set_float(g, n, name, (float)v->i);
		else
			ir_attr_set_int(g, n, name, v->i);
		return true;
	case EV_FLOAT:
		if (want == IR_ATTR_INT)
			ir_attr_set_int(g, n, name, (int64_t)v->f);
		else
			ir_attr_set_float(g, n, name, (float)v->f);
		return true;
	case EV_STRING:
		ir_attr_set_string(g, n, name, v->s, v->s_len);
		return true;
	case EV_LIST:
		return put_list(g, n, name, v, want);
	default:
		return false;
	}
}

static ir_attr_kind registry_kind(const ir_graph *g, ir_nid n, const char *name)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	for (const ir_attrdef *a = info ? info->attrs : NULL; a && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a->kind;
	return IR_ATTR_UNDEF;
}

void eng_copy_attrs(ir_graph *g, ir_nid from, ir_nid to)
{
	uint32_t n = ir_node_at(g, from)->nattr;
	for (uint32_t i = 0; i < n; i++) {
		ir_attr a = ir_node_attrs(g, from)[i];
		ir_attr_put(g, to, &a);
	}
}

bool eng_put_attr(ir_graph *g, ir_nid n, const char *name, const eng_ev *v)
{
	return put_kind(g, n, name, v, registry_kind(g, n, name));
}

/* ---------------------------------------------------------------- types */

bool eng_types_compatible(const ir_graph *g, ir_type a, ir_type b)
{
	if (a.kind != IR_TYPE_TENSOR || b.kind != IR_TYPE_TENSOR)
		return a.kind != IR_TYPE_OPAQUE || b.kind != IR_TYPE_TENSOR;
	if (a.dtype && b.dtype && a.dtype != b.dtype)
		return false;
	if (a.rank < 0 || b.rank < 0)
		return true;
	if (a.rank != b.rank)
		return false;
	const ir_dim *da = ir_type_dims(g, a), *db = ir_type_dims(g, b);
	for (int i = 0; i < a.rank; i++)
		if (da[i].v >= 0 && db[i].v >= 0 && da[i].v != db[i].v)
			return false;
	return true;
}
