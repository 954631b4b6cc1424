/* SPDX-License-Identifier: MIT */
/* lib/rng.c — xoshiro256** (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", 2018) seeded through SplitMix64 (Steele,
 * Lea and Flood, OOPSLA 2014), as the xoshiro authors recommend. Bounded
 * values use Lemire's multiply-and-reject method (ACM TOMACS 2019), which is
 * exactly uniform and divides only when a rejection is possible. */
#include "lib/rng.h"

uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64_next(&sm);
    /* SplitMix64 is a bijection of a counter, so four consecutive outputs are
     * never all zero; keep the guarantee explicit anyway. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

uint64_t rng_next_u64(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* The high bits of xoshiro256** are its best ones. */
uint32_t rng_next_u32(struct rng *r)
{
    return (uint32_t)(rng_next_u64(r) >> 32);
}

/* x * bound as a 128-bit product maps x onto [0, bound) by its high half. The
 * low half tells whether x fell in one of the 2^64 mod bound values that would
 * make some results more likely; those draws are rejected. */
uint64_t rng_below(struct rng *r, uint64_t bound)
{
    if (bound == 0)
        return 0;
    unsigned __int128 m = (unsigned __int128)rng_next_u64(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;    /* 2^64 mod bound */
        while (low < threshold) {
            m = (unsigned __int128)rng_next_u64(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return lo;
    uint64_t span = hi - lo + 1;
    if (span == 0)          /* the whole 64-bit range */
        return rng_next_u64(r);
    return lo + rng_below(r, span);
}

void rng_fill(struct rng *r, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t v = rng_next_u64(r);
        for (int i = 0; i < 8 && len; i++, len--) {
            *p++ = (uint8_t)v;
            v >>= 8;
        }
    }
}
