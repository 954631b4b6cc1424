/* SPDX-License-Identifier: MIT */
/* kernel/smp.c — bringing the application processors up and parking them
 * (Intel SDM vol. 3 §8.4.4, MP spec 1.4 appendix B.4).
 *
 * Which CPUs: the enabled Processor Local APIC and Local x2APIC entries of
 * the MADT (kernel/acpi.c), each APIC id once, in table order; the BSP is
 * the one whose id its own LAPIC reports. One AP at a time: INIT (asserted),
 * 10 ms, STARTUP, 200 us, STARTUP, then up to 100 ms for it to say it is
 * online; one that does not is sent INIT again (so a late one stays in
 * wait-for-SIPI instead of running on a stack later given to another) and
 * left out, named by APIC id. Sequential costs ~10 ms per AP; it keeps one
 * parameters block and makes every answer unambiguous.
 *
 * Where an AP runs: kernel/smp_trampoline.S copied to a free page below
 * 1 MiB (memory_low_page()), 16 → 32 → 64-bit with the BSP's CR3 (checked
 * below 4 GiB for the 32-bit load), then smp_ap_main() on a stack of its
 * own, with its own GDT, TSS and IST stacks (idt_load_cpu()), the shared IDT,
 * its LAPIC in the BSP's mode (apic_ap_init()), GS base at its cpu_local.
 * It writes what it sees into its struct smp_cpu, sets `online`, and idles:
 * HLT with interrupts on, woken by the BSP's IRQ_VECTOR_SMP_WAKE IPI when
 * work is posted in its mailbox (smp_call()), or by an interrupt routed to
 * it; an NMI there is a crash's stop request and parks it for good.
 *
 * Locking rule: none here. Bring-up is the BSP's alone; each mailbox has
 * one writer per field (the BSP posts, the AP completes), ordered by the
 * release/acquire pairs on work_posted and work_done.
 * All per-CPU memory is allocated at run time, sized by the MADT: no table
 * here limits the count.
 *
 * An AP's own LAPIC timer bounds its sleeps in smp_halt_until() (a shot on
 * the wake vector); work on an AP is otherwise bounded by its caller's
 * deadline, not by a timer there (the harness's case timer is the BSP's).
 *
 * Left out: x2APIC bring-up on a real machine (the ICR path
 * is written, QEMU 7.2's TCG has no x2APIC), CPUs the MADT does not list. A
 * fault in the start code before smp_ap_main() loads the IDT is a triple
 * fault on that AP (a reset of it, or of the machine under QEMU's
 * -no-reboot): there is nothing there yet to report it. */
#include "kernel/smp.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/smp_trampoline.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include <stdarg.h>

#define SMP_CPUS_MAX_KEY        1024
#define AP_STACK_SIZE           65536   /* the BSP's (boot/entry.S): APs run the same test code */
#define AP_IST_STACK_SIZE       8192
#define INIT_TO_SIPI_MS         10      /* §8.4.4.1: INIT, then 10 ms */
#define SIPI_TO_SIPI_US         200     /* then 200 us between the two SIPIs */
#define AP_ANSWER_MS            100     /* after the second SIPI */
#define FOUR_GIB                0x100000000ull

#define CR0_PE                  (1u << 0)
#define CR0_NW                  (1u << 29)
#define CR0_CD                  (1u << 30)
#define CR0_PG                  (1u << 31)
#define CR4_PSE                 (1u << 4)
#define CR4_PAE                 (1u << 5)
#define CR4_PGE                 (1u << 7)
#define MSR_EFER                0xc0000080u
#define MSR_IA32_APIC_BASE      0x1bu
#define EFER_LME                (1u << 8)
#define EFER_NXE                (1u << 11)

/* Flat 4 GiB descriptors (SDM vol. 3 §3.4.5): 32-bit code, data, 64-bit code. */
#define GDT_FLAT_CODE32         0x00cf9a000000ffffull
#define GDT_FLAT_DATA           0x00cf92000000ffffull
#define GDT_CODE64              0x00af9a000000ffffull

CMDLINE_BOOL(smp_enabled, "smp", true,
             "start the application processors (on, default) or leave them as firmware left them (off)");
CMDLINE_UINT(uint32_t, smp_cpus_max, "cpus", 0, 1, SMP_CPUS_MAX_KEY,
             "at most N CPUs online, the BSP included (1..1024; default every CPU the MADT lists)");
CMDLINE_UINT(uint32_t, smp_skip_sipi, "test.smp_skip_sipi", CPU_APIC_ID_UNKNOWN, 0, CPU_APIC_ID_UNKNOWN - 1,
             "test: send no STARTUP IPI to the CPU with this APIC id, so it is reported left out");
CMDLINE_UINT(uint32_t, smp_ap_fault, "test.smp_ap_fault", CPU_APIC_ID_UNKNOWN, 0, CPU_APIC_ID_UNKNOWN - 1,
             "test: the AP with this APIC id executes UD2 once online: its exception must end the run as a crash");

/* The parameters block in the start page (kernel/smp_trampoline.h). */
struct smp_trampoline_params {
    uint64_t gdt[4];
    uint16_t gdtr_limit;
    uint32_t gdtr_base;
    uint16_t reserved0;
    uint32_t far32_offset;
    uint16_t far32_selector;
    uint16_t reserved1;
    uint32_t far64_offset;
    uint16_t far64_selector;
    uint16_t reserved2;
    uint32_t cr3, cr4, cr0, efer_set;
    uint64_t entry, stack_top, cpu;
    uint32_t claim;
    uint32_t reserved3;
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, gdt) == SMP_TP_GDT, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, gdtr_limit) == SMP_TP_GDTR, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, far32_offset) == SMP_TP_FAR32, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, far64_offset) == SMP_TP_FAR64, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, cr3) == SMP_TP_CR3, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, cr4) == SMP_TP_CR4, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, cr0) == SMP_TP_CR0, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, efer_set) == SMP_TP_EFER_SET, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, entry) == SMP_TP_ENTRY, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, stack_top) == SMP_TP_STACK_TOP, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, cpu) == SMP_TP_CPU, "trampoline layout");
_Static_assert(__builtin_offsetof(struct smp_trampoline_params, claim) == SMP_TP_CLAIM, "trampoline layout");
_Static_assert(sizeof(struct smp_trampoline_params) == SMP_TP_SIZE, "trampoline layout");
_Static_assert(SMP_TRAMPOLINE_PARAMS + SMP_TP_SIZE <= 4096, "the start code and its block fit one page");

extern const char smp_trampoline_start[], smp_trampoline_end[];
extern const char smp_trampoline_code32[], smp_trampoline_code64[];

static struct smp_cpu *cpus;            /* [0] is the BSP */
static unsigned cpu_count = 1;
static unsigned online_count = 1;
static struct smp_cpu lone_bsp;         /* when there is no MADT or no memory for the table */
static volatile struct smp_trampoline_params *params;
static uint64_t start_page;

unsigned smp_cpu_count(void) { return cpu_count; }
unsigned smp_online_count(void) { return online_count; }
const struct smp_cpu *smp_cpu(unsigned index) { return index < cpu_count ? &cpus[index] : NULL; }
uint32_t smp_test_skip_sipi(void) { return smp_skip_sipi; }

/* ---- on the AP ---- */

/* Runs what the mailbox holds, then sleeps until the next wake-up. The
 * check and the HLT are one step against the wake IPI: interrupts are off
 * from the check until STI, whose one-instruction shadow covers the HLT, so
 * an IPI sent after the check wakes the HLT rather than being missed. */
static __attribute__((noreturn)) void ap_idle(struct smp_cpu *c)
{
    for (;;) {
        irq_disable();
        uint32_t posted = __atomic_load_n(&c->work_posted, __ATOMIC_ACQUIRE);
        if (posted != c->work_done) {
            irq_enable();
            c->work_fn(c->work_arg);
            __atomic_store_n(&c->work_done, posted, __ATOMIC_RELEASE);
            continue;
        }
        cpu_irq_enable_and_halt();
    }
}

static void wake_handler(void *ctx, struct irq_frame *frame)
{
    (void)ctx;
    (void)frame;        /* the wake-up is the interrupt itself; the dispatcher sends the EOI */
}

/* Called by kernel/smp_trampoline.S in long mode on the AP's own stack. */
__attribute__((noreturn, used)) void smp_ap_main(struct smp_cpu *c);
void smp_ap_main(struct smp_cpu *c)
{
    cpu_local_set(&c->local);                   /* first: the exception report names this CPU */
    idt_load_cpu(&c->tables, c->ist_top);
    uint32_t id = apic_ap_init();
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
    uint16_t tr;
    uint64_t rsp;
    __asm__ volatile("sgdt %0; str %1; mov %%rsp, %2" : "=m"(gdtr), "=r"(tr), "=r"(rsp));
    c->reported_apic_id = id;
    c->entry_rsp = rsp;
    c->gdt_base = gdtr.base;
    c->task_register = tr;
    c->gs_base = rdmsr(MSR_IA32_GS_BASE);
    c->apic_base = rdmsr(MSR_IA32_APIC_BASE);
    c->spurious_register = apic_spurious_register();
    c->checkins++;
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
    if (id == smp_ap_fault)
        __asm__ volatile("ud2");                /* test.smp_ap_fault: a crash on an AP */
    ap_idle(c);
}

/* ---- the work mailbox, from the BSP ---- */

static bool cpu_is_online_ap(unsigned index)
{
    return index > 0 && index < cpu_count && cpus[index].state == SMP_CPU_ONLINE;
}

unsigned smp_online_cpu(unsigned k)
{
    for (unsigned i = 0; i < cpu_count; i++) {
        bool up = i == 0 || cpus[i].state == SMP_CPU_ONLINE;
        if (up && k-- == 0)
            return i;
    }
    return 0;
}

unsigned smp_this_online_rank(void)
{
    unsigned me = cpu_index(), k = 0;
    for (unsigned i = 0; i < me && i < cpu_count; i++)
        k += i == 0 || cpus[i].state == SMP_CPU_ONLINE;
    return k;
}

uint32_t smp_online_apic_id(unsigned k)
{
    return cpus[smp_online_cpu(k)].local.apic_id;
}

bool smp_call_done(unsigned index)
{
    if (!cpu_is_online_ap(index))
        return true;
    const struct smp_cpu *c = &cpus[index];
    return __atomic_load_n(&c->work_done, __ATOMIC_ACQUIRE) == c->work_posted;
}

bool smp_call(unsigned index, void (*fn)(void *arg), void *arg)
{
    if (!cpu_is_online_ap(index) || !smp_call_done(index) || !fn)
        return false;
    struct smp_cpu *c = &cpus[index];
    c->work_fn = fn;
    c->work_arg = arg;
    __atomic_store_n(&c->work_posted, c->work_posted + 1, __ATOMIC_RELEASE);
    if (!apic_send_fixed(c->local.apic_id, IRQ_VECTOR_SMP_WAKE))
        klog(LOG_WARN, "smp: cpu %u: the wake-up IPI was not sent (ICR busy); it finds the work at "
             "its next interrupt\n", index);
    return true;
}

bool smp_call_wait(unsigned index, uint64_t deadline)
{
    while (!smp_call_done(index)) {
        if (deadline_passed(deadline))
            return false;
        cpu_pause();
    }
    return true;
}

bool smp_halt_until(bool (*ready)(void *arg), void *arg, uint64_t max_ns)
{
    if (cpu_index() == 0 || !apic_timer_frequency_hz()) {
        cpu_pause();        /* no timer of its own to bound a HLT with */
        return false;
    }
    irq_disable();
    if (ready(arg)) {
        irq_enable();
        return false;
    }
    /* Armed with interrupts off: the shot cannot fire before the HLT. */
    apic_timer_arm(IRQ_VECTOR_SMP_WAKE, max_ns);
    cpu_irq_enable_and_halt();
    return true;
}

/* ---- the crash stopper (kernel/panic.h) ---- */

/* An NMI to every other CPU that is running bareio's code: the online APs
 * and the BSP. Never to CPUs left out or not started: those are in
 * wait-for-SIPI or firmware's own loop, with firmware's IDT. */
static unsigned smp_stop_others(void)
{
    uint32_t me = cpu_index();
    unsigned asked = 0;
    for (unsigned i = 0; i < cpu_count; i++) {
        const struct smp_cpu *c = &cpus[i];
        bool running = c->state == SMP_CPU_BSP || __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
        if (i != me && running && apic_send_nmi(c->local.apic_id))
            asked++;
    }
    return asked;
}

/* ---- on the BSP ---- */

static void left_out(struct smp_cpu *c, enum smp_cpu_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void left_out(struct smp_cpu *c, enum smp_cpu_state state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    c->state = state;
}

/* The MADT's CPUs into cpus[], the BSP first; false (said) when there is no
 * MADT or no memory for the table. */
static bool collect_cpus(uint32_t bsp_id)
{
    unsigned listed = acpi_madt_cpus(NULL, 0);
    if (!listed)
        return false;
    struct acpi_cpu *madt = memory_alloc_state((uint64_t)listed * sizeof(*madt));
    cpus = memory_alloc_state((uint64_t)(listed + 1) * sizeof(*cpus));
    if (!madt || !cpus) {
        klog(LOG_ERR, "smp: no memory for the table of %u CPUs; running on the BSP only\n", listed);
        cpus = NULL;
        return false;
    }
    acpi_madt_cpus(madt, listed);
    unsigned n = 1;
    bool bsp_listed = false;
    for (unsigned i = 0; i < listed; i++) {
        uint32_t id = madt[i].apic_id;
        bool seen = id == bsp_id && bsp_listed;
        for (unsigned j = 1; j < n && !seen; j++)
            seen = cpus[j].local.apic_id == id;
        if (seen) {
            klog(LOG_WARN, "smp: MADT lists apic id %u twice; counted once\n", id);
            continue;
        }
        if (id == bsp_id) {
            bsp_listed = true;
            continue;
        }
        cpus[n].local = (struct cpu_local){ .index = n, .apic_id = id };
        cpus[n].state = SMP_CPU_NOT_STARTED;
        n++;
    }
    if (!bsp_listed)
        klog(LOG_WARN, "smp: the BSP's apic id %u is not among the MADT's enabled CPUs; counted anyway\n",
             bsp_id);
    cpu_count = n;
    return true;
}

/* The start page: code copied once, the constant part of the block filled. */
static const char *prepare_start_page(void)
{
    uint64_t cr0, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    start_page = memory_low_page();
    if (!start_page)
        return "no free page below 1 MiB in the memory map for the start code";
    if (cr3 >= FOUR_GIB)
        return "the page tables are above 4 GiB, out of reach of the APs' 32-bit CR3 load";
    uint64_t code_size = (uint64_t)(smp_trampoline_end - smp_trampoline_start);
    memcpy(phys_to_virt(start_page), smp_trampoline_start, code_size);
    params = (volatile struct smp_trampoline_params *)phys_to_virt(start_page + SMP_TRAMPOLINE_PARAMS);
    params->gdt[0] = 0;
    params->gdt[1] = GDT_FLAT_CODE32;
    params->gdt[2] = GDT_FLAT_DATA;
    params->gdt[3] = GDT_CODE64;
    params->gdtr_limit = sizeof(params->gdt) - 1;
    params->gdtr_base = (uint32_t)(start_page + SMP_TRAMPOLINE_PARAMS + SMP_TP_GDT);
    params->far32_offset = (uint32_t)(start_page + (uint64_t)(smp_trampoline_code32 - smp_trampoline_start));
    params->far32_selector = SMP_TRAMPOLINE_CODE32_SELECTOR;
    params->far64_offset = (uint32_t)(start_page + (uint64_t)(smp_trampoline_code64 - smp_trampoline_start));
    params->far64_selector = SMP_TRAMPOLINE_CODE64_SELECTOR;
    params->cr3 = (uint32_t)cr3;
    params->cr4 = (uint32_t)(cr4 & (CR4_PAE | CR4_PSE | CR4_PGE)) | CR4_PAE;
    /* After INIT an AP has caching off (CD, NW set): the BSP's CR0 turns it on. */
    params->cr0 = ((uint32_t)cr0 & ~(CR0_CD | CR0_NW)) | CR0_PE | CR0_PG;
    params->efer_set = EFER_LME | ((uint32_t)rdmsr(MSR_EFER) & EFER_NXE);
    params->entry = (uint64_t)(uintptr_t)smp_ap_main;
    return NULL;
}

/* The AP's stacks and tables; false when there is no memory. */
static bool prepare_cpu(struct smp_cpu *c)
{
    uint8_t *mem = memory_alloc_state(AP_STACK_SIZE + IDT_IST_STACKS * AP_IST_STACK_SIZE);
    if (!mem)
        return false;
    c->local.stack_bottom = (uint64_t)(uintptr_t)mem;
    c->local.stack_top = c->local.stack_bottom + AP_STACK_SIZE;
    for (unsigned i = 0; i < IDT_IST_STACKS; i++)
        c->ist_top[i] = c->local.stack_top + (uint64_t)(i + 1) * AP_IST_STACK_SIZE;
    return true;
}

static bool wait_online(struct smp_cpu *c, uint64_t ms)
{
    uint64_t deadline = deadline_after_ms(ms);
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
        if (deadline_passed(deadline))
            return false;
        cpu_pause();
    }
    return true;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI (§8.4.4.1), each IPI's delivery checked
 * by apic.c (xAPIC delivery status); then up to 100 ms for `online`. */
static void start_cpu(struct smp_cpu *c)
{
    uint32_t id = c->local.apic_id;
    if (id > 0xff && !apic_is_x2apic()) {
        left_out(c, SMP_CPU_LEFT_OUT, "its apic id needs x2APIC mode, the LAPIC is in xAPIC mode");
        return;
    }
    if (!prepare_cpu(c)) {
        left_out(c, SMP_CPU_LEFT_OUT, "no memory for its stacks");
        return;
    }
    params->stack_top = c->local.stack_top;
    params->cpu = (uint64_t)(uintptr_t)c;
    params->claim = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the block is written before any IPI */
    apic_error_status_clear();
    if (!apic_send_init(id)) {
        left_out(c, SMP_CPU_LEFT_OUT, "its INIT IPI was not sent (ICR busy)");
        return;
    }
    delay_ms(INIT_TO_SIPI_MS);
    bool skip = id == smp_skip_sipi;
    uint8_t vector = (uint8_t)(start_page >> 12);
    for (int sipi = 0; sipi < 2 && !skip; sipi++) {
        if (!apic_send_startup(id, vector)) {
            left_out(c, SMP_CPU_LEFT_OUT, "STARTUP IPI %d was not sent (ICR busy)", sipi + 1);
            apic_send_init(id);
            return;
        }
        if (sipi == 0)
            delay_us(SIPI_TO_SIPI_US);
    }
    uint32_t esr = apic_error_status_clear();
    if (esr)
        klog(LOG_WARN, "smp: apic id %u: error status %#x after its INIT and STARTUP IPIs\n", id, esr);
    if (wait_online(c, AP_ANSWER_MS)) {
        c->state = SMP_CPU_ONLINE;
        online_count++;
        return;
    }
    apic_send_init(id);         /* back to wait-for-SIPI: a late start would use a stale block */
    if (skip)
        left_out(c, SMP_CPU_LEFT_OUT, "no answer %u ms after the second SIPI; test.smp_skip_sipi=%u sent it none",
                 AP_ANSWER_MS, id);
    else if (params->claim)
        left_out(c, SMP_CPU_LEFT_OUT, "it entered the start code but was not online %u ms after the "
                 "second SIPI", AP_ANSWER_MS);
    else
        left_out(c, SMP_CPU_LEFT_OUT, "no answer %u ms after the second SIPI", AP_ANSWER_MS);
}

static void bsp_identity(uint32_t bsp_id)
{
    if (!cpus) {
        cpus = &lone_bsp;
        cpu_count = 1;
    }
    /* The BSP's stack is boot/entry.S's, in the kernel image, where the
     * backtrace looks anyway: no bounds needed (and naming entry.S's symbols
     * here would make a circle of calls). */
    cpus[0].local = (struct cpu_local){ .index = 0, .apic_id = bsp_id };
    cpus[0].state = SMP_CPU_BSP;
    cpus[0].reported_apic_id = bsp_id;
    cpus[0].online = 1;
    cpu_local_set(&cpus[0].local);
}

static void report(const char *why_none, uint64_t started_ns)
{
    unsigned not_started = 0;
    for (unsigned i = 1; i < cpu_count; i++) {
        const struct smp_cpu *c = &cpus[i];
        if (c->state == SMP_CPU_LEFT_OUT)
            kprintf("smp: CPU apic id %u did not start (%s); left out\n", c->local.apic_id, c->why);
        else if (c->state == SMP_CPU_NOT_STARTED)
            not_started++;
        else if (c->reported_apic_id != c->local.apic_id)
            klog(LOG_WARN, "smp: cpu %u: the MADT says apic id %u, its LAPIC says %u\n", i,
                 c->local.apic_id, c->reported_apic_id);
    }
    if (why_none) {
        kprintf("smp: %u of %u CPUs online (%s)\n", online_count, cpu_count, why_none);
        return;
    }
    char note[48] = "";
    if (not_started)
        snprintf(note, sizeof(note), " (cpus=%u)", smp_cpus_max);
    kprintf("smp: %u of %u CPUs online%s\n", online_count, cpu_count, note);
    klog(LOG_INFO, "smp: %s mode, start page %#llx, bring-up %llu ms\n",
         apic_is_x2apic() ? "x2APIC" : "xAPIC", (unsigned long long)start_page,
         (unsigned long long)((time_ns() - started_ns) / 1000000));
}

void smp_init(void)
{
    uint64_t started = time_ns();
    uint32_t bsp_id = apic_read_id();
    bool have_table = collect_cpus(bsp_id);
    bsp_identity(bsp_id);
    crash_set_stopper(smp_stop_others);
    irq_set_handler(IRQ_VECTOR_SMP_WAKE, wake_handler, NULL);
    if (!have_table) {
        report("no MADT", started);
        return;
    }
    if (!smp_enabled) {
        for (unsigned i = 1; i < cpu_count; i++)
            left_out(&cpus[i], SMP_CPU_NOT_STARTED, "smp=off");
        report("smp=off", started);
        return;
    }
    const char *why = cpu_count > 1 ? prepare_start_page() : NULL;
    if (why) {
        for (unsigned i = 1; i < cpu_count; i++)
            left_out(&cpus[i], SMP_CPU_LEFT_OUT, "%s", why);
        report(why, started);
        return;
    }
    for (unsigned i = 1; i < cpu_count; i++) {
        if (smp_cpus_max && i >= smp_cpus_max)
            left_out(&cpus[i], SMP_CPU_NOT_STARTED, "cpus=%u", smp_cpus_max);
        else
            start_cpu(&cpus[i]);
    }
    report(NULL, started);
}
