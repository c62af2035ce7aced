/* The gateway's side of ../shared/protocol/PROTOCOL.md (version 1): HELLO, R and HB out,
 * LED and PING in, in the framing chosen at build time (PARKLINK_FRAMING_BINARY). */
#ifndef PARKLINK_PROTOCOL_H
#define PARKLINK_PROTOCOL_H
#include <stdbool.h>
#include <stdint.h>

/* The longest frame either encoding produces (text lines are at most 128 bytes). */
#define PROTOCOL_MAX_FRAME 128

enum led_color { LED_OFF = 0, LED_GREEN = 1, LED_RED = 2, LED_BLUE = 3, LED_AMBER = 4 };

struct reading {
    uint32_t seq;
    uint16_t sensor;
    uint32_t t_ms;
    bool occupied;
    /* Absent fields (a sensor without that meter) are sent empty (text) or flagged off (binary). */
    bool has_distance, has_voltage, has_current, has_power_factor;
    uint16_t distance_cm, voltage_dv, current_ma;
    uint8_t power_factor_pct;
};

/* Each encoder writes one complete frame into `out` (PROTOCOL_MAX_FRAME bytes) and
 * returns its length. */
uint8_t protocol_encode_hello(uint8_t *out, const char *gateway_id, uint32_t boot_id, uint16_t sensor_count);
uint8_t protocol_encode_reading(uint8_t *out, const struct reading *r);
uint8_t protocol_encode_heartbeat(uint8_t *out, uint32_t next_seq, uint32_t uptime_ms, uint32_t tx_dropped);

/* A command from the host, once a whole valid frame has arrived. */
enum command_type { COMMAND_NONE, COMMAND_PING, COMMAND_LED };
struct command {
    enum command_type type;
    uint16_t sensor;
    enum led_color color;
};

/* Frames the host sends: feed every received byte; returns true (and fills `cmd`) when a
 * frame completes and is valid. A bad CRC, a malformed or over-long frame is dropped and
 * counted, and the decoder resynchronises on the next frame start ('$' or 0x00). */
struct command_decoder {
    uint8_t buf[PROTOCOL_MAX_FRAME];
    uint8_t len;
    bool in_frame;
    bool overflow;
    uint16_t rejected;
};
void command_decoder_init(struct command_decoder *d);
bool command_decoder_feed(struct command_decoder *d, uint8_t byte, struct command *cmd);

uint16_t protocol_crc16(const uint8_t *data, uint8_t len);
#endif
