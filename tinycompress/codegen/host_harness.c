/*
 * host_harness.c - runs a generated model on the host for verification.
 *
 * Reads samples of <PREFIX>_INPUT_BYTES from stdin until EOF; for each one
 * invokes the model and writes <PREFIX>_OUTPUT_BYTES to stdout (raw bytes:
 * int8 values, or float32 ones for a float-I/O model). Built with
 * -DTC_TRACE_LAYERS, every layer's output is written too, in layer order,
 * before the model output. Exit code 3 reports a kernel error status.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

#ifdef TC_PROFILE_LAYERS
uint32_t tc_port_timer_read(void)
{
    static uint32_t ticks;
    return ticks++;
}
#endif

#ifdef TC_TRACE_LAYERS
void TC_HARNESS_TRACE(int layer, const int8_t *output, size_t bytes)
{
    (void)layer;
    fwrite(output, 1, bytes, stdout);
}
#endif

int main(void)
{
    static int8_t sample[TC_HARNESS_INPUT_BYTES];
    while (fread(sample, 1, sizeof sample, stdin) == sizeof sample) {
        tc_status_t status;
        memcpy(TC_HARNESS_INPUT(), sample, sizeof sample);
        status = TC_HARNESS_INVOKE();
        if (status != TC_OK) {
            fprintf(stderr, "invoke failed with status %d\n", (int)status);
            return 3;
        }
        fwrite(TC_HARNESS_OUTPUT(), 1, TC_HARNESS_OUTPUT_BYTES, stdout);
    }
    return 0;
}
