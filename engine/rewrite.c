/* Applying one match.
 *
 * 1. The region: every node outside the match that a value of the match
 *    reaches before the match's last node (in graph order).  Reaching a
 *    matched node again means a path leaves the match and re-enters it:
 *    fusing would create a cycle, so the match is rejected.
 * 2. The replacement nodes are built right after the match's last node
 *    (every operand they take is defined before it) and their types
 *    inferred; those that stay are named "<root node>/<rule>[/<name>]".
 *    A replacement node whose operands are all small constants (BatchNorm
 *    folding's arithmetic on the parameters) is not built: the simulator
 *    evaluates it on the spot, and its result becomes a constant only when
 *    a node or an output takes it.  One with a large operand is built and
 *    folded at commit, in place when it can (fold.c).
 * 3. Checks that need them: types of replaced values agree, graph outputs
 *    keep their names, and for `when: cheaper` the cycle model says the
 *    replacement is cheaper.  A rejected replacement is removed again.
 * 4. Commit: the region moves after the replacement (so the order stays
 *    topological), uses outside the match are rewired, dead nodes and
 *    constants are removed, and replacement nodes whose operands are all
 *    constants are folded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "sim.h"

/* A replacement node evaluated eagerly: its result, and the constant made
 * of it once something takes it. */
typedef struct eager_result {
	sim_tensor t;
	ir_val v;
	bool on, never; /* on: evaluated; never: must be a node (it replaces a graph output) */
} eager_result;

#define EAGER_BYTES 4096u /* operand bytes up to which a node is evaluated eagerly */
#define EAGER_REF 0x80000000u   /* operand_vals with defer: the eager result of node (v & ~EAGER_REF) */
#define EAGER_LOCAL 16
#define EAGER_EXPRS 16          /* fill/const operands kept as tensors per rewrite (slots after the nodes') */

typedef struct rwjob {
	eng_rw *w;
	ir_graph *g;
	const eng_binding *b;
	const eng_rule *r;
	uint32_t nm, ns;      /* matched nodes (w->tmp), region (w->tmp2) */
	uint32_t sm, sv;      /* stamps: matched, region */
	ir_nid last, anchor;  /* the match's last node and the node after it */
	ir_nid first_node;    /* node ids from here on are new */
	ir_val first_val;     /* value ids from here on are new */
	ir_nid *rn;           /* per replacement node: the graph node (0: evaluated eagerly) */
	eager_result *eg;     /* per replacement node, then per fill/const operand: an eager result */
	int nexpr;            /* fill/const operands evaluated into eg[nrnodes...] */
	bool defer;           /* operand_vals: eager results as EAGER_REF (no constant yet) */
	ir_val *outs;         /* per output map: the new value */
	eng_ref base;         /* the root node (names.c composes the new nodes' names from it) */
} rwjob;

/* The strings in the graph of a rule's replacement node: its op, domain,
 * and the suffix of the names of the nodes it makes ("rule", or
 * "rule/<replacement name or index>" when the rule has several). */
typedef struct eng_rncache {
	const eng_rnode *rn;
	ir_str op, domain, suffix;
	bool opset;           /* the graph imports the op's domain */
	uint32_t egen;        /* the scratch graph eop, edomain and enode belong to */
	ir_str eop, edomain;
	ir_nid enode;         /* a node without attributes evaluates on one scratch node */
	uint32_t enin;        /* ... of that many operands */
} eng_rncache;

#define RNC_SIZE 256 /* direct-mapped by the replacement node's address */

/* A replacement's constant expression that reads nothing of the match
 * (`const([-1, 1, 1, 1])`): evaluated once, copied for each rewrite. */
typedef struct eng_excache {
	const eng_ex *e;
	int state; /* 0: fixed, not evaluated yet; 1: reads the match; 2: t holds its tensor */
	sim_tensor t;
} eng_excache;

#define EXC_SIZE 64 /* direct-mapped by the expression's address */

void eng_excache_free(eng_excache *c)
{
	for (int i = 0; c && i < EXC_SIZE; i++)
		if (c[i].state == 2)
			sim_tensor_free(&c[i].t);
	free(c);
}

/* Whether e's value is the same for every match: literals, and fill,
 * const and arithmetic on them. */
static bool ex_fixed(const eng_ex *e)
{
	if (e->kind == EX_CAPTURE || e->kind == EX_NODE)
		return false;
	if (e->kind == EX_CALL && e->fn != FN_FILL && e->fn != FN_CONST && e->fn != FN_ABS && e->fn != FN_MIN &&
	    e->fn != FN_MAX)
		return false;
	for (int i = 0; i < e->nargs; i++)
		if (!ex_fixed(e->args[i]))
			return false;
	return true;
}

/* The tensor of fill/const expression e into *out (owned): a copy of the
 * one evaluated before when e reads nothing of the match. */
static bool eval_tensor(rwjob *j, const eng_ex *e, char *why, size_t why_n, sim_tensor *out)
{
	eng_rw *w = j->w;
	if (!w->exc && !(w->exc = calloc(EXC_SIZE, sizeof *w->exc)))
		return eng_eval_tensor(e, j->g, j->b, &w->scratch, why, why_n, out);
	eng_excache *c = &w->exc[((uintptr_t)e / sizeof *e) % EXC_SIZE];
	if (c->e != e) {
		if (c->state == 2)
			sim_tensor_free(&c->t);
		*c = (eng_excache){.e = e, .state = ex_fixed(e) ? 0 : 1};
	}
	if (c->state == 1)
		return eng_eval_tensor(e, j->g, j->b, &w->scratch, why, why_n, out);
	if (c->state == 0) {
		if (!eng_eval_tensor(e, j->g, j->b, &w->scratch, why, why_n, &c->t))
			return false; /* an error is reported each time */
		c->state = 2;
	}
	if (!sim_tensor_alloc(out, c->t.dtype, c->t.rank, c->t.dims)) {
		snprintf(why, why_n, "out of memory");
		return false;
	}
	memcpy(out->data, c->t.data, sim_nbytes(&c->t));
	return true;
}

/* Reports why a replacement was dropped ("what: detail"). */
static void warn(rwjob *j, const char *what, const char *detail)
{
	const eng_loc *l = &j->r->loc;
	char lb[ENG_NAME_CAP];
	ir_diag_add(j->w->d, IR_WARNING, l->file, l->line, l->col, "rule '%s' at node '%s': %s: %s", j->r->name,
		    eng_rw_ref_text(j->w, j->base, lb, sizeof lb), what, detail);
}

/* ---------------------------------------------------------------- the region */

static bool visit(rwjob *j, ir_nid u, uint64_t limit)
{
	eng_rw *w = j->w;
	if (w->stamp[u] == j->sm || w->stamp[u] == j->sv || w->label[u] >= limit)
		return true;
	if (!eng_rw_need(w, &w->tmp2, &w->tmp2_cap, (size_t)j->ns + 1))
		return false;
	w->stamp[u] = j->sv;
	w->tmp2[j->ns++] = u;
	return true;
}

/* Visits the users of n's results; false when one is matched (a cycle)
 * and `from_region`, or when out of memory. */
static bool visit_users(rwjob *j, ir_nid n, uint64_t limit, bool from_region, bool *cycle)
{
	const ir_graph *g = j->g;
	uint32_t nout = ir_node_at(g, n)->nout;
	for (uint32_t k = 0; k < nout; k++) {
		ir_val v = ir_node_output(g, n, k);
		for (uint32_t u = v ? ir_first_use(g, v) : 0; u; u = ir_next_use(g, u)) {
			ir_nid user = ir_use_at(g, u)->node;
			if (from_region && j->w->stamp[user] == j->sm) {
				*cycle = true;
				return false;
			}
			if (!visit(j, user, limit))
				return false;
		}
	}
	return true;
}

/* Collects the region; false when it re-enters the match (or on OOM). */
static bool region(rwjob *j, bool *cycle)
{
	eng_rw *w = j->w;
	uint64_t limit = w->label[j->last];
	j->sv = eng_rw_stamp(w);
	j->ns = 0;
	*cycle = false;
	for (uint32_t i = 0; i < j->nm; i++)
		if (!visit_users(j, w->tmp[i], limit, false, cycle))
			return false;
	for (uint32_t k = 0; k < j->ns; k++)
		if (!visit_users(j, w->tmp2[k], limit, true, cycle))
			return false;
	return true;
}

static bool collect_match(rwjob *j)
{
	eng_rw *w = j->w;
	j->nm = eng_binding_nodes(j->b, NULL);
	if (!eng_rw_need(w, &w->tmp, &w->tmp_cap, j->nm) || !(j->sm = eng_rw_stamp(w)))
		return false;
	eng_binding_nodes(j->b, w->tmp);
	j->last = w->tmp[0];
	for (uint32_t i = 0; i < j->nm; i++) {
		w->stamp[w->tmp[i]] = j->sm;
		if (w->label[w->tmp[i]] > w->label[j->last])
			j->last = w->tmp[i];
	}
	j->anchor = ir_node_at(j->g, j->last)->next;
	j->base = eng_rw_ref(w, j->b->pnode[j->r->root]);
	return true;
}

/* ---------------------------------------------------------------- building */

static bool push_val(rwjob *j, ir_val v, uint32_t *n)
{
	eng_rw *w = j->w;
	if (!eng_rw_need(w, (ir_nid **)&w->vals, &w->vals_cap, (size_t)*n + 1))
		return false;
	w->vals[(*n)++] = v;
	return true;
}

/* ---------------------------------------------------------------- eager evaluation */

/* The constant holding eager result i (made on first use; queued so that
 * it goes away again when nothing takes it). */
static ir_val eager_const(rwjob *j, int i)
{
	eager_result *e = &j->eg[i];
	if (e->v)
		return e->v;
	bool taken = e->t.owned;
	ir_tid tid = eng_fold_tensor(j->g, &e->t);
	e->v = tid ? ir_const_new(j->g, 0, tid) : IR_NONE;
	if (!tid && taken && !e->t.owned)
		e->t.data = NULL; /* freed by the failed adoption */
	eng_rw_queue(j->w, e->v);
	return e->v;
}

/* The scratch graph eager nodes are built in (the kernels read a node's op
 * and attributes); fresh every EAGER_NODES nodes. */
#define EAGER_NODES 1024
static ir_graph *eager_graph(eng_rw *w)
{
	if (!w->eager_opset_known) { /* rewrites import other domains only */
		w->eager_opset = ir_graph_opset(w->g, "");
		w->eager_opset_known = true;
	}
	if (w->eager && ir_nnodes_total(w->eager) >= EAGER_NODES) {
		ir_graph_free(w->eager);
		w->eager = NULL;
	}
	if (!w->eager && (w->eager = ir_graph_new()) != NULL) {
		ir_graph_add_opset(w->eager, "", w->eager_opset);
		w->eager_gen++;
	}
	return w->eager && !ir_graph_oom(w->eager) ? w->eager : NULL;
}

/* Operands vals[0..nin) of replacement node i can be evaluated now: each
 * absent, an eager result or a constant, all small. */
static bool eager_operands(const rwjob *j, int i, uint32_t nin)
{
	const eng_rnode *rn = &j->r->rnodes[i];
	if (rn->func || rn->nresults != 1 || j->eg[i].never || nin > EAGER_LOCAL)
		return false;
	for (int a = 0; a < rn->nattrs; a++)
		if (!rn->attrs[a].name) /* `...node` copies from the graph */
			return false;
	size_t bytes = 0;
	for (uint32_t k = 0; k < nin; k++) {
		ir_val v = j->w->vals[k];
		if (!v)
			continue;
		if (v & EAGER_REF) {
			bytes += sim_nbytes(&j->eg[v & ~EAGER_REF].t);
			continue;
		}
		const ir_value *x = ir_value_at(j->g, v);
		if (x->def_kind != IR_DEF_CONST)
			return false;
		bytes += ir_tensor_at(j->g, x->tensor)->nbytes;
	}
	return bytes <= EAGER_BYTES;
}

static eng_rwstatus put_attrs(rwjob *j, ir_graph *g, ir_nid n, const eng_rnode *rn);
static eng_rncache *rn_strings(rwjob *j, int i);

typedef enum {
	EAGER_DONE,   /* j->eg[i] holds the result */
	EAGER_NODE,   /* build a node instead: an op the simulator lacks, a kernel
		       * error, or a result much larger than its operands (the fold
		       * at commit decides then, as for large operands) */
	EAGER_REJECT, /* an attribute cannot be computed (reported): the rule fails */
	EAGER_ERROR   /* out of memory */
} eager_status;

/* Evaluates replacement node i on its operands vals[0..nin). */
static eager_status eager_eval(rwjob *j, int i, uint32_t nin)
{
	eng_rw *w = j->w;
	const eng_rnode *rn = &j->r->rnodes[i];
	ir_graph *sg = eager_graph(w);
	if (!sg)
		return EAGER_ERROR;
	eng_rncache *c = rn_strings(j, i);
	if (c && c->egen != w->eager_gen) {
		c->eop = ir_intern_cstr(sg, rn->op);
		c->edomain = c->domain ? ir_intern_cstr(sg, rn->domain) : 0;
		c->enode = 0;
		c->egen = ir_graph_oom(sg) ? 0 : w->eager_gen;
	}
	/* the kernel reads the node's op, attributes and operand count only:
	 * without attributes, one node serves every evaluation */
	ir_nid sn = c && !rn->nattrs && c->enode && c->enin == nin ? c->enode : 0;
	if (!sn) {
		ir_val none[EAGER_LOCAL] = {0};
		if (!c || !(sn = ir_node_new_str(sg, c->edomain, c->eop, none, nin, 1, 0)))
			return EAGER_ERROR;
		if (!rn->nattrs && c->egen) {
			c->enode = sn;
			c->enin = nin;
		}
	}
	if (!sim_op_supported(ir_node_at(sg, sn)->opcode))
		return EAGER_NODE;
	eng_rwstatus st = put_attrs(j, sg, sn, rn);
	if (st != ENG_RW_DONE)
		return st == ENG_RW_REJECTED ? EAGER_REJECT : EAGER_ERROR;
	sim_tensor in[EAGER_LOCAL];
	const sim_tensor *pin[EAGER_LOCAL];
	size_t in_bytes = 0;
	for (uint32_t k = 0; k < nin; k++) {
		ir_val v = w->vals[k];
		pin[k] = NULL;
		if (v & EAGER_REF) {
			pin[k] = &j->eg[v & ~EAGER_REF].t;
		} else if (v) {
			if (!sim_tensor_view(j->g, ir_value_at(j->g, v)->tensor, &in[k]))
				return EAGER_NODE;
			pin[k] = &in[k];
		}
		in_bytes += pin[k] ? sim_nbytes(pin[k]) : 0;
	}
	sim_tensor out;
	/* without attributes, arithmetic and activations need no node */
	sim_status ss = rn->nattrs ? SIM_UNSUPPORTED : sim_eval_small(ir_node_at(sg, sn)->opcode, pin, nin, &out);
	if (ss == SIM_UNSUPPORTED) {
		ir_diags quiet;
		ir_diags_init(&quiet);
		ss = sim_eval_node(sg, sn, NULL, pin, nin, &out, 1, &quiet);
		ir_diags_free(&quiet);
	}
	bool ok = ss == SIM_OK;
	if (ok && sim_nbytes(&out) > EAGER_BYTES && sim_nbytes(&out) > 2 * in_bytes) {
		sim_tensor_free(&out); /* growth: the fold's limit decides */
		ok = false;
	}
	if (!ok)
		return EAGER_NODE;
	for (uint32_t k = 0; k < nin; k++) /* constants only eager nodes took go away */
		if (w->vals[k] && !(w->vals[k] & EAGER_REF))
			eng_rw_queue(w, w->vals[k]);
	j->eg[i].t = out;
	j->eg[i].on = true;
	w->folded++;
	return EAGER_DONE;
}

static void eager_free(rwjob *j)
{
	for (int i = 0; i < j->r->nrnodes + j->nexpr; i++)
		if (j->eg[i].on)
			sim_tensor_free(&j->eg[i].t);
}

/* Replacement nodes that replace a graph output stay nodes (an output is
 * a node's result). */
static void eager_never(rwjob *j)
{
	for (int i = 0; i < j->r->noutputs; i++) {
		const eng_output_map *om = &j->r->outputs[i];
		ir_val old = eng_binding_value(j->b, om->pnode, om->presult);
		for (const eng_roperand *o = &om->with; o; o = o->fallback)
			if (o->kind == RO_RNODE && old && ir_value_is_output(j->g, old))
				j->eg[o->index].never = true;
	}
}

/* The value(s) of a replacement operand appended to w->vals. */
static eng_rwstatus operand_vals(rwjob *j, const eng_roperand *o, uint32_t *n)
{
	const eng_binding *b = j->b;
	char why[256];
	why[0] = '\0';
	ir_val v = IR_NONE;
	switch (o->kind) {
	case RO_CAPTURE:
		if (j->r->captures[o->index].is_list) {
			for (uint32_t i = 0; i < b->list_n[o->index]; i++)
				if (!push_val(j, b->list[o->index][i], n))
					return ENG_RW_ERROR;
			return ENG_RW_DONE;
		}
		v = b->cap[o->index];
		if (!v && o->fallback)
			return operand_vals(j, o->fallback, n);
		break;
	case RO_PNODE:
		v = eng_binding_value(b, o->index, o->result);
		break;
	case RO_RNODE:
		if (j->eg[o->index].on) {
			v = j->defer ? EAGER_REF | (uint32_t)o->index : eager_const(j, o->index);
			if (!v)
				return ENG_RW_ERROR;
			break;
		}
		v = ir_node_output(j->g, j->rn[o->index], (uint32_t)o->result);
		break;
	case RO_NONE:
		break;
	case RO_EXPR:
		eng_scratch_reset(&j->w->scratch);
		if (j->defer && j->nexpr < EAGER_EXPRS) { /* a tensor until a node takes it */
			int k = j->r->nrnodes + j->nexpr;
			if (eval_tensor(j, o->expr, why, sizeof why, &j->eg[k].t)) {
				j->eg[k].on = true;
				j->nexpr++;
				v = EAGER_REF | (uint32_t)k;
				break;
			}
		} else {
			v = eng_eval_const(o->expr, j->g, b, &j->w->scratch, why, sizeof why);
		}
		if (!v) {
			warn(j, "cannot build a constant of the replacement", why);
			return ENG_RW_REJECTED;
		}
		break;
	}
	return push_val(j, v, n) ? ENG_RW_DONE : ENG_RW_ERROR;
}

/* The attributes of replacement node rn on node n of graph g (the graph or
 * the eager scratch graph). */
static eng_rwstatus put_attrs(rwjob *j, ir_graph *g, ir_nid n, const eng_rnode *rn)
{
	for (int a = 0; a < rn->nattrs; a++) {
		const eng_rattr *ra = &rn->attrs[a];
		if (!ra->name) {
			eng_copy_attrs(j->g, j->b->pnode[ra->spread_node], n);
			continue;
		}
		eng_ev v;
		char why[256];
		why[0] = '\0';
		eng_scratch_reset(&j->w->scratch);
		if (!eng_eval(ra->value, j->g, j->b, &j->w->scratch, &v, why, sizeof why) ||
		    !eng_put_attr(g, n, ra->name, &v)) {
			warn(j, "cannot compute an attribute of the replacement", why[0] ? why : ra->name);
			return ENG_RW_REJECTED;
		}
	}
	return ir_graph_oom(g) ? ENG_RW_ERROR : ENG_RW_DONE;
}

/* Replacement node i's strings in the graph (NULL when out of memory). */
static eng_rncache *rn_strings(rwjob *j, int i)
{
	eng_rw *w = j->w;
	const eng_rnode *rn = &j->r->rnodes[i];
	if (!w->rnc && !(w->rnc = calloc(RNC_SIZE, sizeof *w->rnc)))
		return NULL;
	eng_rncache *c = &w->rnc[((uintptr_t)rn / sizeof *rn) % RNC_SIZE];
	if (c->rn == rn)
		return c;
	bool dflt = !rn->domain || strcmp(rn->domain, "ai.onnx") == 0;
	*c = (eng_rncache){rn, ir_intern_cstr(j->g, rn->op), dflt ? 0 : ir_intern_cstr(j->g, rn->domain),
			   eng_name_suffix(j->g, j->r, i), false, 0, 0, 0, 0, 0};
	if (ir_graph_oom(j->g)) {
		c->rn = NULL;
		return NULL;
	}
	return c;
}

/* A call gets only attributes its function declares (`...node` may copy
 * others: the body could not read them, so the fusion would be wrong). */
static eng_rwstatus check_call_attrs(rwjob *j, ir_nid n, const eng_func *f)
{
	const ir_attr *a = ir_node_attrs(j->g, n);
	for (uint32_t i = 0; i < ir_node_at(j->g, n)->nattr; i++) {
		const char *name = ir_cstr(j->g, a[i].name);
		int k = 0;
		while (k < f->nattrs && strcmp(f->attrs[k], name) != 0)
			k++;
		if (k == f->nattrs) {
			char msg[300];
			snprintf(msg, sizeof msg, "'%s' (the function %s does not declare it)", name, f->name);
			warn(j, "the call gets an attribute its function cannot read", msg);
			return ENG_RW_REJECTED;
		}
	}
	return ENG_RW_DONE;
}

static eng_rwstatus build_node(rwjob *j, int i)
{
	const eng_rnode *rn = &j->r->rnodes[i];
	uint32_t nin = 0;
	j->defer = true;
	for (int k = 0; k < rn->nins; k++) {
		eng_rwstatus st = operand_vals(j, &rn->ins[k], &nin);
		if (st != ENG_RW_DONE) {
			j->defer = false;
			return st;
		}
	}
	j->defer = false;
	while (nin && !j->w->vals[nin - 1])
		nin--;
	switch (eager_operands(j, i, nin) ? eager_eval(j, i, nin) : EAGER_NODE) {
	case EAGER_DONE:
		return ENG_RW_DONE;
	case EAGER_REJECT:
		return ENG_RW_REJECTED;
	case EAGER_ERROR:
		return ENG_RW_ERROR;
	case EAGER_NODE:
		break;
	}
	for (uint32_t k = 0; k < nin; k++) /* a node takes eager results as constants */
		if ((j->w->vals[k] & EAGER_REF) && !(j->w->vals[k] = eager_const(j, (int)(j->w->vals[k] & ~EAGER_REF))))
			return ENG_RW_ERROR;
	eng_rncache *c = rn_strings(j, i);
	if (c && !c->opset) {
		if (rn->domain && ir_graph_opset(j->g, rn->domain) < 0)
			ir_graph_add_opset(j->g, rn->domain, 1);
		c->opset = !ir_graph_oom(j->g);
	}
	char why[256];
	why[0] = '\0';
	if (rn->func && !eng_func_install(j->g, rn->func, why, sizeof why)) {
		warn(j, "its function does not hold in this graph", why);
		return ENG_RW_REJECTED;
	}
	ir_nid n = c ? ir_node_new_str(j->g, c->domain, c->op, j->w->vals, nin, (uint32_t)rn->nresults, j->anchor)
		     : 0;
	if (!n || !eng_rw_label_new(j->w, n))
		return ENG_RW_ERROR;
	j->rn[i] = n;
	eng_rwstatus st = put_attrs(j, j->g, n, rn);
	return st == ENG_RW_DONE && rn->func ? check_call_attrs(j, n, rn->func) : st;
}

/* `fuse`: one call whose function is the match itself. */
static eng_rwstatus build_fused(rwjob *j)
{
	char why[256] = "";
	eng_rwstatus st = eng_fuse_match(j->w, j->b, j->w->tmp, j->nm, j->anchor, &j->rn[0], why, sizeof why);
	if (st == ENG_RW_REJECTED)
		warn(j, "cannot fuse the match", why);
	if (st == ENG_RW_DONE && !eng_rw_label_new(j->w, j->rn[0]))
		st = ENG_RW_ERROR;
	return st;
}

static eng_rwstatus build(rwjob *j)
{
	eager_never(j);
	for (int i = 0; i < j->r->nrnodes; i++) {
		eng_rwstatus st = j->r->fuse_op ? build_fused(j) : build_node(j, i);
		if (st != ENG_RW_DONE)
			return st;
	}
	for (int i = 0; i < j->r->noutputs; i++) {
		uint32_t n = 0;
		eng_rwstatus st = operand_vals(j, &j->r->outputs[i].with, &n);
		if (st != ENG_RW_DONE)
			return st;
		j->outs[i] = n ? j->w->vals[0] : IR_NONE;
	}
	return ENG_RW_DONE;
}

/* ---------------------------------------------------------------- checks */

static bool is_fresh(const rwjob *j, ir_val v)
{
	const ir_value *x = ir_value_at(j->g, v);
	return v >= j->first_val || (x->def_kind == IR_DEF_NODE && x->node >= j->first_node);
}

static eng_rwstatus infer(rwjob *j)
{
	ir_diags tmp;
	ir_diags_init(&tmp);
	for (int i = 0; i < j->r->nrnodes; i++) /* a call through its function's body */
		if (j->rn[i])
			eng_infer_replacement(j->w, j->rn[i], &tmp);
	eng_rwstatus st = ENG_RW_DONE;
	for (size_t i = 0; i < tmp.n && st == ENG_RW_DONE; i++)
		if (tmp.v[i].sev == IR_ERROR) {
			warn(j, "the replacement fails shape inference", tmp.v[i].msg);
			st = ENG_RW_REJECTED;
		}
	ir_diags_free(&tmp);
	return ir_graph_oom(j->g) ? ENG_RW_ERROR : st;
}

/* The replaced value and its replacement agree; fresh values without a
 * type (graft's own ops) take the replaced value's. */
static eng_rwstatus check_output(rwjob *j, int i)
{
	const eng_output_map *om = &j->r->outputs[i];
	ir_val old = eng_binding_value(j->b, om->pnode, om->presult), nv = j->outs[i];
	if (!old || old == nv)
		return ENG_RW_DONE;
	if (!nv)
		return ir_value_at(j->g, old)->nuses || ir_value_is_output(j->g, old) ? ENG_RW_REJECTED
										 : ENG_RW_DONE;
	ir_value *o = ir_value_at(j->g, old), *n = ir_value_at(j->g, nv);
	bool fresh = is_fresh(j, nv);
	if (fresh && (n->type.kind == IR_TYPE_NONE || (n->type.kind == IR_TYPE_TENSOR && n->type.rank < 0)))
		n->type = o->type;
	if (!eng_types_compatible(j->g, o->type, n->type)) {
		char a[96], b[96], msg[256];
		ir_type_format(j->g, o->type, a, sizeof a);
		ir_type_format(j->g, n->type, b, sizeof b);
		snprintf(msg, sizeof msg, "%s replaced by %s", a, b);
		warn(j, "the replacement changes a type", msg);
		return ENG_RW_REJECTED;
	}
	/* a graph output keeps its name: an existing value can only take it over
	 * when it is a node result that is not an output already */
	if (!fresh && ir_value_is_output(j->g, old) &&
	    (n->def_kind != IR_DEF_NODE || ir_value_is_output(j->g, nv)))
		return ENG_RW_REJECTED;
	return ENG_RW_DONE;
}

static bool replacement_refers(const eng_binding *b, const eng_roperand *o, ir_val v)
{
	for (; o; o = o->fallback) {
		if (o->kind == RO_PNODE && eng_binding_value(b, o->index, o->result) == v)
			return true;
		if (o->kind == RO_CAPTURE && !b->rule->captures[o->index].is_list && b->cap[o->index] == v)
			return true;
	}
	return false;
}

/* A matched node stays when the replacement uses one of its results. */
static bool kept(const rwjob *j, ir_nid n)
{
	const eng_rule *r = j->r;
	uint32_t nout = ir_node_at(j->g, n)->nout;
	for (uint32_t k = 0; k < nout; k++) {
		ir_val v = ir_node_output(j->g, n, k);
		for (int i = 0; i < r->nrnodes; i++)
			for (int a = 0; a < r->rnodes[i].nins; a++)
				if (replacement_refers(j->b, &r->rnodes[i].ins[a], v))
					return true;
		for (int i = 0; i < r->noutputs; i++)
			if (replacement_refers(j->b, &r->outputs[i].with, v))
				return true;
	}
	return false;
}

/* `when: cheaper`: the cycles of the matched nodes that go away against
 * those of the replacement (constant-only nodes cost nothing: they fold). */
static eng_rwstatus cost_guard(rwjob *j, eng_rewrite *rec)
{
	const sim_hw *hw = eng_rw_hw(j->w);
	if (!hw) {
		ir_error(j->w->d, j->r->loc.file, j->r->loc.line, j->r->loc.col,
			 "rule '%s' has `when: cheaper` but the cost model is unavailable (no hardware description)",
			 j->r->name);
		return ENG_RW_ERROR;
	}
	ir_diags tmp;
	ir_diags_init(&tmp);
	sim_cost c;
	bool ok = sim_cost_graph(j->g, hw, j->w->file, &c, &tmp);
	ir_diags_free(&tmp);
	if (!ok)
		return ENG_RW_ERROR;
	double before = 0, after = 0;
	for (size_t i = 0; i < c.nops; i++) {
		ir_nid n = c.ops[i].node;
		if (n >= j->first_node)
			after += (double)c.ops[i].cycles;
		else if (j->w->stamp[n] == j->sm && !kept(j, n))
			before += (double)c.ops[i].cycles;
	}
	sim_cost_free(&c);
	if (rec) {
		rec->cycles_before = before;
		rec->cycles_after = after;
		rec->rejected = !(after < before);
	}
	return after < before ? ENG_RW_DONE : ENG_RW_REJECTED;
}

/* ---------------------------------------------------------------- commit */

typedef struct labelled {
	uint64_t label;
	ir_nid n;
} labelled;

static int by_label(const void *a, const void *b)
{
	uint64_t x = ((const labelled *)a)->label, y = ((const labelled *)b)->label;
	return x < y ? -1 : x > y;
}

/* Sorts nodes by their position in the graph order. */
static bool sort_nodes(eng_rw *w, ir_nid *v, size_t n)
{
	labelled local[32];
	if (n < 2)
		return true;
	labelled *t = n <= 32 ? local : malloc(n * sizeof *t);
	if (!t)
		return false;
	for (size_t i = 0; i < n; i++)
		t[i] = (labelled){w->label[v[i]], v[i]};
	if (n > 32) {
		qsort(t, n, sizeof *t, by_label);
	} else { /* regions are small: insertion sort, without qsort's setup */
		for (size_t i = 1; i < n; i++) {
			labelled x = t[i];
			size_t k = i;
			for (; k > 0 && t[k - 1].label > x.label; k--)
				t[k] = t[k - 1];
			t[k] = x;
		}
	}
	for (size_t i = 0; i < n; i++)
		v[i] = t[i].n;
	if (t != local)
		free(t);
	return true;
}

static void move_region(rwjob *j)
{
	eng_rw *w = j->w;
	if (!sort_nodes(w, w->tmp2, j->ns)) {
		w->oom = true;
		return;
	}
	for (uint32_t i = 0; i < j->ns; i++) {
		ir_nid s = w->tmp2[i];
		ir_node_move(j->g, s, j->anchor);
		eng_rw_label_new(w, s);
		if (w->hooks.moved)
			w->hooks.moved(w->hooks.ctx, s);
		if (w->hooks.touched)
			w->hooks.touched(w->hooks.ctx, s);
	}
}

/* Points the uses of old outside the match (and graph outputs) at nv. */
static void rewire(rwjob *j, ir_val old, ir_val nv)
{
	ir_graph *g = j->g;
	eng_rw *w = j->w;
	for (uint32_t u = ir_first_use(g, old), next; u; u = next) {
		next = ir_next_use(g, u);
		ir_nid user = ir_use_at(g, u)->node;
		if (w->stamp[user] == j->sm || user >= j->first_node)
			continue;
		ir_node_set_input(g, user, ir_use_operand_index(g, u), nv);
		if (w->hooks.touched)
			w->hooks.touched(w->hooks.ctx, user);
	}
	bool output = false;
	for (size_t i = 0; i < ir_graph_noutputs(g); i++)
		if (ir_graph_output_at(g, i) == old) {
			ir_graph_set_output(g, i, nv);
			output = true;
		}
	ir_value *o = ir_value_at(g, old), *n = ir_value_at(g, nv);
	if (o->name && (is_fresh(j, nv) ? !n->name : output)) {
		n->name = o->name;
		o->name = 0;
	}
}

static bool all_const(const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	for (uint32_t i = 0; i < x->nin; i++) {
		ir_val v = ir_node_input(g, n, i);
		if (v && ir_value_at(g, v)->def_kind != IR_DEF_CONST)
			return false;
	}
	return true;
}

static void commit(rwjob *j)
{
	eng_rw *w = j->w;
	move_region(j);
	for (int i = 0; i < j->r->noutputs; i++) {
		const eng_output_map *om = &j->r->outputs[i];
		ir_val old = eng_binding_value(j->b, om->pnode, om->presult);
		if (old && j->outs[i] && old != j->outs[i])
			rewire(j, old, j->outs[i]);
	}
	for (uint32_t i = 0; i < j->nm; i++) {
		uint32_t nout = ir_node_at(j->g, w->tmp[i])->nout;
		for (uint32_t k = 0; k < nout; k++)
			eng_rw_queue(w, ir_node_output(j->g, w->tmp[i], k));
	}
	eng_rw_sweep(w);
	for (int i = 0; i < j->r->nrnodes; i++) {
		ir_nid n = j->rn[i];
		if (!n || ir_node_at(j->g, n)->dead)
			continue;
		for (uint32_t k = 0; k < ir_node_at(j->g, n)->nin; k++)
			eng_rw_touch_value(w, ir_node_input(j->g, n, k));
		if (!(all_const(j->g, n) && eng_fold_node(w, n)) && w->hooks.touched)
			w->hooks.touched(w->hooks.ctx, n);
	}
	eng_rw_sweep(w);
	for (int i = 0; i < j->r->nrnodes; i++) { /* only the nodes that stay get a name */
		const eng_rncache *c;
		if (j->rn[i] && !ir_node_at(j->g, j->rn[i])->dead &&
		    (!(c = rn_strings(j, i)) || !eng_rw_name_later(w, j->rn[i], j->base, c->suffix)))
			w->oom = true;
	}
}

/* Removes a rejected replacement again (without telling the driver). */
static void discard(rwjob *j)
{
	eng_rw *w = j->w;
	eng_hooks saved = w->hooks;
	w->hooks.touched = NULL;
	for (int i = j->r->nrnodes - 1; i >= 0; i--)
		if (j->rn[i])
			eng_rw_remove_node(w, j->rn[i]);
	for (int i = 0; i < j->r->noutputs; i++)
		eng_rw_queue(w, j->outs[i]);
	for (int i = 0; i < j->r->nrnodes + j->nexpr; i++)
		if (j->eg[i].on) {
			eng_rw_queue(w, j->eg[i].v);
			w->folded -= i < j->r->nrnodes;
		}
	eng_rw_sweep(w);
	w->hooks = saved;
}

/* ---------------------------------------------------------------- records */

/* The live nodes of v as record references, in the report's storage. */
static eng_ref *refs_of(eng_rw *w, const ir_nid *v, size_t n, size_t *count)
{
	const ir_graph *g = w->g;
	size_t live = 0;
	*count = 0;
	for (size_t i = 0; i < n; i++)
		live += v[i] && !ir_node_at(g, v[i])->dead;
	eng_ref *out = w->names ? eng_arena_alloc(w->names, (live ? live : 1) * sizeof *out) : NULL;
	for (size_t i = 0; out && i < n; i++)
		if (v[i] && !ir_node_at(g, v[i])->dead)
			out[(*count)++] = eng_rw_ref(w, v[i]);
	return out;
}

static void record_matched(rwjob *j, eng_rewrite *rec)
{
	rec->matched = refs_of(j->w, j->w->tmp, j->nm, &rec->nmatched);
}

static void record_added(rwjob *j, eng_rewrite *rec)
{
	rec->added = refs_of(j->w, j->rn, (size_t)j->r->nrnodes, &rec->nadded);
}

static bool verify(rwjob *j)
{
	ir_diags tmp;
	char lb[ENG_NAME_CAP];
	ir_diags_init(&tmp);
	bool ok = ir_verify(j->g, &tmp, j->w->file) == 0;
	for (size_t i = 0; !ok && i < tmp.n; i++)
		if (tmp.v[i].sev == IR_ERROR)
			ir_error(j->w->d, j->w->file, tmp.v[i].line, tmp.v[i].col,
				 "after rule '%s' at node '%s': %s", j->r->name,
				 eng_rw_ref_text(j->w, j->base, lb, sizeof lb), tmp.v[i].msg);
	ir_diags_free(&tmp);
	return ok;
}

static eng_rwstatus prepare(rwjob *j, eng_rewrite *rec)
{
	bool cycle;
	if (!region(j, &cycle))
		return cycle ? ENG_RW_REJECTED : ENG_RW_ERROR;
	eng_rwstatus st = build(j);
	if (st == ENG_RW_DONE)
		st = infer(j);
	for (int i = 0; st == ENG_RW_DONE && i < j->r->noutputs; i++)
		st = check_output(j, i);
	if (st == ENG_RW_DONE && j->r->when_cheaper)
		st = cost_guard(j, rec);
	return st;
}

eng_rwstatus eng_rw_apply(eng_rw *w, const eng_binding *b, eng_rewrite *rec)
{
	rwjob j = {.w = w, .g = w->g, .b = b, .r = b->rule};
	j.first_node = (ir_nid)ir_nnodes_total(w->g) + 1;
	j.first_val = (ir_val)ir_nvalues(w->g) + 1;
	if (rec)
		*rec = (eng_rewrite){.rule = j.r->name, .cycles_before = -1, .cycles_after = -1};
	ir_nid rn[EAGER_LOCAL] = {0};
	ir_val outs[16] = {0};
	eager_result eg[EAGER_LOCAL + EAGER_EXPRS];
	bool local = j.r->nrnodes <= EAGER_LOCAL;
	size_t neg = (size_t)j.r->nrnodes + EAGER_EXPRS;
	for (size_t i = 0; local && i < neg; i++) /* the tensors are written before they are read (on) */
		eg[i].v = 0, eg[i].on = eg[i].never = false;
	j.rn = local ? rn : calloc((size_t)j.r->nrnodes, sizeof *j.rn);
	j.eg = local ? eg : calloc(neg, sizeof *j.eg);
	j.outs = j.r->noutputs <= 16 ? outs : calloc((size_t)j.r->noutputs, sizeof *j.outs);
	bool ready = j.rn && j.eg && j.outs && collect_match(&j);
	if (ready && rec && j.r->when_cheaper) /* a rejected attempt is reported too */
		record_matched(&j, rec);
	eng_rwstatus st = ready ? prepare(&j, rec) : ENG_RW_ERROR;
	if (st == ENG_RW_DONE) {
		if (rec && !rec->matched)
			record_matched(&j, rec);
		commit(&j);
		if (rec)
			record_added(&j, rec);
		if (w->verify_each && !verify(&j))
			st = ENG_RW_ERROR;
	} else if (j.rn && j.eg && j.outs) {
		discard(&j);
	}
	if (j.eg)
		eager_free(&j);
	if (w->oom || ir_graph_oom(w->g))
		st = ENG_RW_ERROR;
	if (j.rn != rn)
		free(j.rn);
	if (j.eg != eg)
		free(j.eg);
	if (j.outs != outs)
		free(j.outs);
	return st;
}
