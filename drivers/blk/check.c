/* SPDX-License-Identifier: MIT */
/* drivers/blk/check.c — the block layer's request checks (what and why in
 * drivers/blk/check.h). Every comparison is written as `a > limit - b` with
 * a <= limit known first, never as `a + b > limit`, so no LBA or byte count
 * can wrap past a limit. */
#include "drivers/blk/check.h"
#include "lib/format.h"

#include <stdarg.h>

enum blk_cause blk_refuse(struct blk_request *req, enum blk_cause cause, const char *fmt, ...)
{
    va_list ap;
    req->cause = cause;
    va_start(ap, fmt);
    vsnprintf(req->detail, sizeof(req->detail), fmt, ap);
    va_end(ap);
    return cause;
}

bool blk_op_writes(enum blk_op op)
{
    return op == BLK_OP_WRITE || op == BLK_OP_TRIM || op == BLK_OP_WRITE_ZEROES;
}

/* [lba, lba + count) inside [first, end)? */
static bool inside(uint64_t lba, uint32_t count, uint64_t first, uint64_t end)
{
    return lba >= first && lba < end && count <= end - lba;
}

static enum blk_cause check_segment(const struct blk_dev *dev, struct blk_request *req,
                                    uint32_t i)
{
    const struct blk_seg *s = &req->segs[i];

    if (s->len == 0)
        return blk_refuse(req, BLK_CAUSE_INVALID, "segment %u has length 0", i);
    if (s->phys % dev->addr_align)
        return blk_refuse(req, BLK_CAUSE_MISALIGNED,
                      "segment %u at 0x%llx is not %u-byte aligned, which %s requires", i,
                      (unsigned long long)s->phys, dev->addr_align, dev->kind);
    if (s->len % dev->len_align)
        return blk_refuse(req, BLK_CAUSE_MISALIGNED,
                      "segment %u length %u is not a multiple of %u, which %s requires", i, s->len,
                      dev->len_align, dev->kind);
    if (s->phys >= dev->dma_limit || s->len > dev->dma_limit - s->phys)
        return blk_refuse(req, BLK_CAUSE_DMA_UNREACHABLE,
                      "segment %u at 0x%llx+%u lies beyond 0x%llx, the controller's reach", i,
                      (unsigned long long)s->phys, s->len, (unsigned long long)dev->dma_limit);
    return BLK_OK;
}

static enum blk_cause check_segments(const struct blk_dev *dev, struct blk_request *req)
{
    uint64_t total = 0, want = (uint64_t)req->count * dev->block_size;

    if (req->nsegs == 0 || !req->segs)
        return blk_refuse(req, BLK_CAUSE_INVALID, "%s of %u blocks without a data buffer",
                      blk_op_name(req->op), req->count);
    if (req->nsegs > dev->max_segs)
        return blk_refuse(req, BLK_CAUSE_INVALID, "%u segments, the device takes at most %u",
                      req->nsegs, dev->max_segs);
    for (uint32_t i = 0; i < req->nsegs; i++) {
        enum blk_cause rc = check_segment(dev, req, i);
        if (rc != BLK_OK)
            return rc;
        total += req->segs[i].len;  /* at most 2^32 segments of < 2^32 bytes: no wrap */
    }
    if (total != want)
        return blk_refuse(req, BLK_CAUSE_INVALID, "segments hold %llu bytes, %u blocks need %llu",
                      (unsigned long long)total, req->count, (unsigned long long)want);
    return BLK_OK;
}

/* The write gate: the only place that lets a write reach a driver. */
static enum blk_cause check_write(const struct blk_dev *dev, struct blk_request *req)
{
    if (!dev->writable)
        return blk_refuse(req, BLK_CAUSE_READ_ONLY, "%s refused: %s", blk_op_name(req->op),
                      dev->access);
    if (dev->write_end > dev->nblocks ||
        !inside(req->lba, req->count, dev->write_first, dev->write_end))
        return blk_refuse(req, BLK_CAUSE_READ_ONLY,
                      "%s of lba %llu+%u is outside the scratch range %llu..%llu",
                      blk_op_name(req->op), (unsigned long long)req->lba, req->count,
                      (unsigned long long)dev->write_first, (unsigned long long)dev->write_end);
    return BLK_OK;
}

enum blk_cause blk_check_request(const struct blk_dev *dev, struct blk_request *req)
{
    static const uint32_t needs[BLK_OP_COUNT] = {
        [BLK_OP_TRIM] = BLK_CAP_TRIM, [BLK_OP_WRITE_ZEROES] = BLK_CAP_WRITE_ZEROES,
    };

    if (req->op >= BLK_OP_COUNT)
        return blk_refuse(req, BLK_CAUSE_INVALID, "unknown operation %u", req->op);
    if ((dev->caps & needs[req->op]) != needs[req->op])
        return blk_refuse(req, BLK_CAUSE_INVALID, "%s does not support %s", dev->name,
                      blk_op_name(req->op));
    if ((req->flags & BLK_F_FUA) && (req->op != BLK_OP_WRITE || !(dev->caps & BLK_CAP_FUA)))
        return blk_refuse(req, BLK_CAUSE_INVALID, "FUA %s", req->op != BLK_OP_WRITE
                      ? "applies to writes only" : "is not supported by the device");
    if (req->op == BLK_OP_FLUSH)
        return BLK_OK;
    if (req->count == 0)
        return blk_refuse(req, BLK_CAUSE_INVALID, "%s of zero blocks", blk_op_name(req->op));
    bool unchecked_read = (req->flags & BLK_F_UNCHECKED) && req->op == BLK_OP_READ;
    if (!unchecked_read && !inside(req->lba, req->count, 0, dev->nblocks))
        return blk_refuse(req, BLK_CAUSE_LBA_RANGE, "lba %llu + %u blocks is past the end (%llu blocks)",
                      (unsigned long long)req->lba, req->count, (unsigned long long)dev->nblocks);
    if (blk_op_writes(req->op)) {
        enum blk_cause rc = check_write(dev, req);
        if (rc != BLK_OK)
            return rc;
    }
    if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE)
        return check_segments(dev, req);
    return BLK_OK;
}
