/*
 * Port for QEMU's netduinoplus2 (STM32F405, Cortex-M4F).
 *
 * QEMU models USART1 and TIM2 but not RCC, so no clock setup is done (it
 * would wait forever for PLL lock). Under -icount shift=0, TIM2 runs at
 * 1 GHz of virtual time, i.e. exactly one count per guest instruction: the
 * latency unit is "instructions", not cycles.
 */
#include "tc_cortexm.h"
#include "tc_port.h"

#define USART1_BASE 0x40011000u
#define USART_SR TC_REG32(USART1_BASE + 0x00u)
#define USART_DR TC_REG32(USART1_BASE + 0x04u)
#define USART_CR1 TC_REG32(USART1_BASE + 0x0Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

#define TIM2_BASE 0x40000000u
#define TIM2_CR1 TC_REG32(TIM2_BASE + 0x00u)
#define TIM2_EGR TC_REG32(TIM2_BASE + 0x14u)
#define TIM2_CNT TC_REG32(TIM2_BASE + 0x24u)
#define TIM2_PSC TC_REG32(TIM2_BASE + 0x28u)
#define TIM2_ARR TC_REG32(TIM2_BASE + 0x2Cu)

const char tc_port_timer_unit[] = "instructions";
const char tc_port_board_name[] = "qemu-netduinoplus2";

void tc_port_init(void)
{
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
    TIM2_PSC = 0;
    TIM2_ARR = 0xFFFFFFFFu;
    TIM2_EGR = 1u; /* load PSC/ARR */
    TIM2_CNT = 0;
    TIM2_CR1 = 1u; /* CEN */
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((USART_SR & USART_SR_TXE) == 0u) {
        }
        USART_DR = buf[i];
    }
}

int tc_port_read_byte(void)
{
    while ((USART_SR & USART_SR_RXNE) == 0u) {
    }
    return (int)(USART_DR & 0xFFu);
}

uint32_t tc_port_timer_read(void)
{
    return TIM2_CNT;
}

void tc_port_exit(int code)
{
    tc_cortexm_semihost_exit(code);
}
