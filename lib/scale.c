/* SPDX-License-Identifier: MIT */
/* lib/scale.c — fixed-point rate conversion and calibration statistics (see
 * lib/scale.h). The 128-bit product is a single x86-64 MUL (or its host
 * equivalent); no 128-bit division is ever done. */
#include "lib/scale.h"

uint64_t mul_u64_u64_shr(uint64_t a, uint64_t b, unsigned shift)
{
    unsigned __int128 product = (unsigned __int128)a * b;
    unsigned __int128 shifted = product >> shift;
    if (shifted >> 64)
        return UINT64_MAX;
    return (uint64_t)shifted;
}

bool scale_init(struct scale *s, uint64_t from_hz, uint64_t to_hz)
{
    s->mult = 0;
    /* to_hz < 2^32 keeps to_hz << 32 inside 64 bits, so the factor is one
     * 64-bit division. */
    if (from_hz == 0 || to_hz >> 32)
        return false;
    uint64_t mult = (to_hz << SCALE_SHIFT) / from_hz;
    if (mult == 0)
        return false;
    s->mult = mult;
    return true;
}

uint64_t scale_apply(const struct scale *s, uint64_t count)
{
    return mul_u64_u64_shr(count, s->mult, SCALE_SHIFT);
}

uint64_t rate_hz(uint64_t count, uint64_t elapsed_ns)
{
    /* Halving both sides keeps the ratio; it only costs the low bits. */
    while (count > UINT64_MAX / NS_PER_SECOND) {
        count >>= 1;
        elapsed_ns >>= 1;
    }
    if (elapsed_ns == 0)
        return 0;
    return count * NS_PER_SECOND / elapsed_ns;
}

unsigned __int128 div_u128_u64(unsigned __int128 n, uint64_t d)
{
    unsigned __int128 q = 0, r = 0;
    for (int bit = 127; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        if (r >= d) {
            r -= d;
            q |= (unsigned __int128)1 << bit;
        }
    }
    return q;
}

uint64_t muldiv_u64(uint64_t a, uint64_t b, uint64_t d)
{
    if (d == 0)
        return UINT64_MAX;
    unsigned __int128 q = div_u128_u64((unsigned __int128)a * b, d);
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

uint64_t median_u64(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    /* Insertion sort: calibration uses a handful of samples. */
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return v[(n - 1) / 2];
}

uint64_t deviation_ppm(uint64_t a, uint64_t b)
{
    uint64_t diff = a > b ? a - b : b - a;
    if (diff == 0)
        return 0;
    while (diff > UINT64_MAX / 1000000) {
        diff >>= 1;
        b >>= 1;
    }
    if (b == 0)
        return UINT64_MAX;
    return diff * 1000000 / b;
}
