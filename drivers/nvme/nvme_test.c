/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_test.c — what the nvme suite (tests/kernel/test_nvme.c)
 * may see of the driver and what it may make happen, so the suite touches no
 * driver struct: nvme_test_view() copies the counters and indexes a case
 * checks (controller: resets, CFS, Aborts, CAP.TO, MDTS; one I/O queue:
 * doorbell counts, SQ/CQ indexes, phase, interrupts, shadow doorbells), and
 * each hook that provokes something (a read to another NSID, a reset with
 * commands in flight, CSTS.CFS while enabling) is a function named for it.
 * The driver's top layer: it calls nvme_ctrl.c and the files below, and no
 * file of the driver calls it. The hooks that need the I/O path's private
 * request state (the last command as sent, a masked MSI-X vector) stay in
 * nvme_io.c. */
#include "drivers/nvme/nvme.h"
#include "lib/format.h"
#include "lib/string.h"

/* A shadow doorbell or EventIdx buffer's dword for the doorbell at `offset`
 * from the first (1000h): the same offsets as in BAR0 (§5.7). */
static uint32_t buffer_dword(const struct dma_region *buffer, uint32_t offset)
{
    return *(const volatile uint32_t *)((const uint8_t *)buffer->virt + offset);
}

static void view_shadow(const struct nvme_ctrl *c, const struct nvme_queue *q,
                        struct nvme_test_queue_view *v)
{
    uint32_t dstrd = NVME_CAP_DSTRD(c->cap);
    uint32_t sq = nvme_doorbell_offset(q->qid, false, dstrd) - NVME_REG_DOORBELLS;
    uint32_t cq = nvme_doorbell_offset(q->qid, true, dstrd) - NVME_REG_DOORBELLS;

    v->shadow_sq_tail = buffer_dword(&c->dbbuf_mem, sq);
    v->shadow_cq_head = buffer_dword(&c->dbbuf_mem, cq);
    v->eventidx_sq = buffer_dword(&c->eventidx_mem, sq);
    v->eventidx_cq = buffer_dword(&c->eventidx_mem, cq);
}

static void view_queue(const struct nvme_ctrl *c, const struct nvme_queue *q,
                       struct nvme_test_queue_view *v)
{
    v->qid = q->qid;
    v->depth = q->depth;
    v->irq_mode = q->irq_mode;
    v->interrupts = q->interrupts;
    v->irq_apic_id = q->irq_apic_id;
    v->last_irq_apic_id = q->last_irq_apic_id;
    v->irqs_off_target = q->irqs_off_target;
    v->commands = q->commands;
    v->completed = q->completed;
    v->sq_doorbell_writes = q->sq_doorbell_writes;
    v->cq_doorbell_writes = q->cq_doorbell_writes;
    v->mmio_doorbell_writes = q->mmio_doorbell_writes;
    v->sq_tail = q->sq_tail;
    v->sq_head = q->sq_head;
    v->cq_head = q->cq_head;
    v->phase = q->phase;
    v->in_flight = q->in_flight;
    v->prp_pages_phys = q->page_mem.phys;
    v->prp_pages_bytes = q->page_mem.size;
    if (c->shadow_doorbells)
        view_shadow(c, q, v);
}

static void view_controller(const struct nvme_ns *ns, struct nvme_test_view *v)
{
    const struct nvme_ctrl *c = ns->ctrl;

    strlcpy(v->ctrl_name, c->name, sizeof(v->ctrl_name));
    v->nsid = ns->nsid;
    v->nsid_once = ns->test_nsid_once;
    v->cap = c->cap;
    v->csts = nvme_read_csts(ns->ctrl);
    v->timeout_ms = c->timeout_ms;
    v->max_transfer_bytes = c->max_transfer_bytes;
    v->mdts_bytes = c->mdts_bytes;
    v->nio = c->nio;
    v->nio_wanted = c->nio_wanted;
    v->nio_granted = c->nio_granted;
    v->queue_depth = c->queue_depth;
    v->irq_mode = c->irq_mode;
    v->alive = c->alive;
    v->shadow_doorbells = c->shadow_doorbells;
    v->resets = c->resets;
    v->aborts_sent = c->aborts_sent;
    v->aborts_not_done = c->aborts_not_done;
    v->cfs_seen = c->cfs_seen;
    v->timeouts = c->timeouts;
    strlcpy(v->last_reset, c->last_reset, sizeof(v->last_reset));
}

bool nvme_test_view(struct blk_dev *dev, unsigned queue, struct nvme_test_view *out)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    if (!ns || queue >= ns->ctrl->nio)
        return false;
    memset(out, 0, sizeof(*out));
    view_controller(ns, out);
    view_queue(ns->ctrl, &ns->ctrl->io[queue], &out->queue);
    return true;
}

/* ---- hooks ---- */

void nvme_test_nsid_once(struct blk_dev *dev, uint32_t nsid)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    if (ns)
        ns->test_nsid_once = nsid;
}

bool nvme_test_set_sgl(struct blk_dev *dev, bool on, bool *was)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    if (!ns)
        return false;
    *was = ns->ctrl->sgl;
    if (on && !NVME_SGLS_SUPPORT(ns->ctrl->id->sgls))
        return false;
    ns->ctrl->sgl = on;
    return true;
}

bool nvme_test_reset(struct blk_dev *dev, const char *reason)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    return ns && nvme_ctrl_reset(ns->ctrl, reason);
}

enum blk_cause nvme_test_enable_misaligned_asq(struct blk_dev *dev, char *why, size_t why_size)
{
    struct nvme_ns *ns = nvme_ns_of(dev);
    if (!ns) {
        snprintf(why, why_size, "%s is not an NVMe namespace", dev->name);
        return BLK_CAUSE_INVALID;
    }
    struct nvme_ctrl *c = ns->ctrl;
    uint64_t asq = c->admin.sq_mem.phys;
    c->admin.sq_mem.phys = asq + 0x800;
    enum blk_cause rc = nvme_ctrl_enable(c, why, why_size);
    c->admin.sq_mem.phys = asq;
    return rc;
}
