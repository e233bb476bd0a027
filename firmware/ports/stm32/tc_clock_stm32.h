/*
 * Clock tree setup of the real STM32 boards (internal to the stm32 port).
 *
 * Every parameter comes from the board's [stm32.clock] table through
 * tc_board.h (TC_BOARD_CLOCK_*), checked against the reference manual by
 * tinycompress/project/stm32clock.py. Every wait for a ready flag is
 * bounded: if a step does not complete, the core goes back to its reset
 * clock and the caller gets the frequencies actually running.
 */
#ifndef TC_CLOCK_STM32_H
#define TC_CLOCK_STM32_H

#include <stdint.h>

/* Register reads per ready-flag wait before giving up: at the slowest reset
 * clock (4 MHz MSI) well over 100 ms, far beyond the PLL lock time (about
 * 0.1 ms) and an HSE start-up (a few ms). */
#define TC_STM32_CLOCK_WAIT_LOOPS 200000u

/* The console UART's baud rate (the ST-Link virtual COM port): the board
 * file's baud, through tc_board.h. */
#define TC_STM32_BAUD TC_BOARD_UART_BAUD

struct tc_stm32_clocks {
    uint32_t core_hz; /* the CPU clock DWT->CYCCNT counts */
    uint32_t uart_hz; /* the kernel clock of the console UART */
};

/* Raise the core to the board's rated clock; on any failure, stay on the
 * reset clock. Returns what runs. Call once, before the UART is set up. */
struct tc_stm32_clocks tc_stm32_clock_init(void);

/* The console UART's BRR for TC_STM32_BAUD at kernel clock uart_hz, rounded:
 * LPUART 256 x f / baud, USART f / baud (16x oversampling). */
uint32_t tc_stm32_uart_brr(uint32_t uart_hz);

#endif /* TC_CLOCK_STM32_H */
