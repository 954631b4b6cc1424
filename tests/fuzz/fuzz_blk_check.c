/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_blk_check.c — the block layer's request checks
 * (drivers/blk/check.c) on any device description and request: what passes
 * lies inside the device (a read flagged BLK_F_UNCHECKED excepted), a write,
 * trim or write-zeroes that passes lies inside [write_first, write_end) of a
 * writable device, and the segments of a passed read or write add up to
 * exactly its bytes, aligned and within the controller's reach. */
#include "tests/fuzz/fuzz.h"
#include "drivers/blk/check.h"
#include "lib/string.h"

static const struct blk_ops no_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct blk_dev d;
    memset(&d, 0, sizeof d);
    strlcpy(d.name, "fuzz0", sizeof d.name);
    d.kind = "fuzz";
    d.block_size = 512u << (fuzz_u8(&in) % 8);
    d.nblocks = fuzz_edgy64(&in);
    d.max_segs = 1 + fuzz_u8(&in) % 8;
    d.addr_align = 1u << (fuzz_u8(&in) % 13);
    d.len_align = 1u << (fuzz_u8(&in) % 13);
    d.dma_limit = fuzz_edgy64(&in);
    d.caps = fuzz_u32(&in);
    d.ops = &no_ops;
    d.writable = fuzz_u8(&in) & 1;
    d.write_first = fuzz_edgy64(&in);
    d.write_end = fuzz_edgy64(&in);

    struct blk_seg segs[8];
    struct blk_request req;
    memset(&req, 0, sizeof req);
    req.op = fuzz_u8(&in) % (BLK_OP_COUNT + 1);
    req.flags = (uint16_t)fuzz_take(&in, 2);
    req.lba = fuzz_edgy64(&in);
    req.count = (uint32_t)fuzz_edgy64(&in);
    req.nsegs = fuzz_u8(&in) % 9;
    for (uint32_t i = 0; i < 8; i++) {
        segs[i].phys = fuzz_edgy64(&in);
        segs[i].len = (uint32_t)fuzz_edgy64(&in);
        segs[i].reserved = 0;
    }
    req.segs = segs;
    if (blk_check_request(&d, &req) != BLK_OK) {
        FUZZ_ASSERT(req.cause != BLK_OK && req.detail[0]);
        return 0;
    }
    if (req.op == BLK_OP_FLUSH)
        return 0;
    FUZZ_ASSERT(req.count > 0);
    bool in_device = req.lba < d.nblocks && req.count <= d.nblocks - req.lba;
    FUZZ_ASSERT(in_device || (req.op == BLK_OP_READ && (req.flags & BLK_F_UNCHECKED)));
    if (blk_op_writes((enum blk_op)req.op)) {
        FUZZ_ASSERT(d.writable && in_device);
        FUZZ_ASSERT(req.lba >= d.write_first && req.lba < d.write_end);
        FUZZ_ASSERT(req.count <= d.write_end - req.lba && d.write_end <= d.nblocks);
    }
    if (req.op == BLK_OP_READ || req.op == BLK_OP_WRITE) {
        uint64_t total = 0;
        FUZZ_ASSERT(req.nsegs >= 1 && req.nsegs <= d.max_segs);
        for (uint32_t i = 0; i < req.nsegs; i++) {
            FUZZ_ASSERT(segs[i].phys % d.addr_align == 0 && segs[i].len % d.len_align == 0);
            FUZZ_ASSERT(segs[i].phys < d.dma_limit && segs[i].len <= d.dma_limit - segs[i].phys);
            total += segs[i].len;
        }
        FUZZ_ASSERT(total == (uint64_t)req.count * d.block_size);
    }
    return 0;
}
