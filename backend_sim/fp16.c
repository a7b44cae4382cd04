/* The one place where floats meet their 16-bit encodings (IEEE binary16 and
 * bfloat16).  Rounding is to nearest, ties to even, as the cube's fp16
 * conversion does; subnormals are kept and overflow goes to infinity. */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

static uint32_t f32_bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

static float bits_f32(uint32_t u)
{
	float x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* Shifts a significand right by shift bits, rounding to nearest even. */
static uint32_t shift_rne(uint32_t m, unsigned shift)
{
	uint32_t kept = m >> shift;
	uint32_t rest = m & ((1u << shift) - 1);
	uint32_t half = 1u << (shift - 1);
	if (rest > half || (rest == half && (kept & 1)))
		kept++;
	return kept;
}

uint16_t sim_f32_to_f16(float x)
{
	uint32_t u = f32_bits(x);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
	int32_t exp = (int32_t)((u >> 23) & 0xff);
	uint32_t mant = u & 0x7fffff;

	if (exp == 0xff) /* inf, or NaN with a quiet bit so it stays NaN */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
	int32_t e = exp - 127 + 15; /* biased fp16 exponent */
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e >= 1) {
		/* a carry out of the mantissa bumps the exponent, up to infinity */
		uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
		uint32_t rest = mant & 0x1fff;
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	if (e < -10) /* below half the smallest subnormal (2^-25): zero */
		return sign;
	/* subnormal: the value in units of 2^-24 is (mant | hidden) >> (14 - e) */
	return (uint16_t)(sign | shift_rne(mant | 0x800000, (unsigned)(14 - e)));
}

float sim_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;

	if (exp == 0x1f)
		return bits_f32(sign | 0x7f800000 | (mant << 13));
	if (exp != 0)
		return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
	if (mant == 0)
		return bits_f32(sign);
	/* subnormal: normalise the mantissa into an f32 normal */
	uint32_t e = 113;
	while (!(mant & 0x400)) {
		mant <<= 1;
		e--;
	}
	return bits_f32(sign | (e << 23) | ((mant & 0x3ff) << 13));
}

float sim_round_f16(float x)
{
	uint32_t u = f32_bits(x);
	uint32_t mag = u & 0x7fffffff;
	/* fast path, |x| in [2^-14, 65520): fp16 normals, where rounding is
	 * dropping 13 mantissa bits to nearest even (carries bump the exponent) */
	if (mag >= 0x38800000 && mag < 0x477ff000)
		return bits_f32((u + 0xfff + ((u >> 13) & 1)) & ~0x1fffu);
	return sim_f16_to_f32(sim_f32_to_f16(x));
}

void sim_round_f16_array(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = sim_round_f16(x[i]);
}

/* v rounded to float with round-to-odd: a later rounding to a narrower
 * format (f16, bf16) is then correctly rounded, with no double rounding. */
static float f64_to_f32_odd(double v)
{
	float f = (float)v;
	if (isinf(f) || isnan(f) || (double)f == v)
		return f;
	if (fabs((double)f) > fabs(v))
		f = nextafterf(f, 0); /* truncate toward zero */
	uint32_t u = f32_bits(f) | 1;
	return bits_f32(u);
}

uint16_t sim_f64_to_f16(double v)
{
	return sim_f32_to_f16(f64_to_f32_odd(v));
}

uint16_t sim_f64_to_bf16(double v)
{
	return sim_f32_to_bf16(f64_to_f32_odd(v));
}

uint16_t sim_f32_to_bf16(float x)
{
	uint32_t u = f32_bits(x);
	if ((u & 0x7f800000) == 0x7f800000 && (u & 0x7fffff))
		return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
	uint32_t rest = u & 0xffff;
	uint32_t h = u >> 16;
	if (rest > 0x8000 || (rest == 0x8000 && (h & 1)))
		h++;
	return (uint16_t)h;
}

float sim_bf16_to_f32(uint16_t h)
{
	return bits_f32((uint32_t)h << 16);
}
