/*
 * Port for the host (Linux/macOS): stdout/stdin stand in for the UART, so
 * the exact application and model sources of a firmware project can run on
 * the build machine and their output can be compared with the device's.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tc_port.h"

const char tc_port_timer_unit[] = "us";
const char tc_port_board_name[] = "host";

void tc_port_init(void)
{
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    fwrite(buf, 1, len, stdout);
    fflush(stdout);
}

int tc_port_read_byte(void)
{
    int c = getchar();
    return c == EOF ? -1 : c;
}

uint32_t tc_port_timer_read(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u);
}

/* A host process has no core clock of its own to report: unknown. */
uint32_t tc_port_core_clock_hz(void)
{
    return 0u;
}

void tc_port_exit(int code)
{
    fflush(stdout);
    exit(code);
}
