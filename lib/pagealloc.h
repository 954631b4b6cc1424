/* SPDX-License-Identifier: MIT */
/* lib/pagealloc.h — the page-frame allocator's pure logic, host-testable.
 *
 * Two parts: span lists (turning an unsorted, overlapping boot memory map into
 * the sorted, disjoint, page-aligned ranges to manage) and the allocator proper,
 * a pair of bitmaps per range: `used` (page taken) and `head` (first page of an
 * allocation). The head bits let pagealloc_free() check that it is given exactly
 * a run that pagealloc_alloc() handed out, so a double free, a free of a region
 * never allocated, or of the wrong length is refused without touching state.
 * Addresses and sizes are bytes; the unit underneath is PAGEALLOC_PAGE_SIZE.
 * No locking and no knowledge of virtual memory: the kernel side does both. */
#ifndef LIB_PAGEALLOC_H
#define LIB_PAGEALLOC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGEALLOC_PAGE_SIZE 4096ull

/* ---- span lists: [base, end) intervals kept sorted and disjoint ---- */

struct span {
    uint64_t base;
    uint64_t end;           /* exclusive */
};

struct span_list {
    struct span *spans;     /* storage of `capacity` entries, owned by the caller */
    size_t capacity;
    size_t count;
    bool overflowed;        /* an operation needed more than `capacity` entries */
};

void span_list_init(struct span_list *list, struct span *storage, size_t capacity);
/* Union with [base, end): merges with overlapping or adjacent spans. */
void span_list_add(struct span_list *list, uint64_t base, uint64_t end);
/* Difference with [base, end): clips and splits spans. */
void span_list_remove(struct span_list *list, uint64_t base, uint64_t end);
/* Shrinks every span inward to whole pages and drops the ones left empty. */
void span_list_trim_to_pages(struct span_list *list);
uint64_t span_list_bytes(const struct span_list *list);

/* ---- the allocator ---- */

#define PAGEALLOC_MAX_RANGES 64

enum pagealloc_status {
    PAGEALLOC_OK = 0,
    PAGEALLOC_BAD_ARGUMENT,     /* size 0, alignment/boundary not a power of two, boundary < size */
    PAGEALLOC_NO_SPACE,         /* no free run satisfies the constraints */
    PAGEALLOC_NOT_MANAGED,      /* the address is outside every range (or not page aligned) */
    PAGEALLOC_NOT_ALLOCATED,    /* free: the first page is free (double free, or never handed out) */
    PAGEALLOC_NOT_START,        /* free: the address is inside an allocation, not its start */
    PAGEALLOC_WRONG_SIZE,       /* free: the length differs from the allocation's */
    PAGEALLOC_OVERLAP,          /* add_range: overlaps a range already added, or too many ranges */
};

struct pagealloc_range {
    uint64_t base;              /* page aligned */
    uint64_t pages;
    uint64_t free_pages;
    uint64_t *used;             /* bit i: page i taken */
    uint64_t *head;             /* bit i: page i starts an allocation */
};

struct pagealloc {
    struct pagealloc_range ranges[PAGEALLOC_MAX_RANGES];    /* sorted by base */
    unsigned count;
    uint64_t total_pages;
    uint64_t free_pages;
};

void pagealloc_init(struct pagealloc *pa);
/* Bytes of bitmap storage a range of `size` bytes needs (8-byte aligned). */
uint64_t pagealloc_storage_bytes(uint64_t size);
/* Adds [base, base+size), page aligned, all free. `storage` must hold
 * pagealloc_storage_bytes(size) bytes; it is cleared here. */
enum pagealloc_status pagealloc_add_range(struct pagealloc *pa, uint64_t base, uint64_t size,
                                          uint64_t *storage);
/* Takes exactly [base, base+size) (rounded out to pages) as one allocation;
 * fails unless all of it is managed and free. */
enum pagealloc_status pagealloc_reserve(struct pagealloc *pa, uint64_t base, uint64_t size);
/* Finds the lowest run of free pages holding `size` bytes that starts at a
 * multiple of `align` (a power of two; below a page means a page), whose first
 * `size` bytes do not cross a multiple of `boundary` (a power of two >= size,
 * or 0 for no boundary) and that lies inside [lo, hi). Takes it and stores its
 * address in *addr. */
enum pagealloc_status pagealloc_alloc(struct pagealloc *pa, uint64_t size, uint64_t align,
                                      uint64_t boundary, uint64_t lo, uint64_t hi,
                                      uint64_t *addr);
/* Returns the allocation [addr, addr+size) (size rounded up to pages, as given
 * to pagealloc_alloc or pagealloc_reserve). State is unchanged on error. */
enum pagealloc_status pagealloc_free(struct pagealloc *pa, uint64_t addr, uint64_t size);
/* Managed bytes inside [lo, hi). */
uint64_t pagealloc_total_in(const struct pagealloc *pa, uint64_t lo, uint64_t hi);
const char *pagealloc_status_name(enum pagealloc_status status);

#endif
