/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci.h — AHCI 1.3.1 register and memory layouts, the ATA
 * (ATA8-ACS / SATA 3.x) FIS and IDENTIFY layouts the driver uses, and the
 * hardware-free helpers built on them (IDENTIFY parser, status decoders,
 * PRDT and DSM payload builders), which the host unit tests exercise.
 * Registers are offsets plus bit masks (never C bitfields); every structure
 * shared with the HBA is asserted against the size and offsets of the spec.
 * The driver's own state lives in ahci_priv.h (kernel only). */
#ifndef DRIVERS_AHCI_AHCI_H
#define DRIVERS_AHCI_AHCI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drivers/blk/blk.h"

/* ---- Generic host control (AHCI 1.3.1 §3.1), offsets in ABAR ---- */
#define AHCI_REG_CAP        0x00
#define AHCI_REG_GHC        0x04
#define AHCI_REG_IS         0x08
#define AHCI_REG_PI         0x0c
#define AHCI_REG_VS         0x10
#define AHCI_REG_CAP2       0x24
#define AHCI_REG_BOHC       0x28
#define AHCI_PORT_BASE      0x100
#define AHCI_PORT_SIZE      0x80
#define AHCI_MAX_PORTS      32
#define AHCI_MAX_SLOTS      32             /* command slots per port (CAP.NCS + 1 <= 32) */

#define AHCI_CAP_NP_MASK    0x1fu          /* ports - 1 */
#define AHCI_CAP_SXS        (1u << 5)
#define AHCI_CAP_EMS        (1u << 6)
#define AHCI_CAP_CCCS       (1u << 7)
#define AHCI_CAP_NCS_SHIFT  8              /* command slots - 1, 5 bits */
#define AHCI_CAP_PSC        (1u << 13)
#define AHCI_CAP_SSC        (1u << 14)
#define AHCI_CAP_PMD        (1u << 15)
#define AHCI_CAP_FBSS       (1u << 16)
#define AHCI_CAP_SPM        (1u << 17)
#define AHCI_CAP_SAM        (1u << 18)
#define AHCI_CAP_ISS_SHIFT  20             /* interface speed, 4 bits */
#define AHCI_CAP_SCLO       (1u << 24)
#define AHCI_CAP_SAL        (1u << 25)
#define AHCI_CAP_SALP       (1u << 26)
#define AHCI_CAP_SSS        (1u << 27)
#define AHCI_CAP_SMPS       (1u << 28)
#define AHCI_CAP_SSNTF      (1u << 29)
#define AHCI_CAP_SNCQ       (1u << 30)
#define AHCI_CAP_S64A       (1u << 31)

#define AHCI_GHC_HR         (1u << 0)
#define AHCI_GHC_IE         (1u << 1)
#define AHCI_GHC_MRSM       (1u << 2)
#define AHCI_GHC_AE         (1u << 31)

#define AHCI_VS_1_2         0x00010200u    /* VS of AHCI 1.2, the first with CAP2 and BOHC */

#define AHCI_CAP2_BOH       (1u << 0)

#define AHCI_BOHC_BOS       (1u << 0)
#define AHCI_BOHC_OOS       (1u << 1)
#define AHCI_BOHC_SOOE      (1u << 2)
#define AHCI_BOHC_OOC       (1u << 3)
#define AHCI_BOHC_BB        (1u << 4)

/* BIOS/OS handoff (§10.6.3), decided by ahci_handoff_step() from BOHC as
 * read and the milliseconds since OOS was set. */
#define AHCI_HANDOFF_BOS_MS     25      /* BIOS clears BOS, or sets BB, within 25 ms */
#define AHCI_HANDOFF_BUSY_MS    2000    /* BB seen: wait at least 2 s more */
enum ahci_handoff_step { AHCI_HANDOFF_DONE, AHCI_HANDOFF_WAIT, AHCI_HANDOFF_TIMEOUT };
enum ahci_handoff_step ahci_handoff_step(uint32_t bohc, uint64_t elapsed_ms, bool *busy_seen);

/* ---- Port registers (AHCI 1.3.1 §3.3), offsets in the port's block ---- */
#define AHCI_PxCLB          0x00
#define AHCI_PxCLBU         0x04
#define AHCI_PxFB           0x08
#define AHCI_PxFBU          0x0c
#define AHCI_PxIS           0x10
#define AHCI_PxIE           0x14
#define AHCI_PxCMD          0x18
#define AHCI_PxTFD          0x20
#define AHCI_PxSIG          0x24
#define AHCI_PxSSTS         0x28
#define AHCI_PxSCTL         0x2c
#define AHCI_PxSERR         0x30
#define AHCI_PxSACT         0x34
#define AHCI_PxCI           0x38
#define AHCI_PxSNTF         0x3c
#define AHCI_PxFBS          0x40
#define AHCI_PxFBS_EN       (1u << 0)      /* FIS-based switching enabled (§3.3.16) */

/* PxIS / PxIE (§3.3.5). */
#define AHCI_PxIS_DHRS      (1u << 0)      /* D2H Register FIS received */
#define AHCI_PxIS_PSS       (1u << 1)      /* PIO Setup FIS received */
#define AHCI_PxIS_DSS       (1u << 2)      /* DMA Setup FIS received */
#define AHCI_PxIS_SDBS      (1u << 3)      /* Set Device Bits FIS received */
#define AHCI_PxIS_UFS       (1u << 4)      /* unknown FIS */
#define AHCI_PxIS_DPS       (1u << 5)      /* descriptor processed (PRD with I) */
#define AHCI_PxIS_PCS       (1u << 6)      /* port connect change */
#define AHCI_PxIS_DMPS      (1u << 7)      /* device mechanical presence */
#define AHCI_PxIS_PRCS      (1u << 22)     /* PhyRdy change */
#define AHCI_PxIS_IPMS      (1u << 23)     /* incorrect port multiplier */
#define AHCI_PxIS_OFS       (1u << 24)     /* overflow */
#define AHCI_PxIS_INFS      (1u << 26)     /* interface non-fatal error */
#define AHCI_PxIS_IFS       (1u << 27)     /* interface fatal error */
#define AHCI_PxIS_HBDS      (1u << 28)     /* host bus data error */
#define AHCI_PxIS_HBFS      (1u << 29)     /* host bus fatal error */
#define AHCI_PxIS_TFES      (1u << 30)     /* task file error */
#define AHCI_PxIS_CPDS      (1u << 31)     /* cold port detect */
/* The errors after which the port stops processing commands (§6.1.2). */
#define AHCI_PxIS_FATAL     (AHCI_PxIS_TFES | AHCI_PxIS_HBFS | AHCI_PxIS_HBDS | AHCI_PxIS_IFS | \
                             AHCI_PxIS_OFS)
#define AHCI_PxIE_IO        (AHCI_PxIS_DHRS | AHCI_PxIS_PSS | AHCI_PxIS_DSS | AHCI_PxIS_SDBS | \
                             AHCI_PxIS_DPS | AHCI_PxIS_UFS | AHCI_PxIS_INFS | AHCI_PxIS_FATAL)

/* PxCMD (§3.3.7). */
#define AHCI_PxCMD_ST       (1u << 0)
#define AHCI_PxCMD_SUD      (1u << 1)
#define AHCI_PxCMD_POD      (1u << 2)
#define AHCI_PxCMD_CLO      (1u << 3)
#define AHCI_PxCMD_FRE      (1u << 4)
#define AHCI_PxCMD_CCS_SHIFT 8
#define AHCI_PxCMD_FR       (1u << 14)
#define AHCI_PxCMD_CR       (1u << 15)
#define AHCI_PxCMD_CPS      (1u << 16)
#define AHCI_PxCMD_PMA      (1u << 17)
#define AHCI_PxCMD_HPCP     (1u << 18)
#define AHCI_PxCMD_CPD      (1u << 20)
#define AHCI_PxCMD_ESP      (1u << 21)
#define AHCI_PxCMD_ATAPI    (1u << 24)
#define AHCI_PxCMD_ICC_SHIFT 28

/* PxTFD (§3.3.8): the ATA Status and Error registers. */
#define AHCI_PxTFD_STS_MASK 0xffu
#define AHCI_PxTFD_ERR_SHIFT 8
#define ATA_STS_ERR         (1u << 0)
#define ATA_STS_DRQ         (1u << 3)
#define ATA_STS_DF          (1u << 5)
#define ATA_STS_DRDY        (1u << 6)
#define ATA_STS_BSY         (1u << 7)
#define ATA_ERR_AMNF        (1u << 0)      /* obsolete: address mark not found */
#define ATA_ERR_NM          (1u << 1)      /* no media */
#define ATA_ERR_ABRT        (1u << 2)
#define ATA_ERR_MCR         (1u << 3)
#define ATA_ERR_IDNF        (1u << 4)
#define ATA_ERR_MC          (1u << 5)
#define ATA_ERR_UNC         (1u << 6)
#define ATA_ERR_ICRC        (1u << 7)

/* Device signatures in PxSIG (§3.3.9, SATA 3.x §10.3). */
#define AHCI_SIG_ATA        0x00000101u
#define AHCI_SIG_ATAPI      0xeb140101u
#define AHCI_SIG_SEMB       0xc33c0101u
#define AHCI_SIG_PM         0x96690101u

/* PxSSTS / PxSCTL (§3.3.10-11). */
#define AHCI_SSTS_DET_MASK  0xfu
#define AHCI_SSTS_DET_PRESENT_PHY 3u       /* device present, Phy communication up */
#define AHCI_SSTS_SPD_SHIFT 4
#define AHCI_SSTS_IPM_SHIFT 8
#define AHCI_SSTS_IPM_ACTIVE 1u
#define AHCI_SCTL_DET_MASK  0xfu
#define AHCI_SCTL_DET_COMRESET 1u
#define AHCI_SCTL_IPM_NO_PARTIAL_SLUMBER (3u << 8)

/* PxSERR (§3.3.12): ERR in bits 15:0, DIAG in 31:16. */
#define AHCI_SERR_ERR_I     (1u << 0)      /* recovered data integrity */
#define AHCI_SERR_ERR_M     (1u << 1)      /* recovered communications */
#define AHCI_SERR_ERR_T     (1u << 8)      /* transient data integrity */
#define AHCI_SERR_ERR_C     (1u << 9)      /* persistent communication or data integrity */
#define AHCI_SERR_ERR_P     (1u << 10)     /* protocol */
#define AHCI_SERR_ERR_E     (1u << 11)     /* internal error */
#define AHCI_SERR_DIAG_N    (1u << 16)     /* PhyRdy change */
#define AHCI_SERR_DIAG_I    (1u << 17)     /* Phy internal error */
#define AHCI_SERR_DIAG_W    (1u << 18)     /* COMWAKE */
#define AHCI_SERR_DIAG_B    (1u << 19)     /* 10B to 8B decode error */
#define AHCI_SERR_DIAG_D    (1u << 20)     /* disparity error */
#define AHCI_SERR_DIAG_C    (1u << 21)     /* CRC error */
#define AHCI_SERR_DIAG_H    (1u << 22)     /* handshake error */
#define AHCI_SERR_DIAG_S    (1u << 23)     /* link sequence error */
#define AHCI_SERR_DIAG_T    (1u << 24)     /* transport state transition error */
#define AHCI_SERR_DIAG_F    (1u << 25)     /* unknown FIS type */
#define AHCI_SERR_DIAG_X    (1u << 26)     /* exchanged (COMINIT seen) */
/* Bits that mean the link itself misbehaved (not a device-reported error). */
#define AHCI_SERR_LINK      (AHCI_SERR_ERR_T | AHCI_SERR_ERR_C | AHCI_SERR_ERR_P |         \
                             AHCI_SERR_DIAG_I | AHCI_SERR_DIAG_B | AHCI_SERR_DIAG_D |      \
                             AHCI_SERR_DIAG_C | AHCI_SERR_DIAG_H | AHCI_SERR_DIAG_S |      \
                             AHCI_SERR_DIAG_T | AHCI_SERR_DIAG_F)

/* ---- System memory structures (§4.2) ---- */

/* Command header DW0 (§4.2.2). */
#define AHCI_CMDH_CFL_MASK  0x1fu          /* command FIS length in dwords */
#define AHCI_CMDH_A         (1u << 5)      /* ATAPI */
#define AHCI_CMDH_W         (1u << 6)      /* write: host to device */
#define AHCI_CMDH_P         (1u << 7)      /* prefetchable */
#define AHCI_CMDH_R         (1u << 8)      /* reset */
#define AHCI_CMDH_B         (1u << 9)      /* BIST */
#define AHCI_CMDH_C         (1u << 10)     /* clear busy upon R_OK */
#define AHCI_CMDH_PRDTL_SHIFT 16

struct ahci_cmd_header {
    uint32_t dw0;           /* CFL, A, W, P, R, B, C, PMP, PRDTL */
    uint32_t prdbc;         /* PRD byte count transferred, written by the HBA */
    uint32_t ctba;          /* command table base, 128-byte aligned */
    uint32_t ctbau;
    uint32_t reserved[4];
};
_Static_assert(sizeof(struct ahci_cmd_header) == 32, "AHCI 1.3.1 §4.2.2: command header");
_Static_assert(offsetof(struct ahci_cmd_header, ctba) == 8, "AHCI 1.3.1 §4.2.2: CTBA at DW2");

/* Physical region descriptor (§4.2.3.3). DBC is the byte count minus one;
 * bit 0 of DBC must be 1 (an even count) and DBA must be word aligned. */
#define AHCI_PRD_DBC_MASK   0x3fffffu
#define AHCI_PRD_I          (1u << 31)
#define AHCI_PRD_MAX_BYTES  (4u * 1024 * 1024)
struct ahci_prd {
    uint32_t dba;
    uint32_t dbau;
    uint32_t reserved;
    uint32_t dbc;           /* DBC (21:0) and I (31) */
};
_Static_assert(sizeof(struct ahci_prd) == 16, "AHCI 1.3.1 §4.2.3.3: PRDT entry");

/* A command table with enough PRDT entries to fill one 4 KiB page. */
#define AHCI_PRDT_ENTRIES   248
struct ahci_cmd_table {
    uint8_t cfis[64];
    uint8_t acmd[16];
    uint8_t reserved[48];
    struct ahci_prd prdt[AHCI_PRDT_ENTRIES];
};
_Static_assert(offsetof(struct ahci_cmd_table, acmd) == 0x40, "AHCI 1.3.1 §4.2.3: ACMD at 40h");
_Static_assert(offsetof(struct ahci_cmd_table, prdt) == 0x80, "AHCI 1.3.1 §4.2.3: PRDT at 80h");
_Static_assert(sizeof(struct ahci_cmd_table) == 4096, "command table fills one page");

/* Received FIS area (§4.2.1), 256 bytes, 256-byte aligned. */
struct ahci_received_fis {
    uint8_t dsfis[28];      /* DMA Setup FIS at 00h */
    uint8_t reserved0[4];
    uint8_t psfis[20];      /* PIO Setup FIS at 20h */
    uint8_t reserved1[12];
    uint8_t rfis[20];       /* D2H Register FIS at 40h */
    uint8_t reserved2[4];
    uint8_t sdbfis[8];      /* Set Device Bits FIS at 58h */
    uint8_t ufis[64];       /* unknown FIS at 60h */
    uint8_t reserved3[96];
};
_Static_assert(sizeof(struct ahci_received_fis) == 256, "AHCI 1.3.1 §4.2.1: received FIS");
_Static_assert(offsetof(struct ahci_received_fis, psfis) == 0x20, "AHCI 1.3.1 §4.2.1: PSFIS");
_Static_assert(offsetof(struct ahci_received_fis, rfis) == 0x40, "AHCI 1.3.1 §4.2.1: RFIS");
_Static_assert(offsetof(struct ahci_received_fis, sdbfis) == 0x58, "AHCI 1.3.1 §4.2.1: SDBFIS");
_Static_assert(offsetof(struct ahci_received_fis, ufis) == 0x60, "AHCI 1.3.1 §4.2.1: UFIS");

/* ---- FIS layouts (SATA 3.x §10.5) ---- */
#define FIS_TYPE_REG_H2D    0x27
#define FIS_TYPE_REG_D2H    0x34
#define FIS_H2D_C           0x80           /* flags: this FIS carries a command */
#define ATA_DEVICE_LBA      0x40
#define ATA_DEVICE_FUA      0x80           /* FPDMA: force unit access */

struct fis_reg_h2d {
    uint8_t fis_type, flags, command, features;
    uint8_t lba0, lba1, lba2, device;
    uint8_t lba3, lba4, lba5, features_exp;
    uint8_t count, count_exp, icc, control;
    uint8_t auxiliary[4];
};
_Static_assert(sizeof(struct fis_reg_h2d) == 20, "SATA §10.5.5: Register H2D FIS");
_Static_assert(offsetof(struct fis_reg_h2d, lba3) == 8, "SATA §10.5.5: LBA(47:24) at byte 8");

struct fis_reg_d2h {
    uint8_t fis_type, flags, status, error;
    uint8_t lba0, lba1, lba2, device;
    uint8_t lba3, lba4, lba5, reserved0;
    uint8_t count, count_exp, reserved1[2];
    uint8_t reserved2[4];
};
_Static_assert(sizeof(struct fis_reg_d2h) == 20, "SATA §10.5.6: Register D2H FIS");

/* ---- ATA commands (ATA8-ACS) ---- */
#define ATA_CMD_DSM                 0x06   /* DATA SET MANAGEMENT */
#define ATA_CMD_READ_DMA_EXT        0x25
#define ATA_CMD_READ_LOG_EXT        0x2f
#define ATA_CMD_WRITE_DMA_EXT       0x35
#define ATA_CMD_WRITE_DMA_FUA_EXT   0x3d
#define ATA_CMD_READ_FPDMA_QUEUED   0x60
#define ATA_CMD_WRITE_FPDMA_QUEUED  0x61
#define ATA_CMD_IDENTIFY_DEVICE     0xec
#define ATA_CMD_FLUSH_CACHE_EXT     0xea
#define ATA_DSM_TRIM                0x01   /* features bit 0 */
#define ATA_LOG_NCQ_ERROR           0x10   /* NCQ Command Error log page */
#define ATA_MAX_SECTORS_EXT         65536  /* count 0 means 65536 (48-bit commands) */
#define ATA_DSM_RANGE_MAX           65535  /* sectors per LBA range entry */
#define ATA_DSM_RANGES_PER_BLOCK    64     /* 8-byte entries in a 512-byte block */

/* ---- IDENTIFY DEVICE (ATA8-ACS §7.16) ---- */
enum ata_identify_status {
    ATA_IDENTIFY_OK,
    ATA_IDENTIFY_BAD_CHECKSUM,      /* word 255 signature A5h present, sum not zero */
    ATA_IDENTIFY_NOT_ATA,           /* word 0 bit 15 set: not an ATA device */
    ATA_IDENTIFY_NO_LBA48,          /* the driver uses 48-bit commands only */
    ATA_IDENTIFY_BAD_SECTOR_SIZE,   /* unsupported: a logical sector above 64 KiB or not a
                                     * power of two (legal ATA, not for bareio) */
    /* Impossible (ata_identify_status_impossible): values ATA rules out. */
    ATA_IDENTIFY_NO_CAPACITY,       /* words 100-103 say 0 sectors */
    ATA_IDENTIFY_SECTOR_TOO_SMALL,  /* words 117-118 below 256 words (512 bytes) */
};
/* 48-bit commands carry LBA bits 47:0: sectors 0..2^48-1 are all they reach. */
#define ATA_LBA48_SECTORS           (1ull << 48)
/* [lba, lba + count) inside what a 48-bit FIS or DSM range entry can carry:
 * anything else would have its high bits dropped (LBA 2^48 is LBA 0). */
static inline bool ata_lba48_reaches(uint64_t lba, uint64_t count)
{
    return lba < ATA_LBA48_SECTORS && count <= ATA_LBA48_SECTORS - lba;
}
/* Text from IDENTIFY, escaped for the console (lib/format.h format_escaped):
 * up to four characters per byte, plus the terminator. */
#define ATA_MODEL_BYTES             40
#define ATA_SERIAL_BYTES            20
#define ATA_FIRMWARE_BYTES          8
struct ata_identity {
    /* Byte-swapped, blanks trimmed, escaped (never a control character). */
    char model[4 * ATA_MODEL_BYTES + 1], serial[4 * ATA_SERIAL_BYTES + 1];
    char firmware[4 * ATA_FIRMWARE_BYTES + 1];
    bool checksum_present;          /* word 255 carries the A5h signature */
    uint64_t nblocks;               /* capacity in logical sectors: at most ATA_LBA48_SECTORS
                                     * and UINT64_MAX / logical_size */
    uint64_t reported_nblocks;      /* words 100-103 as the device gave them */
    bool capacity_clamped;          /* reported_nblocks was above that */
    uint32_t logical_size;          /* bytes */
    uint32_t logical_words;         /* words 117-118 as the device gave them when word 106
                                     * says the sector is longer than 256 words, else 256 */
    uint32_t physical_size;         /* bytes */
    uint32_t alignment;             /* logical sector offset of LBA 0 in its physical sector */
    bool ncq;
    unsigned ncq_depth;             /* 1..32; 0 without NCQ */
    bool write_cache, write_cache_enabled;
    bool flush_ext, fua, trim, trim_deterministic, trim_zeroes;
    unsigned dsm_max_blocks;        /* 512-byte blocks of ranges per DSM command */
    unsigned rotation;              /* word 217: 1 non-rotating, else rpm (0 unknown) */
};
enum ata_identify_status ata_identify_parse(const uint16_t words[256], struct ata_identity *id);
const char *ata_identify_status_name(enum ata_identify_status status);
/* A refusal of data ATA rules out (a firmware or emulation bug), as opposed
 * to one bareio merely does not drive. */
bool ata_identify_status_impossible(enum ata_identify_status status);
/* The cause a disk refused for `status` is left out with: BLK_CAUSE_IMPOSSIBLE
 * for those, BLK_CAUSE_DEVICE_ERROR for a checksum that does not match (the
 * data came back damaged), BLK_CAUSE_UNSUPPORTED for what bareio does not
 * drive (not ATA, no LBA48, a sector size it does not take); BLK_OK for OK. */
enum blk_cause ata_identify_status_cause(enum ata_identify_status status);
/* The refusal in words with the field and the value read, for the boot line:
 * "IDENTIFY words 100-103 (capacity) = 0 sectors", after BLK_IMPOSSIBLE_WORDS
 * when impossible. `id` as ata_identify_parse left it. Returns the length. */
size_t ata_identify_refusal(enum ata_identify_status status, const struct ata_identity *id,
                            char *buf, size_t size);

/* ---- NCQ Command Error log (ata_ncq_log.c; SATA 3.x §13.7.4) ---- */
enum ata_ncq_log_status {
    ATA_NCQ_LOG_OK,                 /* names the failed tag */
    ATA_NCQ_LOG_BAD_CHECKSUM,       /* byte 511: the page does not sum to zero */
    ATA_NCQ_LOG_NOT_QUEUED,         /* NQ: the error was in a non-queued command */
    ATA_NCQ_LOG_NO_ERROR,           /* Status without ERR: nothing to name */
};
struct ata_ncq_error {
    bool nq;
    unsigned tag;
    uint8_t status, error, device;
    uint64_t lba;
    uint16_t count;
    uint8_t sense_key, asc, ascq;   /* ACS-3; 0 when the device does not report them */
};
/* READ LOG EXT (2Fh, PIO data-in): `count` pages of log `log` from `page`. */
void ata_read_log_ext_fis(struct fis_reg_h2d *fis, uint8_t log, uint16_t page, uint16_t count);
enum ata_ncq_log_status ata_ncq_log_parse(const uint8_t page[512], struct ata_ncq_error *e);
const char *ata_ncq_log_status_name(enum ata_ncq_log_status status);

/* ---- What the HBA says it has (ahci_decode.c; AHCI 1.3.1 §3.1.1, §3.1.4) ---- */
/* CAP and PI as bareio will use them (PI after the HBA reset, restored when
 * the reset lost it): BLK_OK, or BLK_CAUSE_IMPOSSIBLE with `why` beginning
 * with BLK_IMPOSSIBLE_WORDS and naming the field and its value. */
enum blk_cause ahci_hba_capabilities_check(uint32_t cap, uint32_t pi, char *why, size_t why_size);

/* ---- Status decoders (ahci_decode.c): words for registers ---- */
/* Each writes a NUL-terminated text ("TFES DHRS", "none") and returns its length. */
size_t ahci_decode_pxis(uint32_t pxis, char *buf, size_t size);
size_t ahci_decode_tfd(uint32_t pxtfd, char *buf, size_t size);    /* "STS 41h DRDY ERR, ERR 04h ABRT" */
size_t ahci_decode_serr(uint32_t pxserr, char *buf, size_t size);
size_t ahci_decode_pxcmd(uint32_t pxcmd, char *buf, size_t size);
size_t ahci_decode_ssts(uint32_t pxssts, char *buf, size_t size);  /* "DET 3 (device, phy up) SPD 3 IPM 1 (active)" */
const char *ahci_signature_name(uint32_t sig);                     /* "ATA disk", "ATAPI", ... */

/* What is known about a failed command, for ahci_classify(). */
struct ahci_error_facts {
    uint32_t pxis, pxtfd, pxserr;
    uint8_t command;                /* ATA command code sent */
    bool rw;                        /* READ/WRITE (DMA EXT or FPDMA) */
    uint64_t lba;                   /* first LBA of the command */
    uint32_t count;                 /* sectors of the command */
    uint64_t nblocks;               /* device capacity */
    bool short_transfer;            /* PRDBC below the bytes asked for */
    uint64_t prdbc, expected;
};
/* The cause, and `why` = one phrase naming the rule applied. */
enum blk_cause ahci_classify(const struct ahci_error_facts *f, char *why, size_t why_size);
/* The whole failure detail for req->detail: why, PxIS, PxTFD, PxSERR in words. */
size_t ahci_format_detail(const struct ahci_error_facts *f, const char *why, char *buf, size_t size);
/* The LBA a D2H Register FIS reports (bytes 4-6 and 8-10). */
uint64_t ahci_d2h_lba(const struct fis_reg_d2h *fis);

/* ---- Error recovery decisions (ahci_recovery.c; AHCI 1.3.1 §6.2.2, SATA 3.x §13.7.4) ----
 *
 * When the port stops on an error, or a command runs past its deadline, the
 * driver (ahci_io.c) reads the registers into a snapshot and asks, without
 * touching the hardware again: which slots had finished, which command failed,
 * how hard to reset the port (ahci_recovery_plan); after the port recovery and,
 * for an NCQ error, the NCQ Command Error log read, what becomes of each slot
 * still in flight: re-sent once (with NCQ, or without it to isolate the bad
 * command), or failed with a cause and the detail in words (ahci_recovery_decide). */

/* A slot is done when the HBA cleared its PxCI bit and, for an NCQ command,
 * the device cleared its PxSACT bit too (AHCI 1.3.1 §5.6.4). */
static inline bool ahci_slot_busy(bool ncq, unsigned slot, uint32_t pxci, uint32_t pxsact)
{
    uint32_t bit = 1u << slot;
    return ncq ? ((pxci | pxsact) & bit) != 0 : (pxci & bit) != 0;
}

/* When ahci_port_recover() resets the link (COMRESET). */
enum ahci_reset_policy {
    AHCI_RESET_IF_NEEDED,   /* BSY/DRQ stuck, or a stale ERR (QEMU keeps it until a reset) */
    AHCI_RESET_ALWAYS,      /* timeout, interface error: the device may still own commands */
    AHCI_RESET_IF_STUCK,    /* NCQ error: only BSY/DRQ; ERR is expected and the error log
                             * must survive for READ LOG EXT (a COMRESET clears it) */
};
/* §6.2.2.1 step 7: with ST cleared (engine_stopped: CR cleared in time) and
 * the errors cleared, whether the link must be reset (COMRESET) before the
 * port starts again, by policy and PxTFD as read then. */
bool ahci_recovery_needs_comreset(enum ahci_reset_policy policy, bool engine_stopped,
                                  uint32_t pxtfd);

/* One command slot the HBA owned when the port stopped. */
struct ahci_recovery_slot {
    uint8_t command;                /* ATA command sent */
    bool ncq;                       /* FPDMA QUEUED */
    bool data;                      /* moves data (READ/WRITE) */
    uint64_t lba;                   /* this part of the request */
    uint32_t count;                 /* its sectors */
    /* Its request's history. */
    bool retried;                   /* re-sent once already: this failure is final */
    bool nonqueued;                 /* that re-send went without NCQ */
    bool irq_missed;                /* MSI mode: a completion's interrupt never came */
};

/* The port as the error left it. */
struct ahci_error_snapshot {
    uint32_t pxis;                  /* the error bits (or PxIS as read at a timeout) */
    uint32_t pxtfd, pxserr, pxci, pxsact;
    unsigned ccs;                   /* PxCMD.CCS: the slot of the non-queued command */
    int timed_out;                  /* the slot past its deadline; -1: an error stopped the port */
    uint32_t issued;                /* slots the HBA owned; slot[] describes these */
    struct ahci_recovery_slot slot[AHCI_MAX_SLOTS];
    uint64_t nblocks;               /* device capacity (classification) */
    uint32_t timeout_ms;            /* the command deadline (words) */
};

/* What to do before the port is touched. */
struct ahci_recovery_plan {
    uint32_t finished;              /* done before the error: completions, reaped as such */
    uint32_t failed;                /* still in flight: each re-sent or failed */
    int culprit;                    /* the slot whose command failed; -1 unknown (NCQ) */
    bool ncq;                       /* an NCQ command was in flight */
    bool ncq_device_error;          /* the device aborted its queue on an error (TFES and no
                                     * host or interface error): its log names the tag */
    enum ahci_reset_policy reset;   /* for ahci_port_recover() */
};
void ahci_recovery_plan(const struct ahci_error_snapshot *s, struct ahci_recovery_plan *plan);

/* What the recovery found. */
struct ahci_recovery_result {
    bool recovered;                 /* the port runs again */
    const struct ata_ncq_error *log; /* the NCQ error log naming a tag in flight; NULL: none */
    struct fis_reg_d2h d2h;         /* the received D2H Register FIS after the recovery */
};

enum ahci_slot_action {
    AHCI_SLOT_FAIL,                 /* completes with cause, status, error_lba, detail */
    AHCI_SLOT_RESEND,               /* aborted by another tag's NCQ error: sent once more */
    AHCI_SLOT_RESEND_NONQUEUED,     /* no usable log: sent once more without NCQ, so that a
                                     * failure is the command's own */
};
struct ahci_slot_verdict {
    enum ahci_slot_action action;
    enum blk_cause cause;
    uint32_t status;                /* PxTFD, or the log's Status and Error (dev_status) */
    uint64_t error_lba;
    char detail[160];               /* for blk_request.detail */
};
/* The verdict on one slot of plan->failed. */
void ahci_recovery_decide(const struct ahci_error_snapshot *s, const struct ahci_recovery_plan *plan,
                          const struct ahci_recovery_result *r, unsigned slot,
                          struct ahci_slot_verdict *v);

/* ---- PRDT builder (ahci_prdt.c) ---- */
/* Fills prdt[] with the bytes [offset, offset + max_bytes) of the segment
 * list, at most max_entries entries of at most 4 MiB each, then trims the
 * result down to a multiple of `block` bytes (a command moves whole sectors).
 * Returns the bytes described (> 0), or 0 with *cause and `why` naming the
 * broken rule: BLK_CAUSE_MISALIGNED for a base not word aligned or an odd
 * byte count, BLK_CAUSE_INVALID for an offset past the data or not one whole
 * block fitting in max_entries. */
uint64_t ahci_prdt_build(const struct blk_seg *segs, uint32_t nsegs, uint64_t offset,
                         uint64_t max_bytes, uint32_t block, struct ahci_prd *prdt,
                         unsigned max_entries, unsigned *entries, enum blk_cause *cause,
                         char *why, size_t why_size);
/* ATA DSM TRIM payload: 8-byte LBA range entries (LBA 47:0, count 63:48) for
 * [lba, lba + count), at most `max_entries`; the rest of the block is zero.
 * Returns the sectors covered. */
uint64_t ata_dsm_trim_payload(uint64_t lba, uint64_t count, uint64_t *entries,
                              unsigned max_entries);

/* ---- The ahci suite's view of a disk and its hooks (ahci_test.c) ----
 * What tests/kernel/test_ahci.c may see of the driver: a copy, taken when
 * asked, of a disk's port and HBA, and hooks named for what they make happen.
 * The suite includes this header, never ahci_priv.h, so it cannot read or
 * write the driver's structs. */
enum ahci_irq_mode { AHCI_IRQ_POLL, AHCI_IRQ_MSI };

/* What the driver counts per port. */
struct ahci_port_stats {
    uint64_t commands, ncq_commands, parts;
    unsigned max_in_flight;         /* most slots issued at once */
    unsigned recoveries, comresets;
    uint64_t irqs;
    unsigned irq_missed;            /* completions noticed by poll, not by the interrupt */
    unsigned ncq_log_reads;         /* NCQ errors whose log named the failed tag */
    unsigned ncq_log_unusable;      /* ... whose log could not be read or used */
    unsigned retries;               /* requests re-sent after an NCQ error aborted them */
    unsigned nonfatal_errors;       /* PxIS.INFS: recovered interface errors */
};

/* A port's registers (§3.3), read one after the other with interrupts off. */
struct ahci_test_registers {
    uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
    uint32_t fbs;                   /* only when CAP.FBSS says PxFBS exists (§3.3.16), else 0 */
};

struct ahci_test_view {
    /* The HBA, as read at bring-up. */
    char hba_name[16];              /* "ahci0" */
    uint32_t cap;                   /* CAP */
    unsigned hba_slots;             /* CAP.NCS + 1 */
    bool s64a, sncq;                /* CAP.S64A, CAP.SNCQ */
    enum ahci_irq_mode irq_mode;    /* how completions are noticed */
    /* The port and its disk. */
    unsigned port;
    unsigned slots;                 /* command slots the port uses */
    bool dead;                      /* out of service: requests refused */
    uint32_t issued;                /* slots the driver has given the HBA (PxCI/PxSACT) */
    struct ata_identity identify;   /* IDENTIFY DEVICE as parsed at bring-up */
    struct ahci_port_stats stats;
    /* Memory the HBA reads (§4.2): one page holding the command list (1 KiB)
     * and the received FIS (256 B), and the command tables, one per slot;
     * command_table[s] is CTBA:CTBAU of slot s's header (for s < slots). */
    uint64_t mem_phys, mem_bytes, tables_phys, tables_bytes;
    uint64_t command_table[AHCI_MAX_SLOTS];
    struct ahci_test_registers regs;    /* read when the view was taken */
    /* The hooks below in effect. */
    bool nonqueued, short_prdt;
};
/* Fills *out for the AHCI disk dev; false (nothing filled) when dev is none. */
bool ahci_test_view(struct blk_dev *dev, struct ahci_test_view *out);
/* The blk_ops of every AHCI disk: a device is AHCI's when dev->ops is this. */
extern const struct blk_ops ahci_blk_ops;
/* Hooks that make something happen on purpose; each says what. Nothing
 * happens when dev is no AHCI disk. */
/* READ/WRITE DMA EXT (non-queued) even on an NCQ disk, while on. */
void ahci_test_nonqueued(struct blk_dev *dev, bool on);
/* Read and write PRDTs one sector short of the command's count, while on: the
 * device must stop early or overflow, and the request fail. */
void ahci_test_short_prdt(struct blk_dev *dev, bool on);
/* The port's interrupt enables (PxIE) cleared (masked) or restored: in MSI
 * mode a completion then comes without its interrupt. */
void ahci_test_mask_irq(struct blk_dev *dev, bool masked);
/* The most slots issued at once (stats.max_in_flight) counted again from 0. */
void ahci_test_clear_max_in_flight(struct blk_dev *dev);

#endif
