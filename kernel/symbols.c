/* SPDX-License-Identifier: MIT */
/* kernel/symbols.c — binary search in the sorted (address, name) table that
 * the second link adds (section .ksyms, tools/gen-ksyms). The first link has
 * no table; ksyms_count is then 0 through the weak definitions below. */
#include "kernel/symbols.h"
#include <stddef.h>

struct ksym {
    uint64_t address;
    const char *name;
};

extern const uint64_t ksyms_count __attribute__((weak));
extern const struct ksym ksyms_table[] __attribute__((weak));
extern char __kernel_start[];
extern char __load_end[];

const char *symbol_lookup(uint64_t addr, uint64_t *offset)
{
    if (!&ksyms_count || !ksyms_count)
        return NULL;
    uint64_t lo = 0, hi = ksyms_count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ksyms_table[mid].address <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (addr < ksyms_table[lo].address || addr >= (uint64_t)(uintptr_t)__load_end)
        return NULL;
    *offset = addr - ksyms_table[lo].address;
    return ksyms_table[lo].name;
}
