/* SPDX-License-Identifier: MIT */
/* kernel/exit.c — ending a run: QEMU's isa-debug-exit, halt, reset (the
 * reset hook first — ACPI registers the FADT's reset register there, so
 * that this file, which everything may call, calls nothing above it — then
 * 0xCF9, then the 8042), or power-off (ACPI S5, registered by
 * kernel/power.c the same way). Whatever fails ends in a halt, said. */
#include "kernel/exit.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/watchdog.h"
#include "kernel/screen.h"
#include <stdarg.h>

#define DEBUG_EXIT_PORT 0xf4

static enum exit_method method = EXIT_AUTO;

void exit_set_method(enum exit_method m) { method = m; }

/* QEMU's isa-debug-exit reads as 0; an unclaimed port reads as all ones. Only
 * trusted under a hypervisor (CPUID.1:ECX bit 31), so real machines never get
 * a stray write to port 0xf4. */
static int qemu_exit_device_present(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31)))
        return 0;
    return inb(DEBUG_EXIT_PORT) == 0;
}

static void (*reset_hook)(void);

void exit_set_reset_hook(void (*hook)(void)) { reset_hook = hook; }

static void (*poweroff_hook)(void);
static const char *poweroff_unavailable = "the run ended before the ACPI power-off was set up";

void exit_set_poweroff_hook(void (*hook)(void)) { poweroff_hook = hook; }
void exit_set_poweroff_unavailable(const char *why) { poweroff_unavailable = why; }

static void reset_system(void)
{
    if (reset_hook)
        reset_hook();           /* the ACPI reset register, when the FADT has one */
    kprintf("bareio: rebooting through port 0xcf9, then the 8042\n");
    outb(0xcf9, 0x02);
    outb(0xcf9, 0x06);          /* PCI reset control: hard reset */
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
        cpu_pause();
    outb(0x64, 0xfe);           /* 8042 pulse reset line */
}

static unsigned total_passed, total_failed, total_skipped;

void exit_set_totals(unsigned passed, unsigned failed, unsigned skipped)
{
    total_passed = passed;
    total_failed = failed;
    total_skipped = skipped;
}

static const char *verdict_word(enum bareio_exit status)
{
    switch (status) {
    case BAREIO_EXIT_PASS: return "pass";
    case BAREIO_EXIT_FAIL: return "fail";
    case BAREIO_EXIT_USAGE: return "usage";
    default: return "crash";
    }
}

void bareio_exit(enum bareio_exit status)
{
    enum exit_method m = method;
    if (m == EXIT_AUTO)
        m = qemu_exit_device_present() ? EXIT_QEMU : EXIT_HALT;
    irq_disable();
    watchdog_stop();            /* a machine halted with its results up stays halted */
    screen_show_verdict(status);    /* stays up while the machine halts */
    kprintf("bareio-result: %s passed=%u failed=%u skipped=%u\n", verdict_word(status),
            total_passed, total_failed, total_skipped);
    switch (m) {
    case EXIT_QEMU:
        outb(DEBUG_EXIT_PORT, (uint8_t)status);
        kprintf("bareio: isa-debug-exit did not stop the machine; halting\n");
        break;
    case EXIT_POWEROFF:
        /* QEMU exits with 0 on a power-off: this line carries the result
         * (tools/run-qemu reads it). */
        kprintf("bareio: powering off (exit status %#x)\n", status);
        if (poweroff_hook)
            poweroff_hook();
        else
            kprintf("bareio: cannot power off: %s\n", poweroff_unavailable);
        kprintf("bareio: halted instead of powering off (exit status %#x); switch the machine "
                "off by hand\n", status);
        break;
    case EXIT_REBOOT:
        reset_system();
        kprintf("bareio: no reset method worked; halting\n");
        break;
    default:
        kprintf("bareio: halted (exit status %#x)\n", status);
        break;
    }
    for (;;)
        cpu_halt();
}
