/*
 * Port for QEMU's mps3-an547 (Cortex-M55 with Helium).
 *
 * UART0 is a CMSDK APB UART (TX hangs unless TX_EN is set and BAUDDIV >= 16).
 * DWT->CYCCNT is not modelled by QEMU, so latency comes from SysTick, which
 * QEMU clocks at 32 MHz of virtual time; under -icount shift=0
 * one instruction is one nanosecond, so ticks convert to instructions (with a
 * resolution of one tick). A wrap interrupt extends the 24-bit counter.
 */
#include "tc_cortexm.h"
#include "tc_port.h"

#define UART0_BASE 0x49303000u
#define UART_DATA TC_REG32(UART0_BASE + 0x00u)
#define UART_STATE TC_REG32(UART0_BASE + 0x04u)
#define UART_CTRL TC_REG32(UART0_BASE + 0x08u)
#define UART_BAUDDIV TC_REG32(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)

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
    UART_BAUDDIV = 16u;
    UART_CTRL = 0x3u; /* TX_EN | RX_EN */
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

int tc_port_read_byte(void)
{
    while ((UART_STATE & UART_STATE_RX_FULL) == 0u) {
    }
    return (int)(UART_DATA & 0xFFu);
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

void tc_port_exit(int code)
{
    tc_cortexm_semihost_exit(code);
}
