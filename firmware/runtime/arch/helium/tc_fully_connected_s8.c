/*
 * tc_fully_connected_s8.c (Helium) - FULLY_CONNECTED with 16-lane MVE dot
 * products; same integer sums and write order as the reference kernel.
 */
#include "../../src/tc_fully_connected_common.h"
#include "tc_dot_mve.h"

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    return tc_fully_connected_run(p, input, output, tc_dot_s8_mve);
}
