/*
 * Clock tree setup of the real STM32 boards: the register sequence of each
 * family's reference manual, with values computed by
 * tinycompress/project/stm32clock.py from boards/<board>.toml.
 *
 *   l4  STM32L4+ (RM0432): range 1 boost, PLL from MSI/HSI/HSE, PLLR -> SYSCLK
 *   f4  STM32F446 (RM0390): scale 1 + over-drive, PLLP -> SYSCLK
 *   f7  STM32F746 (RM0385): scale 1 + over-drive, PLLP -> SYSCLK
 *   h7  STM32H743 (RM0433): LDO supply, VOS1, PLL1P -> SYSCLK
 *
 * Order on every family: voltage first, then oscillator, PLL lock, flash
 * wait states (raised before the switch, lowered after it), bus
 * prescalers, switch. Whatever does not complete within
 * TC_STM32_CLOCK_WAIT_LOOPS register reads sends the core back to its
 * reset clock, with prescalers at 1, and the reset frequencies are
 * returned. Flash wait states that were raised stay raised (safe at any
 * lower clock).
 */
#include "tc_board.h"
#include "tc_clock_stm32.h"

/* The host unit test (tests/project/test_stm32_clock.py) compiles this file
 * with TC_CLOCK_REG pointing into fake register memory. */
#ifndef TC_CLOCK_REG
#define TC_CLOCK_REG(addr) (*(volatile uint32_t *)(addr))
#endif

#define REG(addr) TC_CLOCK_REG(addr)
#define RCC(off) (TC_BOARD_RCC_BASE + (off))

#if TC_BOARD_CLOCK_FAMILY_L4
#define PWR_BASE 0x40007000u   /* RM0432 memory map */
#define FLASH_BASE 0x40022000u
#elif TC_BOARD_CLOCK_FAMILY_F4 || TC_BOARD_CLOCK_FAMILY_F7
#define PWR_BASE 0x40007000u   /* RM0390, RM0385 memory maps */
#define FLASH_BASE 0x40023C00u
#elif TC_BOARD_CLOCK_FAMILY_H7
#define PWR_BASE 0x58024800u   /* RM0433 memory map */
#define FLASH_BASE 0x52002000u
#else
#error "tc_board.h names no clock family: add [stm32.clock] to the board file"
#endif

#define PWR(off) (PWR_BASE + (off))
#define FLASH_ACR (FLASH_BASE + 0x00u)
#define FLASH_LATENCY_MASK 0xFu

/* RCC_CR bits shared by every family here (HSION..PLLRDY differ only below bit 16). */
#define RCC_CR RCC(0x00u)
#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_HSEBYP (1u << 18)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)

#if TC_BOARD_CLOCK_FAMILY_H7
#define RCC_CFGR RCC(0x10u)    /* RM0433: SW[2:0], SWS[5:3] */
#define CFGR_SW_MASK 0x7u
#define CFGR_SWS_SHIFT 3u
#else
#define RCC_CFGR RCC(0x08u)    /* RM0432, RM0390, RM0385: SW[1:0], SWS[3:2] */
#define CFGR_SW_MASK 0x3u
#define CFGR_SWS_SHIFT 2u
#endif

static const struct tc_stm32_clocks reset_clocks = {TC_BOARD_CLOCK_RESET_HZ, TC_BOARD_CLOCK_RESET_HZ};

/* 1 once (register & mask) == want, 0 if that did not happen within the bound. */
static int wait_for(uint32_t addr, uint32_t mask, uint32_t want)
{
    uint32_t n;
    for (n = 0; n < TC_STM32_CLOCK_WAIT_LOOPS; n++) {
        if ((REG(addr) & mask) == want) {
            return 1;
        }
    }
    return 0;
}

/* New wait states apply once FLASH_ACR reads them back (RM0390, flash read latency). */
static int set_flash_acr(uint32_t value)
{
    REG(FLASH_ACR) = value;
    return wait_for(FLASH_ACR, FLASH_LATENCY_MASK, value & FLASH_LATENCY_MASK);
}

static int start_hse(void)
{
#if TC_BOARD_CLOCK_HSE
#if TC_BOARD_CLOCK_HSE_BYPASS
    REG(RCC_CR) |= CR_HSEBYP; /* an external clock (the ST-Link MCO), set before HSEON */
#endif
    REG(RCC_CR) |= CR_HSEON;
    return wait_for(RCC_CR, CR_HSERDY, CR_HSERDY);
#else
    return 1;
#endif
}

static int start_pll(void)
{
    REG(RCC_CR) |= CR_PLLON;
    return wait_for(RCC_CR, CR_PLLRDY, CR_PLLRDY);
}

/* SYSCLK to the PLL with the given CFGR prescaler bits; 1 once SWS shows it. */
static int switch_to_pll(uint32_t prescalers)
{
    REG(RCC_CFGR) = prescalers | TC_BOARD_CLOCK_CFGR_SW_PLL;
    return wait_for(RCC_CFGR, CFGR_SW_MASK << CFGR_SWS_SHIFT, TC_BOARD_CLOCK_CFGR_SW_PLL << CFGR_SWS_SHIFT);
}

/* Back to the reset oscillator (SW = 0 on every family here) with every prescaler at 1. */
static struct tc_stm32_clocks fall_back(void)
{
    REG(RCC_CFGR) = 0u;
    (void)wait_for(RCC_CFGR, CFGR_SW_MASK << CFGR_SWS_SHIFT, 0u);
#if TC_BOARD_CLOCK_FAMILY_H7
    REG(RCC(0x18u)) = 0u; /* D1CFGR */
    REG(RCC(0x1Cu)) = 0u; /* D2CFGR */
    REG(RCC(0x20u)) = 0u; /* D3CFGR */
#endif
    REG(RCC_CR) &= ~(CR_PLLON | CR_HSEON);
    return reset_clocks;
}

#if TC_BOARD_CLOCK_FAMILY_L4

/* RM0432 register offsets and bits */
#define RCC_PLLCFGR RCC(0x0Cu)
#define RCC_APB1ENR1 RCC(0x58u)     /* PWREN bit 28 */
#define PWR_SR2 PWR(0x14u)          /* VOSF bit 10 */
#define PWR_CR5 PWR(0x80u)          /* R1MODE bit 8, 0 = range 1 boost */
#define CFGR_HPRE_DIV2 (0x8u << 4)

static int clock_up(void)
{
    REG(RCC_APB1ENR1) |= 1u << 28;
    (void)REG(RCC_APB1ENR1);
#if TC_BOARD_CLOCK_BOOST
    /* RM0432, dynamic voltage scaling: range 1 boost before SYSCLK goes above 80 MHz. */
    REG(PWR_CR5) &= ~(1u << 8);
    if (!wait_for(PWR_SR2, 1u << 10, 0u)) {
        return 0;
    }
#endif
    if (!start_hse()) {
        return 0;
    }
    REG(RCC_PLLCFGR) = TC_BOARD_CLOCK_PLLCFGR;
    if (!start_pll() || !set_flash_acr(TC_BOARD_CLOCK_FLASH_ACR)) {
        return 0;
    }
#if TC_BOARD_CLOCK_BOOST && (TC_BOARD_CLOCK_CFGR_PRESCALERS & (0xFu << 4)) == 0u
    /* RM0432: going above 80 MHz in boost mode, switch with AHB / 2 and
     * set AHB / 1 at least 1 us later (256 loops: over 4 us at 60 MHz). */
    {
        volatile uint32_t settle;
        if (!switch_to_pll(TC_BOARD_CLOCK_CFGR_PRESCALERS | CFGR_HPRE_DIV2)) {
            return 0;
        }
        for (settle = 0; settle < 256u; settle++) {
        }
    }
#endif
    return switch_to_pll(TC_BOARD_CLOCK_CFGR_PRESCALERS);
}

#elif TC_BOARD_CLOCK_FAMILY_F4 || TC_BOARD_CLOCK_FAMILY_F7

/* RM0390 / RM0385 register offsets and bits (PWR_CR is PWR_CR1 on the F7) */
#define RCC_PLLCFGR RCC(0x04u)
#define RCC_APB1ENR RCC(0x40u)      /* PWREN bit 28 */
#define PWR_CR PWR(0x00u)           /* VOS[15:14], ODEN 16, ODSWEN 17 */
#define PWR_CSR PWR(0x04u)          /* VOSRDY 14, ODRDY 16, ODSWRDY 17 */

static int clock_up(void)
{
    REG(RCC_APB1ENR) |= 1u << 28;
    (void)REG(RCC_APB1ENR);
    REG(PWR_CR) = (REG(PWR_CR) & ~(3u << 14)) | (TC_BOARD_CLOCK_VOS << 14);
    if (!start_hse()) {
        return 0;
    }
    REG(RCC_PLLCFGR) = TC_BOARD_CLOCK_PLLCFGR;
    /* The new scale takes effect once the PLL runs (RM0390). */
    if (!start_pll() || !wait_for(PWR_CSR, 1u << 14, 1u << 14)) {
        return 0;
    }
#if TC_BOARD_CLOCK_OVERDRIVE
    /* Over-drive on, then switched in, before the clock switch (RM0390, RM0385). */
    REG(PWR_CR) |= 1u << 16;
    if (!wait_for(PWR_CSR, 1u << 16, 1u << 16)) {
        return 0;
    }
    REG(PWR_CR) |= 1u << 17;
    if (!wait_for(PWR_CSR, 1u << 17, 1u << 17)) {
        return 0;
    }
#endif
    return set_flash_acr(TC_BOARD_CLOCK_FLASH_ACR) && switch_to_pll(TC_BOARD_CLOCK_CFGR_PRESCALERS);
}

#elif TC_BOARD_CLOCK_FAMILY_H7

/* RM0433 register offsets and bits */
#define RCC_D1CFGR RCC(0x18u)
#define RCC_D2CFGR RCC(0x1Cu)
#define RCC_D3CFGR RCC(0x20u)
#define RCC_PLLCKSELR RCC(0x28u)
#define RCC_PLLCFGR RCC(0x2Cu)
#define RCC_PLL1DIVR RCC(0x30u)
#define PWR_CSR1 PWR(0x04u)         /* ACTVOSRDY bit 13 */
#define PWR_CR3 PWR(0x0Cu)          /* BYPASS 0, LDOEN 1, SCUEN 2 */
#define PWR_D3CR PWR(0x18u)         /* VOSRDY 13, VOS[15:14] */

static int clock_up(void)
{
    uint32_t latency_before = REG(FLASH_ACR) & FLASH_LATENCY_MASK;
    /* The supply configuration (LDO on the NUCLEO-H743ZI) is written once after reset. */
    REG(PWR_CR3) = (REG(PWR_CR3) & ~7u) | (1u << 1);
    if (!wait_for(PWR_CSR1, 1u << 13, 1u << 13)) {
        return 0;
    }
    REG(PWR_D3CR) = (REG(PWR_D3CR) & ~(3u << 14)) | (TC_BOARD_CLOCK_VOS << 14);
    if (!wait_for(PWR_D3CR, 1u << 13, 1u << 13) || !start_hse()) {
        return 0;
    }
    REG(RCC_PLLCKSELR) = TC_BOARD_CLOCK_PLLCKSELR;
    REG(RCC_PLLCFGR) = TC_BOARD_CLOCK_PLLCFGR;
    REG(RCC_PLL1DIVR) = TC_BOARD_CLOCK_PLL1DIVR;
    if (!start_pll()) {
        return 0;
    }
    if ((TC_BOARD_CLOCK_FLASH_ACR & FLASH_LATENCY_MASK) > latency_before
        && !set_flash_acr(TC_BOARD_CLOCK_FLASH_ACR)) {
        return 0;
    }
    REG(RCC_D1CFGR) = TC_BOARD_CLOCK_D1CFGR;
    REG(RCC_D2CFGR) = TC_BOARD_CLOCK_D2CFGR;
    REG(RCC_D3CFGR) = TC_BOARD_CLOCK_D3CFGR;
    if (!switch_to_pll(0u)) {
        return 0;
    }
    /* Fewer wait states than at reset (7) only once the new clock runs. */
    return set_flash_acr(TC_BOARD_CLOCK_FLASH_ACR);
}

#endif

uint32_t tc_stm32_uart_brr(uint32_t uart_hz)
{
#if TC_BOARD_UART_LPUART
    /* split so that 256 x f cannot overflow 32 bits */
    return (uart_hz / TC_STM32_BAUD) * 256u + ((uart_hz % TC_STM32_BAUD) * 256u + TC_STM32_BAUD / 2u) / TC_STM32_BAUD;
#else
    return (uart_hz + TC_STM32_BAUD / 2u) / TC_STM32_BAUD;
#endif
}

struct tc_stm32_clocks tc_stm32_clock_init(void)
{
    struct tc_stm32_clocks rated = {TC_BOARD_CLOCK_CORE_HZ, TC_BOARD_CLOCK_UART_HZ};
    return clock_up() ? rated : fall_back();
}
