/* kernel/panic.h — backtraces for exception reports and panic(). */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
#include <stdint.h>

/* Prints `backtrace:` then the frame-pointer chain starting at (rip, rbp);
 * stops at a null, unaligned or out-of-RAM frame pointer, or after 32 frames. */
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
