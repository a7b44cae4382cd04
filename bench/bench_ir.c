/* bench_ir: builds a synthetic graph of N nodes (default 1,000,000), infers
 * its shapes, verifies it, prints it as .gir and parses it back; reports the
 * seconds of each step and the IR's bytes per node (tensor data excluded).
 * Targets (2-core machine, 1M nodes): verify + print + parse under 2 s,
 * under 400 bytes per node.
 *
 * usage: bench_ir [NODES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A residual-style chain: each block is MatMul, Add(bias), Relu, Mul by a
 * scale, Add(skip), with small shared constants, over f32[8,64] values. */
static ir_graph *build(long nodes)
{
	ir_graph *g = ir_graph_new();
	ir_graph_add_opset(g, "", 13);
	int64_t xd[2] = {8, 64}, wd[2] = {64, 64}, bd[1] = {64};
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_tensor(g, IR_F32, 2, xd), 0);
	ir_val w = ir_const_new(g, ir_intern_cstr(g, "w"), ir_tensor_new(g, 0, IR_F32, 2, wd, NULL, 64 * 64 * 4));
	ir_val b = ir_const_new(g, ir_intern_cstr(g, "b"), ir_tensor_new(g, 0, IR_F32, 1, bd, NULL, 64 * 4));
	ir_val cur = x;
	char name[32];
	for (long i = 0; i < nodes; i += 5) {
		ir_val skip = cur;
		ir_val in[2] = {cur, w};
		ir_nid n = ir_node_new(g, NULL, "MatMul", in, 2, 1, 0);
		snprintf(name, sizeof name, "mm%ld", i);
		ir_node_at(g, n)->name = ir_intern_cstr(g, name);
		in[0] = ir_node_output(g, n, 0);
		in[1] = b;
		n = ir_node_new(g, NULL, "Add", in, 2, 1, 0);
		in[0] = ir_node_output(g, n, 0);
		n = ir_node_new(g, NULL, "Relu", in, 1, 1, 0);
		in[0] = ir_node_output(g, n, 0);
		in[1] = b;
		n = ir_node_new(g, NULL, "Mul", in, 2, 1, 0);
		in[0] = ir_node_output(g, n, 0);
		in[1] = skip;
		n = ir_node_new(g, NULL, "Add", in, 2, 1, 0);
		cur = ir_node_output(g, n, 0);
	}
	ir_value_at(g, cur)->name = ir_intern_cstr(g, "y");
	ir_graph_add_output(g, cur);
	return g;
}

int main(int argc, char **argv)
{
	long nodes = argc > 1 ? atol(argv[1]) : 1000000;
	ir_diags d;
	ir_diags_init(&d);
	double t0 = now();
	ir_graph *g = build(nodes);
	double t_build = now() - t0;
	size_t nn = ir_graph_nnodes(g);

	t0 = now();
	size_t errs = ir_infer(g, &d, "bench");
	double t_infer = now() - t0;
	t0 = now();
	errs += ir_verify(g, &d, "bench");
	double t_verify = now() - t0;

	char *text = NULL;
	size_t text_n = 0;
	void *side = NULL;
	size_t side_n = 0;
	t0 = now();
	FILE *mem = open_memstream(&text, &text_n);
	ir_print_opts po = {16, "bench.gir.bin"};
	ir_print(g, mem, &po, &side, &side_n);
	fclose(mem);
	double t_print = now() - t0;

	t0 = now();
	ir_graph *h = ir_parse(text, text_n, "bench.gir", side, side_n, &d);
	double t_parse = now() - t0;
	if (!h || errs) {
		ir_diags_print(&d, stderr);
		return 1;
	}
	double bytes = (double)ir_graph_bytes(g) / (double)nn;
	printf("nodes            %zu\n", nn);
	printf("build            %.3f s\n", t_build);
	printf("infer            %.3f s\n", t_infer);
	printf("verify           %.3f s\n", t_verify);
	printf("print            %.3f s  (%.1f MB of text)\n", t_print, (double)text_n / 1e6);
	printf("parse            %.3f s\n", t_parse);
	printf("verify+print+parse %.3f s  (target < 2 s)\n", t_verify + t_print + t_parse);
	printf("IR bytes/node    %.0f  (target < 400; arenas' capacity, tensor data excluded)\n", bytes);
	printf("parsed IR bytes/node %.0f\n", (double)ir_graph_bytes(h) / (double)ir_graph_nnodes(h));
	free(text);
	free(side);
	ir_graph_free(h);
	ir_graph_free(g);
	ir_diags_free(&d);
	return 0;
}
