/* The corpus: every model in ../shared/models and every model.onnx of ONNX's
 * backend test data (Debian's libonnx-testdata) loads; those made only of
 * registered ops pass the verifier and their inferred output shapes equal
 * the declared ones; ONNX -> IR -> ONNX -> IR and ONNX -> .gir -> ONNX are
 * identical (printed text and constant bytes). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ir.h"

typedef struct printed {
	char *text;
	size_t n;
	void *side;
	size_t side_n;
} printed;

static printed print_graph(const ir_graph *g)
{
	printed p = {0};
	FILE *f = open_memstream(&p.text, &p.n);
	ir_print_opts o = {16, "corpus.gir.bin"};
	cr_assert(ir_print(g, f, &o, &p.side, &p.side_n));
	fclose(f);
	return p;
}

static void printed_free(printed *p)
{
	free(p->text);
	free(p->side);
}

static bool printed_equal(const printed *a, const printed *b)
{
	return a->n == b->n && memcmp(a->text, b->text, a->n) == 0 && a->side_n == b->side_n &&
	       (a->side_n == 0 || memcmp(a->side, b->side, a->side_n) == 0);
}

static ir_graph *onnx_round(const ir_graph *g, ir_diags *d)
{
	void *buf = NULL;
	size_t n = 0;
	if (!ir_onnx_write_buf(g, &buf, &n, d))
		return NULL;
	ir_graph *h = ir_onnx_read_buf(buf, n, "roundtrip.onnx", NULL, d);
	free(buf);
	return h;
}

static bool all_registered(const ir_graph *g)
{
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		if (!ir_node_at(g, n)->opcode)
			return false;
	return true;
}

/* Forgets every node result's type, so inference must compute it. */
static void forget_types(ir_graph *g)
{
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		for (uint32_t i = 0; i < ir_node_at(g, n)->nout; i++)
			ir_value_at(g, ir_node_output(g, n, i))->type = ir_type_unknown();
}

/* A graph input of integer type, or a scalar, can carry shapes known only at
 * run time (Expand's shape, Unsqueeze's axes, Range's limits, ...). */
static bool has_int_input(const ir_graph *g)
{
	for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
		ir_type t = ir_value_at(g, ir_graph_input_at(g, i))->type;
		if (ir_dtype_is_int((ir_dtype)t.dtype) || t.rank == 0)
			return true;
	}
	return false;
}

/* Declared static output types must be inferred exactly; a dim may stay
 * unknown only when the graph takes integer inputs that can decide it at
 * run time (counted in *data_dependent). */
static bool outputs_match(const ir_graph *decl, const ir_graph *inf, const char *path, int *data_dependent)
{
	bool runtime_shapes = has_int_input(decl);
	for (size_t i = 0; i < ir_graph_noutputs(decl); i++) {
		ir_type a = ir_value_at(decl, ir_graph_output_at(decl, i))->type;
		ir_type b = ir_value_at(inf, ir_graph_output_at(inf, i))->type;
		if (!ir_type_is_static(decl, a))
			continue;
		char sa[128], sb[128];
		ir_type_format(decl, a, sa, sizeof sa);
		ir_type_format(inf, b, sb, sizeof sb);
		if (strcmp(sa, sb) == 0)
			continue;
		bool compatible = b.kind == IR_TYPE_TENSOR && b.dtype == a.dtype && (b.rank < 0 || b.rank == a.rank);
		const ir_dim *da = ir_type_dims(decl, a), *db = ir_type_dims(inf, b);
		for (int k = 0; compatible && b.rank > 0 && k < a.rank; k++)
			compatible = db[k].v < 0 || db[k].v == da[k].v;
		if (compatible && runtime_shapes) {
			(*data_dependent)++;
			continue;
		}
		cr_log_error("%s: output %zu declared %s, inferred %s", path, i, sa, sb);
		return false;
	}
	return true;
}

typedef struct tally {
	int loaded, failed, verified, inferred_ok, data_dependent, opaque_models, opaque_nodes, roundtrip_ok, gir_ok;
} tally;

/* Checks one model; returns false on any failure (logged). */
static bool check_model(const char *path, tally *t)
{
	ir_diags d;
	ir_diags_init(&d);
	bool ok = false;
	ir_graph *g = ir_onnx_read_file(path, &d), *inf = NULL, *r = NULL, *p = NULL, *q = NULL;
	printed a = {0}, b = {0}, c = {0};
	if (!g)
		goto done;
	t->loaded++;
	ir_stats s = ir_graph_stats(g);
	t->opaque_nodes += (int)s.opaque;
	if (!all_registered(g)) {
		t->opaque_models++;
		ir_infer(g, &d, path); /* best effort around opaque nodes: must not fail */
		if (d.nerrors)
			goto done;
	} else {
		if (ir_infer(g, &d, path) || ir_verify(g, &d, path))
			goto done;
		t->verified++;
		inf = ir_onnx_read_file(path, &d);
		forget_types(inf);
		if (ir_infer(inf, &d, path) || !outputs_match(g, inf, path, &t->data_dependent))
			goto done;
		t->inferred_ok++;
	}
	a = print_graph(g);
	r = onnx_round(g, &d);
	if (!r || ir_infer(r, &d, path))
		goto done;
	b = print_graph(r);
	if (!printed_equal(&a, &b)) {
		cr_log_error("%s: ONNX -> IR -> ONNX -> IR changed the printed graph", path);
		goto done;
	}
	t->roundtrip_ok++;
	p = ir_parse(a.text, a.n, "corpus.gir", a.side, a.side_n, &d);
	q = p ? onnx_round(p, &d) : NULL;
	if (!q || ir_infer(q, &d, path))
		goto done;
	c = print_graph(q);
	if (!printed_equal(&a, &c)) {
		cr_log_error("%s: ONNX -> .gir -> ONNX changed the printed graph", path);
		goto done;
	}
	t->gir_ok++;
	ok = true;
done:
	if (!ok) {
		t->failed++;
		for (size_t i = 0; i < d.n && i < 5; i++)
			cr_log_error("%s: %s", path, d.v[i].msg);
	}
	printed_free(&a);
	printed_free(&b);
	printed_free(&c);
	ir_graph_free(g);
	ir_graph_free(inf);
	ir_graph_free(r);
	ir_graph_free(p);
	ir_graph_free(q);
	ir_diags_free(&d);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks dir/<each>/model.onnx in name order; false when dir is absent. */
static bool check_dir(const char *dir, tally *t)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return false;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s/model.onnx", dir, names[i]);
		if (stat(path, &st) == 0)
			check_model(path, t);
		free(names[i]);
	}
	free(names);
	return true;
}

static void report(const char *what, const tally *t)
{
	printf("%s: %d loaded, %d verified, %d with inferred outputs equal to declared (%d outputs shaped by "
	       "run-time integer inputs), %d holding opaque ops (%d opaque nodes), %d ONNX round trips identical, "
	       "%d .gir round trips identical, %d failed\n",
	       what, t->loaded, t->verified, t->inferred_ok, t->data_dependent, t->opaque_models, t->opaque_nodes,
	       t->roundtrip_ok, t->gir_ok, t->failed);
	fflush(stdout);
}

Test(corpus, shared_models, .timeout = 600)
{
	tally t = {0};
	if (!check_dir(GRAFT_SHARED_DIR "/models", &t))
		cr_skip_test("no models at %s", GRAFT_SHARED_DIR "/models");
	report("shared models", &t);
	cr_assert_gt(t.loaded, 0);
	cr_assert_eq(t.failed, 0);
	cr_assert_eq(t.verified, t.loaded, "the shared models use only registered ops");
}

Test(corpus, onnx_backend_test_data, .timeout = 600)
{
	static const char *const sets[] = {"node", "pytorch-converted", "pytorch-operator", "simple", "real"};
	tally all = {0};
	bool any = false;
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
		char dir[1024];
		tally t = {0};
		snprintf(dir, sizeof dir, "%s/%s", GRAFT_ONNX_TESTDATA, sets[i]);
		if (!check_dir(dir, &t))
			continue;
		any = true;
		report(sets[i], &t);
		all.loaded += t.loaded;
		all.failed += t.failed;
		all.verified += t.verified;
	}
	if (!any)
		cr_skip_test("no ONNX backend test data at %s (Debian package libonnx-testdata)", GRAFT_ONNX_TESTDATA);
	cr_assert_gt(all.loaded, 900);
	cr_assert_eq(all.failed, 0, "%d models failed", all.failed);
}
