/* SPDX-License-Identifier: MIT */
/* kernel/console.h — the serial console, levelled logging and the in-memory
 * log ring. Every call writes whole lines with interrupts off, so lines from an
 * interrupt handler never interleave with a line being written. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include <stddef.h>
#include <stdint.h>
#include "kernel/serial.h"

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Early console on COM1 (0x3f8, 115200) until console_configure() runs. */
void console_early_init(void);
/* Switch to `port` (from console= or ACPI SPCR). Returns false, keeping the
 * current console, when no UART answers there. */
int console_configure(const struct serial_port *port);
const struct serial_port *console_port(void);
/* Called once memory_init() has built the final page tables, with the
 * function that maps MMIO uncached (mmio_map): maps an MMIO console's
 * registers again (the boot tables mapped them identity). */
void console_memory_ready(volatile void *(*map)(uint64_t phys, uint64_t size));

void console_set_level(enum log_level level);
enum log_level console_level(void);

/* Unconditional output (KTAP, tables). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Levelled output: printed when level <= the console level, always kept in the ring. */
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every line klog() writes starts with `prefix` until it is set to NULL (the
 * harness makes log lines inside a test case KTAP diagnostics). */
void console_set_klog_prefix(const char *prefix);
/* Every byte written to the serial console is also handed to `mirror` (the
 * screen console, kernel/screen.c), with interrupts off; NULL for none. A hook,
 * so that the console, which everything calls, calls nothing above it. */
void console_set_mirror(void (*mirror)(const char *s, size_t len));
/* Raw string, no formatting: for exception handlers. */
void console_write(const char *s, size_t len);
/* A crash (kernel/panic.c's crash_claim(), after the other CPUs were sent
 * their stop) takes the console lock for good for this CPU. */
void console_crash_takeover(void);

/* Capturing a CPU's output (the parallel harness, tests/harness/dio.c): while
 * a capture is begun on a CPU, everything that CPU writes (kprintf, klog,
 * console_write) goes into the capture's buffer instead of the UART and the
 * screen (the log ring still gets it at once); console_capture_emit() later
 * writes the buffer out whole, in the order the harness chooses, so the
 * report of work done by several CPUs at once reads as if done one after
 * another. Text past the buffer is dropped, counted, and said when emitted.
 * A crash (console_crash_takeover()) first writes out every capture still
 * begun, then stops capturing everywhere: the crash report is never held
 * back. console_capture_abandon() is for work given up while its CPU still
 * runs (a timed-out case): its text so far is written out, and what that
 * CPU writes after goes nowhere (counted) until it ends the capture; the
 * count is said when the same capture is next begun and emitted. A capture
 * must be zeroed before its first begin. */
struct console_capture {
    char *buf;
    size_t size, len;
    uint64_t dropped;           /* bytes that did not fit, or came after abandon */
    volatile bool abandoned;
    struct console_capture *next_begun;     /* the list of begun captures (console lock) */
};
/* False (nothing changed) when the CPU has no cpu_local yet or a capture is
 * already begun on it. */
bool console_capture_begin(struct console_capture *cap, char *buf, size_t size);
void console_capture_end(void);
/* Writes out what cap holds and empties it; safe while its CPU still writes
 * into it (the text after this call is emitted next time). */
void console_capture_emit(struct console_capture *cap);
void console_capture_abandon(struct console_capture *cap);

/* The log ring: the last LOG_RING_SIZE bytes of everything logged (including
 * messages below the console level). Copies the newest `max` bytes. */
#define LOG_RING_SIZE 65536
size_t log_ring_copy(char *dst, size_t max);
uint64_t log_ring_total(void);

#endif
