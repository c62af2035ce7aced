/* Timer0, prescaler 64: an overflow every 256 * 64 / 16 MHz = 1024 us. The fraction is
 * carried in eighths of a millisecond (1024 us = 1 ms + 3/125 ms; Arduino's scheme), so
 * millis() keeps wall time and wraps at 2^32 as the protocol's t_ms does. */
#include "clock.h"
#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#define MICROS_PER_OVERFLOW 1024
#define MILLIS_INC (MICROS_PER_OVERFLOW / 1000)
#define FRACT_INC ((MICROS_PER_OVERFLOW % 1000) >> 3)
#define FRACT_MAX (1000 >> 3)

static volatile uint32_t millis_count;
static volatile uint8_t millis_fract;

void clock_init(void)
{
    TCCR0A = 0;
    TCCR0B = _BV(CS01) | _BV(CS00);
    TIMSK0 = _BV(TOIE0);
}

ISR(TIMER0_OVF_vect)
{
    uint32_t m = millis_count;
    uint8_t f = millis_fract + FRACT_INC;
    m += MILLIS_INC;
    if (f >= FRACT_MAX) {
        f -= FRACT_MAX;
        m += 1;
    }
    millis_fract = f;
    millis_count = m;
}

uint32_t clock_millis(void)
{
    uint32_t m;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { m = millis_count; }
    return m;
}
