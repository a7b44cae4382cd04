/* Element types: sizes and names. */
#include <string.h>

#include "ir.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[IR_DTYPE_COUNT] = {
	[IR_UNDEF] = {"?", 0},    [IR_F32] = {"f32", 4},   [IR_U8] = {"u8", 1},
	[IR_I8] = {"i8", 1},      [IR_U16] = {"u16", 2},   [IR_I16] = {"i16", 2},
	[IR_I32] = {"i32", 4},    [IR_I64] = {"i64", 8},   [IR_STRING] = {"string", 0},
	[IR_BOOL] = {"bool", 1},  [IR_F16] = {"f16", 2},   [IR_F64] = {"f64", 8},
	[IR_U32] = {"u32", 4},    [IR_U64] = {"u64", 8},   [IR_C64] = {"c64", 8},
	[IR_C128] = {"c128", 16}, [IR_BF16] = {"bf16", 2},
};

size_t ir_dtype_size(ir_dtype t)
{
	return (unsigned)t < IR_DTYPE_COUNT ? dtypes[t].size : 0;
}

const char *ir_dtype_name(ir_dtype t)
{
	return (unsigned)t < IR_DTYPE_COUNT ? dtypes[t].name : "?";
}

ir_dtype ir_dtype_parse(const char *s, size_t n)
{
	for (int t = 1; t < IR_DTYPE_COUNT; t++)
		if (strlen(dtypes[t].name) == n && memcmp(dtypes[t].name, s, n) == 0)
			return (ir_dtype)t;
	return IR_UNDEF;
}

bool ir_dtype_is_float(ir_dtype t)
{
	return t == IR_F32 || t == IR_F16 || t == IR_F64 || t == IR_BF16;
}

bool ir_dtype_is_int(ir_dtype t)
{
	switch (t) {
	case IR_U8: case IR_I8: case IR_U16: case IR_I16: case IR_I32: case IR_I64:
	case IR_U32: case IR_U64:
		return true;
	default:
		return false;
	}
}
