/* SPDX-License-Identifier: MIT */
/* lib/hist.h — a latency histogram in fixed memory, for the benchmark
 * engine (issue 13): no sample array, a constant-time record per I/O, and
 * percentiles with a bounded relative error, as fio and HdrHistogram keep
 * theirs.
 *
 * Log-linear buckets: values below 2^HIST_SUB_BITS + 1 (256 ns) each have a
 * bucket of their own (exact); above, every power of two [2^k, 2^(k+1)) is
 * cut into 2^HIST_SUB_BITS (128) equal buckets, so a bucket is at most
 * 1/128 of its lower bound wide, and its midpoint — what a percentile
 * reports — is within 0.4 % of any value in it. Values at or above
 * HIST_MAX_VALUE (2^40 ns, 18 minutes) land in one overflow bucket, counted
 * and reported as the exact maximum. Count, sum, minimum and maximum are kept
 * exactly; the sum of squares in 128 bits, so the standard deviation does not
 * overflow for any run the engine can make.
 *
 * Pure and freestanding (no floating point, no libgcc helpers: the 128-bit
 * division is done by hand), host-tested against sorted samples
 * (tests/host/test_hist.c). */
#ifndef LIB_HIST_H
#define LIB_HIST_H
#include <stdbool.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)                  /* buckets per power of two */
#define HIST_LINEAR (2u * HIST_SUB)                     /* 0..255: exact */
#define HIST_MAX_SHIFT 40
#define HIST_MAX_VALUE (1ull << HIST_MAX_SHIFT)
/* Groups for 2^8 .. 2^39, plus the overflow bucket. */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_SHIFT - HIST_SUB_BITS - 1) * HIST_SUB + 1)

struct hist {
    uint64_t count, sum, min, max;
    unsigned __int128 sum_sq;
    uint64_t bucket[HIST_BUCKETS];
};
_Static_assert(HIST_BUCKETS == 4353, "256 exact buckets, 32 groups of 128, one overflow");

void hist_init(struct hist *h);
/* One value (nanoseconds, or any unit). */
void hist_record(struct hist *h, uint64_t value);
/* Adds b's values to a (several queue pairs' histograms into one job's). */
void hist_merge(struct hist *a, const struct hist *b);

/* The value at or below which p_x100000 / 100000 percent of the values lie
 * (p99.99 is 9999000, p50 is 5000000), ranked as fio ranks them: the
 * ceil(p × count)'th smallest value, at least the first; reported as its
 * bucket's midpoint, clamped to [min, max]. 0 when the histogram is empty.
 * Past 100 % (above 10000000) it is the maximum. */
uint64_t hist_percentile(const struct hist *h, uint32_t p_x100000);
uint64_t hist_mean(const struct hist *h);          /* rounded down; 0 when empty */
uint64_t hist_stddev(const struct hist *h);        /* population, rounded down */

/* Which bucket holds `value`, and the bucket's bounds [low, high) (for
 * tests and for plotting the distribution). */
unsigned hist_bucket_of(uint64_t value);
uint64_t hist_bucket_low(unsigned index);
uint64_t hist_bucket_high(unsigned index);

/* fio's default percentile list, in p_x100000 units: 1, 5, 10, 20, 30, 40,
 * 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99. */
#define HIST_FIO_PERCENTILES 17
extern const uint32_t hist_fio_percentiles[HIST_FIO_PERCENTILES];

#endif
