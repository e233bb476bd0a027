/* Internal to the ports: report a CPU fault on the UART and exit non-zero. */
#ifndef TC_PORT_FAULT_H
#define TC_PORT_FAULT_H

#include <stdint.h>

/* Prints "FAULT: <kind> pc=0x... cause=0x... addr=0x..." and calls
 * tc_port_exit(TC_PORT_EXIT_FAULT); never returns. */
void tc_port_fault(const char *kind, uint32_t pc, uint32_t cause, uint32_t addr)
    __attribute__((noreturn));

#endif /* TC_PORT_FAULT_H */
