/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_stamp.c — data stamps and the extent map (lib/stamp.c):
 * any block classifies without reading past it (as written or deallocated);
 * any sequence of set/clear/deallocate operations (LBAs and counts anywhere
 * up to 2^64) leaves a sorted map of non-empty, non-overlapping extents that
 * agrees with find(), a deallocate never makes known blocks of unknown ones
 * (nor the other way), and a range that wraps past 2^64 is refused and marks
 * the map incomplete. */
#include "tests/fuzz/fuzz.h"
#include "lib/stamp.h"
#include "lib/string.h"

static void check_map(const struct stamp_map *m)
{
    for (uint32_t i = 0; i < m->count; i++) {
        const struct stamp_extent *e = &m->ext[i];
        FUZZ_ASSERT(e->count > 0 && e->count <= UINT64_MAX - e->lba);
        if (i > 0)
            FUZZ_ASSERT(m->ext[i - 1].lba + m->ext[i - 1].count <= e->lba);
        FUZZ_ASSERT(stamp_map_find(m, e->lba) == e);
        FUZZ_ASSERT(stamp_map_find(m, e->lba + e->count - 1) == e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint32_t bs = 512u << (fuzz_u8(&in) % 8);
    static uint8_t block[65536];
    memset(block, 0, bs);
    size_t copy = in.n < bs ? in.n : bs;
    memcpy(block, in.p, copy);
    struct stamp_key k = { .seed = fuzz_u64(&in), .gen = fuzz_u64(&in) };
    memcpy(k.identity, block, 16);
    struct stamp_result r;
    uint64_t block_lba = fuzz_edgy64(&in);
    bool kept;
    stamp_check(block, bs, &k, block_lba, &r);
    if (stamp_check_deallocated(block, bs, &k, block_lba, &r, &kept) != STAMP_OK)
        FUZZ_ASSERT(!kept && r.status != STAMP_ZERO);
    struct stamp_header h;
    stamp_parse_header(block, &h);
    FUZZ_ASSERT(stamp_first_nonzero(block, bs) <= bs);

    static struct stamp_extent store[8];
    struct stamp_map m;
    stamp_map_init(&m, store, 8);
    while (in.n) {
        uint8_t op = fuzz_u8(&in);
        uint64_t lba = fuzz_edgy64(&in), count = fuzz_edgy64(&in);
        uint64_t known = stamp_map_blocks(&m);
        bool deallocate = (op & 7) == 6;
        bool ok = op & 1 ? stamp_map_clear(&m, lba, count)
                  : deallocate ? stamp_map_deallocate(&m, lba, count)
                  : stamp_map_set(&m, lba, count, op & 2 ? STAMP_EXTENT_ZERO : STAMP_EXTENT_STAMPED,
                                  op);
        if (count > UINT64_MAX - lba)
            FUZZ_ASSERT(!ok && m.overflowed);
        else if (!ok)
            FUZZ_ASSERT(m.overflowed);
        else if (deallocate)
            FUZZ_ASSERT(stamp_map_blocks(&m) == known);
        check_map(&m);
    }
    return 0;
}
