#include "sensors.h"
#include "config.h"
#include "pins.h"
#include <math.h>

/*
 * The pin table of the reference board (firmware/README.md has the wiring):
 * sensor 1 is a bay with an EV charger (ranger and AC metering), sensor 2 has a ranger only,
 * sensor 3 only its occupancy detector. D0/D1 are the UART; A5 stays unconnected (entropy).
 */
const struct sensor_pins sensor_table[] = {
    {.id = 1, .occupied_pin = 2, .led_red = 3, .led_green = 4, .led_blue = 5,
     .distance_adc = 0, .voltage_adc = 1, .current_adc = 2},
    {.id = 2, .occupied_pin = 6, .led_red = 7, .led_green = 8, .led_blue = 9,
     .distance_adc = 3, .voltage_adc = ADC_NONE, .current_adc = ADC_NONE},
    {.id = 3, .occupied_pin = 10, .led_red = 11, .led_green = 12, .led_blue = 13,
     .distance_adc = ADC_NONE, .voltage_adc = ADC_NONE, .current_adc = ADC_NONE},
};
const uint8_t sensor_count = sizeof sensor_table / sizeof sensor_table[0];

void sensors_init(void)
{
    for (uint8_t i = 0; i < sensor_count; i++) pin_input_pullup(sensor_table[i].occupied_pin);
}

static void fill_presence(const struct sensor_pins *p, struct reading *r)
{
    r->has_distance = p->distance_adc != ADC_NONE;
    r->has_voltage = r->has_current = r->has_power_factor = p->voltage_adc != ADC_NONE && p->current_adc != ADC_NONE;
}

#if PARKLINK_SYNTHETIC
/* xorshift32: plausible values, different on every boot (seeded from the boot id). */
static uint32_t rng_state = 0x9E3779B9u;
static bool synthetic_occupied[8];

void sensors_seed(uint32_t seed) { rng_state = seed ? seed : 0x9E3779B9u; }

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static uint16_t between(uint16_t lo, uint16_t hi) { return lo + (uint16_t)(rng() % (uint32_t)(hi - lo + 1)); }

void sensors_sample(uint8_t index, uint32_t now_ms, struct reading *r)
{
    const struct sensor_pins *p = &sensor_table[index];
    bool *occupied = &synthetic_occupied[index & 7];
    if (rng() % 20 == 0) *occupied = !*occupied; /* a car arrives or leaves now and then */
    r->sensor = p->id;
    r->t_ms = now_ms;
    r->occupied = *occupied;
    fill_presence(p, r);
    r->distance_cm = *occupied ? between(25, 60) : between(180, 260);
    r->voltage_dv = between(2250, 2350);
    r->current_ma = *occupied ? between(2000, 9000) : between(0, 40);
    r->power_factor_pct = (uint8_t)between(85, 99);
}

#else
void sensors_seed(uint32_t seed) { (void)seed; }

/* Calibration of the reference board's AC front end (ADC counts to volts and amps). */
#define VOLTAGE_CAL 0.4882f /* V per count after removing the mid-rail bias */
#define CURRENT_CAL 0.0293f /* A per count: 30 A / 1 V CT on a 5 V / 1024 ADC */
#define METER_SAMPLES 480   /* about 100 ms: five 50 Hz cycles, V and I alternately */

/* Vrms, Irms and the power factor from simultaneous-ish V and I samples (EmonLib's calcVI,
 * without its phase correction), the bias removed by a slow low-pass filter. */
static void meter(const struct sensor_pins *p, struct reading *r)
{
    float offset_v = 512, offset_i = 512, sum_v2 = 0, sum_i2 = 0, sum_p = 0;
    for (uint16_t n = 0; n < METER_SAMPLES; n++) {
        float v = (float)adc_read(p->voltage_adc), i = (float)adc_read(p->current_adc);
        offset_v += (v - offset_v) / 1024;
        offset_i += (i - offset_i) / 1024;
        v -= offset_v;
        i -= offset_i;
        sum_v2 += v * v;
        sum_i2 += i * i;
        sum_p += v * i;
    }
    float vrms = VOLTAGE_CAL * sqrtf(sum_v2 / METER_SAMPLES);
    float irms = CURRENT_CAL * sqrtf(sum_i2 / METER_SAMPLES);
    float real = VOLTAGE_CAL * CURRENT_CAL * sum_p / METER_SAMPLES;
    float apparent = vrms * irms;
    float pf = apparent > 0.5f ? real / apparent : 1.0f;
    if (pf < 0) pf = -pf;
    if (pf > 1) pf = 1;
    r->voltage_dv = (uint16_t)fminf(vrms * 10 + 0.5f, 65535);
    r->current_ma = (uint16_t)fminf(irms * 1000 + 0.5f, 65535);
    r->power_factor_pct = (uint8_t)(pf * 100 + 0.5f);
}

void sensors_sample(uint8_t index, uint32_t now_ms, struct reading *r)
{
    const struct sensor_pins *p = &sensor_table[index];
    r->sensor = p->id;
    r->t_ms = now_ms;
    r->occupied = !pin_read(p->occupied_pin);
    fill_presence(p, r);
    r->distance_cm = 0;
    r->voltage_dv = r->current_ma = 0;
    r->power_factor_pct = 0;
    if (r->has_distance) {
        uint32_t cm = (uint32_t)adc_read(p->distance_adc) * 127 / 100; /* 1 count = half an inch */
        r->distance_cm = (uint16_t)cm;
    }
    if (r->has_voltage) meter(p, r);
}
#endif
