/* The op registry: built from ops.def, looked up by (domain, name, opset). */
#include <string.h>

#include "ir_internal.h"
#include "ops_attrs.h"

static const ir_opinfo ops[IR_OP_COUNT] = {
	[IR_OP_OPAQUE_] = {NULL, 0, 0, 0, 0, 0, 0, 0, NULL},
#define IR_OP(id, nm, since, until, min_in, max_in, min_out, max_out, traits)                      \
	[IR_OP_##id] = {nm, since, until, min_in, max_in, min_out, max_out, traits, attrs_##id},
#include "ops.def"
#undef IR_OP
};

const ir_opinfo *ir_op_info(uint16_t opcode)
{
	return opcode > 0 && opcode < IR_OP_COUNT ? &ops[opcode] : NULL;
}

static bool default_domain(const char *d)
{
	return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

uint16_t ir_op_lookup(const char *domain, const char *name, int64_t opset)
{
	if (!default_domain(domain))
		return IR_OP_OPAQUE;
	if (opset < 0) /* not imported: ONNX's default domain is implicit in hand-built graphs */
		opset = 13;
	for (uint16_t i = 1; i < IR_OP_COUNT; i++) /* the first byte rules out most names */
		if (ops[i].name[0] == name[0] && strcmp(ops[i].name, name) == 0)
			return opset >= ops[i].since && opset <= ops[i].until ? i : IR_OP_OPAQUE;
	return IR_OP_OPAQUE;
}

bool ir_op_known(const char *name)
{
	for (uint16_t i = 1; i < IR_OP_COUNT; i++)
		if (strcmp(ops[i].name, name) == 0)
			return true;
	return false;
}

size_t ir_op_count(void)
{
	return IR_OP_COUNT - 1;
}
