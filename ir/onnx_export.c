/* ONNX export: an ir_graph becomes a serialized ModelProto.
 *
 * The message tree points into the graph (strings, dims and tensor data are
 * not copied); what the tree needs besides is allocated in a chunk list
 * freed after packing, and blobs are unpacked with protobuf-c and freed with
 * protobuf_c_message_free_unpacked.  Names: ONNX needs every written value
 * named uniquely, so values without a name that are used (or are graph
 * outputs) get fresh "graft_N" names, and a name claimed twice is renamed
 * "name_N"; an unnamed unused result is written as "" (an absent optional
 * output). */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* ir_version and default opset written for hand-built graphs. */
#define EXPORT_IR_VERSION 8
#define EXPORT_OPSET 13

typedef struct chunk {
	struct chunk *next;
	max_align_t data[];
} chunk;

typedef struct unpacked {
	struct unpacked *next;
	ProtobufCMessage *msg;
} unpacked;

typedef struct exporter {
	const ir_graph *g;
	ir_diags *d;
	bool failed;
	chunk *chunks;      /* everything allocated for the message tree */
	unpacked *blobs;    /* messages unpacked from blobs */
	char **names;       /* value id -> written name; NULL for "" */
	bool *is_output;    /* value id -> is a graph output */
	bool *taken;        /* string id -> a written value has this name */
	uint32_t fresh;     /* counter for generated names */
} exporter;

static bool ex_fail(exporter *x, const char *fmt, ...) IR_PRINTF(2, 3);

static bool ex_fail(exporter *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(x->d, IR_ERROR, NULL, 0, 0, fmt, ap);
	va_end(ap);
	x->failed = true;
	return false;
}

/* Zeroed memory freed with the exporter; NULL (reported once) on failure. */
static void *ex_alloc(exporter *x, size_t n)
{
	chunk *c = calloc(1, sizeof *c + n);
	if (!c) {
		if (!x->failed)
			ex_fail(x, "out of memory while exporting the ONNX model");
		return NULL;
	}
	c->next = x->chunks;
	x->chunks = c;
	return c->data;
}

static void *ex_msg(exporter *x, const ProtobufCMessageDescriptor *desc)
{
	void *p = ex_alloc(x, desc->sizeof_message);
	if (p)
		protobuf_c_message_init(desc, p);
	return p;
}

static ProtobufCMessage *ex_unpack(exporter *x, const ProtobufCMessageDescriptor *desc, ir_bid b,
				   const char *what)
{
	size_t n;
	const void *p = ir_blob_get(x->g, b, &n);
	unpacked *u = ex_alloc(x, sizeof *u);
	if (!u)
		return NULL;
	u->msg = p ? protobuf_c_message_unpack(desc, NULL, n, p) : NULL;
	if (!u->msg) {
		ex_fail(x, "%s blob #%" PRIu32 " is not a valid %s", what, b, desc->short_name);
		return NULL;
	}
	u->next = x->blobs;
	x->blobs = u;
	return u->msg;
}

static void exporter_free(exporter *x)
{
	for (unpacked *u = x->blobs; u; u = u->next)
		protobuf_c_message_free_unpacked(u->msg, NULL);
	for (chunk *c = x->chunks, *next; c; c = next) {
		next = c->next;
		free(c);
	}
}

static char *str(const exporter *x, ir_str s)
{
	return (char *)ir_cstr(x->g, s);
}

/* Optional string fields: absent when empty. */
static char *opt_str(const exporter *x, ir_str s)
{
	return s ? str(x, s) : NULL;
}

/* ---------------------------------------------------------------- names */

/* The values written, in order: inputs, constants, live node results. */
static size_t written_values(const ir_graph *g, ir_val *out)
{
	size_t k = 0;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++, k++)
		if (out)
			out[k] = ir_graph_input_at(g, i);
	for (size_t i = 0; i < ir_graph_nconsts(g); i++, k++)
		if (out)
			out[k] = ir_graph_const_at(g, i);
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t j = 0; j < ir_node_at(g, n)->nout; j++, k++)
			if (out)
				out[k] = ir_node_output(g, n, j);
	return k;
}

/* base_N for the next N that names no written value.  Generated names
 * never collide with each other: N is unique and follows the last '_'. */
static char *fresh_name(exporter *x, const char *base)
{
	size_t cap = strlen(base) + 16;
	char *p = ex_alloc(x, cap);
	for (;;) {
		if (!p)
			return NULL;
		snprintf(p, cap, "%s_%" PRIu32, base, ++x->fresh);
		ir_str s = ir_str_lookup(x->g, p, strlen(p));
		if (!s || !x->taken[s])
			return p;
	}
}

static bool needs_name(const exporter *x, ir_val v)
{
	const ir_value *val = ir_value_at(x->g, v);
	return val->def_kind != IR_DEF_NODE || val->nuses > 0 || x->is_output[v];
}

static bool name_values(exporter *x, const ir_val *order, size_t n)
{
	const ir_graph *g = x->g;
	bool *claimed = ex_alloc(x, g->strs.n);
	if (!claimed)
		return false;
	for (size_t i = 0; i < n; i++)
		x->taken[ir_value_at(g, order[i])->name] = true;
	for (size_t i = 0; i < n; i++) {
		ir_val v = order[i];
		ir_str s = ir_value_at(g, v)->name;
		if (s && !claimed[s]) {
			claimed[s] = true;
			x->names[v] = str(x, s);
		} else if (s || needs_name(x, v)) {
			x->names[v] = fresh_name(x, s ? str(x, s) : "graft");
			if (!x->names[v])
				return false;
		}
	}
	return true;
}

static bool assign_names(exporter *x)
{
	const ir_graph *g = x->g;
	size_t nvals = ir_nvalues(g) + 1, n = written_values(g, NULL);
	x->names = ex_alloc(x, nvals * sizeof *x->names);
	x->is_output = ex_alloc(x, nvals * sizeof *x->is_output);
	x->taken = ex_alloc(x, g->strs.n * sizeof *x->taken);
	ir_val *order = ex_alloc(x, (n + 1) * sizeof *order);
	if (!x->names || !x->is_output || !x->taken || !order)
		return false;
	for (size_t i = 0; i < ir_graph_noutputs(g); i++)
		x->is_output[ir_graph_output_at(g, i)] = true;
	written_values(g, order);
	return name_values(x, order, n);
}

/* The written name of an operand or output; NULL (reported) if v has no
 * definition. */
static char *ref_name(exporter *x, ir_val v, const char *user)
{
	const ir_value *val = ir_value_at(x->g, v);
	if (val && val->def_kind != IR_DEF_NONE && x->names[v])
		return x->names[v];
	ex_fail(x, "%s refers to value %%%" PRIu32 " ('%s'), which has no definition", user, v,
		val ? ir_cstr(x->g, val->name) : "");
	return NULL;
}

/* ---------------------------------------------------------------- types */

static Onnx__TensorShapeProto *ex_shape(exporter *x, ir_type t)
{
	Onnx__TensorShapeProto *sp = ex_msg(x, &onnx__tensor_shape_proto__descriptor);
	const ir_dim *d = ir_type_dims(x->g, t);
	if (!sp || !(sp->dim = ex_alloc(x, (size_t)t.rank * sizeof *sp->dim)))
		return NULL;
	sp->n_dim = (size_t)t.rank;
	for (int i = 0; i < t.rank; i++) {
		Onnx__TensorShapeProto__Dimension *dim =
			ex_msg(x, &onnx__tensor_shape_proto__dimension__descriptor);
		if (!dim)
			return NULL;
		if (d[i].v >= 0) {
			dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			dim->dim_value = d[i].v;
		} else if (d[i].sym) {
			dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			dim->dim_param = str(x, d[i].sym);
		}
		sp->dim[i] = dim;
	}
	return sp;
}

static Onnx__TypeProto *ex_type(exporter *x, ir_type t)
{
	if (t.kind == IR_TYPE_OPAQUE)
		return (Onnx__TypeProto *)ex_unpack(x, &onnx__type_proto__descriptor, t.dims, "type");
	if (t.kind != IR_TYPE_TENSOR)
		return NULL;
	Onnx__TypeProto *tp = ex_msg(x, &onnx__type_proto__descriptor);
	Onnx__TypeProto__Tensor *tt = ex_msg(x, &onnx__type_proto__tensor__descriptor);
	if (!tp || !tt)
		return NULL;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = t.dtype != IR_UNDEF;
	tt->elem_type = t.dtype;
	if (t.rank >= 0 && !(tt->shape = ex_shape(x, t)))
		return NULL;
	return tp;
}

static Onnx__ValueInfoProto *ex_value_info(exporter *x, ir_val v)
{
	const ir_value *val = ir_value_at(x->g, v);
	Onnx__ValueInfoProto *vi = ex_msg(x, &onnx__value_info_proto__descriptor);
	if (!vi)
		return NULL;
	vi->name = x->names[v];
	vi->doc_string = opt_str(x, val->doc);
	vi->type = ex_type(x, val->type);
	return vi->type || val->type.kind == IR_TYPE_NONE ? vi : NULL;
}

/* ---------------------------------------------------------------- tensors */

static uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Splits the IR_STRING layout (uint32 length + bytes each) into string_data. */
static bool ex_strings(exporter *x, Onnx__TensorProto *tp, const ir_tensor *t, size_t numel)
{
	const unsigned char *p = t->data;
	size_t off = 0;
	tp->string_data = ex_alloc(x, numel * sizeof *tp->string_data);
	if (!tp->string_data)
		return false;
	tp->n_string_data = numel;
	for (size_t i = 0; i < numel && t->nbytes - off >= 4; i++) {
		size_t len = load_le32(p + off);
		off += 4;
		if (len > t->nbytes - off)
			break;
		tp->string_data[i] = (ProtobufCBinaryData){len, (uint8_t *)p + off};
		off += len;
		if (i + 1 == numel && off == t->nbytes)
			return true;
	}
	if (numel == 0 && t->nbytes == 0)
		return true;
	return ex_fail(x, "string tensor '%s' has a corrupt layout", tp->name ? tp->name : "");
}

static Onnx__TensorProto *ex_tensor(exporter *x, ir_tid id, char *name)
{
	const ir_tensor *t = ir_tensor_at(x->g, id);
	Onnx__TensorProto *tp = ex_msg(x, &onnx__tensor_proto__descriptor);
	if (!tp)
		return NULL;
	size_t numel = (size_t)ir_tensor_numel(x->g, id);
	tp->name = name;
	tp->doc_string = opt_str(x, t->doc);
	tp->has_data_type = 1;
	tp->data_type = t->dtype;
	tp->n_dims = t->rank > 0 ? (size_t)t->rank : 0;
	tp->dims = tp->n_dims ? (int64_t *)ir_tensor_dims(x->g, id) : NULL;
	if (t->dtype == IR_STRING)
		return ex_strings(x, tp, t, numel) ? tp : NULL;
	if (t->nbytes != numel * ir_dtype_size((ir_dtype)t->dtype)) {
		ex_fail(x, "tensor '%s' holds %zu bytes, expected %zu", name ? name : "", t->nbytes,
			numel * ir_dtype_size((ir_dtype)t->dtype));
		return NULL;
	}
	tp->has_raw_data = 1;
	tp->raw_data = (ProtobufCBinaryData){t->nbytes, t->data};
	return tp;
}

/* ---------------------------------------------------------------- attributes */

static const ProtobufCMessageDescriptor *blob_desc(uint8_t kind)
{
	switch (kind) {
	case IR_ATTR_GRAPH:
	case IR_ATTR_GRAPHS:
		return &onnx__graph_proto__descriptor;
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_SPARSE_TENSORS:
		return &onnx__sparse_tensor_proto__descriptor;
	default:
		return &onnx__type_proto__descriptor;
	}
}

/* A blob attribute's single message; NULL when it has none. */
static bool ex_attr_blob(exporter *x, Onnx__AttributeProto *ap, const ir_attr *a)
{
	ProtobufCMessage *m = NULL;
	if (a->u.b && !(m = ex_unpack(x, blob_desc(a->kind), a->u.b, "attribute")))
		return false;
	if (a->kind == IR_ATTR_GRAPH)
		ap->g = (Onnx__GraphProto *)m;
	else if (a->kind == IR_ATTR_SPARSE_TENSOR)
		ap->sparse_tensor = (Onnx__SparseTensorProto *)m;
	else
		ap->tp = (Onnx__TypeProto *)m;
	return true;
}

static bool ex_attr_blobs(exporter *x, Onnx__AttributeProto *ap, const ir_attr *a)
{
	const uint32_t *ids = ir_attr_ids(x->g, a);
	ProtobufCMessage **v = ex_alloc(x, a->n * sizeof *v);
	for (uint32_t i = 0; v && i < a->n; i++)
		if (!(v[i] = ex_unpack(x, blob_desc(a->kind), ids[i], "attribute")))
			return false;
	if (a->kind == IR_ATTR_GRAPHS) {
		ap->n_graphs = a->n;
		ap->graphs = (Onnx__GraphProto **)v;
	} else if (a->kind == IR_ATTR_SPARSE_TENSORS) {
		ap->n_sparse_tensors = a->n;
		ap->sparse_tensors = (Onnx__SparseTensorProto **)v;
	} else {
		ap->n_type_protos = a->n;
		ap->type_protos = (Onnx__TypeProto **)v;
	}
	return v != NULL;
}

static bool ex_attr_strings(exporter *x, Onnx__AttributeProto *ap, const ir_attr *a)
{
	const uint32_t *ids = ir_attr_ids(x->g, a);
	ap->strings = ex_alloc(x, a->n * sizeof *ap->strings);
	if (!ap->strings)
		return false;
	ap->n_strings = a->n;
	for (uint32_t i = 0; i < a->n; i++) {
		size_t len;
		const char *s = ir_str_get(x->g, ids[i], &len);
		ap->strings[i] = (ProtobufCBinaryData){len, (uint8_t *)s};
	}
	return true;
}

static bool ex_attr_tensors(exporter *x, Onnx__AttributeProto *ap, const ir_attr *a)
{
	const uint32_t *ids = ir_attr_ids(x->g, a);
	ap->tensors = ex_alloc(x, a->n * sizeof *ap->tensors);
	if (!ap->tensors)
		return false;
	ap->n_tensors = a->n;
	for (uint32_t i = 0; i < a->n; i++) {
		ap->tensors[i] = ex_tensor(x, ids[i], opt_str(x, ir_tensor_at(x->g, ids[i])->name));
		if (!ap->tensors[i])
			return false;
	}
	return true;
}

static bool ex_attr_value(exporter *x, Onnx__AttributeProto *ap, const ir_attr *a)
{
	size_t len;
	switch (a->kind) {
	case IR_ATTR_FLOAT:
		ap->has_f = 1;
		ap->f = a->u.f;
		return true;
	case IR_ATTR_INT:
		ap->has_i = 1;
		ap->i = a->u.i;
		return true;
	case IR_ATTR_STRING:
		ap->has_s = 1;
		ap->s.data = (uint8_t *)ir_str_get(x->g, a->u.s, &len);
		ap->s.len = len;
		return true;
	case IR_ATTR_TENSOR:
		if (a->u.t)
			ap->t = ex_tensor(x, a->u.t, opt_str(x, ir_tensor_at(x->g, a->u.t)->name));
		return !a->u.t || ap->t;
	case IR_ATTR_FLOATS:
		ap->n_floats = a->n;
		ap->floats = a->n ? (float *)ir_attr_floats(x->g, a) : NULL;
		return true;
	case IR_ATTR_INTS:
		ap->n_ints = a->n;
		ap->ints = a->n ? (int64_t *)ir_attr_ints(x->g, a) : NULL;
		return true;
	case IR_ATTR_STRINGS:
		return !a->n || ex_attr_strings(x, ap, a);
	case IR_ATTR_TENSORS:
		return !a->n || ex_attr_tensors(x, ap, a);
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		return ex_attr_blob(x, ap, a);
	default:
		return !a->n || ex_attr_blobs(x, ap, a);
	}
}

static Onnx__AttributeProto *ex_attr(exporter *x, const ir_attr *a)
{
	Onnx__AttributeProto *ap = ex_msg(x, &onnx__attribute_proto__descriptor);
	if (!ap)
		return NULL;
	ap->name = str(x, a->name);
	ap->ref_attr_name = opt_str(x, a->ref);
	ap->doc_string = opt_str(x, a->doc);
	ap->has_type = 1;
	ap->type = (Onnx__AttributeProto__AttributeType)a->kind;
	return a->ref || ex_attr_value(x, ap, a) ? ap : NULL; /* a reference holds no value */
}

/* ---------------------------------------------------------------- nodes */

static bool ex_operands(exporter *x, Onnx__NodeProto *np, ir_nid n)
{
	const ir_node *nd = ir_node_at(x->g, n);
	char user[256];
	if (nd->name)
		snprintf(user, sizeof user, "node '%s' (%s)", str(x, nd->name), str(x, nd->op));
	else
		snprintf(user, sizeof user, "node #%" PRIu32 " (%s)", n, str(x, nd->op));
	np->input = ex_alloc(x, nd->nin * sizeof *np->input);
	np->output = ex_alloc(x, nd->nout * sizeof *np->output);
	if (!np->input || !np->output)
		return false;
	np->n_input = nd->nin;
	np->n_output = nd->nout;
	for (uint32_t i = 0; i < nd->nin; i++) {
		ir_val v = ir_node_input(x->g, n, i);
		np->input[i] = v ? ref_name(x, v, user) : "";
		if (!np->input[i])
			return false;
	}
	for (uint32_t i = 0; i < nd->nout; i++) {
		char *name = x->names[ir_node_output(x->g, n, i)];
		np->output[i] = name ? name : "";
	}
	return true;
}

static Onnx__NodeProto *ex_node(exporter *x, ir_nid n)
{
	const ir_node *nd = ir_node_at(x->g, n);
	const ir_attr *attrs = ir_node_attrs(x->g, n);
	Onnx__NodeProto *np = ex_msg(x, &onnx__node_proto__descriptor);
	if (!np || !ex_operands(x, np, n))
		return NULL;
	np->op_type = str(x, nd->op);
	np->domain = opt_str(x, nd->domain);
	np->name = opt_str(x, nd->name);
	np->doc_string = opt_str(x, nd->doc);
	np->attribute = ex_alloc(x, nd->nattr * sizeof *np->attribute);
	if (!np->attribute)
		return NULL;
	np->n_attribute = nd->nattr;
	for (uint32_t i = 0; i < nd->nattr; i++)
		if (!(np->attribute[i] = ex_attr(x, &attrs[i])))
			return NULL;
	return np;
}

/* ---------------------------------------------------------------- graph */

static bool ex_nodes(exporter *x, Onnx__GraphProto *gp)
{
	const ir_graph *g = x->g;
	gp->node = ex_alloc(x, ir_graph_nnodes(g) * sizeof *gp->node);
	if (!gp->node)
		return false;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		if (!(gp->node[gp->n_node++] = ex_node(x, n)))
			return false;
	return true;
}

static bool ex_inputs(exporter *x, Onnx__GraphProto *gp)
{
	const ir_graph *g = x->g;
	size_t n = ir_graph_ninputs(g);
	gp->input = ex_alloc(x, n * sizeof *gp->input);
	gp->initializer = ex_alloc(x, (n + ir_graph_nconsts(g)) * sizeof *gp->initializer);
	if (!gp->input || !gp->initializer)
		return false;
	for (size_t i = 0; i < n; i++) {
		ir_val v = ir_graph_input_at(g, i);
		ir_tid init = ir_value_at(g, v)->tensor;
		if (!(gp->input[gp->n_input++] = ex_value_info(x, v)))
			return false;
		if (init && !(gp->initializer[gp->n_initializer++] = ex_tensor(x, init, x->names[v])))
			return false;
	}
	return true;
}

/* requires: ex_inputs done (initializer has room for the constants). */
static bool ex_consts(exporter *x, Onnx__GraphProto *gp)
{
	const ir_graph *g = x->g;
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		ir_val v = ir_graph_const_at(g, i);
		ir_tid t = ir_value_at(g, v)->tensor;
		if (!(gp->initializer[gp->n_initializer++] = ex_tensor(x, t, x->names[v])))
			return false;
	}
	return true;
}

static bool wants_value_info(const exporter *x, ir_val v)
{
	const ir_value *val = ir_value_at(x->g, v);
	return x->names[v] && !x->is_output[v] && (val->type.kind != IR_TYPE_NONE || val->doc);
}

static bool ex_value_infos(exporter *x, Onnx__GraphProto *gp)
{
	const ir_graph *g = x->g;
	size_t n = 0;
	for (ir_nid id = ir_graph_first(g); id; id = ir_node_at(g, id)->next)
		n += ir_node_at(g, id)->nout;
	if (!(gp->value_info = ex_alloc(x, n * sizeof *gp->value_info)))
		return false;
	for (ir_nid id = ir_graph_first(g); id; id = ir_node_at(g, id)->next)
		for (uint32_t j = 0; j < ir_node_at(g, id)->nout; j++) {
			ir_val v = ir_node_output(g, id, j);
			if (wants_value_info(x, v) &&
			    !(gp->value_info[gp->n_value_info++] = ex_value_info(x, v)))
				return false;
		}
	return true;
}

static bool ex_outputs(exporter *x, Onnx__GraphProto *gp)
{
	const ir_graph *g = x->g;
	size_t n = ir_graph_noutputs(g);
	if (!(gp->output = ex_alloc(x, n * sizeof *gp->output)))
		return false;
	for (size_t i = 0; i < n; i++) {
		ir_val v = ir_graph_output_at(g, i);
		char user[64];
		snprintf(user, sizeof user, "graph output #%zu", i + 1);
		if (!ref_name(x, v, user) || !(gp->output[gp->n_output++] = ex_value_info(x, v)))
			return false;
	}
	return true;
}

/* Unpacks every blob of one extra kind; NULL on failure. */
static ProtobufCMessage **ex_extras(exporter *x, ir_extra_kind k,
				    const ProtobufCMessageDescriptor *desc, size_t *n)
{
	size_t cnt = ir_graph_nextras(x->g, k);
	ProtobufCMessage **v = ex_alloc(x, cnt * sizeof *v);
	for (size_t i = 0; v && i < cnt; i++)
		if (!(v[i] = ex_unpack(x, desc, ir_graph_extra_at(x->g, k, i), "extra")))
			return NULL;
	*n = cnt;
	return v;
}

/* Every function, serialized by onnx_func.c and unpacked into the tree. */
static Onnx__FunctionProto **ex_functions(exporter *x, size_t *n)
{
	size_t cnt = ir_graph_nfuncs(x->g);
	Onnx__FunctionProto **v = ex_alloc(x, cnt * sizeof *v);
	for (size_t i = 0; v && i < cnt; i++) {
		void *buf;
		size_t len;
		unpacked *u = ex_alloc(x, sizeof *u);
		if (!u || !ir_onnx_pack_func(x->g, (ir_fid)i + 1, &buf, &len, x->d))
			return x->failed = true, NULL;
		u->msg = protobuf_c_message_unpack(&onnx__function_proto__descriptor, NULL, len, buf);
		free(buf);
		if (!u->msg)
			return ex_fail(x, "out of memory while exporting the ONNX model"), NULL;
		u->next = x->blobs;
		x->blobs = u;
		v[i] = (Onnx__FunctionProto *)u->msg;
	}
	*n = cnt;
	return v;
}

static bool ex_graph_extras(exporter *x, Onnx__GraphProto *gp)
{
	gp->sparse_initializer = (Onnx__SparseTensorProto **)ex_extras(
		x, IR_EXTRA_SPARSE_INIT, &onnx__sparse_tensor_proto__descriptor,
		&gp->n_sparse_initializer);
	gp->quantization_annotation = (Onnx__TensorAnnotation **)ex_extras(
		x, IR_EXTRA_QUANT_ANNOT, &onnx__tensor_annotation__descriptor,
		&gp->n_quantization_annotation);
	return gp->sparse_initializer && gp->quantization_annotation;
}

static Onnx__GraphProto *ex_graph(exporter *x)
{
	const ir_meta *meta = ir_graph_cmeta(x->g);
	Onnx__GraphProto *gp = ex_msg(x, &onnx__graph_proto__descriptor);
	if (!gp)
		return NULL;
	gp->name = opt_str(x, meta->graph_name);
	if (!gp->name && meta->ir_version == 0)
		gp->name = "graft";
	gp->doc_string = opt_str(x, meta->graph_doc);
	bool ok = ex_nodes(x, gp) && ex_inputs(x, gp) && ex_consts(x, gp) &&
		  ex_value_infos(x, gp) && ex_outputs(x, gp) && ex_graph_extras(x, gp);
	return ok ? gp : NULL;
}

/* ---------------------------------------------------------------- model */

static Onnx__OperatorSetIdProto *ex_opset(exporter *x, const char *domain, int64_t version)
{
	Onnx__OperatorSetIdProto *o = ex_msg(x, &onnx__operator_set_id_proto__descriptor);
	if (o) {
		o->domain = (char *)domain;
		o->has_version = 1;
		o->version = version;
	}
	return o;
}

/* Hand-built graphs (ir_version 0) get the default opset when they have none. */
static bool ex_opsets(exporter *x, Onnx__ModelProto *mp)
{
	const ir_graph *g = x->g;
	size_t n = ir_graph_nopsets(g);
	bool add = ir_graph_cmeta(g)->ir_version == 0 && ir_graph_opset(g, "") < 0;
	if (!(mp->opset_import = ex_alloc(x, (n + 1) * sizeof *mp->opset_import)))
		return false;
	for (size_t i = 0; i < n; i++) {
		ir_opset o = ir_graph_opset_at(g, i);
		if (!(mp->opset_import[mp->n_opset_import++] = ex_opset(x, str(x, o.domain), o.version)))
			return false;
	}
	if (add && !(mp->opset_import[mp->n_opset_import++] = ex_opset(x, "", EXPORT_OPSET)))
		return false;
	return true;
}

static bool ex_props(exporter *x, Onnx__ModelProto *mp)
{
	size_t n = ir_graph_nprops(x->g);
	if (!(mp->metadata_props = ex_alloc(x, n * sizeof *mp->metadata_props)))
		return false;
	for (size_t i = 0; i < n; i++) {
		ir_kv kv = ir_graph_prop_at(x->g, i);
		Onnx__StringStringEntryProto *e = ex_msg(x, &onnx__string_string_entry_proto__descriptor);
		if (!e)
			return false;
		e->key = str(x, kv.key);
		e->value = str(x, kv.value);
		mp->metadata_props[mp->n_metadata_props++] = e;
	}
	return true;
}

static bool ex_model(exporter *x, Onnx__ModelProto *mp)
{
	const ir_meta *meta = ir_graph_cmeta(x->g);
	mp->has_ir_version = 1;
	mp->ir_version = meta->ir_version ? meta->ir_version : EXPORT_IR_VERSION;
	mp->producer_name = opt_str(x, meta->producer_name);
	mp->producer_version = opt_str(x, meta->producer_version);
	mp->domain = opt_str(x, meta->domain);
	mp->has_model_version = meta->model_version != 0;
	mp->model_version = meta->model_version;
	mp->doc_string = opt_str(x, meta->doc);
	mp->functions = ex_functions(x, &mp->n_functions);
	mp->training_info = (Onnx__TrainingInfoProto **)ex_extras(
		x, IR_EXTRA_TRAINING, &onnx__training_info_proto__descriptor, &mp->n_training_info);
	return mp->functions && mp->training_info && ex_opsets(x, mp) && ex_props(x, mp) &&
	       (mp->graph = ex_graph(x)) != NULL;
}

bool ir_onnx_attr_pack(const ir_graph *g, const ir_attr *a, void **out, size_t *n, ir_diags *d)
{
	exporter x = {0};
	x.g = g;
	x.d = d;
	Onnx__AttributeProto *ap = ex_attr(&x, a);
	*out = NULL;
	*n = ap ? onnx__attribute_proto__get_packed_size(ap) : 0;
	if (ap && !(*out = malloc(*n ? *n : 1)))
		ex_fail(&x, "out of memory while exporting the ONNX model");
	if (*out)
		onnx__attribute_proto__pack(ap, *out);
	exporter_free(&x);
	return *out != NULL;
}

static bool size_ok(exporter *x, size_t size)
{
	if (size > INT32_MAX)
		return ex_fail(x, "the model needs %zu bytes, over protobuf's 2 GB limit", size);
	return true;
}

static bool pack_model(exporter *x, const Onnx__ModelProto *mp, void **out, size_t *n)
{
	size_t size = onnx__model_proto__get_packed_size(mp);
	if (!size_ok(x, size))
		return false;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return ex_fail(x, "out of memory while exporting the ONNX model");
	onnx__model_proto__pack(mp, buf);
	*out = buf;
	*n = size;
	return true;
}

bool ir_onnx_write_buf(const ir_graph *g, void **out, size_t *n, ir_diags *d)
{
	exporter x = {0};
	x.g = g;
	x.d = d;
	Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
	*out = NULL;
	*n = 0;
	bool ok = assign_names(&x) && ex_model(&x, &mp) && pack_model(&x, &mp, out, n);
	exporter_free(&x);
	return ok;
}

bool ir_onnx_write_stream(const ir_graph *g, ProtobufCBuffer *out, ir_diags *d)
{
	exporter x = {0};
	x.g = g;
	x.d = d;
	Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
	bool ok = assign_names(&x) && ex_model(&x, &mp) && size_ok(&x, onnx__model_proto__get_packed_size(&mp));
	if (ok)
		onnx__model_proto__pack_to_buffer(&mp, out);
	exporter_free(&x);
	return ok;
}
