/* Attribute tables of the registered ops, included once by ops.c.
 *
 * One table per op of ops.def: every attribute the ONNX spec defines for the
 * op over the opset range of its entry, with the spec's default written in
 * .gir attribute syntax (NULL when the spec gives none).  Attributes that
 * exist only in some versions of that range are listed with the version in a
 * comment; inference checks version-specific rules (e.g. ReduceMean's axes
 * attribute before 18, Unsqueeze's before 13).  "required" is set only when
 * the attribute is required in every version of the range. */
#ifndef GRAFT_OPS_ATTRS_H
#define GRAFT_OPS_ATTRS_H

#include "ir.h"

#define IR_ATTRS_END {NULL, IR_ATTR_UNDEF, false, NULL}

/* Conv, MaxPool and AveragePool share their geometry attributes. */
static const ir_attrdef attrs_Conv[] = {
	{"auto_pad", IR_ATTR_STRING, false, "\"NOTSET\""},
	{"dilations", IR_ATTR_INTS, false, NULL},
	{"group", IR_ATTR_INT, false, "1"},
	{"kernel_shape", IR_ATTR_INTS, false, NULL},
	{"pads", IR_ATTR_INTS, false, NULL},
	{"strides", IR_ATTR_INTS, false, NULL},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_BatchNormalization[] = {
	{"epsilon", IR_ATTR_FLOAT, false, "1e-05"},
	{"momentum", IR_ATTR_FLOAT, false, "0.9"},
	{"training_mode", IR_ATTR_INT, false, "0"}, /* >= 14 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Relu[] = {IR_ATTRS_END};

static const ir_attrdef attrs_Clip[] = {IR_ATTRS_END}; /* min and max are inputs from 11 */

static const ir_attrdef attrs_Add[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Mul[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Sub[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Div[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Pow[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Sqrt[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Erf[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Sigmoid[] = {IR_ATTRS_END};

static const ir_attrdef attrs_HardSigmoid[] = {
	{"alpha", IR_ATTR_FLOAT, false, "0.2"},
	{"beta", IR_ATTR_FLOAT, false, "0.5"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_MatMul[] = {IR_ATTRS_END};

static const ir_attrdef attrs_Gemm[] = {
	{"alpha", IR_ATTR_FLOAT, false, "1.0"},
	{"beta", IR_ATTR_FLOAT, false, "1.0"},
	{"transA", IR_ATTR_INT, false, "0"},
	{"transB", IR_ATTR_INT, false, "0"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Reshape[] = {
	{"allowzero", IR_ATTR_INT, false, "0"}, /* >= 14 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Transpose[] = {
	{"perm", IR_ATTR_INTS, false, NULL}, /* absent: reverse the axes */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Flatten[] = {
	{"axis", IR_ATTR_INT, false, "1"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Concat[] = {
	{"axis", IR_ATTR_INT, true, NULL},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Softmax[] = {
	{"axis", IR_ATTR_INT, false, "-1"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_ReduceMean[] = {
	{"axes", IR_ATTR_INTS, false, NULL}, /* < 18; an input from 18 */
	{"keepdims", IR_ATTR_INT, false, "1"},
	{"noop_with_empty_axes", IR_ATTR_INT, false, "0"}, /* >= 18 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_MaxPool[] = {
	{"auto_pad", IR_ATTR_STRING, false, "\"NOTSET\""},
	{"ceil_mode", IR_ATTR_INT, false, "0"}, /* >= 10 */
	{"dilations", IR_ATTR_INTS, false, NULL}, /* >= 10 */
	{"kernel_shape", IR_ATTR_INTS, true, NULL},
	{"pads", IR_ATTR_INTS, false, NULL},
	{"storage_order", IR_ATTR_INT, false, "0"},
	{"strides", IR_ATTR_INTS, false, NULL},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_AveragePool[] = {
	{"auto_pad", IR_ATTR_STRING, false, "\"NOTSET\""},
	{"ceil_mode", IR_ATTR_INT, false, "0"}, /* >= 10 */
	{"count_include_pad", IR_ATTR_INT, false, "0"},
	{"dilations", IR_ATTR_INTS, false, NULL}, /* >= 19 */
	{"kernel_shape", IR_ATTR_INTS, true, NULL},
	{"pads", IR_ATTR_INTS, false, NULL},
	{"strides", IR_ATTR_INTS, false, NULL},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_GlobalAveragePool[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Identity[] = {IR_ATTRS_END};

/* Exactly one of these must be set (value alone before 11, value or
 * sparse_value at 11, any one from 12). */
static const ir_attrdef attrs_Constant[] = {
	{"sparse_value", IR_ATTR_SPARSE_TENSOR, false, NULL}, /* >= 11 */
	{"value", IR_ATTR_TENSOR, false, NULL},
	{"value_float", IR_ATTR_FLOAT, false, NULL},     /* >= 12 */
	{"value_floats", IR_ATTR_FLOATS, false, NULL},   /* >= 12 */
	{"value_int", IR_ATTR_INT, false, NULL},         /* >= 12 */
	{"value_ints", IR_ATTR_INTS, false, NULL},       /* >= 12 */
	{"value_string", IR_ATTR_STRING, false, NULL},   /* >= 12 */
	{"value_strings", IR_ATTR_STRINGS, false, NULL}, /* >= 12 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Pad[] = {
	{"mode", IR_ATTR_STRING, false, "\"constant\""}, /* constant, reflect, edge; wrap >= 19 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Slice[] = {IR_ATTRS_END};

static const ir_attrdef attrs_Gather[] = {
	{"axis", IR_ATTR_INT, false, "0"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Shape[] = {
	{"end", IR_ATTR_INT, false, NULL},     /* >= 15; absent: the rank */
	{"start", IR_ATTR_INT, false, "0"},    /* >= 15 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_ConstantOfShape[] = {
	{"value", IR_ATTR_TENSOR, false, NULL}, /* absent: a f32 zero */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Expand[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Equal[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Where[] = {IR_ATTRS_END};

static const ir_attrdef attrs_Unsqueeze[] = {
	{"axes", IR_ATTR_INTS, false, NULL}, /* required < 13; an input from 13 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Squeeze[] = {
	{"axes", IR_ATTR_INTS, false, NULL}, /* < 13; an input from 13 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Cast[] = {
	{"round_mode", IR_ATTR_STRING, false, "\"up\""}, /* >= 25 */
	{"saturate", IR_ATTR_INT, false, "1"},           /* >= 19 */
	{"to", IR_ATTR_INT, true, NULL},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Neg[] = {IR_ATTRS_END};
static const ir_attrdef attrs_Tanh[] = {IR_ATTRS_END};

static const ir_attrdef attrs_LeakyRelu[] = {
	{"alpha", IR_ATTR_FLOAT, false, "0.01"},
	IR_ATTRS_END,
};

static const ir_attrdef attrs_ReduceSum[] = {
	{"axes", IR_ATTR_INTS, false, NULL}, /* < 13; an input from 13 */
	{"keepdims", IR_ATTR_INT, false, "1"},
	{"noop_with_empty_axes", IR_ATTR_INT, false, "0"}, /* >= 13 */
	IR_ATTRS_END,
};

static const ir_attrdef attrs_Range[] = {IR_ATTRS_END};

#endif
