#include "pins.h"
#include <avr/io.h>

/* D0-D7: PORTD 0-7; D8-D13: PORTB 0-5; A0-A5 (14-19): PORTC 0-5. */
static volatile uint8_t *port_of(uint8_t pin, uint8_t *bit, volatile uint8_t **ddr, volatile uint8_t **in)
{
    if (pin < 8) {
        *bit = _BV(pin);
        *ddr = &DDRD;
        *in = &PIND;
        return &PORTD;
    }
    if (pin < 14) {
        *bit = _BV(pin - 8);
        *ddr = &DDRB;
        *in = &PINB;
        return &PORTB;
    }
    *bit = _BV(pin - 14);
    *ddr = &DDRC;
    *in = &PINC;
    return &PORTC;
}

void pin_output(uint8_t pin)
{
    if (pin == PIN_NONE) return;
    uint8_t bit;
    volatile uint8_t *ddr, *in;
    port_of(pin, &bit, &ddr, &in);
    *ddr |= bit;
}

void pin_input_pullup(uint8_t pin)
{
    if (pin == PIN_NONE) return;
    uint8_t bit;
    volatile uint8_t *ddr, *in;
    volatile uint8_t *port = port_of(pin, &bit, &ddr, &in);
    *ddr &= (uint8_t)~bit;
    *port |= bit;
}

void pin_write(uint8_t pin, bool high)
{
    if (pin == PIN_NONE) return;
    uint8_t bit;
    volatile uint8_t *ddr, *in;
    volatile uint8_t *port = port_of(pin, &bit, &ddr, &in);
    if (high) *port |= bit;
    else *port &= (uint8_t)~bit;
}

bool pin_read(uint8_t pin)
{
    uint8_t bit;
    volatile uint8_t *ddr, *in;
    port_of(pin, &bit, &ddr, &in);
    return (*in & bit) != 0;
}

void adc_init(void)
{
    ADMUX = _BV(REFS0);                                  /* AVcc reference */
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0); /* 16 MHz / 128 = 125 kHz */
}

uint16_t adc_read(uint8_t channel)
{
    ADMUX = _BV(REFS0) | (channel & 0x0F);
    ADCSRA |= _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {}
    return ADC;
}
