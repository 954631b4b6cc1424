/* SPDX-License-Identifier: MIT */
/* lib/scale.h — converting counts between clock rates with 32.32 fixed-point
 * factors (multiply with a 128-bit product, shift right by 32): a TSC count of
 * any realistic uptime converts to nanoseconds without overflow, and nothing
 * needs a 128-bit division (no libgcc in the kernel). Also the small statistics
 * the clock calibration uses. Pure logic: unit-tested on the host. */
#ifndef LIB_SCALE_H
#define LIB_SCALE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCALE_SHIFT 32
#define NS_PER_SECOND 1000000000ull

/* A factor that turns counts at from_hz into counts at to_hz. */
struct scale {
    uint64_t mult;          /* to_hz * 2^32 / from_hz, rounded down */
};

/* (a * b) >> shift with the full 128-bit product; UINT64_MAX when the result
 * does not fit in 64 bits. shift < 64. */
uint64_t mul_u64_u64_shr(uint64_t a, uint64_t b, unsigned shift);

/* False (and mult 0) when from_hz is 0, to_hz >= 2^32 or the factor would be 0
 * or would not fit in 64 bits. */
bool scale_init(struct scale *s, uint64_t from_hz, uint64_t to_hz);
/* count * to_hz / from_hz, rounded down (saturating). */
uint64_t scale_apply(const struct scale *s, uint64_t count);

/* Events per second given `count` events in `elapsed_ns` nanoseconds, without
 * overflowing for any inputs (large counts lose low bits first). 0 when
 * elapsed_ns is 0. */
uint64_t rate_hz(uint64_t count, uint64_t elapsed_ns);

/* Sorts v[0..n) ascending and returns the median (the lower middle for even n);
 * 0 for n == 0. */
uint64_t median_u64(uint64_t *v, size_t n);

/* n / d for a 128-bit n and a nonzero d, by shift and subtract: the kernel
 * has no libgcc for __udivti3. For reports, not per-I/O paths (128 steps). */
unsigned __int128 div_u128_u64(unsigned __int128 n, uint64_t d);
/* a * b / d with the full 128-bit product, rounded down; UINT64_MAX when the
 * result does not fit in 64 bits or d is 0. */
uint64_t muldiv_u64(uint64_t a, uint64_t b, uint64_t d);

/* |a - b| in parts per million of b (saturating); 0 when both are 0. */
uint64_t deviation_ppm(uint64_t a, uint64_t b);

#endif
