/* SPDX-License-Identifier: MIT */
/* tests/kernel/blktest.c — the driver suites' shared helpers (what and why in
 * tests/kernel/blktest.h). */
#include "tests/kernel/blktest.h"
#include "lib/format.h"
#include "lib/rng.h"
#include "lib/string.h"

#define MiB (1024ull * 1024)

uint64_t bt_scratch_blocks(const struct blk_dev *dev)
{
    return dev->writable ? dev->write_end - dev->write_first : 0;
}

uint64_t bt_room(const struct blk_dev *dev, bool need_write)
{
    return need_write ? bt_scratch_blocks(dev) : dev->nblocks;
}

static bool candidate(const struct blk_dev *dev, bool (*mine)(const struct blk_dev *),
                      bool (*usable)(const struct blk_dev *))
{
    return mine(dev) && (!usable || usable(dev));
}

static bool fits(const struct blk_dev *dev, bool need_write, uint64_t min_blocks)
{
    return (!need_write || dev->writable) && bt_room(dev, need_write) >= min_blocks;
}

struct blk_dev *bt_pick(bool (*mine)(const struct blk_dev *dev),
                        bool (*usable)(const struct blk_dev *dev), bool need_write,
                        uint64_t min_blocks)
{
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *dev = blk_get(i);
        if (candidate(dev, mine, usable) && fits(dev, need_write, min_blocks))
            return dev;
    }
    return NULL;
}

struct blk_dev *bt_pick_or_skip(struct ktest *t, bool (*mine)(const struct blk_dev *dev),
                                bool (*usable)(const struct blk_dev *dev), const char *what,
                                bool need_write, uint64_t min_blocks)
{
    struct blk_dev *best = NULL;
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_dev *dev = blk_get(i);
        if (!candidate(dev, mine, usable))
            continue;
        if (fits(dev, need_write, min_blocks))
            return dev;
        if (!best || bt_room(dev, need_write) > bt_room(best, need_write))
            best = dev;
    }
    if (!best)
        ktest_skip(t, "no %s", what);
    else if (need_write && !best->writable)
        ktest_skip(t, "no writable %s (%s: %s; use allow_write= or a scratch label)", what,
                   best->name, best->access);
    else
        ktest_skip(t, "%s: %s of %llu blocks cannot hold the %llu blocks this case %s",
                   best->name, need_write ? "scratch range" : "disk",
                   (unsigned long long)bt_room(best, need_write), (unsigned long long)min_blocks,
                   need_write ? "writes" : "reads");
    return NULL;
}

struct dma_region bt_buffer(struct ktest *t, const struct blk_dev *dev, uint64_t bytes)
{
    if (bytes > memory_free_bytes())
        return (struct dma_region){ .virt = NULL, .phys = 0, .size = 0 };
    return ktest_dma_alloc(t, bytes, 4096, 0,
                           dev->dma_limit > (1ull << 32) ? DMA_ANYWHERE : DMA_BELOW_4G);
}

void bt_skip_no_memory(struct ktest *t, uint64_t bytes)
{
    ktest_skip(t, "no %llu KiB of contiguous DMA memory for the data buffer (%llu MiB free)",
               (unsigned long long)(bytes >> 10), (unsigned long long)(memory_free_bytes() / MiB));
}

void bt_fill(void *buf, uint64_t bytes, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed);
    rng_fill(&r, buf, bytes);
}

int64_t bt_pattern_difference(const void *buf, uint64_t bytes, uint64_t seed)
{
    static uint8_t piece[4096];     /* a multiple of 8: rng_fill's stream stays whole */
    const uint8_t *p = buf;
    struct rng r;
    rng_seed(&r, seed);
    for (uint64_t off = 0; off < bytes; off += sizeof(piece)) {
        uint64_t n = bytes - off < sizeof(piece) ? bytes - off : sizeof(piece);
        rng_fill(&r, piece, n);
        for (uint64_t i = 0; i < n; i++)
            if (piece[i] != p[off + i])
                return (int64_t)(off + i);
    }
    return -1;
}

bool bt_all_bytes(const void *buf, uint64_t bytes, uint8_t value)
{
    const uint8_t *p = buf;
    for (uint64_t i = 0; i < bytes; i++)
        if (p[i] != value)
            return false;
    return true;
}

static uint64_t lba_pattern_word(uint64_t lba, uint32_t word, uint32_t seed)
{
    return (lba << 24) ^ ((uint64_t)seed << 48) ^ word ^ 0x5a5a000000000000ull;
}

void bt_fill_lba(void *buf, uint64_t lba, uint32_t blocks, uint32_t block_size, uint32_t seed)
{
    uint64_t *w = buf;
    uint32_t words = block_size / 8;
    for (uint64_t b = 0; b < blocks; b++)
        for (uint32_t i = 0; i < words; i++)
            w[b * words + i] = lba_pattern_word(lba + b, i, seed);
}

int64_t bt_lba_pattern_difference(const void *buf, uint64_t lba, uint32_t blocks,
                                  uint32_t block_size, uint32_t seed)
{
    const uint64_t *w = buf;
    uint32_t words = block_size / 8;
    for (uint64_t b = 0; b < blocks; b++)
        for (uint32_t i = 0; i < words; i++)
            if (w[b * words + i] != lba_pattern_word(lba + b, i, seed))
                return (int64_t)b;
    return -1;
}

bool bt_io_expect(struct ktest *t, struct blk_dev *dev, struct blk_request *req, enum blk_op op,
                  uint64_t lba, uint32_t count, const struct blk_seg *segs, uint32_t nsegs,
                  uint16_t flags, enum blk_cause want)
{
    enum blk_cause rc = blk_io(dev, req, op, lba, count, segs, nsegs, flags);
    if (rc == want)
        return true;
    KT_FAIL(t, "%s %s lba %llu count %u: %s (%s), expected %s", dev->name, blk_op_name(op),
            (unsigned long long)lba, count, blk_cause_name(rc), req->detail,
            blk_cause_name(want));
    blk_report_failure(dev, req, ktest_current() ? ktest_current() : dev->name);
    return false;
}

bool bt_round_trip(struct ktest *t, struct blk_dev *dev, uint64_t lba, uint32_t count,
                   uint64_t seed)
{
    uint64_t bytes = (uint64_t)count * dev->block_size;
    struct dma_region b = bt_buffer(t, dev, bytes);
    struct blk_request req;
    struct blk_seg s = { b.phys, (uint32_t)bytes, 0 };

    if (!b.virt)
        return false;
    bt_fill(b.virt, bytes, seed);
    if (bt_io_expect(t, dev, &req, BLK_OP_WRITE, lba, count, &s, 1, 0, BLK_OK)) {
        KT_EXPECT_EQ(t, req.bytes, bytes);
        memset(b.virt, 0xa5, bytes);
        if (bt_io_expect(t, dev, &req, BLK_OP_READ, lba, count, &s, 1, 0, BLK_OK)) {
            KT_EXPECT_EQ(t, req.bytes, bytes);
            int64_t at = bt_pattern_difference(b.virt, bytes, seed);
            if (at >= 0)
                KT_FAIL(t, "%s: %u blocks at lba %llu: data differs at byte %lld (block %llu), "
                        "seed %llu", dev->name, count, (unsigned long long)lba, (long long)at,
                        (unsigned long long)(lba + (uint64_t)at / dev->block_size),
                        (unsigned long long)seed);
        }
    }
    ktest_dma_free(t, &b);
    return true;
}

void bt_drain_queued(struct blk_dev *dev, unsigned queue, struct blk_request *reqs,
                     unsigned queued)
{
    blk_kick(dev, queue);
    for (unsigned i = 0; i < queued; i++)
        blk_wait(dev, &reqs[i], 0);
}

unsigned bt_queue_batch(struct ktest *t, struct blk_dev *dev, enum blk_op op, uint64_t lba,
                        uint32_t per, uint64_t phys, struct blk_request *reqs,
                        struct blk_seg *segs, unsigned n)
{
    uint64_t bytes = (uint64_t)per * dev->block_size;
    for (unsigned i = 0; i < n; i++) {
        segs[i] = (struct blk_seg){ phys + i * bytes, (uint32_t)bytes, 0 };
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].op = (uint8_t)op;
        reqs[i].lba = (lba + (uint64_t)i * per) % dev->nblocks;
        reqs[i].count = per;
        reqs[i].segs = &segs[i];
        reqs[i].nsegs = 1;
        enum blk_cause rc = blk_submit(dev, &reqs[i]);
        if (rc != BLK_OK) {
            KT_FAIL(t, "%s: %s %u of %u (lba %llu) refused: %s (%s)", dev->name, blk_op_name(op),
                    i, n, (unsigned long long)reqs[i].lba, blk_cause_name(rc), reqs[i].detail);
            bt_drain_queued(dev, reqs[i].queue, reqs, i);
            return i;
        }
    }
    return n;
}
