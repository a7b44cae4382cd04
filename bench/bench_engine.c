/* bench_engine: the rule engine's speed.
 *
 * 1. Synthetic graphs of 10,000 to 1,000,000 nodes, two mixes: dense
 *    (CNN-like and transformer-like blocks in which nearly every rule of
 *    rules.d and bench/bench_rules.yaml finds work: 40% of the nodes are
 *    rewritten) and sparse (blocks that the rules are tried on and do not
 *    match, with a dense block every tenth): time (wall and CPU of the
 *    engine's thread) and memory of eng_apply per size, its cost per node
 *    (flat when the engine is linear), and whether a second application
 *    finds nothing left to do (the worklist reached the fixpoint).
 * 2. The models of shared/models with rules.d, against ONNX Runtime (Node,
 *    onnxruntime-node from .cache/ort, through bench/ort_opt.js):
 *    - graft's rewrite phase (matching, rewriting, folding, shape inference,
 *      in process) against ONNX Runtime's graph optimisation (session
 *      creation at level `extended` minus level `disabled`, in process);
 *    - a whole `graft opt` process (load, rewrite, write) against a whole
 *      process that loads the model in ONNX Runtime, optimises it at
 *      `extended` and saves it; each writes a new file (the previous
 *      run's output is deleted between runs, untimed).
 *    Ratios above 1 mean graft is faster.  ONNX Runtime's optimisation
 *    time is a difference of two medians: on a busy machine it can come out
 *    near zero or negative (no ratio is printed then).
 *
 * usage: bench_engine [--sizes N,N,...] [--runs N] [--mix dense|sparse] [--no-models] [--no-ort]
 * Times are medians; build with CMAKE_BUILD_TYPE=Release (debug builds
 * verify the graph after every rewrite). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "sim.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CPU time of the calling thread: less disturbed by a busy machine. */
static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* Resident set size now, in MB (/proc/self/statm). */
static double rss_mb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* ---------------------------------------------------------------- synthetic graphs */

typedef struct gb {
	ir_graph *g;
	uint32_t seed;
} gb;

static const int64_t act_dims[4] = {1, 4, 4, 4};

static ir_val cnst(gb *b, int rank, const int64_t *dims, float base)
{
	float v[64];
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	for (int64_t i = 0; i < n; i++) {
		b->seed = b->seed * 1103515245u + 12345u;
		v[i] = base + (float)((b->seed >> 16) % 1000) / 4000.0f;
	}
	ir_tid t = ir_tensor_new(b->g, 0, IR_F32, rank, dims, v, (size_t)n * sizeof *v);
	return ir_const_new(b->g, 0, t);
}

static ir_val scalar(gb *b, float x)
{
	ir_tid t = ir_tensor_new(b->g, 0, IR_F32, 0, NULL, &x, sizeof x);
	return ir_const_new(b->g, 0, t);
}

static ir_val op(gb *b, const char *name, ir_val x, ir_val y, ir_val z)
{
	ir_val in[3] = {x, y, z};
	uint32_t n = z ? 3 : y ? 2 : 1;
	return ir_node_output(b->g, ir_node_new(b->g, NULL, name, in, n, 1, 0), 0);
}

static ir_nid producer(gb *b, ir_val v)
{
	return ir_value_at(b->g, v)->node;
}

static ir_val conv_bn(gb *b, ir_val x, bool bias)
{
	static const int64_t wd[4] = {4, 4, 1, 1}, cd[1] = {4};
	ir_val c = op(b, "Conv", x, cnst(b, 4, wd, -0.1f), bias ? cnst(b, 1, cd, 0) : 0);
	ir_val in[5] = {c, cnst(b, 1, cd, 0.5f), cnst(b, 1, cd, 0), cnst(b, 1, cd, 0), cnst(b, 1, cd, 0.5f)};
	return ir_node_output(b->g, ir_node_new(b->g, NULL, "BatchNormalization", in, 5, 1, 0), 0);
}

static ir_val transpose(gb *b, ir_val x)
{
	static const int64_t perm[4] = {0, 2, 1, 3};
	ir_val t = op(b, "Transpose", x, 0, 0);
	ir_attr_set_ints(b->g, producer(b, t), "perm", perm, 4);
	return t;
}

/* 21 nodes: conv+bn(+relu), a residual, identity, double negation, SiLU,
 * a transpose pair, a tanh chain, a division by a constant, ReLU6, Relu². */
static ir_val cnn_block(gb *b, ir_val x)
{
	ir_val r1 = op(b, "Relu", conv_bn(b, x, true), 0, 0);
	ir_val r2 = op(b, "Relu", op(b, "Add", conv_bn(b, r1, false), x, 0), 0, 0);
	ir_val n = op(b, "Neg", op(b, "Neg", op(b, "Identity", r2, 0, 0), 0, 0), 0, 0);
	ir_val s = op(b, "Mul", n, op(b, "Sigmoid", n, 0, 0), 0);
	ir_val t = op(b, "Tanh", op(b, "Tanh", op(b, "Tanh", transpose(b, transpose(b, s)), 0, 0), 0, 0), 0, 0);
	ir_val c = op(b, "Clip", op(b, "Div", t, scalar(b, 2.0f), 0), scalar(b, 0), scalar(b, 6));
	return op(b, "Relu", op(b, "Relu", c, 0, 0), 0, 0);
}

/* 17 nodes: a decomposed LayerNorm, a projection with bias, a decomposed GELU. */
static ir_val transformer_block(gb *b, ir_val x)
{
	static const int64_t axes[1] = {-1}, wd[2] = {4, 4}, cd[1] = {4};
	ir_val mean = op(b, "ReduceMean", x, 0, 0);
	ir_attr_set_ints(b->g, producer(b, mean), "axes", axes, 1);
	ir_val d = op(b, "Sub", x, mean, 0);
	ir_val var = op(b, "ReduceMean", op(b, "Pow", d, scalar(b, 2), 0), 0, 0);
	ir_attr_set_ints(b->g, producer(b, var), "axes", axes, 1);
	ir_val sd = op(b, "Sqrt", op(b, "Add", var, scalar(b, 1e-5f), 0), 0, 0);
	ir_val ln = op(b, "Add", op(b, "Mul", op(b, "Div", d, sd, 0), cnst(b, 1, cd, 1), 0), cnst(b, 1, cd, 0), 0);
	ir_val p = op(b, "Add", op(b, "MatMul", ln, cnst(b, 2, wd, -0.1f), 0), cnst(b, 1, cd, 0), 0);
	ir_val e = op(b, "Add", op(b, "Erf", op(b, "Div", p, scalar(b, 1.41421356f), 0), 0, 0), scalar(b, 1), 0);
	return op(b, "Mul", op(b, "Mul", p, e, 0), scalar(b, 0.5f), 0);
}

/* 20 nodes that most rules are tried on and none matches (a match every
 * tenth block keeps a few percent of the nodes rewritten). */
static ir_val quiet_block(gb *b, ir_val x)
{
	static const int64_t perm[4] = {0, 1, 3, 2};
	for (int i = 0; i < 4; i++) {
		ir_val s = op(b, "Softmax", x, 0, 0);
		ir_val l = op(b, "LeakyRelu", op(b, "Sigmoid", s, 0, 0), 0, 0);
		ir_val t = op(b, "Transpose", op(b, "Sqrt", l, 0, 0), 0, 0);
		ir_attr_set_ints(b->g, producer(b, t), "perm", perm, 4);
		x = op(b, "Relu", op(b, "Mul", op(b, "Sub", t, x, 0), s, 0), 0, 0);
	}
	return x;
}

static ir_graph *synthetic(size_t nodes, bool dense)
{
	gb b = {ir_graph_new(), 1};
	ir_graph_add_opset(b.g, "", 13);
	ir_val x = ir_input_new(b.g, ir_intern_cstr(b.g, "x"), ir_type_tensor(b.g, IR_F32, 4, act_dims), 0);
	for (int i = 0; ir_graph_nnodes(b.g) < nodes; i++)
		if (dense)
			x = i % 2 ? transformer_block(&b, x) : cnn_block(&b, x);
		else
			x = i % 10 ? quiet_block(&b, x) : cnn_block(&b, x);
	ir_graph_add_output(b.g, x);
	ir_diags d;
	ir_diags_init(&d);
	if (ir_infer(b.g, &d, "synthetic") || ir_graph_oom(b.g)) {
		ir_diags_print(&d, stderr);
		ir_graph_free(b.g);
		b.g = NULL;
	}
	ir_diags_free(&d);
	return b.g;
}

static eng_options bench_options(void)
{
	eng_options o = eng_default_options();
	o.verify_each = false;
	o.records = false; /* as `graft opt` without --trace or --json */
	return o;
}

static void bench_size(const eng_ruleset *rs, size_t n, bool dense)
{
	ir_graph *g = synthetic(n, dense);
	if (!g) {
		printf("%10zu  cannot build the graph\n", n);
		return;
	}
	size_t bytes = ir_graph_bytes(g);
	double rss1 = rss_mb();
	eng_options o = bench_options();
	eng_report rep;
	ir_diags d;
	ir_diags_init(&d);
	double t0 = now_ms(), c0 = cpu_ms();
	bool ok = eng_apply(rs, g, &o, &rep, &d);
	double ms = now_ms() - t0, cpu = cpu_ms() - c0, rss2 = rss_mb();
	if (!ok)
		ir_diags_print(&d, stderr);
	/* a second application must find nothing: the worklist reached the fixpoint */
	eng_report again;
	bool ok2 = eng_apply(rs, g, &o, &again, &d);
	printf("%10zu %10zu %9zu %9.1f %9.1f %8.0f %9.1f %9.1f %9.1f %9.1f %6s\n", rep.nodes_before,
	       rep.nodes_after, rep.iterations, ms, cpu, cpu * 1e6 / (double)rep.nodes_before,
	       (double)bytes / 1048576.0, (double)ir_graph_bytes(g) / 1048576.0, rss2 - rss1, peak_rss_mb(),
	       ok && ok2 && again.iterations == 0 ? "yes" : "NO");
	eng_report_free(&again);
	fflush(stdout);
	eng_report_free(&rep);
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- models against ONNX Runtime */

/* Median wall time of running argv as a process (output discarded).  Each
 * run writes a new file: the previous run's output `out` is deleted first,
 * untimed (replacing an existing file makes ext4 flush the new one, a
 * filesystem cost that both sides would pay alike). */
static double process_ms(char *const *argv, int runs, const char *out)
{
	double t[16];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < runs; i++) {
		pid_t pid;
		int status = 1;
		unlink(out);
		double t0 = now_ms();
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0)
			waitpid(pid, &status, 0);
		t[i] = now_ms() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	return median(t, runs);
}

/* graft's rewrite phase on a fresh load of the model, median of runs. */
static double graft_rewrite_ms(const eng_ruleset *rs, const char *model, int runs, size_t *rewrites)
{
	double t[16];
	for (int i = 0; i < runs; i++) {
		ir_diags d;
		ir_diags_init(&d);
		ir_graph *g = ir_load(model, &d);
		if (!g) {
			ir_diags_print(&d, stderr);
			ir_diags_free(&d);
			return -1;
		}
		eng_options o = bench_options();
		eng_report rep;
		double t0 = now_ms();
		bool ok = eng_apply(rs, g, &o, &rep, &d);
		t[i] = now_ms() - t0;
		*rewrites = rep.iterations;
		eng_report_free(&rep);
		ir_graph_free(g);
		ir_diags_free(&d);
		if (!ok)
			return -1;
	}
	return median(t, runs);
}

/* ONNX Runtime's optimisation time in process (bench/ort_opt.js). */
static double ort_optimise_ms(const char *model)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "node '%s/bench/ort_opt.js' '%s' --runs 15 2>/dev/null", GRAFT_SOURCE_DIR, model);
	FILE *p = popen(cmd, "r");
	char line[512] = "";
	if (!p)
		return -1;
	if (!fgets(line, sizeof line, p))
		line[0] = '\0';
	int rc = pclose(p);
	const char *s = strstr(line, "\"optimise_ms\":");
	return rc == 0 && s ? strtod(s + 14, NULL) : -1;
}

static void bench_model(const eng_ruleset *rs, const char *name, int runs, bool ort)
{
	char model[2048], out[256], ort_out[256], script[2048], rules[2048];
	snprintf(model, sizeof model, "%s/models/%s/model.onnx", GRAFT_SHARED_DIR, name);
	snprintf(out, sizeof out, "/tmp/bench_engine_%d_%s.onnx", (int)getpid(), name);
	snprintf(ort_out, sizeof ort_out, "/tmp/bench_engine_%d_%s.ort.onnx", (int)getpid(), name);
	snprintf(script, sizeof script, "%s/bench/ort_opt.js", GRAFT_SOURCE_DIR);
	snprintf(rules, sizeof rules, "%s/rules.d", GRAFT_SOURCE_DIR);
	if (access(model, R_OK) != 0)
		return;
	size_t rewrites = 0;
	double rw = graft_rewrite_ms(rs, model, runs, &rewrites);
	char *graft_argv[] = {GRAFT_BINARY, "opt", model, "--rules", rules, "-o", out, NULL};
	double whole = process_ms(graft_argv, runs, out);
	double ort_rw = ort ? ort_optimise_ms(model) : -1;
	char node[] = "/usr/bin/node";
	char *ort_argv[] = {node, script, model, "--save", ort_out, NULL};
	double ort_whole = ort ? process_ms(ort_argv, runs < 3 ? runs : 3, ort_out) : -1;
	char r1[32] = "-", r2[32] = "-";
	if (rw > 0 && ort_rw > 0)
		snprintf(r1, sizeof r1, "%.1fx", ort_rw / rw);
	if (whole > 0 && ort_whole > 0)
		snprintf(r2, sizeof r2, "%.1fx", ort_whole / whole);
	printf("%-14s %8zu %10.2f %10.2f %9s %10.1f %10.1f %9s\n", name, rewrites, rw, ort_rw, r1, whole,
	       ort_whole, r2);
	fflush(stdout);
	unlink(out);
	unlink(ort_out);
}

/* ---------------------------------------------------------------- main */

static eng_ruleset *load_rules(void)
{
	eng_ruleset *rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	bool ok = rs && eng_load_path(rs, GRAFT_SOURCE_DIR "/rules.d", &d) &&
		  eng_load_path(rs, GRAFT_SOURCE_DIR "/bench/bench_rules.yaml", &d);
	if (!ok) {
		ir_diags_print(&d, stderr);
		eng_ruleset_free(rs);
		rs = NULL;
	}
	ir_diags_free(&d);
	return rs;
}

static size_t parse_sizes(const char *s, size_t *v, size_t cap)
{
	size_t n = 0;
	while (*s && n < cap) {
		char *end;
		v[n++] = strtoul(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
	return n;
}

/* --mix dense|sparse: the range of mixes to run (0 dense, 1 sparse). */
static bool parse_mix(const char *s, int *from, int *to)
{
	if (strcmp(s, "dense") && strcmp(s, "sparse"))
		return false;
	*from = strcmp(s, "sparse") == 0;
	*to = *from + 1;
	return true;
}

int main(int argc, char **argv)
{
	size_t sizes[16] = {10000, 100000, 1000000}, nsizes = 3;
	int runs = 5;
	bool models = true, ort = access("/usr/bin/node", X_OK) == 0;
	int mix_from = 0, mix_to = 2; /* 0 dense, 1 sparse */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
			nsizes = parse_sizes(argv[++i], sizes, 16);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]) < 1 ? 1 : atoi(argv[i]) > 15 ? 15 : atoi(argv[i]);
		else if (!strcmp(argv[i], "--mix") && i + 1 < argc && parse_mix(argv[i + 1], &mix_from, &mix_to))
			i++;
		else if (!strcmp(argv[i], "--no-models"))
			models = false;
		else if (!strcmp(argv[i], "--no-ort"))
			ort = false;
		else {
			fprintf(stderr, "usage: bench_engine [--sizes N,N,...] [--runs N] [--mix dense|sparse] [--no-models] "
					"[--no-ort]\n");
			return 2;
		}
	}
	sim_blas_idle(); /* as graft does: no BLAS worker polling beside the measurements */
	eng_ruleset *rs = load_rules();
	if (!rs)
		return 2;
	eng_ruleset *model_rs = eng_ruleset_new();
	ir_diags d;
	ir_diags_init(&d);
	if (!model_rs || !eng_load_path(model_rs, GRAFT_SOURCE_DIR "/rules.d", &d))
		return 2;
	for (int mix = mix_from; mix < mix_to; mix++) {
		printf("%ssynthetic graphs, %s, %zu rules (rules.d + bench/bench_rules.yaml)\n", mix > mix_from ? "\n" : "",
		       mix ? "sparse: a few percent of the nodes rewritten"
			   : "dense: 40% of the nodes rewritten, BatchNorms folded through the simulator",
		       eng_nrules(rs));
		printf("%10s %10s %9s %9s %9s %8s %9s %9s %9s %9s %6s\n", "nodes", "after", "rewrites", "wall ms",
		       "cpu ms", "ns/node", "graph MB", "after MB", "RSS +MB", "peak MB", "fixpt");
		for (size_t i = 0; i < nsizes; i++)
			bench_size(rs, sizes[i], mix == 0);
	}
	if (models) {
		printf("\nmodels, rules.d (%zu rules); ONNX Runtime %s\n", eng_nrules(model_rs),
		       ort ? "via node bench/ort_opt.js" : "not run");
		printf("%-14s %8s %10s %10s %9s %10s %10s %9s\n", "model", "rewrites", "graft ms", "ORT ms",
		       "ratio", "graft opt", "ORT proc", "ratio");
		printf("%-14s %8s %10s %10s %9s %10s %10s %9s\n", "", "", "(rewrite)", "(optimise)", "", "(process)",
		       "(process)", "");
		static const char *const names[] = {"squeezenet1_1", "mobilenet_v2", "resnet18", "bert_tiny"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			bench_model(model_rs, names[i], runs, ort);
	}
	ir_diags_free(&d);
	eng_ruleset_free(model_rs);
	eng_ruleset_free(rs);
	return 0;
}
