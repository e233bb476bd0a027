/*
 * Host harness for firmware/ports/stm32/tc_clock_stm32.c (test_stm32_clock.py).
 *
 * tc_clock_stm32.c is compiled with stm32_fake_regs.h included first, so
 * every register access lands in this file's memory, and before each access
 * the "hardware" below updates the ready flags from what was written, the
 * way the reference manuals describe them. A mode says what never becomes
 * ready:
 *
 *   ok         everything locks
 *   no_pll     the PLL never locks (everything before it does)
 *   no_switch  the clock switch never shows in SWS
 *   dead       no ready flag ever sets (QEMU: RCC and PWR are not modelled)
 *
 * Output: one "W <addr> <value>" line per register change, in order, then
 * "R <core_hz> <uart_hz>", "B <UART BRR for that clock>" and
 * "N <register accesses>".
 *
 * Usage: stm32_fake_regs MODE [ADDR=VALUE ...]   (reset values to preload)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stm32_fake_regs.h"
#include "tc_board.h"
#include "tc_clock_stm32.h"

#if TC_BOARD_CLOCK_FAMILY_H7
#define CFGR (TC_BOARD_RCC_BASE + 0x10u)
#define SWS_SHIFT 3u
#define SW_MASK 7u
#define PWR_CSR1 0x58024804u /* ACTVOSRDY bit 13 */
#define PWR_D3CR 0x58024818u
#elif TC_BOARD_CLOCK_FAMILY_L4
#define CFGR (TC_BOARD_RCC_BASE + 0x08u)
#define SWS_SHIFT 2u
#define SW_MASK 3u
#else
#define CFGR (TC_BOARD_RCC_BASE + 0x08u)
#define SWS_SHIFT 2u
#define SW_MASK 3u
#define PWR_CR 0x40007000u
#define PWR_CSR 0x40007004u
#endif
#define RCC_CR (TC_BOARD_RCC_BASE + 0x00u)

#define SLOTS 64u
static uint32_t addrs[SLOTS], values[SLOTS], logged[SLOTS];
static unsigned used;
static unsigned long accesses;
static const char *mode = "ok";

static uint32_t *slot(uint32_t addr)
{
    unsigned i;
    for (i = 0; i < used; i++) {
        if (addrs[i] == addr) {
            return &values[i];
        }
    }
    if (used == SLOTS) {
        fprintf(stderr, "more than %u registers\n", SLOTS);
        exit(2);
    }
    addrs[used] = addr;
    values[used] = logged[used] = 0u;
    return &values[used++];
}

static void log_changes(void)
{
    unsigned i;
    for (i = 0; i < used; i++) {
        if (values[i] != logged[i]) {
            printf("W %08X %08X\n", (unsigned)addrs[i], (unsigned)values[i]);
            logged[i] = values[i];
        }
    }
}

static void set_if(uint32_t *reg, uint32_t flag, int on)
{
    *reg = on ? (*reg | flag) : (*reg & ~flag);
}

/* The ready flags as the hardware would show them now. */
static void hardware(void)
{
    int dead = strcmp(mode, "dead") == 0;
    uint32_t *cr = slot(RCC_CR), *cfgr = slot(CFGR);
    set_if(cr, 1u << 17, !dead && (*cr & (1u << 16)));                                   /* HSERDY */
    set_if(cr, 1u << 25, !dead && strcmp(mode, "no_pll") != 0 && (*cr & (1u << 24)));    /* PLLRDY */
    /* SWS follows SW, or stays on the reset clock (0) when the switch never happens. */
    *cfgr &= ~(SW_MASK << SWS_SHIFT);
    if (!dead && strcmp(mode, "no_switch") != 0) {
        *cfgr |= (*cfgr & SW_MASK) << SWS_SHIFT;
    }
#if TC_BOARD_CLOCK_FAMILY_H7
    set_if(slot(PWR_CSR1), 1u << 13, !dead);
    set_if(slot(PWR_D3CR), 1u << 13, !dead);
#elif TC_BOARD_CLOCK_FAMILY_F4 || TC_BOARD_CLOCK_FAMILY_F7
    {
        uint32_t *pwr_cr = slot(PWR_CR), *csr = slot(PWR_CSR);
        set_if(csr, 1u << 14, !dead && (*cr & (1u << 25)));      /* VOSRDY once the PLL runs */
        set_if(csr, 1u << 16, !dead && (*pwr_cr & (1u << 16)));  /* ODRDY */
        set_if(csr, 1u << 17, !dead && (*pwr_cr & (1u << 17)));  /* ODSWRDY */
    }
#endif
}

/* Log what the code wrote since the last access, then let the hardware
 * update its flags (not logged: they are not writes). */
volatile uint32_t *fake_reg(uint32_t addr)
{
    uint32_t *reg = slot(addr);
    accesses++;
    log_changes();
    hardware();
    memcpy(logged, values, sizeof values);
    return reg;
}

int main(int argc, char **argv)
{
    struct tc_stm32_clocks clocks;
    int i;
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODE [ADDR=VALUE ...]\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    for (i = 2; i < argc; i++) {
        uint32_t addr = (uint32_t)strtoul(argv[i], NULL, 0);
        uint32_t *reg = slot(addr);
        *reg = (uint32_t)strtoul(strchr(argv[i], '=') + 1, NULL, 0);
        logged[reg - values] = *reg;
    }
    clocks = tc_stm32_clock_init();
    log_changes();
    printf("R %lu %lu\nB %lu\nN %lu\n", (unsigned long)clocks.core_hz, (unsigned long)clocks.uart_hz,
           (unsigned long)tc_stm32_uart_brr(clocks.uart_hz), accesses);
    return 0;
}
