/*
 * Port for QEMU's mps3-an547 (Cortex-M55 with Helium).
 *
 * UART0 is a CMSDK APB UART (TX hangs unless TX_EN is set and BAUDDIV >= 16).
 * DWT->CYCCNT is not modelled by QEMU, so latency comes from SysTick, which
 * QEMU clocks at 32 MHz of virtual time; under -icount shift=0
 * one instruction is one nanosecond, so ticks convert to instructions (with a
 * resolution of one tick). A wrap interrupt extends the 24-bit counter.
 *
 * Waiting for a received byte sleeps in WFI instead of polling UART_STATE
 * (each poll is an I/O access that takes QEMU's global lock under -icount):
 * the UART's RX interrupt is enabled only to wake WFI, through UART0's
 * combined line (IRQ 43 as QEMU wires it), whose priority BASEPRI masks
 * for good, so it is never taken and needs no handler; SysTick (priority 0)
 * and the faults still preempt. SysTick's wrap interrupt also wakes WFI,
 * and under -icount sleep=off an idle guest's clock jumps to the next wrap
 * at once, so a waiting QEMU still runs; WFI pays nonetheless on a loaded
 * machine (27 KB through the UART in 2.3-2.8 s instead of 4.1-4.3 s; on a
 * quiet one, within noise: docs/protocol.md, "Speed of the link").
 * tc_port_load_input() reads the host's input file in one semihosting
 * call, so a 27 KB input need not go through QEMU's one-byte-per-main-loop
 * UART at all.
 */
#include "tc_cortexm.h"
#include "tc_port.h"
#include "tc_semihost.h"

#define UART0_BASE 0x49303000u
#define UART_DATA TC_REG32(UART0_BASE + 0x00u)
#define UART_STATE TC_REG32(UART0_BASE + 0x04u)
#define UART_CTRL TC_REG32(UART0_BASE + 0x08u)
#define UART_INTCLEAR TC_REG32(UART0_BASE + 0x0Cu)
#define UART_BAUDDIV TC_REG32(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_CTRL_RX_INTEN (1u << 3)
#define UART_INT_RX (1u << 1)

#define UART0_IRQ 43u /* combined UART0 interrupt */
#define NVIC_ISER1 TC_REG32(0xE000E104u)
#define NVIC_ICPR1 TC_REG32(0xE000E284u)
#define NVIC_IPR_UART0 (*(volatile uint8_t *)(0xE000E400u + UART0_IRQ))
#define UART0_IRQ_BIT (1u << (UART0_IRQ - 32u))
#define UART0_PRIORITY 0xE0u /* at or above BASEPRI_MASK, so masked */
#define BASEPRI_MASK 0x80u

#define SYST_RELOAD 0x00FFFFFFu
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)

/* QEMU clocks the an547 SysTick at 32 MHz: 31.25 ns = 125/4 instructions
 * per tick. Multiply-and-shift keeps the read cheap (no 64-bit division). */
#define INSNS_PER_TICK_X4 125u

const char tc_port_timer_unit[] = "instructions";
const char tc_port_board_name[] = "qemu-mps3-an547";

static volatile uint32_t systick_wraps;

void SysTick_Handler(void)
{
    systick_wraps++;
}

void tc_port_init(void)
{
    __asm volatile("msr basepri, %0" ::"r"(BASEPRI_MASK) : "memory");
    NVIC_IPR_UART0 = UART0_PRIORITY;
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INTEN;
    NVIC_ISER1 = UART0_IRQ_BIT;
    TC_SYST_RVR = SYST_RELOAD;
    TC_SYST_CVR = 0;
    TC_SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    /* The counter reads 0 until its first reload; start counting after it. */
    while (TC_SYST_CVR == 0u) {
    }
    systick_wraps = 0;
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & UART_STATE_TX_FULL) {
        }
        UART_DATA = buf[i];
    }
}

/* A byte that comes between the RX_FULL test and WFI has pended the
 * interrupt, so WFI returns at once. The UART latches its RX interrupt
 * until INTCLEAR and the NVIC its pending bit (the interrupt is never
 * taken): both are cleared after each byte so that the next WFI sleeps. */
int tc_port_read_byte(void)
{
    int byte;
    while ((UART_STATE & UART_STATE_RX_FULL) == 0u) {
        __asm volatile("wfi" ::: "memory");
    }
    byte = (int)(UART_DATA & 0xFFu);
    UART_INTCLEAR = UART_INT_RX;
    NVIC_ICPR1 = UART0_IRQ_BIT;
    return byte;
}

int tc_port_load_input(const char *path, uint8_t *dst, size_t len)
{
    return tc_semihost_load(path, dst, len);
}

uint32_t tc_port_timer_read(void)
{
    uint32_t wraps, value;
    do {
        wraps = systick_wraps;
        value = TC_SYST_CVR;
    } while (wraps != systick_wraps);
    uint64_t ticks = ((uint64_t)wraps << 24) + (SYST_RELOAD - value);
    return (uint32_t)((ticks * INSNS_PER_TICK_X4) >> 2);
}

/* Emulated: counts are instructions, not cycles of any clock. */
uint32_t tc_port_core_clock_hz(void)
{
    return 0u;
}

void tc_port_exit(int code)
{
    tc_cortexm_semihost_exit(code);
}
