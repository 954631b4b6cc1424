/* SPDX-License-Identifier: MIT */
/* lib/hist.c — the log-linear latency histogram (lib/hist.h). A value's
 * bucket is found from its highest set bit and the HIST_SUB_BITS bits below
 * it, so recording costs a few instructions and no loop. */
#include "lib/hist.h"
#include "lib/scale.h"
#include "lib/string.h"

const uint32_t hist_fio_percentiles[HIST_FIO_PERCENTILES] = {
    100000, 500000, 1000000, 2000000, 3000000, 4000000, 5000000, 6000000, 7000000,
    8000000, 9000000, 9500000, 9900000, 9950000, 9990000, 9995000, 9999000,
};

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t value)
{
    if (value < HIST_LINEAR)
        return (unsigned)value;
    if (value >= HIST_MAX_VALUE)
        return HIST_BUCKETS - 1;
    unsigned top = 63u - (unsigned)__builtin_clzll(value);        /* 8 .. 39 */
    unsigned shift = top - HIST_SUB_BITS;
    unsigned sub = (unsigned)(value >> shift) & (HIST_SUB - 1);
    return HIST_LINEAR + (top - (HIST_SUB_BITS + 1)) * HIST_SUB + sub;
}

uint64_t hist_bucket_low(unsigned index)
{
    if (index < HIST_LINEAR)
        return index;
    if (index >= HIST_BUCKETS - 1)
        return HIST_MAX_VALUE;
    unsigned group = (index - HIST_LINEAR) / HIST_SUB;            /* 0: [256, 512) */
    unsigned sub = (index - HIST_LINEAR) % HIST_SUB;
    unsigned shift = group + 1;
    return (uint64_t)(HIST_SUB + sub) << shift;
}

uint64_t hist_bucket_high(unsigned index)
{
    if (index >= HIST_BUCKETS - 1)
        return UINT64_MAX;
    return hist_bucket_low(index + 1);
}

void hist_record(struct hist *h, uint64_t value)
{
    h->bucket[hist_bucket_of(value)]++;
    h->count++;
    h->sum += value;
    h->sum_sq += (unsigned __int128)value * value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void hist_merge(struct hist *a, const struct hist *b)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        a->bucket[i] += b->bucket[i];
    a->count += b->count;
    a->sum += b->sum;
    a->sum_sq += b->sum_sq;
    if (b->count && b->min < a->min)
        a->min = b->min;
    if (b->count && b->max > a->max)
        a->max = b->max;
}

uint64_t hist_percentile(const struct hist *h, uint32_t p_x100000)
{
    if (!h->count)
        return 0;
    if (p_x100000 >= 10000000u)
        return h->max;
    /* rank = ceil(count × p / 100 %), in 128 bits: count × 10^7 can pass 2^64. */
    unsigned __int128 scaled = (unsigned __int128)h->count * p_x100000;
    uint64_t rank = (uint64_t)div_u128_u64(scaled, 10000000u);
    if ((unsigned __int128)rank * 10000000u < scaled)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen < rank)
            continue;
        if (i == HIST_BUCKETS - 1)
            return h->max;
        uint64_t low = hist_bucket_low(i), high = hist_bucket_high(i);
        uint64_t mid = low + (high - low - 1) / 2;  /* exact for one-value buckets */
        return mid < h->min ? h->min : mid > h->max ? h->max : mid;
    }
    return h->max;
}

uint64_t hist_mean(const struct hist *h)
{
    return h->count ? h->sum / h->count : 0;
}

static uint64_t isqrt128(unsigned __int128 v)
{
    /* The root of a 128-bit value fits 64 bits: binary search on the root. */
    uint64_t lo = 0, hi = UINT64_MAX;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2 + 1;
        if ((unsigned __int128)mid * mid <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

uint64_t hist_stddev(const struct hist *h)
{
    if (h->count < 2)
        return 0;
    /* Population variance = (n·Σx² − (Σx)²) / n², computed as
     * (Σx² − (Σx)²/n) / n to stay inside 128 bits. */
    unsigned __int128 sum = h->sum;
    unsigned __int128 sq_of_sum_over_n = div_u128_u64(sum * sum, h->count);
    unsigned __int128 spread = h->sum_sq > sq_of_sum_over_n ? h->sum_sq - sq_of_sum_over_n : 0;
    return isqrt128(div_u128_u64(spread, h->count));
}
