/* Chains `op[m..n]`: runs of m..n links of an op class, each taking the
 * previous link's result as its first operand (any operand when the link
 * is commutative), all links but the last with exactly one use.  A chain
 * is found from its last link (walking backward, longest first) when a
 * bound pattern node uses it, or from its first link (forward along the
 * single uses) when it is searched among the users of its input. */
#include <string.h>

#include "engine_internal.h"

bool eng_m_is_chain(const eng_pnode *pn)
{
	return pn->min_repeat != 1 || pn->max_repeat != 1;
}

static bool chain_need(eng_matcher *m, int p, uint32_t n)
{
	return eng_m_need(m, &m->links[p], n, sizeof(ir_nid)) && eng_m_need(m, &m->cpos[p], n, sizeof(uint32_t)) &&
	       eng_m_need(m, &m->rlinks[p], n, sizeof(ir_nid)) && eng_m_need(m, &m->rpos[p], n, sizeof(uint32_t));
}

/* Node n can be a link of chain pn next to links[0..len). */
static bool link_ok(eng_matcher *m, const eng_pnode *pn, ir_nid n, const ir_nid *links, uint32_t len)
{
	if (!eng_op_matches(m, pn, m->g, n) || eng_m_is_used(m, n) || ir_node_at(m->g, n)->nout < 1)
		return false;
	for (uint32_t k = 0; k < len; k++)
		if (links[k] == n)
			return false;
	return true;
}

/* The chain input of links[0] and the other operands of every link. */
static bool chain_operands(eng_matcher *m, int i, int p, uint32_t len)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	const ir_nid *links = m->links[p].v;
	const uint32_t *pos = m->cpos[p].v;
	ir_val in = ir_node_input(m->g, links[0], pos[0]);
	if (!eng_m_operand(m, &pn->ins[0], in)) {
		eng_m_operand_failed(m, i, p, 0, in);
		return false;
	}
	bool var = pn->nins == 2;
	uint32_t cnt = 0;
	for (uint32_t k = 0; k < len; k++) {
		uint32_t nin = ir_node_at(m->g, links[k])->nin;
		for (uint32_t j = 0; j < nin; j++) {
			ir_val v = ir_node_input(m->g, links[k], j);
			if (j == pos[k] || (!var && !v))
				continue;
			if (!var) {
				ENG_M_FAIL(m, eng_m_depth(i, 1), "chain '%s': a link has operands besides the chain input "
					"and the chain collects none ($rest...)", pn->name);
				return false;
			}
			if (!eng_m_need(m, &m->rest, cnt + 1, sizeof(ir_val)))
				return false;
			((ir_val *)m->rest.v)[cnt++] = v;
		}
	}
	return !var || eng_m_bind_list(m, pn->ins[1].index, m->rest.v, cnt);
}

/* Binds chain p to links[p][0..len) (chain operands in cpos[p]). */
static bool bind_chain(eng_matcher *m, int i, int p, uint32_t len)
{
	ir_nid *links = m->links[p].v;
	size_t used_mark = m->nused;
	for (uint32_t k = 0; k < len; k++)
		if (!eng_m_push_used(m, links[k])) {
			m->nused = used_mark;
			return true;
		}
	m->b.pnode[p] = links[len - 1];
	m->b.chain[p] = links;
	m->b.chain_n[p] = len;
	size_t mark = m->ntrail;
	bool stop = chain_operands(m, i, p, len) ? eng_m_after_bind(m, i, p) : m->status != ENG_M_DONE;
	eng_m_undo(m, mark);
	m->b.pnode[p] = 0;
	m->b.chain[p] = NULL;
	m->b.chain_n[p] = 0;
	m->nused = used_mark;
	return stop;
}

/* Candidate chain operands of link n: 0, or any operand when commutative. */
static uint32_t chain_slots(const ir_graph *g, ir_nid n)
{
	uint32_t nin = ir_node_at(g, n)->nin;
	return eng_m_commutative(g, n) ? nin : (nin ? 1 : 0);
}

/* Ends the chain with rlinks[p][len-1] as its first link. */
static bool chain_stop(eng_matcher *m, int i, int p, uint32_t len)
{
	const ir_nid *rl = m->rlinks[p].v;
	const uint32_t *rp = m->rpos[p].v;
	ir_nid *fl = m->links[p].v;
	uint32_t *fp = m->cpos[p].v;
	for (uint32_t k = 0; k < len; k++) {
		fl[k] = rl[len - 1 - k];
		if (k)
			fp[k] = rp[len - 1 - k];
	}
	ir_nid first = fl[0];
	uint32_t n0 = chain_slots(m->g, first);
	for (uint32_t c0 = 0; c0 < (n0 ? n0 : 1); c0++) {
		if (c0 && eng_m_dup_operand(m->g, first, c0))
			continue;
		fp[0] = c0;
		if (bind_chain(m, i, p, len))
			return true;
	}
	return false;
}

/* Extends a chain backward from rlinks[p][len-1] (longest first). */
static bool chain_back(eng_matcher *m, int i, int p, uint32_t len)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	ir_nid cur = ((ir_nid *)m->rlinks[p].v)[len - 1];
	uint32_t ncand = chain_slots(m->g, cur);
	for (uint32_t j = 0; len < (uint32_t)pn->max_repeat && j < ncand; j++) {
		ir_val v = ir_node_input(m->g, cur, j);
		const ir_value *x = v ? ir_value_at(m->g, v) : NULL;
		if (!x || eng_m_dup_operand(m->g, cur, j) || x->def_kind != IR_DEF_NODE || x->index != 0 ||
		    x->nuses != 1 || ir_value_is_output(m->g, v))
			continue;
		if (eng_m_budget_hit(m))
			return true;
		if (!link_ok(m, pn, x->node, m->rlinks[p].v, len))
			continue;
		if (!chain_need(m, p, len + 1))
			return true;
		((ir_nid *)m->rlinks[p].v)[len] = x->node;
		((uint32_t *)m->rpos[p].v)[len - 1] = j;
		if (chain_back(m, i, p, len + 1))
			return true;
	}
	if (len < (uint32_t)pn->min_repeat) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "chain '%s' needs at least %d links; found %u", pn->name,
		     pn->min_repeat, (unsigned)len);
		return false;
	}
	return chain_stop(m, i, p, len);
}

bool eng_m_chain_from_last(eng_matcher *m, int i, int p, ir_nid n)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	char nb[96], ob[128];
	if (eng_m_budget_hit(m))
		return true;
	if (!link_ok(m, pn, n, NULL, 0)) {
		ENG_M_FAIL(m, eng_m_depth(i, 0), "chain '%s' wants %s links; node %s does not match", pn->name,
		     eng_m_opm_text(pn, ob, sizeof ob), eng_m_node_text(m->g, n, nb, sizeof nb));
		return false;
	}
	ir_val want = m->pval[m->pval_off[p]];
	if (want && ir_node_output(m->g, n, 0) != want)
		return false;
	if (!chain_need(m, p, 1))
		return true;
	((ir_nid *)m->rlinks[p].v)[0] = n;
	return chain_back(m, i, p, 1);
}

/* Follows single uses forward from first link u (chain input: operand j). */
static uint32_t chain_forward(eng_matcher *m, int p, uint32_t len)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	while (len < (uint32_t)pn->max_repeat) {
		ir_nid last = ((ir_nid *)m->links[p].v)[len - 1];
		ir_val out = ir_node_output(m->g, last, 0);
		if (!out || ir_value_at(m->g, out)->nuses != 1 || ir_value_is_output(m->g, out))
			break;
		uint32_t slot = ir_first_use(m->g, out);
		ir_nid w = ir_use_at(m->g, slot)->node;
		uint32_t j = ir_use_operand_index(m->g, slot);
		if ((j != 0 && !eng_m_commutative(m->g, w)) || eng_m_budget_hit(m) ||
		    !link_ok(m, pn, w, m->links[p].v, len) || !chain_need(m, p, len + 1))
			break;
		((ir_nid *)m->links[p].v)[len] = w;
		((uint32_t *)m->cpos[p].v)[len] = j;
		len++;
	}
	return len;
}

bool eng_m_chain_from_first(eng_matcher *m, int i, int p, ir_nid u, uint32_t j)
{
	const eng_pnode *pn = &m->r->pnodes[p];
	if (eng_m_budget_hit(m))
		return true;
	if ((j != 0 && !eng_m_commutative(m->g, u)) || !link_ok(m, pn, u, NULL, 0))
		return false;
	if (!chain_need(m, p, 1))
		return true;
	((ir_nid *)m->links[p].v)[0] = u;
	((uint32_t *)m->cpos[p].v)[0] = j;
	uint32_t len = chain_forward(m, p, 1);
	if (m->status != ENG_M_DONE)
		return true;
	for (uint32_t l = len; l >= (uint32_t)pn->min_repeat && l > 0; l--) {
		ir_val want = m->pval[m->pval_off[p]];
		ir_nid last = ((ir_nid *)m->links[p].v)[l - 1];
		if (want && ir_node_output(m->g, last, 0) != want)
			continue;
		if (bind_chain(m, i, p, l))
			return true;
	}
	return false;
}
