/*
 * tc_host_main.c - the protocol server as a host process.
 *
 * Built with the generated model, the runtime, tc_proto.c and
 * tc_port_tcp.c; serves one connection, then exits 0 when the host closes it.
 */
#include "tc_port.h"
#include "tc_proto.h"

int main(void)
{
    tc_port_init();
    tc_proto_set_memory(0u, 0u); /* a host process: flash and RAM unknown, INFO leaves them out */
    tc_proto_serve();
    tc_port_exit(0);
    return 0;
}
