/* SPDX-License-Identifier: MIT */
/* tests/harness/ktest.h — declaring in-kernel test suites and cases.
 *
 * A suite is a static table of cases registered in the .ktest_suites linker
 * section, so it can sit next to the code it tests and needs no central list.
 * The harness (tests/harness/ktest.c) runs the suites selected by `tests=` in order of
 * their `order` key (then name), prints KTAP version 1 on the console, frees
 * the case's own DMA buffers (ktest_dma_alloc()) when it ends, checks that
 * nothing else it allocated is left over and enforces each case's timeout.
 *
 *   static void lib_crc32c_known_vectors(struct ktest *t)
 *   {
 *       KT_EXPECT_EQ(t, crc32c("123456789", 9), 0xe3069283);
 *   }
 *   static const struct ktest_case lib_cases[] = {
 *       KTEST_CASE(lib_crc32c_known_vectors),
 *       KTEST_CASE_TIMEOUT(lib_slow_thing, 5000),
 *   };
 *   KTEST_SUITE(lib, 10, lib_cases);
 *
 * Case names appear in KTAP as written (the function name). Diagnostics go
 * through ktest_diag() and come out as `# ` lines before the result.
 *
 * A parameterised case (KTEST_CASE_PARAMS) runs once per parameter, as
 * KUnit's do: `count()` says how many when the case starts, `name()` names
 * each, and each run is a case of its own in a document nested under the
 * case's result line, with its own timeout, buffers and leak check
 * (ktest_param() says which one is running). The case's own line is then
 * not ok if a parameter failed, a skip if every parameter skipped, ok
 * otherwise, and only the parameters count in the totals (they are the
 * leaves). With a count of 0 the case runs once, as a plain case, with
 * ktest_param() returning KTEST_NO_PARAM: it says then why there is nothing. */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/memory.h"   /* struct dma_region, for ktest_dma_alloc */
#include "lib/string.h"      /* strcmp, for KT_EXPECT_STREQ */

struct ktest;                       /* the running case's state */

#define KTEST_DEFAULT_TIMEOUT_MS 10000
/* Run only when `tests=` names the case exactly (suite.case), never through a
 * wildcard: for cases that crash the kernel or need special QEMU set-ups. */
#define KTEST_EXPLICIT (1u << 0)

/* Parameter names longer than this are cut (a KTAP name, not a message):
 * room for a benchmark's "<job name>-<device>" (31 + 1 + 31 bytes). */
#define KTEST_PARAM_NAME_MAX 72
#define KTEST_NO_PARAM UINT32_MAX

struct ktest_case {
    const char *name;
    void (*fn)(struct ktest *t);
    uint32_t timeout_ms;        /* per run: each parameter has the whole of it */
    uint32_t flags;
    /* Both set for a parameterised case, both NULL otherwise. */
    uint32_t (*param_count)(void);
    void (*param_name)(uint32_t param, char *buf, size_t size);
};

struct ktest_suite {
    const char *name;
    unsigned order;                 /* lower runs first: lib 10, memory 20, time 30, acpi 40, pci 50 */
    const struct ktest_case *cases;
    size_t count;
    /* Optional: return false (after ktest-free diagnostics via klog) to skip the
     * whole suite; `reason` must then be set to say why. */
    bool (*available)(const char **reason);
};

#define KTEST_CASE(fn_) { .name = #fn_, .fn = fn_, .timeout_ms = KTEST_DEFAULT_TIMEOUT_MS, .flags = 0 }
#define KTEST_CASE_TIMEOUT(fn_, ms) { .name = #fn_, .fn = fn_, .timeout_ms = (ms), .flags = 0 }
#define KTEST_CASE_EXPLICIT(fn_) { .name = #fn_, .fn = fn_, .timeout_ms = KTEST_DEFAULT_TIMEOUT_MS, .flags = KTEST_EXPLICIT }
#define KTEST_CASE_PARAMS(fn_, count_, name_) { .name = #fn_, .fn = fn_,            \
    .timeout_ms = KTEST_DEFAULT_TIMEOUT_MS, .flags = 0, .param_count = (count_), .param_name = (name_) }

#define KTEST_SUITE_FULL(name_, order_, cases_, available_)                        \
    static const struct ktest_suite ktest_suite_##name_                            \
        __attribute__((used, section(".ktest_suites." #name_), aligned(8))) = {    \
        .name = #name_, .order = (order_), .cases = (cases_),                      \
        .count = sizeof(cases_) / sizeof((cases_)[0]), .available = (available_) }
#define KTEST_SUITE(name_, order_, cases_) KTEST_SUITE_FULL(name_, order_, cases_, NULL)

/* Results. A case passes unless it records a failure; a skip ends it as SKIP. */
void ktest_fail_at(struct ktest *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ktest_skip(struct ktest *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ktest_diag(struct ktest *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool ktest_failed(const struct ktest *t);
/* From now, the running case (or parameter) has `ms` more before it is
 * abandoned, instead of what its declaration said: for a case whose length
 * the command line decides (a benchmark job's runtime). */
void ktest_set_timeout(struct ktest *t, uint32_t ms);
/* The parameter this run of a parameterised case is for, or KTEST_NO_PARAM. */
uint32_t ktest_param(const struct ktest *t);

#define KT_FAIL(t, ...) ktest_fail_at((t), __FILE__, __LINE__, __VA_ARGS__)

/* EXPECT records the failure and goes on; ASSERT also returns from the case. */
#define KT_EXPECT(t, cond)                                                          \
    ((cond) ? true : (ktest_fail_at((t), __FILE__, __LINE__, "expected: %s", #cond), false))
#define KT_ASSERT(t, cond)                                                          \
    do { if (!KT_EXPECT(t, cond)) return; } while (0)

#define KT_EXPECT_EQ(t, a, b) ({                                                    \
    uint64_t kt_a_ = (uint64_t)(a), kt_b_ = (uint64_t)(b);                          \
    bool kt_ok_ = kt_a_ == kt_b_;                                                   \
    if (!kt_ok_)                                                                    \
        ktest_fail_at((t), __FILE__, __LINE__, "expected %s == %s: %#llx != %#llx", \
                      #a, #b, (unsigned long long)kt_a_, (unsigned long long)kt_b_); \
    kt_ok_; })
#define KT_ASSERT_EQ(t, a, b) do { if (!KT_EXPECT_EQ(t, a, b)) return; } while (0)

#define KT_EXPECT_STREQ(t, a, b) ({                                                 \
    const char *kt_a_ = (a), *kt_b_ = (b);                                          \
    bool kt_ok_ = kt_a_ && kt_b_ && strcmp(kt_a_, kt_b_) == 0;                      \
    if (!kt_ok_)                                                                    \
        ktest_fail_at((t), __FILE__, __LINE__, "expected %s == %s: \"%s\" != \"%s\"", \
                      #a, #b, kt_a_ ? kt_a_ : "(null)", kt_b_ ? kt_b_ : "(null)");  \
    kt_ok_; })

/* DMA memory owned by the running case: like dma_alloc(), but the harness
 * frees it when the case ends, however it ends — an early return from
 * KT_ASSERT or a skip included — so a failure is never followed by a second,
 * "leaked" one. ktest_dma_free() gives a buffer back before that (it takes
 * any region, and a failed allocation, as dma_free() does). A case holds at
 * most KTEST_CASE_DMA_MAX such buffers at once; past that the allocation
 * fails, saying so. A case abandoned at its timeout keeps its buffers
 * allocated (a device may still be moving data into them) and says so. */
#define KTEST_CASE_DMA_MAX 16
struct dma_region ktest_dma_alloc(struct ktest *t, uint64_t size, uint64_t align,
                                  uint64_t boundary, enum dma_placement placement);
void ktest_dma_free(struct ktest *t, struct dma_region *region);

/* Work done on another CPU for the running case (the parallel dio harness):
 * a stand-in takes the case's identity (its name, depth, parameter) with a
 * verdict and buffer list of its own, so that the CPU never touches the
 * case's own state, and a stand-in whose work outlives the case (abandoned
 * at its timeout) writes only into its own memory. Give it at least
 * ktest_standin_size() bytes, 16-byte aligned. Everything above that takes a
 * struct ktest works on a stand-in, from its CPU, except ktest_set_timeout
 * (the case's clock is the BSP's). */
size_t ktest_standin_size(void);
struct ktest *ktest_standin_begin(void *memory, const struct ktest *t);
/* On the BSP once the stand-in's work returned: its failure becomes t's and
 * its buffers go back. */
void ktest_standin_end(struct ktest *t, struct ktest *standin);
/* When the running case must end: time_ns() at its deadline. */
uint64_t ktest_deadline_ns(const struct ktest *t);
/* Called on the BSP when a case is abandoned at its timeout, before its
 * failure is reported: what runs on other CPUs for it is said and given up
 * there (tests/harness/dio.c). */
void ktest_set_abandon_hook(void (*hook)(struct ktest *t));

/* The harness. Returns the exit status (enum bareio_exit in kernel/exit.h). */
int ktest_run_all(const char *selection);
/* Called by the exception handler: reports the running case as crashed, closes
 * the KTAP document and exits with BAREIO_EXIT_CRASH. Never returns. */
__attribute__((noreturn)) void ktest_crash(const char *what);
/* The name of the running case ("suite.case", "suite.case.param"), or NULL. */
const char *ktest_current(void);
/* Called once at the end of a run that did not crash, just before the totals
 * line and the END banner (the dio harness prints its summary table there,
 * as `#` diagnostics). */
void ktest_set_end_hook(void (*hook)(void));

#endif
