/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_nvme.c — the `nvme` suite: every NVMe namespace the
 * driver registered, driven through the block interface. Data cases run on
 * every writable namespace (so 512- and 4096-byte LBA formats are both
 * covered when QEMU provides them), write only inside [write_first,
 * write_end) and check what comes back; read-only namespaces are skipped with
 * the reason. Sizes, LBAs, batch depths and buffers come from the namespace,
 * its scratch range, its limits (MDTS, queue depth) and the free memory; a
 * namespace that cannot host a case is passed over with the reason, and a
 * case no namespace can host skips with it. PRP cases check the entries the
 * driver built (through the driver's test hook) as well as the data. Negative cases check the decoded
 * status and that the queue keeps working afterwards. Fault cases (blkdebug
 * errors, a timeout under throttling) need their QEMU set-up and keys.
 * The driver is reached through the block interface, the helpers every
 * driver suite shares (blktest.h), and the driver's test view and named
 * hooks (struct nvme_test_view, nvme_test_*() in drivers/nvme/nvme.h): no
 * case reads or writes a driver struct. */
#include <stdarg.h>
#include "drivers/blk/blk.h"
#include "drivers/nvme/nvme.h"
#include "drivers/pci/pci.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "tests/harness/ktest.h"
#include "tests/kernel/blktest.h"

CMDLINE_STRING(nvme_test_error_dev, "test.nvme_error_dev", 16, "",
               "test only: the NVMe namespace with blkdebug-injected errors (e.g. nvme1n1)");
CMDLINE_UINT(uint64_t, nvme_test_read_error_lba, "test.nvme_read_error_lba", 0, 0, ~0ull,
             "test only: LBA whose reads fail (blkdebug read_aio), 0 for none");
CMDLINE_UINT(uint64_t, nvme_test_write_error_lba, "test.nvme_write_error_lba", 0, 0, ~0ull,
             "test only: LBA whose writes fail (blkdebug write_aio), 0 for none");

#define PAGE 4096u
#define MiB (1024u * 1024u)

/* ---- helpers ---- */

typedef void (*dev_case)(struct ktest *t, struct blk_dev *dev);

/* A device is an NVMe namespace when the NVMe driver's ops drive it. */
static bool is_nvme(const struct blk_dev *dev)
{
    return dev->ops == &nvme_blk_ops;
}

/* What the driver shows of dev's controller and of I/O queue `queue`; false
 * after failing the case when it shows nothing. */
static bool view_of(struct ktest *t, struct blk_dev *dev, unsigned queue,
                    struct nvme_test_view *v)
{
    if (nvme_test_view(dev, queue, v))
        return true;
    KT_FAIL(t, "%s: no NVMe test view of queue %u", dev->name, queue);
    return false;
}

/* A case runs on every writable namespace that can host it. One that cannot
 * (its scratch range, the namespace, its limits or the free memory too small
 * for what the case needs, a set-up the case is not about) is passed over with
 * the reason, through ns_skip(); a case no namespace could host skips with the
 * last reason given. */
static bool iterating, passed_over;
static char not_hosted[160];

static void ns_skip(struct ktest *t, struct blk_dev *dev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ns_skip(struct ktest *t, struct blk_dev *dev, const char *fmt, ...)
{
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(not_hosted, sizeof(not_hosted), "%s: %s", dev->name, why);
    if (!iterating) {
        ktest_skip(t, "%s", not_hosted);
        return;
    }
    ktest_diag(t, "%s passed over: %s", dev->name, why);
    passed_over = true;
}

/* Runs fn on every writable NVMe namespace; skips when there is none, or
 * when none could host the case. */
static void for_each_writable(struct ktest *t, dev_case fn)
{
    unsigned writable = 0, ran = 0;
    not_hosted[0] = '\0';
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *dev = blk_get(i);
        if (!is_nvme(dev))
            continue;
        if (!dev->writable) {
            ktest_diag(t, "%s skipped: %s", dev->name, dev->access);
            continue;
        }
        writable++;
        ktest_diag(t, "%s: %u-byte blocks, max transfer %u blocks, %u queues", dev->name,
                   dev->block_size, dev->max_transfer, dev->nqueues);
        iterating = true;
        passed_over = false;
        fn(t, dev);
        iterating = false;
        ran += !passed_over;
    }
    if (!writable)
        ktest_skip(t, "no writable NVMe namespace (give allow_write=SERIAL)");
    else if (!ran && !ktest_failed(t))
        ktest_skip(t, "no namespace can host it (%s)", not_hosted);
}

/* A DMA buffer of `bytes`, or false after passing the namespace over (the
 * free memory cannot give it; the allocator is not asked for more than is
 * free, which it would log as an error). */
static bool buffer_or_skip(struct ktest *t, struct blk_dev *dev, uint64_t bytes,
                           struct dma_region *out)
{
    *out = bt_buffer(t, dev, bytes);
    if (!out->virt)
        ns_skip(t, dev, "no %llu KiB of contiguous DMA memory (%llu MiB free)",
                (unsigned long long)(bytes >> 10),
                (unsigned long long)(memory_free_bytes() / MiB));
    return out->virt != NULL;
}

static bool all_zero(const void *buf, uint64_t bytes) { return bt_all_bytes(buf, bytes, 0); }
static bool all_ones(const void *buf, uint64_t bytes) { return bt_all_bytes(buf, bytes, 0xff); }

/* Where a case writes `blocks` blocks: some way into the scratch range when
 * it has room, else at its start. */
static uint64_t data_lba(struct blk_dev *dev, uint32_t blocks)
{
    uint64_t lba = dev->write_first + 64;
    if (lba + blocks > dev->write_end)
        lba = dev->write_first;
    return lba;
}

/* The scratch range holds `blocks`, or the namespace is passed over. */
static bool room_or_skip(struct ktest *t, struct blk_dev *dev, uint64_t blocks)
{
    if (blocks <= bt_scratch_blocks(dev))
        return true;
    ns_skip(t, dev, "scratch range of %llu blocks cannot hold the %llu blocks the case writes",
            (unsigned long long)bt_scratch_blocks(dev), (unsigned long long)blocks);
    return false;
}

/* The namespace holds `blocks` (for cases that only read), or it is passed over. */
static bool capacity_or_skip(struct ktest *t, struct blk_dev *dev, uint64_t blocks)
{
    if (blocks <= dev->nblocks)
        return true;
    ns_skip(t, dev, "%llu blocks cannot hold the %llu blocks the case reads",
            (unsigned long long)dev->nblocks, (unsigned long long)blocks);
    return false;
}

/* Write a pattern through `wsegs`, read back through one contiguous buffer.
 * False when the namespace was passed over (no memory for the read buffer). */
static bool write_read_check(struct ktest *t, struct blk_dev *dev, uint64_t lba, uint32_t blocks,
                             const struct blk_seg *wsegs, uint32_t nsegs, void *const *wvirt,
                             uint32_t seed)
{
    struct blk_request req;
    uint64_t bytes = (uint64_t)blocks * dev->block_size;
    struct dma_region rd;
    if (!buffer_or_skip(t, dev, bytes, &rd))
        return false;
    /* The pattern, made whole in the read buffer, copied piece by piece into
     * the write segments (a segment may hold part of a block); then the read
     * buffer is cleared for the read. */
    bt_fill_lba(rd.virt, lba, blocks, dev->block_size, seed);
    uint64_t off = 0;
    for (uint32_t i = 0; i < nsegs; i++) {
        memcpy(wvirt[i], (uint8_t *)rd.virt + off, wsegs[i].len);
        off += wsegs[i].len;
    }
    memset(rd.virt, 0, bytes);
    struct blk_seg rs = { rd.phys, (uint32_t)bytes, 0 };
    if (bt_io_expect(t, dev, &req, BLK_OP_WRITE, lba, blocks, wsegs, nsegs, 0, BLK_OK) &&
        bt_io_expect(t, dev, &req, BLK_OP_READ, lba, blocks, &rs, 1, 0, BLK_OK)) {
        int64_t bad = bt_lba_pattern_difference(rd.virt, lba, blocks, dev->block_size, seed);
        if (bad >= 0)
            KT_FAIL(t, "%s: block %lld of %u read back differs from what was written", dev->name,
                    (long long)bad, blocks);
        KT_EXPECT_EQ(t, req.bytes, bytes);
    }
    ktest_dma_free(t, &rd);
    return true;
}

/* ---- cases ---- */

static void nvme_namespaces_registered(struct ktest *t)
{
    unsigned found = 0;
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *dev = blk_get(i);
        struct nvme_test_view v;
        if (!is_nvme(dev))
            continue;
        if (!view_of(t, dev, 0, &v))
            return;
        char want[16];
        snprintf(want, sizeof(want), "%sn%u", v.ctrl_name, v.nsid);
        KT_EXPECT_STREQ(t, dev->name, want);
        /* Any LBA format from 512 bytes to 64 KiB, a power of two (NVM Command
         * Set 1.0 §4.1.5.1: LBADS >= 9); the driver leaves out the others. */
        KT_EXPECT(t, dev->block_size >= 512 && dev->block_size <= 65536 &&
                     !(dev->block_size & (dev->block_size - 1)));
        KT_EXPECT(t, dev->nblocks > 0);
        KT_EXPECT_EQ(t, dev->caps & (BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64),
                     BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64);
        KT_EXPECT_EQ(t, dev->addr_align, 4);
        KT_EXPECT_EQ(t, dev->nqueues, v.nio);
        KT_EXPECT_EQ(t, (uint64_t)dev->max_transfer * dev->block_size, v.max_transfer_bytes);
        KT_EXPECT(t, dev->queue_depth + 1u == v.queue_depth);
        ktest_diag(t, "%s nsid %u: %llu x %u B, serial %s, %s", dev->name, v.nsid,
                   (unsigned long long)dev->nblocks, dev->block_size, dev->serial, dev->access);
        found++;
    }
    if (!found)
        ktest_skip(t, "no NVMe namespace");
}

static void one_lba(struct ktest *t, struct blk_dev *dev)
{
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    void *v[1] = { b.virt };
    write_read_check(t, dev, data_lba(dev, 1), 1, &s, 1, v, 1);
    ktest_dma_free(t, &b);
}
static void nvme_read_write_one_lba(struct ktest *t) { for_each_writable(t, one_lba); }

static void across_mdts(struct ktest *t, struct blk_dev *dev)
{
    uint32_t limit = (6 * MiB) / dev->block_size;
    uint32_t sizes[] = { 1, 8192 / dev->block_size, dev->max_transfer, dev->max_transfer + 1,
                         3 * dev->max_transfer + 5, limit };
    unsigned done = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint32_t blocks = sizes[i] > limit ? limit : sizes[i];
        if (!blocks)
            continue;                       /* 8 KiB in blocks larger than that */
        uint64_t lba = data_lba(dev, blocks);
        if (lba + blocks > dev->write_end) {
            ktest_diag(t, "%s: %u blocks left out: the scratch range holds %llu", dev->name,
                       blocks, (unsigned long long)bt_scratch_blocks(dev));
            continue;
        }
        struct dma_region b;
        if (!buffer_or_skip(t, dev, (uint64_t)blocks * dev->block_size, &b))
            return;
        struct blk_seg s = { b.phys, (uint32_t)b.size, 0 };
        void *v[1] = { b.virt };
        struct nvme_test_view before, after;
        if (!view_of(t, dev, 0, &before) ||
            !write_read_check(t, dev, lba, blocks, &s, 1, v, 10 + i) ||
            !view_of(t, dev, 0, &after)) {
            ktest_dma_free(t, &b);
            return;
        }
        done++;
        uint64_t parts = (blocks + dev->max_transfer - 1) / dev->max_transfer;
        /* The write and the read were split the same way. */
        KT_EXPECT_EQ(t, after.queue.commands - before.queue.commands, 2 * parts);
        ktest_diag(t, "%s: %u blocks in %llu command(s) each way", dev->name, blocks,
                   (unsigned long long)parts);
        ktest_dma_free(t, &b);
    }
    if (!done)
        ns_skip(t, dev, "no size fits the scratch range of %llu blocks",
                (unsigned long long)bt_scratch_blocks(dev));
}
static void nvme_transfers_across_mdts(struct ktest *t) { for_each_writable(t, across_mdts); }

static void prp_offset(struct ktest *t, struct blk_dev *dev)
{
    /* One block starting 0x200 into a page: PRP1 carries the offset; a block
     * running into the next page puts it in PRP2, one running over further
     * pages (blocks of 8 KiB and more) makes PRP2 point to a list of them. */
    uint32_t pages = (0x200 + dev->block_size + PAGE - 1) / PAGE;
    struct dma_region b;
    static uint64_t list[17];               /* up to 64 KiB blocks: 16 more pages */
    if (pages - 1 > sizeof(list) / sizeof(list[0])) {
        ns_skip(t, dev, "a %u-byte block spans more pages than the case looks at", dev->block_size);
        return;
    }
    if (!buffer_or_skip(t, dev, (uint64_t)pages * PAGE, &b))
        return;
    struct blk_seg s = { b.phys + 0x200, dev->block_size, 0 };
    void *v[1] = { (uint8_t *)b.virt + 0x200 };
    struct nvme_sqe sqe;
    uint32_t n;
    struct blk_request req;
    if (!write_read_check(t, dev, data_lba(dev, 1), 1, &s, 1, v, 3)) {
        ktest_dma_free(t, &b);
        return;
    }
    /* Read again to look at the read command's PRPs (with SGLs off: a block
     * over two pages would go as one SGL data block). */
    bool sgl_was = false;
    nvme_test_set_sgl(dev, false, &sgl_was);
    bool read = bt_io_expect(t, dev, &req, BLK_OP_READ, data_lba(dev, 1), 1, &s, 1, 0, BLK_OK);
    nvme_test_set_sgl(dev, sgl_was, &sgl_was);
    KT_ASSERT(t, read);
    KT_ASSERT(t, nvme_test_last_command(dev, &req, &sqe, list, 17, &n));
    KT_EXPECT_EQ(t, sqe.prp1, b.phys + 0x200);
    if (pages <= 2) {
        KT_EXPECT_EQ(t, sqe.prp2, pages == 2 ? b.phys + PAGE : 0);
    } else {
        KT_EXPECT(t, sqe.prp2 != b.phys + PAGE);
        KT_EXPECT_EQ(t, n, pages - 1);
        for (uint32_t i = 0; i < n && i < pages - 1; i++)
            KT_EXPECT_EQ(t, list[i], b.phys + (uint64_t)(i + 1) * PAGE);
    }
    KT_EXPECT(t, bt_lba_pattern_difference((uint8_t *)b.virt + 0x200, data_lba(dev, 1), 1,
                                           dev->block_size, 3) < 0);
    ktest_dma_free(t, &b);
}
static void nvme_prp_offset_prp1(struct ktest *t) { for_each_writable(t, prp_offset); }

/* `npages` separate pages (every other page of a region), as segments. */
static void scattered(struct ktest *t, struct blk_dev *dev, uint32_t npages, bool check_list)
{
    uint64_t bytes = (uint64_t)npages * PAGE;
    if (bytes % dev->block_size) {
        ns_skip(t, dev, "%u pages are not whole %u-byte blocks", npages, dev->block_size);
        return;
    }
    if (bytes > (uint64_t)dev->max_transfer * dev->block_size) {
        ns_skip(t, dev, "%u pages are more than one command carries (max transfer %llu bytes)",
                npages, (unsigned long long)dev->max_transfer * dev->block_size);
        return;
    }
    if (!room_or_skip(t, dev, bytes / dev->block_size))
        return;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, 2 * bytes, &b))
        return;
    struct blk_seg segs[8];
    void *v[8];
    for (uint32_t i = 0; i < npages; i++) {
        uint32_t slot = npages - 1 - i;         /* descending addresses */
        segs[i] = (struct blk_seg){ b.phys + (uint64_t)slot * 2 * PAGE, PAGE, 0 };
        v[i] = (uint8_t *)b.virt + (uint64_t)slot * 2 * PAGE;
    }
    uint32_t blocks = npages * PAGE / dev->block_size;
    uint64_t lba = data_lba(dev, blocks);
    if (!write_read_check(t, dev, lba, blocks, segs, npages, v, 20 + npages)) {
        ktest_dma_free(t, &b);
        return;
    }
    /* Read through the scattered pages too and look at the PRPs. */
    struct blk_request req;
    struct nvme_sqe sqe;
    uint64_t list[8];
    uint32_t n;
    memset(b.virt, 0, b.size);
    KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, lba, blocks, segs, npages, 0, BLK_OK));
    KT_ASSERT(t, nvme_test_last_command(dev, &req, &sqe, list, 8, &n));
    KT_EXPECT_EQ(t, sqe.prp1, segs[0].phys);
    if (!check_list) {
        KT_EXPECT_EQ(t, sqe.prp2, segs[1].phys);
        KT_EXPECT_EQ(t, n, 0);
    } else {
        KT_EXPECT(t, sqe.prp2 % 8 == 0 && sqe.prp2 != segs[1].phys);
        /* The list is in the command slot's page, allocated with the queue. */
        struct nvme_test_view q;
        KT_ASSERT(t, view_of(t, dev, 0, &q));
        KT_EXPECT(t, sqe.prp2 >= q.queue.prp_pages_phys &&
                     sqe.prp2 + PAGE <= q.queue.prp_pages_phys + q.queue.prp_pages_bytes);
        KT_EXPECT_EQ(t, n, npages - 1);
        for (uint32_t i = 1; i < npages && i - 1 < n; i++)
            KT_EXPECT_EQ(t, list[i - 1], segs[i].phys);
    }
    for (uint32_t i = 0; i < npages; i++) {
        uint32_t per = PAGE / dev->block_size;
        if (bt_lba_pattern_difference(v[i], lba + (uint64_t)i * per, per, dev->block_size,
                                      20 + npages) >= 0)
            KT_FAIL(t, "%s: page %u of the scattered read holds the wrong data", dev->name, i);
    }
    ktest_dma_free(t, &b);
}
static void two_pages(struct ktest *t, struct blk_dev *dev) { scattered(t, dev, 2, false); }
/* Five pages, fewer when one command carries fewer (MDTS): three at the least,
 * PRP1 and a list of two; with two pages a command there is no list to build.
 * Whole blocks: with blocks larger than 5 pages, one block's pages. */
static void list_page(struct ktest *t, struct blk_dev *dev)
{
    uint64_t max_bytes = (uint64_t)dev->max_transfer * dev->block_size;
    uint32_t max_pages = (uint32_t)bt_min_u64(8, max_bytes / PAGE), npages = 5;
    if (max_pages < 3) {
        ns_skip(t, dev, "max transfer %llu bytes (%llu pages a command) needs no PRP list",
                (unsigned long long)max_bytes, (unsigned long long)(max_bytes / PAGE));
        return;
    }
    while (npages >= 3 && (npages > max_pages || (uint64_t)npages * PAGE % dev->block_size))
        npages--;
    if (npages < 3)
        npages = dev->block_size / PAGE;
    if (npages < 3 || npages > max_pages) {
        ns_skip(t, dev, "no 3 to %u pages make whole %u-byte blocks", max_pages, dev->block_size);
        return;
    }
    scattered(t, dev, npages, true);
}
static void nvme_prp_exactly_two_pages(struct ktest *t) { for_each_writable(t, two_pages); }
static void nvme_prp_one_list_page(struct ktest *t) { for_each_writable(t, list_page); }

/* A buffer of `bytes` starting 0x200 into its first page (so PRP1 has an
 * offset), written to and read back from fresh scratch blocks with pattern
 * `seed`: the segment, where its data starts, and the LBA and block count.
 * false (skipped or failed, the buffer freed) when that could not be done. */
struct offset_io {
    struct dma_region b;
    struct blk_seg s;
    void *v[1];
    uint64_t lba;
    uint32_t blocks;
};
static bool offset_buffer_written(struct ktest *t, struct blk_dev *dev, uint64_t bytes,
                                  uint8_t seed, struct offset_io *o)
{
    o->blocks = (uint32_t)(bytes / dev->block_size);
    o->lba = data_lba(dev, o->blocks);
    if (!room_or_skip(t, dev, o->blocks) || !buffer_or_skip(t, dev, bytes + PAGE, &o->b))
        return false;
    o->s = (struct blk_seg){ o->b.phys + 0x200, (uint32_t)bytes, 0 };
    o->v[0] = (uint8_t *)o->b.virt + 0x200;
    if (!write_read_check(t, dev, o->lba, o->blocks, &o->s, 1, o->v, seed)) {
        ktest_dma_free(t, &o->b);
        return false;
    }
    return true;
}

/* Reads o's blocks again into its (cleared) buffer and takes that read's
 * command as sent, with up to `max` PRP list entries. */
static bool reread_command(struct ktest *t, struct blk_dev *dev, struct offset_io *o,
                           struct nvme_sqe *sqe, uint64_t *list, uint32_t max, uint32_t *n)
{
    struct blk_request req;
    memset(o->b.virt, 0, o->b.size);
    return bt_io_expect(t, dev, &req, BLK_OP_READ, o->lba, o->blocks, &o->s, 1, 0, BLK_OK) &&
           KT_EXPECT(t, nvme_test_last_command(dev, &req, sqe, list, max, n));
}

static void chained(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view view;
    if (!view_of(t, dev, 0, &view))
        return;
    uint32_t per_page = PAGE / 8;
    /* 3 MiB from offset 0x200: 769 PRP entries, 768 in two chained list
     * pages (511 + chain pointer, 257). QEMU 7.2 fails commands with more
     * than 1024 entries (its IOV_MAX) with "internal error", so three list
     * pages are covered by the host tests only. */
    uint64_t bytes = 3ull * MiB;
    if (view.max_transfer_bytes < bytes) {
        ns_skip(t, dev, "max transfer %u bytes is below 3 MiB (QEMU: mdts=0 or >= 10)",
                view.max_transfer_bytes);
        return;
    }
    struct offset_io o;
    if (!offset_buffer_written(t, dev, bytes, 40, &o))
        return;
    struct nvme_sqe sqe;
    static uint64_t list[1100];
    uint32_t n = 0;
    /* One buffer would go as one SGL data block: this case is about PRPs. */
    bool sgl_was = false;
    nvme_test_set_sgl(dev, false, &sgl_was);
    bool read = reread_command(t, dev, &o, &sqe, list, 1100, &n);
    nvme_test_set_sgl(dev, sgl_was, &sgl_was);
    if (read) {
        KT_EXPECT(t, !(sqe.cdw0 & NVME_SQE_PSDT_SGL));
        KT_EXPECT_EQ(t, sqe.prp1, o.b.phys + 0x200);
        KT_EXPECT_EQ(t, n, 768 + 1);            /* 768 data entries, 1 chain pointer */
        uint64_t want = o.b.phys + PAGE;
        for (uint32_t i = 0; i < n; i++) {
            if (i % per_page == per_page - 1 && i + 1 < n) {
                KT_EXPECT(t, list[i] % PAGE == 0 && list[i] != want);   /* chain to a list page */
                continue;
            }
            if (list[i] != want) {
                KT_FAIL(t, "list entry %u is 0x%llx, expected 0x%llx", i,
                        (unsigned long long)list[i], (unsigned long long)want);
                break;
            }
            want += PAGE;
        }
        KT_EXPECT(t, bt_lba_pattern_difference(o.v[0], o.lba, o.blocks, dev->block_size, 40) < 0);
    }
    ktest_dma_free(t, &o.b);
}
/* A buffer over two pages goes as one SGL Data Block descriptor (NVMe 1.4
 * §4.4) when the controller has SGLs: CDW0.PSDT 01b, the address and the
 * length in the data pointer, type 0h; the data is right both ways. With
 * nvme.sgl=off the same transfer is a PRP list. */
static void sgl_block(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view view;
    bool on = false, ignored;
    if (!view_of(t, dev, 0, &view) || !nvme_test_set_sgl(dev, true, &on)) {
        ns_skip(t, dev, "the controller has no SGLs (Identify SGLS bits 1:0 are 0)");
        return;
    }
    nvme_test_set_sgl(dev, on, &ignored);       /* back as the command line left it */
    /* One command (at most max transfer), over two pages (else PRPs). */
    uint64_t bytes = 64 * 1024;
    if (bytes > view.max_transfer_bytes)
        bytes = view.max_transfer_bytes / dev->block_size * dev->block_size;
    if (bytes <= 2 * PAGE || bytes < dev->block_size) {
        ns_skip(t, dev, "max transfer %u bytes: no single command over two pages, where an SGL "
                "data block would be used", view.max_transfer_bytes);
        return;
    }
    struct offset_io o;
    if (!offset_buffer_written(t, dev, bytes, 41, &o))
        return;
    struct nvme_sqe sqe;
    uint64_t l[1];
    uint32_t n;
    if (reread_command(t, dev, &o, &sqe, l, 1, &n)) {
        KT_EXPECT_EQ(t, sqe.prp1, o.s.phys);
        if (on) {
            KT_EXPECT_EQ(t, sqe.cdw0 & (3u << 14), NVME_SQE_PSDT_SGL);
            KT_EXPECT_EQ(t, sqe.prp2, bytes | (uint64_t)NVME_SGL_DATA_BLOCK << 56);
        } else {
            KT_EXPECT_EQ(t, sqe.cdw0 & (3u << 14), 0);
            KT_EXPECT(t, n == 1 && l[0] == o.b.phys + PAGE);
        }
        KT_EXPECT(t, bt_lba_pattern_difference(o.v[0], o.lba, o.blocks, dev->block_size, 41) < 0);
        ktest_diag(t, "%s: %llu KiB read as %s", dev->name, (unsigned long long)(bytes >> 10),
                   on ? "one SGL data block" : "a PRP list");
    }
    ktest_dma_free(t, &o.b);
}
static void nvme_sgl_data_block(struct ktest *t) { for_each_writable(t, sgl_block); }

static void nvme_prp_chained_list(struct ktest *t)
{
    for_each_writable(t, chained);
}

static void prp_rules(struct ktest *t, struct blk_dev *dev)
{
    uint32_t bs = dev->block_size;
    if (bs > PAGE) {
        ns_skip(t, dev, "%u-byte blocks: these segment layouts are for blocks up to a page", bs);
        return;
    }
    /* Refused before the device sees them, but the block layer checks the
     * LBA range first: the reads must fit the namespace. */
    struct dma_region b;
    if (!capacity_or_skip(t, dev, (PAGE + 0x1000) / bs) || !buffer_or_skip(t, dev, 4 * PAGE, &b))
        return;
    struct blk_request req;
    /* A later segment that starts inside a page. */
    struct blk_seg late[2] = { { b.phys, PAGE, 0 }, { b.phys + 2 * PAGE + 0x200, bs, 0 } };
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, 0, (PAGE + bs) / bs, late, 2, 0),
                 BLK_CAUSE_MISALIGNED);
    KT_EXPECT(t, strstr(req.detail, "PRP rule") && strstr(req.detail, "segment 1"));
    ktest_diag(t, "%s", req.detail);
    /* A first segment that ends inside a page, with another after it. */
    struct blk_seg mid[2] = { { b.phys, bs == PAGE ? PAGE + 0x800 : 0x800, 0 },
                              { b.phys + 2 * PAGE, bs == PAGE ? 0x800 : PAGE, 0 } };
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, 0, (mid[0].len + mid[1].len) / bs, mid, 2, 0),
                 BLK_CAUSE_MISALIGNED);
    KT_EXPECT(t, strstr(req.detail, "PRP rule") && strstr(req.detail, "segment 0"));
    ktest_diag(t, "%s", req.detail);
    ktest_dma_free(t, &b);
}
static void nvme_prp_rules_refused(struct ktest *t) { for_each_writable(t, prp_rules); }

#define BATCH 16
/* BATCH reads from one kick: one doorbell. As many as the queue takes at once
 * (a fuller queue rings again as entries free up) and the scratch range holds,
 * two at the least. */
static void batched(struct ktest *t, struct blk_dev *dev)
{
    unsigned n = (unsigned)bt_min_u64(bt_min_u64(BATCH, dev->queue_depth), bt_scratch_blocks(dev));
    if (n < 2) {
        ns_skip(t, dev, "queue depth %u, scratch range of %llu blocks: no batch of two",
                dev->queue_depth, (unsigned long long)bt_scratch_blocks(dev));
        return;
    }
    struct dma_region b;
    if (!buffer_or_skip(t, dev, (uint64_t)n * dev->block_size, &b))
        return;
    static struct blk_request reqs[BATCH];
    struct blk_seg segs[BATCH];
    uint64_t lba = data_lba(dev, n);
    struct blk_request w;
    struct blk_seg all = { b.phys, (uint32_t)b.size, 0 };
    bt_fill_lba(b.virt, lba, n, dev->block_size, 50);
    KT_ASSERT(t, bt_io_expect(t, dev, &w, BLK_OP_WRITE, lba, n, &all, 1, 0, BLK_OK));
    memset(b.virt, 0, b.size);
    struct nvme_test_view before, queued, after;
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    if (bt_queue_batch(t, dev, BLK_OP_READ, lba, 1, b.phys, reqs, segs, n) < n)
        return;
    if (view_of(t, dev, 0, &queued))                    /* nothing rung before the kick */
        KT_EXPECT_EQ(t, queued.queue.sq_doorbell_writes, before.queue.sq_doorbell_writes);
    uint64_t dma = dma_outstanding();
    blk_kick(dev, 0);
    for (unsigned i = 0; i < n; i++)
        KT_EXPECT_EQ(t, blk_wait(dev, &reqs[i], 0), BLK_OK);
    KT_EXPECT_EQ(t, dma_outstanding(), dma);            /* no memory taken per I/O */
    if (view_of(t, dev, 0, &after)) {
        KT_EXPECT_EQ(t, after.queue.commands - before.queue.commands, n);
        /* one doorbell for the batch */
        KT_EXPECT_EQ(t, after.queue.sq_doorbell_writes - before.queue.sq_doorbell_writes, 1);
    }
    KT_EXPECT(t, bt_lba_pattern_difference(b.virt, lba, n, dev->block_size, 50) < 0);
    ktest_diag(t, "%s: batch of %u reads, one doorbell (queue depth %u)", dev->name, n,
               dev->queue_depth);
    ktest_dma_free(t, &b);
}
static void nvme_batched_submission_one_doorbell(struct ktest *t) { for_each_writable(t, batched); }

static void every_queue(struct ktest *t, struct blk_dev *dev)
{
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    /* A block per queue, shared when the scratch range has fewer (one queue
     * at a time: each reads what it wrote). */
    uint64_t span = bt_min_u64(dev->nqueues, bt_scratch_blocks(dev));
    uint64_t first = data_lba(dev, (uint32_t)span);
    for (unsigned qi = 0; qi < dev->nqueues; qi++) {
        struct nvme_test_view before, after;
        KT_ASSERT(t, view_of(t, dev, qi, &before));
        uint64_t lba = first + qi % span;
        struct blk_request req;
        bt_fill_lba(b.virt, lba, 1, dev->block_size, 60 + qi);
        memset(&req, 0, sizeof(req));
        req.op = BLK_OP_WRITE;
        req.queue = (uint16_t)qi;
        req.lba = lba;
        req.count = 1;
        req.segs = &s;
        req.nsegs = 1;
        KT_ASSERT_EQ(t, blk_submit(dev, &req), BLK_OK);
        blk_kick(dev, qi);
        KT_EXPECT_EQ(t, blk_wait(dev, &req, 0), BLK_OK);
        memset(b.virt, 0, dev->block_size);
        req.op = BLK_OP_READ;
        KT_ASSERT_EQ(t, blk_submit(dev, &req), BLK_OK);
        blk_kick(dev, qi);
        KT_EXPECT_EQ(t, blk_wait(dev, &req, 0), BLK_OK);
        KT_EXPECT(t, bt_lba_pattern_difference(b.virt, lba, 1, dev->block_size, 60 + qi) < 0);
        KT_ASSERT(t, view_of(t, dev, qi, &after));
        const struct nvme_test_queue_view *q = &after.queue;
        uint64_t irqs = q->interrupts - before.queue.interrupts;
        KT_EXPECT_EQ(t, q->completed - before.queue.completed, 2);
        if (q->irq_mode != NVME_IRQ_POLL)
            KT_EXPECT(t, irqs > 0);                 /* completions came by interrupt */
        ktest_diag(t, "%s queue %u (%s): %llu %s", dev->name, q->qid,
                   q->irq_mode == NVME_IRQ_MSIX ? "msix" : q->irq_mode == NVME_IRQ_INTX
                   ? "intx-polled" : "polled", (unsigned long long)irqs,
                   q->irq_mode == NVME_IRQ_INTX ? "pin assertions seen in PCI STATUS"
                   : "interrupts");
    }
    ktest_dma_free(t, &b);
}
static void nvme_every_queue_pair_serves(struct ktest *t) { for_each_writable(t, every_queue); }

static void missing_irq(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view before, after;
    if (!view_of(t, dev, 0, &before))
        return;
    if (before.queue.irq_mode != NVME_IRQ_MSIX) {
        ns_skip(t, dev, "queue 1 is not in MSI-X mode (nvme.irq=msix)");
        return;
    }
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    nvme_test_set_vector_masked(dev, 0, true);
    enum blk_cause rc = blk_io(dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_IRQ_NOT_DELIVERED);
    KT_EXPECT(t, strstr(req.detail, "did not fire"));
    ktest_diag(t, "%s: %s", dev->name, req.detail);
    nvme_test_set_vector_masked(dev, 0, false);
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    KT_EXPECT(t, after.queue.interrupts > before.queue.interrupts);
    ktest_dma_free(t, &b);
}
static void nvme_missing_interrupt_detected(struct ktest *t)
{
    for_each_writable(t, missing_irq);
}

static void flush(struct ktest *t, struct blk_dev *dev)
{
    struct blk_request req;
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_FLUSH, 0, 0, NULL, 0, 0, BLK_OK));
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    bt_fill_lba(b.virt, data_lba(dev, 1), 1, dev->block_size, 70);
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_WRITE, data_lba(dev, 1), 1, &s, 1, BLK_F_FUA,
                              BLK_OK));
    struct nvme_sqe sqe;
    uint64_t l[1];
    uint32_t n;
    KT_ASSERT(t, nvme_test_last_command(dev, &req, &sqe, l, 1, &n));
    KT_EXPECT(t, sqe.cdw12 & NVME_RW_FUA);
    ktest_dma_free(t, &b);
}
static void nvme_flush_and_fua(struct ktest *t) { for_each_writable(t, flush); }

static void zeroes(struct ktest *t, struct blk_dev *dev, enum blk_op op)
{
    uint32_t cap = op == BLK_OP_TRIM ? BLK_CAP_TRIM : BLK_CAP_WRITE_ZEROES;
    if (!(dev->caps & cap)) {
        ns_skip(t, dev, "no %s (ONCS)", blk_op_name(op));
        return;
    }
    /* 64 blocks, as many as the scratch range has when fewer: the first and
     * the last keep their data, the ones between are zeroed. */
    uint32_t blocks = (uint32_t)bt_min_u64(64, bt_scratch_blocks(dev));
    if (blocks < 3) {
        ns_skip(t, dev, "scratch range of %llu blocks: %s needs 3, a block on each side kept",
                (unsigned long long)bt_scratch_blocks(dev), blk_op_name(op));
        return;
    }
    uint64_t lba = data_lba(dev, blocks);
    struct dma_region b;
    if (!buffer_or_skip(t, dev, (uint64_t)blocks * dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, (uint32_t)b.size, 0 };
    struct blk_request req;
    bt_fill_lba(b.virt, lba, blocks, dev->block_size, 80);
    KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_WRITE, lba, blocks, &s, 1, 0, BLK_OK));
    KT_ASSERT(t, bt_io_expect(t, dev, &req, op, lba + 1, blocks - 2, NULL, 0, 0, BLK_OK));
    KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, lba, blocks, &s, 1, 0, BLK_OK));
    uint8_t *p = b.virt;
    /* Blocks around the range keep their data. */
    KT_EXPECT(t, bt_lba_pattern_difference(p, lba, 1, dev->block_size, 80) < 0);
    KT_EXPECT(t, bt_lba_pattern_difference(p + (uint64_t)(blocks - 1) * dev->block_size,
                                           lba + blocks - 1, 1, dev->block_size, 80) < 0);
    if (op == BLK_OP_WRITE_ZEROES) {
        KT_EXPECT(t, all_zero(p + dev->block_size, (uint64_t)(blocks - 2) * dev->block_size));
    } else {
        /* Deallocate is advisory (NVMe 1.4 §6.7): each block either kept its
         * data or, deallocated, reads as DLFEAT says — all zeroes (001b), or
         * when DLFEAT reports nothing zeroes or all FFh (§6.7.1.1). */
        unsigned zero = 0, kept = 0;
        for (uint32_t i = 1; i + 1 < blocks; i++) {
            uint8_t *blk = p + (uint64_t)i * dev->block_size;
            if (all_zero(blk, dev->block_size))
                zero++;
            else if (bt_lba_pattern_difference(blk, lba + i, 1, dev->block_size, 80) < 0)
                kept++;
            else if ((dev->caps & BLK_CAP_TRIM_ZEROES) || !all_ones(blk, dev->block_size))
                KT_FAIL(t, "%s: block %llu is neither deallocated nor its old data", dev->name,
                        (unsigned long long)(lba + i));
        }
        ktest_diag(t, "%s: %u of %u blocks read back zero after deallocate, %u kept their data%s",
                   dev->name, zero, blocks - 2, kept,
                   kept ? ": deallocate not honoured (advisory)" : "");
    }
    ktest_dma_free(t, &b);
}
static void write_zeroes(struct ktest *t, struct blk_dev *dev) { zeroes(t, dev, BLK_OP_WRITE_ZEROES); }
static void dsm(struct ktest *t, struct blk_dev *dev) { zeroes(t, dev, BLK_OP_TRIM); }
static void nvme_write_zeroes_reads_back_zeroes(struct ktest *t) { for_each_writable(t, write_zeroes); }
static void nvme_dsm_deallocate(struct ktest *t) { for_each_writable(t, dsm); }

/* After a refused command the queue must go on working. */
static void still_serves(struct ktest *t, struct blk_dev *dev, struct dma_region *b)
{
    struct blk_request req;
    struct blk_seg s = { b->phys, dev->block_size, 0 };
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
}

static void past_end(struct ktest *t, struct blk_dev *dev)
{
    if (dev->capacity_clamped) {
        ktest_diag(t, "%s: capacity clamped to %llu blocks: the blocks after it exist, so the "
                   "device has no past-the-end answer to check", dev->name,
                   (unsigned long long)dev->nblocks);
        return;
    }
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, dev->nblocks, 1, &s, 1, BLK_F_UNCHECKED),
                 BLK_CAUSE_LBA_RANGE);
    KT_EXPECT_EQ(t, req.dev_status & 0x7ff, 0x080);
    KT_EXPECT(t, strstr(req.detail, "LBA out of range"));
    KT_EXPECT(t, (req.dev_status & NVME_STATUS_DNR) && !strstr(req.detail, "after retries"));
    ktest_diag(t, "%s: status 0x%x: %s", dev->name, req.dev_status, req.detail);
    still_serves(t, dev, &b);
    ktest_dma_free(t, &b);
}
static void nvme_lba_past_end_decoded(struct ktest *t) { for_each_writable(t, past_end); }

/* A namespace `nsid` of the controller named `ctrl` is registered. */
static bool nsid_registered(const char *ctrl, uint32_t nsid)
{
    for (unsigned i = 0; i < blk_count(); i++) {
        struct nvme_test_view v;
        if (is_nvme(blk_get(i)) && nvme_test_view(blk_get(i), 0, &v) &&
            strcmp(v.ctrl_name, ctrl) == 0 && v.nsid == nsid)
            return true;
    }
    return false;
}

static void bad_nsid(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view ns;
    if (!view_of(t, dev, 0, &ns))
        return;
    uint32_t nsid = 3;
    if (nsid_registered(ns.ctrl_name, nsid))
        nsid = 0xfffffff0;              /* 3 exists here: one that cannot */
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    nvme_test_nsid_once(dev, nsid);
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0), BLK_CAUSE_INVALID);
    KT_EXPECT(t, (req.dev_status & 0x7ff) == 0x00b || (req.dev_status & 0x7ff) == 0x002);
    KT_EXPECT(t, strstr(req.detail, "nsid"));
    ktest_diag(t, "%s: to nsid %u: status 0x%x: %s", dev->name, nsid, req.dev_status, req.detail);
    struct nvme_test_view after;
    if (view_of(t, dev, 0, &after))
        KT_EXPECT_EQ(t, after.nsid_once, 0);        /* once: the read used it up */
    still_serves(t, dev, &b);
    /* The hook never redirects a write: it reaches this namespace, in its range. */
    struct nvme_sqe sqe;
    uint64_t l[1];
    uint32_t n;
    uint64_t lba = data_lba(dev, 1);
    bt_fill_lba(b.virt, lba, 1, dev->block_size, 95);
    nvme_test_nsid_once(dev, nsid);
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_WRITE, lba, 1, &s, 1, 0, BLK_OK));
    KT_ASSERT(t, nvme_test_last_command(dev, &req, &sqe, l, 1, &n));
    KT_EXPECT_EQ(t, sqe.nsid, ns.nsid);
    if (view_of(t, dev, 0, &after))
        KT_EXPECT_EQ(t, after.nsid_once, nsid);     /* still waiting for a read */
    nvme_test_nsid_once(dev, 0);
    ktest_dma_free(t, &b);
}
static void nvme_invalid_nsid_decoded(struct ktest *t) { for_each_writable(t, bad_nsid); }

static void above_mdts(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view v;
    if (!view_of(t, dev, 0, &v))
        return;
    if (!v.mdts_bytes || v.mdts_bytes > v.max_transfer_bytes) {
        ns_skip(t, dev, "MDTS is unlimited or above the driver's cap");
        return;
    }
    /* One block more than MDTS allows, inside the namespace: the block layer
     * checks the LBA range before the device sees the command. */
    uint32_t blocks = dev->max_transfer + 1;
    struct dma_region b;
    if (!capacity_or_skip(t, dev, blocks) ||
        !buffer_or_skip(t, dev, (uint64_t)blocks * dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, (uint32_t)b.size, 0 };
    struct blk_request req;
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, 0, blocks, &s, 1, BLK_F_NOSPLIT),
                 BLK_CAUSE_INVALID);
    KT_EXPECT_EQ(t, req.dev_status & 0x7ff, 0x002);
    KT_EXPECT(t, strstr(req.detail, "invalid field in command"));
    ktest_diag(t, "%s: %u blocks unsplit: status 0x%x: %s", dev->name, blocks, req.dev_status,
               req.detail);
    still_serves(t, dev, &b);
    ktest_dma_free(t, &b);
}
static void nvme_above_mdts_unsplit_decoded(struct ktest *t)
{
    for_each_writable(t, above_mdts);
}

static void reset_midflight(struct ktest *t, struct blk_dev *dev)
{
    /* Four reads of 2 blocks, of 1 when the scratch range has fewer than 8. */
    if (!room_or_skip(t, dev, 4))
        return;
    uint32_t per = bt_scratch_blocks(dev) >= 8 ? 2 : 1, blocks = 4 * per;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, (uint64_t)blocks * dev->block_size, &b))
        return;
    uint64_t lba = data_lba(dev, blocks);
    struct blk_request w, reqs[4];
    struct blk_seg all = { b.phys, (uint32_t)b.size, 0 }, segs[4];
    bt_fill_lba(b.virt, lba, blocks, dev->block_size, 90);
    KT_ASSERT(t, bt_io_expect(t, dev, &w, BLK_OP_WRITE, lba, blocks, &all, 1, 0, BLK_OK));
    memset(b.virt, 0, b.size);
    struct nvme_test_view before, after;
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    uint64_t flags = irq_save();    /* hold completions until the reset is done */
    if (bt_queue_batch(t, dev, BLK_OP_READ, lba, per, b.phys, reqs, segs, 4) < 4) {
        irq_restore(flags);
        return;
    }
    blk_kick(dev, 0);
    bool ok = nvme_test_reset(dev, "test: reset with commands in flight");
    irq_restore(flags);
    KT_EXPECT(t, ok);
    if (view_of(t, dev, 0, &after))
        KT_EXPECT_EQ(t, after.resets, before.resets + 1);
    for (unsigned i = 0; i < 4; i++)
        KT_EXPECT_EQ(t, blk_wait(dev, &reqs[i], 0), BLK_OK);
    KT_EXPECT(t, bt_lba_pattern_difference(b.virt, lba, blocks, dev->block_size, 90) < 0);
    still_serves(t, dev, &b);
    ktest_dma_free(t, &b);
}
static void nvme_reset_reposts_commands_in_flight(struct ktest *t)
{
    for_each_writable(t, reset_midflight);
}

static void describe_state(struct ktest *t, struct blk_dev *dev)
{
    /* The failure record prints the SQE as sent and the decoded registers. */
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    uint64_t before = log_ring_total();
    dev->ops->describe(dev, &req);
    static char tail[2048];
    size_t n = log_ring_copy(tail, sizeof(tail) - 1);
    tail[n] = '\0';
    KT_EXPECT(t, log_ring_total() > before);
    KT_EXPECT(t, strstr(tail, "opcode 02h read"));
    KT_EXPECT(t, strstr(tail, "CSTS 0x1: RDY=1 ready"));
    KT_EXPECT(t, strstr(tail, "CC 0x") && strstr(tail, "CSS=NVM"));
    KT_EXPECT(t, strstr(tail, "CAP 0x"));
    ktest_dma_free(t, &b);
}
static void nvme_describe_prints_sqe_and_registers(struct ktest *t)
{
    for_each_writable(t, describe_state);
}

/* More completions than the CQ has entries on queue 1: the phase tag flips
 * at each wrap, the CQ head follows every CQE and the SQ head the controller
 * reports in its CQEs catches up with the tail. Reads only. */
static void cq_wraps(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view before, after;
    if (!view_of(t, dev, 0, &before))
        return;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, (uint64_t)BATCH * dev->block_size, &b))
        return;
    static struct blk_request reqs[BATCH];
    struct blk_seg segs[BATCH];
    uint32_t depth = before.queue.depth, head0 = before.queue.cq_head, phase0 = before.queue.phase;
    uint64_t cqes = 0;
    uint32_t want = depth + 2 * BATCH;

    while (cqes < want && !ktest_failed(t)) {
        /* Reads: anywhere on the namespace. */
        if (bt_queue_batch(t, dev, BLK_OP_READ, 0, 1, b.phys, reqs, segs, BATCH) < BATCH)
            return;
        blk_kick(dev, 0);
        for (unsigned i = 0; i < BATCH; i++)
            KT_EXPECT_EQ(t, blk_wait(dev, &reqs[i], 0), BLK_OK);
        cqes += BATCH;
    }
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    const struct nvme_test_queue_view *q = &after.queue;
    KT_EXPECT_EQ(t, q->commands - before.queue.commands, cqes);     /* one command, one CQE each */
    KT_EXPECT_EQ(t, q->cq_head, (head0 + cqes) % depth);
    KT_EXPECT_EQ(t, q->phase, phase0 ^ (((head0 + cqes) / depth) & 1));
    KT_EXPECT_EQ(t, q->sq_head, q->sq_tail);
    ktest_diag(t, "%s: %llu CQEs on a %u-entry CQ (head %u -> %u, phase %u -> %u), sq head %u",
               dev->name, (unsigned long long)cqes, depth, head0, q->cq_head, phase0, q->phase,
               q->sq_head);
    ktest_dma_free(t, &b);
}
static void nvme_cq_wraps_phase_and_sq_head(struct ktest *t) { for_each_writable(t, cq_wraps); }

/* Doorbells: without shadow buffers every doorbell update is an MMIO write;
 * with them (Doorbell Buffer Config) the shadow holds the current tail and
 * head, and the register is written only as the EventIdx rule asks (the rule
 * itself is host-tested). */
static void shadow_doorbells(struct ktest *t, struct blk_dev *dev)
{
    struct nvme_test_view before, after;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    for (unsigned i = 0; i < 8; i++)
        KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, i % dev->nblocks, 1, &s, 1, 0,
                                  BLK_OK));
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    const struct nvme_test_queue_view *q = &after.queue;
    uint64_t dl = q->sq_doorbell_writes + q->cq_doorbell_writes -
                  before.queue.sq_doorbell_writes - before.queue.cq_doorbell_writes;
    uint64_t dm = q->mmio_doorbell_writes - before.queue.mmio_doorbell_writes;
    KT_EXPECT(t, dl >= 16);                 /* 8 SQ tails, 8 CQ heads at least */
    if (!after.shadow_doorbells) {
        KT_EXPECT_EQ(t, dm, dl);
        ktest_diag(t, "%s: shadow doorbells off: %llu doorbell updates, %llu MMIO writes",
                   dev->name, (unsigned long long)dl, (unsigned long long)dm);
    } else {
        KT_EXPECT_EQ(t, q->shadow_sq_tail, q->sq_tail);
        KT_EXPECT_EQ(t, q->shadow_cq_head, q->cq_head);
        KT_EXPECT(t, dm <= dl);
        ktest_diag(t, "%s: shadow doorbells on: %llu doorbell updates, %llu MMIO writes "
                   "(EventIdx sq %u cq %u)", dev->name, (unsigned long long)dl,
                   (unsigned long long)dm, q->eventidx_sq, q->eventidx_cq);
    }
    ktest_dma_free(t, &b);
}
static void nvme_shadow_doorbells_follow_event_index(struct ktest *t)
{
    for_each_writable(t, shadow_doorbells);
}

/* CSTS.CFS: while enabling it ends the wait at once (not after CAP.TO); seen
 * later by poll() it triggers the controller reset and the command in flight
 * completes after it. QEMU's nvme sets CFS for a misaligned ASQ; a real
 * controller ignores ASQ bits 11:0, so the case runs on QEMU only. The
 * enable that failed left the controller without I/O queues, so the command
 * is submitted but not rung before the poll: a doorbell for a queue the
 * controller does not have is a host error (QEMU traces it), and the reset
 * rings the recreated queue's. */
static void nvme_fatal_status_resets_controller(struct ktest *t)
{
    struct blk_dev *dev = NULL;
    for (unsigned i = 0; i < blk_count() && !dev; i++) {
        struct blk_dev *d = blk_get(i);
        if (is_nvme(d) && d->pci && d->pci->vendor_id == 0x1b36 && d->pci->device_id == 0x0010)
            dev = d;
    }
    if (!dev) {
        ktest_skip(t, "needs QEMU's nvme device (1b36:0010)");
        return;
    }
    struct nvme_test_view start, enabled, done;
    KT_ASSERT(t, view_of(t, dev, 0, &start));
    struct dma_region b;
    if (!buffer_or_skip(t, dev, 2ull * dev->block_size, &b))
        return;
    uint8_t *before = b.virt, *after = before + dev->block_size;
    struct blk_seg s0 = { b.phys, dev->block_size, 0 }, s1 = { b.phys + dev->block_size,
                                                              dev->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, 0, 1, &s0, 1, 0, BLK_OK));

    char why[160] = "";
    uint64_t flags = irq_save();
    uint64_t t0 = time_ns();
    enum blk_cause rc = nvme_test_enable_misaligned_asq(dev, why, sizeof(why));
    uint64_t ms = (time_ns() - t0) / 1000000;
    bool seen = nvme_test_view(dev, 0, &enabled);   /* CSTS right after the enable */
    irq_restore(flags);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_CONTROLLER_FATAL);
    KT_EXPECT(t, strstr(why, "controller fatal status while enabling"));
    KT_EXPECT(t, seen && (enabled.csts & NVME_CSTS_CFS));
    KT_EXPECT(t, ms < start.timeout_ms / 2);    /* CFS ended the wait, CAP.TO did not */
    ktest_diag(t, "%s: enable: %s (%llu ms, CAP.TO %u ms)", start.ctrl_name, why,
               (unsigned long long)ms, start.timeout_ms);

    memset(after, 0, dev->block_size);
    memset(&req, 0, sizeof(req));
    req.op = BLK_OP_READ;
    req.count = 1;
    req.segs = &s1;
    req.nsegs = 1;
    KT_EXPECT_EQ(t, blk_submit(dev, &req), BLK_OK);
    blk_poll(dev, req.queue);                   /* CFS seen: reset, command reposted */
    if (view_of(t, dev, 0, &done))
        KT_EXPECT_EQ(t, done.resets, start.resets + 1);
    blk_kick(dev, req.queue);
    KT_EXPECT_EQ(t, blk_wait(dev, &req, 0), BLK_OK);
    KT_ASSERT(t, view_of(t, dev, 0, &done));
    KT_EXPECT_EQ(t, done.cfs_seen, start.cfs_seen + 1);
    KT_EXPECT_EQ(t, done.resets, start.resets + 1);
    KT_EXPECT_STREQ(t, done.last_reset, "CSTS.CFS");
    KT_EXPECT(t, done.alive);
    KT_EXPECT(t, memcmp(before, after, dev->block_size) == 0);
    KT_EXPECT(t, !(done.csts & NVME_CSTS_CFS));
    ktest_dma_free(t, &b);
}

/* ---- fault cases: need their QEMU set-up ---- */

static struct blk_dev *error_dev(struct ktest *t)
{
    if (!nvme_test_error_dev[0]) {
        ktest_skip(t, "needs test.nvme_error_dev= and a blkdebug drive");
        return NULL;
    }
    struct blk_dev *dev = blk_find(nvme_test_error_dev);
    if (!dev || !is_nvme(dev))
        KT_FAIL(t, "test.nvme_error_dev=%s names no NVMe namespace", nvme_test_error_dev);
    return dev && is_nvme(dev) ? dev : NULL;
}

static void nvme_injected_read_error_decoded(struct ktest *t)
{
    struct blk_dev *dev = error_dev(t);
    if (!dev)
        return;
    if (!nvme_test_read_error_lba) {
        ktest_skip(t, "needs test.nvme_read_error_lba=");
        return;
    }
    uint64_t bad = nvme_test_read_error_lba;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, 8ull * dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_READ, bad, 1, &s, 1, 0), BLK_CAUSE_MEDIA);
    KT_EXPECT_EQ(t, req.dev_status, 0x0281);
    KT_EXPECT_EQ(t, req.error_lba, bad);
    KT_EXPECT(t, strstr(req.detail, "unrecovered read error"));
    blk_report_failure(dev, &req, "nvme_injected_read_error_decoded (expected)");
    /* The blocks around it read fine. */
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, bad + 1, 1, &s, 1, 0, BLK_OK));
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, bad - 1, 1, &s, 1, 0, BLK_OK));
    ktest_dma_free(t, &b);
}

static void nvme_injected_write_error_decoded(struct ktest *t)
{
    struct blk_dev *dev = error_dev(t);
    if (!dev)
        return;
    if (!nvme_test_write_error_lba || !dev->writable) {
        ktest_skip(t, "needs test.nvme_write_error_lba= on a writable namespace");
        return;
    }
    uint64_t bad = nvme_test_write_error_lba;
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    bt_fill_lba(b.virt, bad, 1, dev->block_size, 99);
    KT_EXPECT_EQ(t, blk_io(dev, &req, BLK_OP_WRITE, bad, 1, &s, 1, 0), BLK_CAUSE_MEDIA);
    KT_EXPECT_EQ(t, req.dev_status, 0x0280);
    KT_EXPECT_EQ(t, req.error_lba, bad);
    KT_EXPECT(t, strstr(req.detail, "write fault"));
    ktest_diag(t, "%s: %s", dev->name, req.detail);
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_WRITE, bad + 1, 1, &s, 1, 0, BLK_OK));
    ktest_dma_free(t, &b);
}

/* Explicit: QEMU throttled to a few IOPS and a short blk.timeout= make a
 * command late; Abort does not end it (QEMU), the reset does. */
static void nvme_timeout_recovered(struct ktest *t)
{
    struct blk_dev *dev = NULL;
    for (unsigned i = 0; i < blk_count() && !dev; i++)
        if (is_nvme(blk_get(i)))
            dev = blk_get(i);
    if (!dev) {
        ktest_skip(t, "no NVMe namespace");
        return;
    }
    struct nvme_test_view before, after;
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    struct dma_region b;
    if (!buffer_or_skip(t, dev, dev->block_size, &b))
        return;
    struct blk_seg s = { b.phys, dev->block_size, 0 };
    struct blk_request req;
    enum blk_cause rc = BLK_OK;
    for (unsigned i = 0; i < 8 && rc != BLK_CAUSE_TIMEOUT; i++)
        rc = blk_io(dev, &req, BLK_OP_READ, i % dev->nblocks, 1, &s, 1, 0);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_TIMEOUT);
    KT_EXPECT(t, strstr(req.detail, "no completion within"));
    KT_EXPECT(t, strstr(req.detail, "reset"));
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    KT_EXPECT(t, after.aborts_sent > before.aborts_sent);
    KT_EXPECT(t, after.resets > before.resets);
    ktest_diag(t, "%s: %s", dev->name, req.detail);
    /* The controller keeps serving, given time. */
    uint32_t saved = dev->timeout_ms;
    dev->timeout_ms = 20000;
    KT_EXPECT(t, bt_io_expect(t, dev, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    dev->timeout_ms = saved;
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    KT_EXPECT(t, after.alive);
    ktest_dma_free(t, &b);
}

static bool nvme_available(const char **reason)
{
    for (unsigned i = 0; i < blk_count(); i++)
        if (is_nvme(blk_get(i)))
            return true;
    *reason = "no NVMe namespace registered";
    return false;
}

/* ---- a queue pair per CPU ---- */

/* Each CPU's share of the per-CPU cases: HAMMER_DEPTH requests of
 * HAMMER_BLOCKS blocks at once in its own LBA range, written stamped with
 * its rank and round, read back and compared, on its own queue. Worked on
 * by that CPU (smp_call), read by the BSP afterwards: the AP asserts
 * nothing itself. */
#define HAMMER_DEPTH    4
#define HAMMER_BLOCKS   8
#define HAMMER_MS       2000    /* the stress case's length */

struct hammer {
    struct blk_dev *dev;
    unsigned rank;
    uint64_t first_lba;
    struct dma_region buf;
    uint64_t deadline_ns;       /* 0: one round */
    /* Results, written by the CPU that ran it. */
    unsigned queue;             /* blk_queue_of_cpu() there */
    uint32_t ran_on_apic_id;
    uint64_t rounds;
    enum blk_cause cause;
    bool miscompared;           /* a block read back differs (detail says where) */
    char detail[200];
    bool done;
};

static uint32_t hammer_tag(const struct hammer *h) { return (uint32_t)(h->rank << 20 | h->rounds); }

/* One batch of `op` on the CPU's own queue, one doorbell; false (recorded)
 * at the first failure or miscompare. */
static bool hammer_batch(struct hammer *h, enum blk_op op)
{
    struct blk_dev *dev = h->dev;
    uint32_t bytes = HAMMER_BLOCKS * dev->block_size;
    struct blk_request req[HAMMER_DEPTH];
    struct blk_seg seg[HAMMER_DEPTH];

    for (unsigned i = 0; i < HAMMER_DEPTH; i++) {
        uint8_t *virt = (uint8_t *)h->buf.virt + (uint64_t)i * bytes;
        uint64_t lba = h->first_lba + (uint64_t)i * HAMMER_BLOCKS;
        if (op == BLK_OP_WRITE)
            bt_fill_lba(virt, lba, HAMMER_BLOCKS, dev->block_size, hammer_tag(h));
        else
            memset(virt, 0, bytes);
        seg[i] = (struct blk_seg){ h->buf.phys + (uint64_t)i * bytes, bytes, 0 };
        memset(&req[i], 0, sizeof(req[i]));
        req[i] = (struct blk_request){ .op = (uint8_t)op, .queue = (uint16_t)h->queue,
                                       .lba = lba, .count = HAMMER_BLOCKS, .segs = &seg[i],
                                       .nsegs = 1 };
        enum blk_cause rc = blk_submit(dev, &req[i]);
        if (rc != BLK_OK) {
            h->cause = rc;
            snprintf(h->detail, sizeof(h->detail), "submit %s lba %llu: %s", blk_op_name(op),
                     (unsigned long long)lba, req[i].detail);
            for (unsigned j = 0; j < i; j++)
                blk_wait(dev, &req[j], 0);
            return false;
        }
    }
    blk_kick(dev, h->queue);
    bool ok = true;
    for (unsigned i = 0; i < HAMMER_DEPTH; i++) {
        enum blk_cause rc = blk_wait(dev, &req[i], 0);
        if (rc != BLK_OK && ok) {
            h->cause = rc;
            snprintf(h->detail, sizeof(h->detail), "%s lba %llu: %s", blk_op_name(op),
                     (unsigned long long)req[i].lba, req[i].detail);
            ok = false;
        }
    }
    for (unsigned i = 0; ok && op == BLK_OP_READ && i < HAMMER_DEPTH; i++) {
        const uint8_t *virt = (const uint8_t *)h->buf.virt + (uint64_t)i * bytes;
        int64_t bad = bt_lba_pattern_difference(virt, req[i].lba, HAMMER_BLOCKS,
                                                dev->block_size, hammer_tag(h));
        if (bad >= 0) {
            h->miscompared = true;
            snprintf(h->detail, sizeof(h->detail), "read back lba %llu+%u (round %llu) differs "
                     "from what was written from block %lld", (unsigned long long)req[i].lba,
                     HAMMER_BLOCKS, (unsigned long long)h->rounds, (long long)bad);
            ok = false;
        }
    }
    return ok;
}

static void hammer_run(void *arg)
{
    struct hammer *h = arg;
    h->ran_on_apic_id = cpu_apic_id();
    h->queue = blk_queue_of_cpu(h->dev);
    do {
        if (!hammer_batch(h, BLK_OP_WRITE) || !hammer_batch(h, BLK_OP_READ))
            break;
        h->rounds++;
    } while (h->deadline_ns && time_ns() < h->deadline_ns);
    __atomic_store_n(&h->done, true, __ATOMIC_RELEASE);
}

/* A hammer for every online CPU, each with its own range and buffer; false
 * (passed over) when the scratch range or memory is short. */
static bool hammers_for(struct ktest *t, struct blk_dev *dev, struct hammer *h, unsigned n)
{
    uint64_t span = (uint64_t)HAMMER_DEPTH * HAMMER_BLOCKS;
    if (!room_or_skip(t, dev, span * n))
        return false;
    uint64_t first = dev->write_first;
    for (unsigned k = 0; k < n; k++) {
        h[k] = (struct hammer){ .dev = dev, .rank = k, .first_lba = first + k * span,
                                .cause = BLK_OK };
        if (!buffer_or_skip(t, dev, span * dev->block_size, &h[k].buf))
            return false;
    }
    return true;
}

/* Runs h on the online CPU of rank k (the BSP itself for 0). */
static bool hammer_start(struct ktest *t, struct hammer *h, unsigned k)
{
    if (k == 0) {
        hammer_run(h);
        return true;
    }
    if (smp_call(smp_online_cpu(k), hammer_run, h))
        return true;
    KT_FAIL(t, "CPU %u (APIC id %u) took no work: still busy with earlier work", k,
            smp_online_apic_id(k));
    return false;
}

static bool hammer_wait(struct ktest *t, struct hammer *h, unsigned k, uint64_t deadline)
{
    if (k == 0 || smp_call_wait(smp_online_cpu(k), deadline))
        return true;
    KT_FAIL(t, "CPU %u (APIC id %u) still hammering its queue at the deadline", k,
            smp_online_apic_id(k));
    (void)h;
    return false;
}

/* What each CPU's hammer saw: ran where it was sent, on the queue of its
 * rank, every batch verified. */
static void hammer_expect(struct ktest *t, const struct hammer *h, unsigned nqueues)
{
    KT_EXPECT_EQ(t, h->ran_on_apic_id, smp_online_apic_id(h->rank));
    KT_EXPECT_EQ(t, h->queue, h->rank % nqueues);
    KT_EXPECT(t, h->rounds > 0);
    if (h->cause != BLK_OK)
        KT_FAIL(t, "%s cpu %u: %s: %s", h->dev->name, h->rank, blk_cause_name(h->cause),
                h->detail);
    if (h->miscompared)
        KT_FAIL(t, "%s cpu %u: %s", h->dev->name, h->rank, h->detail);
}

/* Queue q's MSI-X messages go to the CPU of rank q (modulo the CPUs), and
 * the handler ran on no other; polled queues have no target. */
static void expect_routed(struct ktest *t, struct blk_dev *dev, unsigned q,
                          const struct nvme_test_view *before, const struct nvme_test_view *after)
{
    if (after->queue.irq_mode != NVME_IRQ_MSIX)
        return;
    unsigned cpus = smp_online_count();
    KT_EXPECT_EQ(t, after->queue.irq_apic_id, smp_online_apic_id(q % cpus));
    KT_EXPECT_EQ(t, after->queue.irqs_off_target - before->queue.irqs_off_target, 0);
    if (after->queue.interrupts != before->queue.interrupts)
        KT_EXPECT_EQ(t, after->queue.last_irq_apic_id, after->queue.irq_apic_id);
    (void)dev;
}

/* The queue's MSI-X messages go to the online CPU of rank k. */
static bool interrupts_cpu(const struct nvme_test_view *v, unsigned k)
{
    return v->queue.irq_mode == NVME_IRQ_MSIX && v->queue.irq_apic_id == smp_online_apic_id(k);
}

/* One CPU at a time, each online CPU writes and reads back on the queue
 * blk_queue_of_cpu() gives it: exactly that queue's commands move, and with
 * MSI-X its completions interrupt that CPU. With a pair per CPU (the
 * default) every queue serves exactly one CPU. */
static void own_queue(struct ktest *t, struct blk_dev *dev)
{
    unsigned cpus = smp_online_count(), nq = dev->nqueues;
    struct hammer h[8];
    unsigned n = cpus < 8 ? cpus : 8;
    if (cpus > 8)
        ktest_diag(t, "%s: %u CPUs online; the first 8 are checked", dev->name, cpus);
    if (!hammers_for(t, dev, h, n))
        return;
    struct nvme_test_view v;
    KT_ASSERT(t, view_of(t, dev, 0, &v));
    if (v.nio_wanted == cpus && cpus <= v.nio_granted)
        KT_EXPECT_EQ(t, nq, cpus);      /* one pair per CPU asked for, and granted */
    for (unsigned k = 0; k < n; k++) {
        struct nvme_test_view before[8], after[8];
        unsigned vq = nq < 8 ? nq : 8;
        for (unsigned q = 0; q < vq; q++)
            KT_ASSERT(t, view_of(t, dev, q, &before[q]));
        uint64_t sleeps = __atomic_load_n(&dev->wait_sleeps, __ATOMIC_RELAXED);
        if (!hammer_start(t, &h[k], k) || !hammer_wait(t, &h[k], k, deadline_after_ms(30000)))
            return;
        hammer_expect(t, &h[k], nq);
        /* blk_wait() never sleeps on the BSP (its timer is the harness's)
         * nor on a polled queue or one whose interrupts go to another CPU
         * (it would wake at its bound only). An AP its queue interrupts may
         * (when a wait finds its request not yet done): the stress case
         * below sees that. */
        sleeps = __atomic_load_n(&dev->wait_sleeps, __ATOMIC_RELAXED) - sleeps;
        if (!k || !interrupts_cpu(&before[k % nq], k))
            KT_EXPECT_EQ(t, sleeps, 0);
        for (unsigned q = 0; q < vq; q++) {
            KT_ASSERT(t, view_of(t, dev, q, &after[q]));
            uint64_t moved = after[q].queue.commands - before[q].queue.commands;
            KT_EXPECT_EQ(t, moved, q == k % nq ? 2u * HAMMER_DEPTH : 0u);
            expect_routed(t, dev, q, &before[q], &after[q]);
        }
        const struct nvme_test_queue_view *mine = &after[k % nq].queue;
        ktest_diag(t, "%s: cpu %u (APIC id %u) on queue %u: %u commands, %s %llu interrupts "
                   "on APIC id %u, %llu sleeps waiting", dev->name, k, h[k].ran_on_apic_id,
                   mine->qid, 2 * HAMMER_DEPTH, mine->irq_mode == NVME_IRQ_MSIX ? "msix" : "polled",
                   (unsigned long long)(mine->interrupts - before[k % nq].queue.interrupts),
                   mine->last_irq_apic_id, (unsigned long long)sleeps);
    }
    for (unsigned k = 0; k < n; k++)
        ktest_dma_free(t, &h[k].buf);
}
static void nvme_each_cpu_on_its_own_queue(struct ktest *t) { for_each_writable(t, own_queue); }

/* The stress case: every online CPU at once, for HAMMER_MS, writing and
 * reading back verified batches on its own queue while the others do the
 * same on theirs; no error, no miscompare, and every queue's interrupts
 * only on its CPU. */
static void hammer_all(struct ktest *t, struct blk_dev *dev)
{
    unsigned cpus = smp_online_count(), nq = dev->nqueues;
    if (cpus < 2) {
        ns_skip(t, dev, "one CPU online: nothing runs beside it (boot with -smp 2 or more)");
        return;
    }
    struct hammer *h = memory_alloc_state((uint64_t)cpus * sizeof(*h));
    if (!h) {
        ns_skip(t, dev, "no memory for %u CPUs' records", cpus);
        return;
    }
    if (!hammers_for(t, dev, h, cpus))
        return;
    unsigned vq = nq < 64 ? nq : 64;
    struct nvme_test_view before[64], after;
    for (unsigned q = 0; q < vq; q++)
        KT_ASSERT(t, view_of(t, dev, q, &before[q]));
    uint64_t sleeps = __atomic_load_n(&dev->wait_sleeps, __ATOMIC_RELAXED);
    uint64_t deadline = deadline_after_ms(HAMMER_MS);
    unsigned started = 1;
    for (unsigned k = 0; k < cpus; k++)
        h[k].deadline_ns = deadline;
    for (unsigned k = 1; k < cpus; k++)
        started += hammer_start(t, &h[k], k);
    hammer_run(&h[0]);
    uint64_t rounds = 0;
    for (unsigned k = 1; k < started; k++)
        hammer_wait(t, &h[k], k, deadline_after_ms(30000));
    for (unsigned k = 0; k < started; k++) {
        if (!__atomic_load_n(&h[k].done, __ATOMIC_ACQUIRE))
            continue;
        hammer_expect(t, &h[k], nq);
        rounds += h[k].rounds;
        ktest_diag(t, "%s: cpu %u (APIC id %u) on queue %u: %llu verified batches of %u x %u "
                   "blocks", dev->name, k, h[k].ran_on_apic_id, h[k].queue + 1,
                   (unsigned long long)h[k].rounds, HAMMER_DEPTH, HAMMER_BLOCKS);
    }
    for (unsigned q = 0; q < vq; q++) {
        KT_ASSERT(t, view_of(t, dev, q, &after));
        expect_routed(t, dev, q, &before[q], &after);
    }
    /* APs whose queues interrupt them sleep in their waits (thousands of
     * waits in HAMMER_MS: some find the request not done yet). */
    sleeps = __atomic_load_n(&dev->wait_sleeps, __ATOMIC_RELAXED) - sleeps;
    bool ap_interrupted = false;
    for (unsigned k = 1; k < started && k < vq; k++)
        ap_interrupted |= interrupts_cpu(&before[k], k);
    if (ap_interrupted)
        KT_EXPECT(t, sleeps > 0);
    ktest_diag(t, "%s: %u CPUs, %u queue pairs, %llu rounds in %u ms, every block read back "
               "as written; %llu sleeps waiting", dev->name, cpus, nq, (unsigned long long)rounds,
               HAMMER_MS, (unsigned long long)sleeps);
    for (unsigned k = 0; k < cpus; k++)
        ktest_dma_free(t, &h[k].buf);
}
static void nvme_every_cpu_hammers_its_queue(struct ktest *t) { for_each_writable(t, hammer_all); }


/* A controller reset while every AP hammers its queue: the reset quiesces
 * every queue, recreates them and reposts what was in flight, and no CPU
 * sees an error or a block other than the one it wrote. */
static void reset_under_load(struct ktest *t, struct blk_dev *dev)
{
    unsigned cpus = smp_online_count();
    if (cpus < 2) {
        ns_skip(t, dev, "one CPU online: no queue is busy on another (boot with -smp 2 or more)");
        return;
    }
    struct hammer *h = memory_alloc_state((uint64_t)cpus * sizeof(*h));
    if (!h) {
        ns_skip(t, dev, "no memory for %u CPUs' records", cpus);
        return;
    }
    if (!hammers_for(t, dev, h, cpus))
        return;
    struct nvme_test_view before, after;
    KT_ASSERT(t, view_of(t, dev, 0, &before));
    uint64_t deadline = deadline_after_ms(HAMMER_MS);
    unsigned started = 1;
    for (unsigned k = 1; k < cpus; k++) {
        h[k].deadline_ns = deadline;
        started += hammer_start(t, &h[k], k);
    }
    delay_ms(HAMMER_MS / 4);
    KT_EXPECT(t, nvme_test_reset(dev, "test: reset while every CPU hammers its queue"));
    for (unsigned k = 1; k < started; k++)
        hammer_wait(t, &h[k], k, deadline_after_ms(30000));
    KT_ASSERT(t, view_of(t, dev, 0, &after));
    KT_EXPECT_EQ(t, after.resets - before.resets, 1);
    for (unsigned k = 1; k < started; k++) {
        if (!__atomic_load_n(&h[k].done, __ATOMIC_ACQUIRE))
            continue;
        hammer_expect(t, &h[k], dev->nqueues);
        ktest_diag(t, "%s: cpu %u on queue %u: %llu verified batches across the reset",
                   dev->name, k, h[k].queue + 1, (unsigned long long)h[k].rounds);
    }
    for (unsigned k = 0; k < cpus; k++)
        ktest_dma_free(t, &h[k].buf);
}
static void nvme_reset_while_every_cpu_hammers(struct ktest *t)
{
    for_each_writable(t, reset_under_load);
}

static const struct ktest_case nvme_cases[] = {
    KTEST_CASE(nvme_namespaces_registered),
    KTEST_CASE(nvme_read_write_one_lba),
    KTEST_CASE_TIMEOUT(nvme_transfers_across_mdts, 60000),
    KTEST_CASE(nvme_prp_offset_prp1),
    KTEST_CASE(nvme_prp_exactly_two_pages),
    KTEST_CASE(nvme_prp_one_list_page),
    KTEST_CASE_TIMEOUT(nvme_prp_chained_list, 30000),
    KTEST_CASE(nvme_prp_rules_refused),
    KTEST_CASE(nvme_sgl_data_block),
    KTEST_CASE(nvme_batched_submission_one_doorbell),
    KTEST_CASE(nvme_every_queue_pair_serves),
    KTEST_CASE_TIMEOUT(nvme_each_cpu_on_its_own_queue, 60000),
    KTEST_CASE_TIMEOUT(nvme_every_cpu_hammers_its_queue, 60000),
    KTEST_CASE_TIMEOUT(nvme_reset_while_every_cpu_hammers, 60000),
    KTEST_CASE(nvme_cq_wraps_phase_and_sq_head),
    KTEST_CASE(nvme_shadow_doorbells_follow_event_index),
    KTEST_CASE(nvme_missing_interrupt_detected),
    KTEST_CASE(nvme_flush_and_fua),
    KTEST_CASE(nvme_write_zeroes_reads_back_zeroes),
    KTEST_CASE(nvme_dsm_deallocate),
    KTEST_CASE(nvme_lba_past_end_decoded),
    KTEST_CASE(nvme_invalid_nsid_decoded),
    KTEST_CASE(nvme_above_mdts_unsplit_decoded),
    KTEST_CASE_TIMEOUT(nvme_reset_reposts_commands_in_flight, 30000),
    KTEST_CASE(nvme_describe_prints_sqe_and_registers),
    KTEST_CASE_TIMEOUT(nvme_fatal_status_resets_controller, 30000),
    KTEST_CASE(nvme_injected_read_error_decoded),
    KTEST_CASE(nvme_injected_write_error_decoded),
    { .name = "nvme_timeout_recovered", .fn = nvme_timeout_recovered, .timeout_ms = 90000,
      .flags = KTEST_EXPLICIT },
};
KTEST_SUITE_FULL(nvme, 65, nvme_cases, nvme_available);
