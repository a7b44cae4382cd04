/* A minimal streaming JSON writer for --json outputs. */
#include <math.h>

#include "cli.h"

void json_begin(json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->key_pending = false;
}

static void sep(json *j)
{
	if (j->key_pending) {
		j->key_pending = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
}

static void open_(json *j, char c)
{
	sep(j);
	fputc(c, j->out);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

void json_obj(json *j)
{
	open_(j, '{');
}

void json_arr(json *j)
{
	open_(j, '[');
}

void json_end_obj(json *j)
{
	j->depth--;
	fputc('}', j->out);
}

void json_end_arr(json *j)
{
	j->depth--;
	fputc(']', j->out);
}

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void json_key(json *j, const char *k)
{
	sep(j);
	put_string(j->out, k);
	fputc(':', j->out);
	j->key_pending = true;
}

void json_str(json *j, const char *s)
{
	sep(j);
	put_string(j->out, s);
}

void json_int(json *j, long long v)
{
	sep(j);
	fprintf(j->out, "%lld", v);
}

void json_num(json *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->out, "%.17g", v);
	else
		fputs("null", j->out);
}

void json_bool(json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->out);
}

void json_finish(json *j)
{
	fputc('\n', j->out);
}
