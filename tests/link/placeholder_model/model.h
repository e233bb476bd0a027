/*
 * A hand-written stand-in for a generated model.h, so the protocol server
 * can be built and tested on the host without the code generator. It keeps
 * the contract of docs/architecture.md ("Generated model C API").
 */
#ifndef TC_MODEL_H
#define TC_MODEL_H

#include "tc_runtime.h"

#define TC_MODEL_INPUT_BYTES 300
#define TC_MODEL_OUTPUT_BYTES 4
#define TC_MODEL_ARENA_BYTES 304
#define TC_MODEL_NUM_LAYERS 2
#define TC_MODEL_INPUT_PRESERVED 1 /* input at arena[0, 300), output after it */
#define TC_MODEL_INPUT_RANK 2
#define TC_MODEL_INPUT_DIMS {1, 300}
#define TC_MODEL_INPUT_SCALE 0.5f
#define TC_MODEL_INPUT_ZERO_POINT (-3)
#define TC_MODEL_OUTPUT_RANK 2
#define TC_MODEL_OUTPUT_DIMS {1, 4}
#define TC_MODEL_OUTPUT_SCALE 0.25f
#define TC_MODEL_OUTPUT_ZERO_POINT 7

extern const char tc_model_hash[];
extern const tc_layer_info_t tc_model_layers[TC_MODEL_NUM_LAYERS];
extern uint32_t tc_model_layer_ticks[TC_MODEL_NUM_LAYERS];
int8_t *tc_model_input(void);
const int8_t *tc_model_output(void);
tc_status_t tc_model_invoke(void);

#endif
