/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_cmd.c — one AHCI command at a time: the Register H2D FIS
 * (SATA 3.x §10.5.5), the command header and table of a slot (AHCI 1.3.1
 * §4.2.2-4.2.3) for READ/WRITE DMA EXT, WRITE DMA FUA EXT, READ/WRITE FPDMA
 * QUEUED, FLUSH CACHE EXT and DATA SET MANAGEMENT TRIM, and a non-queued
 * command issued on slot 0 and polled to completion (bring-up, the NCQ error
 * log, the flush at shutdown). It recovers nothing: a command that stopped the
 * port is reported, and ahci_port.c restarts the port. Issue and completion
 * of the I/O slots are ahci_io.c's. */
#include "drivers/ahci/ahci_priv.h"
#include "kernel/io.h"
#include "kernel/time.h"
#include "lib/bits.h"
#include "lib/format.h"
#include "lib/string.h"

#define CFL_REG_H2D (sizeof(struct fis_reg_h2d) / 4)

static uint32_t rd(struct ahci_port *p, unsigned reg) { return mmio_read32(p->regs, reg); }
static void wr(struct ahci_port *p, unsigned reg, uint32_t v) { mmio_write32(p->regs, reg, v); }


void ahci_fis_set_lba(struct fis_reg_h2d *fis, uint64_t lba)
{
    fis->lba0 = (uint8_t)lba;
    fis->lba1 = (uint8_t)(lba >> 8);
    fis->lba2 = (uint8_t)(lba >> 16);
    fis->lba3 = (uint8_t)(lba >> 24);
    fis->lba4 = (uint8_t)(lba >> 32);
    fis->lba5 = (uint8_t)(lba >> 40);
    fis->device = ATA_DEVICE_LBA;
}

void ahci_fis_init(struct fis_reg_h2d *fis, uint8_t command)
{
    memset(fis, 0, sizeof(*fis));
    fis->fis_type = FIS_TYPE_REG_H2D;
    fis->flags = FIS_H2D_C;
    fis->command = command;
    fis->device = ATA_DEVICE_LBA;
}

static void set_header(struct ahci_port *p, unsigned s, bool write, unsigned prdtl)
{
    struct ahci_cmd_header *h = &p->cmd_list[s];
    h->dw0 = CFL_REG_H2D | (write ? AHCI_CMDH_W : 0) | (uint32_t)prdtl << AHCI_CMDH_PRDTL_SHIFT;
    h->prdbc = 0;
}

/* One PRD for a buffer of the driver's own (IDENTIFY, log page, DSM ranges). */
static void set_single_prd(struct ahci_cmd_table *t, const void *buf, uint32_t len)
{
    t->prdt[0].dba = (uint32_t)virt_to_phys(buf);
    t->prdt[0].dbau = (uint32_t)(virt_to_phys(buf) >> 32);
    t->prdt[0].reserved = 0;
    t->prdt[0].dbc = (len - 1) & AHCI_PRD_DBC_MASK;
}

/* ---- building one part of a request into a slot ---- */

static uint8_t rw_command(const struct blk_request *req, bool ncq)
{
    if (ncq)
        return req->op == BLK_OP_READ ? ATA_CMD_READ_FPDMA_QUEUED : ATA_CMD_WRITE_FPDMA_QUEUED;
    if (req->op == BLK_OP_READ)
        return ATA_CMD_READ_DMA_EXT;
    return req->flags & BLK_F_FUA ? ATA_CMD_WRITE_DMA_FUA_EXT : ATA_CMD_WRITE_DMA_EXT;
}

/* The FIS's count fields: FPDMA carries the sector count in FEATURES and the
 * tag in COUNT 7:3 (SATA 3.x §13.6.4); DMA EXT the count in COUNT. */
static void set_rw_count(struct fis_reg_h2d *fis, const struct ahci_slot *sl, unsigned s,
                         const struct blk_request *req)
{
    if (sl->ncq) {
        fis->features = (uint8_t)sl->count;
        fis->features_exp = (uint8_t)(sl->count >> 8);
        fis->count = (uint8_t)(s << 3);
        if (req->flags & BLK_F_FUA)
            fis->device |= ATA_DEVICE_FUA;
    } else {
        fis->count = (uint8_t)sl->count;        /* 65536 encodes as 0 */
        fis->count_exp = (uint8_t)(sl->count >> 8);
    }
}

bool ahci_cmd_build_rw(struct ahci_port *p, unsigned s, const struct blk_request *req,
                       uint64_t done, bool ncq, char *why, size_t why_size)
{
    struct ahci_slot *sl = &p->slot[s];
    struct ahci_cmd_table *t = &p->table[s];
    struct fis_reg_h2d *fis = (struct fis_reg_h2d *)t->cfis;
    uint32_t bs = p->dev.block_size;
    uint64_t left = req->count - done;
    uint64_t max = (req->flags & BLK_F_NOSPLIT) ? left : (left < ATA_MAX_SECTORS_EXT ? left
                                                          : ATA_MAX_SECTORS_EXT);
    unsigned entries;
    enum blk_cause cause;
    uint64_t bytes = ahci_prdt_build(req->segs, req->nsegs, done * bs, max * bs, bs, t->prdt,
                                     AHCI_PRDT_ENTRIES, &entries, &cause, why, why_size);
    if (bytes == 0)
        return false;
    if (p->test_short_prdt && bytes > bs)   /* test: the PRDT one sector short of the FIS */
        ahci_prdt_build(req->segs, req->nsegs, done * bs, bytes - bs, bs, t->prdt,
                        AHCI_PRDT_ENTRIES, &entries, &cause, why, why_size);
    sl->ncq = ncq;
    sl->command = rw_command(req, sl->ncq);
    sl->lba = req->lba + done;
    sl->count = (uint32_t)(bytes / bs);
    sl->bytes = bytes;
    sl->prdt_entries = entries;
    ahci_fis_init(fis, sl->command);
    ahci_fis_set_lba(fis, sl->lba);
    set_rw_count(fis, sl, s, req);
    set_header(p, s, req->op == BLK_OP_WRITE, entries);
    return true;
}

void ahci_cmd_build_trim(struct ahci_port *p, unsigned s, const struct blk_request *req,
                         uint64_t done)
{
    struct ahci_slot *sl = &p->slot[s];
    struct ahci_cmd_table *t = &p->table[s];
    struct fis_reg_h2d *fis = (struct fis_reg_h2d *)t->cfis;
    uint64_t covered = ata_dsm_trim_payload(req->lba + done, req->count - done, p->dsm_buf,
                                            ATA_DSM_RANGES_PER_BLOCK);

    sl->ncq = false;
    sl->command = ATA_CMD_DSM;
    sl->lba = req->lba + done;
    sl->count = (uint32_t)covered;
    sl->bytes = 0;
    sl->prdt_entries = 1;
    ahci_fis_init(fis, ATA_CMD_DSM);
    fis->features = ATA_DSM_TRIM;
    fis->count = 1;                             /* 512-byte blocks of ranges */
    set_single_prd(t, p->dsm_buf, 512);
    set_header(p, s, true, 1);
}

void ahci_cmd_build_flush(struct ahci_port *p, unsigned s)
{
    struct ahci_slot *sl = &p->slot[s];
    ahci_fis_init((struct fis_reg_h2d *)p->table[s].cfis, ATA_CMD_FLUSH_CACHE_EXT);
    sl->ncq = false;
    sl->command = ATA_CMD_FLUSH_CACHE_EXT;
    sl->lba = 0;
    sl->count = 0;
    sl->bytes = 0;
    sl->prdt_entries = 0;
    set_header(p, s, false, 0);
}

/* ---- one command, synchronously ---- */

static void load_slot0(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf,
                       uint32_t len, bool write)
{
    struct ahci_cmd_table *t = &p->table[0];
    memcpy(t->cfis, fis, sizeof(*fis));
    if (len)
        set_single_prd(t, buf, len);
    set_header(p, 0, write, len ? 1 : 0);
}

/* Until slot 0 is done, an error stops the port or the deadline passes;
 * returns PxIS as last read. */
static uint32_t wait_slot0(struct ahci_port *p, uint64_t deadline)
{
    uint32_t is;
    for (;;) {
        is = rd(p, AHCI_PxIS);
        if (is & AHCI_PxIS_FATAL)
            break;
        if (!(rd(p, AHCI_PxCI) & 1))
            break;
        if (deadline_passed(deadline))
            break;
        delay_us(10);
    }
    return is;
}

/* The error bits or the missing completion, decoded with PxTFD and PxSERR. */
static void describe_failure(struct ahci_port *p, const struct fis_reg_h2d *fis, uint32_t is,
                             uint32_t timeout_ms, char *why, size_t why_size)
{
    struct ahci_error_facts f = {
        .pxis = is, .pxtfd = rd(p, AHCI_PxTFD), .pxserr = rd(p, AHCI_PxSERR),
        .command = fis->command, .nblocks = ~0ull,
    };
    char rule[80];
    if (is & AHCI_PxIS_FATAL)
        ahci_classify(&f, rule, sizeof(rule));
    else
        snprintf(rule, sizeof(rule), "command %02xh not done within %u ms", fis->command,
                 timeout_ms);
    ahci_format_detail(&f, rule, why, why_size);
}

enum ahci_cmd_result ahci_cmd_exec(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf,
                                   uint32_t len, bool write, uint32_t timeout_ms, char *why,
                                   size_t why_size)
{
    uint64_t deadline = deadline_after_ms(timeout_ms);

    if (p->issued) {
        snprintf(why, why_size, "port busy with %d commands", bits_set32(p->issued));
        return AHCI_CMD_NOT_SENT;
    }
    load_slot0(p, fis, buf, len, write);
    wr(p, AHCI_PxIS, 0xffffffffu);
    wr(p, AHCI_PxCI, 1);
    uint32_t is = wait_slot0(p, deadline);
    if ((is & AHCI_PxIS_FATAL) || (rd(p, AHCI_PxCI) & 1)) {
        describe_failure(p, fis, is, timeout_ms, why, why_size);
        return AHCI_CMD_FAILED;
    }
    enum ahci_cmd_result r = AHCI_CMD_DONE;
    if (p->cmd_list[0].prdbc != len) {
        snprintf(why, why_size, "command %02xh moved %u of %u bytes (PxPRDBC)", fis->command,
                 p->cmd_list[0].prdbc, len);
        r = AHCI_CMD_SHORT;
    }
    wr(p, AHCI_PxIS, 0xffffffffu);
    return r;
}
