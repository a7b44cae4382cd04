/* graft diff as pictures: --dot (one graph, kept/removed/added coloured)
 * and --html (a page with both graphs side by side, drawn by graphviz's
 * dot as SVG, and the text report). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff_cli.h"

extern char **environ;

/* Graphs up to this many nodes (both together) are drawn whole; larger ones
 * only around their changes, and not at all past DRAW_MAX. */
enum { DRAW_ALL = 2000, DRAW_MAX = 4000 };

enum { KEPT, CHANGED, GONE }; /* GONE: removed from A, or added in B */

static const char *const fill[] = {"#ffffff", "#fde2a7", "#f8c9c4"};
static const char *const fill_added = "#c9ecc4";

/* ---------------------------------------------------------------- node states */

static uint8_t *node_states(const ir_diff *r, int side)
{
	const ir_graph *g = side ? r->b : r->a;
	const ir_nid *map = side ? r->node_b2a : r->node_a2b;
	uint8_t *st = calloc(ir_nnodes_total(g) + 1, 1);
	if (!st)
		return NULL;
	for (ir_nid n = ir_graph_first(g); n; n = ir_node_at(g, n)->next)
		st[n] = map[n] ? KEPT : GONE;
	for (uint32_t i = 0; i < r->nchanges; i++)
		st[side ? r->changes[i].b : r->changes[i].a] = CHANGED;
	return st;
}

static void dot_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void node_label(FILE *out, const ir_graph *g, ir_nid n)
{
	char op[128], name[64];
	dot_str(out, diff_op_name(g, n, op, sizeof op));
	fputs("\\n", out);
	dot_str(out, diff_node_name(g, n, name, sizeof name));
}

static void value_label(FILE *out, const ir_graph *g, ir_val v)
{
	char buf[128];
	dot_str(out, ir_cstr(g, ir_value_at(g, v)->name));
	ir_type_format(g, ir_value_at(g, v)->type, buf, sizeof buf);
	fputs("\\n", out);
	dot_str(out, buf);
}

static bool is_const(const ir_graph *g, ir_val v)
{
	return v && ir_value_at(g, v)->def_kind == IR_DEF_CONST;
}

static bool reads(const ir_graph *g, ir_nid n, ir_val v)
{
	for (uint32_t i = 0; i < ir_node_at(g, n)->nin; i++)
		if (ir_node_input(g, n, i) == v)
			return true;
	return false;
}

static void header(FILE *out)
{
	fputs("digraph diff {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10, shape=box, "
	      "style=\"rounded,filled\"];\n  edge [color=\"#777777\"];\n",
	      out);
}

/* ---------------------------------------------------------------- one side (for --html) */

typedef struct side_pic {
	const ir_diff *r;
	int side;
	const ir_graph *g;
	const uint8_t *state;
	const uint8_t *focus; /* NULL: everything */
	const char *prefix;   /* of SVG ids: "a" or "b" */
} side_pic;

static bool shown(const side_pic *p, ir_nid n)
{
	return !p->focus || p->focus[n];
}

static void side_inputs(FILE *out, const side_pic *p)
{
	const ir_val *map = p->side ? p->r->val_b2a : p->r->val_a2b;
	for (size_t i = 0; i < ir_graph_ninputs(p->g); i++) {
		ir_val v = ir_graph_input_at(p->g, i);
		fprintf(out, "  v%u [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"", v,
			map[v] ? "#e8eef7" : (p->side ? fill_added : fill[GONE]));
		value_label(out, p->g, v);
		fputs("\"];\n", out);
	}
}

static void side_node(FILE *out, const side_pic *p, ir_nid n)
{
	const char *color = p->side && p->state[n] == GONE ? fill_added : fill[p->state[n]];
	fprintf(out, "  n%u [id=\"%s%u\", fillcolor=\"%s\", label=\"", n, p->prefix, n, color);
	node_label(out, p->g, n);
	fputs("\"];\n", out);
	for (uint32_t i = 0; i < ir_node_at(p->g, n)->nin; i++) {
		ir_val v = ir_node_input(p->g, n, i);
		const ir_value *x = ir_value_at(p->g, v);
		if (!v || is_const(p->g, v) || (x->def_kind == IR_DEF_NODE && !shown(p, x->node)))
			continue;
		if (x->def_kind == IR_DEF_NODE)
			fprintf(out, "  n%u -> n%u;\n", x->node, n);
		else
			fprintf(out, "  v%u -> n%u;\n", v, n);
	}
}

static void side_dot(FILE *out, const side_pic *p)
{
	header(out);
	side_inputs(out, p);
	for (ir_nid n = ir_graph_first(p->g); n; n = ir_node_at(p->g, n)->next)
		if (shown(p, n))
			side_node(out, p, n);
	for (size_t i = 0; i < ir_graph_noutputs(p->g); i++) {
		ir_val v = ir_graph_output_at(p->g, i);
		const ir_value *x = ir_value_at(p->g, v);
		fprintf(out, "  o%zu [shape=ellipse, style=filled, fillcolor=\"#f5e6c8\", label=\"", i);
		value_label(out, p->g, v);
		fputs("\"];\n", out);
		if (x->def_kind == IR_DEF_NODE && shown(p, x->node))
			fprintf(out, "  n%u -> o%zu;\n", x->node, i);
		else if (x->def_kind == IR_DEF_INPUT)
			fprintf(out, "  v%u -> o%zu;\n", v, i);
	}
	fputs("}\n", out);
}

/* ---------------------------------------------------------------- one picture (--dot) */

/* DOT id of a value's source in the joint picture, seen from side B. */
static void source_b(const ir_diff *r, ir_val w, char *buf, size_t cap)
{
	const ir_value *x = ir_value_at(r->b, w);
	if (x->def_kind == IR_DEF_NODE && r->node_b2a[x->node])
		snprintf(buf, cap, "a%u", r->node_b2a[x->node]);
	else if (x->def_kind == IR_DEF_NODE)
		snprintf(buf, cap, "b%u", x->node);
	else if (r->val_b2a[w])
		snprintf(buf, cap, "ai%u", r->val_b2a[w]);
	else
		snprintf(buf, cap, "bi%u", w);
}

static void source_a(const ir_diff *r, ir_val v, char *buf, size_t cap)
{
	const ir_value *x = ir_value_at(r->a, v);
	snprintf(buf, cap, x->def_kind == IR_DEF_NODE ? "a%u" : "ai%u", x->def_kind == IR_DEF_NODE ? x->node : v);
}

static void joint_nodes(FILE *out, const ir_diff *r, const uint8_t *sa)
{
	for (size_t i = 0; i < ir_graph_ninputs(r->a); i++) {
		ir_val v = ir_graph_input_at(r->a, i);
		fprintf(out, "  ai%u [shape=ellipse, fillcolor=\"%s\", label=\"", v, r->val_a2b[v] ? "#e8eef7" : fill[GONE]);
		value_label(out, r->a, v);
		fputs("\"];\n", out);
	}
	for (uint32_t i = 0; i < r->inputs_added.n; i++) {
		fprintf(out, "  bi%u [shape=ellipse, fillcolor=\"%s\", label=\"", r->inputs_added.v[i], fill_added);
		value_label(out, r->b, r->inputs_added.v[i]);
		fputs("\"];\n", out);
	}
	for (ir_nid n = ir_graph_first(r->a); n; n = ir_node_at(r->a, n)->next) {
		fprintf(out, "  a%u [fillcolor=\"%s\", label=\"", n, fill[sa[n]]);
		node_label(out, r->a, n);
		fputs("\"];\n", out);
	}
	for (ir_nid n = ir_graph_first(r->b); n; n = ir_node_at(r->b, n)->next) {
		if (r->node_b2a[n])
			continue;
		fprintf(out, "  b%u [fillcolor=\"%s\", label=\"", n, fill_added);
		node_label(out, r->b, n);
		fputs("\"];\n", out);
	}
}

/* A's edges: grey where B keeps them, dashed red where it does not. */
static void joint_edges_a(FILE *out, const ir_diff *r)
{
	char src[32];
	for (ir_nid n = ir_graph_first(r->a); n; n = ir_node_at(r->a, n)->next)
		for (uint32_t i = 0; i < ir_node_at(r->a, n)->nin; i++) {
			ir_val v = ir_node_input(r->a, n, i);
			if (!v || is_const(r->a, v))
				continue;
			bool kept = r->node_a2b[n] && r->val_a2b[v] && reads(r->b, r->node_a2b[n], r->val_a2b[v]);
			source_a(r, v, src, sizeof src);
			fprintf(out, "  %s -> a%u%s;\n", src, n, kept ? "" : " [color=\"#c0392b\", style=dashed]");
		}
}

/* B's edges that A does not have, green. */
static void joint_edges_b(FILE *out, const ir_diff *r)
{
	char src[32];
	for (ir_nid m = ir_graph_first(r->b); m; m = ir_node_at(r->b, m)->next)
		for (uint32_t i = 0; i < ir_node_at(r->b, m)->nin; i++) {
			ir_val w = ir_node_input(r->b, m, i);
			ir_nid a = r->node_b2a[m];
			if (!w || is_const(r->b, w) || (a && r->val_b2a[w] && reads(r->a, a, r->val_b2a[w])))
				continue;
			source_b(r, w, src, sizeof src);
			fprintf(out, "  %s -> %c%u [color=\"#27ae60\"];\n", src, a ? 'a' : 'b', a ? a : m);
		}
}

static void joint_outputs(FILE *out, const ir_diff *r)
{
	char src[32];
	for (size_t i = 0; i < ir_graph_noutputs(r->a); i++) {
		ir_val v = ir_graph_output_at(r->a, i);
		fprintf(out, "  ao%zu [shape=ellipse, fillcolor=\"#f5e6c8\", label=\"", i);
		value_label(out, r->a, v);
		fputs("\"];\n", out);
		if (!is_const(r->a, v)) {
			source_a(r, v, src, sizeof src);
			fprintf(out, "  %s -> ao%zu;\n", src, i);
		}
	}
	for (uint32_t i = 0; i < r->outputs_added.n; i++) {
		ir_val w = r->outputs_added.v[i];
		fprintf(out, "  bo%u [shape=ellipse, fillcolor=\"%s\", label=\"", i, fill_added);
		value_label(out, r->b, w);
		fputs("\"];\n", out);
		if (!is_const(r->b, w)) {
			source_b(r, w, src, sizeof src);
			fprintf(out, "  %s -> bo%u [color=\"#27ae60\"];\n", src, i);
		}
	}
}

bool diff_write_dot(FILE *out, const ir_diff *r)
{
	uint8_t *sa = node_states(r, 0);
	if (!sa)
		return false;
	header(out);
	fputs("  label=\"graft diff: white kept, orange changed, red removed, green added\";\n", out);
	joint_nodes(out, r, sa);
	joint_edges_a(out, r);
	joint_edges_b(out, r);
	joint_outputs(out, r);
	fputs("}\n", out);
	free(sa);
	return !ferror(out);
}

/* ---------------------------------------------------------------- focus for large graphs */

/* Marks n's producers and readers on its side into next. */
static void neighbours(const ir_graph *g, ir_nid n, uint8_t *next)
{
	const ir_node *x = ir_node_at(g, n);
	for (uint32_t i = 0; i < x->nin; i++) {
		const ir_value *v = ir_value_at(g, ir_node_input(g, n, i));
		if (v && v->def_kind == IR_DEF_NODE)
			next[v->node] = 1;
	}
	for (uint32_t k = 0; k < x->nout; k++)
		for (uint32_t u = ir_first_use(g, ir_node_output(g, n, k)); u; u = ir_next_use(g, u))
			next[ir_use_at(g, u)->node] = 1;
}

/* Changed, removed and added nodes with their neighbours, the same region
 * on both sides; the number of nodes marked. */
static size_t focus(const ir_diff *r, uint8_t *const st[2], uint8_t *f[2])
{
	const ir_graph *g[2] = {r->a, r->b};
	const ir_nid *map[2] = {r->node_a2b, r->node_b2a};
	for (int s = 0; s < 2; s++)
		for (ir_nid n = ir_graph_first(g[s]); n; n = ir_node_at(g[s], n)->next)
			if (st[s][n] != KEPT) {
				f[s][n] = 1;
				neighbours(g[s], n, f[s]);
			}
	size_t count = 0;
	for (int s = 0; s < 2; s++)
		for (ir_nid n = ir_graph_first(g[s]); n; n = ir_node_at(g[s], n)->next)
			if (f[s][n] && map[s][n])
				f[1 - s][map[s][n]] = 1;
	for (int s = 0; s < 2; s++)
		for (ir_nid n = ir_graph_first(g[s]); n; n = ir_node_at(g[s], n)->next)
			count += f[s][n];
	return count;
}

/* ---------------------------------------------------------------- running dot */

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static int spawn_dot(const char *in, const char *out)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"dot", "-Tsvg", (char *)in, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

/* SVG text of a DOT graph (malloc'd), or NULL with a reason in why. */
static char *run_dot(const char *dot, size_t n, char *why, size_t cap)
{
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char in[512], out[512];
	snprintf(in, sizeof in, "%s/graft-diff-XXXXXX", tmp);
	snprintf(out, sizeof out, "%s/graft-diff-svg-XXXXXX", tmp);
	int fi = mkstemp(in), fo = fi >= 0 ? mkstemp(out) : -1;
	char *svg = NULL;
	bool wrote = fi >= 0 && fo >= 0 && write_all(fi, dot, n);
	int rc = wrote ? spawn_dot(in, out) : -3;
	if (rc == 0) {
		ir_diags d;
		size_t len;
		ir_diags_init(&d);
		svg = ir_read_file(out, &len, &d);
		ir_diags_free(&d);
	}
	if (!svg)
		snprintf(why, cap, "%s", rc == -1 ? "graphviz's dot is not installed (apt-get install graphviz)"
				       : rc == -3 ? "cannot write a temporary file"
						  : "graphviz's dot failed on this graph");
	if (fi >= 0) {
		close(fi);
		unlink(in);
	}
	if (fo >= 0) {
		close(fo);
		unlink(out);
	}
	return svg;
}

/* ---------------------------------------------------------------- the page */

static void html_text(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] == '<')
			fputs("&lt;", out);
		else if (s[i] == '>')
			fputs("&gt;", out);
		else if (s[i] == '&')
			fputs("&amp;", out);
		else if (s[i] == '"')
			fputs("&quot;", out);
		else
			fputc(s[i], out);
	}
}

static const char css[] =
	"body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.1em;margin:.3em 0}"
	".sides{display:flex;gap:1em;align-items:flex-start}"
	".side{flex:1;min-width:0;border:1px solid #ccc;border-radius:6px;padding:.5em;overflow:auto;max-height:85vh}"
	".legend span{display:inline-block;padding:.1em .6em;margin-right:.5em;border:1px solid #999;border-radius:4px}"
	".missing{color:#a00;font-weight:bold}pre{background:#f6f6f6;padding:1em;overflow:auto}";

/* One side: the SVG, or why there is none. */
static void html_side(FILE *out, const side_pic *p, const char *title, bool draw, const char *skip_why)
{
	fprintf(out, "<section class=\"side\" id=\"graph-%s\"><h2>%s: ", p->prefix, p->side ? "B" : "A");
	html_text(out, title, strlen(title));
	fputs("</h2>\n", out);
	char why[256] = "";
	char *dot = NULL, *svg = NULL;
	size_t n = 0;
	FILE *m = draw ? open_memstream(&dot, &n) : NULL;
	if (m) {
		side_dot(m, p);
		fclose(m);
		svg = run_dot(dot, n, why, sizeof why);
	}
	const char *start = svg ? strstr(svg, "<svg") : NULL;
	if (start)
		fputs(start, out);
	else
		fprintf(out, "<p class=\"missing\">No picture: %s.</p>\n", draw ? why : skip_why);
	fputs("</section>\n", out);
	free(dot);
	free(svg);
}

static void html_report(FILE *out, const ir_diff *r, const char *pa, const char *pb)
{
	char *text = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&text, &n);
	if (!m)
		return;
	diff_print_text(m, r, pa, pb, false);
	fclose(m);
	fputs("<h2>Report</h2>\n<pre>", out);
	html_text(out, text, n);
	fputs("</pre>\n", out);
	free(text);
}

static void html_head(FILE *out, const ir_diff *r, const char *pa, const char *pb)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>graft diff: ", out);
	html_text(out, pa, strlen(pa));
	fputs(" → ", out);
	html_text(out, pb, strlen(pb));
	fprintf(out, "</title><style>%s</style></head>\n<body>\n<h1>graft diff</h1>\n<p><b>", css);
	char *s = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&s, &n);
	if (m) {
		diff_print_summary(m, r);
		fclose(m);
		html_text(out, s, n);
		free(s);
	}
	fprintf(out, "</b></p>\n<p class=\"legend\"><span style=\"background:%s\">kept</span><span style=\"background:%s\">"
		     "changed</span><span style=\"background:%s\">removed (A)</span><span style=\"background:%s\">"
		     "added (B)</span></p>\n",
		fill[KEPT], fill[CHANGED], fill[GONE], fill_added);
}

static void html_body(FILE *out, const ir_diff *r, const char *pa, const char *pb, uint8_t *const st[2],
		      uint8_t *f[2])
{
	size_t total = ir_graph_nnodes(r->a) + ir_graph_nnodes(r->b);
	size_t nfocus = total > DRAW_ALL ? focus(r, st, f) : total;
	bool draw = nfocus <= DRAW_MAX;
	char skip[160];
	snprintf(skip, sizeof skip, "%zu nodes around the changes are too many to draw (limit %d)", nfocus,
		 (int)DRAW_MAX);
	html_head(out, r, pa, pb);
	if (total > DRAW_ALL && draw)
		fprintf(out, "<p>The graphs have %zu nodes: drawn are the %zu nodes around the changes.</p>\n", total,
			nfocus);
	fputs("<div class=\"sides\">\n", out);
	side_pic a = {r, 0, r->a, st[0], total > DRAW_ALL ? f[0] : NULL, "a"};
	side_pic b = {r, 1, r->b, st[1], total > DRAW_ALL ? f[1] : NULL, "b"};
	html_side(out, &a, pa, draw, skip);
	html_side(out, &b, pb, draw, skip);
	fputs("</div>\n", out);
	html_report(out, r, pa, pb);
	fputs("</body></html>\n", out);
}

bool diff_write_html(const char *path, const ir_diff *r, const char *pa, const char *pb, ir_diags *d)
{
	uint8_t *st[2] = {node_states(r, 0), node_states(r, 1)};
	uint8_t *f[2] = {calloc(ir_nnodes_total(r->a) + 1, 1), calloc(ir_nnodes_total(r->b) + 1, 1)};
	char *page = NULL;
	size_t n = 0;
	FILE *m = st[0] && st[1] && f[0] && f[1] ? open_memstream(&page, &n) : NULL;
	bool ok = m != NULL;
	if (m) {
		html_body(m, r, pa, pb, st, f);
		ok = fclose(m) == 0;
	}
	if (!ok)
		ir_error(d, path, 0, 0, "out of memory");
	ok = ok && ir_write_file_atomic(path, page, n, d);
	free(page);
	for (int s = 0; s < 2; s++) {
		free(st[s]);
		free(f[s]);
	}
	return ok;
}
