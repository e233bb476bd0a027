/*
 * Port for QEMU's netduinoplus2 (STM32F405, Cortex-M4F).
 *
 * QEMU models USART1 and TIM2 but not RCC, so no clock setup is done (it
 * would wait forever for PLL lock). Under -icount shift=0, TIM2 runs at
 * 1 GHz of virtual time, i.e. exactly one count per guest instruction: the
 * latency unit is "instructions", not cycles.
 *
 * Waiting for a received byte sleeps in WFI instead of polling USART_SR:
 * under -icount every poll is an I/O access that takes QEMU's global lock
 * and ends the translation block, so a polling guest held off the thread
 * that feeds it the next byte (about 130 us per byte, issue 12). The
 * USART1 interrupt (RXNEIE) is enabled only to wake WFI: BASEPRI masks its
 * priority for good, so it is never taken and needs no handler, while the
 * fault handlers (priority 0) still preempt; QEMU's NVIC wakes WFI for a
 * pending interrupt whatever BASEPRI says.
 *
 * Even so QEMU's USART takes one byte per pass of its main loop (about
 * 25 us of host CPU), so a 27 KB input would cost more than the inference:
 * tc_port_load_input() reads the host's input file in one semihosting call
 * (QEMU runs with -semihosting-config enable=on,target=native).
 */
#include "tc_cortexm.h"
#include "tc_port.h"
#include "tc_semihost.h"

#define USART1_BASE 0x40011000u
#define USART_SR TC_REG32(USART1_BASE + 0x00u)
#define USART_DR TC_REG32(USART1_BASE + 0x04u)
#define USART_CR1 TC_REG32(USART1_BASE + 0x0Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_RXNEIE (1u << 5)

#define NVIC_ISER1 TC_REG32(0xE000E104u)
#define NVIC_ICPR1 TC_REG32(0xE000E284u)
#define NVIC_IPR_USART1 (*(volatile uint8_t *)(0xE000E400u + 37u))
#define USART1_PRIORITY 0xF0u /* lowest: at or above BASEPRI_MASK, so masked */
#define BASEPRI_MASK 0x80u
#define USART1_IRQ_BIT (1u << (37u - 32u)) /* USART1 is IRQ 37 on the STM32F405 */

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
    __asm volatile("msr basepri, %0" ::"r"(BASEPRI_MASK) : "memory");
    NVIC_IPR_USART1 = USART1_PRIORITY;
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    NVIC_ISER1 = USART1_IRQ_BIT;
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

/* A byte that comes between the RXNE test and WFI has pended the
 * interrupt, so WFI returns at once; the pending bit (latched, as the
 * interrupt is never taken) is cleared after each byte so that the next
 * WFI sleeps. */
int tc_port_read_byte(void)
{
    int byte;
    while ((USART_SR & USART_SR_RXNE) == 0u) {
        __asm volatile("wfi" ::: "memory");
    }
    byte = (int)(USART_DR & 0xFFu);
    NVIC_ICPR1 = USART1_IRQ_BIT;
    return byte;
}

int tc_port_load_input(const char *path, uint8_t *dst, size_t len)
{
    return tc_semihost_load(path, dst, len);
}

uint32_t tc_port_timer_read(void)
{
    return TIM2_CNT;
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
