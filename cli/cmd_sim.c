/* graft sim MODEL: run a graph on the reference simulator and estimate its
 * cycles on one DaVinci-like AI core (docs/simulator.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sim.h"

static const char help[] =
	"usage: graft sim MODEL [--hw NAME|FILE] [--mode fp32|cube] [--input NAME=FILE]...\n"
	"                 [--inputs DIR] [--seed N] [-o DIR] [--json] [--top N] [--no-run]\n"
	"                 [--expect DIR [--tolerance T]]\n"
	"\n"
	"Runs MODEL (.onnx or .gir) on graft's reference simulator and estimates its\n"
	"cycles on one AI core of the hardware described by --hw.  Prints the ops that\n"
	"cost most, with their MACs, cube utilisation, busy cycles per unit (cube,\n"
	"vector, transfer engines), what bounds them, where their tensors live (L2 or\n"
	"DDR) and how far each is above its physical floor (MACs / peak), then the\n"
	"totals.  The model is documented in docs/simulator.md.\n"
	"\n"
	"  --hw NAME|FILE     hardware: a built-in (ascend310, the default;\n"
	"                     tensorcore-4x4x4) or a YAML description\n"
	"  --mode fp32|cube   numerics: fp32 reference (default), or cube (Conv, MatMul,\n"
	"                     Gemm on fp16-rounded inputs with fp32 accumulation)\n"
	"  --input NAME=FILE  bind graph input NAME to an ONNX TensorProto file\n"
	"  --inputs DIR       bind DIR/input_0.pb, input_1.pb, ... (ONNX test data)\n"
	"  --seed N           random inputs (seed N, default 0) for inputs not given\n"
	"  -o DIR             write the outputs as DIR/output_0.pb, output_1.pb, ...\n"
	"  --json             print one JSON object instead of the table\n"
	"  --top N            list the N costliest ops (default: 20 in the table,\n"
	"                     all in JSON)\n"
	"  --no-run           estimate cycles only; do not run the numerics\n"
	"  --expect DIR       compare the outputs with DIR/output_0.pb, ... (ONNX test\n"
	"                     data, or another run's -o DIR); exit 1 when one differs\n"
	"  --tolerance T      largest error allowed by --expect, relative to the\n"
	"                     expected output's scale (max(range, max |x|)); default\n"
	"                     1e-4, or 2e-3 (4 fp16 units) in cube mode\n"
	"\n"
	"Inputs of unknown dimensions take the shapes of the tensors bound to them\n"
	"(random inputs: unknown dimensions become 1).  Exit status: 0 success,\n"
	"1 outputs differ from --expect, 2 error.\n";

typedef struct sim_args {
	const char *model, *hw, *dir, *out, *expect;
	double tolerance; /* < 0: the mode's default */
	const char *names[64], *files[64];
	int ninputs;
	sim_mode mode;
	uint64_t seed;
	long top;
	bool json, run;
} sim_args;

static bool parse_number(const char *s, long long *v)
{
	char *end;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s && !*end && !errno && *v >= 0;
}

static int bind_arg(sim_args *a, char *spec)
{
	char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return usage_error("sim", "--input wants NAME=FILE, got '%s'", spec);
	if (a->ninputs == 64)
		return usage_error("sim", "too many --input options");
	*eq = '\0';
	a->names[a->ninputs] = spec;
	a->files[a->ninputs++] = eq + 1;
	return EXIT_OK;
}

static int option(sim_args *a, int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	long long v;
	if (arg_is(o, NULL, "--json") || arg_is(o, NULL, "--no-run")) {
		if (arg_is(o, NULL, "--json"))
			a->json = true;
		else
			a->run = false;
		return EXIT_OK;
	}
	if (*i + 1 >= argc)
		return usage_error("sim", "option '%s' needs a value", o);
	char *val = argv[++*i];
	if (arg_is(o, NULL, "--hw"))
		a->hw = val;
	else if (arg_is(o, NULL, "--inputs"))
		a->dir = val;
	else if (arg_is(o, "-o", "--output"))
		a->out = val;
	else if (arg_is(o, NULL, "--expect"))
		a->expect = val;
	else if (arg_is(o, NULL, "--tolerance")) {
		char *end;
		a->tolerance = strtod(val, &end);
		if (*end || !(a->tolerance >= 0))
			return usage_error("sim", "bad value '%s' for %s", val, o);
	}
	else if (arg_is(o, NULL, "--input"))
		return bind_arg(a, val);
	else if (arg_is(o, NULL, "--mode") && (!strcmp(val, "fp32") || !strcmp(val, "cube")))
		a->mode = strcmp(val, "cube") ? SIM_FP32 : SIM_CUBE;
	else if (arg_is(o, NULL, "--seed") && parse_number(val, &v))
		a->seed = (uint64_t)v;
	else if (arg_is(o, NULL, "--top") && parse_number(val, &v))
		a->top = (long)v;
	else if (arg_is(o, NULL, "--mode") || arg_is(o, NULL, "--seed") || arg_is(o, NULL, "--top"))
		return usage_error("sim", "bad value '%s' for %s", val, o);
	else
		return usage_error("sim", "unknown option '%s'", o);
	return EXIT_OK;
}

static int parse_args(sim_args *a, int argc, char **argv)
{
	*a = (sim_args){.hw = "ascend310", .mode = SIM_FP32, .top = -1, .run = true, .tolerance = -1};
	for (int i = 0; i < argc; i++) {
		int rc;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((rc = option(a, argc, argv, &i)) != EXIT_OK)
				return rc;
		} else if (!a->model) {
			a->model = argv[i];
		} else {
			return usage_error("sim", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!a->model)
		return usage_error("sim", "need a model");
	if (!a->run && (a->out || a->expect))
		return usage_error("sim", "-o and --expect need the numerics: drop --no-run");
	if (a->tolerance >= 0 && !a->expect)
		return usage_error("sim", "--tolerance goes with --expect");
	return EXIT_OK;
}

/* ---------------------------------------------------------------- inputs */

static int input_index(const sim_tensor *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name && !strcmp(v[i].name, name))
			return (int)i;
	return -1;
}

/* "a, b, c" (or "none"), cut to fit cap. */
static void input_names(const sim_tensor *v, size_t n, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", v[i].name ? v[i].name : "?");
	if (n == 0)
		snprintf(buf, cap, "none");
}

/* Replaces slot i's data by t (keeping the slot's name). */
static bool take(sim_tensor *slot, sim_tensor *t)
{
	char *name = slot->name;
	slot->name = NULL;
	sim_tensor_free(slot);
	*slot = *t;
	free(slot->name);
	slot->name = name;
	memset(t, 0, sizeof *t);
	return true;
}

static bool bind_dir(const char *dir, sim_tensor *v, size_t n, ir_diags *d)
{
	sim_tensor *set;
	size_t ns;
	if (sim_pb_read_set(dir, "input", &set, &ns, d) != SIM_OK)
		return false;
	if (ns == 0 || ns > n) {
		ir_error(d, dir, 0, 0, "%zu input_N.pb files for %zu graph inputs", ns, n);
		sim_tensors_free(set, ns);
		return false;
	}
	for (size_t i = 0; i < ns; i++) {
		int k = set[i].name ? input_index(v, n, set[i].name) : -1;
		take(&v[k >= 0 ? (size_t)k : i], &set[i]);
	}
	sim_tensors_free(set, ns);
	return true;
}

static bool bind_files(const sim_args *a, sim_tensor *v, size_t n, ir_diags *d)
{
	for (int i = 0; i < a->ninputs; i++) {
		int k = input_index(v, n, a->names[i]);
		if (k < 0) {
			char names[512];
			input_names(v, n, names, sizeof names);
			ir_error(d, a->files[i], 0, 0, "the graph has no input '%s' to bind (its inputs: %s)",
				 a->names[i], names);
			return false;
		}
		sim_tensor t;
		if (sim_pb_read(a->files[i], &t, d) != SIM_OK)
			return false;
		take(&v[k], &t);
	}
	return true;
}

/* One named tensor per graph input without an initializer: random (seeded),
 * then replaced by --inputs and --input files. */
static bool gather_inputs(const ir_graph *g, const sim_args *a, sim_tensor **v, size_t *n, ir_diags *d)
{
	if (sim_random_inputs(g, a->seed, v, n, d) != SIM_OK)
		return false;
	if ((a->dir && !bind_dir(a->dir, *v, *n, d)) || !bind_files(a, *v, *n, d)) {
		sim_tensors_free(*v, *n);
		*v = NULL;
		return false;
	}
	return true;
}

/* Gives inputs with unknown dimensions the bound tensors' shapes, then
 * infers the rest of the graph. */
static bool bind_shapes(ir_graph *g, const char *path, const sim_tensor *v, size_t n, ir_diags *d)
{
	for (size_t i = 0; i < ir_graph_ninputs(g); i++) {
		ir_val iv = ir_graph_input_at(g, i);
		int k = input_index(v, n, ir_cstr(g, ir_value_at(g, iv)->name));
		if (k >= 0 && !ir_type_is_static(g, ir_value_at(g, iv)->type)) {
			ir_type t = ir_type_tensor(g, v[k].dtype, v[k].rank, v[k].dims);
			ir_value_at(g, iv)->type = t;
		}
	}
	return ir_infer(g, d, path) == 0;
}

/* ---------------------------------------------------------------- running */

static bool write_outputs(const char *dir, const sim_tensor *out, size_t n, ir_diags *d)
{
	struct stat st;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		ir_error(d, dir, 0, 0, "cannot create the directory: %s", strerror(errno));
		return false;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ir_error(d, dir, 0, 0, "not a directory (-o names the directory for output_N.pb files)");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/output_%zu.pb", dir, i);
		if (!sim_pb_write(path, &out[i], d))
			return false;
	}
	return true;
}

static bool run(const ir_graph *g, const sim_args *a, const sim_tensor *in, size_t nin, sim_tensor **out,
		size_t *nout, ir_diags *d)
{
	sim_opts o = {a->mode, a->model};
	if (sim_run(g, &o, in, nin, out, nout, d) != SIM_OK) {
		ir_diag_add(d, IR_NOTE, NULL, 0, 0, "'--no-run' gives the cycle estimate without the numerics");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- --expect */

typedef struct expectation {
	sim_tensor *want;
	size_t n;
	sim_cmp *cmp;
	bool *ok;
	double tol;
	bool all_ok;
} expectation;

static void expectation_free(expectation *e)
{
	sim_tensors_free(e->want, e->n);
	free(e->cmp);
	free(e->ok);
}

/* Compares the outputs with DIR/output_N.pb; false on a read error. */
static bool check_expected(const sim_args *a, const sim_tensor *out, size_t nout, expectation *e, ir_diags *d)
{
	e->tol = a->tolerance >= 0 ? a->tolerance : a->mode == SIM_FP32 ? 1e-4 : 2e-3;
	e->all_ok = true;
	if (sim_pb_read_set(a->expect, "output", &e->want, &e->n, d) != SIM_OK)
		return false;
	if (e->n != nout) {
		ir_error(d, a->expect, 0, 0, "%zu output_N.pb files for %zu graph outputs", e->n, nout);
		return false;
	}
	e->cmp = calloc(nout + 1, sizeof *e->cmp);
	e->ok = calloc(nout + 1, sizeof *e->ok);
	if (!e->cmp || !e->ok)
		return false;
	for (size_t i = 0; i < nout; i++) {
		e->ok[i] = sim_compare(&out[i], &e->want[i], e->tol, &e->cmp[i]);
		e->all_ok = e->all_ok && e->ok[i];
	}
	return true;
}

/* ---------------------------------------------------------------- the report */

typedef struct report {
	const ir_graph *g;
	const sim_hw *hw;
	const sim_cost *c;
	const sim_args *a;
	const sim_tensor *out; /* NULL with --no-run */
	size_t nout;
	const sim_op_cost **order; /* by cycles, most first */
	const expectation *expect; /* NULL without --expect */
} report;

static int by_cycles(const void *x, const void *y)
{
	const sim_op_cost *a = *(const sim_op_cost *const *)x, *b = *(const sim_op_cost *const *)y;
	if (a->cycles != b->cycles)
		return a->cycles < b->cycles ? 1 : -1;
	return a->node < b->node ? -1 : a->node > b->node;
}

static const char *op_name(const ir_graph *g, const sim_op_cost *o, char *buf, size_t cap)
{
	const char *s = ir_cstr(g, ir_node_at(g, o->node)->name);
	if (*s)
		return s;
	snprintf(buf, cap, "#%u", (unsigned)o->node);
	return buf;
}

static double x_floor(const sim_op_cost *o)
{
	return o->floor > 0 ? (double)o->cycles / o->floor : 0;
}

static size_t shown(const report *r, long dflt)
{
	long top = r->a->top >= 0 ? r->a->top : dflt;
	return top >= 0 && (size_t)top < r->c->nops ? (size_t)top : r->c->nops;
}

static void text_op(const report *r, const sim_op_cost *o)
{
	char name[32], where[40], xf[16] = "-";
	const sim_cost *c = r->c;
	snprintf(where, sizeof where, "%s/%s/%s", sim_mem_name(o->in_mem), sim_mem_name(o->weight_mem),
		 sim_mem_name(o->out_mem));
	if (o->floor > 0)
		snprintf(xf, sizeof xf, "%.2f", x_floor(o));
	printf("%10lld %5.1f %7s %-7s %13lld %5.1f %9lld %8lld %9lld  %-14s %-18s %s%s\n", (long long)o->cycles,
	       c->total_cycles ? 100.0 * (double)o->cycles / (double)c->total_cycles : 0.0, xf,
	       sim_bound_name(o->bound), (long long)o->macs, 100 * o->cube_util, (long long)o->cube,
	       (long long)o->vector, (long long)(o->mte1 + o->mte2 + o->mte3), where,
	       ir_cstr(r->g, ir_node_at(r->g, o->node)->op), op_name(r->g, o, name, sizeof name),
	       o->fused ? " (fused)" : o->generic ? " (generic)" : "");
}

static void text_outputs(const report *r)
{
	char buf[256];
	for (size_t i = 0; i < ir_graph_noutputs(r->g); i++) {
		const ir_value *v = ir_value_at(r->g, ir_graph_output_at(r->g, i));
		if (r->out && i < r->nout)
			sim_tensor_format(&r->out[i], buf, sizeof buf);
		else
			ir_type_format(r->g, v->type, buf, sizeof buf);
		printf("output %s %s", ir_cstr(r->g, v->name), buf);
		if (r->a->out && r->out)
			printf(" -> %s/output_%zu.pb", r->a->out, i);
		if (r->expect) {
			const sim_cmp *c = &r->expect->cmp[i];
			if (!c->shape_ok)
				printf(": DIFFERS from %s/output_%zu.pb (dtype or shape)", r->a->expect, i);
			else
				printf(": max error %.3g of the expected scale (tolerance %g): %s", c->max_rel,
				       r->expect->tol, r->expect->ok[i] ? "matches" : "DIFFERS");
		}
		printf("\n");
	}
}

static void text_report(const report *r)
{
	const sim_cost *c = r->c;
	const sim_hw *hw = r->hw;
	size_t n = shown(r, 20);
	printf("%s on %s (%lldx%lldx%lld x%lld matrix unit, %.0f MHz, one core)\n", r->a->model, hw->name,
	       (long long)hw->cube.m, (long long)hw->cube.k, (long long)hw->cube.n, (long long)hw->cube.units,
	       hw->clock_mhz);
	printf("%10s %5s %7s %-7s %13s %5s %9s %8s %9s  %-14s %-18s %s\n", "cycles", "%", "x floor", "bound",
	       "MACs", "util%", "cube", "vector", "transfer", "in/w/out", "op", "name");
	for (size_t i = 0; i < n; i++)
		text_op(r, r->order[i]);
	if (n < c->nops)
		printf("(%zu more ops; --top N shows more)\n", c->nops - n);
	printf("total: %lld cycles = %.1f us at %.0f MHz; floor %.0f cycles (MACs / %lld): %.2fx\n",
	       (long long)c->total_cycles, (double)c->total_cycles / hw->clock_mhz, hw->clock_mhz, c->floor,
	       (long long)sim_hw_peak(hw, false), c->floor > 0 ? (double)c->total_cycles / c->floor : 0.0);
	printf("MACs %lld, padded %lld (cube utilisation %.1f%%); busy cycles: cube %lld, vector %lld, transfer "
	       "%lld, launch %lld; global traffic %lld bytes; L2 peak %lld bytes\n",
	       (long long)c->macs, (long long)c->padded_macs,
	       c->padded_macs ? 100.0 * (double)c->macs / (double)c->padded_macs : 0.0, (long long)c->cube,
	       (long long)c->vector, (long long)c->transfer, (long long)c->launch, (long long)c->bytes,
	       (long long)c->l2_peak);
	if (c->uncosted)
		printf("%zu ops with unknown shapes were not costed\n", c->uncosted);
	text_outputs(r);
}

static void json_mem(json *j, const char *key, sim_mem m)
{
	json_key(j, key);
	if (m == SIM_MEM_NONE)
		json_num(j, NAN); /* null */
	else
		json_str(j, sim_mem_name(m));
}

static void json_i(json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}

static void json_op(json *j, const report *r, const sim_op_cost *o)
{
	char name[32];
	json_obj(j);
	json_key(j, "name");
	json_str(j, op_name(r->g, o, name, sizeof name));
	json_key(j, "op");
	json_str(j, ir_cstr(r->g, ir_node_at(r->g, o->node)->op));
	json_i(j, "cycles", o->cycles);
	json_i(j, "macs", o->macs);
	json_i(j, "padded_macs", o->padded_macs);
	json_key(j, "cube_util");
	json_num(j, o->cube_util);
	json_key(j, "bound");
	json_str(j, sim_bound_name(o->bound));
	json_i(j, "cube_cycles", o->cube);
	json_i(j, "vector_cycles", o->vector);
	json_i(j, "transfer_cycles", o->mte1 + o->mte2 + o->mte3);
	json_i(j, "mte2_cycles", o->mte2);
	json_i(j, "mte1_cycles", o->mte1);
	json_i(j, "mte3_cycles", o->mte3);
	json_i(j, "launch_cycles", o->launch);
	json_key(j, "floor_cycles");
	json_num(j, o->floor);
	json_key(j, "x_floor");
	json_num(j, o->floor > 0 ? x_floor(o) : NAN);
	json_i(j, "bytes_in", o->bytes_in);
	json_i(j, "bytes_out", o->bytes_out);
	json_mem(j, "in", o->in_mem);
	json_mem(j, "weights", o->weight_mem);
	json_mem(j, "out", o->out_mem);
	json_key(j, "intermediates");
	json_str(j, o->fused ? "on-chip" : "none");
	if (o->macs) {
		json_key(j, "tile");
		json_arr(j);
		for (int k = 0; k < 3; k++)
			json_int(j, o->tile[k]);
		json_end_arr(j);
	}
	json_key(j, "fused");
	json_bool(j, o->fused);
	json_key(j, "generic");
	json_bool(j, o->generic);
	json_key(j, "costed");
	json_bool(j, o->costed);
	json_end_obj(j);
}

static void json_shape(json *j, const report *r, size_t i)
{
	const ir_value *v = ir_value_at(r->g, ir_graph_output_at(r->g, i));
	json_key(j, "shape");
	json_arr(j);
	if (r->out && i < r->nout) {
		for (int k = 0; k < r->out[i].rank; k++)
			json_int(j, r->out[i].dims[k]);
	} else {
		const ir_dim *d = ir_type_dims(r->g, v->type);
		for (int k = 0; k < v->type.rank; k++)
			json_int(j, d[k].v);
	}
	json_end_arr(j);
	json_key(j, "dtype");
	json_str(j, ir_dtype_name(r->out && i < r->nout ? r->out[i].dtype : (ir_dtype)v->type.dtype));
}

static void json_outputs(json *j, const report *r)
{
	char path[4096];
	json_key(j, "outputs");
	json_arr(j);
	for (size_t i = 0; i < ir_graph_noutputs(r->g); i++) {
		json_obj(j);
		json_key(j, "name");
		json_str(j, ir_cstr(r->g, ir_value_at(r->g, ir_graph_output_at(r->g, i))->name));
		json_shape(j, r, i);
		if (r->a->out && r->out) {
			snprintf(path, sizeof path, "%s/output_%zu.pb", r->a->out, i);
			json_key(j, "file");
			json_str(j, path);
		}
		if (r->expect) {
			json_key(j, "max_rel_error");
			json_num(j, r->expect->cmp[i].shape_ok ? r->expect->cmp[i].max_rel : NAN);
			json_key(j, "matches");
			json_bool(j, r->expect->ok[i]);
		}
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void json_totals(json *j, const report *r)
{
	const sim_cost *c = r->c;
	json_key(j, "model");
	json_str(j, r->a->model);
	json_key(j, "hw");
	json_str(j, r->hw->name);
	json_key(j, "mode");
	json_str(j, r->a->run ? (r->a->mode == SIM_CUBE ? "cube" : "fp32") : "none");
	json_key(j, "clock_mhz");
	json_num(j, r->hw->clock_mhz);
	json_i(j, "total_cycles", c->total_cycles);
	json_key(j, "time_us");
	json_num(j, (double)c->total_cycles / r->hw->clock_mhz);
	json_i(j, "macs", c->macs);
	json_i(j, "padded_macs", c->padded_macs);
	json_key(j, "floor_cycles");
	json_num(j, c->floor);
	json_key(j, "x_floor");
	json_num(j, c->floor > 0 ? (double)c->total_cycles / c->floor : NAN);
	json_i(j, "cube_cycles", c->cube);
	json_i(j, "vector_cycles", c->vector);
	json_i(j, "transfer_cycles", c->transfer);
	json_i(j, "launch_cycles", c->launch);
	json_i(j, "bytes", c->bytes);
	json_i(j, "l2_peak_bytes", c->l2_peak);
	json_i(j, "uncosted_ops", (long long)c->uncosted);
}

static void json_report(const report *r)
{
	json j;
	json_begin(&j, stdout);
	json_obj(&j);
	json_totals(&j, r);
	json_key(&j, "ops");
	json_arr(&j);
	for (size_t i = 0, n = shown(r, -1); i < n; i++)
		json_op(&j, r, r->order[i]);
	json_end_arr(&j);
	json_outputs(&j, r);
	json_end_obj(&j);
	json_finish(&j);
}

static bool print_report(report *r)
{
	r->order = malloc((r->c->nops + 1) * sizeof *r->order);
	if (!r->order)
		return false;
	for (size_t i = 0; i < r->c->nops; i++)
		r->order[i] = &r->c->ops[i];
	qsort(r->order, r->c->nops, sizeof *r->order, by_cycles);
	if (r->a->json)
		json_report(r);
	else
		text_report(r);
	free(r->order);
	return true;
}

/* ---------------------------------------------------------------- the command */

static int simulate(ir_graph *g, const sim_args *a, const sim_hw *hw, ir_diags *d)
{
	sim_tensor *in = NULL, *out = NULL;
	size_t nin = 0, nout = 0;
	sim_cost c = {0};
	expectation e = {0};
	bool ok = gather_inputs(g, a, &in, &nin, d) && bind_shapes(g, a->model, in, nin, d) &&
		  (!a->run || run(g, a, in, nin, &out, &nout, d)) && sim_cost_graph(g, hw, a->model, &c, d) &&
		  (!a->expect || check_expected(a, out, nout, &e, d)) &&
		  (!a->out || write_outputs(a->out, out, nout, d)); /* last: no output after an error */
	ir_diags_print(d, stderr);
	if (ok) {
		report r = {g, hw, &c, a, a->run ? out : NULL, nout, NULL, a->expect ? &e : NULL};
		ok = print_report(&r);
	}
	bool differs = ok && a->expect && !e.all_ok;
	expectation_free(&e);
	if (!ok && d->nerrors == 0)
		fprintf(stderr, "graft sim: error: out of memory\n");
	sim_cost_free(&c);
	sim_tensors_free(in, nin);
	sim_tensors_free(out, nout);
	return !ok ? EXIT_ERR : differs ? EXIT_DIFF : EXIT_OK;
}

int cmd_sim(int argc, char **argv)
{
	sim_args a;
	if (wants_help(argc, argv)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	int rc = parse_args(&a, argc, argv);
	if (rc != EXIT_OK)
		return rc;
	ir_diags d;
	ir_diags_init(&d);
	sim_hw hw;
	ir_graph *g = NULL;
	if (!sim_hw_load(a.hw, &hw, &d))
		rc = fail_with(&d);
	else if (!(g = load_or_report(a.model, &d)))
		rc = EXIT_ERR;
	else
		rc = simulate(g, &a, &hw, &d);
	ir_graph_free(g);
	ir_diags_free(&d);
	return rc;
}
