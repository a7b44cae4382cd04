/* Seeded random inputs for a graph, from its inputs' static types.  The
 * generator is splitmix64: deterministic and platform-independent. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(sim_tensor *t, uint64_t *state)
{
	size_t n = sim_numel(t);
	sim_class c = sim_dtype_class(t->dtype);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = splitmix64(state);
		if (c == SIM_CLASS_FLOAT) /* 24 random bits: exact in every float type's range */
			sim_set_f64(t, i, (double)(r >> 40) * 0x1p-23 - 1.0);
		else if (c == SIM_CLASS_SIGNED)
			sim_set_i64(t, i, (int64_t)(r >> 60) - 8);
		else if (c == SIM_CLASS_UNSIGNED)
			sim_set_i64(t, i, (int64_t)(r >> 60));
		else
			sim_set_i64(t, i, (int64_t)(r >> 63));
	}
}

/* Allocates t for input v: unknown dims of a known rank become 1. */
static sim_status input_tensor(const ir_graph *g, ir_val v, sim_tensor *t, ir_diags *d)
{
	const ir_value *x = ir_value_at(g, v);
	const char *name = ir_cstr(g, x->name);
	ir_type ty = x->type;
	if (ty.kind != IR_TYPE_TENSOR || ty.rank < 0 || sim_dtype_class((ir_dtype)ty.dtype) == SIM_CLASS_NONE) {
		ir_error(d, NULL, 0, 0, "graph input '%s': no static tensor type to draw random values for", name);
		return SIM_UNSUPPORTED;
	}
	int64_t dims[IR_MAX_RANK];
	const ir_dim *td = ir_type_dims(g, ty);
	for (int i = 0; i < ty.rank && i < IR_MAX_RANK; i++)
		dims[i] = td[i].v >= 0 ? td[i].v : 1;
	if (!sim_tensor_alloc(t, (ir_dtype)ty.dtype, ty.rank, dims) || !sim_tensor_set_name(t, name)) {
		char type[256];
		sim_tensor_free(t);
		ir_type_format(g, ty, type, sizeof type);
		ir_error(d, NULL, 0, 0, "graph input '%s' (%s): out of memory for its random values", name, type);
		return SIM_ENOMEM;
	}
	return SIM_OK;
}

sim_status sim_random_inputs(const ir_graph *g, uint64_t seed, sim_tensor **out, size_t *n, ir_diags *d)
{
	size_t all = ir_graph_ninputs(g), k = 0;
	sim_tensor *res = calloc(all ? all : 1, sizeof *res);
	*out = NULL;
	*n = 0;
	if (!res) {
		ir_error(d, NULL, 0, 0, "out of memory");
		return SIM_ENOMEM;
	}
	uint64_t state = seed;
	for (size_t i = 0; i < all; i++) {
		ir_val v = ir_graph_input_at(g, i);
		if (ir_value_at(g, v)->tensor != IR_NONE)
			continue;
		sim_status st = input_tensor(g, v, &res[k], d);
		if (st != SIM_OK) {
			sim_tensors_free(res, k);
			return st;
		}
		fill(&res[k++], &state);
	}
	*out = res;
	*n = k;
	return SIM_OK;
}
