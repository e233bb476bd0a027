/*
 * Port for real STM32 boards (Cortex-M4F/M7) through PlatformIO's ststm32
 * platform, bare metal. The board's register map comes from tc_board.h,
 * generated from boards/<board>.toml, so one file serves every STM32.
 *
 * The core keeps its reset clock (HSI or MSI): no PLL setup, so nothing
 * can hang on a clock that fails to lock. Latency is DWT->CYCCNT in core
 * cycles; at the reset clock, flash wait states are minimal, so cycle counts
 * are close to the full-speed ones but not identical.
 */
#include "tc_board.h"
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

#define BAUD 115200u
#if TC_BOARD_UART_LPUART
#define UART_BRR_VALUE ((uint32_t)(((uint64_t)TC_BOARD_UART_CLOCK_HZ * 256u + BAUD / 2u) / BAUD))
#else
#define UART_BRR_VALUE ((TC_BOARD_UART_CLOCK_HZ + BAUD / 2u) / BAUD)
#endif

#define GPIO_MODER(base) TC_REG32((base) + 0x00u)
#define GPIO_AFR(base, pin) TC_REG32((base) + 0x20u + 4u * ((pin) / 8u))

const char tc_port_timer_unit[] = "cycles";
const char tc_port_board_name[] = TC_BOARD_NAME;

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
    UART_BRR = UART_BRR_VALUE;
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

void tc_port_exit(int code)
{
    (void)code;
    tc_cortexm_halt();
}
