/* USART0 at 115200 8N1 (U2X on: 2.1% error at 16 MHz, as Arduino's core does). The data
 * register empty interrupt drains the transmit ring; the main loop never waits for it. */
#include "uart.h"
#include "config.h"
#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#define TX_MASK (PARKLINK_TX_SIZE - 1)
#define RX_MASK (PARKLINK_RX_SIZE - 1)

static uint8_t tx_buf[PARKLINK_TX_SIZE];
static volatile uint16_t tx_head; /* written by the main loop */
static volatile uint16_t tx_tail; /* written by the ISR */
static uint8_t rx_buf[PARKLINK_RX_SIZE];
static volatile uint8_t rx_head; /* written by the ISR */
static volatile uint8_t rx_tail; /* written by the main loop */
static volatile uint16_t rx_overruns;

void uart_init(uint32_t baud)
{
    uint16_t ubrr = (uint16_t)((F_CPU / 4 / baud - 1) / 2);
    UCSR0A = _BV(U2X0);
    UBRR0H = (uint8_t)(ubrr >> 8);
    UBRR0L = (uint8_t)ubrr;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

bool uart_write_frame(const uint8_t *data, uint8_t len, uint16_t reserve)
{
    uint16_t head = tx_head, tail;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { tail = tx_tail; }
    uint16_t used = (head - tail) & TX_MASK;
    uint16_t free_bytes = PARKLINK_TX_SIZE - 1 - used;
    if ((uint16_t)len + reserve > free_bytes) return false;
    for (uint8_t i = 0; i < len; i++) {
        tx_buf[head] = data[i];
        head = (head + 1) & TX_MASK;
    }
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { tx_head = head; }
    UCSR0B |= _BV(UDRIE0);
    return true;
}

ISR(USART_UDRE_vect)
{
    uint16_t tail = tx_tail;
    if (tail == tx_head) {
        UCSR0B &= ~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_buf[tail];
    tx_tail = (tail + 1) & TX_MASK;
}

ISR(USART_RX_vect)
{
    uint8_t byte = UDR0;
    uint8_t next = (rx_head + 1) & RX_MASK;
    if (next == rx_tail) {
        rx_overruns++;
        return;
    }
    rx_buf[rx_head] = byte;
    rx_head = next;
}

int16_t uart_read(void)
{
    uint8_t tail = rx_tail;
    if (tail == rx_head) return -1;
    uint8_t byte = rx_buf[tail];
    rx_tail = (tail + 1) & RX_MASK;
    return byte;
}

uint16_t uart_rx_overruns(void)
{
    uint16_t n;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { n = rx_overruns; }
    return n;
}
