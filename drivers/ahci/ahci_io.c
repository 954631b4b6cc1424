/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_io.c — the AHCI driver's block operations: requests into
 * command slots (built by ahci_cmd.c: READ/WRITE DMA EXT, WRITE DMA FUA EXT,
 * READ/WRITE FPDMA QUEUED, FLUSH CACHE EXT, DATA SET MANAGEMENT TRIM), split
 * at 65536 sectors or a full PRDT, issue (PxSACT, then PxCI once per kick),
 * completion by MSI or polling, PxPRDBC checks, per-command deadlines, and
 * the error path: snapshot, decide (ahci_recovery.c), recover the port
 * (ahci_port.c), re-send or fail every command that was in flight.
 *
 * Requests wait in a FIFO until a slot is free; a request occupies one slot
 * at a time and its parts run one after another. NCQ and non-queued commands
 * are never outstanding together (SATA forbids it), and a non-queued command
 * runs alone.
 *
 * Locking (issue 16: a port is driven from any CPU, and the HBA's one MSI
 * reaches one CPU for all its ports). Each port's lock (struct
 * ahci_port.lock) guards its I/O state: the slots, issued/to_issue, the FIFO
 * of waiting requests, `dead`, its counters, and its PxIS/PxCI/PxSACT/PxIE
 * accesses. submit, kick, poll, the interrupt and the test view take it; the
 * functions below them run with it held, klog lines of port events included
 * (lock order: a port's lock, then the console's); completions (blk_complete)
 * are called with it held, and their callbacks must not submit (blk.h).
 * Error recovery — stopping the engines, COMRESET, READ LOG EXT: device waits
 * of up to seconds — runs with the lock dropped, by the CPU that found the
 * error: it takes the failed slots out first, sets `recovering` and masks the
 * port's interrupts (PxIE 0); while `recovering` is set no other CPU issues,
 * reaps or reads PxIS on the port (submitted requests wait in the FIFO), and
 * the lock is taken again to settle what was in flight. Ports of one HBA
 * share only the HBA's IS register, each port's bit write-1-to-clear.
 *
 * The MSI handler runs on the one CPU the HBA's message names, whichever CPU
 * drives the port: it reaps completions, and leaves an error or an interface
 * event (PxIS fatal bits, INFS) to the next poll(), which the driving CPU
 * calls while it waits (blk_wait, the bench engine): recovery then runs there,
 * out of interrupt context, and its report lands in that CPU's output (the
 * parallel harness keeps each device's output whole).
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
#include "lib/bits.h"
#include "lib/format.h"
#include "lib/string.h"

static uint32_t rd(struct ahci_port *p, unsigned reg) { return mmio_read32(p->regs, reg); }
static void wr(struct ahci_port *p, unsigned reg, uint32_t v) { mmio_write32(p->regs, reg, v); }


/* A request's progress through the port (its blk_request pdu). */
struct ahci_rq {
    uint64_t done_blocks;   /* sectors finished so far */
    uint32_t flags;         /* AHCI_RQ_* */
};
#define AHCI_RQ_IRQ_MISSED  1u
#define AHCI_RQ_NONQUEUED   2u      /* re-sent without NCQ to isolate an NCQ error */
#define AHCI_RQ_RETRIED     4u      /* already re-sent once: its next failure is final */
BLK_PDU_ACCESSOR(ahci_rq, struct ahci_rq)

static bool uses_ncq(const struct ahci_port *p, const struct blk_request *req)
{
    return (p->dev.caps & BLK_CAP_NCQ) && !p->test_nonqueued &&
           !(ahci_rq(req)->flags & AHCI_RQ_NONQUEUED) &&
           (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE);
}

static void fail_request(struct ahci_port *p, struct blk_request *req, enum blk_cause cause,
                         uint32_t status, const char *detail)
{
    req->dev_status = status;
    if (detail != req->detail)
        strlcpy(req->detail, detail, sizeof(req->detail));
    blk_complete(&p->dev, req, cause);
}

static void fail_all_waiting(struct ahci_port *p, enum blk_cause cause, const char *why)
{
    struct blk_request *req;
    while ((req = blk_fifo_pop(&p->waiting)) != NULL)
        fail_request(p, req, cause, 0, why);
}

/* ---- issue: waiting requests into free slots ---- */

static int free_slot(const struct ahci_port *p)
{
    uint32_t busy = p->issued | p->to_issue;
    for (unsigned s = 0; s < p->dev.queue_depth && s < p->slots; s++)
        if (!(busy & (1u << s)))
            return (int)s;
    return -1;
}

/* NCQ commands go together; a non-queued command goes only to an idle port. */
static bool may_issue(const struct ahci_port *p, bool ncq)
{
    return ncq ? !p->nonqueued_active : (p->issued | p->to_issue) == 0;
}

/* The request's next part into slot s (ahci_cmd.c). */
static bool build_part(struct ahci_port *p, unsigned s, const struct blk_request *req, bool ncq,
                       char *why, size_t why_size)
{
    uint64_t done = ahci_rq(req)->done_blocks;

    if (req->op == BLK_OP_FLUSH) {
        ahci_cmd_build_flush(p, s);
        return true;
    }
    if (req->op == BLK_OP_TRIM) {
        ahci_cmd_build_trim(p, s, req, done);
        return true;
    }
    return ahci_cmd_build_rw(p, s, req, done, ncq, why, why_size);
}

/* The built slot belongs to req until it completes, by its deadline. */
static void occupy_slot(struct ahci_port *p, unsigned s, struct blk_request *req, bool ncq)
{
    struct ahci_slot *sl = &p->slot[s];
    sl->req = req;
    sl->offset = ahci_rq(req)->done_blocks * p->dev.block_size;
    sl->deadline_ns = time_ns() + (uint64_t)p->dev.timeout_ms * 1000000;
    sl->done_seen_ns = 0;
    p->to_issue |= 1u << s;
    p->stats.parts++;
    if (ncq) {
        p->ncq_active = true;
        p->stats.ncq_commands++;
    } else {
        p->nonqueued_active = true;
    }
}

/* Tells the HBA: PxSACT bits before PxCI bits for NCQ (AHCI 1.3.1
 * §5.6.4.1), one write each. */
static void write_issue(struct ahci_port *p, uint32_t sact)
{
    if (!p->to_issue)
        return;
    if (sact)
        wr(p, AHCI_PxSACT, sact);
    wr(p, AHCI_PxCI, p->to_issue);
    p->issued |= p->to_issue;
    p->to_issue = 0;
    unsigned n = (unsigned)bits_set32(p->issued);
    if (n > p->stats.max_in_flight)
        p->stats.max_in_flight = n;
}

/* Moves waiting requests into free slots, then issues them. */
static void issue_waiting(struct ahci_port *p)
{
    uint32_t sact = 0;
    char why[120];
    struct blk_request *req;

    if (p->recovering)
        return;     /* the recovering CPU issues what waits when it is done */
    while ((req = blk_fifo_peek(&p->waiting)) != NULL) {
        bool ncq = uses_ncq(p, req);
        int s = may_issue(p, ncq) ? free_slot(p) : -1;
        if (s < 0)
            break;
        blk_fifo_pop(&p->waiting);
        if (!build_part(p, (unsigned)s, req, ncq, why, sizeof(why))) {
            /* submit checked the plan: only a changed buffer gets here */
            fail_request(p, req, BLK_CAUSE_INVALID, 0, why);
            continue;
        }
        occupy_slot(p, (unsigned)s, req, ncq);
        if (!ncq)
            break;      /* a non-queued command runs alone */
        sact |= 1u << s;
    }
    write_issue(p, sact);
}

/* ---- submit: refuse what cannot be sent, queue the rest ---- */

/* Walks the parts the request will be split into, so a segment list that
 * cannot be described is refused now, before anything reaches the device. */
static enum blk_cause plan_rw(struct ahci_port *p, struct blk_request *req)
{
    struct ahci_prd *scratch = p->plan_scratch;
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
    if (p->hba->bus_master_off && !(pci_read16(p->hba->pci, PCI_COMMAND) & PCI_COMMAND_BUS_MASTER))
        return blk_refuse(req, BLK_CAUSE_BUS_MASTER_OFF,
                          "PCI COMMAND.BME is clear: the HBA cannot DMA");
    *ahci_rq(req) = (struct ahci_rq){ 0 };
    uint64_t flags = spin_lock(&p->lock);
    if (p->dead) {
        rc = blk_refuse(req, BLK_CAUSE_NOT_READY, "port out of service: %s", p->dead_reason);
    } else {
        blk_fifo_push(&p->waiting, req);
        p->stats.commands++;
    }
    spin_unlock(&p->lock, flags);
    return rc;
}

static void ahci_kick(struct blk_dev *dev, unsigned queue)
{
    struct ahci_port *p = dev->priv;
    (void)queue;
    uint64_t flags = spin_lock(&p->lock);
    issue_waiting(p);
    spin_unlock(&p->lock, flags);
}

/* ---- completion ---- */

static void release_slot(struct ahci_port *p, unsigned s)
{
    struct ahci_slot *sl = &p->slot[s];
    sl->req = NULL;
    p->issued &= ~(1u << s);
    if (!p->issued)
        p->ncq_active = p->nonqueued_active = false;
}

/* A non-queued part that moved fewer bytes than it described: the request
 * fails as a short transfer at the first sector missing. */
static void fail_short_transfer(struct ahci_port *p, const struct ahci_slot *sl,
                                struct blk_request *req, uint32_t prdbc)
{
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
}

/* Every part done: OK, unless MSI mode saw the completion without its
 * interrupt (the data is good, the interrupt path is not). */
static void complete_request(struct ahci_port *p, struct blk_request *req)
{
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
        fail_short_transfer(p, sl, req, prdbc);
        return;
    }
    req->bytes += sl->ncq ? sl->bytes : prdbc;
    ahci_rq(req)->done_blocks += sl->count;
    if (req->op != BLK_OP_FLUSH && ahci_rq(req)->done_blocks < req->count) {
        blk_fifo_push_front(&p->waiting, req);
        return;
    }
    complete_request(p, req);
}

/* ---- the error path (AHCI 1.3.1 §6.2.2) ---- */

/* The registers and every issued slot, as the error left them. */
static void take_snapshot(struct ahci_port *p, uint32_t pxis, int timed_out,
                          struct ahci_error_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->pxis = pxis;
    s->pxci = rd(p, AHCI_PxCI);
    s->pxsact = rd(p, AHCI_PxSACT);
    s->pxtfd = rd(p, AHCI_PxTFD);
    s->pxserr = rd(p, AHCI_PxSERR);
    s->ccs = (rd(p, AHCI_PxCMD) >> AHCI_PxCMD_CCS_SHIFT) & 0x1f;
    s->timed_out = timed_out;
    s->issued = p->issued;
    s->nblocks = p->dev.nblocks;
    s->timeout_ms = p->dev.timeout_ms;
    for (unsigned i = 0; i < p->slots; i++) {
        const struct ahci_slot *sl = &p->slot[i];
        if (!(p->issued & (1u << i)))
            continue;
        uint32_t flags = ahci_rq(sl->req)->flags;
        s->slot[i] = (struct ahci_recovery_slot){
            .command = sl->command, .ncq = sl->ncq, .data = sl->bytes != 0, .lba = sl->lba,
            .count = sl->count, .retried = (flags & AHCI_RQ_RETRIED) != 0,
            .nonqueued = (flags & AHCI_RQ_NONQUEUED) != 0,
            .irq_missed = (flags & AHCI_RQ_IRQ_MISSED) != 0,
        };
    }
}

/* For describe(): the registers and the failed slot's PRDT as sent. */
static void record_last_error(struct ahci_port *p, unsigned s, uint32_t pxis)
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

/* Slots that finished before the error complete normally. */
static void reap_finished(struct ahci_port *p, uint32_t finished)
{
    for (unsigned s = 0; s < p->slots; s++)
        if (finished & (1u << s))
            finish_part(p, s);
}

/* The slots still in flight leave the HBA; their requests go to req[]. */
static void take_failed_slots(struct ahci_port *p, uint32_t failed, struct blk_request **req)
{
    for (unsigned s = 0; s < p->slots; s++) {
        if (!(failed & (1u << s)))
            continue;
        req[s] = p->slot[s].req;
        release_slot(p, s);
    }
    p->issued = 0;
    p->ncq_active = p->nonqueued_active = false;
}

static bool port_running(struct ahci_port *p)
{
    return (rd(p, AHCI_PxCMD) & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE)) ==
           (AHCI_PxCMD_ST | AHCI_PxCMD_FRE);
}

/* SATA §13.7.4: READ LOG EXT of the NCQ Command Error log, with the engine
 * restarted after an NCQ error. True when the page names a tag that was in
 * flight; otherwise `why` says what went wrong and the port has been reset
 * (by ahci_port_exec_sync() when the device refused the read; here when the
 * page is unusable), since the device may still hold its error state. */
static bool read_ncq_error_log(struct ahci_port *p, uint32_t in_flight, struct ata_ncq_error *e,
                               char *why, size_t why_size)
{
    struct fis_reg_h2d fis;
    char sub[160], recovery[120];
    enum ata_ncq_log_status st;

    ata_read_log_ext_fis(&fis, ATA_LOG_NCQ_ERROR, 0, 1);
    if (!ahci_port_exec_sync(p, &fis, p->identify_buf, 512, false, AHCI_IDENTIFY_TIMEOUT_MS, sub,
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

/* The port restarted as the plan says and, after an NCQ device error, the
 * error log read: r->recovered, and r->log pointing at `log` when it names a
 * tag in flight. `recovery` says how it went. */
static void recover_port(struct ahci_port *p, const struct ahci_recovery_plan *plan,
                         struct ata_ncq_error *log, struct ahci_recovery_result *r,
                         char *recovery, size_t recovery_size)
{
    char log_why[200];

    r->log = NULL;
    r->recovered = ahci_port_recover(p, plan->reset, recovery, recovery_size);
    if (!r->recovered || !plan->ncq_device_error)
        return;
    if (read_ncq_error_log(p, plan->failed, log, log_why, sizeof(log_why))) {
        r->log = log;
        p->stats.ncq_log_reads++;
    } else {
        p->stats.ncq_log_unusable++;
    }
    r->recovered = port_running(p);
    if (!r->recovered)
        snprintf(recovery, recovery_size, "recovery failed after the NCQ error log read");
    klog(LOG_WARN, "%s: NCQ error: %s\n", p->dev.name, log_why);
}

/* Aborted by another tag's NCQ error: first in line again, once. Every tag
 * in flight is named, also those that will succeed. */
static void resend(struct ahci_port *p, struct blk_request *req, unsigned s,
                   const struct ahci_recovery_slot *sl, bool nonqueued)
{
    ahci_rq(req)->flags |= AHCI_RQ_RETRIED | (nonqueued ? AHCI_RQ_NONQUEUED : 0);
    klog(LOG_WARN, "%s: NCQ error: tag %u (cmd %02xh lba %llu count %u) re-sent%s\n",
         p->dev.name, s, sl->command, (unsigned long long)sl->lba, sl->count,
         nonqueued ? " without NCQ" : "");
    blk_fifo_push_front(&p->waiting, req);
    p->stats.retries++;
}

/* Each slot that was in flight: re-sent or failed, as ahci_recovery_decide() says. */
static void settle_failed(struct ahci_port *p, const struct ahci_error_snapshot *snap,
                          const struct ahci_recovery_plan *plan, struct ahci_recovery_result *r,
                          struct blk_request **req)
{
    struct ahci_slot_verdict v;

    memcpy(&r->d2h, p->rfis->rfis, sizeof(r->d2h));
    for (unsigned s = 0; s < p->slots; s++) {
        if (!(plan->failed & (1u << s)))
            continue;
        ahci_recovery_decide(snap, plan, r, s, &v);
        if (v.action != AHCI_SLOT_FAIL) {
            resend(p, req[s], s, &snap->slot[s], v.action == AHCI_SLOT_RESEND_NONQUEUED);
            continue;
        }
        req[s]->error_lba = v.error_lba;
        fail_request(p, req[s], v.cause, v.status, v.detail);
    }
}

/* Recovery failed: the port is out of service and refuses what comes. */
static void take_out_of_service(struct ahci_port *p, const char *reason)
{
    p->dead = true;
    snprintf(p->dead_reason, sizeof(p->dead_reason), "%s", reason);
    fail_all_waiting(p, BLK_CAUSE_NOT_READY, p->dead_reason);
}

/* The port stopped on an error (pxis has a fatal bit) or a command ran past
 * its deadline (timed_out >= 0). §6.2.2: reap what finished, work out which
 * command failed, recover the port, re-send or fail everything that was in
 * flight. Called with the port's lock held (*flags from its spin_lock),
 * which the recovery itself runs without (see the top of this file). */
static void handle_error(struct ahci_port *p, uint32_t pxis, int timed_out, uint64_t *flags)
{
    struct ahci_error_snapshot snap;
    struct ahci_recovery_plan plan;
    struct ahci_recovery_result result;
    struct ata_ncq_error log;
    struct blk_request *req[AHCI_MAX_SLOTS];
    char recovery[120];

    take_snapshot(p, pxis, timed_out, &snap);
    ahci_recovery_plan(&snap, &plan);
    reap_finished(p, plan.finished);
    if (plan.failed)
        record_last_error(p, plan.culprit >= 0 ? (unsigned)plan.culprit
                                               : (unsigned)__builtin_ctz(plan.failed), pxis);
    take_failed_slots(p, plan.failed, req);
    p->recovering = true;
    uint32_t ie = rd(p, AHCI_PxIE);
    wr(p, AHCI_PxIE, 0);
    spin_unlock(&p->lock, *flags);
    recover_port(p, &plan, &log, &result, recovery, sizeof(recovery));
    *flags = spin_lock(&p->lock);
    wr(p, AHCI_PxIE, ie);
    p->recovering = false;
    klog(LOG_WARN, "%s: %s; %u command(s) in flight failed; %s\n", p->dev.name,
         timed_out >= 0 ? "command timeout" : "port error", bits_set32(plan.failed), recovery);
    settle_failed(p, &snap, &plan, &result, req);
    if (!result.recovered) {
        take_out_of_service(p, recovery);
        return;
    }
    issue_waiting(p);
}

/* ---- noticing completions ---- */

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

/* Reaps finished slots; the caller holds the lock (*flags) and has read
 * (and cleared) pxis. */
static unsigned process_port(struct ahci_port *p, uint32_t pxis, uint64_t *flags)
{
    unsigned before = (unsigned)bits_set32(p->issued), n;
    if (pxis & AHCI_PxIS_FATAL) {
        handle_error(p, pxis, -1, flags);
        return before;
    }
    if (pxis & AHCI_PxIS_INFS)
        note_nonfatal_error(p);
    uint32_t ci = rd(p, AHCI_PxCI), sact = rd(p, AHCI_PxSACT);
    n = 0;
    for (unsigned s = 0; s < p->slots; s++) {
        if ((p->issued & (1u << s)) && !ahci_slot_busy(p->slot[s].ncq, s, ci, sact)) {
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

void ahci_io_interrupt(struct ahci_port *p)
{
    uint64_t flags = spin_lock(&p->lock);
    if (!p->recovering) {
        p->stats.irqs++;
        uint32_t is = read_and_clear_pxis(p);
        if (is & (AHCI_PxIS_FATAL | AHCI_PxIS_INFS))
            p->deferred_is |= is;
        else
            process_port(p, is, &flags);
    }
    spin_unlock(&p->lock, flags);
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
        if (ahci_slot_busy(sl->ncq, s, ci, sact) && !(is & AHCI_PxIS_FATAL))
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

    uint64_t flags = spin_lock(&p->lock);
    if (p->recovering) {
        spin_unlock(&p->lock, flags);
        return 0;   /* another CPU settles what is in flight */
    }
    uint64_t now = time_ns();
    bool interrupts_were_on = (flags & RFLAGS_IF) != 0;
    uint32_t deferred = p->deferred_is;
    p->deferred_is = 0;
    if (deferred) {
        /* What the interrupt handler left: an error to recover from here. */
        n = process_port(p, deferred | read_and_clear_pxis(p), &flags);
    } else if (p->hba->irq_mode == AHCI_IRQ_POLL || !interrupts_were_on) {
        /* Polled mode, or a caller that holds interrupts off (a polled
         * benchmark): its completions are reaped here, whichever CPU the
         * MSI would reach; a missing interrupt is no fault of the HBA. */
        n = process_port(p, read_and_clear_pxis(p), &flags);
    } else if (p->issued && irq_missing(p, now)) {
        p->stats.irq_missed++;
        n = process_port(p, read_and_clear_pxis(p), &flags);
    }
    for (unsigned s = 0; s < p->slots && !p->recovering; s++) {
        if ((p->issued & (1u << s)) && now > p->slot[s].deadline_ns) {
            n += (unsigned)bits_set32(p->issued);
            handle_error(p, rd(p, AHCI_PxIS), (int)s, &flags);
            break;
        }
    }
    spin_unlock(&p->lock, flags);
    return n;
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

    /* A copy: printing runs without the lock, and another CPU's recovery
     * may record a new failure meanwhile. */
    uint64_t flags = spin_lock(&p->lock);
    struct ahci_last_error le = p->last_error;
    spin_unlock(&p->lock, flags);
    if (le.valid) {
        unsigned n = le.prdt_entries;
        klog(LOG_ERR, "  %s slot %u: PRDT as sent, %u entries%s\n", dev->name, le.slot,
             n, n > 8 ? " (first 8)" : "");
        for (unsigned i = 0; i < n && i < 8; i++) {
            const struct ahci_prd *e = &le.prdt[i];
            klog(LOG_ERR, "    PRD %u: DBA 0x%llx DBC %u (%u bytes) I %u\n", i,
                 (unsigned long long)e->dba | (unsigned long long)e->dbau << 32,
                 e->dbc & AHCI_PRD_DBC_MASK, (e->dbc & AHCI_PRD_DBC_MASK) + 1,
                 e->dbc & AHCI_PRD_I ? 1 : 0);
        }
        describe_registers(dev->name, le.pxis, le.pxtfd, le.pxserr, le.pxcmd, le.pxci,
                           le.pxsact, "at the failure");
    }
    describe_registers(dev->name, rd(p, AHCI_PxIS), rd(p, AHCI_PxTFD), rd(p, AHCI_PxSERR),
                       rd(p, AHCI_PxCMD), rd(p, AHCI_PxCI), rd(p, AHCI_PxSACT), "now");
    klog(LOG_ERR, "  %s: irq %s, %u recoveries, %u COMRESETs, %u missed interrupts\n",
         dev->name, p->hba->irq_mode == AHCI_IRQ_MSI ? "msi" : "poll", p->stats.recoveries,
         p->stats.comresets, p->stats.irq_missed);
}

/* ---- shutdown: the end of a run on real hardware ---- */

static bool port_idle(const struct ahci_port *p)
{
    return !p->issued && blk_fifo_empty(&p->waiting);
}

/* What is in flight gets until its command deadline (and an engine stop) to finish. */
static void drain(struct blk_dev *dev, struct ahci_port *p)
{
    uint64_t deadline = deadline_after_ms((uint64_t)dev->timeout_ms + AHCI_ENGINE_TIMEOUT_MS);

    ahci_kick(dev, 0);
    while (!port_idle(p) && !p->dead && !deadline_passed(deadline)) {
        ahci_poll(dev, 0);
        delay_us(100);
    }
}

static void fail_leftovers(struct blk_dev *dev, struct ahci_port *p)
{
    uint64_t flags = spin_lock(&p->lock);
    if (!port_idle(p)) {
        klog(LOG_WARN, "%s: shutdown: %u command(s) still in flight after %u ms: failed\n",
             dev->name, bits_set32(p->issued), dev->timeout_ms);
        if (p->issued && !p->recovering)
            handle_error(p, rd(p, AHCI_PxIS), __builtin_ctz(p->issued), &flags);
        fail_all_waiting(p, BLK_CAUSE_ABORTED, "failed at shutdown");
    }
    spin_unlock(&p->lock, flags);
}

/* ATA8-ACS §7.14: FLUSH CACHE EXT on a disk with its write cache on that
 * bareio may have written; `flushed` says what was done, `why` why it failed. */
static void flush_write_cache(struct blk_dev *dev, struct ahci_port *p, char *flushed,
                              size_t flushed_size, char *why, size_t why_size)
{
    if (!p->dead && p->id.write_cache_enabled && p->id.flush_ext && dev->writable) {
        struct fis_reg_h2d fis;
        ahci_fis_init(&fis, ATA_CMD_FLUSH_CACHE_EXT);
        uint64_t t0 = time_ns();
        if (ahci_port_exec_sync(p, &fis, NULL, 0, false, AHCI_FLUSH_TIMEOUT_MS, why, why_size))
            snprintf(flushed, flushed_size, "write cache flushed in %llu us",
                     (unsigned long long)((time_ns() - t0) / 1000));
        else
            snprintf(flushed, flushed_size, "FLUSH CACHE EXT failed");
    } else if (p->id.write_cache_enabled) {
        snprintf(flushed, flushed_size, "%s", p->dead ? "port out of service: no flush"
                 : "read-only here: nothing of bareio's to flush");
    }
}

/* Waits (bounded by the command deadline) for what is in flight, fails what
 * is left, then FLUSH CACHE EXT on a disk with its write cache on that
 * bareio may have written (ATA8-ACS §7.14: the cached data reaches the
 * medium before power goes), and stops the port: ST then CR, FRE then FR
 * (§10.1.2), interrupts off. The port refuses requests afterwards. */
static void ahci_shutdown(struct blk_dev *dev)
{
    struct ahci_port *p = dev->priv;
    char why[200] = "", flushed[80] = "no write cache to flush", stop_why[120] = "";
    uint64_t start = time_ns();

    if (p->dead && strcmp(p->dead_reason, "shut down") == 0)
        return;
    drain(dev, p);
    fail_leftovers(dev, p);
    /* The end of the run: no other CPU drives the port now. */
    uint64_t flags = irq_save();
    flush_write_cache(dev, p, flushed, sizeof(flushed), why, sizeof(why));
    wr(p, AHCI_PxIE, 0);
    bool stopped = ahci_port_stop(p, stop_why, sizeof(stop_why));
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

/* ---- registration ---- */

bool ahci_io_register(struct ahci_port *p)
{
    p->dev.ops = &ahci_blk_ops;
    p->dev.priv = p;
    return blk_register(&p->dev);
}

struct ahci_port *ahci_port_of(struct blk_dev *dev)
{
    return dev && dev->ops == &ahci_blk_ops ? dev->priv : NULL;
}
