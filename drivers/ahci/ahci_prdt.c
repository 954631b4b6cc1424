/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_prdt.c — builds a command's Physical Region Descriptor
 * Table from the caller's physical segments (AHCI 1.3.1 §4.2.3.3: each
 * entry at most 4 MiB, word-aligned base, even byte count stored minus one)
 * and the DATA SET MANAGEMENT TRIM payload (ACS-2 §7.10.3.2). A request
 * that does not fit one command is described part by part: the caller
 * passes the byte offset where the next part starts. Pure: tested on the
 * host. */
#include "drivers/ahci/ahci.h"
#include "lib/format.h"
#include "lib/string.h"

/* Segment index and offset inside it for a byte offset into the data. */
static bool locate(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset, uint32_t *index,
                   uint64_t *inside)
{
    for (uint32_t i = 0; i < nsegs; i++) {
        if (offset < segs[i].len) {
            *index = i;
            *inside = offset;
            return true;
        }
        offset -= segs[i].len;
    }
    return false;
}

static bool check_segment(const struct blk_seg *s, uint32_t i, char *why, size_t why_size)
{
    if (s->phys & 1) {
        snprintf(why, why_size, "segment %u at 0x%llx: PRD data base must be word aligned "
                 "(AHCI 1.3.1 4.2.3.3 DBA bit 0)", i, (unsigned long long)s->phys);
        return false;
    }
    if (s->len & 1) {
        snprintf(why, why_size, "segment %u length %u: PRD byte count must be even "
                 "(AHCI 1.3.1 4.2.3.3 DBC bit 0 = 1)", i, s->len);
        return false;
    }
    return true;
}

static void put_entry(struct ahci_prd *e, uint64_t phys, uint32_t bytes)
{
    e->dba = (uint32_t)phys;
    e->dbau = (uint32_t)(phys >> 32);
    e->reserved = 0;
    e->dbc = (bytes - 1) & AHCI_PRD_DBC_MASK;
}

uint64_t ahci_prdt_build(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset,
                         uint64_t max_bytes, uint32_t block, struct ahci_prd *prdt,
                         unsigned max_entries, unsigned *entries, enum blk_cause *cause,
                         char *why, size_t why_size)
{
    uint32_t i;
    uint64_t inside, total = 0;
    unsigned n = 0;

    *entries = 0;
    *cause = BLK_CAUSE_INVALID;
    why[0] = '\0';
    if (!locate(segs, nsegs, offset, &i, &inside)) {
        snprintf(why, why_size, "byte offset %llu is past the data",
                 (unsigned long long)offset);
        return 0;
    }
    for (; i < nsegs && n < max_entries && total < max_bytes; i++, inside = 0) {
        if (!check_segment(&segs[i], i, why, why_size)) {
            *cause = BLK_CAUSE_MISALIGNED;
            return 0;
        }
        uint64_t phys = segs[i].phys + inside, left = segs[i].len - inside;
        while (left > 0 && n < max_entries && total < max_bytes) {
            uint64_t chunk = left < AHCI_PRD_MAX_BYTES ? left : AHCI_PRD_MAX_BYTES;
            if (chunk > max_bytes - total)
                chunk = max_bytes - total;
            put_entry(&prdt[n++], phys, (uint32_t)chunk);
            phys += chunk;
            left -= chunk;
            total += chunk;
        }
    }
    /* A command moves whole sectors: cut back to a block boundary, dropping
     * or shortening the last entries (still even: block is even). */
    uint64_t keep = total - total % block, cut = total - keep;
    while (cut > 0 && n > 0) {
        uint32_t last = (prdt[n - 1].dbc & AHCI_PRD_DBC_MASK) + 1;
        if (last <= cut) {
            cut -= last;
            n--;
        } else {
            prdt[n - 1].dbc = (last - (uint32_t)cut - 1) & AHCI_PRD_DBC_MASK;
            cut = 0;
        }
    }
    if (keep == 0) {
        snprintf(why, why_size, "segments too small: %u PRD entries hold less than one %u-byte "
                 "block", max_entries, block);
        return 0;
    }
    *entries = n;
    *cause = BLK_OK;
    return keep;
}

uint64_t ata_dsm_trim_payload(uint64_t lba, uint64_t count, uint64_t *entries,
                              unsigned max_entries)
{
    uint64_t covered = 0;

    memset(entries, 0, ATA_DSM_RANGES_PER_BLOCK * sizeof(entries[0]) *
                       ((max_entries + ATA_DSM_RANGES_PER_BLOCK - 1) / ATA_DSM_RANGES_PER_BLOCK));
    for (unsigned i = 0; i < max_entries && covered < count; i++) {
        uint64_t n = count - covered < ATA_DSM_RANGE_MAX ? count - covered : ATA_DSM_RANGE_MAX;
        entries[i] = ((lba + covered) & 0xffffffffffffull) | n << 48;
        covered += n;
    }
    return covered;
}
