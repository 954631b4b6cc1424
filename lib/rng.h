/* SPDX-License-Identifier: MIT */
/* lib/rng.h — a seeded, deterministic pseudo-random generator for test data:
 * the same seed gives the same bytes on every run and every machine, so a
 * failing pattern can be regenerated from the seed printed in the report.
 * Not for anything secret. */
#ifndef LIB_RNG_H
#define LIB_RNG_H
#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];      /* xoshiro256** state; never all zero */
};

/* SplitMix64: advances *state and returns the next output. Used to expand a
 * seed into the generator state; also fine on its own for quick hashing. */
uint64_t splitmix64_next(uint64_t *state);

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next_u64(struct rng *r);
uint32_t rng_next_u32(struct rng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);
/* Uniform in [lo, hi], inclusive; lo > hi returns lo. */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);
/* Fills buf with the generator's output bytes, little-endian words in order. */
void rng_fill(struct rng *r, void *buf, size_t len);

#endif
