/* Encoders and the command decoder, byte for byte as PROTOCOL.md and vectors.json say. */
#include "protocol.h"
#include "config.h"
#include <string.h>
#ifdef __AVR__
#include <util/crc16.h>
#else
/* The host build (firmware/test) has no avr-libc: the same update, written out. */
static uint16_t _crc_xmodem_update(uint16_t crc, uint8_t data)
{
    crc ^= (uint16_t)data << 8;
    for (uint8_t i = 0; i < 8; i++) crc = crc & 0x8000 ? (uint16_t)(crc << 1) ^ 0x1021 : (uint16_t)(crc << 1);
    return crc;
}
#endif

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final xor
 * (avr-libc's xmodem update is that polynomial, unreflected). */
uint16_t protocol_crc16(const uint8_t *data, uint8_t len)
{
    uint16_t crc = 0xFFFF;
    for (uint8_t i = 0; i < len; i++) crc = _crc_xmodem_update(crc, data[i]);
    return crc;
}

#if !PARKLINK_FRAMING_BINARY
/* ---- Text: $TYPE,field,...*CRC\r\n ---- */

static uint8_t put_str(uint8_t *out, uint8_t at, const char *s)
{
    while (*s) out[at++] = (uint8_t)*s++;
    return at;
}

static uint8_t put_u32(uint8_t *out, uint8_t at, uint32_t v)
{
    char digits[10];
    uint8_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) out[at++] = (uint8_t)digits[--n];
    return at;
}

static uint8_t put_field(uint8_t *out, uint8_t at, bool present, uint32_t v)
{
    out[at++] = ',';
    return present ? put_u32(out, at, v) : at;
}

/* Appends *CRC\r\n over the bytes after the leading '$'. */
static uint8_t finish_text(uint8_t *out, uint8_t at)
{
    static const char hex[] = "0123456789ABCDEF";
    uint16_t crc = protocol_crc16(out + 1, at - 1);
    out[at++] = '*';
    for (int8_t shift = 12; shift >= 0; shift -= 4) out[at++] = (uint8_t)hex[(crc >> shift) & 0xF];
    out[at++] = '\r';
    out[at++] = '\n';
    return at;
}

uint8_t protocol_encode_hello(uint8_t *out, const char *gateway_id, uint32_t boot_id, uint16_t sensor_count)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t at = put_str(out, 0, "$HELLO,");
    at = put_str(out, at, gateway_id);
    out[at++] = ',';
    for (int8_t shift = 28; shift >= 0; shift -= 4) out[at++] = (uint8_t)hex[(boot_id >> shift) & 0xF];
    out[at++] = ',';
    at = put_u32(out, at, PARKLINK_FIRMWARE_MAJOR);
    out[at++] = '.';
    at = put_u32(out, at, PARKLINK_FIRMWARE_MINOR);
    out[at++] = '.';
    at = put_u32(out, at, PARKLINK_FIRMWARE_PATCH);
    at = put_field(out, at, true, sensor_count);
    return finish_text(out, at);
}

uint8_t protocol_encode_reading(uint8_t *out, const struct reading *r)
{
    uint8_t at = put_str(out, 0, "$R,");
    at = put_u32(out, at, r->seq);
    at = put_field(out, at, true, r->sensor);
    at = put_field(out, at, true, r->t_ms);
    at = put_field(out, at, true, r->occupied ? 1 : 0);
    at = put_field(out, at, r->has_distance, r->distance_cm);
    at = put_field(out, at, r->has_voltage, r->voltage_dv);
    at = put_field(out, at, r->has_current, r->current_ma);
    at = put_field(out, at, r->has_power_factor, r->power_factor_pct);
    return finish_text(out, at);
}

uint8_t protocol_encode_heartbeat(uint8_t *out, uint32_t next_seq, uint32_t uptime_ms, uint32_t tx_dropped)
{
    uint8_t at = put_str(out, 0, "$HB,");
    at = put_u32(out, at, next_seq);
    at = put_field(out, at, true, uptime_ms);
    at = put_field(out, at, true, tx_dropped);
    return finish_text(out, at);
}

#else
/* ---- Binary: COBS(type | payload | crc16 LE) 0x00 ---- */

static uint8_t put_le(uint8_t *raw, uint8_t at, uint32_t v, uint8_t bytes)
{
    for (uint8_t i = 0; i < bytes; i++) raw[at++] = (uint8_t)(v >> (8 * i));
    return at;
}

/* Adds the CRC to `raw` (type and payload) and COBS-encodes it into `out`, with the 0x00. */
static uint8_t finish_binary(uint8_t *out, uint8_t *raw, uint8_t len)
{
    uint16_t crc = protocol_crc16(raw, len);
    len = put_le(raw, len, crc, 2);
    uint8_t code_at = 0, code = 1, at = 1;
    for (uint8_t i = 0; i < len; i++) {
        if (raw[i] == 0) {
            out[code_at] = code;
            code_at = at++;
            code = 1;
        } else {
            out[at++] = raw[i];
            if (++code == 0xFF) {
                out[code_at] = code;
                code_at = at++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    out[at++] = 0x00;
    return at;
}

uint8_t protocol_encode_hello(uint8_t *out, const char *gateway_id, uint32_t boot_id, uint16_t sensor_count)
{
    uint8_t raw[64];
    uint8_t id_len = (uint8_t)strlen(gateway_id);
    uint8_t at = 0;
    raw[at++] = 0x01;
    raw[at++] = id_len;
    memcpy(raw + at, gateway_id, id_len);
    at += id_len;
    at = put_le(raw, at, boot_id, 4);
    raw[at++] = PARKLINK_FIRMWARE_MAJOR;
    raw[at++] = PARKLINK_FIRMWARE_MINOR;
    raw[at++] = PARKLINK_FIRMWARE_PATCH;
    at = put_le(raw, at, sensor_count, 2);
    return finish_binary(out, raw, at);
}

uint8_t protocol_encode_reading(uint8_t *out, const struct reading *r)
{
    uint8_t raw[32];
    uint8_t flags = (r->occupied ? 1 : 0) | (r->has_distance ? 2 : 0) | (r->has_voltage ? 4 : 0)
        | (r->has_current ? 8 : 0) | (r->has_power_factor ? 16 : 0);
    uint8_t at = 0;
    raw[at++] = 0x02;
    at = put_le(raw, at, r->seq, 4);
    at = put_le(raw, at, r->sensor, 2);
    at = put_le(raw, at, r->t_ms, 4);
    raw[at++] = flags;
    at = put_le(raw, at, r->has_distance ? r->distance_cm : 0, 2);
    at = put_le(raw, at, r->has_voltage ? r->voltage_dv : 0, 2);
    at = put_le(raw, at, r->has_current ? r->current_ma : 0, 2);
    raw[at++] = r->has_power_factor ? r->power_factor_pct : 0;
    return finish_binary(out, raw, at);
}

uint8_t protocol_encode_heartbeat(uint8_t *out, uint32_t next_seq, uint32_t uptime_ms, uint32_t tx_dropped)
{
    uint8_t raw[16];
    uint8_t at = 0;
    raw[at++] = 0x03;
    at = put_le(raw, at, next_seq, 4);
    at = put_le(raw, at, uptime_ms, 4);
    at = put_le(raw, at, tx_dropped, 4);
    return finish_binary(out, raw, at);
}
#endif

/* ---- Commands from the host ---- */

void command_decoder_init(struct command_decoder *d)
{
    memset(d, 0, sizeof *d);
}

#if !PARKLINK_FRAMING_BINARY
static const char *const color_names[] = {"OFF", "GREEN", "RED", "BLUE", "AMBER"};

static bool parse_color(const char *s, uint8_t len, enum led_color *color)
{
    for (uint8_t i = 0; i < sizeof color_names / sizeof color_names[0]; i++) {
        if (strlen(color_names[i]) == len && memcmp(color_names[i], s, len) == 0) {
            *color = (enum led_color)i;
            return true;
        }
    }
    return false;
}

static int8_t hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') return (int8_t)(c - '0');
    if (c >= 'A' && c <= 'F') return (int8_t)(c - 'A' + 10);
    return -1;
}

/* `buf` holds what lay between '$' and the line end: TYPE[,fields]*XXXX, '\r' optional. */
static bool parse_text(uint8_t *buf, uint8_t len, struct command *cmd)
{
    if (len > 0 && buf[len - 1] == '\r') len--;
    if (len < 5 || buf[len - 5] != '*') return false;
    uint16_t sent = 0;
    for (uint8_t i = len - 4; i < len; i++) {
        int8_t v = hex_value(buf[i]);
        if (v < 0) return false;
        sent = (uint16_t)(sent << 4) | (uint16_t)v;
    }
    uint8_t body = len - 5;
    if (protocol_crc16(buf, body) != sent) return false;
    if (body == 4 && memcmp(buf, "PING", 4) == 0) {
        cmd->type = COMMAND_PING;
        return true;
    }
    if (body < 7 || memcmp(buf, "LED,", 4) != 0) return false;
    uint8_t at = 4;
    uint32_t sensor = 0;
    uint8_t digits = 0;
    while (at < body && buf[at] >= '0' && buf[at] <= '9' && digits < 6) {
        sensor = sensor * 10 + (buf[at++] - '0');
        digits++;
    }
    if (digits == 0 || sensor > 65535 || at >= body || buf[at] != ',') return false;
    at++;
    if (!parse_color((const char *)buf + at, body - at, &cmd->color)) return false;
    cmd->type = COMMAND_LED;
    cmd->sensor = (uint16_t)sensor;
    return true;
}

bool command_decoder_feed(struct command_decoder *d, uint8_t byte, struct command *cmd)
{
    if (byte == '$') {
        if (d->in_frame) d->rejected++; /* a frame cut short by the next one */
        d->in_frame = true;
        d->overflow = false;
        d->len = 0;
        return false;
    }
    if (!d->in_frame) return false; /* noise between frames */
    if (byte == '\n') {
        d->in_frame = false;
        bool ok = !d->overflow && parse_text(d->buf, d->len, cmd);
        if (!ok) d->rejected++;
        return ok;
    }
    if (d->len + 3 >= PROTOCOL_MAX_FRAME) d->overflow = true; /* with '$' and "\r\n": over 128 */
    else d->buf[d->len++] = byte;
    return false;
}

#else
bool command_decoder_feed(struct command_decoder *d, uint8_t byte, struct command *cmd)
{
    if (byte != 0x00) {
        if (d->len < sizeof d->buf) d->buf[d->len++] = byte;
        else d->overflow = true;
        return false;
    }
    /* A frame ends: COBS-decode in place, check the CRC, read the command. */
    uint8_t len = d->len;
    bool overflow = d->overflow;
    d->len = 0;
    d->overflow = false;
    if (len == 0) return false; /* an empty frame: resynchronisation filler */
    uint8_t raw[PROTOCOL_MAX_FRAME];
    uint8_t out = 0, at = 0;
    bool ok = !overflow;
    while (ok && at < len) {
        uint8_t code = d->buf[at++];
        if (code == 0 || at + code - 1 > len) {
            ok = false;
            break;
        }
        for (uint8_t i = 1; i < code; i++) raw[out++] = d->buf[at++];
        if (code != 0xFF && at < len) raw[out++] = 0;
    }
    if (ok && out >= 3) {
        uint16_t crc = (uint16_t)raw[out - 2] | (uint16_t)raw[out - 1] << 8;
        uint8_t n = out - 2;
        if (protocol_crc16(raw, n) == crc) {
            if (raw[0] == 0x11 && n == 1) {
                cmd->type = COMMAND_PING;
                return true;
            }
            if (raw[0] == 0x10 && n == 4 && raw[3] <= LED_AMBER) {
                cmd->type = COMMAND_LED;
                cmd->sensor = (uint16_t)raw[1] | (uint16_t)raw[2] << 8;
                cmd->color = (enum led_color)raw[3];
                return true;
            }
        }
    }
    d->rejected++;
    return false;
}
#endif
