/* tests/host/test_blk_access.c — the write-access rule (drivers/blk/access.h)
 * on synthetic disk heads: a blank disk is read-only, allow_write= opens it;
 * a label or a bareio GPT partition confine writes; a disk in use (ext4, MBR,
 * foreign GPT, ISO) stays read-only even with allow_write=; the boot ISO is
 * never written, not even with a label; bootid= of another ISO does not match. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/access.h"
#include "drivers/blk/blk.h"
#include "lib/gpt.h"
#include "lib/scratch.h"

#include <stdlib.h>

#define DISK_BLOCKS 131072u     /* 64 MiB of 512-byte blocks */

static uint8_t head[BLK_ACCESS_SPAN];

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

static void gpt_head(uint32_t bs, const uint8_t *type)
{
    struct gpt_layout l;
    memset(&l, 0, sizeof(l));
    l.block_size = bs;
    l.nblocks = (64ull << 20) / bs;
    memset(l.part_guid, 0x77, 16);
    l.type = type;
    uint8_t *backup = malloc(gpt_backup_blocks(bs) * bs);
    HT_EXPECT(gpt_build(&l, head, backup));
    free(backup);
}

HTEST(blk_access_blank_disk)
{
    struct blk_dev d = fresh_dev(512);
    memset(head, 0, sizeof(head));
    blk_access_decide(&d, head, sizeof(head), false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: no scratch label");
    blk_access_decide(&d, head, sizeof(head), true, "");
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
    blk_access_decide(&d, head, sizeof(head), false, "");
    HT_EXPECT(d.writable);
    HT_EXPECT_EQ(d.write_first, 512);           /* 2 MiB in 4 KiB blocks */
    HT_EXPECT_EQ(d.write_end, 2560);
    HT_EXPECT_EQ(d.identity[0], 0xc0);
    HT_EXPECT_STREQ(d.access, "scratch (label): writes to 2 MiB..10 MiB");
    head[100] ^= 1;                             /* damaged label: not scratch */
    blk_access_decide(&d, head, sizeof(head), false, "");
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
        blk_access_decide(&d, head, sizeof(head), false, "");
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
    blk_access_decide(&d, head, sizeof(head), true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an ext2/3/4 file system (in use; allow_write= does not apply)");

    memset(head, 0, sizeof(head));
    head[446 + 4] = 0x83;
    head[510] = 0x55;
    head[511] = 0xaa;
    blk_access_decide(&d, head, sizeof(head), true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an MBR partition table (in use; allow_write= does not apply)");

    memset(head, 0, sizeof(head));
    gpt_head(512, linux_data);
    blk_access_decide(&d, head, sizeof(head), true, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT without a bareio partition (in use; allow_write= "
                              "does not apply)");
    /* A bareio GPT whose entries were damaged opens nothing either. */
    memset(head, 0, sizeof(head));
    gpt_head(512, gpt_type_bareio);
    head[1024 + 60] ^= 1;
    blk_access_decide(&d, head, sizeof(head), false, "");
    HT_EXPECT(!d.writable);
    HT_EXPECT_STREQ(d.access, "read-only: GPT partition entries damaged (CRC-32 mismatch) (in use)");
}

HTEST(blk_access_boot_medium_never_written)
{
    struct blk_dev d = fresh_dev(512);

    memset(head, 0, sizeof(head));
    iso_head("BAREIO_00C0FFEE12345678");
    blk_access_decide(&d, head, sizeof(head), true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable);
    HT_EXPECT(d.boot_device);
    HT_EXPECT_STREQ(d.access, "read-only: boot medium (bootid=00C0FFEE12345678), never written");
    /* Even a scratch label on it does not open it. */
    label_head(1 << 20, 0);
    blk_access_decide(&d, head, sizeof(head), true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && d.boot_device);
    /* Another bareio ISO: not the boot medium, but an ISO: in use. */
    memset(head, 0, sizeof(head));
    iso_head("BAREIO_1111111111111111");
    blk_access_decide(&d, head, sizeof(head), true, "00C0FFEE12345678");
    HT_EXPECT(!d.writable && !d.boot_device);
    HT_EXPECT_STREQ(d.access,
                    "read-only: holds an ISO 9660 file system (in use; allow_write= does not apply)");
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
