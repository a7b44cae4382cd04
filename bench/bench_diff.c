/* bench_diff: diffs two graphs of N nodes each (default 100,000) and
 * reports the seconds and the bytes the diff took.  B is A rebuilt with
 * every value and node renamed, the two branches of every block in the
 * other order, every 50th block's MatMul+Add fused into one Gemm, every
 * 97th LeakyRelu's alpha changed and every 89th bias changed; the bench
 * checks that the diff finds exactly that.
 * Target (2-core machine, 100,000 nodes): about a second, memory linear.
 *
 * usage: bench_diff [NODES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ir.h"

enum { FUSE_EVERY = 50, ALPHA_EVERY = 97, BIAS_EVERY = 89, WIDTH = 64 };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

typedef struct net {
	ir_graph *g;
	bool variant; /* B */
	char name[48];
} net;

static ir_str named(net *n, const char *what, long i)
{
	snprintf(n->name, sizeof n->name, "%s%s%ld", n->variant ? "b/" : "", what, i);
	return ir_intern_cstr(n->g, n->name);
}

static ir_val op(net *n, const char *type, const ir_val *in, uint32_t nin, const char *what, long i)
{
	ir_nid id = ir_node_new(n->g, NULL, type, in, nin, 1, 0);
	ir_node_at(n->g, id)->name = named(n, what, i);
	ir_value_at(n->g, ir_node_output(n->g, id, 0))->name = named(n, what, i);
	return ir_node_output(n->g, id, 0);
}

static ir_val bias(net *n, long block)
{
	float data[WIDTH];
	int64_t dim = WIDTH;
	float shift = n->variant && block % BIAS_EVERY == 0 ? 0.5f : 0.0f;
	for (int k = 0; k < WIDTH; k++)
		data[k] = (float)block * 0.001f + (float)k + shift;
	ir_tid t = ir_tensor_new(n->g, 0, IR_F32, 1, &dim, data, sizeof data);
	return ir_const_new(n->g, named(n, "bias", block), t);
}

/* y = LeakyRelu(x W + b) * Sigmoid(x W + b) */
static ir_val block(net *n, ir_val x, ir_val w, long i)
{
	ir_val in[3] = {x, w, bias(n, i)}, u;
	if (n->variant && i % FUSE_EVERY == 0) {
		u = op(n, "Gemm", in, 3, "gemm", i);
	} else {
		ir_val t = op(n, "MatMul", in, 2, "matmul", i);
		ir_val add[2] = {t, in[2]};
		u = op(n, "Add", add, 2, "add", i);
	}
	ir_val r = 0, s = 0;
	for (int k = 0; k < 2; k++) {
		if ((k == 0) == n->variant) {
			s = op(n, "Sigmoid", &u, 1, "sigmoid", i);
			continue;
		}
		r = op(n, "LeakyRelu", &u, 1, "leaky", i);
		ir_nid id = ir_value_at(n->g, r)->node;
		ir_attr_set_float(n->g, id, "alpha", n->variant && i % ALPHA_EVERY == 0 ? 0.2f : 0.1f);
	}
	ir_val m[2] = {r, s};
	return op(n, "Mul", m, 2, "mul", i);
}

static ir_graph *build(long nodes, bool variant)
{
	net n = {ir_graph_new(), variant, {0}};
	ir_graph_add_opset(n.g, "", 13);
	int64_t xd[2] = {8, WIDTH}, wd[2] = {WIDTH, WIDTH};
	ir_val x = ir_input_new(n.g, named(&n, "x", 0), ir_type_tensor(n.g, IR_F32, 2, xd), 0);
	ir_val w = ir_const_new(n.g, named(&n, "w", 0), ir_tensor_new(n.g, 0, IR_F32, 2, wd, NULL, WIDTH * WIDTH * 4));
	for (long i = 0; i < nodes / 5; i++)
		x = block(&n, x, w, i);
	ir_graph_add_output(n.g, x);
	return n.g;
}

static int check(const ir_diff *r, long blocks)
{
	long fused = (blocks + FUSE_EVERY - 1) / FUSE_EVERY;
	long changed = 0;
	for (long i = 0; i < blocks; i++)
		changed += (i % ALPHA_EVERY == 0) + (i % BIAS_EVERY == 0 && i % FUSE_EVERY != 0);
	bool ok = r->nadded == fused && r->nremoved == 2 * fused && r->nchanged == changed && r->ngroups == fused;
	if (!ok)
		fprintf(stderr, "bench_diff: expected %ld fusions and %ld changed nodes; got %u added, %u removed, "
				"%u changed, %u groups\n",
			fused, changed, r->nadded, r->nremoved, r->nchanged, r->ngroups);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	long nodes = argc > 1 ? atol(argv[1]) : 100000;
	ir_graph *a = build(nodes, false), *b = build(nodes, true);
	long rss0 = peak_rss_kb();
	ir_diags d;
	ir_diags_init(&d);
	double t0 = now();
	ir_diff *r = ir_diff_graphs(a, b, NULL, &d);
	double secs = now() - t0;
	long rss1 = peak_rss_kb();
	if (!r) {
		ir_diags_print(&d, stderr);
		return 1;
	}
	int rc = check(r, nodes / 5);
	printf("nodes            %zu and %zu\n", ir_graph_nnodes(a), ir_graph_nnodes(b));
	printf("diff             %.3f s  (target: about 1 s)\n", secs);
	printf("result           %u added, %u removed, %u changed nodes, %u replacement groups\n", r->nadded,
	       r->nremoved, r->nchanged, r->ngroups);
	printf("graphs           %zu bytes (IR arenas of both, tensor data excluded)\n",
	       ir_graph_bytes(a) + ir_graph_bytes(b));
	printf("diff memory      %ld bytes peak growth (%.0f bytes per node)\n", (rss1 - rss0) * 1024,
	       (double)(rss1 - rss0) * 1024.0 / (double)(ir_graph_nnodes(a) + ir_graph_nnodes(b)));
	ir_diff_free(r);
	ir_graph_free(a);
	ir_graph_free(b);
	ir_diags_free(&d);
	return rc;
}
