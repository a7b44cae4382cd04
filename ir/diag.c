/* Diagnostics: one sink, one formatter ("file:line:col: error: message"). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

void ir_diags_init(ir_diags *d)
{
	memset(d, 0, sizeof *d);
}

void ir_diags_clear(ir_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	d->n = 0;
	d->nerrors = 0;
}

void ir_diags_free(ir_diags *d)
{
	ir_diags_clear(d);
	free(d->v);
	d->v = NULL;
	d->cap = 0;
}

static char *dup_str(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void ir_diag_vadd(ir_diags *d, ir_severity sev, const char *file, int line, int col,
		  const char *fmt, va_list ap)
{
	if (!d)
		return;
	if (sev == IR_ERROR)
		d->nerrors++;
	if (d->max && d->n >= d->max)
		return;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		ir_diag *v = realloc(d->v, ncap * sizeof *v);
		if (!v)
			return;
		d->v = v;
		d->cap = ncap;
	}
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	ir_diag *x = &d->v[d->n++];
	x->file = dup_str(file);
	x->line = line;
	x->col = col;
	x->sev = sev;
	x->msg = dup_str(buf);
}

void ir_diag_add(ir_diags *d, ir_severity sev, const char *file, int line, int col,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ir_diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
}

static const char *sev_name(ir_severity s)
{
	return s == IR_ERROR ? "error" : s == IR_WARNING ? "warning" : "note";
}

void ir_diags_print(const ir_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const ir_diag *x = &d->v[i];
		if (x->file && x->line > 0 && x->col > 0)
			fprintf(out, "%s:%d:%d: ", x->file, x->line, x->col);
		else if (x->file && x->line > 0)
			fprintf(out, "%s:%d: ", x->file, x->line);
		else if (x->file)
			fprintf(out, "%s: ", x->file);
		fprintf(out, "%s: %s\n", sev_name(x->sev), x->msg ? x->msg : "(out of memory)");
	}
}

bool ir_diags_contains(const ir_diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].msg && strstr(d->v[i].msg, needle))
			return true;
	return false;
}
