/* SPDX-License-Identifier: MIT */
/* kernel/panic.c — panic(), the frame-pointer backtrace and which CPU owns a
 * crash. bareio is built with -fno-omit-frame-pointer, so every frame starts
 * with (saved rbp, return address); boot/entry.S and the AP entry
 * (kernel/smp_trampoline.S) zero rbp so the chain ends at the entry. Names
 * come from the table the build embeds (kernel/symbols.c). */
#include "kernel/panic.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/screen.h"
#include "kernel/symbols.h"
#include "lib/format.h"
#include <stdarg.h>

extern char __kernel_start[], __kernel_end[];

#define BACKTRACE_MAX_FRAMES 32

static int frame_pointer_plausible(uint64_t rbp)
{
    /* The BSP's stacks live in the kernel image (.bss), an AP's where
     * kernel/smp.c allocated it (its cpu_local says); anything else is not
     * a frame. */
    if (!rbp || (rbp & 7))
        return 0;
    if (rbp >= (uint64_t)(uintptr_t)__kernel_start && rbp + 16 <= (uint64_t)(uintptr_t)__kernel_end)
        return 1;
    const struct cpu_local *c = cpu_local();
    return c && rbp >= c->stack_bottom && rbp + 16 <= c->stack_top;
}

static void print_frame(int index, uint64_t addr, bool return_address)
{
    uint64_t offset;
    const char *name = symbol_lookup(return_address ? addr - 1 : addr, &offset);
    if (name)
        kprintf("    #%d 0x%llx %s+0x%llx\n", index, (unsigned long long)addr, name,
                (unsigned long long)(return_address ? offset + 1 : offset));
    else
        kprintf("    #%d 0x%llx\n", index, (unsigned long long)addr);
}

void backtrace_print(uint64_t rip, uint64_t rbp, bool rip_is_return_address)
{
    kprintf("  backtrace:\n");
    print_frame(0, rip, rip_is_return_address);
    for (int i = 1; i < BACKTRACE_MAX_FRAMES && frame_pointer_plausible(rbp); i++) {
        const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
        uint64_t ret = frame[1];
        if (!ret)
            break;
        /* A return address points after the call: look up ret - 1. */
        print_frame(i, ret, true);
        if (frame[0] <= rbp)
            break;              /* stacks grow down: the caller's frame is higher */
        rbp = frame[0];
    }
}

static const struct crash_hooks *hooks;

void crash_set_hooks(const struct crash_hooks *h) { hooks = h; }

const char *crash_current(void) { return hooks && hooks->current ? hooks->current() : NULL; }

void crash_end(const char *what)
{
    if (hooks && hooks->end)
        hooks->end(what);
    kprintf("bareio: crashed outside any test: %s\n", what);
    bareio_exit(BAREIO_EXIT_CRASH);
}

/* ---- one crash owner ---- */

#define CRASH_NO_OWNER UINT32_MAX
/* How long the owner waits for the others to say they stopped, in raw TSC
 * ticks (about 0.25 s at 4 GHz): an NMI arrives in microseconds, and a CPU
 * that never answers must not hold the report back. */
#define CRASH_STOP_WAIT_TSC (1ull << 30)

static volatile uint32_t crash_owner = CRASH_NO_OWNER;
static volatile uint32_t cpus_parked;
static unsigned (*stopper)(void);

void crash_set_stopper(unsigned (*stop)(void)) { stopper = stop; }

/* How many CPUs were asked to stop; *stopped: how many said so in time. */
static unsigned stop_the_others(unsigned *stopped)
{
    unsigned asked = stopper ? stopper() : 0;
    uint64_t start = rdtsc();
    while (__atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE) < asked &&
           rdtsc() - start < CRASH_STOP_WAIT_TSC)
        cpu_pause();
    *stopped = __atomic_load_n(&cpus_parked, __ATOMIC_ACQUIRE);
    return asked;
}

bool crash_claim(void)
{
    uint32_t me = cpu_index();
    uint32_t expected = CRASH_NO_OWNER;
    if (__atomic_compare_exchange_n(&crash_owner, &expected, me, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        unsigned stopped;
        unsigned asked = stop_the_others(&stopped);
        console_crash_takeover();
        if (asked)          /* a CPU that did not stop may still print: say so */
            kprintf("bareio: crash on cpu %u: %u of %u other CPU(s) stopped (NMI)\n", me, stopped,
                    asked);
        return true;
    }
    return expected == me;
}

void crash_park(void)
{
    __atomic_fetch_add(&cpus_parked, 1, __ATOMIC_RELEASE);
    for (;;) {
        irq_disable();
        cpu_halt();
    }
}

void panic(const char *fmt, ...)
{
    static int panicking;
    irq_disable();
    if (!crash_claim())
        crash_park();
    if (panicking++)
        bareio_exit(BAREIO_EXIT_CRASH);
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *test = crash_current();
    screen_keep_begin();        /* the message goes under the CRASH banner */
    kprintf("bareio: PANIC: %s%s%s\n", msg, test ? " in test " : "", test ? test : "");
    screen_keep_end();
    /* Start at our caller: its return address and its frame. */
    const uint64_t *frame = __builtin_frame_address(0);
    backtrace_print(frame[1], frame[0], true);
    crash_end(msg);
}
