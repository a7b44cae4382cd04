/* Names of replacement nodes, composed when they are needed.
 *
 * A replacement node is named "<root>/<rule>" (and "/<replacement name>"
 * when the rule has several), where <root> is the label of the match's
 * root when the rewrite was made: its name, else its first result's, else
 * "#id", cut at 127 characters; the whole name is cut at 255.  Most nodes a
 * run creates are matched and replaced again before it ends, so building
 * and interning each name when its node is made was wasted work on most of
 * them (an eighth of a dense run).  Instead the rewriter records (node,
 * root reference, suffix) and the text is composed from those parts:
 *   - for the nodes alive at the end of eng_apply, whose names are then
 *     interned and set (eng_rw_name_nodes);
 *   - for diagnostics and records on demand (eng_ref_label through the table
 *     the report takes over).
 * A root that is itself a replacement node waiting for its name refers to
 * that node's entry; such chains are cut at NAME_DEPTH by interning the
 * root's text, so composing a name reads at most NAME_DEPTH entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define BASE_CAP 128  /* the root label's part of a name, with its NUL */
#define NAME_DEPTH 32 /* entries a composition may read */

/* Appends s to buf (NUL-terminated, truncating at cap). */
static size_t append(char *buf, size_t len, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (len + n >= cap)
		n = len < cap - 1 ? cap - 1 - len : 0;
	memcpy(buf + len, s, n);
	buf[len + n] = '\0';
	return len + n;
}

static bool is_new(eng_ref r)
{
	return (r & ENG_REF_KIND) == ENG_REF_NEW;
}

/* The text of a reference that is not ENG_REF_NEW, cut to fit buf. */
static void plain_text(const ir_graph *g, eng_ref r, char *buf, size_t cap)
{
	if (!(r & ENG_REF_ID)) {
		append(buf, 0, cap, ir_cstr(g, r));
		return;
	}
	char num[16]; /* "#id" without printf, which is slow next to the rest */
	uint32_t id = r & ~ENG_REF_KIND;
	size_t k = sizeof num;
	num[--k] = '\0';
	do
		num[--k] = (char)('0' + id % 10);
	while ((id /= 10) != 0);
	num[--k] = '#';
	append(buf, 0, cap, num + k);
}

/* Entry k's name (at most ENG_NAME_CAP - 1 characters) into buf[ENG_NAME_CAP]. */
static size_t compose(const ir_graph *g, const eng_newname *tab, uint32_t k, char *buf)
{
	uint32_t chain[NAME_DEPTH];
	int n = 0;
	chain[n++] = k;
	while (n < NAME_DEPTH && is_new(tab[chain[n - 1]].base)) {
		uint32_t b = tab[chain[n - 1]].base & ~ENG_REF_KIND;
		chain[n++] = b;
	}
	char part[BASE_CAP];
	plain_text(g, tab[chain[n - 1]].base, part, sizeof part);
	size_t len = 0;
	for (int i = n - 1; i >= 0; i--) {
		len = append(buf, 0, ENG_NAME_CAP, part);
		len = append(buf, len, ENG_NAME_CAP, "/");
		len = append(buf, len, ENG_NAME_CAP, ir_cstr(g, tab[chain[i]].suffix));
		if (i)
			append(part, 0, sizeof part, buf);
	}
	return len;
}

static const char *ref_text(const ir_graph *g, const eng_newname *tab, size_t ntab, eng_ref r, char *buf,
			    size_t cap)
{
	if (!cap)
		return "";
	if (!(r & ENG_REF_ID))
		return ir_cstr(g, r);
	if (!is_new(r)) {
		plain_text(g, r, buf, cap);
		return buf;
	}
	if ((r & ~ENG_REF_KIND) >= ntab) {
		snprintf(buf, cap, "?");
		return buf;
	}
	char name[ENG_NAME_CAP];
	compose(g, tab, r & ~ENG_REF_KIND, name);
	append(buf, 0, cap, name);
	return buf;
}

ir_str eng_name_suffix(ir_graph *g, const eng_rule *r, int i)
{
	char name[ENG_NAME_CAP], idx[16];
	const eng_rnode *rn = &r->rnodes[i];
	size_t len = append(name, 0, sizeof name, r->name);
	if (r->nrnodes > 1) {
		len = append(name, len, sizeof name, "/");
		if (rn->name && rn->name[0]) {
			len = append(name, len, sizeof name, rn->name);
		} else {
			snprintf(idx, sizeof idx, "%d", i);
			len = append(name, len, sizeof name, idx);
		}
	}
	return ir_intern(g, name, len);
}

const char *eng_ref_label(const eng_report *rep, const ir_graph *g, eng_ref r, char *buf, size_t cap)
{
	return ref_text(g, rep ? rep->newnames : NULL, rep ? rep->nnewnames : 0, r, buf, cap);
}

/* ---------------------------------------------------------------- while rewriting */

/* n's entry + 1, or 0 when n does not wait for a name. */
static uint32_t entry_of(const eng_rw *w, ir_nid n)
{
	return n >= w->nn_first && n - w->nn_first < w->nn_ids ? w->nn_of[n - w->nn_first] : 0;
}

eng_ref eng_rw_ref(const eng_rw *w, ir_nid n)
{
	uint32_t k = entry_of(w, n);
	return k ? ENG_REF_NEW | (k - 1) : eng_node_ref(w->g, n);
}

const char *eng_rw_ref_text(const eng_rw *w, eng_ref r, char *buf, size_t cap)
{
	return ref_text(w->g, w->nn, w->nnn, r, buf, cap);
}

const char *eng_rw_label(const eng_rw *w, ir_nid n, char *buf, size_t cap)
{
	return eng_rw_ref_text(w, eng_rw_ref(w, n), buf, cap);
}

static bool grow_ids(eng_rw *w, ir_nid n)
{
	if (n < w->nn_first)
		return false;
	size_t need = (size_t)(n - w->nn_first) + 1;
	if (need <= w->nn_ids)
		return true;
	size_t cap = w->nn_ids ? w->nn_ids : 1024;
	while (cap < need)
		cap *= 2;
	uint32_t *v = realloc(w->nn_of, cap * sizeof *v);
	if (!v)
		return false;
	memset(v + w->nn_ids, 0, (cap - w->nn_ids) * sizeof *v);
	w->nn_of = v;
	w->nn_ids = cap;
	return true;
}

/* The entry for n: base (its root's reference) and suffix, depth-limited. */
static bool add_entry(eng_rw *w, ir_nid n, eng_ref base, ir_str suffix)
{
	uint32_t depth = 1;
	if (is_new(base)) {
		uint32_t b = base & ~ENG_REF_KIND;
		if (w->nn[b].depth < NAME_DEPTH) {
			depth = w->nn[b].depth + 1;
		} else { /* the root's text stands in for its entry */
			char name[ENG_NAME_CAP];
			base = ir_intern(w->g, name, compose(w->g, w->nn, b, name));
			if (!base)
				return false;
		}
	}
	if (w->nnn == w->nn_cap) {
		size_t cap = w->nn_cap ? w->nn_cap * 2 : 1024;
		eng_newname *v = realloc(w->nn, cap * sizeof *v);
		if (!v)
			return false;
		w->nn = v;
		w->nn_cap = cap;
	}
	if (w->nnn >= ENG_REF_ID >> 1 || !grow_ids(w, n)) /* indexes must fit ENG_REF_NEW */
		return false;
	w->nn[w->nnn] = (eng_newname){n, base, suffix, depth};
	w->nn_of[n - w->nn_first] = (uint32_t)++w->nnn;
	return true;
}

bool eng_rw_name_later(eng_rw *w, ir_nid n, eng_ref base, ir_str suffix)
{
	if (add_entry(w, n, base, suffix))
		return true;
	w->oom = true;
	return false;
}

void eng_rw_name_nodes(eng_rw *w)
{
	enum { BATCH = 16, GUESS = 48 /* bytes per name, to reserve */ };
	size_t live = 0;
	for (size_t k = 0; k < w->nnn; k++) {
		const ir_node *x = ir_node_at(w->g, w->nn[k].node);
		live += x && !x->dead && !x->name;
	}
	if (!live || !ir_intern_reserve(w->g, live, live * GUESS))
		return;
	/* names in batches: each one's slot of the string index is fetched
	 * while the others are composed */
	char name[BATCH][ENG_NAME_CAP];
	size_t len[BATCH];
	ir_node *at[BATCH];
	int nb = 0;
	for (size_t k = 0; k <= w->nnn; k++) {
		ir_node *x = k < w->nnn ? ir_node_at(w->g, w->nn[k].node) : NULL;
		if (x && !x->dead && !x->name) {
			len[nb] = compose(w->g, w->nn, (uint32_t)k, name[nb]);
			ir_intern_prefetch(w->g, name[nb], len[nb]);
			at[nb++] = x;
		}
		if (nb == BATCH || (k == w->nnn && nb)) {
			for (int i = 0; i < nb; i++)
				at[i]->name = ir_intern(w->g, name[i], len[i]);
			nb = 0;
		}
	}
}

void eng_rw_give_names(eng_rw *w, eng_report *rep)
{
	free(rep->newnames);
	rep->newnames = w->nn;
	rep->nnewnames = w->nnn;
	w->nn = NULL;
	w->nnn = w->nn_cap = 0;
}
