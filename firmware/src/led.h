/* Bay indicator LEDs, as the host commands them (LED sensor color). */
#ifndef PARKLINK_LED_H
#define PARKLINK_LED_H
#include "protocol.h"
#include <stdbool.h>
#include <stdint.h>

void led_init(void);
/* Sets a sensor's LED; false when the sensor is not in the pin table (the command is ignored). */
bool led_set(uint16_t sensor, enum led_color color);
/* The last color set for a sensor of the table (OFF at boot). */
enum led_color led_get(uint16_t sensor);
#endif
