/* Interrupt-driven USART0: a transmit ring that never blocks the caller and a receive ring. */
#ifndef PARKLINK_UART_H
#define PARKLINK_UART_H
#include <stdbool.h>
#include <stdint.h>

void uart_init(uint32_t baud);
/* Queues all `len` bytes if at least `len + reserve` bytes are free, else none of them:
 * a frame is never cut, and the caller counts what it could not send. */
bool uart_write_frame(const uint8_t *data, uint8_t len, uint16_t reserve);
/* The next received byte, or -1 when none is waiting. */
int16_t uart_read(void);
/* Bytes the receive ring had to discard (it was full). */
uint16_t uart_rx_overruns(void);
#endif
