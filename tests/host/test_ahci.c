/* SPDX-License-Identifier: MIT */
/* tests/host/test_ahci.c — host unit tests for the AHCI driver's pure parts:
 * the IDENTIFY DEVICE parser (checksum word 255, byte-swapped strings,
 * capacity, sector sizes and alignment, NCQ/FUA/TRIM bits), the register
 * decoders and the error classification rules, and the PRDT and DSM TRIM
 * payload builders. */
#include "tests/host/htest.h"
#include "drivers/ahci/ahci.h"

/* ---- IDENTIFY ---- */

static void put_string(uint16_t *w, unsigned word, unsigned nwords, const char *s)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < nwords; i++) {
        char a = 2 * i < n ? s[2 * i] : ' ', b = 2 * i + 1 < n ? s[2 * i + 1] : ' ';
        w[word + i] = (uint16_t)((uint8_t)a << 8 | (uint8_t)b);
    }
}

static void set_checksum(uint16_t *w)
{
    uint8_t sum = 0;
    w[255] = 0xa5;
    for (unsigned i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
    sum = (uint8_t)(sum + 0xa5);
    w[255] = (uint16_t)(0xa5 | (uint8_t)(0x100 - sum) << 8);
}

/* A 3 TiB disk with 4K physical sectors, LBA 0 at offset 1, NCQ 32, FUA,
 * deterministic zeroing TRIM. */
static void sample_identify(uint16_t *w)
{
    uint64_t n = 3ull * 1024 * 1024 * 1024 * 1024 / 512;
    memset(w, 0, 512);
    put_string(w, 10, 10, "  SERIAL-123");
    put_string(w, 23, 4, "FW1.0");
    put_string(w, 27, 20, "Example SATA Disk");
    w[69] = (1u << 14) | (1u << 5);
    w[75] = 31;
    w[76] = 1u << 8;
    w[82] = 1u << 5;
    w[83] = 0x4000 | (1u << 10) | (1u << 13);
    w[84] = 0x4000 | (1u << 6);
    w[85] = 1u << 5;
    w[100] = (uint16_t)n;
    w[101] = (uint16_t)(n >> 16);
    w[102] = (uint16_t)(n >> 32);
    w[103] = (uint16_t)(n >> 48);
    w[105] = 8;
    w[106] = 0x4000 | (1u << 13) | 3;
    w[169] = 1;
    w[209] = 0x4000 | 1;
    w[217] = 1;
    set_checksum(w);
}

HTEST(ata_identify_parses_sample_disk)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT(id.checksum_present);
    HT_EXPECT_STREQ(id.model, "Example SATA Disk");
    HT_EXPECT_STREQ(id.serial, "SERIAL-123");       /* leading blanks trimmed too */
    HT_EXPECT_STREQ(id.firmware, "FW1.0");
    HT_EXPECT_EQ(id.nblocks, 3ull * 1024 * 1024 * 1024 * 1024 / 512);
    HT_EXPECT(id.nblocks > (1ull << 32));
    HT_EXPECT_EQ(id.logical_size, 512);
    HT_EXPECT_EQ(id.physical_size, 4096);
    HT_EXPECT_EQ(id.alignment, 1);
    HT_EXPECT(id.ncq);
    HT_EXPECT_EQ(id.ncq_depth, 32);
    HT_EXPECT(id.write_cache && id.write_cache_enabled);
    HT_EXPECT(id.flush_ext && id.fua && id.trim && id.trim_deterministic && id.trim_zeroes);
    HT_EXPECT_EQ(id.dsm_max_blocks, 8);
    HT_EXPECT_EQ(id.rotation, 1);
}

HTEST(ata_identify_checksum_mismatch_refused)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[100] ^= 1;        /* one bit flipped after the checksum was computed */
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_BAD_CHECKSUM);
}

HTEST(ata_identify_without_checksum_accepted)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[255] = 0;         /* QEMU: no A5h signature, nothing to check */
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT(!id.checksum_present);
}

HTEST(ata_identify_logical_4k_sectors)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[106] = 0x4000 | (1u << 12);       /* logical sector longer than 256 words */
    w[117] = 2048;                      /* in words: 4096 bytes */
    w[118] = 0;
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.logical_size, 4096);
    HT_EXPECT_EQ(id.physical_size, 4096);
}

HTEST(ata_identify_invalid_word_106_means_512)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[106] = 0x8000 | (1u << 13) | 3;   /* bits 15:14 = 10b: not valid */
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.physical_size, 512);
}

HTEST(ata_identify_refuses_atapi_and_lba28)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[0] = 0x85c0;
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_NOT_ATA);
    sample_identify(w);
    w[83] &= (uint16_t)~(1u << 10);
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_NO_LBA48);
}

HTEST(ata_identify_no_ncq_no_trim)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    w[76] = 0;
    w[169] = 0;
    w[84] = 0x4000;
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT(!id.ncq && id.ncq_depth == 0);
    HT_EXPECT(!id.trim && !id.trim_zeroes && !id.fua);
}

static void put_capacity(uint16_t *w, uint64_t n)
{
    for (unsigned i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(n >> (16 * i));
    set_checksum(w);
}

HTEST(ata_identify_capacity_beyond_lba48_is_clamped)
{
    uint16_t w[256];
    struct ata_identity id;
    static const uint64_t reported[] = { (1ull << 48) + 1, 1ull << 50, UINT64_MAX };
    for (unsigned i = 0; i < 3; i++) {
        sample_identify(w);
        put_capacity(w, reported[i]);
        HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
        HT_EXPECT_EQ(id.nblocks, ATA_LBA48_SECTORS);     /* LBA 2^48-1 is the last one a FIS holds */
        HT_EXPECT_EQ(id.reported_nblocks, reported[i]);
        HT_EXPECT(id.capacity_clamped);
    }
    sample_identify(w);
    put_capacity(w, 1ull << 48);                        /* exactly what 48 bits reach */
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.nblocks, 1ull << 48);
    HT_EXPECT(!id.capacity_clamped);
    put_capacity(w, 0);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_NO_CAPACITY);
    /* 64 KiB sectors: 2^48 of them would be 2^64 bytes; one less fits. */
    sample_identify(w);
    w[106] = 0x4000 | (1u << 12);
    w[117] = 32768;
    w[118] = 0;
    put_capacity(w, 1ull << 48);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.nblocks, (1ull << 48) - 1);
    HT_EXPECT(id.capacity_clamped);
    HT_EXPECT(id.nblocks <= UINT64_MAX / id.logical_size);
}

HTEST(ata_lba48_reach_edges)
{
    const uint64_t end = 1ull << 48;
    HT_EXPECT(ata_lba48_reaches(0, 65536));
    HT_EXPECT(ata_lba48_reaches(end - 1, 1));
    HT_EXPECT(ata_lba48_reaches(end - 8, 8));
    HT_EXPECT(!ata_lba48_reaches(end - 8, 9));          /* crosses by one */
    HT_EXPECT(!ata_lba48_reaches(end, 1));              /* would be LBA 0 */
    HT_EXPECT(!ata_lba48_reaches(end + 10, 8));
    HT_EXPECT(!ata_lba48_reaches(UINT64_MAX, 2));       /* wraps */
    HT_EXPECT(!ata_lba48_reaches(end - 1, UINT64_MAX));
}

/* Word 106 bit 12 set and words 117-118 (the logical sector in words) as given. */
static void put_logical_words(uint16_t *w, uint32_t words)
{
    w[106] = 0x4000 | (1u << 12);
    w[117] = (uint16_t)words;
    w[118] = (uint16_t)(words >> 16);
    set_checksum(w);
}

/* Above 64 KiB or not a power of two: legal ATA, but not what bareio
 * drives; refused as unsupported, not as impossible. */
HTEST(ata_identify_sector_sizes_above_64k_or_not_power_of_two_unsupported)
{
    uint16_t w[256];
    struct ata_identity id;
    char why[240];
    /* Words 117-118 count words: 2^30 words is 2^31 bytes; 80000100h words
     * would wrap to 512 bytes in 32-bit arithmetic; 260 words is 520 bytes. */
    static const uint32_t words[] = { 0x40000000u, 0x80000100u, 0x10000u, 260, 3000 };
    for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        sample_identify(w);
        put_logical_words(w, words[i]);
        HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_BAD_SECTOR_SIZE);
        HT_EXPECT(!ata_identify_status_impossible(ATA_IDENTIFY_BAD_SECTOR_SIZE));
        ata_identify_refusal(ATA_IDENTIFY_BAD_SECTOR_SIZE, &id, why, sizeof(why));
        HT_EXPECT(strstr(why, BLK_IMPOSSIBLE_WORDS) == NULL);
    }
    HT_EXPECT_STREQ(why, "IDENTIFY words 117-118 (logical sector size) = 3000 words (6000 bytes): "
                    "bareio takes a power of two from 512 to 65536 bytes");
    sample_identify(w);
    put_logical_words(w, 32768);        /* 64 KiB: the largest the block layer takes */
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.logical_size, 65536);
}

/* Below 256 words (512 bytes), 0 included: ATA rules it out, so the refusal
 * is "impossible" and names the words and the value read. */
HTEST(ata_identify_sector_below_512_is_impossible)
{
    uint16_t w[256];
    struct ata_identity id;
    char why[240];
    static const uint32_t words[] = { 255, 192, 1, 0 };
    for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        sample_identify(w);
        put_logical_words(w, words[i]);
        HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_SECTOR_TOO_SMALL);
        HT_EXPECT_EQ(id.logical_words, words[i]);
    }
    HT_EXPECT(ata_identify_status_impossible(ATA_IDENTIFY_SECTOR_TOO_SMALL));
    sample_identify(w);
    put_logical_words(w, 255);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_SECTOR_TOO_SMALL);
    ata_identify_refusal(ATA_IDENTIFY_SECTOR_TOO_SMALL, &id, why, sizeof(why));
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 117-118 (logical sector size) = "
                    "255 words (ATA: at least 256)");
}

/* The legal edges: 512 bytes (word 106 bit 12 clear, or words 117-118 = 256)
 * and 4096 bytes. */
HTEST(ata_identify_sector_512_and_4096_accepted)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.logical_size, 512);
    HT_EXPECT_EQ(id.logical_words, 256);
    put_logical_words(w, 256);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.logical_size, 512);
    put_logical_words(w, 2048);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.logical_size, 4096);
}

/* Words 100-103 = 0: no drive has no sectors. Refused as impossible with
 * the words and the value; one sector is a legal (tiny) disk. */
HTEST(ata_identify_capacity_0_is_impossible)
{
    uint16_t w[256];
    struct ata_identity id;
    char why[240];
    sample_identify(w);
    put_capacity(w, 0);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_NO_CAPACITY);
    HT_EXPECT(ata_identify_status_impossible(ATA_IDENTIFY_NO_CAPACITY));
    ata_identify_refusal(ATA_IDENTIFY_NO_CAPACITY, &id, why, sizeof(why));
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 100-103 (capacity) = 0 sectors");
    put_capacity(w, 1);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(id.nblocks, 1);
}

/* Only values ATA rules out are impossible; the others are bareio's limits
 * or a device error, and their refusal text is the status name. */
HTEST(ata_identify_only_ruled_out_values_are_impossible)
{
    static const enum ata_identify_status other[] = {
        ATA_IDENTIFY_OK, ATA_IDENTIFY_BAD_CHECKSUM, ATA_IDENTIFY_NOT_ATA, ATA_IDENTIFY_NO_LBA48,
        ATA_IDENTIFY_BAD_SECTOR_SIZE,
    };
    struct ata_identity id;
    char why[240];
    memset(&id, 0, sizeof(id));
    for (unsigned i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        HT_EXPECT(!ata_identify_status_impossible(other[i]));
    ata_identify_refusal(ATA_IDENTIFY_NO_LBA48, &id, why, sizeof(why));
    HT_EXPECT_STREQ(why, ata_identify_status_name(ATA_IDENTIFY_NO_LBA48));
}

/* The cause a refused disk is left out with: impossible for what ATA rules
 * out, a device error for damaged data, unsupported for what bareio does
 * not drive (a skip, not a failure). */
HTEST(ata_identify_refusal_causes)
{
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_OK), BLK_OK);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_NO_CAPACITY), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_SECTOR_TOO_SMALL), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_BAD_CHECKSUM), BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_BAD_SECTOR_SIZE), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_NO_LBA48), BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT_EQ(ata_identify_status_cause(ATA_IDENTIFY_NOT_ATA), BLK_CAUSE_UNSUPPORTED);
}

HTEST(ata_identify_strings_are_escaped)
{
    uint16_t w[256];
    struct ata_identity id;
    sample_identify(w);
    put_string(w, 27, 20, "Evil\x1b[2J\x07" "Disk\\");
    put_string(w, 10, 10, "SN\x01\xff 12");
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_STREQ(id.model, "Evil\\x1b[2J\\x07Disk\\\\");
    HT_EXPECT_STREQ(id.serial, "SN\\x01\\xff 12");
    for (const char *p = id.model; *p; p++)
        HT_EXPECT(*p >= 0x20 && *p < 0x7f);
    /* Every byte at its worst: 20 words of 0x01 escape to 160 characters. */
    sample_identify(w);
    for (unsigned i = 0; i < 20; i++)
        w[27 + i] = 0x0101;
    set_checksum(w);
    HT_EXPECT_EQ(ata_identify_parse(w, &id), ATA_IDENTIFY_OK);
    HT_EXPECT_EQ(strlen(id.model), 160);
}

/* ---- decoders ---- */

HTEST(ahci_decode_pxis_names_bits)
{
    char buf[96];
    ahci_decode_pxis(AHCI_PxIS_TFES | AHCI_PxIS_DHRS, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "TFES DHRS");
    ahci_decode_pxis(0, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "none");
    ahci_decode_pxis(AHCI_PxIS_HBFS | (1u << 8), buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "HBFS bits 0x100");
}

HTEST(ahci_decode_tfd_status_and_error)
{
    char buf[96];
    ahci_decode_tfd(0x0441, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "STS 41h DRDY ERR, ERR 04h ABRT");
    ahci_decode_tfd(0x5051, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "STS 51h DRDY DSC ERR, ERR 50h UNC IDNF");
    ahci_decode_tfd(0x0480, buf, sizeof(buf));   /* ERR register ignored without STS.ERR */
    HT_EXPECT_STREQ(buf, "STS 80h BSY");
}

HTEST(ahci_decode_serr_and_ssts)
{
    char buf[160];
    ahci_decode_serr(AHCI_SERR_DIAG_C | AHCI_SERR_ERR_C, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "ERR.C(persistent comm/data integrity) DIAG.C(CRC)");
    ahci_decode_ssts(0x113, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "DET 3 (device, phy up) SPD 1 (1.5 Gb/s) IPM 1 (active)");
    HT_EXPECT_STREQ(ahci_signature_name(AHCI_SIG_ATAPI), "ATAPI device");
}

HTEST(ahci_decode_truncates_safely)
{
    char buf[8];
    size_t n = ahci_decode_pxis(AHCI_PxIS_TFES | AHCI_PxIS_HBFS | AHCI_PxIS_IFS, buf, sizeof(buf));
    HT_EXPECT(n < sizeof(buf));
    HT_EXPECT_EQ(strlen(buf), n);
}

static enum blk_cause classify(uint32_t pxis, uint32_t tfd, uint32_t serr, uint64_t lba,
                               char *why)
{
    struct ahci_error_facts f = {
        .pxis = pxis, .pxtfd = tfd, .pxserr = serr, .command = ATA_CMD_READ_FPDMA_QUEUED,
        .rw = true, .lba = lba, .count = 8, .nblocks = 1000,
    };
    return ahci_classify(&f, why, 96);
}

HTEST(ahci_classify_rules)
{
    char why[96];
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x4041, 0, 10, why), BLK_CAUSE_MEDIA);          /* UNC */
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x1041, 0, 10, why), BLK_CAUSE_LBA_RANGE);      /* IDNF */
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x8441, 0, 10, why), BLK_CAUSE_LINK);           /* ICRC */
    HT_EXPECT_EQ(classify(AHCI_PxIS_IFS, 0x50, AHCI_SERR_DIAG_C, 10, why), BLK_CAUSE_LINK);
    HT_EXPECT_EQ(classify(AHCI_PxIS_HBFS, 0x50, 0, 10, why), BLK_CAUSE_CONTROLLER_FATAL);
    HT_EXPECT_EQ(classify(AHCI_PxIS_HBDS | AHCI_PxIS_TFES, 0x441, 0, 10, why),
                 BLK_CAUSE_CONTROLLER_FATAL);
    /* ABRT on an in-range READ: the medium (QEMU's backend I/O error). */
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x441, 0, 10, why), BLK_CAUSE_MEDIA);
    HT_EXPECT_STREQ(why, "device aborted (ABRT) at an in-range LBA");
    /* ABRT past the end, and ending past the end. */
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x441, 0, 1005, why), BLK_CAUSE_LBA_RANGE);
    HT_EXPECT_EQ(classify(AHCI_PxIS_TFES, 0x441, 0, 995, why), BLK_CAUSE_LBA_RANGE);
    /* ABRT of something else: the device refused it. */
    struct ahci_error_facts f = { .pxis = AHCI_PxIS_TFES, .pxtfd = 0x441, .command = 0xef,
                                  .nblocks = 1000 };
    HT_EXPECT_EQ(ahci_classify(&f, why, sizeof(why)), BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT_STREQ(why, "device refused command efh (ABRT)");
    /* Short PRDBC without an error bit. */
    struct ahci_error_facts s = { .pxtfd = 0x50, .rw = true, .short_transfer = true,
                                  .prdbc = 0, .expected = 4096, .nblocks = 1000 };
    HT_EXPECT_EQ(ahci_classify(&s, why, sizeof(why)), BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT_STREQ(why, "short transfer: PRDBC 0 of 4096 bytes");
}

HTEST(ahci_format_detail_has_all_registers)
{
    char why[96], buf[160];
    struct ahci_error_facts f = { .pxis = AHCI_PxIS_TFES, .pxtfd = 0x441, .rw = true,
                                  .lba = 5, .count = 1, .nblocks = 10 };
    ahci_classify(&f, why, sizeof(why));
    ahci_format_detail(&f, why, buf, sizeof(buf));
    HT_EXPECT_STREQ(buf, "device aborted (ABRT) at an in-range LBA; PxIS TFES; "
                    "PxTFD STS 41h DRDY ERR, ERR 04h ABRT; PxSERR none");
}

HTEST(ahci_d2h_lba_48_bits)
{
    struct fis_reg_d2h d = { .fis_type = FIS_TYPE_REG_D2H, .lba0 = 0x01, .lba1 = 0x02,
                             .lba2 = 0x03, .lba3 = 0x04, .lba4 = 0x05, .lba5 = 0x06 };
    HT_EXPECT_EQ(ahci_d2h_lba(&d), 0x060504030201ull);
}

/* ---- PRDT ---- */

static unsigned dbc_bytes(const struct ahci_prd *e) { return (e->dbc & AHCI_PRD_DBC_MASK) + 1; }

HTEST(ahci_prdt_splits_segments_at_4_mib)
{
    struct blk_seg seg = { 0x100000000ull, 10u * 1024 * 1024, 0 };
    struct ahci_prd prdt[8];
    unsigned n;
    enum blk_cause cause;
    char why[128];
    uint64_t bytes = ahci_prdt_build(&seg, 1, 0, seg.len, 512, prdt, 8, &n, &cause, why,
                                     sizeof(why));
    HT_EXPECT_EQ(bytes, seg.len);
    HT_EXPECT_EQ(cause, BLK_OK);
    HT_EXPECT_EQ(n, 3);
    HT_EXPECT_EQ(dbc_bytes(&prdt[0]), 4u * 1024 * 1024);
    HT_EXPECT_EQ(prdt[0].dbc, 0x3fffff);        /* stored minus one, bit 0 set */
    HT_EXPECT_EQ(prdt[1].dba, 0x400000);
    HT_EXPECT_EQ(prdt[1].dbau, 1);
    HT_EXPECT_EQ(dbc_bytes(&prdt[2]), 2u * 1024 * 1024);
    HT_EXPECT_EQ(prdt[2].dbc & AHCI_PRD_I, 0);
}

HTEST(ahci_prdt_refuses_odd_address_and_length)
{
    struct blk_seg odd_base[1] = { { 0x1001, 512, 0 } }, odd_len[2] = { { 0x1000, 511, 0 },
                                                                        { 0x3000, 1, 0 } };
    struct ahci_prd prdt[4];
    unsigned n;
    enum blk_cause cause;
    char why[128];
    HT_EXPECT_EQ(ahci_prdt_build(odd_base, 1, 0, 512, 512, prdt, 4, &n, &cause, why,
                                 sizeof(why)), 0);
    HT_EXPECT_EQ(cause, BLK_CAUSE_MISALIGNED);
    HT_EXPECT(strstr(why, "word aligned") != NULL);
    HT_EXPECT_EQ(ahci_prdt_build(odd_len, 2, 0, 512, 512, prdt, 4, &n, &cause, why,
                                 sizeof(why)), 0);
    HT_EXPECT_EQ(cause, BLK_CAUSE_MISALIGNED);
    HT_EXPECT(strstr(why, "must be even") != NULL);
}

HTEST(ahci_prdt_full_table_trims_to_whole_blocks)
{
    /* 5 entries of 300 bytes hold 1500 bytes: 2 whole blocks (1024), so the
     * fourth entry is cut to 124 bytes and the fifth dropped. */
    struct blk_seg segs[6];
    for (unsigned i = 0; i < 6; i++)
        segs[i] = (struct blk_seg){ 0x10000 + i * 0x1000, 300, 0 };
    struct ahci_prd prdt[5];
    unsigned n;
    enum blk_cause cause;
    char why[128];
    uint64_t bytes = ahci_prdt_build(segs, 6, 0, 1800, 512, prdt, 5, &n, &cause, why,
                                     sizeof(why));
    HT_EXPECT_EQ(bytes, 1024);
    HT_EXPECT_EQ(n, 4);
    HT_EXPECT_EQ(dbc_bytes(&prdt[3]), 124);
    /* The next part starts where this one ended, inside segment 3. */
    bytes = ahci_prdt_build(segs, 6, 1024, 1800 - 1024, 512, prdt, 5, &n, &cause, why,
                            sizeof(why));
    HT_EXPECT_EQ(bytes, 512);
    HT_EXPECT_EQ(prdt[0].dba, 0x13000 + 124);
    HT_EXPECT_EQ(dbc_bytes(&prdt[0]), 176);
}

HTEST(ahci_prdt_too_small_segments_refused)
{
    struct blk_seg segs[4];
    for (unsigned i = 0; i < 4; i++)
        segs[i] = (struct blk_seg){ 0x10000 + i * 0x1000, 128, 0 };
    struct ahci_prd prdt[3];
    unsigned n;
    enum blk_cause cause;
    char why[128];
    HT_EXPECT_EQ(ahci_prdt_build(segs, 4, 0, 512, 512, prdt, 3, &n, &cause, why, sizeof(why)), 0);
    HT_EXPECT_EQ(cause, BLK_CAUSE_INVALID);
    HT_EXPECT(strstr(why, "less than one") != NULL);
}

HTEST(ahci_prdt_limit_bytes_per_command)
{
    struct blk_seg seg = { 0x200000, 65537u * 512, 0 };
    struct ahci_prd prdt[16];
    unsigned n;
    enum blk_cause cause;
    char why[128];
    uint64_t bytes = ahci_prdt_build(&seg, 1, 0, 65536ull * 512, 512, prdt, 16, &n, &cause, why,
                                     sizeof(why));
    HT_EXPECT_EQ(bytes, 65536ull * 512);
    HT_EXPECT_EQ(n, 8);
    bytes = ahci_prdt_build(&seg, 1, bytes, 512, 512, prdt, 16, &n, &cause, why, sizeof(why));
    HT_EXPECT_EQ(bytes, 512);
    HT_EXPECT_EQ(prdt[0].dba, 0x200000 + 65536u * 512);
}

HTEST(ata_dsm_trim_payload_ranges)
{
    uint64_t e[64];
    uint64_t covered = ata_dsm_trim_payload(0x123456789aull, 65535u * 2 + 10, e, 64);
    HT_EXPECT_EQ(covered, 65535u * 2 + 10);
    HT_EXPECT_EQ(e[0], 0x123456789aull | 65535ull << 48);
    HT_EXPECT_EQ(e[1], (0x123456789aull + 65535) | 65535ull << 48);
    HT_EXPECT_EQ(e[2], (0x123456789aull + 2 * 65535) | 10ull << 48);
    HT_EXPECT_EQ(e[3], 0);
    covered = ata_dsm_trim_payload(0, 65535ull * 70, e, 64);
    HT_EXPECT_EQ(covered, 65535ull * 64);
}

/* ---- what CAP and PI may say (§3.1.1, §3.1.4) ---- */

/* QEMU's ich9-ahci: CAP.NP 5 (6 ports), NCS 31 (32 slots), PI 0x3f. */
#define QEMU_CAP 0xc0141f05u

HTEST(ahci_hba_caps_pi_zero_is_impossible)
{
    char why[160];
    HT_EXPECT_EQ(ahci_hba_capabilities_check(QEMU_CAP, 0, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": PI 0x00000000 implements no port (AHCI requires "
                    "at least one)");
    HT_EXPECT(strlen(why) < 160);       /* fits blk_controller_fault.detail */
}

HTEST(ahci_hba_caps_pi_beyond_cap_np_is_impossible)
{
    char why[160];
    uint32_t np1 = (QEMU_CAP & ~AHCI_CAP_NP_MASK) | 1;
    HT_EXPECT_EQ(ahci_hba_capabilities_check(np1, 0xf, why, sizeof(why)), BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(why, BLK_IMPOSSIBLE_WORDS ": CAP.NP 1 allows 2 ports but PI 0x0000000f "
                    "implements 4");
    HT_EXPECT_EQ(ahci_hba_capabilities_check(np1 & ~AHCI_CAP_NP_MASK, 0x3, why, sizeof(why)),
                 BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT(strstr(why, "CAP.NP 0 allows 1 port but PI 0x00000003 implements 2") != NULL);
    /* One port past the bound is enough. */
    HT_EXPECT_EQ(ahci_hba_capabilities_check(QEMU_CAP, 0x7f, why, sizeof(why)),
                 BLK_CAUSE_IMPOSSIBLE);
}

/* The legal edges: one port (PI 1, NP 0); as many bits as NP + 1, or fewer
 * and anywhere (a port not brought out leaves a gap); all 32. */
HTEST(ahci_hba_caps_legal_edges_accepted)
{
    char why[160] = "";
    uint32_t np0 = QEMU_CAP & ~AHCI_CAP_NP_MASK;
    HT_EXPECT_EQ(ahci_hba_capabilities_check(np0, 0x1, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(np0, 0x80000000u, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(QEMU_CAP, 0x3f, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(QEMU_CAP, 0x21, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(np0 | 31, 0xffffffffu, why, sizeof(why)), BLK_OK);
    HT_EXPECT_STREQ(why, "");
}

/* CAP.NCS is 0's based: raw 0 is one command slot, which is legal. */
HTEST(ahci_hba_caps_ncs_raw_0_one_slot_accepted)
{
    char why[160];
    uint32_t ncs0 = QEMU_CAP & ~(0x1fu << AHCI_CAP_NCS_SHIFT);
    HT_EXPECT_EQ((ncs0 >> AHCI_CAP_NCS_SHIFT) & 0x1f, 0);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(ncs0, 0x3f, why, sizeof(why)), BLK_OK);
    HT_EXPECT_EQ(ahci_hba_capabilities_check(ncs0 & ~AHCI_CAP_NP_MASK, 0x1, why, sizeof(why)),
                 BLK_OK);
}

/* ---- BIOS/OS handoff (§10.6.3) ---- */

HTEST(ahci_handoff_done_when_bos_clear)
{
    bool busy = false;
    HT_EXPECT_EQ(ahci_handoff_step(AHCI_BOHC_OOS, 0, &busy), AHCI_HANDOFF_DONE);
    HT_EXPECT_EQ(ahci_handoff_step(AHCI_BOHC_OOS | AHCI_BOHC_BOS, 3, &busy), AHCI_HANDOFF_WAIT);
    HT_EXPECT_EQ(ahci_handoff_step(AHCI_BOHC_OOS, 4, &busy), AHCI_HANDOFF_DONE);
    HT_EXPECT(!busy);
}

HTEST(ahci_handoff_without_bios_busy_gives_up_at_25_ms)
{
    bool busy = false;
    uint32_t bohc = AHCI_BOHC_BOS | AHCI_BOHC_OOS;
    HT_EXPECT_EQ(ahci_handoff_step(bohc, 24, &busy), AHCI_HANDOFF_WAIT);
    HT_EXPECT_EQ(ahci_handoff_step(bohc, 25, &busy), AHCI_HANDOFF_TIMEOUT);
}

HTEST(ahci_handoff_bios_busy_waits_2_s_and_no_longer)
{
    bool busy = false;
    uint32_t bohc = AHCI_BOHC_BOS | AHCI_BOHC_OOS;
    HT_EXPECT_EQ(ahci_handoff_step(bohc | AHCI_BOHC_BB, 10, &busy), AHCI_HANDOFF_WAIT);
    HT_EXPECT(busy);
    /* BB dropped again, BOS still set: the 2 s granted stand ... */
    HT_EXPECT_EQ(ahci_handoff_step(bohc, 1000, &busy), AHCI_HANDOFF_WAIT);
    HT_EXPECT_EQ(ahci_handoff_step(bohc | AHCI_BOHC_BB, 2024, &busy), AHCI_HANDOFF_WAIT);
    /* ... and a BIOS that keeps BB set cannot extend them. */
    HT_EXPECT_EQ(ahci_handoff_step(bohc | AHCI_BOHC_BB, 2025, &busy), AHCI_HANDOFF_TIMEOUT);
    HT_EXPECT_EQ(ahci_handoff_step(bohc | AHCI_BOHC_BB, 60000, &busy), AHCI_HANDOFF_TIMEOUT);
}

/* ---- NCQ Command Error log (log 10h) ---- */

static void seal_log(uint8_t *page)
{
    uint8_t sum = 0;
    page[511] = 0;
    for (unsigned i = 0; i < 511; i++)
        sum = (uint8_t)(sum + page[i]);
    page[511] = (uint8_t)(0x100 - sum);
}

/* Tag 13 failed with UNC at LBA 0x0123456789ab, 8 sectors. */
static void sample_ncq_log(uint8_t *page)
{
    memset(page, 0, 512);
    page[0] = 13;
    page[2] = 0x41;
    page[3] = 0x40;
    page[4] = 0xab; page[5] = 0x89; page[6] = 0x67;
    page[7] = 0x40;
    page[8] = 0x45; page[9] = 0x23; page[10] = 0x01;
    page[12] = 8;
    page[14] = 0x03; page[15] = 0x11; page[16] = 0x04;
    seal_log(page);
}

HTEST(ata_ncq_log_names_failed_tag)
{
    uint8_t page[512];
    struct ata_ncq_error e;
    sample_ncq_log(page);
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_OK);
    HT_EXPECT(!e.nq);
    HT_EXPECT_EQ(e.tag, 13);
    HT_EXPECT_EQ(e.status, 0x41);
    HT_EXPECT_EQ(e.error, 0x40);
    HT_EXPECT_EQ(e.lba, 0x0123456789abull);
    HT_EXPECT_EQ(e.count, 8);
    HT_EXPECT_EQ(e.sense_key, 3);
    HT_EXPECT_EQ(e.asc, 0x11);
    HT_EXPECT_EQ(e.ascq, 4);
}

HTEST(ata_ncq_log_tag_31_and_nq)
{
    uint8_t page[512];
    struct ata_ncq_error e;
    sample_ncq_log(page);
    page[0] = 0x1f | 0x40;      /* UNL (bit 6) is not part of the tag */
    seal_log(page);
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_OK);
    HT_EXPECT_EQ(e.tag, 31);
    page[0] = 0x80 | 5;
    seal_log(page);
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_NOT_QUEUED);
    HT_EXPECT(e.nq);
}

HTEST(ata_ncq_log_bad_checksum_and_no_error_refused)
{
    uint8_t page[512];
    struct ata_ncq_error e;
    sample_ncq_log(page);
    page[4] ^= 1;
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_BAD_CHECKSUM);
    sample_ncq_log(page);
    page[2] = 0x50;             /* DRDY DSC, no ERR */
    seal_log(page);
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_NO_ERROR);
    memset(page, 0, 512);       /* an all-zero page sums to zero but names nothing */
    HT_EXPECT_EQ(ata_ncq_log_parse(page, &e), ATA_NCQ_LOG_NO_ERROR);
}

HTEST(ata_read_log_ext_fis_layout)
{
    struct fis_reg_h2d f;
    ata_read_log_ext_fis(&f, ATA_LOG_NCQ_ERROR, 0x0102, 1);
    HT_EXPECT_EQ(f.fis_type, FIS_TYPE_REG_H2D);
    HT_EXPECT_EQ(f.flags, FIS_H2D_C);
    HT_EXPECT_EQ(f.command, 0x2f);
    HT_EXPECT_EQ(f.lba0, 0x10);
    HT_EXPECT_EQ(f.lba1, 0x02);
    HT_EXPECT_EQ(f.lba5, 0x01);
    HT_EXPECT_EQ(f.count, 1);
    HT_EXPECT_EQ(f.count_exp, 0);
    HT_EXPECT_EQ(f.features, 0);
}
