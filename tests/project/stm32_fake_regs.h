/* Included first (-include) into tc_clock_stm32.c by test_stm32_clock.py:
 * every register access goes to the fake register memory of stm32_fake_regs.c. */
#ifndef STM32_FAKE_REGS_H
#define STM32_FAKE_REGS_H

#include <stdint.h>

volatile uint32_t *fake_reg(uint32_t addr);

#define TC_CLOCK_REG(addr) (*fake_reg(addr))

#endif /* STM32_FAKE_REGS_H */
