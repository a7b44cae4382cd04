/* bench_sim: times graft's reference simulator on models in the ONNX
 * test-data layout (DIR/model.onnx, DIR/test_data_set_0/input_N.pb): the
 * fp32 numerics (sim_run, as `graft sim --mode fp32` runs them) and the
 * cycle model (sim_cost_graph).  One warm-up run, then RUNS timed runs.
 * scripts/bench-sim.sh puts these numbers next to ONNX Runtime's.
 *
 * usage: bench_sim [--runs N] MODELDIR...
 * prints one line per model: NAME sim_ms=MEDIAN sim_min_ms=MIN cost_ms=MEDIAN */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool run_once(const ir_graph *g, const sim_tensor *in, size_t nin, ir_diags *d)
{
	sim_opts o = {SIM_FP32, "bench"};
	sim_tensor *out = NULL;
	size_t nout = 0;
	sim_status st = sim_run(g, &o, in, nin, &out, &nout, d);
	sim_tensors_free(out, nout);
	return st == SIM_OK;
}

static bool cost_once(const ir_graph *g, const sim_hw *hw, ir_diags *d)
{
	sim_cost c;
	bool ok = sim_cost_graph(g, hw, "bench", &c, d);
	sim_cost_free(&c);
	return ok;
}

/* Milliseconds of runs timed calls of run_once (which == 0) or cost_once
 * (which == 1) after one untimed call: their median and their minimum. */
typedef struct timing {
	double median, min;
} timing;

static bool time_it(int which, int runs, const ir_graph *g, const sim_hw *hw, const sim_tensor *in,
		    size_t nin, ir_diags *d, timing *out)
{
	double *t = calloc((size_t)runs, sizeof *t);
	bool ok = t != NULL;
	for (int i = -1; ok && i < runs; i++) {
		double t0 = now_ms();
		ok = which == 0 ? run_once(g, in, nin, d) : cost_once(g, hw, d);
		if (i >= 0)
			t[i] = now_ms() - t0;
	}
	if (ok) {
		out->median = median(t, runs);
		out->min = t[0]; /* sorted by median() */
	}
	free(t);
	return ok;
}

/* The last component of dir, trailing slashes ignored. */
static const char *base_name(const char *dir, char *buf, size_t cap)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && dir[b - 1] != '/')
		b--;
	snprintf(buf, cap, "%.*s", (int)(n - b), dir + b);
	return buf;
}

static int bench(const char *dir, int runs, const sim_hw *hw)
{
	char path[4096];
	ir_diags d;
	ir_diags_init(&d);
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	ir_graph *g = ir_load(path, &d);
	sim_tensor *in = NULL;
	size_t nin = 0;
	snprintf(path, sizeof path, "%s/test_data_set_0", dir);
	int rc = 1;
	if (g && ir_infer(g, &d, dir) == 0 && sim_pb_read_set(path, "input", &in, &nin, &d) == SIM_OK) {
		timing sim, cost;
		if (time_it(0, runs, g, hw, in, nin, &d, &sim) && time_it(1, runs, g, hw, in, nin, &d, &cost)) {
			printf("%s sim_ms=%.3f sim_min_ms=%.3f cost_ms=%.3f\n", base_name(dir, path, sizeof path),
			       sim.median, sim.min, cost.median);
			rc = 0;
		}
	}
	if (rc)
		ir_diags_print(&d, stderr);
	sim_tensors_free(in, nin);
	ir_graph_free(g);
	ir_diags_free(&d);
	return rc;
}

int main(int argc, char **argv)
{
	int runs = 5, first = 1, rc = 0;
	if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
		runs = atoi(argv[2]);
		first = 3;
	}
	if (first >= argc || runs < 1) {
		fprintf(stderr, "usage: bench_sim [--runs N] MODELDIR...\n");
		return 2;
	}
	ir_diags d;
	ir_diags_init(&d);
	sim_hw hw;
	if (!sim_hw_load("ascend310", &hw, &d)) {
		ir_diags_print(&d, stderr);
		return 2;
	}
	ir_diags_free(&d);
	for (int i = first; i < argc; i++)
		rc |= bench(argv[i], runs, &hw);
	return rc ? 1 : 0;
}
