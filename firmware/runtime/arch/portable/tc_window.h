/*
 * tc_window.h - which kernel taps of a convolution window fall inside the
 * image, computed once per output pixel instead of tested per tap.
 */
#ifndef TC_WINDOW_H
#define TC_WINDOW_H

#include <stdint.h>

/* [*first, *last): kernel indices k with 0 <= origin + dilation * k < size. */
static inline void tc_tap_range(int32_t origin, int32_t dilation,
                                int32_t kernel, int32_t size, int32_t *first,
                                int32_t *last)
{
    const int32_t lo = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    const int32_t hi =
        size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
    *first = lo;
    *last = hi < kernel ? hi : kernel;
}

#endif /* TC_WINDOW_H */
