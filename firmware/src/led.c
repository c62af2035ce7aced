/* A common-cathode RGB LED per bay: GREEN, RED, BLUE light one die; AMBER mixes red and
 * green. The state is kept per table entry, so it can be read back (and a real board
 * could restore it after a brown-out without the host). */
#include "led.h"
#include "pins.h"
#include "sensors.h"

static enum led_color state[8];

void led_init(void)
{
    for (uint8_t i = 0; i < sensor_count; i++) {
        const struct sensor_pins *p = &sensor_table[i];
        pin_output(p->led_red);
        pin_output(p->led_green);
        pin_output(p->led_blue);
        pin_write(p->led_red, false);
        pin_write(p->led_green, false);
        pin_write(p->led_blue, false);
    }
}

static int8_t index_of(uint16_t sensor)
{
    for (uint8_t i = 0; i < sensor_count; i++) {
        if (sensor_table[i].id == sensor) return (int8_t)i;
    }
    return -1;
}

bool led_set(uint16_t sensor, enum led_color color)
{
    int8_t i = index_of(sensor);
    if (i < 0) return false;
    const struct sensor_pins *p = &sensor_table[i];
    state[i & 7] = color;
    pin_write(p->led_red, color == LED_RED || color == LED_AMBER);
    pin_write(p->led_green, color == LED_GREEN || color == LED_AMBER);
    pin_write(p->led_blue, color == LED_BLUE);
    return true;
}

enum led_color led_get(uint16_t sensor)
{
    int8_t i = index_of(sensor);
    return i < 0 ? LED_OFF : state[i & 7];
}
