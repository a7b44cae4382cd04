/* Files: whole-file reads, atomic writes, and loading/saving graphs by
 * extension. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

ir_format ir_format_of_path(const char *path)
{
	if (strcmp(path, "-") == 0 || ends_with(path, ".gir"))
		return IR_FMT_GIR;
	if (ends_with(path, ".onnx"))
		return IR_FMT_ONNX;
	if (ends_with(path, ".dot") || ends_with(path, ".gv"))
		return IR_FMT_DOT;
	return IR_FMT_UNKNOWN;
}

static void *read_stream(FILE *f, size_t *n)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf)
			return NULL;
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*n = len;
	return buf;
}

void *ir_read_file(const char *path, size_t *n, ir_diags *d)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		ir_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char *buf = NULL;
	if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		size_t size = (size_t)st.st_size;
		buf = malloc(size + 1);
		if (buf && fread(buf, 1, size, f) == size) {
			buf[size] = '\0';
			*n = size;
		} else {
			free(buf);
			buf = NULL;
		}
	} else if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		ir_error(d, path, 0, 0, "is a directory");
		fclose(f);
		return NULL;
	} else {
		buf = read_stream(f, n);
	}
	if (!buf)
		ir_error(d, path, 0, 0, "cannot read: %s", errno ? strerror(errno) : "out of memory");
	if (f != stdin)
		fclose(f);
	return buf;
}

/* A temporary file beside path (*tmp: its malloc'd name); -1 (reported)
 * when it cannot be created. */
static int temp_open(const char *path, char **tmp, ir_diags *d)
{
	size_t len = strlen(path);
	*tmp = malloc(len + 16);
	if (!*tmp) {
		ir_error(d, path, 0, 0, "out of memory");
		return -1;
	}
	snprintf(*tmp, len + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(*tmp);
	if (fd < 0) {
		ir_error(d, path, 0, 0, "cannot create a temporary file beside it: %s", strerror(errno));
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

static bool write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Closes the temporary file and renames it to path when everything was
 * written (ok), else removes it; false (reported) on any failure. */
static bool temp_commit(int fd, char *tmp, const char *path, bool ok, ir_diags *d)
{
	ok = ok && fchmod(fd, 0644) == 0;
	ok = (close(fd) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		ir_error(d, path, 0, 0, "cannot write: %s", errno ? strerror(errno) : "write failed");
		unlink(tmp);
		free(tmp);
		return false;
	}
	free(tmp);
	return true;
}

bool ir_write_file_atomic(const char *path, const void *data, size_t n, ir_diags *d)
{
	char *tmp;
	int fd = temp_open(path, &tmp, d);
	if (fd < 0)
		return false;
	errno = 0;
	return temp_commit(fd, tmp, path, write_all(fd, data, n), d);
}

/* protobuf-c's output, written to a file descriptor: small pieces gather in
 * a buffer, large ones (tensor data, straight from the graph) are written
 * as they come. */
#define STAGE_CAP (256u << 10)

typedef struct fd_out {
	ProtobufCBuffer base;
	int fd;
	bool failed;
	size_t len;
	uint8_t *stage;
} fd_out;

static void fd_flush(fd_out *o)
{
	if (o->len && !o->failed)
		o->failed = !write_all(o->fd, o->stage, o->len);
	o->len = 0;
}

static void fd_append(ProtobufCBuffer *b, size_t n, const uint8_t *data)
{
	fd_out *o = (fd_out *)b;
	if (o->failed || n == 0)
		return;
	if (o->len + n <= STAGE_CAP) {
		memcpy(o->stage + o->len, data, n);
		o->len += n;
		return;
	}
	fd_flush(o);
	if (n >= STAGE_CAP / 2)
		o->failed = o->failed || !write_all(o->fd, data, n);
	else
		fd_append(b, n, data);
}

/* Streams the model into a temporary file renamed into place: no copy of
 * the whole serialized model in memory. */
static bool save_onnx(const ir_graph *g, const char *path, ir_diags *d)
{
	fd_out o = {.base = {fd_append}, .stage = malloc(STAGE_CAP)};
	if (!o.stage) {
		ir_error(d, path, 0, 0, "out of memory");
		return false;
	}
	char *tmp;
	o.fd = temp_open(path, &tmp, d);
	bool ok = o.fd >= 0;
	if (ok && !ir_onnx_write_stream(g, &o.base, d)) { /* reported: no file is written */
		close(o.fd);
		unlink(tmp);
		free(tmp);
		ok = false;
	} else if (ok) {
		errno = 0;
		fd_flush(&o);
		ok = temp_commit(o.fd, tmp, path, !o.failed, d);
	}
	free(o.stage);
	return ok;
}

/* The side file holding a .gir's large constants. */
static char *side_path(const char *path)
{
	size_t n = strlen(path);
	char *s = malloc(n + 5);
	if (s)
		snprintf(s, n + 5, "%s.bin", path);
	return s;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static ir_graph *load_gir(const char *path, ir_diags *d)
{
	size_t n = 0, side_n = 0;
	char *text = ir_read_file(path, &n, d);
	if (!text)
		return NULL;
	void *side = NULL;
	if (strcmp(path, "-") != 0) {
		char *sp = side_path(path);
		if (sp && access(sp, F_OK) == 0)
			side = ir_read_file(sp, &side_n, d);
		free(sp);
	}
	ir_graph *g = ir_parse(text, n, strcmp(path, "-") == 0 ? "<stdin>" : path, side, side_n, d);
	free(text);
	free(side);
	return g;
}

ir_graph *ir_load(const char *path, ir_diags *d)
{
	ir_graph *g = NULL;
	switch (ir_format_of_path(path)) {
	case IR_FMT_ONNX:
		g = ir_onnx_read_file(path, d);
		break;
	case IR_FMT_GIR:
		g = load_gir(path, d);
		break;
	default:
		ir_error(d, path, 0, 0, "unknown file type (expected .onnx or .gir)");
		return NULL;
	}
	if (g && ir_infer(g, d, path) != 0) {
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

/* Prints into a memory buffer (open_memstream) so that the file is written
 * atomically in one go. */
static bool save_text(const ir_graph *g, const char *path, ir_format fmt, int inline_max, ir_diags *d)
{
	bool to_stdout = strcmp(path, "-") == 0;
	char *buf = NULL;
	size_t n = 0;
	void *side = NULL;
	size_t side_n = 0;
	FILE *mem = open_memstream(&buf, &n);
	if (!mem) {
		ir_error(d, path, 0, 0, "out of memory");
		return false;
	}
	char *sp = to_stdout ? NULL : side_path(path);
	bool ok;
	if (fmt == IR_FMT_DOT) {
		ok = ir_write_dot(g, mem);
	} else {
		ir_print_opts o = {inline_max, sp ? base_name(sp) : NULL};
		ok = ir_print(g, mem, &o, to_stdout ? NULL : &side, &side_n);
	}
	ok = fclose(mem) == 0 && ok;
	if (!ok)
		ir_error(d, path, 0, 0, "cannot format the graph");
	if (ok && to_stdout)
		ok = fwrite(buf, 1, n, stdout) == n && fflush(stdout) == 0;
	else if (ok && side && side_n)
		ok = ir_write_file_atomic(sp, side, side_n, d) && ir_write_file_atomic(path, buf, n, d);
	else if (ok)
		ok = ir_write_file_atomic(path, buf, n, d);
	free(sp);
	free(buf);
	free(side);
	return ok;
}

bool ir_save_inline(const ir_graph *g, const char *path, ir_format fmt, int inline_max, ir_diags *d)
{
	struct stat st;
	if (fmt == IR_FMT_UNKNOWN)
		fmt = ir_format_of_path(path);
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		ir_error(d, path, 0, 0, "is a directory"); /* before a .gir's side file is written */
		return false;
	}
	if (fmt == IR_FMT_ONNX) {
		if (strcmp(path, "-") == 0) {
			ir_error(d, path, 0, 0, "ONNX is binary: give an output file name");
			return false;
		}
		return save_onnx(g, path, d);
	}
	if (fmt == IR_FMT_GIR || fmt == IR_FMT_DOT)
		return save_text(g, path, fmt, inline_max, d);
	ir_error(d, path, 0, 0, "unknown output type (expected .onnx, .gir or .dot)");
	return false;
}

bool ir_save(const ir_graph *g, const char *path, ir_format fmt, ir_diags *d)
{
	return ir_save_inline(g, path, fmt, 16, d);
}
