/* SPDX-License-Identifier: MIT */
/* kernel/panic.c — panic() and the frame-pointer backtrace. bareio is built
 * with -fno-omit-frame-pointer, so every frame starts with (saved rbp, return
 * address); boot/entry.S zeroes rbp so the chain ends at kmain. Names come
 * from the table the build embeds (kernel/symbols.c). */
#include "kernel/panic.h"
#include "kernel/console.h"
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
    /* Stacks live in the kernel image (.bss); anything else is not a frame. */
    return rbp && !(rbp & 7) && rbp >= (uint64_t)(uintptr_t)__kernel_start &&
           rbp + 16 <= (uint64_t)(uintptr_t)__kernel_end;
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

void panic(const char *fmt, ...)
{
    static int panicking;
    irq_disable();
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
