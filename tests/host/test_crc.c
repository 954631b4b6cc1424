/* SPDX-License-Identifier: MIT */
/* tests/host/test_crc.c — lib/crc.c against published check values (the CRC
 * catalogue's "123456789", RFC 3720 appendix B.4 for CRC-32C) and against a
 * bit-at-a-time reference written here from the polynomial, over every
 * alignment and the lengths around the 8-byte slicing boundary. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/crc.h"

/* One bit per step, straight from the definition: reflected register, preset
 * and final xor all ones. */
static uint32_t crc_bitwise(uint32_t poly, const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    while (len--) {
        c ^= *p++;
        for (int i = 0; i < 8; i++)
            c = (c >> 1) ^ ((c & 1) ? poly : 0);
    }
    return ~c;
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

HTEST(crc32_check_value)
{
    HT_EXPECT_EQ(crc32("123456789", 9), 0xcbf43926);
    HT_EXPECT_EQ(crc32("", 0), 0);
    HT_EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog", 43), 0x414fa339);
}

HTEST(crc32c_check_value)
{
    HT_EXPECT_EQ(crc32c("123456789", 9), 0xe3069283);
    HT_EXPECT_EQ(crc32c("", 0), 0);
}

HTEST(crc32c_rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    HT_EXPECT_EQ(crc32c(buf, 32), 0x8a9136aa);
    memset(buf, 0xff, sizeof buf);
    HT_EXPECT_EQ(crc32c(buf, 32), 0x62a8ab43);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    HT_EXPECT_EQ(crc32c(buf, 32), 0x46dd794e);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    HT_EXPECT_EQ(crc32c(buf, 32), 0x113fdb5c);
}

HTEST(crc_matches_bitwise_reference_all_alignments)
{
    static uint8_t buf[8 + 200];
    fill_pattern(buf, sizeof buf, 7);
    int mismatches = 0;
    for (size_t offset = 0; offset < 8; offset++)
        for (size_t len = 0; len <= 200; len++) {
            if (crc32(buf + offset, len) != crc_bitwise(0xedb88320u, buf + offset, len))
                mismatches++;
            if (crc32c(buf + offset, len) != crc_bitwise(0x82f63b78u, buf + offset, len))
                mismatches++;
        }
    HT_EXPECT_EQ(mismatches, 0);
}

HTEST(crc_large_buffer_matches_reference)
{
    enum { LEN = 1 << 16 };
    static uint8_t buf[LEN + 3];
    fill_pattern(buf, sizeof buf, 99);
    HT_EXPECT_EQ(crc32c(buf + 3, LEN), crc_bitwise(0x82f63b78u, buf + 3, LEN));
    HT_EXPECT_EQ(crc32(buf + 1, LEN), crc_bitwise(0xedb88320u, buf + 1, LEN));
}

HTEST(crc_incremental_equals_one_shot)
{
    static uint8_t buf[300];
    fill_pattern(buf, sizeof buf, 3);
    uint32_t whole_c = crc32c(buf, sizeof buf), whole = crc32(buf, sizeof buf);
    int mismatches = 0;
    for (size_t split = 0; split <= sizeof buf; split++) {
        if (crc32c_update(crc32c(buf, split), buf + split, sizeof buf - split) != whole_c)
            mismatches++;
        if (crc32_update(crc32(buf, split), buf + split, sizeof buf - split) != whole)
            mismatches++;
    }
    HT_EXPECT_EQ(mismatches, 0);
    /* Many small pieces, as a caller stamping a block field by field would. */
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof buf; i += 7)
        c = crc32c_update(c, buf + i, sizeof buf - i < 7 ? sizeof buf - i : 7);
    HT_EXPECT_EQ(c, whole_c);
    HT_EXPECT_EQ(crc32c_update(0, buf, sizeof buf), whole_c);
}

HTEST(crc_detects_single_bit_flip)
{
    uint8_t buf[512];
    fill_pattern(buf, sizeof buf, 11);
    uint32_t good = crc32c(buf, sizeof buf);
    int undetected = 0;
    for (size_t bit = 0; bit < sizeof buf * 8; bit += 61) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (crc32c(buf, sizeof buf) == good)
            undetected++;
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    HT_EXPECT_EQ(undetected, 0);
    HT_EXPECT_EQ(crc32c(buf, sizeof buf), good);
}
