/* SPDX-License-Identifier: MIT */
/* kernel/idt.c — the GDT with a TSS (so double faults, NMIs and machine checks
 * run on their own stacks and still get reported), the IDT, the exception
 * report, and the dispatcher that routes device vectors to drivers.
 *
 * An exception never returns to the code that caused it: the report (vector
 * decoded, error code in words, CR2, all registers, a frame-pointer backtrace)
 * goes to the console and the harness closes its KTAP document as crashed. */
#include "kernel/irq.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/panic.h"
#include "kernel/screen.h"
#include "lib/format.h"
#include "lib/string.h"

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18

/* Intel SDM vol. 3 §7.7: 64-bit TSS. */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "SDM vol. 3 figure 7-11");

/* SDM vol. 3 §6.14.1: 64-bit IDT gate descriptor. */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "SDM vol. 3 figure 6-8");

struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define IDT_INTERRUPT_GATE 0x8e     /* present, DPL 0, 64-bit interrupt gate */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE 16384

/* One CPU's GDT and TSS: the BSP's below, each AP's in memory kernel/smp.c
 * allocates (struct idt_cpu_tables in kernel/irq.h is the room for it). */
struct cpu_tables {
    uint64_t gdt[5];
    struct tss64 tss;
} __attribute__((aligned(16)));
_Static_assert(sizeof(struct cpu_tables) <= sizeof(struct idt_cpu_tables),
               "kernel/irq.h's struct idt_cpu_tables must hold a GDT and a TSS");
_Static_assert(IDT_IST_STACKS == 3, "double fault, NMI and machine check each have their stack");

static struct cpu_tables bsp_tables;
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_stacks[IDT_IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));

extern const char isr_stubs[], isr_stubs_end[];
extern void (*isr_dispatch)(struct irq_frame *f);   /* called by every stub (kernel/isr.S) */
static void irq_dispatch(struct irq_frame *f);
#define ISR_STUB_SIZE 16     /* kernel/isr.S */

struct vector_route {
    irq_handler handler;
    void *ctx;
    uint64_t count;
    bool allocated;
};
static struct vector_route routes[256];

void (*irq_eoi_hook)(void);

static void load_gdt_and_tss(struct cpu_tables *t, const uint64_t ist_top[IDT_IST_STACKS])
{
    uint64_t base = (uint64_t)(uintptr_t)&t->tss;
    uint64_t limit = sizeof(t->tss) - 1;

    t->gdt[0] = 0;
    t->gdt[1] = 0x00af9a000000ffffull;     /* 64-bit code */
    t->gdt[2] = 0x00cf92000000ffffull;     /* data */
    /* 16-byte TSS descriptor, type 9 (available 64-bit TSS), present. */
    t->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    t->gdt[4] = base >> 32;

    for (int i = 0; i < IDT_IST_STACKS; i++)
        t->tss.ist[i] = ist_top[i];
    t->tss.iomap_base = sizeof(t->tss);

    struct descriptor_pointer gdtr = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %2, %%ax\n\t"
        "mov %%ax, %%ds\n\t"
        "mov %%ax, %%es\n\t"
        "mov %%ax, %%ss\n\t"
        "ltr %w3\n\t"
        :: "m"(gdtr), "i"(GDT_KERNEL_CODE), "i"(GDT_KERNEL_DATA), "r"(GDT_TSS)
        : "rax", "memory");
}

static void load_idt(void)
{
    struct descriptor_pointer idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr) : "memory");
}

/* An AP: its own GDT and TSS (ltr marks the TSS descriptor busy, so no two
 * CPUs may share one), its own IST stacks, the one IDT every CPU shares. */
void idt_load_cpu(struct idt_cpu_tables *room, const uint64_t ist_top[IDT_IST_STACKS])
{
    load_gdt_and_tss((struct cpu_tables *)room, ist_top);
    load_idt();
}

static void set_gate(int vector, uint64_t handler, uint8_t ist)
{
    struct idt_gate *g = &idt[vector];
    g->offset_low = handler & 0xffff;
    g->selector = GDT_KERNEL_CODE;
    g->ist = ist;
    g->type_attr = IDT_INTERRUPT_GATE;
    g->offset_mid = (handler >> 16) & 0xffff;
    g->offset_high = handler >> 32;
    g->reserved = 0;
}

static uint64_t isr_address(int vector)
{
    return (uint64_t)(uintptr_t)isr_stubs + (uint64_t)vector * ISR_STUB_SIZE;
}

void idt_init(void)
{
    /* A stub longer than its slot would shift every later vector. */
    if (isr_stubs_end - isr_stubs != 256 * ISR_STUB_SIZE)
        panic("kernel/isr.S: stubs take %ld bytes, expected %d", (long)(isr_stubs_end - isr_stubs),
              256 * ISR_STUB_SIZE);
    isr_dispatch = irq_dispatch;
    uint64_t ist_top[IDT_IST_STACKS];
    for (int i = 0; i < IDT_IST_STACKS; i++)
        ist_top[i] = (uint64_t)(uintptr_t)&ist_stacks[i][IST_STACK_SIZE];
    load_gdt_and_tss(&bsp_tables, ist_top);
    for (int v = 0; v < 256; v++)
        set_gate(v, isr_address(v), 0);
    set_gate(2, isr_address(2), IST_NMI);
    set_gate(8, isr_address(8), IST_DOUBLE_FAULT);
    set_gate(18, isr_address(18), IST_MACHINE_CHECK);
    load_idt();
}

/* ---- device vectors ---- */

int irq_alloc_vector(irq_handler handler, void *ctx)
{
    uint64_t flags = irq_save();
    for (int v = IRQ_VECTOR_FIRST_DEVICE; v <= IRQ_VECTOR_LAST_DEVICE; v++) {
        if (!routes[v].allocated) {
            routes[v] = (struct vector_route){ handler, ctx, 0, true };
            irq_restore(flags);
            return v;
        }
    }
    irq_restore(flags);
    klog(LOG_ERR, "irq: all %d device vectors are in use\n",
         IRQ_VECTOR_LAST_DEVICE - IRQ_VECTOR_FIRST_DEVICE + 1);
    return -1;
}

void irq_free_vector(int vector)
{
    if (vector < IRQ_VECTOR_FIRST_DEVICE || vector > IRQ_VECTOR_LAST_DEVICE ||
        !routes[vector].allocated) {
        klog(LOG_ERR, "irq: freeing vector %d that was not allocated\n", vector);
        return;
    }
    uint64_t flags = irq_save();
    routes[vector] = (struct vector_route){ 0 };
    irq_restore(flags);
}

void irq_set_handler(int vector, irq_handler handler, void *ctx)
{
    if (vector <= IRQ_VECTOR_LAST_DEVICE || vector > 255) {
        klog(LOG_ERR, "irq: vector %d is not a kernel vector\n", vector);
        return;
    }
    uint64_t flags = irq_save();
    routes[vector].handler = handler;
    routes[vector].ctx = ctx;
    routes[vector].allocated = handler != NULL;
    irq_restore(flags);
}

uint64_t irq_count(int vector)
{
    return (vector >= 0 && vector < 256) ? routes[vector].count : 0;
}

/* ---- exceptions ---- */

static const char *const exception_names[32] = {
    [0] = "#DE divide error",            [1] = "#DB debug",
    [2] = "NMI non-maskable interrupt",  [3] = "#BP breakpoint",
    [4] = "#OF overflow",                [5] = "#BR bound range exceeded",
    [6] = "#UD invalid opcode",          [7] = "#NM device not available",
    [8] = "#DF double fault",            [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",            [11] = "#NP segment not present",
    [12] = "#SS stack-segment fault",    [13] = "#GP general protection",
    [14] = "#PF page fault",             [16] = "#MF x87 floating-point error",
    [17] = "#AC alignment check",        [18] = "#MC machine check",
    [19] = "#XM SIMD floating-point",    [20] = "#VE virtualization exception",
    [21] = "#CP control protection",     [28] = "#HV hypervisor injection",
    [29] = "#VC VMM communication",      [30] = "#SX security exception",
};

static void describe_error_code(int vector, uint64_t code, char *buf, size_t size)
{
    if (vector == 14) {
        /* SDM vol. 3 §4.7 figure 4-12 */
        snprintf(buf, size, "%s %s %s%s%s", (code & 1) ? "protection-violation" : "not-present",
                 (code & 2) ? "write" : "read", (code & 4) ? "user" : "supervisor",
                 (code & 8) ? " reserved-bit-set" : "", (code & 16) ? " instruction-fetch" : "");
    } else if (vector == 10 || vector == 11 || vector == 12 || vector == 13) {
        /* SDM vol. 3 §6.13: selector error code */
        if (code == 0)
            snprintf(buf, size, "no selector");
        else
            snprintf(buf, size, "%s selector index %llu%s", (code & 2) ? "IDT" : ((code & 4) ? "LDT" : "GDT"),
                     (unsigned long long)(code >> 3), (code & 1) ? " (external event)" : "");
    } else {
        snprintf(buf, size, "-");
    }
}

static int exception_depth;

static void report_exception(struct irq_frame *f)
{
    int v = (int)f->vector;
    const char *name = (v < 32 && exception_names[v]) ? exception_names[v] : "reserved exception";
    uint64_t cr0, cr2, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr2, %1; mov %%cr3, %2; mov %%cr4, %3"
                     : "=r"(cr0), "=r"(cr2), "=r"(cr3), "=r"(cr4));
    char code_words[96];
    describe_error_code(v, f->error_code, code_words, sizeof(code_words));
    const char *test = crash_current();

    screen_keep_begin();        /* the decoded lines go under the CRASH banner */
    kprintf("bareio: EXCEPTION %s (vector %d) at RIP %#llx%s%s\n", name, v,
            (unsigned long long)f->rip, test ? " in test " : "", test ? test : "");
    /* Which CPU: an AP's exception is this run's crash as much as the BSP's. */
    char apic[16] = "unknown";
    if (cpu_apic_id() != CPU_APIC_ID_UNKNOWN)
        snprintf(apic, sizeof(apic), "%u", cpu_apic_id());
    kprintf("  on cpu %u (apic id %s)%s\n", cpu_index(), apic,
            cpu_index() ? ", an application processor" : ", the bootstrap processor");
    kprintf("  error code %#llx: %s\n", (unsigned long long)f->error_code, code_words);
    if (v == 14)
        kprintf("  CR2 0x%016llx (the address that faulted)\n", (unsigned long long)cr2);
    screen_keep_end();
    kprintf("  RIP 0x%016llx CS 0x%04llx RFLAGS 0x%08llx\n", (unsigned long long)f->rip,
            (unsigned long long)f->cs, (unsigned long long)f->rflags);
    kprintf("  RSP 0x%016llx SS 0x%04llx RBP 0x%016llx\n", (unsigned long long)f->rsp,
            (unsigned long long)f->ss, (unsigned long long)f->rbp);
    kprintf("  RAX 0x%016llx RBX 0x%016llx RCX 0x%016llx RDX 0x%016llx\n",
            (unsigned long long)f->rax, (unsigned long long)f->rbx,
            (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    kprintf("  RSI 0x%016llx RDI 0x%016llx R8  0x%016llx R9  0x%016llx\n",
            (unsigned long long)f->rsi, (unsigned long long)f->rdi,
            (unsigned long long)f->r8, (unsigned long long)f->r9);
    kprintf("  R10 0x%016llx R11 0x%016llx R12 0x%016llx R13 0x%016llx\n",
            (unsigned long long)f->r10, (unsigned long long)f->r11,
            (unsigned long long)f->r12, (unsigned long long)f->r13);
    kprintf("  R14 0x%016llx R15 0x%016llx\n", (unsigned long long)f->r14, (unsigned long long)f->r15);
    kprintf("  CR0 0x%016llx CR2 0x%016llx CR3 0x%016llx CR4 0x%016llx\n", (unsigned long long)cr0,
            (unsigned long long)cr2, (unsigned long long)cr3, (unsigned long long)cr4);
    backtrace_print(f->rip, f->rbp, false);
}

static void handle_exception(struct irq_frame *f)
{
    /* Another CPU's crash came first: this is its stop NMI, or an exception
     * of our own that would only garble its report. */
    if (!crash_claim())
        crash_park();
    if (++exception_depth > 1) {
        /* An exception while reporting one: say the least possible and stop. */
        static const char msg[] = "bareio: EXCEPTION while handling an exception; stopping\n";
        console_write(msg, sizeof(msg) - 1);
        bareio_exit(BAREIO_EXIT_CRASH);
    }
    report_exception(f);
    char what[64];
    int v = (int)f->vector;
    snprintf(what, sizeof(what), "%s at %#llx on cpu %u",
             (v < 32 && exception_names[v]) ? exception_names[v] : "exception",
             (unsigned long long)f->rip, cpu_index());
    crash_end(what);
}

static void irq_dispatch(struct irq_frame *f)
{
    int v = (int)f->vector;
    if (v < 32) {
        handle_exception(f);
        return;
    }
    __atomic_fetch_add(&routes[v].count, 1, __ATOMIC_RELAXED);    /* any CPU */
    if (v == IRQ_VECTOR_SPURIOUS)
        return;                 /* SDM vol. 3 §11.9: no EOI for spurious interrupts */
    if (routes[v].handler)
        routes[v].handler(routes[v].ctx, f);
    else if (v >= 48)
        klog(LOG_WARN, "irq: unexpected interrupt on vector %d\n", v);
    /* Vectors 32-47 come from the masked 8259s: spurious IRQ 7/15, no EOI to the LAPIC. */
    if (v >= 48 && irq_eoi_hook)
        irq_eoi_hook();
}
