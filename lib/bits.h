/* SPDX-License-Identifier: MIT */
/* lib/bits.h — bit counting for register masks (PI, PxCI, PxSACT): the
 * kernel links no libgcc, so __builtin_popcount may become a call to a
 * function that is not there; this loop is what it would do. */
#ifndef LIB_BITS_H
#define LIB_BITS_H
#include <stdint.h>

/* How many bits of v are set. */
static inline unsigned bits_set32(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

#endif
