/*
 * ParkLink gateway firmware: speaks ../shared/protocol/PROTOCOL.md over the Uno's UART.
 *
 * HELLO at boot and on PING; one R per sensor per sample period; HB every second with
 * next_seq, uptime and tx_dropped; LED commands set the bay indicators. The main loop never
 * waits for the UART: a reading that does not fit in the transmit ring is dropped and
 * counted in tx_dropped (it takes no seq, so the host sees the loss in the HB, not as a
 * link gap); HELLO and HB use a reserve readings cannot take.
 */
#include "boot_id.h"
#include "clock.h"
#include "config.h"
#include "led.h"
#include "pins.h"
#include "protocol.h"
#include "sensors.h"
#include "uart.h"
#include <avr/interrupt.h>
#include <avr/sleep.h>
#include <stdbool.h>

static uint32_t boot_id;
static uint32_t next_seq;
static uint32_t tx_dropped;
static bool hello_pending = true;
static bool heartbeat_pending;
static uint8_t frame[PROTOCOL_MAX_FRAME];

static bool send_hello(void)
{
    uint8_t n = protocol_encode_hello(frame, PARKLINK_GATEWAY_ID, boot_id, sensor_count);
    return uart_write_frame(frame, n, 0);
}

static bool send_heartbeat(uint32_t now)
{
    uint8_t n = protocol_encode_heartbeat(frame, next_seq, now, tx_dropped);
    return uart_write_frame(frame, n, 0);
}

static void send_reading(struct reading *r)
{
    r->seq = next_seq;
    uint8_t n = protocol_encode_reading(frame, r);
    if (uart_write_frame(frame, n, PARKLINK_TX_CONTROL_RESERVE)) next_seq++;
    else tx_dropped++;
}

static void obey(const struct command *c)
{
    switch (c->type) {
    case COMMAND_PING:
        hello_pending = true;
        break;
    case COMMAND_LED:
        led_set(c->sensor, c->color);
        break;
    case COMMAND_NONE:
        break;
    }
}

int main(void)
{
    clock_init();
    adc_init();
    uart_init(PARKLINK_BAUD);
    sensors_init();
    led_init();
    boot_id = boot_id_make();
    sensors_seed(boot_id);
    set_sleep_mode(SLEEP_MODE_IDLE);
    sei();

    struct command_decoder decoder;
    command_decoder_init(&decoder);
    uint32_t last_sample = clock_millis();
    uint32_t last_heartbeat = last_sample;
    for (;;) {
        int16_t byte;
        while ((byte = uart_read()) >= 0) {
            struct command c;
            if (command_decoder_feed(&decoder, (uint8_t)byte, &c)) obey(&c);
        }
        uint32_t now = clock_millis();
        if (hello_pending && send_hello()) hello_pending = false;
        if (now - last_heartbeat >= PARKLINK_HEARTBEAT_MS) {
            last_heartbeat += PARKLINK_HEARTBEAT_MS;
            heartbeat_pending = true;
        }
        /* A heartbeat that finds no room waits for the next pass, never the caller. */
        if (heartbeat_pending && send_heartbeat(now)) heartbeat_pending = false;
        if (now - last_sample >= PARKLINK_SAMPLE_MS) {
            last_sample += PARKLINK_SAMPLE_MS;
            for (uint8_t i = 0; i < sensor_count; i++) {
                struct reading r;
                sensors_sample(i, clock_millis(), &r);
                send_reading(&r);
            }
        }
        /* Idle until the next interrupt (Timer0 every 1.024 ms, or the UART). */
        sleep_mode();
    }
}
