/* SPDX-License-Identifier: MIT */
/* tests/host/test_nvme_status.c — NVMe status decoding
 * (drivers/nvme/nvme_status.c): the CQE field to dev_status conversion, words
 * from every status code type, DNR/More, causes, and register decoders. */
#include "tests/host/htest.h"
#include "drivers/nvme/nvme.h"

HTEST(nvme_status_from_cqe_drops_phase)
{
    /* CQE: DNR=1, SCT=0, SC=80h, phase 1. */
    HT_EXPECT_EQ(nvme_status_from_cqe((uint16_t)(1u << 15 | 0x80u << 1 | 1)), 0x8080);
    /* SCT 2 SC 81h, More set. */
    HT_EXPECT_EQ(nvme_status_from_cqe((uint16_t)(1u << 14 | 2u << 9 | 0x81u << 1)), 0x4281);
    HT_EXPECT_EQ(nvme_status_from_cqe(1), 0);
}

HTEST(nvme_status_lba_range_words_and_cause)
{
    char buf[160];
    nvme_status_describe(0x8080, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "generic: LBA out of range (SCT 0h SC 80h, do not retry)");
    HT_EXPECT_EQ(nvme_status_cause(0x8080), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT(!nvme_status_retryable(0x8080));
}

HTEST(nvme_status_media_errors_qemu_injects)
{
    char buf[160];
    nvme_status_describe(0x0281, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "media/data integrity: unrecovered read error (SCT 2h SC 81h)");
    nvme_status_describe(0x0280, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "media/data integrity: write fault (SCT 2h SC 80h)");
    HT_EXPECT_EQ(nvme_status_cause(0x0281), BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(nvme_status_cause(0x0280), BLK_CAUSE_MEDIA);
    HT_EXPECT(nvme_status_retryable(0x0281));       /* QEMU leaves DNR clear */
}

HTEST(nvme_status_invalid_namespace_field_opcode)
{
    char buf[160];
    nvme_status_describe(0x400b, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "generic: invalid namespace or format (SCT 0h SC 0bh, more in the error log)");
    HT_EXPECT_EQ(nvme_status_cause(0x800b), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(nvme_status_cause(0x8002), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(nvme_status_cause(0x8001), BLK_CAUSE_INVALID);
    HT_EXPECT_EQ(nvme_status_cause(0x8013), BLK_CAUSE_MISALIGNED);
}

HTEST(nvme_status_command_specific_and_path)
{
    char buf[160];
    nvme_status_describe(0x0101, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "command specific: invalid queue identifier (SCT 1h SC 01h)");
    nvme_status_describe(0x0371, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "path related: command aborted by host (SCT 3h SC 71h)");
    HT_EXPECT_EQ(nvme_status_cause(0x0371), BLK_CAUSE_ABORTED);
    HT_EXPECT_EQ(nvme_status_cause(0x0300), BLK_CAUSE_LINK);
    HT_EXPECT_EQ(nvme_status_cause(0x0007), BLK_CAUSE_ABORTED);
}

HTEST(nvme_status_unknown_codes_by_type)
{
    char buf[160];
    nvme_status_describe(0x02f0, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "media/data integrity: vendor specific status code f0h (SCT 2h SC f0h)");
    HT_EXPECT_EQ(nvme_status_cause(0x02f0), BLK_CAUSE_MEDIA);
    nvme_status_describe(0x0512, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "reserved status code type 5h: reserved status code 12h (SCT 5h SC 12h)");
    HT_EXPECT_EQ(nvme_status_cause(0x0712), BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT_EQ(nvme_status_cause(0), BLK_OK);
    HT_EXPECT_EQ(nvme_status_cause(NVME_STATUS_DNR), BLK_OK);   /* success with stray DNR */
    HT_EXPECT(!nvme_status_retryable(0));
}

HTEST(nvme_decode_registers_in_words)
{
    char buf[200];
    nvme_decode_csts(0x3, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "CSTS 0x3: RDY=1 ready, CFS=1 controller fatal status, SHST=normal operation");
    nvme_decode_csts(0x9, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "CSTS 0x9: RDY=1 ready, CFS=0, SHST=shutdown processing complete");
    nvme_decode_csts(0xffffffff, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "does not answer") != NULL);
    nvme_decode_cc(0x00464001, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "CC 0x464001: EN=1, CSS=NVM, MPS=4 KiB, AMS=round robin, SHN=normal, "
                         "IOSQES=64 B, IOCQES=16 B");
    /* QEMU 7.2: MQES 2047, CQR, TO 15, MPSMAX 4 (64 KiB), CSS NVM. */
    nvme_decode_cap(0x004000200f0107ffull, buf, sizeof(buf));
    HT_EXPECT(strstr(buf, "MQES=2048 entries, CQR=1, TO=7500 ms, DSTRD=4 bytes") != NULL);
    HT_EXPECT(strstr(buf, "MPS 4..64 KiB") != NULL);
}

/* Each code the brief names, with its cause: a table entry that moves or a
 * mapping that changes fails here. */
HTEST(nvme_status_cause_table_lookups)
{
    static const struct { uint16_t status; enum blk_cause cause; const char *words; } want[] = {
        { 0x0280, BLK_CAUSE_MEDIA, "write fault" },
        { 0x0281, BLK_CAUSE_MEDIA, "unrecovered read error" },
        { 0x0282, BLK_CAUSE_MEDIA, "end-to-end guard check error" },
        { 0x0288, BLK_CAUSE_MEDIA, "end-to-end storage tag check error" },
        { 0x0287, BLK_CAUSE_DEVICE_ERROR, "deallocated or unwritten logical block" },
        { 0x0285, BLK_CAUSE_MISCOMPARE_CORRUPT, "compare failure" },
        { 0x0080, BLK_CAUSE_LBA_RANGE, "LBA out of range" },
        { 0x0081, BLK_CAUSE_DEVICE_ERROR, "capacity exceeded" },
        { 0x000b, BLK_CAUSE_INVALID, "invalid namespace or format" },
        { 0x0001, BLK_CAUSE_INVALID, "invalid command opcode" },
        { 0x0002, BLK_CAUSE_INVALID, "invalid field in command" },
        { 0x0004, BLK_CAUSE_DEVICE_ERROR, "data transfer error" },
        { 0x0006, BLK_CAUSE_DEVICE_ERROR, "internal error" },
        { 0x0007, BLK_CAUSE_ABORTED, "command abort requested" },
        { 0x0008, BLK_CAUSE_ABORTED, "command aborted due to SQ deletion" },
        { 0x0013, BLK_CAUSE_MISALIGNED, "PRP offset invalid" },
        { 0x0022, BLK_CAUSE_LINK, "transient transport error" },
        { 0x0082, BLK_CAUSE_NOT_READY, "namespace not ready" },
        { 0x0084, BLK_CAUSE_NOT_READY, "format in progress" },
        { 0x0024, BLK_CAUSE_NOT_READY, "admin command media not ready" },
        { 0x0100, BLK_CAUSE_INVALID, "completion queue invalid" },
        { 0x0102, BLK_CAUSE_INVALID, "invalid queue size" },
        { 0x010c, BLK_CAUSE_INVALID, "invalid queue deletion" },
        { 0x010e, BLK_CAUSE_INVALID, "feature not changeable" },
        { 0x0182, BLK_CAUSE_DEVICE_ERROR, "attempted write to read only range" },
        { 0x0129, BLK_CAUSE_UNSUPPORTED, "I/O command set not supported" },
        { 0x01b9, BLK_CAUSE_DEVICE_ERROR, "zone is full" },
        { 0x0300, BLK_CAUSE_LINK, "internal path error" },
        { 0x0303, BLK_CAUSE_LINK, "asymmetric access transition" },
        { 0x0371, BLK_CAUSE_ABORTED, "command aborted by host" },
    };
    char buf[160];
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        HT_EXPECT_EQ(nvme_status_cause(want[i].status), want[i].cause);
        nvme_status_describe(want[i].status, buf, sizeof(buf));
        if (!strstr(buf, want[i].words))
            htest_fail(__FILE__, __LINE__, "0x%04x: \"%s\" lacks \"%s\"", want[i].status, buf,
                       want[i].words);
    }
}

/* DNR, More and CRD all reach the words; CRD does not change the cause. */
HTEST(nvme_status_dnr_more_crd_decoded)
{
    char buf[160];
    /* CQE: DNR, More, CRD 2, SCT 2, SC 81h, phase. */
    uint16_t st = nvme_status_from_cqe((uint16_t)(1u << 15 | 1u << 14 | 2u << 12 | 2u << 9 |
                                                  0x81u << 1 | 1));
    HT_EXPECT_EQ(st, 0xe281);
    HT_EXPECT_EQ(NVME_STATUS_CRD(st), 2);
    nvme_status_describe(st, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "media/data integrity: unrecovered read error (SCT 2h SC 81h, more in "
                         "the error log, retry after CRDT2, do not retry)");
    HT_EXPECT_EQ(nvme_status_cause(st), BLK_CAUSE_MEDIA);
    HT_EXPECT(!nvme_status_retryable(st));
    HT_EXPECT_EQ(nvme_status_cause(0x3000), BLK_OK);    /* CRD without a code: success */
    nvme_status_describe(0x07a5, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "vendor specific: vendor specific status code a5h (SCT 7h SC a5h)");
}

/* Every code of every type decodes to words and a cause inside the list. */
HTEST(nvme_status_every_code_has_words)
{
    char buf[160];
    for (unsigned sct = 0; sct < 8; sct++)
        for (unsigned sc = 0; sc < 256; sc++) {
            uint16_t st = (uint16_t)(sct << 8 | sc);
            nvme_status_describe(st, buf, sizeof(buf));
            HT_EXPECT(strstr(buf, "(SCT ") != NULL);
            HT_EXPECT(nvme_status_cause(st) < BLK_CAUSE_COUNT);
            HT_EXPECT((nvme_status_cause(st) == BLK_OK) == (st == 0));
        }
}

/* §3.1: doorbells at 1000h + (2y + {0,1}) * (4 << DSTRD). */
HTEST(nvme_doorbell_offsets_honour_stride)
{
    HT_EXPECT_EQ(nvme_doorbell_offset(0, false, 0), 0x1000);
    HT_EXPECT_EQ(nvme_doorbell_offset(0, true, 0), 0x1004);
    HT_EXPECT_EQ(nvme_doorbell_offset(3, false, 0), 0x1018);
    HT_EXPECT_EQ(nvme_doorbell_offset(3, true, 0), 0x101c);
    HT_EXPECT_EQ(nvme_doorbell_offset(1, false, 1), 0x1010);    /* 8-byte stride */
    HT_EXPECT_EQ(nvme_doorbell_offset(1, true, 1), 0x1018);
    HT_EXPECT_EQ(nvme_doorbell_offset(2, true, 4), 0x1000 + 5 * 64);
    HT_EXPECT_EQ(nvme_doorbell_offset(16, false, 15), 0x1000 + 32u * (4u << 15));
}

/* Shadow doorbells: the register only when the move from old to new passes
 * EventIdx (EventIdx in [old, new)), also across the queue index wrap. */
HTEST(nvme_shadow_doorbell_event_index_rule)
{
    HT_EXPECT(nvme_shadow_needs_mmio(5, 6, 5));         /* event at old: passed */
    HT_EXPECT(nvme_shadow_needs_mmio(7, 10, 5));        /* inside */
    HT_EXPECT(nvme_shadow_needs_mmio(9, 10, 5));        /* last value passed */
    HT_EXPECT(!nvme_shadow_needs_mmio(10, 10, 5));      /* not yet reached */
    HT_EXPECT(!nvme_shadow_needs_mmio(4, 10, 5));       /* already behind: told before */
    HT_EXPECT(!nvme_shadow_needs_mmio(200, 10, 5));
    HT_EXPECT(!nvme_shadow_needs_mmio(5, 5, 5));        /* no move, no write */
    /* A 256-entry queue wrapping from 250 to 2. */
    HT_EXPECT(nvme_shadow_needs_mmio(252, 2, 250));
    HT_EXPECT(nvme_shadow_needs_mmio(1, 2, 250));
    HT_EXPECT(nvme_shadow_needs_mmio(250, 2, 250));
    HT_EXPECT(!nvme_shadow_needs_mmio(2, 2, 250));
    HT_EXPECT(!nvme_shadow_needs_mmio(100, 2, 250));
    HT_EXPECT(!nvme_shadow_needs_mmio(249, 2, 250));
}
