/* SPDX-License-Identifier: MIT */
/* kernel/smp.h — the application processors: started at boot, parked, and
 * what each reported when it came online (kernel/smp.c). No work is given to
 * an AP yet; this is what the smp suite and the boot line read. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H
#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpu.h"
#include "kernel/irq.h"

enum smp_cpu_state {
    SMP_CPU_BSP,            /* the bootstrap processor, running this */
    SMP_CPU_ONLINE,         /* an AP that came up and is parked */
    SMP_CPU_LEFT_OUT,       /* an AP that should have started and did not (why says why) */
    SMP_CPU_NOT_STARTED,    /* an AP not asked to start: smp=off or cpus= */
};

struct smp_cpu {
    struct cpu_local local;             /* index, APIC id from the MADT, stack bounds */
    enum smp_cpu_state state;
    char why[112];                      /* left out or not started: the reason */
    /* Written by the AP itself before it sets `online` (release): */
    volatile uint32_t reported_apic_id; /* read from its own LAPIC */
    volatile uint32_t checkins;         /* 1 after bring-up */
    volatile uint64_t entry_rsp;        /* its stack pointer in its C entry */
    volatile uint64_t gdt_base;         /* SGDT */
    volatile uint16_t task_register;    /* STR */
    volatile uint64_t gs_base;          /* IA32_GS_BASE: its own cpu_local */
    volatile uint64_t apic_base;        /* IA32_APIC_BASE once its LAPIC is set up */
    volatile uint32_t spurious_register;    /* its LAPIC's SVR */
    volatile uint32_t online;
    /* Set up by the BSP for it: */
    struct idt_cpu_tables tables;       /* its GDT and TSS */
    uint64_t ist_top[IDT_IST_STACKS];
};

/* After apic_init(): starts every enabled AP the MADT lists (INIT, 10 ms,
 * STARTUP, 200 us, STARTUP; 100 ms for an answer), within smp= and cpus=,
 * and prints `smp: N of M CPUs online`, naming each CPU left out. */
void smp_init(void);
/* CPUs the MADT lists (enabled, each APIC id once; the BSP included). */
unsigned smp_cpu_count(void);
unsigned smp_online_count(void);
/* The index'th (0 = BSP), or NULL. */
const struct smp_cpu *smp_cpu(unsigned index);
/* The APIC id that test.smp_skip_sipi= holds back, or CPU_APIC_ID_UNKNOWN. */
uint32_t smp_test_skip_sipi(void);

#endif
