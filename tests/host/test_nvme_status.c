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
