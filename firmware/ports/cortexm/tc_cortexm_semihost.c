/* The Arm semihosting call (tc_semihost.h): BKPT 0xAB, operation in r0, argument block in r1. */
#include "tc_semihost.h"

int32_t tc_semihost_call(uint32_t operation, const uint32_t *args)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const uint32_t *r1 __asm__("r1") = args;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}
