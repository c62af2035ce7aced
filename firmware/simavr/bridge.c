/*
 * simavr-bridge: runs the gateway firmware in simavr, its USART0 bridged to a new
 * pseudo-terminal, at the speed of a real 16 MHz part.
 *
 *   simavr-bridge [--mcu atmega328p] [--frequency 16000000] [--link PATH] [--gpio-log FILE]
 *                 [--no-wait] FIRMWARE.elf
 *
 * Prints "pty /dev/pts/N" on stdout once the firmware is loaded, then waits until a host
 * opens the pty (the first HELLO would otherwise go nowhere) and runs the core paced to
 * wall-clock time. Bytes the AVR sends go to the pty; bytes the host writes are fed to the
 * UART while its receive FIFO has room (its XON/XOFF signals), as a wire would. Output
 * pins are reported as they change ("gpio PB3 1 at 1234 ms", the time is the AVR's), so a
 * test can see what the firmware did with an LED command. An unconnected analog input
 * reads noise, as on a board. SIGTERM/SIGINT: prints a summary line on stderr and exits 0.
 *
 * simavr's own run_avr has no pty bridge that works here (../shared/PLATFORM-NOTES.md).
 */
#define _GNU_SOURCE
#include <avr_adc.h>
#include <avr_ioport.h>
#include <avr_uart.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAPACITY 65536 /* a USB-serial adapter's buffer: past it, bytes are lost */
#define IN_CAPACITY 4096

static volatile sig_atomic_t stopping;
static avr_t *avr;
static int master = -1;
static FILE *gpio_log;

static uint8_t out_buf[OUT_CAPACITY];
static size_t out_len;
static uint64_t bytes_to_host, bytes_from_host, bytes_lost;
static uint8_t in_buf[IN_CAPACITY];
static size_t in_len, in_at;
static bool uart_xon = true;
static avr_irq_t *uart_input;
static avr_irq_t *adc_noise;
static uint8_t pin_state[3][8];

static uint64_t start_ns;

static uint64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("simavr-bridge: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Sleeps until wall-clock time catches up with the AVR's `cycle`. */
static void pace(avr_cycle_count_t cycle)
{
    uint64_t target = start_ns + (uint64_t)((double)cycle * 1e9 / avr->frequency);
    uint64_t now = monotonic_ns();
    if (target > now + 200000) {
        uint64_t d = target - now;
        struct timespec t = {.tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull)};
        nanosleep(&t, NULL);
    }
}

/* The core asks to sleep (the firmware idles between interrupts): pace instead of usleep.
 * simavr 1.6 asks cycle by cycle here (how_long is 1), so the clock is read only every
 * 4096 calls: reading it each time cost a whole core. */
static void on_sleep(avr_t *a, avr_cycle_count_t how_long)
{
    static unsigned calls;
    if (how_long > 4096 || (++calls & 4095) == 0) pace(a->cycle + how_long);
}

static void on_uart_output(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    if (out_len < OUT_CAPACITY) out_buf[out_len++] = (uint8_t)value;
    else bytes_lost++;
}

static void on_uart_xon(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)value, (void)param;
    uart_xon = true;
}

static void on_uart_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)value, (void)param;
    uart_xon = false;
}

/* A conversion starts: a floating input reads whatever it picks up. */
static void on_adc_trigger(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq, (void)value, (void)param;
    uint16_t mv;
    if (getrandom(&mv, sizeof mv, 0) != sizeof mv) mv = (uint16_t)monotonic_ns();
    avr_raise_irq(adc_noise, mv % 5000);
}

static void on_pin(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    uintptr_t p = (uintptr_t)param;
    uint8_t port = (uint8_t)(p >> 8), pin = (uint8_t)(p & 7);
    uint8_t v = value ? 1 : 0;
    if (pin_state[port][pin] == v) return;
    pin_state[port][pin] = v;
    if (gpio_log) {
        fprintf(gpio_log, "gpio P%c%u %u at %llu ms\n", "BCD"[port], pin, v,
                (unsigned long long)(avr->cycle * 1000ull / avr->frequency));
        fflush(gpio_log);
    }
}

/* Moves bytes both ways without ever blocking the core. */
static void service_pty(void)
{
    while (out_len > 0) {
        ssize_t n = write(master, out_buf, out_len);
        if (n > 0) {
            bytes_to_host += (uint64_t)n;
            memmove(out_buf, out_buf + n, out_len - (size_t)n);
            out_len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* No host has the pty open: what the AVR sent falls on the floor, as on a wire. */
            bytes_lost += out_len;
            out_len = 0;
        }
        break;
    }
    if (in_at == in_len) {
        in_at = in_len = 0;
        ssize_t n = read(master, in_buf, sizeof in_buf);
        if (n > 0) in_len = (size_t)n;
    }
    while (uart_xon && in_at < in_len) {
        bytes_from_host++;
        avr_raise_irq(uart_input, in_buf[in_at++]);
    }
}

static bool host_has_pty_open(void)
{
    struct pollfd p = {.fd = master, .events = POLLIN};
    if (poll(&p, 1, 0) < 0) return false;
    return (p.revents & POLLHUP) == 0;
}

static void on_signal(int s)
{
    (void)s;
    stopping = 1;
}

int main(int argc, char **argv)
{
    const char *mcu = "atmega328p", *link = NULL, *elf = NULL, *gpio_path = NULL;
    uint32_t frequency = 16000000;
    bool wait_for_host = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mcu") && i + 1 < argc) mcu = argv[++i];
        else if (!strcmp(argv[i], "--frequency") && i + 1 < argc) frequency = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--link") && i + 1 < argc) link = argv[++i];
        else if (!strcmp(argv[i], "--gpio-log") && i + 1 < argc) gpio_path = argv[++i];
        else if (!strcmp(argv[i], "--no-wait")) wait_for_host = false;
        else if (argv[i][0] != '-' && !elf) elf = argv[i];
        else fail("usage: simavr-bridge [--mcu NAME] [--frequency HZ] [--link PATH] [--gpio-log FILE|-] [--no-wait] FIRMWARE.elf");
    }
    if (!elf) fail("no firmware: give the .elf to run (make -C firmware builds build-*/parklink-gateway.elf)");
    if (frequency == 0) fail("--frequency must be a positive number of hertz");

    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf, &fw) != 0) fail("cannot read %s as an AVR ELF file", elf);
    avr = avr_make_mcu_by_name(mcu);
    if (!avr) fail("simavr does not know the MCU '%s'", mcu);
    avr_init(avr);
    avr->log = LOG_ERROR;
    avr->frequency = frequency;
    avr_load_firmware(avr, &fw);
    avr->frequency = frequency;
    avr->sleep = on_sleep;

    /* The UART: no stdio echo of its own, our callbacks instead. */
    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~AVR_UART_FLAG_STDIO;
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    avr_irq_t *uart = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), 0);
    if (!uart) fail("the MCU has no USART0");
    uart_input = uart + UART_IRQ_INPUT;
    avr_irq_register_notify(uart + UART_IRQ_OUTPUT, on_uart_output, NULL);
    avr_irq_register_notify(uart + UART_IRQ_OUT_XON, on_uart_xon, NULL);
    avr_irq_register_notify(uart + UART_IRQ_OUT_XOFF, on_uart_xoff, NULL);

    adc_noise = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC5);
    avr_irq_t *adc_trigger = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER);
    if (adc_noise && adc_trigger) avr_irq_register_notify(adc_trigger, on_adc_trigger, NULL);

    if (gpio_path) {
        gpio_log = strcmp(gpio_path, "-") ? fopen(gpio_path, "a") : stderr;
        if (!gpio_log) fail("cannot open %s: %s", gpio_path, strerror(errno));
        for (uintptr_t port = 0; port < 3; port++) {
            for (uintptr_t pin = 0; pin < 8; pin++) {
                avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ("BCD"[port]), (int)pin);
                if (irq) avr_irq_register_notify(irq, on_pin, (void *)(port << 8 | pin));
            }
        }
    }

    int follower;
    char name[256];
    if (openpty(&master, &follower, name, NULL, NULL) < 0) fail("openpty: %s", strerror(errno));
    struct termios t;
    tcgetattr(follower, &t);
    cfmakeraw(&t);
    tcsetattr(follower, TCSANOW, &t);
    /* Closed here, so the controller shows POLLHUP until the host opens the follower. */
    close(follower);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    if (link) {
        unlink(link);
        if (symlink(name, link) < 0) fail("cannot link %s to %s: %s", link, name, strerror(errno));
    }
    printf("pty %s\n", name);
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (wait_for_host && !stopping && !host_has_pty_open()) usleep(2000);

    start_ns = monotonic_ns();
    avr_cycle_count_t start_cycle = avr->cycle;
    start_ns -= (uint64_t)((double)start_cycle * 1e9 / frequency);
    int state = cpu_Running;
    while (!stopping) {
        for (int i = 0; i < 2000; i++) {
            state = avr_run(avr);
            if (state == cpu_Done || state == cpu_Crashed) break;
        }
        if (state == cpu_Done || state == cpu_Crashed) break;
        service_pty();
        pace(avr->cycle);
    }
    service_pty();
    fprintf(stderr, "simavr-bridge: %s after %.3f s of AVR time: %llu bytes to the host, %llu from it, %llu lost\n",
            state == cpu_Crashed ? "crashed" : state == cpu_Done ? "done" : "stopped",
            (double)avr->cycle / frequency, (unsigned long long)bytes_to_host,
            (unsigned long long)bytes_from_host, (unsigned long long)bytes_lost);
    if (link) unlink(link);
    return state == cpu_Crashed ? 1 : 0;
}
