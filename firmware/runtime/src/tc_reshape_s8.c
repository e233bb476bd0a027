/*
 * tc_reshape_s8.c - RESHAPE / SQUEEZE / EXPAND_DIMS when the planner could
 * not make them views: a byte copy (memmove, so overlap is fine).
 */
#include <string.h>

#include "tc_fixedpoint.h"

tc_status_t tc_reshape_s8(const int8_t *input, int8_t *output, int32_t size)
{
    if (input == NULL || output == NULL || size < 0) {
        return TC_ERR_ARG;
    }
    if (input != output) {
        memmove(output, input, (size_t)size);
    }
    return TC_OK;
}
