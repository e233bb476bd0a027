/*
 * tc_add_s8.c (Cortex-M DSP) - ADD; inputs of the output's shape take
 * arch/portable/tc_add_fast.h with SMMLAR as one instruction.
 */
#include <stdint.h>

/* a + round(v * m / 2^32), rounding half up. */
static inline int32_t tc_smmlar(int32_t v, int32_t m, int32_t a)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(v), "r"(m), "r"(a));
    return r;
}

#include "../portable/tc_add_fast.h"
