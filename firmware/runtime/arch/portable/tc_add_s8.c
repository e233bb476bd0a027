/*
 * tc_add_s8.c (portable) - ADD; inputs of the output's shape take
 * tc_add_fast.h (32-bit steps instead of three 64-bit requantisations per
 * element), the rest the reference loop.
 */
#include <stdint.h>

/* a + round(v * m / 2^32), rounding half up. */
static inline int32_t tc_smmlar(int32_t v, int32_t m, int32_t a)
{
    return a + (int32_t)(((int64_t)v * m + 0x80000000LL) >> 32);
}

#include "tc_add_fast.h"
