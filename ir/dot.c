/* DOT (graphviz) output: one box per node with its op and result shape,
 * constants folded compactly into their consumer's label, inputs and
 * outputs as ellipses, edges labelled with the value's type. */
#include <string.h>

#include "ir.h"

/* Writes s as the inside of a DOT double-quoted string. */
static void dot_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void type_text(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	ir_type_format(g, ir_value_at(g, v)->type, buf, cap);
}

/* Short rendering of a small constant's values, e.g. "[1, 2]". */
static void small_values(const ir_graph *g, ir_tid t, char *buf, size_t cap)
{
	const ir_tensor *x = ir_tensor_at(g, t);
	int64_t n = ir_tensor_numel(g, t);
	size_t len = 0;
	buf[0] = '\0';
	if (n > 4 || (x->dtype != IR_F32 && x->dtype != IR_I64 && x->dtype != IR_I32))
		return;
	len += (size_t)snprintf(buf, cap, " = [");
	for (int64_t i = 0; i < n && len < cap; i++) {
		const char *sep = i ? ", " : "";
		if (x->dtype == IR_F32)
			len += (size_t)snprintf(buf + len, cap - len, "%s%g", sep, (double)((float *)x->data)[i]);
		else if (x->dtype == IR_I64)
			len += (size_t)snprintf(buf + len, cap - len, "%s%lld", sep,
						(long long)((int64_t *)x->data)[i]);
		else
			len += (size_t)snprintf(buf + len, cap - len, "%s%d", sep, ((int32_t *)x->data)[i]);
	}
	if (len < cap)
		snprintf(buf + len, cap - len, "]");
}

static bool is_folded_const(const ir_graph *g, ir_val v)
{
	const ir_value *x = ir_value_at(g, v);
	return x && x->def_kind == IR_DEF_CONST && !ir_value_is_output(g, v);
}

static void node_label(const ir_graph *g, ir_nid n, FILE *out)
{
	const ir_node *x = ir_node_at(g, n);
	char buf[256];
	if (x->domain)
		fprintf(out, "%s::", ir_cstr(g, x->domain));
	dot_escape(out, ir_cstr(g, x->op));
	if (x->name) {
		fputs("\\n", out);
		dot_escape(out, ir_cstr(g, x->name));
	}
	for (uint32_t i = 0; i < x->nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		if (!v || !is_folded_const(g, v))
			continue;
		const ir_value *c = ir_value_at(g, v);
		char vals[96];
		type_text(g, v, buf, sizeof buf);
		small_values(g, c->tensor, vals, sizeof vals);
		fputs("\\n", out);
		dot_escape(out, c->name ? ir_cstr(g, c->name) : "const");
		fputs(": ", out);
		dot_escape(out, buf);
		dot_escape(out, vals);
	}
	for (uint32_t i = 0; i < x->nout; i++) {
		type_text(g, ir_node_output(g, n, i), buf, sizeof buf);
		fputs("\\n→ ", out);
		dot_escape(out, buf);
	}
}

static void value_node(const ir_graph *g, ir_val v, const char *prefix, const char *shape, FILE *out)
{
	char buf[256];
	type_text(g, v, buf, sizeof buf);
	fprintf(out, "  %s%u [shape=%s, label=\"", prefix, v, shape);
	dot_escape(out, ir_cstr(g, ir_value_at(g, v)->name));
	fputs("\\n", out);
	dot_escape(out, buf);
	fputs("\"];\n", out);
}

/* The DOT id of a value's producer, or NULL when it is folded. */
static void producer_id(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	const ir_value *x = ir_value_at(g, v);
	if (x->def_kind == IR_DEF_NODE)
		snprintf(buf, cap, "n%u", x->node);
	else if (x->def_kind == IR_DEF_INPUT)
		snprintf(buf, cap, "in%u", v);
	else
		snprintf(buf, cap, "c%u", v);
}

bool ir_write_dot(const ir_graph *g, FILE *out)
{
	char buf[256], src[32];
	fputs("digraph graft {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n", out);
	fputs("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n", out);
	for (size_t i = 0; i < ir_graph_ninputs(g); i++)
		value_node(g, ir_graph_input_at(g, i), "in", "ellipse", out);
	for (size_t i = 0; i < ir_graph_noutputs(g); i++) {
		ir_val v = ir_graph_output_at(g, i);
		if (ir_value_at(g, v)->def_kind == IR_DEF_CONST)
			value_node(g, v, "c", "note", out);
	}
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next) {
		fprintf(out, "  n%u [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", label=\"", n,
			ir_node_at(g, n)->opcode ? "#dde8f5" : "#eeeeee");
		node_label(g, n, out);
		fputs("\"];\n", out);
		const ir_node *x = ir_node_at(g, n);
		for (uint32_t i = 0; i < x->nin; i++) {
			ir_val v = ir_node_input(g, n, i);
			if (!v || is_folded_const(g, v))
				continue;
			producer_id(g, v, src, sizeof src);
			type_text(g, v, buf, sizeof buf);
			fprintf(out, "  %s -> n%u [label=\"", src, n);
			dot_escape(out, buf);
			fputs("\"];\n", out);
		}
	}
	for (size_t i = 0; i < ir_graph_noutputs(g); i++) {
		ir_val v = ir_graph_output_at(g, i);
		fprintf(out, "  out%zu [shape=ellipse, style=filled, fillcolor=\"#f5e6c8\", label=\"", i);
		dot_escape(out, ir_cstr(g, ir_value_at(g, v)->name));
		fputs("\"];\n", out);
		producer_id(g, v, src, sizeof src);
		fprintf(out, "  %s -> out%zu;\n", src, i);
	}
	fputs("}\n", out);
	return !ferror(out);
}
