/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ata_ncq_log.c — the NCQ Command Error log (log address 10h,
 * SATA 3.x §13.7.4 / ACS-3 "NCQ Command Error log"): the READ LOG EXT
 * command that reads it and the parser of its 512-byte page. After an NCQ
 * error the device aborts every queued command and accepts only this read,
 * which names the tag that failed with its Status, Error and LBA and ends
 * the error condition. Pure: tested on the host. */
#include "drivers/ahci/ahci.h"
#include "lib/string.h"

/* Byte offsets in the page. */
#define NCQ_LOG_TAG         0       /* bit 7 NQ, bits 4:0 the NCQ tag */
#define NCQ_LOG_NQ          0x80u
#define NCQ_LOG_TAG_MASK    0x1fu
#define NCQ_LOG_STATUS      2
#define NCQ_LOG_ERROR       3
#define NCQ_LOG_LBA_LOW     4       /* LBA 7:0, 15:8, 23:16 */
#define NCQ_LOG_DEVICE      7
#define NCQ_LOG_LBA_HIGH    8       /* LBA 31:24, 39:32, 47:40 */
#define NCQ_LOG_COUNT       12      /* 2 bytes */
#define NCQ_LOG_SENSE_KEY   14
#define NCQ_LOG_ASC         15
#define NCQ_LOG_ASCQ        16
#define NCQ_LOG_CHECKSUM    511     /* the 512 bytes sum to zero */

void ata_read_log_ext_fis(struct fis_reg_h2d *fis, uint8_t log, uint16_t page, uint16_t count)
{
    memset(fis, 0, sizeof(*fis));
    fis->fis_type = FIS_TYPE_REG_H2D;
    fis->flags = FIS_H2D_C;
    fis->command = ATA_CMD_READ_LOG_EXT;
    fis->lba0 = log;                        /* LBA 7:0: log address */
    fis->lba1 = (uint8_t)page;              /* LBA 15:8: page number 7:0 */
    fis->lba5 = (uint8_t)(page >> 8);       /* LBA 47:40: page number 15:8 */
    fis->count = (uint8_t)count;            /* pages to read */
    fis->count_exp = (uint8_t)(count >> 8);
}

enum ata_ncq_log_status ata_ncq_log_parse(const uint8_t page[512], struct ata_ncq_error *e)
{
    uint8_t sum = 0;

    memset(e, 0, sizeof(*e));
    for (unsigned i = 0; i < 512; i++)
        sum = (uint8_t)(sum + page[i]);
    if (sum != 0)
        return ATA_NCQ_LOG_BAD_CHECKSUM;
    e->nq = (page[NCQ_LOG_TAG] & NCQ_LOG_NQ) != 0;
    e->tag = page[NCQ_LOG_TAG] & NCQ_LOG_TAG_MASK;
    e->status = page[NCQ_LOG_STATUS];
    e->error = page[NCQ_LOG_ERROR];
    e->device = page[NCQ_LOG_DEVICE];
    e->lba = (uint64_t)page[NCQ_LOG_LBA_LOW] | (uint64_t)page[NCQ_LOG_LBA_LOW + 1] << 8 |
             (uint64_t)page[NCQ_LOG_LBA_LOW + 2] << 16 | (uint64_t)page[NCQ_LOG_LBA_HIGH] << 24 |
             (uint64_t)page[NCQ_LOG_LBA_HIGH + 1] << 32 | (uint64_t)page[NCQ_LOG_LBA_HIGH + 2] << 40;
    e->count = (uint16_t)(page[NCQ_LOG_COUNT] | page[NCQ_LOG_COUNT + 1] << 8);
    e->sense_key = page[NCQ_LOG_SENSE_KEY];
    e->asc = page[NCQ_LOG_ASC];
    e->ascq = page[NCQ_LOG_ASCQ];
    if (e->nq)
        return ATA_NCQ_LOG_NOT_QUEUED;
    if (!(e->status & ATA_STS_ERR))
        return ATA_NCQ_LOG_NO_ERROR;
    return ATA_NCQ_LOG_OK;
}

const char *ata_ncq_log_status_name(enum ata_ncq_log_status status)
{
    switch (status) {
    case ATA_NCQ_LOG_OK: return "ok";
    case ATA_NCQ_LOG_BAD_CHECKSUM: return "page checksum (byte 511) does not sum to zero";
    case ATA_NCQ_LOG_NOT_QUEUED: return "NQ set: the error was not in a queued command";
    case ATA_NCQ_LOG_NO_ERROR: return "Status has no ERR: the log names no failed command";
    }
    return "?";
}
