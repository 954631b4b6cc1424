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

#endif
