/* Graph diff (ir_diff_graphs): alignment by structure, the change lists,
 * replacement groups, options, and a fusion on real models compared with
 * what was fused. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "diff_nets.h"
#include "ir.h"

static ir_diff *diff_of(const net_opts *oa, const net_opts *ob, const ir_diff_opts *o, ir_graph **ga,
			ir_graph **gb)
{
	*ga = net_build(oa);
	*gb = net_build(ob);
	ir_diags d;
	ir_diags_init(&d);
	ir_diff *r = ir_diff_graphs(*ga, *gb, o, &d);
	cr_assert_not_null(r, "diff failed");
	ir_diags_free(&d);
	return r;
}

static void done(ir_diff *r, ir_graph *ga, ir_graph *gb)
{
	ir_diff_free(r);
	ir_graph_free(ga);
	ir_graph_free(gb);
}

static const char *node_name(const ir_graph *g, ir_nid n)
{
	return ir_cstr(g, ir_node_at(g, n)->name);
}

static void assert_counts(const ir_diff *r, uint32_t added, uint32_t removed, uint32_t changed)
{
	cr_assert_eq(r->nadded, added, "added %u, expected %u", r->nadded, added);
	cr_assert_eq(r->nremoved, removed, "removed %u, expected %u", r->nremoved, removed);
	cr_assert_eq(r->nchanged, changed, "changed %u, expected %u", r->nchanged, changed);
}

Test(diff, identical_graphs_are_equal)
{
	net_opts o = {0};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&o, &o, NULL, &ga, &gb);
	cr_assert(r->equal);
	assert_counts(r, 0, 0, 0);
	cr_assert_eq(r->ngroups, 0);
	cr_assert_eq(r->nchanges, 0);
	for (ir_nid n = ir_graph_first(ga); n; n = ir_node_at(ga, n)->next)
		cr_assert_str_eq(node_name(gb, r->node_a2b[n]), node_name(ga, n));
	done(r, ga, gb);
}

Test(diff, renamed_and_reordered_graphs_are_equal)
{
	net_opts oa = {0}, ob = {.prefix = "renamed/", .reverse = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	/* the reordering really happened: Conv3 comes before Conv2 in B */
	ir_nid b = ir_graph_first(gb);
	while (strcmp(ir_cstr(gb, ir_node_at(gb, b)->op), "MaxPool") != 0)
		b = ir_node_at(gb, b)->next;
	cr_assert_str_eq(node_name(gb, ir_node_at(gb, b)->next), "renamed/conv3");
	cr_assert(r->equal);
	assert_counts(r, 0, 0, 0);
	for (ir_nid n = ir_graph_first(ga); n; n = ir_node_at(ga, n)->next) {
		char want[64];
		snprintf(want, sizeof want, "renamed/%s", node_name(ga, n));
		cr_assert_str_eq(node_name(gb, r->node_a2b[n]), want);
	}
	done(r, ga, gb);
}

Test(diff, names_are_not_needed_to_align)
{
	net_opts oa = {0}, ob = {.prefix = "other_", .reverse = true};
	ir_diff_opts o = {.ignore_names = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, &o, &ga, &gb);
	cr_assert(r->equal);
	done(r, ga, gb);
}

static const ir_diff_change *only_change(const ir_diff *r)
{
	cr_assert_eq(r->nchanges, 1, "%u changes", r->nchanges);
	return &r->changes[0];
}

Test(diff, one_attribute_changed)
{
	net_opts oa = {0}, ob = {.dilate = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	cr_assert_not(r->equal);
	assert_counts(r, 0, 0, 1);
	cr_assert_eq(r->nchanges, 2, "dilations and pads");
	const ir_diff_change *c = &r->changes[0];
	cr_assert_eq(c->kind, IR_DIFF_ATTR);
	cr_assert_str_eq(node_name(ga, c->a), "conv2");
	cr_assert_str_eq(node_name(gb, c->b), "conv2");
	const ir_attr *x = &ir_node_attrs(ga, c->a)[c->attr_a], *y = &ir_node_attrs(gb, c->b)[c->attr_b];
	cr_assert_str_eq(ir_cstr(ga, x->name), "dilations");
	cr_assert_eq(ir_attr_ints(ga, x)[0], 1);
	cr_assert_eq(ir_attr_ints(gb, y)[0], 2);
	cr_assert_eq(r->ngroups, 0);
	done(r, ga, gb);
}

Test(diff, one_constant_changed)
{
	net_opts oa = {0}, ob = {.bias2 = 0.25f};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	cr_assert_not(r->equal);
	assert_counts(r, 0, 0, 1);
	const ir_diff_change *c = only_change(r);
	cr_assert_eq(c->kind, IR_DIFF_CONST);
	cr_assert_eq(c->index, 2);
	cr_assert_str_eq(node_name(ga, c->a), "conv2");
	cr_assert_float_eq(c->max_abs, 0.25, 1e-6);
	cr_assert_eq(r->consts_added.n + r->consts_removed.n, 0);
	done(r, ga, gb);
}

Test(diff, tolerance_and_ignore_constants)
{
	net_opts oa = {0}, ob = {.bias2 = 0.25f};
	ir_graph *ga, *gb;
	ir_diff_opts loose = {.tolerance = 0.3};
	ir_diff *r = diff_of(&oa, &ob, &loose, &ga, &gb);
	cr_assert(r->equal, "a difference of 0.25 is within 0.3");
	done(r, ga, gb);
	ir_diff_opts tight = {.tolerance = 0.2};
	r = diff_of(&oa, &ob, &tight, &ga, &gb);
	cr_assert_not(r->equal, "a difference of 0.25 is not within 0.2");
	done(r, ga, gb);
	ir_diff_opts shapes = {.ignore_constants = true};
	r = diff_of(&oa, &ob, &shapes, &ga, &gb);
	cr_assert(r->equal);
	done(r, ga, gb);
}

Test(diff, one_node_inserted)
{
	net_opts oa = {0}, ob = {.insert = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	cr_assert_not(r->equal);
	assert_counts(r, 1, 0, 0);
	cr_assert_eq(r->ngroups, 1);
	cr_assert_str_eq(r->groups[0].summary, "Sigmoid added");
	cr_assert_eq(r->groups[0].nadded, 1);
	cr_assert_str_eq(node_name(gb, r->groups[0].added[0]), "gate");
	cr_assert_eq(r->groups[0].in.n, 1); /* reads the pool's result, */
	cr_assert_eq(r->groups[0].out.n, 1); /* feeds both branches */
	done(r, ga, gb);
}

Test(diff, fusion_is_one_replacement_group)
{
	net_opts oa = {0}, ob = {.fuse = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	cr_assert_not(r->equal);
	assert_counts(r, 1, 3, 0);
	cr_assert_eq(r->ngroups, 1);
	const ir_diff_group *g = &r->groups[0];
	cr_assert_str_eq(g->summary, "Conv+BatchNormalization+Relu (3 nodes) → FusedConv");
	cr_assert_eq(g->nremoved, 3);
	cr_assert_eq(g->nadded, 1);
	cr_assert_str_eq(node_name(ga, g->removed[0]), "conv1");
	cr_assert_str_eq(node_name(ga, g->removed[2]), "relu1");
	cr_assert_str_eq(ir_cstr(ga, ir_value_at(ga, g->in.v[0])->name), "x");
	cr_assert_str_eq(ir_cstr(ga, ir_value_at(ga, g->out.v[0])->name), "relu1_out");
	cr_assert_eq(r->consts_removed.n, 4, "the BatchNormalization's parameters");
	cr_assert_eq(r->consts_added.n, 0, "the conv weights are the same");
	done(r, ga, gb);
}

Test(diff, duplicated_subgraph)
{
	net_opts oa = {0}, ob = {.dup = true};
	ir_graph *ga, *gb;
	ir_diff *r = diff_of(&oa, &ob, NULL, &ga, &gb);
	cr_assert_not(r->equal);
	assert_counts(r, 3, 0, 0);
	cr_assert_eq(r->ngroups, 1);
	cr_assert_str_eq(r->groups[0].summary, "Conv+Relu+Add (3 nodes) added");
	cr_assert_eq(r->consts_added.n, 2, "the copy's weight and bias");
	done(r, ga, gb);
}

Test(diff, commutative_operands_may_swap)
{
	ir_graph *g[2];
	for (int k = 0; k < 2; k++) {
		g[k] = ir_graph_new();
		ir_graph_add_opset(g[k], "", 13);
		int64_t d = 4;
		ir_val x = ir_input_new(g[k], ir_intern_cstr(g[k], "x"), ir_type_tensor(g[k], IR_F32, 1, &d), 0);
		ir_val y = ir_input_new(g[k], ir_intern_cstr(g[k], "y"), ir_type_tensor(g[k], IR_F32, 1, &d), 0);
		ir_val e = ir_node_output(g[k], ir_node_new(g[k], NULL, "Exp", &x, 1, 1, 0), 0);
		ir_val in[2] = {k ? y : e, k ? e : y};
		ir_nid add = ir_node_new(g[k], NULL, "Add", in, 2, 1, 0);
		ir_graph_add_output(g[k], ir_node_output(g[k], add, 0));
	}
	ir_diags d;
	ir_diags_init(&d);
	ir_diff *r = ir_diff_graphs(g[0], g[1], NULL, &d);
	cr_assert(r->equal, "Add(e, y) and Add(y, e) compute the same");
	ir_diff_free(r);
	ir_graph_free(g[0]);
	ir_graph_free(g[1]);
	ir_diags_free(&d);
}

Test(diff, negative_tolerance_is_an_error)
{
	net_opts o = {0};
	ir_graph *g = net_build(&o);
	ir_diff_opts bad = {.tolerance = -1};
	ir_diags d;
	ir_diags_init(&d);
	cr_assert_null(ir_diff_graphs(g, g, &bad, &d));
	cr_assert(ir_diags_contains(&d, "tolerance"));
	ir_diags_free(&d);
	ir_graph_free(g);
}

/* ---------------------------------------------------------------- real models */

static ir_graph *load_model(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/models/%s/model.onnx", GRAFT_SHARED_DIR, name);
	if (access(path, R_OK) != 0)
		return NULL;
	ir_diags d;
	ir_diags_init(&d);
	ir_graph *g = ir_load(path, &d);
	if (!g)
		ir_diags_print(&d, stderr);
	ir_diags_free(&d);
	cr_assert_not_null(g, "cannot load %s", path);
	return g;
}

static uint32_t groups_with(const ir_diff *r, const char *summary)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->ngroups; i++)
		n += strcmp(r->groups[i].summary, summary) == 0;
	return n;
}

/* B is A with every Conv+Relu (Conv+BatchNormalization+Relu when with_bn)
 * fused through the IR API; the diff must find exactly those fusions. */
static void check_fusions(const char *model, bool with_bn, int expected)
{
	ir_graph *ga = load_model(model);
	if (!ga)
		cr_skip_test("%s/models/%s is absent", GRAFT_SHARED_DIR, model);
	ir_graph *gb = load_model(model);
	int fused = net_fuse_conv_relu(gb, with_bn);
	cr_assert_eq(fused, expected, "%s: fused %d patterns", model, fused);
	ir_diags d;
	ir_diags_init(&d);
	ir_diff *r = ir_diff_graphs(ga, gb, NULL, &d);
	cr_assert_not_null(r);
	const char *shape = with_bn ? "Conv+BatchNormalization+Relu (3 nodes) → FusedConv"
				    : "Conv+Relu (2 nodes) → FusedConv";
	for (uint32_t i = 0; i < r->ngroups; i++)
		cr_log_info("%s: group %u: %s", model, i, r->groups[i].summary);
	cr_assert_eq(groups_with(r, shape), (uint32_t)fused);
	cr_assert_eq(r->ngroups, (uint32_t)fused, "no other replacement");
	assert_counts(r, (uint32_t)fused, (uint32_t)fused * (with_bn ? 3 : 2), 0);
	ir_diff_free(r);
	ir_diags_free(&d);
	ir_graph_free(ga);
	ir_graph_free(gb);
}

Test(diff_models, squeezenet_conv_relu_fusions)
{
	check_fusions("squeezenet1_1", false, 26);
}

Test(diff_models, resnet18_conv_bn_relu_fusions)
{
	check_fusions("resnet18", true, 9);
}

Test(diff_models, model_against_itself_is_equal)
{
	const char *models[] = {"resnet18", "mobilenet_v2", "squeezenet1_1", "bert_tiny"};
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
		ir_graph *ga = load_model(models[i]);
		if (!ga)
			cr_skip_test("%s/models is absent", GRAFT_SHARED_DIR);
		ir_graph *gb = load_model(models[i]);
		ir_diags d;
		ir_diags_init(&d);
		ir_diff *r = ir_diff_graphs(ga, gb, NULL, &d);
		cr_assert(r && r->equal, "%s differs from itself", models[i]);
		cr_assert_eq(r->nchanges + r->ngroups, 0);
		ir_diff_free(r);
		ir_diags_free(&d);
		ir_graph_free(ga);
		ir_graph_free(gb);
	}
}
