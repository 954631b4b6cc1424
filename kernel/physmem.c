/* SPDX-License-Identifier: MIT */
/* kernel/physmem.c — physical memory from the boot memory map (E820 types;
 * bootinfo.c already converts the UEFI map) into the page allocator.
 * Managed: MEM_USABLE only, minus anything another entry calls non-usable (the
 * map may be unsorted and overlapping), minus the low 1 MiB (real-mode data,
 * EBDA, option ROMs) and the kernel image with its bss. RAM is never returned
 * to the firmware and ACPI-reclaimable memory is not reclaimed. One page of
 * the low 1 MiB is set aside for the APs' start-up code (memory_low_page()):
 * usable RAM by the map, not page 0 (IVT, BIOS data area), not the EBDA. */
#include "kernel/memory.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "lib/pagealloc.h"

#define LOW_MEMORY_END 0x100000ull
#define FOUR_GIB 0x100000000ull
#define MiB (1024ull * 1024)

extern char __kernel_start[], __kernel_end[];

static struct pagealloc allocator;
static bool initialised;

struct pagealloc *physmem_allocator(void) { return &allocator; }

static uint64_t region_end(const struct mem_region *r)
{
    return r->base > UINT64_MAX - r->length ? UINT64_MAX : r->base + r->length;
}

static void log_boot_map(void)
{
    klog(LOG_DEBUG, "memory: boot map from %s, %u entries\n", boot_info.mem_source,
         boot_info.mem_count);
    for (unsigned i = 0; i < boot_info.mem_count; i++) {
        const struct mem_region *r = &boot_info.mem[i];
        klog(LOG_DEBUG, "memory:   %#018llx-%#018llx %s\n", (unsigned long long)r->base,
             (unsigned long long)region_end(r), mem_type_name(r->type));
    }
}

/* Usable minus everything else: a non-usable entry wins where entries overlap,
 * because handing out firmware memory is worse than losing a little RAM. */
static void collect_usable(struct span_list *usable)
{
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (boot_info.mem[i].type == MEM_USABLE)
            span_list_add(usable, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (boot_info.mem[i].type != MEM_USABLE)
            span_list_remove(usable, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    span_list_remove(usable, 0, LOW_MEMORY_END);
    span_list_remove(usable, (uint64_t)(uintptr_t)__kernel_start, (uint64_t)(uintptr_t)__kernel_end);
    span_list_trim_to_pages(usable);
    if (usable->overflowed)
        klog(LOG_WARN, "memory: boot map too fragmented; some usable RAM is ignored\n");
    if (usable->count > PAGEALLOC_MAX_RANGES) {
        klog(LOG_WARN, "memory: %zu usable ranges, managing the lowest %d\n", usable->count,
             PAGEALLOC_MAX_RANGES);
        usable->count = PAGEALLOC_MAX_RANGES;
    }
}

/* The bitmaps go into the first range with room below 4 GiB: until the final
 * page tables are in place only the first 4 GiB are mapped (boot/entry.S). */
static uint64_t place_bitmaps(const struct span_list *usable, uint64_t bytes)
{
    for (size_t i = 0; i < usable->count; i++) {
        const struct span *s = &usable->spans[i];
        uint64_t end = s->end < FOUR_GIB ? s->end : FOUR_GIB;
        if (s->base < end && end - s->base >= bytes)
            return s->base;
    }
    return 0;
}

static void build_allocator(const struct span_list *usable)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < usable->count; i++)
        bytes += pagealloc_storage_bytes(usable->spans[i].end - usable->spans[i].base);
    uint64_t where = place_bitmaps(usable, bytes);
    if (!where)
        panic("memory: no usable range below 4 GiB holds the %llu-byte allocator bitmap",
              (unsigned long long)bytes);

    pagealloc_init(&allocator);
    uint64_t *storage = phys_to_virt(where);
    for (size_t i = 0; i < usable->count; i++) {
        uint64_t size = usable->spans[i].end - usable->spans[i].base;
        enum pagealloc_status st = pagealloc_add_range(&allocator, usable->spans[i].base, size, storage);
        if (st != PAGEALLOC_OK)
            panic("memory: cannot manage %#llx+%#llx: %s", (unsigned long long)usable->spans[i].base,
                  (unsigned long long)size, pagealloc_status_name(st));
        storage += pagealloc_storage_bytes(size) / sizeof(uint64_t);
    }
    enum pagealloc_status st = pagealloc_reserve(&allocator, where, bytes);
    if (st != PAGEALLOC_OK)
        panic("memory: cannot reserve the allocator bitmap: %s", pagealloc_status_name(st));
}

/* ---- the APs' start page ---- */

#define BDA_EBDA_SEGMENT 0x40e          /* BIOS data area: EBDA segment (word) */
#define REAL_MODE_DATA_END 0x1000ull    /* IVT and BIOS data area */
#define EBDA_LOWEST 0x80000ull          /* an EBDA pointer below this is not one */
#define LOW_RAM_END 0xa0000ull          /* VGA window and ROMs above */

static uint64_t low_page;

/* Where the EBDA starts, from the BIOS data area; LOW_RAM_END when there is
 * none (UEFI fills no BIOS data area) or the pointer is implausible. */
static uint64_t ebda_start(void)
{
    if (boot_info.efi)
        return LOW_RAM_END;
    uint64_t where = BDA_EBDA_SEGMENT;
    __asm__("" : "+r"(where));          /* a real address, not a null-based array to GCC */
    uint64_t ebda = (uint64_t)*(volatile const uint16_t *)phys_to_virt(where) << 4;
    return ebda >= EBDA_LOWEST && ebda < LOW_RAM_END ? ebda : LOW_RAM_END;
}

/* The highest whole page below the EBDA that every map entry covering it
 * calls usable. Nothing else uses low memory: the allocator never hands it
 * out (collect_usable), the boot information was copied out at boot. */
static uint64_t pick_low_page(void)
{
    static struct span spans[BOOT_MAX_REGIONS + 8];
    struct span_list low;
    span_list_init(&low, spans, sizeof(spans) / sizeof(spans[0]));
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (boot_info.mem[i].type == MEM_USABLE)
            span_list_add(&low, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (boot_info.mem[i].type != MEM_USABLE)
            span_list_remove(&low, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    span_list_remove(&low, 0, REAL_MODE_DATA_END);
    span_list_remove(&low, ebda_start(), UINT64_MAX);
    span_list_trim_to_pages(&low);
    return low.count ? low.spans[low.count - 1].end - PAGEALLOC_PAGE_SIZE : 0;
}

uint64_t memory_low_page(void) { return low_page; }

void memory_init(void)
{
    static struct span spans[BOOT_MAX_REGIONS + 8];
    struct span_list usable;

    log_boot_map();
    low_page = pick_low_page();
    span_list_init(&usable, spans, sizeof(spans) / sizeof(spans[0]));
    collect_usable(&usable);
    if (!usable.count)
        panic("memory: no usable RAM above 1 MiB in the boot memory map (from %s)",
              boot_info.mem_source);
    build_allocator(&usable);
    paging_init(&allocator);
    initialised = true;

    uint64_t below = memory_total_below_4g(), above = memory_total_above_4g();
    klog(LOG_INFO, "memory: %llu MiB usable (below 4G %llu MiB, above 4G %llu MiB), %u regions\n",
         (unsigned long long)((below + above + MiB / 2) / MiB),
         (unsigned long long)((below + MiB / 2) / MiB), (unsigned long long)((above + MiB / 2) / MiB),
         allocator.count);
}

uint64_t memory_total_below_4g(void)
{
    return pagealloc_total_in(&allocator, 0, FOUR_GIB);
}

uint64_t memory_total_above_4g(void)
{
    return pagealloc_total_in(&allocator, FOUR_GIB, UINT64_MAX);
}

uint64_t memory_free_bytes(void)
{
    uint64_t flags = irq_save();
    uint64_t free = initialised ? allocator.free_pages * PAGEALLOC_PAGE_SIZE : 0;
    irq_restore(flags);
    return free;
}
