/* Host build of src/protocol.c for test/check_vectors.py: one request per stdin line,
 * one answer per stdout line (frames as hex).
 *   hello ID BOOT_ID SENSOR_COUNT          -> hex
 *   reading SEQ SENSOR T_MS OCC D V C PF   -> hex ('-' for an absent field)
 *   heartbeat NEXT_SEQ UPTIME TX_DROPPED   -> hex
 *   command HEX                            -> "ping" | "led SENSOR COLOR" | "rejected" */
#include "../src/protocol.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_hex(const uint8_t *b, uint8_t n)
{
    for (uint8_t i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}

static bool field(const char *s, uint32_t *v)
{
    if (!strcmp(s, "-")) return false;
    *v = (uint32_t)strtoul(s, NULL, 10);
    return true;
}

int main(void)
{
    static const char *colors[] = {"OFF", "GREEN", "RED", "BLUE", "AMBER"};
    char line[1024];
    uint8_t out[PROTOCOL_MAX_FRAME];
    while (fgets(line, sizeof line, stdin)) {
        char a[9][300];
        int n = sscanf(line, "%299s %299s %299s %299s %299s %299s %299s %299s %299s", a[0], a[1], a[2], a[3], a[4], a[5],
                       a[6], a[7], a[8]);
        if (n >= 4 && !strcmp(a[0], "hello")) {
            print_hex(out, protocol_encode_hello(out, a[1], (uint32_t)strtoul(a[2], NULL, 10), (uint16_t)atoi(a[3])));
        } else if (n == 9 && !strcmp(a[0], "reading")) {
            struct reading r = {0};
            uint32_t v = 0;
            r.seq = (uint32_t)strtoul(a[1], NULL, 10);
            r.sensor = (uint16_t)atoi(a[2]);
            r.t_ms = (uint32_t)strtoul(a[3], NULL, 10);
            r.occupied = atoi(a[4]) != 0;
            if ((r.has_distance = field(a[5], &v))) r.distance_cm = (uint16_t)v;
            if ((r.has_voltage = field(a[6], &v))) r.voltage_dv = (uint16_t)v;
            if ((r.has_current = field(a[7], &v))) r.current_ma = (uint16_t)v;
            if ((r.has_power_factor = field(a[8], &v))) r.power_factor_pct = (uint8_t)v;
            print_hex(out, protocol_encode_reading(out, &r));
        } else if (n == 4 && !strcmp(a[0], "heartbeat")) {
            print_hex(out, protocol_encode_heartbeat(out, (uint32_t)strtoul(a[1], NULL, 10),
                                                     (uint32_t)strtoul(a[2], NULL, 10), (uint32_t)strtoul(a[3], NULL, 10)));
        } else if (n == 2 && !strcmp(a[0], "command")) {
            struct command_decoder d;
            command_decoder_init(&d);
            struct command c = {0};
            bool got = false;
            for (size_t i = 0; a[1][i] && a[1][i + 1]; i += 2) {
                unsigned byte;
                sscanf(a[1] + i, "%2x", &byte);
                got = command_decoder_feed(&d, (uint8_t)byte, &c) || got;
            }
            if (!got) printf("rejected\n");
            else if (c.type == COMMAND_PING) printf("ping\n");
            else printf("led %u %s\n", c.sensor, colors[c.color]);
        } else {
            printf("bad request\n");
        }
        fflush(stdout);
    }
    return 0;
}
