/* Helpers shared by the cycle-model tests: hand-built graphs of a few
 * nodes (types only: the cost model reads no tensor data) and their costs. */
#ifndef GRAFT_COSTTEST_H
#define GRAFT_COSTTEST_H

#include "sim.h"

#define CT_DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define CT_INTS(...) ((const int64_t[]){__VA_ARGS__}), (sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

ir_graph *ct_graph(void);
ir_val ct_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims);
/* A constant of zeros (a weight). */
ir_val ct_weight(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims);
/* A default-domain node with one result named after the node. */
ir_nid ct_node(ir_graph *g, const char *op, const char *name, const ir_val *ins, uint32_t nin);
ir_nid ct_node_in(ir_graph *g, const char *domain, const char *op, const char *name, const ir_val *ins,
		  uint32_t nin);
ir_val ct_out(ir_graph *g, ir_nid n);
void ct_ints(ir_graph *g, ir_nid n, const char *attr, const int64_t *v, size_t cnt);
/* Conv(x, w[, b]) with square kernel k, stride s, dilation dl, pad p, group grp. */
ir_nid ct_conv(ir_graph *g, const char *name, ir_val x, ir_val w, ir_val b, int64_t s, int64_t dl, int64_t p,
	       int64_t grp);
/* Adds to g the functions of a .gir `func` block (asserts it parses). */
void ct_func(ir_graph *g, const char *func_gir);
/* Marks v as a graph output and runs ir_infer (asserting no errors). */
void ct_finish(ir_graph *g, ir_val out);

/* A built-in hardware description (asserts it loads). */
sim_hw ct_hw(const char *name);
/* Costs g (asserting success); free with sim_cost_free. */
sim_cost ct_cost(const ir_graph *g, const sim_hw *hw);
/* The cost entry of the node named name. */
const sim_op_cost *ct_op(const ir_graph *g, const sim_cost *c, const char *name);

#endif
