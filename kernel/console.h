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

/* The log ring: the last LOG_RING_SIZE bytes of everything logged (including
 * messages below the console level). Copies the newest `max` bytes. */
#define LOG_RING_SIZE 65536
size_t log_ring_copy(char *dst, size_t max);
uint64_t log_ring_total(void);

#endif
