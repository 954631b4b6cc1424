/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_smp.c — the application processors came up as the boot
 * line says: every CPU the MADT lists is accounted for (online, left out
 * with a reason, or not started because of smp=/cpus=), each online AP
 * reported in itself with its own APIC id, ran on its own stack with its own
 * GDT and TSS, and set its LAPIC up in the BSP's mode. What an AP wrote is
 * read back from its struct smp_cpu (kernel/smp.h). The mailbox cases then
 * give every online AP work (smp_call()) and check it ran there, once per
 * post, that a spinlock (kernel/spinlock.h) keeps a counter every CPU
 * hammers at once exact, and that an AP's bounded HLT (smp_halt_until())
 * wakes on its own LAPIC timer without touching the BSP's. */
#include "tests/harness/ktest.h"
#include "kernel/acpi.h"
#include "kernel/apic.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

#define MSR_IA32_APIC_BASE  0x1b
#define APIC_BASE_BSP       (1ull << 8)
#define APIC_BASE_EXTD      (1ull << 10)
#define APIC_BASE_EN        (1ull << 11)
#define APIC_SVR_ENABLE     (1u << 8)
#define GDT_TSS_SELECTOR    0x18        /* kernel/idt.c */
#define SPURIOUS_VECTOR     0xff

static const char *state_name(enum smp_cpu_state s)
{
    switch (s) {
    case SMP_CPU_BSP: return "bsp";
    case SMP_CPU_ONLINE: return "online";
    case SMP_CPU_LEFT_OUT: return "left out";
    default: return "not started";
    }
}

static bool listed_by_smp(uint32_t apic_id)
{
    for (unsigned i = 0; i < smp_cpu_count(); i++)
        if (smp_cpu(i)->local.apic_id == apic_id)
            return true;
    return false;
}

/* The set smp.c works from is the MADT's enabled CPUs, each once. */
static void smp_cpu_set_is_the_madts(struct ktest *t)
{
    unsigned listed = acpi_madt_cpus(NULL, 0);
    if (!listed) {
        ktest_skip(t, "no MADT: one CPU, nothing to compare");
        return;
    }
    struct dma_region buf = ktest_dma_alloc(t, (uint64_t)listed * sizeof(struct acpi_cpu), 0, 0,
                                            DMA_ANYWHERE);
    KT_ASSERT(t, buf.virt != NULL);
    struct acpi_cpu *madt = buf.virt;
    acpi_madt_cpus(madt, listed);
    for (unsigned i = 0; i < listed; i++)
        if (!listed_by_smp(madt[i].apic_id))
            KT_FAIL(t, "MADT apic id %u is not among smp's CPUs", madt[i].apic_id);
    KT_EXPECT(t, smp_cpu_count() <= listed);
    KT_EXPECT_EQ(t, smp_cpu(0)->state, SMP_CPU_BSP);
    KT_EXPECT_EQ(t, smp_cpu(0)->local.apic_id, apic_read_id());
}

/* Online is what the CPUs themselves said; everything else has a reason. */
static void smp_every_online_cpu_reported_in(struct ktest *t)
{
    unsigned online = 0;
    for (unsigned i = 0; i < smp_cpu_count(); i++) {
        const struct smp_cpu *c = smp_cpu(i);
        ktest_diag(t, "cpu %u apic id %u: %s%s%s", i, c->local.apic_id, state_name(c->state),
                   c->why[0] ? ": " : "", c->why);
        KT_EXPECT_EQ(t, c->local.index, i);
        if (c->state == SMP_CPU_BSP || c->state == SMP_CPU_ONLINE) {
            online++;
            KT_EXPECT_EQ(t, c->online, 1);
            KT_EXPECT_EQ(t, c->reported_apic_id, c->local.apic_id);
        } else {
            KT_EXPECT(t, c->why[0] != '\0');
            KT_EXPECT_EQ(t, c->online, 0);
        }
        if (c->state == SMP_CPU_ONLINE) {
            KT_EXPECT_EQ(t, c->checkins, 1);        /* once, at bring-up: parked since */
            KT_EXPECT_EQ(t, c->gs_base, (uint64_t)(uintptr_t)&c->local);
        }
    }
    KT_EXPECT_EQ(t, online, smp_online_count());
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) { return a0 < b1 && b0 < a1; }

static void check_own_tables(struct ktest *t, const struct smp_cpu *c)
{
    KT_EXPECT(t, c->local.stack_bottom < c->local.stack_top);
    KT_EXPECT(t, c->entry_rsp >= c->local.stack_bottom && c->entry_rsp < c->local.stack_top);
    KT_EXPECT_EQ(t, c->gdt_base, (uint64_t)(uintptr_t)&c->tables);
    KT_EXPECT_EQ(t, c->task_register, GDT_TSS_SELECTOR);
    for (unsigned k = 0; k < IDT_IST_STACKS; k++)
        KT_EXPECT(t, !overlaps(c->ist_top[k] - 1, c->ist_top[k], c->local.stack_bottom,
                               c->local.stack_top));
}

/* No two CPUs share a stack, IST stack or GDT. */
static void smp_ap_stacks_and_tables_are_their_own(struct ktest *t)
{
    unsigned checked = 0;
    for (unsigned i = 1; i < smp_cpu_count(); i++) {
        const struct smp_cpu *a = smp_cpu(i);
        if (a->state != SMP_CPU_ONLINE)
            continue;
        checked++;
        check_own_tables(t, a);
        for (unsigned j = i + 1; j < smp_cpu_count(); j++) {
            const struct smp_cpu *b = smp_cpu(j);
            if (b->state != SMP_CPU_ONLINE)
                continue;
            if (overlaps(a->local.stack_bottom, a->ist_top[IDT_IST_STACKS - 1], b->local.stack_bottom,
                         b->ist_top[IDT_IST_STACKS - 1]))
                KT_FAIL(t, "cpus %u and %u share stack memory", i, j);
            KT_EXPECT(t, a->gdt_base != b->gdt_base);
        }
    }
    if (!checked)
        ktest_skip(t, "no AP online (%u CPU(s) listed)", smp_cpu_count());
}

/* Same mode as the BSP (xAPIC or x2APIC), enabled, not the BSP, SVR on. */
static void smp_ap_lapic_in_bsp_mode(struct ktest *t)
{
    uint64_t bsp = rdmsr(MSR_IA32_APIC_BASE);
    unsigned checked = 0;
    for (unsigned i = 1; i < smp_cpu_count(); i++) {
        const struct smp_cpu *c = smp_cpu(i);
        if (c->state != SMP_CPU_ONLINE)
            continue;
        checked++;
        KT_EXPECT_EQ(t, c->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD), bsp & (APIC_BASE_EN | APIC_BASE_EXTD));
        KT_EXPECT_EQ(t, c->apic_base & APIC_BASE_BSP, 0);
        KT_EXPECT(t, c->spurious_register & APIC_SVR_ENABLE);
        KT_EXPECT_EQ(t, c->spurious_register & 0xff, SPURIOUS_VECTOR);
    }
    if (!checked)
        ktest_skip(t, "no AP online");
}

/* test.smp_skip_sipi=ID: that CPU, and only it, is left out, with the reason. */
static void smp_held_back_cpu_is_left_out(struct ktest *t)
{
    uint32_t held = smp_test_skip_sipi();
    if (held == CPU_APIC_ID_UNKNOWN) {
        ktest_skip(t, "test.smp_skip_sipi= not given");
        return;
    }
    bool found = false;
    for (unsigned i = 1; i < smp_cpu_count(); i++) {
        const struct smp_cpu *c = smp_cpu(i);
        if (c->local.apic_id == held) {
            found = true;
            KT_EXPECT_EQ(t, c->state, SMP_CPU_LEFT_OUT);
        } else if (c->state == SMP_CPU_LEFT_OUT) {
            KT_FAIL(t, "apic id %u left out too: %s", c->local.apic_id, c->why);
        }
    }
    if (!found)
        KT_FAIL(t, "test.smp_skip_sipi=%u names no AP the MADT lists", held);
}

/* Explicit (it ends the run): an exception on an AP while a case runs is
 * that case's crash, reported with the AP's number. The exception is an NMI
 * sent to the first online AP: parked APs take nothing else, and to the
 * exception path an NMI nobody asked to stop for is a crash like any other.
 * The AP's report stops this CPU (its own NMI), so returning is the failure. */
#define AP_CRASH_WAIT_MS 2000
static void smp_ap_exception_ends_the_case_as_a_crash(struct ktest *t)
{
    const struct smp_cpu *target = NULL;
    for (unsigned i = 1; i < smp_cpu_count() && !target; i++)
        if (smp_cpu(i)->state == SMP_CPU_ONLINE)
            target = smp_cpu(i);
    if (!target) {
        ktest_skip(t, "no AP online");
        return;
    }
    ktest_diag(t, "NMI to cpu %u (apic id %u)", target->local.index, target->local.apic_id);
    KT_ASSERT(t, apic_send_nmi(target->local.apic_id));
    delay_ms(AP_CRASH_WAIT_MS);
    KT_FAIL(t, "cpu %u took an NMI and the run did not end as a crash within %u ms",
            target->local.index, AP_CRASH_WAIT_MS);
}

/* ---- the work mailbox ---- */

#define WORK_WAIT_MS        1000    /* one post: an IPI and a few stores, far below this */
#define WORK_ROUNDS         200
#define LOCK_ROUNDS         20000

struct work_probe {
    volatile uint32_t ran_on_index, ran_on_apic_id, runs;
    volatile uint64_t rflags;
};

static void probe_work(void *arg)
{
    struct work_probe *p = arg;
    uint64_t rflags;
    __asm__ volatile("pushfq; pop %0" : "=r"(rflags));
    p->ran_on_index = cpu_index();
    p->ran_on_apic_id = apic_read_id();
    p->rflags = rflags;
    p->runs++;
}

/* Every online AP runs what it is given, on itself, with interrupts on, once
 * per post; back-to-back posts are each run (none lost, none run twice). */
static void smp_work_runs_on_each_ap(struct ktest *t)
{
    if (smp_online_count() < 2) {
        ktest_skip(t, "no AP online");
        return;
    }
    for (unsigned k = 1; k < smp_online_count(); k++) {
        unsigned index = smp_online_cpu(k);
        const struct smp_cpu *c = smp_cpu(index);
        struct work_probe p = { .ran_on_index = UINT32_MAX };
        for (unsigned r = 0; r < WORK_ROUNDS; r++) {
            if (!smp_call(index, probe_work, &p)) {
                KT_FAIL(t, "cpu %u: post %u refused", index, r);
                break;
            }
            if (!smp_call_wait(index, deadline_after_ms(WORK_WAIT_MS))) {
                KT_FAIL(t, "cpu %u: post %u not done within %u ms", index, r, WORK_WAIT_MS);
                return;     /* it may still write p */
            }
        }
        KT_EXPECT_EQ(t, p.runs, WORK_ROUNDS);
        KT_EXPECT_EQ(t, p.ran_on_index, index);
        KT_EXPECT_EQ(t, p.ran_on_apic_id, c->local.apic_id);
        KT_EXPECT(t, p.rflags & RFLAGS_IF);    /* interrupts on while it works */
    }
    KT_EXPECT(t, !smp_call(0, probe_work, NULL));   /* the BSP is no AP */
}

struct lock_hammer {
    struct spinlock lock;
    volatile uint64_t counter;
    volatile uint32_t go;
};

/* Each round reads, yields and writes back: without the lock two CPUs
 * interleave and increments are lost. */
static void hammer(void *arg)
{
    struct lock_hammer *h = arg;
    while (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE))
        cpu_pause();
    for (unsigned i = 0; i < LOCK_ROUNDS; i++) {
        uint64_t flags = spin_lock(&h->lock);
        uint64_t v = h->counter;
        cpu_pause();
        h->counter = v + 1;
        spin_unlock(&h->lock, flags);
    }
}

static void smp_spinlock_counts_exactly_under_contention(struct ktest *t)
{
    unsigned n = smp_online_count();
    if (n < 2) {
        ktest_skip(t, "no AP online");
        return;
    }
    static struct lock_hammer h = { .lock = SPINLOCK_INIT("test.hammer") };
    h.counter = 0;
    h.go = 0;
    for (unsigned k = 1; k < n; k++)
        KT_ASSERT(t, smp_call(smp_online_cpu(k), hammer, &h));
    __atomic_store_n(&h.go, 1, __ATOMIC_RELEASE);
    hammer(&h);
    bool all_done = true;
    for (unsigned k = 1; k < n; k++)
        all_done &= KT_EXPECT(t, smp_call_wait(smp_online_cpu(k), deadline_after_ms(30000)));
    KT_ASSERT(t, all_done);
    KT_EXPECT_EQ(t, h.counter, (uint64_t)n * LOCK_ROUNDS);
    KT_EXPECT(t, !spin_held(&h.lock));
}

/* smp_halt_until() on an AP: with nothing to wake it but its own timer, it
 * sleeps at least the bound and comes back (a HLT with no shot armed would
 * never return: the post below would time out); when the condition holds
 * already it returns without sleeping. The AP's shot is its own: the BSP's
 * timer is still the harness's case deadline afterwards. */
#define HALT_BOUND_NS       2000000ull
#define HALT_LATE_MS        1000        /* TCG on a loaded host: far above 2 ms */

struct halt_probe {
    volatile uint64_t ready_ns, slept_ns;
    volatile int vector;
};

static bool never_ready(void *arg) { (void)arg; return false; }
static bool always_ready(void *arg) { (void)arg; return true; }

static void halt_work(void *arg)
{
    struct halt_probe *p = arg;
    uint64_t t0 = time_ns();
    smp_halt_until(always_ready, NULL, 60000000000ull);
    p->ready_ns = time_ns() - t0;
    t0 = time_ns();
    smp_halt_until(never_ready, NULL, HALT_BOUND_NS);
    p->slept_ns = time_ns() - t0;
    p->vector = apic_timer_vector();
}

static void smp_ap_halt_is_bounded_by_its_own_timer(struct ktest *t)
{
    if (smp_online_count() < 2) {
        ktest_skip(t, "no AP online");
        return;
    }
    for (unsigned k = 1; k < smp_online_count(); k++) {
        unsigned index = smp_online_cpu(k);
        struct halt_probe p = { .vector = -1 };
        KT_ASSERT(t, smp_call(index, halt_work, &p));
        if (!smp_call_wait(index, deadline_after_ms(HALT_LATE_MS))) {
            KT_FAIL(t, "cpu %u: a HLT bounded at %llu us had not returned after %u ms", index,
                    (unsigned long long)(HALT_BOUND_NS / 1000), HALT_LATE_MS);
            return;     /* it may still write p */
        }
        ktest_diag(t, "cpu %u: slept %llu us (bound %llu us)", index,
                   (unsigned long long)(p.slept_ns / 1000), (unsigned long long)(HALT_BOUND_NS / 1000));
        KT_EXPECT(t, p.slept_ns >= HALT_BOUND_NS);
        KT_EXPECT(t, p.ready_ns < HALT_BOUND_NS);
        KT_EXPECT_EQ(t, p.vector, IRQ_VECTOR_SMP_WAKE);
    }
    /* The BSP's own shot: the case deadline, untouched by the APs'. */
    KT_EXPECT_EQ(t, apic_timer_vector(), IRQ_VECTOR_LAPIC_TIMER);
    KT_EXPECT(t, apic_timer_remaining_ns() > 0);
    /* On the BSP it only pauses: back at once even though never ready. */
    uint64_t t0 = time_ns();
    smp_halt_until(never_ready, NULL, 60000000000ull);
    KT_EXPECT(t, time_ns() - t0 < HALT_BOUND_NS);
}

static const struct ktest_case smp_cases[] = {
    KTEST_CASE(smp_cpu_set_is_the_madts),
    KTEST_CASE(smp_every_online_cpu_reported_in),
    KTEST_CASE(smp_ap_stacks_and_tables_are_their_own),
    KTEST_CASE(smp_ap_lapic_in_bsp_mode),
    KTEST_CASE(smp_held_back_cpu_is_left_out),
    KTEST_CASE(smp_work_runs_on_each_ap),
    KTEST_CASE(smp_ap_halt_is_bounded_by_its_own_timer),
    KTEST_CASE_TIMEOUT(smp_spinlock_counts_exactly_under_contention, 60000),
    KTEST_CASE_EXPLICIT(smp_ap_exception_ends_the_case_as_a_crash),
};
KTEST_SUITE(smp, 36, smp_cases);
