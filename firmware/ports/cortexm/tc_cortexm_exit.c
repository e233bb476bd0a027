/* Program exit for Cortex-M: semihosting under QEMU, a parked core on silicon. */
#include "tc_cortexm.h"

#define TC_SYS_EXIT_EXTENDED 0x20u
#define TC_ADP_STOPPED_APPLICATION_EXIT 0x20026u

void tc_cortexm_semihost_exit(int code)
{
    volatile uint32_t block[2] = {TC_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = TC_SYS_EXIT_EXTENDED;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    tc_cortexm_halt();
}

void tc_cortexm_halt(void)
{
    for (;;) {
        __asm volatile("wfi");
    }
}
