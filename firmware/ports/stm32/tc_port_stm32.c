/*
 * Port for real STM32 boards (Cortex-M4F/M7) through PlatformIO's ststm32
 * platform, bare metal. The board's register map comes from tc_board.h,
 * generated from boards/<board>.toml, so one file serves every STM32.
 *
 * The core runs at the board's rated clock (tc_clock_stm32.c), or at its
 * reset clock if the PLL did not lock; tc_port_core_clock_hz() says which,
 * and the UART divisor follows the clock that runs. Latency is
 * DWT->CYCCNT in core cycles. Cortex-M7 boards get their I- and D-caches on.
 */
#include "tc_board.h"
#include "tc_clock_stm32.h"
#include "tc_cortexm.h"
#include "tc_port.h"

#define UART(off) TC_REG32(TC_BOARD_UART_BASE + (off))
#if TC_BOARD_UART_REGS_V2
#define UART_CR1 UART(0x00u)
#define UART_BRR UART(0x0Cu)
#define UART_ISR UART(0x1Cu)
#define UART_RDR UART(0x24u)
#define UART_TDR UART(0x28u)
#define UART_CR1_ENABLE ((1u << 0) | (1u << 2) | (1u << 3)) /* UE | RE | TE */
#else
#define UART_ISR UART(0x00u)
#define UART_RDR UART(0x04u)
#define UART_TDR UART(0x04u)
#define UART_BRR UART(0x08u)
#define UART_CR1 UART(0x0Cu)
#define UART_CR1_ENABLE ((1u << 13) | (1u << 2) | (1u << 3)) /* UE | RE | TE */
#endif
#define UART_RXNE (1u << 5)
#define UART_TXE (1u << 7)

#define GPIO_MODER(base) TC_REG32((base) + 0x00u)
#define GPIO_AFR(base, pin) TC_REG32((base) + 0x20u + 4u * ((pin) / 8u))

const char tc_port_timer_unit[] = "cycles";
const char tc_port_board_name[] = TC_BOARD_NAME;

static uint32_t core_clock_hz;

#if TC_BOARD_CLOCK_FAMILY_F7 || TC_BOARD_CLOCK_FAMILY_H7
#define SCB_CCR TC_REG32(0xE000ED14u)
#define SCB_CCSIDR TC_REG32(0xE000ED80u)
#define SCB_CSSELR TC_REG32(0xE000ED84u)
#define SCB_ICIALLU TC_REG32(0xE000EF50u)
#define SCB_DCISW TC_REG32(0xE000EF60u)

static void barrier(void)
{
    __asm volatile("dsb\n\tisb" ::: "memory");
}

/* Cortex-M7 (ARMv7-M ARM, cache maintenance operations): invalidate, then
 * enable the instruction cache, then the data cache set by set, way by way. */
static void m7_caches_on(void)
{
    uint32_t ccsidr, sets, ways, set_shift, way_shift, set, way;
    barrier();
    SCB_ICIALLU = 0u;
    barrier();
    SCB_CCR |= 1u << 17; /* IC */
    barrier();
    SCB_CSSELR = 0u; /* level 1 data cache */
    barrier();
    ccsidr = SCB_CCSIDR;
    sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    set_shift = (ccsidr & 7u) + 4u; /* log2 of the line size in bytes */
    way_shift = (uint32_t)__builtin_clz(ways - 1u);
    for (set = 0; set < sets; set++) {
        for (way = 0; way < ways; way++) {
            SCB_DCISW = (way << way_shift) | (set << set_shift);
        }
    }
    barrier();
    SCB_CCR |= 1u << 16; /* DC */
    barrier();
}
#endif

static void rcc_enable(uint32_t offset, uint32_t bit)
{
    TC_REG32(TC_BOARD_RCC_BASE + offset) |= 1u << bit;
    (void)TC_REG32(TC_BOARD_RCC_BASE + offset); /* let the clock settle */
}

static void gpio_alternate(uint32_t base, uint32_t pin, uint32_t af)
{
    GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (2u << (2u * pin));
    uint32_t shift = 4u * (pin % 8u);
    GPIO_AFR(base, pin) = (GPIO_AFR(base, pin) & ~(0xFu << shift)) | (af << shift);
}

void tc_port_init(void)
{
    struct tc_stm32_clocks clocks = tc_stm32_clock_init();
    core_clock_hz = clocks.core_hz;
#if TC_BOARD_CLOCK_FAMILY_F7 || TC_BOARD_CLOCK_FAMILY_H7
    m7_caches_on();
#endif
#ifdef TC_BOARD_PWR_ENABLE_OFFSET
    rcc_enable(TC_BOARD_PWR_ENABLE_OFFSET, TC_BOARD_PWR_ENABLE_BIT);
    TC_REG32(TC_BOARD_PWR_IOSV_ADDR) |= 1u << TC_BOARD_PWR_IOSV_BIT;
#endif
    rcc_enable(TC_BOARD_GPIO_ENABLE_OFFSET, TC_BOARD_GPIO_ENABLE_BIT);
#ifdef TC_BOARD_GPIO_ENABLE2_OFFSET
    rcc_enable(TC_BOARD_GPIO_ENABLE2_OFFSET, TC_BOARD_GPIO_ENABLE2_BIT);
#endif
    rcc_enable(TC_BOARD_UART_ENABLE_OFFSET, TC_BOARD_UART_ENABLE_BIT);
    gpio_alternate(TC_BOARD_TX_GPIO, TC_BOARD_TX_PIN, TC_BOARD_TX_AF);
    gpio_alternate(TC_BOARD_RX_GPIO, TC_BOARD_RX_PIN, TC_BOARD_RX_AF);
    UART_BRR = tc_stm32_uart_brr(clocks.uart_hz);
    UART_CR1 = UART_CR1_ENABLE;

    TC_DEMCR |= 1u << 24; /* TRCENA */
#if TC_BOARD_DWT_UNLOCK
    TC_DWT_LAR = 0xC5ACCE55u;
#endif
    TC_DWT_CYCCNT = 0;
    TC_DWT_CTRL |= 1u; /* CYCCNTENA */
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((UART_ISR & UART_TXE) == 0u) {
        }
        UART_TDR = buf[i];
    }
}

int tc_port_read_byte(void)
{
    while ((UART_ISR & UART_RXNE) == 0u) {
    }
    return (int)(UART_RDR & 0xFFu);
}

uint32_t tc_port_timer_read(void)
{
    return TC_DWT_CYCCNT;
}

uint32_t tc_port_core_clock_hz(void)
{
    return core_clock_hz;
}

void tc_port_exit(int code)
{
    (void)code;
    tc_cortexm_halt();
}
