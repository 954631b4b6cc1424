/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ata.c — the AHCI driver's pure parsers and builders on any
 * device data: IDENTIFY DEVICE (strings printable, capacity 1..2^48, sector
 * sizes 512 B..64 KiB), the NCQ Command Error log, the register decoders,
 * the error classification, the PRDT and TRIM payload builders against
 * arbitrary segment lists (never more entries or bytes than asked), and the
 * error path's decisions on any port state (a slot is finished or failed,
 * never both, and only if it was issued; a request already re-sent once is
 * never re-sent again; a failure always has a cause and words). */
#include "tests/fuzz/fuzz.h"
#include "drivers/ahci/ahci.h"
#include "lib/string.h"

static void check_printable(const char *s, size_t size)
{
    FUZZ_ASSERT(memchr(s, '\0', size) != NULL);
    for (; *s; s++)
        FUZZ_ASSERT(*s >= 0x20 && *s < 0x7f);
}

static void identify(const uint8_t *bytes)
{
    uint16_t w[256];
    memcpy(w, bytes, sizeof w);
    struct ata_identity id;
    if (ata_identify_parse(w, &id) != ATA_IDENTIFY_OK)
        return;
    check_printable(id.model, sizeof id.model);
    check_printable(id.serial, sizeof id.serial);
    check_printable(id.firmware, sizeof id.firmware);
    FUZZ_ASSERT(id.nblocks >= 1 && id.nblocks <= ATA_LBA48_SECTORS);
    FUZZ_ASSERT(id.nblocks <= UINT64_MAX / id.logical_size);
    FUZZ_ASSERT(id.capacity_clamped == (id.reported_nblocks > id.nblocks));
    FUZZ_ASSERT(ata_lba48_reaches(id.nblocks - 1, 1));
    FUZZ_ASSERT(id.logical_size >= 512 && id.logical_size <= 65536);
    FUZZ_ASSERT((id.logical_size & (id.logical_size - 1)) == 0);
    FUZZ_ASSERT(id.physical_size >= id.logical_size);
    FUZZ_ASSERT(!id.ncq || (id.ncq_depth >= 1 && id.ncq_depth <= 32));
}

static void builders(struct fuzz_in *in)
{
    struct blk_seg segs[8];
    uint32_t nsegs = 1 + fuzz_u8(in) % 8;
    for (uint32_t i = 0; i < nsegs; i++) {
        segs[i].phys = fuzz_edgy64(in);
        segs[i].len = fuzz_u32(in) % (8u << 20);
        segs[i].reserved = 0;
    }
    static struct ahci_prd prdt[16];
    unsigned entries = 0, max_entries = 1 + fuzz_u8(in) % 16;
    enum blk_cause cause = BLK_OK;
    char why[160];
    uint32_t block = 512u << (fuzz_u8(in) % 8);
    uint64_t offset = fuzz_u32(in), max = fuzz_u32(in);
    uint64_t bytes = ahci_prdt_build(segs, nsegs, offset, max, block, prdt, max_entries,
                                     &entries, &cause, why, sizeof why);
    if (bytes) {
        FUZZ_ASSERT(bytes <= max && bytes % block == 0 && entries <= max_entries);
        uint64_t described = 0;
        for (unsigned i = 0; i < entries; i++)
            described += (prdt[i].dbc & 0x3fffff) + 1;
        FUZZ_ASSERT(described == bytes);
    } else {
        FUZZ_ASSERT(cause != BLK_OK);
    }
    uint64_t ranges[64];
    uint64_t lba = fuzz_edgy64(in) & ((1ull << 48) - 1), count = fuzz_u32(in);
    uint64_t covered = ata_dsm_trim_payload(lba, count, ranges, 64);
    FUZZ_ASSERT(covered <= count);
}

static void recovery(struct fuzz_in *in, const uint8_t *page)
{
    static struct ahci_error_snapshot s;
    memset(&s, 0, sizeof s);
    s.pxis = fuzz_u32(in);
    s.pxtfd = fuzz_u32(in);
    s.pxserr = fuzz_u32(in);
    s.pxci = fuzz_u32(in);
    s.pxsact = fuzz_u32(in);
    s.ccs = fuzz_u8(in) % AHCI_MAX_SLOTS;
    s.timed_out = (int)(fuzz_u8(in) % (AHCI_MAX_SLOTS + 1)) - 1;
    s.issued = fuzz_u32(in);
    s.nblocks = fuzz_edgy64(in);
    s.timeout_ms = fuzz_u32(in);
    for (unsigned i = 0; i < AHCI_MAX_SLOTS; i++) {
        uint8_t flags = fuzz_u8(in);
        s.slot[i] = (struct ahci_recovery_slot){
            .command = fuzz_u8(in), .ncq = flags & 1, .data = flags & 2, .retried = flags & 4,
            .nonqueued = flags & 8, .irq_missed = flags & 16, .lba = fuzz_edgy64(in),
            .count = fuzz_u32(in),
        };
    }
    struct ahci_recovery_plan plan;
    ahci_recovery_plan(&s, &plan);
    FUZZ_ASSERT((plan.finished & plan.failed) == 0);
    FUZZ_ASSERT(((plan.finished | plan.failed) & ~s.issued) == 0);
    FUZZ_ASSERT(plan.culprit >= -1 && plan.culprit < (int)AHCI_MAX_SLOTS);
    struct ata_ncq_error log;
    bool have_log = ata_ncq_log_parse(page, &log) == ATA_NCQ_LOG_OK;
    struct ahci_recovery_result r = { .recovered = fuzz_u8(in) & 1,
                                      .log = have_log && (fuzz_u8(in) & 1) ? &log : NULL };
    memcpy(&r.d2h, page + 64, sizeof r.d2h);
    for (unsigned slot = 0; slot < AHCI_MAX_SLOTS; slot++) {
        if (!(plan.failed & (1u << slot)))
            continue;
        struct ahci_slot_verdict v;
        memset(&v, 0xa5, sizeof v);
        ahci_recovery_decide(&s, &plan, &r, slot, &v);
        FUZZ_ASSERT(v.action == AHCI_SLOT_FAIL || v.action == AHCI_SLOT_RESEND ||
                    v.action == AHCI_SLOT_RESEND_NONQUEUED);
        FUZZ_ASSERT(memchr(v.detail, '\0', sizeof v.detail) != NULL);
        if (s.slot[slot].retried)
            FUZZ_ASSERT(v.action == AHCI_SLOT_FAIL);
        if (v.action == AHCI_SLOT_FAIL)
            FUZZ_ASSERT(v.cause != BLK_OK && (unsigned)v.cause < BLK_CAUSE_COUNT && v.detail[0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t page[512] = { 0 };
    memcpy(page, data, size < sizeof page ? size : sizeof page);
    identify(page);
    struct ata_ncq_error e;
    if (ata_ncq_log_parse(page, &e) == ATA_NCQ_LOG_OK)
        FUZZ_ASSERT(e.tag < 32);
    struct fuzz_in in = { data, size };
    char buf[256];
    ahci_decode_pxis(fuzz_u32(&in), buf, sizeof buf);
    ahci_decode_tfd(fuzz_u32(&in), buf, sizeof buf);
    ahci_decode_serr(fuzz_u32(&in), buf, sizeof buf);
    ahci_decode_pxcmd(fuzz_u32(&in), buf, sizeof buf);
    ahci_decode_ssts(fuzz_u32(&in), buf, sizeof buf);
    struct ahci_error_facts f = {
        .pxis = fuzz_u32(&in), .pxtfd = fuzz_u32(&in), .pxserr = fuzz_u32(&in),
        .command = fuzz_u8(&in), .rw = fuzz_u8(&in) & 1, .lba = fuzz_edgy64(&in),
        .count = fuzz_u32(&in), .nblocks = fuzz_edgy64(&in), .short_transfer = fuzz_u8(&in) & 1,
        .prdbc = fuzz_u32(&in), .expected = fuzz_u32(&in),
    };
    char why[160];
    enum blk_cause c = ahci_classify(&f, why, sizeof why);
    FUZZ_ASSERT((unsigned)c < BLK_CAUSE_COUNT);
    ahci_format_detail(&f, why, buf, sizeof buf);
    FUZZ_ASSERT(memchr(buf, '\0', sizeof buf) != NULL);
    builders(&in);
    recovery(&in, page);
    return 0;
}
