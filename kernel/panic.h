/* SPDX-License-Identifier: MIT */
/* kernel/panic.h — backtraces for exception reports and panic(). */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
#include <stdbool.h>
#include <stdint.h>

/* Prints `backtrace:` then the frame-pointer chain starting at (rip, rbp);
 * stops at a null, unaligned or out-of-RAM frame pointer, or after 32 frames.
 * `rip_is_return_address`: rip points after a call (panic's caller) rather
 * than at the faulting instruction (an exception), so it is named by rip - 1:
 * a call to a noreturn function may be the last instruction of its function. */
void backtrace_print(uint64_t rip, uint64_t rbp, bool rip_is_return_address);

/* What a crash (an exception or panic()) asks of whatever runs above the
 * kernel: the name of the work in progress for the report ("suite.case"),
 * and the end of the report (the harness closes its KTAP document). The
 * harness registers them as it starts; the kernel knows nothing of tests.
 * `end` must not return; without hooks a crash exits with CRASH itself. */
struct crash_hooks {
    const char *(*current)(void);
    __attribute__((noreturn)) void (*end)(const char *what);
};
void crash_set_hooks(const struct crash_hooks *hooks);
/* The running work's name, or NULL. */
const char *crash_current(void);
/* Ends the run after a crash report: the registered end, else "crashed
 * outside any test" and BAREIO_EXIT_CRASH. */
__attribute__((noreturn)) void crash_end(const char *what);

/* With several CPUs online, one crash report at a time: the first CPU to
 * crash owns it. crash_claim() returns true on that CPU (again on a nested
 * crash there), after it has asked the others to stop (the stopper kernel/smp.c
 * registers sends each an NMI) and waited a bounded while for them; it then
 * holds the console for good. On any other CPU it returns false and the
 * caller parks with crash_park(): an NMI that is the stop request, or a
 * second CPU's own exception, which would only garble the first report. */
bool crash_claim(void);
__attribute__((noreturn)) void crash_park(void);
/* stop(): asks every other CPU running bareio's code to stop, returns how
 * many it asked (each answers by parking). */
void crash_set_stopper(unsigned (*stop)(void));

#endif
