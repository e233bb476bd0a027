/*
 * tc_lut_s8.c - elementwise int8 op by table look-up (LOGISTIC and TANH with
 * tables precomputed on the host). In place allowed.
 */
#include "tc_fixedpoint.h"

tc_status_t tc_lut_s8(const tc_lut_params_t *p, const int8_t *input,
                      int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->table == NULL ||
        p->size < 0) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        output[i] = p->table[(int32_t)input[i] + 128];
    }
    return TC_OK;
}
