/* SPDX-License-Identifier: MIT */
/* kernel/watchdog.h — bounds on a whole run (issue 14: runs that always end).
 *
 * watchdog=SECONDS bounds the run in software: the harness reports the case
 * running when it expires as timed out, closes the KTAP document and ends
 * the run as exit= says. That needs the CPU to take the LAPIC timer's
 * interrupt; a hang with interrupts off, a stuck CPU or a wedged bus is
 * caught by a hardware watchdog instead, which a driver registers here
 * (drivers/tco: the Intel TCO timer) and which reboots the machine unless it
 * is kicked. Kicks come from the harness's timer interrupt and case
 * boundaries; watchdog_kick_interval_ns() tells the harness how often the
 * timer must fire to keep it from expiring. Every exit stops it first, so a
 * machine halted with its results on the screen stays halted.
 *
 * kernel/ knows no driver: the driver registers its operations, as the
 * reset and power-off hooks do in kernel/exit.h. */
#ifndef KERNEL_WATCHDOG_H
#define KERNEL_WATCHDOG_H
#include <stdbool.h>
#include <stdint.h>

struct hw_watchdog {
    const char *name;               /* "Intel TCO (ICH9 LPC 00:1f.0)" */
    bool (*start)(void);            /* false, said why, when it cannot run */
    void (*kick)(void);             /* interrupt-safe: a few port writes */
    void (*stop)(void);
    uint64_t kick_interval_ns;      /* kick at least this often */
    uint64_t reboot_after_ns;       /* without kicks the machine resets after this */
};

/* watchdog= in seconds; 0 when not given (no bound, no hardware watchdog). */
uint32_t watchdog_run_seconds(void);
/* watchdog.hw=off keeps the hardware watchdog disarmed even with watchdog=. */
bool watchdog_hw_wanted(void);

/* A driver that found a watchdog it can drive offers it here, stopped. One
 * at a time; a second registration is refused (false). */
bool watchdog_register(const struct hw_watchdog *w);
/* The harness, when the run starts: starts the registered watchdog. From
 * then on kicks and the stop at exit go to it. False when there is none or
 * it would not start. */
bool watchdog_start(void);
/* The running one, or NULL. */
const struct hw_watchdog *watchdog_armed(void);
void watchdog_kick(void);
void watchdog_stop(void);
/* The driver found its chipset's sign that the previous boot was reset by
 * the watchdog; the harness puts it in the report's head. */
void watchdog_note_previous_reset(const char *name);
const char *watchdog_previous_reset(void);     /* the watchdog's name, or NULL */
/* How often kicks must come: UINT64_MAX when no hardware watchdog is armed. */
uint64_t watchdog_kick_interval_ns(void);

#endif
