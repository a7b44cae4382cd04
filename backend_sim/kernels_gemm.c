/* MatMul (numpy semantics: batch broadcasting, 1-D operands) and Gemm
 * (transA/transB, alpha, beta, C broadcast to the result), on cblas_sgemm
 * (cblas_sgemv for one row or column) for f32 and exact wrapping integer
 * loops for the integer types. */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "sim_internal.h"

/* OpenBLAS runs a product of at most this many multiply-adds (m n k) on
 * the calling thread (its interface/gemm.c: 65536 times
 * GEMM_MULTITHREAD_THRESHOLD, 4 by default) and wakes its thread pool for
 * larger ones. */
#define BLAS_ONE_THREAD_MACS 262144.0
/* Products up to this size run as bands of at most BLAS_ONE_THREAD_MACS:
 * for them, waking threads costs more than it saves (much more when the
 * machine is busy).  Each element is still one dot product over k; only
 * OpenBLAS's choice of kernel for the smaller size can change its rounding. */
#define SMALL_GEMM_MACS (4 * BLAS_ONE_THREAD_MACS)

/* cblas_sgemm, row-major.  requires: the dimensions fit int. */
static void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, float alpha, const float *a, int64_t lda,
		  const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    (int)m, (int)n, (int)kk, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* sgemm in bands of rows or columns of at most BLAS_ONE_THREAD_MACS
 * multiply-adds when the product is small (SMALL_GEMM_MACS), else in one
 * call.  requires: the dimensions fit int, m, n, kk > 0. */
static void banded_product(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, float alpha, const float *a,
			   int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	bool small = (double)m * (double)n * (double)kk <= SMALL_GEMM_MACS;
	int64_t rows = small ? (int64_t)(BLAS_ONE_THREAD_MACS / (double)(n * kk)) : 0;
	int64_t cols = small ? (int64_t)(BLAS_ONE_THREAD_MACS / (double)(m * kk)) : 0;
	if (rows >= 1 && rows < m) { /* rows of op(a) and c */
		for (int64_t i = 0; i < m; i += rows)
			sgemm(ta, tb, i + rows < m ? rows : m - i, n, kk, alpha, ta ? a + i : a + i * lda, lda, b,
			      ldb, beta, c + i * ldc, ldc);
	} else if (cols >= 1 && cols < n) { /* columns of op(b) and c */
		for (int64_t j = 0; j < n; j += cols)
			sgemm(ta, tb, m, j + cols < n ? cols : n - j, kk, alpha, a, lda, tb ? b + j * ldb : b + j,
			      ldb, beta, c + j, ldc);
	} else {
		sgemm(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
	}
}

/* sim_sgemm when m or n is 1, through cblas_sgemv.  requires: the
 * dimensions fit int, m, n, kk > 0. */
static void vector_product(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, float alpha, const float *a,
			   int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	if (beta == 0) /* c may be uninitialized: never scale it */
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++)
				c[i * ldc + j] = 0;
	if (m == 1) { /* c[0, :] = alpha * op(b)^T a[0, :] + beta * c[0, :] */
		int rows = (int)(tb ? n : kk), cols = (int)(tb ? kk : n); /* b's shape */
		cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, rows, cols, alpha, b, (int)ldb, a,
			    ta ? (int)lda : 1, beta, c, 1);
		return;
	}
	/* c[:, 0] = alpha * op(a) op(b)[:, 0] + beta * c[:, 0] */
	int rows = (int)(ta ? kk : m), cols = (int)(ta ? m : kk); /* a's shape */
	cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, rows, cols, alpha, a, (int)lda, b,
		    tb ? 1 : (int)ldb, beta, c, (int)ldc);
}

bool sim_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, float alpha, const float *a,
	       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	if (m > INT_MAX || n > INT_MAX || kk > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
		return false;
	if (m == 0 || n == 0)
		return true;
	if (kk == 0) {
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++)
				c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
		return true;
	}
	if (m == 1 || n == 1) /* a matrix-vector product: no packing of the matrix */
		vector_product(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
	else
		banded_product(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
	return true;
}

/* One integer matrix product y[m x n] = op(a) op(b), wrapping. */
typedef struct imat {
	const sim_tensor *a, *b;
	sim_tensor *y;
	int64_t m, n, kk;
	bool ta, tb;
} imat;

static void imatmul(const imat *p, size_t ao, size_t bo, size_t yo)
{
	for (int64_t i = 0; i < p->m; i++) {
		for (int64_t j = 0; j < p->n; j++) {
			uint64_t s = 0;
			for (int64_t q = 0; q < p->kk; q++) {
				size_t ia = ao + (size_t)(p->ta ? q * p->m + i : i * p->kk + q);
				size_t ib = bo + (size_t)(p->tb ? j * p->kk + q : q * p->n + j);
				s += (uint64_t)sim_get_i64(p->a, ia) * (uint64_t)sim_get_i64(p->b, ib);
			}
			sim_set_i64(p->y, yo + (size_t)(i * p->n + j), (int64_t)s);
		}
	}
}

/* ---------------------------------------------------------------- MatMul */

typedef struct mm_args {
	const sim_tensor *a, *b;
	sim_tensor *y;
	int64_t m, n, kk;
	bool ok;
} mm_args;

static void mm_row(void *ctx, size_t out, const size_t *in, const int64_t *step, int64_t cnt)
{
	mm_args *p = ctx;
	size_t asz = (size_t)(p->m * p->kk), bsz = (size_t)(p->kk * p->n), ysz = (size_t)(p->m * p->n);
	for (int64_t i = 0; i < cnt; i++) {
		size_t ao = (in[0] + (size_t)(i * step[0])) * asz, bo = (in[1] + (size_t)(i * step[1])) * bsz;
		size_t yo = (out + (size_t)i) * ysz;
		if (p->y->dtype != IR_F32) {
			imat im = {p->a, p->b, p->y, p->m, p->n, p->kk, false, false};
			imatmul(&im, ao, bo, yo);
			continue;
		}
		const float *a = p->a->data, *b = p->b->data;
		float *y = p->y->data;
		p->ok &= sim_sgemm(false, false, p->m, p->n, p->kk, 1, a + ao, p->kk, b + bo, p->n, 0,
				   y + yo, p->n);
	}
}

/* Batch shapes as dims-only tensors for the broadcasting helpers. */
static void batch_view(const sim_tensor *t, int mat_rank, sim_tensor *v)
{
	memset(v, 0, sizeof *v);
	v->rank = t->rank - mat_rank;
	memcpy(v->dims, t->dims, (size_t)v->rank * sizeof *v->dims);
}

static sim_status mm_shape(sim_kctx *k, mm_args *p, sim_tensor *ba, sim_tensor *bb, int64_t *dims,
			   int *rank)
{
	const sim_tensor *a = p->a, *b = p->b;
	if (a->rank < 1 || b->rank < 1)
		return sim_fail(k, SIM_EINVAL, "operands must have rank >= 1");
	p->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
	p->kk = a->dims[a->rank - 1];
	p->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
	int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
	if (kb != p->kk)
		return sim_fail(k, SIM_EINVAL, "inner dimensions %lld and %lld differ", (long long)p->kk,
				(long long)kb);
	batch_view(a, a->rank == 1 ? 1 : 2, ba);
	batch_view(b, b->rank == 1 ? 1 : 2, bb);
	const sim_tensor *v[2] = {ba, bb};
	if (!sim_broadcast_shape(v, 2, dims, rank))
		return sim_fail(k, SIM_EINVAL, "batch dimensions do not broadcast");
	if (a->rank > 1)
		dims[(*rank)++] = p->m;
	if (b->rank > 1)
		dims[(*rank)++] = p->n;
	return SIM_OK;
}

sim_status sim_k_matmul(sim_kctx *k)
{
	mm_args p = {sim_need(k, 0), sim_need(k, 1), NULL, 0, 0, 0, true};
	if (!p.a || !p.b)
		return k->status;
	sim_class c = sim_dtype_class(p.a->dtype);
	if (p.a->dtype != p.b->dtype || (p.a->dtype != IR_F32 && c != SIM_CLASS_SIGNED && c != SIM_CLASS_UNSIGNED))
		return sim_fail(k, SIM_UNSUPPORTED, "operand types %s and %s not supported",
				ir_dtype_name(p.a->dtype), ir_dtype_name(p.b->dtype));
	sim_tensor ba, bb;
	int64_t dims[IR_MAX_RANK + 2];
	int rank;
	sim_status st = mm_shape(k, &p, &ba, &bb, dims, &rank);
	if (st == SIM_OK)
		st = sim_out_alloc(k, 0, p.a->dtype, rank, dims);
	if (st != SIM_OK)
		return st;
	p.y = &k->out[0];
	if (bb.rank == 0 && p.a->dtype == IR_F32) { /* fold A's batch into M: one GEMM */
		p.m *= sim_prod(ba.dims, 0, ba.rank);
		ba.rank = 0;
	}
	const sim_tensor *v[2] = {&ba, &bb};
	int brank;
	sim_broadcast_shape(v, 2, dims, &brank);
	sim_bcast b;
	sim_bcast_init(&b, v, 2, dims, brank);
	sim_bcast_rows(&b, mm_row, &p);
	if (!p.ok)
		return sim_fail(k, SIM_UNSUPPORTED, "GEMM dimensions exceed the BLAS int range");
	return SIM_OK;
}

/* ---------------------------------------------------------------- Gemm */

/* Checks that c broadcasts to [m, n]; *sr, *sc are its row and column
 * strides in that index space (0 along broadcast dims). */
static sim_status gemm_bias(sim_kctx *k, const sim_tensor *c, int64_t m, int64_t n, int64_t *sr,
			    int64_t *sc)
{
	int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
	if (c->rank > 2 || (cm != m && cm != 1) || (cn != n && cn != 1))
		return sim_fail(k, SIM_EINVAL, "C does not broadcast to [%lld,%lld]", (long long)m, (long long)n);
	*sc = cn == 1 ? 0 : 1;
	*sr = cm == 1 ? 0 : cn;
	return SIM_OK;
}

/* y = alpha * y + beta * c, elementwise in double (the integer path). */
static void gemm_scale(const imat *p, const sim_tensor *c, double alpha, double beta, int64_t sr,
		       int64_t sc)
{
	for (int64_t i = 0; i < p->m; i++) {
		for (int64_t j = 0; j < p->n; j++) {
			size_t iy = (size_t)(i * p->n + j);
			double v = alpha * sim_get_f64(p->y, iy);
			if (c)
				v += beta * sim_get_f64(c, (size_t)(i * sr + j * sc));
			sim_set_f64(p->y, iy, v);
		}
	}
}

static sim_status gemm_run(sim_kctx *k, const imat *p, const sim_tensor *c, float alpha, float beta)
{
	int64_t sr = 0, sc = 0;
	if (c && beta != 0) {
		sim_status st = gemm_bias(k, c, p->m, p->n, &sr, &sc);
		if (st != SIM_OK)
			return st;
	} else {
		c = NULL;
	}
	if (p->y->dtype != IR_F32) {
		imatmul(p, 0, 0, 0);
		if (alpha != 1 || c)
			gemm_scale(p, c, alpha, beta, sr, sc);
		return SIM_OK;
	}
	float *y = p->y->data;
	for (int64_t i = 0; c && i < p->m; i++)
		for (int64_t j = 0; j < p->n; j++)
			y[i * p->n + j] = (float)sim_get_f64(c, (size_t)(i * sr + j * sc));
	int64_t lda = p->ta ? p->m : p->kk, ldb = p->tb ? p->kk : p->n;
	if (!sim_sgemm(p->ta, p->tb, p->m, p->n, p->kk, alpha, p->a->data, lda, p->b->data, ldb,
		       c ? beta : 0, y, p->n))
		return sim_fail(k, SIM_UNSUPPORTED, "GEMM dimensions exceed the BLAS int range");
	return SIM_OK;
}

sim_status sim_k_gemm(sim_kctx *k)
{
	const sim_tensor *a = sim_need(k, 0), *b = sim_need(k, 1), *c = sim_in(k, 2);
	if (!a || !b)
		return k->status;
	sim_class cl = sim_dtype_class(a->dtype);
	if (a->dtype != b->dtype || (a->dtype != IR_F32 && cl != SIM_CLASS_SIGNED && cl != SIM_CLASS_UNSIGNED))
		return sim_fail(k, SIM_UNSUPPORTED, "operand types %s and %s not supported",
				ir_dtype_name(a->dtype), ir_dtype_name(b->dtype));
	if (a->rank != 2 || b->rank != 2)
		return sim_fail(k, SIM_EINVAL, "A and B must be 2-D");
	imat p = {a, b, NULL, 0, 0, 0, sim_attr_int(k, "transA", 0) != 0, sim_attr_int(k, "transB", 0) != 0};
	p.m = a->dims[p.ta ? 1 : 0];
	p.kk = a->dims[p.ta ? 0 : 1];
	p.n = b->dims[p.tb ? 0 : 1];
	if (b->dims[p.tb ? 1 : 0] != p.kk)
		return sim_fail(k, SIM_EINVAL, "inner dimensions %lld and %lld differ", (long long)p.kk,
				(long long)b->dims[p.tb ? 1 : 0]);
	int64_t dims[2] = {p.m, p.n};
	sim_status st = sim_out_alloc(k, 0, a->dtype, 2, dims);
	if (st != SIM_OK)
		return st;
	p.y = &k->out[0];
	return gemm_run(k, &p, c, sim_attr_float(k, "alpha", 1), sim_attr_float(k, "beta", 1));
}
