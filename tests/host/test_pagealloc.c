/* SPDX-License-Identifier: MIT */
/* tests/host/test_pagealloc.c — lib/pagealloc.c: span lists built from messy
 * memory maps, and the allocator's placement rules, exhaustion, fragmentation
 * and free checks. */
#include "tests/host/htest.h"
#include "tests/host/rename.h"
#include "lib/pagealloc.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PG PAGEALLOC_PAGE_SIZE

/* Bitmap storage for test allocators: enough for 8 GiB of pages. */
static uint64_t storage[2 * (8 * GiB / PG) / 64 + 64];

static struct pagealloc pa;

/* An allocator over the given ranges (base, size pairs), storage carved in turn. */
static void setup(const uint64_t *ranges, unsigned n)
{
    uint64_t *next = storage;
    pagealloc_init(&pa);
    for (unsigned i = 0; i < n; i++) {
        HT_EXPECT_EQ(pagealloc_add_range(&pa, ranges[2 * i], ranges[2 * i + 1], next), PAGEALLOC_OK);
        next += pagealloc_storage_bytes(ranges[2 * i + 1]) / sizeof(uint64_t);
    }
}

static uint64_t alloc(uint64_t size, uint64_t align, uint64_t boundary, uint64_t lo, uint64_t hi)
{
    uint64_t addr = 0;
    enum pagealloc_status st = pagealloc_alloc(&pa, size, align, boundary, lo, hi, &addr);
    return st == PAGEALLOC_OK ? addr : UINT64_MAX;
}

static bool spans_are(const struct span_list *l, const uint64_t *expect, size_t n)
{
    if (l->count != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (l->spans[i].base != expect[2 * i] || l->spans[i].end != expect[2 * i + 1])
            return false;
    return true;
}

HTEST(span_list_merges_unsorted_overlapping_entries)
{
    struct span s[8];
    struct span_list l;
    span_list_init(&l, s, 8);
    span_list_add(&l, 0x500000, 0x600000);
    span_list_add(&l, 0x100000, 0x200000);
    span_list_add(&l, 0x180000, 0x300000);      /* overlaps the second */
    span_list_add(&l, 0x300000, 0x380000);      /* touches: merged */
    span_list_add(&l, 0x000000, 0x9f000);
    const uint64_t expect[] = { 0x0, 0x9f000, 0x100000, 0x380000, 0x500000, 0x600000 };
    HT_EXPECT(spans_are(&l, expect, 3));
    span_list_add(&l, 0x50000, 0x550000);       /* swallows everything up to the last */
    const uint64_t expect2[] = { 0x0, 0x600000 };
    HT_EXPECT(spans_are(&l, expect2, 1));
    HT_EXPECT(!l.overflowed);
}

HTEST(span_list_remove_clips_and_splits)
{
    struct span s[8];
    struct span_list l;
    span_list_init(&l, s, 8);
    span_list_add(&l, 0, 0x1000000);
    span_list_add(&l, 0x2000000, 0x3000000);
    span_list_remove(&l, 0, 0x100000);              /* low 1 MiB */
    span_list_remove(&l, 0x200000, 0x280000);       /* a hole inside: split */
    span_list_remove(&l, 0xf00000, 0x2100000);      /* clips both ends across a gap */
    span_list_remove(&l, 0x2800000, 0x4000000);     /* clips the tail */
    const uint64_t expect[] = { 0x100000, 0x200000, 0x280000, 0xf00000, 0x2100000, 0x2800000 };
    HT_EXPECT(spans_are(&l, expect, 3));
    span_list_remove(&l, 0, UINT64_MAX);
    HT_EXPECT_EQ(l.count, 0);
}

HTEST(span_list_trims_to_whole_pages)
{
    struct span s[4];
    struct span_list l;
    span_list_init(&l, s, 4);
    span_list_add(&l, 0x100, 0x9fc00);
    span_list_add(&l, 0x100800, 0x100c00);          /* less than a page: dropped */
    span_list_add(&l, 0x200001, 0x300fff);
    span_list_trim_to_pages(&l);
    const uint64_t expect[] = { 0x1000, 0x9f000, 0x201000, 0x300000 };
    HT_EXPECT(spans_are(&l, expect, 2));
    HT_EXPECT_EQ(span_list_bytes(&l), 0x9e000 + 0xff000);
}

HTEST(span_list_reports_overflow)
{
    struct span s[2];
    struct span_list l;
    span_list_init(&l, s, 2);
    span_list_add(&l, 0x1000, 0x2000);
    span_list_add(&l, 0x3000, 0x4000);
    span_list_add(&l, 0x5000, 0x6000);
    HT_EXPECT(l.overflowed);
    HT_EXPECT_EQ(l.count, 2);
}

HTEST(pagealloc_rejects_overlapping_ranges)
{
    pagealloc_init(&pa);
    HT_EXPECT_EQ(pagealloc_add_range(&pa, 0x100000, 0x100000, storage), PAGEALLOC_OK);
    HT_EXPECT_EQ(pagealloc_add_range(&pa, 0x180000, 0x100000, storage + 64), PAGEALLOC_OVERLAP);
    HT_EXPECT_EQ(pagealloc_add_range(&pa, 0x80000, 0x81000, storage + 64), PAGEALLOC_OVERLAP);
    HT_EXPECT_EQ(pagealloc_add_range(&pa, 0x80000, 0x80800, storage + 64), PAGEALLOC_BAD_ARGUMENT);
    HT_EXPECT_EQ(pagealloc_add_range(&pa, 0x80000, 0x80000, storage + 64), PAGEALLOC_OK);
    HT_EXPECT_EQ(pa.ranges[0].base, 0x80000);       /* kept sorted */
    HT_EXPECT_EQ(pa.total_pages, (0x100000 + 0x80000) / PG);
}

HTEST(pagealloc_alignment)
{
    const uint64_t r[] = { 0x101000, 16 * MiB };
    setup(r, 1);
    HT_EXPECT_EQ(alloc(PG, 0, 0, 0, UINT64_MAX), UINT64_MAX);      /* align 0 is not a power of two */
    HT_EXPECT_EQ(alloc(100, 1, 0, 0, UINT64_MAX), 0x101000);       /* below a page: a page */
    for (uint64_t a = PG; a <= 4 * MiB; a <<= 1) {
        uint64_t addr = alloc(PG, a, 0, 0, UINT64_MAX);
        HT_EXPECT(addr != UINT64_MAX);
        HT_EXPECT_EQ(addr % a, 0);
        HT_EXPECT(addr >= 0x101000 && addr + PG <= 0x101000 + 16 * MiB);
    }
    HT_EXPECT_EQ(alloc(PG, 3 * PG, 0, 0, UINT64_MAX), UINT64_MAX);
    /* 32 MiB alignment cannot be met inside 0x101000 + 16 MiB. */
    HT_EXPECT_EQ(alloc(PG, 32 * MiB, 0, 0, UINT64_MAX), UINT64_MAX);
}

HTEST(pagealloc_boundary_moves_past_crossing)
{
    const uint64_t r[] = { 0x100000, 4 * MiB };
    setup(r, 1);
    /* Fill up to 56 KiB into the first 64 KiB block. */
    HT_EXPECT_EQ(alloc(56 * KiB, PG, 0, 0, UINT64_MAX), 0x100000);
    /* 16 KiB at 0x10e000 would cross 0x110000: it goes to 0x110000. */
    HT_EXPECT_EQ(alloc(16 * KiB, PG, 64 * KiB, 0, UINT64_MAX), 0x110000);
    /* Without the boundary, the hole before it is used. */
    HT_EXPECT_EQ(alloc(8 * KiB, PG, 0, 0, UINT64_MAX), 0x10e000);
    /* The boundary applies to the requested bytes, not the page round-up:
     * 64 KiB exactly at a 64 KiB boundary fits. */
    uint64_t a = alloc(64 * KiB, PG, 64 * KiB, 0, UINT64_MAX);
    HT_EXPECT_EQ(a % (64 * KiB), 0);
    /* A 4 KiB boundary with a 512-byte request is always met. */
    HT_EXPECT(alloc(512, 512, 4 * KiB, 0, UINT64_MAX) != UINT64_MAX);
    /* Bad boundaries. */
    HT_EXPECT_EQ(alloc(8 * KiB, PG, 4 * KiB, 0, UINT64_MAX), UINT64_MAX);
    HT_EXPECT_EQ(alloc(PG, PG, 3 * PG, 0, UINT64_MAX), UINT64_MAX);
    uint64_t out;
    HT_EXPECT_EQ(pagealloc_alloc(&pa, 8 * KiB, PG, 4 * KiB, 0, UINT64_MAX, &out), PAGEALLOC_BAD_ARGUMENT);
    HT_EXPECT_EQ(pagealloc_alloc(&pa, 0, PG, 0, 0, UINT64_MAX, &out), PAGEALLOC_BAD_ARGUMENT);
}

HTEST(pagealloc_boundary_every_result_holds)
{
    const uint64_t r[] = { 0x100000, 8 * MiB };
    setup(r, 1);
    for (int i = 0; i < 200; i++) {
        uint64_t size = (uint64_t)(i % 13 + 1) * 3 * KiB;          /* up to 39 KiB */
        uint64_t a = alloc(size, PG, 64 * KiB, 0, UINT64_MAX);
        HT_EXPECT(a != UINT64_MAX);
        HT_EXPECT_EQ(a / (64 * KiB), (a + size - 1) / (64 * KiB));
    }
}

HTEST(pagealloc_placement_ranges)
{
    const uint64_t r[] = { 0x100000, 0x7ff00000, 4 * GiB, 2 * GiB };
    setup(r, 2);
    HT_EXPECT_EQ(pagealloc_total_in(&pa, 0, 4 * GiB), 0x7ff00000);
    HT_EXPECT_EQ(pagealloc_total_in(&pa, 4 * GiB, UINT64_MAX), 2 * GiB);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 4 * GiB, UINT64_MAX), 4 * GiB);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0, 4 * GiB), 0x100000);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0x200000, 0x300000), 0x200000);
    /* A run must lie wholly below hi. */
    HT_EXPECT_EQ(alloc(2 * PG, PG, 0, 0x7fffe000, 0x7ffff000), UINT64_MAX);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0x7fffe000, 0x7ffff000), 0x7fffe000);
    /* Nothing managed in [2 GiB, 4 GiB). */
    HT_EXPECT_EQ(alloc(PG, PG, 0, 2 * GiB, 4 * GiB), UINT64_MAX);
    /* With a page taken at 1 GiB, no run below 4 GiB holds 1.5 GiB. */
    HT_EXPECT_EQ(alloc(PG, PG, 0, 1 * GiB, 4 * GiB), 1 * GiB);
    HT_EXPECT_EQ(alloc(3 * GiB / 2, 2 * MiB, 0, 0, UINT64_MAX), 4 * GiB + 2 * MiB);
}

HTEST(pagealloc_exhaustion_and_free_returns_space)
{
    const uint64_t r[] = { 0x100000, 64 * PG };
    setup(r, 1);
    uint64_t addrs[64];
    for (int i = 0; i < 64; i++) {
        addrs[i] = alloc(PG, PG, 0, 0, UINT64_MAX);
        HT_EXPECT_EQ(addrs[i], 0x100000 + (uint64_t)i * PG);
    }
    HT_EXPECT_EQ(pa.free_pages, 0);
    uint64_t out;
    HT_EXPECT_EQ(pagealloc_alloc(&pa, PG, PG, 0, 0, UINT64_MAX, &out), PAGEALLOC_NO_SPACE);
    HT_EXPECT_EQ(pagealloc_free(&pa, addrs[17], PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(pa.free_pages, 1);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0, UINT64_MAX), addrs[17]);
    for (int i = 0; i < 64; i++)
        HT_EXPECT_EQ(pagealloc_free(&pa, addrs[i], PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(pa.free_pages, 64);
    HT_EXPECT_EQ(alloc(64 * PG, PG, 0, 0, UINT64_MAX), 0x100000);
}

HTEST(pagealloc_fragmentation)
{
    const uint64_t r[] = { 0x100000, 64 * PG };
    setup(r, 1);
    uint64_t addrs[32];
    for (int i = 0; i < 32; i++)
        addrs[i] = alloc(2 * PG, PG, 0, 0, UINT64_MAX);
    /* Free every other pair: 32 free pages, but no run longer than 2. */
    for (int i = 0; i < 32; i += 2)
        HT_EXPECT_EQ(pagealloc_free(&pa, addrs[i], 2 * PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(pa.free_pages, 32);
    HT_EXPECT_EQ(alloc(3 * PG, PG, 0, 0, UINT64_MAX), UINT64_MAX);
    HT_EXPECT_EQ(alloc(2 * PG, PG, 0, 0, UINT64_MAX), addrs[0]);
    /* Free one neighbour: a 4-page run appears after addrs[2]'s predecessor. */
    HT_EXPECT_EQ(pagealloc_free(&pa, addrs[3], 2 * PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(alloc(4 * PG, PG, 0, 0, UINT64_MAX), addrs[2]);
}

HTEST(pagealloc_free_detects_misuse_without_damage)
{
    const uint64_t r[] = { 0x100000, 64 * PG };
    setup(r, 1);
    uint64_t a = alloc(4 * PG, PG, 0, 0, UINT64_MAX);
    uint64_t b = alloc(2 * PG, PG, 0, 0, UINT64_MAX);
    uint64_t free_before = pa.free_pages;
    HT_EXPECT_EQ(pagealloc_free(&pa, a + PG, PG), PAGEALLOC_NOT_START);
    HT_EXPECT_EQ(pagealloc_free(&pa, a, 2 * PG), PAGEALLOC_WRONG_SIZE);     /* too short */
    HT_EXPECT_EQ(pagealloc_free(&pa, a, 6 * PG), PAGEALLOC_WRONG_SIZE);     /* runs into b */
    HT_EXPECT_EQ(pagealloc_free(&pa, b, 3 * PG), PAGEALLOC_WRONG_SIZE);     /* into free space */
    HT_EXPECT_EQ(pagealloc_free(&pa, 0x120000, PG), PAGEALLOC_NOT_ALLOCATED);
    HT_EXPECT_EQ(pagealloc_free(&pa, 0x80000, PG), PAGEALLOC_NOT_MANAGED);
    HT_EXPECT_EQ(pagealloc_free(&pa, a + 8, PG), PAGEALLOC_NOT_MANAGED);
    HT_EXPECT_EQ(pagealloc_free(&pa, 0x100000 + 63 * PG, 0), PAGEALLOC_BAD_ARGUMENT);
    HT_EXPECT_EQ(pa.free_pages, free_before);
    /* Sizes that round to the same pages are the same allocation. */
    HT_EXPECT_EQ(pagealloc_free(&pa, a, 3 * PG + 1), PAGEALLOC_OK);
    HT_EXPECT_EQ(pagealloc_free(&pa, a, 4 * PG), PAGEALLOC_NOT_ALLOCATED);  /* double free */
    HT_EXPECT_EQ(pagealloc_free(&pa, b, 2 * PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(pa.free_pages, 64);
    HT_EXPECT_EQ(alloc(64 * PG, PG, 0, 0, UINT64_MAX), 0x100000);
}

HTEST(pagealloc_adjacent_allocations_free_independently)
{
    const uint64_t r[] = { 0x100000, 16 * PG };
    setup(r, 1);
    uint64_t a = alloc(PG, PG, 0, 0, UINT64_MAX), b = alloc(PG, PG, 0, 0, UINT64_MAX);
    HT_EXPECT_EQ(b, a + PG);
    /* a's length check must see b as a separate allocation, not a's tail. */
    HT_EXPECT_EQ(pagealloc_free(&pa, a, PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(pagealloc_free(&pa, b, PG), PAGEALLOC_OK);
}

HTEST(pagealloc_reserve)
{
    const uint64_t r[] = { 0x100000, 64 * PG };
    setup(r, 1);
    HT_EXPECT_EQ(pagealloc_reserve(&pa, 0x100800, 0x1000), PAGEALLOC_OK);  /* rounds out: 2 pages */
    HT_EXPECT_EQ(pa.free_pages, 62);
    HT_EXPECT_EQ(pagealloc_reserve(&pa, 0x101000, PG), PAGEALLOC_NO_SPACE);
    HT_EXPECT_EQ(pagealloc_reserve(&pa, 0x13f000, 2 * PG), PAGEALLOC_NOT_MANAGED);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0, UINT64_MAX), 0x102000);
    HT_EXPECT_EQ(pagealloc_free(&pa, 0x100000, 2 * PG), PAGEALLOC_OK);
}

HTEST(pagealloc_search_spans_large_taken_areas)
{
    /* 8 GiB of pages, all but the last taken: the word skipping must find it. */
    const uint64_t r[] = { 0, 8 * GiB };
    setup(r, 1);
    HT_EXPECT_EQ(pagealloc_reserve(&pa, 0, 8 * GiB - PG), PAGEALLOC_OK);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0, UINT64_MAX), 8 * GiB - PG);
    HT_EXPECT_EQ(alloc(PG, PG, 0, 0, UINT64_MAX), UINT64_MAX);
    HT_EXPECT_STREQ(pagealloc_status_name(PAGEALLOC_NOT_ALLOCATED),
                    "not allocated (double free, or never handed out)");
}
