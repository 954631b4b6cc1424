/* SPDX-License-Identifier: MIT */
/* tests/host/test_stamp.c — data stamps: a stamped block checks OK, and each
 * kind of wrong data (another LBA, an older generation, another run or
 * device, a torn mix of sectors, a flipped bit, zeroes, foreign bytes) is
 * classified as what it is, with the first differing byte named. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/crc.h"
#include "lib/stamp.h"

#include <stdlib.h>

static struct stamp_key key(uint64_t gen)
{
    struct stamp_key k;
    for (int i = 0; i < 16; i++)
        k.identity[i] = (uint8_t)(0x10 + i);
    k.seed = 0x1234abcdull;
    k.gen = gen;
    return k;
}

HTEST(stamp_round_trip_512_and_4096)
{
    static uint8_t buf[4096];
    struct stamp_key k = key(3);
    struct stamp_result r;
    struct stamp_header h;

    stamp_fill(buf, 512, &k, 2048);
    HT_EXPECT(memcmp(buf, "BIOSTAMP", 8) == 0);
    HT_EXPECT_EQ(stamp_check(buf, 512, &k, 2048, &r), STAMP_OK);
    HT_EXPECT_EQ(r.sectors, 1);
    HT_EXPECT_EQ(r.good_sectors, 1);
    HT_EXPECT(stamp_parse_header(buf, &h));
    HT_EXPECT_EQ(h.lba, 2048);
    HT_EXPECT_EQ(h.gen, 3);
    HT_EXPECT_EQ(h.seed, 0x1234abcdull);
    HT_EXPECT_EQ(h.block_size, 512);

    stamp_fill(buf, 4096, &k, 7);
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 7, &r), STAMP_OK);
    HT_EXPECT_EQ(r.sectors, 8);
    HT_EXPECT(stamp_parse_header(buf + 3 * 512, &h));
    HT_EXPECT_EQ(h.sector, 3);
    HT_EXPECT_EQ(h.block_size, 4096);
}

HTEST(stamp_layout_fields_little_endian)
{
    uint8_t buf[512];
    struct stamp_key k = key(0x0102030405060708ull);
    stamp_fill(buf, 512, &k, 0x1122334455667788ull);
    HT_EXPECT_EQ(buf[STAMP_OFF_VERSION], 1);
    HT_EXPECT_EQ(buf[STAMP_OFF_LBA], 0x88);
    HT_EXPECT_EQ(buf[STAMP_OFF_LBA + 7], 0x11);
    HT_EXPECT_EQ(buf[STAMP_OFF_GEN], 0x08);
    HT_EXPECT_EQ(buf[STAMP_OFF_IDENTITY], 0x10);
    uint32_t crc = (uint32_t)buf[508] | (uint32_t)buf[509] << 8 | (uint32_t)buf[510] << 16 |
                   (uint32_t)buf[511] << 24;
    HT_EXPECT_EQ(crc, crc32c(buf, 508));
    /* The header's own CRC covers the 56 bytes before it, and a fresh stamp
     * parses back to what was stamped. */
    uint32_t header_crc = (uint32_t)buf[STAMP_OFF_HEADER_CRC] |
                          (uint32_t)buf[STAMP_OFF_HEADER_CRC + 1] << 8 |
                          (uint32_t)buf[STAMP_OFF_HEADER_CRC + 2] << 16 |
                          (uint32_t)buf[STAMP_OFF_HEADER_CRC + 3] << 24;
    HT_EXPECT_EQ(header_crc, crc32c(buf, STAMP_OFF_HEADER_CRC));
    struct stamp_header h;
    HT_EXPECT(stamp_parse_header(buf, &h));
    HT_EXPECT_EQ(h.lba, 0x1122334455667788ull);
    HT_EXPECT_EQ(h.gen, k.gen);
}

HTEST(stamp_payload_differs_by_lba_gen_seed)
{
    uint8_t a[512], b[512];
    struct stamp_key k = key(1), k2 = key(2), k3 = key(1);
    k3.seed++;
    stamp_fill(a, 512, &k, 100);
    stamp_fill(b, 512, &k, 101);
    HT_EXPECT(memcmp(a + 64, b + 64, 444) != 0);
    stamp_fill(b, 512, &k2, 100);
    HT_EXPECT(memcmp(a + 64, b + 64, 444) != 0);
    stamp_fill(b, 512, &k3, 100);
    HT_EXPECT(memcmp(a + 64, b + 64, 444) != 0);
    stamp_fill(b, 512, &k, 100);
    HT_EXPECT(memcmp(a, b, 512) == 0);
}

HTEST(stamp_misdirected_names_found_lba)
{
    uint8_t buf[4096];
    struct stamp_key k = key(1);
    struct stamp_result r;
    stamp_fill(buf, 4096, &k, 500);
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 501, &r), STAMP_MISDIRECTED);
    HT_EXPECT_EQ(r.found_lba, 500);
    HT_EXPECT(!r.found_other_device);
    HT_EXPECT_EQ(r.offset, STAMP_OFF_LBA);     /* the LBA's low byte differs first */
    HT_EXPECT_EQ(r.expected, 501 & 0xff);
    HT_EXPECT_EQ(r.actual, 500 & 0xff);
}

HTEST(stamp_other_device_is_misdirected)
{
    uint8_t buf[512];
    struct stamp_key k = key(1), other = key(1);
    struct stamp_result r;
    other.identity[5] ^= 0xff;
    stamp_fill(buf, 512, &other, 9);
    HT_EXPECT_EQ(stamp_check(buf, 512, &k, 9, &r), STAMP_MISDIRECTED);
    HT_EXPECT(r.found_other_device);
    HT_EXPECT_EQ(r.offset, STAMP_OFF_IDENTITY + 5);
}

HTEST(stamp_lost_names_found_generation)
{
    uint8_t buf[1024];
    struct stamp_key old = key(4), now = key(5);
    struct stamp_result r;
    stamp_fill(buf, 1024, &old, 77);
    HT_EXPECT_EQ(stamp_check(buf, 1024, &now, 77, &r), STAMP_LOST);
    HT_EXPECT_EQ(r.found_gen, 4);
    HT_EXPECT_EQ(r.found_lba, 77);
    HT_EXPECT_EQ(r.offset, STAMP_OFF_GEN);

    struct stamp_key other_run = key(5);
    other_run.seed = 99;
    stamp_fill(buf, 1024, &other_run, 77);
    HT_EXPECT_EQ(stamp_check(buf, 1024, &now, 77, &r), STAMP_LOST);
    HT_EXPECT_EQ(r.found_seed, 99);
}

HTEST(stamp_torn_at_sector_granularity)
{
    uint8_t buf[4096], old[4096];
    struct stamp_key k_old = key(1), k_new = key(2);
    struct stamp_result r;
    stamp_fill(old, 4096, &k_old, 10);
    stamp_fill(buf, 4096, &k_new, 10);
    memcpy(buf + 2048, old + 2048, 2048);       /* the second half never landed */
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k_new, 10, &r), STAMP_TORN);
    HT_EXPECT_EQ(r.first_bad_offset, 2048);
    HT_EXPECT_EQ(r.good_sectors, 4);
    HT_EXPECT_EQ(r.found_gen, 1);
    HT_EXPECT_EQ(r.offset, 2048 + STAMP_OFF_GEN);

    /* New data over zeroes (a short transfer) is torn too. */
    stamp_fill(buf, 4096, &k_new, 10);
    memset(buf + 3584, 0, 512);
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k_new, 10, &r), STAMP_TORN);
    HT_EXPECT_EQ(r.first_bad_offset, 3584);
}

HTEST(stamp_bit_flip_is_corrupt_with_first_byte)
{
    uint8_t buf[4096];
    struct stamp_key k = key(1);
    struct stamp_result r;
    stamp_fill(buf, 4096, &k, 3);
    uint8_t was = buf[1000];
    buf[1000] ^= 0x40;
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 3, &r), STAMP_CORRUPT);
    HT_EXPECT_EQ(r.offset, 1000);
    HT_EXPECT_EQ(r.expected, was);
    HT_EXPECT_EQ(r.actual, was ^ 0x40);

    /* A damaged header CRC, and a sector shifted within the block. */
    stamp_fill(buf, 4096, &k, 3);
    buf[512 + STAMP_OFF_HEADER_CRC] ^= 1;
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 3, &r), STAMP_CORRUPT);
    HT_EXPECT_EQ(r.offset, 512 + STAMP_OFF_HEADER_CRC);
    stamp_fill(buf, 4096, &k, 3);
    buf[2] ^= 0x80;                             /* the magic itself */
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 3, &r), STAMP_CORRUPT);
    stamp_fill(buf, 4096, &k, 3);
    memcpy(buf + 1024, buf + 512, 512);
    HT_EXPECT_EQ(stamp_check(buf, 4096, &k, 3, &r), STAMP_CORRUPT);
    HT_EXPECT_EQ(r.first_bad_offset, 1024);
}

HTEST(stamp_payload_change_with_fixed_crc_is_corrupt)
{
    /* Someone rewrote the payload and resealed the sector CRC: the header is
     * valid, the CRC is valid, but the payload is not what the header says. */
    uint8_t buf[512];
    struct stamp_key k = key(1);
    struct stamp_result r;
    stamp_fill(buf, 512, &k, 3);
    buf[200] ^= 1;
    uint32_t c = crc32c(buf, 508);
    for (int i = 0; i < 4; i++)
        buf[508 + i] = (uint8_t)(c >> (8 * i));
    HT_EXPECT_EQ(stamp_check(buf, 512, &k, 3, &r), STAMP_CORRUPT);
    HT_EXPECT_EQ(r.offset, 200);
}

HTEST(stamp_zero_and_foreign)
{
    uint8_t buf[1024];
    struct stamp_key k = key(1);
    struct stamp_result r;
    memset(buf, 0, sizeof(buf));
    HT_EXPECT_EQ(stamp_check(buf, 1024, &k, 3, &r), STAMP_ZERO);
    HT_EXPECT_EQ(r.offset, 0);
    HT_EXPECT_EQ(r.expected, 'B');
    HT_EXPECT_EQ(r.actual, 0);
    memset(buf, 0xe5, sizeof(buf));
    HT_EXPECT_EQ(stamp_check(buf, 1024, &k, 3, &r), STAMP_FOREIGN);
    memset(buf, 0, 512);
    HT_EXPECT_EQ(stamp_check(buf, 1024, &k, 3, &r), STAMP_FOREIGN);
}

HTEST(stamp_first_nonzero_any_alignment)
{
    uint8_t *b = calloc(1, 100);
    HT_EXPECT_EQ(stamp_first_nonzero(b + 3, 90), 90);
    b[50] = 1;
    HT_EXPECT_EQ(stamp_first_nonzero(b + 3, 90), 47);
    HT_EXPECT_EQ(stamp_first_nonzero(b + 51, 10), 10);
    HT_EXPECT_EQ(stamp_first_nonzero(b + 50, 1), 0);
    free(b);
}

HTEST(stamp_names)
{
    HT_EXPECT_STREQ(stamp_status_name(STAMP_OK), "ok");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_MISDIRECTED), "misdirected");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_LOST), "lost");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_TORN), "torn");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_CORRUPT), "corrupt");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_ZERO), "zero");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_FOREIGN), "foreign");
    HT_EXPECT_STREQ(stamp_status_name(STAMP_STATUS_COUNT), "unknown");
}

/* ---- extent map ---- */

static int map_equals(const struct stamp_map *m, const uint64_t (*want)[4], uint32_t n)
{
    if (m->count != n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (m->ext[i].lba != want[i][0] || m->ext[i].count != want[i][1] ||
            m->ext[i].kind != want[i][2] || m->ext[i].gen != want[i][3])
            return 0;
    return 1;
}

HTEST(stamp_map_overwrites_split_and_merge)
{
    struct stamp_extent store[8];
    struct stamp_map m;
    stamp_map_init(&m, store, 8);

    HT_EXPECT(stamp_map_set(&m, 100, 50, STAMP_EXTENT_STAMPED, 1));
    HT_EXPECT(stamp_map_set(&m, 150, 10, STAMP_EXTENT_STAMPED, 1));     /* joins */
    static const uint64_t a[][4] = { { 100, 60, 0, 1 } };
    HT_EXPECT(map_equals(&m, a, 1));

    HT_EXPECT(stamp_map_set(&m, 120, 5, STAMP_EXTENT_STAMPED, 2));      /* splits */
    static const uint64_t b[][4] = { { 100, 20, 0, 1 }, { 120, 5, 0, 2 }, { 125, 35, 0, 1 } };
    HT_EXPECT(map_equals(&m, b, 3));

    HT_EXPECT(stamp_map_set(&m, 90, 40, STAMP_EXTENT_ZERO, 7));         /* covers two, trims one */
    static const uint64_t c[][4] = { { 90, 40, 1, 0 }, { 130, 30, 0, 1 } };
    HT_EXPECT(map_equals(&m, c, 2));

    HT_EXPECT(stamp_map_set(&m, 130, 30, STAMP_EXTENT_ZERO, 0));        /* joins on the left */
    static const uint64_t d[][4] = { { 90, 70, 1, 0 } };
    HT_EXPECT(map_equals(&m, d, 1));
    HT_EXPECT_EQ(stamp_map_blocks(&m), 70);

    HT_EXPECT(stamp_map_clear(&m, 100, 10));
    static const uint64_t e[][4] = { { 90, 10, 1, 0 }, { 110, 50, 1, 0 } };
    HT_EXPECT(map_equals(&m, e, 2));
    HT_EXPECT(stamp_map_find(&m, 105) == NULL);
    HT_EXPECT(stamp_map_find(&m, 90) == &store[0]);
    HT_EXPECT(stamp_map_find(&m, 159) == &store[1]);
    HT_EXPECT(stamp_map_find(&m, 160) == NULL);
    HT_EXPECT(!m.overflowed);
}

HTEST(stamp_map_full_says_so)
{
    struct stamp_extent store[3];
    struct stamp_map m;
    stamp_map_init(&m, store, 3);
    for (uint64_t i = 0; i < 3; i++)
        HT_EXPECT(stamp_map_set(&m, i * 10, 5, STAMP_EXTENT_STAMPED, i));
    HT_EXPECT(!stamp_map_set(&m, 100, 5, STAMP_EXTENT_STAMPED, 9));
    HT_EXPECT(m.overflowed);
    HT_EXPECT_EQ(m.count, 3);
    /* Overwriting what is there exactly still fits. */
    struct stamp_map m2;
    stamp_map_init(&m2, store, 3);
    HT_EXPECT(stamp_map_set(&m2, 0, 100, STAMP_EXTENT_STAMPED, 1));
    HT_EXPECT(stamp_map_set(&m2, 0, 100, STAMP_EXTENT_STAMPED, 2));
    HT_EXPECT_EQ(m2.count, 1);
    HT_EXPECT_EQ(store[0].gen, 2);
}

HTEST(stamp_map_refuses_ranges_that_wrap_past_2_64)
{
    struct stamp_extent store[4];
    struct stamp_map m;
    stamp_map_init(&m, store, 4);
    HT_EXPECT(stamp_map_set(&m, UINT64_MAX - 8, 8, STAMP_EXTENT_STAMPED, 1));   /* ends at 2^64-1 */
    HT_EXPECT(!m.overflowed);
    HT_EXPECT(stamp_map_find(&m, UINT64_MAX - 1) != NULL);
    HT_EXPECT(stamp_map_find(&m, UINT64_MAX) == NULL);
    /* lba + count past 2^64 would be a small end: it must not clear or add. */
    HT_EXPECT(!stamp_map_set(&m, UINT64_MAX - 4, 8, STAMP_EXTENT_ZERO, 0));
    HT_EXPECT(m.overflowed);
    HT_EXPECT_EQ(m.count, 1);
    HT_EXPECT_EQ(store[0].count, 8);
    struct stamp_map m2;
    stamp_map_init(&m2, store, 4);
    HT_EXPECT(stamp_map_set(&m2, 10, 5, STAMP_EXTENT_STAMPED, 1));
    HT_EXPECT(!stamp_map_clear(&m2, 12, UINT64_MAX));
    HT_EXPECT(m2.overflowed);
    HT_EXPECT_EQ(stamp_map_blocks(&m2), 5);
}

HTEST(stamp_map_random_against_array)
{
    /* The map must agree with a plain per-block array after any sequence. */
    enum { N = 300 };
    static struct stamp_extent store[256];
    static int64_t truth[N];
    struct stamp_map m;
    uint64_t s = 42;
    stamp_map_init(&m, store, 256);
    for (int i = 0; i < N; i++)
        truth[i] = -1;
    for (int step = 0; step < 2000; step++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t lba = (s >> 33) % N, count = 1 + (s >> 20) % 20, op = (s >> 10) % 4;
        uint64_t gen = 1 + (s >> 50) % 3;
        if (lba + count > N)
            count = N - lba;
        if (op == 0) {
            HT_EXPECT(stamp_map_clear(&m, lba, count));
            for (uint64_t b = lba; b < lba + count; b++)
                truth[b] = -1;
        } else {
            enum stamp_extent_kind k = op == 1 ? STAMP_EXTENT_ZERO : STAMP_EXTENT_STAMPED;
            HT_EXPECT(stamp_map_set(&m, lba, count, k, gen));
            for (uint64_t b = lba; b < lba + count; b++)
                truth[b] = k == STAMP_EXTENT_ZERO ? 0 : (int64_t)gen;
        }
    }
    for (uint64_t b = 0; b < N; b++) {
        const struct stamp_extent *e = stamp_map_find(&m, b);
        int64_t got = !e ? -1 : e->kind == STAMP_EXTENT_ZERO ? 0 : (int64_t)e->gen;
        HT_EXPECT_EQ(got, truth[b]);
    }
    for (uint32_t i = 1; i < m.count; i++) {
        HT_EXPECT(m.ext[i - 1].lba + m.ext[i - 1].count <= m.ext[i].lba);
        HT_EXPECT(!(m.ext[i - 1].lba + m.ext[i - 1].count == m.ext[i].lba &&
                    m.ext[i - 1].kind == m.ext[i].kind && m.ext[i - 1].gen == m.ext[i].gen));
    }
}

/* ---- deallocated blocks (TRIM, DSM deallocate): advisory ---- */

HTEST(stamp_map_deallocate_keeps_what_each_block_may_still_show)
{
    struct stamp_extent store[8];
    struct stamp_map m;
    stamp_map_init(&m, store, 8);

    HT_EXPECT(stamp_map_set(&m, 100, 20, STAMP_EXTENT_STAMPED, 1));
    HT_EXPECT(stamp_map_set(&m, 120, 10, STAMP_EXTENT_ZERO, 0));
    HT_EXPECT(stamp_map_set(&m, 140, 20, STAMP_EXTENT_STAMPED, 2));
    /* Over gen 1's tail, the zeroes, a gap and gen 2's head: each stamped
     * piece becomes deallocated with its generation, the zeroes stay zero
     * (either way they read zero) and the gap stays unknown. */
    HT_EXPECT(stamp_map_deallocate(&m, 110, 40));
    static const uint64_t a[][4] = { { 100, 10, STAMP_EXTENT_STAMPED, 1 },
                                     { 110, 10, STAMP_EXTENT_DEALLOCATED, 1 },
                                     { 120, 10, STAMP_EXTENT_ZERO, 0 },
                                     { 140, 10, STAMP_EXTENT_DEALLOCATED, 2 },
                                     { 150, 10, STAMP_EXTENT_STAMPED, 2 } };
    HT_EXPECT(map_equals(&m, a, 5));
    HT_EXPECT(stamp_map_find(&m, 135) == NULL);
    /* Deallocated again: the same; beside it, the same generation joins. */
    HT_EXPECT(stamp_map_deallocate(&m, 100, 20));
    static const uint64_t b[][4] = { { 100, 20, STAMP_EXTENT_DEALLOCATED, 1 },
                                     { 120, 10, STAMP_EXTENT_ZERO, 0 },
                                     { 140, 10, STAMP_EXTENT_DEALLOCATED, 2 },
                                     { 150, 10, STAMP_EXTENT_STAMPED, 2 } };
    HT_EXPECT(map_equals(&m, b, 4));
    /* A write over a deallocated block makes it stamped again. */
    HT_EXPECT(stamp_map_set(&m, 105, 1, STAMP_EXTENT_STAMPED, 3));
    HT_EXPECT_EQ(stamp_map_find(&m, 105)->kind, STAMP_EXTENT_STAMPED);
    HT_EXPECT_EQ(stamp_map_find(&m, 106)->kind, STAMP_EXTENT_DEALLOCATED);
    HT_EXPECT(!m.overflowed);
    HT_EXPECT(stamp_map_deallocate(&m, 0, 0));
    HT_EXPECT(!stamp_map_deallocate(&m, UINT64_MAX - 1, 4));
    HT_EXPECT(m.overflowed);
}

HTEST(stamp_map_deallocate_on_a_full_map_says_so)
{
    struct stamp_extent store[2];
    struct stamp_map m;
    stamp_map_init(&m, store, 2);
    HT_EXPECT(stamp_map_set(&m, 0, 10, STAMP_EXTENT_STAMPED, 1));
    HT_EXPECT(stamp_map_set(&m, 20, 10, STAMP_EXTENT_STAMPED, 2));
    HT_EXPECT(!stamp_map_deallocate(&m, 5, 2));     /* a split needs two more extents */
    HT_EXPECT(m.overflowed);
}

HTEST(stamp_check_deallocated_takes_zeroes_or_the_previous_stamp_only)
{
    static uint8_t buf[4096], other[4096];
    struct stamp_key k = key(3), older = key(2);
    struct stamp_result r;
    bool kept = true;

    memset(buf, 0, sizeof(buf));
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_OK);
    HT_EXPECT(!kept);
    stamp_fill(buf, 4096, &k, 40);
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_OK);
    HT_EXPECT(kept);
    /* Anything else is classified as stamp_check() does. */
    stamp_fill(buf, 4096, &older, 40);
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_LOST);
    HT_EXPECT(!kept);
    stamp_fill(buf, 4096, &k, 41);
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_MISDIRECTED);
    stamp_fill(buf, 4096, &k, 40);
    memset(buf + 2048, 0, 2048);                    /* half deallocated: no such thing */
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_TORN);
    HT_EXPECT_EQ(r.first_bad_offset, 2048);
    stamp_fill(buf, 4096, &k, 40);
    buf[700] ^= 1;
    HT_EXPECT_EQ(stamp_check_deallocated(buf, 4096, &k, 40, &r, &kept), STAMP_CORRUPT);
    memset(other, 0, sizeof(other));
    other[4095] = 0xff;                             /* all ones would be DLFEAT 010b: not zeroes */
    HT_EXPECT_EQ(stamp_check_deallocated(other, 4096, &k, 40, &r, &kept), STAMP_FOREIGN);
}
