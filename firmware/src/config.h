/*
 * Build-time settings of the ParkLink gateway firmware (ATmega328P, Arduino Uno, 16 MHz).
 * Each one can be overridden on the make command line, e.g.
 *   make -C firmware FRAMING=binary SYNTHETIC=1 CFLAGS_EXTRA='-DPARKLINK_SAMPLE_MS=250'
 * See firmware/README.md for what each means on the wire.
 */
#ifndef PARKLINK_CONFIG_H
#define PARKLINK_CONFIG_H

/* 0: text lines ($R,...*CRC), the protocol's default; 1: COBS binary frames. */
#ifndef PARKLINK_FRAMING_BINARY
#define PARKLINK_FRAMING_BINARY 0
#endif

/* 1: nothing is wired; every sensor of the pin table reports made-up but plausible values. */
#ifndef PARKLINK_SYNTHETIC
#define PARKLINK_SYNTHETIC 0
#endif

/* HELLO's gateway_id: 1-32 chars of [A-Za-z0-9_-]. */
#ifndef PARKLINK_GATEWAY_ID
#define PARKLINK_GATEWAY_ID "GW-UNO-01"
#endif

#define PARKLINK_FIRMWARE_MAJOR 1
#define PARKLINK_FIRMWARE_MINOR 0
#define PARKLINK_FIRMWARE_PATCH 0

/* How often every sensor is sampled (one R per sensor per period). */
#ifndef PARKLINK_SAMPLE_MS
#define PARKLINK_SAMPLE_MS 1000
#endif

#define PARKLINK_HEARTBEAT_MS 1000

#ifndef PARKLINK_BAUD
#define PARKLINK_BAUD 115200UL
#endif

/* Transmit ring (bytes, a power of two). Readings may fill it only up to
 * TX_SIZE - TX_CONTROL_RESERVE, so a full ring still has room for the HB that reports
 * the drops and the HELLO that answers a PING. */
#ifndef PARKLINK_TX_SIZE
#define PARKLINK_TX_SIZE 512
#endif
#define PARKLINK_TX_CONTROL_RESERVE 96

/* Receive ring (bytes, a power of two): LED and PING are short and rare. */
#define PARKLINK_RX_SIZE 64

/* ADC channel left unconnected on the board: its noise seeds the boot id. */
#define PARKLINK_ENTROPY_ADC 5

#endif
