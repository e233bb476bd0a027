/*
 * The STM32F4 clock setup of the real boards (tc_clock_stm32.c, built with
 * nucleo_f446re's tc_board.h) run in front of the netduinoplus2 port under
 * QEMU, whose RCC is not modelled: PLLRDY never sets, so the setup must give
 * up within its bound, fall back to the reset clock and report that clock
 * in INFO (test_stm32_clock_emulated.py). Linked with
 * -Wl,--wrap=tc_port_init,--wrap=tc_port_core_clock_hz.
 */
#include "tc_clock_stm32.h"
#include "tc_port.h"

void __real_tc_port_init(void);
void __wrap_tc_port_init(void);
uint32_t __wrap_tc_port_core_clock_hz(void);

static uint32_t core_clock_hz;

void __wrap_tc_port_init(void)
{
    core_clock_hz = tc_stm32_clock_init().core_hz;
    __real_tc_port_init();
}

uint32_t __wrap_tc_port_core_clock_hz(void)
{
    return core_clock_hz;
}
