/* SPDX-License-Identifier: MIT */
/* lib/endian.h — little-endian fields in on-disk formats (scratch label, GPT,
 * data stamps), read and written byte by byte so that alignment and the host's
 * byte order never matter. */
#ifndef LIB_ENDIAN_H
#define LIB_ENDIAN_H
#include <stdint.h>

/* The low `bytes` bytes (1..8) of a little-endian field. */
static inline uint64_t le_get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void le_put(uint8_t *p, unsigned bytes, uint64_t v)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t le16_get(const uint8_t *p) { return (uint16_t)le_get(p, 2); }
static inline uint32_t le32_get(const uint8_t *p) { return (uint32_t)le_get(p, 4); }
static inline uint64_t le64_get(const uint8_t *p) { return le_get(p, 8); }
static inline void le16_put(uint8_t *p, uint16_t v) { le_put(p, 2, v); }
static inline void le32_put(uint8_t *p, uint32_t v) { le_put(p, 4, v); }
static inline void le64_put(uint8_t *p, uint64_t v) { le_put(p, 8, v); }

#endif
