/*
 * Placeholder model: output[k] = saturated sum of input bytes i with
 * i % 4 == k (layer "sum"), then output[k] ^= 0x55 (layer "mix"). An input
 * whose first byte is 127 makes invoke fail with TC_ERR_ARG, to test
 * INVOKE_FAILED. tests/link/test_host_native.py computes the same in Python.
 */
#include "model.h"
#include "tc_port.h"

const char tc_model_hash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const tc_layer_info_t tc_model_layers[TC_MODEL_NUM_LAYERS] = {
    {"sum", "ADD", 300u},
    {"mix", "MUL", 4u},
};
uint32_t tc_model_layer_ticks[TC_MODEL_NUM_LAYERS];

static int8_t arena[TC_MODEL_ARENA_BYTES];

int8_t *tc_model_input(void)
{
    return arena;
}

const int8_t *tc_model_output(void)
{
    return arena + TC_MODEL_INPUT_BYTES;
}

tc_status_t tc_model_invoke(void)
{
    int32_t acc[TC_MODEL_OUTPUT_BYTES] = {0};
    int8_t *out = arena + TC_MODEL_INPUT_BYTES;
    uint32_t t0 = tc_port_timer_read();
    uint32_t t1;
    int i;
    if (arena[0] == 127) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < TC_MODEL_INPUT_BYTES; i++) {
        acc[i % TC_MODEL_OUTPUT_BYTES] += arena[i];
    }
    for (i = 0; i < TC_MODEL_OUTPUT_BYTES; i++) {
        out[i] = (int8_t)(acc[i] > 127 ? 127 : acc[i] < -128 ? -128 : acc[i]);
    }
    t1 = tc_port_timer_read();
    tc_model_layer_ticks[0] = t1 - t0;
    for (i = 0; i < TC_MODEL_OUTPUT_BYTES; i++) {
        out[i] = (int8_t)(out[i] ^ 0x55);
    }
    tc_model_layer_ticks[1] = tc_port_timer_read() - t1;
    return TC_OK;
}
