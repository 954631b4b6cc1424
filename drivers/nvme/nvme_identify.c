/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_identify.c — Identify data checked before it is used
 * (NVMe Base 1.4 §5.15.2; NVM Command Set 1.0 §4.1.5.1; ZNS 1.1 §4.1.5.1).
 * A controller's data is not taken at face value: a namespace whose fields
 * contradict each other (NCAP > NSZE, NUSE > NCAP, FLBAS beyond NLBAF) or
 * whose LBA format bareio cannot drive is left out with the reason; a size
 * whose bytes do not fit 64 bits is clamped; what a usable namespace can do
 * and whether it must stay read-only (write protected, another command set)
 * is decided here too, and the strings are escaped for the console.
 * Pure, host-tested (tests/host/test_nvme_identify.c). */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>

static enum nvme_ns_verdict unusable(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum nvme_ns_verdict unusable(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return NVME_NS_UNUSABLE;
}

enum nvme_ns_verdict nvme_ns_geometry(const struct nvme_id_ns *id, struct nvme_ns_geometry *g,
                                      char *why, size_t why_size)
{
    /* FLBAS bits 3:0, and bits 6:5 as the upper bits when more than 16
     * formats exist (NVM Command Set 1.0, NVMe 2.0). */
    unsigned format = (id->flbas & 0xf) | (id->nlbaf >= 16 ? ((id->flbas >> 5) & 3u) << 4 : 0);
    const struct nvme_lbaf *lbaf = &id->lbaf[format];

    g->format = format;
    g->lba_shift = 0;
    g->nblocks = 0;
    g->clamped = false;
    if (id->nsze == 0) {
        snprintf(why, why_size, "size 0 (inactive)");
        return NVME_NS_INACTIVE;
    }
    if (id->ncap > id->nsze)
        return unusable(why, why_size, "NCAP %llu exceeds NSZE %llu, which the spec forbids",
                        (unsigned long long)id->ncap, (unsigned long long)id->nsze);
    if (id->nuse > id->ncap)
        return unusable(why, why_size, "NUSE %llu exceeds NCAP %llu, which the spec forbids",
                        (unsigned long long)id->nuse, (unsigned long long)id->ncap);
    if (format > id->nlbaf)
        return unusable(why, why_size, "FLBAS selects LBA format %u of %u", format, id->nlbaf + 1);
    if (lbaf->ms)
        return unusable(why, why_size, "LBA format %u has %u metadata bytes per block (%s); "
                        "bareio transfers data only", format, lbaf->ms,
                        (id->flbas & 0x10) ? "extended LBA" : "separate buffer");
    if (lbaf->lbads < 9 || lbaf->lbads > 16)
        return unusable(why, why_size, "LBA format %u has 2^%u-byte blocks (bareio takes "
                        "512 B..64 KiB)", format, lbaf->lbads);
    g->lba_shift = lbaf->lbads;
    g->nblocks = id->nsze;
    /* SLBA is 64 bits, but the block layer counts bytes in 64 bits too. */
    if (g->nblocks > UINT64_MAX >> g->lba_shift) {
        g->nblocks = UINT64_MAX >> g->lba_shift;
        g->clamped = true;
    }
    return NVME_NS_USABLE;
}

static uint32_t ns_caps(const struct nvme_id_ns *id, const struct nvme_ns_ctrl_facts *facts)
{
    uint32_t caps = BLK_CAP_FLUSH | BLK_CAP_FUA | BLK_CAP_DMA64;   /* PRPs are 64-bit */
    if (facts->oncs & NVME_ONCS_WRITE_ZEROES)
        caps |= BLK_CAP_WRITE_ZEROES;
    if (facts->oncs & NVME_ONCS_DSM)
        caps |= BLK_CAP_TRIM;
    if (facts->vwc & NVME_VWC_PRESENT)
        caps |= BLK_CAP_WRITE_CACHE;
    /* DLFEAT bits 2:0 = 001b: a deallocated block reads as zeroes. */
    if ((id->dlfeat & 7) == NVME_DLFEAT_READ_ZEROES)
        caps |= BLK_CAP_TRIM_ZEROES;
    return caps;
}

void nvme_ns_decide(const struct nvme_id_ns *id, const struct nvme_ns_ctrl_facts *facts,
                    struct nvme_ns_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->verdict = nvme_ns_geometry(id, &d->geometry, d->why, sizeof(d->why));
    if (d->verdict != NVME_NS_USABLE)
        return;
    uint32_t block_size = 1u << d->geometry.lba_shift;
    uint32_t max_transfer = facts->max_transfer_bytes >> d->geometry.lba_shift;
    if (max_transfer == 0) {
        /* No command could move one block (a 64 KiB format behind MDTS 32 KiB). */
        d->verdict = unusable(d->why, sizeof(d->why), "LBA format %u has %u-byte blocks, more "
                              "than one command may move (%u bytes, MDTS)", d->geometry.format,
                              block_size, facts->max_transfer_bytes);
        d->geometry = (struct nvme_ns_geometry){ 0 };
        return;
    }
    d->formats = id->nlbaf + 1u;
    d->nsze = id->nsze;
    d->block_size = block_size;
    d->max_transfer = max_transfer;
    d->caps = ns_caps(id, facts);
    if (id->nsattr & NVME_NSATTR_WRITE_PROTECTED)
        snprintf(d->read_only_reason, sizeof(d->read_only_reason), "the namespace is write "
                 "protected (Identify Namespace NSATTR bit 0)");
}

void nvme_ns_decide_command_set(struct nvme_ns_decision *d, int csi, uint64_t zone_blocks)
{
    if (d->verdict != NVME_NS_USABLE || csi < 0 || csi == NVME_CSI_NVM)
        return;
    char *why = d->read_only_reason;
    size_t size = sizeof(d->read_only_reason);
    if (csi != NVME_CSI_ZONED)
        snprintf(why, size, "a %s namespace, not the NVM command set bareio drives",
                 nvme_csi_name(csi));
    else if (zone_blocks)
        snprintf(why, size, "zoned namespace (NVMe ZNS), %llu zones of %llu blocks: its "
                 "writes must follow zone write pointers, which bareio does not drive",
                 (unsigned long long)(d->nsze / zone_blocks), (unsigned long long)zone_blocks);
    else
        snprintf(why, size, "zoned namespace (NVMe ZNS): its writes must follow zone "
                 "write pointers, which bareio does not drive");
}

void nvme_id_string(char *dst, size_t size, const char *src, size_t len)
{
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\0'))
        len--;
    format_escaped(dst, size, src, len);
}

int nvme_ns_descriptor_csi(const uint8_t page[4096])
{
    /* Each descriptor: NIDT (1 byte), NIDL (1), two reserved, NIDL bytes of
     * value; a NIDT of 0 ends the list. */
    for (unsigned at = 0; at + 4 <= 4096 && page[at] != 0;) {
        unsigned type = page[at], len = page[at + 1];
        if (at + 4 + len > 4096)
            break;
        if (type == 0x04 && len == 1)
            return page[at + 4];
        at += 4 + len;
    }
    return -1;
}

uint64_t nvme_zns_zone_size(const uint8_t page[4096], unsigned format)
{
    /* LBA Format Extension data structures, 16 bytes each, from byte 2816. */
    const uint8_t *e = page + 2816 + 16 * (format & 15);
    uint64_t zsze = 0;
    for (unsigned i = 0; i < 8; i++)
        zsze |= (uint64_t)e[i] << (8 * i);
    return format < 16 ? zsze : 0;
}

const char *nvme_csi_name(int csi)
{
    static char other[24];
    switch (csi) {
    case NVME_CSI_NVM: return "NVM";
    case NVME_CSI_KV: return "key value";
    case NVME_CSI_ZONED: return "zoned (NVMe ZNS)";
    }
    snprintf(other, sizeof(other), "command set %02xh", (unsigned)csi & 0xff);
    return other;
}
