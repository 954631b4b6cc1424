/* SPDX-License-Identifier: MIT */
/* tests/host/htest.h — the host unit-test runner's interface. Tests for the
 * pure-logic code in lib/ (and anything else that builds on the host) live in
 * tests/host/test_*.c:
 *
 *   HTEST(format_pads_hex) {
 *       char buf[16];
 *       snprintf(buf, sizeof buf, "%04x", 0x2a);
 *       HT_EXPECT_STREQ(buf, "002a");
 *   }
 *
 * lib's memcpy/memset/... are renamed lib_memcpy/... on the host (rename.h is
 * force-included), so the host libc keeps its own. The runner prints one line
 * per test and `N passed, N failed` last; it exits 1 on any failure. */
#ifndef TESTS_HOST_HTEST_H
#define TESTS_HOST_HTEST_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct htest {
    const char *name;
    void (*fn)(void);
    struct htest *next;
};

void htest_register(struct htest *t);
void htest_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define HTEST(name_)                                                        \
    static void htest_fn_##name_(void);                                     \
    static struct htest htest_##name_ = { #name_, htest_fn_##name_, NULL }; \
    __attribute__((constructor)) static void htest_reg_##name_(void)        \
    { htest_register(&htest_##name_); }                                     \
    static void htest_fn_##name_(void)

#define HT_EXPECT(cond) \
    do { if (!(cond)) htest_fail(__FILE__, __LINE__, "expected: %s", #cond); } while (0)
#define HT_EXPECT_EQ(a, b) do {                                                        \
    unsigned long long ht_a_ = (unsigned long long)(a), ht_b_ = (unsigned long long)(b); \
    if (ht_a_ != ht_b_)                                                                \
        htest_fail(__FILE__, __LINE__, "expected %s == %s: %#llx != %#llx", #a, #b, ht_a_, ht_b_); \
} while (0)
#define HT_EXPECT_STREQ(a, b) do {                                                     \
    const char *ht_a_ = (a), *ht_b_ = (b);                                             \
    if (!ht_a_ || !ht_b_ || strcmp(ht_a_, ht_b_) != 0)                                 \
        htest_fail(__FILE__, __LINE__, "expected %s == %s: \"%s\" != \"%s\"", #a, #b,  \
                   ht_a_ ? ht_a_ : "(null)", ht_b_ ? ht_b_ : "(null)");                \
} while (0)

#endif
