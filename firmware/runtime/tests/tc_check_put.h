/*
 * tc_check_put.h - text out of the on-target checkers in this folder, through
 * the port's serial write (the bare-metal ports have no printf).
 */
#ifndef TC_CHECK_PUT_H
#define TC_CHECK_PUT_H

#include <stdint.h>
#include <string.h>

#include "tc_port.h"

static inline void tc_put(const char *s)
{
    tc_port_write((const uint8_t *)s, strlen(s));
}

/* v in decimal. */
static inline void tc_put_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    tc_put(buf + i);
}

#endif /* TC_CHECK_PUT_H */
