/* SPDX-License-Identifier: MIT */
/* kernel/irq.h — the IDT, CPU exceptions and interrupt vectors for devices.
 * Vectors 0-31 are exceptions (decoded dump, then the harness reports a crash);
 * 32-47 are left to the masked legacy PICs; 48-239 are handed out to drivers
 * (MSI/MSI-X/IOAPIC); 240-255 are the kernel's own (LAPIC timer, spurious). */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H
#include <stdint.h>

#define IRQ_VECTOR_FIRST_DEVICE 48
#define IRQ_VECTOR_LAST_DEVICE  239
#define IRQ_VECTOR_LAPIC_TIMER  240
#define IRQ_VECTOR_SMP_WAKE     241     /* kernel/smp.c: work posted to an idle AP */
#define IRQ_VECTOR_SPURIOUS     255

struct irq_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler)(void *ctx, struct irq_frame *frame);

void idt_init(void);
/* Room for one CPU's GDT and TSS (kernel/idt.c checks it is enough). */
#define IDT_IST_STACKS 3
struct idt_cpu_tables {
    uint64_t room[32];
} __attribute__((aligned(16)));
/* On an AP, from kernel/smp.c: loads a GDT and TSS of its own in `room`
 * (with IST stacks at ist_top: double fault, NMI, machine check) and the
 * IDT every CPU shares. */
void idt_load_cpu(struct idt_cpu_tables *room, const uint64_t ist_top[IDT_IST_STACKS]);
/* Allocates a free device vector and routes it to handler(ctx). Returns the
 * vector, or -1 when none is free. The handler runs with interrupts off; the
 * dispatcher sends the LAPIC EOI after it returns. */
int irq_alloc_vector(irq_handler handler, void *ctx);
void irq_free_vector(int vector);
/* Routes a fixed kernel vector (240-255). */
void irq_set_handler(int vector, irq_handler handler, void *ctx);
/* How many times each vector has fired (for "interrupt not delivered" diagnosis). */
uint64_t irq_count(int vector);
/* Set by kernel/apic.c: acknowledges a delivered interrupt. */
extern void (*irq_eoi_hook)(void);

#endif
