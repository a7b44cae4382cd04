/* ONNX TensorProto files (the backend test-data layout): decoding from
 * raw_data or the typed fields, encoding with raw_data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"
#include "sim_internal.h"

/* memcpy that accepts a NULL source for zero bytes (empty protobuf fields). */
static void copy_bytes(void *dst, const void *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

/* Copies the typed field matching t's dtype into t->data; false when the
 * field holds the wrong number of values. */
static bool decode_typed(const Onnx__TensorProto *p, sim_tensor *t)
{
	size_t n = sim_numel(t);
	switch (t->dtype) {
	case IR_F32:
		if (p->n_float_data != n)
			return false;
		copy_bytes(t->data, p->float_data, n * sizeof(float));
		return true;
	case IR_F64:
		if (p->n_double_data != n)
			return false;
		copy_bytes(t->data, p->double_data, n * sizeof(double));
		return true;
	case IR_I64:
		if (p->n_int64_data != n)
			return false;
		copy_bytes(t->data, p->int64_data, n * sizeof(int64_t));
		return true;
	case IR_U32: case IR_U64:
		if (p->n_uint64_data != n)
			return false;
		for (size_t i = 0; i < n; i++)
			sim_set_i64(t, i, (int64_t)p->uint64_data[i]);
		return true;
	default: /* i32, i16, i8, u16, u8, bool, f16, bf16: one int32 each */
		if (p->n_int32_data != n)
			return false;
		for (size_t i = 0; i < n; i++) {
			if (t->dtype == IR_F16 || t->dtype == IR_BF16)
				((uint16_t *)t->data)[i] = (uint16_t)p->int32_data[i];
			else
				sim_set_i64(t, i, p->int32_data[i]);
		}
		return true;
	}
}

static sim_status decode_proto(const Onnx__TensorProto *p, sim_tensor *t, const char *file, ir_diags *d)
{
	ir_dtype dt = (ir_dtype)p->data_type;
	if (p->n_dims > IR_MAX_RANK || ir_dtype_size(dt) == 0 || dt == IR_C64 || dt == IR_C128) {
		ir_error(d, file, 0, 0, "tensor of type %s and rank %zu not supported by the simulator",
			 ir_dtype_name(dt), p->n_dims);
		return SIM_UNSUPPORTED;
	}
	if (p->n_external_data || (p->has_data_location &&
				   p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)) {
		ir_error(d, file, 0, 0, "tensor with external data not supported");
		return SIM_UNSUPPORTED;
	}
	for (size_t i = 0; i < p->n_dims; i++)
		if (p->dims[i] < 0) {
			ir_error(d, file, 0, 0, "negative dim %lld", (long long)p->dims[i]);
			return SIM_EINVAL;
		}
	if (!sim_tensor_alloc(t, dt, (int)p->n_dims, p->dims)) {
		ir_error(d, file, 0, 0, "out of memory");
		return SIM_ENOMEM;
	}
	bool ok = p->has_raw_data ? p->raw_data.len == sim_nbytes(t) : decode_typed(p, t);
	if (ok && p->has_raw_data)
		copy_bytes(t->data, p->raw_data.data, p->raw_data.len);
	if (ok && p->name && p->name[0])
		ok = sim_tensor_set_name(t, p->name);
	if (!ok) {
		sim_tensor_free(t);
		ir_error(d, file, 0, 0, "tensor data does not match its type and dims");
		return SIM_EINVAL;
	}
	return SIM_OK;
}

sim_status sim_pb_decode(const void *buf, size_t n, sim_tensor *t, const char *file, ir_diags *d)
{
	memset(t, 0, sizeof *t);
	Onnx__TensorProto *p = onnx__tensor_proto__unpack(NULL, n, buf);
	if (!p) {
		ir_error(d, file, 0, 0, "not a valid onnx.TensorProto");
		return SIM_EINVAL;
	}
	sim_status st = decode_proto(p, t, file, d);
	onnx__tensor_proto__free_unpacked(p, NULL);
	return st;
}

sim_status sim_pb_read(const char *path, sim_tensor *t, ir_diags *d)
{
	size_t n;
	memset(t, 0, sizeof *t);
	void *buf = ir_read_file(path, &n, d);
	if (!buf)
		return SIM_EINVAL;
	sim_status st = sim_pb_decode(buf, n, t, path, d);
	free(buf);
	return st;
}

bool sim_pb_encode(const sim_tensor *t, void **buf, size_t *n, ir_diags *d)
{
	Onnx__TensorProto p = ONNX__TENSOR_PROTO__INIT;
	p.n_dims = (size_t)t->rank;
	p.dims = (int64_t *)t->dims;
	p.has_data_type = 1;
	p.data_type = (int32_t)t->dtype;
	p.name = t->name;
	p.has_raw_data = 1;
	p.raw_data.len = sim_nbytes(t);
	p.raw_data.data = t->data;
	*n = onnx__tensor_proto__get_packed_size(&p);
	*buf = malloc(*n ? *n : 1);
	if (!*buf) {
		ir_error(d, NULL, 0, 0, "out of memory");
		return false;
	}
	onnx__tensor_proto__pack(&p, *buf);
	return true;
}

bool sim_pb_write(const char *path, const sim_tensor *t, ir_diags *d)
{
	void *buf;
	size_t n;
	if (!sim_pb_encode(t, &buf, &n, d))
		return false;
	bool ok = ir_write_file_atomic(path, buf, n, d);
	free(buf);
	return ok;
}

static bool check_dir(const char *dir, ir_diags *d)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		ir_error(d, dir, 0, 0, "cannot open the directory: %s", strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		ir_error(d, dir, 0, 0, "not a directory");
		return false;
	}
	return true;
}

sim_status sim_pb_read_set(const char *dir, const char *prefix, sim_tensor **out, size_t *n,
			   ir_diags *d)
{
	*out = NULL;
	*n = 0;
	if (!check_dir(dir, d))
		return SIM_EINVAL;
	size_t cap = 0;
	for (;;) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s_%zu.pb", dir, prefix, *n);
		FILE *f = fopen(path, "rb");
		if (!f)
			return SIM_OK;
		fclose(f);
		if (*n == cap) {
			sim_tensor *nv = realloc(*out, (cap = cap ? 2 * cap : 4) * sizeof *nv);
			if (!nv) {
				ir_error(d, path, 0, 0, "out of memory");
				sim_tensors_free(*out, *n);
				*out = NULL;
				*n = 0;
				return SIM_ENOMEM;
			}
			*out = nv;
		}
		sim_status st = sim_pb_read(path, &(*out)[*n], d);
		if (st != SIM_OK) {
			sim_tensors_free(*out, *n);
			*out = NULL;
			*n = 0;
			return st;
		}
		(*n)++;
	}
}
