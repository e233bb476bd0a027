/*
 * Startup for the RISC-V virt port: stack and global pointer, trap vector,
 * stack guard, .data copy and .bss clear, then main(); its return value
 * becomes the exit status. Any trap (there are no interrupts) is a fault and
 * is reported, from a fresh stack since the old one may have overflowed.
 *
 * The guard is PMP entry 1: a locked, no-access TOR region from _sguard (end
 * of the flash image) up to _sstack (bottom of the stack); locked entries
 * apply to machine mode too.
 */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, _estack
    la t0, tc_trap_entry
    csrw mtvec, t0

    la t0, _sguard
    srli t0, t0, 2
    csrw pmpaddr0, t0        /* entry 0 stays OFF: it is the TOR base */
    la t0, _sstack
    srli t0, t0, 2
    csrw pmpaddr1, t0
    li t0, 0x8800            /* entry 1: L | A=TOR | no R/W/X */
    csrw pmpcfg0, t0

    la t0, _sidata
    la t1, _sdata
    la t2, _edata
1:  bgeu t1, t2, 2f
    lw t3, 0(t0)
    sw t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j 1b
2:  la t1, _sbss
    la t2, _ebss
3:  bgeu t1, t2, 4f
    sw zero, 0(t1)
    addi t1, t1, 4
    j 3b
4:  call main
    call tc_port_exit
5:  j 5b

    .align 4
    .globl tc_trap_entry
tc_trap_entry:
    la sp, _estack
    csrr a0, mepc
    csrr a1, mcause
    csrr a2, mtval
    call tc_riscv_trap
