/* graft reference simulator: the public API of the backend_sim/ layer.
 *
 * Numerics: run a graph (or one node) on run-time tensors, in fp32
 * reference mode or in cube mode (what a DaVinci-like core computes: cube
 * ops on fp16-rounded inputs with fp32 accumulation, vector ops on fp16).
 * Also: ONNX TensorProto .pb files, seeded random inputs, comparison.
 *
 * Errors go to an ir_diags sink; library code never prints or exits.
 */
#ifndef GRAFT_SIM_H
#define GRAFT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* ---------------------------------------------------------------- tensors (sim_tensor.c) */

/* A run-time value: dense, row-major, little-endian, elements laid out as in
 * ONNX raw_data (bool one byte, f16/bf16 as their 16-bit patterns).  Any
 * ir_dtype except IR_STRING and the complex types.  rank 0 is a scalar. */
typedef struct sim_tensor {
	ir_dtype dtype;
	int rank;
	int64_t dims[IR_MAX_RANK];
	void *data;  /* numel * ir_dtype_size(dtype) bytes; never NULL once allocated */
	bool owned;  /* data is freed by sim_tensor_free (false: borrowed view) */
	char *name;  /* optional, malloc'd, owned; NULL when unnamed */
} sim_tensor;

/* Product of dims (1 for a scalar). */
size_t sim_numel(const sim_tensor *t);
size_t sim_nbytes(const sim_tensor *t);
/* Allocates zero-filled owned data; t's previous contents are overwritten
 * (not freed).  false when out of memory or rank is out of range. */
bool sim_tensor_alloc(sim_tensor *t, ir_dtype dt, int rank, const int64_t *dims);
/* Frees owned data and the name; t becomes an empty tensor. */
void sim_tensor_free(sim_tensor *t);
/* Frees n tensors and the array itself. */
void sim_tensors_free(sim_tensor *v, size_t n);
/* Deep copy (data and name). */
bool sim_tensor_copy(sim_tensor *dst, const sim_tensor *src);
bool sim_tensor_set_name(sim_tensor *t, const char *name);
/* A borrowed view of a graph tensor (no copy); false for strings, complex
 * types or a rank above IR_MAX_RANK. */
bool sim_tensor_view(const ir_graph *g, ir_tid tid, sim_tensor *out);
/* Copies t into a new graph tensor named name. */
ir_tid sim_tensor_to_ir(ir_graph *g, ir_str name, const sim_tensor *t);
/* Element i converted to double (bool: 0/1; f16/bf16 decoded). */
double sim_get_f64(const sim_tensor *t, size_t i);
/* Element i converted to int64 (floats truncate toward zero, saturating). */
int64_t sim_get_i64(const sim_tensor *t, size_t i);
/* Formats like "f32[1,3,224,224]". */
int sim_tensor_format(const sim_tensor *t, char *buf, size_t cap);

/* ---------------------------------------------------------------- fp16 (fp16.c) */

/* IEEE binary16 conversions: round to nearest even, subnormals kept,
 * overflow to infinity, NaN stays NaN. */
uint16_t sim_f32_to_f16(float x);
float sim_f16_to_f32(uint16_t h);
/* x rounded to the nearest fp16 value, as a float. */
float sim_round_f16(float x);
uint16_t sim_f32_to_bf16(float x);
float sim_bf16_to_f32(uint16_t h);
/* From double with a single rounding (no double rounding through f32). */
uint16_t sim_f64_to_f16(double v);
uint16_t sim_f64_to_bf16(double v);
/* Rounds n floats in place to fp16 precision. */
void sim_round_f16_array(float *x, size_t n);

/* ---------------------------------------------------------------- execution (exec.c, eval.c) */

/* Precision modes.  In SIM_CUBE every f32 operand of every op is rounded
 * to fp16 first (cube ops' weights and bias included); cube ops (registry
 * trait IR_TRAIT_CUBE: Conv, MatMul, Gemm) then accumulate and return f32,
 * as the cube's L0C does, while every other op's f32 results are rounded to
 * fp16 as the vector unit writes them.  Integer and bool tensors are never
 * touched.
 *
 * Element types: the elementwise, layout, shape and reduction kernels take
 * every numeric type and bool (integer arithmetic wraps, integer Div
 * truncates toward zero and gives 0 for a zero divisor).  Conv, Gemm,
 * MatMul, the pools, BatchNormalization and Softmax compute in f32 (or wider): f16 and
 * bf16 operands are widened and the results narrowed back; f64 is refused
 * (SIM_UNSUPPORTED); Gemm, MatMul and MaxPool also take integers. */
typedef enum {
	SIM_FP32 = 0, /* reference: every op in its operands' precision */
	SIM_CUBE = 1, /* the hardware: see above */
	SIM_FP16 = 2  /* as SIM_CUBE, and cube results rounded to fp16 too */
} sim_mode;

/* What sim_run did, for reports and tests. */
typedef struct sim_stats {
	size_t nodes;      /* nodes evaluated */
	size_t peak_bytes; /* most bytes held at once in computed tensors */
} sim_stats;

typedef struct sim_opts {
	sim_mode mode;
	const char *file; /* names the graph in diagnostics; may be NULL */
} sim_opts;

typedef enum {
	SIM_OK = 0,
	SIM_UNSUPPORTED, /* op, attribute mode or dtype the simulator does not implement */
	SIM_EINVAL,      /* invalid graph, attributes, shapes or inputs */
	SIM_ENOMEM
} sim_status;

/* Runs g in graph order (requires: topological order, as ir_verify checks).
 * inputs bind the graph inputs: by name when every given tensor is named
 * after a graph input, else by position (over all graph inputs, or over
 * those without an initializer when nin equals their count).  Inputs left
 * unbound use their initializer.  On SIM_OK, *outputs is a malloc'd array of
 * *nout owned tensors named after the graph outputs (free it with
 * sim_tensors_free).  Intermediates are freed after their last use.
 * o may be NULL (SIM_FP32). */
sim_status sim_run(const ir_graph *g, const sim_opts *o, const sim_tensor *inputs, size_t nin,
		   sim_tensor **outputs, size_t *nout, ir_diags *d);
/* sim_run that also reports what it did in *stats (when not NULL). */
sim_status sim_run_stats(const ir_graph *g, const sim_opts *o, const sim_tensor *inputs, size_t nin,
			 sim_tensor **outputs, size_t *nout, sim_stats *stats, ir_diags *d);

/* Evaluates one node on the given operands (the rule engine's constant
 * folding).  in[i] may be NULL for an absent optional operand; nin is the
 * node's operand count.  out has room for the node's nout results; on
 * SIM_OK each is an owned tensor the caller frees (results the op does not
 * produce are left empty: rank 0, data NULL).  o may be NULL. */
sim_status sim_eval_node(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			 uint32_t nin, sim_tensor *out, uint32_t nout, ir_diags *d);
/* sim_eval_node where a result may be computed in the buffer of operand i
 * when give[i] (the caller owns that buffer and needs its contents no
 * more): then that result's data is in[i]->data, marked owned (the caller
 * takes the buffer back).  After a failure a given buffer's contents are
 * undefined.  Only in fp32 mode (o NULL or SIM_FP32) are buffers taken. */
sim_status sim_eval_node_give(const ir_graph *g, ir_nid n, const sim_opts *o, const sim_tensor *const *in,
			      uint32_t nin, const bool *give, sim_tensor *out, uint32_t nout, ir_diags *d);
/* sim_eval_node in fp32 mode for an op without attributes, without a
 * graph node: the same kernels compute elementwise arithmetic (Add, Sub,
 * Mul, Div, Pow) on f32 operands of equal shapes or with a one-element
 * operand, and the unary activations (Relu, Sqrt, Erf, Sigmoid, Neg, Tanh,
 * LeakyRelu, HardSigmoid with their default attributes) on f32.  *out is
 * an owned tensor on SIM_OK.  SIM_UNSUPPORTED for anything else, which
 * sim_eval_node then evaluates (the rule engine folds small constants this
 * way first). */
sim_status sim_eval_small(uint16_t opcode, const sim_tensor *const *in, uint32_t nin, sim_tensor *out);

/* True when the simulator has a kernel for this registry opcode. */
bool sim_op_supported(uint16_t opcode);

/* Stops the BLAS library's idle worker threads, which otherwise poll for
 * work for a while after the library loads (a short process calls it
 * first); a later multi-threaded call starts them again (blas_idle.c). */
void sim_blas_idle(void);

/* ---------------------------------------------------------------- TensorProto files (tensor_pb.c) */

/* Decodes a serialized onnx.TensorProto (raw_data or the typed fields). */
sim_status sim_pb_decode(const void *buf, size_t n, sim_tensor *t, const char *file, ir_diags *d);
sim_status sim_pb_read(const char *path, sim_tensor *t, ir_diags *d);
/* Encodes with raw_data into a malloc'd buffer. */
bool sim_pb_encode(const sim_tensor *t, void **buf, size_t *n, ir_diags *d);
bool sim_pb_write(const char *path, const sim_tensor *t, ir_diags *d);
/* Reads dir/<prefix>_0.pb, dir/<prefix>_1.pb, ... up to the first missing
 * index (the ONNX test_data_set layout).  *n may be 0. */
sim_status sim_pb_read_set(const char *dir, const char *prefix, sim_tensor **out, size_t *n,
			   ir_diags *d);

/* ---------------------------------------------------------------- random inputs (random.c) */

/* One tensor per graph input without an initializer, from its static type
 * (unknown dims of a known rank become 1), named after the input.  Floats
 * are uniform in [-1, 1); signed ints in [-8, 8); unsigned ints in [0, 16);
 * bools 0/1.  The same seed gives the same tensors on every platform. */
sim_status sim_random_inputs(const ir_graph *g, uint64_t seed, sim_tensor **out, size_t *n,
			     ir_diags *d);

/* ---------------------------------------------------------------- comparison (compare.c) */

typedef struct sim_cmp {
	double max_abs;   /* largest |got - want| over finite pairs */
	double scale;     /* max(max - min, max |x|) over want's finite elements; 1 when 0 */
	double max_rel;   /* max_abs / scale */
	size_t mismatches; /* elements outside the tolerance (non-finite must match exactly) */
	bool shape_ok;    /* same dtype and dims */
} sim_cmp;

/* Compares got with want: floats within tol * scale, integers and bools
 * exactly.  Returns true when shapes agree and nothing mismatches. */
bool sim_compare(const sim_tensor *got, const sim_tensor *want, double tol, sim_cmp *r);

/* ================================================================ cycle model
 * (hw.c, cost.c, cost_cube.c, cost_vector.c, residency.c; docs/simulator.md)
 *
 * Estimates the cycles of a graph on one DaVinci-like AI core from the IR
 * alone (ops, attributes, value types after ir_infer) and a hardware
 * description.  No tensor data is read. */

/* ---------------------------------------------------------------- hardware descriptions (hw.c) */

/* Sizes in bytes, bandwidths in bytes per cycle. */
typedef struct sim_hw {
	char name[64];
	double clock_mhz;
	int64_t cores;      /* informational: every kernel is costed on one core */
	double launch_us;   /* per-kernel launch overhead */
	bool double_buffer; /* the queues overlap (ping-pong buffers) */
	bool float_fp16;    /* float tensors are stored and moved as fp16 */
	struct {
		int64_t m, k, n; /* fractal shape: MACs per cycle per unit = m*k*n */
		int64_t k_int8;  /* K of the int8 fractal; 0: int8 runs on the fp16 shape */
		int64_t units;   /* matrix units working in parallel */
		int64_t latency; /* mmad issue latency, cycles */
	} cube;
	struct {
		int64_t bytes;   /* bytes per repeat */
		int64_t startup; /* cycles per instruction before its first repeat */
		int64_t max_repeat;
		double repeats_per_cycle;
	} vector;
	struct {
		int64_t l0a, l0b, l0c, l1, ub, l2;
	} mem;
	struct {
		double l1_l0a, l1_l0b, l0c_ub, l2_read, l2_write, ddr_read, ddr_write;
	} bw;
} sim_hw;

/* Built-in descriptions (backend_sim/hw/NAME.yaml, embedded at build time). */
size_t sim_hw_builtin_count(void);
const char *sim_hw_builtin_name(size_t i); /* NULL when i is out of range */
/* The YAML text of a built-in, NULL when name is not one; n may be NULL. */
const char *sim_hw_builtin_text(const char *name, size_t *n);
/* Parses a description.  Every problem is reported to d as
 * "file:line:col: error: ..."; false when there was any. */
bool sim_hw_parse(const char *text, size_t n, const char *file, sim_hw *hw, ir_diags *d);
/* spec is a built-in name or a path to a YAML file. */
bool sim_hw_load(const char *spec, sim_hw *hw, ir_diags *d);
/* MACs per cycle of the matrix units (int8: with the int8 fractal). */
int64_t sim_hw_peak(const sim_hw *hw, bool int8);
double sim_hw_launch_cycles(const sim_hw *hw);

/* ---------------------------------------------------------------- costs (cost*.c, residency.c) */

typedef enum { SIM_BOUND_NONE, SIM_BOUND_CUBE, SIM_BOUND_VECTOR, SIM_BOUND_MEMORY, SIM_BOUND_LAUNCH } sim_bound;
/* Where a tensor lives: NONE for no storage (shape-only values). */
typedef enum { SIM_MEM_NONE, SIM_MEM_ONCHIP, SIM_MEM_L2, SIM_MEM_DDR } sim_mem;
const char *sim_bound_name(sim_bound b); /* "none", "cube", "vector", "memory", "launch" */
const char *sim_mem_name(sim_mem m);     /* "-", "on-chip", "L2", "DDR" */

/* One node's estimate.  The unit fields are busy cycles of queues that run
 * in parallel; cycles is their pipelined total plus the launch. */
typedef struct sim_op_cost {
	ir_nid node;
	bool costed;  /* false: a shape it needs is unknown (cycles 0) */
	bool fused;   /* one kernel for several ops: intermediates stay on chip */
	bool generic; /* an op the model does not know: one vector pass */
	int64_t macs, padded_macs;
	double cube_util; /* macs / padded_macs (0 without cube work) */
	int64_t cycles;
	int64_t cube, vector, mte2, mte1, mte3, launch;
	double floor;     /* macs / fp16 peak: the physical floor */
	int64_t bytes_in, bytes_out; /* global memory traffic */
	int64_t operand_bytes;       /* bytes the matrix units read from L0A/L0B */
	int64_t tile[3];             /* chosen tile, fractals along M, K, N */
	sim_bound bound;
	sim_mem in_mem, weight_mem, out_mem; /* worst residency of activations, constants, results */
} sim_op_cost;

typedef struct sim_cost {
	sim_op_cost *ops; /* every live node, in graph order */
	size_t nops;
	int64_t total_cycles, macs, padded_macs;
	int64_t cube, vector, transfer, launch; /* summed busy cycles (transfer: MTE1+2+3) */
	int64_t bytes;   /* global memory traffic */
	int64_t l2_peak; /* most L2 bytes allocated at once */
	double floor;    /* macs / fp16 peak */
	size_t uncosted; /* nodes left at 0 cycles because of unknown shapes */
	sim_mem *where;  /* residency per value id, nwhere = ir_nvalues() + 1 */
	size_t nwhere;
} sim_cost;

/* Costs every live node of g.  requires: topological order, types from
 * ir_infer.  Nodes whose shapes are unknown get a warning and 0 cycles.
 * false only when out of memory.  Free c with sim_cost_free. */
bool sim_cost_graph(const ir_graph *g, const sim_hw *hw, const char *file, sim_cost *c,
		    ir_diags *d);
void sim_cost_free(sim_cost *c);

#endif
