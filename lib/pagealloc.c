/* SPDX-License-Identifier: MIT */
/* lib/pagealloc.c — span lists and the bitmap page-frame allocator (see
 * lib/pagealloc.h). First fit, lowest address first: the search skips whole
 * bitmap words of taken or free pages, so a scan over gigabytes stays cheap.
 * Pure logic: no kernel headers, built and tested on the host too. */
#include "lib/pagealloc.h"
#include "lib/string.h"

#define PAGE PAGEALLOC_PAGE_SIZE

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

/* Rounds up to a power-of-two multiple; UINT64_MAX when that would overflow,
 * which every caller treats as "past the end". */
static uint64_t align_up(uint64_t x, uint64_t align)
{
    if (x > UINT64_MAX - (align - 1))
        return UINT64_MAX;
    return (x + align - 1) & ~(align - 1);
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* ---- span lists ---- */

void span_list_init(struct span_list *list, struct span *storage, size_t capacity)
{
    list->spans = storage;
    list->capacity = capacity;
    list->count = 0;
    list->overflowed = false;
}

static void span_delete(struct span_list *list, size_t at, size_t n)
{
    memmove(&list->spans[at], &list->spans[at + n], (list->count - at - n) * sizeof(struct span));
    list->count -= n;
}

static bool span_insert(struct span_list *list, size_t at, uint64_t base, uint64_t end)
{
    if (list->count == list->capacity) {
        list->overflowed = true;
        return false;
    }
    memmove(&list->spans[at + 1], &list->spans[at], (list->count - at) * sizeof(struct span));
    list->spans[at].base = base;
    list->spans[at].end = end;
    list->count++;
    return true;
}

void span_list_add(struct span_list *list, uint64_t base, uint64_t end)
{
    if (base >= end)
        return;
    /* [first, last] are the spans that overlap or touch [base, end). */
    size_t first = 0;
    while (first < list->count && list->spans[first].end < base)
        first++;
    size_t last = first;
    while (last < list->count && list->spans[last].base <= end)
        last++;
    if (last == first) {
        span_insert(list, first, base, end);
        return;
    }
    struct span *s = &list->spans[first];
    s->base = min_u64(s->base, base);
    s->end = max_u64(list->spans[last - 1].end, end);
    span_delete(list, first + 1, last - first - 1);
}

void span_list_remove(struct span_list *list, uint64_t base, uint64_t end)
{
    if (base >= end)
        return;
    for (size_t i = 0; i < list->count;) {
        struct span *s = &list->spans[i];
        if (s->end <= base || s->base >= end) {
            i++;
        } else if (s->base < base && s->end > end) {
            /* The hole is strictly inside: split in two. */
            uint64_t tail_end = s->end;
            s->end = base;
            span_insert(list, i + 1, end, tail_end);
            i += 2;
        } else if (s->base < base) {
            s->end = base;
            i++;
        } else if (s->end > end) {
            s->base = end;
            i++;
        } else {
            span_delete(list, i, 1);
        }
    }
}

void span_list_trim_to_pages(struct span_list *list)
{
    for (size_t i = 0; i < list->count;) {
        struct span *s = &list->spans[i];
        uint64_t base = align_up(s->base, PAGE);
        uint64_t end = s->end & ~(PAGE - 1);
        if (base >= end) {
            span_delete(list, i, 1);
        } else {
            s->base = base;
            s->end = end;
            i++;
        }
    }
}

uint64_t span_list_bytes(const struct span_list *list)
{
    uint64_t total = 0;
    for (size_t i = 0; i < list->count; i++)
        total += list->spans[i].end - list->spans[i].base;
    return total;
}

/* ---- bitmaps ---- */

static bool bit_test(const uint64_t *bm, uint64_t i) { return (bm[i / 64] >> (i % 64)) & 1; }

static void bits_assign(uint64_t *bm, uint64_t from, uint64_t n, bool value)
{
    for (uint64_t i = from; i < from + n; i++) {
        if (value)
            bm[i / 64] |= 1ull << (i % 64);
        else
            bm[i / 64] &= ~(1ull << (i % 64));
    }
}

/* First index in [from, to) whose bit equals `value`, or `to`. Whole words
 * without such a bit are skipped at once. */
static uint64_t bits_find(const uint64_t *bm, uint64_t from, uint64_t to, bool value)
{
    while (from < to) {
        uint64_t word = bm[from / 64];
        if (!value)
            word = ~word;
        word >>= from % 64;
        if (word) {
            uint64_t i = from + (uint64_t)__builtin_ctzll(word);
            return i < to ? i : to;
        }
        from = (from | 63) + 1;
    }
    return to;
}

/* ---- the allocator ---- */

static uint64_t bitmap_words(uint64_t pages) { return (pages + 63) / 64; }
static uint64_t range_end(const struct pagealloc_range *r) { return r->base + r->pages * PAGE; }

void pagealloc_init(struct pagealloc *pa)
{
    memset(pa, 0, sizeof(*pa));
}

uint64_t pagealloc_storage_bytes(uint64_t size)
{
    return 2 * bitmap_words(size / PAGE) * sizeof(uint64_t);
}

enum pagealloc_status pagealloc_add_range(struct pagealloc *pa, uint64_t base, uint64_t size,
                                          uint64_t *storage)
{
    if (!size || (base | size) % PAGE || base > UINT64_MAX - size || !storage)
        return PAGEALLOC_BAD_ARGUMENT;
    if (pa->count == PAGEALLOC_MAX_RANGES)
        return PAGEALLOC_OVERLAP;
    unsigned at = 0;
    while (at < pa->count && pa->ranges[at].base < base)
        at++;
    if (at > 0 && range_end(&pa->ranges[at - 1]) > base)
        return PAGEALLOC_OVERLAP;
    if (at < pa->count && pa->ranges[at].base < base + size)
        return PAGEALLOC_OVERLAP;

    memmove(&pa->ranges[at + 1], &pa->ranges[at], (pa->count - at) * sizeof(pa->ranges[0]));
    pa->count++;
    struct pagealloc_range *r = &pa->ranges[at];
    uint64_t words = bitmap_words(size / PAGE);
    memset(storage, 0, 2 * words * sizeof(uint64_t));
    r->base = base;
    r->pages = size / PAGE;
    r->free_pages = r->pages;
    r->used = storage;
    r->head = storage + words;
    pa->total_pages += r->pages;
    pa->free_pages += r->pages;
    return PAGEALLOC_OK;
}

static struct pagealloc_range *range_of(struct pagealloc *pa, uint64_t addr)
{
    for (unsigned i = 0; i < pa->count; i++)
        if (addr >= pa->ranges[i].base && addr < range_end(&pa->ranges[i]))
            return &pa->ranges[i];
    return NULL;
}

static void take(struct pagealloc *pa, struct pagealloc_range *r, uint64_t first, uint64_t pages)
{
    bits_assign(r->used, first, pages, true);
    bits_assign(r->head, first, 1, true);
    r->free_pages -= pages;
    pa->free_pages -= pages;
}

enum pagealloc_status pagealloc_reserve(struct pagealloc *pa, uint64_t base, uint64_t size)
{
    if (!size || base > UINT64_MAX - size)
        return PAGEALLOC_BAD_ARGUMENT;
    uint64_t start = base & ~(PAGE - 1);
    uint64_t end = align_up(base + size, PAGE);
    struct pagealloc_range *r = range_of(pa, start);
    if (!r || end > range_end(r))
        return PAGEALLOC_NOT_MANAGED;
    uint64_t first = (start - r->base) / PAGE, pages = (end - start) / PAGE;
    if (bits_find(r->used, first, first + pages, true) != first + pages)
        return PAGEALLOC_NO_SPACE;
    take(pa, r, first, pages);
    return PAGEALLOC_OK;
}

/* The lowest fitting address inside one range, or UINT64_MAX. */
static uint64_t range_search(const struct pagealloc_range *r, uint64_t size, uint64_t pages,
                             uint64_t align, uint64_t boundary, uint64_t lo, uint64_t hi)
{
    uint64_t end = min_u64(range_end(r), hi);
    uint64_t cand = align_up(max_u64(r->base, lo), align);

    while (cand < end && end - cand >= pages * PAGE) {
        /* Crossing: the first and last requested byte lie in different
         * boundary-sized blocks. Move to the next block's start. */
        if (boundary && ((cand ^ (cand + size - 1)) & ~(boundary - 1))) {
            cand = align_up(align_up(cand + 1, boundary), align);
            continue;
        }
        uint64_t first = (cand - r->base) / PAGE;
        uint64_t taken = bits_find(r->used, first, first + pages, true);
        if (taken == first + pages)
            return cand;
        /* Skip the taken run in one go, then realign. */
        uint64_t next_free = bits_find(r->used, taken + 1, r->pages, false);
        if (next_free >= r->pages)
            break;
        cand = align_up(r->base + next_free * PAGE, align);
    }
    return UINT64_MAX;
}

enum pagealloc_status pagealloc_alloc(struct pagealloc *pa, uint64_t size, uint64_t align,
                                      uint64_t boundary, uint64_t lo, uint64_t hi,
                                      uint64_t *addr)
{
    if (!size || size > UINT64_MAX - PAGE || !is_pow2(align) ||
        (boundary && (!is_pow2(boundary) || boundary < size)))
        return PAGEALLOC_BAD_ARGUMENT;
    if (align < PAGE)
        align = PAGE;
    uint64_t pages = (size + PAGE - 1) / PAGE;
    if (pages > pa->free_pages)
        return PAGEALLOC_NO_SPACE;

    for (unsigned i = 0; i < pa->count; i++) {
        struct pagealloc_range *r = &pa->ranges[i];
        if (range_end(r) <= lo || r->base >= hi || r->free_pages < pages)
            continue;
        uint64_t found = range_search(r, size, pages, align, boundary, lo, hi);
        if (found != UINT64_MAX) {
            take(pa, r, (found - r->base) / PAGE, pages);
            *addr = found;
            return PAGEALLOC_OK;
        }
    }
    return PAGEALLOC_NO_SPACE;
}

enum pagealloc_status pagealloc_free(struct pagealloc *pa, uint64_t addr, uint64_t size)
{
    if (!size || size > UINT64_MAX - PAGE)
        return PAGEALLOC_BAD_ARGUMENT;
    struct pagealloc_range *r = range_of(pa, addr);
    if (!r || addr % PAGE)
        return PAGEALLOC_NOT_MANAGED;
    uint64_t first = (addr - r->base) / PAGE, pages = (size + PAGE - 1) / PAGE;

    /* Check everything before changing anything. */
    if (!bit_test(r->used, first))
        return PAGEALLOC_NOT_ALLOCATED;
    if (!bit_test(r->head, first))
        return PAGEALLOC_NOT_START;
    if (pages > r->pages - first)
        return PAGEALLOC_WRONG_SIZE;
    uint64_t body_end = first + pages;
    if (bits_find(r->used, first + 1, body_end, false) != body_end ||
        bits_find(r->head, first + 1, body_end, true) != body_end)
        return PAGEALLOC_WRONG_SIZE;                /* shorter than `size` */
    if (body_end < r->pages && bit_test(r->used, body_end) && !bit_test(r->head, body_end))
        return PAGEALLOC_WRONG_SIZE;                /* longer than `size` */

    bits_assign(r->used, first, pages, false);
    bits_assign(r->head, first, 1, false);
    r->free_pages += pages;
    pa->free_pages += pages;
    return PAGEALLOC_OK;
}

uint64_t pagealloc_total_in(const struct pagealloc *pa, uint64_t lo, uint64_t hi)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < pa->count; i++) {
        uint64_t base = max_u64(pa->ranges[i].base, lo);
        uint64_t end = min_u64(range_end(&pa->ranges[i]), hi);
        if (base < end)
            total += end - base;
    }
    return total;
}

const char *pagealloc_status_name(enum pagealloc_status status)
{
    switch (status) {
    case PAGEALLOC_OK: return "ok";
    case PAGEALLOC_BAD_ARGUMENT: return "bad argument";
    case PAGEALLOC_NO_SPACE: return "no free run fits";
    case PAGEALLOC_NOT_MANAGED: return "address not managed by the allocator";
    case PAGEALLOC_NOT_ALLOCATED: return "not allocated (double free, or never handed out)";
    case PAGEALLOC_NOT_START: return "not the start of an allocation";
    case PAGEALLOC_WRONG_SIZE: return "size differs from the allocation's";
    case PAGEALLOC_OVERLAP: return "range overlaps another, or too many ranges";
    }
    return "unknown status";
}
