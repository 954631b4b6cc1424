/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_ktest.c — the harness itself (tests/harness/ktest.c) on the
 * fake kernel: its per-case timeout is a LAPIC one-shot armed for each case
 * (and re-armed by the handler when it fires before the case's deadline,
 * as when a case borrowed the timer), ending a hung case by a jump back into
 * run_case(). Cases here hang on purpose; each spins at most 2 s of fake
 * time, so a timeout that never fires shows up as "still running", and the
 * fake clock says when each case was abandoned. */
#include "tests/host/hw/hw.h"
#include "kernel/apic.h"
#include "kernel/exit.h"
#include "tests/harness/ktest.h"
#include "kernel/memory.h"
#include "kernel/time.h"

#define HANG_LIMIT_MS 2000

static uint64_t started[8];

static void hang(struct ktest *t, unsigned i)
{
    started[i] = fake_now();
    uint64_t give_up = deadline_after_ms(HANG_LIMIT_MS);
    while (!deadline_passed(give_up))
        delay_us(100);
    KT_FAIL(t, "still running after %u ms: the case timeout did not fire", HANG_LIMIT_MS);
}

static void hang_first(struct ktest *t) { hang(t, 0); }
static void hang_second(struct ktest *t) { hang(t, 1); }
static void quick(struct ktest *t) { started[2] = fake_now(); KT_EXPECT(t, started[2] != 0); }

/* A shot of 10 ms on the harness's vector, as a case that borrowed the
 * timer and gave back less than was left: the harness must re-arm. */
static void early_shot(struct ktest *t)
{
    apic_timer_oneshot_ns(10 * FAKE_MS);
    hang(t, 3);
}

static void hang_last(struct ktest *t) { hang(t, 4); }

static void leaks(struct ktest *t)
{
    started[5] = fake_now();
    struct dma_region r = dma_alloc(4096, 4096, 0, DMA_ANYWHERE);
    KT_EXPECT(t, r.virt != NULL);
}

static void after_leak(struct ktest *t) { started[6] = fake_now(); KT_EXPECT(t, started[6] != 0); }

static const struct ktest_case host_harness_cases[] = {
    KTEST_CASE_TIMEOUT(hang_first, 300),
    KTEST_CASE_TIMEOUT(hang_second, 300),
    KTEST_CASE_TIMEOUT(quick, 300),
    KTEST_CASE_TIMEOUT(early_shot, 300),
    KTEST_CASE_TIMEOUT(hang_last, 500),
    KTEST_CASE(leaks),
    KTEST_CASE(after_leak),
};
KTEST_SUITE(host_harness, 1, host_harness_cases);

static uint64_t ms_between(unsigned a, unsigned b) { return (started[b] - started[a]) / FAKE_MS; }

HTEST(ktest_case_timeout_armed_for_every_case)
{
    int rc = ktest_run_all("host_harness.hang_first,host_harness.hang_second,host_harness.quick,"
                           "host_harness.hang_last");
    HT_EXPECT_EQ(rc, BAREIO_EXIT_FAIL);
    HT_EXPECT_EQ(fake_log_count("not ok 1 hang_first"), 1);
    HT_EXPECT_EQ(fake_log_count("not ok 2 hang_second"), 1);
    HT_EXPECT_EQ(fake_log_count("  ok 3 quick"), 1);
    HT_EXPECT_EQ(fake_log_count("not ok 4 hang_last"), 1);
    HT_EXPECT_EQ(fake_log_count("timed out after 300 ms: the case was abandoned"), 2);
    HT_EXPECT_EQ(fake_log_count("timed out after 500 ms: the case was abandoned"), 1);
    HT_EXPECT_EQ(fake_log_count("still running"), 0);
    /* Each hung case ended at its own deadline. */
    HT_EXPECT(ms_between(0, 1) >= 300 && ms_between(0, 1) <= 302);
    HT_EXPECT(ms_between(1, 2) >= 300 && ms_between(1, 2) <= 302);
    HT_EXPECT(fake_now() - started[4] >= 500 * FAKE_MS);
    HT_EXPECT(fake_now() - started[4] <= 502 * FAKE_MS);
    HT_EXPECT_EQ(fake_log_count("# bareio: 1 passed, 3 failed, 0 skipped"), 1);
}

/* The timer fires after 10 ms, before the case's 300 ms deadline: the
 * handler arms it again for the rest, and the case is abandoned at 300 ms. */
HTEST(ktest_case_timeout_rearmed_when_fired_early)
{
    int rc = ktest_run_all("host_harness.quick,host_harness.early_shot");
    HT_EXPECT_EQ(rc, BAREIO_EXIT_FAIL);
    HT_EXPECT_EQ(fake_log_count("  ok 1 quick"), 1);
    HT_EXPECT_EQ(fake_log_count("not ok 2 early_shot"), 1);
    HT_EXPECT_EQ(fake_log_count("timed out after 300 ms: the case was abandoned"), 1);
    HT_EXPECT_EQ(fake_log_count("still running"), 0);
    HT_EXPECT(fake_now() - started[3] >= 300 * FAKE_MS);
    HT_EXPECT(fake_now() - started[3] <= 302 * FAKE_MS);
}

/* A case that keeps DMA memory fails for the leak; the next case starts
 * clean, and so does its count. */
HTEST(ktest_dma_leak_fails_that_case_only)
{
    int rc = ktest_run_all("host_harness.leaks,host_harness.after_leak");
    HT_EXPECT_EQ(rc, BAREIO_EXIT_FAIL);
    HT_EXPECT_EQ(fake_log_count("not ok 1 leaks"), 1);
    HT_EXPECT_EQ(fake_log_count("DMA memory leaked: 0 allocations outstanding before the case, "
                                "1 after"), 1);
    HT_EXPECT_EQ(fake_log_count("  ok 2 after_leak"), 1);
    HT_EXPECT_EQ(fake_log_count("# bareio: 1 passed, 1 failed, 0 skipped"), 1);
}
