/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_selftest.c — cases that prove the kernel reports its own
 * failures: each deliberately crashes, hangs, leaks or fails, so each is explicit
 * (run only when `tests=` names it in full) and a QEMU scenario checks that
 * the harness reports it. */
#include "tests/harness/ktest.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/format.h"
#include <stdint.h>

/* The top of the canonical lower half is never mapped. */
#define UNMAPPED_ADDRESS 0x00007ffffffff000ull

static void trigger_page_fault(struct ktest *t)
{
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)UNMAPPED_ADDRESS;
    *p = 0xdead;
    KT_FAIL(t, "a write to %#llx did not fault", UNMAPPED_ADDRESS);
}

static void trigger_invalid_opcode(struct ktest *t)
{
    __asm__ volatile("ud2");
    KT_FAIL(t, "ud2 did not raise #UD");
}

static void trigger_panic(struct ktest *t)
{
    (void)t;
    panic("deliberate panic from the selftest suite");
}

/* Spins past its 300 ms timeout: the harness must abandon it, report it as
 * failed and go on. The spin itself is bounded so that a broken timeout
 * shows up as this case failing rather than as a hang. */
static void case_timeout_is_enforced(struct ktest *t)
{
    /* A buffer a device might still be writing when the case is abandoned:
     * the harness must keep it, and not call that a leak. */
    struct dma_region held = ktest_dma_alloc(t, 4096, 0, 0, DMA_ANYWHERE);
    KT_EXPECT(t, held.virt != NULL);
    uint64_t give_up = deadline_after_ms(5000);
    while (!deadline_passed(give_up))
        cpu_pause();
    KT_FAIL(t, "still running after 5 s: the 300 ms case timeout did not fire");
}

/* The same again, right after: the harness arms the timeout for every case,
 * so the second hung case is abandoned at its own 300 ms too. */
static void case_timeout_is_enforced_again(struct ktest *t)
{
    case_timeout_is_enforced(t);
}

/* For watchdog=: a case that would run for ten minutes with interrupts on
 * (its own timeout is longer still), which the run's bound must end. The
 * spin is bounded, so a broken watchdog shows up as this case failing. */
static void hang_with_interrupts_on(struct ktest *t)
{
    uint64_t give_up = deadline_after_ms(600000);
    while (!deadline_passed(give_up))
        cpu_pause();
    KT_FAIL(t, "still running after 600 s: watchdog= did not end the run");
}

/* For the hardware watchdog: interrupts off, so neither the case timeout nor
 * watchdog= can end it; only the TCO timer can (it resets the machine). The
 * spin is bounded (600 s) so a missing watchdog ends in this case failing. */
static void hang_with_interrupts_off(struct ktest *t)
{
    uint64_t flags = irq_save();
    uint64_t give_up = deadline_after_ms(600000);
    while (!deadline_passed(give_up))
        cpu_pause();
    irq_restore(flags);
    KT_FAIL(t, "still running after 600 s with interrupts off: no watchdog reset the machine");
}

/* Allocates and does not free: the harness must report the leak. */
static void dma_leak_is_detected(struct ktest *t)
{
    struct dma_region r = dma_alloc(4096, 4096, 0, DMA_ANYWHERE);
    KT_EXPECT(t, r.virt != NULL);
}

/* Fails on purpose and returns early holding two case buffers: the harness
 * must free them, and the assertion must be the case's only failure. */
static void case_buffers_freed_after_an_early_return(struct ktest *t)
{
    struct dma_region a = ktest_dma_alloc(t, 4096, 0, 0, DMA_ANYWHERE);
    struct dma_region b = ktest_dma_alloc(t, 64 * 1024, 0, 0, DMA_BELOW_4G);
    KT_ASSERT(t, !a.virt && !b.virt);
    KT_FAIL(t, "KT_ASSERT did not return");
}

/* A parameterised case whose parameters end every way a case can: the
 * harness must report each on its own line under the case, give each its
 * own timeout and leak check, go on after the hung one, and fail the case. */
static const char *const outcome_names[] = { "passes", "skips", "fails", "leaks", "hangs",
                                             "passes_after_a_hang" };
static uint32_t outcome_count(void) { return sizeof(outcome_names) / sizeof(outcome_names[0]); }
static void outcome_name(uint32_t param, char *buf, size_t size)
{
    snprintf(buf, size, "%s", outcome_names[param]);
}

static void parameters_reported_each(struct ktest *t)
{
    switch (ktest_param(t)) {
    case 0: ktest_diag(t, "parameter 0 passes"); break;
    case 1: ktest_skip(t, "parameter 1 skips"); break;
    case 2: KT_FAIL(t, "parameter 2 fails on purpose"); break;
    case 3: dma_leak_is_detected(t); break;
    case 4: case_timeout_is_enforced(t); break;
    case 5: break;
    default: KT_FAIL(t, "parameter %u: the harness ran more parameters than it was given",
                     ktest_param(t));
    }
}

/* A page fault in the second of three parameters: that one fails, the
 * third is reported not run, the case and its suite fail, the run crashes. */
static const char *const crash_names[] = { "passes", "faults", "not_run" };
static uint32_t crash_count(void) { return 3; }
static void crash_name(uint32_t param, char *buf, size_t size) { snprintf(buf, size, "%s", crash_names[param]); }

static void parameter_crashes(struct ktest *t)
{
    if (ktest_param(t) == 1)
        trigger_page_fault(t);
    else if (ktest_param(t) == 2)
        KT_FAIL(t, "parameter 2 ran after the kernel crashed");
}

static const struct ktest_case selftest_cases[] = {
    { .name = "case_timeout_is_enforced", .fn = case_timeout_is_enforced, .timeout_ms = 300,
      .flags = KTEST_EXPLICIT },
    { .name = "case_timeout_is_enforced_again", .fn = case_timeout_is_enforced_again,
      .timeout_ms = 300, .flags = KTEST_EXPLICIT },
    { .name = "hang_with_interrupts_on", .fn = hang_with_interrupts_on, .timeout_ms = 900000,
      .flags = KTEST_EXPLICIT },
    { .name = "hang_with_interrupts_off", .fn = hang_with_interrupts_off, .timeout_ms = 900000,
      .flags = KTEST_EXPLICIT },
    KTEST_CASE_EXPLICIT(dma_leak_is_detected),
    KTEST_CASE_EXPLICIT(case_buffers_freed_after_an_early_return),
    KTEST_CASE_EXPLICIT(trigger_page_fault),
    KTEST_CASE_EXPLICIT(trigger_invalid_opcode),
    KTEST_CASE_EXPLICIT(trigger_panic),
    { .name = "parameters_reported_each", .fn = parameters_reported_each, .timeout_ms = 300,
      .flags = KTEST_EXPLICIT, .param_count = outcome_count, .param_name = outcome_name },
    { .name = "parameter_crashes", .fn = parameter_crashes, .timeout_ms = KTEST_DEFAULT_TIMEOUT_MS,
      .flags = KTEST_EXPLICIT, .param_count = crash_count, .param_name = crash_name },
};
KTEST_SUITE(selftest, 90, selftest_cases);
