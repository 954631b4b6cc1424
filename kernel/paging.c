/* SPDX-License-Identifier: MIT */
/* kernel/paging.c — the final 4-level page tables (Intel SDM Vol. 3A §4.5) and
 * mmio_map(). Identity map throughout. RAM the firmware describes (usable, ACPI
 * data, ACPI NVS) is mapped write-back with 2 MiB pages where a whole aligned
 * 2 MiB block is RAM and 4 KiB pages at the edges, so no large page ever mixes
 * RAM with device space (SDM §11.11.9: a large page over several memory types
 * is undefined). Everything else stays not-present until mmio_map() maps it
 * uncached, so a stray pointer into device space faults instead of reaching a
 * device. No 1 GiB pages (qemu64 lacks them), no NX, no global pages, no PAT
 * changes: PCD|PWT select PAT entry 3, which is UC at reset (SDM §11.12.4). */
#include "kernel/memory.h"
#include "kernel/bootinfo.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/io.h"
#include "lib/pagealloc.h"
#include "lib/string.h"

/* Page-table entry bits, SDM Vol. 3A Table 4-19 .. 4-20. */
#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

#define PAGE_4K  0x1000ull
#define PAGE_2M  0x200000ull
#define FOUR_GIB 0x100000000ull
#define ENTRIES  512

#define MAP_WRITE_BACK (PTE_P | PTE_RW)
#define MAP_UNCACHED   (PTE_P | PTE_RW | PTE_PCD | PTE_PWT)

/* The low 1 MiB: real-mode data, EBDA and BIOS ROM are read as memory (e.g.
 * the RSDP search), so they are mapped write-back (the fixed-range MTRRs make
 * the ROM and VGA areas uncacheable anyway). The legacy VGA window is device
 * memory and is left to mmio_map(). */
#define VGA_WINDOW_START 0xa0000ull
#define VGA_WINDOW_END   0xc0000ull
#define LOW_MEMORY_END   0x100000ull

extern char __kernel_start[], __kernel_end[];

enum map_result { MAP_DONE, MAP_ALREADY, MAP_NO_MEMORY };

static uint64_t *pml4;
static uint64_t table_pages;
static uint64_t physical_limit;     /* 1 << MAXPHYADDR */

uint64_t paging_table_pages(void) { return table_pages; }

/* Page tables live below 4 GiB so that they are reachable through the boot
 * tables while the final ones are built. */
static struct pagealloc *tables_from;   /* given by paging_init() */

static uint64_t *table_alloc(void)
{
    uint64_t phys;
    if (pagealloc_alloc(tables_from, PAGE_4K, PAGE_4K, 0, 0, FOUR_GIB, &phys) != PAGEALLOC_OK)
        return NULL;
    table_pages++;
    memset(phys_to_virt(phys), 0, PAGE_4K);
    return phys_to_virt(phys);
}

/* The table an entry points to, created when the entry is empty. */
static uint64_t *next_table(uint64_t *entry)
{
    if (!(*entry & PTE_P)) {
        uint64_t *table = table_alloc();
        if (!table)
            return NULL;
        /* Intermediate entries grant everything; the leaf decides. */
        *entry = virt_to_phys(table) | PTE_P | PTE_RW;
    }
    return phys_to_virt(*entry & PTE_ADDR);
}

static unsigned index_at(uint64_t addr, unsigned shift) { return (addr >> shift) & (ENTRIES - 1); }

static uint64_t *page_directory_for(uint64_t addr)
{
    uint64_t *pdpt = next_table(&pml4[index_at(addr, 39)]);
    return pdpt ? next_table(&pdpt[index_at(addr, 30)]) : NULL;
}

static enum map_result map_4k(uint64_t addr, uint64_t flags, bool *was_write_back)
{
    uint64_t *pd = page_directory_for(addr);
    if (!pd)
        return MAP_NO_MEMORY;
    uint64_t *pde = &pd[index_at(addr, 21)];
    if ((*pde & PTE_P) && (*pde & PTE_PS)) {
        *was_write_back |= !(*pde & PTE_PCD);
        return MAP_ALREADY;
    }
    uint64_t *pt = next_table(pde);
    if (!pt)
        return MAP_NO_MEMORY;
    uint64_t *pte = &pt[index_at(addr, 12)];
    if (*pte & PTE_P) {
        *was_write_back |= !(*pte & PTE_PCD);
        return MAP_ALREADY;
    }
    *pte = addr | flags;
    return MAP_DONE;
}

/* A whole 2 MiB block. When part of it already has 4 KiB pages, the rest is
 * filled in with 4 KiB pages rather than replacing them. */
static enum map_result map_2m(uint64_t addr, uint64_t flags, bool *was_write_back)
{
    uint64_t *pd = page_directory_for(addr);
    if (!pd)
        return MAP_NO_MEMORY;
    uint64_t *pde = &pd[index_at(addr, 21)];
    if (!(*pde & PTE_P)) {
        *pde = addr | flags | PTE_PS;
        return MAP_DONE;
    }
    if (*pde & PTE_PS) {
        *was_write_back |= !(*pde & PTE_PCD);
        return MAP_ALREADY;
    }
    enum map_result result = MAP_ALREADY;
    for (uint64_t a = addr; a < addr + PAGE_2M; a += PAGE_4K) {
        enum map_result r = map_4k(a, flags, was_write_back);
        if (r == MAP_NO_MEMORY)
            return r;
        if (r == MAP_DONE)
            result = MAP_DONE;
    }
    return result;
}

/* [base, end) widened to whole 4 KiB pages. */
static enum map_result map_range(uint64_t base, uint64_t end, uint64_t flags, bool *was_write_back)
{
    enum map_result result = MAP_ALREADY;
    uint64_t addr = base & ~(PAGE_4K - 1);
    end = (end + PAGE_4K - 1) & ~(PAGE_4K - 1);
    while (addr < end) {
        bool large = !(addr & (PAGE_2M - 1)) && end - addr >= PAGE_2M;
        enum map_result r = large ? map_2m(addr, flags, was_write_back)
                                  : map_4k(addr, flags, was_write_back);
        if (r == MAP_NO_MEMORY)
            return r;
        if (r == MAP_DONE)
            result = MAP_DONE;
        addr += large ? PAGE_2M : PAGE_4K;
    }
    return result;
}

static uint64_t region_end(const struct mem_region *r)
{
    return r->base > UINT64_MAX - r->length ? UINT64_MAX : r->base + r->length;
}

static bool is_firmware_ram(uint32_t type)
{
    return type == MEM_USABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_ACPI_NVS;
}

/* RAM to map write-back: what the map calls RAM, minus what it also calls
 * reserved or bad (overlaps), plus the low 1 MiB without the VGA window. */
static void collect_ram(struct span_list *ram)
{
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (is_firmware_ram(boot_info.mem[i].type))
            span_list_add(ram, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    for (unsigned i = 0; i < boot_info.mem_count; i++)
        if (!is_firmware_ram(boot_info.mem[i].type))
            span_list_remove(ram, boot_info.mem[i].base, region_end(&boot_info.mem[i]));
    span_list_remove(ram, physical_limit, UINT64_MAX);
    span_list_add(ram, 0, VGA_WINDOW_START);
    span_list_add(ram, VGA_WINDOW_END, LOW_MEMORY_END);
    /* The kernel image is RAM whatever the map says. */
    span_list_add(ram, (uint64_t)(uintptr_t)__kernel_start, (uint64_t)(uintptr_t)__kernel_end);
}

/* Walks the tables being built, for the checks before switching to them. */
static bool is_mapped(uint64_t addr)
{
    const uint64_t *table = pml4;
    for (unsigned shift = 39; shift >= 12; shift -= 9) {
        uint64_t entry = table[index_at(addr, shift)];
        if (!(entry & PTE_P))
            return false;
        if (shift == 12 || (entry & PTE_PS))
            return true;
        table = phys_to_virt(entry & PTE_ADDR);
    }
    return false;
}

static uint64_t read_physical_limit(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a < 0x80000008)
        return 1ull << 36;      /* SDM §4.1.4: MAXPHYADDR is 36 without the leaf */
    cpuid(0x80000008, 0, &a, &b, &c, &d);
    return 1ull << (a & 0xff);
}

uint64_t paging_physical_limit(void) { return physical_limit; }

static void flush_tlb(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory");
}

void paging_init(struct pagealloc *allocator)
{
    static struct span spans[BOOT_MAX_REGIONS + 8];
    struct span_list ram;
    bool unused = false;
    uint64_t rsp;

    tables_from = allocator;
    physical_limit = read_physical_limit();
    pml4 = table_alloc();
    if (!pml4)
        panic("paging: no memory below 4 GiB for the page tables");
    span_list_init(&ram, spans, sizeof(spans) / sizeof(spans[0]));
    collect_ram(&ram);
    for (size_t i = 0; i < ram.count; i++)
        if (map_range(ram.spans[i].base, ram.spans[i].end, MAP_WRITE_BACK, &unused) == MAP_NO_MEMORY)
            panic("paging: out of memory mapping RAM at %#llx", (unsigned long long)ram.spans[i].base);

    /* Switching to tables that miss the running code or stack would triple
     * fault with no message; check first. */
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    if (!is_mapped((uint64_t)(uintptr_t)__kernel_start) || !is_mapped((uint64_t)(uintptr_t)__kernel_end - 1) ||
        !is_mapped(rsp) || !is_mapped(virt_to_phys(pml4)))
        panic("paging: the new tables miss the kernel image or stack; not switching");
    __asm__ volatile("mov %0, %%cr3" :: "r"(virt_to_phys(pml4)) : "memory");

    klog(LOG_INFO, "paging: %zu RAM ranges mapped write-back, %llu page-table pages, "
         "physical address width %u bits\n", ram.count, (unsigned long long)table_pages,
         (unsigned)__builtin_ctzll(physical_limit));
}

volatile void *mmio_map(uint64_t phys, uint64_t size)
{
    bool was_write_back = false;

    if (!pml4) {
        klog(LOG_ERR, "mmio_map: %#llx called before memory_init\n", (unsigned long long)phys);
        return NULL;
    }
    if (!size) {
        klog(LOG_ERR, "mmio_map: %#llx with size 0\n", (unsigned long long)phys);
        return NULL;
    }
    if (phys >= physical_limit || size > physical_limit - phys) {
        klog(LOG_ERR, "mmio_map: %#llx+%#llx is beyond the %u-bit physical address space\n",
             (unsigned long long)phys, (unsigned long long)size,
             (unsigned)__builtin_ctzll(physical_limit));
        return NULL;
    }

    uint64_t flags = irq_save();
    enum map_result result = map_range(phys, phys + size, MAP_UNCACHED, &was_write_back);
    /* Not-present to present needs no invalidation by the SDM (§4.10.4.3), but
     * a reload is cheap here and also covers paging-structure caches. */
    if (result != MAP_ALREADY)
        flush_tlb();
    irq_restore(flags);

    if (result == MAP_NO_MEMORY) {
        klog(LOG_ERR, "mmio_map: out of page-table memory mapping %#llx+%#llx\n",
             (unsigned long long)phys, (unsigned long long)size);
        return NULL;
    }
    if (was_write_back)
        klog(LOG_DEBUG, "mmio_map: %#llx+%#llx overlaps RAM, which stays write-back\n",
             (unsigned long long)phys, (unsigned long long)size);
    return (volatile void *)phys_to_virt(phys);
}
