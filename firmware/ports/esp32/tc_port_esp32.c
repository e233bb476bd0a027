/*
 * Port for ESP32, ESP32-S3 and ESP32-C3 boards through PlatformIO's
 * espressif32 platform with ESP-IDF. ESP-IDF owns startup: app_main() runs
 * the application's main(). Serial is the console UART0 through the IDF UART
 * driver; latency is esp_timer_get_time() in microseconds (the only timer
 * with the same meaning on the Xtensa and RISC-V parts).
 */
#include "driver/uart.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "tc_board.h"
#include "tc_port.h"

#define TC_UART UART_NUM_0
#define TC_UART_BUFFER 1024

const char tc_port_timer_unit[] = "us";
const char tc_port_board_name[] = TC_BOARD_NAME;

int main(void);

void app_main(void)
{
    tc_port_exit(main());
}

void tc_port_init(void)
{
    const uart_config_t config = {
        .baud_rate = TC_BOARD_UART_BAUD, /* the board file's baud */
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
    };
    uart_param_config(TC_UART, &config);
    uart_driver_install(TC_UART, TC_UART_BUFFER, 0, 0, NULL, 0);
}

void tc_port_write(const uint8_t *buf, size_t len)
{
    uart_write_bytes(TC_UART, (const char *)buf, len);
    uart_wait_tx_done(TC_UART, portMAX_DELAY);
}

int tc_port_read_byte(void)
{
    uint8_t byte = 0;
    while (uart_read_bytes(TC_UART, &byte, 1, portMAX_DELAY) != 1) {
    }
    return byte;
}

uint32_t tc_port_timer_read(void)
{
    return (uint32_t)esp_timer_get_time();
}

/* Latency is in microseconds here, so no clock is needed to turn it into time: unknown. */
uint32_t tc_port_core_clock_hz(void)
{
    return 0u;
}

void tc_port_exit(int code)
{
    (void)code;
    for (;;) {
        vTaskDelay(portMAX_DELAY);
    }
}
