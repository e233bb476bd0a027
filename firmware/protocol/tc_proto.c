/*
 * tc_proto.c - device side of the tinycompress serial protocol.
 * Specification: docs/protocol.md.
 */
#include "tc_proto.h"

#include <stddef.h>
#include <string.h>

#include "model.h"
#include "tc_port.h"

#define TC_PROTO_HEADER 4u
#define TC_PROTO_CRC 4u
#define TC_PROTO_FRAME_MAX (TC_PROTO_HEADER + TC_PROTO_RX_MAX + TC_PROTO_CRC)
#define TC_PROTO_COBS_BLOCK 254u

#ifdef TC_PROFILE_LAYERS
extern uint32_t tc_model_layer_ticks[TC_MODEL_NUM_LAYERS];
#endif

/* Models generated without the macro: assume invoke overwrites the input. */
#ifndef TC_MODEL_INPUT_PRESERVED
#define TC_MODEL_INPUT_PRESERVED 0
#endif

/* Receive side: COBS decoded on the fly into rx_buf. */
static uint8_t rx_buf[TC_PROTO_FRAME_MAX];
static size_t rx_len;
static uint8_t rx_left;   /* bytes left in the current COBS block */
static uint8_t rx_code;   /* code byte of the current block, 0 before the first */
static uint8_t rx_broken; /* overflow or bad encoding: answer BAD_FRAME */

/* Transmit side: COBS encoded on the fly, one block at a time. */
static uint8_t tx_block[TC_PROTO_COBS_BLOCK];
static uint8_t tx_len;
static uint32_t tx_crc;

static uint32_t mem_flash;
static uint32_t mem_ram;
static uint8_t invoked;

/* Input bytes [0, input_filled) hold what SET_INPUT wrote since boot, or
 * since the last invoke when the arena plan reuses the input's bytes. */
static uint32_t input_filled;

/* The last INVOKE's answer, re-sent when the host repeats that request
 * after losing the answer: the output is still in the arena until the
 * next SET_INPUT, and the input may not be. */
static uint8_t held;
static uint8_t held_seq;
static uint8_t held_status;
static uint32_t held_value; /* latency, or the model status for INVOKE_FAILED */

static uint32_t crc32_update(uint32_t crc, uint8_t byte)
{
    unsigned bit;
    crc ^= byte;
    for (bit = 0; bit < 8u; bit++) {
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

/* ---- transmit ---------------------------------------------------------- */

static void tx_flush_block(uint8_t code)
{
    tc_port_write(&code, 1);
    tc_port_write(tx_block, tx_len);
    tx_len = 0;
}

static void tx_raw(uint8_t byte)
{
    if (byte == 0u) {
        tx_flush_block((uint8_t)(tx_len + 1u));
        return;
    }
    tx_block[tx_len++] = byte;
    if (tx_len == TC_PROTO_COBS_BLOCK) {
        tx_flush_block(0xFFu);
    }
}

/* Every payload byte goes through tx_bytes(), so the CRC step is compiled once. */
static void tx_bytes(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        tx_crc = crc32_update(tx_crc, p[i]);
        tx_raw(p[i]);
    }
}

static void tx_byte(uint8_t byte)
{
    tx_bytes(&byte, 1u);
}

static void tx_u16(uint16_t v)
{
    const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    tx_bytes(b, sizeof b);
}

static void tx_u32(uint32_t v)
{
    const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tx_bytes(b, sizeof b);
}

static void tx_begin(uint8_t command, uint8_t seq, uint8_t status)
{
    static const uint8_t delimiter = 0u;
    const uint8_t header[4] = {TC_PROTO_VERSION, command, seq, status};
    tc_port_write(&delimiter, 1);
    tx_len = 0;
    tx_crc = 0xFFFFFFFFu;
    tx_bytes(header, sizeof header);
}

static void tx_end(void)
{
    static const uint8_t delimiter = 0u;
    uint32_t crc = ~tx_crc;
    tx_raw((uint8_t)crc);
    tx_raw((uint8_t)(crc >> 8));
    tx_raw((uint8_t)(crc >> 16));
    tx_raw((uint8_t)(crc >> 24));
    tx_flush_block((uint8_t)(tx_len + 1u));
    tc_port_write(&delimiter, 1);
}

static void answer_status(uint8_t command, uint8_t seq, uint8_t status)
{
    tx_begin((uint8_t)(command | TC_PROTO_ANSWER_BIT), seq, status);
    tx_end();
}

/* ---- INFO records -------------------------------------------------------- */

static void record_u32(uint8_t tag, uint32_t v)
{
    tx_byte(tag);
    tx_byte(4u);
    tx_u32(v);
}

static void record_text(uint8_t tag, const char *text)
{
    size_t len = strlen(text);
    if (len > 255u) {
        len = 255u;
    }
    tx_byte(tag);
    tx_byte((uint8_t)len);
    tx_bytes(text, len);
}

/* Models generated before the shape/quantization macros leave these records out. */
#if defined(TC_MODEL_INPUT_RANK) && defined(TC_MODEL_OUTPUT_RANK)
#define TC_PROTO_HAS_QUANT 1
static void record_shape(uint8_t tag, const uint32_t *dims, size_t rank)
{
    size_t i;
    tx_byte(tag);
    tx_byte((uint8_t)(4u * rank));
    for (i = 0; i < rank; i++) {
        tx_u32(dims[i]);
    }
}

static void record_quant(uint8_t tag, float scale, int32_t zero_point)
{
    uint32_t bits;
    memcpy(&bits, &scale, sizeof bits);
    tx_byte(tag);
    tx_byte(8u);
    tx_u32(bits);
    tx_u32((uint32_t)zero_point);
}
#endif

static void answer_info(uint8_t seq)
{
    tx_begin(TC_PROTO_CMD_INFO | TC_PROTO_ANSWER_BIT, seq, TC_PROTO_OK);
    tx_byte(TC_PROTO_INFO_VERSION);
    tx_byte(1u);
    tx_byte(TC_PROTO_VERSION);
    tx_byte(TC_PROTO_INFO_RX_MAX);
    tx_byte(2u);
    tx_u16(TC_PROTO_RX_MAX);
    record_text(TC_PROTO_INFO_BOARD, tc_port_board_name);
    record_text(TC_PROTO_INFO_TIMER_UNIT, tc_port_timer_unit);
    record_text(TC_PROTO_INFO_MODEL_HASH, tc_model_hash);
    record_u32(TC_PROTO_INFO_INPUT_BYTES, TC_MODEL_INPUT_BYTES);
    record_u32(TC_PROTO_INFO_OUTPUT_BYTES, TC_MODEL_OUTPUT_BYTES);
    record_u32(TC_PROTO_INFO_ARENA_BYTES, TC_MODEL_ARENA_BYTES);
    record_u32(TC_PROTO_INFO_CORE_CLOCK_HZ, tc_port_core_clock_hz());
    tx_byte(TC_PROTO_INFO_LAYERS);
    tx_byte(2u);
    tx_u16(TC_MODEL_NUM_LAYERS);
    tx_byte(TC_PROTO_INFO_PROFILE_LAYERS);
    tx_byte(1u);
#ifdef TC_PROFILE_LAYERS
    tx_byte(1u);
#else
    tx_byte(0u);
#endif
    if (mem_flash != 0u) {
        record_u32(TC_PROTO_INFO_FLASH_BYTES, mem_flash);
    }
    if (mem_ram != 0u) {
        record_u32(TC_PROTO_INFO_RAM_BYTES, mem_ram);
    }
#ifdef TC_PROTO_HAS_QUANT
    {
        static const uint32_t in_dims[] = TC_MODEL_INPUT_DIMS;
        static const uint32_t out_dims[] = TC_MODEL_OUTPUT_DIMS;
        record_shape(TC_PROTO_INFO_INPUT_SHAPE, in_dims, TC_MODEL_INPUT_RANK);
        record_quant(TC_PROTO_INFO_INPUT_QUANT, TC_MODEL_INPUT_SCALE, TC_MODEL_INPUT_ZERO_POINT);
        record_shape(TC_PROTO_INFO_OUTPUT_SHAPE, out_dims, TC_MODEL_OUTPUT_RANK);
        record_quant(TC_PROTO_INFO_OUTPUT_QUANT, TC_MODEL_OUTPUT_SCALE, TC_MODEL_OUTPUT_ZERO_POINT);
    }
#endif
    tx_end();
}

/* ---- commands ------------------------------------------------------------ */

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void answer_hello(uint8_t seq)
{
    tx_begin(TC_PROTO_CMD_HELLO | TC_PROTO_ANSWER_BIT, seq, TC_PROTO_OK);
    tx_byte(TC_PROTO_VERSION);
    tx_u16(TC_PROTO_RX_MAX);
    tx_bytes("TCMP", 4u);
    tx_end();
}

static void answer_set_input(uint8_t seq, const uint8_t *payload, size_t len)
{
    uint32_t offset;
    size_t count;
    if (len < 4u) {
        answer_status(TC_PROTO_CMD_SET_INPUT, seq, TC_PROTO_BAD_LENGTH);
        return;
    }
    offset = get_u32(payload);
    count = len - 4u;
    if (offset > (uint32_t)TC_MODEL_INPUT_BYTES || count > (size_t)TC_MODEL_INPUT_BYTES - offset) {
        answer_status(TC_PROTO_CMD_SET_INPUT, seq, TC_PROTO_BAD_OFFSET);
        return;
    }
    memcpy((uint8_t *)tc_model_input() + offset, payload + 4u, count);
    held = 0u;
    if (offset <= input_filled && offset + count > input_filled) {
        input_filled = offset + (uint32_t)count;
    }
    tx_begin(TC_PROTO_CMD_SET_INPUT | TC_PROTO_ANSWER_BIT, seq, TC_PROTO_OK);
    tx_u32((uint32_t)(offset + count));
    tx_end();
}

static void send_held_invoke(void)
{
    tx_begin(TC_PROTO_CMD_INVOKE | TC_PROTO_ANSWER_BIT, held_seq, held_status);
    tx_u32(held_value);
    if (held_status == TC_PROTO_OK) {
        tx_bytes(tc_model_output(), TC_MODEL_OUTPUT_BYTES);
    }
    tx_end();
}

/* Idempotent: a repeat (same seq, no SET_INPUT since) gets the held answer;
 * a new INVOKE needs a whole input that no invoke has overwritten. */
static void answer_invoke(uint8_t seq)
{
    uint32_t start;
    int32_t status;
    if (held && seq == held_seq) {
        send_held_invoke();
        return;
    }
    if (input_filled != (uint32_t)TC_MODEL_INPUT_BYTES) {
        answer_status(TC_PROTO_CMD_INVOKE, seq, TC_PROTO_INPUT_STALE);
        return;
    }
    start = tc_port_timer_read();
    status = (int32_t)tc_model_invoke();
    held_value = tc_port_timer_read() - start;
#if !TC_MODEL_INPUT_PRESERVED
    input_filled = 0u;
#endif
    held = 1u;
    held_seq = seq;
    held_status = TC_PROTO_OK;
    if (status != 0) {
        held_status = TC_PROTO_INVOKE_FAILED;
        held_value = (uint32_t)status;
    } else {
        invoked = 1u;
    }
    send_held_invoke();
}

/* Ports without a file channel (every real board): LOAD_INPUT answers
 * NO_INPUT_FILE and the host sends the input with SET_INPUT. */
__attribute__((weak)) int tc_port_load_input(const char *path, uint8_t *dst, size_t len)
{
    (void)path;
    (void)dst;
    (void)len;
    return -1;
}

/* The whole input from the host file named by the payload; the answer's
 * CRC-32 of the loaded input lets the host refuse a wrong or stale file.
 * The payload is NUL-terminated in place, over the CRC already checked. */
static void answer_load_input(uint8_t seq, uint8_t *payload, size_t len)
{
    const uint8_t *input = (const uint8_t *)tc_model_input();
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    if (len == 0u || memchr(payload, 0, len) != NULL) {
        answer_status(TC_PROTO_CMD_LOAD_INPUT, seq, TC_PROTO_BAD_LENGTH);
        return;
    }
    payload[len] = 0u;
    held = 0u;
    if (tc_port_load_input((const char *)payload, (uint8_t *)tc_model_input(), TC_MODEL_INPUT_BYTES) != 0) {
        input_filled = 0u; /* a read that failed part-way leaves no whole input */
        answer_status(TC_PROTO_CMD_LOAD_INPUT, seq, TC_PROTO_NO_INPUT_FILE);
        return;
    }
    input_filled = (uint32_t)TC_MODEL_INPUT_BYTES;
    for (i = 0; i < (size_t)TC_MODEL_INPUT_BYTES; i++) {
        crc = crc32_update(crc, input[i]);
    }
    tx_begin(TC_PROTO_CMD_LOAD_INPUT | TC_PROTO_ANSWER_BIT, seq, TC_PROTO_OK);
    tx_u32((uint32_t)TC_MODEL_INPUT_BYTES);
    tx_u32(~crc);
    tx_end();
}

static void answer_layer_profile(uint8_t seq)
{
#ifdef TC_PROFILE_LAYERS
    unsigned i;
    if (!invoked) {
        answer_status(TC_PROTO_CMD_LAYER_PROFILE, seq, TC_PROTO_NOT_INVOKED);
        return;
    }
    tx_begin(TC_PROTO_CMD_LAYER_PROFILE | TC_PROTO_ANSWER_BIT, seq, TC_PROTO_OK);
    tx_u16(TC_MODEL_NUM_LAYERS);
    for (i = 0; i < (unsigned)TC_MODEL_NUM_LAYERS; i++) {
        tx_u32(tc_model_layer_ticks[i]);
    }
    tx_end();
#else
    answer_status(TC_PROTO_CMD_LAYER_PROFILE, seq, TC_PROTO_NO_PROFILE);
#endif
}

static void dispatch(void)
{
    uint8_t command = rx_buf[1];
    uint8_t seq = rx_buf[2];
    uint8_t *payload = rx_buf + TC_PROTO_HEADER;
    size_t len = rx_len - TC_PROTO_HEADER - TC_PROTO_CRC;

    if (rx_buf[0] != TC_PROTO_VERSION) {
        tx_begin((uint8_t)(command | TC_PROTO_ANSWER_BIT), seq, TC_PROTO_BAD_VERSION);
        tx_byte(TC_PROTO_VERSION);
        tx_end();
        return;
    }
    if (command != TC_PROTO_CMD_SET_INPUT && command != TC_PROTO_CMD_LOAD_INPUT && len != 0u) {
        answer_status(command, seq, TC_PROTO_BAD_LENGTH);
        return;
    }
    switch (command) {
    case TC_PROTO_CMD_HELLO:
        answer_hello(seq);
        break;
    case TC_PROTO_CMD_INFO:
        answer_info(seq);
        break;
    case TC_PROTO_CMD_SET_INPUT:
        answer_set_input(seq, payload, len);
        break;
    case TC_PROTO_CMD_INVOKE:
        answer_invoke(seq);
        break;
    case TC_PROTO_CMD_LAYER_PROFILE:
        answer_layer_profile(seq);
        break;
    case TC_PROTO_CMD_LOAD_INPUT:
        answer_load_input(seq, payload, len);
        break;
    default:
        answer_status(command, seq, TC_PROTO_UNKNOWN_COMMAND);
        break;
    }
}

/* ---- receive --------------------------------------------------------------- */

/* NACK a rejected frame with the seq byte it carried, if it got that far
 * (0 otherwise): the host repeats its request at once only on a NACK with
 * its own seq, and ignores the NACK of noise or of an older request. */
static void nack(void)
{
    tx_begin(TC_PROTO_NACK, rx_len > 2u ? rx_buf[2] : 0u, TC_PROTO_BAD_FRAME);
    tx_end();
}

static void frame_end(void)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    if (rx_code == 0u && !rx_broken) {
        return; /* empty frame between two delimiters */
    }
    if (rx_broken || rx_left != 0u || rx_len < TC_PROTO_HEADER + TC_PROTO_CRC) {
        nack();
        return;
    }
    for (i = 0; i < rx_len - TC_PROTO_CRC; i++) {
        crc = crc32_update(crc, rx_buf[i]);
    }
    if (~crc != get_u32(rx_buf + rx_len - TC_PROTO_CRC)) {
        nack();
        return;
    }
    dispatch();
}

static void rx_put(uint8_t byte)
{
    if (rx_len < sizeof rx_buf) {
        rx_buf[rx_len++] = byte;
    } else {
        rx_broken = 1u;
    }
}

void tc_proto_feed(uint8_t byte)
{
    if (byte == 0u) {
        frame_end();
        rx_len = 0;
        rx_left = 0;
        rx_code = 0;
        rx_broken = 0;
        return;
    }
    if (rx_left == 0u) {
        if (rx_code != 0u && rx_code != 0xFFu) {
            rx_put(0u);
        }
        rx_code = byte;
        rx_left = (uint8_t)(byte - 1u);
        return;
    }
    rx_put(byte);
    rx_left--;
}

void tc_proto_set_memory(uint32_t flash_bytes, uint32_t ram_bytes)
{
    mem_flash = flash_bytes;
    mem_ram = ram_bytes;
}

void tc_proto_serve(void)
{
    for (;;) {
        int byte = tc_port_read_byte();
        if (byte < 0) {
            return;
        }
        tc_proto_feed((uint8_t)byte);
    }
}
