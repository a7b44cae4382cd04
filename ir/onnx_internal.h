/* Layer-internal: what onnx_import.c, onnx_export.c and onnx_func.c (the
 * model-local functions) share.  Needs the protobuf-c bindings. */
#ifndef GRAFT_ONNX_INTERNAL_H
#define GRAFT_ONNX_INTERNAL_H

#include "ir_internal.h"
#include "onnx.pb-c.h"

/* ---------------------------------------------------------------- onnx_import.c */

/* Converts one AttributeProto into *out, its data in g; false (reported,
 * with `where` naming its owner) on an invalid attribute. */
bool ir_onnx_attr_unpack(ir_graph *g, Onnx__AttributeProto *a, const char *where, const char *file,
			 const char *base_dir, ir_diags *d, ir_attr *out);

/* ---------------------------------------------------------------- onnx_export.c */

/* Serializes g as a ModelProto through out's append callback (which
 * receives tensor data straight from the graph's buffers); false (reported)
 * when the model cannot be written.  Write errors are out's to record. */
bool ir_onnx_write_stream(const ir_graph *g, ProtobufCBuffer *out, ir_diags *d);
/* Serializes attribute a of graph g (its pools) as an AttributeProto into
 * a malloc'd buffer. */
bool ir_onnx_attr_pack(const ir_graph *g, const ir_attr *a, void **out, size_t *n, ir_diags *d);

/* ---------------------------------------------------------------- onnx_func.c */

/* ModelProto.functions become g's functions; false after an error. */
bool ir_onnx_import_funcs(ir_graph *g, const Onnx__ModelProto *mp, const char *file, const char *base_dir,
			  ir_diags *d);
/* Serializes function f of g as a FunctionProto into a malloc'd buffer. */
bool ir_onnx_pack_func(const ir_graph *g, ir_fid f, void **out, size_t *n, ir_diags *d);

#endif
