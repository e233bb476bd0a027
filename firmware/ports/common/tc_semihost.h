/*
 * Semihosting for the emulated ports: the host file read behind LOAD_INPUT
 * (tc_port_load_input), shared by every architecture; each architecture
 * supplies the call itself (tc_semihost_call). Emulators only: without a
 * debugger or emulator the trapping instruction faults, so real-board
 * ports must not call either.
 */
#ifndef TC_SEMIHOST_H
#define TC_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* One semihosting operation with its argument block; the host's answer. */
int32_t tc_semihost_call(uint32_t operation, const uint32_t *args);

/* Fills dst with the len bytes of the host file at NUL-terminated path
 * (SYS_OPEN, SYS_READ, SYS_CLOSE); 0 on success, -1 if the file cannot be
 * opened or holds fewer bytes. */
int tc_semihost_load(const char *path, uint8_t *dst, size_t len);

#endif /* TC_SEMIHOST_H */
