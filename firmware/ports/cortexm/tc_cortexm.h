/* Internal to the Cortex-M ports: system registers and shared helpers. */
#ifndef TC_CORTEXM_H
#define TC_CORTEXM_H

#include <stdint.h>

#define TC_REG32(addr) (*(volatile uint32_t *)(addr))

#define TC_SCB_CPACR TC_REG32(0xE000ED88u)
#define TC_SCB_CFSR TC_REG32(0xE000ED28u)
#define TC_SCB_HFSR TC_REG32(0xE000ED2Cu)
#define TC_SCB_MMFAR TC_REG32(0xE000ED34u)
#define TC_SCB_BFAR TC_REG32(0xE000ED38u)
#define TC_SCB_SHCSR TC_REG32(0xE000ED24u)

#define TC_SYST_CSR TC_REG32(0xE000E010u)
#define TC_SYST_RVR TC_REG32(0xE000E014u)
#define TC_SYST_CVR TC_REG32(0xE000E018u)

#define TC_MPU_CTRL TC_REG32(0xE000ED94u)
#define TC_MPU_RNR TC_REG32(0xE000ED98u)
#define TC_MPU_RBAR TC_REG32(0xE000ED9Cu)
#define TC_MPU_RASR TC_REG32(0xE000EDA0u)

#define TC_DEMCR TC_REG32(0xE000EDFCu)
#define TC_DWT_CTRL TC_REG32(0xE0001000u)
#define TC_DWT_CYCCNT TC_REG32(0xE0001004u)
#define TC_DWT_LAR TC_REG32(0xE0001FB0u)

/* Ends a QEMU run with `code` as QEMU's exit status (SYS_EXIT_EXTENDED);
 * needs -semihosting-config enable=on. Without a debugger or emulator the
 * BKPT faults, so real-board ports must not call it. */
void tc_cortexm_semihost_exit(int code) __attribute__((noreturn));

/* Park the core for good (real boards have nowhere to return to). */
void tc_cortexm_halt(void) __attribute__((noreturn));

#endif /* TC_CORTEXM_H */
