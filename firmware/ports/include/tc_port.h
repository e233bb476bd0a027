/*
 * tc_port.h - the board port API of tinycompress firmware.
 *
 * One implementation per board family (firmware/ports/<family>/) and one in
 * the host harness. The application, the serial protocol and the generated
 * model (with -DTC_PROFILE_LAYERS) use only these functions, so the same
 * sources run on every board.
 */
#ifndef TC_PORT_H
#define TC_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit code used when a CPU fault or trap is caught: never 0, so a fault
 * can never be mistaken for a successful run. */
#define TC_PORT_EXIT_FAULT 99

/* Clocks, UART and the latency timer. Call once, first thing in main(). */
void tc_port_init(void);

/* Blocking UART transmit of len bytes. */
void tc_port_write(const uint8_t *buf, size_t len);

/* Blocking UART receive; returns one byte, 0..255. Only host ports return a
 * negative value, at end of input. */
int tc_port_read_byte(void);

/* Free-running 32-bit latency counter; differences are taken modulo 2^32.
 * Its unit is tc_port_timer_unit. */
uint32_t tc_port_timer_read(void);

/* Optional (tc_proto.c's weak default returns -1): fill dst with the len
 * bytes of the host file at NUL-terminated path, 0 on success. Only where
 * the device shares the host's files (QEMU semihosting), so that LOAD_INPUT
 * loads an input in one request instead of 1 KB frames through the UART. */
int tc_port_load_input(const char *path, uint8_t *dst, size_t len);

/* The core clock in Hz the firmware set up and runs at (a real board's
 * reset clock if its PLL did not lock); 0 when unknown or meaningless
 * (emulators count instructions, hosts measure time). */
uint32_t tc_port_core_clock_hz(void);

/* "cycles" (DWT->CYCCNT on real Cortex-M), "instructions" (QEMU icount,
 * RISC-V minstret) or "us" (ESP32 esp_timer). */
extern const char tc_port_timer_unit[];

/* The board name as in boards/<name>.toml. */
extern const char tc_port_board_name[];

/* End the program: semihosting or exit device on emulators (the host sees
 * `code` as QEMU's exit status); on real boards, park the CPU. */
void tc_port_exit(int code);

#ifdef __cplusplus
}
#endif

#endif /* TC_PORT_H */
