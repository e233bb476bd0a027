/*
 * tc_requant_mve_check.c - arch/helium/tc_requant_mve.h against TFLM's
 * MultiplyByQuantizedMultiplier (tc_mbqm) on a Cortex-M55: random
 * accumulators, multipliers and zero points for every shift in [-31, 30],
 * accumulators on and next to every rounding tie of the last shift (where
 * VRSHL alone rounds negative ties the other way), and the saturating
 * corners. The lanes of a vector hold different cases, with different
 * shifts in some vectors.
 * Prints one line and exits 0 when every lane agrees
 * (tests/codegen/test_runtime_arch.py runs it under QEMU).
 */
#include "../arch/helium/tc_requant_mve.h"
#include "tc_check_put.h"
#include "tc_check_rng.h"

static uint32_t tc_failures = 0;
static uint32_t tc_cases = 0;

/* Four (acc, multiplier, shift) cases through every vector form that
 * applies, compared lane by lane with tc_mbqm. */
static void tc_check4(const int32_t acc[4], const int32_t mult[4],
                      const int32_t shift[4], int32_t zp)
{
    const int32x4_t a = vldrwq_s32(acc);
    const int32x4_t m = vldrwq_s32(mult);
    const int32x4_t s = vldrwq_s32(shift);
    int32_t general[4], right[4], out[4], out_right[4];
    int32_t all_right = 1;
    int32_t i;

    vstrwq_s32(general, tc_mbqm_mve(a, m, s));
    vstrwq_s32(out, tc_out_mve(a, m, s, zp, -100, 110));
    for (i = 0; i < 4; ++i) {
        all_right = all_right && shift[i] <= -1;
    }
    if (all_right) {
        vstrwq_s32(right, tc_mbqm_mve_right(a, m, s));
        vstrwq_s32(out_right, tc_out_mve_right(a, m, s, zp, -128, 127));
    }
    for (i = 0; i < 4; ++i) {
        const int32_t expected = tc_mbqm(acc[i], mult[i], shift[i]);
        tc_cases += 1;
        if (general[i] != expected || out[i] != tc_clamp(expected + zp, -100,
                                                         110) ||
            (all_right &&
             (right[i] != expected ||
              out_right[i] != tc_clamp(expected + zp, -128, 127)))) {
            tc_failures += 1;
        }
    }
}

/* One more case into the batch of four; checked when the batch is full. */
static void tc_add_case(int32_t acc, int32_t mult, int32_t shift)
{
    static int32_t a[4], m[4], s[4];
    static int32_t n = 0;
    a[n] = acc;
    m[n] = mult;
    s[n] = shift;
    if (++n == 4) {
        tc_check4(a, m, s, (int32_t)(tc_rng() % 256u) - 128);
        n = 0;
    }
}

int main(void)
{
    int32_t shift, i, d;

    tc_port_init();
    for (shift = -31; shift <= 30; ++shift) {
        const int32_t e = shift < 0 ? -shift : 0;
        for (i = 0; i < 400; ++i) {
            const int32_t m = (int32_t)(tc_rng() >> 1);
            /* left shifts wrap in TFLM too: any int32 accumulator */
            tc_add_case((int32_t)tc_rng(), m, shift);
            tc_add_case((int32_t)tc_rng() >> (tc_rng() % 31u),
                        m | (1 << 30), (int32_t)(tc_rng() % 62u) - 31);
        }
        /* multiplier 2^30 halves (rounding half up): acc = 2 t + d, with
         * t on a tie of the divide by 2^e, lands on and beside each tie */
        for (i = 0; e >= 1 && i < 100; ++i) {
            const int64_t tie = tc_rng_tie(e);
            for (d = -2; d <= 2; ++d) {
                const int64_t acc = 2 * tie + d;
                if (acc > INT32_MIN && acc < INT32_MAX) {
                    tc_add_case((int32_t)acc, 1 << 30, shift);
                    tc_add_case((int32_t)-acc, 1 << 30, shift);
                }
            }
        }
        tc_add_case(INT32_MIN, INT32_MIN, shift);
        tc_add_case(INT32_MIN, INT32_MAX, shift);
        tc_add_case(INT32_MAX, INT32_MIN, shift);
        tc_add_case(INT32_MAX, INT32_MAX, shift);
        tc_add_case(INT32_MIN + 1, INT32_MAX, shift);
        tc_add_case(0, 0, shift);
        tc_add_case(-1, 1 << 30, shift);
        tc_add_case(1, 1 << 30, shift);
    }
    tc_put(tc_failures == 0 ? "TC_REQUANT_MVE_CHECK PASS" :
                              "TC_REQUANT_MVE_CHECK FAIL");
    tc_put(" cases=");
    tc_put_u32(tc_cases);
    tc_put(" mismatches=");
    tc_put_u32(tc_failures);
    tc_put("\n");
    tc_port_exit(tc_failures == 0 ? 0 : 1);
    return 0;
}
