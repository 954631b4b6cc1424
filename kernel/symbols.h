/* SPDX-License-Identifier: MIT */
/* kernel/symbols.h — function names for addresses, from the table the build
 * embeds (tools/gen-ksyms). */
#ifndef KERNEL_SYMBOLS_H
#define KERNEL_SYMBOLS_H
#include <stdint.h>

/* The function containing `addr` and the offset into it, or NULL when the
 * address is outside the kernel's code. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset);

#endif
