/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_apic.c — the local APIC delivers what it is asked to: a
 * self-IPI reaches its handler through the IDT with its in-service bit set and
 * cleared again by the EOI; the one-shot timer fires once, not early, and not
 * after a cancel. Timer cases borrow the timer on a vector of their own and
 * give the harness back its pending timeout afterwards. */
#include "tests/harness/ktest.h"
#include "kernel/apic.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/time.h"

#define DELIVERY_TIMEOUT_MS 100
#define SELF_IPI_ROUNDS 3
#define ONESHOT_MS 20
#define ONESHOT_LATE_LIMIT_MS 200
#define ONESHOT_QUIET_MS 60

struct irq_probe {
    int vector;
    volatile uint64_t hits;
    volatile uint64_t first_hit_ns;
    volatile bool in_service_seen;
};

static void probe_handler(void *ctx, struct irq_frame *frame)
{
    struct irq_probe *p = ctx;
    (void)frame;
    if (p->hits == 0)
        p->first_hit_ns = time_ns();
    p->in_service_seen = apic_vector_in_service(p->vector);
    p->hits++;
}

static bool interrupts_enabled(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0" : "=r"(flags));
    return (flags & RFLAGS_IF) != 0;
}

/* Waits (bounded) until the probe has seen `hits` interrupts. */
static bool wait_for_hits(struct irq_probe *p, uint64_t hits, uint64_t timeout_ms)
{
    uint64_t deadline = deadline_after_ms(timeout_ms);
    while (p->hits < hits)
        if (deadline_passed(deadline))
            return false;
    return true;
}

static void self_ipi_delivered(struct ktest *t)
{
    KT_ASSERT(t, interrupts_enabled());
    struct irq_probe probe = { 0 };
    probe.vector = irq_alloc_vector(probe_handler, &probe);
    KT_ASSERT(t, probe.vector >= IRQ_VECTOR_FIRST_DEVICE);
    uint64_t count_before = irq_count(probe.vector);
    /* Several in a row: without an EOI the vector would stay in service and
     * block every later one of the same priority. */
    for (uint64_t round = 1; round <= SELF_IPI_ROUNDS; round++) {
        probe.in_service_seen = false;
        if (!KT_EXPECT(t, apic_send_self_ipi(probe.vector)))
            goto out;
        if (!wait_for_hits(&probe, round, DELIVERY_TIMEOUT_MS)) {
            KT_FAIL(t, "self-IPI %llu on vector %d not handled within %d ms (IRR %d, ISR %d)",
                    (unsigned long long)round, probe.vector, DELIVERY_TIMEOUT_MS,
                    apic_vector_requested(probe.vector), apic_vector_in_service(probe.vector));
            goto out;
        }
        KT_EXPECT(t, probe.in_service_seen);                    /* delivered by the LAPIC */
        KT_EXPECT(t, !apic_vector_in_service(probe.vector));    /* EOI cleared it */
    }
    KT_EXPECT_EQ(t, irq_count(probe.vector) - count_before, SELF_IPI_ROUNDS);
    KT_EXPECT_EQ(t, probe.hits, SELF_IPI_ROUNDS);
    KT_EXPECT_EQ(t, apic_error_status(), 0);
out:
    irq_free_vector(probe.vector);
}

static void self_ipi_waits_while_interrupts_off(struct ktest *t)
{
    struct irq_probe probe = { 0 };
    probe.vector = irq_alloc_vector(probe_handler, &probe);
    KT_ASSERT(t, probe.vector >= IRQ_VECTOR_FIRST_DEVICE);
    uint64_t flags = irq_save();
    bool sent = apic_send_self_ipi(probe.vector);
    delay_us(1000);
    uint64_t hits_while_off = probe.hits;
    bool requested = apic_vector_requested(probe.vector);
    irq_restore(flags);
    bool delivered = wait_for_hits(&probe, 1, DELIVERY_TIMEOUT_MS);
    KT_EXPECT(t, sent);
    KT_EXPECT_EQ(t, hits_while_off, 0);       /* IF=0 holds it back ... */
    KT_EXPECT(t, requested);                  /* ... pending in the IRR ... */
    KT_EXPECT(t, delivered);                  /* ... and delivered once IF=1 */
    irq_free_vector(probe.vector);
}

/* The harness's timeout shot, saved while a case borrows the timer. */
struct timer_loan {
    uint64_t remaining_ns;
    int vector;
    uint64_t taken_at_ns;
};

static struct timer_loan timer_borrow(void)
{
    struct timer_loan loan = { apic_timer_remaining_ns(), apic_timer_vector(), time_ns() };
    apic_timer_cancel();
    return loan;
}

static void timer_give_back(const struct timer_loan *loan)
{
    apic_timer_cancel();
    if (loan->remaining_ns == 0)
        return;
    uint64_t spent = time_ns() - loan->taken_at_ns;
    uint64_t left = loan->remaining_ns > spent ? loan->remaining_ns - spent : 1000;
    apic_timer_arm(loan->vector, left);
}

static void lapic_timer_oneshot_fires(struct ktest *t)
{
    KT_ASSERT(t, interrupts_enabled());
    KT_ASSERT(t, apic_timer_frequency_hz() != 0);
    struct irq_probe probe = { 0 };
    probe.vector = irq_alloc_vector(probe_handler, &probe);
    KT_ASSERT(t, probe.vector >= IRQ_VECTOR_FIRST_DEVICE);
    struct timer_loan loan = timer_borrow();

    uint64_t armed_at = time_ns();
    apic_timer_arm(probe.vector, ONESHOT_MS * 1000000ull);
    bool fired = wait_for_hits(&probe, 1, ONESHOT_LATE_LIMIT_MS);
    delay_ms(ONESHOT_QUIET_MS);                 /* one-shot: nothing more may come */
    uint64_t hits = probe.hits;
    uint64_t remaining_after = apic_timer_remaining_ns();
    timer_give_back(&loan);
    irq_free_vector(probe.vector);

    if (!fired) {
        KT_FAIL(t, "timer on vector %d did not fire within %d ms (timer %llu Hz)", probe.vector,
                ONESHOT_LATE_LIMIT_MS, (unsigned long long)apic_timer_frequency_hz());
        return;
    }
    uint64_t after_ns = probe.first_hit_ns - armed_at;
    ktest_diag(t, "armed for %d ms, fired after %llu us; timer clock %llu Hz", ONESHOT_MS,
               (unsigned long long)(after_ns / 1000), (unsigned long long)apic_timer_frequency_hz());
    KT_EXPECT(t, after_ns >= ONESHOT_MS * 1000000ull);
    KT_EXPECT_EQ(t, hits, 1);
    KT_EXPECT(t, probe.in_service_seen);
    KT_EXPECT_EQ(t, remaining_after, 0);
}

static void lapic_timer_cancel_prevents_fire(struct ktest *t)
{
    KT_ASSERT(t, interrupts_enabled());
    struct irq_probe probe = { 0 };
    probe.vector = irq_alloc_vector(probe_handler, &probe);
    KT_ASSERT(t, probe.vector >= IRQ_VECTOR_FIRST_DEVICE);
    struct timer_loan loan = timer_borrow();

    apic_timer_arm(probe.vector, 10 * 1000000ull);
    uint64_t remaining_armed = apic_timer_remaining_ns();
    apic_timer_cancel();
    uint64_t remaining_cancelled = apic_timer_remaining_ns();
    delay_ms(30);
    uint64_t hits = probe.hits;
    timer_give_back(&loan);
    irq_free_vector(probe.vector);

    ktest_diag(t, "remaining %llu ns when armed for 10 ms", (unsigned long long)remaining_armed);
    KT_EXPECT(t, remaining_armed > 5000000 && remaining_armed <= 10100000);
    KT_EXPECT_EQ(t, remaining_cancelled, 0);
    KT_EXPECT_EQ(t, hits, 0);
}

static void spurious_vector_and_eoi_state(struct ktest *t)
{
    uint32_t svr = apic_spurious_register();
    KT_EXPECT(t, svr & (1u << 8));                          /* APIC software enabled */
    KT_EXPECT_EQ(t, svr & 0xff, IRQ_VECTOR_SPURIOUS);
    /* Outside any handler nothing may be left in service: a missing EOI
     * anywhere earlier would show here. */
    for (int v = 16; v < 256; v++)
        if (apic_vector_in_service(v))
            KT_FAIL(t, "vector %d is still in service (an EOI was missed)", v);
    KT_EXPECT_EQ(t, apic_error_status(), 0);
    ktest_diag(t, "SVR %#x, spurious interrupts so far %llu", svr,
               (unsigned long long)irq_count(IRQ_VECTOR_SPURIOUS));
}

static void msi_message_targets_this_cpu(struct ktest *t)
{
    uint32_t address = apic_msi_address();
    uint32_t data = apic_msi_data(0x42);
    KT_EXPECT_EQ(t, address >> 20, 0xfee);                  /* SDM vol. 3 §11.11.1 */
    KT_EXPECT_EQ(t, (address >> 12) & 0xff, apic_id());     /* destination ID */
    KT_EXPECT_EQ(t, address & 0xc, 0);                      /* RH = 0, DM = physical */
    KT_EXPECT_EQ(t, data & 0xff, 0x42);
    KT_EXPECT_EQ(t, (data >> 8) & 7, 0);                    /* fixed delivery */
    KT_EXPECT_EQ(t, data & (1u << 15), 0);                  /* edge */
}

static const struct ktest_case apic_cases[] = {
    KTEST_CASE(spurious_vector_and_eoi_state),
    KTEST_CASE(self_ipi_delivered),
    KTEST_CASE(self_ipi_waits_while_interrupts_off),
    KTEST_CASE(lapic_timer_oneshot_fires),
    KTEST_CASE(lapic_timer_cancel_prevents_fire),
    KTEST_CASE(msi_message_targets_this_cpu),
};
KTEST_SUITE(apic, 35, apic_cases);
