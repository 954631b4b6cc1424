/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_decode.c — turns AHCI port registers (PxIS, PxTFD,
 * PxSERR, PxCMD, PxSSTS; AHCI 1.3.1 §3.3) and the ATA Status/Error bits
 * (ATA8-ACS §6.1-6.2) into words, and classifies a failed command into one
 * enum blk_cause with the rule that decided it, and refuses the HBA
 * capabilities (CAP, PI; §3.1) the spec rules out. Decoding is data (bit
 * name tables); classification is a short ordered list of rules. Pure:
 * tested on the host. */
#include "drivers/ahci/ahci.h"
#include "lib/bits.h"
#include "lib/format.h"
#include "lib/string.h"

struct bit_name {
    uint32_t bit;
    const char *name;
};

static const struct bit_name pxis_bits[] = {
    { AHCI_PxIS_CPDS, "CPDS" }, { AHCI_PxIS_TFES, "TFES" }, { AHCI_PxIS_HBFS, "HBFS" },
    { AHCI_PxIS_HBDS, "HBDS" }, { AHCI_PxIS_IFS, "IFS" },   { AHCI_PxIS_INFS, "INFS" },
    { AHCI_PxIS_OFS, "OFS" },   { AHCI_PxIS_IPMS, "IPMS" }, { AHCI_PxIS_PRCS, "PRCS" },
    { AHCI_PxIS_DMPS, "DMPS" }, { AHCI_PxIS_PCS, "PCS" },   { AHCI_PxIS_DPS, "DPS" },
    { AHCI_PxIS_UFS, "UFS" },   { AHCI_PxIS_SDBS, "SDBS" }, { AHCI_PxIS_DSS, "DSS" },
    { AHCI_PxIS_PSS, "PSS" },   { AHCI_PxIS_DHRS, "DHRS" },
};

static const struct bit_name sts_bits[] = {
    { ATA_STS_BSY, "BSY" }, { ATA_STS_DRDY, "DRDY" }, { ATA_STS_DF, "DF" },
    { 1u << 4, "DSC" }, { ATA_STS_DRQ, "DRQ" }, { ATA_STS_ERR, "ERR" },
};

static const struct bit_name err_bits[] = {
    { ATA_ERR_ICRC, "ICRC" }, { ATA_ERR_UNC, "UNC" }, { ATA_ERR_MC, "MC" },
    { ATA_ERR_IDNF, "IDNF" }, { ATA_ERR_MCR, "MCR" }, { ATA_ERR_ABRT, "ABRT" },
    { ATA_ERR_NM, "NM" },     { ATA_ERR_AMNF, "AMNF" },
};

static const struct bit_name serr_bits[] = {
    { AHCI_SERR_ERR_I, "ERR.I(recovered data integrity)" },
    { AHCI_SERR_ERR_M, "ERR.M(recovered comms)" },
    { AHCI_SERR_ERR_T, "ERR.T(transient data integrity)" },
    { AHCI_SERR_ERR_C, "ERR.C(persistent comm/data integrity)" },
    { AHCI_SERR_ERR_P, "ERR.P(protocol)" },
    { AHCI_SERR_ERR_E, "ERR.E(internal)" },
    { AHCI_SERR_DIAG_N, "DIAG.N(PhyRdy change)" },
    { AHCI_SERR_DIAG_I, "DIAG.I(phy internal)" },
    { AHCI_SERR_DIAG_W, "DIAG.W(COMWAKE)" },
    { AHCI_SERR_DIAG_B, "DIAG.B(10b/8b decode)" },
    { AHCI_SERR_DIAG_D, "DIAG.D(disparity)" },
    { AHCI_SERR_DIAG_C, "DIAG.C(CRC)" },
    { AHCI_SERR_DIAG_H, "DIAG.H(handshake)" },
    { AHCI_SERR_DIAG_S, "DIAG.S(link sequence)" },
    { AHCI_SERR_DIAG_T, "DIAG.T(transport state)" },
    { AHCI_SERR_DIAG_F, "DIAG.F(unknown FIS)" },
    { AHCI_SERR_DIAG_X, "DIAG.X(exchanged)" },
};

static const struct bit_name pxcmd_bits[] = {
    { AHCI_PxCMD_ST, "ST" },   { AHCI_PxCMD_SUD, "SUD" },   { AHCI_PxCMD_POD, "POD" },
    { AHCI_PxCMD_CLO, "CLO" }, { AHCI_PxCMD_FRE, "FRE" },   { AHCI_PxCMD_FR, "FR" },
    { AHCI_PxCMD_CR, "CR" },   { AHCI_PxCMD_CPS, "CPS" },   { AHCI_PxCMD_PMA, "PMA" },
    { AHCI_PxCMD_HPCP, "HPCP" }, { AHCI_PxCMD_CPD, "CPD" }, { AHCI_PxCMD_ESP, "ESP" },
    { AHCI_PxCMD_ATAPI, "ATAPI" },
};

/* Appends to buf at *pos, never past size; keeps the text terminated. */
static void append(char *buf, size_t size, size_t *pos, const char *fmt, const char *s)
{
    if (*pos + 1 >= size)
        return;
    int n = snprintf(buf + *pos, size - *pos, fmt, s);
    if (n > 0)
        *pos += (size_t)n < size - *pos ? (size_t)n : size - *pos - 1;
}

static size_t decode_bits(uint32_t value, const struct bit_name *names, size_t count,
                          const char *none, char *buf, size_t size, size_t pos)
{
    uint32_t known = 0;
    bool any = false;

    if (size == 0)
        return 0;
    buf[pos] = '\0';
    for (size_t i = 0; i < count; i++) {
        known |= names[i].bit;
        if (value & names[i].bit) {
            append(buf, size, &pos, any ? " %s" : "%s", names[i].name);
            any = true;
        }
    }
    if (value & ~known) {
        char other[24];
        snprintf(other, sizeof(other), "%sbits 0x%x", any ? " " : "", value & ~known);
        append(buf, size, &pos, "%s", other);
        any = true;
    }
    if (!any)
        append(buf, size, &pos, "%s", none);
    return pos;
}

size_t ahci_decode_pxis(uint32_t pxis, char *buf, size_t size)
{
    return decode_bits(pxis, pxis_bits, sizeof(pxis_bits) / sizeof(pxis_bits[0]), "none",
                       buf, size, 0);
}

size_t ahci_decode_serr(uint32_t pxserr, char *buf, size_t size)
{
    return decode_bits(pxserr, serr_bits, sizeof(serr_bits) / sizeof(serr_bits[0]), "none",
                       buf, size, 0);
}

size_t ahci_decode_pxcmd(uint32_t pxcmd, char *buf, size_t size)
{
    size_t pos = decode_bits(pxcmd & ~(0x1fu << AHCI_PxCMD_CCS_SHIFT) & ~(0xfu << AHCI_PxCMD_ICC_SHIFT),
                             pxcmd_bits, sizeof(pxcmd_bits) / sizeof(pxcmd_bits[0]), "none",
                             buf, size, 0);
    char ccs[16];
    snprintf(ccs, sizeof(ccs), " CCS %u", (pxcmd >> AHCI_PxCMD_CCS_SHIFT) & 0x1f);
    append(buf, size, &pos, "%s", ccs);
    return pos;
}

size_t ahci_decode_tfd(uint32_t pxtfd, char *buf, size_t size)
{
    uint8_t sts = pxtfd & AHCI_PxTFD_STS_MASK, err = (pxtfd >> AHCI_PxTFD_ERR_SHIFT) & 0xff;
    char head[24];
    size_t pos;

    if (size == 0)
        return 0;
    snprintf(head, sizeof(head), "STS %02xh ", sts);
    buf[0] = '\0';
    pos = 0;
    append(buf, size, &pos, "%s", head);
    pos = decode_bits(sts, sts_bits, sizeof(sts_bits) / sizeof(sts_bits[0]), "-", buf, size, pos);
    /* The Error register means something only when STS.ERR is set. */
    if (sts & ATA_STS_ERR) {
        snprintf(head, sizeof(head), ", ERR %02xh ", err);
        append(buf, size, &pos, "%s", head);
        pos = decode_bits(err, err_bits, sizeof(err_bits) / sizeof(err_bits[0]), "-", buf, size,
                          pos);
    }
    return pos;
}

size_t ahci_decode_ssts(uint32_t pxssts, char *buf, size_t size)
{
    static const char *const det[] = { "no device", "device, no phy", "?", "device, phy up",
                                       "phy offline" };
    static const char *const ipm[] = { "none", "active", "partial", "?", "?", "?", "slumber",
                                       "?", "devsleep" };
    unsigned d = pxssts & AHCI_SSTS_DET_MASK, s = (pxssts >> AHCI_SSTS_SPD_SHIFT) & 0xf;
    unsigned i = (pxssts >> AHCI_SSTS_IPM_SHIFT) & 0xf;
    return (size_t)snprintf(buf, size, "DET %u (%s) SPD %u (%s) IPM %u (%s)", d,
                            d < 5 ? det[d] : "?", s,
                            s == 1 ? "1.5 Gb/s" : s == 2 ? "3 Gb/s" : s == 3 ? "6 Gb/s" : "none",
                            i, i < 9 ? ipm[i] : "?");
}

const char *ahci_signature_name(uint32_t sig)
{
    switch (sig) {
    case AHCI_SIG_ATA: return "ATA disk";
    case AHCI_SIG_ATAPI: return "ATAPI device";
    case AHCI_SIG_SEMB: return "enclosure bridge (SEMB)";
    case AHCI_SIG_PM: return "port multiplier";
    case 0xffffffffu: return "no signature (no D2H FIS received)";
    }
    return "unknown signature";
}

uint64_t ahci_d2h_lba(const struct fis_reg_d2h *fis)
{
    return (uint64_t)fis->lba0 | (uint64_t)fis->lba1 << 8 | (uint64_t)fis->lba2 << 16 |
           (uint64_t)fis->lba3 << 24 | (uint64_t)fis->lba4 << 32 | (uint64_t)fis->lba5 << 40;
}

/* Only what the spec rules out is refused here; what bareio merely does not
 * use is left to the driver. */
enum blk_cause ahci_hba_capabilities_check(uint32_t cap, uint32_t pi, char *why, size_t why_size)
{
    /* CAP.NP (§3.1.1) and CAP.NCS are 0's based: NP 0 is one port, NCS 0
     * one command slot. NCS therefore has no impossible value (1..32 slots
     * are all legal; a one-slot HBA is driven with queue depth 1) and is not
     * checked: refusing NCS 0 would fail a working controller. */
    unsigned ports_allowed = (cap & AHCI_CAP_NP_MASK) + 1;
    unsigned ports_implemented = bits_set32(pi);

    /* §3.1.4: "this register shall have at least one bit set". */
    if (pi == 0) {
        snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": PI 0x%08x implements no port (AHCI "
                 "requires at least one)", pi);
        return BLK_CAUSE_IMPOSSIBLE;
    }
    /* §3.1.1: NP is the maximum number of ports; PI may set fewer bits (a
     * port not brought out), never more. */
    if (ports_implemented > ports_allowed) {
        snprintf(why, why_size, BLK_IMPOSSIBLE_WORDS ": CAP.NP %u allows %u port%s but PI 0x%08x "
                 "implements %u", ports_allowed - 1, ports_allowed, ports_allowed == 1 ? "" : "s",
                 pi, ports_implemented);
        return BLK_CAUSE_IMPOSSIBLE;
    }
    return BLK_OK;
}

/* The rules, in order: the first that matches decides. */
enum blk_cause ahci_classify(const struct ahci_error_facts *f, char *why, size_t why_size)
{
    uint8_t sts = f->pxtfd & AHCI_PxTFD_STS_MASK, err = (f->pxtfd >> AHCI_PxTFD_ERR_SHIFT) & 0xff;
    bool device_error = (f->pxis & AHCI_PxIS_TFES) && (sts & ATA_STS_ERR);
    bool past_end = f->lba >= f->nblocks || f->count > f->nblocks - f->lba;

    if (f->pxis & (AHCI_PxIS_HBFS | AHCI_PxIS_HBDS)) {
        snprintf(why, why_size, "host bus %s error: the HBA could not access system memory",
                 f->pxis & AHCI_PxIS_HBFS ? "fatal" : "data");
        return BLK_CAUSE_CONTROLLER_FATAL;
    }
    if ((f->pxis & AHCI_PxIS_IFS) || (device_error && (err & ATA_ERR_ICRC)) ||
        (!device_error && (f->pxserr & AHCI_SERR_LINK))) {
        snprintf(why, why_size, "interface error%s", device_error && (err & ATA_ERR_ICRC)
                 ? " (ICRC: CRC error on the link)" : " on the SATA link");
        return BLK_CAUSE_LINK;
    }
    if (f->pxis & AHCI_PxIS_OFS) {
        snprintf(why, why_size, "overflow: the device sent more data than the PRDT describes");
        return BLK_CAUSE_DEVICE_ERROR;
    }
    if (device_error && (err & ATA_ERR_UNC)) {
        snprintf(why, why_size, "uncorrectable data (UNC)");
        return BLK_CAUSE_MEDIA;
    }
    if (device_error && (err & ATA_ERR_IDNF)) {
        snprintf(why, why_size, "ID not found (IDNF): address outside the device");
        return BLK_CAUSE_LBA_RANGE;
    }
    if (device_error && (err & ATA_ERR_ABRT) && f->rw) {
        if (past_end) {
            snprintf(why, why_size, "device aborted a %s past the end (%llu sectors)",
                     "transfer", (unsigned long long)f->nblocks);
            return BLK_CAUSE_LBA_RANGE;
        }
        /* A supported READ/WRITE aborted inside the capacity: the medium (or
         * for QEMU, the backing file) failed there; real drives say UNC. */
        snprintf(why, why_size, "device aborted (ABRT) at an in-range LBA");
        return BLK_CAUSE_MEDIA;
    }
    if (device_error && (sts & ATA_STS_DF)) {
        snprintf(why, why_size, "device fault (DF)");
        return BLK_CAUSE_DEVICE_ERROR;
    }
    if (device_error) {
        snprintf(why, why_size, "device refused command %02xh%s", f->command,
                 err & ATA_ERR_ABRT ? " (ABRT)" : "");
        return BLK_CAUSE_DEVICE_ERROR;
    }
    if (f->short_transfer) {
        snprintf(why, why_size, "short transfer: PRDBC %llu of %llu bytes",
                 (unsigned long long)f->prdbc, (unsigned long long)f->expected);
        return BLK_CAUSE_DEVICE_ERROR;
    }
    snprintf(why, why_size, "task file error without ERR");
    return BLK_CAUSE_DEVICE_ERROR;
}

size_t ahci_format_detail(const struct ahci_error_facts *f, const char *why, char *buf, size_t size)
{
    char is[64], tfd[64], serr[96];

    ahci_decode_pxis(f->pxis, is, sizeof(is));
    ahci_decode_tfd(f->pxtfd, tfd, sizeof(tfd));
    ahci_decode_serr(f->pxserr, serr, sizeof(serr));
    return (size_t)snprintf(buf, size, "%s; PxIS %s; PxTFD %s; PxSERR %s", why, is, tfd, serr);
}
