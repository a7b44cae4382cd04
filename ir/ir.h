/* graft IR: the public API of the ir/ layer.
 *
 * A Graph owns arenas of nodes, values, operand slots, attributes, tensors
 * and interned strings.  Everything is referenced by 32-bit ids; id 0 is the
 * "none" id of every arena.  Pointers returned by the accessors (ir_node_at,
 * ir_value_at, ...) stay valid only until the next call that may allocate in
 * the same graph; ids stay valid for the graph's lifetime.
 *
 * Allocation failure is sticky: an allocating call that fails sets the
 * graph's oom flag, returns 0 / a none id, and later calls are no-ops until
 * the caller notices with ir_graph_oom().  Library code never exits.
 */
#ifndef GRAFT_IR_H
#define GRAFT_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- diagnostics (diag.c) */

typedef enum { IR_NOTE, IR_WARNING, IR_ERROR } ir_severity;

typedef struct ir_diag {
	char *file; /* may be NULL */
	int line, col; /* 1-based; 0 when unknown */
	ir_severity sev;
	char *msg;
} ir_diag;

/* A sink that collects diagnostics; the CLI prints them, tests inspect them. */
typedef struct ir_diags {
	ir_diag *v;
	size_t n, cap;
	size_t nerrors;
	size_t max; /* stop recording after this many (0: unlimited) */
} ir_diags;

void ir_diags_init(ir_diags *d);
void ir_diags_free(ir_diags *d);
void ir_diags_clear(ir_diags *d);
#if defined(__GNUC__)
#define IR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IR_PRINTF(a, b)
#endif
void ir_diag_add(ir_diags *d, ir_severity sev, const char *file, int line, int col,
		 const char *fmt, ...) IR_PRINTF(6, 7);
void ir_diag_vadd(ir_diags *d, ir_severity sev, const char *file, int line, int col,
		  const char *fmt, va_list ap);
#define ir_error(d, file, line, col, ...) ir_diag_add((d), IR_ERROR, (file), (line), (col), __VA_ARGS__)
/* Prints "file:line:col: error: message" (parts omitted when unknown). */
void ir_diags_print(const ir_diags *d, FILE *out);
/* True when some recorded diagnostic's message contains needle. */
bool ir_diags_contains(const ir_diags *d, const char *needle);

/* ---------------------------------------------------------------- ids */

typedef uint32_t ir_str;  /* interned string; 0 = "" */
typedef uint32_t ir_val;  /* value id; 0 = none (an absent optional operand) */
typedef uint32_t ir_nid;  /* node id; 0 = none */
typedef uint32_t ir_tid;  /* tensor id; 0 = none */
typedef uint32_t ir_bid;  /* blob id (opaque serialized protobuf); 0 = none */
#define IR_NONE 0u

/* ---------------------------------------------------------------- element types
 * Numbering equals ONNX TensorProto.DataType so import/export is a cast. */
typedef enum {
	IR_UNDEF = 0,
	IR_F32 = 1,
	IR_U8 = 2,
	IR_I8 = 3,
	IR_U16 = 4,
	IR_I16 = 5,
	IR_I32 = 6,
	IR_I64 = 7,
	IR_STRING = 8,
	IR_BOOL = 9,
	IR_F16 = 10,
	IR_F64 = 11,
	IR_U32 = 12,
	IR_U64 = 13,
	IR_C64 = 14,
	IR_C128 = 15,
	IR_BF16 = 16,
	IR_DTYPE_COUNT
} ir_dtype;

/* Bytes per element; 0 for IR_UNDEF and IR_STRING. */
size_t ir_dtype_size(ir_dtype t);
/* Short text name ("f32", "i64", "bool", ...); "?" for unknown codes. */
const char *ir_dtype_name(ir_dtype t);
/* Inverse of ir_dtype_name over n bytes; IR_UNDEF when not a name. */
ir_dtype ir_dtype_parse(const char *s, size_t n);
bool ir_dtype_is_float(ir_dtype t);
bool ir_dtype_is_int(ir_dtype t);

/* ---------------------------------------------------------------- types
 * A value's type.  kind IR_TYPE_TENSOR: dtype + shape; rank -1 = unknown
 * rank; a dim with v < 0 is unknown, optionally named by sym (ONNX
 * dim_param).  dtype IR_UNDEF = element type unknown.  kind IR_TYPE_OPAQUE:
 * a non-tensor ONNX type (sequence, map, optional, sparse) kept as a blob
 * holding its serialized TypeProto.  kind IR_TYPE_NONE: nothing is known
 * (not even that it is a tensor). */
typedef enum { IR_TYPE_NONE = 0, IR_TYPE_TENSOR = 1, IR_TYPE_OPAQUE = 2 } ir_type_kind;

typedef struct ir_dim {
	int64_t v;  /* >= 0 known; -1 unknown */
	ir_str sym; /* dim_param name, 0 if none */
} ir_dim;

typedef struct ir_type {
	uint8_t kind;   /* ir_type_kind */
	uint8_t dtype;  /* ir_dtype */
	int16_t rank;   /* -1 unknown */
	uint32_t dims;  /* offset into the graph's dim pool (tensor), or blob id (opaque) */
} ir_type;

#define IR_MAX_RANK 16

/* ---------------------------------------------------------------- attributes
 * Kind numbering equals ONNX AttributeProto.AttributeType. */
typedef enum {
	IR_ATTR_UNDEF = 0,
	IR_ATTR_FLOAT = 1,
	IR_ATTR_INT = 2,
	IR_ATTR_STRING = 3,
	IR_ATTR_TENSOR = 4,
	IR_ATTR_GRAPH = 5,
	IR_ATTR_FLOATS = 6,
	IR_ATTR_INTS = 7,
	IR_ATTR_STRINGS = 8,
	IR_ATTR_TENSORS = 9,
	IR_ATTR_GRAPHS = 10,
	IR_ATTR_SPARSE_TENSOR = 11,
	IR_ATTR_SPARSE_TENSORS = 12,
	IR_ATTR_TYPE_PROTO = 13,
	IR_ATTR_TYPE_PROTOS = 14
} ir_attr_kind;

/* One attribute.  Scalars live inline; lists are (off, n) into a pool:
 *   INTS -> i64 pool; FLOATS -> f32 pool; STRINGS -> u32 pool of ir_str;
 *   TENSORS -> u32 pool of ir_tid; GRAPHS, SPARSE_TENSORS, TYPE_PROTOS ->
 *   u32 pool of ir_bid.  TENSOR -> t; GRAPH, SPARSE_TENSOR, TYPE_PROTO -> b
 *   (a blob holding the serialized GraphProto / SparseTensorProto /
 *   TypeProto, kept byte-exact). */
typedef struct ir_attr {
	ir_str name;
	uint8_t kind;
	ir_str ref;  /* ref_attr_name (function bodies), 0 if none */
	ir_str doc;
	uint32_t n;  /* list length */
	union {
		int64_t i;
		float f;
		ir_str s;
		ir_tid t;
		ir_bid b;
		uint32_t off;
	} u;
} ir_attr;

/* ---------------------------------------------------------------- tensors (constant data)
 * data is in ONNX raw_data layout (little-endian, row-major).  For
 * IR_STRING tensors data holds, per element, a uint32 length followed by the
 * bytes.  External tensors are loaded at import; the IR never references
 * files. */
typedef struct ir_tensor {
	ir_str name;
	ir_str doc;
	uint8_t dtype;
	int16_t rank;
	uint32_t dims;   /* offset into the i64 pool */
	void *data;      /* owned by the graph */
	size_t nbytes;
} ir_tensor;

/* ---------------------------------------------------------------- values */
typedef enum {
	IR_DEF_NONE = 0,  /* dead / not yet defined */
	IR_DEF_INPUT = 1, /* graph input; tensor != 0 when it has an initializer default */
	IR_DEF_CONST = 2, /* constant (initializer) holding tensor */
	IR_DEF_NODE = 3   /* result number `index` of node `node` */
} ir_def_kind;

typedef struct ir_value {
	ir_str name;
	ir_str doc;
	uint8_t def_kind;
	uint16_t index;
	ir_nid node;
	ir_tid tensor;
	ir_type type;
	uint32_t first_use; /* operand slot id; 0 when unused */
	uint32_t nuses;
} ir_value;

/* An operand slot: one operand of one node, linked into its value's use
 * list.  v == IR_NONE for an absent optional operand (not linked). */
typedef struct ir_use {
	ir_val v;
	ir_nid node;
	uint32_t next, prev; /* slot ids in v's use list */
} ir_use;

/* ---------------------------------------------------------------- nodes */
typedef struct ir_node {
	ir_str op;
	ir_str domain;   /* 0 for the default ONNX domain */
	ir_str name;
	ir_str doc;
	uint16_t opcode; /* registry index; IR_OP_OPAQUE when unknown */
	uint8_t dead;
	uint8_t mark;    /* scratch for passes; not preserved */
	uint32_t nin, nout, nattr;
	uint32_t in;     /* first operand slot id */
	uint32_t out;    /* offset into the result pool (ir_val ids) */
	uint32_t attr;   /* first attribute index */
	ir_nid prev, next; /* graph order (a topological order once verified) */
} ir_node;

/* ---------------------------------------------------------------- the graph */
typedef void *(*ir_allocf)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct ir_opset {
	ir_str domain;
	int64_t version;
} ir_opset;

typedef struct ir_kv {
	ir_str key, value;
} ir_kv;

typedef struct ir_graph ir_graph; /* layout in ir_internal.h */

ir_graph *ir_graph_new(void);
/* f(ud, ptr, osize, nsize): realloc-like, nsize 0 frees; NULL on failure. */
ir_graph *ir_graph_new_alloc(ir_allocf f, void *ud);
void ir_graph_free(ir_graph *g);
bool ir_graph_oom(const ir_graph *g);
/* Bytes the graph holds in its arenas, tensor data excluded. */
size_t ir_graph_bytes(const ir_graph *g);

/* Model-level metadata (ModelProto and GraphProto scalar fields). */
typedef struct ir_meta {
	int64_t ir_version;
	ir_str producer_name, producer_version, domain, doc;
	int64_t model_version;
	ir_str graph_name, graph_doc;
} ir_meta;
ir_meta *ir_graph_meta(ir_graph *g);
const ir_meta *ir_graph_cmeta(const ir_graph *g);

/* Opset imports.  ir_graph_opset returns the version for a domain ("" and
 * "ai.onnx" are the same), or -1 when not imported. */
void ir_graph_add_opset(ir_graph *g, const char *domain, int64_t version);
size_t ir_graph_nopsets(const ir_graph *g);
ir_opset ir_graph_opset_at(const ir_graph *g, size_t i);
int64_t ir_graph_opset(const ir_graph *g, const char *domain);

/* Model metadata_props, kept in order. */
void ir_graph_add_prop(ir_graph *g, ir_str key, ir_str value);
size_t ir_graph_nprops(const ir_graph *g);
ir_kv ir_graph_prop_at(const ir_graph *g, size_t i);

/* Things graft keeps but does not interpret, as serialized protobuf blobs:
 * GraphProto.sparse_initializer, GraphProto.quantization_annotation,
 * ModelProto.training_info.  (ModelProto.functions are functions, below.) */
typedef enum { IR_EXTRA_SPARSE_INIT, IR_EXTRA_QUANT_ANNOT, IR_EXTRA_TRAINING, IR_EXTRA_KINDS } ir_extra_kind;
void ir_graph_add_extra(ir_graph *g, ir_extra_kind k, ir_bid b);
size_t ir_graph_nextras(const ir_graph *g, ir_extra_kind k);
ir_bid ir_graph_extra_at(const ir_graph *g, ir_extra_kind k, size_t i);

/* ---- strings */
ir_str ir_intern(ir_graph *g, const char *s, size_t n);
ir_str ir_intern_cstr(ir_graph *g, const char *s);
/* Looks up without inserting; 0 when absent (or when s is ""). */
ir_str ir_str_lookup(const ir_graph *g, const char *s, size_t n);
/* A hint: s will be interned soon (its slot of the string index is
 * fetched into the cache meanwhile). */
void ir_intern_prefetch(const ir_graph *g, const char *s, size_t n);
/* Makes room for nstr more strings of nchars bytes in all, so that
 * interning them grows nothing (false when out of memory). */
bool ir_intern_reserve(ir_graph *g, size_t nstr, size_t nchars);
/* NUL-terminated; "" for 0.  *len may be NULL. */
const char *ir_str_get(const ir_graph *g, ir_str s, size_t *len);
#define ir_cstr(g, s) ir_str_get((g), (s), NULL)

/* ---- blobs */
ir_bid ir_blob_add(ir_graph *g, const void *data, size_t n);
const void *ir_blob_get(const ir_graph *g, ir_bid b, size_t *n);
size_t ir_nblobs(const ir_graph *g); /* ids are 1..n */

/* ---- types */
ir_type ir_type_unknown(void);
/* dims may be NULL when rank <= 0; copies dims (syms all 0). */
ir_type ir_type_tensor(ir_graph *g, ir_dtype dt, int rank, const int64_t *dims);
ir_type ir_type_tensor_dims(ir_graph *g, ir_dtype dt, int rank, const ir_dim *dims);
ir_type ir_type_opaque(ir_graph *g, ir_bid typeproto);
const ir_dim *ir_type_dims(const ir_graph *g, ir_type t); /* NULL if rank <= 0 */
/* Number of elements, or -1 when some dim or the rank is unknown. */
int64_t ir_type_numel(const ir_graph *g, ir_type t);
/* Structural equality (dims, syms and dtype); types of two graphs. */
bool ir_type_equal(const ir_graph *ga, ir_type a, const ir_graph *gb, ir_type b);
bool ir_type_is_static(const ir_graph *g, ir_type t);
/* Formats like "f32[1,3,224,224]", "f32[N,?,7]", "?", "f32[*]" into buf. */
int ir_type_format(const ir_graph *g, ir_type t, char *buf, size_t cap);

/* ---- tensors */
/* Copies dims and data (data may be NULL: zero-filled). */
ir_tid ir_tensor_new(ir_graph *g, ir_str name, ir_dtype dt, int rank, const int64_t *dims,
		     const void *data, size_t nbytes);
/* Takes ownership of data (allocated with the graph's allocator via ir_alloc,
 * or with malloc when ir_graph_adopts_malloc). */
ir_tid ir_tensor_adopt(ir_graph *g, ir_str name, ir_dtype dt, int rank, const int64_t *dims,
		       void *data, size_t nbytes);
/* True when the graph's allocator is malloc's (ir_graph_new, ONNX import): a
 * malloc'd buffer may then become a tensor's data (ir_tensor_adopt, or
 * replacing ir_tensor.data after freeing the old one with ir_free). */
bool ir_graph_adopts_malloc(const ir_graph *g);
ir_tensor *ir_tensor_at(const ir_graph *g, ir_tid t);
const int64_t *ir_tensor_dims(const ir_graph *g, ir_tid t);
int64_t ir_tensor_numel(const ir_graph *g, ir_tid t);
size_t ir_ntensors(const ir_graph *g); /* ids are 1..n */
ir_type ir_tensor_type(ir_graph *g, ir_tid t);

/* Raw allocation through the graph's allocator (sets oom on failure). */
void *ir_alloc(ir_graph *g, size_t n);
void ir_free(ir_graph *g, void *p, size_t n);

/* ---- values */
ir_val ir_value_new(ir_graph *g, ir_str name, ir_type type);
ir_value *ir_value_at(const ir_graph *g, ir_val v);
size_t ir_nvalues(const ir_graph *g); /* ids are 1..n (dead ones included) */
/* A constant value holding tensor t (type from the tensor). */
ir_val ir_const_new(ir_graph *g, ir_str name, ir_tid t);
/* Appends a graph input (optionally with an initializer default). */
ir_val ir_input_new(ir_graph *g, ir_str name, ir_type type, ir_tid init);
void ir_graph_add_output(ir_graph *g, ir_val v);
/* Constants are kept in order of creation; removed ones are skipped. */
size_t ir_graph_nconsts(const ir_graph *g);
ir_val ir_graph_const_at(const ir_graph *g, size_t i);
size_t ir_graph_ninputs(const ir_graph *g);
ir_val ir_graph_input_at(const ir_graph *g, size_t i);
size_t ir_graph_noutputs(const ir_graph *g);
ir_val ir_graph_output_at(const ir_graph *g, size_t i);
void ir_graph_set_output(ir_graph *g, size_t i, ir_val v);
bool ir_value_is_output(const ir_graph *g, ir_val v);
/* Removes a constant that has no uses and is not an output. */
void ir_const_remove(ir_graph *g, ir_val v);
/* Removes those of the n values v that are constants without uses and not
 * graph outputs (others are left alone; duplicates allowed), in one pass
 * over the constant list. */
void ir_consts_remove(ir_graph *g, const ir_val *v, size_t n);

/* ---- uses */
ir_use *ir_use_at(const ir_graph *g, uint32_t slot);
/* Iterate: for (uint32_t u = ir_first_use(g, v); u; u = ir_next_use(g, u)) */
uint32_t ir_first_use(const ir_graph *g, ir_val v);
uint32_t ir_next_use(const ir_graph *g, uint32_t slot);
uint32_t ir_use_operand_index(const ir_graph *g, uint32_t slot);
/* Points every use of from at to (graph outputs included). */
void ir_replace_all_uses(ir_graph *g, ir_val from, ir_val to);

/* ---- nodes */
/* Creates a node and nout fresh result values (unnamed, unknown type),
 * appended at the end of the graph order (or before `before` when nonzero).
 * ins may contain IR_NONE for absent optional operands.  The opcode is
 * resolved through the registry at the graph's opset for the domain. */
ir_nid ir_node_new(ir_graph *g, const char *domain, const char *op, const ir_val *ins, uint32_t nin,
		   uint32_t nout, ir_nid before);
/* ir_node_new with op and domain already strings of g; domain 0 is the
 * default ONNX domain (never the string "ai.onnx"). */
ir_nid ir_node_new_str(ir_graph *g, ir_str domain, ir_str op, const ir_val *ins, uint32_t nin, uint32_t nout,
		       ir_nid before);
ir_node *ir_node_at(const ir_graph *g, ir_nid n);
/* A hint for a pass about to read node n, its operands' producers (and
 * theirs' operands) and its constant operands: stage 0 fetches the node
 * into the cache, 1 its operand slots, 2 their values, 3 the values'
 * producers and the constants' tensor entries, 4 the constants' data and
 * the producers' operand slots, 5 those slots' values; each stage reads
 * what the one before fetched, so a pass walking a list of nodes runs
 * stage IR_PREFETCH_STAGES - 1 - k on the node k * d places ahead. */
#define IR_PREFETCH_STAGES 6
void ir_prefetch_node(const ir_graph *g, ir_nid n, int stage);
size_t ir_nnodes_total(const ir_graph *g); /* ids are 1..n (dead ones included) */
size_t ir_graph_nnodes(const ir_graph *g); /* live nodes */
ir_nid ir_graph_first(const ir_graph *g);
ir_nid ir_graph_last(const ir_graph *g);
ir_val ir_node_input(const ir_graph *g, ir_nid n, uint32_t i);
ir_val ir_node_output(const ir_graph *g, ir_nid n, uint32_t i);
void ir_node_set_input(ir_graph *g, ir_nid n, uint32_t i, ir_val v);
/* Replaces the operand list (re-links uses). */
void ir_node_set_inputs(ir_graph *g, ir_nid n, const ir_val *ins, uint32_t nin);
/* Unlinks operands, marks results dead; results must be unused. */
void ir_node_remove(ir_graph *g, ir_nid n);
/* Moves n before `before` (0: to the end). */
void ir_node_move(ir_graph *g, ir_nid n, ir_nid before);
/* Re-resolves every node's opcode (after opsets change). */
void ir_graph_resolve_ops(ir_graph *g);
/* Where node n was written in a .gir file (1-based; 0 when unknown), for
 * diagnostics only: never printed, exported nor compared. */
void ir_node_set_loc(ir_graph *g, ir_nid n, int line, int col);
void ir_node_loc(const ir_graph *g, ir_nid n, int *line, int *col);

/* ---- node attributes (kept in insertion order; setting an existing name replaces it) */
ir_attr *ir_node_attrs(const ir_graph *g, ir_nid n); /* nattr entries */
const ir_attr *ir_attr_find(const ir_graph *g, ir_nid n, const char *name);
void ir_attr_set_int(ir_graph *g, ir_nid n, const char *name, int64_t v);
void ir_attr_set_float(ir_graph *g, ir_nid n, const char *name, float v);
void ir_attr_set_string(ir_graph *g, ir_nid n, const char *name, const char *s, size_t len);
void ir_attr_set_ints(ir_graph *g, ir_nid n, const char *name, const int64_t *v, uint32_t cnt);
void ir_attr_set_floats(ir_graph *g, ir_nid n, const char *name, const float *v, uint32_t cnt);
void ir_attr_set_strs(ir_graph *g, ir_nid n, const char *name, const ir_str *v, uint32_t cnt);
void ir_attr_set_tensor(ir_graph *g, ir_nid n, const char *name, ir_tid t);
void ir_attr_set_tensors(ir_graph *g, ir_nid n, const char *name, const ir_tid *v, uint32_t cnt);
/* kind is GRAPH/SPARSE_TENSOR/TYPE_PROTO (one blob) or the plural kinds. */
void ir_attr_set_blobs(ir_graph *g, ir_nid n, const char *name, ir_attr_kind kind, const ir_bid *v,
		       uint32_t cnt);
/* General form: appends a fully built attribute (pools already filled). */
void ir_attr_put(ir_graph *g, ir_nid n, const ir_attr *a);
void ir_attr_remove(ir_graph *g, ir_nid n, const char *name);
/* Pools for list attributes. */
const int64_t *ir_attr_ints(const ir_graph *g, const ir_attr *a);
const float *ir_attr_floats(const ir_graph *g, const ir_attr *a);
const uint32_t *ir_attr_ids(const ir_graph *g, const ir_attr *a); /* STRINGS/TENSORS/blob lists */
uint32_t ir_pool_i64(ir_graph *g, const int64_t *v, uint32_t n);
uint32_t ir_pool_f32(ir_graph *g, const float *v, uint32_t n);
uint32_t ir_pool_u32(ir_graph *g, const uint32_t *v, uint32_t n);
/* Typed getters with defaults (wrong kind -> default). */
int64_t ir_attr_int(const ir_graph *g, ir_nid n, const char *name, int64_t dflt);
float ir_attr_float(const ir_graph *g, ir_nid n, const char *name, float dflt);
/* Copies up to cap ints; returns the list length or -1 when absent. */
int ir_attr_ints_get(const ir_graph *g, ir_nid n, const char *name, int64_t *out, int cap);

/* ---------------------------------------------------------------- functions (func.c, func_copy.c)
 * Model-local functions (ONNX FunctionProto).  A graph holds a table of
 * functions; each has a domain, a name, a doc string, the attributes it
 * declares (each optionally with a default) and a body: a graph of its own
 * whose inputs are the formal inputs, whose outputs are the formal outputs
 * and whose opsets are the function's opset imports.  Body nodes read the
 * call's attributes through references (ir_attr.ref names a declared
 * attribute; such a body attribute holds no value of its own).
 *
 * A node whose (domain, op) names a function of its graph -- or, for a node
 * of a body, of the graph holding that function -- is a call.  Formal input
 * i is the call's operand i (absent when the operand is absent or missing);
 * call result j is formal output j (a call may have fewer results); a
 * reference takes the call's attribute of that name, else the function's
 * default, else the referring attribute is left out (the op's own default
 * applies). */
typedef uint32_t ir_fid; /* function id: 1..ir_graph_nfuncs(g); 0 = none */

typedef struct ir_func {
	ir_str domain, name, doc; /* strings of the graph holding the function */
	ir_graph *body;           /* owned; freed with the graph */
} ir_func;

/* Adds a function with an empty body (no opsets, no attributes); 0 when
 * (domain, name) is taken or out of memory.  domain NULL or "" is the
 * default domain. */
ir_fid ir_func_new(ir_graph *g, const char *domain, const char *name);
size_t ir_graph_nfuncs(const ir_graph *g);
ir_func *ir_func_at(const ir_graph *g, ir_fid f);
/* The function (domain, name) of g itself; 0 when none. */
ir_fid ir_func_find(const ir_graph *g, const char *domain, const char *name);
/* The function node n calls (looked up in g, then in the graphs holding
 * the functions g is a body or instance of); NULL when n is no call. */
const ir_func *ir_node_callee(const ir_graph *g, ir_nid n);
/* The attributes a function declares, kept on its body graph in order:
 * kind IR_ATTR_UNDEF declares one without a default; any other kind is
 * the default (its pools in the body).  Adding a declared name replaces it. */
void ir_func_add_attr(ir_graph *body, const ir_attr *a);
size_t ir_func_nattrs(const ir_graph *body);
const ir_attr *ir_func_attr_at(const ir_graph *body, size_t i);
const ir_attr *ir_func_attr_find(const ir_graph *body, const char *name);
/* Deep copy of function f of src into dst (body, attributes, doc), under
 * the same name; 0 when dst has the name already or out of memory. */
ir_fid ir_func_copy(ir_graph *dst, const ir_graph *src, ir_fid f);
/* A copy of the body of the function call n calls, specialised for the
 * call: its inputs are the formals the call supplies, in order (formals of
 * absent operands are dropped and read as absent), typed as the call's
 * operands; references bound as described above.  Types are not inferred.
 * NULL (errors in d) when n is no call, does not fit the signature, or
 * calls nest too deep.  Free with ir_graph_free. */
ir_graph *ir_call_instance(const ir_graph *g, ir_nid n, ir_diags *d, const char *file);
/* Replaces call n by a copy of its function's body: the copied nodes are
 * named "<call name>/<body node name>" and the call's result values are
 * rewired to the body's outputs.  false (errors in d) as ir_call_instance. */
bool ir_inline_call(ir_graph *g, ir_nid n, ir_diags *d, const char *file);
/* Copies a type of src into dst (symbolic dims and opaque blobs included). */
ir_type ir_type_copy(ir_graph *dst, const ir_graph *src, ir_type t);
/* Copies attribute a of src into *out, its pools, strings, tensors and
 * blobs now in dst (src may be dst); put it on a node with ir_attr_put.
 * false when out of memory. */
bool ir_attr_copy(ir_graph *dst, const ir_graph *src, const ir_attr *a, ir_attr *out);
/* Two function bodies (of any graphs) compute the same: as many formals,
 * the same nodes in the same order (domain, op, operands by position,
 * attributes by value), the same outputs and declared attributes; value
 * and node names, docs and types aside. */
bool ir_body_equal(const ir_graph *a, const ir_graph *b);

/* ---------------------------------------------------------------- op registry (ops.c, ops.def) */
enum {
	IR_TRAIT_ELEMENTWISE = 1u << 0,
	IR_TRAIT_UNARY = 1u << 1,
	IR_TRAIT_BINARY = 1u << 2,
	IR_TRAIT_COMMUTATIVE = 1u << 3,
	IR_TRAIT_ASSOCIATIVE = 1u << 4,
	IR_TRAIT_SHAPE_PRESERVING = 1u << 5,
	IR_TRAIT_HAS_WEIGHTS = 1u << 6,
	IR_TRAIT_CUBE = 1u << 7,     /* runs on the matrix unit */
	IR_TRAIT_POOL = 1u << 8,
	IR_TRAIT_REDUCTION = 1u << 9,
	IR_TRAIT_LAYOUT = 1u << 10,  /* moves data without arithmetic */
	IR_TRAIT_SHAPE_OP = 1u << 11 /* computes shapes/indices */
};

#define IR_OP_OPAQUE 0
enum ir_opcode {
	IR_OP_OPAQUE_ = 0,
#define IR_OP(id, name, since, until, min_in, max_in, min_out, max_out, traits) IR_OP_##id,
#include "ops.def" /* IWYU pragma: keep */
#undef IR_OP
	IR_OP_COUNT
};

typedef struct ir_attrdef {
	const char *name;
	ir_attr_kind kind;
	bool required;
	const char *dflt; /* default in .gir attribute syntax, NULL if none */
} ir_attrdef;

typedef struct ir_opinfo {
	const char *name;
	int since, until;      /* opset versions of the default domain this entry covers */
	int min_in, max_in;    /* max_in -1: variadic */
	int min_out, max_out;
	unsigned traits;
	const ir_attrdef *attrs; /* terminated by {NULL} */
} ir_opinfo;

const ir_opinfo *ir_op_info(uint16_t opcode); /* NULL for IR_OP_OPAQUE */
/* Registry lookup: opcode for (domain, name) at the given opset version, or
 * IR_OP_OPAQUE when unknown there. */
uint16_t ir_op_lookup(const char *domain, const char *name, int64_t opset);
/* Any version known: used by the rule compiler for name checks. */
bool ir_op_known(const char *name);
size_t ir_op_count(void);

/* ---------------------------------------------------------------- shape inference (infer.c) */
/* Infers result types of every node in graph order, filling unknown parts
 * and checking declared ones.  A conflict between an inferred and a declared
 * type is an error naming the node; returns the number of errors.  A call
 * is inferred through its body (ir_call_instance); nodes with attribute
 * references (function bodies) are skipped. */
size_t ir_infer(ir_graph *g, ir_diags *d, const char *file);
/* Infers one node's results (after a rewrite). */
bool ir_infer_node(ir_graph *g, ir_nid n, ir_diags *d, const char *file);
/* ir_infer_node, telling in *read_values whether the inference read known
 * values of the operands (a Reshape's shape, say).  When it did not, the
 * results follow from the node's op, domain, attributes, operand types and
 * the graph's opsets alone (the same inputs give the same results). */
bool ir_infer_node_ex(ir_graph *g, ir_nid n, ir_diags *d, const char *file, bool *read_values);

/* ---------------------------------------------------------------- verifier (verify.c) */
/* Single definition, defined-before-use along the graph order (so no
 * cycles), use lists exact, arity/attribute kinds/types consistent with the
 * registry; every function body the same way (without types), its
 * references naming declared attributes, no function calling itself; every
 * call's operands, results and attributes fitting its function.  Returns
 * the number of errors added to d. */
size_t ir_verify(const ir_graph *g, ir_diags *d, const char *file);
/* Reorders nodes topologically; false (with an error naming a node on the
 * cycle) when the graph has a cycle. */
bool ir_toposort(ir_graph *g, ir_diags *d, const char *file);

/* ---------------------------------------------------------------- ONNX (onnx_import.c, onnx_export.c) */
/* Parses a serialized ModelProto.  base_dir locates external data files
 * (NULL: the current directory).  file names the source in diagnostics. */
ir_graph *ir_onnx_read_buf(const void *buf, size_t n, const char *file, const char *base_dir,
			   ir_diags *d);
ir_graph *ir_onnx_read_file(const char *path, ir_diags *d);
/* Serializes to a malloc'd buffer (*out, *n); false on error. */
bool ir_onnx_write_buf(const ir_graph *g, void **out, size_t *n, ir_diags *d);

/* ---------------------------------------------------------------- text form (text_print.c, text_parse.c) */
/* Constants with more than inline_max elements are written to a side file
 * ("<path>.bin") and referenced by offset; the printer appends their bytes to
 * *side (malloc'd, may be NULL when none).  inline_max < 0 inlines everything. */
typedef struct ir_print_opts {
	int inline_max;      /* default 16 */
	const char *side_name; /* name written in the header for the side file */
} ir_print_opts;
bool ir_print(const ir_graph *g, FILE *out, const ir_print_opts *o, void **side, size_t *side_n);
/* Parses .gir text; side/side_n hold the side file's bytes (may be NULL). */
ir_graph *ir_parse(const char *text, size_t n, const char *file, const void *side, size_t side_n,
		   ir_diags *d);

/* ---------------------------------------------------------------- statistics (stats.c) */
typedef struct ir_stats {
	int64_t nodes, opaque;
	int64_t params, param_bytes; /* elements and bytes of constants (initializers) */
	int64_t macs;                /* multiply-accumulates of Conv/MatMul/Gemm */
	int64_t macs_unknown;        /* nodes whose MACs need shapes that are unknown */
} ir_stats;
/* MACs of one node (0 for ops without multiply-accumulate work, -1 when
 * shapes are unknown; a call: its body's).  requires: inferred types. */
int64_t ir_node_macs(const ir_graph *g, ir_nid n);
ir_stats ir_graph_stats(const ir_graph *g);

/* ---------------------------------------------------------------- graph diff (diff.c, diff_*.c)
 * Aligns two graphs and lists what really changed.  Nodes are matched by
 * structure first (bottom-up hashes of op, attributes and operands, then
 * propagation from matched consumers to their producers and from matched
 * producers to their consumers), then by names as a hint, then by order among
 * structurally identical nodes; constants by content.  Renamed values and
 * reordered nodes are not differences.  Both graphs must stay unchanged while
 * the result is in use (it refers to their nodes and values by id). */
typedef struct ir_diff_opts {
	bool ignore_names;     /* names are no matching hint */
	bool ignore_constants; /* constants compare by element type and shape only */
	double tolerance;      /* constant data equal when no element differs by more */
} ir_diff_opts;

typedef enum {
	IR_DIFF_ATTR,    /* attribute attr_a (of a) / attr_b (of b) differs or is on one side only */
	IR_DIFF_OPERAND, /* operand `index` reads another value, or exists on one side only */
	IR_DIFF_CONST,   /* constant operand `index` holds other data */
	IR_DIFF_RESULTS  /* the number of results differs */
} ir_diff_kind;

typedef struct ir_diff_change {
	uint8_t kind;           /* ir_diff_kind */
	ir_nid a, b;            /* the node of A and its counterpart in B */
	uint32_t index;         /* OPERAND, CONST: operand index */
	int32_t attr_a, attr_b; /* ATTR: index into ir_node_attrs(), -1 when absent */
	double max_abs;         /* CONST, tensor ATTR: largest element difference; NAN when
				   types or shapes differ or elements do not compare as numbers */
} ir_diff_change;

typedef struct ir_diff_vals {
	ir_val *v;
	uint32_t n;
} ir_diff_vals;

typedef struct ir_diff_pair {
	ir_val a, b;
} ir_diff_pair;

/* A replacement: a connected group of removed nodes of A and the added nodes
 * of B that took their place (either list may be empty). */
typedef struct ir_diff_group {
	ir_nid *removed;       /* nodes of A, topological order */
	ir_nid *added;         /* nodes of B, topological order */
	uint32_t nremoved, nadded;
	ir_diff_vals in, out;  /* boundary: non-constant values entering and leaving the
				  group, of A (of B when nothing was removed) */
	uint32_t nconsts;      /* new constants of B now read where the group's results were */
	char *summary;         /* "Conv+BatchNormalization+Relu (3 nodes) → FusedConv" */
} ir_diff_group;

typedef struct ir_diff {
	const ir_graph *a, *b;
	bool equal;                       /* same computation up to names and node order */
	uint32_t nadded, nremoved, nchanged; /* nodes */
	ir_nid *node_a2b, *node_b2a;      /* by node id; 0: no counterpart */
	ir_val *val_a2b, *val_b2a;        /* by value id; 0: no counterpart */
	ir_diff_group *groups;            /* equal summaries adjacent, most frequent first */
	uint32_t ngroups;
	ir_diff_change *changes;          /* in A's topological order */
	uint32_t nchanges;
	ir_diff_vals inputs_removed, inputs_added, outputs_removed, outputs_added;
	ir_diff_vals consts_removed, consts_added;
	ir_diff_pair *rewired;            /* graph outputs now reading another kept value */
	uint32_t nrewired;
	ir_diff_pair *shapes;             /* matched values whose known types differ */
	uint32_t nshapes;
} ir_diff;

/* Diffs a against b (o may be NULL); NULL with an error in d on failure. */
ir_diff *ir_diff_graphs(const ir_graph *a, const ir_graph *b, const ir_diff_opts *o, ir_diags *d);
void ir_diff_free(ir_diff *r);
/* Largest absolute elementwise difference of two tensors of two graphs; NAN
 * when their types or shapes differ or the elements are not numbers. */
double ir_tensor_max_diff(const ir_graph *ga, ir_tid a, const ir_graph *gb, ir_tid b);

/* ---------------------------------------------------------------- DOT (dot.c) */
bool ir_write_dot(const ir_graph *g, FILE *out);

/* ---------------------------------------------------------------- files (io.c) */
typedef enum { IR_FMT_UNKNOWN, IR_FMT_ONNX, IR_FMT_GIR, IR_FMT_DOT } ir_format;
ir_format ir_format_of_path(const char *path);
/* Loads .onnx or .gir (by extension; "-" reads .gir from stdin). */
ir_graph *ir_load(const char *path, ir_diags *d);
/* Writes by extension through a temporary file renamed into place; "-"
 * writes .gir text to stdout (fmt overrides when not UNKNOWN). */
bool ir_save(const ir_graph *g, const char *path, ir_format fmt, ir_diags *d);
/* As ir_save; .gir constants with more than inline_max elements go to the
 * side file (ir_save uses 16; < 0 inlines everything). */
bool ir_save_inline(const ir_graph *g, const char *path, ir_format fmt, int inline_max, ir_diags *d);
/* Whole-file read; NUL-terminates (not counted in *n). */
void *ir_read_file(const char *path, size_t *n, ir_diags *d);
/* Writes bytes to path via path.tmpXXXX + rename. */
bool ir_write_file_atomic(const char *path, const void *data, size_t n, ir_diags *d);

#endif
