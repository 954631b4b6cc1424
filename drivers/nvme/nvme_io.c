/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_io.c — the NVMe I/O path behind the blk_ops (NVMe 1.4
 * §4 queues, §7.2 command processing; NVM Command Set for Read, Write, Flush,
 * Write Zeroes and Dataset Management).
 *
 * - Each I/O queue pair has `depth` command slots, CID = slot index, with
 *   their PRP list pages allocated once when the queue is created.
 * - submit() splits a request into commands of at most max_transfer blocks
 *   (BLK_F_NOSPLIT: one command) and writes their SQEs; kick() writes the SQ
 *   tail doorbell once for all of them. Parts that find no free slot wait in
 *   the queue's FIFO of pending requests (struct blk_fifo) and are issued as
 *   slots free up.
 * - Completions are found by phase tag; the SQ head comes from each CQE; the
 *   CQ head doorbell is written once per batch (the queue memory, doorbells
 *   and CQ primitives are nvme_queue.c's).
 * - Polled, MSI-X or INTx (without an IOAPIC: the PCI Interrupt Status bit is
 *   polled, masked/unmasked through INTMS/INTMC). In interrupt modes poll()
 *   still reaps a completion whose interrupt never came, reporting
 *   BLK_CAUSE_IRQ_NOT_DELIVERED, and the queue falls back to polling.
 * - A status with DNR clear is retried (NVME_MAX_RETRIES). A command past its
 *   deadline is aborted; if the abort does not finish it the controller is
 *   reset (through ctrl->ops, which nvme_ctrl.c above registers), the late
 *   command fails with BLK_CAUSE_TIMEOUT and the other commands in flight are
 *   posted again (nvme_io_repost: they complete normally).
 * - A queue pair per CPU (nvme_ctrl.c makes one per online CPU by default):
 *   a CPU submits, kicks and polls on blk_queue_of_cpu(), and the queue's
 *   MSI-X vector is routed to that CPU (route_to_cpu), so its completions
 *   are reaped where they were asked for.
 *
 * Locking. Each queue's lock (struct nvme_queue.lock) guards everything in
 * it: the SQ/CQ indexes and doorbells, the command slots, the FIFO of
 * waiting requests, its counters. submit, kick, poll, the MSI-X handler,
 * repost and fail-all take it; the functions below the blk_ops run with it
 * held. It is held across klog lines of queue events (lock order: a queue's
 * lock, then the console's), never across a device wait: Abort and reset
 * run with no queue lock held, by the CPU that holds the controller's
 * recovery token (nvme_recovery_claim), and while in_recovery is set no
 * other CPU posts, reaps or rings on any of the controller's queues. A CPU
 * that finds a late command while another holds the token leaves it: that
 * reset settles it. */
#include "drivers/nvme/nvme.h"
#include "drivers/pci/pci.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define NVME_IRQ_GRACE_MS       200     /* a CQE this old without an interrupt: not delivered */
#define NVME_DEADLINE_CHECK_NS  1000000ull
/* How often a poll reads CSTS for CFS. Not every poll: under emulation an
 * MMIO read takes the device model's lock, and a tight polling loop doing
 * one each time starves the emulator that is to complete the I/O (a polled
 * 4 KiB read at QD1 took about twice as long). A fatal status is still
 * seen within this time of the first poll after it. */
#define NVME_FATAL_CHECK_NS     100000ull
#define PCI_STATUS_INTERRUPT    (1u << 3)
#define NVME_NLB_MAX            65536u  /* CDW12 NLB is 16 bits, 0-based */

/* A request in flight (its blk_request pdu): split into `parts` commands
 * of part_blocks each (the last shorter), issued in order. */
struct nvme_rq {
    struct nvme_ns *ns;
    uint32_t outstanding;   /* commands issued, not complete */
    uint32_t next_part;     /* the next part to issue */
    uint32_t parts;
    uint32_t part_blocks;
    bool has_last;          /* last_qid/last_cid name the last command issued */
    uint16_t last_qid, last_cid;
};
BLK_PDU_ACCESSOR(nvme_rq, struct nvme_rq)

/* The last command issued for req on ns, NULL when there is none. */
static struct nvme_cmd *last_command(struct nvme_ns *ns, const struct blk_request *req)
{
    const struct nvme_rq *rq = nvme_rq(req);
    if (!rq->has_last || rq->ns != ns || rq->last_qid == 0 || rq->last_qid > ns->ctrl->nio)
        return NULL;
    return &ns->ctrl->io[rq->last_qid - 1].cmds[rq->last_cid];
}

struct nvme_ns *nvme_ns_of(struct blk_dev *dev)
{
    return dev && dev->ops == &nvme_blk_ops ? dev->priv : NULL;
}

/* ---- building commands ---- */

static uint16_t alloc_cid(struct nvme_queue *q)
{
    for (uint32_t n = 0; n < q->depth; n++) {
        uint16_t cid = (uint16_t)((q->cid_hint + n) % q->depth);
        if (!q->cmds[cid].in_flight) {
            q->cid_hint = (uint16_t)(cid + 1);
            return cid;
        }
    }
    return 0xffff;
}

static uint8_t opcode_of(uint8_t op)
{
    switch (op) {
    case BLK_OP_READ: return NVME_CMD_READ;
    case BLK_OP_WRITE: return NVME_CMD_WRITE;
    case BLK_OP_FLUSH: return NVME_CMD_FLUSH;
    case BLK_OP_WRITE_ZEROES: return NVME_CMD_WRITE_ZEROES;
    default: return NVME_CMD_DSM;
    }
}

static const char *opcode_name(uint8_t opc)
{
    switch (opc) {
    case NVME_CMD_FLUSH: return "flush";
    case NVME_CMD_WRITE: return "write";
    case NVME_CMD_READ: return "read";
    case NVME_CMD_WRITE_ZEROES: return "write zeroes";
    case NVME_CMD_DSM: return "dataset management";
    default: return "?";
    }
}

/* Fills the SQE of part `part` of req into cmd. false: PRP list budget. */
static bool build_part(struct nvme_queue *q, struct nvme_ns *ns, struct nvme_cmd *cmd,
                       uint16_t cid, struct blk_request *req, uint64_t part)
{
    struct nvme_sqe *sqe = &cmd->sqe;
    uint64_t first = part * nvme_rq(req)->part_blocks;
    uint32_t nlb = (uint32_t)(req->count - first < nvme_rq(req)->part_blocks
                              ? req->count - first : nvme_rq(req)->part_blocks);

    memset(sqe, 0, sizeof(*sqe));
    sqe->cdw0 = opcode_of(req->op) | (uint32_t)cid << 16;
    sqe->nsid = ns->nsid;
    /* Test hook, reads only: a redirected write could land on a namespace the
     * block layer never allowed. */
    if (ns->test_nsid_once && req->op == BLK_OP_READ) {
        sqe->nsid = ns->test_nsid_once;
        ns->test_nsid_once = 0;
    }
    cmd->slba = req->lba + first;
    cmd->nlb = req->op == BLK_OP_FLUSH ? 0 : nlb;
    cmd->bytes = 0;
    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE: {
        struct nvme_prp prp;
        uint64_t bytes = (uint64_t)nlb << ns->lba_shift;
        /* One SGL data block where the part is one segment and needs a PRP
         * list: the controller then maps one range instead of a page each
         * (and reads no list). Up to two pages PRPs cost nothing more. */
        if (q->ctrl->sgl && bytes > 2 * NVME_PAGE_SIZE &&
            nvme_sgl_single(req->segs, req->nsegs, first << ns->lba_shift, bytes, &sqe->prp1,
                            &sqe->prp2)) {
            sqe->cdw0 |= NVME_SQE_PSDT_SGL;
        } else {
            if (!nvme_prp_build(req->segs, req->nsegs, first << ns->lba_shift, bytes,
                                NVME_PAGE_SIZE, cmd->pages, q->pages_per_cmd, &prp))
                return false;
            sqe->prp1 = prp.prp1;
            sqe->prp2 = prp.prp2;
        }
        sqe->cdw10 = (uint32_t)cmd->slba;
        sqe->cdw11 = (uint32_t)(cmd->slba >> 32);
        sqe->cdw12 = (nlb - 1) | ((req->flags & BLK_F_FUA) ? NVME_RW_FUA : 0);
        cmd->bytes = (uint32_t)bytes;
        break;
    }
    case BLK_OP_WRITE_ZEROES:
        sqe->cdw10 = (uint32_t)cmd->slba;
        sqe->cdw11 = (uint32_t)(cmd->slba >> 32);
        sqe->cdw12 = nlb - 1;
        break;
    case BLK_OP_TRIM: {
        /* One range in the slot's first list page (4 KiB aligned, so PRP1 alone). */
        struct nvme_dsm_range *range = (struct nvme_dsm_range *)cmd->pages[0].entries;
        memset(range, 0, NVME_PAGE_SIZE);
        range->nlb = nlb;
        range->slba = cmd->slba;
        sqe->prp1 = cmd->pages[0].phys;
        sqe->cdw10 = 0;                     /* NR: one range, 0-based */
        sqe->cdw11 = NVME_DSM_ATTR_AD;
        break;
    }
    default:
        break;
    }
    return true;
}

static void fail_unissued(struct nvme_queue *q, struct blk_request *req);

static void complete_request(struct nvme_queue *q, struct blk_request *req)
{
    q->completed++;
    blk_complete(&nvme_rq(req)->ns->dev, req, req->cause);
}

/* The slot `cid` now carries its part of req: in flight from now, with a
 * deadline, and the request's last command. */
static void start_command(struct nvme_queue *q, struct nvme_cmd *cmd, uint16_t cid,
                          struct blk_request *req)
{
    struct nvme_rq *rq = nvme_rq(req);
    cmd->req = req;
    cmd->ns = rq->ns;
    cmd->retries = 0;
    cmd->timed_out = false;
    cmd->in_flight = true;
    cmd->last_status = 0;
    cmd->deadline_ns = time_ns() + (uint64_t)rq->ns->dev.timeout_ms * 1000000ull;
    q->in_flight++;
    q->commands++;
    rq->outstanding++;
    rq->has_last = true;
    rq->last_qid = q->qid;
    rq->last_cid = cid;
}

/* Issues the next part of req, the request at the head of the queue's
 * FIFO, in a free slot; the request leaves the FIFO with its last part.
 * false when the part needs more PRP list pages than a slot has: then req
 * fails with the parts not issued. */
static bool issue_part(struct nvme_queue *q, struct blk_request *req)
{
    uint64_t part = nvme_rq(req)->next_part;
    uint16_t cid = alloc_cid(q);
    struct nvme_cmd *cmd = &q->cmds[cid];

    if (!build_part(q, nvme_rq(req)->ns, cmd, cid, req, part)) {
        snprintf(req->detail, sizeof(req->detail), "part %llu needs more PRP list pages than "
                 "the %u a command slot has", (unsigned long long)part, q->pages_per_cmd);
        req->cause = BLK_CAUSE_INVALID;
        fail_unissued(q, req);
        return false;
    }
    start_command(q, cmd, cid, req);
    nvme_queue_post(q, &cmd->sqe);
    nvme_rq(req)->next_part = (uint32_t)(part + 1);
    if (part + 1 >= nvme_rq(req)->parts)
        (void)blk_fifo_pop(&q->pending);
    return true;
}

/* Issues waiting parts while slots are free: one slot stays unused, so the
 * SQ always has room too (§4.1.1: full when the tail is one behind the
 * head); the head check keeps that rule visible and guards the accounting.
 * Returns SQEs written. */
static unsigned fill_now(struct nvme_queue *q)
{
    unsigned written = 0;
    while (!blk_fifo_empty(&q->pending) && q->in_flight < q->depth - 1 &&
           nvme_queue_sq_has_room(q))
        written += issue_part(q, blk_fifo_peek(&q->pending));
    return written;
}

/* Outside recovery only: a request submitted while the controller is reset
 * waits in the FIFO, and the reset's repost issues it once, after the
 * commands that were in flight (posting it now, to a queue about to be
 * emptied, would have it reposted as one of them: two commands, one CID). */
static unsigned fill(struct nvme_queue *q)
{
    return q->ctrl->in_recovery ? 0 : fill_now(q);
}

/* After an error: the parts not yet issued are dropped; the request completes
 * when the issued ones have. */
static void fail_unissued(struct nvme_queue *q, struct blk_request *req)
{
    nvme_rq(req)->next_part = nvme_rq(req)->parts;
    (void)blk_fifo_remove(&q->pending, req);    /* it may have left the list already */
    if (nvme_rq(req)->outstanding == 0)
        complete_request(q, req);
}

/* ---- completions ---- */

static void record_error(struct nvme_queue *q, struct nvme_cmd *cmd, uint16_t cid,
                         enum blk_cause cause, uint16_t status, const char *what)
{
    struct blk_request *req = cmd->req;
    if (req->cause != BLK_OK && req->cause != BLK_CAUSE_IRQ_NOT_DELIVERED)
        return;                             /* the first error is the one reported */
    req->cause = cause;
    req->dev_status = status;
    req->error_lba = cmd->slba;
    snprintf(req->detail, sizeof(req->detail), "%s; %s nsid %u lba %llu+%u (sq %u cid %u%s)",
             what, opcode_name(NVME_SQE_OPC(cmd->sqe.cdw0)), cmd->sqe.nsid,
             (unsigned long long)cmd->slba, cmd->nlb, q->qid, cid,
             cmd->retries ? ", after retries" : "");
}

static void finish_cmd(struct nvme_queue *q, uint16_t cid, uint16_t status,
                       enum blk_cause override)
{
    struct nvme_cmd *cmd = &q->cmds[cid];
    struct blk_request *req = cmd->req;
    char words[112];

    cmd->in_flight = false;
    cmd->last_status = status;
    q->in_flight--;
    if (cmd->timed_out) {
        snprintf(words, sizeof(words), "no completion within %u ms; %s", cmd->ns->dev.timeout_ms,
                 q->ctrl->last_recovery);
        record_error(q, cmd, cid, BLK_CAUSE_TIMEOUT, status, words);
    } else if (nvme_status_cause(status) != BLK_OK) {
        nvme_status_describe(status, words, sizeof(words));
        record_error(q, cmd, cid, nvme_status_cause(status), status, words);
    } else {
        req->bytes += cmd->bytes;
        if (override != BLK_OK && req->cause == BLK_OK)
            record_error(q, cmd, cid, override, status, q->ctrl->last_recovery);
    }
    nvme_rq(req)->outstanding--;
    if (req->cause != BLK_OK && req->cause != BLK_CAUSE_IRQ_NOT_DELIVERED &&
        nvme_rq(req)->next_part < nvme_rq(req)->parts) {
        fail_unissued(q, req);
        return;
    }
    if (nvme_rq(req)->outstanding == 0 && nvme_rq(req)->next_part >= nvme_rq(req)->parts)
        complete_request(q, req);
}

/* One CQE: retry (DNR clear), or finish the command. */
static void handle_cqe(struct nvme_queue *q, const struct nvme_cqe *cqe, enum blk_cause override)
{
    uint16_t status = nvme_status_from_cqe(cqe->status);
    uint16_t cid = cqe->cid;

    if (cqe->sqid != q->qid || cid >= q->depth || !q->cmds[cid].in_flight) {
        char words[112];
        nvme_status_describe(status, words, sizeof(words));
        klog(LOG_WARN, "%s: cq %u: completion for sq %u cid %u that is not in flight here "
             "(%s), ignored\n", q->ctrl->name, q->qid, cqe->sqid, cid, words);
        return;
    }
    q->sq_head = cqe->sqhd;     /* the controller's SQ head: frees SQ entries (§4.6) */
    struct nvme_cmd *cmd = &q->cmds[cid];
    if (nvme_status_retryable(status) && cmd->retries < NVME_MAX_RETRIES && !cmd->timed_out &&
        !q->ctrl->in_recovery) {
        char words[112];
        nvme_status_describe(status, words, sizeof(words));
        cmd->retries++;
        cmd->last_status = status;
        klog(LOG_WARN, "%s: sq %u cid %u %s lba %llu: %s; retry %u of %u (DNR clear)\n",
             q->ctrl->name, q->qid, cid, opcode_name(NVME_SQE_OPC(cmd->sqe.cdw0)),
             (unsigned long long)cmd->slba, words, cmd->retries, NVME_MAX_RETRIES);
        cmd->deadline_ns = time_ns() + (uint64_t)cmd->ns->dev.timeout_ms * 1000000ull;
        nvme_queue_post(q, &cmd->sqe);
        return;
    }
    finish_cmd(q, cid, status, override);
}

/* Reaps every posted CQE, writes the CQ head doorbell once, issues waiting
 * parts and retries, and rings the SQ doorbell if it wrote any. */
static unsigned reap(struct nvme_queue *q, enum blk_cause override)
{
    unsigned n = 0;

    while (nvme_queue_cqe_pending(q)) {
        struct nvme_cqe cqe = nvme_queue_take_cqe(q);
        handle_cqe(q, &cqe, override);
        n++;
    }
    if (n) {
        nvme_ring_cq(q);
        fill(q);
        nvme_ring_sq(q);
    }
    return n;
}

/* ---- interrupts ---- */

static void msix_handler(void *ctx, struct irq_frame *frame)
{
    (void)frame;
    struct nvme_queue *q = ctx;
    uint64_t flags = spin_lock(&q->lock);
    uint32_t here = cpu_apic_id();
    q->interrupts++;
    q->last_irq_apic_id = here;
    if (here != q->irq_apic_id)
        q->irqs_off_target++;
    if (!q->ctrl->in_recovery)
        reap(q, BLK_OK);
    spin_unlock(&q->lock, flags);
}

/* Queue i (qid i + 1) serves the online CPUs of rank i, i + nio, ...
 * (blk_queue_of_cpu); its messages go to the first of them. Enabling aimed
 * the entry at the BSP; a CPU that no MSI address can name (APIC id above
 * 255) leaves it there, said. A shared single entry stays with the BSP. */
static void route_to_cpu(struct nvme_ctrl *c, struct nvme_queue *q)
{
    unsigned cpus = smp_online_count();
    unsigned rank = c->msix_shared || !cpus ? 0 : (unsigned)(q->qid - 1) % cpus;
    uint32_t apic_id = smp_online_apic_id(rank);

    q->irq_apic_id = smp_online_apic_id(0);
    if (rank == 0)
        return;
    if (!pci_msix_retarget(c->pci, q->msix_index, apic_id)) {
        klog(LOG_WARN, "%s: queue %u: MSI-X entry %u cannot be routed to CPU %u (APIC id %u); "
             "its interrupts go to the BSP\n", c->name, q->qid, q->msix_index, rank, apic_id);
        return;
    }
    q->irq_apic_id = apic_id;
}

bool nvme_io_irq_setup(struct nvme_ctrl *c, struct nvme_queue *q)
{
    q->irq_mode = c->irq_mode;
    if (q->irq_mode != NVME_IRQ_MSIX)
        return true;
    if (q->vector < 0) {
        q->vector = irq_alloc_vector(msix_handler, q);
        if (q->vector < 0) {
            klog(LOG_WARN, "%s: queue %u: no free interrupt vector; polling\n", c->name, q->qid);
            q->irq_mode = NVME_IRQ_POLL;
            return false;
        }
    }
    q->msix_index = c->msix_shared ? 0 : q->qid;
    if (!pci_msix_enable(c->pci, q->msix_index, (uint8_t)q->vector)) {
        klog(LOG_WARN, "%s: queue %u: MSI-X entry %u could not be enabled; polling\n", c->name,
             q->qid, q->msix_index);
        q->irq_mode = NVME_IRQ_POLL;
        return false;
    }
    route_to_cpu(c, q);
    return true;
}

/* Evidence that the interrupt for a pending CQE was raised. */
static bool irq_raised(struct nvme_queue *q)
{
    if (q->irq_mode == NVME_IRQ_MSIX)
        return irq_count(q->vector) != q->irq_seen_count;
    return (pci_read16(q->ctrl->pci, PCI_STATUS) & PCI_STATUS_INTERRUPT) != 0;
}

static void irq_not_delivered(struct nvme_queue *q, uint64_t waited_ms)
{
    struct nvme_ctrl *c = q->ctrl;
    if (q->irq_mode == NVME_IRQ_MSIX)
        snprintf(c->last_recovery, sizeof(c->last_recovery), "completed, but MSI-X vector %d "
                 "(table entry %u) did not fire in %llu ms (count %llu); queue %u now polled",
                 q->vector, q->msix_index, (unsigned long long)waited_ms,
                 (unsigned long long)irq_count(q->vector), q->qid);
    else
        snprintf(c->last_recovery, sizeof(c->last_recovery), "completed, but PCI Interrupt "
                 "Status (INTx) stayed clear for %llu ms; queue %u now polled",
                 (unsigned long long)waited_ms, q->qid);
    klog(LOG_WARN, "%s: sq %u: %s\n", c->name, q->qid, c->last_recovery);
    q->irq_mode = NVME_IRQ_POLL;
    reap(q, BLK_CAUSE_IRQ_NOT_DELIVERED);
}

/* The INTx pin is asserted: it is level-triggered, so mask it (INTMS),
 * reap, unmask (INTMC) (§7.5.1). */
static void reap_intx(struct nvme_queue *q)
{
    mmio_write32(q->ctrl->regs, NVME_REG_INTMS, 1);
    q->interrupts++;
    reap(q, BLK_OK);
    mmio_write32(q->ctrl->regs, NVME_REG_INTMC, 1);
    q->stale_since_ns = 0;
}

/* Interrupt modes: a CQE that waits longer than the grace time with no sign
 * of its interrupt is reaped here and reported. */
static void check_interrupt_mode(struct nvme_queue *q, bool interrupts_were_on)
{
    if (!nvme_queue_cqe_pending(q)) {
        q->stale_since_ns = 0;
        return;
    }
    if (q->irq_mode == NVME_IRQ_INTX && irq_raised(q)) {
        reap_intx(q);
        return;
    }
    if (!interrupts_were_on) {
        reap(q, BLK_OK);        /* the caller has interrupts off: no fault of the device */
        return;
    }
    uint64_t now = time_ns();
    if (!q->stale_since_ns) {
        q->stale_since_ns = now;
        q->irq_seen_count = q->vector >= 0 ? irq_count(q->vector) : 0;
        return;
    }
    if (now - q->stale_since_ns < NVME_IRQ_GRACE_MS * 1000000ull)
        return;
    if (q->irq_mode == NVME_IRQ_MSIX && irq_raised(q)) {
        q->stale_since_ns = 0;  /* it fired; the handler will reap */
        return;
    }
    irq_not_delivered(q, (now - q->stale_since_ns) / 1000000);
    q->stale_since_ns = 0;
}

/* ---- timeouts ---- */

/* The command in slot cid is past its deadline: marked, counted, said. */
static void mark_timed_out(struct nvme_queue *q, uint16_t cid)
{
    struct nvme_ctrl *c = q->ctrl;
    struct nvme_cmd *cmd = &q->cmds[cid];
    char csts[120];

    cmd->timed_out = true;
    c->timeouts++;
    nvme_decode_csts(nvme_read_csts(c), csts, sizeof(csts));
    klog(LOG_WARN, "%s: sq %u cid %u %s nsid %u lba %llu+%u: no completion after %u ms (%s); "
         "sending Abort\n", c->name, q->qid, cid, opcode_name(NVME_SQE_OPC(cmd->sqe.cdw0)),
         cmd->sqe.nsid, (unsigned long long)cmd->slba, cmd->nlb, cmd->ns->dev.timeout_ms, csts);
}

/* The controller accepted the Abort: the aborted command completes with 07h
 * (§5.1). The spec gives no bound, so the controller's own CAP.TO is the
 * one used. true when it did complete. */
static bool abort_ended(struct nvme_queue *q, const struct nvme_cmd *cmd)
{
    struct nvme_ctrl *c = q->ctrl;
    snprintf(c->last_recovery, sizeof(c->last_recovery), "Abort accepted by the controller");
    uint64_t deadline = deadline_after_ms(c->timeout_ms);
    for (;;) {
        uint64_t flags = spin_lock(&q->lock);
        reap(q, BLK_OK);
        /* Ended, or ended and the slot already reused (timed_out is cleared
         * for a new command). */
        bool ended = !cmd->in_flight || !cmd->timed_out;
        spin_unlock(&q->lock, flags);
        if (ended)
            return true;
        if (deadline_passed(deadline))
            return false;
        cpu_pause();
    }
}

/* Why the Abort (status st) did not end its command, in words. */
static void abort_failure(uint16_t st, char *words, size_t size)
{
    if (st == 0)
        snprintf(words, size, "did not abort it: DW0 bit 0 set");
    else if (st == NVME_STATUS_HOST_TIMEOUT)
        snprintf(words, size, "failed: no completion");
    else if (st == NVME_STATUS_HOST_CFS)
        snprintf(words, size, "failed: controller fatal status");
    else {
        char status_words[96];
        nvme_status_describe(st, status_words, sizeof(status_words));
        snprintf(words, size, "failed: %s", status_words);
    }
}

/* A late command, marked timed out: Abort (§5.1), and when that does not
 * end it, a controller reset (§7.3) by the layer above (ctrl->ops), which
 * reposts the rest. The recovery token held, no queue lock. */
static void timeout_recover(struct nvme_queue *q, uint16_t cid)
{
    struct nvme_ctrl *c = q->ctrl;
    bool not_aborted = true;

    c->aborts_sent++;
    uint16_t st = nvme_abort(c, q->qid, cid, &not_aborted);
    if (st == 0 && !not_aborted && abort_ended(q, &q->cmds[cid]))
        return;
    c->aborts_not_done++;
    char words[112], reason[96];
    abort_failure(st, words, sizeof(words));
    snprintf(c->last_recovery, sizeof(c->last_recovery), "Abort %s; controller reset, "
             "queues recreated", words);
    snprintf(reason, sizeof(reason), "sq %u cid %u timed out, Abort did not end it", q->qid, cid);
    c->ops->reset(c, reason);
}

static bool is_late(const struct nvme_cmd *cmd, uint64_t now)
{
    return cmd->in_flight && !cmd->timed_out && now >= cmd->deadline_ns;
}

/* The first command in flight past its deadline, or -1 (queue lock held). */
static int late_command(const struct nvme_queue *q, uint64_t now)
{
    for (uint16_t cid = 0; cid < q->depth; cid++)
        if (is_late(&q->cmds[cid], now))
            return cid;
    return -1;
}

/* A late command seen by a poll, which dropped the queue lock since: with
 * the recovery token, and when it is still late, marked and recovered.
 * Without the token another CPU is recovering the controller, and its
 * reset settles this command too (a later poll looks again). */
static void recover_late(struct nvme_queue *q, uint16_t cid)
{
    struct nvme_ctrl *c = q->ctrl;
    if (!nvme_recovery_claim(c))
        return;
    uint64_t flags = spin_lock(&q->lock);
    bool late = c->alive && !c->in_recovery && is_late(&q->cmds[cid], time_ns());
    if (late)
        mark_timed_out(q, cid);
    spin_unlock(&q->lock, flags);
    if (late)
        timeout_recover(q, cid);
    nvme_recovery_release(c);
}

/* ---- after a controller reset ---- */

void nvme_io_repost(struct nvme_queue *q)
{
    uint64_t flags = spin_lock(&q->lock);
    uint64_t now = time_ns();
    for (uint16_t cid = 0; cid < q->depth; cid++) {
        struct nvme_cmd *cmd = &q->cmds[cid];
        if (!cmd->in_flight)
            continue;
        if (cmd->timed_out) {
            finish_cmd(q, cid, cmd->last_status, BLK_OK);
            continue;
        }
        cmd->deadline_ns = now + (uint64_t)cmd->ns->dev.timeout_ms * 1000000ull;
        nvme_queue_post(q, &cmd->sqe);
    }
    fill_now(q);
    nvme_ring_sq(q);
    spin_unlock(&q->lock, flags);
}

void nvme_io_reap_after_recovery(struct nvme_queue *q)
{
    uint64_t flags = spin_lock(&q->lock);
    reap(q, BLK_OK);
    q->stale_since_ns = 0;
    spin_unlock(&q->lock, flags);
}

void nvme_io_fail_all(struct nvme_queue *q, enum blk_cause cause, const char *why)
{
    uint64_t flags = spin_lock(&q->lock);
    for (uint16_t cid = 0; cid < q->depth; cid++) {
        struct nvme_cmd *cmd = &q->cmds[cid];
        if (!cmd->in_flight)
            continue;
        cmd->timed_out = false;
        record_error(q, cmd, cid, cause, 0, why);
        finish_cmd(q, cid, 0, BLK_OK);
    }
    while (!blk_fifo_empty(&q->pending)) {
        struct blk_request *req = blk_fifo_peek(&q->pending);
        if (req->cause == BLK_OK) {
            req->cause = cause;
            snprintf(req->detail, sizeof(req->detail), "%s", why);
        }
        fail_unissued(q, req);
    }
    spin_unlock(&q->lock, flags);
}

/* ---- blk_ops ---- */

static struct nvme_queue *queue_of(struct nvme_ns *ns, unsigned queue)
{
    return &ns->ctrl->io[queue % ns->ctrl->nio];
}

/* A read or write: the PRP rules on its segments (§4.3), then its commands
 * of at most max_transfer blocks, or one (BLK_F_NOSPLIT) that must still
 * fit NLB and the slot's PRP list pages. */
static enum blk_cause data_part_blocks(struct nvme_ns *ns, struct blk_request *req,
                                       uint64_t *part_blocks)
{
    struct nvme_ctrl *c = ns->ctrl;
    char why[sizeof(req->detail)];

    if (nvme_prp_check(req->segs, req->nsegs, NVME_PAGE_SIZE, why, sizeof(why)) >= 0)
        return blk_refuse(req, BLK_CAUSE_MISALIGNED, "%s", why);
    if (!(req->flags & BLK_F_NOSPLIT)) {
        *part_blocks = ns->dev.max_transfer;
        return BLK_OK;
    }
    *part_blocks = req->count;
    if (req->count > NVME_NLB_MAX)
        return blk_refuse(req, BLK_CAUSE_INVALID, "unsplit %s of %u blocks cannot be one "
                          "command (NLB is 16 bits, 0-based)", blk_op_name(req->op),
                          req->count);
    uint32_t entries = nvme_prp_entry_count(req->segs[0].phys,
                                            (uint64_t)req->count << ns->lba_shift,
                                            NVME_PAGE_SIZE);
    uint32_t pages = nvme_prp_list_pages_for(entries, NVME_PAGE_SIZE);
    if (pages > c->io[0].pages_per_cmd)
        return blk_refuse(req, BLK_CAUSE_INVALID, "unsplit transfer of %u blocks needs %u "
                          "PRP list pages; a command slot has %u", req->count, pages,
                          c->io[0].pages_per_cmd);
    return BLK_OK;
}

/* The blocks of each command req is cut into (the last one shorter), or
 * the refusal. */
static enum blk_cause part_blocks_of(struct nvme_ns *ns, struct blk_request *req,
                                     uint64_t *part_blocks)
{
    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        return data_part_blocks(ns, req, part_blocks);
    case BLK_OP_WRITE_ZEROES:
        *part_blocks = (req->flags & BLK_F_NOSPLIT) ? req->count : NVME_NLB_MAX;
        if (*part_blocks > NVME_NLB_MAX)
            return blk_refuse(req, BLK_CAUSE_INVALID, "write zeroes of %u blocks cannot be one "
                              "command (NLB is 16 bits)", req->count);
        return BLK_OK;
    default:
        *part_blocks = req->count ? req->count : 1;  /* flush, one DSM range */
        return BLK_OK;
    }
}

static enum blk_cause nvme_submit(struct blk_dev *dev, struct blk_request *req)
{
    struct nvme_ns *ns = dev->priv;
    struct nvme_ctrl *c = ns->ctrl;
    uint64_t part_blocks = 1, parts = 1;

    if (!c->alive)
        return blk_refuse(req, BLK_CAUSE_NOT_READY, "%s is not serving (%s)", c->name,
                          c->last_recovery[0] ? c->last_recovery : "failed bring-up");
    if (!c->bus_master)
        return blk_refuse(req, BLK_CAUSE_BUS_MASTER_OFF, "%s: PCI COMMAND.BME is clear: the "
                          "controller cannot reach memory", c->name);
    enum blk_cause refused = part_blocks_of(ns, req, &part_blocks);
    if (refused != BLK_OK)
        return refused;
    if (req->count)
        parts = (req->count + part_blocks - 1) / part_blocks;

    struct nvme_queue *q = queue_of(ns, req->queue);
    *nvme_rq(req) = (struct nvme_rq){ .ns = ns, .parts = (uint32_t)parts,
                                      .part_blocks = (uint32_t)part_blocks };
    uint64_t flags = spin_lock(&q->lock);
    blk_fifo_push(&q->pending, req);
    fill(q);
    spin_unlock(&q->lock, flags);
    return BLK_OK;
}

static void nvme_kick(struct blk_dev *dev, unsigned queue)
{
    struct nvme_ns *ns = dev->priv;
    struct nvme_queue *q = queue_of(ns, queue);
    uint64_t flags = spin_lock(&q->lock);
    if (ns->ctrl->alive && !ns->ctrl->in_recovery)
        nvme_ring_sq(q);        /* in recovery: the repost rings it */
    spin_unlock(&q->lock, flags);
}

/* Completions reaped since the queue's last poll (by this CPU, its handler
 * or another CPU sharing the queue). CSTS.CFS is looked for every
 * NVME_FATAL_CHECK_NS and deadlines every NVME_DEADLINE_CHECK_NS; what
 * either leads to (reset, Abort) runs with the queue lock dropped. */
static unsigned nvme_poll(struct blk_dev *dev, unsigned queue)
{
    struct nvme_ns *ns = dev->priv;
    struct nvme_ctrl *c = ns->ctrl;
    struct nvme_queue *q = queue_of(ns, queue);
    uint64_t now = time_ns();
    uint64_t flags = spin_lock(&q->lock);
    bool interrupts_were_on = (flags & RFLAGS_IF) != 0;
    bool fatal = false;
    int late = -1;

    if (c->alive && !c->in_recovery && now >= q->next_fatal_check_ns) {
        q->next_fatal_check_ns = now + NVME_FATAL_CHECK_NS;
        spin_unlock(&q->lock, flags);
        fatal = c->ops->check_fatal(c);     /* reset done, or the controller is gone */
        flags = spin_lock(&q->lock);
    }
    if (!fatal && c->alive && !c->in_recovery) {
        if (q->irq_mode == NVME_IRQ_POLL)
            reap(q, BLK_OK);
        else
            check_interrupt_mode(q, interrupts_were_on);
        if (q->in_flight && now >= q->next_deadline_check_ns) {
            q->next_deadline_check_ns = now + NVME_DEADLINE_CHECK_NS;
            late = late_command(q, time_ns());
        }
    }
    unsigned n = (unsigned)(q->completed - q->polled_completed);
    q->polled_completed = q->completed;
    spin_unlock(&q->lock, flags);
    if (late >= 0)
        recover_late(q, (uint16_t)late);
    return n;
}

/* The request's last command as sent, its PRP list (the first entries),
 * and its queue's state. */
static void describe_command(const struct nvme_queue *q, const struct nvme_cmd *cmd)
{
    const struct nvme_sqe *s = &cmd->sqe;
    char words[112];

    nvme_status_describe(cmd->last_status, words, sizeof(words));
    bool sgl = (s->cdw0 & NVME_SQE_PSDT_SGL) != 0;
    klog(LOG_ERR, "  nvme sqe (sq %u cid %u): opcode %02xh %s, nsid %u, %s 0x%llx, "
         "%s 0x%llx, cdw10 0x%x cdw11 0x%x cdw12 0x%x; status 0x%x %s, %u retries\n",
         q->qid, NVME_SQE_CID(s->cdw0), NVME_SQE_OPC(s->cdw0),
         opcode_name(NVME_SQE_OPC(s->cdw0)), s->nsid, sgl ? "sgl data block address" : "prp1",
         (unsigned long long)s->prp1, sgl ? "length|type" : "prp2", (unsigned long long)s->prp2,
         s->cdw10, s->cdw11, s->cdw12, cmd->last_status, words, cmd->retries);
    uint32_t entries = cmd->bytes && !sgl ? nvme_prp_entry_count(s->prp1, cmd->bytes,
                                                                 NVME_PAGE_SIZE) : 0;
    if (entries > 2) {
        uint32_t shown = entries - 1 < 8 ? entries - 1 : 8;
        for (uint32_t i = 0; i < shown; i++)
            klog(LOG_ERR, "  prp list[%u] 0x%llx\n", i,
                 (unsigned long long)cmd->pages[0].entries[i]);
        if (entries - 1 > shown)
            klog(LOG_ERR, "  ... %u list entries in %u list pages\n", entries - 1,
                 nvme_prp_list_pages_for(entries, NVME_PAGE_SIZE));
    }
    klog(LOG_ERR, "  queue %u: sq tail %u head %u, cq head %u phase %u, %u in flight, "
         "%s, %llu interrupts\n", q->qid, q->sq_tail, q->sq_head, q->cq_head, q->phase,
         q->in_flight, q->irq_mode == NVME_IRQ_MSIX ? "msix" : q->irq_mode == NVME_IRQ_INTX
         ? "intx" : "polled", (unsigned long long)q->interrupts);
}

static void nvme_describe(struct blk_dev *dev, const struct blk_request *req)
{
    struct nvme_ns *ns = dev->priv;
    struct nvme_ctrl *c = ns->ctrl;
    char buf[200];
    struct nvme_cmd *cmd = last_command(ns, req);

    if (cmd)
        describe_command(&c->io[nvme_rq(req)->last_qid - 1], cmd);
    nvme_decode_csts(nvme_read_csts(c), buf, sizeof(buf));
    klog(LOG_ERR, "  %s %s\n", c->name, buf);
    nvme_decode_cap(c->cap, buf, sizeof(buf));
    klog(LOG_ERR, "  %s %s\n", c->name, buf);
    nvme_decode_cc(mmio_read32(c->regs, NVME_REG_CC), buf, sizeof(buf));
    klog(LOG_ERR, "  %s %s\n", c->name, buf);
    if (c->resets)
        klog(LOG_ERR, "  %s: %u resets, last: %s\n", c->name, c->resets, c->last_reset);
}

static uint32_t nvme_irq_apic_id(struct blk_dev *dev, unsigned queue)
{
    struct nvme_ns *ns = dev->priv;
    struct nvme_queue *q = queue_of(ns, queue);
    /* Set at enable (and again after a reset) with nothing in flight. */
    if (__atomic_load_n(&q->irq_mode, __ATOMIC_RELAXED) != NVME_IRQ_MSIX)
        return CPU_APIC_ID_UNKNOWN;
    return __atomic_load_n(&q->irq_apic_id, __ATOMIC_RELAXED);
}

static void nvme_shutdown(struct blk_dev *dev)
{
    struct nvme_ns *ns = dev->priv;
    ns->ctrl->ops->shutdown(ns->ctrl);
}

const struct blk_ops nvme_blk_ops = {
    .submit = nvme_submit,
    .kick = nvme_kick,
    .poll = nvme_poll,
    .describe = nvme_describe,
    .irq_apic_id = nvme_irq_apic_id,
    .shutdown = nvme_shutdown,
};

/* ---- test hooks ---- */

bool nvme_test_last_command(struct blk_dev *dev, const struct blk_request *req,
                            struct nvme_sqe *sqe, uint64_t *list, uint32_t max, uint32_t *nlist)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    struct nvme_cmd *cmd = ns ? last_command(ns, req) : NULL;
    if (!cmd)
        return false;
    *sqe = cmd->sqe;
    *nlist = 0;
    if (sqe->cdw0 & NVME_SQE_PSDT_SGL)
        return true;                /* one data block in the command: no list */
    uint32_t entries = cmd->bytes ? nvme_prp_entry_count(sqe->prp1, cmd->bytes, NVME_PAGE_SIZE) : 0;
    if (entries <= 2)
        return true;
    uint32_t pages = nvme_prp_list_pages_for(entries, NVME_PAGE_SIZE);
    uint32_t raw = entries - 1 + (pages - 1);   /* data entries and chain pointers */
    uint32_t per_page = NVME_PAGE_SIZE / 8;
    for (uint32_t i = 0; i < raw && i < max; i++)
        list[i] = cmd->pages[i / per_page].entries[i % per_page];
    *nlist = raw < max ? raw : max;
    return true;
}

void nvme_test_set_vector_masked(struct blk_dev *dev, unsigned queue, bool masked)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    if (!ns)
        return;
    struct nvme_queue *q = queue_of(ns, queue);
    if (q->vector < 0)
        return;
    pci_msix_mask(ns->ctrl->pci, q->msix_index, masked);
    if (!masked)
        q->irq_mode = NVME_IRQ_MSIX;    /* back from the polling fallback */
}
