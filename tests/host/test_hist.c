/* SPDX-License-Identifier: MIT */
/* tests/host/test_hist.c — the latency histogram (lib/hist.h) against a
 * reference computed here: bucket bounds that tile the range with no gap,
 * exact small values, every fio percentile within the 0.4 % bound of the
 * sorted samples' value of the same rank (uniform, long-tailed and bimodal
 * draws), the rank rule at the edges (one sample, p0, p100, ties), merge
 * equal to recording everything in one, mean and standard deviation against
 * double-precision arithmetic, and values past 2^40 in the overflow bucket. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/hist.h"
#include "lib/rng.h"
#include <stdlib.h>

static struct hist h, h2, h3;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The sorted samples' value of fio's rank: ceil(p × n), at least 1. */
static uint64_t reference(const uint64_t *sorted, size_t n, uint32_t p_x100000)
{
    uint64_t rank = ((uint64_t)n * p_x100000 + 9999999) / 10000000;
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

HTEST(hist_buckets_tile_the_range)
{
    HT_EXPECT_EQ(hist_bucket_low(0), 0);
    for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++) {
        uint64_t low = hist_bucket_low(i), high = hist_bucket_high(i);
        HT_EXPECT(high > low);
        HT_EXPECT_EQ(hist_bucket_of(low), i);
        HT_EXPECT_EQ(hist_bucket_of(high - 1), i);
        /* No bucket wider than 1/128 of its lower bound (or one value). */
        HT_EXPECT(high - low == 1 || (high - low) * HIST_SUB <= low);
        if (i + 2 < HIST_BUCKETS)
            HT_EXPECT_EQ(hist_bucket_low(i + 1), high);
    }
    HT_EXPECT_EQ(hist_bucket_of(HIST_MAX_VALUE - 1), HIST_BUCKETS - 2);
    HT_EXPECT_EQ(hist_bucket_of(HIST_MAX_VALUE), HIST_BUCKETS - 1);
    HT_EXPECT_EQ(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
}

HTEST(hist_small_values_are_exact)
{
    hist_init(&h);
    for (uint64_t v = 0; v < 256; v++)
        hist_record(&h, v);
    for (uint32_t p = 100000; p <= 9900000; p += 100000) {
        uint64_t rank = (256ull * p + 9999999) / 10000000;
        HT_EXPECT_EQ(hist_percentile(&h, p), rank - 1);
    }
    HT_EXPECT_EQ(h.min, 0);
    HT_EXPECT_EQ(h.max, 255);
}

static void check_against_reference(uint64_t *v, size_t n)
{
    hist_init(&h);
    for (size_t i = 0; i < n; i++)
        hist_record(&h, v[i]);
    qsort(v, n, sizeof(*v), cmp_u64);
    for (unsigned i = 0; i < HIST_FIO_PERCENTILES; i++) {
        uint64_t want = reference(v, n, hist_fio_percentiles[i]);
        uint64_t got = hist_percentile(&h, hist_fio_percentiles[i]);
        uint64_t err = got > want ? got - want : want - got;
        /* Within half a bucket: 1/256 of the value, exact below 256. */
        if (err * 256 > want)
            htest_fail(__FILE__, __LINE__, "p%u/100000: %llu, the samples say %llu",
                       hist_fio_percentiles[i], (unsigned long long)got, (unsigned long long)want);
    }
    HT_EXPECT_EQ(h.count, n);
    HT_EXPECT_EQ(h.min, v[0]);
    HT_EXPECT_EQ(h.max, v[n - 1]);
    HT_EXPECT_EQ(hist_percentile(&h, 10000000), v[n - 1]);
    /* p0 is rank 1: the smallest value, within half a bucket (exact below 256). */
    uint64_t p0 = hist_percentile(&h, 0);
    HT_EXPECT(p0 >= v[0] && (p0 - v[0]) * 256 <= v[0]);
}

#define N 200000
static uint64_t samples[N];

HTEST(hist_percentiles_match_sorted_samples)
{
    struct rng r;
    rng_seed(&r, 0x5eed);
    for (size_t i = 0; i < N; i++)                  /* uniform 10 us .. 50 us */
        samples[i] = rng_range(&r, 10000, 50000);
    check_against_reference(samples, N);
    for (size_t i = 0; i < N; i++) {                /* long tail: 20 us, sometimes up to 100 ms */
        uint64_t base = rng_range(&r, 18000, 22000);
        samples[i] = rng_below(&r, 1000) == 0 ? base * rng_range(&r, 10, 5000) : base;
    }
    check_against_reference(samples, N);
    for (size_t i = 0; i < N; i++)                  /* bimodal: cache hits and misses */
        samples[i] = rng_below(&r, 10) < 7 ? rng_range(&r, 300, 400) : rng_range(&r, 80000, 90000);
    check_against_reference(samples, N);
    for (size_t i = 0; i < 1000; i++)               /* few samples: ranks at the edges */
        samples[i] = rng_range(&r, 1, HIST_MAX_VALUE - 1);
    check_against_reference(samples, 1000);
}

HTEST(hist_rank_edges)
{
    hist_init(&h);
    HT_EXPECT_EQ(hist_percentile(&h, 5000000), 0);
    HT_EXPECT_EQ(hist_mean(&h), 0);
    HT_EXPECT_EQ(hist_stddev(&h), 0);
    hist_record(&h, 123456);
    for (unsigned i = 0; i < HIST_FIO_PERCENTILES; i++)     /* one value: clamped to it */
        HT_EXPECT_EQ(hist_percentile(&h, hist_fio_percentiles[i]), 123456);
    HT_EXPECT_EQ(hist_stddev(&h), 0);
    hist_init(&h);
    for (unsigned i = 0; i < 99; i++)
        hist_record(&h, 1000);
    hist_record(&h, 900000);
    /* Rank 99 of 100 is the last 1000, rank 100 the 900000: each reported as
     * its bucket's midpoint, within 1/256 of it. */
    uint64_t p99 = hist_percentile(&h, 9900000), p995 = hist_percentile(&h, 9950000);
    HT_EXPECT(p99 >= 1000 && p99 < 1004);
    HT_EXPECT(p995 <= 900000 && p995 * 256 >= 900000 * 255);
    HT_EXPECT_EQ(hist_percentile(&h, 10000000), 900000);    /* p100: the maximum, exact */
}

HTEST(hist_overflow_bucket_reports_the_maximum)
{
    hist_init(&h);
    hist_record(&h, 5);
    hist_record(&h, HIST_MAX_VALUE + 77);
    HT_EXPECT_EQ(h.bucket[HIST_BUCKETS - 1], 1);
    HT_EXPECT_EQ(hist_percentile(&h, 9900000), HIST_MAX_VALUE + 77);
    HT_EXPECT_EQ(hist_percentile(&h, 100000), 5);
}

HTEST(hist_merge_equals_one_histogram)
{
    struct rng r;
    rng_seed(&r, 42);
    hist_init(&h);
    hist_init(&h2);
    hist_init(&h3);
    for (unsigned i = 0; i < 50000; i++) {
        uint64_t v = rng_range(&r, 1, 10000000);
        hist_record(&h3, v);
        hist_record(i % 3 ? &h : &h2, v);
    }
    hist_merge(&h, &h2);
    HT_EXPECT(memcmp(h.bucket, h3.bucket, sizeof(h.bucket)) == 0);
    HT_EXPECT_EQ(h.count, h3.count);
    HT_EXPECT_EQ(h.sum, h3.sum);
    HT_EXPECT(h.sum_sq == h3.sum_sq);
    HT_EXPECT_EQ(h.min, h3.min);
    HT_EXPECT_EQ(h.max, h3.max);
    hist_init(&h2);                                 /* an empty one changes nothing */
    hist_merge(&h, &h2);
    HT_EXPECT_EQ(h.min, h3.min);
    HT_EXPECT_EQ(h.max, h3.max);
}

HTEST(hist_mean_and_stddev_match_double_arithmetic)
{
    struct rng r;
    rng_seed(&r, 7);
    hist_init(&h);
    double sum = 0, sq = 0;
    for (unsigned i = 0; i < N; i++) {
        uint64_t v = rng_range(&r, 1000, 3000000000ull);     /* up to 3 s: Σx² passes 2^64 */
        hist_record(&h, v);
        sum += (double)v;
    }
    double mean = sum / N;
    rng_seed(&r, 7);
    for (unsigned i = 0; i < N; i++) {
        double d = (double)rng_range(&r, 1000, 3000000000ull) - mean;
        sq += d * d;
    }
    /* Compared squared (the host tests link no libm): sd rounded down is
     * within 1 of the true root, so sd² within 2·sd + 1 of the variance. */
    double var = sq / N, sd = (double)hist_stddev(&h), dm = (double)hist_mean(&h) - mean;
    HT_EXPECT(dm <= 1.0 && dm >= -1.0);
    double dv = sd * sd - var;
    HT_EXPECT(sd > 0 && (dv < 0 ? -dv : dv) <= var * 1e-9 + 2 * sd + 1);
    hist_init(&h);
    hist_record(&h, 10);
    hist_record(&h, 20);
    HT_EXPECT_EQ(hist_mean(&h), 15);
    HT_EXPECT_EQ(hist_stddev(&h), 5);
}
