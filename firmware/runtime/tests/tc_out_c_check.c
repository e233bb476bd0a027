/*
 * tc_out_c_check.c - the short form of arch/portable/tc_out_c.h against
 * TFLM's MultiplyByQuantizedMultiplier (tc_mbqm), before the clamp, over
 * its whole domain: |acc| < 2^30, every right shift 1..31, multipliers
 * across [0, 2^31), random zero points, and accumulators placed on and next
 * to every rounding tie of both roundings. Prints one line and exits 0 when
 * every case agrees (tests/codegen/test_runtime_arch.py runs it).
 */
#include <stdio.h>

#include "../arch/portable/tc_out_c.h"
#include "tc_check_rng.h"

static long tc_failures = 0;
static long tc_cases = 0;

static void tc_check(int32_t acc, int32_t multiplier, int32_t shift,
                     int32_t zp)
{
    const tc_requant_t rq = {&multiplier, &shift, 0};
    tc_out_c_t o = tc_out_c_setup(&rq, NULL, zp, TC_INT8_MIN, TC_INT8_MAX);
    const int32_t expected = tc_mbqm(acc, multiplier, shift) + zp;
    int32_t got;

    tc_out_c_allow_fast(&o, 1, 1);
    got = tc_out_c_scale(&o, 0, acc);
    ++tc_cases;
    if (!o.fast || got != expected) {
        if (tc_failures < 5) {
            printf("mismatch acc=%ld multiplier=%ld shift=%ld zp=%ld: "
                   "short form %ld, tc_mbqm %ld (fast=%ld)\n",
                   (long)acc, (long)multiplier, (long)shift, (long)zp,
                   (long)got, (long)expected, (long)o.fast);
        }
        ++tc_failures;
    }
}

int main(void)
{
    const int32_t limit = (1 << 30) - 1;
    int32_t e, i, d;

    for (e = 1; e <= 31; ++e) {
        for (i = 0; i < 20000; ++i) {
            const int32_t m = (int32_t)(tc_rng() >> 1);
            const int32_t zp = (int32_t)(tc_rng() % 256) - 128;
            const int32_t acc =
                (int32_t)(tc_rng() % (2u * (uint32_t)limit + 1u)) - limit;
            tc_check(acc, m, -e, zp);
            tc_check(acc >> (tc_rng() % 30), m | (1 << 30), -e, zp);
        }
        /* multiplier 2^30: SRDHM(acc) = floor((acc + 1) / 2), so
         * acc = 2 (k 2^e +- 2^(e-1)) + d hits the ties of the last shift */
        for (i = 0; i < 2000; ++i) {
            const int64_t tie = tc_rng_tie(e);
            for (d = -2; d <= 2; ++d) {
                const int64_t acc = 2 * tie + d;
                if (acc > -limit && acc < limit) {
                    tc_check((int32_t)acc, 1 << 30, -e, 0);
                }
                if (-acc > -limit && -acc < limit) {
                    tc_check((int32_t)-acc, 1 << 30, -e, 0);
                }
            }
        }
        tc_check(limit, INT32_MAX, -e, 127);
        tc_check(-limit, INT32_MAX, -e, -128);
        tc_check(0, 0, -e, 5);
    }
    printf("TC_OUT_C_CHECK %s cases=%ld mismatches=%ld\n",
           tc_failures == 0 ? "PASS" : "FAIL", tc_cases, tc_failures);
    return tc_failures == 0 ? 0 : 1;
}
