/*
 * Cortex-M startup shared by every Arm port: vector table, reset handler
 * (copy .data, zero .bss, enable the FPU, guard the stack, run main, exit
 * with its status), and fault handlers that report over the UART and exit
 * non-zero.
 *
 * Stack overflow faults instead of silently overwriting data: the stack sits
 * at the bottom of RAM (tc_cortexm.ld); Armv8-M cores get MSPLIM = _sstack,
 * Armv7-M cores a 256-byte no-access MPU region at _sguard, just below it.
 */
#include <stdint.h>

#include "tc_cortexm.h"
#include "tc_port.h"
#include "tc_port_fault.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sguard, _sstack, _estack;

int main(void);
void tc_reset_handler(void);
void tc_fault_handler(void);
void tc_default_handler(void);
void tc_fault_entry(const uint32_t *frame);
void SysTick_Handler(void) __attribute__((weak, alias("tc_default_handler")));

/* 16 system vectors plus IRQ slots; unknown IRQs land in tc_default_handler. */
#define TC_NUM_IRQS 32

__attribute__((section(".isr_vector"), used)) void (*const tc_vectors[16 + TC_NUM_IRQS])(void) = {
    (void (*)(void))(&_estack),
    tc_reset_handler,
    tc_default_handler, /* NMI */
    tc_fault_handler,   /* HardFault */
    tc_fault_handler,   /* MemManage */
    tc_fault_handler,   /* BusFault */
    tc_fault_handler,   /* UsageFault */
    tc_fault_handler,   /* SecureFault (Armv8-M) */
    0, 0, 0,
    tc_default_handler, /* SVCall */
    tc_default_handler, /* DebugMonitor */
    0,
    tc_default_handler, /* PendSV */
    SysTick_Handler,
    [16 ... 16 + TC_NUM_IRQS - 1] = tc_default_handler,
};

#define CFSR_MSTKERR (1u << 4)
#define CFSR_STKOF (1u << 20)
#define MPU_GUARD_REGION 7u

static void guard_stack(void)
{
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    __asm volatile("msr msplim, %0" : : "r"(&_sstack));
#elif defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
    TC_MPU_RNR = MPU_GUARD_REGION;
    TC_MPU_RBAR = (uint32_t)&_sguard; /* 256-byte aligned: tc_cortexm.ld asserts it */
    /* XN, AP = no access, SIZE = log2(256) - 1, ENABLE */
    TC_MPU_RASR = (1u << 28) | (7u << 1) | 1u;
    TC_MPU_CTRL = (1u << 2) | 1u; /* PRIVDEFENA | ENABLE */
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
}

void tc_reset_handler(void)
{
    const uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    TC_SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access */
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    /* Separate MemManage/BusFault/UsageFault so the report names the kind. */
    TC_SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
    guard_stack();
    tc_port_exit(main());
    for (;;) {
    }
}

/* Picks the stack the faulting code used and hands its frame to C, on a
 * fresh stack: after an overflow the old one is unusable. */
__attribute__((naked)) void tc_fault_handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "ldr r1, =_estack\n\t"
        "mov sp, r1\n\t"
        "b tc_fault_entry\n\t");
}

void tc_fault_entry(const uint32_t *frame)
{
    static const char *const names[] = {"HardFault", "MemManage", "BusFault", "UsageFault",
                                        "SecureFault"};
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t exc = ipsr & 0x1FFu;
    const char *kind = (exc >= 3 && exc <= 7) ? names[exc - 3] : "Fault";
    uint32_t cfsr = TC_SCB_CFSR;
    uint32_t addr = (cfsr & (1u << 7)) ? TC_SCB_MMFAR : TC_SCB_BFAR;
    uintptr_t sp = (uintptr_t)frame;
    if ((cfsr & (CFSR_STKOF | CFSR_MSTKERR)) || sp < (uintptr_t)&_sstack || sp >= (uintptr_t)&_estack) {
        tc_port_fault("StackOverflow", 0, cfsr, sp); /* the frame itself is lost */
    }
    tc_port_fault(kind, frame[6], cfsr, addr);
}

void tc_default_handler(void)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    tc_port_fault("UnexpectedIRQ", 0, ipsr & 0x1FFu, 0);
}
