/* SPDX-License-Identifier: MIT */
/* kernel/memory.h — physical memory, the page tables and DMA memory.
 *
 * bareio runs identity-mapped: a kernel pointer is its physical address. All
 * usable RAM (also above 4 GiB) is mapped write-back; device registers are
 * mapped uncached on request with mmio_map(). The code lives in kernel/physmem.c
 * (memory map, allocator set-up), kernel/paging.c (page tables, mmio_map) and
 * kernel/dma.c (DMA allocations) on top of lib/pagealloc.c. */
#ifndef KERNEL_MEMORY_H
#define KERNEL_MEMORY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* From the boot memory map: reserves the kernel image, low 1 MiB and firmware
 * areas, builds the final page tables and the DMA allocator. */
void memory_init(void);

/* Maps [phys, phys+size) uncached (PCD|PWT) and returns the address to use
 * (identity: equal to phys). NULL when the range cannot be mapped (size 0,
 * beyond the CPU's physical address width, out of page-table memory, or called
 * before memory_init). Idempotent: pages already mapped are left as they are,
 * so a range that is RAM stays write-back. Works above 4 GiB. */
volatile void *mmio_map(uint64_t phys, uint64_t size);

static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }
static inline void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }

enum dma_placement {
    DMA_BELOW_4G,       /* for devices without 64-bit addressing (AHCI without CAP.S64A) */
    DMA_ABOVE_4G,       /* to prove 64-bit DMA works; fails when there is no RAM there */
    DMA_ANYWHERE,
};

struct dma_region {
    void *virt;         /* NULL when the allocation failed */
    uint64_t phys;
    uint64_t size;      /* as requested */
};

/* Physically contiguous, zeroed memory of `size` bytes, aligned to `align`
 * (a power of two; 0 means 4096), not crossing a multiple of `boundary` (a power
 * of two >= size, or 0 for none), placed as asked. Page granular underneath. */
struct dma_region dma_alloc(uint64_t size, uint64_t align, uint64_t boundary,
                            enum dma_placement placement);
/* The same, on behalf of `owner` (a code address: whoever a leak report
 * should name); dma_alloc() names its caller. */
struct dma_region dma_alloc_for(const void *owner, uint64_t size, uint64_t align, uint64_t boundary,
                                enum dma_placement placement);
void dma_free(struct dma_region *region);
/* Zeroed memory for state whose size is known only at run time (a driver's
 * table of controllers or namespaces, the harness's per-device records), so
 * that no fixed table has to drop a device. Kept for the whole run; NULL
 * when memory is short (the caller then says what it leaves out). */
void *memory_alloc_state(uint64_t bytes);
/* Live dma_alloc() allocations; the harness checks it is unchanged by each case. */
uint64_t dma_outstanding(void);

/* Who holds what, for leak reports: each live allocation's owner and its
 * serial number (allocations are numbered in order from 1). The first
 * DMA_OWNERS_TRACKED live allocations are kept track of; others go unnamed. */
#define DMA_OWNERS_TRACKED 256
struct dma_allocation {
    uint64_t phys, size;
    const void *owner;
    uint64_t serial;
};
/* The serial number the next allocation gets. */
uint64_t dma_next_serial(void);
/* The live allocations numbered `serial` or later, oldest first, into
 * out[0..max); returns how many there are (possibly more than max). */
unsigned dma_allocations_since(uint64_t serial, struct dma_allocation *out, unsigned max);
/* Usable RAM in bytes below and above 4 GiB (as the allocator manages it). */
uint64_t memory_total_below_4g(void);
uint64_t memory_total_above_4g(void);
const char *dma_placement_name(enum dma_placement placement);
/* Bytes the allocator has free right now (all placements). */
uint64_t memory_free_bytes(void);

/* A 4 KiB page below 1 MiB that the memory map calls usable RAM, outside
 * the IVT, BIOS data area and EBDA, kept for the APs' start-up code
 * (kernel/smp.c): the allocator never hands out low memory. 0 when the map
 * has no such page. */
uint64_t memory_low_page(void);

/* 1 << MAXPHYADDR: the first physical address the CPU cannot reach (0
 * before memory_init). */
uint64_t paging_physical_limit(void);

/* ---- Shared by kernel/physmem.c, kernel/paging.c and kernel/dma.c only ---- */
struct pagealloc;
/* The page allocator. Callers keep interrupts off around each use. */
struct pagealloc *physmem_allocator(void);
/* Builds the final page tables, with pages from `allocator` (physmem's, passed
 * in so paging calls nothing of the file that calls it), and switches CR3 to
 * them (kernel/paging.c). Later tables (mmio_map) come from it too. */
void paging_init(struct pagealloc *allocator);
/* Pages holding page tables; they are not DMA memory and not in dma_outstanding(). */
uint64_t paging_table_pages(void);

#endif
