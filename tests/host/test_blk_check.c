/* SPDX-License-Identifier: MIT */
/* tests/host/test_blk_check.c — every edge of the block layer's request
 * checks (drivers/blk/check.h): the first and last writable block, one past
 * each, a request crossing write_end or the device end by one block, LBAs and
 * counts near 2^64, segment lists one byte short or long, the write gate with
 * BLK_F_UNCHECKED, DMA reach and alignment at their limits. A check that let
 * any of these through would reach a driver (and a disk). */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "drivers/blk/check.h"
#include "lib/string.h"

static const struct blk_ops no_ops;

/* 1000 blocks of 512 bytes, writable in [100, 900). */
static struct blk_dev scratch_dev(void)
{
    struct blk_dev d;
    memset(&d, 0, sizeof(d));
    strlcpy(d.name, "fake0", sizeof(d.name));
    d.kind = "fake";
    d.block_size = 512;
    d.nblocks = 1000;
    d.max_transfer = 256;
    d.max_segs = 4;
    d.addr_align = 4;
    d.len_align = 4;
    d.dma_limit = 1ull << 32;
    d.caps = BLK_CAP_FLUSH | BLK_CAP_TRIM;
    d.nqueues = 1;
    d.queue_depth = 8;
    d.ops = &no_ops;
    d.writable = true;
    d.write_first = 100;
    d.write_end = 900;
    strlcpy(d.access, "scratch (test)", sizeof(d.access));
    return d;
}

static struct blk_seg one_seg;

static enum blk_cause check(const struct blk_dev *d, enum blk_op op, uint64_t lba, uint32_t count,
                            uint16_t flags)
{
    struct blk_request req;
    memset(&req, 0, sizeof(req));
    req.op = (uint8_t)op;
    req.lba = lba;
    req.count = count;
    req.flags = flags;
    one_seg.phys = 0x100000;
    one_seg.len = count * d->block_size;
    req.segs = &one_seg;
    req.nsegs = 1;
    return blk_check_request(d, &req);
}

HTEST(blk_check_write_gate_edges)
{
    struct blk_dev d = scratch_dev();
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 1, 0), BLK_OK);          /* first writable */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 899, 1, 0), BLK_OK);          /* last writable */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 800 > 256 ? 256 : 800, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 99, 1, 0), BLK_CAUSE_READ_ONLY);   /* one before */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 900, 1, 0), BLK_CAUSE_READ_ONLY);  /* one past */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 99, 2, 0), BLK_CAUSE_READ_ONLY);   /* crosses first */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 899, 2, 0), BLK_CAUSE_READ_ONLY);  /* crosses write_end */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 898, 2, 0), BLK_OK);
    /* Reads are not gated. */
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 0, 1, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 999, 1, 0), BLK_OK);
}

HTEST(blk_check_trim_and_write_zeroes_are_gated_like_writes)
{
    struct blk_dev d = scratch_dev();
    d.caps |= BLK_CAP_WRITE_ZEROES;
    HT_EXPECT_EQ(check(&d, BLK_OP_TRIM, 899, 1, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_TRIM, 899, 2, 0), BLK_CAUSE_READ_ONLY);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE_ZEROES, 99, 1, 0), BLK_CAUSE_READ_ONLY);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE_ZEROES, 100, 800 > 65535 ? 1 : 800, 0), BLK_OK);
    d.writable = false;
    HT_EXPECT_EQ(check(&d, BLK_OP_TRIM, 100, 1, 0), BLK_CAUSE_READ_ONLY);
}

HTEST(blk_check_device_end_edges)
{
    struct blk_dev d = scratch_dev();
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 999, 1, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 999, 2, 0), BLK_CAUSE_LBA_RANGE);   /* crosses by one */
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 1000, 1, 0), BLK_CAUSE_LBA_RANGE);
    /* A whole-disk scratch range: write_end is the device end. */
    d.write_first = 0;
    d.write_end = 1000;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 999, 1, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 999, 2, 0), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 1000, 1, 0), BLK_CAUSE_LBA_RANGE);
}

HTEST(blk_check_unchecked_lifts_only_the_read_end)
{
    struct blk_dev d = scratch_dev();
    d.write_first = 0;
    d.write_end = 1000;
    /* A negative test may ask the device about a read past its end... */
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 1000, 1, BLK_F_UNCHECKED), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 999, 8, BLK_F_UNCHECKED), BLK_OK);
    /* ...but a write never leaves the scratch range, flag or not. */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 1000, 1, BLK_F_UNCHECKED), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 999, 2, BLK_F_UNCHECKED), BLK_CAUSE_LBA_RANGE);
    d.write_end = 900;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 900, 1, BLK_F_UNCHECKED), BLK_CAUSE_READ_ONLY);
    HT_EXPECT_EQ(check(&d, BLK_OP_TRIM, 950, 1, BLK_F_UNCHECKED), BLK_CAUSE_READ_ONLY);
}

HTEST(blk_check_no_wrap_near_2_64)
{
    struct blk_dev d = scratch_dev();
    d.nblocks = UINT64_MAX;
    d.write_first = 1;
    d.write_end = UINT64_MAX;
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, UINT64_MAX - 1, 1, 0), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, UINT64_MAX - 1, 2, 0), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, UINT64_MAX, 1, 0), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, UINT64_MAX - 1, 1, 0), BLK_OK);
    /* lba + count wraps to a small number: must not look inside. */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, UINT64_MAX - 1, 4, 0), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, UINT64_MAX, 2, 0), BLK_CAUSE_LBA_RANGE);
    d.nblocks = 1000;
    d.write_end = 900;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, UINT64_MAX - 10, 20, 0), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, UINT64_MAX - 10, 20, BLK_F_UNCHECKED), BLK_OK);
}

HTEST(blk_check_a_broken_gate_is_refused)
{
    /* A scratch range the device cannot hold is a bareio bug: refuse. */
    struct blk_dev d = scratch_dev();
    d.write_end = 1001;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 1, 0), BLK_CAUSE_READ_ONLY);
    d = scratch_dev();
    d.writable = false;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 1, 0), BLK_CAUSE_READ_ONLY);
}

static enum blk_cause check_segs(const struct blk_dev *d, const struct blk_seg *segs,
                                 uint32_t nsegs, uint32_t count, struct blk_request *req)
{
    memset(req, 0, sizeof(*req));
    req->op = BLK_OP_READ;
    req->lba = 0;
    req->count = count;
    req->segs = segs;
    req->nsegs = nsegs;
    return blk_check_request(d, req);
}

HTEST(blk_check_segment_lists)
{
    struct blk_dev d = scratch_dev();
    struct blk_request req;
    struct blk_seg s[5] = {
        { 0x1000, 512, 0 }, { 0x3000, 1024, 0 }, { 0x8000, 512, 0 }, { 0x9000, 4, 0 },
        { 0xa000, 4, 0 },
    };
    HT_EXPECT_EQ(check_segs(&d, s, 3, 4, &req), BLK_OK);
    /* One block short of the request, one block long: refused before a driver. */
    HT_EXPECT_EQ(check_segs(&d, s, 2, 4, &req), BLK_CAUSE_INVALID);
    HT_EXPECT(strstr(req.detail, "segments hold 1536 bytes, 4 blocks need 2048") != NULL);
    HT_EXPECT_EQ(check_segs(&d, s, 3, 3, &req), BLK_CAUSE_INVALID);
    /* Four bytes long. */
    HT_EXPECT_EQ(check_segs(&d, s, 4, 4, &req), BLK_CAUSE_INVALID);
    /* More segments than the device takes. */
    HT_EXPECT_EQ(check_segs(&d, s, 5, 4, &req), BLK_CAUSE_INVALID);
    HT_EXPECT(strstr(req.detail, "at most 4") != NULL);
    HT_EXPECT_EQ(check_segs(&d, NULL, 1, 1, &req), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(check_segs(&d, s, 0, 1, &req), BLK_CAUSE_INVALID);
    struct blk_seg empty[2] = { { 0x1000, 512, 0 }, { 0x2000, 0, 0 } };
    HT_EXPECT_EQ(check_segs(&d, empty, 2, 1, &req), BLK_CAUSE_INVALID);
}

HTEST(blk_check_segment_alignment_and_reach)
{
    struct blk_dev d = scratch_dev();
    struct blk_request req;
    struct blk_seg s = { 0x1002, 512, 0 };
    HT_EXPECT_EQ(check_segs(&d, &s, 1, 1, &req), BLK_CAUSE_MISALIGNED);
    struct blk_seg parts[2] = { { 0x1000, 510, 0 }, { 0x2000, 2, 0 } };
    HT_EXPECT_EQ(check_segs(&d, parts, 2, 1, &req), BLK_CAUSE_MISALIGNED);
    /* Ends exactly at the limit: reachable; one byte further: not. */
    struct blk_seg edge = { (1ull << 32) - 512, 512, 0 };
    HT_EXPECT_EQ(check_segs(&d, &edge, 1, 1, &req), BLK_OK);
    edge.phys += 4;
    HT_EXPECT_EQ(check_segs(&d, &edge, 1, 1, &req), BLK_CAUSE_DMA_UNREACHABLE);
    /* A physical address that wraps. */
    d.dma_limit = UINT64_MAX;
    struct blk_seg wrap = { UINT64_MAX - 255, 512, 0 };
    HT_EXPECT_EQ(check_segs(&d, &wrap, 1, 1, &req), BLK_CAUSE_DMA_UNREACHABLE);
}

HTEST(blk_check_ops_flags_and_lengths)
{
    struct blk_dev d = scratch_dev();
    HT_EXPECT_EQ(check(&d, BLK_OP_COUNT, 100, 1, 0), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE_ZEROES, 100, 1, 0), BLK_CAUSE_INVALID);  /* no cap */
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 1, BLK_F_FUA), BLK_CAUSE_INVALID); /* no FUA */
    d.caps |= BLK_CAP_FUA;
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 1, BLK_F_FUA), BLK_OK);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 100, 1, BLK_F_FUA), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(check(&d, BLK_OP_READ, 100, 0, 0), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(check(&d, BLK_OP_WRITE, 100, 0, 0), BLK_CAUSE_INVALID);
    /* Flush covers the device: no LBA, no buffer, allowed on read-only devices. */
    d.writable = false;
    HT_EXPECT_EQ(check(&d, BLK_OP_FLUSH, 0, 0, 0), BLK_OK);
}
