/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_prp.c — Physical Region Page entries for a data transfer
 * (NVMe 1.4 §4.3). PRP1 may point into a page (dword aligned); every later
 * entry addresses a whole memory page. Two pages: PRP2 is the second page.
 * More: PRP2 points to a PRP list; a list page that cannot hold the rest ends
 * with a pointer to the next list page (chaining). Pure: no hardware, tested
 * on the host. The list pages belong to the caller's command slot. */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"

int nvme_prp_check(const struct blk_seg *segs, uint32_t nsegs, uint32_t page_size,
                   char *why, size_t why_size)
{
    for (uint32_t i = 0; i < nsegs; i++) {
        uint64_t start = segs[i].phys, end = segs[i].phys + segs[i].len;
        if (start & 3) {
            snprintf(why, why_size, "PRP rule: segment %u at 0x%llx is not dword aligned "
                     "(NVMe 1.4 §4.3)", i, (unsigned long long)start);
            return (int)i;
        }
        if (i > 0 && start % page_size) {
            snprintf(why, why_size, "PRP rule: segment %u at 0x%llx does not start on a "
                     "%u-byte memory page (only PRP1 may have an offset, NVMe 1.4 §4.3)",
                     i, (unsigned long long)start, page_size);
            return (int)i;
        }
        if (i + 1 < nsegs && end % page_size) {
            snprintf(why, why_size, "PRP rule: segment %u ends at 0x%llx, not on a %u-byte "
                     "memory page, and another segment follows (NVMe 1.4 §4.3)",
                     i, (unsigned long long)end, page_size);
            return (int)i;
        }
    }
    return -1;
}

uint32_t nvme_prp_entry_count(uint64_t first_offset, uint64_t bytes, uint32_t page_size)
{
    if (bytes == 0)
        return 0;
    uint64_t offset = first_offset % page_size;
    return (uint32_t)((offset + bytes + page_size - 1) / page_size);
}

uint32_t nvme_prp_list_pages_for(uint32_t entries, uint32_t page_size)
{
    uint32_t per_page = page_size / 8;
    if (entries <= 2)
        return 0;
    uint32_t in_list = entries - 1;         /* PRP1 is in the command */
    /* Every full page but the last gives one slot to the chain pointer. */
    if (in_list <= per_page)
        return 1;
    return 1 + (in_list - per_page + (per_page - 1) - 1) / (per_page - 1);
}

/* Walks the page-sized pieces of [offset, offset+bytes) across segments. */
struct prp_walk {
    const struct blk_seg *segs;
    uint32_t nsegs, seg;
    uint64_t seg_offset;        /* within segs[seg] */
    uint64_t left;
    uint32_t page_size;
};

static bool walk_start(struct prp_walk *w, uint64_t offset)
{
    w->seg = 0;
    while (w->seg < w->nsegs && offset >= w->segs[w->seg].len)
        offset -= w->segs[w->seg++].len;
    w->seg_offset = offset;
    return w->seg < w->nsegs;
}

/* The address of the next piece: up to the end of its page or segment. */
static bool walk_next(struct prp_walk *w, uint64_t *addr)
{
    if (w->left == 0)
        return false;
    while (w->seg < w->nsegs && w->seg_offset >= w->segs[w->seg].len) {
        w->seg++;
        w->seg_offset = 0;
    }
    if (w->seg >= w->nsegs)
        return false;
    uint64_t a = w->segs[w->seg].phys + w->seg_offset;
    uint64_t in_page = w->page_size - a % w->page_size;
    uint64_t in_seg = w->segs[w->seg].len - w->seg_offset;
    uint64_t n = in_page < in_seg ? in_page : in_seg;
    if (n > w->left)
        n = w->left;
    w->seg_offset += n;
    w->left -= n;
    *addr = a;
    return true;
}

bool nvme_prp_build(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset, uint64_t bytes,
                    uint32_t page_size, const struct nvme_prp_page *pages, uint32_t npages,
                    struct nvme_prp *out)
{
    struct prp_walk w = { .segs = segs, .nsegs = nsegs, .left = bytes, .page_size = page_size };
    uint32_t per_page = page_size / 8;
    uint64_t addr;

    out->prp1 = out->prp2 = 0;
    out->entries = out->list_pages = 0;
    if (bytes == 0 || !walk_start(&w, offset) || !walk_next(&w, &addr))
        return false;
    out->prp1 = addr;
    out->entries = 1;
    uint32_t total = nvme_prp_entry_count(addr, bytes, page_size);
    if (total == 1)
        return w.left == 0;
    if (total == 2) {
        if (!walk_next(&w, &addr))
            return false;
        out->prp2 = addr;
        out->entries = 2;
        return w.left == 0;
    }
    uint32_t need = nvme_prp_list_pages_for(total, page_size);
    if (need > npages)
        return false;
    out->prp2 = pages[0].phys;
    uint32_t page = 0, slot = 0, remaining = total - 1;
    while (remaining > 0) {
        /* A full page with more to come gives its last slot to the chain. */
        if (slot == per_page - 1 && remaining > 1) {
            pages[page].entries[slot] = pages[page + 1].phys;
            page++;
            slot = 0;
        }
        if (!walk_next(&w, &addr))
            return false;
        pages[page].entries[slot++] = addr;
        remaining--;
        out->entries++;
    }
    out->list_pages = page + 1;
    return w.left == 0;     /* else the segments broke the PRP rules */
}

bool nvme_sgl_single(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset, uint64_t bytes,
                     uint64_t *dptr1, uint64_t *dptr2)
{
    if (bytes == 0 || bytes > UINT32_MAX)
        return false;
    for (uint32_t i = 0; i < nsegs; i++) {
        if (offset >= segs[i].len) {
            offset -= segs[i].len;
            continue;
        }
        if (bytes > segs[i].len - offset)
            return false;           /* it spans segments: a descriptor list (not built) */
        *dptr1 = segs[i].phys + offset;
        *dptr2 = bytes | (uint64_t)NVME_SGL_DATA_BLOCK << 56;
        return true;
    }
    return false;
}
