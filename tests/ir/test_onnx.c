/* ONNX import and export: real models, round trips, every dtype and
 * attribute kind, typed-field and external tensor data, and the errors. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir.h"
#include "onnx.pb-c.h"

#define MODELS GRAFT_SHARED_DIR "/models"

/* ---------------------------------------------------------------- helpers */

static void *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)size + 1);
	*n = fread(buf, 1, (size_t)size, f);
	buf[*n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static ir_graph *load_ok(const char *path)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_onnx_read_file(path, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	cr_assert(g, "import of %s failed", path);
	ir_diags_free(&d);
	return g;
}

/* Exports g and imports the bytes again; *bytes/n keep the export. */
static ir_graph *reimport(const ir_graph *g, void **bytes, size_t *n)
{
	ir_diags d;
	ir_diags_init(&d);
	bool ok = ir_onnx_write_buf(g, bytes, n, &d);
	if (!ok)
		ir_diags_print(&d, stderr);
	cr_assert(ok, "export failed");
	ir_graph *g2 = ir_onnx_read_buf(*bytes, *n, "exported", NULL, &d);
	if (!g2)
		ir_diags_print(&d, stderr);
	cr_assert(g2, "re-import of the export failed");
	ir_diags_free(&d);
	return g2;
}

/* Imports bytes that must fail; returns the diagnostics (caller frees). */
static ir_diags import_fails(const void *buf, size_t n, const char *file)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_onnx_read_buf(buf, n, file, NULL, &d);
	cr_assert_null(g, "import of %s should fail", file);
	cr_assert(d.nerrors > 0, "a failed import must report an error");
	return d;
}

static void expect_diag(const ir_diags *d, const char *needle)
{
	if (!ir_diags_contains(d, needle))
		ir_diags_print(d, stderr);
	cr_expect(ir_diags_contains(d, needle), "no diagnostic contains \"%s\"", needle);
}

static size_t count_op(const ir_graph *g, const char *op)
{
	size_t k = 0;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		k += strcmp(ir_cstr(g, ir_node_at(g, n)->op), op) == 0;
	return k;
}

static size_t count_defaults(const ir_graph *g)
{
	size_t k = 0;
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		k += ir_value_at(g, ir_graph_input_at(g, i))->tensor != 0;
	return k;
}

/* ---------------------------------------------------------------- structural comparison */

typedef struct cmp {
	const ir_graph *a, *b;
	char why[512];
	uint32_t *order_a, *order_b; /* node id -> position in graph order */
} cmp;

static bool differ(cmp *c, const char *fmt, const char *what)
{
	snprintf(c->why, sizeof c->why, fmt, what);
	return false;
}

static bool str_same(const ir_graph *ga, ir_str a, const ir_graph *gb, ir_str b)
{
	size_t la, lb;
	const char *sa = ir_str_get(ga, a, &la), *sb = ir_str_get(gb, b, &lb);
	return la == lb && memcmp(sa, sb, la) == 0;
}

static bool blob_same(const ir_graph *ga, ir_bid a, const ir_graph *gb, ir_bid b)
{
	size_t na, nb;
	const void *pa = ir_blob_get(ga, a, &na), *pb = ir_blob_get(gb, b, &nb);
	return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

static bool tensor_same(cmp *c, ir_tid a, ir_tid b)
{
	const ir_tensor *ta = ir_tensor_at(c->a, a), *tb = ir_tensor_at(c->b, b);
	if (!ta || !tb)
		return ta == tb || differ(c, "%s", "tensor presence");
	if (ta->dtype != tb->dtype || ta->rank != tb->rank || ta->nbytes != tb->nbytes)
		return differ(c, "tensor '%s': dtype, rank or size", ir_cstr(c->a, ta->name));
	if (ta->rank > 0 && memcmp(ir_tensor_dims(c->a, a), ir_tensor_dims(c->b, b),
				   (size_t)ta->rank * sizeof(int64_t)) != 0)
		return differ(c, "tensor '%s': dims", ir_cstr(c->a, ta->name));
	if (ta->nbytes && memcmp(ta->data, tb->data, ta->nbytes) != 0)
		return differ(c, "tensor '%s': data bytes", ir_cstr(c->a, ta->name));
	if (!str_same(c->a, ta->name, c->b, tb->name) || !str_same(c->a, ta->doc, c->b, tb->doc))
		return differ(c, "tensor '%s': name or doc", ir_cstr(c->a, ta->name));
	return true;
}

static bool value_same(cmp *c, ir_val a, ir_val b)
{
	const ir_value *va = ir_value_at(c->a, a), *vb = ir_value_at(c->b, b);
	if (!va || !vb)
		return va == vb || differ(c, "%s", "operand presence");
	const char *name = ir_cstr(c->a, va->name);
	if (!str_same(c->a, va->name, c->b, vb->name) || va->def_kind != vb->def_kind ||
	    va->index != vb->index)
		return differ(c, "value '%s': name or definition", name);
	if (va->def_kind == IR_DEF_NODE && c->order_a[va->node] != c->order_b[vb->node])
		return differ(c, "value '%s': defining node", name);
	if (!ir_type_equal(c->a, va->type, c->b, vb->type))
		return differ(c, "value '%s': type", name);
	if (!str_same(c->a, va->doc, c->b, vb->doc))
		return differ(c, "value '%s': doc", name);
	return true;
}

static bool ids_same(cmp *c, const ir_attr *x, const ir_attr *y)
{
	const uint32_t *ia = ir_attr_ids(c->a, x), *ib = ir_attr_ids(c->b, y);
	for (uint32_t i = 0; i < x->n; i++) {
		bool ok = x->kind == IR_ATTR_STRINGS ? str_same(c->a, ia[i], c->b, ib[i])
			  : x->kind == IR_ATTR_TENSORS ? tensor_same(c, ia[i], ib[i])
						       : blob_same(c->a, ia[i], c->b, ib[i]);
		if (!ok)
			return false;
	}
	return true;
}

static bool attr_value_same(cmp *c, const ir_attr *x, const ir_attr *y)
{
	switch (x->kind) {
	case IR_ATTR_FLOAT:
		return memcmp(&x->u.f, &y->u.f, sizeof x->u.f) == 0;
	case IR_ATTR_INT:
		return x->u.i == y->u.i;
	case IR_ATTR_STRING:
		return str_same(c->a, x->u.s, c->b, y->u.s);
	case IR_ATTR_TENSOR:
		return tensor_same(c, x->u.t, y->u.t);
	case IR_ATTR_GRAPH:
	case IR_ATTR_SPARSE_TENSOR:
	case IR_ATTR_TYPE_PROTO:
		return blob_same(c->a, x->u.b, c->b, y->u.b);
	case IR_ATTR_FLOATS:
		return !x->n || memcmp(ir_attr_floats(c->a, x), ir_attr_floats(c->b, y),
				       x->n * sizeof(float)) == 0;
	case IR_ATTR_INTS:
		return !x->n || memcmp(ir_attr_ints(c->a, x), ir_attr_ints(c->b, y),
				       x->n * sizeof(int64_t)) == 0;
	default:
		return ids_same(c, x, y);
	}
}

static bool attrs_same(cmp *c, ir_nid a, ir_nid b)
{
	const ir_node *na = ir_node_at(c->a, a);
	const ir_attr *xa = ir_node_attrs(c->a, a), *xb = ir_node_attrs(c->b, b);
	for (uint32_t i = 0; i < na->nattr; i++) {
		const char *name = ir_cstr(c->a, xa[i].name);
		if (!str_same(c->a, xa[i].name, c->b, xb[i].name) || xa[i].kind != xb[i].kind ||
		    xa[i].n != xb[i].n || !str_same(c->a, xa[i].ref, c->b, xb[i].ref) ||
		    !str_same(c->a, xa[i].doc, c->b, xb[i].doc))
			return differ(c, "attribute '%s': header", name);
		if (!attr_value_same(c, &xa[i], &xb[i]))
			return differ(c, "attribute '%s': value", name);
	}
	return true;
}

static bool node_same(cmp *c, ir_nid a, ir_nid b)
{
	const ir_node *na = ir_node_at(c->a, a), *nb = ir_node_at(c->b, b);
	const char *op = ir_cstr(c->a, na->op);
	if (!str_same(c->a, na->op, c->b, nb->op) || !str_same(c->a, na->domain, c->b, nb->domain) ||
	    !str_same(c->a, na->name, c->b, nb->name) || !str_same(c->a, na->doc, c->b, nb->doc) ||
	    na->opcode != nb->opcode)
		return differ(c, "node (%s): op, domain, name or doc", op);
	if (na->nin != nb->nin || na->nout != nb->nout || na->nattr != nb->nattr)
		return differ(c, "node (%s): arity", op);
	for (uint32_t i = 0; i < na->nin; i++)
		if (!value_same(c, ir_node_input(c->a, a, i), ir_node_input(c->b, b, i)))
			return false;
	for (uint32_t i = 0; i < na->nout; i++)
		if (!value_same(c, ir_node_output(c->a, a, i), ir_node_output(c->b, b, i)))
			return false;
	return attrs_same(c, a, b);
}

static uint32_t *node_order(const ir_graph *g)
{
	uint32_t *o = calloc(ir_nnodes_total(g) + 1, sizeof *o), k = 0;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		o[n] = ++k;
	return o;
}

static bool meta_same(cmp *c)
{
	const ir_meta *a = ir_graph_cmeta(c->a), *b = ir_graph_cmeta(c->b);
	if (a->ir_version != b->ir_version || a->model_version != b->model_version ||
	    !str_same(c->a, a->producer_name, c->b, b->producer_name) ||
	    !str_same(c->a, a->producer_version, c->b, b->producer_version) ||
	    !str_same(c->a, a->domain, c->b, b->domain) || !str_same(c->a, a->doc, c->b, b->doc) ||
	    !str_same(c->a, a->graph_name, c->b, b->graph_name) ||
	    !str_same(c->a, a->graph_doc, c->b, b->graph_doc))
		return differ(c, "%s", "model metadata");
	if (ir_graph_nopsets(c->a) != ir_graph_nopsets(c->b) ||
	    ir_graph_nprops(c->a) != ir_graph_nprops(c->b))
		return differ(c, "%s", "opset or property count");
	for (size_t i = 0; i < ir_graph_nopsets(c->a); i++) {
		ir_opset x = ir_graph_opset_at(c->a, i), y = ir_graph_opset_at(c->b, i);
		if (x.version != y.version || !str_same(c->a, x.domain, c->b, y.domain))
			return differ(c, "%s", "opset");
	}
	for (size_t i = 0; i < ir_graph_nprops(c->a); i++) {
		ir_kv x = ir_graph_prop_at(c->a, i), y = ir_graph_prop_at(c->b, i);
		if (!str_same(c->a, x.key, c->b, y.key) || !str_same(c->a, x.value, c->b, y.value))
			return differ(c, "%s", "metadata_props");
	}
	for (int k = 0; k < IR_EXTRA_KINDS; k++) {
		if (ir_graph_nextras(c->a, k) != ir_graph_nextras(c->b, k))
			return differ(c, "%s", "extras count");
		for (size_t i = 0; i < ir_graph_nextras(c->a, k); i++)
			if (!blob_same(c->a, ir_graph_extra_at(c->a, k, i), c->b,
				       ir_graph_extra_at(c->b, k, i)))
				return differ(c, "%s", "extras bytes");
	}
	return true;
}

static bool lists_same(cmp *c)
{
	if (ir_graph_ninputs(c->a) != ir_graph_ninputs(c->b) ||
	    ir_graph_nconsts(c->a) != ir_graph_nconsts(c->b) ||
	    ir_graph_noutputs(c->a) != ir_graph_noutputs(c->b))
		return differ(c, "%s", "input, constant or output count");
	for (size_t i = 0; i < ir_graph_ninputs(c->a); i++) {
		ir_val x = ir_graph_input_at(c->a, i), y = ir_graph_input_at(c->b, i);
		if (!value_same(c, x, y) ||
		    !tensor_same(c, ir_value_at(c->a, x)->tensor, ir_value_at(c->b, y)->tensor))
			return false;
	}
	for (size_t i = 0; i < ir_graph_nconsts(c->a); i++) {
		ir_val x = ir_graph_const_at(c->a, i), y = ir_graph_const_at(c->b, i);
		if (!value_same(c, x, y) ||
		    !tensor_same(c, ir_value_at(c->a, x)->tensor, ir_value_at(c->b, y)->tensor))
			return false;
	}
	for (size_t i = 0; i < ir_graph_noutputs(c->a); i++)
		if (!value_same(c, ir_graph_output_at(c->a, i), ir_graph_output_at(c->b, i)))
			return false;
	return true;
}

static bool nodes_same(cmp *c)
{
	if (ir_graph_nnodes(c->a) != ir_graph_nnodes(c->b))
		return differ(c, "%s", "node count");
	ir_nid a = ir_graph_first(c->a), b = ir_graph_first(c->b);
	for (; a && b; a = ir_node_at(c->a, a)->next, b = ir_node_at(c->b, b)->next)
		if (!node_same(c, a, b))
			return false;
	return true;
}

static bool graph_same(const ir_graph *a, const ir_graph *b, char *why, size_t cap);

/* Declared attributes of two bodies. */
static bool func_attrs_same(const ir_graph *a, const ir_graph *b, char *why, size_t cap)
{
	cmp c = {a, b, "", NULL, NULL};
	if (ir_func_nattrs(a) != ir_func_nattrs(b))
		return snprintf(why, cap, "declared attribute count"), false;
	for (size_t i = 0; i < ir_func_nattrs(a); i++) {
		const ir_attr *x = ir_func_attr_at(a, i), *y = ir_func_attr_at(b, i);
		if (!str_same(a, x->name, b, y->name) || x->kind != y->kind || x->n != y->n ||
		    !attr_value_same(&c, x, y))
			return snprintf(why, cap, "declared attribute '%s'", ir_cstr(a, x->name)), false;
	}
	return true;
}

/* The function tables: names, docs, declared attributes, bodies. */
static bool funcs_same(cmp *c, char *why, size_t cap)
{
	if (ir_graph_nfuncs(c->a) != ir_graph_nfuncs(c->b))
		return differ(c, "%s", "function count");
	for (ir_fid f = 1; f <= ir_graph_nfuncs(c->a); f++) {
		const ir_func *x = ir_func_at(c->a, f), *y = ir_func_at(c->b, f);
		if (!str_same(c->a, x->name, c->b, y->name) || !str_same(c->a, x->domain, c->b, y->domain) ||
		    !str_same(c->a, x->doc, c->b, y->doc))
			return differ(c, "function '%s': name, domain or doc", ir_cstr(c->a, x->name));
		if (!func_attrs_same(x->body, y->body, why, cap) || !graph_same(x->body, y->body, why, cap))
			return false;
	}
	return true;
}

/* Structural equality of two graphs; why says where they first differ. */
static bool graph_same(const ir_graph *a, const ir_graph *b, char *why, size_t cap)
{
	cmp c = {a, b, "", node_order(a), node_order(b)};
	bool ok = meta_same(&c) && lists_same(&c) && nodes_same(&c);
	snprintf(why, cap, "%s", c.why);
	if (ok)
		ok = funcs_same(&c, why, cap);
	if (!ok && c.why[0])
		snprintf(why, cap, "%s", c.why);
	free(c.order_a);
	free(c.order_b);
	return ok;
}

/* Export, re-import, compare, and check that exporting again gives the same
 * bytes; why says what failed. */
static bool roundtrip_same(const ir_graph *g, char *why, size_t cap)
{
	void *b1 = NULL, *b2 = NULL;
	size_t n1, n2;
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g2 = NULL;
	bool ok = false;
	if (!ir_onnx_write_buf(g, &b1, &n1, &d))
		snprintf(why, cap, "export failed: %s", d.n ? d.v[0].msg : "?");
	else if (!(g2 = ir_onnx_read_buf(b1, n1, "exported", NULL, &d)))
		snprintf(why, cap, "re-import failed: %s", d.n ? d.v[0].msg : "?");
	else if (graph_same(g, g2, why, cap) && !ir_onnx_write_buf(g2, &b2, &n2, &d))
		snprintf(why, cap, "second export failed: %s", d.n ? d.v[0].msg : "?");
	else if (b2 && (n1 != n2 || memcmp(b1, b2, n1) != 0))
		snprintf(why, cap, "second export differs from the first");
	else
		ok = b2 != NULL;
	free(b1);
	free(b2);
	ir_graph_free(g2);
	ir_diags_free(&d);
	return ok;
}

/* ---------------------------------------------------------------- real models */

static const char *const model_names[] = {"resnet18", "squeezenet1_1", "mobilenet_v2", "bert_tiny"};

static long json_int(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(json, pat);
	cr_assert(p, "info.json has no %s", key);
	return strtol(p + strlen(pat), NULL, 10);
}

/* Checks every "Op": count entry of info.json's op_histogram against g. */
static void check_histogram(const char *json, const ir_graph *g, const char *model)
{
	const char *p = strstr(json, "\"op_histogram\"");
	cr_assert(p, "%s: info.json has no op_histogram", model);
	const char *end = strchr(p, '}');
	size_t total = 0;
	for (p = strchr(p, '{') + 1; (p = strchr(p, '"')) && p < end;) {
		const char *q = strchr(p + 1, '"');
		char op[64];
		snprintf(op, sizeof op, "%.*s", (int)(q - p - 1), p + 1);
		long want = strtol(q + 2, (char **)&p, 10);
		cr_expect_eq(count_op(g, op), (size_t)want, "%s: %s count", model, op);
		total += (size_t)want;
	}
	cr_expect_eq(total, ir_graph_nnodes(g), "%s: histogram covers every node", model);
}

Test(onnx_models, import_matches_info_json)
{
	if (!exists(MODELS))
		cr_skip_test("%s is absent", MODELS);
	for (size_t i = 0; i < sizeof model_names / sizeof *model_names; i++) {
		char path[1024], info[1024];
		snprintf(path, sizeof path, "%s/%s/model.onnx", MODELS, model_names[i]);
		snprintf(info, sizeof info, "%s/%s/info.json", MODELS, model_names[i]);
		size_t n;
		char *json = slurp(info, &n);
		cr_assert(json, "cannot read %s", info);
		ir_graph *g = load_ok(path);
		cr_expect_eq(ir_graph_nnodes(g), (size_t)json_int(json, "nodes"), "%s nodes",
			     model_names[i]);
		cr_expect_eq(ir_graph_nconsts(g) + count_defaults(g),
			     (size_t)json_int(json, "initializers"), "%s initializers", model_names[i]);
		check_histogram(json, g, model_names[i]);
		free(json);
		ir_graph_free(g);
	}
}

Test(onnx_models, resnet18_details)
{
	if (!exists(MODELS "/resnet18/model.onnx"))
		cr_skip_test("resnet18 is absent");
	ir_graph *g = load_ok(MODELS "/resnet18/model.onnx");
	char buf[128];
	cr_expect_eq(ir_graph_nnodes(g), 69);
	cr_expect_eq(ir_graph_nconsts(g), 102);
	cr_expect_eq(count_op(g, "Conv"), 20);
	cr_assert_eq(ir_graph_ninputs(g), 1);
	ir_value *in = ir_value_at(g, ir_graph_input_at(g, 0));
	ir_type_format(g, in->type, buf, sizeof buf);
	cr_expect_str_eq(buf, "f32[1,3,224,224]");
	cr_expect_str_eq(ir_cstr(g, in->name), "input");
	cr_assert_eq(ir_graph_noutputs(g), 1);
	ir_type_format(g, ir_value_at(g, ir_graph_output_at(g, 0))->type, buf, sizeof buf);
	cr_expect_str_eq(buf, "f32[1,1000]");
	cr_expect_eq(ir_graph_opset(g, ""), 13);
	cr_expect_str_eq(ir_cstr(g, ir_graph_cmeta(g)->producer_name), "pytorch");
	/* every Conv reads an input (or node result) and two constants at most */
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t i = 0; i < ir_node_at(g, n)->nin; i++)
			cr_expect_neq(ir_value_at(g, ir_node_input(g, n, i))->def_kind, IR_DEF_NONE);
	ir_graph_free(g);
}

Test(onnx_models, roundtrip)
{
	if (!exists(MODELS))
		cr_skip_test("%s is absent", MODELS);
	for (size_t i = 0; i < sizeof model_names / sizeof *model_names; i++) {
		char path[1024], why[512];
		snprintf(path, sizeof path, "%s/%s/model.onnx", MODELS, model_names[i]);
		ir_graph *g = load_ok(path);
		cr_expect(roundtrip_same(g, why, sizeof why), "%s: %s", model_names[i], why);
		ir_graph_free(g);
	}
}

/* ---------------------------------------------------------------- hand-built graphs */

/* One constant per element type, a 2x3 tensor of distinct bytes (strings:
 * six strings including an empty one and one holding a NUL). */
static ir_tid dtype_tensor(ir_graph *g, ir_dtype dt, const char *name)
{
	int64_t dims[2] = {2, 3};
	unsigned char buf[6 * 16];
	if (dt == IR_STRING) {
		static const char *const s[6] = {"", "a", "bc", "d\0e", "fgh", "ij"};
		static const size_t len[6] = {0, 1, 2, 3, 3, 2};
		size_t off = 0;
		for (int i = 0; i < 6; i++) {
			uint32_t l = (uint32_t)len[i];
			memcpy(buf + off, &l, 4);
			memcpy(buf + off + 4, s[i], len[i]);
			off += 4 + len[i];
		}
		return ir_tensor_new(g, ir_intern_cstr(g, name), dt, 2, dims, buf, off);
	}
	size_t nbytes = 6 * ir_dtype_size(dt);
	for (size_t i = 0; i < nbytes; i++)
		buf[i] = (unsigned char)(dt == IR_BOOL ? i % 2 : i * 37 + (unsigned)dt);
	return ir_tensor_new(g, ir_intern_cstr(g, name), dt, 2, dims, buf, nbytes);
}

/* For every dtype: out_T = Concat(c_T, in_T), with in_T defaulting to a tensor. */
static ir_graph *dtype_graph(void)
{
	ir_graph *g = ir_graph_new();
	for (int dt = 1; dt < IR_DTYPE_COUNT; dt++) {
		char cname[32], iname[32], oname[32];
		snprintf(cname, sizeof cname, "c_%s", ir_dtype_name((ir_dtype)dt));
		snprintf(iname, sizeof iname, "in_%s", ir_dtype_name((ir_dtype)dt));
		snprintf(oname, sizeof oname, "out_%s", ir_dtype_name((ir_dtype)dt));
		ir_val c = ir_const_new(g, ir_intern_cstr(g, cname), dtype_tensor(g, (ir_dtype)dt, cname));
		ir_tid def = dtype_tensor(g, (ir_dtype)dt, iname);
		ir_val in = ir_input_new(g, ir_intern_cstr(g, iname), ir_tensor_type(g, def), def);
		ir_val ins[2] = {c, in};
		ir_nid n = ir_node_new(g, "", "Concat", ins, 2, 1, 0);
		ir_attr_set_int(g, n, "axis", 0);
		ir_value *out = ir_value_at(g, ir_node_output(g, n, 0));
		out->name = ir_intern_cstr(g, oname);
		int64_t dims[2] = {4, 3};
		out->type = ir_type_tensor(g, (ir_dtype)dt, 2, dims);
		ir_graph_add_output(g, ir_node_output(g, n, 0));
	}
	cr_assert_not(ir_graph_oom(g));
	return g;
}

Test(onnx_handbuilt, every_dtype_roundtrips)
{
	ir_graph *g = dtype_graph();
	void *bytes;
	size_t n;
	ir_graph *g2 = reimport(g, &bytes, &n);
	/* hand-built: export writes ir_version 8 and the default opset 13 */
	cr_expect_eq(ir_graph_cmeta(g2)->ir_version, 8);
	cr_expect_eq(ir_graph_opset(g2, ""), 13);
	cr_assert_eq(ir_graph_nconsts(g2), IR_DTYPE_COUNT - 1);
	for (size_t i = 0; i < ir_graph_nconsts(g2); i++) {
		const ir_tensor *a = ir_tensor_at(g, ir_value_at(g, ir_graph_const_at(g, i))->tensor);
		const ir_tensor *b = ir_tensor_at(g2, ir_value_at(g2, ir_graph_const_at(g2, i))->tensor);
		cr_assert_eq(a->dtype, b->dtype);
		cr_assert_eq(a->nbytes, b->nbytes, "%s size", ir_dtype_name((ir_dtype)a->dtype));
		cr_expect_eq(memcmp(a->data, b->data, a->nbytes), 0, "%s bytes",
			     ir_dtype_name((ir_dtype)a->dtype));
	}
	char why[512];
	cr_expect(roundtrip_same(g2, why, sizeof why), "%s", why);
	free(bytes);
	ir_graph_free(g2);
	ir_graph_free(g);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Runs ONNX's checker (Python) on the export of g. */
static void expect_checker_passes(const ir_graph *g, const char *dir, const char *name)
{
	char out[1200], cmd[1400];
	void *b;
	size_t n;
	ir_graph_free(reimport(g, &b, &n));
	snprintf(out, sizeof out, "%s/%s.onnx", dir, name);
	write_file(out, b, n);
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c \"import onnx; onnx.checker.check_model(onnx.load('%s'))\"", out);
	int rc = system(cmd);
	cr_expect_eq(rc, 0, "%s: the ONNX checker rejects the export", name);
	remove(out);
	free(b);
}

/* ONNX's own checker on our exports, when Python with onnx is installed. */
Test(onnx_checker, exports_pass_onnx_checker)
{
	if (system("/usr/bin/python3 -c 'import onnx' 2>/dev/null") != 0)
		cr_skip_test("/usr/bin/python3 with onnx is absent");
	char dir[] = "/tmp/graft_onnx_chk_XXXXXX";
	cr_assert(mkdtemp(dir));
	ir_graph *g = dtype_graph();
	expect_checker_passes(g, dir, "dtypes");
	ir_graph_free(g);
	for (size_t i = 0; exists(MODELS) && i < sizeof model_names / sizeof *model_names; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s/model.onnx", MODELS, model_names[i]);
		g = load_ok(path);
		expect_checker_passes(g, dir, model_names[i]);
		ir_graph_free(g);
	}
	rmdir(dir);
}

/* A packed protobuf message as a blob of g. */
static ir_bid blob_of(ir_graph *g, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n + 1);
	protobuf_c_message_pack(m, buf);
	ir_bid b = ir_blob_add(g, buf, n);
	free(buf);
	return b;
}

static void add_blob_attrs(ir_graph *g, ir_nid n)
{
	Onnx__GraphProto sub = ONNX__GRAPH_PROTO__INIT;
	sub.name = "body";
	Onnx__TypeProto tp = ONNX__TYPE_PROTO__INIT;
	Onnx__TypeProto__Sequence seq = ONNX__TYPE_PROTO__SEQUENCE__INIT;
	tp.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
	tp.sequence_type = &seq;
	Onnx__SparseTensorProto sp = ONNX__SPARSE_TENSOR_PROTO__INIT;
	int64_t dims[1] = {7};
	sp.n_dims = 1;
	sp.dims = dims;
	ir_bid bg = blob_of(g, &sub.base), bt = blob_of(g, &tp.base), bs = blob_of(g, &sp.base);
	ir_attr_set_blobs(g, n, "graph", IR_ATTR_GRAPH, &bg, 1);
	ir_attr_set_blobs(g, n, "type", IR_ATTR_TYPE_PROTO, &bt, 1);
	ir_attr_set_blobs(g, n, "sparse", IR_ATTR_SPARSE_TENSOR, &bs, 1);
	ir_bid two[2] = {bg, bg};
	ir_attr_set_blobs(g, n, "graphs", IR_ATTR_GRAPHS, two, 2);
	ir_bid types[2] = {bt, bt}, sparse[1] = {bs};
	ir_attr_set_blobs(g, n, "types", IR_ATTR_TYPE_PROTOS, types, 2);
	ir_attr_set_blobs(g, n, "sparses", IR_ATTR_SPARSE_TENSORS, sparse, 1);
}

static void add_plain_attrs(ir_graph *g, ir_nid n)
{
	const int64_t ints[3] = {1, -2, INT64_MAX};
	const float floats[2] = {0.5f, -1e30f};
	ir_str strs[3] = {ir_intern(g, "a\0b", 3), 0, ir_intern_cstr(g, "zz")};
	ir_tid t[2] = {dtype_tensor(g, IR_F16, "t0"), dtype_tensor(g, IR_STRING, "t1")};
	ir_attr_set_float(g, n, "f", 1.25f);
	ir_attr_set_int(g, n, "i", -7);
	ir_attr_set_string(g, n, "s", "x\0y", 3);
	ir_attr_set_ints(g, n, "ints", ints, 3);
	ir_attr_set_ints(g, n, "no_ints", NULL, 0);
	ir_attr_set_floats(g, n, "floats", floats, 2);
	ir_attr_set_strs(g, n, "strings", strs, 3);
	ir_attr_set_tensor(g, n, "tensor", dtype_tensor(g, IR_BF16, "t"));
	ir_attr_set_tensors(g, n, "tensors", t, 2);
	ir_attr a = {0};
	a.name = ir_intern_cstr(g, "ref");
	a.kind = IR_ATTR_INT;
	a.ref = ir_intern_cstr(g, "outer");
	a.doc = ir_intern_cstr(g, "a referenced attribute");
	ir_attr_put(g, n, &a);
}

/* com.example::MyFn(x) -> (y): y = LeakyRelu(x) {alpha = @a}, a defaulting
 * to 0.25, and an attribute without a default. */
static void add_function(ir_graph *g)
{
	ir_fid f = ir_func_new(g, "com.example", "MyFn");
	ir_graph *b = ir_func_at(g, f)->body;
	ir_func_at(g, f)->doc = ir_intern_cstr(g, "a function");
	ir_graph_add_opset(b, "", 13);
	ir_val x = ir_input_new(b, ir_intern_cstr(b, "x"), ir_type_unknown(), 0);
	ir_nid n = ir_node_new(b, "", "LeakyRelu", &x, 1, 1, 0);
	ir_value_at(b, ir_node_output(b, n, 0))->name = ir_intern_cstr(b, "y");
	ir_attr ref = {.name = ir_intern_cstr(b, "alpha"), .kind = IR_ATTR_FLOAT, .ref = ir_intern_cstr(b, "a")};
	ir_attr_put(b, n, &ref);
	ir_graph_add_output(b, ir_node_output(b, n, 0));
	ir_attr a = {.name = ir_intern_cstr(b, "a"), .kind = IR_ATTR_FLOAT, .u.f = 0.25f};
	ir_attr plain = {.name = ir_intern_cstr(b, "unused")};
	ir_func_add_attr(b, &plain); /* import lists the attributes without a default first */
	ir_func_add_attr(b, &a);
}

static void add_metadata(ir_graph *g)
{
	ir_meta *m = ir_graph_meta(g);
	m->ir_version = 7;
	m->producer_name = ir_intern_cstr(g, "graft-test");
	m->producer_version = ir_intern_cstr(g, "0.1");
	m->domain = ir_intern_cstr(g, "org.graft");
	m->model_version = 42;
	m->doc = ir_intern_cstr(g, "model doc");
	m->graph_name = ir_intern_cstr(g, "main");
	m->graph_doc = ir_intern_cstr(g, "graph doc");
	ir_graph_add_opset(g, "", 13);
	ir_graph_add_opset(g, "com.example", 2);
	ir_graph_add_prop(g, ir_intern_cstr(g, "k1"), ir_intern_cstr(g, "v1"));
	ir_graph_add_prop(g, ir_intern_cstr(g, "k2"), 0);
	add_function(g);
	Onnx__TensorAnnotation qa = ONNX__TENSOR_ANNOTATION__INIT;
	qa.tensor_name = "y";
	ir_graph_add_extra(g, IR_EXTRA_QUANT_ANNOT, blob_of(g, &qa.base));
}

Test(onnx_handbuilt, every_attribute_kind_and_metadata_roundtrip)
{
	ir_graph *g = ir_graph_new();
	add_metadata(g);
	ir_dim dims[3] = {{-1, ir_intern_cstr(g, "N")}, {3, 0}, {-1, 0}};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor_dims(g, IR_F32, 3, dims), 0);
	ir_value_at(g, x)->doc = ir_intern_cstr(g, "the input");
	ir_val ins[3] = {x, IR_NONE, x};
	ir_nid n = ir_node_new(g, "com.example", "Everything", ins, 3, 2, 0);
	ir_node_at(g, n)->name = ir_intern_cstr(g, "every");
	ir_node_at(g, n)->doc = ir_intern_cstr(g, "node doc");
	add_plain_attrs(g, n);
	add_blob_attrs(g, n);
	ir_value_at(g, ir_node_output(g, n, 0))->name = ir_intern_cstr(g, "y");
	ir_value_at(g, ir_node_output(g, n, 1))->name = ir_intern_cstr(g, "unused");
	ir_val y = ir_node_output(g, n, 0);
	ir_nid r = ir_node_new(g, "", "Relu", &y, 1, 1, 0);
	ir_value_at(g, ir_node_output(g, r, 0))->name = ir_intern_cstr(g, "z");
	ir_value_at(g, y)->type = ir_type_tensor_dims(g, IR_F32, 3, dims);
	ir_graph_add_output(g, ir_node_output(g, r, 0));
	cr_assert_not(ir_graph_oom(g));
	char why[512];
	cr_expect(roundtrip_same(g, why, sizeof why), "%s", why);
	ir_graph_free(g);
}

Test(onnx_handbuilt, export_names_values)
{
	ir_graph *g = ir_graph_new();
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 0, NULL), 0);
	ir_nid a = ir_node_new(g, "", "Relu", &x, 1, 1, 0); /* unnamed, used */
	ir_val ya = ir_node_output(g, a, 0);
	ir_nid b = ir_node_new(g, "", "Dropout", &ya, 1, 2, 0); /* 2nd result unnamed, unused */
	ir_val yb = ir_node_output(g, b, 0);
	ir_nid c = ir_node_new(g, "", "Neg", &yb, 1, 1, 0);
	ir_nid e = ir_node_new(g, "", "Abs", &yb, 1, 1, 0);
	ir_value_at(g, yb)->name = ir_intern_cstr(g, "dup");
	ir_value_at(g, ir_node_output(g, c, 0))->name = ir_intern_cstr(g, "dup"); /* collides */
	ir_value_at(g, ir_node_output(g, e, 0))->name = ir_intern_cstr(g, "graft_1"); /* a trap */
	ir_graph_add_output(g, ir_node_output(g, c, 0));
	ir_graph_add_output(g, ir_node_output(g, e, 0));
	void *bytes;
	size_t n;
	ir_graph *g2 = reimport(g, &bytes, &n);
	ir_nid a2 = ir_graph_first(g2), b2 = ir_node_at(g2, a2)->next;
	ir_nid c2 = ir_node_at(g2, b2)->next;
	const char *na = ir_cstr(g2, ir_value_at(g2, ir_node_output(g2, a2, 0))->name);
	cr_expect_str_eq(na, "graft_2", "fresh names skip existing ones");
	cr_expect_eq(ir_value_at(g2, ir_node_output(g2, b2, 1))->name, 0, "absent output stays \"\"");
	cr_expect_str_eq(ir_cstr(g2, ir_value_at(g2, ir_node_output(g2, b2, 0))->name), "dup");
	cr_expect_str_eq(ir_cstr(g2, ir_value_at(g2, ir_node_output(g2, c2, 0))->name), "dup_3");
	cr_expect_eq(ir_node_input(g2, c2, 0), ir_node_output(g2, b2, 0));
	cr_expect_eq(ir_graph_output_at(g2, 0), ir_node_output(g2, c2, 0));
	free(bytes);
	ir_graph_free(g2);
	ir_graph_free(g);
}

Test(onnx_handbuilt, export_rejects_undefined_operand)
{
	ir_graph *g = ir_graph_new();
	ir_val ghost = ir_value_new(g, ir_intern_cstr(g, "ghost"), ir_type_unknown());
	ir_node_new(g, "", "Relu", &ghost, 1, 1, 0);
	ir_diags d;
	ir_diags_init(&d);
	void *bytes;
	size_t n;
	cr_expect_not(ir_onnx_write_buf(g, &bytes, &n, &d));
	cr_expect_null(bytes);
	expect_diag(&d, "'ghost'");
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- ModelProtos built here */

typedef struct arena {
	void *p[512];
	int n;
} arena;

static void *anew(arena *a, size_t n)
{
	cr_assert_lt(a->n, 512);
	return a->p[a->n++] = calloc(1, n);
}

static void afree(arena *a)
{
	while (a->n)
		free(a->p[--a->n]);
}

static char **names(arena *a, size_t n, const char *const *v)
{
	char **p = anew(a, (n + 1) * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char *)v[i];
	return p;
}

static Onnx__NodeProto *mk_node(arena *a, const char *op, const char *name, const char *in,
				const char *out)
{
	Onnx__NodeProto *n = anew(a, sizeof *n);
	onnx__node_proto__init(n);
	n->op_type = (char *)op;
	n->name = (char *)name;
	n->n_input = in ? 1 : 0;
	n->input = names(a, 1, &in);
	n->n_output = 1;
	n->output = names(a, 1, &out);
	return n;
}

static Onnx__ValueInfoProto *mk_vi(arena *a, const char *name)
{
	Onnx__ValueInfoProto *vi = anew(a, sizeof *vi);
	Onnx__TypeProto *tp = anew(a, sizeof *tp);
	Onnx__TypeProto__Tensor *tt = anew(a, sizeof *tt);
	onnx__value_info_proto__init(vi);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	tt->has_elem_type = 1;
	tt->elem_type = IR_F32;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	vi->name = (char *)name;
	vi->type = tp;
	return vi;
}

static Onnx__TensorProto *mk_tensor(arena *a, const char *name, int dtype, int64_t n)
{
	Onnx__TensorProto *t = anew(a, sizeof *t);
	onnx__tensor_proto__init(t);
	t->name = (char *)name;
	t->has_data_type = 1;
	t->data_type = dtype;
	t->n_dims = 1;
	t->dims = anew(a, sizeof *t->dims);
	t->dims[0] = n;
	return t;
}

/* A model "x -> Relu 'r' -> y" with room for more nodes and initializers. */
typedef struct model {
	arena a;
	Onnx__ModelProto m;
	Onnx__GraphProto g;
	Onnx__OperatorSetIdProto opset;
	Onnx__OperatorSetIdProto *opsets[1];
	Onnx__NodeProto *nodes[8];
	Onnx__TensorProto *inits[32];
	Onnx__ValueInfoProto *ins[4], *outs[4];
} model;

static void model_init(model *md)
{
	memset(md, 0, sizeof *md);
	onnx__model_proto__init(&md->m);
	onnx__graph_proto__init(&md->g);
	onnx__operator_set_id_proto__init(&md->opset);
	md->opset.has_version = 1;
	md->opset.version = 13;
	md->opsets[0] = &md->opset;
	md->m.has_ir_version = 1;
	md->m.ir_version = 8;
	md->m.n_opset_import = 1;
	md->m.opset_import = md->opsets;
	md->m.graph = &md->g;
	md->g.name = "test";
	md->g.node = md->nodes;
	md->g.initializer = md->inits;
	md->g.input = md->ins;
	md->g.output = md->outs;
	md->ins[md->g.n_input++] = mk_vi(&md->a, "x");
	md->nodes[md->g.n_node++] = mk_node(&md->a, "Relu", "r", "x", "y");
	md->outs[md->g.n_output++] = mk_vi(&md->a, "y");
}

static void *model_pack(model *md, size_t *n)
{
	*n = onnx__model_proto__get_packed_size(&md->m);
	void *buf = malloc(*n + 1);
	onnx__model_proto__pack(&md->m, buf);
	return buf;
}

static ir_graph *model_import(model *md)
{
	size_t n;
	void *buf = model_pack(md, &n);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_onnx_read_buf(buf, n, "built.onnx", NULL, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	ir_diags_free(&d);
	free(buf);
	return g;
}

static ir_diags model_fails(model *md)
{
	size_t n;
	void *buf = model_pack(md, &n);
	ir_diags d = import_fails(buf, n, "built.onnx");
	free(buf);
	return d;
}

static const ir_tensor *const_named(const ir_graph *g, const char *name)
{
	for (size_t i = 0; i < ir_graph_nconsts(g); i++) {
		const ir_value *v = ir_value_at(g, ir_graph_const_at(g, i));
		if (strcmp(ir_cstr(g, v->name), name) == 0)
			return ir_tensor_at(g, v->tensor);
	}
	cr_assert_fail("no constant '%s'", name);
	return NULL;
}

static void expect_bytes(const ir_graph *g, const char *name, const void *want, size_t n)
{
	const ir_tensor *t = const_named(g, name);
	cr_assert_eq(t->nbytes, n, "%s: %zu bytes, expected %zu", name, t->nbytes, n);
	cr_expect_eq(memcmp(t->data, want, n), 0, "%s: bytes differ", name);
}

static void add_init(model *md, Onnx__TensorProto *t)
{
	md->inits[md->g.n_initializer++] = t;
}

static void add_int32_inits(model *md)
{
	static int32_t i8[2] = {-1, 127}, u16[2] = {65535, 1}, f16[2] = {0x3c00, 0xc000};
	static int32_t bools[2] = {1, 0}, i32[2] = {-2, 0x12345678};
	const struct {
		const char *name;
		int dtype;
		int32_t *v;
	} c[] = {{"i8", IR_I8, i8},     {"u8", IR_U8, u16 + 1}, {"i16", IR_I16, i8},
		 {"u16", IR_U16, u16},  {"f16", IR_F16, f16},   {"bf16", IR_BF16, f16},
		 {"bool", IR_BOOL, bools}, {"i32", IR_I32, i32}};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		int64_t n = strcmp(c[i].name, "u8") == 0 ? 1 : 2;
		Onnx__TensorProto *t = mk_tensor(&md->a, c[i].name, c[i].dtype, n);
		t->n_int32_data = (size_t)n;
		t->int32_data = c[i].v;
		add_init(md, t);
	}
}

static void add_wide_inits(model *md)
{
	static float f[4] = {1.0f, -2.0f, 0.5f, 3.0f};
	static double dd[4] = {1.0, -2.0, 0.25, 8.0};
	static int64_t i64[2] = {-1, INT64_MIN};
	static uint64_t u64[2] = {4000000000u, UINT64_MAX};
	static ProtobufCBinaryData s[2] = {{2, (uint8_t *)"hi"}, {0, NULL}};
	Onnx__TensorProto *t;
	add_init(md, t = mk_tensor(&md->a, "f32", IR_F32, 4));
	t->n_float_data = 4, t->float_data = f;
	add_init(md, t = mk_tensor(&md->a, "c64", IR_C64, 2));
	t->n_float_data = 4, t->float_data = f;
	add_init(md, t = mk_tensor(&md->a, "f64", IR_F64, 4));
	t->n_double_data = 4, t->double_data = dd;
	add_init(md, t = mk_tensor(&md->a, "c128", IR_C128, 2));
	t->n_double_data = 4, t->double_data = dd;
	add_init(md, t = mk_tensor(&md->a, "i64", IR_I64, 2));
	t->n_int64_data = 2, t->int64_data = i64;
	add_init(md, t = mk_tensor(&md->a, "u32", IR_U32, 1));
	t->n_uint64_data = 1, t->uint64_data = u64;
	add_init(md, t = mk_tensor(&md->a, "u64", IR_U64, 2));
	t->n_uint64_data = 2, t->uint64_data = u64;
	add_init(md, t = mk_tensor(&md->a, "str", IR_STRING, 2));
	t->n_string_data = 2, t->string_data = s;
}

Test(onnx_tensors, typed_fields_become_raw_little_endian)
{
	model md;
	model_init(&md);
	add_int32_inits(&md);
	add_wide_inits(&md);
	ir_graph *g = model_import(&md);
	cr_assert(g);
	expect_bytes(g, "i8", "\xff\x7f", 2);
	expect_bytes(g, "u8", "\x01", 1);
	expect_bytes(g, "i16", "\xff\xff\x7f\x00", 4);
	expect_bytes(g, "u16", "\xff\xff\x01\x00", 4);
	expect_bytes(g, "f16", "\x00\x3c\x00\xc0", 4);
	expect_bytes(g, "bf16", "\x00\x3c\x00\xc0", 4);
	expect_bytes(g, "bool", "\x01\x00", 2);
	expect_bytes(g, "i32", "\xfe\xff\xff\xff\x78\x56\x34\x12", 8);
	expect_bytes(g, "f32", "\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f\x00\x00\x40\x40", 16);
	expect_bytes(g, "c64", "\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f\x00\x00\x40\x40", 16);
	static const char f64[] = "\0\0\0\0\0\0\xf0\x3f\0\0\0\0\0\0\0\xc0"
				  "\0\0\0\0\0\0\xd0\x3f\0\0\0\0\0\0\x20\x40";
	expect_bytes(g, "f64", f64, 32);
	expect_bytes(g, "c128", f64, 32);
	expect_bytes(g, "i64", "\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\0\x80", 16);
	expect_bytes(g, "u32", "\x00\x28\x6b\xee", 4);
	expect_bytes(g, "u64", "\x00\x28\x6b\xee\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 16);
	expect_bytes(g, "str", "\x02\0\0\0hi\0\0\0\0", 10);
	char why[512];
	cr_expect(roundtrip_same(g, why, sizeof why), "%s", why);
	ir_graph_free(g);
	afree(&md.a);
}

Test(onnx_tensors, data_size_must_match_dims)
{
	static float f[5] = {0};
	model md;
	model_init(&md);
	Onnx__TensorProto *t = mk_tensor(&md.a, "w", IR_F32, 6);
	t->n_float_data = 5;
	t->float_data = f;
	add_init(&md, t);
	ir_diags d = model_fails(&md);
	expect_diag(&d, "tensor 'w' (f32) has 6 elements but float_data holds 5 values");
	ir_diags_free(&d);
	t->n_float_data = 0;
	t->has_raw_data = 1;
	t->raw_data = (ProtobufCBinaryData){20, (uint8_t *)f};
	d = model_fails(&md);
	expect_diag(&d, "tensor 'w' has 20 bytes of raw_data, expected 24");
	ir_diags_free(&d);
	afree(&md.a);
}

static Onnx__StringStringEntryProto *kv(arena *a, const char *k, const char *v)
{
	Onnx__StringStringEntryProto *e = anew(a, sizeof *e);
	onnx__string_string_entry_proto__init(e);
	e->key = (char *)k;
	e->value = (char *)v;
	return e;
}

/* A model with initializer "w" (f32[6]) stored at offset 16 of location. */
static void external_model(model *md, const char *dir, const char *location)
{
	model_init(md);
	Onnx__TensorProto *t = mk_tensor(&md->a, "w", IR_F32, 6);
	t->has_data_location = 1;
	t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	t->n_external_data = 3;
	t->external_data = anew(&md->a, 3 * sizeof *t->external_data);
	t->external_data[0] = kv(&md->a, "location", location);
	t->external_data[1] = kv(&md->a, "offset", "16");
	t->external_data[2] = kv(&md->a, "length", "24");
	add_init(md, t);
	char path[1024];
	size_t n;
	void *buf = model_pack(md, &n);
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	write_file(path, buf, n);
	free(buf);
}

Test(onnx_tensors, external_data)
{
	char dir[] = "/tmp/graft_onnx_ext_XXXXXX", path[1024], data[1024];
	cr_assert(mkdtemp(dir));
	unsigned char bytes[40];
	for (int i = 0; i < 40; i++)
		bytes[i] = (unsigned char)(i * 7);
	snprintf(data, sizeof data, "%s/w.bin", dir);
	write_file(data, bytes, sizeof bytes);
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	model md;
	external_model(&md, dir, "w.bin");
	ir_graph *g = load_ok(path);
	expect_bytes(g, "w", bytes + 16, 24);
	ir_graph_free(g);
	afree(&md.a);

	ir_diags d;
	ir_diags_init(&d);
	external_model(&md, dir, "missing.bin");
	cr_expect_null(ir_onnx_read_file(path, &d));
	expect_diag(&d, "missing.bin");
	expect_diag(&d, "tensor 'w'");
	afree(&md.a);
	ir_diags_clear(&d);

	external_model(&md, dir, "../w.bin");
	cr_expect_null(ir_onnx_read_file(path, &d));
	expect_diag(&d, "not a relative path inside the model's directory");
	afree(&md.a);
	ir_diags_clear(&d);

	write_file(data, bytes, 30); /* too short for 24 bytes at offset 16 */
	external_model(&md, dir, "w.bin");
	cr_expect_null(ir_onnx_read_file(path, &d));
	expect_diag(&d, "too short");
	expect_diag(&d, "w.bin");
	afree(&md.a);
	ir_diags_free(&d);
	remove(data);
	remove(path);
	rmdir(dir);
}

/* ---------------------------------------------------------------- errors */

static void truncated(const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/model.onnx", MODELS, name);
	size_t n;
	void *buf = slurp(path, &n);
	if (!buf)
		cr_skip_test("%s is absent", path);
	ir_diags d = import_fails(buf, n / 2, path);
	expect_diag(&d, "not a valid ONNX model");
	cr_expect_str_eq(d.v[0].file, path, "the diagnostic names the file");
	cr_expect_eq(d.v[0].line, 0);
	ir_diags_free(&d);
	free(buf);
}

Test(onnx_errors, truncated_resnet18)
{
	truncated("resnet18");
}

Test(onnx_errors, truncated_squeezenet)
{
	truncated("squeezenet1_1");
}

Test(onnx_errors, random_bytes)
{
	unsigned char buf[4096];
	uint32_t s = 12345;
	for (size_t i = 0; i < sizeof buf; i++) {
		s ^= s << 13, s ^= s >> 17, s ^= s << 5;
		buf[i] = (unsigned char)s;
	}
	ir_diags d = import_fails(buf, sizeof buf, "random.bin");
	expect_diag(&d, "not a valid ONNX model");
	ir_diags_free(&d);
}

Test(onnx_errors, missing_graph)
{
	model md;
	model_init(&md);
	md.m.graph = NULL;
	ir_diags d = model_fails(&md);
	expect_diag(&d, "not a valid ONNX model: it has no graph");
	ir_diags_free(&d);
	afree(&md.a);
}

static Onnx__AttributeProto *mk_attr(arena *a, const char *name)
{
	Onnx__AttributeProto *at = anew(a, sizeof *at);
	onnx__attribute_proto__init(at);
	at->name = (char *)name;
	return at;
}

Test(onnx_errors, wrong_typed_attribute)
{
	model md;
	model_init(&md);
	Onnx__NodeProto *n = md.nodes[0];
	n->op_type = "Conv";
	Onnx__AttributeProto *at = mk_attr(&md.a, "kernel_shape");
	at->has_type = 1;
	at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
	at->has_f = 1;
	at->f = 3.0f;
	n->n_attribute = 1;
	n->attribute = &at;
	ir_diags d = model_fails(&md);
	expect_diag(&d, "attribute 'kernel_shape' of node 'r' (Conv) has type INTS but holds FLOAT");
	ir_diags_free(&d);
	afree(&md.a);
}

Test(onnx_errors, untyped_attribute_is_inferred)
{
	static int64_t ks[2] = {3, 3};
	model md;
	model_init(&md);
	Onnx__AttributeProto *at[2] = {mk_attr(&md.a, "kernel_shape"), mk_attr(&md.a, "alpha")};
	at[0]->n_ints = 2;
	at[0]->ints = ks;
	at[1]->has_f = 1;
	at[1]->f = 0.25f;
	md.nodes[0]->n_attribute = 2;
	md.nodes[0]->attribute = at;
	ir_graph *g = model_import(&md);
	cr_assert(g);
	ir_nid n = ir_graph_first(g);
	cr_expect_eq(ir_attr_find(g, n, "kernel_shape")->kind, IR_ATTR_INTS);
	cr_expect_eq(ir_attr_float(g, n, "alpha", 0), 0.25f);
	ir_graph_free(g);
	afree(&md.a);
}

Test(onnx_errors, undefined_value)
{
	model md;
	model_init(&md);
	md.nodes[0]->input[0] = "nope";
	ir_diags d = model_fails(&md);
	expect_diag(&d, "node 'r' (Relu) reads undefined value 'nope'");
	ir_diags_free(&d);
	afree(&md.a);
}

Test(onnx_errors, value_defined_twice)
{
	model md;
	model_init(&md);
	md.nodes[md.g.n_node++] = mk_node(&md.a, "Neg", "n2", "x", "y");
	ir_diags d = model_fails(&md);
	expect_diag(&d, "value 'y' is defined twice: by node 'r' (Relu) and by node 'n2' (Neg)");
	ir_diags_free(&d);
	afree(&md.a);

	model_init(&md);
	static float one = 1;
	Onnx__TensorProto *t = mk_tensor(&md.a, "y", IR_F32, 1);
	t->n_float_data = 1;
	t->float_data = &one;
	add_init(&md, t);
	d = model_fails(&md);
	expect_diag(&d, "value 'y' is defined twice: by an initializer and by node 'r' (Relu)");
	ir_diags_free(&d);
	afree(&md.a);
}

Test(onnx_errors, unknown_graph_output)
{
	model md;
	model_init(&md);
	md.outs[0]->name = "zz";
	ir_diags d = model_fails(&md);
	expect_diag(&d, "graph output 'zz' names an unknown value");
	ir_diags_free(&d);
	afree(&md.a);
}

/* ---------------------------------------------------------------- graph order */

Test(onnx_order, forward_references_are_sorted)
{
	model md;
	model_init(&md);
	/* y2 = Neg(y) listed before y = Relu(x) */
	md.nodes[1] = md.nodes[0];
	md.nodes[0] = mk_node(&md.a, "Neg", "n", "y", "y2");
	md.g.n_node = 2;
	md.outs[0]->name = "y2";
	ir_graph *g = model_import(&md);
	cr_assert(g, "a forward reference is allowed");
	cr_expect_str_eq(ir_cstr(g, ir_node_at(g, ir_graph_first(g))->op), "Relu");
	cr_expect_str_eq(ir_cstr(g, ir_node_at(g, ir_graph_last(g))->op), "Neg");
	ir_graph_free(g);
	afree(&md.a);
}

Test(onnx_order, cycle_is_an_error)
{
	model md;
	model_init(&md);
	md.nodes[0]->input[0] = "y2";
	md.nodes[md.g.n_node++] = mk_node(&md.a, "Neg", "n", "y", "y2");
	ir_diags d = model_fails(&md);
	expect_diag(&d, "cycle");
	expect_diag(&d, "'r' (Relu)");
	expect_diag(&d, "'n' (Neg)");
	ir_diags_free(&d);
	afree(&md.a);
}

/* ---------------------------------------------------------------- ONNX's test corpus */

static void corpus_dir(const char *sub, size_t *total, size_t *bad)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/%s", GRAFT_ONNX_TESTDATA, sub);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	size_t n = 0, nbad = 0;
	for (struct dirent *e; (e = readdir(dp));) {
		char path[2048], why[512];
		snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
		if (e->d_name[0] == '.' || !exists(path))
			continue;
		n++;
		ir_diags d;
		ir_diags_init(&d);
		ir_graph *g = ir_onnx_read_file(path, &d);
		if (!g)
			snprintf(why, sizeof why, "import failed: %s", d.n ? d.v[0].msg : "?");
		if (!g || !roundtrip_same(g, why, sizeof why)) {
			nbad++;
			cr_log_error("%s: %s", path, why);
		}
		ir_graph_free(g);
		ir_diags_free(&d);
	}
	closedir(dp);
	fprintf(stderr, "onnx corpus %s: %zu models, %zu failures\n", sub, n, nbad);
	*total += n;
	*bad += nbad;
}

Test(onnx_corpus, every_testdata_model_roundtrips, .timeout = 600)
{
	if (!exists(GRAFT_ONNX_TESTDATA))
		cr_skip_test("%s is absent", GRAFT_ONNX_TESTDATA);
	static const char *const subs[] = {"node", "pytorch-converted", "pytorch-operator", "simple",
					   "real"};
	size_t total = 0, bad = 0;
	for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
		corpus_dir(subs[i], &total, &bad);
	cr_expect_gt(total, 0, "no model.onnx found under %s", GRAFT_ONNX_TESTDATA);
	cr_expect_eq(bad, 0, "%zu of %zu models fail the round trip", bad, total);
}

/* ---------------------------------------------------------------- files */

/* ir_save streams the model into the file (tensor data larger than its
 * buffer straight from the graph) and ir_load maps it: the bytes are those
 * of ir_onnx_write_buf, and the tensors come back whole. */
Test(onnx_files, saved_file_equals_the_buffer_and_loads_back)
{
	ir_graph *g = ir_graph_new();
	ir_graph_add_opset(g, "", 13);
	enum { BIG = 300000 }; /* floats: more than the writer's 256 KiB buffer */
	float *w = malloc(BIG * sizeof *w);
	for (int i = 0; i < BIG; i++)
		w[i] = (float)i * 0.5f;
	int64_t dims[1] = {BIG};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 1, dims), 0);
	ir_val c = ir_const_new(g, ir_intern_cstr(g, "w"), ir_tensor_new(g, 0, IR_F32, 1, dims, w, BIG * sizeof *w));
	ir_val ins[2] = {x, c};
	ir_nid n = ir_node_new(g, NULL, "Add", ins, 2, 1, 0);
	ir_value_at(g, ir_node_output(g, n, 0))->name = ir_intern_cstr(g, "y");
	ir_graph_add_output(g, ir_node_output(g, n, 0));
	ir_diags d;
	ir_diags_init(&d);
	char path[64];
	snprintf(path, sizeof path, "/tmp/graft_test_onnx_%d.onnx", (int)getpid());
	cr_assert(ir_save(g, path, IR_FMT_UNKNOWN, &d));
	void *buf = NULL;
	size_t n_buf = 0, n_file = 0;
	cr_assert(ir_onnx_write_buf(g, &buf, &n_buf, &d));
	void *file = slurp(path, &n_file);
	cr_assert_not_null(file);
	cr_assert_eq(n_file, n_buf);
	cr_assert(memcmp(file, buf, n_buf) == 0, "the streamed file differs from the buffer");
	ir_graph *h = ir_load(path, &d);
	cr_assert_not_null(h);
	cr_assert_eq(ir_graph_nconsts(h), 1);
	const ir_tensor *t = ir_tensor_at(h, ir_value_at(h, ir_graph_const_at(h, 0))->tensor);
	cr_assert_eq(t->nbytes, BIG * sizeof *w);
	cr_assert(memcmp(t->data, w, t->nbytes) == 0);
	unlink(path);
	free(file);
	free(buf);
	free(w);
	ir_graph_free(h);
	ir_graph_free(g);
	ir_diags_free(&d);
}

/* A file that cannot be written is reported, and nothing is left behind. */
Test(onnx_files, unwritable_path_is_reported)
{
	ir_graph *g = ir_graph_new();
	ir_graph_add_opset(g, "", 13);
	int64_t dims[1] = {2};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 1, dims), 0);
	ir_nid n = ir_node_new(g, NULL, "Relu", &x, 1, 1, 0);
	ir_graph_add_output(g, ir_node_output(g, n, 0));
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_not(ir_save(g, "/nonexistent-graft-dir/model.onnx", IR_FMT_UNKNOWN, &d));
	cr_assert(ir_diags_contains(&d, "cannot create a temporary file"));
	ir_graph_free(g);
	ir_diags_free(&d);
}
