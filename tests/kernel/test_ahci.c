/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_ahci.c — the `ahci` suite: the AHCI driver through the
 * block interface, on whatever SATA disks QEMU (or a PC) was started with.
 * Identify and the blk_dev description, data round trips from 1 sector to
 * several MiB, PRDTs of many small odd-sized entries, a request split at the
 * 65536-sector command limit, 32 NCQ tags in flight from one kick, FLUSH,
 * FUA and TRIM when the disk has them, LBAs beyond 2^32, decoded errors for
 * an out-of-range LBA and for blkdebug-injected read/write errors, a lost
 * interrupt, and (explicit) a timeout recovered on a throttled disk.
 *
 * Writes go only to devices the block layer calls writable and only inside
 * [write_first, write_end); read-only devices make the writing cases skip.
 * Every case takes its LBAs and sizes from the disk and its scratch range (a
 * smaller size where the behaviour allows one) and its buffers from the free
 * memory, and skips naming what it needed when they cannot hold it.
 * Disks named by serial: bareio-slow (throttled: only the timeout case) and
 * bareio-blkdebug (errors injected at ahci.test_read_error= and
 * ahci.test_write_error=; other cases stay clear of those LBAs).
 * The driver is reached through the block interface, the helpers every
 * driver suite shares (blktest.h), and the driver's test view and named
 * hooks (struct ahci_test_view, ahci_test_*() in drivers/ahci/ahci.h; the
 * suite does not include ahci_priv.h): no case reads or writes a driver
 * struct. */
#include "drivers/ahci/ahci.h"
#include "drivers/blk/blk.h"
#include "kernel/cmdline.h"
#include "kernel/memory.h"
#include "lib/rng.h"
#include "lib/stamp.h"
#include "lib/string.h"
#include "tests/harness/ktest.h"
#include "tests/kernel/blktest.h"

CMDLINE_UINT(uint64_t, ahci_test_read_error, "ahci.test_read_error", 0, 0, ~0ull,
             "test only: LBA where blkdebug fails reads on the disk with serial bareio-blkdebug");
CMDLINE_UINT(uint64_t, ahci_test_write_error, "ahci.test_write_error", 0, 0, ~0ull,
             "test only: LBA where blkdebug fails writes on the disk with serial bareio-blkdebug");

#define SERIAL_SLOW     "bareio-slow"
#define SERIAL_FAULTY   "bareio-blkdebug"
#define MiB             (1024ull * 1024)
#define TEST_BASE_LBA   2048        /* into the scratch range, when it has room */
#define INJECTED_CLEAR  128         /* blocks kept clear after an injected-error LBA */

/* ---- helpers ---- */

static bool is_ahci(const struct blk_dev *d) { return d->ops == &ahci_blk_ops; }

/* Fit for general tests: not the throttled disk. */
static bool not_slow(const struct blk_dev *d) { return strcmp(d->serial, SERIAL_SLOW) != 0; }

/* The first AHCI disk fit for general tests with room for `min_blocks`, or
 * NULL, nothing said. */
static struct blk_dev *pick_disk(bool need_write, uint64_t min_blocks)
{
    return bt_pick(is_ahci, not_slow, need_write, min_blocks);
}

/* A disk with room for the `min_blocks` blocks the case writes (need_write)
 * or reads, or NULL after a skip that says what there is. */
static struct blk_dev *disk_or_skip(struct ktest *t, bool need_write, uint64_t min_blocks)
{
    return bt_pick_or_skip(t, is_ahci, not_slow, "AHCI disk", need_write, min_blocks);
}

/* What the driver shows of dev's port and HBA; false after failing the case
 * when it shows nothing. */
static bool view_of(struct ktest *t, struct blk_dev *d, struct ahci_test_view *v)
{
    if (ahci_test_view(d, v))
        return true;
    KT_FAIL(t, "%s: no AHCI test view", d->name);
    return false;
}

/* Where a case writes `blocks` blocks (disk_or_skip made sure the scratch
 * range holds them): TEST_BASE_LBA into the range when it has room, else as
 * far in as it has. On the blkdebug disk the blocks keep clear of the LBAs
 * where errors are injected, moved past them when the range allows. */
static uint64_t case_lba(const struct blk_dev *d, uint64_t blocks)
{
    uint64_t spare = bt_scratch_blocks(d) - blocks;
    uint64_t lba = d->write_first + bt_min_u64(spare, TEST_BASE_LBA);
    if (strcmp(d->serial, SERIAL_FAULTY) != 0)
        return lba;
    const uint64_t injected[2] = { ahci_test_read_error, ahci_test_write_error };
    for (int pass = 0; pass < 2; pass++)        /* a move may meet the other LBA */
        for (int i = 0; i < 2; i++) {
            uint64_t bad = injected[i];
            if (bad && lba <= bad && bad < lba + blocks &&
                bad + INJECTED_CLEAR + blocks <= d->write_end)
                lba = bad + INJECTED_CLEAR;
        }
    return lba;
}

/* ---- identify and description ---- */

/* The blk_dev description against IDENTIFY and the HBA's capabilities. */
static void description_matches(struct ktest *t, const struct blk_dev *d,
                                const struct ahci_test_view *v)
{
    KT_EXPECT(t, d->model[0] != '\0');
    KT_EXPECT(t, d->serial[0] != '\0');
    /* ATA strings are stored byte-swapped: a correct swap leaves no
     * trailing blanks and, for QEMU, reads "QEMU HARDDISK". */
    KT_EXPECT(t, d->model[strlen(d->model) - 1] != ' ');
    if (strncmp(d->model, "QEMU", 4) == 0)
        KT_EXPECT_STREQ(t, d->model, "QEMU HARDDISK");
    KT_EXPECT(t, d->nblocks > 0);
    KT_EXPECT_EQ(t, d->nblocks, v->identify.nblocks);
    KT_EXPECT(t, d->block_size >= 512 && d->phys_block_size >= d->block_size);
    KT_EXPECT_EQ(t, d->addr_align, 2);
    KT_EXPECT_EQ(t, d->len_align, 2);
    KT_EXPECT_EQ(t, d->max_transfer, 65536);
    KT_EXPECT_EQ(t, d->max_segs, AHCI_PRDT_ENTRIES);
    KT_EXPECT_EQ(t, d->nqueues, 1);
    unsigned depth = v->identify.ncq && v->sncq ? v->identify.ncq_depth : 1;
    KT_EXPECT_EQ(t, d->queue_depth, depth < v->hba_slots ? depth : v->hba_slots);
    KT_EXPECT_EQ(t, d->dma_limit, v->s64a ? ~0ull : 1ull << 32);
    KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_NCQ), d->queue_depth > 1);
    KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_TRIM), v->identify.trim);
    KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_TRIM_ZEROES), v->identify.trim_zeroes);
    KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_FUA), v->identify.fua);
    KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_DMA64), v->s64a);
}

/* §4.2: command list 1 KiB, received FIS 256 B, command tables 128 B
 * aligned, each in the driver's memory for it, and below 4 GiB when the HBA
 * lacks S64A. */
static void port_memory_laid_out(struct ktest *t, const struct ahci_test_view *v)
{
    uint64_t clb = v->regs.clb | (uint64_t)v->regs.clbu << 32;
    uint64_t fb = v->regs.fb | (uint64_t)v->regs.fbu << 32;
    uint64_t table = sizeof(struct ahci_cmd_table);
    KT_EXPECT_EQ(t, clb, v->mem_phys);
    KT_EXPECT_EQ(t, clb & 0x3ff, 0);
    KT_EXPECT_EQ(t, fb & 0xff, 0);
    KT_EXPECT(t, fb >= v->mem_phys + 1024 && fb + 256 <= v->mem_phys + v->mem_bytes);
    for (unsigned s = 0; s < v->slots; s++) {
        KT_EXPECT_EQ(t, v->command_table[s] & 0x7f, 0);
        KT_EXPECT(t, v->command_table[s] >= v->tables_phys &&
                     v->command_table[s] + table <= v->tables_phys + v->tables_bytes);
    }
    if (!v->s64a)
        KT_EXPECT(t, v->mem_phys + 4096 <= (1ull << 32) &&
                     v->tables_phys + v->slots * table <= (1ull << 32));
}

/* Running and idle: FRE/FR and ST/CR on, FIS-based switching off (PxFBS is
 * there only when CAP.FBSS says so, §3.3.16), an ATA disk on an established
 * link, no command issued, the completion interrupts enabled in MSI mode
 * only, the device neither busy nor waiting for data. */
static void port_running_idle(struct ktest *t, const struct ahci_test_view *v)
{
    KT_EXPECT_EQ(t, v->regs.cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE | AHCI_PxCMD_FR),
                 AHCI_PxCMD_ST | AHCI_PxCMD_FRE | AHCI_PxCMD_FR);
    if (v->cap & AHCI_CAP_FBSS)
        KT_EXPECT_EQ(t, v->regs.fbs & AHCI_PxFBS_EN, 0);
    KT_EXPECT_EQ(t, v->regs.sig, AHCI_SIG_ATA);
    KT_EXPECT_EQ(t, v->regs.ssts & AHCI_SSTS_DET_MASK, AHCI_SSTS_DET_PRESENT_PHY);
    KT_EXPECT_EQ(t, v->issued, 0);
    KT_EXPECT_EQ(t, v->regs.ci, 0);
    KT_EXPECT_EQ(t, v->regs.sact, 0);
    KT_EXPECT_EQ(t, v->regs.ie, v->irq_mode == AHCI_IRQ_MSI ? AHCI_PxIE_IO : 0);
    KT_EXPECT_EQ(t, v->regs.tfd & (ATA_STS_BSY | ATA_STS_DRQ), 0);
}

static void ahci_disks_identified(struct ktest *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        struct ahci_test_view v;
        if (!is_ahci(d))
            continue;
        KT_ASSERT(t, view_of(t, d, &v));
        n++;
        ktest_diag(t, "%s: \"%s\" serial \"%s\" fw \"%s\" %llu x %u B, phys %u, NCQ depth %u, "
                   "caps 0x%x, %s", d->name, d->model, d->serial, d->firmware,
                   (unsigned long long)d->nblocks, d->block_size, d->phys_block_size,
                   d->queue_depth, d->caps, d->access);
        description_matches(t, d, &v);
        port_memory_laid_out(t, &v);
        port_running_idle(t, &v);
    }
    if (n == 0)
        ktest_skip(t, "no AHCI disk");
}

/* ---- data ---- */

/* Each size that the scratch range and the free memory hold, one after the
 * other at odd offsets (not all requests 4K aligned on disk), starting over at
 * the range's start when the next one would run past its end; the sizes left
 * out are named. */
static void ahci_round_trip_1_sector_to_6_mib(struct ktest *t)
{
    static const uint32_t sizes[] = { 1, 2, 7, 8, 255, 256, 257, 2048, 8192, 12288 };
    enum { NSIZES = sizeof(sizes) / sizeof(sizes[0]) };
    uint64_t span = 0;
    for (unsigned i = 0; i < NSIZES; i++)
        span += sizes[i] + 3;
    struct blk_dev *d = pick_disk(true, span);
    if (!d)
        d = disk_or_skip(t, true, 1);     /* the roomiest is good enough for some sizes */
    if (!d)
        return;
    uint64_t lba = case_lba(d, bt_min_u64(span, bt_scratch_blocks(d)));
    unsigned done = 0;
    uint32_t largest = 0;
    for (unsigned i = 0; i < NSIZES && !ktest_failed(t); i++) {
        if (sizes[i] > bt_scratch_blocks(d)) {
            ktest_diag(t, "%u sectors left out: the scratch range holds %llu", sizes[i],
                       (unsigned long long)bt_scratch_blocks(d));
            continue;
        }
        if (lba + sizes[i] > d->write_end)
            lba = d->write_first;
        if (!bt_round_trip(t, d, lba, sizes[i], 0xa0c1 + i)) {
            ktest_diag(t, "%u sectors left out: no DMA buffer of %llu KiB (%llu MiB free)", sizes[i],
                       (unsigned long long)((uint64_t)sizes[i] * d->block_size >> 10),
                       (unsigned long long)(memory_free_bytes() / MiB));
            continue;
        }
        lba += sizes[i] + 3;
        done++;
        largest = sizes[i];
    }
    if (!done) {
        ktest_skip(t, "%s: no size fits its scratch range and the free memory", d->name);
        return;
    }
    ktest_diag(t, "%s: %u sizes up to %u sectors (%llu KiB) written and read back", d->name, done,
               largest, (unsigned long long)(largest * (uint64_t)d->block_size >> 10));
}

/* 200 segments of uneven, even lengths at word- (not dword-) aligned
 * addresses, written through one segmentation and read through another. */
static void ahci_prdt_many_small_entries(struct ktest *t)
{
    enum { NSEG = 200 };
    static struct blk_seg wsegs[NSEG], rsegs[NSEG];
    uint32_t total = 0;
    struct rng r;
    rng_seed(&r, 77);
    uint32_t lens[NSEG];
    for (unsigned i = 0; i < NSEG; i++) {
        lens[i] = 2 * (uint32_t)rng_range(&r, 1, 700);
        total += lens[i];
    }
    /* At most this many blocks once padded (512-byte sectors are the smallest). */
    struct blk_dev *d = disk_or_skip(t, true, (total + 511) / 512);
    if (!d)
        return;
    /* Round the last segment up so the total is whole sectors. */
    uint32_t pad = (d->block_size - total % d->block_size) % d->block_size;
    lens[NSEG - 1] += pad;
    total += pad;
    uint32_t count = total / d->block_size;
    uint64_t lba = case_lba(d, count);

    /* Gaps of 6 bytes between the pieces: every piece starts 2 bytes past a dword. */
    struct dma_region w = bt_buffer(t, d, total + NSEG * 8 + 64), rd = bt_buffer(t, d, total + 64);
    struct dma_region flat = bt_buffer(t, d, total);
    struct blk_request req;
    if (!w.virt || !rd.virt || !flat.virt) {
        bt_skip_no_memory(t, 3ull * total);
        goto out;
    }
    uint64_t off = 2;
    bt_fill(flat.virt, total, 4242);
    uint64_t pos = 0;
    for (unsigned i = 0; i < NSEG; i++) {
        wsegs[i] = (struct blk_seg){ w.phys + off, lens[i], 0 };
        memcpy((uint8_t *)w.virt + off, (uint8_t *)flat.virt + pos, lens[i]);
        pos += lens[i];
        off += lens[i] + 6;
    }
    if (!bt_io_expect(t, d, &req, BLK_OP_WRITE, lba, count, wsegs, NSEG, 0, BLK_OK))
        goto out;
    /* Read back through a different cut: NSEG pieces of reversed lengths. */
    pos = 0;
    for (unsigned i = 0; i < NSEG; i++) {
        rsegs[i] = (struct blk_seg){ rd.phys + 2 + pos, lens[NSEG - 1 - i], 0 };
        pos += lens[NSEG - 1 - i];
    }
    memset(rd.virt, 0, total + 64);
    if (!bt_io_expect(t, d, &req, BLK_OP_READ, lba, count, rsegs, NSEG, 0, BLK_OK))
        goto out;
    int64_t at = bt_pattern_difference((uint8_t *)rd.virt + 2, total, 4242);
    if (at >= 0)
        KT_FAIL(t, "data differs at byte %lld of %u", (long long)at, total);
    KT_EXPECT_EQ(t, ((uint8_t *)rd.virt)[0], 0);        /* nothing before the first piece */
    KT_EXPECT_EQ(t, ((uint8_t *)rd.virt)[total + 2], 0); /* nor after the last */
    ktest_diag(t, "%u PRD entries, %u bytes (%u sectors)", NSEG, total, count);
out:
    if (w.virt)
        ktest_dma_free(t, &w);
    if (rd.virt)
        ktest_dma_free(t, &rd);
    if (flat.virt)
        ktest_dma_free(t, &flat);
}

/* 65536 + 256 sectors: more than one ATA command can carry. */
static void ahci_large_request_is_split(struct ktest *t)
{
    const uint32_t count = 65536 + 256;
    struct blk_dev *d = disk_or_skip(t, true, count);
    if (!d)
        return;
    struct ahci_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    if (!bt_round_trip(t, d, case_lba(d, count), count, 0x5117)) {
        bt_skip_no_memory(t, (uint64_t)count * d->block_size);
        return;
    }
    KT_ASSERT(t, view_of(t, d, &after));
    uint64_t parts = after.stats.parts - before.stats.parts;
    ktest_diag(t, "%u sectors (%llu MiB) took %llu commands (write + read)", count,
               (unsigned long long)((uint64_t)count * d->block_size / MiB),
               (unsigned long long)parts);
    KT_EXPECT_EQ(t, parts, 4);      /* 2 parts each way */
}

struct ncq_batch {
    struct blk_request req[32];
    struct blk_seg seg[32];
};

/* 32 writes, then 32 reads, each batch from one kick: 16 sectors each, 64
 * apart on disk in reverse order, closer and shorter when the scratch range
 * is small (32 blocks at the least, one per tag). */
static void ahci_ncq_32_tags_in_flight(struct ktest *t)
{
    static struct ncq_batch b;
    struct blk_dev *d = disk_or_skip(t, true, 32);
    if (!d)
        return;
    const uint32_t stride = (uint32_t)bt_min_u64(64, bt_scratch_blocks(d) / 32);
    const uint32_t count = stride < 16 ? stride : 16;
    const uint64_t first = case_lba(d, 31ull * stride + count);
    struct ahci_test_view before, after;
    if (!(d->caps & BLK_CAP_NCQ) || d->queue_depth < 32) {
        ktest_skip(t, "%s: queue depth %u (NCQ %s)", d->name, d->queue_depth,
                   d->caps & BLK_CAP_NCQ ? "yes" : "no");
        return;
    }
    uint64_t bytes = count * d->block_size;
    struct dma_region w = bt_buffer(t, d, 32 * bytes), r = bt_buffer(t, d, 32 * bytes);
    if (!w.virt || !r.virt) {
        bt_skip_no_memory(t, 64 * bytes);
        goto out;
    }
    bt_fill(w.virt, 32 * bytes, 3232);
    memset(r.virt, 0, 32 * bytes);
    for (int pass = 0; pass < 2; pass++) {
        struct dma_region *buf = pass == 0 ? &w : &r;
        ahci_test_clear_max_in_flight(d);
        if (!view_of(t, d, &before))
            goto out;
        for (unsigned i = 0; i < 32; i++) {
            struct blk_request *q = &b.req[i];
            memset(q, 0, sizeof(*q));
            /* Scattered on disk, `stride` sectors apart, in reverse order. */
            q->op = pass == 0 ? BLK_OP_WRITE : BLK_OP_READ;
            q->lba = first + (31 - i) * stride;
            q->count = count;
            b.seg[i] = (struct blk_seg){ buf->phys + i * bytes, (uint32_t)bytes, 0 };
            q->segs = &b.seg[i];
            q->nsegs = 1;
            if (!KT_EXPECT_EQ(t, blk_submit(d, q), BLK_OK)) {
                bt_drain_queued(d, 0, b.req, i);
                goto out;
            }
        }
        blk_kick(d, 0);     /* one doorbell for all 32 */
        for (unsigned i = 0; i < 32; i++) {
            enum blk_cause rc = blk_wait(d, &b.req[i], 0);
            if (rc != BLK_OK) {
                KT_FAIL(t, "tag %u: %s (%s)", i, blk_cause_name(rc), b.req[i].detail);
                blk_report_failure(d, &b.req[i], ktest_current());
            }
        }
        if (!view_of(t, d, &after))
            goto out;
        ktest_diag(t, "%s pass: %u commands in flight at once, %llu NCQ commands",
                   pass == 0 ? "write" : "read", after.stats.max_in_flight,
                   (unsigned long long)(after.stats.ncq_commands - before.stats.ncq_commands));
        KT_EXPECT_EQ(t, before.stats.max_in_flight, 0);
        KT_EXPECT_EQ(t, after.stats.max_in_flight, 32);
        KT_EXPECT_EQ(t, after.stats.ncq_commands - before.stats.ncq_commands, 32);
    }
    int64_t at = bt_pattern_difference(r.virt, 32 * bytes, 3232);
    if (at >= 0)
        KT_FAIL(t, "request %lld: data differs at byte %lld", (long long)(at / (int64_t)bytes),
                (long long)(at % (int64_t)bytes));
out:
    if (w.virt)
        ktest_dma_free(t, &w);
    if (r.virt)
        ktest_dma_free(t, &r);
}

static void ahci_flush(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, true, 1);
    struct blk_request req;
    if (!d)
        return;
    if (!(d->caps & BLK_CAP_FLUSH)) {
        ktest_skip(t, "%s has no FLUSH CACHE EXT", d->name);
        return;
    }
    uint32_t n = (uint32_t)bt_min_u64(8, bt_scratch_blocks(d));
    if (!bt_round_trip(t, d, case_lba(d, n), n, 1)) {
        bt_skip_no_memory(t, (uint64_t)n * d->block_size);
        return;
    }
    KT_EXPECT(t, bt_io_expect(t, d, &req, BLK_OP_FLUSH, 0, 0, NULL, 0, 0, BLK_OK));
}

static void ahci_fua_write(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, true, 1);
    if (!d)
        return;
    if (!(d->caps & BLK_CAP_FUA)) {
        ktest_skip(t, "%s: IDENTIFY word 84 bit 6 clear: no FUA", d->name);
        return;
    }
    uint32_t n = (uint32_t)bt_min_u64(8, bt_scratch_blocks(d));
    uint64_t bytes = (uint64_t)n * d->block_size, lba = case_lba(d, n);
    struct dma_region b = bt_buffer(t, d, bytes);
    struct blk_seg s = { b.phys, (uint32_t)bytes, 0 };
    struct blk_request req;
    if (!b.virt) {
        bt_skip_no_memory(t, bytes);
        return;
    }
    bt_fill(b.virt, bytes, 0xf0a);
    if (bt_io_expect(t, d, &req, BLK_OP_WRITE, lba, n, &s, 1, BLK_F_FUA, BLK_OK)) {
        memset(b.virt, 0xa5, bytes);
        if (bt_io_expect(t, d, &req, BLK_OP_READ, lba, n, &s, 1, 0, BLK_OK))
            KT_EXPECT(t, bt_pattern_difference(b.virt, bytes, 0xf0a) < 0);
    }
    ktest_dma_free(t, &b);
}

static void ahci_trim(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, true, 1);
    struct blk_request req;
    if (!d)
        return;
    if (!(d->caps & BLK_CAP_TRIM)) {
        ktest_skip(t, "%s: IDENTIFY word 169 bit 0 clear: no TRIM", d->name);
        return;
    }
    uint32_t n = (uint32_t)bt_min_u64(64, bt_scratch_blocks(d));
    uint64_t lba = case_lba(d, n), bytes = (uint64_t)n * d->block_size;
    if (!bt_round_trip(t, d, lba, n, 0x7e1)) {
        bt_skip_no_memory(t, bytes);
        return;
    }
    if (!bt_io_expect(t, d, &req, BLK_OP_TRIM, lba, n, NULL, 0, 0, BLK_OK))
        return;
    struct dma_region r = bt_buffer(t, d, bytes), old = bt_buffer(t, d, bytes);
    struct blk_seg sr = { r.phys, (uint32_t)bytes, 0 };
    if (!r.virt || !old.virt) {
        bt_skip_no_memory(t, 2 * bytes);
        return;
    }
    bt_fill(old.virt, bytes, 0x7e1);
    memset(r.virt, 0xa5, bytes);
    if (!bt_io_expect(t, d, &req, BLK_OP_READ, lba, n, &sr, 1, 0, BLK_OK))
        return;
    /* TRIM is advisory: DRAT+RZAT (word 69 bits 14 and 5) promise zeroes
     * only for the sectors the device did trim, and it may trim none. */
    unsigned zeroes = 0, kept = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *got = (const uint8_t *)r.virt + (uint64_t)i * d->block_size;
        const uint8_t *before = (const uint8_t *)old.virt + (uint64_t)i * d->block_size;
        if (stamp_first_nonzero(got, d->block_size) == d->block_size)
            zeroes++;
        else if (memcmp(got, before, d->block_size) == 0)
            kept++;
        else if (d->caps & BLK_CAP_TRIM_ZEROES)
            KT_FAIL(t, "%s: trimmed lba %llu reads neither zeroes nor its old data", d->name,
                    (unsigned long long)(lba + i));
    }
    ktest_diag(t, "%s: %u sectors trimmed: %u read back as zeroes, %u kept their data%s "
               "(TRIM_ZEROES %s)", d->name, n, zeroes, kept,
               kept ? ": deallocate not honoured (advisory)" : "",
               d->caps & BLK_CAP_TRIM_ZEROES ? "yes" : "no");
}

#define TWO_32 (1ull << 32)

/* The low LBA of a pair (low, low + 2^32) that the disk's scratch range
 * holds 8 blocks of each, or 0 when it holds no such pair. */
static uint64_t alias_pair(const struct blk_dev *d)
{
    if (!is_ahci(d) || bt_scratch_blocks(d) < TWO_32 + 8 || d->write_first + 8 > TWO_32)
        return 0;
    uint64_t low = d->write_first + bt_min_u64(1000, bt_scratch_blocks(d) - TWO_32 - 8);
    return low + 8 <= TWO_32 ? low : d->write_first;
}

/* LBA48 for real: an LBA above 2^32 and its alias modulo 2^32 keep apart.
 * Both inside a scratch range: a labelled disk's or a whole disk's. */
static void ahci_lba_beyond_2_32(struct ktest *t)
{
    struct blk_dev *d = NULL;
    uint64_t low = 0;
    for (unsigned i = 0; i < blk_count() && !d; i++)
        if ((low = alias_pair(blk_get(i))) != 0)
            d = blk_get(i);
    if (!d) {
        ktest_skip(t, "no writable AHCI disk whose scratch range holds an LBA below 2^32 and "
                   "the same LBA + 2^32 (over 2 TiB of 512-byte sectors; scenario: a 3 TiB "
                   "sparse image)");
        return;
    }
    uint64_t high = low + TWO_32, bytes = 8 * d->block_size;
    if (!bt_round_trip(t, d, low, 8, 0x10) || !bt_round_trip(t, d, high, 8, 0x11)) {
        bt_skip_no_memory(t, bytes);
        return;
    }
    /* The low copy must still hold its own data. */
    struct dma_region r = bt_buffer(t, d, bytes);
    struct blk_seg sr = { r.phys, (uint32_t)bytes, 0 };
    struct blk_request req;
    if (!r.virt) {
        bt_skip_no_memory(t, bytes);
        return;
    }
    if (bt_io_expect(t, d, &req, BLK_OP_READ, low, 8, &sr, 1, 0, BLK_OK))
        KT_EXPECT(t, bt_pattern_difference(r.virt, bytes, 0x10) < 0);
    ktest_diag(t, "%s: lba %llu and %llu round-tripped independently", d->name,
               (unsigned long long)high, (unsigned long long)low);
    ktest_dma_free(t, &r);
}

/* ---- errors ---- */

static bool read_works(struct ktest *t, struct blk_dev *d, uint64_t lba)
{
    struct dma_region r = bt_buffer(t, d, d->block_size);
    struct blk_seg s = { r.phys, d->block_size, 0 };
    struct blk_request req;
    bool ok = bt_io_expect(t, d, &req, BLK_OP_READ, lba, 1, &s, 1, 0, BLK_OK);
    ktest_dma_free(t, &r);
    return ok;
}

static void ahci_out_of_range_lba_decoded(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, false, 0);
    if (!d)
        return;
    struct dma_region r = bt_buffer(t, d, 8 * d->block_size);
    struct blk_seg s = { r.phys, 8 * d->block_size, 0 };
    struct blk_request req;
    struct ahci_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    enum blk_cause rc = blk_io(d, &req, BLK_OP_READ, d->nblocks + 10, 8, &s, 1, BLK_F_UNCHECKED);
    KT_ASSERT(t, view_of(t, d, &after));
    ktest_diag(t, "read at lba %llu (capacity %llu): %s, status 0x%x: %s",
               (unsigned long long)(d->nblocks + 10), (unsigned long long)d->nblocks,
               blk_cause_name(rc), req.dev_status, req.detail);
    if (d->capacity_clamped) {
        /* nblocks is 2^48: the driver itself must refuse what a FIS cannot carry. */
        KT_EXPECT_EQ(t, rc, BLK_CAUSE_LBA_RANGE);
        KT_EXPECT(t, !req.complete && strstr(req.detail, "2^48"));
        KT_EXPECT_EQ(t, after.stats.recoveries, before.stats.recoveries);
        ktest_dma_free(t, &r);
        return;
    }
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_LBA_RANGE);
    KT_EXPECT(t, req.dev_status & ATA_STS_ERR);
    KT_EXPECT(t, strstr(req.detail, "PxTFD STS"));
    KT_EXPECT(t, strstr(req.detail, "ERR"));
    KT_EXPECT(t, after.stats.recoveries > before.stats.recoveries);
    KT_EXPECT(t, !after.dead);
    ktest_dma_free(t, &r);
    KT_EXPECT(t, read_works(t, d, 0));      /* the port still works */
    /* ... and so do the other ports, untouched by this recovery. */
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *o = blk_get(i);
        if (o == d || !is_ahci(o) || !not_slow(o))
            continue;
        KT_ASSERT(t, view_of(t, o, &before));
        KT_EXPECT(t, read_works(t, o, 0));
        KT_ASSERT(t, view_of(t, o, &after));
        KT_EXPECT_EQ(t, after.stats.recoveries, before.stats.recoveries);
    }
}

/* Several NCQ reads from one kick, one of them past the end: only that one
 * fails (named by the NCQ error log, or, where the device refuses READ LOG
 * EXT as QEMU does, found by re-sending the others without NCQ); every other
 * tag completes with its data. */
static void ahci_ncq_error_fails_only_the_bad_tag(struct ktest *t)
{
    static struct ncq_batch b;
    enum { N = 12, BAD = 5 };
    struct blk_dev *d = disk_or_skip(t, false, N);
    if (!d)
        return;
    if (!(d->caps & BLK_CAP_NCQ)) {
        ktest_skip(t, "%s: no NCQ", d->name);
        return;
    }
    /* 8 sectors a request, fewer on a disk smaller than N * 8 sectors. */
    const uint32_t per = (uint32_t)bt_min_u64(8, d->nblocks / N);
    uint64_t bytes = per * d->block_size;
    struct dma_region r = bt_buffer(t, d, N * bytes), ref = bt_buffer(t, d, N * bytes);
    struct blk_seg s = { ref.phys, (uint32_t)(N * bytes), 0 };
    struct blk_request req;
    struct ahci_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    if (!r.virt || !ref.virt) {
        bt_skip_no_memory(t, 2 * N * bytes);
        goto out;
    }
    /* Reference copy of the good LBAs, read in one request. */
    if (!bt_io_expect(t, d, &req, BLK_OP_READ, 0, N * per, &s, 1, 0, BLK_OK))
        goto out;
    memset(r.virt, 0x5a, N * bytes);
    for (unsigned i = 0; i < N; i++) {
        struct blk_request *q = &b.req[i];
        memset(q, 0, sizeof(*q));
        q->op = BLK_OP_READ;
        q->lba = i == BAD ? d->nblocks + 100 : i * per;
        q->count = per;
        q->flags = i == BAD ? BLK_F_UNCHECKED : 0;
        b.seg[i] = (struct blk_seg){ r.phys + i * bytes, (uint32_t)bytes, 0 };
        q->segs = &b.seg[i];
        q->nsegs = 1;
        if (!KT_EXPECT_EQ(t, blk_submit(d, q), BLK_OK)) {
            bt_drain_queued(d, 0, b.req, i);
            goto out;
        }
    }
    blk_kick(d, 0);
    for (unsigned i = 0; i < N; i++) {
        enum blk_cause rc = blk_wait(d, &b.req[i], 0);
        if (i == BAD) {
            ktest_diag(t, "tag of lba %llu: %s: %s", (unsigned long long)b.req[i].lba,
                       blk_cause_name(rc), b.req[i].detail);
            KT_EXPECT_EQ(t, rc, BLK_CAUSE_LBA_RANGE);
            KT_EXPECT(t, b.req[i].dev_status & ATA_STS_ERR);
        } else if (rc != BLK_OK) {
            KT_FAIL(t, "request %u (lba %llu) failed with the bad one: %s (%s)", i,
                    (unsigned long long)b.req[i].lba, blk_cause_name(rc), b.req[i].detail);
        } else if (memcmp((uint8_t *)r.virt + i * bytes, (uint8_t *)ref.virt + i * bytes,
                          bytes) != 0) {
            KT_FAIL(t, "request %u (lba %llu): wrong data", i, (unsigned long long)b.req[i].lba);
        }
    }
    KT_ASSERT(t, view_of(t, d, &after));
    ktest_diag(t, "%s: NCQ error log read %u times, unusable %u times, %u requests re-sent",
               d->name, after.stats.ncq_log_reads, after.stats.ncq_log_unusable,
               after.stats.retries);
    KT_EXPECT_EQ(t, after.stats.ncq_log_reads + after.stats.ncq_log_unusable,
                 before.stats.ncq_log_reads + before.stats.ncq_log_unusable + 1);
    KT_EXPECT(t, read_works(t, d, 0));
out:
    if (r.virt)
        ktest_dma_free(t, &r);
    if (ref.virt)
        ktest_dma_free(t, &ref);
}

/* READ/WRITE DMA EXT (the non-queued path, which NCQ disks never take
 * otherwise): round trips of 1 sector and of 65536 + 8 sectors (the count
 * field's 0 = 65536 and a split), PxPRDBC equal to the bytes asked. */
static void ahci_nonqueued_commands(struct ktest *t)
{
    const uint32_t big = 65536 + 8;
    struct blk_dev *d = disk_or_skip(t, true, big + 1);
    if (!d)
        return;
    uint64_t lba = case_lba(d, big + 1);
    struct ahci_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    ahci_test_nonqueued(d, true);
    bool ran = bt_round_trip(t, d, lba + big, 1, 0xd1) && bt_round_trip(t, d, lba, big, 0xd2);
    ahci_test_nonqueued(d, false);
    if (!ran) {
        bt_skip_no_memory(t, (uint64_t)big * d->block_size);
        return;
    }
    KT_ASSERT(t, view_of(t, d, &after));
    ktest_diag(t, "%s: %llu commands, %llu of them NCQ", d->name,
               (unsigned long long)(after.stats.parts - before.stats.parts),
               (unsigned long long)(after.stats.ncq_commands - before.stats.ncq_commands));
    KT_EXPECT_EQ(t, after.stats.ncq_commands, before.stats.ncq_commands);
    KT_EXPECT_EQ(t, after.stats.parts - before.stats.parts, 2 + 4);
}

/* A PRDT one sector shorter than the command: the device stops early or
 * overflows; either way the request fails with the registers decoded, never
 * "ok" with missing data. Non-queued: PxPRDBC below the bytes asked
 * (AHCI 1.3.1 §4.2.2); NCQ: QEMU raises PxIS.OFS. */
static void ahci_short_prdt_detected(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, false, 8);
    if (!d)
        return;
    struct dma_region r = bt_buffer(t, d, 8 * d->block_size);
    struct blk_seg s = { r.phys, 8 * d->block_size, 0 };
    struct blk_request req;
    uint64_t lba = d->nblocks >= 24 ? 16 : 0;
    if (!r.virt) {
        bt_skip_no_memory(t, 8 * d->block_size);
        return;
    }
    for (int queued = 0; queued < 2; queued++) {
        if (queued && !(d->caps & BLK_CAP_NCQ))
            break;
        ahci_test_nonqueued(d, !queued);
        ahci_test_short_prdt(d, true);
        enum blk_cause rc = blk_io(d, &req, BLK_OP_READ, lba, 8, &s, 1, 0);
        ahci_test_short_prdt(d, false);
        ahci_test_nonqueued(d, false);
        ktest_diag(t, "%s, PRDT 7 of 8 sectors: %s, %llu bytes: %s",
                   queued ? "NCQ" : "non-queued", blk_cause_name(rc),
                   (unsigned long long)req.bytes, req.detail);
        KT_EXPECT(t, rc != BLK_OK);
        if (!queued) {
            KT_EXPECT_EQ(t, rc, BLK_CAUSE_DEVICE_ERROR);
            KT_EXPECT(t, strstr(req.detail, "short transfer: PRDBC") != NULL);
            KT_EXPECT(t, req.bytes < 8ull * d->block_size);
        } else {
            KT_EXPECT(t, strstr(req.detail, "PxIS") != NULL);
        }
        KT_EXPECT(t, read_works(t, d, lba));
    }
    ktest_dma_free(t, &r);
}

static void ahci_misaligned_segments_refused(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, false, 0);
    if (!d)
        return;
    struct dma_region r = bt_buffer(t, d, 2 * d->block_size);
    struct blk_seg odd_base[2] = { { r.phys + 1, 511, 0 }, { r.phys + 512, 1, 0 } };
    struct blk_seg odd_len[2] = { { r.phys, 511, 0 }, { r.phys + 512, 1, 0 } };
    struct blk_request req;
    KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, 1, odd_base, 2, 0), BLK_CAUSE_MISALIGNED);
    ktest_diag(t, "odd base: %s", req.detail);
    KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, 1, odd_len, 2, 0), BLK_CAUSE_MISALIGNED);
    ktest_diag(t, "odd length: %s", req.detail);
    ktest_dma_free(t, &r);
    KT_EXPECT(t, read_works(t, d, 0));
}

static struct blk_dev *faulty_disk(void)
{
    for (unsigned i = 0; i < blk_count(); i++)
        if (is_ahci(blk_get(i)) && strcmp(blk_get(i)->serial, SERIAL_FAULTY) == 0)
            return blk_get(i);
    return NULL;
}

/* The 8 blocks from lba lie where the case may write (or, reading only, on
 * the disk). */
static bool usable_at(const struct blk_dev *d, bool write, uint64_t lba)
{
    uint64_t first = write ? d->write_first : 0, end = write ? d->write_end : d->nblocks;
    return (!write || d->writable) && lba >= first && lba + 8 <= end;
}

static void check_injected(struct ktest *t, struct blk_dev *d, enum blk_op op, uint64_t lba)
{
    bool write = op == BLK_OP_WRITE;
    if (!usable_at(d, write, lba)) {
        ktest_skip(t, "the 8 sectors at lba %llu lie outside %s's %s", (unsigned long long)lba,
                   d->name, write ? "scratch range" : "capacity");
        return;
    }
    uint64_t bytes = 8 * d->block_size;
    struct dma_region b = bt_buffer(t, d, bytes);
    struct blk_seg s = { b.phys, (uint32_t)bytes, 0 };
    struct blk_request req;
    if (!b.virt) {
        bt_skip_no_memory(t, bytes);
        return;
    }
    bt_fill(b.virt, bytes, lba);
    enum blk_cause rc = blk_io(d, &req, op, lba, 8, &s, 1, 0);
    ktest_diag(t, "injected %s error at lba %llu: %s, error lba %llu, status 0x%x: %s",
               blk_op_name(op), (unsigned long long)lba, blk_cause_name(rc),
               (unsigned long long)req.error_lba, req.dev_status, req.detail);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_MEDIA);
    KT_EXPECT(t, req.error_lba >= lba && req.error_lba < lba + 8);
    KT_EXPECT(t, req.dev_status & ATA_STS_ERR);
    KT_EXPECT(t, strstr(req.detail, "in-range LBA"));
    ktest_dma_free(t, &b);
    /* The neighbourhood (after the bad LBA, else before it) and the port
     * still work: written where the disk may be written. */
    bool rewrite = write || d->writable;
    uint64_t near = usable_at(d, rewrite, lba + 64) ? lba + 64 : lba >= 72 ? lba - 72 : lba;
    if (!usable_at(d, rewrite, near) || near == lba)
        ktest_diag(t, "%s: no 8 sectors near lba %llu to check afterwards", d->name,
                   (unsigned long long)lba);
    else if (rewrite)
        KT_EXPECT(t, bt_round_trip(t, d, near, 8, near));
    else
        KT_EXPECT(t, read_works(t, d, near));
}

static void ahci_injected_read_error_reported(struct ktest *t)
{
    struct blk_dev *d = faulty_disk();
    if (!d || !ahci_test_read_error) {
        ktest_skip(t, "needs a disk with serial %s and ahci.test_read_error=LBA", SERIAL_FAULTY);
        return;
    }
    check_injected(t, d, BLK_OP_READ, ahci_test_read_error);
}

static void ahci_injected_write_error_reported(struct ktest *t)
{
    struct blk_dev *d = faulty_disk();
    if (!d || !ahci_test_write_error) {
        ktest_skip(t, "needs a disk with serial %s and ahci.test_write_error=LBA", SERIAL_FAULTY);
        return;
    }
    if (!d->writable) {
        ktest_skip(t, "%s is read-only: %s", d->name, d->access);
        return;
    }
    check_injected(t, d, BLK_OP_WRITE, ahci_test_write_error);
}

/* MSI mode: with the port's interrupt enables cleared, poll() must still
 * find the finished command (once) and say the interrupt never came. */
static void ahci_lost_interrupt_diagnosed(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, false, 0);
    if (!d)
        return;
    struct ahci_test_view masked, unmasked, after;
    KT_ASSERT(t, view_of(t, d, &unmasked));
    if (unmasked.irq_mode != AHCI_IRQ_MSI) {
        ktest_skip(t, "completions are polled (ahci.irq=poll): no interrupt to lose");
        return;
    }
    struct dma_region r = bt_buffer(t, d, d->block_size);
    struct blk_seg s = { r.phys, d->block_size, 0 };
    struct blk_request req;
    ahci_test_mask_irq(d, true);
    bool viewed = view_of(t, d, &masked);
    enum blk_cause rc = blk_io(d, &req, BLK_OP_READ, 0, 1, &s, 1, 0);
    ahci_test_mask_irq(d, false);
    KT_ASSERT(t, viewed && view_of(t, d, &unmasked));
    ktest_diag(t, "%s", req.detail);
    KT_EXPECT_EQ(t, masked.regs.ie, 0);
    KT_EXPECT_EQ(t, unmasked.regs.ie, AHCI_PxIE_IO);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_IRQ_NOT_DELIVERED);
    KT_EXPECT_EQ(t, unmasked.stats.irq_missed, masked.stats.irq_missed + 1);
    ktest_dma_free(t, &r);
    KT_EXPECT(t, read_works(t, d, 0));
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT(t, after.stats.irqs > unmasked.stats.irqs);     /* interrupts are back */
}

/* The completion mode in use really is the one that completed the I/O. */
static void ahci_completion_mode(struct ktest *t)
{
    struct blk_dev *d = disk_or_skip(t, false, 0);
    if (!d)
        return;
    struct ahci_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    for (int i = 0; i < 4; i++)
        KT_ASSERT(t, read_works(t, d, (uint64_t)i * 8 % d->nblocks));
    KT_ASSERT(t, view_of(t, d, &after));
    uint64_t irqs = after.stats.irqs - before.stats.irqs;
    ktest_diag(t, "%s: irq mode %s, %llu interrupts for 4 reads", d->name,
               after.irq_mode == AHCI_IRQ_MSI ? "msi" : "poll", (unsigned long long)irqs);
    if (after.irq_mode == AHCI_IRQ_MSI)
        KT_EXPECT(t, irqs >= 4);
    else
        KT_EXPECT_EQ(t, irqs, 0);
}

/* Explicit (tests=ahci.ahci_timeout_recovered): a throttled disk
 * (serial bareio-slow, QEMU throttling.iops-total=1) and a short
 * blk.timeout=: some commands time out, the others of the port are
 * aborted or complete, and the port works afterwards. */
static void ahci_timeout_recovered(struct ktest *t)
{
    static struct ncq_batch b;
    struct blk_dev *d = NULL;
    for (unsigned i = 0; i < blk_count(); i++)
        if (is_ahci(blk_get(i)) && !not_slow(blk_get(i)))
            d = blk_get(i);
    if (!d) {
        ktest_skip(t, "needs a throttled disk with serial %s", SERIAL_SLOW);
        return;
    }
    struct ahci_test_view before, after;
    unsigned n = 8, timeouts = 0, aborted = 0, ok = 0;
    if (d->nblocks < n * 8) {
        ktest_skip(t, "%s: %llu sectors, the case reads %u", d->name,
                   (unsigned long long)d->nblocks, n * 8);
        return;
    }
    uint64_t first = d->nblocks >= 1000 + n * 8 ? 1000 : 0;
    struct dma_region r = bt_buffer(t, d, n * 8 * d->block_size);
    if (!r.virt) {
        bt_skip_no_memory(t, n * 8 * d->block_size);
        return;
    }
    KT_ASSERT(t, view_of(t, d, &before));
    for (unsigned i = 0; i < n; i++) {
        struct blk_request *q = &b.req[i];
        memset(q, 0, sizeof(*q));
        q->op = BLK_OP_READ;
        q->lba = first + i * 8;
        q->count = 8;
        b.seg[i] = (struct blk_seg){ r.phys + i * 8 * d->block_size, 8 * d->block_size, 0 };
        q->segs = &b.seg[i];
        q->nsegs = 1;
        if (!KT_EXPECT_EQ(t, blk_submit(d, q), BLK_OK)) {
            bt_drain_queued(d, 0, b.req, i);
            return;
        }
    }
    blk_kick(d, 0);
    for (unsigned i = 0; i < n; i++) {
        enum blk_cause rc = blk_wait(d, &b.req[i], 0);
        ktest_diag(t, "read %u: %s %s", i, blk_cause_name(rc), b.req[i].detail);
        timeouts += rc == BLK_CAUSE_TIMEOUT;
        aborted += rc == BLK_CAUSE_ABORTED;
        ok += rc == BLK_OK;
        if (rc == BLK_CAUSE_TIMEOUT)
            KT_EXPECT(t, strstr(b.req[i].detail, "no completion within"));
    }
    ktest_dma_free(t, &r);
    KT_ASSERT(t, view_of(t, d, &after));
    ktest_diag(t, "%u timed out, %u aborted, %u completed; %u recoveries, timeout %u ms",
               timeouts, aborted, ok, after.stats.recoveries - before.stats.recoveries,
               d->timeout_ms);
    KT_EXPECT(t, timeouts >= 1);
    KT_EXPECT_EQ(t, timeouts + aborted + ok, n);
    KT_EXPECT(t, after.stats.recoveries > before.stats.recoveries);
    /* Afterwards the port works: one read, allowed to wait for the throttle. */
    d->timeout_ms *= 20;
    KT_EXPECT(t, read_works(t, d, 0));
    d->timeout_ms /= 20;
}

static const struct ktest_case ahci_cases[] = {
    KTEST_CASE(ahci_disks_identified),
    KTEST_CASE(ahci_completion_mode),
    KTEST_CASE_TIMEOUT(ahci_round_trip_1_sector_to_6_mib, 60000),
    KTEST_CASE_TIMEOUT(ahci_prdt_many_small_entries, 30000),
    KTEST_CASE_TIMEOUT(ahci_large_request_is_split, 120000),
    KTEST_CASE_TIMEOUT(ahci_ncq_32_tags_in_flight, 30000),
    KTEST_CASE(ahci_flush),
    KTEST_CASE(ahci_fua_write),
    KTEST_CASE(ahci_trim),
    KTEST_CASE_TIMEOUT(ahci_lba_beyond_2_32, 30000),
    KTEST_CASE_TIMEOUT(ahci_out_of_range_lba_decoded, 30000),
    KTEST_CASE_TIMEOUT(ahci_ncq_error_fails_only_the_bad_tag, 30000),
    KTEST_CASE_TIMEOUT(ahci_nonqueued_commands, 60000),
    KTEST_CASE_TIMEOUT(ahci_short_prdt_detected, 30000),
    KTEST_CASE(ahci_misaligned_segments_refused),
    KTEST_CASE_TIMEOUT(ahci_injected_read_error_reported, 30000),
    KTEST_CASE_TIMEOUT(ahci_injected_write_error_reported, 30000),
    KTEST_CASE_TIMEOUT(ahci_lost_interrupt_diagnosed, 30000),
    { .name = "ahci_timeout_recovered", .fn = ahci_timeout_recovered, .timeout_ms = 120000,
      .flags = KTEST_EXPLICIT },
};
KTEST_SUITE(ahci, 60, ahci_cases);
