/* SPDX-License-Identifier: MIT */
/* kernel/smp.h — the application processors: started at boot, what each
 * reported when it came online, and the work mailbox through which the BSP
 * gives an online AP one function to run at a time (kernel/smp.c). */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H
#include <stdbool.h>
#include <stdint.h>
#include "kernel/cpu.h"
#include "kernel/irq.h"

enum smp_cpu_state {
    SMP_CPU_BSP,            /* the bootstrap processor, running this */
    SMP_CPU_ONLINE,         /* an AP that came up: idle, or running its work */
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
    /* The work mailbox (smp_call()): fn and arg written by the BSP before it
     * bumps work_posted (release); the AP bumps work_done to it after fn
     * returned (release). Only the BSP posts, one work at a time. */
    void (*volatile work_fn)(void *arg);
    void *volatile work_arg;
    volatile uint32_t work_posted, work_done;
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
/* The k'th online CPU's index (k = 0 is the BSP), in index order; k must be
 * below smp_online_count(). */
unsigned smp_online_cpu(unsigned k);
/* The running CPU's k (its place among the online CPUs, the BSP 0): what a
 * driver with a queue per CPU picks its queue by. */
unsigned smp_this_online_rank(void);
/* The APIC id of the k'th online CPU (k below smp_online_count()): where a
 * driver routes the interrupts of the queue that CPU uses. */
uint32_t smp_online_apic_id(unsigned k);

/* Gives the online AP `index` fn(arg) to run, with interrupts on, and wakes
 * it (a fixed IPI, IRQ_VECTOR_SMP_WAKE). False, and nothing posted, when
 * that CPU is the BSP, not online, or still running earlier work. fn must
 * end on its own: nothing stops it but a crash. */
bool smp_call(unsigned index, void (*fn)(void *arg), void *arg);
/* True once the work last posted to `index` has returned (or none was). */
bool smp_call_done(unsigned index);
/* Waits, with interrupts as they are, until smp_call_done(index) or time_ns()
 * reaches `deadline`; false at the deadline (the work is still running). */
bool smp_call_wait(unsigned index, uint64_t deadline);

/* Sleeps the running CPU until an interrupt arrives, unless ready(arg)
 * already holds: the check runs with interrupts off, and STI's
 * one-instruction shadow covers the HLT, so an interrupt that makes it true
 * after the check still ends the HLT. On an AP its own LAPIC timer bounds
 * the sleep at `max_ns` (a shot on IRQ_VECTOR_SMP_WAKE, left to expire
 * when another interrupt ended the sleep: a wake-up of nothing, cheaper
 * than two more register writes per sleep), so a lost interrupt costs
 * `max_ns`, never a hang. The BSP's timer is the harness's case deadline,
 * so there (and without a calibrated timer) it only pauses once. Call with
 * interrupts on; returns with them on, true when it slept. */
bool smp_halt_until(bool (*ready)(void *arg), void *arg, uint64_t max_ns);

/* The APIC id that test.smp_skip_sipi= holds back, or CPU_APIC_ID_UNKNOWN. */
uint32_t smp_test_skip_sipi(void);

#endif
