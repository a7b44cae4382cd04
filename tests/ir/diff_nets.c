/* Graphs for the graph-diff tests (see diff_nets.h). */
#include <stdio.h>
#include <string.h>

#include "diff_nets.h"

typedef struct builder {
	ir_graph *g;
	const net_opts *o;
} builder;

static ir_str name(builder *b, const char *base)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s%s", b->o->prefix ? b->o->prefix : "", base);
	return ir_intern_cstr(b->g, buf);
}

/* A f32 constant of the given shape filled with start, start+step, ... */
static ir_val weight(builder *b, const char *nm, int rank, const int64_t *dims, float start, float step)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	float data[512];
	for (int64_t i = 0; i < n && i < 512; i++)
		data[i] = start + step * (float)i;
	ir_tid t = ir_tensor_new(b->g, 0, IR_F32, rank, dims, data, (size_t)n * sizeof(float));
	return ir_const_new(b->g, name(b, nm), t);
}

static ir_nid node(builder *b, const char *domain, const char *op, const char *nm, const ir_val *in,
		   uint32_t nin)
{
	ir_nid n = ir_node_new(b->g, domain, op, in, nin, 1, 0);
	char buf[128];
	snprintf(buf, sizeof buf, "%s_out", nm);
	ir_node_at(b->g, n)->name = name(b, nm);
	ir_value_at(b->g, ir_node_output(b->g, n, 0))->name = name(b, buf);
	return n;
}

static ir_val out(builder *b, ir_nid n)
{
	return ir_node_output(b->g, n, 0);
}

static void conv_attrs(builder *b, ir_nid n, int64_t dilation)
{
	int64_t k[2] = {3, 3}, s[2] = {1, 1}, d[2] = {dilation, dilation};
	int64_t p[4] = {dilation, dilation, dilation, dilation};
	ir_attr_set_ints(b->g, n, "kernel_shape", k, 2);
	ir_attr_set_ints(b->g, n, "strides", s, 2);
	ir_attr_set_ints(b->g, n, "dilations", d, 2);
	ir_attr_set_ints(b->g, n, "pads", p, 4);
}

static ir_val conv(builder *b, const char *nm, ir_val x, int64_t cin, float seed, float bias_delta,
		   int64_t dilation)
{
	int64_t wd[4] = {4, cin, 3, 3}, bd[1] = {4};
	char wn[64], bn[64];
	snprintf(wn, sizeof wn, "%s.weight", nm);
	snprintf(bn, sizeof bn, "%s.bias", nm);
	ir_val in[3] = {x, weight(b, wn, 4, wd, seed, 0.01f), weight(b, bn, 1, bd, seed + bias_delta, 0.5f)};
	ir_nid n = node(b, NULL, "Conv", nm, in, 3);
	conv_attrs(b, n, dilation);
	return out(b, n);
}

static ir_val relu(builder *b, const char *nm, ir_val x)
{
	return out(b, node(b, NULL, "Relu", nm, &x, 1));
}

static ir_val stem(builder *b, ir_val x)
{
	if (b->o->fuse) {
		int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4};
		ir_val in[3] = {x, weight(b, "conv1.weight", 4, wd, 1.0f, 0.01f),
				weight(b, "conv1.bias", 1, bd, 1.0f, 0.5f)};
		ir_nid n = node(b, "com.microsoft", "FusedConv", "conv1", in, 3);
		conv_attrs(b, n, 1);
		ir_attr_set_string(b->g, n, "activation", "Relu", 4);
		return out(b, n);
	}
	int64_t cd[1] = {4};
	ir_val c = conv(b, "conv1", x, 3, 1.0f, 0, 1);
	ir_val in[5] = {c, weight(b, "bn.scale", 1, cd, 1, 0.1f), weight(b, "bn.b", 1, cd, 0, 0.2f),
			weight(b, "bn.mean", 1, cd, 0.5f, 0), weight(b, "bn.var", 1, cd, 2, 0.3f)};
	ir_val n = out(b, node(b, NULL, "BatchNormalization", "bn", in, 5));
	return relu(b, "relu1", n);
}

static ir_val pool(builder *b, ir_val x)
{
	ir_nid n = node(b, NULL, "MaxPool", "pool", &x, 1);
	int64_t k[2] = {2, 2};
	ir_attr_set_ints(b->g, n, "kernel_shape", k, 2);
	ir_attr_set_ints(b->g, n, "strides", k, 2);
	ir_val p = out(b, n);
	return b->o->insert ? out(b, node(b, NULL, "Sigmoid", "gate", &p, 1)) : p;
}

static ir_val branch2(builder *b, ir_val p, const char *suffix)
{
	char c[32], r[32];
	snprintf(c, sizeof c, "conv2%s", suffix);
	snprintf(r, sizeof r, "relu2%s", suffix);
	return relu(b, r, conv(b, c, p, 4, 2.0f, b->o->bias2, b->o->dilate ? 2 : 1));
}

static ir_val branch3(builder *b, ir_val p)
{
	return relu(b, "relu3", conv(b, "conv3", p, 4, 3.0f, 0, 1));
}

static void body(builder *b, ir_val x)
{
	ir_val p = pool(b, stem(b, x));
	ir_val r2, r3;
	if (b->o->reverse) { /* Conv3, Conv2, Relu3, Relu2 */
		r3 = branch3(b, p);
		ir_nid relu3 = ir_graph_last(b->g);
		r2 = branch2(b, p, "");
		ir_node_move(b->g, relu3, ir_graph_last(b->g));
	} else {
		r2 = branch2(b, p, "");
		r3 = branch3(b, p);
	}
	if (b->o->dup) {
		ir_val in[2] = {r2, branch2(b, p, "_copy")};
		r2 = out(b, node(b, NULL, "Add", "sum2", in, 2));
	}
	ir_val in[2] = {r2, r3};
	ir_nid cat = node(b, NULL, "Concat", "cat", in, 2);
	ir_attr_set_int(b->g, cat, "axis", 1);
	ir_graph_add_output(b->g, out(b, cat));
}

ir_graph *net_build(const net_opts *o)
{
	builder b = {ir_graph_new(), o};
	ir_graph_add_opset(b.g, "", 13);
	ir_graph_add_opset(b.g, "com.microsoft", 1);
	int64_t xd[4] = {1, 3, 8, 8};
	ir_val x = ir_input_new(b.g, name(&b, "x"), ir_type_tensor(b.g, IR_F32, 4, xd), 0);
	body(&b, x);
	return b.g;
}

/* ---------------------------------------------------------------- fusion */

/* The only reader of v when it has exactly one and v is no graph output. */
static ir_nid sole_reader(const ir_graph *g, ir_val v, const char *op)
{
	if (ir_value_at(g, v)->nuses != 1 || ir_value_is_output(g, v))
		return 0;
	ir_nid n = ir_use_at(g, ir_first_use(g, v))->node;
	return strcmp(ir_cstr(g, ir_node_at(g, n)->op), op) == 0 ? n : 0;
}

static void fuse_one(ir_graph *g, ir_nid conv, ir_nid bn, ir_nid relu)
{
	ir_val in[3];
	uint32_t nin = ir_node_at(g, conv)->nin;
	for (uint32_t i = 0; i < nin && i < 3; i++)
		in[i] = ir_node_input(g, conv, i);
	ir_nid f = ir_node_new(g, "com.microsoft", "FusedConv", in, nin, 1, relu);
	for (uint32_t i = 0; i < ir_node_at(g, conv)->nattr; i++) {
		ir_attr a = ir_node_attrs(g, conv)[i];
		ir_attr_put(g, f, &a);
	}
	ir_attr_set_string(g, f, "activation", "Relu", 4);
	ir_node_at(g, f)->name = ir_node_at(g, conv)->name;
	ir_val r = ir_node_output(g, relu, 0), fr = ir_node_output(g, f, 0);
	ir_value_at(g, fr)->name = ir_value_at(g, r)->name;
	ir_value_at(g, fr)->type = ir_value_at(g, r)->type;
	ir_replace_all_uses(g, r, fr);
	ir_node_remove(g, relu);
	if (bn)
		ir_node_remove(g, bn);
	ir_node_remove(g, conv);
}

int net_fuse_conv_relu(ir_graph *g, bool with_bn)
{
	int count = 0;
	ir_nid next;
	for (ir_nid n = ir_graph_first(g); n; n = next) {
		next = ir_node_at(g, n)->next;
		if (strcmp(ir_cstr(g, ir_node_at(g, n)->op), "Conv") != 0)
			continue;
		ir_nid bn = with_bn ? sole_reader(g, ir_node_output(g, n, 0), "BatchNormalization") : 0;
		ir_nid relu = sole_reader(g, ir_node_output(g, bn ? bn : n, 0), "Relu");
		if ((with_bn && !bn) || !relu)
			continue;
		if (next == bn || next == relu) /* the walk continues after the fused pattern */
			next = ir_node_at(g, relu)->next;
		fuse_one(g, n, bn, relu);
		count++;
	}
	return count;
}
