/* SPDX-License-Identifier: MIT */
/* kernel/watchdog.c — the watchdog= key and the one hardware watchdog a
 * driver may register (see kernel/watchdog.h). */
#include "kernel/watchdog.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"

/* A week: a bound longer than any run that is still a bound. */
CMDLINE_UINT(uint32_t, watchdog_seconds, "watchdog", 0, 0, 7u * 24 * 3600,
             "SECONDS bound on the whole run: the running case times out, the report is "
             "closed, the run ends as exit= says; arms the chipset's hardware watchdog too "
             "(default 0: none)");
CMDLINE_BOOL(watchdog_hw, "watchdog.hw", true,
             "with watchdog=, also arm a hardware watchdog that resets a machine hung with "
             "interrupts off (default on)");

static const struct hw_watchdog *offered, *armed;

uint32_t watchdog_run_seconds(void) { return watchdog_seconds; }
bool watchdog_hw_wanted(void) { return watchdog_seconds && watchdog_hw; }

bool watchdog_register(const struct hw_watchdog *w)
{
    if (offered)
        return false;
    offered = w;
    return true;
}

bool watchdog_start(void)
{
    if (!offered || armed)
        return armed != NULL;
    if (!offered->start())
        return false;
    armed = offered;
    kprintf("watchdog: %s armed: the machine resets %llu s after the last kick\n", armed->name,
            (unsigned long long)(armed->reboot_after_ns / 1000000000ull));
    return true;
}

const struct hw_watchdog *watchdog_armed(void) { return armed; }

void watchdog_kick(void)
{
    if (armed)
        armed->kick();
}

void watchdog_stop(void)
{
    const struct hw_watchdog *w = armed;
    armed = NULL;
    if (w) {
        w->stop();
        kprintf("watchdog: %s stopped\n", w->name);
    }
}

static const char *previous_reset;
void watchdog_note_previous_reset(const char *name) { previous_reset = name; }
const char *watchdog_previous_reset(void) { return previous_reset; }

uint64_t watchdog_kick_interval_ns(void) { return armed ? armed->kick_interval_ns : UINT64_MAX; }
