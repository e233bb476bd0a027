/*
 * tc_proto.h - device side of the tinycompress serial protocol, version 1.
 *
 * The specification is docs/protocol.md; every constant below is copied
 * from its tables and tests/link/test_spec.py checks that they agree.
 *
 * Frames are COBS-encoded between 0x00 delimiters and carry a CRC-32, so
 * the server resynchronises on the next 0x00 after noise and never acts on
 * a corrupted request (it answers BAD_FRAME instead). It needs no malloc:
 * one receive buffer of TC_PROTO_RX_MAX payload bytes plus a 254-byte
 * transmit block, both static.
 *
 * INVOKE is idempotent without a copy of the input: a repeated INVOKE (same
 * sequence number) gets the answer held from the run it repeats, and when
 * the model's TC_MODEL_INPUT_PRESERVED is 0 (the arena plan reuses the
 * input's bytes) a new INVOKE before the next SET_INPUT gets INPUT_STALE.
 *
 * LOAD_INPUT fills the input from a host file through the port's
 * tc_port_load_input() (QEMU semihosting on the emulated boards); a port
 * without one keeps tc_proto.c's weak default, and the host falls back to
 * SET_INPUT.
 *
 * Usage (the application's main):
 *
 *     tc_port_init();
 *     tc_proto_set_memory(flash_used, ram_used);   optional, 0 = unknown
 *     tc_proto_serve();                            returns only on port EOF
 *
 * It uses the board port (tc_port.h) and the generated model (model.h).
 */
#ifndef TC_PROTO_H
#define TC_PROTO_H

#include <stdint.h>

#define TC_PROTO_VERSION 1

/* Largest request payload; SET_INPUT chunks carry TC_PROTO_RX_MAX - 4 bytes.
 * 1024 (a receive buffer of 1032 bytes) sends a 27 KB input in 28 frames
 * where 128 took 223 round trips. */
#ifndef TC_PROTO_RX_MAX
#define TC_PROTO_RX_MAX 1024
#endif

#define TC_PROTO_ANSWER_BIT 0x80u
#define TC_PROTO_NACK 0xFFu

/* Commands */
#define TC_PROTO_CMD_HELLO 0x01u
#define TC_PROTO_CMD_INFO 0x02u
#define TC_PROTO_CMD_SET_INPUT 0x03u
#define TC_PROTO_CMD_INVOKE 0x04u
#define TC_PROTO_CMD_LAYER_PROFILE 0x05u
#define TC_PROTO_CMD_LOAD_INPUT 0x06u

/* Status codes */
#define TC_PROTO_OK 0x00u
#define TC_PROTO_BAD_FRAME 0x01u
#define TC_PROTO_BAD_VERSION 0x02u
#define TC_PROTO_UNKNOWN_COMMAND 0x03u
#define TC_PROTO_BAD_LENGTH 0x04u
#define TC_PROTO_BAD_OFFSET 0x05u
#define TC_PROTO_INVOKE_FAILED 0x06u
#define TC_PROTO_NO_PROFILE 0x07u
#define TC_PROTO_NOT_INVOKED 0x08u
#define TC_PROTO_INPUT_STALE 0x09u
#define TC_PROTO_NO_INPUT_FILE 0x0Au

/* INFO record tags */
#define TC_PROTO_INFO_VERSION 0x01u
#define TC_PROTO_INFO_RX_MAX 0x02u
#define TC_PROTO_INFO_BOARD 0x03u
#define TC_PROTO_INFO_TIMER_UNIT 0x04u
#define TC_PROTO_INFO_MODEL_HASH 0x05u
#define TC_PROTO_INFO_INPUT_BYTES 0x06u
#define TC_PROTO_INFO_OUTPUT_BYTES 0x07u
#define TC_PROTO_INFO_ARENA_BYTES 0x08u
#define TC_PROTO_INFO_LAYERS 0x09u
#define TC_PROTO_INFO_PROFILE_LAYERS 0x0Au
#define TC_PROTO_INFO_FLASH_BYTES 0x0Bu
#define TC_PROTO_INFO_RAM_BYTES 0x0Cu
#define TC_PROTO_INFO_INPUT_SHAPE 0x0Du
#define TC_PROTO_INFO_INPUT_QUANT 0x0Eu
#define TC_PROTO_INFO_OUTPUT_SHAPE 0x0Fu
#define TC_PROTO_INFO_OUTPUT_QUANT 0x10u
#define TC_PROTO_INFO_CORE_CLOCK_HZ 0x11u

/* Flash and static RAM the firmware uses, for INFO; 0 leaves a record out. */
void tc_proto_set_memory(uint32_t flash_bytes, uint32_t ram_bytes);

/* Feed one received byte; answers on the port when it completes a frame. */
void tc_proto_feed(uint8_t byte);

/* Read bytes from the port and answer requests until tc_port_read_byte()
 * reports end of input (a negative value; only the host port does). */
void tc_proto_serve(void);

#endif /* TC_PROTO_H */
