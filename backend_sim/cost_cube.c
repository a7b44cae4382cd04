/* Cube ops (Conv through img2col, MatMul, Gemm): geometry as G independent
 * M x K x N products padded to the fractal, a search over tiles that fit
 * the L0 buffers, and the per-tile pipeline of MTE2 (global -> L1), MTE1
 * (L1 -> L0A/L0B, img2col on the way), the cube, the vector epilogue and
 * MTE3 (UB -> global).  docs/simulator.md derives the formulas. */
#include <math.h>
#include <string.h>

#include "cost_internal.h"

#define MAX_CANDIDATES 48

/* A cube op as `groups` independent products of M x K x N. */
typedef struct geom {
	int64_t groups;
	int64_t m, k, n;     /* per product; Conv's K is padded per input channel */
	int64_t macs;        /* real multiply-accumulates */
	int64_t k0;          /* K of the fractal (C0) */
	bool int8;
	int64_t es_a, es_b, es_out;
	/* The A operand is loaded per M block as rows of the input; for a Conv
	 * a block of output rows needs `window` more input rows (the halo). */
	int64_t row_px;      /* output pixels per output row */
	int64_t rows_total;  /* output rows of one product */
	int64_t rows_in_max; /* input rows of one product */
	int64_t window;      /* input rows the first output row needs */
	int64_t stride;      /* input rows between output rows */
	int64_t in_row_bytes;
	int64_t b_bytes;     /* weight bytes of one product */
	ir_val a, b, y;
} geom;

typedef struct tiling {
	int64_t bm, bk, bn; /* fractals */
} tiling;

static int64_t ceil_div(int64_t a, int64_t b)
{
	return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int64_t lcm64(int64_t a, int64_t b)
{
	return a / gcd64(a, b) * b;
}

static int64_t prod(const int64_t *d, int from, int to)
{
	int64_t p = 1;
	for (int i = from; i < to; i++)
		p *= d[i];
	return p;
}

static void set_types(const sim_cctx *c, geom *q)
{
	const ir_graph *g = c->g;
	ir_dtype ta = (ir_dtype)ir_value_at(g, q->a)->type.dtype;
	ir_dtype tb = (ir_dtype)ir_value_at(g, q->b)->type.dtype;
	q->int8 = ta == IR_I8 || ta == IR_U8;
	q->k0 = q->int8 && c->hw->cube.k_int8 ? c->hw->cube.k_int8 : c->hw->cube.k;
	q->es_a = sim_elem_bytes(c->hw, ta);
	q->es_b = sim_elem_bytes(c->hw, tb);
	q->es_out = sim_elem_bytes(c->hw, (ir_dtype)ir_value_at(g, q->y)->type.dtype);
}

/* Rows of a matrix product: every output row needs one row of A. */
static void matrix_rows(geom *q, int64_t kreal)
{
	q->row_px = 1;
	q->rows_total = q->m;
	q->rows_in_max = q->m;
	q->window = 1;
	q->stride = 1;
	q->in_row_bytes = kreal * q->es_a;
	q->k = ceil_div(kreal, q->k0) * q->k0;
}

/* Groups of a grouped Conv are packed into block-diagonal products of e
 * groups so that each block fills C0 input channels (depthwise: 16). */
static int64_t group_pack(int64_t group, int64_t cin_g, int64_t cout_g, int64_t k0, int64_t fn)
{
	if (group <= 1)
		return 1;
	int64_t e = lcm64(lcm64(cin_g, k0) / cin_g, lcm64(cout_g, fn) / cout_g);
	return e < group ? e : group;
}

static void conv_attrs(const ir_graph *g, ir_nid n, int nsp, int64_t *stride, int64_t *dil)
{
	int64_t s[IR_MAX_RANK], d[IR_MAX_RANK];
	int ns = ir_attr_ints_get(g, n, "strides", s, IR_MAX_RANK);
	int nd = ir_attr_ints_get(g, n, "dilations", d, IR_MAX_RANK);
	*stride = ns >= nsp && nsp > 0 && s[0] > 0 ? s[0] : 1;
	*dil = nd >= nsp && nsp > 0 && d[0] > 0 ? d[0] : 1;
}

static bool conv_geom(const sim_cctx *c, ir_nid n, geom *q)
{
	const ir_graph *g = c->g;
	int64_t xd[IR_MAX_RANK], wd[IR_MAX_RANK], yd[IR_MAX_RANK];
	int r = sim_value_dims(g, q->a, xd);
	if (r < 3 || sim_value_dims(g, q->b, wd) != r || sim_value_dims(g, q->y, yd) != r || wd[0] <= 0 ||
	    wd[1] <= 0 || yd[2] <= 0)
		return false;
	int64_t group = ir_attr_int(g, n, "group", 1), stride, dil;
	group = group > 0 && wd[0] % group == 0 ? group : 1;
	conv_attrs(g, n, r - 2, &stride, &dil);
	set_types(c, q);
	int64_t cin_g = wd[1], cout_g = wd[0] / group, kprod = prod(wd, 2, r), opx = prod(yd, 2, r);
	int64_t e = group_pack(group, cin_g, cout_g, q->k0, c->hw->cube.n);
	q->groups = ceil_div(group, e);
	q->m = yd[0] * opx;
	q->k = ceil_div(e * cin_g, q->k0) * q->k0 * kprod;
	q->n = e * cout_g;
	q->macs = yd[0] * opx * wd[0] * cin_g * kprod;
	q->row_px = opx / yd[2];
	q->rows_total = yd[0] * yd[2];
	q->rows_in_max = xd[0] * xd[2];
	q->window = (wd[2] - 1) * dil + 1;
	q->stride = stride;
	q->in_row_bytes = prod(xd, 3, r) * min64(xd[1], e * cin_g) * q->es_a;
	q->b_bytes = sim_value_bytes(c, q->b) / q->groups;
	return true;
}

/* MatMul: numpy semantics; a weight without batch dims is shared, so the
 * batch folds into M. */
static bool matmul_geom(const sim_cctx *c, geom *q)
{
	int64_t ad[IR_MAX_RANK], bd[IR_MAX_RANK];
	int ar = sim_value_dims(c->g, q->a, ad), br = sim_value_dims(c->g, q->b, bd);
	int64_t out = sim_value_numel(c->g, q->y);
	if (ar < 1 || br < 1 || out < 0)
		return false;
	set_types(c, q);
	int64_t k = ad[ar - 1], m = ar >= 2 ? ad[ar - 2] : 1, nn = br >= 2 ? bd[br - 1] : 1;
	int64_t batch = m * nn > 0 ? out / (m * nn) : 0;
	q->groups = br <= 2 ? 1 : batch;
	q->m = br <= 2 ? batch * m : m;
	q->n = nn;
	q->macs = batch * m * k * nn;
	q->b_bytes = k * nn * q->es_b;
	matrix_rows(q, k);
	return batch > 0 && k > 0;
}

static bool gemm_geom(const sim_cctx *c, ir_nid n, geom *q)
{
	int64_t ad[IR_MAX_RANK], bd[IR_MAX_RANK];
	if (sim_value_dims(c->g, q->a, ad) != 2 || sim_value_dims(c->g, q->b, bd) != 2)
		return false;
	set_types(c, q);
	bool ta = ir_attr_int(c->g, n, "transA", 0), tb = ir_attr_int(c->g, n, "transB", 0);
	int64_t m = ta ? ad[1] : ad[0], k = ta ? ad[0] : ad[1], nn = tb ? bd[0] : bd[1];
	q->groups = 1;
	q->m = m;
	q->n = nn;
	q->macs = m * k * nn;
	q->b_bytes = k * nn * q->es_b;
	matrix_rows(q, k);
	return m > 0 && k > 0 && nn > 0;
}

static bool geometry(const sim_cctx *c, ir_nid n, uint16_t opcode, geom *q)
{
	memset(q, 0, sizeof *q);
	q->a = ir_node_input(c->g, n, 0);
	q->b = ir_node_at(c->g, n)->nin > 1 ? ir_node_input(c->g, n, 1) : IR_NONE;
	q->y = ir_node_output(c->g, n, 0);
	if (!q->a || !q->b || sim_value_numel(c->g, q->y) < 0 || sim_value_bytes(c, q->b) < 0)
		return false;
	if (opcode == IR_OP_Conv)
		return conv_geom(c, n, q);
	return opcode == IR_OP_Gemm ? gemm_geom(c, n, q) : matmul_geom(c, q);
}

/* ---------------------------------------------------------------- one tiling's pipeline */

/* Input bytes one M block of px output pixels loads. */
static int64_t a_block_bytes(const geom *q, int64_t px)
{
	int64_t rows = min64(ceil_div(px, q->row_px) + (px % q->row_px != 0), q->rows_total);
	int64_t rin = min64((rows - 1) * q->stride + q->window, q->rows_in_max);
	return rin * q->in_row_bytes;
}

typedef struct traffic {
	double a, b, other, out; /* global bytes: A, weights, bias + fused operands, result */
} traffic;

static traffic plan_traffic(const sim_cctx *c, const geom *q, const sim_epilogue *e, const tiling *t,
			    ir_nid n)
{
	const sim_hw *hw = c->hw;
	int64_t db = hw->double_buffer ? 2 : 1, px = t->bm * hw->cube.m;
	int64_t mb = ceil_div(ceil_div(q->m, hw->cube.m), t->bm);
	int64_t nb = ceil_div(ceil_div(q->n, hw->cube.n), t->bn);
	int64_t blk = a_block_bytes(q, min64(px, q->m));
	int64_t last = a_block_bytes(q, q->m - (mb - 1) * px);
	traffic tr = {0};
	tr.a = (double)q->groups * (double)((mb - 1) * blk + last);
	if (db * blk > hw->mem.l1 / 2)
		tr.a *= (double)nb; /* A does not stay in L1 across N blocks */
	tr.b = (double)q->groups * (double)q->b_bytes * (q->b_bytes <= hw->mem.l1 / 2 ? 1.0 : (double)mb);
	tr.other = (double)e->extra_bytes;
	if (e->bias && ir_node_at(c->g, n)->nin > 2) {
		ir_val bias = ir_node_input(c->g, n, 2);
		tr.other += sim_global_bytes(c, bias, (double)sim_value_bytes(c, bias));
	}
	tr.out = (double)(q->groups * q->m * q->n * q->es_out);
	tr.a = sim_global_bytes(c, q->a, tr.a); /* a fused kernel's intermediates stay on chip */
	tr.b = sim_global_bytes(c, q->b, tr.b);
	tr.out = sim_global_bytes(c, q->y, tr.out);
	return tr;
}

static void plan_pipe(const sim_cctx *c, const geom *q, const sim_epilogue *e, const tiling *t,
		      const traffic *tr, sim_pipe *p)
{
	const sim_hw *hw = c->hw;
	double fm = (double)hw->cube.m, fn = (double)hw->cube.n, k0 = (double)q->k0, g = (double)q->groups;
	double mf = (double)ceil_div(q->m, hw->cube.m), kf = (double)ceil_div(q->k, q->k0);
	double nf = (double)ceil_div(q->n, hw->cube.n);
	double mb = ceil(mf / (double)t->bm), nb = ceil(nf / (double)t->bn), kb = ceil(kf / (double)t->bk);
	double steps = g * mb * nb * kb;
	double bw_a = sim_read_bw(hw, sim_value_mem(c, q->a)), bw_b = sim_read_bw(hw, sim_value_mem(c, q->b));
	int passes = (q->es_out < 4) + e->bias + e->passes;
	double acc_block = (double)(t->bm * t->bn) * fm * fn * 4;
	memset(p, 0, sizeof *p);
	p->steps = steps;
	p->latency = (double)hw->cube.latency;
	double bw_o = isinf(bw_a) ? hw->bw.l2_read : bw_a; /* A on chip: the others still come from L2 */
	p->q[SIM_Q_MTE2] = (tr->a / bw_a + tr->b / bw_b + tr->other / bw_o) / steps;
	p->q[SIM_Q_MTE1] = (g * mf * kf * nb * fm * k0 * (double)q->es_a / hw->bw.l1_l0a +
			    g * kf * nf * mb * k0 * fn * (double)q->es_b / hw->bw.l1_l0b) / steps;
	p->q[SIM_Q_CUBE] = g * mf * kf * nf / (double)hw->cube.units / steps;
	p->q[SIM_Q_VEC] = (g * mf * nf * fm * fn * 4 / hw->bw.l0c_ub +
			   g * mb * nb * passes * sim_vector_pass(hw, acc_block)) / steps;
	p->q[SIM_Q_MTE3] = tr->out / sim_write_bw(hw, sim_value_mem(c, q->y)) / steps;
}

/* ---------------------------------------------------------------- the tile search */

static bool fits(const sim_hw *hw, const geom *q, const tiling *t)
{
	int64_t db = hw->double_buffer ? 2 : 1;
	int64_t acc = db * t->bm * t->bn * hw->cube.m * hw->cube.n * 4;
	return db * t->bm * t->bk * hw->cube.m * q->k0 * q->es_a <= hw->mem.l0a &&
	       db * t->bk * t->bn * q->k0 * hw->cube.n * q->es_b <= hw->mem.l0b && acc <= hw->mem.l0c &&
	       acc <= hw->mem.ub;
}

/* max, then the powers of two below it, largest first. */
static int candidates(int64_t max, int64_t *out)
{
	int n = 0;
	out[n++] = max;
	int64_t p = 1;
	while (p * 2 < max)
		p *= 2;
	for (; p >= 1 && n < MAX_CANDIDATES; p /= 2)
		if (p < max)
			out[n++] = p;
	return n;
}

static double try_tile(const sim_cctx *c, const geom *q, const sim_epilogue *e, ir_nid n, const tiling *t)
{
	traffic tr = plan_traffic(c, q, e, t, n);
	sim_pipe p;
	plan_pipe(c, q, e, t, &tr, &p);
	return sim_pipe_cycles(&p, c->hw->double_buffer);
}

static int64_t steps_of(const sim_hw *hw, const geom *q, const tiling *t)
{
	return ceil_div(ceil_div(q->m, hw->cube.m), t->bm) * ceil_div(ceil_div(q->k, q->k0), t->bk) *
	       ceil_div(ceil_div(q->n, hw->cube.n), t->bn);
}

/* The fastest tiling that fits; among those within 1% of it, the one with
 * the fewest steps (fewer instructions and synchronisations, which the
 * closed form does not charge). */
static tiling search(const sim_cctx *c, const geom *q, const sim_epilogue *e, ir_nid n)
{
	int64_t cm[MAX_CANDIDATES], ck[MAX_CANDIDATES], cn[MAX_CANDIDATES];
	int nm = candidates(ceil_div(q->m, c->hw->cube.m), cm);
	int nk = candidates(ceil_div(q->k, q->k0), ck);
	int nn = candidates(ceil_div(q->n, c->hw->cube.n), cn);
	tiling best = {1, 1, 1};
	double fastest = INFINITY;
	for (int pass = 0; pass < 2; pass++) {
		int64_t fewest = INT64_MAX;
		for (int i = 0; i < nm; i++)
			for (int j = 0; j < nk; j++)
				for (int l = 0; l < nn; l++) {
					tiling t = {cm[i], ck[j], cn[l]};
					if (!fits(c->hw, q, &t))
						continue;
					double cyc = try_tile(c, q, e, n, &t);
					if (pass == 0 && cyc < fastest)
						fastest = cyc;
					if (pass == 1 && cyc <= fastest * 1.01 && steps_of(c->hw, q, &t) < fewest) {
						fewest = steps_of(c->hw, q, &t);
						best = t;
					}
				}
	}
	return best;
}

bool sim_cost_cube(const sim_cctx *c, ir_nid n, uint16_t opcode, const sim_epilogue *e, sim_op_cost *o)
{
	geom q;
	if (!geometry(c, n, opcode, &q))
		return false;
	const sim_hw *hw = c->hw;
	tiling t = search(c, &q, e, n);
	traffic tr = plan_traffic(c, &q, e, &t, n);
	sim_pipe p;
	plan_pipe(c, &q, e, &t, &tr, &p);
	int64_t fractals = q.groups * ceil_div(q.m, hw->cube.m) * ceil_div(q.k, q.k0) * ceil_div(q.n, hw->cube.n);
	o->macs = q.macs;
	o->padded_macs = fractals * hw->cube.m * q.k0 * hw->cube.n;
	o->cube_util = o->padded_macs ? (double)q.macs / (double)o->padded_macs : 0;
	o->floor = (double)q.macs / (double)sim_hw_peak(hw, q.int8);
	o->bytes_in = (int64_t)(tr.a + tr.b + tr.other);
	o->bytes_out = (int64_t)tr.out;
	o->operand_bytes = fractals * (hw->cube.m * q.k0 * q.es_a + q.k0 * hw->cube.n * q.es_b);
	o->tile[0] = t.bm;
	o->tile[1] = t.bk;
	o->tile[2] = t.bn;
	sim_pipe_finish(c, &p, o);
	return true;
}
