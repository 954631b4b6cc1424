/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_io.c — the AHCI driver's block operations: command
 * building (READ/WRITE DMA EXT, WRITE DMA FUA EXT, READ/WRITE FPDMA QUEUED,
 * FLUSH CACHE EXT, DATA SET MANAGEMENT TRIM), PRDTs from the caller's
 * segments, splitting at 65536 sectors or a full PRDT, issue (PxSACT, then
 * PxCI once per kick), completion by MSI or polling, PxPRDBC checks,
 * per-command deadlines, and the error path: snapshot, classify, recover the
 * port (ahci_port.c), fail every command that was in flight.
 *
 * Requests wait in a FIFO until a slot is free; a request occupies one slot
 * at a time and its parts run one after another. NCQ and non-queued commands
 * are never outstanding together (SATA forbids it), and a non-queued command
 * runs alone. Everything here runs with interrupts off (irq_save), so the
 * MSI handler and poll() never race on one CPU.
 *
 * NCQ errors (AHCI §6.2.2.2, SATA §13.7.4): the device aborts every queued
 * command; with the engine restarted (no COMRESET, which would clear the
 * log) READ LOG EXT page 10h names the failed tag, which fails with the
 * log's Status/Error/LBA while the others are re-sent once. When the log
 * cannot be read (QEMU aborts READ LOG EXT) the port is reset and each
 * command is re-sent once without NCQ, so the faulty one fails alone, with
 * a status of its own. */
#include "drivers/ahci/ahci_priv.h"
#include "drivers/pci/pci.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define CFL_REG_H2D (sizeof(struct fis_reg_h2d) / 4)

static uint32_t rd(struct ahci_port *p, unsigned reg) { return mmio_read32(p->regs, reg); }
static void wr(struct ahci_port *p, unsigned reg, uint32_t v) { mmio_write32(p->regs, reg, v); }

/* No libgcc in the kernel: count the bits by hand. */
static unsigned bits_set(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* A request's progress through the port (its blk_request pdu). */
struct ahci_rq {
    uint64_t done_blocks;   /* sectors finished so far */
    uint32_t flags;         /* AHCI_RQ_* */
};
#define AHCI_RQ_IRQ_MISSED  1u
#define AHCI_RQ_NONQUEUED   2u      /* re-sent without NCQ to isolate an NCQ error */
#define AHCI_RQ_RETRIED     4u      /* already re-sent once: its next failure is final */
BLK_PDU_ACCESSOR(ahci_rq, struct ahci_rq)

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

static void set_header(struct ahci_port *p, unsigned s, bool write, unsigned prdtl)
{
    struct ahci_cmd_header *h = &p->cmd_list[s];
    h->dw0 = CFL_REG_H2D | (write ? AHCI_CMDH_W : 0) | (uint32_t)prdtl << AHCI_CMDH_PRDTL_SHIFT;
    h->prdbc = 0;
}

static void init_fis(struct fis_reg_h2d *fis, uint8_t command)
{
    memset(fis, 0, sizeof(*fis));
    fis->fis_type = FIS_TYPE_REG_H2D;
    fis->flags = FIS_H2D_C;
    fis->command = command;
    fis->device = ATA_DEVICE_LBA;
}

static bool uses_ncq(const struct ahci_port *p, const struct blk_request *req)
{
    return (p->dev.caps & BLK_CAP_NCQ) && !p->test_nonqueued &&
           !(ahci_rq(req)->flags & AHCI_RQ_NONQUEUED) &&
           (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE);
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

static bool build_rw(struct ahci_port *p, unsigned s, struct blk_request *req, char *why,
                     size_t why_size)
{
    struct ahci_slot *sl = &p->slot[s];
    struct ahci_cmd_table *t = &p->table[s];
    struct fis_reg_h2d *fis = (struct fis_reg_h2d *)t->cfis;
    uint32_t bs = p->dev.block_size;
    uint64_t done = ahci_rq(req)->done_blocks, left = req->count - done;
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
    sl->ncq = uses_ncq(p, req);
    sl->command = rw_command(req, sl->ncq);
    sl->lba = req->lba + done;
    sl->count = (uint32_t)(bytes / bs);
    sl->bytes = bytes;
    sl->prdt_entries = entries;
    init_fis(fis, sl->command);
    ahci_fis_set_lba(fis, sl->lba);
    if (sl->ncq) {
        /* FPDMA: the sector count travels in FEATURES, the tag in COUNT 7:3. */
        fis->features = (uint8_t)sl->count;
        fis->features_exp = (uint8_t)(sl->count >> 8);
        fis->count = (uint8_t)(s << 3);
        if (req->flags & BLK_F_FUA)
            fis->device |= ATA_DEVICE_FUA;
    } else {
        fis->count = (uint8_t)sl->count;        /* 65536 encodes as 0 */
        fis->count_exp = (uint8_t)(sl->count >> 8);
    }
    set_header(p, s, req->op == BLK_OP_WRITE, entries);
    return true;
}

static void build_trim(struct ahci_port *p, unsigned s, struct blk_request *req)
{
    struct ahci_slot *sl = &p->slot[s];
    struct ahci_cmd_table *t = &p->table[s];
    struct fis_reg_h2d *fis = (struct fis_reg_h2d *)t->cfis;
    uint64_t done = ahci_rq(req)->done_blocks;
    uint64_t covered = ata_dsm_trim_payload(req->lba + done, req->count - done, p->dsm_buf,
                                            ATA_DSM_RANGES_PER_BLOCK);

    sl->ncq = false;
    sl->command = ATA_CMD_DSM;
    sl->lba = req->lba + done;
    sl->count = (uint32_t)covered;
    sl->bytes = 0;
    sl->prdt_entries = 1;
    init_fis(fis, ATA_CMD_DSM);
    fis->features = ATA_DSM_TRIM;
    fis->count = 1;                             /* 512-byte blocks of ranges */
    t->prdt[0].dba = (uint32_t)virt_to_phys(p->dsm_buf);
    t->prdt[0].dbau = (uint32_t)(virt_to_phys(p->dsm_buf) >> 32);
    t->prdt[0].reserved = 0;
    t->prdt[0].dbc = 512 - 1;
    set_header(p, s, true, 1);
}

static void build_flush(struct ahci_port *p, unsigned s)
{
    struct ahci_slot *sl = &p->slot[s];
    init_fis((struct fis_reg_h2d *)p->table[s].cfis, ATA_CMD_FLUSH_CACHE_EXT);
    sl->ncq = false;
    sl->command = ATA_CMD_FLUSH_CACHE_EXT;
    sl->lba = 0;
    sl->count = 0;
    sl->bytes = 0;
    sl->prdt_entries = 0;
    set_header(p, s, false, 0);
}

/* ---- the wait list and issue ---- */

static int free_slot(const struct ahci_port *p)
{
    uint32_t busy = p->issued | p->to_issue;
    for (unsigned s = 0; s < p->dev.queue_depth && s < p->slots; s++)
        if (!(busy & (1u << s)))
            return (int)s;
    return -1;
}

static void fail_request(struct ahci_port *p, struct blk_request *req, enum blk_cause cause,
                         uint32_t status, const char *detail)
{
    req->dev_status = status;
    if (detail != req->detail)
        strlcpy(req->detail, detail, sizeof(req->detail));
    blk_complete(&p->dev, req, cause);
}

/* Moves waiting requests into free slots, then tells the HBA: PxSACT bits
 * before PxCI bits for NCQ (AHCI 1.3.1 §5.6.4.1), one write each. */
static void issue_waiting(struct ahci_port *p)
{
    uint32_t sact = 0;
    char why[120];
    struct blk_request *req;

    while ((req = blk_fifo_peek(&p->waiting)) != NULL) {
        bool ncq = uses_ncq(p, req);
        if (ncq ? p->nonqueued_active : (p->issued | p->to_issue) != 0)
            break;
        int s = free_slot(p);
        if (s < 0)
            break;
        blk_fifo_pop(&p->waiting);
        bool ok = true;
        if (req->op == BLK_OP_FLUSH)
            build_flush(p, (unsigned)s);
        else if (req->op == BLK_OP_TRIM)
            build_trim(p, (unsigned)s, req);
        else
            ok = build_rw(p, (unsigned)s, req, why, sizeof(why));
        if (!ok) {      /* submit checked the plan: only a changed buffer gets here */
            fail_request(p, req, BLK_CAUSE_INVALID, 0, why);
            continue;
        }
        struct ahci_slot *sl = &p->slot[s];
        sl->req = req;
        sl->offset = ahci_rq(req)->done_blocks * p->dev.block_size;
        sl->deadline_ns = time_ns() + (uint64_t)p->dev.timeout_ms * 1000000;
        sl->done_seen_ns = 0;
        p->to_issue |= 1u << s;
        p->stats.parts++;
        if (ncq) {
            sact |= 1u << s;
            p->ncq_active = true;
            p->stats.ncq_commands++;
        } else {
            p->nonqueued_active = true;
            break;      /* a non-queued command runs alone */
        }
    }
    if (!p->to_issue)
        return;
    if (sact)
        wr(p, AHCI_PxSACT, sact);
    wr(p, AHCI_PxCI, p->to_issue);
    p->issued |= p->to_issue;
    p->to_issue = 0;
    unsigned n = (unsigned)bits_set(p->issued);
    if (n > p->stats.max_in_flight)
        p->stats.max_in_flight = n;
}

/* ---- submit: refuse what cannot be sent, queue the rest ---- */

/* Walks the parts the request will be split into, so a segment list that
 * cannot be described is refused now, before anything reaches the device. */
static enum blk_cause plan_rw(struct ahci_port *p, struct blk_request *req)
{
    static struct ahci_prd scratch[AHCI_PRDT_ENTRIES];
    uint32_t bs = p->dev.block_size;
    uint64_t done = 0;
    char why[sizeof(req->detail)];

    if ((req->flags & BLK_F_NOSPLIT) && req->count > ATA_MAX_SECTORS_EXT)
        return blk_refuse(req, BLK_CAUSE_INVALID, "%u sectors in one command: the 48-bit ATA "
                          "count holds at most %u", req->count, ATA_MAX_SECTORS_EXT);
    while (done < req->count) {
        uint64_t left = req->count - done;
        uint64_t max = left < ATA_MAX_SECTORS_EXT ? left : ATA_MAX_SECTORS_EXT;
        unsigned entries;
        enum blk_cause cause;
        uint64_t bytes = ahci_prdt_build(req->segs, req->nsegs, done * bs, max * bs, bs, scratch,
                                         AHCI_PRDT_ENTRIES, &entries, &cause, why, sizeof(why));
        if (bytes == 0)
            return blk_refuse(req, cause, "%s", why);
        if ((req->flags & BLK_F_NOSPLIT) && bytes / bs != req->count)
            return blk_refuse(req, BLK_CAUSE_INVALID, "BLK_F_NOSPLIT: the segments need more "
                              "than the %u PRD entries of one command", AHCI_PRDT_ENTRIES);
        done += bytes / bs;
    }
    return BLK_OK;
}

/* What the ATA command set and this driver can send at all. */
static enum blk_cause check_command(struct ahci_port *p, struct blk_request *req)
{
    /* LBA bits above 47 would be dropped by the FIS and the DSM range
     * entries: LBA 2^48 is LBA 0 to the device. Unchecked reads reach here. */
    if (req->op != BLK_OP_FLUSH && !ata_lba48_reaches(req->lba, req->count))
        return blk_refuse(req, BLK_CAUSE_LBA_RANGE, "lba %llu+%u lies beyond 2^48 sectors, "
                          "which 48-bit ATA commands cannot address",
                          (unsigned long long)req->lba, req->count);
    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        return plan_rw(p, req);
    case BLK_OP_FLUSH:
    case BLK_OP_TRIM:
        return BLK_OK;
    default:
        return blk_refuse(req, BLK_CAUSE_INVALID, "ATA has no %s command in this driver",
                          blk_op_name(req->op));
    }
}

static enum blk_cause ahci_submit(struct blk_dev *dev, struct blk_request *req)
{
    struct ahci_port *p = dev->priv;
    enum blk_cause rc = check_command(p, req);

    if (rc != BLK_OK)
        return rc;
    if (p->dead)
        return blk_refuse(req, BLK_CAUSE_NOT_READY, "port out of service: %s", p->dead_reason);
    if (p->hba->bus_master_off && !(pci_read16(p->hba->pci, PCI_COMMAND) & PCI_COMMAND_BUS_MASTER))
        return blk_refuse(req, BLK_CAUSE_BUS_MASTER_OFF,
                          "PCI COMMAND.BME is clear: the HBA cannot DMA");
    *ahci_rq(req) = (struct ahci_rq){ 0 };
    uint64_t flags = irq_save();
    blk_fifo_push(&p->waiting, req);
    p->stats.commands++;
    irq_restore(flags);
    return BLK_OK;
}

static void ahci_kick(struct blk_dev *dev, unsigned queue)
{
    struct ahci_port *p = dev->priv;
    (void)queue;
    uint64_t flags = irq_save();
    issue_waiting(p);
    irq_restore(flags);
}

/* ---- completion ---- */

static bool slot_busy(const struct ahci_slot *sl, unsigned s, uint32_t ci, uint32_t sact)
{
    uint32_t bit = 1u << s;
    return sl->ncq ? ((ci | sact) & bit) != 0 : (ci & bit) != 0;
}

static void release_slot(struct ahci_port *p, unsigned s)
{
    struct ahci_slot *sl = &p->slot[s];
    sl->req = NULL;
    p->issued &= ~(1u << s);
    if (!p->issued)
        p->ncq_active = p->nonqueued_active = false;
}

/* A part finished without an error bit: check PRDBC (non-queued commands;
 * AHCI 1.3.1 §4.2.2: the HBA need not update it for NCQ), then either
 * complete the request or queue its next part first in line. */
static void finish_part(struct ahci_port *p, unsigned s)
{
    struct ahci_slot *sl = &p->slot[s];
    struct blk_request *req = sl->req;
    uint32_t prdbc = p->cmd_list[s].prdbc;

    release_slot(p, s);
    if (!sl->ncq && sl->bytes && prdbc != sl->bytes) {
        struct ahci_error_facts f = {
            .pxtfd = rd(p, AHCI_PxTFD), .command = sl->command, .rw = true, .lba = sl->lba,
            .count = sl->count, .nblocks = p->dev.nblocks, .short_transfer = true,
            .prdbc = prdbc, .expected = sl->bytes,
        };
        char why[80];
        enum blk_cause cause = ahci_classify(&f, why, sizeof(why));
        req->bytes += prdbc;
        req->error_lba = sl->lba + prdbc / p->dev.block_size;
        ahci_format_detail(&f, why, req->detail, sizeof(req->detail));
        fail_request(p, req, cause, f.pxtfd, req->detail);
        return;
    }
    req->bytes += sl->ncq ? sl->bytes : prdbc;
    ahci_rq(req)->done_blocks += sl->count;
    if (req->op != BLK_OP_FLUSH && ahci_rq(req)->done_blocks < req->count) {
        blk_fifo_push_front(&p->waiting, req);
        return;
    }
    if (ahci_rq(req)->flags & AHCI_RQ_IRQ_MISSED) {
        snprintf(req->detail, sizeof(req->detail), "%s: the command completed (data ok) but the "
                 "MSI never arrived within %u ms; vector %d fired %llu times", p->dev.name,
                 AHCI_IRQ_GRACE_MS, p->hba->vector,
                 (unsigned long long)(p->hba->vector >= 0 ? irq_count(p->hba->vector) : 0));
        blk_complete(&p->dev, req, BLK_CAUSE_IRQ_NOT_DELIVERED);
        return;
    }
    blk_complete(&p->dev, req, BLK_OK);
}

static void snapshot_error(struct ahci_port *p, unsigned s, uint32_t pxis)
{
    const struct ahci_slot *sl = &p->slot[s];
    p->last_error.pxis = pxis;
    p->last_error.pxtfd = rd(p, AHCI_PxTFD);
    p->last_error.pxserr = rd(p, AHCI_PxSERR);
    p->last_error.pxcmd = rd(p, AHCI_PxCMD);
    p->last_error.pxci = rd(p, AHCI_PxCI);
    p->last_error.pxsact = rd(p, AHCI_PxSACT);
    p->last_error.slot = s;
    p->last_error.prdt_entries = sl->prdt_entries;
    memcpy(p->last_error.prdt, p->table[s].prdt,
           sizeof(p->last_error.prdt[0]) * (sl->prdt_entries < 8 ? sl->prdt_entries : 8));
    p->last_error.valid = true;
}

/* The LBA the device reports in its D2H Register FIS, if inside the part. */
static uint64_t error_lba(struct ahci_port *p, const struct ahci_slot *sl)
{
    struct fis_reg_d2h d2h;
    memcpy(&d2h, p->rfis->rfis, sizeof(d2h));
    uint64_t lba = ahci_d2h_lba(&d2h);
    if (d2h.fis_type == FIS_TYPE_REG_D2H && sl->count && lba >= sl->lba &&
        lba < sl->lba + sl->count)
        return lba;
    return sl->lba;
}

static void fail_all_waiting(struct ahci_port *p, enum blk_cause cause, const char *why)
{
    struct blk_request *req;
    while ((req = blk_fifo_pop(&p->waiting)) != NULL)
        fail_request(p, req, cause, 0, why);
}

static bool port_running(struct ahci_port *p)
{
    return (rd(p, AHCI_PxCMD) & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE)) ==
           (AHCI_PxCMD_ST | AHCI_PxCMD_FRE);
}

/* SATA §13.7.4: READ LOG EXT of the NCQ Command Error log, with the engine
 * restarted after an NCQ error. True when the page names a tag that was in
 * flight; otherwise `why` says what went wrong and the port has been reset
 * (by ahci_exec_sync() when the device refused the read; here when the
 * page is unusable), since the device may still hold its error state. */
static bool read_ncq_error_log(struct ahci_port *p, uint32_t in_flight, struct ata_ncq_error *e,
                               char *why, size_t why_size)
{
    struct fis_reg_h2d fis;
    char sub[160], recovery[120];
    enum ata_ncq_log_status st;

    ata_read_log_ext_fis(&fis, ATA_LOG_NCQ_ERROR, 0, 1);
    if (!ahci_exec_sync(p, &fis, p->identify_buf, 512, false, AHCI_IDENTIFY_TIMEOUT_MS, sub,
                        sizeof(sub))) {
        snprintf(why, why_size, "NCQ error log unavailable, port reset: READ LOG EXT 10h: %s",
                 sub);
        return false;
    }
    st = ata_ncq_log_parse((const uint8_t *)p->identify_buf, e);
    if (st == ATA_NCQ_LOG_OK && !(in_flight & (1u << e->tag)))
        snprintf(sub, sizeof(sub), "it names tag %u, which was not in flight", e->tag);
    else if (st != ATA_NCQ_LOG_OK)
        snprintf(sub, sizeof(sub), "%s", ata_ncq_log_status_name(st));
    else {
        char tfd[64];
        ahci_decode_tfd(e->status | (uint32_t)e->error << AHCI_PxTFD_ERR_SHIFT, tfd, sizeof(tfd));
        snprintf(why, why_size, "NCQ error log: tag %u failed at LBA %llu (%s)", e->tag,
                 (unsigned long long)e->lba, tfd);
        return true;
    }
    ahci_port_recover(p, AHCI_RESET_ALWAYS, recovery, sizeof(recovery));
    snprintf(why, why_size, "NCQ error log unusable (%s), %s", sub, recovery);
    return false;
}

/* The port stopped on an error (pxis has a fatal bit) or a command ran past
 * its deadline (timed_out >= 0). §6.2.2: reap what finished, work out which
 * command failed, recover the port, fail everything that was in flight. */
static void handle_error(struct ahci_port *p, uint32_t pxis, int timed_out)
{
    uint32_t ci = rd(p, AHCI_PxCI), sact = rd(p, AHCI_PxSACT);
    uint32_t pxtfd = rd(p, AHCI_PxTFD), pxserr = rd(p, AHCI_PxSERR);
    uint32_t ccs = (rd(p, AHCI_PxCMD) >> AHCI_PxCMD_CCS_SHIFT) & 0x1f;
    uint32_t failed_mask = 0;
    int culprit = timed_out;
    struct ahci_slot saved[AHCI_MAX_SLOTS];
    char why[96], recovery[120], log_why[200];

    /* Slots that finished before the error completed normally. */
    for (unsigned s = 0; s < p->slots; s++) {
        if (!(p->issued & (1u << s)))
            continue;
        if (!slot_busy(&p->slot[s], s, ci, sact))
            finish_part(p, s);
        else
            failed_mask |= 1u << s;
    }
    if (culprit < 0) {
        if (failed_mask & (1u << ccs) && !p->slot[ccs].ncq)
            culprit = (int)ccs;     /* non-queued: CCS names the command */
        else if (bits_set(failed_mask) == 1)
            culprit = __builtin_ctz(failed_mask);
    }
    if (failed_mask)
        snapshot_error(p, culprit >= 0 ? (unsigned)culprit : (unsigned)__builtin_ctz(failed_mask),
                       pxis);
    memcpy(saved, p->slot, sizeof(saved));
    for (unsigned s = 0; s < p->slots; s++)
        if (failed_mask & (1u << s))
            release_slot(p, s);
    p->issued = 0;
    p->ncq_active = p->nonqueued_active = false;

    /* Clearing ST stops the HBA, not the device: after a timeout or an
     * interface error the device may still own queued commands (and DMA into
     * their buffers later), so only a COMRESET makes it safe to fail them.
     * After an NCQ device error (TFES alone) the device has aborted them all
     * and waits for READ LOG EXT 10h: no reset, or the log is lost. */
    bool ncq = false;
    for (unsigned s = 0; s < p->slots; s++)
        ncq = ncq || ((failed_mask & (1u << s)) && saved[s].ncq);
    bool ncq_device_error = ncq && timed_out < 0 && (pxis & AHCI_PxIS_TFES) &&
                            !(pxis & (AHCI_PxIS_HBFS | AHCI_PxIS_HBDS | AHCI_PxIS_IFS |
                                      AHCI_PxIS_OFS));
    enum ahci_reset_policy policy = ncq_device_error ? AHCI_RESET_IF_STUCK
                                    : timed_out >= 0 || ncq ? AHCI_RESET_ALWAYS
                                    : AHCI_RESET_IF_NEEDED;
    bool recovered = ahci_port_recover(p, policy, recovery, sizeof(recovery));
    struct ata_ncq_error log;
    bool log_ok = false;
    if (recovered && ncq_device_error) {
        log_ok = read_ncq_error_log(p, failed_mask, &log, log_why, sizeof(log_why));
        if (log_ok) {
            culprit = (int)log.tag;
            p->stats.ncq_log_reads++;
        } else {
            p->stats.ncq_log_unusable++;
        }
        recovered = port_running(p);
        if (!recovered)
            snprintf(recovery, sizeof(recovery), "recovery failed after the NCQ error log read");
        klog(LOG_WARN, "%s: NCQ error: %s\n", p->dev.name, log_why);
    }
    klog(LOG_WARN, "%s: %s; %u command(s) in flight failed; %s\n", p->dev.name,
         timed_out >= 0 ? "command timeout" : "port error", bits_set(failed_mask),
         recovery);

    for (unsigned s = 0; s < p->slots; s++) {
        if (!(failed_mask & (1u << s)))
            continue;
        struct ahci_slot *sl = &saved[s];
        struct blk_request *req = sl->req;
        struct ahci_error_facts f = {
            .pxis = pxis, .pxtfd = pxtfd, .pxserr = pxserr, .command = sl->command,
            .rw = sl->bytes != 0, .lba = sl->lba, .count = sl->count, .nblocks = p->dev.nblocks,
        };
        enum blk_cause cause;
        /* An NCQ error aborted this command and the log says it was not its
         * own: send it again, once. Without the log every command is sent
         * again without NCQ, the culprit too: PxTFD after an NCQ error may
         * already show a later command's status (QEMU), while a non-queued
         * command runs alone and its failure is its own. */
        if (ncq_device_error && recovered && (!log_ok || (int)s != culprit) &&
            !(ahci_rq(req)->flags & AHCI_RQ_RETRIED)) {
            ahci_rq(req)->flags |= AHCI_RQ_RETRIED | (log_ok ? 0 : AHCI_RQ_NONQUEUED);
            /* Every tag in flight is named, also those that will succeed. */
            klog(LOG_WARN, "%s: NCQ error: tag %u (cmd %02xh lba %llu count %u) re-sent%s\n",
                 p->dev.name, s, sl->command, (unsigned long long)sl->lba, sl->count,
                 log_ok ? "" : " without NCQ");
            blk_fifo_push_front(&p->waiting, req);
            p->stats.retries++;
            continue;
        }
        if (culprit >= 0 && (int)s != culprit) {
            snprintf(why, sizeof(why), "aborted by the recovery of slot %d (%s)", culprit,
                     timed_out >= 0 ? "timeout" : "error");
            cause = BLK_CAUSE_ABORTED;
        } else if (timed_out >= 0) {
            snprintf(why, sizeof(why), "no completion within %u ms (cmd %02xh, slot %u)",
                     p->dev.timeout_ms, sl->command, s);
            cause = BLK_CAUSE_TIMEOUT;
        } else if (log_ok) {
            /* The log's Status/Error are the failed command's own. */
            f.pxtfd = log.status | (uint32_t)log.error << AHCI_PxTFD_ERR_SHIFT;
            cause = ahci_classify(&f, why, sizeof(why));
            size_t n = strlen(why);
            snprintf(why + n, sizeof(why) - n, " (NCQ error log: tag %u)", log.tag);
            req->error_lba = log.lba >= sl->lba && log.lba < sl->lba + sl->count ? log.lba
                             : sl->lba;
        } else {
            cause = ahci_classify(&f, why, sizeof(why));
            if (culprit < 0) {
                size_t n = strlen(why);
                snprintf(why + n, sizeof(why) - n, " (one of %d NCQ tags)",
                         bits_set(failed_mask));
            }
            req->error_lba = error_lba(p, sl);
        }
        if (cause != BLK_CAUSE_ABORTED && (ahci_rq(req)->flags & AHCI_RQ_NONQUEUED)) {
            size_t n = strlen(why);
            snprintf(why + n, sizeof(why) - n, " (re-sent without NCQ)");
        }
        if (cause != BLK_CAUSE_ABORTED && (ahci_rq(req)->flags & AHCI_RQ_IRQ_MISSED)) {
            size_t n = strlen(why);
            snprintf(why + n, sizeof(why) - n, "; MSI not delivered");
        }
        if (cause == BLK_CAUSE_TIMEOUT || cause == BLK_CAUSE_ABORTED)
            req->error_lba = sl->lba;
        ahci_format_detail(&f, why, req->detail, sizeof(req->detail));
        fail_request(p, req, cause, f.pxtfd, req->detail);
    }
    if (!recovered) {
        p->dead = true;
        snprintf(p->dead_reason, sizeof(p->dead_reason), "%s", recovery);
        fail_all_waiting(p, BLK_CAUSE_NOT_READY, p->dead_reason);
        return;
    }
    issue_waiting(p);
}

/* PxIS.INFS: the HBA recovered an interface error by itself (§6.1.1) and
 * goes on; PxSERR says which. Decoded once, then cleared so the next one
 * shows. */
static void note_nonfatal_error(struct ahci_port *p)
{
    uint32_t serr = rd(p, AHCI_PxSERR);
    char words[200];

    wr(p, AHCI_PxSERR, serr);
    p->stats.nonfatal_errors++;
    ahci_decode_serr(serr, words, sizeof(words));
    klog(LOG_WARN, "%s: recovered interface error (PxIS.INFS): PxSERR 0x%08x (%s)\n",
         p->dev.name, serr, words);
}

/* Reaps finished slots; the caller has read (and cleared) pxis. */
static unsigned process_port(struct ahci_port *p, uint32_t pxis)
{
    unsigned before = (unsigned)bits_set(p->issued), n;
    if (pxis & AHCI_PxIS_FATAL) {
        handle_error(p, pxis, -1);
        return before;
    }
    if (pxis & AHCI_PxIS_INFS)
        note_nonfatal_error(p);
    uint32_t ci = rd(p, AHCI_PxCI), sact = rd(p, AHCI_PxSACT);
    n = 0;
    for (unsigned s = 0; s < p->slots; s++) {
        if ((p->issued & (1u << s)) && !slot_busy(&p->slot[s], s, ci, sact)) {
            finish_part(p, s);
            n++;
        }
    }
    if (n)
        issue_waiting(p);
    return n;
}

static uint32_t read_and_clear_pxis(struct ahci_port *p)
{
    uint32_t is = rd(p, AHCI_PxIS);
    if (is)
        wr(p, AHCI_PxIS, is);
    return is;
}

/* Called from the HBA's MSI handler with interrupts off. */
void ahci_port_interrupt(struct ahci_port *p)
{
    p->stats.irqs++;
    process_port(p, read_and_clear_pxis(p));
}

/* MSI mode: a slot the HBA finished (or an error it flagged) that the
 * handler has not reaped within the grace time means the interrupt is lost. */
static bool irq_missing(struct ahci_port *p, uint64_t now)
{
    uint32_t ci = rd(p, AHCI_PxCI), sact = rd(p, AHCI_PxSACT), is = rd(p, AHCI_PxIS);
    bool late = false;

    for (unsigned s = 0; s < p->slots; s++) {
        struct ahci_slot *sl = &p->slot[s];
        if (!(p->issued & (1u << s)))
            continue;
        if (slot_busy(sl, s, ci, sact) && !(is & AHCI_PxIS_FATAL))
            continue;
        if (!sl->done_seen_ns)
            sl->done_seen_ns = now;
        else if (now - sl->done_seen_ns > (uint64_t)AHCI_IRQ_GRACE_MS * 1000000) {
            ahci_rq(sl->req)->flags |= AHCI_RQ_IRQ_MISSED;
            late = true;
        }
    }
    return late;
}

static unsigned ahci_poll(struct blk_dev *dev, unsigned queue)
{
    struct ahci_port *p = dev->priv;
    unsigned n = 0;
    (void)queue;

    uint64_t flags = irq_save();
    uint64_t now = time_ns();
    if (p->hba->irq_mode == AHCI_IRQ_POLL) {
        n = process_port(p, read_and_clear_pxis(p));
    } else if (p->issued && irq_missing(p, now)) {
        p->stats.irq_missed++;
        n = process_port(p, read_and_clear_pxis(p));
    }
    for (unsigned s = 0; s < p->slots; s++) {
        if ((p->issued & (1u << s)) && now > p->slot[s].deadline_ns) {
            n += (unsigned)bits_set(p->issued);
            handle_error(p, rd(p, AHCI_PxIS), (int)s);
            break;
        }
    }
    irq_restore(flags);
    return n;
}

/* ---- synchronous commands (bring-up) ---- */

bool ahci_exec_sync(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf, uint32_t len,
                    bool write, uint32_t timeout_ms, char *why, size_t why_size)
{
    struct ahci_cmd_table *t = &p->table[0];
    uint64_t flags = irq_save(), deadline = deadline_after_ms(timeout_ms);
    uint32_t is = 0;
    bool ok = false;

    if (p->issued) {
        snprintf(why, why_size, "port busy with %d commands", bits_set(p->issued));
        goto out;
    }
    memcpy(t->cfis, fis, sizeof(*fis));
    if (len) {
        t->prdt[0].dba = (uint32_t)virt_to_phys(buf);
        t->prdt[0].dbau = (uint32_t)(virt_to_phys(buf) >> 32);
        t->prdt[0].reserved = 0;
        t->prdt[0].dbc = (len - 1) & AHCI_PRD_DBC_MASK;
    }
    set_header(p, 0, write, len ? 1 : 0);
    wr(p, AHCI_PxIS, 0xffffffffu);
    wr(p, AHCI_PxCI, 1);
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
    if (!(is & AHCI_PxIS_FATAL) && !(rd(p, AHCI_PxCI) & 1)) {
        if (p->cmd_list[0].prdbc == len) {
            ok = true;
        } else {
            snprintf(why, why_size, "command %02xh moved %u of %u bytes (PxPRDBC)", fis->command,
                     p->cmd_list[0].prdbc, len);
        }
    } else {
        struct ahci_error_facts f = {
            .pxis = is, .pxtfd = rd(p, AHCI_PxTFD), .pxserr = rd(p, AHCI_PxSERR),
            .command = fis->command, .nblocks = ~0ull,
        };
        char rule[80], recovery[120];
        if (is & AHCI_PxIS_FATAL)
            ahci_classify(&f, rule, sizeof(rule));
        else
            snprintf(rule, sizeof(rule), "command %02xh not done within %u ms", fis->command,
                     timeout_ms);
        ahci_format_detail(&f, rule, why, why_size);
        if (!ahci_port_recover(p, AHCI_RESET_ALWAYS, recovery, sizeof(recovery)))
            klog(LOG_WARN, "ahci%up%u: %s\n", p->hba->index, p->number, recovery);
    }
    wr(p, AHCI_PxIS, 0xffffffffu);
out:
    irq_restore(flags);
    return ok;
}

/* ---- describe: the failure record's driver part ---- */

static void describe_registers(const char *name, uint32_t is, uint32_t tfd, uint32_t serr,
                               uint32_t cmd, uint32_t ci, uint32_t sact, const char *when)
{
    char a[96], b[64], c[200], d[96];
    ahci_decode_pxis(is, a, sizeof(a));
    ahci_decode_tfd(tfd, b, sizeof(b));
    ahci_decode_serr(serr, c, sizeof(c));
    ahci_decode_pxcmd(cmd, d, sizeof(d));
    klog(LOG_ERR, "  %s registers %s: PxIS 0x%08x (%s) PxTFD 0x%04x (%s)\n", name, when, is, a, tfd, b);
    klog(LOG_ERR, "  %s registers %s: PxSERR 0x%08x (%s) PxCMD 0x%08x (%s) PxCI 0x%08x "
         "PxSACT 0x%08x\n", name, when, serr, c, cmd, d, ci, sact);
}

static void ahci_describe(struct blk_dev *dev, const struct blk_request *req)
{
    struct ahci_port *p = dev->priv;
    (void)req;

    if (p->last_error.valid) {
        unsigned n = p->last_error.prdt_entries;
        klog(LOG_ERR, "  %s slot %u: PRDT as sent, %u entries%s\n", dev->name, p->last_error.slot,
             n, n > 8 ? " (first 8)" : "");
        for (unsigned i = 0; i < n && i < 8; i++) {
            const struct ahci_prd *e = &p->last_error.prdt[i];
            klog(LOG_ERR, "    PRD %u: DBA 0x%llx DBC %u (%u bytes) I %u\n", i,
                 (unsigned long long)e->dba | (unsigned long long)e->dbau << 32,
                 e->dbc & AHCI_PRD_DBC_MASK, (e->dbc & AHCI_PRD_DBC_MASK) + 1,
                 e->dbc & AHCI_PRD_I ? 1 : 0);
        }
        describe_registers(dev->name, p->last_error.pxis, p->last_error.pxtfd,
                           p->last_error.pxserr, p->last_error.pxcmd, p->last_error.pxci,
                           p->last_error.pxsact, "at the failure");
    }
    describe_registers(dev->name, rd(p, AHCI_PxIS), rd(p, AHCI_PxTFD), rd(p, AHCI_PxSERR),
                       rd(p, AHCI_PxCMD), rd(p, AHCI_PxCI), rd(p, AHCI_PxSACT), "now");
    klog(LOG_ERR, "  %s: irq %s, %u recoveries, %u COMRESETs, %u missed interrupts\n",
         dev->name, p->hba->irq_mode == AHCI_IRQ_MSI ? "msi" : "poll", p->stats.recoveries,
         p->stats.comresets, p->stats.irq_missed);
}

/* ---- shutdown: the end of a run on real hardware ---- */

/* Waits (bounded by the command deadline) for what is in flight, fails what
 * is left, then FLUSH CACHE EXT on a disk with its write cache on that
 * bareio may have written (ATA8-ACS §7.14: the cached data reaches the
 * medium before power goes), and stops the port: ST then CR, FRE then FR
 * (§10.1.2), interrupts off. The port refuses requests afterwards. */
static void ahci_shutdown(struct blk_dev *dev)
{
    struct ahci_port *p = dev->priv;
    char why[200] = "", flushed[80] = "no write cache to flush";
    uint64_t start = time_ns();
    uint64_t deadline = deadline_after_ms((uint64_t)dev->timeout_ms + AHCI_ENGINE_TIMEOUT_MS);

    if (p->dead && strcmp(p->dead_reason, "shut down") == 0)
        return;
    ahci_kick(dev, 0);
    while ((p->issued || !blk_fifo_empty(&p->waiting)) && !p->dead && !deadline_passed(deadline)) {
        ahci_poll(dev, 0);
        delay_us(100);
    }
    uint64_t flags = irq_save();
    if (p->issued || !blk_fifo_empty(&p->waiting)) {
        klog(LOG_WARN, "%s: shutdown: %u command(s) still in flight after %u ms: failed\n",
             dev->name, bits_set(p->issued), dev->timeout_ms);
        if (p->issued)
            handle_error(p, rd(p, AHCI_PxIS), __builtin_ctz(p->issued));
        fail_all_waiting(p, BLK_CAUSE_ABORTED, "failed at shutdown");
    }
    if (!p->dead && p->id.write_cache_enabled && p->id.flush_ext && dev->writable) {
        struct fis_reg_h2d fis;
        init_fis(&fis, ATA_CMD_FLUSH_CACHE_EXT);
        uint64_t t0 = time_ns();
        if (ahci_exec_sync(p, &fis, NULL, 0, false, AHCI_FLUSH_TIMEOUT_MS, why, sizeof(why)))
            snprintf(flushed, sizeof(flushed), "write cache flushed in %llu us",
                     (unsigned long long)((time_ns() - t0) / 1000));
        else
            snprintf(flushed, sizeof(flushed), "FLUSH CACHE EXT failed");
    } else if (p->id.write_cache_enabled) {
        snprintf(flushed, sizeof(flushed), "%s", p->dead ? "port out of service: no flush"
                 : "read-only here: nothing of bareio's to flush");
    }
    wr(p, AHCI_PxIE, 0);
    char stop_why[120] = "";
    bool stopped = ahci_port_stop_engine(p, stop_why, sizeof(stop_why));
    if (stopped) {
        wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) & ~AHCI_PxCMD_FRE);
        if (!(stopped = ahci_port_wait_fis_stopped(p)))
            snprintf(stop_why, sizeof(stop_why), "PxCMD.FR still set %u ms after clearing FRE "
                     "(PxCMD 0x%x)", AHCI_ENGINE_TIMEOUT_MS, rd(p, AHCI_PxCMD));
    }
    wr(p, AHCI_PxSERR, 0xffffffffu);
    wr(p, AHCI_PxIS, 0xffffffffu);
    p->dead = true;
    snprintf(p->dead_reason, sizeof(p->dead_reason), "shut down");
    irq_restore(flags);
    klog(stopped && !why[0] ? LOG_INFO : LOG_WARN, "%s: shutdown: %s%s%s; %s in %llu us\n",
         dev->name, flushed, why[0] ? ": " : "", why,
         stopped ? "engines stopped (ST/CR, FRE/FR clear)" : stop_why,
         (unsigned long long)((time_ns() - start) / 1000));
}

const struct blk_ops ahci_blk_ops = {
    .submit = ahci_submit,
    .kick = ahci_kick,
    .poll = ahci_poll,
    .describe = ahci_describe,
    .shutdown = ahci_shutdown,
};
