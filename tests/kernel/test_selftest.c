/* tests/kernel/test_selftest.c — cases that prove the kernel reports its own
 * failures: each deliberately crashes, so each is explicit (run only when
 * `tests=` names it in full) and a QEMU scenario checks the decoded report. */
#include "kernel/ktest.h"
#include "kernel/exit.h"
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

static const struct ktest_case selftest_cases[] = {
    KTEST_CASE_EXPLICIT(trigger_page_fault),
    KTEST_CASE_EXPLICIT(trigger_invalid_opcode),
    KTEST_CASE_EXPLICIT(trigger_panic),
};
KTEST_SUITE(selftest, 90, selftest_cases);
