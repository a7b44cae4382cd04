/* Lexical conventions of the .gir text form shared by the printer and the
 * parser: which names print bare, the elided-data hash, and the binary
 * floating-point formats of tensor elements (f16, bf16, f32, f64) handled
 * as raw bits so that every value, NaN payloads included, round-trips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* ---------------------------------------------------------------- names */

const char *const ir_text_attr_kinds[IR_ATTR_TYPE_PROTOS + 1] = {
	"undef",   "float",  "int",           "string",         "tensor",
	"graph",   "floats", "ints",          "strings",        "tensors",
	"graphs",  "sparse_tensor", "sparse_tensors", "type_proto", "type_protos",
};

const char *const ir_text_extra_kinds[IR_EXTRA_KINDS] = {
	"sparse_initializer", "quantization_annotation", "training_info",
};

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool ir_text_is_ident(const char *s, size_t n)
{
	if (n == 0 || !is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '.')
			return false;
	return true;
}

bool ir_text_is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == ':' || c == '/' || c == '-';
}

size_t ir_text_name_len(const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n && ir_text_is_name_char(s[i]); i++)
		if (s[i] == ':' && !(i > 0 && s[i - 1] == ':') &&
		    !(i + 1 < n && (s[i + 1] == ':' || is_digit(s[i + 1]))))
			break;
	while (i > 0 && s[i - 1] == ':')
		i--;
	return i;
}

bool ir_text_is_name(const char *s, size_t n)
{
	return n > 0 && !is_digit(s[0]) && ir_text_name_len(s, n) == n;
}

uint64_t ir_text_hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

/* ---------------------------------------------------------------- floating-point formats */

static const struct {
	unsigned width, ebits, mbits;
} reals[] = {
	[IR_REAL_F16] = {16, 5, 10},
	[IR_REAL_BF16] = {16, 8, 7},
	[IR_REAL_F32] = {32, 8, 23},
	[IR_REAL_F64] = {64, 11, 52},
};

bool ir_real_fmt_of(ir_dtype t, ir_realfmt *f)
{
	switch (t) {
	case IR_F16: *f = IR_REAL_F16; return true;
	case IR_BF16: *f = IR_REAL_BF16; return true;
	case IR_F32: *f = IR_REAL_F32; return true;
	case IR_F64: *f = IR_REAL_F64; return true;
	default: return false;
	}
}

unsigned ir_real_width(ir_realfmt f)
{
	return reals[f].width;
}

uint64_t ir_real_special(ir_realfmt f, bool nan, bool neg)
{
	unsigned mb = reals[f].mbits;
	uint64_t emax = (1ull << reals[f].ebits) - 1;
	uint64_t bits = emax << mb | (nan ? 1ull << (mb - 1) : 0);
	return neg ? bits | 1ull << (reals[f].width - 1) : bits;
}

/* m >> shift rounded to nearest, ties to even (1 <= shift <= 63). */
static uint64_t shift_rne(uint64_t m, unsigned shift)
{
	uint64_t q = m >> shift, rem = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
	return rem > half || (rem == half && (q & 1)) ? q + 1 : q;
}

/* Double to a narrower binary format (ebits <= 8), rounding to nearest even. */
static uint64_t narrow(double x, unsigned ebits, unsigned mbits)
{
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	uint64_t sign = (b >> 63) << (ebits + mbits), emax = (1ull << ebits) - 1;
	int exp = (int)((b >> 52) & 0x7ff);
	uint64_t mant = b & ((1ull << 52) - 1);
	if (exp == 0x7ff) {
		uint64_t m = mant >> (52 - mbits);
		return sign | emax << mbits | (mant && !m ? 1ull << (mbits - 1) : m);
	}
	if (exp == 0) /* zero or a double subnormal: far below the range */
		return sign;
	int e = exp - 1023 + (1 << (ebits - 1)) - 1;
	uint64_t q;
	if (e >= 1) {
		q = ((uint64_t)e << mbits) + shift_rne(mant, 52 - mbits);
	} else {
		unsigned shift = (unsigned)(52 - (int)mbits + 1 - e);
		q = shift > 63 ? 0 : shift_rne(mant | 1ull << 52, shift);
	}
	if (q > emax << mbits)
		q = emax << mbits;
	return sign | q;
}

uint64_t ir_real_from_double(double x, ir_realfmt f)
{
	uint64_t bits = 0;
	if (f == IR_REAL_F64) {
		memcpy(&bits, &x, sizeof bits);
	} else if (f == IR_REAL_F32) {
		float v = (float)x;
		uint32_t b;
		memcpy(&b, &v, sizeof b);
		bits = b;
	} else {
		bits = narrow(x, reals[f].ebits, reals[f].mbits);
	}
	return bits;
}

double ir_real_value(uint64_t bits, ir_realfmt f)
{
	if (f == IR_REAL_F64) {
		double d;
		memcpy(&d, &bits, sizeof d);
		return d;
	}
	if (f == IR_REAL_F32) {
		uint32_t b = (uint32_t)bits;
		float v;
		memcpy(&v, &b, sizeof v);
		return v;
	}
	unsigned eb = reals[f].ebits, mb = reals[f].mbits;
	int bias = (1 << (eb - 1)) - 1;
	uint64_t e = (bits >> mb) & ((1ull << eb) - 1), m = bits & ((1ull << mb) - 1);
	double v;
	if (e == (1ull << eb) - 1)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp((double)m, 1 - bias - (int)mb);
	else
		v = ldexp((double)(m | 1ull << mb), (int)e - bias - (int)mb);
	return (bits >> (reals[f].width - 1)) & 1 ? -v : v;
}

uint64_t ir_real_parse(const char *s, ir_realfmt f)
{
	if (f == IR_REAL_F32) {
		float v = strtof(s, NULL);
		uint32_t b;
		memcpy(&b, &v, sizeof b);
		return b;
	}
	return ir_real_from_double(strtod(s, NULL), f);
}
