/* Inference rules: convolution, pooling and batch normalization. */
#include <string.h>

#include "infer_internal.h"

enum { PAD_NOTSET, PAD_SAME, PAD_VALID };

/* The sliding-window geometry shared by Conv, MaxPool and AveragePool;
 * k[i] is -1 when the kernel size is unknown (Conv with W of unknown shape). */
typedef struct window {
	int nsp; /* spatial dims */
	int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], d[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
	int autopad;
	bool ceil;
} window;

/* An INTS attribute of `want` entries, each >= min; dflt when absent. */
static bool window_list(ir_icx *cx, const char *name, int64_t *out, int want, int64_t dflt,
			int64_t min)
{
	int n = ir_icx_ints(cx, name, out, 2 * IR_MAX_RANK);
	if (cx->failed)
		return false;
	if (n < 0) {
		for (int i = 0; i < want; i++)
			out[i] = dflt;
		return true;
	}
	if (n != want)
		return ir_icx_err(cx, "attribute '%s' has %d entries (expected %d)", name, n, want);
	for (int i = 0; i < n; i++)
		if (out[i] < min)
			return ir_icx_err(cx, "attribute '%s' has the invalid entry %lld", name,
					  (long long)out[i]);
	return true;
}

static bool window_autopad(ir_icx *cx, window *w)
{
	const char *s = ir_icx_str(cx, "auto_pad", "NOTSET");
	if (strcmp(s, "NOTSET") == 0)
		w->autopad = PAD_NOTSET;
	else if (strcmp(s, "SAME_UPPER") == 0 || strcmp(s, "SAME_LOWER") == 0)
		w->autopad = PAD_SAME;
	else if (strcmp(s, "VALID") == 0)
		w->autopad = PAD_VALID;
	else
		return ir_icx_err(cx, "unknown auto_pad '%s'", s);
	return !cx->failed;
}

/* Strides, dilations (from opset dil_since), pads, auto_pad. */
static bool window_attrs(ir_icx *cx, window *w, int64_t dil_since)
{
	if (!ir_icx_since(cx, "dilations", dil_since))
		return false;
	return window_list(cx, "strides", w->s, w->nsp, 1, 1) &&
	       window_list(cx, "dilations", w->d, w->nsp, 1, 1) &&
	       window_list(cx, "pads", w->pads, 2 * w->nsp, 0, 0) && window_autopad(cx, w);
}

/* One spatial output dim. */
static bool window_dim(ir_icx *cx, const window *w, int i, ir_dim in, ir_dim *out)
{
	int64_t s = w->s[i], n, ek = (w->k[i] - 1) * w->d[i] + 1;
	*out = IR_DIM_UNKNOWN;
	if (in.v < 0 || (w->k[i] < 0 && w->autopad != PAD_SAME))
		return true;
	if (w->autopad == PAD_SAME) {
		n = (in.v + s - 1) / s;
	} else if (w->autopad == PAD_VALID) {
		if (in.v < ek)
			return ir_icx_err(cx, "kernel extent %lld exceeds input dim %lld", (long long)ek,
					  (long long)in.v);
		n = (in.v - ek) / s + 1;
	} else {
		int64_t pb = w->pads[i], num = in.v + pb + w->pads[i + w->nsp] - ek;
		if (num < 0)
			return ir_icx_err(cx, "kernel extent %lld exceeds padded input dim %lld",
					  (long long)ek, (long long)(num + ek));
		n = w->ceil ? (num + s - 1) / s + 1 : num / s + 1;
		if (w->ceil && (n - 1) * s >= in.v + pb) /* windows starting in the end padding */
			n--;
	}
	*out = (ir_dim){n, 0};
	return true;
}

/* out[2..] from x's spatial dims. */
static bool window_apply(ir_icx *cx, const window *w, const ir_shape *x, ir_shape *out)
{
	for (int i = 0; i < w->nsp; i++) {
		ir_dim in = x->rank >= 0 ? x->d[i + 2] : IR_DIM_UNKNOWN;
		if (!window_dim(cx, w, i, in, &out->d[i + 2]))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- Conv */

static bool conv_kernel(ir_icx *cx, window *w, const ir_shape *wt)
{
	int64_t k[2 * IR_MAX_RANK];
	int n = ir_icx_ints(cx, "kernel_shape", k, 2 * IR_MAX_RANK);
	if (cx->failed)
		return false;
	if (n >= 0 && n != w->nsp)
		return ir_icx_err(cx, "kernel_shape has %d entries (expected %d)", n, w->nsp);
	for (int i = 0; i < w->nsp; i++) {
		ir_dim wd = wt->rank >= 0 ? wt->d[i + 2] : IR_DIM_UNKNOWN;
		if (n >= 0 && k[i] < 1)
			return ir_icx_err(cx, "kernel_shape has the invalid entry %lld", (long long)k[i]);
		if (n >= 0 && wd.v >= 0 && wd.v != k[i])
			return ir_icx_err(cx, "kernel_shape %lld differs from W's dim %lld",
					  (long long)k[i], (long long)wd.v);
		w->k[i] = n >= 0 ? k[i] : wd.v;
	}
	return true;
}

/* Channels: C == W[1] * group; M (W[0]) a multiple of group; B is [M]. */
static bool conv_channels(ir_icx *cx, const ir_shape *x, const ir_shape *wt, int64_t group)
{
	ir_dim c = x->rank >= 2 ? x->d[1] : IR_DIM_UNKNOWN, m = IR_DIM_UNKNOWN, b;
	if (wt->rank >= 2) {
		m = wt->d[0];
		if (c.v >= 0 && wt->d[1].v >= 0 && c.v != wt->d[1].v * group)
			return ir_icx_err(cx, "input has %lld channels but W expects %lld x %lld groups",
					  (long long)c.v, (long long)wt->d[1].v, (long long)group);
		if (m.v >= 0 && m.v % group)
			return ir_icx_err(cx, "%lld filters do not divide into %lld groups",
					  (long long)m.v, (long long)group);
	}
	ir_shape bias;
	ir_icx_in(cx, 2, &bias);
	if (bias.rank >= 0 && bias.rank != 1)
		return ir_icx_err(cx, "B must have rank 1");
	b = bias.rank == 1 ? bias.d[0] : IR_DIM_UNKNOWN;
	if (b.v >= 0 && m.v >= 0 && b.v != m.v)
		return ir_icx_err(cx, "B has %lld entries for %lld filters", (long long)b.v, (long long)m.v);
	return true;
}

bool ir_infer_op_Conv(ir_icx *cx)
{
	ir_shape x, wt, *out = &cx->out[0];
	window w = {0};
	ir_icx_in(cx, 0, &x);
	ir_icx_in(cx, 1, &wt);
	if (x.dtype && wt.dtype && x.dtype != wt.dtype)
		return ir_icx_err(cx, "X and W have different element types");
	int rank = x.rank >= 0 ? x.rank : wt.rank;
	ir_shape_tensor(out, x.dtype ? x.dtype : wt.dtype, rank);
	if (rank < 0)
		return true;
	if (rank < 3 || (wt.rank >= 0 && wt.rank != rank))
		return ir_icx_err(cx, "X and W must have the same rank >= 3");
	int64_t group = ir_icx_int(cx, "group", 1);
	if (group < 1)
		return ir_icx_err(cx, "group must be positive");
	w.nsp = rank - 2;
	if (!conv_kernel(cx, &w, &wt) || !window_attrs(cx, &w, 1) ||
	    !conv_channels(cx, &x, &wt, group))
		return false;
	out->d[0] = x.rank >= 0 ? x.d[0] : IR_DIM_UNKNOWN;
	out->d[1] = wt.rank >= 0 ? wt.d[0] : IR_DIM_UNKNOWN;
	return window_apply(cx, &w, &x, out);
}

/* ---------------------------------------------------------------- pooling */

/* ceil_mode from opset 10; dilations from `dil_since`. */
static bool pool(ir_icx *cx, int64_t dil_since)
{
	ir_shape x, *out = &cx->out[0];
	window w = {0};
	ir_icx_in(cx, 0, &x);
	w.nsp = ir_icx_ints(cx, "kernel_shape", w.k, IR_MAX_RANK);
	if (cx->failed || w.nsp < 1 || w.nsp > IR_MAX_RANK - 2)
		return ir_icx_err(cx, "kernel_shape must have 1 to %d entries", IR_MAX_RANK - 2);
	if (x.rank >= 0 && x.rank != w.nsp + 2)
		return ir_icx_err(cx, "input of rank %d does not match a %d-D kernel", x.rank, w.nsp);
	if (!window_list(cx, "kernel_shape", w.k, w.nsp, 1, 1))
		return false;
	if (!ir_icx_since(cx, "ceil_mode", 10))
		return false;
	w.ceil = ir_icx_int(cx, "ceil_mode", 0) != 0;
	if (!window_attrs(cx, &w, dil_since))
		return false;
	ir_shape_tensor(out, x.dtype, w.nsp + 2);
	out->d[0] = x.rank >= 0 ? x.d[0] : IR_DIM_UNKNOWN;
	out->d[1] = x.rank >= 0 ? x.d[1] : IR_DIM_UNKNOWN;
	return window_apply(cx, &w, &x, out);
}

/* The optional Indices result has Y's shape, int64. */
bool ir_infer_op_MaxPool(ir_icx *cx)
{
	if (!pool(cx, 10))
		return false;
	ir_shape_copy(&cx->out[1], &cx->out[0]);
	cx->out[1].dtype = IR_I64;
	return true;
}

bool ir_infer_op_AveragePool(ir_icx *cx)
{
	return pool(cx, 19);
}

bool ir_infer_op_GlobalAveragePool(ir_icx *cx)
{
	ir_shape x, *out = &cx->out[0];
	ir_icx_in(cx, 0, &x);
	ir_shape_tensor(out, x.dtype, x.rank);
	if (x.rank < 0)
		return true;
	if (x.rank < 2)
		return ir_icx_err(cx, "input must have rank >= 2");
	out->d[0] = x.d[0];
	out->d[1] = x.d[1];
	for (int i = 2; i < x.rank; i++)
		out->d[i] = (ir_dim){1, 0};
	return true;
}

/* ---------------------------------------------------------------- BatchNormalization */

/* scale, B, mean and var are [C]. */
static bool bn_params(ir_icx *cx, ir_dim c)
{
	static const char *names[] = {"scale", "B", "mean", "var"};
	for (uint32_t i = 1; i < 5; i++) {
		ir_shape p;
		ir_icx_in(cx, i, &p);
		if (p.rank >= 0 && p.rank != 1)
			return ir_icx_err(cx, "%s must have rank 1", names[i - 1]);
		if (p.rank == 1 && p.d[0].v >= 0 && c.v >= 0 && p.d[0].v != c.v)
			return ir_icx_err(cx, "%s has %lld entries for %lld channels", names[i - 1],
					  (long long)p.d[0].v, (long long)c.v);
	}
	return true;
}

/* Y has X's type.  Before 14, results 1-4 (mean, var, saved mean, saved
 * var) are [C] of X's type; from 14, running mean and var exist only in
 * training mode and have the type of the mean operand. */
bool ir_infer_op_BatchNormalization(ir_icx *cx)
{
	ir_shape x, mean;
	ir_icx_in(cx, 0, &x);
	ir_icx_in(cx, 3, &mean);
	ir_dim c = x.rank >= 2 ? x.d[1] : IR_DIM_UNKNOWN;
	if (!bn_params(cx, c))
		return false;
	if (!ir_icx_since(cx, "training_mode", 14))
		return false;
	bool training = ir_icx_int(cx, "training_mode", 0) != 0;
	if (cx->opset >= 14 && cx->nout > (training ? 3u : 1u))
		return ir_icx_err(cx, "has %u results (%s)", (unsigned)cx->nout,
				  training ? "at most 3 in training mode" : "1 unless training_mode=1");
	ir_shape_tensor(&cx->out[0], x.dtype, x.rank);
	if (x.rank > 0)
		memcpy(cx->out[0].d, x.d, (size_t)x.rank * sizeof *x.d);
	for (uint32_t i = 1; i < cx->nout; i++) {
		ir_shape_tensor(&cx->out[i], cx->opset >= 14 ? mean.dtype : x.dtype, 1);
		cx->out[i].d[0] = c;
	}
	return true;
}
