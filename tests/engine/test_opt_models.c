/* rules.d on the real models: every model of shared/models is rewritten,
 * written to ONNX and read back (every graft op a call of a function the
 * model carries), verifies, and reproduces its reference output
 * (output_0.pb) in the simulator within 1e-4 of the output's range.
 * And the commands that drive the engine: `graft opt` and `graft match`. */
#include <sys/wait.h>
#include <unistd.h>

#include "engtest.h"

typedef struct expect {
	const char *model;
	const char *gone; /* an op no longer present after the rewrite ("" none) */
	size_t max_nodes; /* nodes after the rewrite at most */
} expect;

static const expect expects[] = {
	{"squeezenet1_1", "Identity", 40},
	{"mobilenet_v2", "BatchNormalization", 70},
	{"resnet18", "BatchNormalization", 30},
	{"bert_tiny", "Erf", 60},
};

static char *path_of(const char *model, const char *file)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);
	fprintf(f, "%s/models/%s/%s", GRAFT_SHARED_DIR, model, file);
	fclose(f);
	return p;
}

/* Writes g to ONNX and reads it back. */
static ir_graph *round_trip(const ir_graph *g, ir_diags *d)
{
	void *buf;
	size_t n;
	cr_assert(ir_onnx_write_buf(g, &buf, &n, d));
	ir_graph *back = ir_onnx_read_buf(buf, n, "rewritten.onnx", NULL, d);
	free(buf);
	cr_assert(back, "the rewritten model loads");
	return back;
}

static void check_model(const expect *e)
{
	char *model = path_of(e->model, "model.onnx"), *in = path_of(e->model, "test_data_set_0/input_0.pb"),
	     *out = path_of(e->model, "test_data_set_0/output_0.pb");
	if (access(model, R_OK) != 0)
		cr_skip_test("%s is absent", model);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_load(model, &d);
	cr_assert(g, "%s loads", model);
	eng_ruleset *rs = eng_ruleset_new();
	cr_assert(eng_load_path(rs, GRAFT_SOURCE_DIR "/rules.d", &d), "rules.d loads");
	eng_report rep;
	cr_assert(et_apply(rs, g, &rep, &d), "%s: the rules apply", e->model);
	cr_assert(rep.converged);
	cr_assert_leq(rep.nodes_after, e->max_nodes, "%s: %zu nodes after", e->model, rep.nodes_after);
	if (e->gone[0])
		cr_assert_eq(et_count(g, e->gone), 0, "%s: no %s left", e->model, e->gone);
	ir_graph *back = round_trip(g, &d);
	cr_assert_eq(ir_verify(back, &d, "rewritten.onnx"), 0, "%s: the rewritten model verifies", e->model);
	for (ir_nid n = ir_graph_first(back); n; n = ir_node_at(back, n)->next)
		if (strcmp(ir_cstr(back, ir_node_at(back, n)->domain), "graft") == 0)
			cr_assert(ir_node_callee(back, n), "%s: graft::%s carries its body (a model-local function)",
				  e->model, ir_cstr(back, ir_node_at(back, n)->op));
	sim_tensor x, want, *got;
	size_t ngot;
	cr_assert_eq(sim_pb_read(in, &x, &d), SIM_OK);
	cr_assert_eq(sim_pb_read(out, &want, &d), SIM_OK);
	sim_status st = sim_run(back, NULL, &x, 1, &got, &ngot, &d);
	if (st != SIM_OK)
		ir_diags_print(&d, stderr);
	cr_assert_eq(st, SIM_OK, "%s: the rewritten model runs", e->model);
	sim_cmp c;
	cr_assert(sim_compare(&got[0], &want, 1e-4, &c), "%s: max relative error %g", e->model, c.max_rel);
	cr_log_info("%s: %zu -> %zu nodes, %zu rewrites, max rel error %.3g", e->model, rep.nodes_before,
		    rep.nodes_after, rep.iterations, c.max_rel);
	sim_tensors_free(got, ngot);
	sim_tensor_free(&x);
	sim_tensor_free(&want);
	eng_report_free(&rep);
	eng_ruleset_free(rs);
	ir_graph_free(back);
	ir_graph_free(g);
	ir_diags_free(&d);
	free(model);
	free(in);
	free(out);
}

Test(opt_models, squeezenet1_1, .timeout = 600)
{
	check_model(&expects[0]);
}

Test(opt_models, mobilenet_v2, .timeout = 600)
{
	check_model(&expects[1]);
}

Test(opt_models, resnet18, .timeout = 600)
{
	check_model(&expects[2]);
}

Test(opt_models, bert_tiny, .timeout = 600)
{
	check_model(&expects[3]);
}

/* ---------------------------------------------------------------- the commands */

static char *run_cmd(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	char buf[4096];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, p)) > 0)
		fwrite(buf, 1, k, f);
	fclose(f);
	int rc = pclose(p);
	*status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	return out;
}

static const char *small_gir = "graft 1\n"
			       "graph @g(%x: f32[2,4], %y: f32[2,4]) -> (%out) {\n"
			       "  %a = Add(%x, %y) @add\n"
			       "  %r = Relu(%a) @relu\n"
			       "  %i = Identity(%r) @id\n"
			       "  %out = Sigmoid(%i) @sig\n"
			       "}\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
}

Test(commands, opt_writes_the_model_and_a_json_summary)
{
	char in[] = "/tmp/graft_opt_XXXXXX.gir", out[64], cmd[1024];
	int fd = mkstemps(in, 4);
	cr_assert(fd >= 0);
	close(fd);
	write_file(in, small_gir);
	snprintf(out, sizeof out, "%s.out.gir", in);
	snprintf(cmd, sizeof cmd, "%s opt %s --rules %s/rules.d -o %s --json --trace", GRAFT_BINARY, in,
		 GRAFT_SOURCE_DIR, out);
	int rc;
	char *text = run_cmd(cmd, &rc);
	cr_assert_eq(rc, 0, "%s", text);
	const char *keys[] = {"\"rewrites\":[", "\"rule\":\"add_relu\"", "\"matched\":[\"add\",\"relu\"]",
			      "\"added\":[\"relu/add_relu\"]", "\"per_rule\":{", "\"identity_removal\":1",
			      "\"nodes_before\":4", "\"nodes_after\":2", "\"time_ms\":{", "\"load\":",
			      "\"rewrite\":", "\"write\":"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cr_assert(strstr(text, keys[i]), "missing %s in %s", keys[i], text);
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_load(out, &d);
	cr_assert(g, "the written model loads");
	cr_assert_eq(ir_graph_nnodes(g), 2);
	ir_graph_free(g);
	ir_diags_free(&d);
	free(text);
	snprintf(cmd, sizeof cmd, "%s opt %s --rules %s/rules.d -o %s --only conv_relu", GRAFT_BINARY, in,
		 GRAFT_SOURCE_DIR, out);
	text = run_cmd(cmd, &rc);
	cr_assert_eq(rc, 0);
	cr_assert(strstr(text, "4 -> 4 nodes"), "--only leaves the other rules out: %s", text);
	free(text);
	unlink(in);
	unlink(out);
}

Test(commands, match_lists_and_explains)
{
	char in[] = "/tmp/graft_match_XXXXXX.gir", cmd[1024];
	int fd = mkstemps(in, 4);
	cr_assert(fd >= 0);
	close(fd);
	write_file(in, small_gir);
	snprintf(cmd, sizeof cmd, "%s match %s --rules %s/rules.d", GRAFT_BINARY, in, GRAFT_SOURCE_DIR);
	int rc;
	char *text = run_cmd(cmd, &rc);
	cr_assert_eq(rc, 0);
	cr_assert(strstr(text, "add_relu: add relu") && strstr(text, "identity_removal: id") &&
			  strstr(text, "2 matches"),
		  "%s", text);
	free(text);
	snprintf(cmd, sizeof cmd, "%s match %s --rules %s/rules.d --explain conv_relu --at relu", GRAFT_BINARY, in,
		 GRAFT_SOURCE_DIR);
	text = run_cmd(cmd, &rc);
	cr_assert_eq(rc, 1, "the rule does not match there");
	cr_assert(strstr(text, "does not match at node 'relu'") && strstr(text, "wants Conv"), "%s", text);
	free(text);
	unlink(in);
}
