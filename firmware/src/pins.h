/* Arduino Uno pin numbers (D0-D13, A0-A5 as 14-19) on the ATmega328P's ports. */
#ifndef PARKLINK_PINS_H
#define PARKLINK_PINS_H
#include <stdbool.h>
#include <stdint.h>

#define PIN_NONE 0xFF
#define ADC_NONE 0xFF

void pin_output(uint8_t pin);
void pin_input_pullup(uint8_t pin);
void pin_write(uint8_t pin, bool high);
bool pin_read(uint8_t pin);
/* One 10-bit conversion against AVcc (about 104 us at 125 kHz). */
uint16_t adc_read(uint8_t channel);
void adc_init(void);
#endif
