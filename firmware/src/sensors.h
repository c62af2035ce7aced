/* The sensors this gateway reads: a pin table (sensors.c), sampled for real or, built with
 * PARKLINK_SYNTHETIC=1, made up. */
#ifndef PARKLINK_SENSORS_H
#define PARKLINK_SENSORS_H
#include "protocol.h"
#include <stdint.h>

struct sensor_pins {
    uint16_t id;          /* the protocol's sensor number */
    uint8_t occupied_pin; /* digital input, pulled up: LOW = a vehicle (open-collector detector) */
    uint8_t led_red, led_green, led_blue; /* a common-cathode RGB indicator; PIN_NONE: none */
    uint8_t distance_adc; /* an analog ultrasonic ranger (MaxBotix LV-EZ: Vcc/512 per inch) */
    uint8_t voltage_adc;  /* AC metering: a voltage transformer on a biased divider ... */
    uint8_t current_adc;  /* ... and a current transformer (both sampled together: Vrms, Irms, PF) */
};

extern const struct sensor_pins sensor_table[];
extern const uint8_t sensor_count;

void sensors_init(void);
/* Seeds the synthetic generator (a no-op when the sensors are real). */
void sensors_seed(uint32_t seed);
/* Samples sensor `index` of the table into `r` (all but seq). */
void sensors_sample(uint8_t index, uint32_t now_ms, struct reading *r);
#endif
