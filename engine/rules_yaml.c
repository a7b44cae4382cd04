/* Rule files: YAML (through libyaml's document API) -> rules.  Every
 * scalar is mapped back to file positions, so that the rule compiler's
 * diagnostics point into block scalars exactly. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine_internal.h"

typedef struct loader {
	eng_ruleset *rs;
	ir_diags *d;
	const char *file; /* in the arena */
	const char *text;
	size_t n;
	size_t *lines; /* byte offset of each line's start */
	size_t nlines;
	yaml_document_t doc;
	eng_rule **rules; /* this file's rules: kept when the file has no error */
	size_t nrules, cap;
} loader;

static void node_error(loader *ld, const yaml_node_t *nd, const char *fmt, ...) IR_PRINTF(3, 4);

static void node_error(loader *ld, const yaml_node_t *nd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(ld->d, IR_ERROR, ld->file, (int)nd->start_mark.line + 1, (int)nd->start_mark.column + 1, fmt, ap);
	va_end(ap);
}

static bool index_lines(loader *ld)
{
	size_t cap = 64;
	ld->lines = malloc(cap * sizeof *ld->lines);
	ld->nlines = 0;
	if (!ld->lines)
		return false;
	ld->lines[ld->nlines++] = 0;
	for (size_t i = 0; i < ld->n; i++) {
		if (ld->text[i] != '\n')
			continue;
		if (ld->nlines == cap) {
			size_t *v = realloc(ld->lines, 2 * cap * sizeof *v);
			if (!v)
				return false;
			ld->lines = v;
			cap *= 2;
		}
		ld->lines[ld->nlines++] = i + 1;
	}
	return true;
}

static bool utf8_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* The byte of a libyaml mark (0-based line, column in characters). */
static size_t mark_byte(const loader *ld, size_t line, size_t col)
{
	if (line >= ld->nlines)
		return ld->n;
	size_t p = ld->lines[line];
	while (col > 0 && p < ld->n && ld->text[p] != '\n') {
		p++;
		while (p < ld->n && utf8_cont((unsigned char)ld->text[p]))
			p++;
		col--;
	}
	return p;
}

static void byte_pos(const loader *ld, size_t b, int *line, int *col)
{
	size_t lo = 0, hi = ld->nlines;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (ld->lines[mid] <= b)
			lo = mid;
		else
			hi = mid;
	}
	int c = 1;
	for (size_t p = ld->lines[lo]; p < b; p++)
		c += !utf8_cont((unsigned char)ld->text[p]);
	*line = (int)lo + 1;
	*col = c;
}

/* Where the characters of a scalar's content start in the file. */
static size_t content_start(const loader *ld, const yaml_node_t *nd)
{
	size_t p = mark_byte(ld, nd->start_mark.line, nd->start_mark.column);
	switch (nd->data.scalar.style) {
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		return nd->start_mark.line + 1 < ld->nlines ? ld->lines[nd->start_mark.line + 1] : ld->n;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return p + 1;
	default: return p;
	}
}

/* Maps each content byte to the file byte it came from: the content's
 * characters appear in the file in order; indentation, folded line breaks
 * and escapes are what lies between them. */
static void map_bytes(const loader *ld, const char *s, size_t n, size_t p, size_t end, size_t *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ' || c == '\n' || c == '\t') {
			out[i] = p;
			if (p < end && ld->text[p] == c)
				p++;
			continue;
		}
		size_t q = p;
		while (q < end && ld->text[q] != c)
			q++;
		if (q < end)
			p = q;
		out[i] = p;
		if (p < end && ld->text[p] == c)
			p++;
	}
	out[n] = p;
}

static const eng_text *scalar_text(loader *ld, const yaml_node_t *nd)
{
	size_t n = nd->data.scalar.length;
	eng_text *t = eng_alloc(ld->rs, sizeof *t);
	int *line = eng_alloc(ld->rs, (n + 1) * sizeof *line);
	int *col = eng_alloc(ld->rs, (n + 1) * sizeof *col);
	size_t *bytes = malloc((n + 1) * sizeof *bytes);
	const char *s = eng_strdup(ld->rs, (const char *)nd->data.scalar.value, n);
	if (!t || !line || !col || !bytes || !s) {
		free(bytes);
		node_error(ld, nd, "out of memory");
		return NULL;
	}
	size_t end = mark_byte(ld, nd->end_mark.line, nd->end_mark.column);
	map_bytes(ld, s, n, content_start(ld, nd), end, bytes);
	for (size_t i = 0; i <= n; i++)
		byte_pos(ld, bytes[i], &line[i], &col[i]);
	free(bytes);
	*t = (eng_text){s, n, line, col, ld->file};
	return t;
}

static yaml_node_t *node(loader *ld, int id)
{
	return yaml_document_get_node(&ld->doc, id);
}

static const char *scalar(const yaml_node_t *nd)
{
	return (const char *)nd->data.scalar.value;
}

/* ---- keys of mappings */

enum { K_NAME, K_DOC, K_PHASE, K_BENEFIT, K_EXACT, K_TOLERANCE, K_WHEN, K_ALLOW_ESCAPE, K_PATTERN, K_WHERE,
       K_REPLACE, K_COUNT };

static const char *const rule_keys[K_COUNT] = {
	"name", "doc", "phase", "benefit", "exact", "tolerance", "when", "allow_escape", "pattern", "where", "replace",
};

static const char *const file_keys[] = {"version", "rules", "functions"};

enum { FK_NAME, FK_DOC, FK_INPUTS, FK_OUTPUTS, FK_ATTRIBUTES, FK_BODY, FK_COUNT };

static const char *const func_keys[FK_COUNT] = {"name", "doc", "inputs", "outputs", "attributes", "body"};

/* Sorts a mapping's values into out[] by key; reports unknown and
 * repeated keys. */
static void collect_keys(loader *ld, const yaml_node_t *map, const char *const *keys, size_t nkeys, yaml_node_t **out,
			 const char *where)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(ld, pr->key), *v = node(ld, pr->value);
		if (k->type != YAML_SCALAR_NODE) {
			node_error(ld, k, "a key must be a name");
			continue;
		}
		size_t i = 0;
		while (i < nkeys && strcmp(keys[i], scalar(k)) != 0)
			i++;
		if (i == nkeys) {
			const char *near = eng_closest(scalar(k), k->data.scalar.length, keys, nkeys);
			if (near)
				node_error(ld, k, "unknown key '%s' in %s (did you mean '%s'?)", scalar(k), where,
					   near);
			else
				node_error(ld, k, "unknown key '%s' in %s", scalar(k), where);
		} else if (out[i]) {
			node_error(ld, k, "duplicate key '%s' in %s", scalar(k), where);
		} else {
			out[i] = v;
		}
	}
}

static const char *node_kind(const yaml_node_t *nd)
{
	return nd->type == YAML_MAPPING_NODE ? "a mapping" : nd->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

static bool want_scalar(loader *ld, const yaml_node_t *nd, const char *key, const char *what)
{
	if (nd->type == YAML_SCALAR_NODE)
		return true;
	node_error(ld, nd, "'%s' must be %s, got %s", key, what, node_kind(nd));
	return false;
}

static void get_int(loader *ld, const yaml_node_t *nd, const char *key, int *out)
{
	char *end;
	if (!nd || !want_scalar(ld, nd, key, "an integer"))
		return;
	errno = 0;
	long long v = strtoll(scalar(nd), &end, 10);
	if (end == scalar(nd) || *end || errno || v < -1000000 || v > 1000000)
		node_error(ld, nd, "'%s' must be an integer, got '%s'", key, scalar(nd));
	else
		*out = (int)v;
}

static void get_bool(loader *ld, const yaml_node_t *nd, const char *key, bool *out)
{
	if (!nd || !want_scalar(ld, nd, key, "true or false"))
		return;
	const char *s = scalar(nd);
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		*out = false;
	else
		node_error(ld, nd, "'%s' must be true or false, got '%s'", key, s);
}

static void get_tolerance(loader *ld, const yaml_node_t *nd, double *out)
{
	char *end;
	if (!nd || !want_scalar(ld, nd, "tolerance", "a number"))
		return;
	double v = strtod(scalar(nd), &end);
	if (end == scalar(nd) || *end || !(v >= 0))
		node_error(ld, nd, "'tolerance' must be a number >= 0, got '%s'", scalar(nd));
	else
		*out = v;
}

static bool valid_rule_name(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static const eng_rule *file_rule(const loader *ld, const char *name)
{
	for (size_t i = 0; i < ld->nrules; i++)
		if (strcmp(ld->rules[i]->name, name) == 0)
			return ld->rules[i];
	return NULL;
}

static void get_name(loader *ld, const yaml_node_t *nd, const yaml_node_t *rule, eng_rule *r)
{
	if (!nd) {
		node_error(ld, rule, "a rule needs a name");
		return;
	}
	if (!want_scalar(ld, nd, "name", "a string"))
		return;
	if (!valid_rule_name(scalar(nd))) {
		node_error(ld, nd,
			   "invalid rule name '%s': use letters, digits, '_', '.' and '-', starting with a letter",
			   scalar(nd));
		return;
	}
	const eng_rule *prev = file_rule(ld, scalar(nd));
	if (!prev)
		prev = eng_rule_find(ld->rs, scalar(nd));
	if (prev)
		node_error(ld, nd, "duplicate rule name '%s' (first defined at %s)", scalar(nd), prev->loc_text);
	r->name = eng_strdup(ld->rs, scalar(nd), nd->data.scalar.length);
}

static void get_when(loader *ld, const yaml_node_t *nd, eng_rule *r)
{
	if (!nd || !want_scalar(ld, nd, "when", "'cheaper'"))
		return;
	if (strcmp(scalar(nd), "cheaper") == 0)
		r->when_cheaper = true;
	else
		node_error(ld, nd, "'when' must be 'cheaper' (the only cost guard), got '%s'", scalar(nd));
}

/* where: one string, or a list of strings. */
static int get_where(loader *ld, const yaml_node_t *nd, eng_text **out)
{
	if (nd->type == YAML_MAPPING_NODE) {
		node_error(ld, nd, "'where' must be a string or a list of strings; quote expressions that contain "
				   "': ' (a ?: b) or start with '!', '[' or '{'");
		return 0;
	}
	size_t n = 1;
	if (nd->type == YAML_SEQUENCE_NODE)
		n = (size_t)(nd->data.sequence.items.top - nd->data.sequence.items.start);
	int k = 0;
	if (!(*out = eng_alloc(ld->rs, (n ? n : 1) * sizeof **out)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *it = nd->type == YAML_SCALAR_NODE ? nd : node(ld, nd->data.sequence.items.start[i]);
		const eng_text *t;
		if (it->type != YAML_SCALAR_NODE)
			node_error(ld, it, "a where item must be a string, got %s: quote expressions that contain ': ' "
					   "or start with '!', '[' or '{'", node_kind(it));
		else if ((t = scalar_text(ld, it)))
			(*out)[k++] = *t;
	}
	return k;
}

static const eng_text *get_text(loader *ld, const yaml_node_t *nd, const char *key)
{
	if (!want_scalar(ld, nd, key, "a string (a block: `|` then one line per node)"))
		return NULL;
	return scalar_text(ld, nd);
}

/* ---- rules */

static eng_rule *new_rule(loader *ld, const yaml_node_t *nd)
{
	eng_rule *r = eng_alloc(ld->rs, sizeof *r);
	char buf[1200];
	if (!r)
		return NULL;
	r->loc = (eng_loc){ld->file, (int)nd->start_mark.line + 1, (int)nd->start_mark.column + 1};
	snprintf(buf, sizeof buf, "%s:%d:%d", ld->file, r->loc.line, r->loc.col);
	r->loc_text = (char *)eng_strdup(ld->rs, buf, strlen(buf));
	r->benefit = 1;
	r->exact = true;
	r->enabled = true;
	r->root = -1;
	return r->loc_text ? r : NULL;
}

static void get_meta(loader *ld, yaml_node_t *const *f, const yaml_node_t *nd, eng_rule *r)
{
	get_name(ld, f[K_NAME], nd, r);
	if (f[K_DOC] && want_scalar(ld, f[K_DOC], "doc", "a string"))
		r->doc = eng_strdup(ld->rs, scalar(f[K_DOC]), f[K_DOC]->data.scalar.length);
	get_int(ld, f[K_PHASE], "phase", &r->phase);
	get_int(ld, f[K_BENEFIT], "benefit", &r->benefit);
	get_bool(ld, f[K_EXACT], "exact", &r->exact);
	get_tolerance(ld, f[K_TOLERANCE], &r->tolerance);
	get_when(ld, f[K_WHEN], r);
	get_bool(ld, f[K_ALLOW_ESCAPE], "allow_escape", &r->allow_escape);
	if (!r->exact && !f[K_TOLERANCE])
		node_error(ld, f[K_EXACT],
			   "an inexact rule (exact: false) needs a 'tolerance' (its expected max relative error)");
	if (!f[K_PATTERN])
		node_error(ld, nd, "rule '%s' has no pattern", r->name ? r->name : "?");
	if (!f[K_REPLACE])
		node_error(ld, nd,
			   "rule '%s' has no replace (write replace: \"\" for a rule that only deletes dead code)",
			   r->name ? r->name : "?");
}

static bool push_rule(loader *ld, eng_rule *r)
{
	if (ld->nrules == ld->cap) {
		size_t ncap = ld->cap ? ld->cap * 2 : 16;
		eng_rule **v = realloc(ld->rules, ncap * sizeof *v);
		if (!v)
			return false;
		ld->rules = v;
		ld->cap = ncap;
	}
	ld->rules[ld->nrules++] = r;
	return true;
}

static void load_rule(loader *ld, const yaml_node_t *nd)
{
	yaml_node_t *f[K_COUNT] = {0};
	size_t before = ld->d->nerrors;
	eng_rule_src src = {0};
	if (nd->type != YAML_MAPPING_NODE) {
		node_error(ld, nd, "a rule must be a mapping (name:, pattern:, replace:, ...), got %s", node_kind(nd));
		return;
	}
	eng_rule *r = new_rule(ld, nd);
	if (!r) {
		node_error(ld, nd, "out of memory");
		return;
	}
	collect_keys(ld, nd, rule_keys, K_COUNT, f, "a rule");
	get_meta(ld, f, nd, r);
	src.pattern = f[K_PATTERN] ? get_text(ld, f[K_PATTERN], "pattern") : NULL;
	src.replace = f[K_REPLACE] ? get_text(ld, f[K_REPLACE], "replace") : NULL;
	if (f[K_WHERE]) {
		eng_text *where = NULL;
		src.nwhere = get_where(ld, f[K_WHERE], &where);
		src.where = where;
	}
	if (src.pattern && eng_compile_rule(ld->rs, r, &src, ld->d) && ld->d->nerrors == before)
		eng_plan(ld->rs, r, ld->d);
	if (r->name && !push_rule(ld, r))
		node_error(ld, nd, "out of memory");
}

static void load_rules(loader *ld, const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE) {
		node_error(ld, seq, "'rules' must be a list of rules (each item starts with '- name:'), got %s",
			   node_kind(seq));
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++)
		load_rule(ld, node(ld, *it));
}

/* ---- functions */

static eng_loc loc_of(const loader *ld, const yaml_node_t *nd)
{
	return (eng_loc){ld->file, (int)nd->start_mark.line + 1, (int)nd->start_mark.column + 1};
}

static yaml_node_t *item(loader *ld, const yaml_node_t *seq, size_t i)
{
	return node(ld, seq->data.sequence.items.start[i]);
}

static size_t nitems(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* inputs / outputs: a list of names. */
static int get_names(loader *ld, const yaml_node_t *nd, const char *key, const char ***names, eng_loc **locs)
{
	if (nd->type != YAML_SEQUENCE_NODE) {
		node_error(ld, nd, "'%s' must be a list of names, as [x, w, b]", key);
		return 0;
	}
	size_t n = nitems(nd);
	int k = 0;
	*names = eng_alloc(ld->rs, (n + 1) * sizeof **names);
	*locs = eng_alloc(ld->rs, (n + 1) * sizeof **locs);
	for (size_t i = 0; *names && *locs && i < n; i++) {
		const yaml_node_t *it = item(ld, nd, i);
		if (it->type != YAML_SCALAR_NODE) {
			node_error(ld, it, "'%s' must be a list of names, got %s in it", key, node_kind(it));
			continue;
		}
		(*locs)[k] = loc_of(ld, it);
		(*names)[k++] = eng_strdup(ld->rs, scalar(it), it->data.scalar.length);
	}
	return k;
}

/* attributes: a list of `name` or `name = default` strings. */
static int get_attr_texts(loader *ld, const yaml_node_t *nd, const eng_text **out)
{
	if (nd->type != YAML_SEQUENCE_NODE) {
		node_error(ld, nd, "'attributes' must be a list, as [pads, strides, \"epsilon = 1e-5\"]");
		return 0;
	}
	size_t n = nitems(nd);
	eng_text *v = eng_alloc(ld->rs, (n + 1) * sizeof *v);
	int k = 0;
	for (size_t i = 0; v && i < n; i++) {
		const yaml_node_t *it = item(ld, nd, i);
		const eng_text *t;
		if (it->type != YAML_SCALAR_NODE)
			node_error(ld, it, "an attribute is a string, 'name' or 'name = default', got %s", node_kind(it));
		else if ((t = scalar_text(ld, it)))
			v[k++] = *t;
	}
	*out = v;
	return k;
}

static void get_func_fields(loader *ld, yaml_node_t *const *f, const yaml_node_t *nd, eng_func_src *src)
{
	if (!f[FK_NAME])
		node_error(ld, nd, "a function needs a name, as graft::ConvRelu");
	else if (want_scalar(ld, f[FK_NAME], "name", "a string"))
		src->name = eng_strdup(ld->rs, scalar(f[FK_NAME]), f[FK_NAME]->data.scalar.length);
	if (f[FK_DOC] && want_scalar(ld, f[FK_DOC], "doc", "a string"))
		src->doc = eng_strdup(ld->rs, scalar(f[FK_DOC]), f[FK_DOC]->data.scalar.length);
	if (f[FK_INPUTS])
		src->ninputs = get_names(ld, f[FK_INPUTS], "inputs", &src->inputs, &src->input_locs);
	if (f[FK_OUTPUTS])
		src->noutputs = get_names(ld, f[FK_OUTPUTS], "outputs", &src->outputs, &src->output_locs);
	else
		node_error(ld, nd, "function '%s' has no outputs (outputs: [y])", src->name ? src->name : "?");
	if (f[FK_ATTRIBUTES])
		src->nattrs = get_attr_texts(ld, f[FK_ATTRIBUTES], &src->attrs);
	if (f[FK_BODY])
		src->body = get_text(ld, f[FK_BODY], "body");
	else
		node_error(ld, nd, "function '%s' has no body", src->name ? src->name : "?");
}

static void load_function(loader *ld, const yaml_node_t *nd)
{
	yaml_node_t *f[FK_COUNT] = {0};
	size_t before = ld->d->nerrors;
	if (nd->type != YAML_MAPPING_NODE) {
		node_error(ld, nd, "a function must be a mapping (name:, inputs:, outputs:, body:, ...), got %s",
			   node_kind(nd));
		return;
	}
	eng_func_src src = {.loc = loc_of(ld, nd)};
	collect_keys(ld, nd, func_keys, FK_COUNT, f, "a function");
	get_func_fields(ld, f, nd, &src);
	if (ld->d->nerrors == before && src.name && src.body)
		eng_func_load(ld->rs, &src, ld->d);
}

static void load_functions(loader *ld, const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE) {
		node_error(ld, seq, "'functions' must be a list of functions (each item starts with '- name:'), got %s",
			   node_kind(seq));
		return;
	}
	for (size_t i = 0; i < nitems(seq); i++)
		load_function(ld, item(ld, seq, i));
}

static void load_document(loader *ld)
{
	yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	yaml_node_t *f[3] = {0};
	if (!root) {
		ir_error(ld->d, ld->file, 1, 1, "the file is empty: a rule file is a mapping with a 'rules:' list");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		node_error(ld, root, "a rule file is a mapping with a 'rules:' list, got %s", node_kind(root));
		return;
	}
	collect_keys(ld, root, file_keys, 3, f, "a rule file");
	if (f[0] && (f[0]->type != YAML_SCALAR_NODE || strcmp(scalar(f[0]), "1") != 0))
		node_error(ld, f[0], "unsupported version '%s': this graft reads version 1",
			   f[0]->type == YAML_SCALAR_NODE ? scalar(f[0]) : node_kind(f[0]));
	if (f[2]) /* first: the rules of the file may use them */
		load_functions(ld, f[2]);
	if (f[1])
		load_rules(ld, f[1]);
	else
		node_error(ld, root, "the file has no 'rules:' list");
}

static void yaml_error(loader *ld, const yaml_parser_t *p)
{
	const char *ctx = p->context;
	if (p->problem && strstr(p->problem, "mapping values are not allowed")) {
		ir_error(ld->d, ld->file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
			 "malformed YAML: %s (quote a where expression that contains ': ', like \"c ? a : b\")",
			 p->problem);
		return;
	}
	if (ctx)
		ir_error(ld->d, ld->file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
			 "malformed YAML: %s (%s at line %d)", p->problem ? p->problem : "syntax error", ctx,
			 (int)p->context_mark.line + 1);
	else
		ir_error(ld->d, ld->file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
			 "malformed YAML: %s", p->problem ? p->problem : "syntax error");
}

/* Parses the file's (single) document into ld->doc. */
static bool parse_yaml(loader *ld)
{
	yaml_parser_t p;
	yaml_document_t extra;
	if (!yaml_parser_initialize(&p)) {
		ir_error(ld->d, ld->file, 0, 0, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)ld->text, ld->n);
	bool ok = yaml_parser_load(&p, &ld->doc);
	if (!ok) {
		yaml_error(ld, &p);
	} else if (!yaml_parser_load(&p, &extra)) {
		yaml_error(ld, &p);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&extra);
		if (root)
			ir_error(ld->d, ld->file, (int)root->start_mark.line + 1, (int)root->start_mark.column + 1,
				 "a rule file holds one YAML document (remove the '---' separator)");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&p);
	return ok;
}

static bool add_rules(eng_ruleset *rs, eng_rule **rules, size_t n)
{
	if (rs->n + n > rs->cap) {
		size_t ncap = rs->cap ? rs->cap : 16;
		while (ncap < rs->n + n)
			ncap *= 2;
		eng_rule **v = realloc(rs->rules, ncap * sizeof *v);
		if (!v)
			return false;
		rs->rules = v;
		rs->cap = ncap;
	}
	memcpy(rs->rules + rs->n, rules, n * sizeof *rules);
	rs->n += n;
	return true;
}

static void load_with(loader *ld)
{
	if (!index_lines(ld)) {
		ir_error(ld->d, ld->file, 0, 0, "out of memory");
		return;
	}
	size_t before = ld->d->nerrors, funcs = ld->rs->nfuncs;
	if (parse_yaml(ld)) {
		load_document(ld);
		yaml_document_delete(&ld->doc);
	}
	if (ld->d->nerrors == before && !add_rules(ld->rs, ld->rules, ld->nrules))
		ir_error(ld->d, ld->file, 0, 0, "out of memory");
	if (ld->d->nerrors != before) /* a file with errors contributes nothing */
		eng_funcs_drop(ld->rs, funcs);
}

bool eng_load_text(eng_ruleset *rs, const char *text, size_t n, const char *file, ir_diags *d)
{
	ir_diags own;
	ir_diags_init(&own);
	if (!d)
		d = &own;
	size_t before = d->nerrors;
	if (!file)
		file = "<text>";
	loader ld = {.rs = rs, .d = d, .text = text, .n = n, .file = eng_strdup(rs, file, strlen(file))};
	if (ld.file)
		load_with(&ld);
	else
		ir_error(d, file, 0, 0, "out of memory");
	free(ld.lines);
	free(ld.rules);
	bool ok = d->nerrors == before;
	ir_diags_free(&own);
	return ok;
}
