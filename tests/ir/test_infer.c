/* Shape and type inference: every registered op on hand-built graphs, the
 * attribute modes, broadcasting, value-dependent shapes, declared types
 * and opset differences. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "irb.h"

#define I(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const ir_val[]){__VA_ARGS__})
#define N(a) ((int)(sizeof(a) / sizeof *(a)))

/* One-node graph: op over inputs, returns the node's first result. */
static ir_val one(ir_graph *g, const char *op, const ir_val *ins, uint32_t nin, ir_nid *node)
{
	ir_nid n = irb_node(g, "n", op, ins, nin, 1);
	if (node)
		*node = n;
	return irb_out(g, n);
}

/* ---------------------------------------------------------------- the registry */

/* Names unique, required attributes without default, defaults in .gir
 * syntax of their kind; every op resolves at its opset range's ends. */
Test(infer, registry_attribute_tables)
{
	for (uint16_t op = 1; op <= ir_op_count(); op++) {
		const ir_opinfo *info = ir_op_info(op);
		cr_assert(info && info->attrs);
		cr_expect_eq(ir_op_lookup("", info->name, info->since), op, "%s", info->name);
		cr_expect_eq(ir_op_lookup("ai.onnx", info->name, info->until), op, "%s", info->name);
		cr_expect_eq(ir_op_lookup("", info->name, info->since - 1), IR_OP_OPAQUE, "%s", info->name);
		for (const ir_attrdef *a = info->attrs; a->name; a++) {
			for (const ir_attrdef *b = info->attrs; b != a; b++)
				cr_expect_neq(strcmp(a->name, b->name), 0, "%s.%s twice", info->name, a->name);
			cr_expect(!a->required || !a->dflt, "%s.%s", info->name, a->name);
			if (!a->dflt)
				continue;
			char *end = NULL;
			if (a->kind == IR_ATTR_INT)
				strtoll(a->dflt, &end, 10);
			else if (a->kind == IR_ATTR_FLOAT)
				strtod(a->dflt, &end);
			else if (a->kind == IR_ATTR_STRING)
				end = a->dflt[0] == '"' ? strchr(a->dflt + 1, '"') + 1 : NULL;
			cr_expect(end && !*end, "%s.%s default '%s'", info->name, a->name, a->dflt);
		}
	}
}

/* ---------------------------------------------------------------- elementwise */

Test(infer, unary_ops_keep_type_and_dim_names)
{
	static const char *ops[] = {"Relu", "Sqrt", "Erf", "Sigmoid", "HardSigmoid", "Neg",
				    "Tanh", "LeakyRelu", "Clip", "Identity", "Softmax"};
	for (int i = 0; i < N(ops); i++) {
		ir_graph *g = irb_graph(13);
		ir_val x = irb_input_sym(g, "x", IR_F32, 3, I(-1, 3, 7), (const char *[]){"N", 0, 0});
		ir_val y = one(g, ops[i], &x, 1, NULL);
		irb_infer_ok(g);
		irb_expect(g, y, "f32[N,3,7]");
		ir_graph_free(g);
	}
}

Test(infer, clip_min_max)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_val lo = irb_scalar_f32(g, "lo", 0), hi = irb_scalar_f32(g, "hi", 6);
	ir_val y = one(g, "Clip", V(x, IR_NONE, hi), 3, NULL);
	ir_val z = one(g, "Clip", V(y, lo, hi), 3, NULL);
	irb_infer_ok(g);
	irb_expect(g, z, "f32[2,3]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_val bad = irb_input(g, "bad", IR_F32, 1, I(2));
	one(g, "Clip", V(x, bad), 2, NULL);
	irb_infer_err(g, "node 'n' (Clip): operand 1 must be a scalar");
	ir_graph_free(g);
}

Test(infer, broadcasting)
{
	struct {
		int ra, rb;
		int64_t a[4], b[4];
		const char *sa[4], *sb[4];
		const char *want;
	} cases[] = {
		{3, 2, {2, 1, 4}, {3, 1}, {0}, {0}, "f32[2,3,4]"},
		{0, 1, {0}, {5}, {0}, {0}, "f32[5]"},
		{2, 2, {-1, 3}, {1, 3}, {"N"}, {0}, "f32[N,3]"},
		{2, 2, {-1, 3}, {-1, 3}, {"N"}, {"M"}, "f32[?,3]"},
		{2, 2, {-1, 3}, {-1, 1}, {"N"}, {"N"}, "f32[N,3]"},
		{2, 1, {-1, 1}, {4}, {0}, {0}, "f32[?,4]"},
		{1, 1, {-1}, {4}, {0}, {0}, "f32[4]"},
		{1, 1, {0}, {1}, {0}, {0}, "f32[0]"},
		{2, 2, {1, 1}, {1, 1}, {0}, {0}, "f32[1,1]"},
	};
	static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
	for (int c = 0; c < N(cases); c++)
		for (int o = 0; o < N(ops); o++) {
			ir_graph *g = irb_graph(13);
			ir_val a = irb_input_sym(g, "a", IR_F32, cases[c].ra, cases[c].a, cases[c].sa);
			ir_val b = irb_input_sym(g, "b", IR_F32, cases[c].rb, cases[c].b, cases[c].sb);
			ir_val y = one(g, ops[o], V(a, b), 2, NULL);
			irb_infer_ok(g);
			irb_expect(g, y, cases[c].want);
			ir_graph_free(g);
		}
}

Test(infer, broadcast_errors)
{
	ir_graph *g = irb_graph(13);
	ir_val a = irb_input(g, "a", IR_F32, 2, I(2, 3)), b = irb_input(g, "b", IR_F32, 2, I(4, 3));
	one(g, "Add", V(a, b), 2, NULL);
	irb_infer_err(g, "node 'n' (Add): cannot broadcast dim 2 with dim 4");
	ir_graph_free(g);

	g = irb_graph(13);
	a = irb_input(g, "a", IR_F32, 1, I(3));
	b = irb_input(g, "b", IR_I64, 1, I(3));
	one(g, "Mul", V(a, b), 2, NULL);
	irb_infer_err(g, "different element types");
	ir_graph_free(g);
}

Test(infer, pow_equal_where)
{
	ir_graph *g = irb_graph(13);
	ir_val a = irb_input(g, "a", IR_F32, 2, I(2, 3)), e = irb_input(g, "e", IR_I64, 0, NULL);
	ir_val p = one(g, "Pow", V(a, e), 2, NULL);
	ir_val b = irb_input(g, "b", IR_F32, 1, I(3));
	ir_val q = one(g, "Equal", V(a, b), 2, NULL);
	ir_val c = irb_input(g, "c", IR_BOOL, 3, I(4, 1, 1));
	ir_val w = one(g, "Where", V(c, a, b), 3, NULL);
	irb_infer_ok(g);
	irb_expect(g, p, "f32[2,3]");
	irb_expect(g, q, "bool[2,3]");
	irb_expect(g, w, "f32[4,2,3]");
	ir_graph_free(g);

	g = irb_graph(13);
	a = irb_input(g, "a", IR_F32, 1, I(3));
	c = irb_input(g, "c", IR_F32, 1, I(3));
	one(g, "Where", V(c, a, a), 3, NULL);
	irb_infer_err(g, "condition must be bool");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- matrix products */

Test(infer, matmul)
{
	struct {
		int ra, rb;
		int64_t a[4], b[4];
		const char *want;
	} cases[] = {
		{2, 2, {2, 3}, {3, 4}, "f32[2,4]"},
		{1, 2, {3}, {3, 4}, "f32[4]"},
		{2, 1, {2, 3}, {3}, "f32[2]"},
		{1, 1, {3}, {3}, "f32[]"},
		{4, 3, {5, 1, 2, 3}, {4, 3, 6}, "f32[5,4,2,6]"},
		{3, 2, {7, 2, -1}, {-1, 4}, "f32[7,2,4]"},
		{1, 3, {3}, {2, 3, 4}, "f32[2,4]"},
	};
	for (int c = 0; c < N(cases); c++) {
		ir_graph *g = irb_graph(13);
		ir_val a = irb_input(g, "a", IR_F32, cases[c].ra, cases[c].a);
		ir_val b = irb_input(g, "b", IR_F32, cases[c].rb, cases[c].b);
		ir_val y = one(g, "MatMul", V(a, b), 2, NULL);
		irb_infer_ok(g);
		irb_expect(g, y, cases[c].want);
		ir_graph_free(g);
	}
	ir_graph *g = irb_graph(13);
	ir_val a = irb_input(g, "a", IR_F32, 2, I(2, 3)), b = irb_input(g, "b", IR_F32, 2, I(4, 5));
	one(g, "MatMul", V(a, b), 2, NULL);
	irb_infer_err(g, "contracted dims differ (3 and 4)");
	ir_graph_free(g);
}

Test(infer, gemm_transposes_and_c)
{
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			ir_graph *g = irb_graph(13);
			ir_val a = irb_input(g, "a", IR_F32, 2, ta ? I(3, 2) : I(2, 3));
			ir_val b = irb_input(g, "b", IR_F32, 2, tb ? I(5, 3) : I(3, 5));
			ir_val c = irb_input(g, "c", IR_F32, 1, I(5));
			ir_nid n;
			ir_val y = one(g, "Gemm", V(a, b, c), 3, &n);
			ir_attr_set_int(g, n, "transA", ta);
			ir_attr_set_int(g, n, "transB", tb);
			irb_infer_ok(g);
			irb_expect(g, y, "f32[2,5]");
			ir_graph_free(g);
		}
	ir_graph *g = irb_graph(13);
	ir_val a = irb_input(g, "a", IR_F32, 2, I(2, 3)), b = irb_input(g, "b", IR_F32, 2, I(3, 5));
	ir_val c = irb_input(g, "c", IR_F32, 2, I(3, 5));
	one(g, "Gemm", V(a, b, c), 3, NULL);
	irb_infer_err(g, "C dim 3 does not broadcast to 2");
	ir_graph_free(g);

	g = irb_graph(13);
	a = irb_input(g, "a", IR_F32, 3, I(1, 2, 3));
	b = irb_input(g, "b", IR_F32, 2, I(3, 5));
	one(g, "Gemm", V(a, b), 2, NULL);
	irb_infer_err(g, "A and B must have rank 2");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- convolution and pooling */

typedef struct conv_case {
	int rank;
	int64_t x[5], w[5];
	int64_t strides[3], pads[6], dil[3];
	int64_t group;
	const char *auto_pad;
	bool kernel_attr;
	const char *want;
} conv_case;

static void run_conv(const conv_case *c)
{
	ir_graph *g = irb_graph(13);
	int nsp = c->rank - 2;
	ir_val x = irb_input(g, "x", IR_F32, c->rank, c->x), w = irb_input(g, "w", IR_F32, c->rank, c->w);
	ir_nid n;
	ir_val y = one(g, "Conv", V(x, w), 2, &n);
	if (c->strides[0])
		ir_attr_set_ints(g, n, "strides", c->strides, (uint32_t)nsp);
	if (c->pads[0] || c->pads[nsp])
		ir_attr_set_ints(g, n, "pads", c->pads, (uint32_t)(2 * nsp));
	if (c->dil[0])
		ir_attr_set_ints(g, n, "dilations", c->dil, (uint32_t)nsp);
	if (c->group)
		ir_attr_set_int(g, n, "group", c->group);
	if (c->auto_pad)
		ir_attr_set_string(g, n, "auto_pad", c->auto_pad, strlen(c->auto_pad));
	if (c->kernel_attr)
		ir_attr_set_ints(g, n, "kernel_shape", c->w + 2, (uint32_t)nsp);
	irb_infer_ok(g);
	irb_expect(g, y, c->want);
	ir_graph_free(g);
}

Test(infer, conv_geometry)
{
	conv_case cases[] = {
		{4, {1, 3, 224, 224}, {64, 3, 7, 7}, {2, 2}, {3, 3, 3, 3}, {0}, 0, NULL, true,
		 "f32[1,64,112,112]"},
		{4, {1, 3, 224, 224}, {64, 3, 7, 7}, {2, 2}, {3, 3, 3, 3}, {0}, 0, NULL, false,
		 "f32[1,64,112,112]"},
		{4, {1, 32, 112, 112}, {32, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {0}, 32, NULL, false,
		 "f32[1,32,112,112]"},
		{4, {2, 8, 10, 10}, {4, 4, 3, 3}, {0}, {0}, {2, 2}, 2, NULL, false, "f32[2,4,6,6]"},
		{4, {1, 3, 7, 8}, {5, 3, 3, 3}, {2, 2}, {0}, {0}, 0, "SAME_UPPER", false, "f32[1,5,4,4]"},
		{4, {1, 3, 7, 8}, {5, 3, 3, 3}, {2, 2}, {0}, {0}, 0, "SAME_LOWER", false, "f32[1,5,4,4]"},
		{4, {1, 3, 7, 8}, {5, 3, 3, 3}, {2, 2}, {0}, {0}, 0, "VALID", false, "f32[1,5,3,3]"},
		{3, {1, 4, 10}, {6, 4, 3}, {3}, {1, 0}, {0}, 0, NULL, false, "f32[1,6,3]"},
		{5, {1, 2, 5, 6, 7}, {3, 2, 1, 2, 3}, {0}, {0}, {0}, 0, NULL, false, "f32[1,3,5,5,5]"},
		{4, {-1, 3, -1, 32}, {8, 3, 3, 3}, {0}, {1, 1, 1, 1}, {0}, 0, NULL, false,
		 "f32[?,8,?,32]"},
	};
	for (int i = 0; i < N(cases); i++)
		run_conv(&cases[i]);
}

Test(infer, conv_errors)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(1, 6, 8, 8));
	ir_val w = irb_input(g, "w", IR_F32, 4, I(4, 4, 3, 3));
	ir_nid n;
	one(g, "Conv", V(x, w), 2, &n);
	ir_node_at(g, n)->name = ir_intern_cstr(g, "Conv_3");
	irb_infer_err(g, "node 'Conv_3' (Conv): input has 6 channels but W expects 4 x 1 groups");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(1, 6));
	w = irb_input(g, "w", IR_F32, 2, I(4, 6));
	one(g, "Conv", V(x, w), 2, NULL);
	irb_infer_err(g, "X and W must have the same rank >= 3");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 4, I(1, 4, 8, 8));
	w = irb_input(g, "w", IR_F32, 4, I(4, 4, 3, 3));
	ir_val b = irb_input(g, "b", IR_F32, 1, I(5));
	one(g, "Conv", V(x, w, b), 3, &n);
	irb_infer_err(g, "B has 5 entries for 4 filters");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 4, I(1, 4, 2, 2));
	w = irb_input(g, "w", IR_F32, 4, I(4, 4, 3, 3));
	one(g, "Conv", V(x, w), 2, &n);
	irb_infer_err(g, "kernel extent 3 exceeds padded input dim 2");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 4, I(1, 4, 8, 8));
	w = irb_input(g, "w", IR_F32, 4, I(4, 4, 3, 3));
	one(g, "Conv", V(x, w), 2, &n);
	ir_attr_set_ints(g, n, "strides", I(1, 1, 1), 3);
	irb_infer_err(g, "attribute 'strides' has 3 entries (expected 2)");
	ir_graph_free(g);
}

static ir_val pool(ir_graph *g, const char *op, ir_val x, const int64_t *k, const int64_t *s,
		   const int64_t *pads, int ceil, uint32_t nout, ir_nid *node)
{
	ir_nid n = irb_node(g, "p", op, &x, 1, nout);
	ir_attr_set_ints(g, n, "kernel_shape", k, 2);
	if (s)
		ir_attr_set_ints(g, n, "strides", s, 2);
	if (pads)
		ir_attr_set_ints(g, n, "pads", pads, 4);
	if (ceil)
		ir_attr_set_int(g, n, "ceil_mode", 1);
	if (node)
		*node = n;
	return irb_out(g, n);
}

Test(infer, pooling)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(1, 64, 112, 112));
	ir_nid mp;
	ir_val y = pool(g, "MaxPool", x, I(3, 3), I(2, 2), I(1, 1, 1, 1), 0, 2, &mp);
	ir_val x5 = irb_input(g, "x5", IR_F32, 4, I(1, 1, 5, 6));
	ir_val c = pool(g, "MaxPool", x5, I(2, 2), I(2, 2), I(1, 1, 1, 1), 1, 1, NULL);
	ir_val f = pool(g, "AveragePool", x5, I(2, 2), I(2, 2), I(1, 1, 1, 1), 0, 1, NULL);
	ir_val x4 = irb_input(g, "x4", IR_F32, 4, I(1, 1, 4, 4));
	ir_val c4 = pool(g, "AveragePool", x4, I(3, 3), I(2, 2), NULL, 1, 1, NULL);
	ir_val gp = one(g, "GlobalAveragePool", &x, 1, NULL);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[1,64,56,56]");
	irb_expect(g, ir_node_output(g, mp, 1), "i64[1,64,56,56]");
	/* ceil_mode: a last window starting in the end padding is dropped (5 -> 3) */
	irb_expect(g, c, "f32[1,1,3,4]");
	irb_expect(g, f, "f32[1,1,3,4]");
	irb_expect(g, c4, "f32[1,1,2,2]");
	irb_expect(g, gp, "f32[1,64,1,1]");
	ir_graph_free(g);
}

Test(infer, pool_dilations_by_opset)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(1, 1, 9, 9));
	ir_nid n;
	ir_val y = pool(g, "MaxPool", x, I(3, 3), NULL, NULL, 0, 1, &n);
	ir_attr_set_ints(g, n, "dilations", I(2, 2), 2);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[1,1,5,5]");
	pool(g, "AveragePool", x, I(3, 3), NULL, NULL, 0, 1, &n);
	ir_attr_set_ints(g, n, "dilations", I(2, 2), 2);
	irb_infer_err(g, "attribute 'dilations' needs opset 19");
	ir_graph_free(g);

	g = irb_graph(19);
	x = irb_input(g, "x", IR_F32, 4, I(1, 1, 9, 9));
	y = pool(g, "AveragePool", x, I(3, 3), NULL, NULL, 0, 1, &n);
	ir_attr_set_ints(g, n, "dilations", I(2, 2), 2);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[1,1,5,5]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 4, I(1, 1, 9, 9));
	irb_node(g, "mp", "MaxPool", &x, 1, 1);
	irb_infer_err(g, "node 'mp' (MaxPool): required attribute 'kernel_shape' is missing");
	ir_graph_free(g);
}

static ir_nid batchnorm(ir_graph *g, int64_t c, uint32_t nout)
{
	ir_val x = irb_input(g, "x", IR_F32, 4, I(2, c, 5, 5));
	ir_val p[4];
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof name, "p%d", i);
		p[i] = irb_input(g, name, IR_F32, 1, I(3));
	}
	return irb_node(g, "bn", "BatchNormalization", V(x, p[0], p[1], p[2], p[3]), 5, nout);
}

Test(infer, batchnorm_outputs_by_opset)
{
	ir_graph *g = irb_graph(13);
	ir_nid n = batchnorm(g, 3, 1);
	irb_infer_ok(g);
	irb_expect(g, irb_out(g, n), "f32[2,3,5,5]");
	ir_graph_free(g);

	g = irb_graph(9);
	n = batchnorm(g, 3, 5);
	irb_infer_ok(g);
	irb_expect(g, ir_node_output(g, n, 4), "f32[3]");
	ir_graph_free(g);

	g = irb_graph(15);
	n = batchnorm(g, 3, 3);
	ir_attr_set_int(g, n, "training_mode", 1);
	irb_infer_ok(g);
	irb_expect(g, ir_node_output(g, n, 0), "f32[2,3,5,5]");
	irb_expect(g, ir_node_output(g, n, 1), "f32[3]");
	irb_expect(g, ir_node_output(g, n, 2), "f32[3]");
	ir_graph_free(g);

	g = irb_graph(15);
	batchnorm(g, 3, 3);
	irb_infer_err(g, "1 unless training_mode=1");
	ir_graph_free(g);

	g = irb_graph(13);
	batchnorm(g, 4, 1);
	irb_infer_err(g, "scale has 3 entries for 4 channels");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- layout */

Test(infer, reshape_constant_shapes)
{
	struct {
		int64_t shape[4];
		int n;
		int allowzero;
		const char *want;
	} cases[] = {
		{{0, -1}, 2, 0, "f32[2,12]"},
		{{-1}, 1, 0, "f32[24]"},
		{{4, 0, -1}, 3, 0, "f32[4,3,2]"},
		{{2, 3, 4, 1}, 4, 0, "f32[2,3,4,1]"},
		{{0, 0, 4}, 3, 0, "f32[2,3,4]"},
	};
	for (int i = 0; i < N(cases); i++) {
		ir_graph *g = irb_graph(14);
		ir_val x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
		ir_val s = irb_ints(g, "s", cases[i].n, cases[i].shape);
		ir_val y = one(g, "Reshape", V(x, s), 2, NULL);
		irb_infer_ok(g);
		irb_expect(g, y, cases[i].want);
		ir_graph_free(g);
	}
	ir_graph *g = irb_graph(14);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(0, 3));
	ir_nid n;
	ir_val y = one(g, "Reshape", V(x, irb_ints(g, "s", 2, I(3, 0))), 2, &n);
	ir_attr_set_int(g, n, "allowzero", 1);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[3,0]");
	ir_graph_free(g);
}

/* ir_infer_node_ex tells whether the inference read operand values: a
 * Reshape reads its shape, a Relu and a Conv read types only. */
Test(infer, one_node_tells_whether_it_read_operand_values)
{
	ir_graph *g = irb_graph(14);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(1, 2, 4, 4));
	ir_nid r, u, c;
	one(g, "Reshape", V(x, irb_ints(g, "s", 2, I(2, 16))), 2, &r);
	one(g, "Relu", V(x), 1, &u);
	one(g, "Conv", V(x, irb_input(g, "w", IR_F32, 4, I(3, 2, 1, 1))), 2, &c);
	ir_diags d;
	ir_diags_init(&d);
	bool read = false;
	cr_assert(ir_infer_node_ex(g, r, &d, "t", &read));
	cr_assert(read, "Reshape reads its shape operand");
	irb_expect(g, irb_out(g, r), "f32[2,16]");
	cr_assert(ir_infer_node_ex(g, u, &d, "t", &read));
	cr_assert_not(read, "Relu reads types only");
	cr_assert(ir_infer_node_ex(g, c, &d, "t", &read));
	cr_assert_not(read, "Conv reads types only");
	irb_expect(g, irb_out(g, c), "f32[1,3,4,4]");
	cr_assert_eq(d.nerrors, 0);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(infer, reshape_errors)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	one(g, "Reshape", V(x, irb_ints(g, "s", 2, I(-1, -1))), 2, NULL);
	irb_infer_err(g, "more than one -1");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	one(g, "Reshape", V(x, irb_ints(g, "s", 2, I(4, 2))), 2, NULL);
	irb_infer_err(g, "cannot reshape 6 elements into 8");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	one(g, "Reshape", V(x, irb_ints(g, "s", 2, I(4, -1))), 2, NULL);
	irb_infer_err(g, "cannot reshape 6 elements into a multiple of 4");
	ir_graph_free(g);
}

Test(infer, reshape_unknown_shape_keeps_rank)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3)), s = irb_input(g, "s", IR_I64, 1, I(3));
	ir_val y = one(g, "Reshape", V(x, s), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[?,?,?]");
	ir_graph_free(g);
}

/* x [N,3,4] -> Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) */
Test(infer, reshape_through_shape_gather_concat)
{
	for (int opset = 11; opset <= 13; opset += 2) {
		ir_graph *g = irb_graph(opset);
		ir_val x = irb_input_sym(g, "x", IR_F32, 3, I(-1, 3, 4), (const char *[]){"N", 0, 0});
		ir_val sh = one(g, "Shape", &x, 1, NULL);
		ir_val gi = one(g, "Gather", V(sh, irb_scalar_i64(g, "zero", 0)), 2, NULL);
		ir_nid un;
		ir_val u = opset >= 13 ? one(g, "Unsqueeze", V(gi, irb_ints(g, "ax", 1, I(0))), 2, &un)
				       : one(g, "Unsqueeze", V(gi), 1, &un);
		if (opset < 13)
			ir_attr_set_ints(g, un, "axes", I(0), 1);
		ir_nid cat;
		ir_val c = one(g, "Concat", V(u, irb_ints(g, "m1", 1, I(-1))), 2, &cat);
		ir_attr_set_int(g, cat, "axis", 0);
		ir_val y = one(g, "Reshape", V(x, c), 2, NULL);
		ir_val g1 = one(g, "Gather", V(sh, irb_ints(g, "idx", 2, I(2, -2))), 2, NULL);
		ir_val z = one(g, "Reshape", V(x, g1), 2, NULL);
		irb_infer_ok(g);
		irb_expect(g, sh, "i64[3]");
		irb_expect(g, gi, "i64[]");
		irb_expect(g, u, "i64[1]");
		irb_expect(g, c, "i64[2]");
		irb_expect(g, y, "f32[N,12]");
		irb_expect(g, z, "f32[4,3]");
		ir_graph_free(g);
	}
}

/* Static shapes computed through Shape, Slice, Mul, Cast, Concat. */
Test(infer, computed_static_shape)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(2, 3, 4, 5));
	ir_val sh = one(g, "Shape", &x, 1, NULL);
	ir_val hw = one(g, "Slice", V(sh, irb_ints(g, "s", 1, I(2)), irb_ints(g, "e", 1, I(INT64_MAX))), 3,
			NULL);
	ir_val nc = one(g, "Slice", V(sh, irb_ints(g, "s0", 1, I(0)), irb_ints(g, "e0", 1, I(2))), 3,
			NULL);
	ir_val two = irb_ints(g, "two", 1, I(2));
	ir_val hw2 = one(g, "Mul", V(hw, two), 2, NULL);
	ir_nid cn;
	ir_val c32 = one(g, "Cast", V(hw2), 1, &cn);
	ir_attr_set_int(g, cn, "to", IR_I32);
	ir_nid cb;
	ir_val c64 = one(g, "Cast", V(c32), 1, &cb);
	ir_attr_set_int(g, cb, "to", IR_I64);
	ir_nid cat;
	ir_val s = one(g, "Concat", V(nc, c64), 2, &cat);
	ir_attr_set_int(g, cat, "axis", 0);
	ir_val y = one(g, "ConstantOfShape", V(s), 1, NULL);
	ir_val eq = one(g, "Equal", V(s, irb_ints(g, "v", 1, I(8))), 2, NULL);
	ir_val w = one(g, "Where", V(eq, irb_ints(g, "one", 1, I(1)), s), 3, NULL);
	ir_val e = one(g, "Expand", V(irb_input(g, "b", IR_F32, 2, I(3, 1)), w), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, c32, "i32[2]");
	irb_expect(g, y, "f32[2,3,8,10]");
	irb_expect(g, e, "f32[2,3,3,10]");
	ir_graph_free(g);
}

Test(infer, transpose_flatten)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input_sym(g, "x", IR_F32, 4, I(-1, 3, 4, 5), (const char *[]){"N", 0, 0, 0});
	ir_val t0 = one(g, "Transpose", &x, 1, NULL);
	ir_nid n;
	ir_val t1 = one(g, "Transpose", &x, 1, &n);
	ir_attr_set_ints(g, n, "perm", I(0, 2, 3, 1), 4);
	ir_val f1 = one(g, "Flatten", &x, 1, NULL);
	ir_val f0 = one(g, "Flatten", &x, 1, &n);
	ir_attr_set_int(g, n, "axis", 0);
	ir_val fm = one(g, "Flatten", &x, 1, &n);
	ir_attr_set_int(g, n, "axis", -1);
	ir_val f4 = one(g, "Flatten", &x, 1, &n);
	ir_attr_set_int(g, n, "axis", 4);
	irb_infer_ok(g);
	irb_expect(g, t0, "f32[5,4,3,N]");
	irb_expect(g, t1, "f32[N,4,5,3]");
	irb_expect(g, f1, "f32[N,60]");
	irb_expect(g, f0, "f32[1,?]");
	irb_expect(g, fm, "f32[?,5]");
	irb_expect(g, f4, "f32[?,1]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 3, I(1, 2, 3));
	one(g, "Transpose", &x, 1, &n);
	ir_attr_set_ints(g, n, "perm", I(0, 0, 1), 3);
	irb_infer_err(g, "perm is not a permutation");
	ir_graph_free(g);
}

Test(infer, concat)
{
	ir_graph *g = irb_graph(13);
	ir_val a = irb_input(g, "a", IR_F32, 3, I(2, 3, 4)), b = irb_input(g, "b", IR_F32, 3, I(2, 5, 4));
	ir_val c = irb_input_sym(g, "c", IR_F32, 3, I(-1, -1, 4), (const char *[]){"N", 0, 0});
	ir_nid n;
	ir_val y = one(g, "Concat", V(a, b), 2, &n);
	ir_attr_set_int(g, n, "axis", 1);
	ir_val z = one(g, "Concat", V(a, b, c), 3, &n);
	ir_attr_set_int(g, n, "axis", -2);
	ir_val w = one(g, "Concat", V(c, c), 2, &n);
	ir_attr_set_int(g, n, "axis", 2);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[2,8,4]");
	irb_expect(g, z, "f32[2,?,4]");
	irb_expect(g, w, "f32[N,?,8]");
	ir_graph_free(g);

	g = irb_graph(13);
	a = irb_input(g, "a", IR_F32, 2, I(2, 3));
	b = irb_input(g, "b", IR_F32, 2, I(4, 3));
	one(g, "Concat", V(a, b), 2, &n);
	ir_attr_set_int(g, n, "axis", 1);
	irb_infer_err(g, "operand 1 has dim 4 on axis 0, not 2");
	ir_graph_free(g);

	g = irb_graph(13);
	a = irb_input(g, "a", IR_F32, 2, I(2, 3));
	irb_node(g, "cat", "Concat", V(a, a), 2, 1);
	irb_infer_err(g, "node 'cat' (Concat): required attribute 'axis' is missing");
	ir_graph_free(g);
}

Test(infer, unsqueeze_squeeze_by_opset)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(3, 1, 4));
	ir_val u = one(g, "Unsqueeze", V(x, irb_ints(g, "a", 2, I(0, -1))), 2, NULL);
	ir_val s = one(g, "Squeeze", V(x, irb_ints(g, "b", 1, I(1))), 2, NULL);
	ir_val s0 = one(g, "Squeeze", V(x), 1, NULL);
	irb_infer_ok(g);
	irb_expect(g, u, "f32[1,3,1,4,1]");
	irb_expect(g, s, "f32[3,4]");
	irb_expect(g, s0, "f32[3,4]");
	ir_graph_free(g);

	g = irb_graph(11);
	x = irb_input(g, "x", IR_F32, 3, I(3, 1, 4));
	ir_nid n;
	u = one(g, "Unsqueeze", V(x), 1, &n);
	ir_attr_set_ints(g, n, "axes", I(1), 1);
	s = one(g, "Squeeze", V(x), 1, &n);
	ir_attr_set_ints(g, n, "axes", I(-2), 1);
	irb_infer_ok(g);
	irb_expect(g, u, "f32[3,1,1,4]");
	irb_expect(g, s, "f32[3,4]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 3, I(3, 1, 4));
	one(g, "Squeeze", V(x, irb_ints(g, "b", 1, I(0))), 2, NULL);
	irb_infer_err(g, "cannot squeeze axis 0 of size 3");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 1, I(3));
	one(g, "Unsqueeze", V(x), 1, &n);
	ir_attr_set_ints(g, n, "axes", I(0), 1);
	irb_infer_err(g, "axes is an operand from opset 13");
	ir_graph_free(g);
}

Test(infer, softmax_is_opaque_before_13)
{
	ir_graph *g = irb_graph(11);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_nid n;
	ir_val y = one(g, "Softmax", &x, 1, &n);
	cr_expect_eq(ir_node_at(g, n)->opcode, IR_OP_OPAQUE);
	irb_infer_ok(g);
	irb_expect(g, y, "?");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	one(g, "Softmax", &x, 1, &n);
	ir_attr_set_int(g, n, "axis", 2);
	irb_infer_err(g, "axis 2 is out of range for rank 2");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- reductions */

static ir_val reduce(ir_graph *g, const char *op, ir_val x, ir_val axes, const int64_t *attr,
		     int nattr, int keep, int noop)
{
	ir_nid n;
	ir_val y = one(g, op, V(x, axes), axes ? 2 : 1, &n);
	if (attr)
		ir_attr_set_ints(g, n, "axes", attr, (uint32_t)nattr);
	if (keep >= 0)
		ir_attr_set_int(g, n, "keepdims", keep);
	if (noop)
		ir_attr_set_int(g, n, "noop_with_empty_axes", 1);
	return y;
}

Test(infer, reducemean_13_uses_the_attribute)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	ir_val a = reduce(g, "ReduceMean", x, 0, I(-1), 1, -1, 0);
	ir_val b = reduce(g, "ReduceMean", x, 0, I(0, 2), 2, 0, 0);
	ir_val c = reduce(g, "ReduceMean", x, 0, NULL, 0, 0, 0);
	ir_val d = reduce(g, "ReduceMean", x, 0, NULL, 0, 1, 0);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[2,3,1]");
	irb_expect(g, b, "f32[3]");
	irb_expect(g, c, "f32[]");
	irb_expect(g, d, "f32[1,1,1]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	reduce(g, "ReduceMean", x, irb_ints(g, "ax", 1, I(1)), NULL, 0, 1, 0);
	irb_infer_err(g, "axes is an attribute before opset 18");
	ir_graph_free(g);
}

Test(infer, reducemean_18_uses_the_operand)
{
	ir_graph *g = irb_graph(18);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(2, 1, 4));
	ir_val a = reduce(g, "ReduceMean", x, irb_ints(g, "ax", 1, I(-1)), NULL, 0, -1, 0);
	ir_val b = reduce(g, "ReduceMean", x, 0, NULL, 0, 1, 1);
	ir_val c = reduce(g, "ReduceMean", x, 0, NULL, 0, 0, 0);
	ir_val dyn = irb_input(g, "dyn", IR_I64, 1, I(2));
	ir_val d = reduce(g, "ReduceMean", x, dyn, NULL, 0, 1, 0);
	ir_val e = reduce(g, "ReduceMean", x, dyn, NULL, 0, 0, 0);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[2,1,1]");
	irb_expect(g, b, "f32[2,1,4]");
	irb_expect(g, c, "f32[]");
	irb_expect(g, d, "f32[?,1,?]");
	irb_expect(g, e, "f32[?]");
	ir_graph_free(g);

	g = irb_graph(18);
	x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	reduce(g, "ReduceMean", x, 0, I(1), 1, 1, 0);
	irb_infer_err(g, "axes is an operand from opset 18");
	ir_graph_free(g);
}

Test(infer, reducesum_13_uses_the_operand)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	ir_val a = reduce(g, "ReduceSum", x, irb_ints(g, "ax", 2, I(0, 1)), NULL, 0, 0, 0);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[4]");
	reduce(g, "ReduceSum", x, irb_ints(g, "ax2", 2, I(1, -2)), NULL, 0, 0, 0);
	irb_infer_err(g, "axis 1 is reduced twice");
	ir_graph_free(g);

	g = irb_graph(11);
	x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	a = reduce(g, "ReduceSum", x, 0, I(1), 1, 1, 0);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[2,1,4]");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- indexing and padding */

Test(infer, pad_modes_and_axes)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(3, 4));
	ir_nid n;
	ir_val a = one(g, "Pad", V(x, irb_ints(g, "p", 4, I(1, 2, 3, 4))), 2, NULL);
	ir_val b = one(g, "Pad", V(x, irb_ints(g, "q", 4, I(0, -1, 0, -2)), irb_scalar_f32(g, "v", 1)),
		       3, &n);
	ir_attr_set_string(g, n, "mode", "reflect", 7);
	ir_val c = one(g, "Pad", V(x, irb_input(g, "dyn", IR_I64, 1, I(4))), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[7,10]");
	irb_expect(g, b, "f32[3,1]");
	irb_expect(g, c, "f32[?,?]");
	ir_graph_free(g);

	g = irb_graph(18);
	x = irb_input(g, "x", IR_F32, 3, I(3, 4, 5));
	a = one(g, "Pad", V(x, irb_ints(g, "p", 2, I(1, 2)), IR_NONE, irb_ints(g, "ax", 1, I(-1))), 4,
		NULL);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[3,4,8]");
	one(g, "Pad", V(x, irb_ints(g, "q", 2, I(1, 2))), 2, &n);
	ir_attr_set_string(g, n, "mode", "wrap", 4);
	irb_infer_err(g, "unknown mode 'wrap'");
	ir_graph_free(g);

	g = irb_graph(19);
	x = irb_input(g, "x", IR_F32, 1, I(3));
	a = one(g, "Pad", V(x, irb_ints(g, "q", 2, I(1, 2))), 2, &n);
	ir_attr_set_string(g, n, "mode", "wrap", 4);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[6]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(3, 4));
	one(g, "Pad", V(x, irb_ints(g, "p", 2, I(1, 2))), 2, NULL);
	irb_infer_err(g, "pads has 2 entries for 2 axes");
	ir_graph_free(g);
}

Test(infer, slice_clamping_and_steps)
{
	struct {
		int n;
		int64_t starts[3], ends[3], axes[3], steps[3];
		bool has_axes, has_steps;
		const char *want;
	} cases[] = {
		{1, {1}, {3}, {0}, {0}, false, false, "f32[2,20,30]"},
		{2, {0, 5}, {INT64_MAX, -5}, {1, 2}, {0}, true, false, "f32[10,20,20]"},
		{1, {-1}, {INT64_MIN}, {2}, {-1}, true, true, "f32[10,20,30]"},
		{1, {100}, {200}, {1}, {0}, true, false, "f32[10,0,30]"},
		{1, {-100}, {3}, {0}, {2}, false, true, "f32[2,20,30]"},
		{1, {25}, {1}, {-1}, {-3}, true, true, "f32[10,20,8]"},
		{2, {0, 0}, {5, 5}, {-1, 0}, {2, 3}, true, true, "f32[2,20,3]"},
	};
	for (int i = 0; i < N(cases); i++) {
		ir_graph *g = irb_graph(13);
		int n = cases[i].n;
		ir_val x = irb_input(g, "x", IR_F32, 3, I(10, 20, 30));
		ir_val ins[5] = {x, irb_ints(g, "s", n, cases[i].starts), irb_ints(g, "e", n, cases[i].ends),
				 cases[i].has_axes ? irb_ints(g, "a", n, cases[i].axes) : IR_NONE,
				 cases[i].has_steps ? irb_ints(g, "t", n, cases[i].steps) : IR_NONE};
		ir_val y = one(g, "Slice", ins, 5, NULL);
		irb_infer_ok(g);
		irb_expect(g, y, cases[i].want);
		ir_graph_free(g);
	}
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(10));
	one(g, "Slice", V(x, irb_ints(g, "s", 1, I(0)), irb_ints(g, "e", 1, I(5)), IR_NONE,
			 irb_ints(g, "t", 1, I(0))),
	    5, NULL);
	irb_infer_err(g, "steps[0] is 0");
	ir_graph_free(g);
}

Test(infer, slice_unknown_operands)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(10, 20, 30));
	ir_val s = irb_input(g, "s", IR_I64, 1, I(1));
	ir_val y = one(g, "Slice", V(x, s, irb_ints(g, "e", 1, I(5)), irb_ints(g, "a", 1, I(1))), 4,
		       NULL);
	ir_val z = one(g, "Slice", V(x, s, s), 3, NULL);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[10,?,30]");
	irb_expect(g, z, "f32[?,20,30]");
	ir_graph_free(g);
}

Test(infer, gather)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(5, 6, 7));
	ir_val a = one(g, "Gather", V(x, irb_scalar_i64(g, "i", 4)), 2, NULL);
	ir_nid n;
	ir_val b = one(g, "Gather", V(x, irb_input(g, "idx", IR_I32, 2, I(2, 3))), 2, &n);
	ir_attr_set_int(g, n, "axis", 1);
	ir_val c = one(g, "Gather", V(x, irb_ints(g, "j", 2, I(-7, 6))), 2, &n);
	ir_attr_set_int(g, n, "axis", -1);
	irb_infer_ok(g);
	irb_expect(g, a, "f32[6,7]");
	irb_expect(g, b, "f32[5,2,3,7]");
	irb_expect(g, c, "f32[5,6,2]");
	one(g, "Gather", V(x, irb_ints(g, "k", 1, I(5))), 2, NULL);
	irb_infer_err(g, "index 5 is out of range for dim 5");
	ir_graph_free(g);
}

Test(infer, shape_start_end)
{
	ir_graph *g = irb_graph(15);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(2, 3, 4, 5));
	ir_val a = one(g, "Shape", &x, 1, NULL);
	ir_nid n;
	ir_val b = one(g, "Shape", &x, 1, &n);
	ir_attr_set_int(g, n, "start", 1);
	ir_attr_set_int(g, n, "end", -1);
	ir_val c = one(g, "Shape", &x, 1, &n);
	ir_attr_set_int(g, n, "start", -10);
	ir_attr_set_int(g, n, "end", 100);
	ir_val d = one(g, "Shape", &x, 1, &n);
	ir_attr_set_int(g, n, "start", 3);
	ir_attr_set_int(g, n, "end", 1);
	ir_val r = one(g, "Reshape", V(irb_input(g, "y", IR_F32, 1, I(12)), b), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, a, "i64[4]");
	irb_expect(g, b, "i64[2]");
	irb_expect(g, c, "i64[4]");
	irb_expect(g, d, "i64[0]");
	irb_expect(g, r, "f32[3,4]");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 1, I(2));
	one(g, "Shape", &x, 1, &n);
	ir_attr_set_int(g, n, "start", 1);
	irb_infer_err(g, "attribute 'start' needs opset 15");
	ir_graph_free(g);
}

Test(infer, constant_of_shape_and_expand)
{
	ir_graph *g = irb_graph(13);
	ir_val s = irb_ints(g, "s", 3, I(2, 1, 4));
	ir_val z = one(g, "ConstantOfShape", &s, 1, NULL);
	ir_nid n;
	ir_val c = one(g, "ConstantOfShape", &s, 1, &n);
	int64_t one_dim = 1, seven = 7;
	ir_attr_set_tensor(g, n, "value", ir_tensor_new(g, 0, IR_I64, 1, &one_dim, &seven, 8));
	ir_val e = one(g, "Expand", V(irb_input(g, "x", IR_F32, 2, I(3, 1)), s), 2, NULL);
	ir_val e2 = one(g, "Expand", V(irb_input(g, "w", IR_F32, 4, I(5, 1, 1, 1)), s), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, z, "f32[2,1,4]");
	irb_expect(g, c, "i64[2,1,4]");
	irb_expect(g, e, "f32[2,3,4]");
	irb_expect(g, e2, "f32[5,2,1,4]");
	one(g, "Expand", V(irb_input(g, "y", IR_F32, 1, I(3)), s), 2, NULL);
	irb_infer_err(g, "cannot expand dim 3 to 4");
	ir_graph_free(g);
}

Test(infer, constant_attributes)
{
	ir_graph *g = irb_graph(13);
	ir_nid n[6];
	for (int i = 0; i < 6; i++)
		n[i] = irb_node(g, NULL, "Constant", NULL, 0, 1);
	int64_t dims[2] = {2, 3};
	ir_attr_set_tensor(g, n[0], "value", ir_tensor_new(g, 0, IR_F16, 2, dims, NULL, 12));
	ir_attr_set_float(g, n[1], "value_float", 1.5f);
	ir_attr_set_ints(g, n[2], "value_ints", I(1, 2, 3), 3);
	ir_str strs[2] = {ir_intern_cstr(g, "a"), ir_intern_cstr(g, "b")};
	ir_attr_set_strs(g, n[3], "value_strings", strs, 2);
	ir_bid blob = ir_blob_add(g, "", 0);
	ir_attr_set_blobs(g, n[4], "sparse_value", IR_ATTR_SPARSE_TENSOR, &blob, 1);
	ir_attr_set_int(g, n[5], "value_int", 4);
	ir_val r = one(g, "Reshape", V(irb_input(g, "x", IR_F32, 1, I(6)), irb_out(g, n[2])), 2, NULL);
	irb_infer_ok(g);
	irb_expect(g, irb_out(g, n[0]), "f16[2,3]");
	irb_expect(g, irb_out(g, n[1]), "f32[]");
	irb_expect(g, irb_out(g, n[2]), "i64[3]");
	irb_expect(g, irb_out(g, n[3]), "string[2]");
	irb_expect(g, irb_out(g, n[4]), "?");
	irb_expect(g, irb_out(g, n[5]), "i64[]");
	irb_expect(g, r, "f32[1,2,3]");
	ir_attr_set_int(g, n[1], "value_int", 1);
	irb_infer_err(g, "has both 'value_float' and 'value_int'");
	ir_graph_free(g);

	g = irb_graph(11);
	ir_nid c = irb_node(g, NULL, "Constant", NULL, 0, 1);
	ir_attr_set_int(g, c, "value_int", 4);
	irb_infer_err(g, "attribute 'value_int' needs opset 12");
	ir_graph_free(g);
}

Test(infer, identity_passes_opaque_types)
{
	ir_graph *g = irb_graph(13);
	ir_bid tp = ir_blob_add(g, "\x22\x02\x0a\x00", 4); /* some sequence TypeProto */
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "seq"), ir_type_opaque(g, tp), 0);
	ir_val y = one(g, "Identity", &x, 1, NULL);
	irb_infer_ok(g);
	cr_expect_eq(ir_value_at(g, y)->type.kind, IR_TYPE_OPAQUE);
	cr_expect(ir_type_equal(g, ir_value_at(g, x)->type, g, ir_value_at(g, y)->type));
	ir_graph_free(g);
}

Test(infer, cast_and_range)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_nid n;
	ir_val c = one(g, "Cast", &x, 1, &n);
	ir_attr_set_int(g, n, "to", IR_F16);
	ir_val r = one(g, "Range", V(irb_scalar_i64(g, "s", 10), irb_scalar_i64(g, "l", 1),
				       irb_scalar_i64(g, "d", -4)),
		       3, NULL);
	ir_val f = one(g, "Range", V(irb_scalar_f32(g, "fs", 0), irb_scalar_f32(g, "fl", 1),
				       irb_scalar_f32(g, "fd", 0.3f)),
		       3, NULL);
	ir_val e = one(g, "Range", V(irb_scalar_i64(g, "es", 5), irb_scalar_i64(g, "el", 1),
				       irb_scalar_i64(g, "ed", 1)),
		       3, NULL);
	ir_val u = one(g, "Range", V(irb_input(g, "dyn", IR_I64, 0, NULL), irb_scalar_i64(g, "ul", 1),
				       irb_scalar_i64(g, "ud", 1)),
		       3, NULL);
	ir_val r2 = one(g, "Range", V(irb_scalar_i64(g, "s2", 1), irb_scalar_i64(g, "l2", 4),
					irb_scalar_i64(g, "d2", 1)),
			3, NULL);
	ir_val k = one(g, "ConstantOfShape", V(r2), 1, NULL);
	irb_infer_ok(g);
	irb_expect(g, c, "f16[2,3]");
	irb_expect(g, r, "i64[3]");
	irb_expect(g, f, "f32[4]");
	irb_expect(g, e, "i64[0]");
	irb_expect(g, u, "i64[?]");
	irb_expect(g, k, "f32[1,2,3]"); /* Range's values [1, 2, 3] are known */
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- declared types */

Test(infer, declared_conflict_names_node_value_and_types)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 4, I(1, 64, 112, 112));
	ir_val w = irb_input(g, "w", IR_F32, 4, I(64, 64, 3, 3));
	ir_nid n = irb_node(g, "Conv_3", "Conv", V(x, w), 2, 1);
	ir_attr_set_ints(g, n, "strides", I(2, 2), 2);
	ir_attr_set_ints(g, n, "pads", I(1, 1, 1, 1), 4);
	ir_value_at(g, irb_out(g, n))->name = ir_intern_cstr(g, "x1");
	ir_value_at(g, irb_out(g, n))->type = irb_type(g, IR_F32, 4, I(1, 64, 55, 55), NULL);
	ir_nid r = irb_node(g, "relu", "Relu", V(irb_out(g, n)), 1, 1);
	ir_value_at(g, irb_out(g, r))->type = irb_type(g, IR_F16, 4, I(1, 64, 55, 55), NULL);
	ir_diags d;
	ir_diags_init(&d);
	cr_expect_eq(ir_infer(g, &d, "m.onnx"), 2);
	cr_expect(ir_diags_contains(&d, "node 'Conv_3' (Conv): inferred f32[1,64,56,56] for %x1 but "
					"it is declared f32[1,64,55,55]"));
	cr_expect(ir_diags_contains(&d, "node 'relu' (Relu): inferred f32[1,64,55,55] for %relu but "
					"it is declared f16[1,64,55,55]"));
	cr_expect_str_eq(d.v[0].file, "m.onnx");
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(infer, declared_parts_fill_and_names_win)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(1, 10));
	ir_nid a = irb_node(g, "a", "Relu", &x, 1, 1), b = irb_node(g, "b", "Relu", &x, 1, 1);
	ir_nid c = irb_node(g, "c", "Relu", &x, 1, 1);
	const char *batch[] = {"batch", 0};
	ir_value_at(g, irb_out(g, a))->type = irb_type(g, IR_F32, 2, I(-1, 10), batch);
	ir_value_at(g, irb_out(g, b))->type = irb_type(g, IR_UNDEF, 2, I(-1, -1), NULL);
	ir_value_at(g, irb_out(g, c))->type = ir_type_tensor(g, IR_UNDEF, -1, NULL);
	irb_infer_ok(g);
	irb_expect(g, irb_out(g, a), "f32[batch,10]");
	irb_expect(g, irb_out(g, b), "f32[1,10]");
	irb_expect(g, irb_out(g, c), "f32[1,10]");
	ir_value_at(g, irb_out(g, c))->type = irb_type(g, IR_F32, 3, I(1, 10, 1), NULL);
	irb_infer_err(g, "inferred f32[1,10] for %c but it is declared f32[1,10,1]");
	ir_graph_free(g);
}

Test(infer, reports_every_conflict_and_keeps_going)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(4));
	ir_val v = x;
	for (int i = 0; i < 5; i++) {
		ir_nid n = irb_node(g, NULL, "Relu", &v, 1, 1);
		v = irb_out(g, n);
		if (i % 2 == 0)
			ir_value_at(g, v)->type = irb_type(g, IR_F32, 1, I(5 + i), NULL);
	}
	ir_diags d;
	ir_diags_init(&d);
	cr_expect_eq(ir_infer(g, &d, NULL), 3);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(infer, arity_errors_name_the_node)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(4));
	irb_node(g, "r", "Relu", V(x, x), 2, 1);
	irb_infer_err(g, "node 'r' (Relu): has 2 operands (expected 1 to 1)");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 4, I(1, 1, 4, 4));
	irb_node(g, NULL, "Conv", V(x, IR_NONE), 2, 1);
	irb_infer_err(g, "(Conv): required operand 1 is missing");
	ir_graph_free(g);
}

Test(infer, attributes_and_operands_newer_than_the_opset)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_nid n = irb_node(g, "r", "Reshape", V(x, irb_ints(g, "s", 1, I(6))), 2, 1);
	ir_attr_set_int(g, n, "allowzero", 0);
	irb_infer_err(g, "node 'r' (Reshape): attribute 'allowzero' needs opset 14");
	ir_graph_free(g);

	g = irb_graph(13);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	n = irb_node(g, "c", "Cast", &x, 1, 1);
	ir_attr_set_int(g, n, "to", IR_F16);
	ir_attr_set_int(g, n, "saturate", 1);
	irb_infer_err(g, "attribute 'saturate' needs opset 19");
	ir_graph_free(g);

	g = irb_graph(9);
	x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	irb_node(g, "gemm", "Gemm", V(x, irb_input(g, "w", IR_F32, 2, I(3, 4))), 2, 1);
	irb_infer_err(g, "node 'gemm' (Gemm): C is required before opset 11");
	ir_graph_free(g);

	g = irb_graph(9);
	x = irb_input(g, "x", IR_F32, 4, I(1, 1, 5, 5));
	n = irb_node(g, "mp", "MaxPool", &x, 1, 1);
	ir_attr_set_ints(g, n, "kernel_shape", I(2, 2), 2);
	ir_attr_set_int(g, n, "ceil_mode", 1);
	irb_infer_err(g, "attribute 'ceil_mode' needs opset 10");
	ir_graph_free(g);
}

Test(infer, wrong_attribute_kind_is_an_error)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 2, I(2, 3));
	ir_nid n = irb_node(g, "f", "Flatten", &x, 1, 1);
	ir_attr_set_float(g, n, "axis", 1.0f);
	irb_infer_err(g, "node 'f' (Flatten): attribute 'axis' has the wrong kind");
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- one node, on demand */

Test(infer, infer_node_evaluates_producers_on_demand)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 3, I(2, 3, 4));
	ir_val sh = one(g, "Shape", &x, 1, NULL);
	ir_val t = one(g, "Slice", V(sh, irb_ints(g, "s", 1, I(1)), irb_ints(g, "e", 1, I(3))), 3, NULL);
	ir_nid cat;
	ir_val c = one(g, "Concat", V(irb_ints(g, "m", 1, I(-1)), t), 2, &cat);
	ir_attr_set_int(g, cat, "axis", 0);
	ir_nid r;
	ir_val y = one(g, "Reshape", V(x, c), 2, &r);
	irb_infer_ok(g);
	irb_expect(g, y, "f32[2,3,4]");
	ir_value_at(g, y)->type = ir_type_unknown();
	ir_diags d;
	ir_diags_init(&d);
	cr_expect(ir_infer_node(g, r, &d, NULL));
	irb_expect(g, y, "f32[2,3,4]");
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- performance */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A million simple nodes in one pass; linear, no per-node allocation. */
Test(infer, million_nodes, .timeout = 120)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input_sym(g, "x", IR_F32, 4, I(-1, 64, 56, 56), (const char *[]){"N", 0, 0, 0});
	ir_val b = irb_input(g, "b", IR_F32, 3, I(64, 1, 1));
	ir_val v = x;
	for (int i = 0; i < 1000000; i++) {
		ir_nid n = i % 2 ? ir_node_new(g, NULL, "Relu", &v, 1, 1, 0)
				 : ir_node_new(g, NULL, "Add", V(v, b), 2, 1, 0);
		v = irb_out(g, n);
	}
	double t0 = now();
	irb_infer_ok(g);
	double t1 = now();
	irb_infer_ok(g); /* again: types unchanged, nothing allocated */
	double t2 = now();
	irb_expect(g, v, "f32[N,64,56,56]");
	cr_log_info("1M nodes: first run %.0f ms, second %.0f ms", (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	cr_expect_lt(t1 - t0, 2.0, "inference of 1M nodes took %.2f s", t1 - t0);
	ir_graph_free(g);
}
