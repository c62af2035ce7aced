/* The AVR has no random source, so the id mixes two: a boot counter in EEPROM (distinct on
 * every boot of this board, even when the noise is poor) and the low bits of conversions
 * on an unconnected analog input (distinct between boards). A repeated id would make the
 * appliance take a new boot's seqs for duplicates, so the counter is what guarantees it. */
#include "boot_id.h"
#include "config.h"
#include "pins.h"
#include <avr/eeprom.h>

static uint32_t EEMEM boot_counter;

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV-1a step */
    return h;
}

uint32_t boot_id_make(void)
{
    uint32_t count = eeprom_read_dword(&boot_counter) + 1;
    eeprom_update_dword(&boot_counter, count);
    uint32_t h = mix(0x811C9DC5u, count);
    for (uint8_t n = 0; n < 64; n++) h = mix(h, adc_read(PARKLINK_ENTROPY_ADC));
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    return h;
}
