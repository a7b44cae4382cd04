/* The graph core: interning, values, nodes, use lists, attributes, order,
 * and allocation failure. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static ir_val input(ir_graph *g, const char *name, int64_t n)
{
	return ir_input_new(g, ir_intern_cstr(g, name), ir_type_tensor(g, IR_F32, 1, &n), 0);
}

/* Counts v's uses by walking its list, checking every slot points at v. */
static uint32_t walk_uses(const ir_graph *g, ir_val v)
{
	uint32_t n = 0;
	for (uint32_t u = ir_first_use(g, v); u; u = ir_next_use(g, u)) {
		cr_assert_eq(ir_use_at(g, u)->v, v);
		n++;
	}
	return n;
}

Test(graph, interning_is_unique_and_binary_safe)
{
	ir_graph *g = ir_graph_new();
	ir_str a = ir_intern_cstr(g, "conv1.weight");
	ir_str b = ir_intern(g, "conv1.weight", 12);
	ir_str c = ir_intern(g, "a\0b", 3);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
	cr_assert_eq(ir_intern_cstr(g, ""), 0);
	size_t len;
	const char *s = ir_str_get(g, c, &len);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(s, "a\0b", 3), 0);
	for (int i = 0; i < 5000; i++) { /* forces rehashing */
		char buf[16];
		snprintf(buf, sizeof buf, "s%d", i);
		ir_intern_cstr(g, buf);
	}
	cr_assert_eq(ir_str_lookup(g, "conv1.weight", 12), a);
	cr_assert_eq(ir_str_lookup(g, "s4999", 5), ir_intern_cstr(g, "s4999"));
	cr_assert_eq(ir_str_lookup(g, "nope", 4), 0);
	ir_intern_prefetch(g, "s5000", 5); /* a hint only */
	cr_assert_eq(ir_str_lookup(g, "s5000", 5), 0);
	for (int i = 0; i < 300; i++) { /* names of every length: 8-byte steps and tails */
		char buf[320];
		memset(buf, 'n', (size_t)i + 1);
		ir_str id = ir_intern(g, buf, (size_t)i + 1);
		cr_assert_eq(ir_str_lookup(g, buf, (size_t)i + 1), id);
		cr_assert_eq(ir_intern(g, buf, (size_t)i + 1), id);
	}
	ir_graph_free(g);
	ir_graph *empty = ir_graph_new();
	ir_intern_prefetch(empty, "x", 1); /* no index yet */
	ir_graph_free(empty);
}

/* After ir_intern_reserve, interning that many strings grows nothing:
 * the index, the entries and the bytes are all in place. */
Test(graph, interning_after_a_reservation_grows_nothing)
{
	ir_graph *g = ir_graph_new();
	ir_str first = ir_intern_cstr(g, "before");
	cr_assert(ir_intern_reserve(g, 3000, 3000 * 6));
	size_t bytes = ir_graph_bytes(g);
	ir_str ids[3000];
	for (int i = 0; i < 3000; i++) {
		char buf[16];
		snprintf(buf, sizeof buf, "n%05d", i);
		ids[i] = ir_intern_cstr(g, buf);
		cr_assert(ids[i]);
	}
	cr_assert_eq(ir_graph_bytes(g), bytes, "grew from %zu to %zu bytes", bytes, ir_graph_bytes(g));
	cr_assert_eq(ir_str_lookup(g, "before", 6), first);
	cr_assert_eq(ir_str_lookup(g, "n01234", 6), ids[1234]);
	cr_assert(ir_intern_reserve(g, 0, 0), "nothing to reserve");
	cr_assert_eq(ir_graph_bytes(g), bytes);
	ir_graph_free(g);
}

/* A prefetch hint reads nothing out of bounds, whatever the stage. */
Test(graph, node_prefetch_hints_are_safe)
{
	ir_graph *g = ir_graph_new();
	ir_val x = ir_input_new(g, ir_intern_cstr(g, "x"), ir_type_unknown(), 0);
	float one = 1;
	ir_val c = ir_const_new(g, 0, ir_tensor_new(g, 0, IR_F32, 0, NULL, &one, sizeof one));
	ir_val ins[3] = {x, IR_NONE, c};
	ir_nid n = ir_node_new(g, NULL, "Add", ins, 3, 1, 0);
	ir_nid m = ir_node_new(g, NULL, "Relu", (ir_val[]){ir_node_output(g, n, 0)}, 1, 1, 0);
	for (int stage = 0; stage < IR_PREFETCH_STAGES; stage++) {
		ir_prefetch_node(g, 0, stage);
		ir_prefetch_node(g, n, stage);
		ir_prefetch_node(g, m, stage);
		ir_prefetch_node(g, m + 100, stage);
	}
	cr_assert_eq(ir_graph_nnodes(g), 2);
	ir_graph_free(g);
}

/* Removing a batch of constants keeps the others in their order;
 * duplicates, already removed ones, used ones and outputs are left alone. */
Test(graph, constants_removed_in_a_batch)
{
	ir_graph *g = ir_graph_new();
	ir_val c[200];
	for (int i = 0; i < 200; i++) {
		float x = (float)i;
		c[i] = ir_const_new(g, 0, ir_tensor_new(g, 0, IR_F32, 0, NULL, &x, sizeof x));
	}
	ir_node_new(g, NULL, "Neg", &c[6], 1, 1, 0); /* c[6] has a use */
	ir_graph_add_output(g, c[8]);                /* c[8] is an output */
	ir_val gone[120];
	size_t n = 0;
	for (int i = 0; i < 200; i += 2)
		gone[n++] = c[i];
	gone[n++] = c[4];   /* a duplicate */
	ir_consts_remove(g, gone, n);
	ir_consts_remove(g, gone, 3); /* already removed */
	cr_assert_eq(ir_graph_nconsts(g), 102);
	cr_assert_eq(ir_graph_const_at(g, 0), c[1]);
	cr_assert_eq(ir_graph_const_at(g, 3), c[6], "used: kept in its place");
	cr_assert_eq(ir_graph_const_at(g, 5), c[8], "an output: kept in its place");
	for (size_t i = 6; i < 102; i++)
		cr_assert_eq(ir_graph_const_at(g, i), c[2 * (i - 2) + 1]);
	cr_assert_eq(ir_value_at(g, c[0])->def_kind, IR_DEF_NONE);
	cr_assert_eq(ir_value_at(g, c[6])->def_kind, IR_DEF_CONST);
	ir_graph_free(g);
}

Test(graph, nodes_results_and_use_lists)
{
	ir_graph *g = ir_graph_new();
	ir_val x = input(g, "x", 4), y = input(g, "y", 4);
	ir_val in[2] = {x, y};
	ir_nid add = ir_node_new(g, NULL, "Add", in, 2, 1, 0);
	ir_val s = ir_node_output(g, add, 0);
	in[0] = s;
	in[1] = x;
	ir_nid mul = ir_node_new(g, NULL, "Mul", in, 2, 1, 0);
	cr_assert_eq(ir_node_at(g, add)->opcode, IR_OP_Add);
	cr_assert_eq(ir_value_at(g, s)->def_kind, IR_DEF_NODE);
	cr_assert_eq(ir_value_at(g, s)->node, add);
	cr_assert_eq(walk_uses(g, x), 2);
	cr_assert_eq(ir_value_at(g, x)->nuses, 2);
	cr_assert_eq(walk_uses(g, s), 1);
	uint32_t u = ir_first_use(g, s);
	cr_assert_eq(ir_use_at(g, u)->node, mul);
	cr_assert_eq(ir_use_operand_index(g, u), 0);
	cr_assert_eq(ir_graph_first(g), add);
	cr_assert_eq(ir_graph_last(g), mul);
	cr_assert_eq(ir_graph_nnodes(g), 2);
	ir_graph_free(g);
}

Test(graph, replace_uses_and_remove)
{
	ir_graph *g = ir_graph_new();
	ir_val x = input(g, "x", 4);
	ir_nid id = ir_node_new(g, NULL, "Identity", &x, 1, 1, 0);
	ir_val t = ir_node_output(g, id, 0);
	ir_nid r1 = ir_node_new(g, NULL, "Relu", &t, 1, 1, 0);
	ir_nid r2 = ir_node_new(g, NULL, "Sigmoid", &t, 1, 1, 0);
	ir_graph_add_output(g, t);
	ir_replace_all_uses(g, t, x);
	cr_assert_eq(ir_value_at(g, t)->nuses, 0);
	cr_assert_eq(walk_uses(g, x), 3);
	cr_assert_eq(ir_node_input(g, r1, 0), x);
	cr_assert_eq(ir_node_input(g, r2, 0), x);
	cr_assert_eq(ir_graph_output_at(g, 0), x);
	ir_node_remove(g, id);
	cr_assert_eq(ir_graph_nnodes(g), 2);
	cr_assert_eq(ir_graph_first(g), r1);
	cr_assert_eq(ir_value_at(g, t)->def_kind, IR_DEF_NONE);
	cr_assert_eq(walk_uses(g, x), 2);
	ir_graph_free(g);
}

Test(graph, set_inputs_relinks)
{
	ir_graph *g = ir_graph_new();
	ir_val x = input(g, "x", 4), y = input(g, "y", 4), z = input(g, "z", 4);
	ir_val in[3] = {x, y, z};
	ir_nid n = ir_node_new(g, NULL, "Concat", in, 2, 1, 0);
	ir_node_set_inputs(g, n, in, 3);
	cr_assert_eq(ir_node_at(g, n)->nin, 3);
	cr_assert_eq(walk_uses(g, z), 1);
	cr_assert_eq(walk_uses(g, x), 1);
	ir_val one[1] = {z};
	ir_node_set_inputs(g, n, one, 1);
	cr_assert_eq(walk_uses(g, x), 0);
	cr_assert_eq(walk_uses(g, y), 0);
	cr_assert_eq(walk_uses(g, z), 1);
	ir_node_set_input(g, n, 0, IR_NONE);
	cr_assert_eq(walk_uses(g, z), 0);
	ir_graph_free(g);
}

Test(graph, order_insert_and_move)
{
	ir_graph *g = ir_graph_new();
	ir_val x = input(g, "x", 4);
	ir_nid a = ir_node_new(g, NULL, "Relu", &x, 1, 1, 0);
	ir_nid c = ir_node_new(g, NULL, "Relu", &x, 1, 1, 0);
	ir_nid b = ir_node_new(g, NULL, "Relu", &x, 1, 1, c);
	cr_assert_eq(ir_graph_first(g), a);
	cr_assert_eq(ir_node_at(g, a)->next, b);
	cr_assert_eq(ir_node_at(g, b)->next, c);
	ir_node_move(g, a, 0);
	cr_assert_eq(ir_graph_first(g), b);
	cr_assert_eq(ir_graph_last(g), a);
	ir_node_move(g, a, b);
	cr_assert_eq(ir_graph_first(g), a);
	ir_graph_free(g);
}

Test(graph, attributes)
{
	ir_graph *g = ir_graph_new();
	ir_val x = input(g, "x", 4);
	ir_nid n = ir_node_new(g, NULL, "Transpose", &x, 1, 1, 0);
	ir_nid m = ir_node_new(g, NULL, "Relu", &x, 1, 1, 0);
	int64_t perm[2] = {1, 0};
	ir_attr_set_ints(g, n, "perm", perm, 2);
	ir_attr_set_int(g, m, "k", 7); /* m's block is now last */
	ir_attr_set_float(g, n, "alpha", 0.5f); /* moves n's block */
	ir_attr_set_string(g, n, "mode", "a\0b", 3);
	ir_attr_set_int(g, n, "k", 1);
	ir_attr_set_int(g, n, "k", 2); /* replaces */
	cr_assert_eq(ir_node_at(g, n)->nattr, 4);
	int64_t got[4];
	cr_assert_eq(ir_attr_ints_get(g, n, "perm", got, 4), 2);
	cr_assert_eq(got[0], 1);
	cr_assert_eq(got[1], 0);
	cr_assert_float_eq(ir_attr_float(g, n, "alpha", 0), 0.5f, 0);
	cr_assert_eq(ir_attr_int(g, n, "k", 0), 2);
	cr_assert_eq(ir_attr_int(g, m, "k", 0), 7);
	cr_assert_eq(ir_attr_int(g, n, "missing", 42), 42);
	cr_assert_eq(ir_attr_int(g, n, "alpha", 9), 9); /* wrong kind -> default */
	const ir_attr *s = ir_attr_find(g, n, "mode");
	size_t len;
	ir_str_get(g, s->u.s, &len);
	cr_assert_eq(len, 3);
	ir_attr_remove(g, n, "alpha");
	cr_assert_null(ir_attr_find(g, n, "alpha"));
	cr_assert_eq(ir_node_at(g, n)->nattr, 3);
	ir_graph_free(g);
}

Test(graph, types_and_tensors)
{
	ir_graph *g = ir_graph_new();
	int64_t d[3] = {2, -1, 4};
	ir_type t = ir_type_tensor(g, IR_F16, 3, d);
	cr_assert_eq(ir_type_numel(g, t), -1);
	cr_assert_not(ir_type_is_static(g, t));
	char buf[64];
	ir_type_format(g, t, buf, sizeof buf);
	cr_assert_str_eq(buf, "f16[2,?,4]");
	ir_type s = ir_type_tensor(g, IR_F32, 0, NULL);
	ir_type_format(g, s, buf, sizeof buf);
	cr_assert_str_eq(buf, "f32[]");
	cr_assert_eq(ir_type_numel(g, s), 1);
	int64_t td[2] = {2, 3};
	float data[6] = {1, 2, 3, 4, 5, 6};
	ir_tid tid = ir_tensor_new(g, ir_intern_cstr(g, "w"), IR_F32, 2, td, data, sizeof data);
	ir_val c = ir_const_new(g, ir_intern_cstr(g, "w"), tid);
	cr_assert_eq(ir_tensor_numel(g, tid), 6);
	cr_assert_eq(memcmp(ir_tensor_at(g, tid)->data, data, sizeof data), 0);
	ir_type_format(g, ir_value_at(g, c)->type, buf, sizeof buf);
	cr_assert_str_eq(buf, "f32[2,3]");
	cr_assert_eq(ir_graph_nconsts(g), 1);
	ir_const_remove(g, c);
	cr_assert_eq(ir_graph_nconsts(g), 0);
	cr_assert_eq(ir_dtype_size(IR_BF16), 2);
	cr_assert_eq(ir_dtype_parse("bf16", 4), IR_BF16);
	cr_assert_eq(ir_dtype_parse("f33", 3), IR_UNDEF);
	ir_graph_free(g);
}

Test(graph, opsets_resolve_ops)
{
	ir_graph *g = ir_graph_new();
	ir_graph_add_opset(g, "", 11);
	ir_val x = input(g, "x", 4);
	ir_nid n = ir_node_new(g, NULL, "Softmax", &x, 1, 1, 0);
	cr_assert_eq(ir_node_at(g, n)->opcode, IR_OP_OPAQUE, "Softmax-11 differs from 13");
	ir_graph_add_opset(g, "ai.onnx", 13);
	cr_assert_eq(ir_graph_nopsets(g), 1);
	ir_graph_resolve_ops(g);
	cr_assert_eq(ir_node_at(g, n)->opcode, IR_OP_Softmax);
	ir_nid m = ir_node_new(g, "com.microsoft", "FusedConv", &x, 1, 1, 0);
	cr_assert_eq(ir_node_at(g, m)->opcode, IR_OP_OPAQUE);
	cr_assert_eq(ir_graph_opset(g, "com.microsoft"), -1);
	ir_graph_free(g);
}

/* An allocator that fails after `left` successful allocations. */
typedef struct failing {
	long left;
	long live;
} failing;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	failing *f = ud;
	(void)osize;
	if (nsize == 0) {
		if (ptr)
			f->live--;
		free(ptr);
		return NULL;
	}
	if (f->left-- <= 0)
		return NULL;
	if (!ptr)
		f->live++;
	return realloc(ptr, nsize);
}

static void build_small(ir_graph *g)
{
	ir_val x = input(g, "x", 4);
	ir_val cur = x;
	for (int i = 0; i < 50; i++) {
		ir_val in[2] = {cur, x};
		ir_nid n = ir_node_new(g, NULL, i % 2 ? "Add" : "Mul", in, 2, 1, 0);
		if (!n)
			return;
		ir_attr_set_int(g, n, "k", i);
		cur = ir_node_output(g, n, 0);
	}
	ir_graph_add_output(g, cur);
}

Test(graph, allocation_failure_is_sticky_and_clean)
{
	for (long k = 0; k < 400; k++) {
		failing f = {k, 0};
		ir_graph *g = ir_graph_new_alloc(failing_alloc, &f);
		if (!g) {
			cr_assert_eq(f.live, 0);
			continue;
		}
		build_small(g);
		bool oom = ir_graph_oom(g);
		ir_graph_free(g);
		cr_assert_eq(f.live, 0, "leak after failing allocation %ld", k);
		if (!oom) /* enough allocations for the whole build: done */
			return;
	}
	cr_assert_fail("the build never completed");
}

Test(diag, formats_positions)
{
	ir_diags d;
	ir_diags_init(&d);
	ir_error(&d, "m.gir", 3, 7, "expected '%s'", ")");
	ir_diag_add(&d, IR_WARNING, "m.onnx", 0, 0, "odd");
	ir_diag_add(&d, IR_NOTE, NULL, 0, 0, "plain");
	cr_assert_eq(d.nerrors, 1);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	ir_diags_print(&d, f);
	fclose(f);
	cr_assert_str_eq(buf, "m.gir:3:7: error: expected ')'\nm.onnx: warning: odd\nnote: plain\n");
	cr_assert(ir_diags_contains(&d, "expected"));
	free(buf);
	ir_diags_free(&d);
}
