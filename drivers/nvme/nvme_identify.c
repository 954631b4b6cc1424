/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_identify.c — Identify data checked before it is used
 * (NVMe Base 1.4 §5.15.2; NVM Command Set 1.0 §4.1.5.1; ZNS 1.1 §4.1.5.1).
 * A controller's data is not taken at face value: CAP and VS with values the
 * spec rules out (MQES 0, TO 0, a version 0 or from the future, MPSMAX below
 * MPSMIN, no command set), Identify Controller's (NN 0, SQES/CQES whose
 * required size exceeds the maximum) and a namespace whose fields contradict
 * each other (NCAP > NSZE, NUSE > NCAP, FLBAS beyond NLBAF, blocks smaller
 * than 512 bytes) are impossible capabilities — a firmware or emulator bug,
 * named with the field and value; a namespace whose LBA format bareio cannot
 * drive is left out as unsupported, with the reason; a size
 * whose bytes do not fit 64 bits is clamped; what a usable namespace can do
 * and whether it must stay read-only (write protected, another command set)
 * is decided here too, and the strings are escaped for the console.
 * Pure, host-tested (tests/host/test_nvme_identify.c). */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>

/* "the controller reports impossible capabilities (...): FIELD = VALUE (...)" */
static void impossible_words(char *why, size_t size, const char *fmt, va_list ap)
{
    int n = snprintf(why, size, "%s: ", BLK_IMPOSSIBLE_WORDS);
    if (n >= 0 && (size_t)n < size)
        vsnprintf(why + n, size - (size_t)n, fmt, ap);
}

static enum nvme_ns_verdict impossible_ns(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum nvme_ns_verdict impossible_ns(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    impossible_words(why, why_size, fmt, ap);
    va_end(ap);
    return NVME_NS_IMPOSSIBLE;
}

static enum blk_cause impossible(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum blk_cause impossible(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    impossible_words(why, size, fmt, ap);
    va_end(ap);
    return BLK_CAUSE_IMPOSSIBLE;
}

static enum blk_cause refuse(char *why, size_t size, enum blk_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum blk_cause refuse(char *why, size_t size, enum blk_cause cause, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return cause;
}

enum blk_cause nvme_cap_check(uint64_t cap, uint32_t vs, char *why, size_t size)
{
    char words[200];
    nvme_decode_cap(cap, words, sizeof(words));
    if (vs == 0xffffffffu)
        return refuse(why, size, BLK_CAUSE_NOT_READY, "VS reads 0xffffffff: the controller does "
                      "not answer on its BAR");
    if (NVME_VS_MAJOR(vs) == 0)
        return impossible(why, size, "VS = 0x%08x (NVMe %u.%u: there is no version 0)", vs,
                          NVME_VS_MAJOR(vs), NVME_VS_MINOR(vs));
    if (NVME_VS_MAJOR(vs) > NVME_VS_NEWEST_MAJOR)
        return impossible(why, size, "VS = 0x%08x (NVMe %u.%u: newer than any published version, "
                          "%u.x)", vs, NVME_VS_MAJOR(vs), NVME_VS_MINOR(vs), NVME_VS_NEWEST_MAJOR);
    if (NVME_CAP_MQES(cap) == 0)
        return impossible(why, size, "CAP.MQES = 0 (queues of one entry: the minimum is 1, two "
                          "entries)");
    if (NVME_CAP_TO(cap) == 0)
        return impossible(why, size, "CAP.TO = 0 (no time at all for CSTS.RDY to follow CC.EN)");
    if (NVME_CAP_MPSMAX(cap) < NVME_CAP_MPSMIN(cap))
        return impossible(why, size, "CAP.MPSMAX = %u is below CAP.MPSMIN = %u",
                          NVME_CAP_MPSMAX(cap), NVME_CAP_MPSMIN(cap));
    if (NVME_CAP_CSS(cap) == 0)
        return impossible(why, size, "CAP.CSS = 0 (no command set at all)");
    if (!(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM))
        return refuse(why, size, BLK_CAUSE_UNSUPPORTED, "CAP.CSS lacks the NVM command set (%s)",
                      words);
    if (NVME_CAP_MPSMIN(cap) > 0)
        return refuse(why, size, BLK_CAUSE_UNSUPPORTED, "4 KiB memory pages are outside "
                      "CAP.MPSMIN..MPSMAX (%s)", words);
    return BLK_OK;
}

enum blk_cause nvme_id_ctrl_check(const struct nvme_id_ctrl *id, char *why, size_t size)
{
    /* SQES/CQES: bits 3:0 the required entry size, 7:4 the maximum (log2). */
    if ((id->sqes & 0xf) > (id->sqes >> 4) || (id->cqes & 0xf) > (id->cqes >> 4))
        return impossible(why, size, "Identify Controller SQES = 0x%02x, CQES = 0x%02x (a required "
                          "entry size above the maximum)", id->sqes, id->cqes);
    if ((id->sqes & 0xf) > NVME_SQES_LOG2 || (id->sqes >> 4) < NVME_SQES_LOG2 ||
        (id->cqes & 0xf) > NVME_CQES_LOG2 || (id->cqes >> 4) < NVME_CQES_LOG2)
        return refuse(why, size, BLK_CAUSE_UNSUPPORTED, "queue entry sizes SQES 0x%x CQES 0x%x "
                      "exclude 64/16 bytes", id->sqes, id->cqes);
    if (id->nn == 0)
        return impossible(why, size, "Identify Controller NN = 0 (an I/O controller with room "
                          "for no namespace)");
    return BLK_OK;
}

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
        return impossible_ns(why, why_size, "NCAP = %llu exceeds NSZE = %llu",
                        (unsigned long long)id->ncap, (unsigned long long)id->nsze);
    if (id->nuse > id->ncap)
        return impossible_ns(why, why_size, "NUSE = %llu exceeds NCAP = %llu",
                        (unsigned long long)id->nuse, (unsigned long long)id->ncap);
    if (format > id->nlbaf)
        return impossible_ns(why, why_size, "FLBAS = 0x%02x selects LBA format %u of %u (NLBAF = %u)",
                             id->flbas, format, id->nlbaf + 1, id->nlbaf);
    if (lbaf->ms)
        return unusable(why, why_size, "LBA format %u has %u metadata bytes per block (%s); "
                        "bareio transfers data only", format, lbaf->ms,
                        (id->flbas & 0x10) ? "extended LBA" : "separate buffer");
    if (lbaf->lbads < 9)
        return impossible_ns(why, why_size, "LBA format %u LBADS = %u (blocks of 2^%u bytes: the "
                             "minimum is 9, 512 bytes)", format, lbaf->lbads, lbaf->lbads);
    if (lbaf->lbads > 16)
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
