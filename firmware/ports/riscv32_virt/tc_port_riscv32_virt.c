/*
 * Port for QEMU's RISC-V virt machine (rv32imc, the ESP32-C3 ISA class).
 *
 * Serial is the NS16550 at 0x10000000 (no setup needed under QEMU); the exit
 * goes through the SiFive test device, which makes `code` QEMU's exit
 * status. Latency is minstret: under -icount shift=0 it is exact and
 * deterministic, and it counts instructions.
 */
#include "tc_port.h"
#include "tc_port_fault.h"

#define REG8(addr) (*(volatile uint8_t *)(addr))
#define REG32(addr) (*(volatile uint32_t *)(addr))

#define UART_BASE 0x10000000u
#define UART_RBR REG8(UART_BASE + 0u)
#define UART_THR REG8(UART_BASE + 0u)
#define UART_LSR REG8(UART_BASE + 5u)
#define UART_LSR_DR (1u << 0)
#define UART_LSR_THRE (1u << 5)

#define TEST_DEVICE REG32(0x00100000u)
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

extern uint32_t _sguard, _sstack;

void tc_riscv_trap(uint32_t mepc, uint32_t mcause, uint32_t mtval) __attribute__((noreturn));

const char tc_port_timer_unit[] = "instructions";
const char tc_port_board_name[] = "qemu-riscv32";

void tc_port_init(void)
{
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((UART_LSR & UART_LSR_THRE) == 0u) {
        }
        UART_THR = buf[i];
    }
}

int tc_port_read_byte(void)
{
    while ((UART_LSR & UART_LSR_DR) == 0u) {
    }
    return (int)UART_RBR;
}

uint32_t tc_port_timer_read(void)
{
    uint32_t value;
    __asm volatile("csrr %0, minstret" : "=r"(value));
    return value;
}

void tc_port_exit(int code)
{
    TEST_DEVICE = code == 0 ? TEST_PASS : (((uint32_t)code & 0xFFFFu) << 16) | TEST_FAIL;
    for (;;) {
    }
}

/* Called by the trap vector (tc_riscv_start.S) on a fresh stack. */
void tc_riscv_trap(uint32_t mepc, uint32_t mcause, uint32_t mtval)
{
    int in_guard = mtval >= (uintptr_t)&_sguard && mtval < (uintptr_t)&_sstack;
    tc_port_fault(in_guard ? "StackOverflow" : "Trap", mepc, mcause, mtval);
}
