/* Cast: conversion between the numeric types and bool (numpy astype
 * semantics: floats truncate toward zero into integers, integers wrap,
 * nonzero is true; narrowing floats round to nearest even). */
#include <string.h>

#include "sim_internal.h"

static bool castable(ir_dtype t)
{
	return sim_dtype_class(t) != SIM_CLASS_NONE;
}

sim_status sim_k_cast(sim_kctx *k)
{
	const sim_tensor *x = sim_need(k, 0);
	if (!x)
		return k->status;
	ir_dtype to = (ir_dtype)sim_attr_int(k, "to", IR_UNDEF);
	if (!castable(x->dtype))
		return sim_bad_dtype(k, x);
	if (!castable(to))
		return sim_fail(k, SIM_UNSUPPORTED, "cast to %s not supported by the simulator",
				ir_dtype_name(to));
	sim_status st = sim_out_alloc_raw(k, 0, to, x->rank, x->dims);
	if (st != SIM_OK)
		return st;
	sim_tensor *y = &k->out[0];
	size_t n = sim_numel(x);
	if (to == x->dtype) {
		memcpy(y->data, x->data, sim_nbytes(x));
		return SIM_OK;
	}
	bool from_float = sim_dtype_class(x->dtype) == SIM_CLASS_FLOAT;
	bool to_float = sim_dtype_class(to) == SIM_CLASS_FLOAT;
	for (size_t i = 0; i < n; i++) {
		if (from_float || to_float || to == IR_BOOL)
			sim_set_f64(y, i, sim_get_f64(x, i));
		else
			sim_set_i64(y, i, sim_get_i64(x, i));
	}
	return SIM_OK;
}
