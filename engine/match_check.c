/* The matcher's checks (match.c runs them as soon as they are decidable):
 * op matches, attribute values (registry defaults when absent), `where`
 * constraints, and the no-escape condition on complete matches; and the
 * explanations of failures that `graft match --explain` prints (the deepest
 * failure of a search wins). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- explanations */

void eng_m_fail(eng_matcher *m, int depth, const char *fmt, ...)
{
	if (!m->explain || depth <= m->why_depth)
		return;
	m->why_depth = depth;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof m->why, fmt, ap);
	va_end(ap);
}

/* Depth of a failure: deeper steps (and later checks of a step) win. */
int eng_m_depth(int step, int stage)
{
	return step * 8 + stage;
}

eng_ref eng_node_ref(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	if (x->name)
		return x->name;
	ir_val v = x->nout ? ir_node_output(g, n, 0) : IR_NONE;
	return v && ir_value_at(g, v)->name ? ir_value_at(g, v)->name : ENG_REF_ID | (n & ~ENG_REF_KIND);
}

const char *eng_node_label(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	const ir_node *x = ir_node_at(g, n);
	if (x && x->name)
		return ir_cstr(g, x->name);
	ir_val v = x && x->nout ? ir_node_output(g, n, 0) : IR_NONE;
	if (v && ir_value_at(g, v)->name)
		return ir_cstr(g, ir_value_at(g, v)->name);
	char digits[16];
	size_t k = 0, len = 0;
	do
		digits[k++] = (char)('0' + n % 10);
	while ((n /= 10) && k < sizeof digits);
	if (cap < k + 2) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	buf[len++] = '#';
	while (k)
		buf[len++] = digits[--k];
	buf[len] = '\0';
	return buf;
}

/* "%name (f32[1,3])" of a value, for explanations. */
const char *eng_m_value_text(const ir_graph *g, ir_val v, char *buf, size_t cap)
{
	if (!v) {
		snprintf(buf, cap, "(absent)");
		return buf;
	}
	char ty[96];
	const ir_value *x = ir_value_at(g, v);
	ir_type_format(g, x->type, ty, sizeof ty);
	const char *kind = x->def_kind == IR_DEF_CONST ? ", constant" : "";
	if (x->name)
		snprintf(buf, cap, "%%%s (%s%s)", ir_cstr(g, x->name), ty, kind);
	else
		snprintf(buf, cap, "%%#%u (%s%s)", (unsigned)v, ty, kind);
	return buf;
}

const char *eng_m_node_text(const ir_graph *g, ir_nid n, char *buf, size_t cap)
{
	char lb[32];
	snprintf(buf, cap, "'%s' (%s)", eng_node_label(g, n, lb, sizeof lb), ir_cstr(g, ir_node_at(g, n)->op));
	return buf;
}

/* ---------------------------------------------------------------- op matching */

static bool domain_ok(const eng_pnode *p, const ir_graph *g, const ir_node *x, bool names)
{
	const char *dom = ir_cstr(g, x->domain);
	if (!p->domain)
		return !names || !dom[0] || strcmp(dom, "ai.onnx") == 0;
	return strcmp(dom, p->domain) == 0 || (!dom[0] && strcmp(p->domain, "ai.onnx") == 0);
}

static bool op_matches(eng_matcher *m, const eng_pnode *p, const ir_graph *g, const ir_node *x);
static bool name_matches(const eng_pnode *p, const char *op, size_t len, unsigned traits, pcre2_match_data *md);

/* Whether p accepts an (op, domain) of g is remembered (the answer depends
 * on nothing else: the opcode follows from them and the graph's opsets). */
bool eng_op_matches_named(eng_matcher *m, const eng_pnode *p, const ir_graph *g, const ir_node *x)
{
	if (m->opm_g != g) {
		memset(m->opm, 0, sizeof m->opm);
		m->opm_g = g;
	}
	uintptr_t h = ((uintptr_t)p >> 4) * 31u + x->op * 7u + x->domain;
	eng_opm_ent *e = &m->opm[h & (ENG_OPM_CACHE - 1)];
	if (e->p == p && e->op == x->op && e->domain == x->domain)
		return e->yes;
	bool yes = op_matches(m, p, g, x);
	*e = (eng_opm_ent){p, x->op, x->domain, yes};
	return yes;
}

static bool op_matches(eng_matcher *m, const eng_pnode *p, const ir_graph *g, const ir_node *x)
{
	if (!domain_ok(p, g, x, p->opkind == OPM_NAMES))
		return false;
	size_t len;
	const char *op = ir_str_get(g, x->op, &len);
	const ir_opinfo *info = ir_op_info(x->opcode);
	return name_matches(p, op, len, info ? info->traits : 0, m->md) && (p->opkind != OPM_CLASS || info);
}

/* p's op match on an op name (domain aside); traits: the op's registry
 * traits (0 when unregistered). */
static bool name_matches(const eng_pnode *p, const char *op, size_t len, unsigned traits, pcre2_match_data *md)
{
	switch (p->opkind) {
	case OPM_NAMES:
		for (int i = 0; i < p->nnames; i++)
			if (strcmp(op, p->names[i]) == 0)
				return true;
		return false;
	case OPM_REGEX:
		return p->re && pcre2_match(p->re, (PCRE2_SPTR)op, len, 0, 0, md, NULL) >= 0;
	case OPM_CLASS:
		return (traits & p->traits) == p->traits;
	case OPM_ANY:
		return true;
	}
	return false;
}

bool eng_pnode_opcodes(eng_pnode *p)
{
	memset(p->opcodes, 0, sizeof p->opcodes);
	p->opcodes_known = false;
	/* a node of the default domain (string id 0): what domain_ok accepts of it */
	if (p->domain && p->domain[0] && strcmp(p->domain, "ai.onnx") != 0) {
		p->opcodes_known = true; /* no registered op: every bit 0 */
		return true;
	}
	pcre2_match_data *md = p->opkind == OPM_REGEX ? pcre2_match_data_create(1, NULL) : NULL;
	if (p->opkind == OPM_REGEX && !md)
		return false;
	for (uint16_t c = 1; c < IR_OP_COUNT; c++) {
		const ir_opinfo *info = ir_op_info(c);
		if (info && name_matches(p, info->name, strlen(info->name), info->traits, md))
			p->opcodes[c / 64] |= 1ull << (c % 64);
	}
	pcre2_match_data_free(md);
	p->opcodes_known = true;
	return true;
}

/* ---------------------------------------------------------------- operands */

static const char *operand_text(const eng_matcher *m, const eng_operand *o, char *buf, size_t cap)
{
	switch (o->kind) {
	case PO_WILDCARD:
		snprintf(buf, cap, "_%s", o->optional ? "?" : "");
		break;
	case PO_CAPTURE:
		snprintf(buf, cap, "$%s%s", m->r->captures[o->index].name, o->optional ? "?" : "");
		break;
	case PO_NODE:
		snprintf(buf, cap, "%s.%d", m->r->pnodes[o->index].name, o->result);
		break;
	}
	return buf;
}

/* Explains why operand o did not accept v. */
void eng_m_operand_failed(eng_matcher *m, int i, int p, int k, ir_val v)
{
	if (!m->explain)
		return;
	const eng_operand *o = &m->r->pnodes[p].ins[k];
	char ob[64], vb[160], wb[160];
	const char *why = "";
	if (!v && !o->optional)
		why = ": the operand is absent and the pattern operand is not optional";
	if (o->kind == PO_CAPTURE && m->b.cap_bound[o->index]) {
		snprintf(wb, sizeof wb, ": $%s is already bound to %s", m->r->captures[o->index].name,
			 eng_m_value_text(m->g, m->b.cap[o->index], vb, sizeof vb));
		why = wb;
	} else if (o->kind == PO_NODE && v) {
		why = ": it is not the required result of that pattern node";
	}
	ENG_M_FAIL(m, eng_m_depth(i, 1), "pattern node '%s': operand %d (%s) does not match %s%s",
	     m->r->pnodes[p].name, k, operand_text(m, o, ob, sizeof ob), eng_m_value_text(m->g, v, vb, sizeof vb),
	     why);
}

/* ---------------------------------------------------------------- attributes and constraints */

static bool truthy(const eng_ev *v)
{
	return (v->kind == EV_BOOL || v->kind == EV_INT) && v->i != 0;
}

/* Parses a registry default (.gir attribute syntax: int, float or "string"). */
static bool default_ev(const ir_attrdef *a, eng_ev *out)
{
	memset(out, 0, sizeof *out);
	if (!a->dflt)
		return false;
	if (a->kind == IR_ATTR_INT) {
		out->kind = EV_INT;
		out->i = strtoll(a->dflt, NULL, 10);
	} else if (a->kind == IR_ATTR_FLOAT) {
		out->kind = EV_FLOAT;
		out->f = strtod(a->dflt, NULL);
	} else if (a->kind == IR_ATTR_STRING) {
		out->kind = EV_STRING;
		out->s = a->dflt[0] == '"' ? a->dflt + 1 : a->dflt;
		out->s_len = strlen(out->s);
		if (out->s_len && out->s[out->s_len - 1] == '"')
			out->s_len--;
	} else {
		return false;
	}
	return true;
}

static bool num_of(const eng_ev *v, double *x)
{
	if (v->kind == EV_INT || v->kind == EV_BOOL)
		*x = (double)v->i;
	else if (v->kind == EV_FLOAT)
		*x = v->f;
	else
		return false;
	return true;
}

static bool ev_equal_num(const eng_ev *v, double want, bool f32)
{
	double x;
	if (!num_of(v, &x))
		return false;
	return f32 ? (float)x == (float)want : x == want;
}

static bool str_equal(const eng_ev *v, const char *s, size_t n)
{
	return v->kind == EV_STRING && v->s_len == n && memcmp(v->s, s, n) == 0;
}

/* A list attribute (INTS, FLOATS, STRINGS) equals list v. */
static bool list_equals(const ir_graph *g, const ir_attr *a, const eng_ev *v)
{
	if (v->kind != EV_LIST || v->n != a->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		size_t len;
		const char *s;
		bool ok;
		if (a->kind == IR_ATTR_INTS) {
			ok = ev_equal_num(&v->items[i], (double)ir_attr_ints(g, a)[i], false);
		} else if (a->kind == IR_ATTR_FLOATS) {
			ok = ev_equal_num(&v->items[i], ir_attr_floats(g, a)[i], true);
		} else {
			s = ir_str_get(g, ir_attr_ids(g, a)[i], &len);
			ok = str_equal(&v->items[i], s, len);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Graph attribute a (or the default d when a is NULL) equals v. */
static bool attr_equals(const ir_graph *g, const ir_attr *a, const eng_ev *dflt, const eng_ev *v)
{
	if (!a) {
		if (!dflt)
			return v->kind == EV_NONE;
		if (dflt->kind == EV_STRING)
			return str_equal(v, dflt->s, dflt->s_len);
		return ev_equal_num(v, dflt->kind == EV_INT ? (double)dflt->i : dflt->f,
				    dflt->kind == EV_FLOAT);
	}
	size_t len;
	const char *s;
	switch (a->kind) {
	case IR_ATTR_INT:
		return ev_equal_num(v, (double)a->u.i, false);
	case IR_ATTR_FLOAT:
		return ev_equal_num(v, a->u.f, true);
	case IR_ATTR_STRING:
		s = ir_str_get(g, a->u.s, &len);
		return str_equal(v, s, len);
	case IR_ATTR_INTS:
	case IR_ATTR_FLOATS:
	case IR_ATTR_STRINGS:
		return list_equals(g, a, v);
	default:
		return false;
	}
}

static const ir_attrdef *registry_attr(const ir_graph *g, ir_nid n, const char *name)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	for (const ir_attrdef *a = info ? info->attrs : NULL; a && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* One attribute check on graph node n. */
static bool attr_check(eng_matcher *m, int i, int p, const eng_attr_check *c, ir_nid n)
{
	eng_ev v, dv;
	char why[256];
	why[0] = '\0';
	char nb[96];
	eng_scratch_reset(&m->scratch);
	if (!eng_eval(c->value, m->g, &m->b, &m->scratch, &v, m->explain ? why : NULL, sizeof why)) {
		ENG_M_FAIL(m, eng_m_depth(i, 2), "pattern node '%s': attribute %s of %s could not be checked: %s",
		     m->r->pnodes[p].name, c->name, eng_m_node_text(m->g, n, nb, sizeof nb), why);
		return false;
	}
	const ir_attrdef *def = registry_attr(m->g, n, c->name);
	bool has_dflt = def && default_ev(def, &dv);
	if (attr_equals(m->g, ir_attr_find(m->g, n, c->name), has_dflt ? &dv : NULL, &v))
		return true;
	ENG_M_FAIL(m, eng_m_depth(i, 2), "pattern node '%s': attribute %s of %s does not have the required value (%s:%d:%d)",
	     m->r->pnodes[p].name, c->name, eng_m_node_text(m->g, n, nb, sizeof nb), c->loc.file, c->loc.line,
	     c->loc.col);
	return false;
}

/* The graph nodes bound to pattern node p (a chain: all its links). */
static ir_nid *nodes_of(eng_matcher *m, int p, uint32_t *n)
{
	if (m->b.chain[p]) {
		*n = m->b.chain_n[p];
		return m->b.chain[p];
	}
	*n = 1;
	return &m->b.pnode[p];
}

/* Attribute checks of p decidable now; the others are deferred. */
bool eng_m_attrs_now(eng_matcher *m, int i, int p)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	uint32_t n;
	ir_nid *nodes = nodes_of(m, p, &n);
	m->deferred[p] = 0;
	for (int a = 0; a < pn->nattrs; a++) {
		if (a < 64 && !eng_ex_ready(pn->attrs[a].value, &m->b)) {
			m->deferred[p] |= 1ull << a;
			continue;
		}
		for (uint32_t k = 0; k < n; k++)
			if (!attr_check(m, i, p, &pn->attrs[a], nodes[k]))
				return false;
	}
	return true;
}

bool eng_m_attrs_deferred(eng_matcher *m)
{
	for (int p = 0; p < m->r->npnodes; p++) {
		uint32_t n;
		ir_nid *nodes = nodes_of(m, p, &n);
		for (int a = 0; a < m->r->pnodes[p].nattrs && m->deferred[p]; a++)
			if (m->deferred[p] & (1ull << a))
				for (uint32_t k = 0; k < n; k++)
					if (!attr_check(m, m->r->npnodes, p, &m->r->pnodes[p].attrs[a], nodes[k]))
						return false;
	}
	return true;
}

/* The `where` constraints that became decidable at step i. */
bool eng_m_wheres_at(eng_matcher *m, int i)
{
	for (int w = 0; w < m->r->nwhere; w++) {
		if (m->r->where_step[w] != i)
			continue;
		eng_ev v;
		char why[256];
		why[0] = '\0';
		eng_scratch_reset(&m->scratch);
		bool known = eng_eval(m->r->where[w], m->g, &m->b, &m->scratch, &v, m->explain ? why : NULL, sizeof why);
		if (known && truthy(&v))
			continue;
		if (m->explain) {
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);
			if (f) {
				eng_ex_print(m->r->where[w], m->r, f);
				fclose(f);
			}
			const eng_loc *l = &m->r->where[w]->loc;
			ENG_M_FAIL(m, eng_m_depth(i, 3), "constraint `%s` (%s:%d:%d) %s%s", text ? text : "?", l->file,
			     l->line, l->col, known ? "is false" : "is unknown: ", known ? "" : why);
			free(text);
		}
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- no-escape */

static bool list_has(const eng_binding *b, int c, ir_val v)
{
	for (uint32_t i = 0; i < b->list_n[c]; i++)
		if (b->list[c][i] == v)
			return true;
	return false;
}

/* The replacement refers to v (it stays alive). */
static bool ro_keeps(const eng_binding *b, const eng_roperand *o, ir_val v)
{
	for (; o; o = o->fallback) {
		if (o->kind == RO_PNODE && eng_binding_value(b, o->index, o->result) == v)
			return true;
		if (o->kind == RO_CAPTURE && (b->cap[o->index] == v || list_has(b, o->index, v)))
			return true;
	}
	return false;
}

static bool replaced_or_kept(const eng_binding *b, ir_val v)
{
	const eng_rule *r = b->rule;
	for (int i = 0; i < r->noutputs; i++)
		if (eng_binding_value(b, r->outputs[i].pnode, r->outputs[i].presult) == v ||
		    ro_keeps(b, &r->outputs[i].with, v))
			return true;
	for (int i = 0; i < r->nrnodes; i++)
		for (int k = 0; k < r->rnodes[i].nins; k++)
			if (ro_keeps(b, &r->rnodes[i].ins[k], v))
				return true;
	return false;
}

/* Values the replacement removes have no users outside the match. */
bool eng_m_no_escape(eng_matcher *m)
{
	for (size_t i = 0; i < m->nused; i++) {
		ir_nid n = m->used[i];
		uint32_t nout = ir_node_at(m->g, n)->nout;
		for (uint32_t k = 0; k < nout; k++) {
			ir_val v = ir_node_output(m->g, n, k);
			if (!v || (!ir_value_at(m->g, v)->nuses && !ir_value_is_output(m->g, v)))
				continue;
			if (replaced_or_kept(&m->b, v))
				continue;
			char vb[160], nb[96];
			if (ir_value_is_output(m->g, v)) {
				ENG_M_FAIL(m, eng_m_depth(m->r->npnodes, 4), "%s is a graph output and is not replaced",
				     eng_m_value_text(m->g, v, vb, sizeof vb));
				return false;
			}
			for (uint32_t u = ir_first_use(m->g, v); u; u = ir_next_use(m->g, u))
				if (!eng_m_is_used(m, ir_use_at(m->g, u)->node)) {
					ENG_M_FAIL(m, eng_m_depth(m->r->npnodes, 4),
					     "%s escapes: node %s outside the match uses it and it is not replaced",
					     eng_m_value_text(m->g, v, vb, sizeof vb),
					     eng_m_node_text(m->g, ir_use_at(m->g, u)->node, nb, sizeof nb));
					return false;
				}
		}
	}
	return true;
}

const char *eng_m_opm_text(const eng_pnode *pn, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	switch (pn->opkind) {
	case OPM_NAMES:
		for (int k = 0; k < pn->nnames && len < cap; k++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? "|" : "", pn->names[k]);
		break;
	case OPM_REGEX:
		snprintf(buf, cap, "a regex over op types");
		break;
	case OPM_CLASS:
		for (unsigned bit = 1; bit && len < cap; bit <<= 1)
			if ((pn->traits & bit) && eng_class_name(bit))
				len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "+" : "@",
							eng_class_name(bit));
		break;
	case OPM_ANY:
		snprintf(buf, cap, "*");
		break;
	}
	return buf;
}
