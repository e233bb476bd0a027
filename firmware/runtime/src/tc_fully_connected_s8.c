/*
 * tc_fully_connected_s8.c - FULLY_CONNECTED, int8 (TFLM reference
 * FullyConnected / FullyConnectedPerChannel arithmetic).
 */
#include "tc_fully_connected_common.h"

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    return tc_fully_connected_run(p, input, output, tc_dot_s8);
}
