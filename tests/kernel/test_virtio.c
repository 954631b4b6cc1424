/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_virtio.c — the `virtio` suite: the virtio-blk driver
 * (drivers/virtio/) through the block interface, on whatever virtio-blk-pci
 * devices QEMU (or a hypervisor) provides. The device description against
 * its configuration and negotiated features, the descriptors as sent (header
 * sector in 512-byte units whatever the block size, data, status byte, the
 * indirect table), round trips from 1 block to several MiB, requests split at
 * max_transfer and at seg_max with a cut inside a segment, a queue's depth of
 * requests from one kick, the used ring wrapping, FLUSH, DISCARD and
 * WRITE_ZEROES (zeroes read back) when negotiated, a request past the
 * capacity and segments breaking the rules refused before the device sees
 * them, a read-only device (VIRTIO_BLK_F_RO) refusing writes, a reset with
 * requests in flight, DEVICE_NEEDS_RESET after a malformed request, a lost
 * MSI-X interrupt, describe(), blkdebug-injected
 * errors decoded, and (explicit) a timeout recovered on a throttled disk.
 *
 * Writes go only to devices the block layer calls writable and only inside
 * [write_first, write_end). Every case takes its LBAs and sizes from the
 * device and its scratch range and its buffers from the free memory, and
 * skips naming what it needed when they cannot hold it. Devices named by
 * serial: bareio-slow (throttled: only the timeout case) and bareio-blkdebug
 * (errors at virtio.test_read_error= / virtio.test_write_error=: only the
 * injected-error cases).
 * The driver is reached through the block interface, the helpers every
 * driver suite shares (blktest.h), and the driver's test view and named
 * hooks (struct vblk_test_view, vblk_test_*() in drivers/virtio/virtio_blk.h;
 * the suite does not include virtio_blk_priv.h): no case reads or writes a
 * driver struct. */
#include "drivers/blk/blk.h"
#include "drivers/virtio/virtio_blk.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/memory.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "tests/harness/ktest.h"
#include "tests/kernel/blktest.h"

CMDLINE_UINT(uint64_t, virtio_test_read_error, "virtio.test_read_error", 0, 0, ~0ull,
             "test only: LBA where blkdebug fails reads on the virtio-blk disk with serial "
             "bareio-blkdebug");
CMDLINE_UINT(uint64_t, virtio_test_write_error, "virtio.test_write_error", 0, 0, ~0ull,
             "test only: LBA where blkdebug fails writes on the virtio-blk disk with serial "
             "bareio-blkdebug");

#define SERIAL_SLOW     "bareio-slow"
#define SERIAL_FAULTY   "bareio-blkdebug"
#define MiB             (1024ull * 1024)
#define PAGE            4096u
#define TEST_BASE       2048        /* blocks into the scratch range, when it has room */
#define BATCH_MAX       256

/* ---- helpers ---- */

/* A device is virtio-blk when the virtio-blk driver's ops drive it. */
static bool is_vblk(const struct blk_dev *d) { return d->ops == &vblk_blk_ops; }

/* What the driver shows of dev; false after failing the case when it shows
 * nothing. */
static bool view_of(struct ktest *t, struct blk_dev *d, struct vblk_test_view *v)
{
    if (vblk_test_view(d, v))
        return true;
    KT_FAIL(t, "%s: no virtio-blk test view", d->name);
    return false;
}

static bool general(const struct blk_dev *d)
{
    return strcmp(d->serial, SERIAL_SLOW) != 0 && strcmp(d->serial, SERIAL_FAULTY) != 0;
}

static bool faulty(const struct blk_dev *d) { return strcmp(d->serial, SERIAL_FAULTY) == 0; }
static bool slow(const struct blk_dev *d) { return strcmp(d->serial, SERIAL_SLOW) == 0; }

static struct blk_dev *pick(struct ktest *t, bool need_write, uint64_t min_blocks)
{
    return bt_pick_or_skip(t, is_vblk, general, "virtio-blk disk", need_write, min_blocks);
}

/* Where a case writes `blocks` (pick made sure the scratch range holds
 * them), or reads them on a read-only disk. */
static uint64_t case_lba(const struct blk_dev *d, uint64_t blocks)
{
    uint64_t first = d->writable ? d->write_first : 0;
    uint64_t spare = bt_room(d, d->writable) - blocks;
    return first + bt_min_u64(spare, TEST_BASE);
}

/* A buffer of `bytes`, or a skip saying the memory could not give it. */
static bool buffer(struct ktest *t, const struct blk_dev *d, uint64_t bytes, struct dma_region *b)
{
    *b = bt_buffer(t, d, bytes);
    if (!b->virt)
        bt_skip_no_memory(t, bytes);
    return b->virt != NULL;
}

/* A read into `b` still works after a refusal or an error. */
static void still_serves(struct ktest *t, struct blk_dev *d, const struct dma_region *b,
                         uint64_t lba)
{
    struct blk_request req;
    struct blk_seg s = { b->phys, d->block_size, 0 };
    bt_io_expect(t, d, &req, BLK_OP_READ, lba, 1, &s, 1, 0, BLK_OK);
}

/* ---- cases ---- */

/* The disk as the driver described it, against the device's configuration
 * and the features it negotiated. */
static void virtio_devices_described(struct ktest *t)
{
    unsigned found = 0;
    char words[240];
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        struct vblk_test_view v;
        if (!is_vblk(d))
            continue;
        KT_ASSERT(t, view_of(t, d, &v));
        found++;
        char want[16];
        snprintf(want, sizeof(want), "vblk%u", v.index);
        KT_EXPECT_STREQ(t, d->name, want);
        KT_EXPECT_STREQ(t, d->kind, "vblk");
        KT_EXPECT_STREQ(t, d->firmware, "virtio");
        KT_EXPECT(t, v.accepted & VIRTIO_BIT(VIRTIO_F_VERSION_1));
        KT_EXPECT_EQ(t, v.accepted & ~v.offered, 0);
        KT_EXPECT_EQ(t, v.accepted & ~(uint64_t)VIRTIO_BLK_DRIVER_FEATURES, 0);
        KT_EXPECT_EQ(t, v.device_status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
        uint32_t bs = (v.accepted & VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE)) ? v.config.blk_size : 512;
        KT_EXPECT_EQ(t, d->block_size, bs);
        KT_EXPECT_EQ(t, d->nblocks, v.config.capacity / (bs / 512));
        KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_FLUSH),
                     !!(v.accepted & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)));
        KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_TRIM), v.lim.max_discard != 0);
        KT_EXPECT_EQ(t, !!(d->caps & BLK_CAP_WRITE_ZEROES), v.lim.max_write_zeroes != 0);
        KT_EXPECT(t, !(d->caps & (BLK_CAP_FUA | BLK_CAP_TRIM_ZEROES)));
        KT_EXPECT(t, v.lim.seg_max >= 1 && v.lim.seg_max + 2u <= v.queue_size);
        KT_EXPECT(t, v.queue_size <= v.device_queue_size && !(v.queue_size & (v.queue_size - 1)));
        /* Serving and idle: nothing on the ring, every descriptor free. */
        KT_EXPECT(t, v.alive);
        KT_EXPECT_EQ(t, v.heads, 0);
        KT_EXPECT_EQ(t, v.slots_in_flight, 0);
        KT_EXPECT_EQ(t, v.num_free, v.queue_size);
        KT_EXPECT_EQ(t, (uint64_t)d->max_transfer * d->block_size,
                     bt_min_u64(VIRTIO_BLK_MAX_TRANSFER_BYTES,
                                (uint64_t)v.lim.seg_max * v.lim.size_max) /
                     d->block_size * d->block_size);
        KT_EXPECT_EQ(t, !!d->read_only_reason[0], !!(v.accepted & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
        virtio_feature_words(v.accepted, &virtio_blk_feature_names, words, sizeof(words));
        ktest_diag(t, "%s: serial \"%s\", %llu x %u B (phys %u), queue %u, seg_max %u, max "
                   "transfer %u, %s; %s", d->name, d->serial, (unsigned long long)d->nblocks,
                   d->block_size, d->phys_block_size, v.queue_size, v.lim.seg_max,
                   d->max_transfer, words, d->access);
    }
    if (!found)
        ktest_skip(t, "no virtio-blk disk");
}

/* What one read and one write looked like on the ring: the header's sector
 * is in 512-byte units whatever the block size (Virtio 1.2 §5.2.6), the data
 * device-writable only for the read, the status byte last and written. */
static void virtio_descriptors_as_sent(struct ktest *t)
{
    struct blk_dev *d = pick(t, true, 1);
    if (!d)
        return;
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    uint64_t lba = case_lba(d, 1);
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    struct vblk_sent sent;
    struct vblk_test_view v;
    KT_ASSERT(t, view_of(t, d, &v));
    for (int write = 1; write >= 0; write--) {
        bt_fill(b.virt, d->block_size, lba);
        KT_ASSERT(t, bt_io_expect(t, d, &req, write ? BLK_OP_WRITE : BLK_OP_READ, lba, 1, &s, 1,
                                  0, BLK_OK));
        KT_ASSERT(t, vblk_test_last_sent(d, &req, &sent));
        KT_EXPECT_EQ(t, sent.header.type, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
        KT_EXPECT_EQ(t, sent.header.sector, lba * (d->block_size / 512));
        KT_EXPECT_EQ(t, sent.ndesc, 3);
        KT_EXPECT_EQ(t, sent.desc[0].len, sizeof(struct virtio_blk_req_header));
        KT_EXPECT_EQ(t, sent.desc[0].flags, VIRTQ_DESC_F_NEXT);
        KT_EXPECT_EQ(t, sent.desc[1].addr, b.phys);
        KT_EXPECT_EQ(t, sent.desc[1].len, d->block_size);
        KT_EXPECT_EQ(t, sent.desc[1].flags, VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE));
        KT_EXPECT_EQ(t, sent.desc[2].len, 1);
        KT_EXPECT_EQ(t, sent.desc[2].flags, VIRTQ_DESC_F_WRITE);
        KT_EXPECT_EQ(t, sent.status, VIRTIO_BLK_S_OK);
        KT_EXPECT_EQ(t, sent.indirect, !!(v.accepted & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)));
        if (!write)     /* the data and the status byte */
            KT_EXPECT(t, sent.used_len >= d->block_size + 1);
        ktest_diag(t, "%s: %s lba %llu: sector %llu, %u descriptors (%s), used len %u", d->name,
                   write ? "write" : "read", (unsigned long long)lba,
                   (unsigned long long)sent.header.sector, sent.ndesc,
                   sent.indirect ? "indirect table" : "direct chain", sent.used_len);
    }
    KT_EXPECT(t, bt_pattern_difference(b.virt, d->block_size, lba) < 0);
}

/* 1 block to several MiB, across max_transfer: each split into the parts
 * it needs, and the data back as written. */
static void virtio_round_trips_across_max_transfer(struct ktest *t)
{
    struct blk_dev *d = pick(t, true, 1);
    if (!d)
        return;
    struct vblk_test_view before, after;
    uint32_t mt = d->max_transfer;
    uint64_t room = bt_scratch_blocks(d);
    uint32_t limit = (uint32_t)bt_min_u64(6 * MiB / d->block_size, room);
    uint32_t sizes[] = { 1, 8, mt, mt + 1, 3 * mt + 5, limit };
    unsigned done = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !ktest_failed(t); i++) {
        uint32_t n = sizes[i];
        if (n > room || (uint64_t)n * d->block_size > memory_free_bytes() / 2) {
            ktest_diag(t, "%u blocks left out (scratch %llu blocks, %llu MiB free)", n,
                       (unsigned long long)room, (unsigned long long)(memory_free_bytes() / MiB));
            continue;
        }
        KT_ASSERT(t, view_of(t, d, &before));
        if (!bt_round_trip(t, d, case_lba(d, n), n, 0x7100 + i))
            continue;
        KT_ASSERT(t, view_of(t, d, &after));
        done++;
        /* One contiguous buffer: split by max_transfer alone unless size_max cuts it. */
        uint64_t want = 2ull * ((n + mt - 1) / mt), parts = after.parts - before.parts;
        if (after.lim.size_max == UINT32_MAX)
            KT_EXPECT_EQ(t, parts, want);
        ktest_diag(t, "%s: %u blocks in %llu virtio-blk requests each way", d->name, n,
                   (unsigned long long)(parts / 2));
    }
    if (!done && !ktest_failed(t))
        ktest_skip(t, "no size fits the scratch range or the free memory");
}

/* Segments scattered in memory, 1.5 blocks each: more than seg_max of them,
 * so a part runs out of descriptors inside a segment and is cut back to the
 * block boundary there; the next part starts in the middle of that segment. */
static void virtio_split_cuts_segments_at_block_boundaries(struct ktest *t)
{
    struct blk_dev *d = pick(t, true, 1);
    if (!d)
        return;
    struct vblk_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    uint32_t seglen = d->block_size + d->block_size / 2;
    uint32_t nseg = (before.lim.seg_max + 1) | 1;   /* more than seg_max; odd +1 below */
    nseg += 1;                                      /* even: whole blocks in all */
    if (nseg > d->max_segs || nseg > 512) {
        ktest_skip(t, "%u segments exceed what the case builds", nseg);
        return;
    }
    uint32_t blocks = (uint32_t)((uint64_t)nseg * seglen / d->block_size);
    if (blocks > bt_scratch_blocks(d)) {
        ktest_skip(t, "%s: scratch range cannot hold %u blocks", d->name, blocks);
        return;
    }
    uint64_t stride = 2ull * seglen;
    struct dma_region b, r;
    if (!buffer(t, d, stride * nseg, &b) || !buffer(t, d, (uint64_t)blocks * d->block_size, &r))
        return;
    static struct blk_seg segs[512];
    uint8_t *whole = r.virt;
    bt_fill(whole, (uint64_t)blocks * d->block_size, 0x5e9);
    for (uint32_t i = 0; i < nseg; i++) {
        segs[i] = (struct blk_seg){ b.phys + i * stride, seglen, 0 };
        memcpy((uint8_t *)b.virt + i * stride, whole + (uint64_t)i * seglen, seglen);
    }
    uint64_t lba = case_lba(d, blocks);
    struct blk_request req;
    struct blk_seg rs = { r.phys, (uint32_t)r.size, 0 };
    KT_ASSERT(t, view_of(t, d, &before));
    KT_ASSERT(t, bt_io_expect(t, d, &req, BLK_OP_WRITE, lba, blocks, segs, nseg, 0, BLK_OK));
    KT_ASSERT(t, view_of(t, d, &after));
    uint64_t write_parts = after.parts - before.parts;
    KT_EXPECT(t, write_parts >= 2);
    memset(whole, 0xa5, r.size);
    KT_ASSERT(t, bt_io_expect(t, d, &req, BLK_OP_READ, lba, blocks, &rs, 1, 0, BLK_OK));
    int64_t at = bt_pattern_difference(whole, r.size, 0x5e9);
    if (at >= 0)
        KT_FAIL(t, "%s: data differs at byte %lld (block %lld)", d->name, (long long)at,
                (long long)(at / d->block_size));
    ktest_diag(t, "%s: %u segments of %u bytes (%u blocks) written in %llu virtio-blk requests "
               "(seg_max %u)", d->name, nseg, seglen, blocks, (unsigned long long)write_parts,
               after.lim.seg_max);
}

/* A batch as deep as the queue from one kick: one notification (or one the
 * device suppressed), every request in flight at once, all complete. */
static void virtio_queue_depth_from_one_kick(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct vblk_test_view queued, after;
    unsigned n = d->queue_depth < BATCH_MAX ? d->queue_depth : BATCH_MAX;
    struct dma_region b;
    if (!buffer(t, d, (uint64_t)n * d->block_size, &b))
        return;
    static struct blk_request reqs[BATCH_MAX];
    static struct blk_seg segs[BATCH_MAX];
    uint64_t lba = case_lba(d, 1);
    if (bt_queue_batch(t, d, BLK_OP_READ, lba, 1, b.phys, reqs, segs, n) < n)
        return;
    bool viewed = view_of(t, d, &queued);     /* all on the ring, none published yet */
    blk_kick(d, 0);
    for (unsigned i = 0; i < n; i++)
        KT_EXPECT_EQ(t, blk_wait(d, &reqs[i], 0), BLK_OK);
    KT_ASSERT(t, viewed && view_of(t, d, &after));
    KT_EXPECT_EQ(t, queued.heads, n);
    KT_EXPECT_EQ(t, after.kicks - queued.kicks, 1);
    KT_EXPECT_EQ(t, after.notifies + after.notifies_suppressed -
                    (queued.notifies + queued.notifies_suppressed), 1);
    ktest_diag(t, "%s: %u reads from one kick (queue depth %u, %s): %llu notification(s), %llu "
               "suppressed by the device so far", d->name, n, d->queue_depth,
               after.lim.indirect ? "indirect" : "direct", (unsigned long long)after.notifies,
               (unsigned long long)after.notifies_suppressed);
}

/* More used entries than the ring has: the used ring's index wraps modulo
 * the queue size (and the avail ring's with it); every read completes. */
static void virtio_used_ring_wraps(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct vblk_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    unsigned batch = d->queue_depth < 64 ? d->queue_depth : 64;
    struct dma_region b;
    if (!buffer(t, d, (uint64_t)batch * d->block_size, &b))
        return;
    static struct blk_request reqs[64];
    static struct blk_seg segs[64];
    uint32_t want = 2u * before.queue_size + 3, done = 0;
    while (done < want && !ktest_failed(t)) {
        unsigned n = want - done < batch ? want - done : batch;
        if (bt_queue_batch(t, d, BLK_OP_READ, done, 1, b.phys, reqs, segs, n) < n)
            return;
        blk_kick(d, 0);
        for (unsigned i = 0; i < n; i++)
            KT_EXPECT_EQ(t, blk_wait(d, &reqs[i], 0), BLK_OK);
        done += n;
    }
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT_EQ(t, (uint16_t)(after.last_used - before.last_used), want);
    KT_EXPECT_EQ(t, (uint16_t)(after.avail_idx - before.avail_idx), want);
    KT_EXPECT_EQ(t, after.heads, 0);
    KT_EXPECT_EQ(t, after.num_free, after.queue_size);
    ktest_diag(t, "%s: %u completions on a %u-entry queue (used idx %u -> %u)", d->name, want,
               after.queue_size, before.last_used, after.last_used);
}

static void virtio_flush(struct ktest *t)
{
    struct blk_dev *d = pick(t, true, 1);
    if (!d)
        return;
    struct blk_request req;
    if (!(d->caps & BLK_CAP_FLUSH)) {
        KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_FLUSH, 0, 0, NULL, 0, 0), BLK_CAUSE_INVALID);
        KT_EXPECT(t, strstr(req.detail, "VIRTIO_BLK_F_FLUSH"));
        ktest_diag(t, "%s: %s", d->name, req.detail);
        return;
    }
    KT_ASSERT(t, bt_round_trip(t, d, case_lba(d, 8), 8, 0xf1));
    KT_EXPECT(t, bt_io_expect(t, d, &req, BLK_OP_FLUSH, 0, 0, NULL, 0, 0, BLK_OK));
    struct vblk_sent sent;
    KT_ASSERT(t, vblk_test_last_sent(d, &req, &sent));
    KT_EXPECT_EQ(t, sent.header.type, VIRTIO_BLK_T_FLUSH);
    KT_EXPECT_EQ(t, sent.header.sector, 0);     /* §5.2.6.1 */
    KT_EXPECT_EQ(t, sent.ndesc, 2);             /* no data */
}

/* Writes a pattern to `n` blocks, then `op` on the middle ones; reads all back. */
static void range_op(struct ktest *t, enum blk_op op, uint32_t cap)
{
    struct blk_dev *d = pick(t, true, 8);
    if (!d)
        return;
    if (!(d->caps & cap)) {
        ktest_skip(t, "%s: %s not negotiated", d->name,
                   op == BLK_OP_TRIM ? "VIRTIO_BLK_F_DISCARD" : "VIRTIO_BLK_F_WRITE_ZEROES");
        return;
    }
    uint32_t n = (uint32_t)bt_min_u64(64, bt_scratch_blocks(d));
    uint64_t bytes = (uint64_t)n * d->block_size, bs = d->block_size;
    struct dma_region b, want;
    if (!buffer(t, d, bytes, &b) || !buffer(t, d, bytes, &want))
        return;
    uint64_t lba = case_lba(d, n);
    struct blk_seg s = { b.phys, (uint32_t)bytes, 0 };
    struct blk_request req;
    bt_fill(b.virt, bytes, 0x2e0);
    KT_ASSERT(t, bt_io_expect(t, d, &req, BLK_OP_WRITE, lba, n, &s, 1, 0, BLK_OK));
    KT_ASSERT(t, bt_io_expect(t, d, &req, op, lba + 1, n - 2, NULL, 0, 0, BLK_OK));
    struct vblk_sent sent;
    KT_ASSERT(t, vblk_test_last_sent(d, &req, &sent));
    KT_EXPECT_EQ(t, sent.header.type, op == BLK_OP_TRIM ? VIRTIO_BLK_T_DISCARD
                                                        : VIRTIO_BLK_T_WRITE_ZEROES);
    KT_EXPECT_EQ(t, sent.ndesc, 3);
    KT_EXPECT_EQ(t, sent.desc[1].len, sizeof(struct virtio_blk_discard_write_zeroes));
    KT_EXPECT_EQ(t, sent.desc[1].flags & VIRTQ_DESC_F_WRITE, 0);
    memset(b.virt, 0xa5, bytes);
    KT_ASSERT(t, bt_io_expect(t, d, &req, BLK_OP_READ, lba, n, &s, 1, 0, BLK_OK));
    uint8_t *p = b.virt, *e = want.virt;
    /* The blocks around the range keep their data. */
    bt_fill(e, bytes, 0x2e0);
    KT_EXPECT(t, memcmp(p, e, bs) == 0);
    KT_EXPECT(t, memcmp(p + bytes - bs, e + bytes - bs, bs) == 0);
    if (op == BLK_OP_WRITE_ZEROES) {
        KT_EXPECT(t, bt_all_bytes(p + bs, bytes - 2 * bs, 0));
        ktest_diag(t, "%s: %u blocks of write zeroes read back as zeroes", d->name, n - 2);
    } else {
        unsigned zero = 0;
        for (uint32_t i = 1; i + 1 < n; i++)
            zero += bt_all_bytes(p + i * bs, bs, 0);
        ktest_diag(t, "%s: discard of %u blocks: %u read back as zeroes (virtio-blk promises "
                   "nothing, Virtio 1.2 §5.2.6.1)", d->name, n - 2, zero);
    }
}

static void virtio_write_zeroes_reads_back_zeroes(struct ktest *t)
{
    range_op(t, BLK_OP_WRITE_ZEROES, BLK_CAP_WRITE_ZEROES);
}

static void virtio_discard(struct ktest *t) { range_op(t, BLK_OP_TRIM, BLK_CAP_TRIM); }

/* A read past the capacity, even unchecked by the block layer, is refused by
 * the driver (§5.2.6.1: a driver MUST NOT submit it): nothing reaches the ring. */
static void virtio_lba_past_capacity_refused(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct dma_region b;
    if (!buffer(t, d, 2ull * d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, 2 * d->block_size, 0 };
    struct blk_request req;
    struct vblk_test_view before, after;
    for (int crossing = 0; crossing < 2; crossing++) {
        uint64_t lba = crossing ? d->nblocks - 1 : d->nblocks;
        KT_ASSERT(t, view_of(t, d, &before));
        enum blk_cause rc = blk_io(d, &req, BLK_OP_READ, lba, 2, &s, 1, BLK_F_UNCHECKED);
        KT_ASSERT(t, view_of(t, d, &after));
        KT_EXPECT_EQ(t, rc, BLK_CAUSE_LBA_RANGE);
        KT_EXPECT(t, !req.complete);
        KT_EXPECT(t, strstr(req.detail, "capacity"));
        KT_EXPECT_EQ(t, after.parts, before.parts);
        ktest_diag(t, "%s: lba %llu+2: %s", d->name, (unsigned long long)lba, req.detail);
    }
    still_serves(t, d, &b, 0);
}

/* Segments the driver cannot send are refused before the ring, naming the
 * rule: an unsplit request above max_transfer or above seg_max, one block
 * spread over more than seg_max descriptors, more segments than max_segs. */
static void virtio_segment_rules_refused(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 3);
    if (!d)
        return;
    struct vblk_test_view before, after;
    KT_ASSERT(t, view_of(t, d, &before));
    uint32_t bs = d->block_size, seg_max = before.lim.seg_max;
    uint64_t bytes = ((uint64_t)d->max_transfer + 1) * bs;
    if ((uint64_t)d->max_transfer + 1 > d->nblocks) {
        ktest_skip(t, "%s: %llu blocks cannot hold max transfer + 1", d->name,
                   (unsigned long long)d->nblocks);
        return;
    }
    struct dma_region b;
    if (!buffer(t, d, bytes < 2 * PAGE * 600ull ? 2 * PAGE * 600ull : bytes, &b))
        return;
    static struct blk_seg segs[1100];
    struct blk_request req;

    /* Unsplit, one block above max_transfer. */
    segs[0] = (struct blk_seg){ b.phys, (uint32_t)bytes, 0 };
    KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, d->max_transfer + 1, segs, 1, BLK_F_NOSPLIT),
                 BLK_CAUSE_INVALID);
    KT_EXPECT(t, strstr(req.detail, "one virtio-blk request carries"));
    ktest_diag(t, "%s: %s", d->name, req.detail);

    /* Unsplit, one block per segment, one segment more than seg_max. */
    if (seg_max + 1 <= d->max_transfer && seg_max + 1 <= d->max_segs &&
        seg_max + 1 <= d->nblocks) {
        for (uint32_t i = 0; i <= seg_max; i++)
            segs[i] = (struct blk_seg){ b.phys + 2ull * i * PAGE, bs, 0 };
        KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, seg_max + 1, segs, seg_max + 1,
                               BLK_F_NOSPLIT), BLK_CAUSE_INVALID);
        KT_EXPECT(t, strstr(req.detail, "seg_max"));
        ktest_diag(t, "%s: %s", d->name, req.detail);
    }

    /* The first block in seg_max + 1 pieces: no part can end on its boundary. */
    uint32_t piece = bs / (seg_max + 1);
    if (piece && seg_max + 2 <= d->max_segs) {
        for (uint32_t i = 0; i < seg_max; i++)
            segs[i] = (struct blk_seg){ b.phys + 64ull * i, piece, 0 };
        segs[seg_max] = (struct blk_seg){ b.phys + 64ull * seg_max, bs - piece * seg_max, 0 };
        segs[seg_max + 1] = (struct blk_seg){ b.phys + PAGE * 8ull, bs, 0 };
        KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, 2, segs, seg_max + 2, 0),
                     BLK_CAUSE_INVALID);
        KT_EXPECT(t, strstr(req.detail, "block boundary") && strstr(req.detail, "seg_max"));
        ktest_diag(t, "%s: %s", d->name, req.detail);
    }

    /* More segments than max_segs: the block layer's own refusal. */
    if (d->max_segs + 1u <= sizeof(segs) / sizeof(segs[0])) {
        uint32_t n = d->max_segs + 1;
        for (uint32_t i = 0; i + 1 < n; i++)
            segs[i] = (struct blk_seg){ b.phys + i, 1, 0 };
        uint32_t blocks = (n + bs - 1) / bs + 1;
        segs[n - 1] = (struct blk_seg){ b.phys + PAGE * 2ull, blocks * bs - (n - 1), 0 };
        KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, blocks, segs, n, 0), BLK_CAUSE_INVALID);
        KT_EXPECT(t, strstr(req.detail, "segments"));
        ktest_diag(t, "%s: %s", d->name, req.detail);
    }
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT_EQ(t, after.parts, before.parts);     /* nothing reached the ring */
    still_serves(t, d, &b, 0);
}

/* VIRTIO_BLK_F_RO (QEMU: readonly=on): the disk is read-only whatever marks
 * it scratch, writes are refused with the feature named, reads work. */
static void virtio_read_only_device_refuses_writes(struct ktest *t)
{
    struct blk_dev *d = NULL;
    struct vblk_test_view before, after;
    for (unsigned i = 0; i < blk_count() && !d; i++)
        if (is_vblk(blk_get(i)) && view_of(t, blk_get(i), &before) && before.lim.read_only)
            d = blk_get(i);
    if (!d) {
        ktest_skip(t, "no read-only virtio-blk disk (VIRTIO_BLK_F_RO; QEMU: readonly=on)");
        return;
    }
    KT_EXPECT(t, !d->writable);
    KT_EXPECT(t, strstr(d->access, "VIRTIO_BLK_F_RO"));
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    uint64_t lba = d->nblocks > TEST_BASE ? TEST_BASE : 0;
    KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_WRITE, lba, 1, &s, 1, 0), BLK_CAUSE_READ_ONLY);
    KT_EXPECT(t, strstr(req.detail, "VIRTIO_BLK_F_RO"));
    if (d->caps & BLK_CAP_WRITE_ZEROES)
        KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_WRITE_ZEROES, lba, 1, NULL, 0, 0),
                     BLK_CAUSE_READ_ONLY);
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT_EQ(t, after.parts, before.parts);
    ktest_diag(t, "%s: %s", d->name, req.detail);
    still_serves(t, d, &b, lba);
}

/* A reset with requests in flight (as after a timeout, nothing late): every
 * request is posted again and completes with its data. */
static void virtio_reset_reposts_requests_in_flight(struct ktest *t)
{
    struct blk_dev *d = pick(t, true, 16);
    if (!d)
        return;
    struct vblk_test_view before, after;
    uint32_t per = 4, blocks = 4 * per;
    uint64_t bytes = (uint64_t)blocks * d->block_size;
    struct dma_region b;
    if (!buffer(t, d, bytes, &b))
        return;
    uint64_t lba = case_lba(d, blocks);
    struct blk_request w, reqs[4];
    struct blk_seg all = { b.phys, (uint32_t)bytes, 0 }, segs[4];
    bt_fill(b.virt, bytes, 0x4e5);
    KT_ASSERT(t, bt_io_expect(t, d, &w, BLK_OP_WRITE, lba, blocks, &all, 1, 0, BLK_OK));
    memset(b.virt, 0, bytes);
    KT_ASSERT(t, view_of(t, d, &before));
    uint64_t flags = irq_save();    /* hold completions until the reset is done */
    if (bt_queue_batch(t, d, BLK_OP_READ, lba, per, b.phys, reqs, segs, 4) < 4) {
        irq_restore(flags);
        return;
    }
    blk_kick(d, 0);
    bool ok = vblk_test_reset(d, "test: reset with requests in flight");
    irq_restore(flags);
    KT_EXPECT(t, ok);
    for (unsigned i = 0; i < 4; i++)
        KT_EXPECT_EQ(t, blk_wait(d, &reqs[i], 0), BLK_OK);
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT_EQ(t, after.resets, before.resets + 1);
    KT_EXPECT_STREQ(t, after.last_reset, "test: reset with requests in flight");
    KT_EXPECT(t, bt_pattern_difference(b.virt, bytes, 0x4e5) < 0);
    KT_EXPECT_EQ(t, after.device_status & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
    still_serves(t, d, &b, lba);
}

/* A request the device must refuse as malformed (the test view makes its
 * header device-writable, so it has no device-readable part): QEMU sets
 * DEVICE_NEEDS_RESET ("virtio-blk missing headers") and never completes it.
 * The driver sees the status, resets the device, fails what was in flight
 * with the status in words, and the device serves again. */
static void virtio_needs_reset_recovered(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct vblk_test_view before, after;
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, view_of(t, d, &before));
    vblk_test_break_next_request(d);
    KT_EXPECT_EQ(t, blk_io(d, &req, BLK_OP_READ, 0, 1, &s, 1, 0), BLK_CAUSE_DEVICE_ERROR);
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT(t, strstr(req.detail, "DEVICE_NEEDS_RESET"));
    KT_EXPECT_EQ(t, after.resets, before.resets + 1);
    KT_EXPECT(t, after.alive);
    ktest_diag(t, "%s: %s", d->name, req.detail);
    still_serves(t, d, &b, 0);
}

/* MSI-X: the queue's table entry masked, a completion arrives without its
 * interrupt; poll() finds it, says so and the device is polled from then on. */
static void virtio_missing_interrupt_detected(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct vblk_test_view polled, unmasked, after;
    KT_ASSERT(t, view_of(t, d, &unmasked));
    if (unmasked.irq_mode != VBLK_IRQ_MSIX) {
        ktest_skip(t, "%s is polled (virtio.irq=poll or no MSI-X)", d->name);
        return;
    }
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    vblk_test_set_vector_masked(d, true);
    enum blk_cause rc = blk_io(d, &req, BLK_OP_READ, 0, 1, &s, 1, 0);
    bool viewed = view_of(t, d, &polled);
    vblk_test_set_vector_masked(d, false);
    KT_ASSERT(t, viewed && view_of(t, d, &unmasked));
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_IRQ_NOT_DELIVERED);
    KT_EXPECT(t, strstr(req.detail, "did not fire"));
    KT_EXPECT_EQ(t, polled.irq_mode, VBLK_IRQ_POLL);        /* polled from then on ... */
    KT_EXPECT_EQ(t, unmasked.irq_mode, VBLK_IRQ_MSIX);      /* ... until unmasked */
    ktest_diag(t, "%s: %s", d->name, req.detail);
    KT_EXPECT(t, bt_io_expect(t, d, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT(t, after.interrupts > unmasked.interrupts);  /* delivered again once unmasked */
}

/* The failure record's part: the request's descriptors and the device state. */
static void virtio_describe_prints_chain_and_status(struct ktest *t)
{
    struct blk_dev *d = pick(t, false, 1);
    if (!d)
        return;
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, bt_io_expect(t, d, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    uint64_t before = log_ring_total();
    d->ops->describe(d, &req);
    static char tail[2048];
    size_t n = log_ring_copy(tail, sizeof(tail) - 1);
    tail[n] = '\0';
    KT_EXPECT(t, log_ring_total() > before);
    KT_EXPECT(t, strstr(tail, "virtio-blk request (slot"));
    KT_EXPECT(t, strstr(tail, "IN (read) sector 0"));
    KT_EXPECT(t, strstr(tail, "desc[2] addr"));
    KT_EXPECT(t, strstr(tail, "device_status 0x0f ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK"));
    KT_EXPECT(t, strstr(tail, "features ") && strstr(tail, "VERSION_1"));
}

static struct blk_dev *faulty_disk(struct ktest *t, uint64_t lba, const char *key)
{
    struct blk_dev *d = NULL;
    for (unsigned i = 0; i < blk_count() && !d; i++)
        if (is_vblk(blk_get(i)) && faulty(blk_get(i)))
            d = blk_get(i);
    if (!d || !lba) {
        ktest_skip(t, "needs a virtio-blk disk with serial " SERIAL_FAULTY " (a blkdebug drive) "
                   "and %s=", key);
        return NULL;
    }
    return d;
}

/* blkdebug fails the LBA: VIRTIO_BLK_S_IOERR, decoded as a media error at
 * that LBA; the blocks beside it still work. */
static void injected(struct ktest *t, enum blk_op op, uint64_t lba, const char *key)
{
    struct blk_dev *d = faulty_disk(t, lba, key);
    if (!d)
        return;
    if (op == BLK_OP_WRITE && (!d->writable || lba < d->write_first || lba + 2 > d->write_end)) {
        ktest_skip(t, "%s: lba %llu is not in its scratch range (%s)", d->name,
                   (unsigned long long)lba, d->access);
        return;
    }
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    KT_EXPECT_EQ(t, blk_io(d, &req, op, lba, 1, &s, 1, 0), BLK_CAUSE_MEDIA);
    KT_EXPECT_EQ(t, req.dev_status, VIRTIO_BLK_S_IOERR);
    KT_EXPECT_EQ(t, req.error_lba, lba);
    KT_EXPECT(t, strstr(req.detail, "VIRTIO_BLK_S_IOERR"));
    ktest_diag(t, "%s: %s", d->name, req.detail);
    KT_EXPECT(t, bt_io_expect(t, d, &req, op, lba + 1, 1, &s, 1, 0, BLK_OK));
}

static void virtio_injected_read_error_decoded(struct ktest *t)
{
    injected(t, BLK_OP_READ, virtio_test_read_error, "virtio.test_read_error");
}

static void virtio_injected_write_error_decoded(struct ktest *t)
{
    injected(t, BLK_OP_WRITE, virtio_test_write_error, "virtio.test_write_error");
}

/* Explicit: QEMU throttled to a few IOPS and a short blk.timeout= make a
 * read late; virtio has no abort, the device reset ends it. */
static void virtio_timeout_recovered(struct ktest *t)
{
    struct blk_dev *d = NULL;
    for (unsigned i = 0; i < blk_count() && !d; i++)
        if (is_vblk(blk_get(i)) && slow(blk_get(i)))
            d = blk_get(i);
    if (!d) {
        ktest_skip(t, "needs a throttled virtio-blk disk with serial " SERIAL_SLOW);
        return;
    }
    struct vblk_test_view before, after;
    struct dma_region b;
    if (!buffer(t, d, d->block_size, &b))
        return;
    struct blk_seg s = { b.phys, d->block_size, 0 };
    struct blk_request req;
    KT_ASSERT(t, view_of(t, d, &before));
    enum blk_cause rc = BLK_OK;
    for (unsigned i = 0; i < 8 && rc != BLK_CAUSE_TIMEOUT; i++)
        rc = blk_io(d, &req, BLK_OP_READ, i % d->nblocks, 1, &s, 1, 0);
    KT_EXPECT_EQ(t, rc, BLK_CAUSE_TIMEOUT);
    KT_EXPECT(t, strstr(req.detail, "no completion within"));
    KT_EXPECT(t, strstr(req.detail, "reset"));
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT(t, after.timeouts > before.timeouts);
    KT_EXPECT(t, after.resets > before.resets);
    ktest_diag(t, "%s: %s", d->name, req.detail);
    uint32_t saved = d->timeout_ms;
    d->timeout_ms = 20000;
    KT_EXPECT(t, bt_io_expect(t, d, &req, BLK_OP_READ, 0, 1, &s, 1, 0, BLK_OK));
    d->timeout_ms = saved;
    KT_ASSERT(t, view_of(t, d, &after));
    KT_EXPECT(t, after.alive);
}

static bool virtio_available(const char **reason)
{
    for (unsigned i = 0; i < blk_count(); i++)
        if (is_vblk(blk_get(i)))
            return true;
    *reason = "no virtio-blk disk registered";
    return false;
}

static const struct ktest_case virtio_cases[] = {
    KTEST_CASE(virtio_devices_described),
    KTEST_CASE(virtio_descriptors_as_sent),
    KTEST_CASE_TIMEOUT(virtio_round_trips_across_max_transfer, 60000),
    KTEST_CASE_TIMEOUT(virtio_split_cuts_segments_at_block_boundaries, 30000),
    KTEST_CASE(virtio_queue_depth_from_one_kick),
    KTEST_CASE_TIMEOUT(virtio_used_ring_wraps, 30000),
    KTEST_CASE(virtio_flush),
    KTEST_CASE(virtio_write_zeroes_reads_back_zeroes),
    KTEST_CASE(virtio_discard),
    KTEST_CASE(virtio_lba_past_capacity_refused),
    KTEST_CASE(virtio_segment_rules_refused),
    KTEST_CASE(virtio_read_only_device_refuses_writes),
    KTEST_CASE_TIMEOUT(virtio_reset_reposts_requests_in_flight, 30000),
    KTEST_CASE(virtio_needs_reset_recovered),
    KTEST_CASE(virtio_missing_interrupt_detected),
    KTEST_CASE(virtio_describe_prints_chain_and_status),
    KTEST_CASE(virtio_injected_read_error_decoded),
    KTEST_CASE(virtio_injected_write_error_decoded),
    { .name = "virtio_timeout_recovered", .fn = virtio_timeout_recovered, .timeout_ms = 90000,
      .flags = KTEST_EXPLICIT },
};
KTEST_SUITE_FULL(virtio, 67, virtio_cases, virtio_available);
