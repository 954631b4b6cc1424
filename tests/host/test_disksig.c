/* SPDX-License-Identifier: MIT */
/* tests/host/test_disksig.c — lib/disksig: each in-use signature is found at
 * its documented offset and named; a blank disk, a scratch label and
 * signatures cut off by a short buffer are not; the ISO 9660 volume id. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/disksig.h"
#include "lib/scratch.h"

#include <stdlib.h>

static uint8_t disk[DISKSIG_SPAN];

static void put(uint64_t offset, const void *bytes, size_t n)
{
    memcpy(disk + offset, bytes, n);
}

static enum disksig_kind probe(void)
{
    return disksig_probe(disk, sizeof(disk)).kind;
}

HTEST(disksig_blank_and_scratch_label_are_free)
{
    struct scratch_label l;
    memset(disk, 0, sizeof(disk));
    HT_EXPECT_EQ(probe(), DISKSIG_NONE);
    memset(&l, 0, sizeof(l));
    l.data_offset = SCRATCH_DEFAULT_DATA_OFFSET;
    scratch_label_build(disk, &l);
    HT_EXPECT_EQ(probe(), DISKSIG_NONE);
    /* A boot sector signature with four empty entries is not a partition table. */
    put(510, "\x55\xaa", 2);
    HT_EXPECT_EQ(probe(), DISKSIG_NONE);
}

HTEST(disksig_each_signature)
{
    static const struct {
        uint64_t offset;
        const char *bytes;
        size_t n;
        enum disksig_kind kind;
    } cases[] = {
        { 32769, "CD001", 5, DISKSIG_ISO9660 },
        { 512, "EFI PART", 8, DISKSIG_GPT },
        { 4096, "EFI PART", 8, DISKSIG_GPT },
        { 1080, "\x53\xef", 2, DISKSIG_EXT },
        { 0, "XFSB", 4, DISKSIG_XFS },
        { 65600, "_BHRfS_M", 8, DISKSIG_BTRFS },
        { 4086, "SWAPSPACE2", 10, DISKSIG_SWAP },
        { 65526, "SWAPSPACE2", 10, DISKSIG_SWAP },
        { 0, "LUKS\xba\xbe", 6, DISKSIG_LUKS },
        { 3, "NTFS    ", 8, DISKSIG_NTFS },
        { 3, "EXFAT   ", 8, DISKSIG_EXFAT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(disk, 0, sizeof(disk));
        put(cases[i].offset, cases[i].bytes, cases[i].n);
        struct disksig s = disksig_probe(disk, sizeof(disk));
        if (s.kind != cases[i].kind || s.offset != cases[i].offset)
            htest_fail(__FILE__, __LINE__, "case %zu (%s at %llu): found %s at %llu", i,
                       disksig_name(cases[i].kind), (unsigned long long)cases[i].offset,
                       disksig_name(s.kind), (unsigned long long)s.offset);
    }
}

HTEST(disksig_lvm2_in_second_sector)
{
    memset(disk, 0, sizeof(disk));
    put(512, "LABELONE", 8);
    HT_EXPECT_EQ(probe(), DISKSIG_NONE);        /* the label needs its type too */
    put(512 + 24, "LVM2 001", 8);
    HT_EXPECT_EQ(probe(), DISKSIG_LVM2);
}

HTEST(disksig_mbr_needs_a_used_entry)
{
    memset(disk, 0, sizeof(disk));
    put(510, "\x55\xaa", 2);
    disk[446 + 16 * 2 + 4] = 0x83;              /* third entry: Linux */
    struct disksig s = disksig_probe(disk, sizeof(disk));
    HT_EXPECT_EQ(s.kind, DISKSIG_MBR);
    HT_EXPECT_EQ(s.offset, 446 + 32);
    HT_EXPECT_STREQ(disksig_name(s.kind), "an MBR partition table");
}

HTEST(disksig_fat_boot_sector_is_not_an_mbr)
{
    memset(disk, 0, sizeof(disk));
    put(0, "\xeb\x3c\x90mkfs.fat", 11);
    disk[11] = 0x00; disk[12] = 0x02;           /* 512 bytes per sector */
    put(54, "FAT16   ", 8);
    memset(disk + 446, 0x5a, 64);               /* boot code where an MBR has entries */
    put(510, "\x55\xaa", 2);
    HT_EXPECT_EQ(probe(), DISKSIG_FAT);
    memset(disk + 54, 0, 8);
    put(82, "FAT32   ", 8);
    HT_EXPECT_EQ(probe(), DISKSIG_FAT);
    disk[12] = 0x03;                            /* 768 bytes per sector: not a BPB */
    HT_EXPECT_EQ(probe(), DISKSIG_MBR);
}

HTEST(disksig_iso_hybrid_reported_as_iso)
{
    char volid[33];
    memset(disk, 0, sizeof(disk));
    put(510, "\x55\xaa", 2);
    disk[446 + 4] = 0xee;
    put(512, "EFI PART", 8);
    put(32768, "\x01" "CD001\x01", 7);
    memset(disk + 32768 + 40, ' ', 32);
    put(32768 + 40, "BAREIO_0123456789ABCDEF", 23);
    HT_EXPECT_EQ(probe(), DISKSIG_ISO9660);
    disksig_iso9660_volume_id(disk, sizeof(disk), volid);
    HT_EXPECT_STREQ(volid, "BAREIO_0123456789ABCDEF");
    /* Cut short before the descriptor: neither signature nor id. */
    disksig_iso9660_volume_id(disk, 32768 + 50, volid);
    HT_EXPECT_STREQ(volid, "");
    HT_EXPECT_EQ(disksig_probe(disk, 32768).kind, DISKSIG_GPT);
}

HTEST(disksig_probe_all_reports_every_signature)
{
    struct disksig all[16];
    memset(disk, 0, sizeof(disk));
    put(0, "BAREIO-SCRATCH", 14);                   /* a label is none of them */
    HT_EXPECT_EQ(disksig_probe_all(disk, sizeof(disk), all, 16), 0);
    put(1080, "\x53\xef", 2);
    put(4086, "SWAPSPACE2", 10);
    put(65600, "_BHRfS_M", 8);
    HT_EXPECT_EQ(disksig_probe_all(disk, sizeof(disk), all, 16), 3);
    HT_EXPECT_EQ(all[0].kind, DISKSIG_EXT);
    HT_EXPECT_EQ(all[1].kind, DISKSIG_BTRFS);
    HT_EXPECT_EQ(all[2].kind, DISKSIG_SWAP);
    HT_EXPECT_EQ(all[2].offset, 4086);
    /* Fewer slots than signatures: the count is still all of them. */
    HT_EXPECT_EQ(disksig_probe_all(disk, sizeof(disk), all, 1), 3);
    HT_EXPECT_EQ(disksig_probe(disk, sizeof(disk)).kind, DISKSIG_EXT);
}

HTEST(disksig_protective_mbr_told_from_a_hybrid_one)
{
    memset(disk, 0, sizeof(disk));
    HT_EXPECT(!disksig_mbr_protective(disk, sizeof(disk)));
    put(510, "\x55\xaa", 2);
    HT_EXPECT(!disksig_mbr_protective(disk, sizeof(disk)));     /* no entry at all */
    disk[446 + 4] = 0xee;
    HT_EXPECT(disksig_mbr_protective(disk, sizeof(disk)));
    disk[446 + 48 + 4] = 0x0c;                                  /* a FAT32 entry beside it */
    HT_EXPECT(!disksig_mbr_protective(disk, sizeof(disk)));
    HT_EXPECT(!disksig_mbr_protective(disk, 100));               /* cut short */
}
