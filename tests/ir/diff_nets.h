/* Small graphs for the graph-diff tests, built through the IR API, each a
 * variation of one network:
 *
 *   x -> Conv1 -> BatchNormalization -> Relu -> MaxPool -> p
 *   p -> Conv2 -> Relu -> r2        p -> Conv3 -> Relu -> r3
 *   y = Concat(r2, r3)
 */
#ifndef GRAFT_TEST_DIFF_NETS_H
#define GRAFT_TEST_DIFF_NETS_H

#include "ir.h"

typedef struct net_opts {
	const char *prefix; /* prepended to every value and node name */
	bool reverse;       /* nodes in another order: Conv3, Conv2, Relu3, Relu2 */
	bool dilate;        /* Conv2 with dilations [2,2] instead of [1,1] (and pads 2: same shapes) */
	float bias2;        /* added to Conv2's bias data */
	bool insert;        /* a Sigmoid between MaxPool and the two branches */
	bool fuse;          /* Conv1+BatchNormalization+Relu as one FusedConv */
	bool dup;           /* branch 2 computed twice: Concat(Add(r2, r2'), r3) */
} net_opts;

ir_graph *net_build(const net_opts *o);

/* Replaces every Conv whose result is read only by a Relu (through one
 * BatchNormalization when with_bn) by one com.microsoft::FusedConv with
 * activation "Relu", as ONNX Runtime does; returns how many it fused. */
int net_fuse_conv_relu(ir_graph *g, bool with_bn);

#endif
