/* SPDX-License-Identifier: MIT */
/* drivers/virtio/virtio_blk_io.c — the virtio-blk I/O path behind the
 * blk_ops (Virtio 1.2 §5.2.6 requests on the split virtqueue of §2.7).
 *
 * - submit() checks what only virtio-blk rules (capacity §5.2.6.1, the
 *   read-only feature, FLUSH negotiated, segments that fit seg_max and
 *   size_max), splits the request into virtio-blk requests ("parts") of at
 *   most max_transfer blocks, each ending on a block boundary, and puts them
 *   on the ring: header, data, status byte (set to an unwritten marker), as
 *   one indirect table when VIRTIO_F_INDIRECT_DESC is negotiated. It does not
 *   publish. Parts that find no slot or ring room wait on a blk_fifo.
 * - kick() publishes the avail index and notifies once, unless the device
 *   asked for no notifications (VIRTQ_USED_F_NO_NOTIFY).
 * - poll() reaps the used ring (MSI-X: the interrupt does, poll catches a
 *   completion whose interrupt never came), issues waiting parts, checks the
 *   device status and the deadlines every millisecond. A late part, or
 *   DEVICE_NEEDS_RESET, resets the device (virtio has no abort): the late
 *   part fails with BLK_CAUSE_TIMEOUT, after NEEDS_RESET everything in flight
 *   fails decoded, otherwise the parts in flight are posted again.
 * - Each part's status byte is decoded (virtio_blk_req.c); the first error
 *   is the request's, and its parts not yet issued are dropped. */
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_blk_priv.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

#define VBLK_CHECK_INTERVAL_NS  1000000ull  /* device status and deadlines */
#define VBLK_IRQ_GRACE_MS       200         /* a used entry this old without its interrupt */

/* A request's state while its parts are issued and complete. */
struct vblk_rq {
    struct vblk *vb;
    uint64_t next_lba;          /* the first block no part has carried yet */
    struct virtio_blk_cursor cur;   /* where that block's data starts in the segments */
    uint32_t type;              /* VIRTIO_BLK_T_* */
    uint32_t outstanding;       /* parts on the ring */
    uint32_t parts;             /* parts issued */
    uint16_t last_slot;
    uint16_t flags;
};
#define VBLK_RQ_ALL_ISSUED  1u
#define VBLK_RQ_INTERNAL    2u  /* the driver's own (vblk_sync): no blk_complete */
#define VBLK_RQ_HAS_LAST    4u
BLK_PDU_ACCESSOR(vblk_rq, struct vblk_rq)


struct vblk *vblk_of(const struct blk_dev *dev)
{
    return dev && dev->ops == &vblk_blk_ops ? dev->priv : NULL;
}

static uint32_t type_of(uint8_t op)
{
    switch (op) {
    case BLK_OP_READ: return VIRTIO_BLK_T_IN;
    case BLK_OP_WRITE: return VIRTIO_BLK_T_OUT;
    case BLK_OP_FLUSH: return VIRTIO_BLK_T_FLUSH;
    case BLK_OP_TRIM: return VIRTIO_BLK_T_DISCARD;
    default: return VIRTIO_BLK_T_WRITE_ZEROES;
    }
}

static bool has_blocks(uint32_t type)
{
    return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
           type == VIRTIO_BLK_T_WRITE_ZEROES;
}

static bool writes_medium(uint32_t type)
{
    return type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
           type == VIRTIO_BLK_T_WRITE_ZEROES;
}

static uint64_t timeout_ns(const struct vblk *vb)
{
    uint32_t ms = vb->dev.timeout_ms ? vb->dev.timeout_ms : VBLK_BRINGUP_TIMEOUT_MS;
    return (uint64_t)ms * 1000000ull;
}

/* ---- notifications ---- */

static void publish_and_notify(struct vblk *vb)
{
    if (!virtq_publish(&vb->vq))
        return;
    if (virtq_notify_wanted(&vb->vq)) {
        vblk_pci_notify(vb);
        vb->notifies++;
    } else {
        vb->notifies_suppressed++;
    }
}

/* ---- completing ---- */

static void complete_request(struct vblk *vb, struct blk_request *req)
{
    vb->completed++;
    if (vblk_rq(req)->flags & VBLK_RQ_INTERNAL) {
        __atomic_store_n(&req->complete, true, __ATOMIC_RELEASE);
        return;
    }
    blk_complete(&vb->dev, req, req->cause);
}

/* The first error is the one reported (one a missing interrupt only noted
 * gives way to it). */
static void record_error(struct vblk_slot *slot, enum blk_cause cause, uint8_t status,
                         const char *what)
{
    struct blk_request *req = slot->req;
    if (req->cause != BLK_OK && req->cause != BLK_CAUSE_IRQ_NOT_DELIVERED)
        return;
    req->cause = cause;
    req->dev_status = status;
    req->error_lba = slot->lba;
    snprintf(req->detail, sizeof(req->detail), "%s; %s lba %llu+%u (sector %llu, slot %u)",
             what, virtio_blk_type_name(slot->type), (unsigned long long)slot->lba, slot->blocks,
             (unsigned long long)slot->dma->header.sector,
             (unsigned)(slot - vblk_rq(req)->vb->slots));
}

/* A request whose parts not yet issued will not be: it completes once the
 * issued ones have. */
static void stop_issuing(struct vblk *vb, struct blk_request *req)
{
    if (!(vblk_rq(req)->flags & VBLK_RQ_ALL_ISSUED)) {
        vblk_rq(req)->flags |= VBLK_RQ_ALL_ISSUED;
        blk_fifo_remove(&vb->pending, req);
    }
    if (vblk_rq(req)->outstanding == 0)
        complete_request(vb, req);
}

static void finish_slot(struct vblk *vb, struct vblk_slot *slot, enum blk_cause override)
{
    struct blk_request *req = slot->req;
    struct vblk_rq *rq = vblk_rq(req);
    char words[112];

    slot->in_flight = false;
    vb->slots_in_flight--;
    rq->outstanding--;
    if (slot->timed_out) {
        snprintf(words, sizeof(words), "no completion within %llu ms; %s",
                 (unsigned long long)(timeout_ns(vb) / 1000000), vb->last_recovery);
        record_error(slot, BLK_CAUSE_TIMEOUT, slot->status, words);
    } else {
        enum blk_cause cause = virtio_blk_status_cause(slot->type, slot->status, words,
                                                       sizeof(words));
        if (cause != BLK_OK) {
            record_error(slot, cause, slot->status, words);
        } else if (slot->type == VIRTIO_BLK_T_IN && slot->used_len < slot->data_bytes + 1) {
            /* §2.7.8.2: nothing past len may be trusted. */
            snprintf(words, sizeof(words), "used len %u is less than the %llu bytes of data and "
                     "status the read returns", slot->used_len,
                     (unsigned long long)slot->data_bytes + 1);
            record_error(slot, BLK_CAUSE_DEVICE_ERROR, slot->status, words);
        } else {
            req->bytes += slot->data_bytes;
            if (override != BLK_OK && req->cause == BLK_OK)
                record_error(slot, override, slot->status, vb->last_recovery);
        }
    }
    bool failed = req->cause != BLK_OK && req->cause != BLK_CAUSE_IRQ_NOT_DELIVERED;
    if (failed || (rq->flags & VBLK_RQ_ALL_ISSUED))
        stop_issuing(vb, req);
}

/* ---- issuing parts ---- */

static struct vblk_slot *free_slot(struct vblk *vb)
{
    for (uint16_t n = 0; n < vb->vq.size; n++) {
        uint16_t i = (uint16_t)((vb->slot_hint + n) % vb->vq.size);
        if (!vb->slots[i].in_flight) {
            vb->slot_hint = (uint16_t)(i + 1);
            return &vb->slots[i];
        }
    }
    return NULL;
}

/* Builds the next part of req into the slot's table; returns its length. */
static uint16_t build_part(struct vblk *vb, struct vblk_slot *slot, struct blk_request *req)
{
    struct vblk_rq *rq = vblk_rq(req);
    struct vblk_slot_dma *d = slot->dma;
    uint64_t status_phys = slot->dma_phys + offsetof(struct vblk_slot_dma, status);
    uint64_t left = req->lba + req->count - rq->next_lba;
    uint32_t bs = vb->lim.block_size;
    uint16_t ndata = 0;

    slot->type = rq->type;
    slot->lba = rq->next_lba;
    slot->blocks = 0;
    slot->data_bytes = 0;
    switch (rq->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        uint64_t max = (left < vb->lim.max_transfer ? left : vb->lim.max_transfer) * bs;
        slot->data_bytes = virtio_blk_map_data(req->segs, req->nsegs, &rq->cur, max, bs,
                                               vb->lim.seg_max, vb->lim.size_max,
                                               rq->type == VIRTIO_BLK_T_IN, d->table + 1, &ndata);
        slot->blocks = (uint32_t)(slot->data_bytes / bs);
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        uint32_t max = rq->type == VIRTIO_BLK_T_DISCARD ? vb->lim.max_discard
                                                        : vb->lim.max_write_zeroes;
        slot->blocks = (uint32_t)(left < max ? left : max);
        virtio_blk_range(&d->range, rq->next_lba, slot->blocks, bs);
        d->table[1] = (struct virtq_desc){ .addr = slot->dma_phys +
                                                   offsetof(struct vblk_slot_dma, range),
                                           .len = sizeof(d->range), .flags = 0 };
        ndata = 1;
        break;
    }
    case VIRTIO_BLK_T_GET_ID:
        d->table[1] = (struct virtq_desc){ .addr = req->segs[0].phys, .len = VIRTIO_BLK_ID_BYTES,
                                           .flags = VIRTQ_DESC_F_WRITE };
        slot->data_bytes = VIRTIO_BLK_ID_BYTES;
        ndata = 1;
        break;
    default:        /* FLUSH: no data (§5.2.6.1) */
        break;
    }
    virtio_blk_header(&d->header, rq->type, slot->lba, bs);
    d->status = VIRTIO_BLK_STATUS_UNWRITTEN;
    uint16_t n = virtio_blk_chain_close(d->table, slot->dma_phys, ndata, status_phys);
    if (vb->test_break_next) {
        /* Test only: the header made device-writable, so the request has no
         * device-readable part at all (the device must refuse it). */
        vb->test_break_next = false;
        d->table[0].flags |= VIRTQ_DESC_F_WRITE;
    }
    return n;
}

static bool post_slot(struct vblk *vb, struct vblk_slot *slot)
{
    uint64_t table = slot->dma_phys + offsetof(struct vblk_slot_dma, table);
    uint16_t head = virtq_add(&vb->vq, slot->dma->table, slot->ndesc, vb->lim.indirect, table);
    if (head == 0xffff)
        return false;
    slot->head = head;
    vb->head_slot[head] = (uint16_t)(slot - vb->slots);
    slot->in_flight = true;
    slot->timed_out = false;
    slot->status = VIRTIO_BLK_STATUS_UNWRITTEN;     /* until the used ring says otherwise */
    slot->used_len = 0;
    slot->deadline_ns = time_ns() + timeout_ns(vb);
    vb->slots_in_flight++;
    return true;
}

/* Puts waiting parts on the ring while slots and descriptors last. */
static void fill(struct vblk *vb)
{
    while (!blk_fifo_empty(&vb->pending)) {
        struct blk_request *req = blk_fifo_peek(&vb->pending);
        struct vblk_rq *rq = vblk_rq(req);
        struct vblk_slot *slot = free_slot(vb);
        if (!slot)
            return;
        struct virtio_blk_cursor saved = rq->cur;
        slot->req = req;
        slot->ndesc = build_part(vb, slot, req);
        if (has_blocks(rq->type) && slot->blocks == 0) {
            /* The dry run at submit rules this out; never loop on it. */
            blk_fifo_pop(&vb->pending);
            rq->flags |= VBLK_RQ_ALL_ISSUED;
            if (req->cause == BLK_OK) {
                req->cause = BLK_CAUSE_INVALID;
                snprintf(req->detail, sizeof(req->detail), "lba %llu: no block of it fits one "
                         "virtio-blk request", (unsigned long long)rq->next_lba);
            }
            if (rq->outstanding == 0)
                complete_request(vb, req);
            continue;
        }
        if (!post_slot(vb, slot)) {
            rq->cur = saved;        /* no ring room: built again when there is */
            return;
        }
        rq->outstanding++;
        rq->parts++;
        rq->last_slot = (uint16_t)(slot - vb->slots);
        rq->flags |= VBLK_RQ_HAS_LAST;
        vb->parts++;
        rq->next_lba += slot->blocks;
        if (!has_blocks(rq->type) || rq->next_lba >= req->lba + req->count) {
            rq->flags |= VBLK_RQ_ALL_ISSUED;
            blk_fifo_pop(&vb->pending);
        }
    }
}

/* ---- reaping ---- */

static unsigned reap(struct vblk *vb, enum blk_cause override)
{
    unsigned n = 0;
    uint32_t id, len;
    enum virtq_used_result r;

    while ((r = virtq_take_used(&vb->vq, &id, &len)) != VIRTQ_USED_NONE) {
        if (r == VIRTQ_USED_BAD_ID) {
            vb->bad_used++;
            klog(LOG_WARN, "%s: used ring entry names descriptor %u, which heads no request in "
                 "flight (device bug); skipped\n", vb->dev.name, id);
            continue;
        }
        struct vblk_slot *slot = &vb->slots[vb->head_slot[id]];
        slot->used_len = len;
        slot->status = slot->dma->status;   /* after the acquire fence of take_used */
        finish_slot(vb, slot, override);
        n++;
    }
    if (n) {
        fill(vb);
        publish_and_notify(vb);
    }
    return n;
}

/* ---- recovery ---- */

/* Everything in flight and waiting fails with `cause`; the device is not
 * asked (it was reset or is gone). */
static void fail_all(struct vblk *vb, enum blk_cause cause, const char *why)
{
    for (uint16_t i = 0; i < vb->vq.size; i++) {
        struct vblk_slot *slot = &vb->slots[i];
        if (!slot->in_flight)
            continue;
        if (!slot->timed_out)
            record_error(slot, cause, slot->status, why);
        finish_slot(vb, slot, BLK_OK);
    }
    while (!blk_fifo_empty(&vb->pending)) {
        struct blk_request *req = blk_fifo_peek(&vb->pending);
        if (req->cause == BLK_OK) {
            req->cause = cause;
            snprintf(req->detail, sizeof(req->detail), "%s", why);
        }
        stop_issuing(vb, req);
    }
}

/* After the device came back: late parts fail with a timeout; after
 * DEVICE_NEEDS_RESET every part in flight fails (`fail_cause`); else they
 * are posted again from their slots. Counts what failed in *failed. */
static unsigned repost(struct vblk *vb, enum blk_cause fail_cause, unsigned *failed)
{
    unsigned posted = 0;
    *failed = 0;
    for (uint16_t i = 0; i < vb->vq.size; i++) {
        struct vblk_slot *slot = &vb->slots[i];
        if (!slot->in_flight)
            continue;
        if (slot->timed_out || fail_cause != BLK_OK) {
            if (!slot->timed_out)
                record_error(slot, fail_cause, slot->status, vb->last_recovery);
            finish_slot(vb, slot, BLK_OK);
            (*failed)++;
            continue;
        }
        slot->in_flight = false;        /* post_slot() counts it again */
        vb->slots_in_flight--;
        slot->dma->status = VIRTIO_BLK_STATUS_UNWRITTEN;
        if (!post_slot(vb, slot)) {     /* cannot be: the ring is empty and held it before */
            slot->in_flight = true;
            vb->slots_in_flight++;
            record_error(slot, BLK_CAUSE_ABORTED, slot->status, "no ring room to post it again");
            finish_slot(vb, slot, BLK_OK);
            (*failed)++;
            continue;
        }
        posted++;
    }
    fill(vb);
    publish_and_notify(vb);
    return posted;
}

/* Resets the device and brings it back. False when it did not come back:
 * then it is out of service and everything fails. */
static bool recover(struct vblk *vb, const char *reason, enum blk_cause fail_cause)
{
    char why[160];
    enum blk_cause cause;

    vb->in_recovery = true;
    vb->resets++;
    strlcpy(vb->last_reset, reason, sizeof(vb->last_reset));
    klog(LOG_WARN, "%s: device reset (%s)\n", vb->dev.name, reason);
    bool ok = vblk_dev_start(vb, false, &cause, why, sizeof(why));
    vb->in_recovery = false;
    if (!ok) {
        vb->alive = false;
        snprintf(vb->last_recovery, sizeof(vb->last_recovery), "reset failed: %s", why);
        klog(LOG_ERR, "%s: %s; the device is out of service\n", vb->dev.name, vb->last_recovery);
        fail_all(vb, BLK_CAUSE_ABORTED, vb->last_recovery);
        return false;
    }
    unsigned failed, posted = repost(vb, fail_cause, &failed);
    klog(LOG_WARN, "%s: reset done, %u request(s) in flight posted again, %u failed\n",
         vb->dev.name, posted, failed);
    return true;
}

static void timed_out(struct vblk *vb, struct vblk_slot *slot)
{
    char status[120];
    unsigned index = (unsigned)(slot - vb->slots);
    slot->timed_out = true;
    vb->timeouts++;
    virtio_status_describe(vblk_pci_status(vb), status, sizeof(status));
    klog(LOG_WARN, "%s: slot %u %s lba %llu+%u: no completion after %llu ms (device_status %s, "
         "used idx %u, %u in flight); resetting the device\n", vb->dev.name, index,
         virtio_blk_type_name(slot->type), (unsigned long long)slot->lba, slot->blocks,
         (unsigned long long)(timeout_ns(vb) / 1000000), status, vb->vq.used->idx,
         vb->slots_in_flight);
    snprintf(vb->last_recovery, sizeof(vb->last_recovery), "virtio has no abort: device reset, "
             "the other requests in flight posted again");
    char reason[96];
    snprintf(reason, sizeof(reason), "slot %u timed out", index);
    recover(vb, reason, BLK_OK);
}

/* Device status and deadlines, every millisecond while something is in flight. */
static void check_device(struct vblk *vb)
{
    uint8_t status = vblk_pci_status(vb);
    char words[160];

    if (status == 0xff) {
        vb->alive = false;
        snprintf(vb->last_recovery, sizeof(vb->last_recovery),
                 "device_status reads all ones: the device is gone");
        klog(LOG_ERR, "%s: %s\n", vb->dev.name, vb->last_recovery);
        fail_all(vb, BLK_CAUSE_NOT_READY, vb->last_recovery);
        return;
    }
    if (status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        virtio_status_describe(status, words, sizeof(words));
        snprintf(vb->last_recovery, sizeof(vb->last_recovery), "device_status 0x%02x "
                 "DEVICE_NEEDS_RESET: device reset, requests in flight failed", status);
        klog(LOG_ERR, "%s: device_status %s\n", vb->dev.name, words);
        reap(vb, BLK_OK);   /* what it did complete */
        recover(vb, "DEVICE_NEEDS_RESET", BLK_CAUSE_DEVICE_ERROR);
        return;
    }
    uint64_t now = time_ns();
    for (uint16_t i = 0; i < vb->vq.size && vb->slots_in_flight && vb->alive; i++) {
        struct vblk_slot *slot = &vb->slots[i];
        if (slot->in_flight && !slot->timed_out && now >= slot->deadline_ns) {
            reap(vb, BLK_OK);           /* it may have completed meanwhile */
            if (slot->in_flight)
                timed_out(vb, slot);
            now = time_ns();
        }
    }
}

/* ---- interrupts ---- */

static void queue_interrupt(void *ctx, struct irq_frame *frame)
{
    (void)frame;
    struct vblk *vb = ctx;
    vb->interrupts++;
    if (vb->alive && !vb->in_recovery)
        reap(vb, BLK_OK);
}

static void config_interrupt(void *ctx, struct irq_frame *frame)
{
    (void)frame;
    struct vblk *vb = ctx;
    vb->config_interrupts++;
}

static bool irq_fallback(struct vblk *vb, const char *why)
{
    klog(LOG_WARN, "%s: %s; polling\n", vb->dev.name, why);
    vb->irq_mode = VBLK_IRQ_POLL;
    pci_msix_disable(vb->pci);
    return false;
}

bool vblk_irq_setup(struct vblk *vb)
{
    if (vb->irq_mode != VBLK_IRQ_MSIX)
        return true;
    /* Entry 0 for configuration changes, entry 1 for queue 0; a table of
     * one entry serves both (its handler reaps). */
    bool shared = vb->pci->msix_table_size < 2;
    vb->config_entry = 0;
    vb->queue_entry = shared ? 0 : 1;
    vb->queue_vector = irq_alloc_vector(queue_interrupt, vb);
    vb->config_vector = shared ? vb->queue_vector : irq_alloc_vector(config_interrupt, vb);
    if (vb->queue_vector < 0 || vb->config_vector < 0)
        return irq_fallback(vb, "no free interrupt vector");
    if (!pci_msix_enable(vb->pci, vb->queue_entry, (uint8_t)vb->queue_vector) ||
        (!shared && !pci_msix_enable(vb->pci, vb->config_entry, (uint8_t)vb->config_vector)))
        return irq_fallback(vb, "MSI-X entries could not be enabled");
    return true;
}

static bool irq_raised(const struct vblk *vb)
{
    return irq_count(vb->queue_vector) != vb->irq_seen_count;
}

/* MSI-X: a used entry that waits longer than the grace time with no sign of
 * its interrupt is reaped here, reported, and the device polled from then on. */
static void check_interrupt_mode(struct vblk *vb, bool interrupts_were_on)
{
    if (!virtq_used_pending(&vb->vq)) {
        vb->stale_since_ns = 0;
        return;
    }
    if (!interrupts_were_on) {
        reap(vb, BLK_OK);       /* the caller holds interrupts off: no fault of the device */
        return;
    }
    uint64_t now = time_ns();
    if (!vb->stale_since_ns) {
        vb->stale_since_ns = now;
        vb->irq_seen_count = irq_count(vb->queue_vector);
        return;
    }
    if (now - vb->stale_since_ns < VBLK_IRQ_GRACE_MS * 1000000ull)
        return;
    if (irq_raised(vb)) {
        vb->stale_since_ns = 0;     /* it fired; the handler reaps */
        return;
    }
    snprintf(vb->last_recovery, sizeof(vb->last_recovery), "completed, but MSI-X vector %d "
             "(table entry %u) did not fire in %llu ms (count %llu); now polled", vb->queue_vector,
             vb->queue_entry, (unsigned long long)((now - vb->stale_since_ns) / 1000000),
             (unsigned long long)irq_count(vb->queue_vector));
    klog(LOG_WARN, "%s: %s\n", vb->dev.name, vb->last_recovery);
    vb->irq_mode = VBLK_IRQ_POLL;
    vb->stale_since_ns = 0;
    reap(vb, BLK_CAUSE_IRQ_NOT_DELIVERED);
}

/* ---- submit ---- */

/* Walks the whole split once (nothing posted) so that a request the device
 * could not take is refused before any part of it reaches the ring. */
static enum blk_cause dry_run(struct vblk *vb, struct blk_request *req, uint32_t *parts)
{
    struct virtio_blk_cursor c = { 0, 0 };
    uint32_t bs = vb->lim.block_size;
    uint64_t left = (uint64_t)req->count * bs, done = 0;
    uint16_t n;

    *parts = 0;
    while (left) {
        uint64_t max = left < (uint64_t)vb->lim.max_transfer * bs
                     ? left : (uint64_t)vb->lim.max_transfer * bs;
        uint64_t got = virtio_blk_map_data(req->segs, req->nsegs, &c, max, bs, vb->lim.seg_max,
                                           vb->lim.size_max, false, vb->dry_run_table, &n);
        if (!got)
            return blk_refuse(req, BLK_CAUSE_INVALID, "block %llu of the %s (lba %llu) spans more "
                              "than the %u data descriptors of one virtio-blk request (seg_max), "
                              "and a request must end on a block boundary",
                              (unsigned long long)(done / bs), blk_op_name(req->op),
                              (unsigned long long)(req->lba + done / bs), vb->lim.seg_max);
        if ((req->flags & BLK_F_NOSPLIT) && got < left)
            return blk_refuse(req, BLK_CAUSE_INVALID, "unsplit %s of %u blocks in %u segments "
                              "needs more than the %u data descriptors (seg_max) of one "
                              "virtio-blk request", blk_op_name(req->op), req->count, req->nsegs,
                              vb->lim.seg_max);
        left -= got;
        done += got;
        (*parts)++;
    }
    return BLK_OK;
}

static enum blk_cause check_request(struct vblk *vb, struct blk_request *req, uint32_t type,
                                    uint32_t *parts)
{
    const struct virtio_blk_limits *l = &vb->lim;
    *parts = 1;
    if (!vb->alive)
        return blk_refuse(req, BLK_CAUSE_NOT_READY, "%s is not serving (%s)", vb->dev.name,
                          vb->last_recovery[0] ? vb->last_recovery : "failed bring-up");
    if (!vb->bus_master)
        return blk_refuse(req, BLK_CAUSE_BUS_MASTER_OFF, "%s: PCI COMMAND.BME is clear: the "
                          "device cannot reach memory", vb->dev.name);
    if (l->read_only && writes_medium(type))
        return blk_refuse(req, BLK_CAUSE_READ_ONLY, "%s refused: the device is read-only "
                          "(VIRTIO_BLK_F_RO: every write fails, Virtio 1.2 §5.2.5)",
                          blk_op_name(req->op));
    if (type == VIRTIO_BLK_T_FLUSH && !l->flush)
        return blk_refuse(req, BLK_CAUSE_INVALID, "flush: VIRTIO_BLK_F_FLUSH was not offered, "
                          "the device takes no VIRTIO_BLK_T_FLUSH");
    if (!has_blocks(type))
        return BLK_OK;
    /* §5.2.6.1: a driver MUST NOT submit a request beyond capacity, so even
     * an unchecked request (BLK_F_UNCHECKED) stops here. */
    if (!virtio_blk_inside_capacity(req->lba, req->count, l->block_size, vb->config.capacity))
        return blk_refuse(req, BLK_CAUSE_LBA_RANGE, "lba %llu + %u blocks of %u bytes lies past "
                          "the capacity of %llu sectors, which a virtio-blk driver must not ask "
                          "for (Virtio 1.2 §5.2.6.1)", (unsigned long long)req->lba, req->count,
                          l->block_size, (unsigned long long)vb->config.capacity);
    if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
        uint32_t max = type == VIRTIO_BLK_T_DISCARD ? l->max_discard : l->max_write_zeroes;
        if (!max)
            return blk_refuse(req, BLK_CAUSE_INVALID, "%s: the device allows no segment of a "
                              "block (max sectors or segments 0)", virtio_blk_type_name(type));
        if ((req->flags & BLK_F_NOSPLIT) && req->count > max)
            return blk_refuse(req, BLK_CAUSE_INVALID, "unsplit %s of %u blocks is above the %u "
                              "one request may carry", virtio_blk_type_name(type), req->count, max);
        *parts = (req->count + max - 1) / max;
        return BLK_OK;
    }
    if ((req->flags & BLK_F_NOSPLIT) && req->count > l->max_transfer)
        return blk_refuse(req, BLK_CAUSE_INVALID, "unsplit %s of %u blocks is above the %u blocks "
                          "one virtio-blk request carries (bareio's %u KiB cap, size_max x "
                          "seg_max)",
                          blk_op_name(req->op), req->count, l->max_transfer,
                          VIRTIO_BLK_MAX_TRANSFER_BYTES >> 10);
    return dry_run(vb, req, parts);
}

static void enqueue(struct vblk *vb, struct blk_request *req, uint32_t type, uint16_t flags)
{
    *vblk_rq(req) = (struct vblk_rq){ .vb = vb, .next_lba = req->lba, .type = type,
                                      .flags = flags };
    blk_fifo_push(&vb->pending, req);
    fill(vb);
}

static enum blk_cause vblk_submit(struct blk_dev *dev, struct blk_request *req)
{
    struct vblk *vb = dev->priv;
    uint32_t type = type_of(req->op), parts;
    uint64_t flags = irq_save();
    enum blk_cause rc = check_request(vb, req, type, &parts);
    if (rc == BLK_OK) {
        vb->splits += parts > 1;
        enqueue(vb, req, type, 0);
    }
    irq_restore(flags);
    return rc;
}

static void vblk_kick(struct blk_dev *dev, unsigned queue)
{
    struct vblk *vb = dev->priv;
    (void)queue;
    uint64_t flags = irq_save();
    if (vb->alive) {
        vb->kicks++;
        publish_and_notify(vb);
    }
    irq_restore(flags);
}

static unsigned vblk_poll(struct blk_dev *dev, unsigned queue)
{
    struct vblk *vb = dev->priv;
    (void)queue;
    uint64_t flags = irq_save();
    bool interrupts_were_on = (flags & RFLAGS_IF) != 0;

    if (vb->alive && !vb->in_recovery) {
        if (vb->irq_mode == VBLK_IRQ_POLL)
            reap(vb, BLK_OK);
        else
            check_interrupt_mode(vb, interrupts_were_on);
        uint64_t now = time_ns();
        if (vb->slots_in_flight && now >= vb->next_check_ns) {
            vb->next_check_ns = now + VBLK_CHECK_INTERVAL_NS;
            check_device(vb);
        }
    }
    unsigned n = (unsigned)(vb->completed - vb->polled_completed);
    vb->polled_completed = vb->completed;
    irq_restore(flags);
    return n;
}

enum blk_cause vblk_sync(struct vblk *vb, uint32_t type, uint64_t data_phys, uint32_t data_len,
                         char *detail, size_t detail_size)
{
    struct blk_request req;
    struct blk_seg seg = { data_phys, data_len, 0 };
    uint64_t deadline = deadline_after_ms(VBLK_BRINGUP_TIMEOUT_MS + 1000);

    memset(&req, 0, sizeof(req));
    req.segs = data_len ? &seg : NULL;
    req.nsegs = data_len ? 1 : 0;
    uint64_t flags = irq_save();
    enqueue(vb, &req, type, VBLK_RQ_INTERNAL);
    publish_and_notify(vb);
    irq_restore(flags);
    while (!__atomic_load_n(&req.complete, __ATOMIC_ACQUIRE)) {
        flags = irq_save();
        reap(vb, BLK_OK);
        bool late = vblk_rq(&req)->outstanding && vb->slots[vblk_rq(&req)->last_slot].deadline_ns
                    <= time_ns();
        uint8_t status = vblk_pci_status(vb);
        irq_restore(flags);
        if (__atomic_load_n(&req.complete, __ATOMIC_ACQUIRE))
            break;
        if (status == 0xff || (status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
            /* The device gave up on it: stop it, say what it showed. */
            char why[120] = "";
            flags = irq_save();
            bool reset = vblk_pci_reset(vb, why, sizeof(why));
            vb->alive = false;
            snprintf(vb->last_recovery, sizeof(vb->last_recovery), "%s: device_status 0x%02x%s; "
                     "device reset%s%s", virtio_blk_type_name(type), status,
                     status == 0xff ? " (all ones: the device does not answer)"
                                    : " DEVICE_NEEDS_RESET", reset ? "" : " failed: ", why);
            fail_all(vb, BLK_CAUSE_DEVICE_ERROR, vb->last_recovery);
            irq_restore(flags);
            break;
        }
        if (late || deadline_passed(deadline)) {
            /* Stop the device before the request's memory goes away. */
            char why[120] = "";
            flags = irq_save();
            bool reset = vblk_pci_reset(vb, why, sizeof(why));
            vb->alive = false;
            snprintf(vb->last_recovery, sizeof(vb->last_recovery), "%s got no completion within "
                     "%u ms; device reset%s%s", virtio_blk_type_name(type),
                     VBLK_BRINGUP_TIMEOUT_MS, reset ? "" : " failed: ", why);
            fail_all(vb, BLK_CAUSE_TIMEOUT, vb->last_recovery);
            irq_restore(flags);
            break;
        }
        cpu_pause();
    }
    snprintf(detail, detail_size, "%s", req.detail);
    return req.cause;
}

/* ---- describe, shutdown ---- */

static const struct vblk_slot *last_slot(const struct vblk *vb, const struct blk_request *req)
{
    const struct vblk_rq *rq = vblk_rq(req);
    if (!(rq->flags & VBLK_RQ_HAS_LAST) || rq->vb != vb || rq->last_slot >= vb->vq.size)
        return NULL;
    const struct vblk_slot *slot = &vb->slots[rq->last_slot];
    return slot->req == req ? slot : NULL;
}

static void describe_slot(const struct vblk *vb, const struct vblk_slot *slot)
{
    char words[112] = "(in flight: not written yet)";
    if (!slot->in_flight)
        virtio_blk_status_cause(slot->type, slot->status, words, sizeof(words));
    klog(LOG_ERR, "  virtio-blk request (slot %u%s): %s sector %llu, lba %llu+%u, %u descriptors "
         "%s, status byte 0x%02x %s, used len %u\n", (unsigned)(slot - vb->slots),
         slot->in_flight ? ", in flight" : "", virtio_blk_type_name(slot->type),
         (unsigned long long)slot->dma->header.sector, (unsigned long long)slot->lba,
         slot->blocks, slot->ndesc,
         vb->lim.indirect ? "in an indirect table" : "chained in the ring",
         slot->status, words, slot->used_len);
    for (uint16_t i = 0; i < slot->ndesc && i < 8; i++) {
        const struct virtq_desc *d = &slot->dma->table[i];
        klog(LOG_ERR, "  desc[%u] addr 0x%llx len %u flags 0x%x%s%s next %u\n", i,
             (unsigned long long)d->addr, d->len, d->flags,
             d->flags & VIRTQ_DESC_F_WRITE ? " WRITE" : "",
             d->flags & VIRTQ_DESC_F_NEXT ? " NEXT" : "", d->next);
    }
    if (slot->ndesc > 8)
        klog(LOG_ERR, "  ... %u descriptors in all\n", slot->ndesc);
}

static void vblk_describe(struct blk_dev *dev, const struct blk_request *req)
{
    struct vblk *vb = dev->priv;
    char buf[200];
    const struct vblk_slot *slot = last_slot(vb, req);

    if (slot)
        describe_slot(vb, slot);
    else if (vblk_rq(req)->flags & VBLK_RQ_HAS_LAST)
        klog(LOG_ERR, "  its last virtio-blk request's slot carries a later request now\n");
    virtio_status_describe(vblk_pci_status(vb), buf, sizeof(buf));
    klog(LOG_ERR, "  %s device_status %s\n", vb->dev.name, buf);
    klog(LOG_ERR, "  queue 0: size %u, avail idx %u, used idx %u (taken %u), %u chains in flight, "
         "%u free descriptors, %s, %llu interrupts, %llu notifications (%llu suppressed)\n",
         vb->vq.size, vb->vq.avail_idx, vb->vq.used->idx, vb->vq.last_used, vb->vq.heads,
         vb->vq.num_free, vb->irq_mode == VBLK_IRQ_MSIX ? "msix" : "polled",
         (unsigned long long)vb->interrupts, (unsigned long long)vb->notifies,
         (unsigned long long)vb->notifies_suppressed);
    virtio_feature_words(vb->accepted, &virtio_blk_feature_names, buf, sizeof(buf));
    klog(LOG_ERR, "  %s features %s\n", vb->dev.name, buf);
    if (vb->resets)
        klog(LOG_ERR, "  %s: %u resets, last: %s\n", vb->dev.name, vb->resets, vb->last_reset);
}

static void vblk_shutdown(struct blk_dev *dev)
{
    struct vblk *vb = dev->priv;
    char detail[160], why[160], flushed[200] = "";

    if (vb->shut_down || !vb->alive)
        return;
    vb->shut_down = true;
    uint64_t start = time_ns();
    if (vb->lim.flush && !vb->lim.read_only) {
        enum blk_cause rc = vblk_sync(vb, VIRTIO_BLK_T_FLUSH, 0, 0, detail, sizeof(detail));
        if (rc == BLK_OK)
            snprintf(flushed, sizeof(flushed), "write cache flushed in %llu us; ",
                     (unsigned long long)((time_ns() - start) / 1000));
        else
            snprintf(flushed, sizeof(flushed), "flush failed: %s: %s; ", blk_cause_name(rc),
                     detail);
    }
    uint64_t reset_start = time_ns();
    uint64_t flags = irq_save();
    bool ok = vblk_pci_reset(vb, why, sizeof(why));
    vb->alive = false;
    if (vb->slots_in_flight || !blk_fifo_empty(&vb->pending))
        fail_all(vb, BLK_CAUSE_ABORTED, "the device was shut down");
    irq_restore(flags);
    if (ok)
        klog(LOG_INFO, "%s: shutdown: %sdevice reset (device_status 0) in %llu us\n", vb->dev.name,
             flushed, (unsigned long long)((time_ns() - reset_start) / 1000));
    else
        klog(LOG_ERR, "%s: shutdown: %s%s\n", vb->dev.name, flushed, why);
}

/* The queue's and the configuration's MSI-X entries to that CPU: the
 * driver's state is kept with irq_save(), right only on the CPU its
 * interrupts reach. Polled: nothing to move. */
static bool vblk_bind_cpu(struct blk_dev *dev, uint32_t apic_id)
{
    struct vblk *vb = dev->priv;
    if (vb->irq_mode != VBLK_IRQ_MSIX)
        return true;
    bool ok = pci_msix_retarget(vb->pci, vb->queue_entry, apic_id);
    if (ok && vb->config_entry != vb->queue_entry)
        ok = pci_msix_retarget(vb->pci, vb->config_entry, apic_id);
    return ok;
}

const struct blk_ops vblk_blk_ops = {
    .submit = vblk_submit,
    .kick = vblk_kick,
    .poll = vblk_poll,
    .bind_cpu = vblk_bind_cpu,
    .describe = vblk_describe,
    .shutdown = vblk_shutdown,
};

/* ---- the test hooks that need the I/O path's own state (the rest: virtio_test.c) ---- */

bool vblk_test_last_sent(const struct blk_dev *dev, const struct blk_request *req,
                         struct vblk_sent *out)
{
    const struct vblk *vb = vblk_of(dev);
    const struct vblk_slot *slot = vb ? last_slot(vb, req) : NULL;
    if (!slot)
        return false;
    *out = (struct vblk_sent){ .header = slot->dma->header, .ndesc = slot->ndesc,
                               .indirect = vb->lim.indirect, .status = slot->status,
                               .used_len = slot->used_len };
    for (uint16_t i = 0; i < slot->ndesc && i < 8; i++)
        out->desc[i] = slot->dma->table[i];
    return true;
}

bool vblk_test_reset(struct blk_dev *dev, const char *reason)
{
    struct vblk *vb = vblk_of(dev);
    if (!vb || !vb->alive)
        return false;
    uint64_t flags = irq_save();
    snprintf(vb->last_recovery, sizeof(vb->last_recovery), "test: reset with requests in flight");
    bool ok = recover(vb, reason, BLK_OK);
    irq_restore(flags);
    return ok;
}
