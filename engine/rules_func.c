/* Functions defined in rule files (`functions:`, docs/rules.md section 7.9):
 * graft's fused ops get their bodies here.  A body is compiled like a
 * replacement whose captures are the formal inputs, built once at load
 * time into a template graph (its function table holds the function, at
 * default opset 13), and installed into a graph by the rewriter on first
 * use, re-resolved at that graph's opsets and verified there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

enum { TMPL_OPSET = 13 };

static bool default_domain(const char *d)
{
	return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static bool same_domain(const char *a, const char *b)
{
	return default_domain(a) ? default_domain(b) : !default_domain(b) && strcmp(a, b) == 0;
}

const eng_func *eng_func_find(const eng_ruleset *rs, const char *domain, const char *name)
{
	for (size_t i = 0; i < rs->nfuncs; i++)
		if (strcmp(rs->funcs[i]->name, name) == 0 && same_domain(rs->funcs[i]->domain, domain))
			return rs->funcs[i];
	return NULL;
}

size_t eng_nfuncs(const eng_ruleset *rs)
{
	return rs->nfuncs;
}

eng_func_info eng_func_info_at(const eng_ruleset *rs, size_t i)
{
	const eng_func *f = rs->funcs[i];
	return (eng_func_info){f->domain ? f->domain : "", f->name, f->doc ? f->doc : "", f->loc.file, f->loc.line,
			       f->loc.col, f->ninputs, f->noutputs, f->nattrs, f->tmpl};
}

void eng_funcs_drop(eng_ruleset *rs, size_t from)
{
	for (size_t i = from; i < rs->nfuncs; i++)
		ir_graph_free(rs->funcs[i]->tmpl);
	if (from < rs->nfuncs)
		rs->nfuncs = from;
}

static bool push_func(eng_ruleset *rs, eng_func *f)
{
	if (rs->nfuncs == rs->fcap) {
		size_t ncap = rs->fcap ? rs->fcap * 2 : 16;
		eng_func **v = realloc(rs->funcs, ncap * sizeof *v);
		if (!v)
			return false;
		rs->funcs = v;
		rs->fcap = ncap;
	}
	rs->funcs[rs->nfuncs++] = f;
	return true;
}

/* ---------------------------------------------------------------- compiling */

static bool is_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool is_domain(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

/* "domain::Op" or "Op" into f. */
static bool split_name(eng_cc *cc, const eng_func_src *src, eng_func *f)
{
	const char *sep = strstr(src->name, "::");
	f->name = sep ? eng_strdup(cc->rs, sep + 2, strlen(sep + 2)) : src->name;
	f->domain = sep ? eng_strdup(cc->rs, src->name, (size_t)(sep - src->name)) : NULL;
	if (!f->name || (sep && !f->domain))
		return eng_cc_oom(cc, src->loc), false;
	if (!is_name(f->name) || (f->domain && !is_domain(f->domain)))
		eng_cc_error(cc, src->loc, "invalid function name '%s': write domain::Op, as graft::ConvRelu", src->name);
	else if (eng_func_find(cc->rs, f->domain, f->name))
		eng_cc_error(cc, src->loc, "function '%s' is defined twice", src->name);
	else if (default_domain(f->domain) && ir_op_known(f->name))
		eng_cc_error(cc, src->loc, "function '%s' would hide the ONNX op of that name: give it a domain",
			     src->name);
	return true;
}

/* The formal inputs as the captures of a rule without a pattern. */
static bool formals(eng_cc *cc, const eng_func_src *src, eng_rule *r)
{
	r->captures = eng_alloc(cc->rs, (size_t)(src->ninputs + 1) * sizeof *r->captures);
	if (!r->captures)
		return eng_cc_oom(cc, src->loc), false;
	for (int i = 0; i < src->ninputs; i++) {
		const char *name = src->inputs[i];
		if (!is_name(name))
			eng_cc_error(cc, src->input_locs[i], "invalid input name '%s': a letter or '_', then letters, "
							     "digits or '_'", name);
		else if (eng_capture_by_name(r, name, strlen(name)) >= 0)
			eng_cc_error(cc, src->input_locs[i], "input '%s' is listed twice", name);
		r->captures[r->ncaptures++] = (eng_capture){name, false, src->input_locs[i]};
	}
	return true;
}

/* True when e reads the match: a capture or a pattern node. */
static bool reads_match(const eng_ex *e)
{
	if (!e)
		return false;
	if (e->kind == EX_CAPTURE || e->kind == EX_NODE)
		return true;
	for (int i = 0; i < e->nargs; i++)
		if (reads_match(e->args[i]))
			return true;
	return false;
}

static void check_constant(eng_cc *cc, const eng_ex *e)
{
	if (reads_match(e))
		eng_cc_error(cc, e->loc, "a function's attributes and constants are built once, for every call: "
					 "they cannot read an input");
}

static void check_constants(eng_cc *cc, const eng_rule *r, const eng_roperand *outs, int nouts)
{
	for (int i = 0; i < r->nrnodes; i++) {
		for (int k = 0; k < r->rnodes[i].nins; k++)
			if (r->rnodes[i].ins[k].kind == RO_EXPR)
				check_constant(cc, r->rnodes[i].ins[k].expr);
		for (int k = 0; k < r->rnodes[i].nattrs; k++)
			check_constant(cc, r->rnodes[i].attrs[k].value);
	}
	for (int i = 0; i < nouts; i++)
		if (outs[i].kind == RO_EXPR)
			check_constant(cc, outs[i].expr);
}

typedef struct fattr {
	const char *name;
	eng_ex *dflt; /* NULL: no default */
	eng_loc loc;
} fattr;

/* `name` or `name = expr`. */
static bool parse_fattr(eng_cc *cc, const eng_text *t, fattr *out)
{
	eng_lexer lx;
	eng_lex_init(&lx, t, true, cc->d);
	*out = (fattr){.loc = eng_text_loc(t, lx.tok.pos)};
	if (lx.tok.kind != TK_NAME)
		return eng_cc_error(cc, out->loc, "expected an attribute name, as 'pads' or 'epsilon = 1e-5'"), false;
	if (!(out->name = eng_strdup(cc->rs, t->s + lx.tok.pos, lx.tok.end - lx.tok.pos)))
		return eng_cc_oom(cc, out->loc), false;
	eng_lex_next(&lx);
	if (eng_tok_is(&lx.tok, '=')) {
		eng_lex_next(&lx);
		if (!(out->dflt = eng_parse_expr(cc, &lx)))
			return false;
		eng_check_expr(cc, out->dflt, ECTX_SET_ATTR, IR_ATTR_UNDEF);
		check_constant(cc, out->dflt);
	}
	if (lx.tok.kind != TK_EOF)
		return eng_cc_error(cc, eng_text_loc(t, lx.tok.pos),
				    "expected the end of the attribute ('name' or 'name = default')"), false;
	return true;
}

static bool declare_attrs(eng_cc *cc, const eng_func_src *src, eng_func *f, fattr *fa)
{
	const char **names = eng_alloc(cc->rs, (size_t)(src->nattrs + 1) * sizeof *names);
	if (!names)
		return eng_cc_oom(cc, src->loc), false;
	for (int i = 0; i < src->nattrs; i++) {
		if (!parse_fattr(cc, &src->attrs[i], &fa[i]))
			continue;
		for (int k = 0; k < f->nattrs; k++)
			if (strcmp(names[k], fa[i].name) == 0)
				eng_cc_error(cc, fa[i].loc, "attribute '%s' is declared twice", fa[i].name);
		names[f->nattrs++] = fa[i].name;
	}
	f->attrs = names;
	return true;
}

/* ---------------------------------------------------------------- building the template */

typedef struct tbuild {
	eng_cc *cc;
	const eng_func *f;
	ir_graph *holder, *body;
	ir_val *formals;
	ir_nid *nodes;
	eng_binding b; /* empty: bodies read no match */
	eng_scratch s;
} tbuild;

static bool build_fail(tbuild *t, eng_loc at, const char *what, const char *why)
{
	eng_cc_error(t->cc, at, "%s: %s", what, why[0] ? why : "out of memory");
	return false;
}

/* A fill(...) / const(...) operand as a Constant node (functions have no
 * initializers). */
static ir_val const_node(tbuild *t, const eng_roperand *o)
{
	char why[256] = "";
	eng_scratch_reset(&t->s);
	ir_val v = eng_eval_const(o->expr, t->body, &t->b, &t->s, why, sizeof why);
	if (!v)
		return build_fail(t, o->loc, "cannot build the constant", why), IR_NONE;
	ir_tid tid = ir_value_at(t->body, v)->tensor;
	ir_nid n = ir_node_new(t->body, NULL, "Constant", NULL, 0, 1, 0);
	ir_const_remove(t->body, v);
	if (!n)
		return IR_NONE;
	ir_attr_set_tensor(t->body, n, "value", tid);
	return ir_node_output(t->body, n, 0);
}

static bool operand(tbuild *t, const eng_roperand *o, ir_val *out)
{
	*out = IR_NONE;
	if (o->kind == RO_CAPTURE)
		*out = t->formals[o->index];
	else if (o->kind == RO_RNODE)
		*out = ir_node_output(t->body, t->nodes[o->index], (uint32_t)o->result);
	else if (o->kind == RO_EXPR)
		return (*out = const_node(t, o)) != IR_NONE;
	return true;
}

static ir_attr_kind registry_kind(const ir_graph *g, ir_nid n, const char *name, bool *known)
{
	const ir_opinfo *info = ir_op_info(ir_node_at(g, n)->opcode);
	*known = info == NULL; /* an op outside the registry may take any attribute */
	for (const ir_attrdef *a = info ? info->attrs : NULL; a && a->name; a++)
		if (strcmp(a->name, name) == 0) {
			*known = true;
			return a->kind;
		}
	return IR_ATTR_UNDEF;
}

static void ref_attr(tbuild *t, ir_nid n, const char *name, const char *ref, bool only_known)
{
	bool known;
	ir_attr a = {0};
	a.kind = (uint8_t)registry_kind(t->body, n, name, &known);
	if (only_known && !known)
		return;
	a.name = ir_intern_cstr(t->body, name);
	a.ref = ir_intern_cstr(t->body, ref);
	ir_attr_put(t->body, n, &a);
}

static bool set_attrs(tbuild *t, ir_nid n, const eng_rnode *rn)
{
	for (int i = 0; i < rn->nattrs; i++) {
		const eng_rattr *ra = &rn->attrs[i];
		eng_ev v;
		char why[256] = "";
		if (ra->spread_node == ENG_SPREAD_REFS) {
			for (int k = 0; k < t->f->nattrs; k++)
				ref_attr(t, n, t->f->attrs[k], t->f->attrs[k], true);
		} else if (ra->ref) {
			ref_attr(t, n, ra->name, ra->ref, false);
		} else {
			eng_scratch_reset(&t->s);
			if (!eng_eval(ra->value, t->body, &t->b, &t->s, &v, why, sizeof why) ||
			    !eng_put_attr(t->body, n, ra->name, &v))
				return build_fail(t, ra->loc, "cannot compute the attribute", why[0] ? why : ra->name);
		}
	}
	return true;
}

/* Names the results after the body's local names. */
static void name_results(tbuild *t, ir_nid n, const eng_rnode *rn)
{
	for (int k = 0; k < rn->nresults && rn->result_names; k++)
		if (rn->result_names[k][0] != '_') /* `_` and anonymous nested terms name nothing */
			ir_value_at(t->body, ir_node_output(t->body, n, (uint32_t)k))->name =
				ir_intern_cstr(t->body, rn->result_names[k]);
}

static bool build_node(tbuild *t, const eng_rnode *rn, int i)
{
	ir_val ins[64];
	uint32_t nin = 0;
	char why[256] = "";
	if (rn->nins > 64)
		return build_fail(t, rn->loc, "too many operands", "at most 64 in a function body");
	for (int k = 0; k < rn->nins; k++)
		if (!operand(t, &rn->ins[k], &ins[nin++]))
			return false;
	while (nin && !ins[nin - 1])
		nin--;
	if (rn->func && !eng_func_install(t->holder, rn->func, why, sizeof why))
		return build_fail(t, rn->loc, "cannot use the function", why);
	if (rn->domain && ir_graph_opset(t->body, rn->domain) < 0)
		ir_graph_add_opset(t->body, rn->domain, 1);
	ir_nid n = ir_node_new(t->body, rn->domain, rn->op, ins, nin, (uint32_t)rn->nresults, 0);
	if (!n)
		return false;
	t->nodes[i] = n;
	name_results(t, n, rn);
	return set_attrs(t, n, rn);
}

/* Declared attributes; defaults are computed on a scratch node, whose
 * attributes (pools in the body) become the declarations. */
static bool build_attrs(tbuild *t, const fattr *fa, int n)
{
	ir_nid scratch = ir_node_new(t->body, "graft.defaults", "Defaults", NULL, 0, 0, 0);
	bool ok = scratch != 0;
	for (int i = 0; ok && i < n; i++) {
		eng_ev v;
		char why[256] = "";
		eng_scratch_reset(&t->s);
		if (fa[i].dflt && (!eng_eval(fa[i].dflt, t->body, &t->b, &t->s, &v, why, sizeof why) ||
				   !eng_put_attr(t->body, scratch, fa[i].name, &v)))
			ok = build_fail(t, fa[i].loc, "cannot compute the default", why[0] ? why : fa[i].name);
	}
	for (int i = 0; ok && i < n; i++) {
		const ir_attr *d = ir_attr_find(t->body, scratch, fa[i].name);
		ir_attr a = {.name = ir_intern_cstr(t->body, fa[i].name)};
		ir_func_add_attr(t->body, d ? d : &a);
	}
	if (scratch)
		ir_node_remove(t->body, scratch);
	return ok;
}

/* The template's own check: the verifier on the holder graph. */
static bool verify_template(tbuild *t)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	bool ok = ir_verify(t->holder, &tmp, NULL) == 0;
	for (size_t i = 0; i < tmp.n; i++)
		if (tmp.v[i].sev == IR_ERROR)
			eng_cc_error(t->cc, t->f->loc, "%s", tmp.v[i].msg);
	ir_diags_free(&tmp);
	return ok;
}

static bool build_body(tbuild *t, const eng_func_src *src, const eng_roperand *outs, const fattr *fa)
{
	const eng_rule *r = t->cc->r;
	ir_graph_add_opset(t->body, "", TMPL_OPSET);
	for (int i = 0; i < src->ninputs; i++)
		t->formals[i] = ir_input_new(t->body, ir_intern_cstr(t->body, src->inputs[i]), ir_type_unknown(), 0);
	for (int i = 0; i < r->nrnodes; i++)
		if (!build_node(t, &r->rnodes[i], i))
			return false;
	for (int i = 0; i < src->noutputs; i++) {
		ir_val v;
		if (!operand(t, &outs[i], &v))
			return false;
		ir_graph_add_output(t->body, v);
	}
	return build_attrs(t, fa, t->f->nattrs) && !ir_graph_oom(t->holder) && !ir_graph_oom(t->body) &&
	       verify_template(t);
}

static bool build_template(eng_cc *cc, eng_func *f, const eng_func_src *src, const eng_roperand *outs,
			   const fattr *fa)
{
	tbuild t = {.cc = cc, .f = f, .b = {.rule = cc->r}};
	t.holder = f->tmpl = ir_graph_new();
	ir_fid id = t.holder ? ir_func_new(t.holder, f->domain, f->name) : 0;
	t.formals = calloc((size_t)src->ninputs + 1, sizeof *t.formals);
	t.nodes = calloc((size_t)cc->r->nrnodes + 1, sizeof *t.nodes);
	bool ok = id && t.formals && t.nodes;
	if (ok) {
		t.body = ir_func_at(t.holder, id)->body;
		t.b.g = t.body;
		size_t len = f->doc ? strlen(f->doc) : 0;
		while (len && (f->doc[len - 1] == '\n' || f->doc[len - 1] == ' '))
			len--; /* a YAML block's final line break */
		if (len)
			ir_func_at(t.holder, id)->doc = ir_intern(t.holder, f->doc, len);
		ok = build_body(&t, src, outs, fa);
	} else {
		eng_cc_oom(cc, f->loc);
	}
	eng_scratch_free(&t.s);
	free(t.formals);
	free(t.nodes);
	return ok;
}

static eng_rule *body_rule(eng_cc *cc, const eng_func_src *src)
{
	eng_rule *r = eng_alloc(cc->rs, sizeof *r);
	if (!r)
		return eng_cc_oom(cc, src->loc);
	r->name = src->name;
	r->loc = src->loc;
	r->loc_text = (char *)"";
	r->exact = true;
	r->root = -1;
	cc->r = r;
	return formals(cc, src, r) ? r : NULL;
}

bool eng_func_load(eng_ruleset *rs, const eng_func_src *src, ir_diags *d)
{
	eng_cc cc = {.rs = rs, .d = d};
	eng_func *f = eng_alloc(rs, sizeof *f);
	fattr *fa = eng_alloc(rs, (size_t)(src->nattrs + 1) * sizeof *fa);
	eng_roperand *outs = eng_alloc(rs, (size_t)(src->noutputs + 1) * sizeof *outs);
	if (!f || !fa || !outs || !body_rule(&cc, src))
		return eng_cc_oom(&cc, src->loc), false;
	*f = (eng_func){.doc = src->doc, .loc = src->loc, .ninputs = src->ninputs, .noutputs = src->noutputs};
	cc.fn = f;
	if (!split_name(&cc, src, f) || !declare_attrs(&cc, src, f, fa))
		return false;
	eng_compile_body(&cc, src->body, src->outputs, src->output_locs, src->noutputs, outs);
	check_constants(&cc, cc.r, outs, src->noutputs);
	if (cc.nerrors || !build_template(&cc, f, src, outs, fa) || !push_func(rs, f)) {
		ir_graph_free(f->tmpl);
		if (!cc.nerrors)
			eng_cc_oom(&cc, src->loc);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- installing */

/* Every function of h re-resolved at g's opsets (the domains g imports). */
static void adopt_opsets(ir_graph *h, const ir_graph *g)
{
	for (ir_fid id = 1; id <= ir_graph_nfuncs(h); id++) {
		ir_graph *body = ir_func_at(h, id)->body;
		for (size_t i = 0; i < ir_graph_nopsets(body); i++) {
			const char *dom = ir_cstr(body, ir_graph_opset_at(body, i).domain);
			int64_t v = ir_graph_opset(g, dom);
			if (v >= 0)
				ir_graph_add_opset(body, dom, v);
		}
		ir_graph_resolve_ops(body);
	}
}

bool eng_func_install(ir_graph *g, const eng_func *f, char *why, size_t why_n)
{
	if (ir_func_find(g, f->domain ? f->domain : "", f->name))
		return true;
	ir_graph *h = ir_graph_new();
	ir_diags tmp;
	ir_diags_init(&tmp);
	bool ok = h && ir_func_copy(h, f->tmpl, 1);
	if (ok) {
		adopt_opsets(h, g);
		ok = ir_verify(h, &tmp, NULL) == 0;
	}
	snprintf(why, why_n, "%s", tmp.n ? tmp.v[0].msg : ok ? "" : "out of memory");
	for (ir_fid id = 1; ok && id <= ir_graph_nfuncs(h); id++) {
		const ir_func *x = ir_func_at(h, id);
		if (!ir_func_find(g, ir_cstr(h, x->domain), ir_cstr(h, x->name)) && !ir_func_copy(g, h, id))
			ok = false;
	}
	ir_meta *m = ir_graph_meta(g);
	if (ok && m->ir_version && m->ir_version < 8)
		m->ir_version = 8; /* model-local functions need IR version 8 */
	ir_diags_free(&tmp);
	ir_graph_free(h);
	return ok && !ir_graph_oom(g);
}
