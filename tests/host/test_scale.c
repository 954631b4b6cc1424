/* SPDX-License-Identifier: MIT */
/* tests/host/test_scale.c — lib/scale.c: fixed-point rate conversion at the
 * rates bareio meets (TSC to ns, ns to LAPIC timer ticks) and at the limits. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/scale.h"

HTEST(scale_mul_shr_uses_full_product)
{
    /* 2^40 * 2^40 = 2^80 overflows 64 bits; >> 32 gives 2^48. */
    HT_EXPECT_EQ(mul_u64_u64_shr(1ull << 40, 1ull << 40, 32), 1ull << 48);
    HT_EXPECT_EQ(mul_u64_u64_shr(UINT64_MAX, UINT64_MAX, 0), UINT64_MAX);   /* saturates */
    HT_EXPECT_EQ(mul_u64_u64_shr(UINT64_MAX, 2, 1), UINT64_MAX);
    HT_EXPECT_EQ(mul_u64_u64_shr(3, 5, 0), 15);
}

HTEST(scale_tsc_to_ns_at_3ghz)
{
    struct scale s;
    HT_EXPECT(scale_init(&s, 3000000000ull, NS_PER_SECOND));
    HT_EXPECT_EQ(scale_apply(&s, 3000000000ull), 999999999);   /* rounded down, within 1 ns */
    HT_EXPECT_EQ(scale_apply(&s, 3000), 999);
    /* 10 years of uptime at 3 GHz converts without overflow. */
    uint64_t ten_years_ticks = 3000000000ull * 86400 * 3653;
    uint64_t ns = scale_apply(&s, ten_years_ticks);
    uint64_t expect = 86400ull * 3653 * NS_PER_SECOND;
    HT_EXPECT(ns <= expect && expect - ns < expect / 1000000000);
}

HTEST(scale_odd_rates)
{
    struct scale s;
    /* HPET-like 14.318180 MHz to ns: 14318180 ticks is one second. */
    HT_EXPECT(scale_init(&s, 14318180, NS_PER_SECOND));
    uint64_t ns = scale_apply(&s, 14318180);
    HT_EXPECT(ns >= 999999999 && ns <= 1000000000);
    /* ns to a 62.5 MHz LAPIC timer: 20 ms is 1250000 ticks. */
    HT_EXPECT(scale_init(&s, NS_PER_SECOND, 62500000));
    uint64_t ticks = scale_apply(&s, 20000000);
    HT_EXPECT(ticks >= 1249999 && ticks <= 1250000);
}

HTEST(scale_rejects_unusable_factors)
{
    struct scale s;
    HT_EXPECT(!scale_init(&s, 0, NS_PER_SECOND));
    HT_EXPECT_EQ(s.mult, 0);
    HT_EXPECT(!scale_init(&s, 1, 1ull << 32));         /* to_hz too large */
    HT_EXPECT(!scale_init(&s, UINT64_MAX, 1));         /* factor rounds to 0 */
    HT_EXPECT(scale_init(&s, 1, (1ull << 32) - 1));
}

HTEST(rate_hz_exact_and_large)
{
    HT_EXPECT_EQ(rate_hz(30000000, 10000000), 3000000000ull);      /* 3 GHz over 10 ms */
    HT_EXPECT_EQ(rate_hz(0, 10), 0);
    HT_EXPECT_EQ(rate_hz(10, 0), 0);
    /* 1000 s at 3 GHz: count * 1e9 would overflow; the answer stays close. */
    uint64_t r = rate_hz(3000000000000ull, 1000ull * NS_PER_SECOND);
    HT_EXPECT(r > 2999990000ull && r <= 3000000000ull);
}

HTEST(median_sorts_and_picks_middle)
{
    uint64_t v[] = { 50, 10, 40, 20, 30 };
    HT_EXPECT_EQ(median_u64(v, 5), 30);
    HT_EXPECT_EQ(v[0], 10);
    HT_EXPECT_EQ(v[4], 50);
    uint64_t w[] = { 4, 1, 3, 2 };
    HT_EXPECT_EQ(median_u64(w, 4), 2);
    HT_EXPECT_EQ(median_u64(w, 0), 0);
    uint64_t one[] = { 7 };
    HT_EXPECT_EQ(median_u64(one, 1), 7);
}

HTEST(deviation_in_ppm)
{
    HT_EXPECT_EQ(deviation_ppm(102, 100), 20000);
    HT_EXPECT_EQ(deviation_ppm(98, 100), 20000);
    HT_EXPECT_EQ(deviation_ppm(5, 5), 0);
    HT_EXPECT_EQ(deviation_ppm(5, 0), UINT64_MAX);
    HT_EXPECT_EQ(deviation_ppm(3000000000ull * 3, 3000000000ull), 2000000);
}
