/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_memory.c — suite `memory`: the allocator against the real
 * boot memory map, dma_alloc()'s placement and argument rules, checked frees,
 * and the page tables as the CPU sees them (walked from CR3 here, independently
 * of kernel/paging.c), and the harness's part: case buffers it frees, leak
 * reports that name the owner. Every case frees what it takes with
 * dma_alloc(). */
#include "tests/harness/ktest.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "kernel/symbols.h"
#include "lib/string.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define FOUR_GIB (4 * GiB)

#define PTE_P    (1ull << 0)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

extern char __kernel_start[], __kernel_end[];

/* The leaf entry mapping `addr` (0 when not present) and its page size. */
static uint64_t walk(uint64_t addr, uint64_t *page_size)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    const uint64_t *table = phys_to_virt(cr3 & PTE_ADDR);
    for (unsigned shift = 39;; shift -= 9) {
        uint64_t entry = table[(addr >> shift) & 511];
        if (!(entry & PTE_P))
            return 0;
        if (shift == 12 || (entry & PTE_PS)) {
            *page_size = 1ull << shift;
            return entry;
        }
        table = phys_to_virt(entry & PTE_ADDR);
    }
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a + a_size;
}

static void memory_map_has_usable_ram(struct ktest *t)
{
    uint64_t usable = 0;
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (boot_info.mem[i].type == MEM_USABLE)
            usable += boot_info.mem[i].length;
    ktest_diag(t, "boot map from %s: %u entries, %llu KiB usable; allocator: %llu KiB below 4G, %llu KiB above",
               boot_info.mem_source, boot_info.mem_count, (unsigned long long)(usable / KiB),
               (unsigned long long)(memory_total_below_4g() / KiB),
               (unsigned long long)(memory_total_above_4g() / KiB));
    KT_ASSERT(t, usable > 0);
    KT_EXPECT(t, memory_total_below_4g() > 0);
    /* The allocator holds less than the map says: low 1 MiB and the kernel are out. */
    uint64_t managed = memory_total_below_4g() + memory_total_above_4g();
    uint64_t kernel = (uint64_t)(uintptr_t)__kernel_end - (uint64_t)(uintptr_t)__kernel_start;
    KT_EXPECT(t, managed + kernel <= usable);
    KT_EXPECT(t, memory_free_bytes() <= managed);
    KT_EXPECT(t, memory_free_bytes() > 0);
}

static void dma_alloc_avoids_kernel_and_low_memory(struct ktest *t)
{
    struct dma_region r[16];
    uint64_t kstart = (uint64_t)(uintptr_t)__kernel_start, kend = (uint64_t)(uintptr_t)__kernel_end;
    for (int i = 0; i < 16; i++) {
        r[i] = dma_alloc(64 * KiB, 0, 0, DMA_BELOW_4G);
        if (!KT_EXPECT(t, r[i].virt != NULL))
            continue;
        KT_EXPECT(t, r[i].phys >= 0x100000);
        KT_EXPECT(t, !overlaps(r[i].phys, r[i].size, kstart, kend));
        for (int j = 0; j < i; j++)
            KT_EXPECT(t, !r[j].virt || !overlaps(r[i].phys, r[i].size, r[j].phys, r[j].phys + r[j].size));
        /* No firmware area either. */
        for (unsigned k = 0; k < boot_info.mem_count; k++) {
            const struct mem_region *m = &boot_info.mem[k];
            if (m->type != MEM_USABLE)
                KT_EXPECT(t, !overlaps(r[i].phys, r[i].size, m->base, m->base + m->length));
        }
    }
    for (int i = 0; i < 16; i++)
        dma_free(&r[i]);
}

static void dma_alloc_is_zeroed_and_aligned(struct ktest *t)
{
    static const uint64_t aligns[] = { 0, 512, 4 * KiB, 8 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 2 * MiB };
    /* Twice: the second round gets the pages the first dirtied, so zeroing is real. */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
            uint64_t size = 3 * KiB + i * 5 * KiB;
            struct dma_region r = dma_alloc(size, aligns[i], 0, DMA_ANYWHERE);
            if (!KT_EXPECT(t, r.virt != NULL))
                continue;
            uint64_t want = aligns[i] ? aligns[i] : 4096;
            KT_EXPECT_EQ(t, r.phys % want, 0);
            KT_EXPECT_EQ(t, r.size, size);
            KT_EXPECT(t, virt_to_phys(r.virt) == r.phys);
            const uint8_t *p = r.virt;
            uint64_t nonzero = 0;
            for (uint64_t b = 0; b < size; b++)
                nonzero += p[b] != 0;
            KT_EXPECT_EQ(t, nonzero, 0);
            memset(r.virt, 0xa5, size);
            dma_free(&r);
        }
    }
}

static void dma_alloc_respects_boundary(struct ktest *t)
{
    /* Fill to 56 KiB into a 64 KiB block, so first fit alone would cross. */
    struct dma_region filler = dma_alloc(56 * KiB, 64 * KiB, 0, DMA_BELOW_4G);
    KT_ASSERT(t, filler.virt != NULL);
    static const uint64_t sizes[] = { 4 * KiB, 12 * KiB, 16 * KiB, 33 * KiB, 60 * KiB, 64 * KiB };
    struct dma_region r[6];
    for (size_t i = 0; i < 6; i++) {
        r[i] = dma_alloc(sizes[i], 0, 64 * KiB, DMA_BELOW_4G);
        if (!KT_EXPECT(t, r[i].virt != NULL))
            continue;
        KT_EXPECT_EQ(t, r[i].phys / (64 * KiB), (r[i].phys + sizes[i] - 1) / (64 * KiB));
    }
    /* A 4 KiB boundary with 512-byte requests (AHCI PRDT style). */
    struct dma_region small = dma_alloc(512, 512, 4 * KiB, DMA_BELOW_4G);
    KT_EXPECT(t, small.virt != NULL);
    KT_EXPECT_EQ(t, small.phys / (4 * KiB), (small.phys + 511) / (4 * KiB));
    dma_free(&small);
    for (size_t i = 0; i < 6; i++)
        dma_free(&r[i]);
    dma_free(&filler);
}

static void write_and_check_pattern(struct ktest *t, struct dma_region *r)
{
    volatile uint64_t *q = r->virt;
    uint64_t words = r->size / 8;
    for (uint64_t i = 0; i < words; i++)
        q[i] = r->phys ^ (i * 0x9e3779b97f4a7c15ull);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < words; i++)
        bad += q[i] != (r->phys ^ (i * 0x9e3779b97f4a7c15ull));
    KT_EXPECT_EQ(t, bad, 0);
}

static void dma_alloc_below_4g(struct ktest *t)
{
    struct dma_region r = dma_alloc(256 * KiB, 0, 0, DMA_BELOW_4G);
    KT_ASSERT(t, r.virt != NULL);
    KT_EXPECT(t, r.phys + r.size <= FOUR_GIB);
    write_and_check_pattern(t, &r);
    dma_free(&r);
}

static void dma_alloc_above_4g(struct ktest *t)
{
    if (!memory_total_above_4g()) {
        ktest_skip(t, "no RAM above 4 GiB (boot with -m 6G on q35)");
        return;
    }
    struct dma_region r = dma_alloc(1 * MiB, 2 * MiB, 0, DMA_ABOVE_4G);
    KT_ASSERT(t, r.virt != NULL);
    ktest_diag(t, "above 4G at %#llx", (unsigned long long)r.phys);
    KT_EXPECT(t, r.phys >= FOUR_GIB);
    KT_EXPECT_EQ(t, r.phys % (2 * MiB), 0);
    write_and_check_pattern(t, &r);
    dma_free(&r);
}

static void dma_alloc_above_4g_fails_without_ram_there(struct ktest *t)
{
    if (memory_total_above_4g()) {
        ktest_skip(t, "there is RAM above 4 GiB");
        return;
    }
    uint64_t before = dma_outstanding();
    struct dma_region r = dma_alloc(4 * KiB, 0, 0, DMA_ABOVE_4G);
    KT_EXPECT(t, r.virt == NULL);
    KT_EXPECT_EQ(t, dma_outstanding(), before);
    dma_free(&r);      /* a failed allocation may be freed */
}

static void dma_free_returns_memory(struct ktest *t)
{
    uint64_t free_before = memory_free_bytes(), live_before = dma_outstanding();
    struct dma_region r = dma_alloc(1 * MiB + 1, 0, 0, DMA_ANYWHERE);
    KT_ASSERT(t, r.virt != NULL);
    KT_EXPECT_EQ(t, dma_outstanding(), live_before + 1);
    KT_EXPECT_EQ(t, free_before - memory_free_bytes(), 1 * MiB + 4 * KiB);
    uint64_t phys = r.phys;
    dma_free(&r);
    KT_EXPECT(t, r.virt == NULL);
    KT_EXPECT_EQ(t, memory_free_bytes(), free_before);
    KT_EXPECT_EQ(t, dma_outstanding(), live_before);
    /* First fit: the same place is handed out again. */
    struct dma_region again = dma_alloc(1 * MiB + 1, 0, 0, DMA_ANYWHERE);
    KT_EXPECT_EQ(t, again.phys, phys);
    dma_free(&again);
}

static void dma_free_detects_double_and_foreign_frees(struct ktest *t)
{
    struct dma_region r = dma_alloc(16 * KiB, 0, 0, DMA_ANYWHERE);
    KT_ASSERT(t, r.virt != NULL);
    struct dma_region copy = r, half = r, inside = r;
    half.size = 8 * KiB;
    inside.phys += 4 * KiB;
    inside.virt = phys_to_virt(inside.phys);
    struct dma_region kernel = { .virt = __kernel_start, .phys = (uint64_t)(uintptr_t)__kernel_start,
                                 .size = 4 * KiB };
    struct dma_region mismatched = r;
    mismatched.virt = (char *)r.virt + 4096;

    uint64_t free_before = memory_free_bytes(), live_before = dma_outstanding();
    uint64_t log_before = log_ring_total();
    dma_free(&half);
    dma_free(&inside);
    dma_free(&kernel);
    dma_free(&mismatched);
    KT_EXPECT_EQ(t, memory_free_bytes(), free_before);
    KT_EXPECT_EQ(t, dma_outstanding(), live_before);
    KT_EXPECT(t, log_ring_total() > log_before);

    dma_free(&r);
    uint64_t free_after = memory_free_bytes(), live_after = dma_outstanding();
    KT_EXPECT_EQ(t, free_after, free_before + 16 * KiB);
    log_before = log_ring_total();
    dma_free(&r);          /* the same struct again */
    dma_free(&copy);       /* a copy made before the free */
    KT_EXPECT_EQ(t, memory_free_bytes(), free_after);
    KT_EXPECT_EQ(t, dma_outstanding(), live_after);
    KT_EXPECT(t, log_ring_total() > log_before);

    /* The allocator still works and hands the pages out again. */
    struct dma_region again = dma_alloc(16 * KiB, 0, 0, DMA_ANYWHERE);
    KT_EXPECT_EQ(t, again.phys, copy.phys);
    dma_free(&again);
}

/* Case buffers: one given back early, one left for the harness, which must
 * free it when the case ends (else the leak check fails this case). */
static void case_dma_buffers_are_freed_by_the_harness(struct ktest *t)
{
    uint64_t before = dma_outstanding();
    struct dma_region early = ktest_dma_alloc(t, 8 * KiB, 0, 0, DMA_ANYWHERE);
    struct dma_region left = ktest_dma_alloc(t, 4 * KiB, 0, 0, DMA_BELOW_4G);
    KT_ASSERT(t, early.virt && left.virt);
    KT_EXPECT_EQ(t, dma_outstanding(), before + 2);
    ktest_dma_free(t, &early);
    KT_EXPECT(t, early.virt == NULL);
    KT_EXPECT_EQ(t, dma_outstanding(), before + 1);
}

/* The leak report names whose memory it is: dma_alloc() records its caller. */
static void dma_allocations_name_their_owner(struct ktest *t)
{
    uint64_t serial = dma_next_serial();
    struct dma_region r = dma_alloc(4 * KiB, 0, 0, DMA_ANYWHERE);
    struct dma_allocation a[2];
    KT_ASSERT(t, r.virt != NULL);
    KT_EXPECT_EQ(t, dma_allocations_since(serial, a, 2), 1);
    KT_EXPECT_EQ(t, a[0].phys, r.phys);
    KT_EXPECT_EQ(t, a[0].serial, serial);
    uint64_t offset = 0;
    const char *owner = symbol_lookup((uint64_t)(uintptr_t)a[0].owner, &offset);
    KT_EXPECT_STREQ(t, owner, "dma_allocations_name_their_owner");
    dma_free(&r);
    KT_EXPECT_EQ(t, dma_allocations_since(serial, a, 2), 0);
}

static void dma_alloc_rejects_bad_arguments(struct ktest *t)
{
    static const struct { uint64_t size, align, boundary; int placement; const char *rule; } bad[] = {
        { 0, 0, 0, DMA_ANYWHERE, "size 0" },
        { 4096, 3, 0, DMA_ANYWHERE, "align not a power of two" },
        { 4096, 0x3000, 0, DMA_ANYWHERE, "align not a power of two" },
        { 4096, 0, 0x3000, DMA_ANYWHERE, "boundary not a power of two" },
        { 8192, 0, 4096, DMA_ANYWHERE, "boundary smaller than size" },
        { 4096, 0, 0, 7, "unknown placement" },
    };
    uint64_t live_before = dma_outstanding(), free_before = memory_free_bytes();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t log_before = log_ring_total();
        struct dma_region r = dma_alloc(bad[i].size, bad[i].align, bad[i].boundary,
                                        (enum dma_placement)bad[i].placement);
        if (!KT_EXPECT(t, r.virt == NULL))
            ktest_diag(t, "accepted: %s", bad[i].rule);
        if (!KT_EXPECT(t, log_ring_total() > log_before))
            ktest_diag(t, "no error logged for: %s", bad[i].rule);
        dma_free(&r);
    }
    KT_EXPECT_EQ(t, dma_outstanding(), live_before);
    KT_EXPECT_EQ(t, memory_free_bytes(), free_before);
}

static void dma_alloc_fails_cleanly_when_too_large(struct ktest *t)
{
    uint64_t total = memory_total_below_4g() + memory_total_above_4g();
    uint64_t free_before = memory_free_bytes();
    struct dma_region r = dma_alloc(total + 4 * KiB, 0, 0, DMA_ANYWHERE);
    KT_EXPECT(t, r.virt == NULL);
    r = dma_alloc(memory_free_bytes() + 4 * KiB, 0, 0, DMA_ANYWHERE);
    KT_EXPECT(t, r.virt == NULL);
    KT_EXPECT_EQ(t, memory_free_bytes(), free_before);
}

static void expect_uncached(struct ktest *t, uint64_t addr)
{
    uint64_t page_size = 0;
    uint64_t entry = walk(addr, &page_size);
    if (!KT_EXPECT(t, entry & PTE_P)) {
        ktest_diag(t, "%#llx is not mapped", (unsigned long long)addr);
        return;
    }
    KT_EXPECT(t, (entry & PTE_PCD) && (entry & PTE_PWT));
    /* Identity: the frame is the address itself. */
    KT_EXPECT_EQ(t, (entry & PTE_ADDR & ~(page_size - 1)) + (addr & (page_size - 1)), addr);
}

static void mmio_map_is_uncached(struct ktest *t)
{
    uint64_t tables = paging_table_pages();
    volatile void *lapic = mmio_map(0xfee00000, 4096);
    KT_ASSERT(t, lapic != NULL);
    KT_EXPECT_EQ(t, (uint64_t)(uintptr_t)lapic, 0xfee00000);
    expect_uncached(t, 0xfee00000);
    expect_uncached(t, 0xfee00ff0);
    /* Idempotent: a second call maps nothing new and returns the same. */
    uint64_t tables_after = paging_table_pages();
    KT_EXPECT(t, mmio_map(0xfee00000, 4096) == lapic);
    KT_EXPECT_EQ(t, paging_table_pages(), tables_after);
    ktest_diag(t, "page-table pages: %llu before, %llu after",
               (unsigned long long)tables, (unsigned long long)tables_after);
    /* A range straddling 2 MiB boundaries, not aligned: every page uncached. */
    KT_ASSERT(t, mmio_map(0xfebff800, 0x201000) != NULL);
    for (uint64_t a = 0xfebff000; a < 0xfee00800; a += 4096)
        expect_uncached(t, a);
}

static uint64_t physical_limit(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
    if (a < 0x80000008u)
        return 1ull << 36;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008u), "c"(0));
    return 1ull << (a & 0xff);
}

/* A stretch above 4 GiB that no boot map entry mentions (no RAM, no firmware
 * reservation) and nothing has mapped, or 0. */
static uint64_t unused_space_above_4g(uint64_t size)
{
    uint64_t limit = physical_limit();
    for (uint64_t base = 5 * GiB; base + size <= limit; base += GiB) {
        bool used = false;
        for (unsigned i = 0; i < boot_info.mem_count && !used; i++)
            used = overlaps(base, size, boot_info.mem[i].base, boot_info.mem[i].base + boot_info.mem[i].length);
        uint64_t page_size;
        for (uint64_t a = base; a < base + size && !used; a += 4096)
            used = walk(a, &page_size) & PTE_P;
        if (!used)
            return base;
    }
    return 0;
}

static void mmio_map_above_4g_and_unmapped_until_asked(struct ktest *t)
{
    /* A 2 MiB boundary minus a page, so both page sizes are involved. */
    uint64_t base = unused_space_above_4g(6 * MiB);
    KT_ASSERT(t, base != 0);
    uint64_t addr = base + 2 * MiB - 4096;
    uint64_t page_size;
    KT_EXPECT_EQ(t, walk(addr, &page_size) & PTE_P, 0);
    KT_EXPECT_EQ(t, walk(addr + 4096, &page_size) & PTE_P, 0);
    volatile void *p = mmio_map(addr, 2 * MiB + 4096);
    KT_ASSERT(t, p != NULL);
    KT_EXPECT_EQ(t, (uint64_t)(uintptr_t)p, addr);
    expect_uncached(t, addr);
    expect_uncached(t, addr + 4096);
    expect_uncached(t, addr + 2 * MiB);
    KT_EXPECT_EQ(t, walk(addr + 2 * MiB + 4096, &page_size) & PTE_P, 0);
    /* Nothing is mapped beyond the CPU's physical address width, or for size 0. */
    KT_EXPECT(t, mmio_map(physical_limit() - 4096, 8192) == NULL);
    KT_EXPECT(t, mmio_map(1ull << 52, 4096) == NULL);
    KT_EXPECT(t, mmio_map(0xfee00000, 0) == NULL);
}

static void ram_is_mapped_write_back(struct ktest *t)
{
    uint64_t page_size = 0;
    uint64_t checked = 0;
    for (unsigned i = 0; i < boot_info.mem_count; i++) {
        const struct mem_region *m = &boot_info.mem[i];
        if (m->type != MEM_USABLE || m->length < 4096)
            continue;
        uint64_t first = (m->base + 4095) & ~4095ull, last = (m->base + m->length - 1) & ~4095ull;
        uint64_t probes[] = { first, last, first + ((last - first) / 2 & ~4095ull) };
        for (int k = 0; k < 3; k++) {
            uint64_t entry = walk(probes[k], &page_size);
            if (!KT_EXPECT(t, entry & PTE_P)) {
                ktest_diag(t, "RAM %#llx not mapped", (unsigned long long)probes[k]);
                continue;
            }
            KT_EXPECT_EQ(t, entry & (PTE_PCD | PTE_PWT), 0);
            checked++;
        }
    }
    KT_EXPECT(t, checked > 0);
}

static void ram_above_4g_is_mapped(struct ktest *t)
{
    if (!memory_total_above_4g()) {
        ktest_skip(t, "no RAM above 4 GiB (boot with -m 6G on q35)");
        return;
    }
    uint64_t page_size = 0, entry = walk(FOUR_GIB, &page_size);
    KT_ASSERT(t, entry & PTE_P);
    KT_EXPECT_EQ(t, entry & (PTE_PCD | PTE_PWT), 0);
    KT_EXPECT_EQ(t, page_size, 2 * MiB);
    /* Read and write through the identity map at the top of RAM above 4 GiB,
     * in a page the allocator owns. */
    struct dma_region r = dma_alloc(4096, 0, 0, DMA_ABOVE_4G);
    KT_ASSERT(t, r.virt != NULL);
    write_and_check_pattern(t, &r);
    dma_free(&r);
}

static const struct ktest_case memory_cases[] = {
    KTEST_CASE(memory_map_has_usable_ram),
    KTEST_CASE(dma_alloc_avoids_kernel_and_low_memory),
    KTEST_CASE(dma_alloc_is_zeroed_and_aligned),
    KTEST_CASE(dma_alloc_respects_boundary),
    KTEST_CASE(dma_alloc_below_4g),
    KTEST_CASE(dma_alloc_above_4g),
    KTEST_CASE(dma_alloc_above_4g_fails_without_ram_there),
    KTEST_CASE(dma_free_returns_memory),
    KTEST_CASE(dma_free_detects_double_and_foreign_frees),
    KTEST_CASE(case_dma_buffers_are_freed_by_the_harness),
    KTEST_CASE(dma_allocations_name_their_owner),
    KTEST_CASE(dma_alloc_rejects_bad_arguments),
    KTEST_CASE(dma_alloc_fails_cleanly_when_too_large),
    KTEST_CASE(mmio_map_is_uncached),
    KTEST_CASE(mmio_map_above_4g_and_unmapped_until_asked),
    KTEST_CASE(ram_is_mapped_write_back),
    KTEST_CASE(ram_above_4g_is_mapped),
};
KTEST_SUITE(memory, 20, memory_cases);
