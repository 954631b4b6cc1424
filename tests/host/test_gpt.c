/* SPDX-License-Identifier: MIT */
/* tests/host/test_gpt.c — lib/gpt: a built GPT parses back (512- and 4096-byte
 * sectors) with its bareio partition 1 MiB-aligned, and every damage is
 * refused with its own status: header CRC, impossible header, entry-array CRC,
 * a partition outside the usable LBAs, no bareio partition. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/crc.h"
#include "lib/gpt.h"

#include <stdlib.h>

struct built {
    uint8_t *primary, *backup;
    struct gpt_layout l;
};

static struct built build(uint32_t bs, uint64_t nblocks)
{
    struct built b;
    memset(&b.l, 0, sizeof(b.l));
    b.l.block_size = bs;
    b.l.nblocks = nblocks;
    for (int i = 0; i < 16; i++) {
        b.l.disk_guid[i] = (uint8_t)(0x10 + i);
        b.l.part_guid[i] = (uint8_t)(0x40 + i);
    }
    b.l.type = gpt_type_bareio;
    b.l.name = "bareio scratch";
    b.primary = calloc(gpt_primary_blocks(bs), bs);
    b.backup = calloc(gpt_backup_blocks(bs), bs);
    return b;
}

static void release(struct built *b)
{
    free(b->primary);
    free(b->backup);
}

/* Recomputes HeaderCRC32 after a test changed a header field. */
static void reseal_header(uint8_t *h)
{
    memset(h + 16, 0, 4);
    uint32_t c = crc32(h, GPT_HEADER_SIZE);
    for (int i = 0; i < 4; i++)
        h[16 + i] = (uint8_t)(c >> (8 * i));
}

static void round_trip(uint32_t bs)
{
    uint64_t nblocks = (64ull << 20) / bs;
    struct built b = build(bs, nblocks);
    struct gpt_header h;
    struct gpt_partition p;

    HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
    HT_EXPECT(b.primary[510] == 0x55 && b.primary[511] == 0xaa);
    HT_EXPECT_EQ(b.primary[446 + 4], GPT_MBR_TYPE_PROTECTIVE);
    HT_EXPECT_EQ(gpt_parse_header(b.primary + bs, bs, nblocks, &h), GPT_OK);
    HT_EXPECT_EQ(h.my_lba, 1);
    HT_EXPECT_EQ(h.alternate_lba, nblocks - 1);
    HT_EXPECT_EQ(h.entries_lba, 2);
    HT_EXPECT_EQ(h.entry_count, 128);
    HT_EXPECT_EQ(gpt_entries_bytes(&h), 16384);
    HT_EXPECT_EQ(gpt_find_partition(&h, b.primary + 2 * bs, gpt_type_bareio, 0, &p), GPT_OK);
    HT_EXPECT_EQ(p.index, 0);
    HT_EXPECT_EQ(p.first_lba * bs, 1 << 20);
    HT_EXPECT_EQ(p.last_lba, h.last_usable_lba);
    HT_EXPECT(memcmp(p.unique_guid, b.l.part_guid, 16) == 0);
    HT_EXPECT_STREQ(p.name, "bareio scratch");
    HT_EXPECT_EQ(gpt_find_partition(&h, b.primary + 2 * bs, gpt_type_bareio, 1, &p), GPT_NOT_FOUND);

    /* The backup header, at the last LBA, points back at LBA 1. */
    uint64_t eb = gpt_backup_blocks(bs) - 1;
    const uint8_t *bh = b.backup + eb * bs;
    HT_EXPECT(memcmp(bh, "EFI PART", 8) == 0);
    HT_EXPECT(memcmp(b.backup, b.primary + 2 * bs, eb * bs) == 0);
    release(&b);
}

HTEST(gpt_round_trip_512)
{
    round_trip(512);
}

HTEST(gpt_round_trip_4096)
{
    round_trip(4096);
}

HTEST(gpt_bareio_type_guid_text)
{
    char text[37];
    gpt_guid_format(text, gpt_type_bareio);
    HT_EXPECT_STREQ(text, "5175cb25-cc21-48c2-964f-d62c6ffdb833");
}

HTEST(gpt_refuses_damage)
{
    const uint32_t bs = 512;
    const uint64_t nblocks = 8192;      /* 4 MiB */
    struct built b = build(bs, nblocks);
    struct gpt_header h;
    struct gpt_partition p;
    uint8_t *hdr = b.primary + bs, *entries = b.primary + 2 * bs;

    HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
    HT_EXPECT_EQ(gpt_parse_header(b.primary, bs, nblocks, &h), GPT_NONE);   /* the MBR */

    hdr[40] ^= 1;                                       /* FirstUsableLBA, CRC not updated */
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_BAD_HEADER_CRC);
    hdr[40] ^= 1;
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_OK);
    /* The same table on a disk too small for it. */
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks / 2, &h), GPT_BAD_HEADER);

    hdr[24] = 2;                                        /* MyLBA 2 */
    reseal_header(hdr);
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_BAD_HEADER);
    hdr[24] = 1;
    hdr[84] = 100;                                      /* SizeOfPartitionEntry 100 */
    reseal_header(hdr);
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_BAD_HEADER);
    hdr[84] = 128;
    reseal_header(hdr);
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_OK);

    entries[200] ^= 0x80;                               /* in entry 1: array CRC wrong */
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p), GPT_BAD_ENTRIES_CRC);
    entries[200] ^= 0x80;

    /* Entry 0 ending past LastUsableLBA, with both CRCs made consistent. */
    uint64_t past = h.last_usable_lba + 1;
    for (int i = 0; i < 8; i++)
        entries[40 + i] = (uint8_t)(past >> (8 * i));
    uint32_t c = crc32(entries, 16384);
    for (int i = 0; i < 4; i++)
        hdr[88 + i] = (uint8_t)(c >> (8 * i));
    reseal_header(hdr);
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, nblocks, &h), GPT_OK);
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p), GPT_BAD_ENTRY);

    /* Another type GUID: a well-formed GPT without a bareio partition. */
    static const uint8_t linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                            0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, linux_data, 0, &p), GPT_NOT_FOUND);
    release(&b);
}

HTEST(gpt_build_refuses_tiny_disk)
{
    struct built b = build(512, 2048);                  /* 1 MiB: no room past the tables */
    HT_EXPECT(!gpt_build(&b.l, b.primary, b.backup));
    release(&b);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The usable LBAs against the GPT's own structures, each edge exactly. */
HTEST(gpt_usable_lbas_clear_of_its_own_structures)
{
    const uint32_t bs = 512;
    const uint64_t n = 8192;
    struct built b = build(bs, n);
    struct gpt_header h;
    uint8_t *hdr = b.primary + bs;
    HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
    /* 128 entries of 128 bytes: the primary array is LBA 2..33, the backup
     * array n-33..n-2, the backup header n-1. */
    static const struct { unsigned field; uint64_t value; enum gpt_status want; } edges[] = {
        { 40, 34, GPT_OK }, { 40, 33, GPT_BAD_LAYOUT }, { 40, 1, GPT_BAD_LAYOUT },
        { 40, 0, GPT_BAD_LAYOUT }, { 48, 8192 - 34, GPT_OK }, { 48, 8192 - 33, GPT_BAD_LAYOUT },
        { 48, 8192 - 2, GPT_BAD_LAYOUT }, { 48, 8192 - 1, GPT_BAD_LAYOUT },
        { 72, 3, GPT_BAD_LAYOUT },          /* the array moved up over FirstUsableLBA */
        { 32, 8192 - 2, GPT_BAD_LAYOUT },   /* backup header inside the backup array's room */
        { 32, 8192 - 34, GPT_BAD_LAYOUT },  /* AlternateLBA <= LastUsableLBA */
    };
    for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
        put_le64(hdr + edges[i].field, edges[i].value);
        reseal_header(hdr);
        enum gpt_status st = gpt_parse_header(hdr, bs, n, &h);
        if (st != edges[i].want)
            htest_fail(__FILE__, __LINE__, "field %u = %llu: status %d, want %d", edges[i].field,
                       (unsigned long long)edges[i].value, st, edges[i].want);
    }
    release(&b);
}

HTEST(gpt_partition_overlapping_another_refused)
{
    const uint32_t bs = 512;
    const uint64_t n = 8192;
    static const uint8_t other[16] = { 1 };
    struct built b = build(bs, n);
    struct gpt_header h;
    struct gpt_partition p;
    uint8_t *hdr = b.primary + bs, *entries = b.primary + 2 * bs;
    HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
    HT_EXPECT_EQ(gpt_parse_header(hdr, bs, n, &h), GPT_OK);
    uint64_t first = 2048, last = h.last_usable_lba;
    /* Entry 5, another type, touching the bareio partition's first block. */
    memcpy(entries + 5 * 128, other, 16);
    put_le64(entries + 5 * 128 + 32, 100);
    put_le64(entries + 5 * 128 + 40, first);
    h.entries_crc = crc32(entries, 16384);
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p), GPT_OVERLAP);
    put_le64(entries + 5 * 128 + 40, first - 1);            /* right below: fine */
    h.entries_crc = crc32(entries, 16384);
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p), GPT_OK);
    put_le64(entries + 5 * 128 + 32, last);                 /* the last block */
    put_le64(entries + 5 * 128 + 40, last);
    h.entries_crc = crc32(entries, 16384);
    HT_EXPECT_EQ(gpt_find_partition(&h, entries, gpt_type_bareio, 0, &p), GPT_OVERLAP);
    release(&b);
}

/* gpt_next_partition lists every used entry whatever its type, in order, so
 * tools/mkscratch can name the partitions that are not bareio's. */
HTEST(gpt_next_partition_lists_every_used_entry)
{
    const uint32_t bs = 512;
    const uint64_t nblocks = 8192;
    struct built b = build(bs, nblocks);
    struct gpt_header h;
    struct gpt_partition p;
    uint8_t *entries = b.primary + 2 * bs;

    HT_EXPECT(gpt_build(&b.l, b.primary, b.backup));
    HT_EXPECT_EQ(gpt_parse_header(b.primary + bs, bs, nblocks, &h), GPT_OK);
    memset(entries + 5 * 128, 0, 128);
    memcpy(entries + 5 * 128, "\xaf\x3d\xc6\x0f\x83\x84\x72\x47\x8e\x79\x3d\x69\xd8\x47\x7d\xe4", 16);
    entries[5 * 128 + 32] = 7;                          /* FirstLBA 7, LastLBA 9 */
    entries[5 * 128 + 40] = 9;
    entries[5 * 128 + 56] = 'h';
    HT_EXPECT_EQ(gpt_next_partition(&h, entries, 0, &p), GPT_OK);
    HT_EXPECT_EQ(p.index, 0);
    HT_EXPECT(memcmp(p.type_guid, gpt_type_bareio, 16) == 0);
    HT_EXPECT_EQ(gpt_next_partition(&h, entries, 1, &p), GPT_OK);
    HT_EXPECT_EQ(p.index, 5);
    HT_EXPECT_EQ(p.first_lba, 7);
    HT_EXPECT_EQ(p.last_lba, 9);
    HT_EXPECT_STREQ(p.name, "h");
    HT_EXPECT_EQ(gpt_next_partition(&h, entries, 6, &p), GPT_NOT_FOUND);
    HT_EXPECT_EQ(gpt_next_partition(&h, entries, 1000, &p), GPT_NOT_FOUND);
    release(&b);
}
