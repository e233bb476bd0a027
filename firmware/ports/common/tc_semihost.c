/* Host file read through semihosting (tc_semihost.h). */
#include <string.h>

#include "tc_semihost.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_READ 0x06u
#define SYS_OPEN_MODE_RB 1u

int tc_semihost_load(const char *path, uint8_t *dst, size_t len)
{
    const uint32_t open_args[3] = {(uint32_t)(uintptr_t)path, SYS_OPEN_MODE_RB, (uint32_t)strlen(path)};
    int32_t handle = tc_semihost_call(SYS_OPEN, open_args);
    uint32_t io_args[3];
    int32_t unread;
    if (handle < 0) {
        return -1;
    }
    io_args[0] = (uint32_t)handle;
    io_args[1] = (uint32_t)(uintptr_t)dst;
    io_args[2] = (uint32_t)len;
    unread = tc_semihost_call(SYS_READ, io_args); /* bytes not read: 0 for a whole input */
    tc_semihost_call(SYS_CLOSE, io_args);
    return unread == 0 ? 0 : -1;
}
