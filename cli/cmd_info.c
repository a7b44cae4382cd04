/* graft info IN [--json]: what a graph is made of. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
	"usage: graft info IN [--json]\n"
	"\n"
	"Describes a graph (.onnx or .gir): its inputs and outputs with shapes, the\n"
	"node count, a histogram of ops (opaque ops, unknown to graft's registry,\n"
	"are marked), parameters (elements and bytes of constant tensors) and the\n"
	"multiply-accumulates of Conv, MatMul and Gemm.\n"
	"\n"
	"  --json   print one JSON object instead of text\n";

typedef struct op_count {
	const char *op;
	int64_t n;
	bool opaque;
} op_count;

static int by_count(const void *a, const void *b)
{
	const op_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->op, y->op);
}

/* Histogram of node ops, most frequent first; *n entries, malloc'd. */
static op_count *histogram(const ir_graph *g, size_t *n)
{
	op_count *h = calloc(ir_graph_nnodes(g) + 1, sizeof *h);
	*n = 0;
	for (ir_nid id = ir_graph_first(g); h && id; id = ir_node_at(g, id)->next) {
		const char *op = ir_cstr(g, ir_node_at(g, id)->op);
		size_t i = 0;
		while (i < *n && strcmp(h[i].op, op) != 0)
			i++;
		if (i == *n)
			h[(*n)++] = (op_count){op, 0, ir_node_at(g, id)->opcode == 0};
		h[i].n++;
	}
	if (h)
		qsort(h, *n, sizeof *h, by_count);
	return h;
}

static void print_values_json(json *j, const ir_graph *g, bool inputs)
{
	size_t n = inputs ? ir_graph_ninputs(g) : ir_graph_noutputs(g);
	char buf[256];
	json_arr(j);
	for (size_t i = 0; i < n; i++) {
		ir_val v = inputs ? ir_graph_input_at(g, i) : ir_graph_output_at(g, i);
		const ir_value *x = ir_value_at(g, v);
		ir_type_format(g, x->type, buf, sizeof buf);
		json_obj(j);
		json_key(j, "name");
		json_str(j, ir_cstr(g, x->name));
		json_key(j, "type");
		json_str(j, buf);
		json_key(j, "dtype");
		json_str(j, ir_dtype_name((ir_dtype)x->type.dtype));
		json_key(j, "shape");
		json_arr(j);
		const ir_dim *d = ir_type_dims(g, x->type);
		for (int k = 0; k < x->type.rank; k++)
			if (d[k].v >= 0)
				json_int(j, d[k].v);
			else
				json_str(j, d[k].sym ? ir_cstr(g, d[k].sym) : "?");
		json_end_arr(j);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void info_json(const ir_graph *g, const ir_stats *s, const op_count *h, size_t nh)
{
	json j;
	json_begin(&j, stdout);
	json_obj(&j);
	json_key(&j, "inputs");
	print_values_json(&j, g, true);
	json_key(&j, "outputs");
	print_values_json(&j, g, false);
	json_key(&j, "nodes");
	json_int(&j, s->nodes);
	json_key(&j, "opaque_nodes");
	json_int(&j, s->opaque);
	json_key(&j, "ops");
	json_obj(&j);
	for (size_t i = 0; i < nh; i++) {
		json_key(&j, h[i].op);
		json_int(&j, h[i].n);
	}
	json_end_obj(&j);
	json_key(&j, "parameters");
	json_int(&j, s->params);
	json_key(&j, "parameter_bytes");
	json_int(&j, s->param_bytes);
	json_key(&j, "macs");
	json_int(&j, s->macs);
	json_key(&j, "macs_unknown_nodes");
	json_int(&j, s->macs_unknown);
	json_key(&j, "opsets");
	json_obj(&j);
	for (size_t i = 0; i < ir_graph_nopsets(g); i++) {
		ir_opset o = ir_graph_opset_at(g, i);
		json_key(&j, o.domain ? ir_cstr(g, o.domain) : "ai.onnx");
		json_int(&j, o.version);
	}
	json_end_obj(&j);
	json_end_obj(&j);
	json_finish(&j);
}

/* 1234567 -> "1,234,567" */
static const char *grouped(long long v, char *buf, size_t cap)
{
	char raw[32];
	int n = snprintf(raw, sizeof raw, "%lld", v < 0 ? -v : v);
	size_t k = 0;
	if (v < 0 && k + 1 < cap)
		buf[k++] = '-';
	for (int i = 0; i < n && k + 2 < cap; i++) {
		if (i && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = raw[i];
	}
	buf[k] = '\0';
	return buf;
}

static void print_values_text(const ir_graph *g, bool inputs)
{
	size_t n = inputs ? ir_graph_ninputs(g) : ir_graph_noutputs(g);
	char buf[256];
	printf("%s:\n", inputs ? "inputs" : "outputs");
	for (size_t i = 0; i < n; i++) {
		const ir_value *x = ir_value_at(g, inputs ? ir_graph_input_at(g, i) : ir_graph_output_at(g, i));
		ir_type_format(g, x->type, buf, sizeof buf);
		printf("  %-24s %s%s\n", ir_cstr(g, x->name), buf,
		       x->def_kind == IR_DEF_INPUT && x->tensor ? "  (has a default)" : "");
	}
}

static void info_text(const char *path, const ir_graph *g, const ir_stats *s, const op_count *h, size_t nh)
{
	char a[48], b[48];
	const ir_meta *m = ir_graph_cmeta(g);
	printf("%s: ir_version %lld, opset %lld", path, (long long)m->ir_version,
	       (long long)ir_graph_opset(g, ""));
	if (m->producer_name)
		printf(", produced by %s %s", ir_cstr(g, m->producer_name), ir_cstr(g, m->producer_version));
	printf("\n");
	print_values_text(g, true);
	print_values_text(g, false);
	printf("nodes: %lld", (long long)s->nodes);
	if (s->opaque)
		printf(" (%lld opaque: not in graft's registry)", (long long)s->opaque);
	printf("\nops:\n");
	for (size_t i = 0; i < nh; i++)
		printf("  %-24s %6lld%s\n", h[i].op, (long long)h[i].n, h[i].opaque ? "  (opaque)" : "");
	printf("parameters: %s (%s bytes, %.1f MB)\n", grouped(s->params, a, sizeof a),
	       grouped(s->param_bytes, b, sizeof b), (double)s->param_bytes / 1e6);
	printf("MACs: %s (%.2f G)", grouped(s->macs, a, sizeof a), (double)s->macs / 1e9);
	if (s->macs_unknown)
		printf(", %lld nodes with unknown shapes not counted", (long long)s->macs_unknown);
	printf("\n");
}

int cmd_info(int argc, char **argv)
{
	const char *in = NULL;
	bool as_json = false;
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	for (int i = 0; i < argc; i++) {
		if (arg_is(argv[i], NULL, "--json"))
			as_json = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("info", "unknown option '%s'", argv[i]);
		else if (!in)
			in = argv[i];
		else
			return usage_error("info", "unexpected argument '%s'", argv[i]);
	}
	if (!in)
		return usage_error("info", "need an input graph");
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = load_or_report(in, &d);
	if (!g) {
		ir_diags_free(&d);
		return EXIT_ERR;
	}
	ir_stats s = ir_graph_stats(g);
	size_t nh = 0;
	op_count *h = histogram(g, &nh);
	if (as_json)
		info_json(g, &s, h, nh);
	else
		info_text(in, g, &s, h, nh);
	free(h);
	ir_graph_free(g);
	ir_diags_free(&d);
	return EXIT_OK;
}
