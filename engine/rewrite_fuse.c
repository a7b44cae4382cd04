/* `replace: fuse domain::Op` (docs/rules.md 7.10): the matched nodes
 * themselves become the body of a function, so a rule can make a fused op
 * without defining it anywhere.  The body holds copies of the matched
 * nodes in graph order (attributes by value); its inputs are the match's
 * external operands in order of first use (named after their captures,
 * else in0, in1, ...); its outputs the values the rule replaces (the
 * sinks' named results).  Matches that differ in ops, attributes or wiring
 * make different bodies: the first keeps the name Op, later ones take
 * Op_2, Op_3, ...; an equal body is reused (ir_body_equal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

typedef struct fuser {
	eng_rw *w;
	const eng_binding *b;
	ir_graph *g, *holder, *body;
	ir_nid *nodes;   /* matched, in graph order */
	uint32_t nn;
	ir_val *from, *to; /* value map, graph -> body (pairs, searched linearly: matches are small) */
	uint32_t nmap;
	ir_val *ext;     /* external operands, in order of first use */
	uint32_t next;
} fuser;

static ir_val mapped(const fuser *f, ir_val v)
{
	for (uint32_t i = 0; i < f->nmap; i++)
		if (f->from[i] == v)
			return f->to[i];
	return IR_NONE;
}

static void map(fuser *f, ir_val from, ir_val to)
{
	f->from[f->nmap] = from;
	f->to[f->nmap++] = to;
}

/* The name of a formal: the capture bound to v, else in<k>. */
static ir_str formal_name(fuser *f, ir_val v)
{
	const eng_rule *r = f->b->rule;
	char buf[32];
	for (int i = 0; i < r->ncaptures; i++)
		if (!r->captures[i].is_list && f->b->cap[i] == v)
			return ir_intern_cstr(f->body, r->captures[i].name);
	snprintf(buf, sizeof buf, "in%u", (unsigned)f->next);
	return ir_intern_cstr(f->body, buf);
}

/* The body's value for operand v of a matched node (a new formal for an
 * external one). */
static ir_val body_operand(fuser *f, ir_val v)
{
	ir_val x = v ? mapped(f, v) : IR_NONE;
	if (!v || x)
		return x;
	x = ir_input_new(f->body, formal_name(f, v), ir_type_unknown(), 0);
	map(f, v, x);
	f->ext[f->next++] = v;
	return x;
}

static bool copy_node(fuser *f, ir_nid n)
{
	const ir_node *x = ir_node_at(f->g, n);
	uint32_t nin = x->nin, nout = x->nout;
	ir_val *ins = malloc((nin ? nin : 1) * sizeof *ins);
	if (!ins)
		return false;
	for (uint32_t i = 0; i < nin; i++)
		ins[i] = body_operand(f, ir_node_input(f->g, n, i));
	char dom[256], op[256];
	snprintf(dom, sizeof dom, "%s", ir_cstr(f->g, x->domain));
	snprintf(op, sizeof op, "%s", ir_cstr(f->g, x->op));
	ir_nid m = ir_node_new(f->body, dom, op, ins, nin, nout, 0);
	free(ins);
	if (!m)
		return false;
	for (uint32_t i = 0; i < ir_node_at(f->g, n)->nattr; i++) {
		ir_attr a;
		if (!ir_attr_copy(f->body, f->g, &ir_node_attrs(f->g, n)[i], &a))
			return false;
		ir_attr_put(f->body, m, &a);
	}
	for (uint32_t j = 0; j < nout; j++)
		map(f, ir_node_output(f->g, n, j), ir_node_output(f->body, m, j));
	return !ir_graph_oom(f->body);
}

/* The body's values named after the pattern's names of the matched ones
 * (anonymous pattern nodes, "_N", name nothing). */
static void name_values(fuser *f)
{
	const eng_rule *r = f->b->rule;
	for (int p = 0; p < r->npnodes; p++)
		for (int k = 0; k < r->pnodes[p].nresults; k++) {
			const char *name = r->pnodes[p].result_names[k];
			ir_nid n = f->b->pnode[p];
			ir_val v = n && (uint32_t)k < ir_node_at(f->g, n)->nout ? mapped(f, ir_node_output(f->g, n, (uint32_t)k))
									     : IR_NONE;
			if (v && name[0] != '_')
				ir_value_at(f->body, v)->name = ir_intern_cstr(f->body, name);
		}
}

/* The replaced values (r->outputs) as the body's outputs, named after the pattern. */
static bool body_outputs(fuser *f, char *why, size_t why_n)
{
	const eng_rule *r = f->b->rule;
	for (int i = 0; i < r->noutputs; i++) {
		const eng_output_map *om = &r->outputs[i];
		ir_val v = mapped(f, eng_binding_value(f->b, om->pnode, om->presult));
		if (!v)
			return snprintf(why, why_n, "a replaced value is not a result of the match"), false;
		ir_value_at(f->body, v)->name = ir_intern_cstr(f->body, r->pnodes[om->pnode].result_names[om->presult]);
		ir_graph_add_output(f->body, v);
	}
	return true;
}

static int by_label(const void *a, const void *b, void *labels)
{
	uint64_t x = ((const uint64_t *)labels)[*(const ir_nid *)a], y = ((const uint64_t *)labels)[*(const ir_nid *)b];
	return x < y ? -1 : x > y;
}

/* The matched nodes in graph order (insertion sort: matches are small). */
static void order_nodes(fuser *f, const ir_nid *matched)
{
	for (uint32_t i = 0; i < f->nn; i++) {
		uint32_t k = i;
		while (k > 0 && by_label(&f->nodes[k - 1], &matched[i], f->w->label) > 0) {
			f->nodes[k] = f->nodes[k - 1];
			k--;
		}
		f->nodes[k] = matched[i];
	}
}

static bool build_body(fuser *f, const char *domain, const char *op, char *why, size_t why_n)
{
	f->holder = ir_graph_new();
	ir_fid id = f->holder ? ir_func_new(f->holder, domain, op) : 0;
	if (!id)
		return false;
	f->body = ir_func_at(f->holder, id)->body;
	for (size_t i = 0; i < ir_graph_nopsets(f->g); i++) {
		ir_opset o = ir_graph_opset_at(f->g, i);
		ir_graph_add_opset(f->body, ir_cstr(f->g, o.domain), o.version);
	}
	if (ir_graph_opset(f->body, "") < 0)
		ir_graph_add_opset(f->body, "", 13); /* what export writes for the graph */
	for (uint32_t i = 0; i < f->nn; i++)
		if (!copy_node(f, f->nodes[i]))
			return false;
	name_values(f);
	return body_outputs(f, why, why_n) && !ir_graph_oom(f->body);
}

/* Reuses an equal function of the name Op, Op_2, ... or installs the body
 * under the first free one; the chosen name in name. */
static bool install(fuser *f, const char *domain, const char *op, char *name, size_t cap)
{
	for (int k = 1; k < 10000; k++) {
		if (k == 1)
			snprintf(name, cap, "%s", op);
		else
			snprintf(name, cap, "%s_%d", op, k);
		ir_fid have = ir_func_find(f->g, domain, name);
		if (have && ir_body_equal(ir_func_at(f->g, have)->body, f->body))
			return true;
		if (have)
			continue;
		ir_func_at(f->holder, 1)->name = ir_intern_cstr(f->holder, name);
		if (!ir_func_copy(f->g, f->holder, 1))
			return false;
		ir_meta *m = ir_graph_meta(f->g);
		if (m->ir_version && m->ir_version < 8)
			m->ir_version = 8; /* model-local functions need IR version 8 */
		return true;
	}
	return false;
}

static void fuser_free(fuser *f)
{
	free(f->nodes);
	free(f->from);
	free(f->to);
	free(f->ext);
	ir_graph_free(f->holder);
}

eng_rwstatus eng_fuse_match(eng_rw *w, const eng_binding *b, const ir_nid *matched, uint32_t nm, ir_nid anchor,
			    ir_nid *call, char *why, size_t why_n)
{
	const eng_rule *r = b->rule;
	fuser f = {.w = w, .b = b, .g = w->g, .nn = nm};
	size_t nvals = 1;
	for (uint32_t i = 0; i < nm; i++)
		nvals += ir_node_at(w->g, matched[i])->nin + ir_node_at(w->g, matched[i])->nout;
	f.nodes = malloc(nm * sizeof *f.nodes + 1);
	f.from = malloc(nvals * sizeof *f.from);
	f.to = malloc(nvals * sizeof *f.to);
	f.ext = malloc(nvals * sizeof *f.ext);
	char name[300];
	*call = 0;
	eng_rwstatus st = f.nodes && f.from && f.to && f.ext ? ENG_RW_DONE : ENG_RW_ERROR;
	if (st == ENG_RW_DONE) {
		order_nodes(&f, matched);
		if (!build_body(&f, r->fuse_domain, r->fuse_op, why, why_n))
			st = why[0] ? ENG_RW_REJECTED : ENG_RW_ERROR;
	}
	if (st == ENG_RW_DONE && !install(&f, r->fuse_domain, r->fuse_op, name, sizeof name))
		st = ENG_RW_ERROR;
	if (st == ENG_RW_DONE) {
		if (ir_graph_opset(w->g, r->fuse_domain) < 0)
			ir_graph_add_opset(w->g, r->fuse_domain, 1);
		*call = ir_node_new(w->g, r->fuse_domain, name, f.ext, f.next, (uint32_t)r->noutputs, anchor);
		st = *call ? ENG_RW_DONE : ENG_RW_ERROR;
	}
	fuser_free(&f);
	return st;
}
