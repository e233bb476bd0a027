/*
 * tc_depthwise_conv_s8.c (portable) - DEPTHWISE_CONV_2D, channel-innermost,
 * in plain C99 for any core (see tc_depthwise_pixel.h).
 *
 * The reference walks taps per output channel, recomputing addresses for
 * every multiply; here each pixel's in-image taps are found once and feed
 * a chunk of channel accumulators from contiguous rows.
 */
#include "tc_depthwise_pixel.h"

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    tc_out_c_t o;
    int32_t b, oy, ox;

    if (status != TC_OK) {
        return status;
    }
    o = tc_dw_out_stage(p);
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            for (ox = 0; ox < p->output.w; ++ox) {
                tc_dw_pixel_out(p, &o, input, b, oy, ox, 0, output);
            }
        }
    }
    return TC_OK;
}
