/* Helpers shared by the simulator tests: building one-node graphs from
 * constants and checking results. */
#ifndef GRAFT_SIMTEST_H
#define GRAFT_SIMTEST_H

#include "sim.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define F32S(...) ((const float[]){__VA_ARGS__})
#define I64S(...) ((const int64_t[]){__VA_ARGS__})

/* A constant value holding a copy of data. */
ir_val st_const(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims, const void *data);
ir_val st_f32(ir_graph *g, int rank, const int64_t *dims, const float *data);
ir_val st_i64(ir_graph *g, int rank, const int64_t *dims, const int64_t *data);
ir_val st_input(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims);
/* A node with nout results; ins may hold IR_NONE. */
ir_nid st_node(ir_graph *g, const char *op, const ir_val *ins, uint32_t nin, uint32_t nout);

/* Evaluates node n on its constant operands; asserts SIM_OK and returns
 * the malloc'd results (free with sim_tensors_free(out, nout)). */
sim_tensor *st_eval(ir_graph *g, ir_nid n, sim_mode mode);
/* Evaluates and returns the status, keeping diagnostics in d. */
sim_status st_try(ir_graph *g, ir_nid n, ir_diags *d);

/* Asserts t's dtype and dims. */
void st_check_shape(const sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims);
/* Asserts t is f32 of the given dims, elements within tol of want. */
void st_check_f32(const sim_tensor *t, int rank, const int64_t *dims, const float *want, double tol);
/* Asserts t is of dtype dt and dims, elements equal to want (via int64). */
void st_check_ints(const sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims, const int64_t *want);

/* An owned tensor with a copy of data. */
sim_tensor st_tensor(ir_dtype dt, int rank, const int64_t *dims, const void *data);
/* Uniform floats in [-1, 1) from a seeded xorshift state. */
void st_fill_random(float *x, size_t n, uint64_t *state);

#endif
