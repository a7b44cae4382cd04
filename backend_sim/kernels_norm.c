/* BatchNormalization: inference mode, and training mode (opset >= 14,
 * training_mode=1) with the batch statistics and updated running stats. */
#include <math.h>
#include <stdlib.h>

#include "sim_internal.h"

typedef struct bn_shape {
	int64_t n, c, inner;
} bn_shape;

static sim_status bn_check(sim_kctx *k, const sim_tensor *const *t, bn_shape *s)
{
	const sim_tensor *x = t[0];
	if (x->dtype != IR_F32)
		return sim_bad_dtype(k, x);
	if (x->rank < 2)
		return sim_fail(k, SIM_EINVAL, "input must have rank >= 2");
	s->n = x->dims[0];
	s->c = x->dims[1];
	s->inner = sim_prod(x->dims, 2, x->rank);
	static const char *const names[] = {"scale", "B", "mean", "var"};
	for (int i = 1; i < 5; i++)
		if (t[i]->dtype != IR_F32 || (int64_t)sim_numel(t[i]) != s->c)
			return sim_fail(k, SIM_EINVAL, "%s must be f32 with %lld elements", names[i - 1],
					(long long)s->c);
	return SIM_OK;
}

/* y = (x - mean[c]) * scale[c] / sqrt(var[c] + eps) + b[c] */
static void bn_apply(const bn_shape *s, const float *x, const float *scale, const float *b,
		     const double *mean, const double *var, double eps, float *y)
{
	for (int64_t n = 0; n < s->n; n++) {
		for (int64_t c = 0; c < s->c; c++) {
			float a = (float)(scale[c] / sqrt(var[c] + eps));
			float m = (float)mean[c];
			size_t off = (size_t)((n * s->c + c) * s->inner);
			for (int64_t j = 0; j < s->inner; j++)
				y[off + (size_t)j] = (x[off + (size_t)j] - m) * a + b[c];
		}
	}
}

/* Per-channel mean and population variance over N and the spatial dims. */
static void bn_stats(const bn_shape *s, const float *x, double *mean, double *var)
{
	double cnt = (double)(s->n * s->inner);
	for (int64_t c = 0; c < s->c; c++) {
		double sum = 0, sq = 0;
		for (int64_t n = 0; n < s->n; n++) {
			const float *p = x + (n * s->c + c) * s->inner;
			for (int64_t j = 0; j < s->inner; j++)
				sum += p[j];
		}
		mean[c] = cnt > 0 ? sum / cnt : 0;
		for (int64_t n = 0; n < s->n; n++) {
			const float *p = x + (n * s->c + c) * s->inner;
			for (int64_t j = 0; j < s->inner; j++)
				sq += (p[j] - mean[c]) * (p[j] - mean[c]);
		}
		var[c] = cnt > 0 ? sq / cnt : 0;
	}
}

/* running = input * momentum + batch * (1 - momentum), into result i. */
static sim_status bn_running(sim_kctx *k, uint32_t i, const sim_tensor *input, const double *batch,
			     double momentum)
{
	if (i >= k->nout)
		return SIM_OK;
	sim_status st = sim_out_alloc_raw(k, i, IR_F32, input->rank, input->dims);
	if (st != SIM_OK)
		return st;
	const float *in = input->data;
	float *o = k->out[i].data;
	for (size_t c = 0; c < sim_numel(input); c++)
		o[c] = (float)(in[c] * momentum + batch[c] * (1 - momentum));
	return SIM_OK;
}

static sim_status bn_run(sim_kctx *k, const sim_tensor *const *t, const bn_shape *s, bool training,
			 double *mean, double *var)
{
	const float *im = t[3]->data, *iv = t[4]->data;
	for (int64_t c = 0; c < s->c; c++) {
		mean[c] = im[c];
		var[c] = iv[c];
	}
	if (training)
		bn_stats(s, t[0]->data, mean, var);
	double eps = sim_attr_float(k, "epsilon", 1e-5f);
	sim_status st = sim_out_inplace(k, 1, IR_F32, t[0]->rank, t[0]->dims);
	if (st != SIM_OK)
		return st;
	bn_apply(s, t[0]->data, t[1]->data, t[2]->data, mean, var, eps, k->out[0].data);
	if (!training)
		return SIM_OK; /* the optional training outputs stay unproduced */
	double momentum = sim_attr_float(k, "momentum", 0.9f);
	st = bn_running(k, 1, t[3], mean, momentum);
	return st == SIM_OK ? bn_running(k, 2, t[4], var, momentum) : st;
}

sim_status sim_k_batchnorm(sim_kctx *k)
{
	const sim_tensor *t[5];
	for (uint32_t i = 0; i < 5; i++)
		if (!(t[i] = sim_need(k, i)))
			return k->status;
	bn_shape s = {0, 0, 0};
	sim_status st = bn_check(k, t, &s);
	if (st != SIM_OK)
		return st;
	bool training = k->opset >= 14 && sim_attr_int(k, "training_mode", 0) != 0;
	double *stats = malloc((size_t)(2 * s.c) * sizeof *stats + 1);
	if (!stats)
		return sim_nomem(k);
	st = bn_run(k, t, &s, training, stats, stats + s.c);
	free(stats);
	return st;
}
