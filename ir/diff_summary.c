/* Graph diff, part 5: the one-line summary of a replacement group, its
 * shape of change: "Conv+BatchNormalization+Relu (3 nodes) → FusedConv". */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

typedef struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) IR_PRINTF(2, 3);

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || b->oom)
		return;
	if (b->n + (size_t)len + 1 > b->cap) {
		size_t cap = (b->n + (size_t)len + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
}

/* An op's display name: qualified by its domain when a standard op has the
 * same name ("com.microsoft.nchwc::Conv"), else bare ("FusedConv"). */
static void op_name(sbuf *b, const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	const char *op = ir_cstr(g, x->op);
	if (x->domain && ir_op_known(op))
		sb_printf(b, "%s::%s", ir_cstr(g, x->domain), op);
	else
		sb_printf(b, "%s", op);
}

enum { LIST_MAX = 6, HIST_MAX = 5, DISTINCT_MAX = 64 };

typedef struct op_count {
	const char *op;
	uint32_t n;
} op_count;

static int by_count(const void *p, const void *q)
{
	const op_count *x = p, *y = q;
	return (x->n < y->n) - (x->n > y->n);
}

/* Distinct ops of the nodes with their counts, most frequent first (ties:
 * first seen); ops past DISTINCT_MAX distinct ones are not counted. */
static uint32_t histogram(const ir_graph *g, const ir_nid *nodes, uint32_t n, op_count *h)
{
	uint32_t nh = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *op = ir_cstr(g, ir_node_at(g, nodes[i])->op);
		uint32_t k = 0;
		while (k < nh && strcmp(h[k].op, op) != 0)
			k++;
		if (k == nh && nh < DISTINCT_MAX)
			h[nh++] = (op_count){op, 0};
		if (k < nh)
			h[k].n++;
	}
	for (uint32_t i = 1; i < nh; i++) /* insertion sort: stable */
		for (uint32_t k = i; k > 0 && by_count(&h[k - 1], &h[k]) > 0; k--) {
			op_count t = h[k];
			h[k] = h[k - 1];
			h[k - 1] = t;
		}
	return nh;
}

/* "Conv+Relu" up to LIST_MAX nodes; beyond, "MatMul×4+Add×3+…" by count. */
static void ops_text(sbuf *b, const ir_graph *g, const ir_nid *nodes, uint32_t n)
{
	if (n <= LIST_MAX) {
		for (uint32_t i = 0; i < n; i++) {
			sb_printf(b, "%s", i ? "+" : "");
			op_name(b, g, nodes[i]);
		}
		return;
	}
	op_count h[DISTINCT_MAX];
	uint32_t nh = histogram(g, nodes, n, h), shown = 0;
	for (uint32_t k = 0; k < nh && k < HIST_MAX; k++) {
		sb_printf(b, "%s%s×%u", k ? "+" : "", h[k].op, h[k].n);
		shown += h[k].n;
	}
	if (shown < n)
		sb_printf(b, "+…");
}

/* One side's ops, with the node count when there are several. */
static void side_text(sbuf *b, const ir_graph *g, const ir_nid *nodes, uint32_t n)
{
	ops_text(b, g, nodes, n);
	if (n > 1)
		sb_printf(b, " (%u nodes)", n);
}

/* "Conv+Relu (2 nodes) → FusedConv", "Identity removed", "Sigmoid added",
 * "Shape+Gather (2 nodes) → constant". */
char *diff_group_summary(const diff_state *st, const ir_diff_group *g)
{
	sbuf b = {0};
	if (g->nremoved)
		side_text(&b, st->s[0].g, g->removed, g->nremoved);
	if (g->nremoved && (g->nadded || g->nconsts))
		sb_printf(&b, " → ");
	if (g->nadded)
		side_text(&b, st->s[1].g, g->added, g->nadded);
	if (g->nremoved && g->nconsts)
		sb_printf(&b, "%sconstant", g->nadded ? " + " : "");
	if (!g->nadded && !g->nconsts)
		sb_printf(&b, " removed");
	else if (!g->nremoved)
		sb_printf(&b, " added");
	if (b.oom)
		free(b.p);
	return b.oom ? NULL : b.p;
}

