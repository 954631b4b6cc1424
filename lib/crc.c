/* SPDX-License-Identifier: MIT */
/* lib/crc.c — table-driven CRC-32 and CRC-32C, slicing-by-8.
 *
 * Reflected CRCs (the bit order of the serial line: LSB first) as specified by
 * IEEE 802.3 clause 3.2.9 (polynomial 0x04C11DB7, reflected 0xEDB88320) and
 * RFC 3720 §12.1 (Castagnoli 0x1EDC6F41, reflected 0x82F63B78). Slicing-by-8
 * folds eight input bytes per step through eight 256-entry tables, 8 KiB per
 * polynomial, built on first use. No SSE4.2 crc32 instruction: the kernel is
 * built without SIMD and must run on any x86_64. */
#include "lib/crc.h"
#include <stdbool.h>

#define CRC32_POLY_REFLECTED  0xEDB88320u
#define CRC32C_POLY_REFLECTED 0x82F63B78u

struct crc_tables {
    uint32_t poly;
    volatile bool ready;
    uint32_t t[8][256];
};

static struct crc_tables crc32_tables = { .poly = CRC32_POLY_REFLECTED };
static struct crc_tables crc32c_tables = { .poly = CRC32C_POLY_REFLECTED };

/* t[0][b] is the CRC of the single byte b (register preset 0, no final xor);
 * t[k][b] is that value pushed through k more zero bytes, which is what byte b
 * contributes when it sits k positions before the end of an 8-byte block.
 * Building twice (an interrupt using a CRC while the first build runs) writes
 * the same values, so the lazy build needs no lock; `ready` is set last. */
static void crc_build_tables(struct crc_tables *c)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b;
        for (int bit = 0; bit < 8; bit++)
            r = (r >> 1) ^ ((r & 1) ? c->poly : 0);
        c->t[0][b] = r;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t prev = c->t[k - 1][b];
            c->t[k][b] = (prev >> 8) ^ c->t[0][prev & 0xff];
        }
    __asm__ volatile("" ::: "memory");
    c->ready = true;
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The CRC register here is the raw one (already inverted by the caller). */
static uint32_t crc_raw(struct crc_tables *c, uint32_t crc, const uint8_t *p, size_t len)
{
    if (!c->ready)
        crc_build_tables(c);
    const uint32_t (*t)[256] = (const uint32_t (*)[256])c->t;

    /* Byte at a time up to 8-byte alignment, so the main loop's loads are aligned. */
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
        len--;
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = crc ^ load_le32(p);
        uint32_t hi = load_le32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
              t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
              t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    while (len--)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
    return crc;
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
    return ~crc_raw(&crc32_tables, ~crc, buf, len);
}

uint32_t crc32(const void *buf, size_t len)
{
    return crc32_update(0, buf, len);
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
    return ~crc_raw(&crc32c_tables, ~crc, buf, len);
}

uint32_t crc32c(const void *buf, size_t len)
{
    return crc32c_update(0, buf, len);
}
