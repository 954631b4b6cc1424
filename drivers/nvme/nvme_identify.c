/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_identify.c — Identify data checked before it is used
 * (NVMe Base 1.4 §5.15.2; NVM Command Set 1.0 §4.1.5.1). A controller's
 * data is not taken at face value: a namespace whose fields contradict each
 * other (NCAP > NSZE, NUSE > NCAP, FLBAS beyond NLBAF) or whose LBA format
 * bareio cannot drive is left out with the reason; a size whose bytes do not
 * fit 64 bits is clamped, and the strings are escaped for the console.
 * Pure, host-tested (tests/host/test_nvme_identify.c). */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"

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
