/*
 * tc_check_rng.h - the reproducible case generator of the requantisation
 * checkers in this folder (host and on-target): xorshift32 and accumulators
 * on the rounding ties of a right shift.
 */
#ifndef TC_CHECK_RNG_H
#define TC_CHECK_RNG_H

#include <stdint.h>

static uint32_t tc_rng_state = 0x9E3779B9u;

static inline uint32_t tc_rng(void)
{
    tc_rng_state ^= tc_rng_state << 13;
    tc_rng_state ^= tc_rng_state >> 17;
    tc_rng_state ^= tc_rng_state << 5;
    return tc_rng_state;
}

/* A random tie of the divide by 2^e (1 <= e <= 31): k 2^e + 2^(e-1) with
 * |k| <= 2^(29 - e), so that 2 tie +- 2 stays near the int32 range. */
static inline int64_t tc_rng_tie(int32_t e)
{
    const int32_t span = e >= 29 ? 1 : (1 << (29 - e));
    const int32_t k = (int32_t)(tc_rng() % (2u * (uint32_t)span)) - span;
    return (int64_t)k * ((int64_t)1 << e) + ((int64_t)1 << (e - 1));
}

#endif /* TC_CHECK_RNG_H */
