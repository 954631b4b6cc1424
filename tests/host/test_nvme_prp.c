/* SPDX-License-Identifier: MIT */
/* tests/host/test_nvme_prp.c — the NVMe PRP builder (drivers/nvme/nvme_prp.c):
 * one page, offset PRP1, exactly two pages, one list page, list pages chained
 * at the exact page boundary, splitting offsets and the segment rules. Fake
 * physical addresses; the list pages are host arrays. */
#include "tests/host/htest.h"
#include "drivers/nvme/nvme.h"

#define PG 4096u
#define PER_PAGE (PG / 8)

static uint64_t list_mem[4][PER_PAGE];
static struct nvme_prp_page pages[4] = {
    { list_mem[0], 0x100000 }, { list_mem[1], 0x200000 },
    { list_mem[2], 0x300000 }, { list_mem[3], 0x400000 },
};

static void clear_lists(void) { memset(list_mem, 0xee, sizeof(list_mem)); }

HTEST(nvme_prp_one_page_no_prp2)
{
    struct blk_seg s = { 0x10000, 4096, 0 };
    struct nvme_prp p;
    HT_EXPECT(nvme_prp_build(&s, 1, 0, 4096, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x10000);
    HT_EXPECT_EQ(p.prp2, 0);
    HT_EXPECT_EQ(p.entries, 1);
    HT_EXPECT_EQ(p.list_pages, 0);
}

HTEST(nvme_prp_offset_prp1_crosses_into_prp2)
{
    /* 512 bytes at page offset 0xe00: 512 in the first page, none beyond. */
    struct blk_seg s = { 0x10e00, 1024, 0 };
    struct nvme_prp p;
    HT_EXPECT(nvme_prp_build(&s, 1, 0, 1024, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x10e00);
    HT_EXPECT_EQ(p.prp2, 0x11000);      /* the rest lands in the next page */
    HT_EXPECT_EQ(p.entries, 2);
}

HTEST(nvme_prp_offset_within_one_page)
{
    struct blk_seg s = { 0x10200, 512, 0 };
    struct nvme_prp p;
    HT_EXPECT(nvme_prp_build(&s, 1, 0, 512, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x10200);
    HT_EXPECT_EQ(p.prp2, 0);
}

HTEST(nvme_prp_exactly_two_pages)
{
    struct blk_seg s[2] = { { 0x10000, 4096, 0 }, { 0x30000, 4096, 0 } };
    struct nvme_prp p;
    HT_EXPECT(nvme_prp_build(s, 2, 0, 8192, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x10000);
    HT_EXPECT_EQ(p.prp2, 0x30000);      /* a page, not a list */
    HT_EXPECT_EQ(p.list_pages, 0);
}

HTEST(nvme_prp_three_pages_use_one_list)
{
    struct blk_seg s = { 0x10000, 3 * 4096, 0 };
    struct nvme_prp p;
    clear_lists();
    HT_EXPECT(nvme_prp_build(&s, 1, 0, 3 * 4096, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x10000);
    HT_EXPECT_EQ(p.prp2, pages[0].phys);
    HT_EXPECT_EQ(list_mem[0][0], 0x11000);
    HT_EXPECT_EQ(list_mem[0][1], 0x12000);
    HT_EXPECT_EQ(list_mem[0][2], 0xeeeeeeeeeeeeeeeeull);   /* nothing past the end */
    HT_EXPECT_EQ(p.entries, 3);
    HT_EXPECT_EQ(p.list_pages, 1);
}

HTEST(nvme_prp_full_list_page_needs_no_chain)
{
    /* PRP1 + 512 list entries: exactly one full list page, no chain pointer. */
    uint64_t bytes = (uint64_t)(PER_PAGE + 1) * PG;
    struct blk_seg s = { 0x1000000, (uint32_t)bytes, 0 };
    struct nvme_prp p;
    clear_lists();
    HT_EXPECT_EQ(nvme_prp_list_pages_for(PER_PAGE + 1, PG), 1);
    HT_EXPECT(nvme_prp_build(&s, 1, 0, bytes, PG, pages, 1, &p));
    HT_EXPECT_EQ(p.list_pages, 1);
    HT_EXPECT_EQ(list_mem[0][PER_PAGE - 1], 0x1000000 + (uint64_t)PER_PAGE * PG);
}

HTEST(nvme_prp_list_chains_at_page_boundary)
{
    /* One entry more than a page holds: the last slot of page 0 becomes the
     * chain pointer, its data entry moves to page 1 slot 0 with the last one. */
    uint64_t bytes = (uint64_t)(PER_PAGE + 2) * PG;
    struct blk_seg s = { 0x1000000, (uint32_t)bytes, 0 };
    struct nvme_prp p;
    clear_lists();
    HT_EXPECT_EQ(nvme_prp_list_pages_for(PER_PAGE + 2, PG), 2);
    HT_EXPECT(!nvme_prp_build(&s, 1, 0, bytes, PG, pages, 1, &p));    /* budget of one page */
    HT_EXPECT(nvme_prp_build(&s, 1, 0, bytes, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.list_pages, 2);
    HT_EXPECT_EQ(p.entries, PER_PAGE + 2);
    HT_EXPECT_EQ(list_mem[0][PER_PAGE - 2], 0x1000000 + (uint64_t)(PER_PAGE - 1) * PG);
    HT_EXPECT_EQ(list_mem[0][PER_PAGE - 1], pages[1].phys);
    HT_EXPECT_EQ(list_mem[1][0], 0x1000000 + (uint64_t)PER_PAGE * PG);
    HT_EXPECT_EQ(list_mem[1][1], 0x1000000 + (uint64_t)(PER_PAGE + 1) * PG);
    HT_EXPECT_EQ(list_mem[1][2], 0xeeeeeeeeeeeeeeeeull);
}

HTEST(nvme_prp_three_list_pages)
{
    /* 4 MiB + offset: 1025 entries, 1024 in lists of 511+511+2. */
    uint64_t bytes = 4u << 20;
    struct blk_seg s = { 0x2000200, (uint32_t)bytes, 0 };
    struct nvme_prp p;
    clear_lists();
    HT_EXPECT_EQ(nvme_prp_entry_count(0x200, bytes, PG), 1025);
    HT_EXPECT_EQ(nvme_prp_list_pages_for(1025, PG), 3);
    HT_EXPECT(nvme_prp_build(&s, 1, 0, bytes, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x2000200);
    HT_EXPECT_EQ(p.list_pages, 3);
    HT_EXPECT_EQ(list_mem[0][0], 0x2001000);
    HT_EXPECT_EQ(list_mem[0][PER_PAGE - 1], pages[1].phys);
    HT_EXPECT_EQ(list_mem[1][PER_PAGE - 1], pages[2].phys);
    HT_EXPECT_EQ(list_mem[2][1], 0x2000000 + 1024ull * PG);
    HT_EXPECT_EQ(list_mem[2][2], 0xeeeeeeeeeeeeeeeeull);
}

HTEST(nvme_prp_split_offset_walks_segments)
{
    /* Bytes 8192..16383 of three page-sized-or-larger segments. */
    struct blk_seg s[3] = { { 0x10000, 4096, 0 }, { 0x50000, 8192, 0 }, { 0x90000, 4096, 0 } };
    struct nvme_prp p;
    HT_EXPECT(nvme_prp_build(s, 3, 8192, 8192, PG, pages, 4, &p));
    HT_EXPECT_EQ(p.prp1, 0x51000);
    HT_EXPECT_EQ(p.prp2, 0x90000);
}

HTEST(nvme_prp_segments_follow_the_rules)
{
    char why[160];
    struct blk_seg ok[2] = { { 0x10200, 0xe00, 0 }, { 0x20000, 0x200, 0 } };
    struct blk_seg late_offset[2] = { { 0x10000, 4096, 0 }, { 0x20200, 512, 0 } };
    struct blk_seg short_middle[2] = { { 0x10000, 2048, 0 }, { 0x20000, 4096, 0 } };
    struct blk_seg odd[1] = { { 0x10002, 512, 0 } };
    HT_EXPECT_EQ(nvme_prp_check(ok, 2, PG, why, sizeof(why)), -1);
    HT_EXPECT_EQ(nvme_prp_check(late_offset, 2, PG, why, sizeof(why)), 1);
    HT_EXPECT(strstr(why, "does not start on a 4096-byte memory page") != NULL);
    HT_EXPECT_EQ(nvme_prp_check(short_middle, 2, PG, why, sizeof(why)), 0);
    HT_EXPECT(strstr(why, "not on a 4096-byte memory page") != NULL);
    HT_EXPECT_EQ(nvme_prp_check(odd, 1, PG, why, sizeof(why)), 0);
    HT_EXPECT(strstr(why, "dword") != NULL);
}

HTEST(nvme_prp_refuses_segments_that_break_rules)
{
    /* Built anyway (unchecked): the builder notices the bytes do not fit. */
    struct blk_seg s[2] = { { 0x10000, 2048, 0 }, { 0x20000, 2048, 0 } };
    struct nvme_prp p;
    HT_EXPECT(!nvme_prp_build(s, 2, 0, 4096, PG, pages, 4, &p));
}

/* One SGL Data Block for a part inside one segment (NVMe 1.4 §4.4):
 * address and length in the data pointer, identifier byte 00h; a part that
 * spans segments, is empty or longer than 32 bits is left to PRPs. */
HTEST(nvme_sgl_single_data_block)
{
    struct blk_seg segs[3] = { { 0x10000200, 0x3000, 0 }, { 0x20000000, 0x100000, 0 },
                               { 0x30000000, 0x1000, 0 } };
    uint64_t d1 = 0, d2 = 0;
    HT_EXPECT(nvme_sgl_single(segs, 3, 0, 0x3000, &d1, &d2));
    HT_EXPECT_EQ(d1, 0x10000200ull);
    HT_EXPECT_EQ(d2, 0x3000ull);                        /* length, type 0 subtype 0 */
    HT_EXPECT(nvme_sgl_single(segs, 3, 0x3000 + 0x8000, 0x20000, &d1, &d2));
    HT_EXPECT_EQ(d1, 0x20008000ull);                    /* offset into the second segment */
    HT_EXPECT_EQ(d2, 0x20000ull);
    HT_EXPECT(nvme_sgl_single(segs, 3, 0x103000, 0x1000, &d1, &d2));
    HT_EXPECT_EQ(d1, 0x30000000ull);
    HT_EXPECT(!nvme_sgl_single(segs, 3, 0x2000, 0x2000, &d1, &d2));   /* spans two */
    HT_EXPECT(!nvme_sgl_single(segs, 3, 0, 0, &d1, &d2));              /* empty */
    HT_EXPECT(!nvme_sgl_single(segs, 3, 0x104000, 0x200, &d1, &d2));   /* past the end */
    struct blk_seg huge = { 0x100000000ull, 0xfffffe00u, 0 };
    HT_EXPECT(nvme_sgl_single(&huge, 1, 0, 0xfffffe00u, &d1, &d2));
    HT_EXPECT_EQ(d2, 0xfffffe00ull);
    HT_EXPECT(!nvme_sgl_single(&huge, 1, 0, 0x100000000ull, &d1, &d2)); /* over 32 bits */
}
