/*
 * Port for QEMU's RISC-V virt machine (rv32imc, the ESP32-C3 ISA class).
 *
 * Serial is the NS16550 at 0x10000000 (no setup needed under QEMU); the exit
 * goes through the SiFive test device, which makes `code` QEMU's exit
 * status. Latency is minstret: under -icount shift=0 it is exact and
 * deterministic, and it counts instructions.
 *
 * Waiting for a received byte sleeps in WFI instead of polling the LSR
 * (each poll is an I/O access that takes QEMU's global lock under
 * -icount): the UART's RX interrupt goes through the PLIC to mie.MEIE only
 * to wake WFI, which wakes on a pending enabled interrupt even with
 * mstatus.MIE clear, so it is never taken. The PLIC latches the source
 * pending until it is claimed, so each byte is claimed and completed; else
 * WFI would return at once from then on and the wait would spin (measured:
 * a waiting QEMU burnt half a core; claimed, it burns none, and on a loaded
 * machine 27 KB go through the UART in 0.8-1.0 s instead of 1.7-2.0 s).
 * tc_port_load_input() reads the host's input file in one RISC-V
 * semihosting call (QEMU runs with -semihosting-config
 * enable=on,target=native), so a 27 KB input need not go through QEMU's
 * one-byte-per-main-loop UART at all.
 */
#include "tc_port.h"
#include "tc_port_fault.h"
#include "tc_semihost.h"

#define REG8(addr) (*(volatile uint8_t *)(addr))
#define REG32(addr) (*(volatile uint32_t *)(addr))

#define UART_BASE 0x10000000u
#define UART_RBR REG8(UART_BASE + 0u)
#define UART_THR REG8(UART_BASE + 0u)
#define UART_IER REG8(UART_BASE + 1u)
#define UART_LSR REG8(UART_BASE + 5u)
#define UART_IER_RX (1u << 0)
#define UART_LSR_DR (1u << 0)
#define UART_LSR_THRE (1u << 5)

#define UART_IRQ 10u /* the virt machine's PLIC source for the UART */
#define PLIC_PRIORITY(source) REG32(0x0C000000u + 4u * (source))
#define PLIC_ENABLE_HART0_M REG32(0x0C002000u)  /* context 0: hart 0, M-mode */
#define PLIC_THRESHOLD_HART0_M REG32(0x0C200000u)
#define PLIC_CLAIM_HART0_M REG32(0x0C200004u)
#define MIE_MEIE (1u << 11)

#define TEST_DEVICE REG32(0x00100000u)
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

extern uint32_t _sguard, _sstack;

void tc_riscv_trap(uint32_t mepc, uint32_t mcause, uint32_t mtval) __attribute__((noreturn));

const char tc_port_timer_unit[] = "instructions";
const char tc_port_board_name[] = "qemu-riscv32";

void tc_port_init(void)
{
    PLIC_PRIORITY(UART_IRQ) = 1u;
    PLIC_THRESHOLD_HART0_M = 0u;
    PLIC_ENABLE_HART0_M = 1u << UART_IRQ;
    UART_IER = UART_IER_RX;
    __asm volatile("csrs mie, %0" ::"r"(MIE_MEIE));
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while ((UART_LSR & UART_LSR_THRE) == 0u) {
        }
        UART_THR = buf[i];
    }
}

/* A byte that comes between the LSR test and WFI has raised mip.MEIP, so
 * WFI returns at once. Claiming after the read clears the pending source;
 * completing it lets the next byte pend it again. */
int tc_port_read_byte(void)
{
    int byte;
    uint32_t source;
    while ((UART_LSR & UART_LSR_DR) == 0u) {
        __asm volatile("wfi" ::: "memory");
    }
    byte = (int)UART_RBR;
    source = PLIC_CLAIM_HART0_M;
    if (source != 0u) {
        PLIC_CLAIM_HART0_M = source;
    }
    return byte;
}

/* The RISC-V semihosting call: EBREAK between the two marker instructions,
 * all three uncompressed and within one page (QEMU checks both). */
int32_t tc_semihost_call(uint32_t operation, const uint32_t *args)
{
    register uint32_t a0 __asm__("a0") = operation;
    register const uint32_t *a1 __asm__("a1") = args;
    __asm volatile(".option push\n"
                   ".option norvc\n"
                   ".balign 16\n"
                   "slli x0, x0, 0x1f\n"
                   "ebreak\n"
                   "srai x0, x0, 7\n"
                   ".option pop"
                   : "+r"(a0)
                   : "r"(a1)
                   : "memory");
    return (int32_t)a0;
}

int tc_port_load_input(const char *path, uint8_t *dst, size_t len)
{
    return tc_semihost_load(path, dst, len);
}

uint32_t tc_port_timer_read(void)
{
    uint32_t value;
    __asm volatile("csrr %0, minstret" : "=r"(value));
    return value;
}

/* Emulated: counts are instructions, not cycles of any clock. */
uint32_t tc_port_core_clock_hz(void)
{
    return 0u;
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
