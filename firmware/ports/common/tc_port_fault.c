/*
 * Fault reporting shared by every bare-metal port: one line on the UART,
 * then exit with TC_PORT_EXIT_FAULT so the host never mistakes a crash for a
 * result. Uses no libc, so it works from any exception context.
 */
#include "tc_port_fault.h"

#include "tc_port.h"

static void put_str(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    tc_port_write((const uint8_t *)s, n);
}

static void put_hex(uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t text[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++) {
        text[2 + i] = (uint8_t)digits[(value >> (28 - 4 * i)) & 0xFu];
    }
    tc_port_write(text, sizeof text);
}

void tc_port_fault(const char *kind, uint32_t pc, uint32_t cause, uint32_t addr)
{
    put_str("\r\nFAULT: ");
    put_str(kind);
    put_str(" pc=");
    put_hex(pc);
    put_str(" cause=");
    put_hex(cause);
    put_str(" addr=");
    put_hex(addr);
    put_str("\r\n");
    tc_port_exit(TC_PORT_EXIT_FAULT);
    for (;;) {
    }
}
