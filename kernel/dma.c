/* SPDX-License-Identifier: MIT */
/* kernel/dma.c — physically contiguous, zeroed memory for devices: the
 * argument rules of dma_alloc() (kernel/memory.h), placement below or above
 * 4 GiB, and a checked dma_free(). Page granular, on lib/pagealloc.c; the
 * allocator's head bits are what catch double and foreign frees. Memory is
 * write-back cacheable: x86 DMA is cache coherent, so no flushing is needed.
 * Each live allocation's owner (the caller) is kept, so that a leak report
 * can say whose memory it is.
 *
 * Locking rule: dma_lock guards the page allocator, `outstanding`, the
 * owners table and the serial counter, from any CPU; it is held only around
 * their updates, never across the zeroing memset or a log line. */
#include "kernel/memory.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/spinlock.h"
#include "lib/pagealloc.h"
#include "lib/string.h"

#define FOUR_GIB 0x100000000ull

static struct spinlock dma_lock = SPINLOCK_INIT("dma");
static uint64_t outstanding;
/* Live allocations' owners; phys 0 marks a free slot (the low 1 MiB is never
 * handed out). Under dma_lock. */
static struct dma_allocation owners[DMA_OWNERS_TRACKED];
static uint64_t last_serial;

static void owner_add(uint64_t phys, uint64_t size, const void *owner)
{
    last_serial++;
    for (unsigned i = 0; i < DMA_OWNERS_TRACKED; i++)
        if (!owners[i].phys) {
            owners[i] = (struct dma_allocation){ phys, size, owner, last_serial };
            return;
        }
}

static void owner_remove(uint64_t phys)
{
    for (unsigned i = 0; i < DMA_OWNERS_TRACKED; i++)
        if (owners[i].phys == phys) {
            owners[i].phys = 0;
            return;
        }
}

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

const char *dma_placement_name(enum dma_placement placement)
{
    switch (placement) {
    case DMA_BELOW_4G: return "below 4G";
    case DMA_ABOVE_4G: return "above 4G";
    case DMA_ANYWHERE: return "anywhere";
    }
    return "unknown placement";
}

/* Logs the rule an argument breaks; true when all are valid. */
static bool arguments_valid(uint64_t size, uint64_t align, uint64_t boundary,
                            enum dma_placement placement)
{
    if (!size) {
        klog(LOG_ERR, "dma_alloc: size must not be 0\n");
        return false;
    }
    if (!is_pow2(align)) {
        klog(LOG_ERR, "dma_alloc: alignment %#llx is not a power of two\n", (unsigned long long)align);
        return false;
    }
    if (boundary && !is_pow2(boundary)) {
        klog(LOG_ERR, "dma_alloc: boundary %#llx is not a power of two\n", (unsigned long long)boundary);
        return false;
    }
    if (boundary && boundary < size) {
        klog(LOG_ERR, "dma_alloc: boundary %#llx is smaller than the size %#llx\n",
             (unsigned long long)boundary, (unsigned long long)size);
        return false;
    }
    if (placement != DMA_BELOW_4G && placement != DMA_ABOVE_4G && placement != DMA_ANYWHERE) {
        klog(LOG_ERR, "dma_alloc: placement %d is not one of enum dma_placement\n", (int)placement);
        return false;
    }
    return true;
}

struct dma_region dma_alloc(uint64_t size, uint64_t align, uint64_t boundary,
                            enum dma_placement placement)
{
    return dma_alloc_for(__builtin_return_address(0), size, align, boundary, placement);
}

struct dma_region dma_alloc_for(const void *owner, uint64_t size, uint64_t align, uint64_t boundary,
                                enum dma_placement placement)
{
    struct dma_region region = { .virt = NULL, .phys = 0, .size = 0 };
    if (!align)
        align = PAGEALLOC_PAGE_SIZE;
    if (!arguments_valid(size, align, boundary, placement))
        return region;

    uint64_t lo = placement == DMA_ABOVE_4G ? FOUR_GIB : 0;
    uint64_t hi = placement == DMA_BELOW_4G ? FOUR_GIB : UINT64_MAX;
    uint64_t phys = 0;
    uint64_t flags = spin_lock(&dma_lock);
    enum pagealloc_status st = pagealloc_alloc(physmem_allocator(), size, align, boundary, lo, hi, &phys);
    if (st == PAGEALLOC_OK) {
        outstanding++;
        owner_add(phys, size, owner);
    }
    spin_unlock(&dma_lock, flags);

    if (st != PAGEALLOC_OK) {
        klog(LOG_ERR, "dma_alloc: %#llx bytes %s (align %#llx, boundary %#llx) failed: %s\n",
             (unsigned long long)size, dma_placement_name(placement), (unsigned long long)align,
             (unsigned long long)boundary, pagealloc_status_name(st));
        return region;
    }
    /* Whole pages, so no stale data sits in the tail a device might read. */
    uint64_t pages_bytes = (size + PAGEALLOC_PAGE_SIZE - 1) & ~(PAGEALLOC_PAGE_SIZE - 1);
    memset(phys_to_virt(phys), 0, pages_bytes);
    region.virt = phys_to_virt(phys);
    region.phys = phys;
    region.size = size;
    return region;
}

void dma_free(struct dma_region *region)
{
    if (!region)
        return;
    if (!region->virt) {
        /* {NULL, 0, 0} is a failed allocation: freeing it is allowed, like
         * free(NULL), so error paths can free unconditionally. A size left
         * behind means this region was freed before. */
        if (region->size)
            klog(LOG_ERR, "dma_free: region %#llx (%#llx bytes) was already freed\n",
                 (unsigned long long)region->phys, (unsigned long long)region->size);
        return;
    }
    if (virt_to_phys(region->virt) != region->phys) {
        klog(LOG_ERR, "dma_free: region %p does not match its physical address %#llx; not freed\n",
             region->virt, (unsigned long long)region->phys);
        return;
    }

    uint64_t flags = spin_lock(&dma_lock);
    /* A region of the allocator's own (page tables, bitmaps) would pass the
     * allocator's check; with nothing outstanding it cannot be ours. */
    enum pagealloc_status st = outstanding ? pagealloc_free(physmem_allocator(), region->phys, region->size)
                                           : PAGEALLOC_NOT_ALLOCATED;
    if (st == PAGEALLOC_OK) {
        outstanding--;
        owner_remove(region->phys);
    }
    spin_unlock(&dma_lock, flags);

    if (st != PAGEALLOC_OK) {
        klog(LOG_ERR, "dma_free: region %#llx (%#llx bytes) not freed: %s\n",
             (unsigned long long)region->phys, (unsigned long long)region->size,
             pagealloc_status_name(st));
        return;
    }
    region->virt = NULL;
}

uint64_t dma_outstanding(void)
{
    return outstanding;
}

void *memory_alloc_state(uint64_t bytes)
{
    /* DMA memory underneath (page granular, zeroed), but never freed: it is
     * not an outstanding allocation for the harness's leak check. */
    struct dma_region r = dma_alloc(bytes ? bytes : 1, 64, 0, DMA_ANYWHERE);
    if (r.virt) {
        uint64_t flags = spin_lock(&dma_lock);
        outstanding--;
        owner_remove(r.phys);
        spin_unlock(&dma_lock, flags);
    }
    return r.virt;
}

uint64_t dma_next_serial(void)
{
    return __atomic_load_n(&last_serial, __ATOMIC_RELAXED) + 1;
}

unsigned dma_allocations_since(uint64_t serial, struct dma_allocation *out, unsigned max)
{
    unsigned n = 0;
    uint64_t flags = spin_lock(&dma_lock);

    /* Insertion by serial: the table is not in allocation order. */
    for (unsigned i = 0; i < DMA_OWNERS_TRACKED; i++) {
        const struct dma_allocation *a = &owners[i];
        if (!a->phys || a->serial < serial)
            continue;
        unsigned at = n < max ? n : max;
        while (at > 0 && out[at - 1].serial > a->serial) {
            if (at < max)
                out[at] = out[at - 1];
            at--;
        }
        if (at < max)
            out[at] = *a;
        n++;
    }
    spin_unlock(&dma_lock, flags);
    return n;
}
