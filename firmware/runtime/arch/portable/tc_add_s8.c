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

tc_status_t tc_add_s8(const tc_add_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const tc_status_t status = tc_add_check(p, input1, input2, output);

    if (status != TC_OK) {
        return status;
    }
    if (!tc_add_same_shape_fast(p, input1, input2, output)) {
        tc_add_broadcast(p, input1, input2, output);
    }
    return TC_OK;
}
