/* SPDX-License-Identifier: MIT */
/* tests/host/test_rng.c — lib/rng.c: the sequences are fixed by the seed (the
 * expected words were computed separately, in Python, from the published
 * algorithms; splitmix64 from seed 0 starting 0xe220a8397b1dcdaf is the
 * well-known first output), bounded draws stay in range and are unbiased. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/rng.h"

HTEST(rng_splitmix64_known_sequence)
{
    uint64_t state = 0;
    HT_EXPECT_EQ(splitmix64_next(&state), 0xe220a8397b1dcdafull);
    HT_EXPECT_EQ(splitmix64_next(&state), 0x6e789e6aa1b965f4ull);
    HT_EXPECT_EQ(splitmix64_next(&state), 0x06c45d188009454full);
}

HTEST(rng_fixed_seed_gives_fixed_sequence)
{
    static const uint64_t seed0[] = {
        0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull,
        0x6aa594f1262d2d2cull, 0xbba5ad4a1f842e59ull,
    };
    static const uint64_t seed_0123[] = {
        0xa2c2a42038d4ec3dull, 0x05fc25d0738e7b0full, 0x625e7bff938e701eull,
        0x1ba4ddc6fe2b5726ull, 0xdf0a2482ac9254cfull,
    };
    struct rng r;
    rng_seed(&r, 0);
    for (int i = 0; i < 5; i++)
        HT_EXPECT_EQ(rng_next_u64(&r), seed0[i]);
    rng_seed(&r, 0x0123456789abcdefull);
    for (int i = 0; i < 5; i++)
        HT_EXPECT_EQ(rng_next_u64(&r), seed_0123[i]);
}

HTEST(rng_reseeding_restarts_the_sequence)
{
    struct rng a, b;
    rng_seed(&a, 42);
    uint64_t first[16];
    for (int i = 0; i < 16; i++)
        first[i] = rng_next_u64(&a);
    rng_seed(&b, 42);
    for (int i = 0; i < 16; i++)
        HT_EXPECT_EQ(rng_next_u64(&b), first[i]);
}

HTEST(rng_different_seeds_differ)
{
    struct rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 64; i++)
        if (rng_next_u64(&a) == rng_next_u64(&b))
            same++;
    HT_EXPECT_EQ(same, 0);
}

HTEST(rng_u32_is_high_half)
{
    struct rng a, b;
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    for (int i = 0; i < 8; i++)
        HT_EXPECT_EQ(rng_next_u32(&a), rng_next_u64(&b) >> 32);
}

HTEST(rng_below_stays_in_range)
{
    static const uint64_t bounds[] = { 1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1, UINT64_MAX };
    struct rng r;
    rng_seed(&r, 7);
    int out_of_range = 0;
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
        for (int i = 0; i < 2000; i++)
            if (rng_below(&r, bounds[b]) >= bounds[b])
                out_of_range++;
    HT_EXPECT_EQ(out_of_range, 0);
    HT_EXPECT_EQ(rng_below(&r, 1), 0);
    HT_EXPECT_EQ(rng_below(&r, 0), 0);
}

HTEST(rng_below_hits_every_value)
{
    struct rng r;
    rng_seed(&r, 8);
    int counts[6] = { 0 };
    for (int i = 0; i < 60000; i++)
        counts[rng_below(&r, 6)]++;
    for (int v = 0; v < 6; v++)
        HT_EXPECT(counts[v] > 9400 && counts[v] < 10600);
}

/* With bound ~ 2/3 of 2^64, `x % bound` would put two thirds of the draws in
 * the lower half of the range; an unbiased method puts half there. */
HTEST(rng_below_has_no_modulo_bias)
{
    const uint64_t bound = 0xaaaaaaaaaaaaaaabull;
    struct rng r;
    rng_seed(&r, 9);
    int lower = 0, n = 20000;
    for (int i = 0; i < n; i++)
        if (rng_below(&r, bound) < bound / 2)
            lower++;
    HT_EXPECT(lower > n * 47 / 100 && lower < n * 53 / 100);
}

HTEST(rng_range_is_inclusive)
{
    struct rng r;
    rng_seed(&r, 10);
    int saw_lo = 0, saw_hi = 0, outside = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = rng_range(&r, 100, 103);
        saw_lo |= v == 100;
        saw_hi |= v == 103;
        outside += v < 100 || v > 103;
    }
    HT_EXPECT(saw_lo && saw_hi);
    HT_EXPECT_EQ(outside, 0);
    HT_EXPECT_EQ(rng_range(&r, 5, 5), 5);
    HT_EXPECT_EQ(rng_range(&r, 9, 3), 9);
    (void)rng_range(&r, 0, UINT64_MAX);     /* the full range must not divide by zero */
}

HTEST(rng_fill_is_the_word_stream_little_endian)
{
    struct rng a, b;
    rng_seed(&a, 11);
    rng_seed(&b, 11);
    uint8_t buf[21];
    rng_fill(&a, buf, sizeof buf);
    uint8_t expect[24];
    for (int w = 0; w < 3; w++) {
        uint64_t v = rng_next_u64(&b);
        for (int i = 0; i < 8; i++)
            expect[w * 8 + i] = (uint8_t)(v >> (8 * i));
    }
    HT_EXPECT(memcmp(buf, expect, sizeof buf) == 0);
    /* A partial last word is consumed whole: the next draw is the 4th word. */
    HT_EXPECT_EQ(rng_next_u64(&a), rng_next_u64(&b));
}
