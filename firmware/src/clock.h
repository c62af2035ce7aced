/* millis(): Timer0 overflow every 1.024 ms, as the Arduino core counts it. */
#ifndef PARKLINK_CLOCK_H
#define PARKLINK_CLOCK_H
#include <stdint.h>
void clock_init(void);
uint32_t clock_millis(void);
#endif
