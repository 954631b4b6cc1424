/* SPDX-License-Identifier: MIT */
/* kernel/cpu.h — which CPU is running this code. Every CPU's IA32_GS_BASE
 * points at its struct cpu_local (kernel/smp.c sets it: the BSP's before any
 * AP starts, each AP's first thing in its C entry), so the console lock, the
 * exception report and the backtrace can name and bound the CPU they run on
 * without calling up into smp.c. GS_BASE reads 0 on the BSP before that:
 * then this is CPU 0 with the boot stack. Read with RDMSR rather than a
 * %gs-relative load so that a GS base of 0 can never read low memory as a
 * cpu_local. Header only: nothing here is a call between files. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H
#include <stddef.h>
#include <stdint.h>
#include "kernel/io.h"

#define MSR_IA32_GS_BASE 0xc0000101u
#define CPU_APIC_ID_UNKNOWN UINT32_MAX

struct console_capture;

struct cpu_local {
    uint32_t index;             /* 0 = the BSP, then MADT order */
    uint32_t apic_id;
    uint64_t stack_bottom;      /* an AP's kernel stack, [bottom, top); 0 on the BSP */
    uint64_t stack_top;
    /* Where this CPU's console output goes instead of the UART while it is
     * set (kernel/console.h console_capture_begin()); only this CPU writes it. */
    struct console_capture *capture;
    /* This CPU's LAPIC timer shot as last armed (kernel/apic.c): the
     * divider's shift and the vector (0: never armed, read as the harness's
     * IRQ_VECTOR_LAPIC_TIMER). Each CPU has a timer of its own, and only
     * the CPU itself arms it. */
    uint8_t timer_divide_shift;
    uint8_t timer_vector;
};
_Static_assert(offsetof(struct cpu_local, stack_bottom) == 8, "no hole before the stack bounds");

static inline const struct cpu_local *cpu_local(void)
{
    return (const struct cpu_local *)(uintptr_t)rdmsr(MSR_IA32_GS_BASE);
}

/* The running CPU's own record, for the fields only it writes. */
static inline struct cpu_local *cpu_local_own(void)
{
    return (struct cpu_local *)(uintptr_t)rdmsr(MSR_IA32_GS_BASE);
}

static inline void cpu_local_set(const struct cpu_local *c)
{
    wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)c);
}

static inline uint32_t cpu_index(void)
{
    const struct cpu_local *c = cpu_local();
    return c ? c->index : 0;
}

static inline uint32_t cpu_apic_id(void)
{
    const struct cpu_local *c = cpu_local();
    return c ? c->apic_id : CPU_APIC_ID_UNKNOWN;
}

#endif
