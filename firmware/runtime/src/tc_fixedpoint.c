/*
 * tc_fixedpoint.c - gemmlowp-compatible transcendental functions.
 *
 * Softmax, logistic and tanh in TFLM evaluate exp and 1/(1+x) with these
 * exact polynomial and Newton-Raphson steps; any other approximation, even a
 * more accurate one, would not be bit-exact.
 */
#include "tc_fixedpoint.h"

/* Q0 constants of gemmlowp's exp: exp(-1/8), 1/3, exp(-2^k) for k=-2..4. */
#define TC_EXP_MINUS_ONE_EIGHTH 1895147668
#define TC_ONE_THIRD 715827883
/* Q2 constants of the Newton-Raphson reciprocal: 48/17 and -32/17. */
#define TC_48_OVER_17 1515870810
#define TC_NEG_32_OVER_17 (-1010580540)

static const int32_t tc_exp_barrel[7] = {
    1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
};

/* exp(a) for a in [-1/4, 0), Q0 in and out: Taylor series around -1/8. */
static int32_t tc_exp_quarter(int32_t a)
{
    const int32_t x = tc_wrap_add(a, 1 << 28);
    const int32_t x2 = tc_srdhm(x, x);
    const int32_t x3 = tc_srdhm(x2, x);
    const int32_t x4 = tc_srdhm(x2, x2);
    const int32_t x4_over_4 = tc_rdbypot(x4, 2);
    const int32_t poly = tc_rdbypot(
        tc_wrap_add(tc_srdhm(tc_wrap_add(x4_over_4, x3), TC_ONE_THIRD), x2),
        1);
    return tc_wrap_add(TC_EXP_MINUS_ONE_EIGHTH,
                       tc_srdhm(TC_EXP_MINUS_ONE_EIGHTH, tc_wrap_add(x, poly)));
}

int32_t tc_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod = tc_wrap_sub(a & mask, one_quarter);
    const int32_t remainder = tc_wrap_sub(a_mod, a);
    int32_t result = tc_exp_quarter(tc_rescale(a_mod, integer_bits, 0));
    int32_t exponent;

    for (exponent = -2; exponent <= 4; ++exponent) {
        if (integer_bits > exponent) {
            const uint32_t bit = (uint32_t)1 << (frac_bits + exponent);
            if ((uint32_t)remainder & bit) {
                result = tc_srdhm(result, tc_exp_barrel[exponent + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -(int32_t)((uint32_t)1 << (36 - integer_bits));
        if (a < clamp) {
            result = 0;
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson for 2/(1+a) in Q2, a in [0, 1) as Q0. */
static int32_t tc_two_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator =
        (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = tc_wrap_add(TC_48_OVER_17,
                            tc_srdhm(half_denominator, TC_NEG_32_OVER_17));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hdx = tc_srdhm(half_denominator, x);
        const int32_t one_minus = tc_wrap_sub((int32_t)1 << 29, hdx);
        x = tc_wrap_add(x, tc_rescale(tc_srdhm(x, one_minus), 4, 2));
    }
    return x;
}

int32_t tc_fp_one_over_one_plus_x(int32_t a)
{
    /* gemmlowp halves by relabelling Q2 as Q1 (same raw bits). */
    return tc_rescale(tc_two_over_one_plus_x(a), 1, 0);
}

int32_t tc_fp_logistic(int32_t a, int32_t integer_bits)
{
    const int32_t abs_a = a > 0 ? a : tc_wrap_sub(0, a);
    const int32_t pos = tc_fp_one_over_one_plus_x(
        tc_fp_exp_on_negative_values(tc_wrap_sub(0, abs_a), integer_bits));
    if (a == 0) {
        return 1 << 30;
    }
    return a > 0 ? pos : tc_wrap_sub(INT32_MAX, pos);
}

int32_t tc_fp_tanh(int32_t a, int32_t integer_bits)
{
    /* exp(2n): doubling relabels the raw value with one more integer bit. */
    const int32_t n = a < 0 ? a : tc_wrap_sub(0, a);
    const int32_t e = tc_fp_exp_on_negative_values(n, integer_bits + 1);
    const int32_t t = tc_rescale(
        tc_wrap_sub(tc_two_over_one_plus_x(e), (int32_t)1 << 29), 2, 0);
    if (a == 0) {
        return 0;
    }
    return a < 0 ? tc_wrap_sub(0, t) : t;
}
