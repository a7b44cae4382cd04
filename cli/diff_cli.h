/* graft diff's formatters (cmd_diff.c parses arguments; diff_text.c writes
 * text, --stat and --json; diff_draw.c writes --dot and --html).  They only
 * format an ir_diff: the alignment is computed by ir_diff_graphs. */
#ifndef GRAFT_DIFF_CLI_H
#define GRAFT_DIFF_CLI_H

#include "cli.h"

/* ---- diff_text.c */
void diff_print_text(FILE *out, const ir_diff *r, const char *path_a, const char *path_b, bool color);
void diff_print_json(FILE *out, const ir_diff *r);
void diff_print_stat(FILE *out, const ir_diff *r, bool as_json, bool color);
/* "equal" or "N added, M removed, K changed nodes" (+ other differences). */
void diff_print_summary(FILE *out, const ir_diff *r);
/* A node's name, else its first result's name, else "#id". */
const char *diff_node_name(const ir_graph *g, ir_nid n, char *buf, size_t cap);
/* A node's op, qualified by its domain when it has one ("com.microsoft::FusedConv"). */
const char *diff_op_name(const ir_graph *g, ir_nid n, char *buf, size_t cap);

/* ---- diff_draw.c */
/* One picture: A's nodes with removed ones red and changed ones orange,
 * plus B's added nodes green. */
bool diff_write_dot(FILE *out, const ir_diff *r);
/* A self-contained page with both graphs side by side (SVG through
 * graphviz's dot when installed) and the text report; written atomically. */
bool diff_write_html(const char *path, const ir_diff *r, const char *path_a, const char *path_b,
		     ir_diags *d);

#endif
