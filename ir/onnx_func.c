/* ModelProto.functions <-> the IR's functions.
 *
 * A function's body travels as a graph: the FunctionProto's nodes, with
 * its formal inputs and outputs as graph inputs and outputs and its opset
 * imports as the model's, go through the ordinary ModelProto importer and
 * exporter, so body nodes are read and written exactly like graph nodes.
 * The attributes a function declares are its `attribute` names and, for
 * those with a default, `attribute_proto` (field 11: newer than the
 * onnx.proto graft is built with, so read and written as an unknown field).
 * The other newer fields (value_info, overload, metadata_props) are not
 * kept. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

enum { FIELD_ATTRIBUTE_PROTO = 11 };

typedef struct fnx {
	const char *file, *base_dir;
	ir_diags *d;
	char who[300]; /* "function 'domain::name'" */
} fnx;

static bool fn_fail(fnx *c, const char *fmt, ...) IR_PRINTF(2, 3);
static bool fn_fail(fnx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ir_error(c->d, c->file, 0, 0, "%s: %s", c->who, msg);
	return false;
}

/* Errors of a nested import or export, under the function's name. */
static void relay(fnx *c, const ir_diags *tmp)
{
	for (size_t i = 0; i < tmp->n; i++)
		if (tmp->v[i].sev == IR_ERROR)
			fn_fail(c, "%s", tmp->v[i].msg);
}

static void set_who(fnx *c, const char *domain, const char *name)
{
	snprintf(c->who, sizeof c->who, "function '%s%s%s'", domain ? domain : "", domain && *domain ? "::" : "",
		 name ? name : "");
}

/* ---------------------------------------------------------------- import */

/* The body as a serialized model holding one graph; NULL on OOM. */
static void *body_model(const Onnx__FunctionProto *fp, int64_t ir_version, size_t *n)
{
	size_t nv = fp->n_input + fp->n_output;
	Onnx__ValueInfoProto *vi = calloc(nv + 1, sizeof *vi);
	Onnx__ValueInfoProto **refs = calloc(nv + 1, sizeof *refs);
	uint8_t *buf = NULL;
	if (vi && refs) {
		for (size_t i = 0; i < nv; i++) {
			onnx__value_info_proto__init(&vi[i]);
			vi[i].name = i < fp->n_input ? fp->input[i] : fp->output[i - fp->n_input];
			refs[i] = &vi[i];
		}
		Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
		gp.n_node = fp->n_node;
		gp.node = fp->node;
		gp.n_input = fp->n_input;
		gp.input = refs;
		gp.n_output = fp->n_output;
		gp.output = refs + fp->n_input;
		Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
		mp.has_ir_version = 1;
		mp.ir_version = ir_version;
		mp.n_opset_import = fp->n_opset_import;
		mp.opset_import = fp->opset_import;
		mp.graph = &gp;
		*n = onnx__model_proto__get_packed_size(&mp);
		if ((buf = malloc(*n ? *n : 1)))
			onnx__model_proto__pack(&mp, buf);
	}
	free(vi);
	free(refs);
	return buf;
}

static ir_graph *import_body(fnx *c, const Onnx__FunctionProto *fp, int64_t ir_version)
{
	size_t n = 0;
	void *buf = body_model(fp, ir_version, &n);
	if (!buf) {
		fn_fail(c, "out of memory");
		return NULL;
	}
	ir_diags tmp;
	ir_diags_init(&tmp);
	ir_graph *body = ir_onnx_read_buf(buf, n, c->file, c->base_dir, &tmp);
	free(buf);
	relay(c, &tmp);
	ir_diags_free(&tmp);
	if (body)
		memset(ir_graph_meta(body), 0, sizeof(ir_meta));
	return body;
}

/* A length-delimited unknown field's payload (its data starts with the length). */
static const uint8_t *payload(const ProtobufCMessageUnknownField *u, size_t *len)
{
	uint64_t v = 0;
	size_t i = 0;
	for (int shift = 0; i < u->len && shift < 64; shift += 7) {
		uint8_t b = u->data[i++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (v > u->len - i)
		return NULL;
	*len = (size_t)v;
	return u->data + i;
}

static bool import_default(fnx *c, ir_graph *body, const ProtobufCMessageUnknownField *u)
{
	size_t len;
	const uint8_t *p = u->wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED ? payload(u, &len) : NULL;
	Onnx__AttributeProto *ap = p ? onnx__attribute_proto__unpack(NULL, len, p) : NULL;
	if (!ap)
		return fn_fail(c, "attribute_proto #%u is not a valid AttributeProto", (unsigned)u->tag);
	ir_attr a;
	bool ok = ir_onnx_attr_unpack(body, ap, c->who, c->file, c->base_dir, c->d, &a);
	if (ok && ir_func_attr_find(body, ir_cstr(body, a.name)))
		ok = fn_fail(c, "attribute '%s' is declared twice", ir_cstr(body, a.name));
	if (ok)
		ir_func_add_attr(body, &a);
	onnx__attribute_proto__free_unpacked(ap, NULL);
	return ok;
}

static bool import_attrs(fnx *c, ir_graph *body, const Onnx__FunctionProto *fp)
{
	for (size_t i = 0; i < fp->n_attribute; i++) {
		ir_attr a = {0};
		a.name = ir_intern_cstr(body, fp->attribute[i] ? fp->attribute[i] : "");
		if (!a.name || ir_func_attr_find(body, fp->attribute[i]))
			return fn_fail(c, "attribute '%s' is declared twice or has no name",
				       fp->attribute[i] ? fp->attribute[i] : "");
		ir_func_add_attr(body, &a);
	}
	const ProtobufCMessage *m = &fp->base;
	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == FIELD_ATTRIBUTE_PROTO && !import_default(c, body, &m->unknown_fields[i]))
			return false;
	return !ir_graph_oom(body);
}

static bool import_func(fnx *c, ir_graph *g, const Onnx__FunctionProto *fp, int64_t ir_version)
{
	set_who(c, fp->domain, fp->name);
	if (!fp->name || !*fp->name)
		return fn_fail(c, "a function needs a name");
	if (ir_func_find(g, fp->domain ? fp->domain : "", fp->name))
		return fn_fail(c, "is defined twice");
	ir_graph *body = import_body(c, fp, ir_version);
	ir_fid f = body ? ir_func_new(g, fp->domain, fp->name) : 0;
	if (!f) {
		ir_graph_free(body);
		return body ? fn_fail(c, "out of memory") : false;
	}
	ir_func *fn = ir_func_at(g, f);
	ir_graph_free(fn->body);
	fn->body = body;
	body->scope = g;
	fn->doc = fp->doc_string ? ir_intern_cstr(g, fp->doc_string) : 0;
	return import_attrs(c, body, fp) && !ir_graph_oom(g);
}

bool ir_onnx_import_funcs(ir_graph *g, const Onnx__ModelProto *mp, const char *file, const char *base_dir,
			  ir_diags *d)
{
	fnx c = {file, base_dir, d, ""};
	int64_t irv = mp->has_ir_version ? mp->ir_version : 0;
	bool ok = true;
	for (size_t i = 0; i < mp->n_functions; i++)
		ok = import_func(&c, g, mp->functions[i], irv) && ok;
	return ok;
}

/* ---------------------------------------------------------------- export */

/* What a FunctionProto points to besides the unpacked body model. */
typedef struct fnout {
	Onnx__ModelProto *model; /* the body, exported and unpacked */
	Onnx__OperatorSetIdProto *opsets, **opset_refs;
	char **names;            /* attribute names without a default */
	ProtobufCMessageUnknownField *defaults;
	size_t ndefaults;
} fnout;

static void fnout_free(fnout *o)
{
	if (o->model)
		onnx__model_proto__free_unpacked(o->model, NULL);
	for (size_t i = 0; i < o->ndefaults; i++)
		free(o->defaults[i].data);
	free(o->defaults);
	free(o->opsets);
	free(o->opset_refs);
	free(o->names);
}

static bool export_body(fnx *c, const ir_graph *body, fnout *o)
{
	if (ir_graph_nconsts(body))
		return fn_fail(c, "its body holds constants: a function has no initializers (use Constant nodes)");
	for (size_t i = 0; i < ir_graph_ninputs(body); i++)
		if (ir_value_at(body, ir_graph_input_at(body, i))->tensor)
			return fn_fail(c, "formal input %zu has a default tensor: functions have no initializers", i);
	void *buf = NULL;
	size_t n = 0;
	ir_diags tmp;
	ir_diags_init(&tmp);
	bool ok = ir_onnx_write_buf(body, &buf, &n, &tmp);
	relay(c, &tmp);
	ir_diags_free(&tmp);
	if (ok && !(o->model = onnx__model_proto__unpack(NULL, n, buf)))
		ok = fn_fail(c, "out of memory");
	free(buf);
	return ok;
}

static bool export_opsets(const ir_graph *body, fnout *o, Onnx__FunctionProto *fp)
{
	size_t n = ir_graph_nopsets(body);
	o->opsets = calloc(n + 1, sizeof *o->opsets);
	o->opset_refs = calloc(n + 1, sizeof *o->opset_refs);
	if (!o->opsets || !o->opset_refs)
		return false;
	for (size_t i = 0; i < n; i++) {
		ir_opset s = ir_graph_opset_at(body, i);
		onnx__operator_set_id_proto__init(&o->opsets[i]);
		o->opsets[i].domain = (char *)ir_cstr(body, s.domain);
		o->opsets[i].has_version = 1;
		o->opsets[i].version = s.version;
		o->opset_refs[i] = &o->opsets[i];
	}
	fp->n_opset_import = n;
	fp->opset_import = o->opset_refs;
	return true;
}

/* A default as field 11: the varint length, then the AttributeProto. */
static bool export_default(fnx *c, const ir_graph *body, const ir_attr *a, ProtobufCMessageUnknownField *u)
{
	void *buf;
	size_t n;
	if (!ir_onnx_attr_pack(body, a, &buf, &n, c->d))
		return false;
	u->tag = FIELD_ATTRIBUTE_PROTO;
	u->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	u->data = malloc(n + 10);
	u->len = 0;
	if (u->data) {
		for (uint64_t v = n; u->len == 0 || v; v >>= 7)
			u->data[u->len++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
		memcpy(u->data + u->len, buf, n);
		u->len += n;
	}
	free(buf);
	return u->data || fn_fail(c, "out of memory");
}

static bool export_attrs(fnx *c, const ir_graph *body, fnout *o, Onnx__FunctionProto *fp)
{
	size_t n = ir_func_nattrs(body);
	o->names = calloc(n + 1, sizeof *o->names);
	o->defaults = calloc(n + 1, sizeof *o->defaults);
	if (!o->names || !o->defaults)
		return fn_fail(c, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const ir_attr *a = ir_func_attr_at(body, i);
		if (a->kind == IR_ATTR_UNDEF)
			o->names[fp->n_attribute++] = (char *)ir_cstr(body, a->name);
		else if (!export_default(c, body, a, &o->defaults[o->ndefaults++]))
			return false;
	}
	fp->attribute = o->names;
	fp->base.n_unknown_fields = (unsigned)o->ndefaults;
	fp->base.unknown_fields = o->ndefaults ? o->defaults : NULL;
	return true;
}

static char **value_names(Onnx__ValueInfoProto **v, size_t n, char **out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = v[i]->name;
	return out;
}

static bool pack(fnx *c, const Onnx__FunctionProto *fp, void **out, size_t *n)
{
	*n = onnx__function_proto__get_packed_size(fp);
	*out = malloc(*n ? *n : 1);
	if (!*out)
		return fn_fail(c, "out of memory");
	onnx__function_proto__pack(fp, *out);
	return true;
}

bool ir_onnx_pack_func(const ir_graph *g, ir_fid f, void **out, size_t *n, ir_diags *d)
{
	const ir_func *fn = ir_func_at(g, f);
	fnx c = {NULL, NULL, d, ""};
	fnout o = {0};
	set_who(&c, ir_cstr(g, fn->domain), ir_cstr(g, fn->name));
	Onnx__FunctionProto fp = ONNX__FUNCTION_PROTO__INIT;
	fp.name = (char *)ir_cstr(g, fn->name);
	fp.domain = (char *)ir_cstr(g, fn->domain);
	fp.doc_string = fn->doc ? (char *)ir_cstr(g, fn->doc) : NULL;
	bool ok = export_body(&c, fn->body, &o);
	const Onnx__GraphProto *gp = ok ? o.model->graph : NULL;
	char **names = gp ? calloc(gp->n_input + gp->n_output + 1, sizeof *names) : NULL;
	ok = ok && names && export_opsets(fn->body, &o, &fp) && export_attrs(&c, fn->body, &o, &fp);
	if (ok) {
		fp.n_input = gp->n_input;
		fp.input = value_names(gp->input, gp->n_input, names);
		fp.n_output = gp->n_output;
		fp.output = value_names(gp->output, gp->n_output, names + gp->n_input);
		fp.n_node = gp->n_node;
		fp.node = gp->node;
		ok = pack(&c, &fp, out, n);
	} else if (gp && (!names || !o.opsets)) {
		fn_fail(&c, "out of memory");
	}
	free(names);
	fnout_free(&o);
	return ok;
}
