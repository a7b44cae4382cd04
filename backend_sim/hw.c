/* Hardware descriptions: the YAML schema, its loader with file:line:col
 * diagnostics for every problem in a file, and the built-in descriptions. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cost_internal.h"

typedef enum { F_INT, F_NUM, F_BOOL, F_NAME, F_TEXT, F_SIZE, F_STORAGE } field_kind;

typedef struct field {
	const char *section; /* NULL: top level */
	const char *key;
	field_kind kind;
	size_t off;
	bool required;
	bool zero_ok;
} field;

#define HW(m) offsetof(sim_hw, m)
static const field fields[] = {
	{NULL, "name", F_NAME, HW(name), true, false},
	{NULL, "description", F_TEXT, 0, false, false},
	{NULL, "clock_mhz", F_NUM, HW(clock_mhz), true, false},
	{NULL, "cores", F_INT, HW(cores), false, false},
	{NULL, "launch_us", F_NUM, HW(launch_us), true, true},
	{NULL, "double_buffer", F_BOOL, HW(double_buffer), false, false},
	{NULL, "float_storage", F_STORAGE, HW(float_fp16), false, false},
	{"cube", "m", F_INT, HW(cube.m), true, false},
	{"cube", "k", F_INT, HW(cube.k), true, false},
	{"cube", "n", F_INT, HW(cube.n), true, false},
	{"cube", "k_int8", F_INT, HW(cube.k_int8), false, false},
	{"cube", "units", F_INT, HW(cube.units), true, false},
	{"cube", "latency", F_INT, HW(cube.latency), true, true},
	{"vector", "bytes", F_INT, HW(vector.bytes), true, false},
	{"vector", "startup", F_INT, HW(vector.startup), true, true},
	{"vector", "repeats_per_cycle", F_NUM, HW(vector.repeats_per_cycle), true, false},
	{"vector", "max_repeat", F_INT, HW(vector.max_repeat), false, false},
	{"memory", "l0a", F_SIZE, HW(mem.l0a), true, false},
	{"memory", "l0b", F_SIZE, HW(mem.l0b), true, false},
	{"memory", "l0c", F_SIZE, HW(mem.l0c), true, false},
	{"memory", "l1", F_SIZE, HW(mem.l1), true, false},
	{"memory", "ub", F_SIZE, HW(mem.ub), true, false},
	{"memory", "l2", F_SIZE, HW(mem.l2), true, false},
	{"bandwidth", "l1_to_l0a", F_NUM, HW(bw.l1_l0a), true, false},
	{"bandwidth", "l1_to_l0b", F_NUM, HW(bw.l1_l0b), true, false},
	{"bandwidth", "l0c_to_ub", F_NUM, HW(bw.l0c_ub), true, false},
	{"bandwidth", "l2_read", F_NUM, HW(bw.l2_read), true, false},
	{"bandwidth", "l2_write", F_NUM, HW(bw.l2_write), true, false},
	{"bandwidth", "ddr_read", F_NUM, HW(bw.ddr_read), true, false},
	{"bandwidth", "ddr_write", F_NUM, HW(bw.ddr_write), true, false},
};
#undef HW
#define NFIELDS (sizeof fields / sizeof fields[0])

static const char *const sections[] = {"cube", "vector", "memory", "bandwidth"};
#define NSECTIONS (sizeof sections / sizeof sections[0])

typedef struct loader {
	yaml_document_t *doc;
	const char *file;
	ir_diags *d;
	sim_hw *hw;
	size_t errors;
	yaml_node_t *seen[NFIELDS];      /* the value node of each field given */
	yaml_node_t *section[NSECTIONS]; /* the mapping of each section given */
} loader;

static void err_at(loader *l, const yaml_node_t *node, const char *fmt, ...) IR_PRINTF(3, 4);

static void err_at(loader *l, const yaml_node_t *node, const char *fmt, ...)
{
	int line = node ? (int)node->start_mark.line + 1 : 1;
	int col = node ? (int)node->start_mark.column + 1 : 1;
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(l->d, IR_ERROR, l->file, line, col, fmt, ap);
	va_end(ap);
	l->errors++;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "a plain scalar" : "a quoted string";
	}
}

static void set_defaults(sim_hw *hw)
{
	memset(hw, 0, sizeof *hw);
	hw->cores = 1;
	hw->double_buffer = true;
	hw->float_fp16 = true;
	hw->vector.max_repeat = 255;
}

/* ---------------------------------------------------------------- scalar values */

static bool plain(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	*out = x;
	return *end == '\0' && errno == 0;
}

static bool parse_num(const char *s, double *out)
{
	char *end;
	if (!*s)
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* "65536", "64 KiB", "1MiB", "8 MiB", "2 GiB", "512 B" */
static bool parse_size(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t scale;
	} units[] = {{"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024LL * 1024 * 1024}};
	char *end;
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (errno || x > INT64_MAX / units[i].scale)
				return false;
			*out = x * units[i].scale;
			return true;
		}
	return false;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*out = false;
	else
		return false;
	return true;
}

static const char *kind_text(field_kind k)
{
	switch (k) {
	case F_INT:
		return "an integer";
	case F_NUM:
		return "a number";
	case F_BOOL:
		return "true or false";
	case F_SIZE:
		return "a size (bytes, or a number with KiB/MiB/GiB)";
	case F_STORAGE:
		return "'fp16' or 'declared'";
	default:
		return "a string";
	}
}

/* Counts and shapes up to 2^20, sizes up to 2^50 bytes, rates up to 1e12:
 * beyond any hardware, and small enough that products stay in int64. */
static double limit(field_kind k)
{
	return k == F_INT ? 1048576.0 : k == F_SIZE ? 1125899906842624.0 : 1e12;
}

static void check_range(loader *l, const field *f, const yaml_node_t *v, double x, const char *path)
{
	if (x < 0)
		err_at(l, v, "'%s' must not be negative, got %s", path, scalar(v));
	else if (x == 0 && !f->zero_ok)
		err_at(l, v, "'%s' must be positive, got %s", path, scalar(v));
	else if (x > limit(f->kind))
		err_at(l, v, "'%s' is too large, got %s (at most %.0f)", path, scalar(v), limit(f->kind));
}

static bool store_number(loader *l, const field *f, const yaml_node_t *v, const char *path)
{
	char *p = (char *)l->hw + f->off;
	int64_t i = 0;
	double x = 0;
	if (f->kind == F_NUM) {
		if (!plain(v) || !parse_num(scalar(v), &x))
			return false;
		memcpy(p, &x, sizeof x);
		check_range(l, f, v, x, path);
		return true;
	}
	if (!plain(v) || !(f->kind == F_SIZE ? parse_size(scalar(v), &i) : parse_int(scalar(v), &i)))
		return false;
	memcpy(p, &i, sizeof i);
	check_range(l, f, v, (double)i, path);
	return true;
}

static bool store_text(loader *l, const field *f, const yaml_node_t *v, const char *path)
{
	if (v->type != YAML_SCALAR_NODE)
		return false;
	const char *s = scalar(v);
	if (f->kind == F_TEXT)
		return true;
	if (f->kind == F_BOOL) {
		bool b;
		if (!plain(v) || !parse_bool(s, &b))
			return false;
		memcpy((char *)l->hw + f->off, &b, sizeof b);
		return true;
	}
	if (f->kind == F_STORAGE) {
		if (strcmp(s, "fp16") && strcmp(s, "declared"))
			return false;
		l->hw->float_fp16 = strcmp(s, "fp16") == 0;
		return true;
	}
	if (!*s || strlen(s) >= sizeof l->hw->name)
		err_at(l, v, "'%s' must be 1 to 63 characters, got '%s'", path, s);
	else
		strcpy(l->hw->name, s);
	return true;
}

static void store(loader *l, const field *f, const yaml_node_t *v)
{
	char path[64];
	snprintf(path, sizeof path, "%s%s%s", f->section ? f->section : "", f->section ? "." : "", f->key);
	bool ok;
	if (f->kind == F_INT || f->kind == F_NUM || f->kind == F_SIZE)
		ok = v->type == YAML_SCALAR_NODE && store_number(l, f, v, path);
	else
		ok = store_text(l, f, v, path);
	if (ok)
		return;
	if (v->type == YAML_SCALAR_NODE)
		err_at(l, v, "wrong type for '%s': expected %s, got '%s'", path, kind_text(f->kind), scalar(v));
	else
		err_at(l, v, "wrong type for '%s': expected %s, got %s", path, kind_text(f->kind), node_kind(v));
}

/* ---------------------------------------------------------------- the document walk */

static int find_field(const char *section, const char *key)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		bool same_sec = section ? fields[i].section && !strcmp(section, fields[i].section) : !fields[i].section;
		if (same_sec && !strcmp(key, fields[i].key))
			return (int)i;
	}
	return -1;
}

static int find_section(const char *key)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (!strcmp(key, sections[i]))
			return (int)i;
	return -1;
}

static void walk(loader *l, yaml_node_t *map, const char *section);

static void walk_section(loader *l, yaml_node_t *key, yaml_node_t *val, int s)
{
	if (l->section[s]) {
		err_at(l, key, "duplicate section '%s'", sections[s]);
		return;
	}
	if (val->type != YAML_MAPPING_NODE) {
		err_at(l, val, "wrong type for '%s': expected a mapping, got %s", sections[s], node_kind(val));
		return;
	}
	l->section[s] = val;
	walk(l, val, sections[s]);
}

static void walk_pair(loader *l, yaml_node_t *key, yaml_node_t *val, const char *section)
{
	if (key->type != YAML_SCALAR_NODE) {
		err_at(l, key, "expected a key, got %s", node_kind(key));
		return;
	}
	const char *k = scalar(key);
	int s = section ? -1 : find_section(k);
	if (s >= 0) {
		walk_section(l, key, val, s);
		return;
	}
	int f = find_field(section, k);
	if (f < 0) {
		if (section)
			err_at(l, key, "unknown key '%s' in '%s'", k, section);
		else
			err_at(l, key, "unknown key '%s'", k);
		return;
	}
	if (l->seen[f]) {
		err_at(l, key, "duplicate key '%s'", k);
		return;
	}
	l->seen[f] = val;
	store(l, &fields[f], val);
}

static void walk(loader *l, yaml_node_t *map, const char *section)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(l->doc, p->value);
		if (key && val)
			walk_pair(l, key, val, section);
	}
}

static void check_required(loader *l, yaml_node_t *root)
{
	for (size_t s = 0; s < NSECTIONS; s++)
		if (!l->section[s])
			err_at(l, root, "missing required section '%s'", sections[s]);
	for (size_t i = 0; i < NFIELDS; i++) {
		const field *f = &fields[i];
		if (!f->required || l->seen[i])
			continue;
		if (!f->section)
			err_at(l, root, "missing required key '%s'", f->key);
		else if (l->section[find_section(f->section)])
			err_at(l, l->section[find_section(f->section)], "missing required key '%s' in '%s'", f->key,
			       f->section);
	}
}

static void report_syntax(const yaml_parser_t *p, const char *file, ir_diags *d)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	if (p->context)
		ir_error(d, file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
			 "malformed YAML: %s %s", p->context, problem);
	else
		ir_error(d, file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
			 "malformed YAML: %s", problem);
}

static bool load_doc(yaml_document_t *doc, const char *file, sim_hw *hw, ir_diags *d)
{
	loader l = {.doc = doc, .file = file, .d = d, .hw = hw};
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root) {
		ir_error(d, file, 1, 1, "empty hardware description");
		return false;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_at(&l, root, "a hardware description must be a mapping, got %s", node_kind(root));
		return false;
	}
	walk(&l, root, NULL);
	check_required(&l, root);
	return l.errors == 0;
}

bool sim_hw_parse(const char *text, size_t n, const char *file, sim_hw *hw, ir_diags *d)
{
	yaml_parser_t p;
	yaml_document_t doc;
	set_defaults(hw);
	if (!yaml_parser_initialize(&p)) {
		ir_error(d, file, 0, 0, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
	if (!yaml_parser_load(&p, &doc)) {
		report_syntax(&p, file, d);
		yaml_parser_delete(&p);
		return false;
	}
	bool ok = load_doc(&doc, file, hw, d);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return ok;
}

/* ---------------------------------------------------------------- built-ins and loading */

size_t sim_hw_builtin_count(void)
{
	return sim_hw_nbuiltins;
}

const char *sim_hw_builtin_name(size_t i)
{
	return i < sim_hw_nbuiltins ? sim_hw_builtins[i].name : NULL;
}

const char *sim_hw_builtin_text(const char *name, size_t *n)
{
	for (size_t i = 0; i < sim_hw_nbuiltins; i++)
		if (!strcmp(name, sim_hw_builtins[i].name)) {
			if (n)
				*n = sim_hw_builtins[i].len;
			return sim_hw_builtins[i].text;
		}
	return NULL;
}

bool sim_hw_load(const char *spec, sim_hw *hw, ir_diags *d)
{
	size_t n;
	const char *text = sim_hw_builtin_text(spec, &n);
	if (text) {
		char file[96];
		snprintf(file, sizeof file, "backend_sim/hw/%s.yaml", spec);
		return sim_hw_parse(text, n, file, hw, d);
	}
	if (!strchr(spec, '/') && !strstr(spec, ".yaml") && !strstr(spec, ".yml")) {
		char names[256] = "";
		for (size_t i = 0; i < sim_hw_nbuiltins; i++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
				 sim_hw_builtins[i].name);
		ir_error(d, NULL, 0, 0, "unknown hardware '%s': not a built-in (%s) nor a .yaml file", spec, names);
		return false;
	}
	char *buf = ir_read_file(spec, &n, d);
	if (!buf)
		return false;
	bool ok = sim_hw_parse(buf, n, spec, hw, d);
	free(buf);
	return ok;
}

int64_t sim_hw_peak(const sim_hw *hw, bool int8)
{
	int64_t k = int8 && hw->cube.k_int8 ? hw->cube.k_int8 : hw->cube.k;
	return hw->cube.m * k * hw->cube.n * hw->cube.units;
}

double sim_hw_launch_cycles(const sim_hw *hw)
{
	return hw->launch_us * hw->clock_mhz;
}
