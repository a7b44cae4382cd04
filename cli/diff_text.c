/* graft diff as text (for people, coloured on a terminal), as counts per
 * op (--stat), and as JSON (--json). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_cli.h"

enum { SHOW_INSTANCES = 3, SHOW_VALUES = 10, LIST_SHOW = 8 };

typedef struct style {
	const char *del, *add, *chg, *head, *off;
} style;

static style style_of(bool color)
{
	if (!color)
		return (style){"", "", "", "", ""};
	return (style){"\033[31m", "\033[32m", "\033[33m", "\033[1m", "\033[0m"};
}

/* ---------------------------------------------------------------- names */

const char *diff_node_name(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	if (x->name)
		return ir_cstr(g, x->name);
	if (x->nout && ir_value_at(g, ir_node_output(g, n, 0))->name)
		return ir_cstr(g, ir_value_at(g, ir_node_output(g, n, 0))->name);
	snprintf(buf, cap, "#%u", n);
	return buf;
}

const char *diff_op_name(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	if (!x->domain)
		return ir_cstr(g, x->op);
	snprintf(buf, cap, "%s::%s", ir_cstr(g, x->domain), ir_cstr(g, x->op));
	return buf;
}

static const char *value_name(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	if (!v)
		return "(none)";
	if (ir_value_at(g, v)->name)
		return ir_cstr(g, ir_value_at(g, v)->name);
	snprintf(buf, cap, "%%%u", v);
	return buf;
}

static const char *type_text(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	ir_type_format(g, ir_value_at(g, v)->type, buf, cap);
	return buf;
}

/* ---------------------------------------------------------------- attributes */

static void put_list(FILE *out, const ir_graph *g, const ir_attr *a)
{
	fputc('[', out);
	for (uint32_t i = 0; i < a->n && i < LIST_SHOW; i++) {
		fputs(i ? "," : "", out);
		if (a->kind == IR_ATTR_INTS)
			fprintf(out, "%lld", (long long)ir_attr_ints(g, a)[i]);
		else if (a->kind == IR_ATTR_FLOATS)
			fprintf(out, "%g", (double)ir_attr_floats(g, a)[i]);
		else if (a->kind == IR_ATTR_STRINGS)
			fprintf(out, "\"%s\"", ir_cstr(g, ir_attr_ids(g, a)[i]));
		else
			fputs("…", out);
	}
	fputs(a->n > LIST_SHOW ? ",…]" : "]", out);
}

static void put_tensor(FILE *out, const ir_graph *g, ir_tid t)
{
	const ir_tensor *x = ir_tensor_at(g, t);
	if (!x) {
		fputs("tensor", out);
		return;
	}
	const int64_t *d = ir_tensor_dims(g, t);
	fprintf(out, "tensor %s[", ir_dtype_name((ir_dtype)x->dtype));
	for (int i = 0; i < x->rank; i++)
		fprintf(out, "%s%lld", i ? "," : "", (long long)d[i]);
	fputc(']', out);
}

static void put_attr(FILE *out, const ir_graph *g, const ir_attr *a)
{
	switch (a->kind) {
	case IR_ATTR_INT:
		fprintf(out, "%lld", (long long)a->u.i);
		break;
	case IR_ATTR_FLOAT:
		fprintf(out, "%g", (double)a->u.f);
		break;
	case IR_ATTR_STRING:
		fprintf(out, "\"%s\"", ir_cstr(g, a->u.s));
		break;
	case IR_ATTR_TENSOR:
		put_tensor(out, g, a->u.t);
		break;
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
	case IR_ATTR_STRINGS:
		put_list(out, g, a);
		break;
	default:
		fprintf(out, "(%s)", a->kind == IR_ATTR_GRAPH ? "graph" : "serialized data");
	}
}

/* ---------------------------------------------------------------- one change */

typedef struct change_text {
	char what[96];
	char *old, *new_; /* malloc'd */
	double max_abs;   /* NAN unless data was compared */
} change_text;

static char *attr_side(const ir_graph *g, ir_nid n, int32_t i)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);
	if (!m)
		return NULL;
	if (i < 0)
		fputs("(absent)", m);
	else
		put_attr(m, g, &ir_node_attrs(g, n)[i]);
	fclose(m);
	return s;
}

static char *operand_side(const ir_graph *g, ir_nid n, uint32_t i, bool with_type)
{
	char name[64], type[128];
	ir_val v = i < ir_node_at(g, n)->nin ? ir_node_input(g, n, i) : 0;
	char *s = malloc(512);
	if (!s)
		return NULL;
	if (v && with_type)
		snprintf(s, 512, "%s %s", value_name(g, v, name, sizeof name), type_text(g, v, type, sizeof type));
	else
		snprintf(s, 512, "%s", value_name(g, v, name, sizeof name));
	return s;
}

static change_text describe(const ir_diff *r, const ir_diff_change *c)
{
	change_text t = {{0}, NULL, NULL, NAN};
	const ir_graph *ga = r->a, *gb = r->b;
	switch (c->kind) {
	case IR_DIFF_ATTR: {
		const ir_attr *x = c->attr_a >= 0 ? &ir_node_attrs(ga, c->a)[c->attr_a] : &ir_node_attrs(gb, c->b)[c->attr_b];
		snprintf(t.what, sizeof t.what, "attribute %s", ir_cstr(c->attr_a >= 0 ? ga : gb, x->name));
		t.old = attr_side(ga, c->a, c->attr_a);
		t.new_ = attr_side(gb, c->b, c->attr_b);
		if (c->attr_a >= 0 && c->attr_b >= 0 && x->kind == IR_ATTR_TENSOR)
			t.max_abs = c->max_abs;
		break;
	}
	case IR_DIFF_OPERAND:
	case IR_DIFF_CONST:
		snprintf(t.what, sizeof t.what, "operand %u%s", c->index,
			 c->kind == IR_DIFF_CONST ? " (constant data)" : "");
		t.old = operand_side(ga, c->a, c->index, c->kind == IR_DIFF_CONST);
		t.new_ = operand_side(gb, c->b, c->index, c->kind == IR_DIFF_CONST);
		if (c->kind == IR_DIFF_CONST)
			t.max_abs = c->max_abs;
		break;
	default:
		snprintf(t.what, sizeof t.what, "results");
		t.old = malloc(16);
		t.new_ = malloc(16);
		if (t.old && t.new_) {
			snprintf(t.old, 16, "%u", ir_node_at(ga, c->a)->nout);
			snprintf(t.new_, 16, "%u", ir_node_at(gb, c->b)->nout);
		}
	}
	return t;
}

static void change_text_free(change_text *t)
{
	free(t->old);
	free(t->new_);
}

/* ---------------------------------------------------------------- text */

static bool others_differ(const ir_diff *r)
{
	return r->inputs_added.n || r->inputs_removed.n || r->outputs_added.n || r->outputs_removed.n ||
	       r->consts_added.n || r->consts_removed.n || r->nrewired || r->nshapes;
}

void diff_print_summary(FILE *out, const ir_diff *r)
{
	if (r->equal) {
		fputs("equal", out);
		return;
	}
	fprintf(out, "%u added, %u removed, %u changed nodes", r->nadded, r->nremoved, r->nchanged);
	if (others_differ(r))
		fputs("; inputs, outputs, initializers or shapes differ too", out);
}

static void print_instance(FILE *out, const ir_diff *r, const ir_diff_group *g, const style *s)
{
	char buf[64];
	fputs("      ", out);
	for (uint32_t i = 0; i < g->nremoved; i++)
		fprintf(out, "%s%s%s%s", i ? " " : "", s->del, diff_node_name(r->a, g->removed[i], buf, sizeof buf), s->off);
	fputs(g->nremoved && g->nadded ? " → " : "", out);
	for (uint32_t i = 0; i < g->nadded; i++)
		fprintf(out, "%s%s%s%s", i ? " " : "", s->add, diff_node_name(r->b, g->added[i], buf, sizeof buf), s->off);
	const ir_graph *side = g->nremoved ? r->a : r->b;
	fputs("   (in:", out);
	for (uint32_t i = 0; i < g->in.n; i++)
		fprintf(out, " %s", value_name(side, g->in.v[i], buf, sizeof buf));
	fputs("; out:", out);
	for (uint32_t i = 0; i < g->out.n; i++)
		fprintf(out, " %s", value_name(side, g->out.v[i], buf, sizeof buf));
	fputs(")\n", out);
}

static void print_groups(FILE *out, const ir_diff *r, const style *s)
{
	if (!r->ngroups)
		return;
	fprintf(out, "\n%sreplacements%s (%u groups):\n", s->head, s->off, r->ngroups);
	for (uint32_t i = 0, j; i < r->ngroups; i = j) {
		for (j = i; j < r->ngroups && strcmp(r->groups[j].summary, r->groups[i].summary) == 0; j++)
			;
		fprintf(out, "  %s×%u%s  %s\n", s->head, j - i, s->off, r->groups[i].summary);
		for (uint32_t k = i; k < j && k < i + SHOW_INSTANCES; k++)
			print_instance(out, r, &r->groups[k], s);
		if (j - i > SHOW_INSTANCES)
			fprintf(out, "      … and %u more\n", j - i - SHOW_INSTANCES);
	}
}

static void print_change(FILE *out, const ir_diff *r, const ir_diff_change *c, const style *s)
{
	change_text t = describe(r, c);
	fprintf(out, "      %s: %s%s%s → %s%s%s", t.what, s->del, t.old ? t.old : "?", s->off, s->add,
		t.new_ ? t.new_ : "?", s->off);
	if (!isnan(t.max_abs))
		fprintf(out, ", max |Δ| %g", t.max_abs);
	fputc('\n', out);
	change_text_free(&t);
}

static void print_changes(FILE *out, const ir_diff *r, const style *s)
{
	if (!r->nchanged)
		return;
	fprintf(out, "\n%schanged nodes%s (%u):\n", s->head, s->off, r->nchanged);
	char op[128], na[64], nb[64];
	for (uint32_t i = 0; i < r->nchanges; i++) {
		const ir_diff_change *c = &r->changes[i];
		if (i == 0 || r->changes[i - 1].a != c->a) {
			const char *x = diff_node_name(r->a, c->a, na, sizeof na), *y = diff_node_name(r->b, c->b, nb, sizeof nb);
			fprintf(out, "  %s%s %s%s", s->chg, diff_op_name(r->a, c->a, op, sizeof op), x, s->off);
			if (strcmp(x, y) != 0)
				fprintf(out, " (now %s)", y);
			fputc('\n', out);
		}
		print_change(out, r, c, s);
	}
}

static void print_vals(FILE *out, const char *title, const ir_graph *g, const ir_diff_vals *l, const char *mark,
		       const char *color, const style *s)
{
	char name[64], type[128];
	if (!l->n)
		return;
	fprintf(out, "  %s %s (%u):\n", title, mark[0] == '-' ? "removed" : "added", l->n);
	for (uint32_t i = 0; i < l->n && i < SHOW_VALUES; i++)
		fprintf(out, "    %s%s %s %s%s\n", color, mark, value_name(g, l->v[i], name, sizeof name),
			type_text(g, l->v[i], type, sizeof type), s->off);
	if (l->n > SHOW_VALUES)
		fprintf(out, "    … and %u more\n", l->n - SHOW_VALUES);
}

static void print_interface(FILE *out, const ir_diff *r, const style *s)
{
	char x[64], y[64], tx[128], ty[128];
	if (!others_differ(r))
		return;
	fprintf(out, "\n%sinputs, outputs and initializers:%s\n", s->head, s->off);
	print_vals(out, "inputs", r->a, &r->inputs_removed, "-", s->del, s);
	print_vals(out, "inputs", r->b, &r->inputs_added, "+", s->add, s);
	print_vals(out, "outputs", r->a, &r->outputs_removed, "-", s->del, s);
	print_vals(out, "outputs", r->b, &r->outputs_added, "+", s->add, s);
	for (uint32_t i = 0; i < r->nrewired; i++)
		fprintf(out, "  output %s now reads %s\n", value_name(r->a, r->rewired[i].a, x, sizeof x),
			value_name(r->b, r->rewired[i].b, y, sizeof y));
	print_vals(out, "initializers", r->a, &r->consts_removed, "-", s->del, s);
	print_vals(out, "initializers", r->b, &r->consts_added, "+", s->add, s);
	if (r->nshapes)
		fprintf(out, "\n%sshapes%s (%u):\n", s->head, s->off, r->nshapes);
	for (uint32_t i = 0; i < r->nshapes; i++)
		fprintf(out, "  %s: %s%s%s → %s%s%s\n", value_name(r->a, r->shapes[i].a, x, sizeof x), s->del,
			type_text(r->a, r->shapes[i].a, tx, sizeof tx), s->off, s->add,
			type_text(r->b, r->shapes[i].b, ty, sizeof ty), s->off);
}

void diff_print_text(FILE *out, const ir_diff *r, const char *path_a, const char *path_b, bool color)
{
	style s = style_of(color);
	fprintf(out, "%s%s → %s%s: ", s.head, path_a, path_b, s.off);
	diff_print_summary(out, r);
	fputc('\n', out);
	print_groups(out, r, &s);
	print_changes(out, r, &s);
	print_interface(out, r, &s);
}

/* ---------------------------------------------------------------- --stat */

typedef struct op_stat {
	char op[96];
	uint32_t removed, added, changed;
} op_stat;

static op_stat *stat_entry(op_stat *v, size_t *n, const char *op)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].op, op) == 0)
			return &v[i];
	op_stat *e = &v[(*n)++];
	memset(e, 0, sizeof *e);
	snprintf(e->op, sizeof e->op, "%s", op);
	return e;
}

static int by_total(const void *p, const void *q)
{
	const op_stat *x = p, *y = q;
	uint32_t tx = x->removed + x->added + x->changed, ty = y->removed + y->added + y->changed;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	return strcmp(x->op, y->op);
}

/* Per op: nodes removed (of A), added (of B), changed; *n entries. */
static op_stat *op_stats(const ir_diff *r, size_t *n)
{
	op_stat *v = calloc(ir_graph_nnodes(r->a) + ir_graph_nnodes(r->b) + 1, sizeof *v);
	char buf[96];
	*n = 0;
	if (!v)
		return NULL;
	for (ir_nid a = ir_graph_first(r->a); a; a = ir_node_at(r->a, a)->next)
		if (!r->node_a2b[a])
			stat_entry(v, n, diff_op_name(r->a, a, buf, sizeof buf))->removed++;
	for (ir_nid b = ir_graph_first(r->b); b; b = ir_node_at(r->b, b)->next)
		if (!r->node_b2a[b])
			stat_entry(v, n, diff_op_name(r->b, b, buf, sizeof buf))->added++;
	for (uint32_t i = 0; i < r->nchanges; i++)
		if (i == 0 || r->changes[i - 1].a != r->changes[i].a)
			stat_entry(v, n, diff_op_name(r->a, r->changes[i].a, buf, sizeof buf))->changed++;
	qsort(v, *n, sizeof *v, by_total);
	return v;
}

/* "equal", "added", "removed", "changed": the summary both JSON forms open with. */
static void json_counts(json *j, const ir_diff *r)
{
	json_key(j, "equal");
	json_bool(j, r->equal);
	json_key(j, "added");
	json_int(j, r->nadded);
	json_key(j, "removed");
	json_int(j, r->nremoved);
	json_key(j, "changed");
	json_int(j, r->nchanged);
}

static void stat_json(FILE *out, const ir_diff *r, const op_stat *v, size_t n)
{
	json j;
	json_begin(&j, out);
	json_obj(&j);
	json_counts(&j, r);
	json_key(&j, "ops");
	json_obj(&j);
	for (size_t i = 0; i < n; i++) {
		json_key(&j, v[i].op);
		json_obj(&j);
		json_key(&j, "removed");
		json_int(&j, v[i].removed);
		json_key(&j, "added");
		json_int(&j, v[i].added);
		json_key(&j, "changed");
		json_int(&j, v[i].changed);
		json_end_obj(&j);
	}
	json_end_obj(&j);
	json_end_obj(&j);
	json_finish(&j);
}

void diff_print_stat(FILE *out, const ir_diff *r, bool as_json, bool color)
{
	style s = style_of(color);
	size_t n;
	op_stat *v = op_stats(r, &n);
	if (as_json) {
		stat_json(out, r, v, v ? n : 0);
		free(v);
		return;
	}
	diff_print_summary(out, r);
	fputc('\n', out);
	if (v && n)
		fprintf(out, "%s%-32s %8s %8s %8s%s\n", s.head, "op", "removed", "added", "changed", s.off);
	for (size_t i = 0; v && i < n; i++)
		fprintf(out, "%-32s %s%8u%s %s%8u%s %s%8u%s\n", v[i].op, v[i].removed ? s.del : "", v[i].removed, s.off,
			v[i].added ? s.add : "", v[i].added, s.off, v[i].changed ? s.chg : "", v[i].changed, s.off);
	free(v);
}

/* ---------------------------------------------------------------- --json */

static void json_names(json *j, const ir_graph *g, const ir_nid *v, uint32_t n)
{
	char buf[64];
	json_arr(j);
	for (uint32_t i = 0; i < n; i++)
		json_str(j, diff_node_name(g, v[i], buf, sizeof buf));
	json_end_arr(j);
}

static void json_value_names(json *j, const ir_graph *g, const ir_diff_vals *l)
{
	char buf[64];
	json_arr(j);
	for (uint32_t i = 0; i < l->n; i++)
		json_str(j, value_name(g, l->v[i], buf, sizeof buf));
	json_end_arr(j);
}

static void json_groups(json *j, const ir_diff *r)
{
	json_arr(j);
	for (uint32_t i = 0; i < r->ngroups; i++) {
		const ir_diff_group *g = &r->groups[i];
		const ir_graph *side = g->nremoved ? r->a : r->b;
		json_obj(j);
		json_key(j, "summary");
		json_str(j, g->summary);
		json_key(j, "removed");
		json_names(j, r->a, g->removed, g->nremoved);
		json_key(j, "added");
		json_names(j, r->b, g->added, g->nadded);
		json_key(j, "inputs");
		json_value_names(j, side, &g->in);
		json_key(j, "outputs");
		json_value_names(j, side, &g->out);
		json_key(j, "new_constants");
		json_int(j, g->nconsts);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static const char *const change_kinds[] = {"attribute", "operand", "constant", "results"};

static void json_change(json *j, const ir_diff *r, const ir_diff_change *c)
{
	change_text t = describe(r, c);
	json_obj(j);
	json_key(j, "what");
	json_str(j, change_kinds[c->kind]);
	if (c->kind == IR_DIFF_OPERAND || c->kind == IR_DIFF_CONST) {
		json_key(j, "operand");
		json_int(j, c->index);
	}
	if (c->kind == IR_DIFF_ATTR) {
		json_key(j, "name");
		json_str(j, t.what + strlen("attribute "));
	}
	json_key(j, "old");
	json_str(j, t.old ? t.old : "?");
	json_key(j, "new");
	json_str(j, t.new_ ? t.new_ : "?");
	if (!isnan(t.max_abs)) {
		json_key(j, "max_abs_diff");
		json_num(j, t.max_abs);
	}
	json_end_obj(j);
	change_text_free(&t);
}

static void json_changes(json *j, const ir_diff *r)
{
	char buf[128], na[64], nb[64];
	json_arr(j);
	for (uint32_t i = 0; i < r->nchanges; i++) {
		const ir_diff_change *c = &r->changes[i];
		if (i == 0 || r->changes[i - 1].a != c->a) {
			json_obj(j);
			json_key(j, "node");
			json_str(j, diff_node_name(r->a, c->a, na, sizeof na));
			json_key(j, "new_node");
			json_str(j, diff_node_name(r->b, c->b, nb, sizeof nb));
			json_key(j, "op");
			json_str(j, diff_op_name(r->a, c->a, buf, sizeof buf));
			json_key(j, "changes");
			json_arr(j);
		}
		json_change(j, r, c);
		if (i + 1 == r->nchanges || r->changes[i + 1].a != c->a) {
			json_end_arr(j);
			json_end_obj(j);
		}
	}
	json_end_arr(j);
}

static void json_added_removed(json *j, const ir_diff *r, const ir_diff_vals *added, const ir_diff_vals *removed)
{
	json_obj(j);
	json_key(j, "added");
	json_value_names(j, r->b, added);
	json_key(j, "removed");
	json_value_names(j, r->a, removed);
}

static void json_interface(json *j, const ir_diff *r)
{
	char x[64], y[64], tx[128], ty[128];
	json_key(j, "inputs");
	json_added_removed(j, r, &r->inputs_added, &r->inputs_removed);
	json_end_obj(j);
	json_key(j, "outputs");
	json_added_removed(j, r, &r->outputs_added, &r->outputs_removed);
	json_key(j, "rewired");
	json_arr(j);
	for (uint32_t i = 0; i < r->nrewired; i++) {
		json_obj(j);
		json_key(j, "output");
		json_str(j, value_name(r->a, r->rewired[i].a, x, sizeof x));
		json_key(j, "now_reads");
		json_str(j, value_name(r->b, r->rewired[i].b, y, sizeof y));
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
	json_key(j, "initializers");
	json_added_removed(j, r, &r->consts_added, &r->consts_removed);
	json_end_obj(j);
	json_key(j, "shapes");
	json_arr(j);
	for (uint32_t i = 0; i < r->nshapes; i++) {
		json_obj(j);
		json_key(j, "value");
		json_str(j, value_name(r->a, r->shapes[i].a, x, sizeof x));
		json_key(j, "old");
		json_str(j, type_text(r->a, r->shapes[i].a, tx, sizeof tx));
		json_key(j, "new");
		json_str(j, type_text(r->b, r->shapes[i].b, ty, sizeof ty));
		json_end_obj(j);
	}
	json_end_arr(j);
}

void diff_print_json(FILE *out, const ir_diff *r)
{
	json j;
	json_begin(&j, out);
	json_obj(&j);
	json_counts(&j, r);
	json_key(&j, "replacements");
	json_groups(&j, r);
	json_key(&j, "changed_nodes");
	json_changes(&j, r);
	json_interface(&j, r);
	json_end_obj(&j);
	json_finish(&j);
}
