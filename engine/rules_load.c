/* Rule sets: the arena that owns compiled rules, loading rule files (YAML
 * through libyaml, every scalar mapped back to file positions), and the
 * rule-set API of engine.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- the arena */

typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(max_align_t) unsigned char data[];
} arena_block;

typedef struct arena {
	arena_block *head;
	pcre2_code **regexes; /* freed with the ruleset */
	size_t nregexes, cap;
} arena;

enum { BLOCK_SIZE = 64 * 1024, ALIGN = _Alignof(max_align_t) };

void *eng_alloc(eng_ruleset *rs, size_t n)
{
	arena *a = rs->arena;
	n = (n + ALIGN - 1) / ALIGN * ALIGN;
	if (n == 0)
		n = ALIGN;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
		arena_block *b = calloc(1, sizeof *b + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

const char *eng_strdup(eng_ruleset *rs, const char *s, size_t n)
{
	char *p = eng_alloc(rs, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

void *eng_grow(eng_ruleset *rs, void *v, int n, int *cap, size_t size)
{
	if (n < *cap)
		return v;
	int ncap = *cap ? *cap * 2 : 4;
	void *nv = eng_alloc(rs, (size_t)ncap * size);
	if (!nv)
		return NULL;
	if (n)
		memcpy(nv, v, (size_t)n * size);
	*cap = ncap;
	return nv;
}

pcre2_code *eng_regex(eng_ruleset *rs, const char *re, size_t n, int *err, size_t *off)
{
	arena *a = rs->arena;
	PCRE2_SIZE eoff = 0;
	*off = 0;
	if (a->nregexes == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 16;
		pcre2_code **v = realloc(a->regexes, ncap * sizeof *v);
		if (!v) {
			*err = PCRE2_ERROR_NOMEMORY;
			return NULL;
		}
		a->regexes = v;
		a->cap = ncap;
	}
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, n, PCRE2_ANCHORED | PCRE2_ENDANCHORED, err, &eoff, NULL);
	*off = eoff;
	if (code)
		a->regexes[a->nregexes++] = code;
	return code;
}

/* ---------------------------------------------------------------- rule sets */

eng_ruleset *eng_ruleset_new(void)
{
	eng_ruleset *rs = calloc(1, sizeof *rs);
	arena *a = calloc(1, sizeof *a);
	if (!rs || !a) {
		free(rs);
		free(a);
		return NULL;
	}
	rs->arena = a;
	return rs;
}

void eng_ruleset_free(eng_ruleset *rs)
{
	if (!rs)
		return;
	arena *a = rs->arena;
	eng_funcs_drop(rs, 0); /* the templates; the functions themselves are in the arena */
	for (size_t i = 0; i < a->nregexes; i++)
		pcre2_code_free(a->regexes[i]);
	free(a->regexes);
	for (arena_block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
	free(rs->rules);
	free(rs->funcs);
	free(rs);
}

size_t eng_nrules(const eng_ruleset *rs)
{
	return rs->n;
}

const eng_rule *eng_rule_at(const eng_ruleset *rs, size_t i)
{
	return i < rs->n ? rs->rules[i] : NULL;
}

static eng_rule *find_rule(const eng_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->rules[i]->name, name) == 0)
			return rs->rules[i];
	return NULL;
}

const eng_rule *eng_rule_find(const eng_ruleset *rs, const char *name)
{
	return find_rule(rs, name);
}

const char *eng_rule_name(const eng_rule *r)
{
	return r->name;
}

const char *eng_rule_doc(const eng_rule *r)
{
	return r->doc ? r->doc : "";
}

const char *eng_rule_file(const eng_rule *r)
{
	return r->loc_text;
}

int eng_rule_line(const eng_rule *r)
{
	return r->loc.line;
}

int eng_rule_phase(const eng_rule *r)
{
	return r->phase;
}

int eng_rule_benefit(const eng_rule *r)
{
	return r->benefit;
}

bool eng_rule_exact(const eng_rule *r)
{
	return r->exact;
}

double eng_rule_tolerance(const eng_rule *r)
{
	return r->exact ? 0 : r->tolerance;
}

bool eng_rule_when_cheaper(const eng_rule *r)
{
	return r->when_cheaper;
}

bool eng_rule_enabled(const eng_rule *r)
{
	return r->enabled;
}

static void unknown_rule(const eng_ruleset *rs, const char *name, ir_diags *d)
{
	const char **names = malloc((rs->n + 1) * sizeof *names);
	const char *near = NULL;
	if (names) {
		for (size_t i = 0; i < rs->n; i++)
			names[i] = rs->rules[i]->name;
		near = eng_closest(name, strlen(name), names, rs->n);
	}
	if (near)
		ir_error(d, NULL, 0, 0, "unknown rule '%s' (did you mean '%s'?)", name, near);
	else
		ir_error(d, NULL, 0, 0, "unknown rule '%s'", name);
	free(names);
}

bool eng_ruleset_enable(eng_ruleset *rs, const char *name, bool on, ir_diags *d)
{
	eng_rule *r = find_rule(rs, name);
	if (!r) {
		unknown_rule(rs, name, d);
		return false;
	}
	r->enabled = on;
	return true;
}

bool eng_ruleset_only(eng_ruleset *rs, const char *const *names, size_t n, ir_diags *d)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		if (!find_rule(rs, names[i])) {
			unknown_rule(rs, names[i], d);
			ok = false;
		}
	if (!ok)
		return false;
	for (size_t i = 0; i < rs->n; i++) {
		rs->rules[i]->enabled = false;
		for (size_t k = 0; k < n; k++)
			if (strcmp(rs->rules[i]->name, names[k]) == 0)
				rs->rules[i]->enabled = true;
	}
	return true;
}

/* ---------------------------------------------------------------- files and directories */

static bool load_file(eng_ruleset *rs, const char *path, ir_diags *d)
{
	size_t n;
	char *text = ir_read_file(path, &n, d);
	if (!text)
		return false;
	bool ok = eng_load_text(rs, text, n, path, d);
	free(text);
	return ok;
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml / *.yml file of dir, sorted; NULL on error (reported). */
static char **list_dir(const char *dir, size_t *n, ir_diags *d)
{
	DIR *dp = opendir(dir);
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	*n = 0;
	if (!dp) {
		ir_error(d, dir, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	while ((e = readdir(dp))) {
		if (!is_rule_file(e->d_name))
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[*n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
			break;
		sprintf(v[(*n)++], "%s/%s", dir, e->d_name);
	}
	closedir(dp);
	qsort(v, *n, sizeof *v, by_name);
	return v ? v : calloc(1, sizeof *v);
}

bool eng_load_path(eng_ruleset *rs, const char *path, ir_diags *d)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return load_file(rs, path, d);
	size_t n;
	char **files = list_dir(path, &n, d);
	bool ok = files != NULL;
	for (size_t i = 0; i < n; i++) {
		ok = load_file(rs, files[i], d) && ok;
		free(files[i]);
	}
	free(files);
	return ok;
}
