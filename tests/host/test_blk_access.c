/* SPDX-License-Identifier: MIT */
/* tests/host/test_blk_access.c — the write-access rule (drivers/blk/access.h)
 * on synthetic disk heads: a blank disk is read-only, allow_write= opens it;
 * a label or a bareio GPT partition confine writes; a disk in use (ext4, MBR,
 * foreign GPT, ISO) stays read-only even with allow_write=; the boot ISO is
 * never written, not even with a label; bootid= of another ISO does not match. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/access.h"
#include "drivers/blk/blk.h"
#include "lib/crc.h"
#include "lib/format.h"
#include "lib/gpt.h"
#include "lib/scratch.h"
#include "lib/stamp.h"

#include <stdlib.h>

#define DISK_BLOCKS 131072u     /* 64 MiB of 512-byte blocks */

static uint8_t head[BLK_ACCESS_HEAD_MAX];

/* The first phase, on as much of the head as the kernel reads. */
static void decide(struct blk_dev *d, bool allowed, const char *boot_id)
{
    blk_access_decide(d, head, (size_t)blk_access_head_bytes(d->block_size, d->nblocks), allowed,
                      boot_id);
}

static struct blk_dev fresh_dev(uint32_t block_size)
{
    struct blk_dev d;
    memset(&d, 0, sizeof(d));
    d.block_size = block_size;
    d.nblocks = (64ull << 20) / block_size;
    memset(d.identity, 0x11, 16);
    return d;
}

static void label_head(uint64_t offset, uint64_t size)
{
    struct scratch_label l;
    memset(&l, 0, sizeof(l));
    for (int i = 0; i < 16; i++)
        l.uuid[i] = (uint8_t)(0xc0 + i);
    l.data_offset = offset;
    l.data_size = size;
    scratch_label_build(head, &l);
}

static void iso_head(const char *volid)
{
    memcpy(head + 32768, "\x01" "CD001\x01", 7);
    memset(head + 32768 + 40, ' ', 32);
    memcpy(head + 32768 + 40, volid, strlen(volid));
}

static void gpt_head_named(uint32_t bs, const uint8_t *type, const char *name)
{
    struct gpt_layout l;
    memset(&l, 0, sizeof(l));
    l.name = name;
    l.block_size = bs;
    l.nblocks = (64ull << 20) / bs;
    memset(l.part_guid, 0x77, 16);
    l.type = type;
    uint8_t *backup = malloc(gpt_backup_blocks(bs) * bs);
    HT_EXPECT(gpt_build(&l, head, backup));
    free(backup);
}

static void gpt_head(uint32_t bs, const uint8_t *type) { gpt_head_named(bs, type, NULL); }

HTEST(blk_access_blank_disk)
{
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: no scratch label");
    decide(&d, true, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_first, 0);
    HT_EXPECT_EQ(d.write_end, DISK_BLOCKS);
    HT_EXPECT_STREQ(d.access, "scratch (allow_write): writes to 0 B..64 MiB");
}

HTEST(blk_access_label_confines_and_identifies)
{
    struct blk_dev d = fresh_dev(4096);
    memset(head, 0, sizeof(head));
    label_head(2 << 20, 8 << 20);
    decide(&d, false, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_first, 512);           /* 2 MiB in 4 KiB blocks */
    HT_EXPECT_EQ(d.write_end, 2560);
    HT_EXPECT_EQ(d.identity[0], 0xc0);
    HT_EXPECT_STREQ(d.access, "scratch (label): writes to 2 MiB..10 MiB");
    head[100] ^= 1;                             /* damaged label: not scratch */
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: scratch label damaged (CRC-32C mismatch) (allow_write= "
                              "does not apply); tools/mkscratch --force relabels it, erasing "
                              "what is there");
}

HTEST(blk_access_gpt_partition_confines)
{
    static const uint32_t sizes[] = { 512, 4096 };
    for (int i = 0; i < 2; i++) {
        struct blk_dev d = fresh_dev(sizes[i]);
        memset(head, 0, sizeof(head));
        gpt_head(sizes[i], gpt_type_bareio);
        decide(&d, false, "");
        HT_EXPECT(d.writable);
        HT_EXPECT_EQ(d.write_first * sizes[i], 1 << 20);
        /* Ends before the backup entry array and header. */
        HT_EXPECT_EQ(d.write_end, d.nblocks - gpt_backup_blocks(sizes[i]));
        HT_EXPECT_EQ(d.identity[0], 0x77);
        HT_EXPECT(strncmp(d.access, "scratch (GPT partition 1)", 25) == 0);
    }
}

HTEST(blk_access_in_use_stays_read_only_with_allow_write)
{
    static const uint8_t linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                            0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
    struct blk_dev d = fresh_dev(512);

    memset(head, 0, sizeof(head));
    memcpy(head + 1080, "\x53\xef", 2);
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an ext2/3/4 file system (in use; allow_write= does not apply)");

    memset(head, 0, sizeof(head));
    head[446 + 4] = 0x83;
    head[510] = 0x55;
    head[511] = 0xaa;
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an MBR partition table (in use; allow_write= does not apply)");

    memset(head, 0, sizeof(head));
    gpt_head(512, linux_data);
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT without a bareio partition (in use; allow_write= "
                              "does not apply)");
    /* A bareio GPT whose entries were damaged opens nothing either. */
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    head[1024 + 60] ^= 1;
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT partition entries damaged (CRC-32 mismatch) (in use)");
}

HTEST(blk_access_boot_medium_never_written)
{
    struct blk_dev d = fresh_dev(512);

    memset(head, 0, sizeof(head));
    iso_head("BAREIO_00C0FFEE12345678");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable);
    HT_EXPECT(d.boot_device);
    HT_EXPECT_STREQ(d.access, "read-only: boot medium (bootid=00C0FFEE12345678), never written");
    /* Even a scratch label on it does not open it. */
    label_head(1 << 20, 0);
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && d.boot_device);
    /* Another bareio ISO: not the boot medium, but an ISO: in use. */
    memset(head, 0, sizeof(head));
    iso_head("BAREIO_1111111111111111");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && !d.boot_device);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an ISO 9660 file system (in use; allow_write= does not apply)");
}

/* The USB stick (tools/mkusb): a partition named BAREIO_<bootid> marks it,
 * even when that partition carries bareio's scratch type, which would
 * otherwise open it. */
HTEST(blk_access_boot_stick_by_partition_name)
{
    static const uint8_t basic_data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                            0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };
    struct blk_dev d = fresh_dev(512);

    memset(head, 0, sizeof(head));
    gpt_head_named(512, gpt_type_bareio, "BAREIO_00C0FFEE12345678");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && d.boot_device);
    HT_EXPECT_STREQ(d.access, "read-only: boot medium (bootid=00C0FFEE12345678), never written");
    /* Without bootid= (or with another one) the same partition is scratch. */
    decide(&d, false, "");
    HT_EXPECT(d.writable && !d.boot_device);
    decide(&d, false, "1111111111111111");
    HT_EXPECT(d.writable && !d.boot_device);
    /* The real stick's partition is basic data: in use, and named the boot medium. */
    memset(head, 0, sizeof(head));
    gpt_head_named(512, basic_data, "BAREIO_00C0FFEE12345678");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && d.boot_device);
    /* 4 KiB blocks: the entries sit at 8 KiB. */
    d = fresh_dev(4096);
    memset(head, 0, sizeof(head));
    gpt_head_named(4096, gpt_type_bareio, "BAREIO_00C0FFEE12345678");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && d.boot_device);
    /* A prefix is no match. */
    memset(head, 0, sizeof(head));
    gpt_head_named(4096, gpt_type_bareio, "BAREIO_00C0FFEE1234567");
    decide(&d, true, "00C0FFEE12345678");
    HT_EXPECT(d.writable && !d.boot_device);
}

HTEST(blk_access_small_disk_reads_what_there_is)
{
    struct blk_dev d = fresh_dev(512);
    d.nblocks = 16;                             /* 8 KiB */
    memset(head, 0, sizeof(head));
    blk_access_decide(&d, head, 16 * 512, true, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_end, 16);
}

/* Issue 9.1: a label's range is rounded inwards for every block size the
 * drivers accept; a data offset that is not a multiple of the block size
 * never makes LBA 0 (the label) writable. */
HTEST(blk_access_label_range_rounded_inwards)
{
    static const uint32_t sizes[] = { 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint32_t bs = sizes[i];
        struct blk_dev d = fresh_dev(bs);
        memset(head, 0, sizeof(head));
        label_head(4096, 12u << 20);            /* 4 KiB .. 12 MiB + 4 KiB */
        decide(&d, false, "");
        HT_EXPECT(d.writable);
        HT_EXPECT_EQ(d.write_first, (4096 + bs - 1) / bs);
        HT_EXPECT_EQ(d.write_end, ((12u << 20) + 4096) / bs);
        HT_EXPECT(d.write_first >= 1);
        HT_EXPECT(d.write_first * bs >= 4096);
        HT_EXPECT(d.write_end * bs <= (12u << 20) + 4096);
    }
    struct blk_dev d = fresh_dev(8192);
    memset(head, 0, sizeof(head));
    label_head(4096, 0);
    decide(&d, false, "");
    HT_EXPECT_STREQ(d.access, "scratch (label): writes to 8 KiB..64 MiB");
    /* A range that holds no whole block opens nothing. */
    d = fresh_dev(65536);
    memset(head, 0, sizeof(head));
    label_head(4096, 8192);
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: the scratch label's data range holds no whole "
                              "65536-byte block");
}

/* A GPT header from gpt_build, with fields changed and both CRCs made right
 * again, so only the layout checks can refuse it. */
static void gpt_reseal(uint32_t bs)
{
    uint8_t *h = head + bs;
    uint32_t count = (uint32_t)(h[80] | h[81] << 8 | h[82] << 16 | (uint32_t)h[83] << 24);
    uint32_t crc = crc32(head + 2 * bs, (size_t)count * 128);
    memcpy(h + 88, &crc, 4);
    memset(h + 16, 0, 4);
    crc = crc32(h, 92);
    memcpy(h + 16, &crc, 4);
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Issue 9.2: the usable range stays clear of LBA 0, the primary header and
 * entry array, the backup entry array and header; partitions lie inside it
 * and overlap no other. */
HTEST(blk_access_gpt_overlapping_its_own_structures_is_read_only)
{
    struct blk_dev d = fresh_dev(512);
    uint64_t n = d.nblocks;
    static const struct { unsigned field; uint64_t value; } cases[] = {
        { 40, 0 }, { 40, 1 }, { 40, 2 }, { 40, 33 },   /* FirstUsableLBA over MBR/header/array */
    };
    for (unsigned i = 0; i < 4; i++) {
        memset(head, 0, sizeof(head));
        gpt_head(512, gpt_type_bareio);
        put64(head + 512 + cases[i].field, cases[i].value);
        put64(head + 1024 + 32, cases[i].value);        /* the partition starts there too */
        gpt_reseal(512);
        decide(&d, false, "");
        HT_EXPECT(!d.writable);
        HT_EXPECT_STREQ(d.access, "read-only: GPT whose usable LBAs overlap its own header or "
                                  "entry arrays (in use)");
    }
    /* LastUsableLBA reaching the backup entry array, or the backup header. */
    const uint64_t last_usable[] = { n - 33, n - 2, n - 1 };
    for (unsigned i = 0; i < 3; i++) {
        memset(head, 0, sizeof(head));
        gpt_head(512, gpt_type_bareio);
        put64(head + 512 + 48, last_usable[i]);
        put64(head + 1024 + 40, last_usable[i]);
        gpt_reseal(512);
        decide(&d, false, "");
        HT_EXPECT(!d.writable);
    }
    /* The partition covering the primary entry array, inside a header that
     * says so honestly: first usable at 2 is refused by the layout check;
     * a partition below FirstUsableLBA by the partition check. */
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    put64(head + 1024 + 32, 2);
    gpt_reseal(512);
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT partition outside the usable LBAs (in use)");
    /* A partition ending exactly at LastUsableLBA is fine; one past is not. */
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    uint64_t last = get64(head + 512 + 48);
    put64(head + 1024 + 40, last + 1);
    gpt_reseal(512);
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
}

HTEST(blk_access_gpt_partition_overlapping_another_is_read_only)
{
    static const uint8_t linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                            0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    uint64_t first = get64(head + 1024 + 32), last = get64(head + 1024 + 40);
    /* A Linux partition in the bareio partition's last block. */
    memcpy(head + 1024 + 128, linux_data, 16);
    put64(head + 1024 + 128 + 32, last);
    put64(head + 1024 + 128 + 40, last);
    gpt_reseal(512);
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT partition overlapping another partition (in use)");
    /* Beside it, not overlapping: the bareio partition stays scratch. */
    put64(head + 1024 + 40, last - 1);
    gpt_reseal(512);
    decide(&d, false, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_first, first);
    HT_EXPECT_EQ(d.write_end, last);
}

HTEST(blk_access_gpt_with_a_hybrid_mbr_is_read_only)
{
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    head[446 + 16 + 4] = 0x83;                  /* a Linux entry beside the 0xEE one */
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: bareio GPT partition 1, but the disk also holds an MBR "
                              "with partitions of its own (in use)");
}

/* Issue 9.5: a label beside a sign of use, or a label that cannot be read,
 * never opens the disk, allow_write= or not. */
HTEST(blk_access_label_with_a_file_system_is_read_only)
{
    static const struct { unsigned off; const char *bytes; size_t n; const char *what; } sigs[] = {
        { 1080, "\x53\xef", 2, "an ext2/3/4 file system" },
        { 65600, "_BHRfS_M", 8, "a btrfs file system" },
        { 4086, "SWAPSPACE2", 10, "Linux swap" },
        { 512, "EFI PART", 8, "a GPT partition table" },
        { 32769, "CD001", 5, "an ISO 9660 file system" },
    };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct blk_dev d = fresh_dev(512);
        char want[512];
        memset(head, 0, sizeof(head));
        label_head(1 << 20, 0);
        memcpy(head + sigs[i].off, sigs[i].bytes, sigs[i].n);
        for (int allowed = 0; allowed < 2; allowed++) {
            decide(&d, allowed, "");
            HT_EXPECT(!d.writable);
            snprintf(want, sizeof(want), "read-only: scratch label, but the disk also holds %s (in "
                     "use since it was labelled; allow_write= does not apply); tools/mkscratch "
                     "--force relabels it, erasing what is there", sigs[i].what);
            HT_EXPECT_STREQ(d.access, want);
        }
    }
    /* LVM2 writes its label in sector 1: the scratch label survives it. */
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    label_head(1 << 20, 0);
    memcpy(head + 512, "LABELONE", 8);
    memcpy(head + 512 + 24, "LVM2 001", 8);
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
}

HTEST(blk_access_damaged_label_with_allow_write_is_read_only)
{
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    label_head(1 << 20, 0);
    head[30] ^= 0x40;                           /* data_offset damaged: CRC fails */
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT(strstr(d.access, "damaged") && strstr(d.access, "allow_write= does not apply"));
    /* A label of another version, or an impossible range: the same. */
    memset(head, 0, sizeof(head));
    label_head(1 << 20, 1ull << 40);            /* past the end of a 64 MiB disk */
    decide(&d, true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT(strstr(d.access, "impossible data range") != NULL);
}

/* Issue 9.3: capacities whose byte count does not fit 64 bits. */
HTEST(blk_access_huge_capacities_do_not_wrap)
{
    struct blk_dev d = fresh_dev(65536);
    d.nblocks = UINT64_MAX;                     /* 2^80 bytes */
    memset(head, 0, sizeof(head));
    label_head(1 << 20, 0);
    decide(&d, false, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_first, 16);
    HT_EXPECT_EQ(d.write_end, UINT64_MAX);
    HT_EXPECT_STREQ(d.access, "scratch (label): writes to 1 MiB..block 18446744073709551615");
    /* A label size near 2^64 on such a disk: no wrap into a small range. */
    label_head(1 << 20, UINT64_MAX & ~4095ull);
    decide(&d, false, "");
    HT_EXPECT(!d.writable);
}

/* ---- the second phase: the start of the range opened ---- */

/* A fake device for blk_access_decide_device: `disk` holds its first bytes
 * (zero past them), reads past `fail_from` fail. */
struct fake_disk {
    const uint8_t *bytes;
    size_t len;
    uint32_t bs;
    uint64_t fail_from;     /* first LBA whose read fails */
};

static bool fake_read(void *ctx, uint64_t lba, uint32_t count, uint8_t *buf)
{
    const struct fake_disk *f = ctx;
    if (lba + count > f->fail_from)
        return false;
    for (uint64_t i = 0; i < (uint64_t)count * f->bs; i++) {
        uint64_t at = lba * f->bs + i;
        buf[i] = at < f->len ? f->bytes[at] : 0;
    }
    return true;
}

static uint8_t disk[4u << 20];
static uint8_t buf[BLK_ACCESS_HEAD_MAX];

static void device_decide(uint32_t bs, uint64_t nblocks, uint64_t fail_from, struct blk_access *a)
{
    struct fake_disk f = { disk, sizeof(disk), bs, fail_from };
    blk_access_decide_device(bs, nblocks, fake_read, &f, buf, false, "", a);
}

static void gpt_disk(uint32_t bs, uint64_t nblocks)
{
    struct gpt_layout l;
    memset(&l, 0, sizeof(l));
    l.block_size = bs;
    l.nblocks = nblocks;
    memset(l.part_guid, 0x77, 16);
    l.type = gpt_type_bareio;
    uint8_t *backup = malloc(gpt_backup_blocks(bs) * bs);
    memset(disk, 0, sizeof(disk));
    HT_EXPECT(gpt_build(&l, disk, backup));
    free(backup);
}

HTEST(blk_access_file_system_inside_the_partition_is_read_only)
{
    struct blk_access a;
    gpt_disk(512, 131072);
    device_decide(512, 131072, UINT64_MAX, &a);
    HT_EXPECT(a.writable);
    HT_EXPECT_EQ(a.write_first, 2048);
    /* mkfs.ext4 on the partition: its superblock at partition start + 1024. */
    memcpy(disk + (1 << 20) + 1080, "\x53\xef", 2);
    device_decide(512, 131072, UINT64_MAX, &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT_STREQ(a.reason, "read-only: scratch (GPT partition 1), but its first blocks hold an "
                              "ext2/3/4 file system (made in it after it was marked); "
                              "tools/mkscratch --force relabels it, erasing what is there");
    /* The same inside a label's data range. */
    memset(disk, 0, sizeof(disk));
    struct scratch_label l;
    memset(&l, 0, sizeof(l));
    l.data_offset = 1 << 20;
    scratch_label_build(disk, &l);
    memcpy(disk + (1 << 20) + 65600, "_BHRfS_M", 8);
    device_decide(512, 8192, UINT64_MAX, &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT(strstr(a.reason, "scratch (label), but its first blocks hold a btrfs") != NULL);
}

HTEST(blk_access_stamps_in_the_range_are_no_sign_of_use)
{
    struct blk_access a;
    struct stamp_key k;
    struct stamp_header h;
    memset(&k, 0, sizeof(k));
    k.seed = 1;
    gpt_disk(512, 131072);
    /* A run's stamps over the first 72 KiB of the partition, and bytes 510,
     * 511 and 450 of the first sector (outside the stamp header) made to look
     * like an MBR's: inside a stamp sector they prove nothing. */
    uint8_t *start = disk + (1 << 20);
    stamp_fill_blocks(start, 512, 144, &k, 2048);
    start[510] = 0x55;
    start[511] = 0xaa;
    start[446 + 4] = 0x83;
    HT_EXPECT(stamp_parse_header(start, &h));
    device_decide(512, 131072, UINT64_MAX, &a);
    HT_EXPECT(a.writable);
    HT_EXPECT_EQ(a.write_first, 2048);
    /* The same bytes in a sector that is not a stamp: an MBR in the partition. */
    start[0] ^= 0xff;
    device_decide(512, 131072, UINT64_MAX, &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT(strstr(a.reason, "its first blocks hold an MBR partition table") != NULL);
}

HTEST(blk_access_device_reads_enough_for_64k_block_gpts)
{
    struct blk_access a;
    /* 64 KiB blocks: the entry array at LBA 2 starts at 128 KiB. */
    gpt_disk(65536, 64);
    device_decide(65536, 64, UINT64_MAX, &a);
    HT_EXPECT(a.writable);
    HT_EXPECT_EQ(a.write_first, 16);
    HT_EXPECT(strncmp(a.reason, "scratch (GPT partition 1)", 25) == 0);
    /* A head cut short is refused, never read as "no GPT". */
    blk_access_rule(65536, 64, disk, 65536 * 2, true, "", &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT_STREQ(a.reason, "read-only: only 131072 of its first 196608 bytes were read");
    /* Reads that fail: read-only, with the reason. */
    device_decide(65536, 64, 2, &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT_STREQ(a.reason, "read-only: reading its first 3 blocks failed");
}

/* A media error where the range starts is what a run is there to find: the
 * blocks that read are still looked at, the others count as unseen. */
struct bad_block_disk {
    struct fake_disk f;
    uint64_t bad;
};

static bool bad_block_read(void *ctx, uint64_t lba, uint32_t count, uint8_t *buf)
{
    const struct bad_block_disk *d = ctx;
    if (lba <= d->bad && d->bad < lba + count)
        return false;
    return fake_read((void *)&d->f, lba, count, buf);
}

HTEST(blk_access_unreadable_blocks_in_the_range_are_named_not_feared)
{
    struct blk_access a;
    gpt_disk(512, 131072);
    struct bad_block_disk d = { { disk, sizeof(disk), 512, UINT64_MAX }, 2060 };
    blk_access_decide_device(512, 131072, bad_block_read, &d, buf, false, "", &a);
    HT_EXPECT(a.writable);
    HT_EXPECT(strstr(a.reason, "; 1 of its first 144 blocks unreadable") != NULL);
    /* A file system in the blocks that do read still counts. */
    memcpy(disk + (1 << 20) + 1080, "\x53\xef", 2);
    blk_access_decide_device(512, 131072, bad_block_read, &d, buf, false, "", &a);
    HT_EXPECT(!a.writable);
    /* The head itself unreadable: read-only, as before. */
    d.bad = 5;
    blk_access_decide_device(512, 131072, bad_block_read, &d, buf, false, "", &a);
    HT_EXPECT_STREQ(a.reason, "read-only: reading its first 144 blocks failed");
}

/* A stale GPT header of another block size beside a bareio GPT. */
HTEST(blk_access_second_gpt_header_is_read_only)
{
    struct blk_access a;
    gpt_disk(4096, 16384);
    memcpy(disk + 512, "EFI PART", 8);          /* in LBA 0's unused bytes */
    device_decide(4096, 16384, UINT64_MAX, &a);
    HT_EXPECT(!a.writable);
    HT_EXPECT(strstr(a.reason, "another GPT header at byte 512") != NULL);
}
