/* The verifier: each kind of corruption constructible through the API is
 * caught and named; the topological sort keeps sorted orders, fixes
 * shuffled ones and reports cycles. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "irb.h"

#define I(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const ir_val[]){__VA_ARGS__})

/* x -> a (Relu) -> b (Add a, x) -> c (Concat b, a) -> output; types inferred. */
typedef struct small {
	ir_graph *g;
	ir_val x;
	ir_nid a, b, c;
} small;

static small small_graph(void)
{
	small s;
	s.g = irb_graph(13);
	s.x = irb_input(s.g, "x", IR_F32, 2, I(2, 3));
	s.a = irb_node(s.g, "a", "Relu", &s.x, 1, 1);
	s.b = irb_node(s.g, "b", "Add", V(irb_out(s.g, s.a), s.x), 2, 1);
	s.c = irb_node(s.g, "c", "Concat", V(irb_out(s.g, s.b), irb_out(s.g, s.a)), 2, 1);
	ir_attr_set_int(s.g, s.c, "axis", 0);
	ir_graph_add_output(s.g, irb_out(s.g, s.c));
	irb_infer_ok(s.g);
	return s;
}

static size_t verify(const ir_graph *g, ir_diags *d)
{
	ir_diags_init(d);
	size_t n = ir_verify(g, d, "v.gir");
	for (size_t i = 0; i < d->n; i++)
		cr_log_info("verify: %s", d->v[i].msg);
	return n;
}

/* Expects errors, one containing needle. */
static void expect_error(const ir_graph *g, const char *needle)
{
	ir_diags d;
	size_t n = verify(g, &d);
	cr_expect_gt(n, 0, "no error (wanted '%s')", needle);
	cr_expect(ir_diags_contains(&d, needle), "no diagnostic contains '%s'", needle);
	ir_diags_free(&d);
}

static void expect_clean(const ir_graph *g)
{
	ir_diags d;
	cr_expect_eq(verify(g, &d), 0);
	ir_diags_free(&d);
}

Test(verify, valid_graph_passes_and_is_not_modified)
{
	small s = small_graph();
	size_t bytes = ir_graph_bytes(s.g);
	char before[64], after[64];
	irb_type_str(s.g, irb_out(s.g, s.c), before, sizeof before);
	expect_clean(s.g);
	irb_type_str(s.g, irb_out(s.g, s.c), after, sizeof after);
	cr_expect_eq(ir_graph_bytes(s.g), bytes);
	cr_expect_str_eq(before, after);
	cr_expect_str_eq(after, "f32[4,3]");
	ir_graph_free(s.g);
}

Test(verify, operand_undefined_after_removing_its_node)
{
	small s = small_graph();
	ir_node_remove(s.g, s.a);
	expect_error(s.g, "operand 0 of node 'b' (Add) (%a) is not defined");
	ir_graph_free(s.g);
}

Test(verify, value_defined_twice)
{
	small s = small_graph();
	ir_nid d = irb_node(s.g, "d", "Relu", &s.x, 1, 1);
	ir_node_at(s.g, d)->out = ir_node_at(s.g, s.a)->out; /* d lists a's result */
	expect_error(s.g, "%a is defined twice (again by node 'd' (Relu))");
	ir_graph_free(s.g);
}

Test(verify, value_whose_definition_points_elsewhere)
{
	small s = small_graph();
	ir_value_at(s.g, irb_out(s.g, s.b))->index = 3;
	expect_error(s.g, "%b is result 0 of node 'b' (Add) but is not defined as such");
	ir_graph_free(s.g);
}

Test(verify, value_claiming_a_definition_that_does_not_list_it)
{
	small s = small_graph();
	ir_val v = ir_value_new(s.g, ir_intern_cstr(s.g, "ghost"), ir_type_unknown());
	ir_value_at(s.g, v)->def_kind = IR_DEF_INPUT;
	expect_error(s.g, "%ghost has a definition that does not list it");
	ir_graph_free(s.g);
}

Test(verify, order_broken_by_a_move)
{
	small s = small_graph();
	ir_node_move(s.g, s.c, s.a); /* the consumer now comes first */
	expect_error(s.g, "operand 0 of node 'c' (Concat) (%b) is used before its definition");
	ir_diags d;
	ir_diags_init(&d);
	cr_expect(ir_toposort(s.g, &d, NULL));
	ir_diags_free(&d);
	expect_clean(s.g);
	cr_expect_eq(ir_graph_first(s.g), s.a);
	cr_expect_eq(ir_graph_last(s.g), s.c);
	ir_graph_free(s.g);
}

Test(verify, cycle_is_reported_by_verify_and_toposort)
{
	small s = small_graph();
	ir_node_set_input(s.g, s.a, 0, irb_out(s.g, s.b)); /* a <- b <- a */
	expect_error(s.g, "operand 0 of node 'a' (Relu) (%b) is used before its definition");
	ir_diags d;
	ir_diags_init(&d);
	cr_expect_not(ir_toposort(s.g, &d, "m.gir"));
	cr_expect(ir_diags_contains(&d, "cycle through nodes 'b' (Add) -> 'a' (Relu) -> 'b' (Add)") ||
		  ir_diags_contains(&d, "cycle through nodes 'a' (Relu) -> 'b' (Add) -> 'a' (Relu)"),
		  "%s", d.n ? d.v[0].msg : "no diagnostic");
	cr_expect_str_eq(d.v[0].file, "m.gir");
	ir_diags_free(&d);
	ir_graph_free(s.g);
}

Test(verify, self_loop)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(2));
	ir_nid a = irb_node(g, "a", "Add", V(x, x), 2, 1);
	ir_node_set_input(g, a, 1, irb_out(g, a));
	ir_diags d;
	ir_diags_init(&d);
	cr_expect_not(ir_toposort(g, &d, NULL));
	cr_expect(ir_diags_contains(&d, "cycle through nodes 'a' (Add) -> 'a' (Add)"));
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(verify, wrong_arity)
{
	small s = small_graph();
	irb_node(s.g, "r", "Relu", V(s.x, s.x), 2, 1);
	expect_error(s.g, "node 'r' (Relu) has 2 operands (expected 1 to 1)");
	ir_graph_free(s.g);

	s = small_graph();
	irb_node(s.g, "m", "MaxPool", &s.x, 1, 3);
	expect_error(s.g, "node 'm' (MaxPool) has 3 results (expected 1 to 2)");
	ir_graph_free(s.g);

	s = small_graph();
	irb_node(s.g, "g", "Gemm", V(IR_NONE, s.x), 2, 1);
	expect_error(s.g, "node 'g' (Gemm) lacks its required operand 0");
	ir_graph_free(s.g);
}

Test(verify, attributes)
{
	small s = small_graph();
	ir_attr_remove(s.g, s.c, "axis");
	expect_error(s.g, "node 'c' (Concat) lacks the required attribute 'axis'");
	ir_attr_set_float(s.g, s.c, "axis", 0);
	expect_error(s.g, "attribute 'axis' of node 'c' (Concat) is float, expected int");
	ir_attr_set_int(s.g, s.c, "axis", 0);
	ir_attr_set_int(s.g, s.a, "alpha", 1);
	expect_error(s.g, "node 'a' (Relu) has the unknown attribute 'alpha'");
	ir_graph_free(s.g);
}

Test(verify, use_lists)
{
	small s = small_graph();
	ir_value_at(s.g, s.x)->nuses++;
	expect_error(s.g, "%x counts 3 uses but its use list holds 2");
	ir_value_at(s.g, s.x)->nuses--;
	expect_clean(s.g);
	uint32_t slot = ir_node_at(s.g, s.b)->in + 1; /* b's operand x, relinked by hand */
	ir_use_at(s.g, slot)->v = irb_out(s.g, s.a);
	expect_error(s.g, "the use list of %x holds a slot that is not one of its operands");
	expect_error(s.g, "operand 1 of node 'b' (Add) is missing from the use list of %a");
	ir_graph_free(s.g);
}

Test(verify, outputs_and_graph_lists)
{
	small s = small_graph();
	ir_nid d = irb_node(s.g, "d", "Relu", &s.x, 1, 1);
	ir_graph_add_output(s.g, irb_out(s.g, d));
	ir_node_remove(s.g, d);
	expect_error(s.g, "graph output 1 (%d) is not defined");
	ir_graph_free(s.g);

	s = small_graph();
	ir_value_at(s.g, s.x)->def_kind = IR_DEF_CONST;
	expect_error(s.g, "%x is listed as a graph input but not defined as one");
	ir_graph_free(s.g);
}

Test(verify, result_types_must_agree_with_inference)
{
	small s = small_graph();
	ir_value_at(s.g, irb_out(s.g, s.b))->type = irb_type(s.g, IR_F32, 2, I(2, 4), NULL);
	expect_error(s.g, "node 'b' (Add): inferred f32[2,3] for %b but it has type f32[2,4]");
	ir_graph_free(s.g);

	s = small_graph(); /* unknown parts are consistent with anything */
	ir_value_at(s.g, irb_out(s.g, s.b))->type = irb_type(s.g, IR_UNDEF, 2, I(-1, 3), NULL);
	expect_clean(s.g);
	ir_graph_free(s.g);

	s = small_graph(); /* bad operands are errors too */
	ir_value_at(s.g, s.x)->type = irb_type(s.g, IR_F32, 2, I(2, 5), NULL);
	ir_value_at(s.g, irb_out(s.g, s.a))->type = irb_type(s.g, IR_F32, 2, I(3, 5), NULL);
	expect_error(s.g, "node 'b' (Add): cannot broadcast dim 3 with dim 2");
	ir_graph_free(s.g);
}

Test(verify, opaque_nodes_are_checked_structurally_only)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(2));
	ir_nid n = ir_node_new(g, "com.example", "Fancy", V(x, x, x), 3, 2, 0);
	ir_attr_set_int(g, n, "whatever", 3);
	ir_graph_add_output(g, ir_node_output(g, n, 1));
	expect_clean(g);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- toposort */

/* A DAG of n nodes: node i takes the results of two of the `span` nodes
 * before it (span 0: any earlier node). */
static ir_graph *dag(int n, int span, ir_nid *ids)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(4));
	srand(7);
	for (int i = 0; i < n; i++) {
		int w = span && span < i ? span : i;
		ir_val a = i ? irb_out(g, ids[i - 1 - rand() % w]) : x;
		ir_val b = i > 1 ? irb_out(g, ids[i - 1 - rand() % w]) : x;
		ids[i] = ir_node_new(g, NULL, i % 3 ? "Add" : "Mul", V(a, b), 2, 1, 0);
	}
	ir_graph_add_output(g, irb_out(g, ids[n - 1]));
	return g;
}

static void shuffle(ir_graph *g, const ir_nid *ids, int n)
{
	for (int i = 0; i < n; i++)
		ir_node_move(g, ids[rand() % n], ids[rand() % n]);
}

Test(verify, toposort_keeps_a_sorted_order)
{
	enum { n = 200 };
	ir_nid ids[n];
	ir_graph *g = dag(n, 0, ids);
	ir_nid a = irb_node(g, NULL, "Relu", V(irb_out(g, ids[5])), 1, 1);
	ir_nid b = irb_node(g, NULL, "Relu", V(irb_out(g, ids[3])), 1, 1);
	ir_diags d;
	ir_diags_init(&d);
	cr_expect(ir_toposort(g, &d, NULL));
	int i = 0;
	for (ir_nid m = ir_graph_first(g); m; m = ir_node_at(g, m)->next, i++)
		cr_expect_eq(m, i < n ? ids[i] : i == n ? a : b);
	ir_diags_free(&d);
	ir_graph_free(g);
}

Test(verify, toposort_fixes_shuffled_graphs)
{
	enum { n = 500 };
	ir_nid ids[n];
	for (int round = 0; round < 5; round++) {
		ir_graph *g = dag(n, 0, ids);
		shuffle(g, ids, n);
		ir_diags d;
		ir_diags_init(&d);
		cr_expect_gt(ir_verify(g, &d, NULL), 0, "the shuffle left the graph sorted");
		ir_diags_clear(&d);
		cr_expect(ir_toposort(g, &d, NULL));
		cr_expect_eq(ir_verify(g, &d, NULL), 0);
		cr_expect_eq(ir_graph_nnodes(g), n);
		ir_diags_free(&d);
		ir_graph_free(g);
	}
}

/* Ready nodes come out in their original order: r waits for p, s does not. */
Test(verify, toposort_is_stable)
{
	ir_graph *g = irb_graph(13);
	ir_val x = irb_input(g, "x", IR_F32, 1, I(4));
	ir_nid p = irb_node(g, "p", "Relu", &x, 1, 1);
	ir_nid q = irb_node(g, "q", "Relu", &x, 1, 1);
	ir_nid r = irb_node(g, "r", "Relu", V(irb_out(g, p)), 1, 1);
	ir_nid s = irb_node(g, "s", "Relu", &x, 1, 1);
	ir_node_move(g, p, 0); /* order q r s p: r needs p */
	ir_diags d;
	ir_diags_init(&d);
	cr_expect(ir_toposort(g, &d, NULL));
	ir_nid want[] = {q, s, p, r}, m = ir_graph_first(g);
	for (int i = 0; i < 4; i++, m = ir_node_at(g, m)->next)
		cr_expect_eq(m, want[i], "position %d", i);
	ir_diags_free(&d);
	ir_graph_free(g);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Linear behaviour on a network-like graph (operands from nearby nodes); the
 * bounds are loose, for shared CI machines: a quadratic step would take hours. */
Test(verify, million_nodes, .timeout = 120)
{
	enum { n = 1000000 };
	ir_nid *ids = malloc(n * sizeof *ids);
	ir_graph *g = dag(n, 16, ids);
	ir_diags d;
	ir_diags_init(&d);
	double t0 = now();
	cr_expect_eq(ir_verify(g, &d, NULL), 0);
	double t1 = now();
	cr_expect(ir_toposort(g, &d, NULL)); /* already sorted: nothing moves */
	double t2 = now();
	for (int i = 0; i < n; i += 2) /* reverse pairs of independent-or-not nodes */
		ir_node_move(g, ids[i + 1], ids[i]);
	double t3 = now();
	cr_expect(ir_toposort(g, &d, NULL));
	double t4 = now();
	cr_expect_eq(ir_verify(g, &d, NULL), 0);
	cr_log_info("1M nodes: verify %.0f ms, toposort sorted %.0f ms, shuffled %.0f ms",
		    (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t4 - t3) * 1e3);
	cr_expect_lt(t1 - t0, 10.0);
	cr_expect_lt(t4 - t3, 10.0);
	ir_diags_free(&d);
	ir_graph_free(g);
	free(ids);
}
