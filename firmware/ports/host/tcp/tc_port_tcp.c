/*
 * tc_port_tcp.c - the board port API (tc_port.h) on a POSIX host, over TCP.
 *
 * The "UART" is one TCP connection on 127.0.0.1, so the host's pyserial
 * link reaches the real C protocol code through socket://, exactly as it
 * reaches QEMU's TCP serial. The port to listen on comes from the
 * environment variable TC_HOST_PORT (0 or unset: any free port); the chosen
 * port is printed on stdout as "TC_HOST_PORT <n>" before accepting.
 * The latency timer is CLOCK_MONOTONIC in nanoseconds. LOAD_INPUT reads
 * the host file with stdio, as QEMU semihosting does for the emulated
 * netduinoplus2.
 *
 * For fault-injection tests, TC_HOST_DIE_AFTER_BYTES=n makes the process
 * exit (status 3) once it has received n bytes, like a board that resets or
 * is unplugged in the middle of a run.
 *
 * It lives beside ../tc_port_host.c (stdin/stdout, for run-to-completion
 * applications) in its own folder, so a project copying the host family's
 * files gets only one port.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tc_port.h"

const char tc_port_timer_unit[] = "ns";
const char tc_port_board_name[] = "host";

static int conn = -1;
static long die_after = -1;
static long received;

static void fail(const char *what)
{
    perror(what);
    exit(2);
}

void tc_port_init(void)
{
    static const char banner[] = "tinycompress host port: booting\r\n";
    struct sockaddr_in addr = {0};
    socklen_t len = sizeof addr;
    const char *env = getenv("TC_HOST_PORT");
    const char *die = getenv("TC_HOST_DIE_AFTER_BYTES");
    int one = 1;
    int server = socket(AF_INET, SOCK_STREAM, 0);

    if (server < 0) {
        fail("socket");
    }
    if (die != NULL) {
        die_after = atol(die);
    }
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)(env ? atoi(env) : 0));
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 1) < 0) {
        fail("bind/listen");
    }
    if (getsockname(server, (struct sockaddr *)&addr, &len) < 0) {
        fail("getsockname");
    }
    printf("TC_HOST_PORT %u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);
    conn = accept(server, NULL, NULL);
    if (conn < 0) {
        fail("accept");
    }
    close(server);
    /* Answers go out in several small sends (delimiter, COBS blocks): without
     * this, Nagle's algorithm holds each answer's tail for the host's delayed
     * ACK, about 40 ms per exchange where a UART takes a few. */
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Like a board printing at boot: the host link must skip this text. */
    tc_port_write((const uint8_t *)banner, sizeof banner - 1);
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(conn, buf, len, 0);
        if (n <= 0) {
            tc_port_exit(0); /* the host hung up: nothing left to answer */
        }
        buf += n;
        len -= (size_t)n;
    }
}

int tc_port_read_byte(void)
{
    static uint8_t buf[256];
    static ssize_t have;
    static ssize_t next;
    if (next >= have) {
        have = recv(conn, buf, sizeof buf, 0);
        next = 0;
        if (have <= 0) {
            return -1;
        }
    }
    if (die_after >= 0 && received++ >= die_after) {
        tc_port_exit(3);
    }
    return buf[next++];
}

int tc_port_load_input(const char *path, uint8_t *dst, size_t len)
{
    FILE *file = fopen(path, "rb");
    size_t got;
    if (file == NULL) {
        return -1;
    }
    got = fread(dst, 1, len, file);
    fclose(file);
    return got == len ? 0 : -1;
}

uint32_t tc_port_timer_read(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

/* A host process has no core clock of its own to report: unknown. */
uint32_t tc_port_core_clock_hz(void)
{
    return 0u;
}

void tc_port_exit(int code)
{
    if (conn >= 0) {
        close(conn);
    }
    exit(code);
}
