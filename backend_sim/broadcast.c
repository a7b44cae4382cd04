/* numpy-style multidirectional broadcasting: the output shape, per-operand
 * strides, and a row-wise walk over the output for the elementwise kernels. */
#include <string.h>

#include "sim_internal.h"

bool sim_broadcast_shape(const sim_tensor *const *ops, int n, int64_t *dims, int *rank)
{
	int r = 0;
	for (int i = 0; i < n; i++)
		if (ops[i]->rank > r)
			r = ops[i]->rank;
	for (int j = 0; j < r; j++) {
		int64_t d = 1;
		for (int i = 0; i < n; i++) {
			int off = j - (r - ops[i]->rank);
			if (off < 0)
				continue;
			int64_t e = ops[i]->dims[off];
			if (e == d || e == 1)
				continue;
			if (d != 1)
				return false;
			d = e;
		}
		dims[j] = d;
	}
	*rank = r;
	return true;
}

/* Dim j can merge into the run at w when every operand walks them as one. */
static bool mergeable(const sim_bcast *b, int j, int w)
{
	for (int i = 0; i < b->n; i++)
		if (b->strides[i][j] != b->strides[i][w] * b->dims[w])
			return false;
	return true;
}

static void merge_dims(sim_bcast *b)
{
	int w = b->rank - 1;
	for (int j = b->rank - 2; j >= 0; j--) {
		if (b->dims[w] == 1) { /* a run of size-1 dims: dim j takes its place */
			b->dims[w] = b->dims[j];
			for (int i = 0; i < b->n; i++)
				b->strides[i][w] = b->strides[i][j];
			continue;
		}
		if (b->dims[j] == 1 || mergeable(b, j, w)) {
			/* a size-1 dim contributes nothing to any offset */
			b->dims[w] *= b->dims[j];
			continue;
		}
		w--;
		b->dims[w] = b->dims[j];
		for (int i = 0; i < b->n; i++)
			b->strides[i][w] = b->strides[i][j];
	}
	int shift = w;
	for (int j = shift; j < b->rank; j++) {
		b->dims[j - shift] = b->dims[j];
		for (int i = 0; i < b->n; i++)
			b->strides[i][j - shift] = b->strides[i][j];
	}
	b->rank -= shift;
}

void sim_bcast_init(sim_bcast *b, const sim_tensor *const *ops, int n, const int64_t *outdims,
		    int outrank)
{
	b->n = n;
	b->rank = outrank;
	for (int j = 0; j < outrank; j++)
		b->dims[j] = outdims[j];
	for (int i = 0; i < n; i++) {
		int64_t s = 1;
		for (int j = outrank - 1; j >= 0; j--) {
			int off = j - (outrank - ops[i]->rank);
			int64_t e = off >= 0 ? ops[i]->dims[off] : 1;
			b->strides[i][j] = e == 1 ? 0 : s;
			s *= e;
		}
	}
	if (b->rank > 1)
		merge_dims(b);
}

void sim_bcast_rows(const sim_bcast *b, sim_row_fn row, void *ctx)
{
	if (b->rank == 0) {
		size_t in[SIM_BCAST_MAX] = {0};
		int64_t step[SIM_BCAST_MAX] = {0};
		row(ctx, 0, in, step, 1);
		return;
	}
	int last = b->rank - 1;
	int64_t cnt = b->dims[last];
	int64_t step[SIM_BCAST_MAX];
	for (int i = 0; i < b->n; i++)
		step[i] = b->strides[i][last];
	if (cnt == 0 || sim_prod(b->dims, 0, last) == 0)
		return;
	int64_t idx[IR_MAX_RANK] = {0};
	size_t in[SIM_BCAST_MAX] = {0};
	size_t out = 0;
	for (;;) {
		row(ctx, out, in, step, cnt);
		out += (size_t)cnt;
		int j = last - 1;
		for (; j >= 0; j--) { /* odometer over the outer dims */
			idx[j]++;
			for (int i = 0; i < b->n; i++)
				in[i] += (size_t)b->strides[i][j];
			if (idx[j] < b->dims[j])
				break;
			for (int i = 0; i < b->n; i++)
				in[i] -= (size_t)(b->strides[i][j] * b->dims[j]);
			idx[j] = 0;
		}
		if (j < 0)
			return;
	}
}

typedef struct copy_args {
	const char *src;
	char *dst;
	size_t base, esize;
} copy_args;

static void copy_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	const copy_args *p = ctx;
	size_t es = p->esize, from = p->base + in[0];
	char *dst = p->dst + out * es;
	if (step[0] == 1) {
		memcpy(dst, p->src + from * es, (size_t)cnt * es);
		return;
	}
	for (int64_t i = 0; i < cnt; i++)
		memcpy(dst + (size_t)i * es, p->src + (from + (size_t)(i * step[0])) * es, es);
}

void sim_strided_copy(const sim_tensor *src, size_t base, const int64_t *strides, const int64_t *dims,
		      int rank, void *dst)
{
	sim_bcast b;
	b.n = 1;
	b.rank = rank;
	for (int j = 0; j < rank; j++) {
		b.dims[j] = dims[j];
		b.strides[0][j] = strides[j];
	}
	copy_args p = {src->data, dst, base, ir_dtype_size(src->dtype)};
	sim_bcast_rows(&b, copy_row, &p);
}

void sim_bcast_copy(const sim_bcast *b, const sim_tensor *src, void *dst)
{
	copy_args p = {src->data, dst, 0, ir_dtype_size(src->dtype)};
	sim_bcast_rows(b, copy_row, &p);
}
