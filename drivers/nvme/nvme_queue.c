/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_queue.c — the queue pairs themselves (NVMe 1.4 §4.1,
 * §4.6, §3.1.24-25): their memory (SQ, CQ, command slots and each slot's PRP
 * list pages, allocated once), an SQE put at the tail, the SQ tail and CQ head
 * doorbells on the CAP.DSTRD grid (through the shadow doorbell buffer when
 * Doorbell Buffer Config is in effect, §5.7), and the CQ primitives both the
 * admin and the I/O path reap with: is an entry posted (phase tag), take it.
 * Also the recovery token (nvme_recovery_claim): which CPU may run Abort
 * and reset, claimed with one compare-and-swap and never waited for.
 * The lowest hardware layer of the driver: it knows nothing of requests,
 * admin commands or recovery itself, and calls only the pure files. Its
 * functions on a queue run with that queue's lock held by the caller (or
 * before the queue is in use). */
#include "drivers/nvme/nvme.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/smp.h"
#include "lib/string.h"

/* ---- the recovery token ---- */

bool nvme_recovery_claim(struct nvme_ctrl *c)
{
    uint32_t me = smp_this_online_rank() + 1, none = 0;
    if (__atomic_load_n(&c->recovery_owner, __ATOMIC_ACQUIRE) == me) {
        c->recovery_depth++;
        return true;
    }
    if (!__atomic_compare_exchange_n(&c->recovery_owner, &none, me, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    c->recovery_depth = 1;
    return true;
}

void nvme_recovery_release(struct nvme_ctrl *c)
{
    if (--c->recovery_depth == 0)
        __atomic_store_n(&c->recovery_owner, 0, __ATOMIC_RELEASE);
}

uint32_t nvme_read_csts(struct nvme_ctrl *c)
{
    return mmio_read32(c->regs, NVME_REG_CSTS);
}

/* ---- memory ---- */

/* Each command slot's PRP list pages: pages_per_cmd of page_mem in turn,
 * their descriptors after the slots in cmd_mem. */
static void assign_prp_pages(struct nvme_queue *q)
{
    struct nvme_prp_page *pages = (struct nvme_prp_page *)(q->cmds + q->depth);
    for (uint32_t i = 0; i < q->depth; i++) {
        q->cmds[i].pages = pages + (uint64_t)i * q->pages_per_cmd;
        for (uint32_t p = 0; p < q->pages_per_cmd; p++) {
            uint64_t off = ((uint64_t)i * q->pages_per_cmd + p) * NVME_PAGE_SIZE;
            q->cmds[i].pages[p].entries = (uint64_t *)((uint8_t *)q->page_mem.virt + off);
            q->cmds[i].pages[p].phys = q->page_mem.phys + off;
        }
    }
}

bool nvme_queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid, uint16_t depth,
                      uint32_t pages_per_cmd)
{
    q->lock = (struct spinlock)SPINLOCK_INIT(qid ? "nvme I/O queue" : "nvme admin queue");
    q->ctrl = c;
    q->qid = qid;
    q->depth = depth;
    q->vector = -1;
    q->pages_per_cmd = pages_per_cmd;
    q->sq_mem = dma_alloc((uint64_t)depth * sizeof(struct nvme_sqe), NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    q->cq_mem = dma_alloc((uint64_t)depth * sizeof(struct nvme_cqe), NVME_PAGE_SIZE, 0, DMA_ANYWHERE);
    q->cmd_mem = dma_alloc((uint64_t)depth * (sizeof(struct nvme_cmd) +
                           pages_per_cmd * sizeof(struct nvme_prp_page)), 0, 0, DMA_ANYWHERE);
    if (pages_per_cmd)
        q->page_mem = dma_alloc((uint64_t)depth * pages_per_cmd * NVME_PAGE_SIZE, NVME_PAGE_SIZE,
                                0, DMA_ANYWHERE);
    if (!q->sq_mem.virt || !q->cq_mem.virt || !q->cmd_mem.virt ||
        (pages_per_cmd && !q->page_mem.virt)) {
        klog(LOG_ERR, "%s: queue %u: no memory for %u entries (%u PRP list pages per command)\n",
             c->name, qid, depth, pages_per_cmd);
        return false;
    }
    q->sq = q->sq_mem.virt;
    q->cq = q->cq_mem.virt;
    q->cmds = q->cmd_mem.virt;
    assign_prp_pages(q);
    nvme_queue_reset_indexes(q);
    return true;
}

void nvme_queue_reset_indexes(struct nvme_queue *q)
{
    q->sq_tail = q->sq_head = q->cq_head = q->sq_tail_rung = q->cq_head_rung = 0;
    q->phase = 1;
    q->stale_since_ns = 0;
    memset(q->cq_mem.virt, 0, q->cq_mem.size);  /* phase 0 everywhere: nothing posted */
}

/* ---- submission ---- */

void nvme_queue_post(struct nvme_queue *q, const struct nvme_sqe *sqe)
{
    volatile struct nvme_sqe *slot = &q->sq[q->sq_tail];
    *(struct nvme_sqe *)slot = *sqe;
    q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
}

/* The SQ is full when the tail is one behind the head the controller last
 * reported in a CQE (§4.1.1). */
bool nvme_queue_sq_has_room(const struct nvme_queue *q)
{
    return (uint16_t)((q->sq_tail + 1) % q->depth) != q->sq_head;
}

/* ---- doorbells ---- */

/* Offsets from the first doorbell (1000h): the same in BAR0 and in the
 * shadow doorbell and EventIdx buffers. */
static uint32_t sq_doorbell(const struct nvme_queue *q)
{
    return nvme_doorbell_offset(q->qid, false, NVME_CAP_DSTRD(q->ctrl->cap)) - NVME_REG_DOORBELLS;
}

static uint32_t cq_doorbell(const struct nvme_queue *q)
{
    return nvme_doorbell_offset(q->qid, true, NVME_CAP_DSTRD(q->ctrl->cap)) - NVME_REG_DOORBELLS;
}

static void ring(struct nvme_queue *q, uint32_t offset, uint16_t value, uint16_t old_value)
{
    struct nvme_ctrl *c = q->ctrl;
    if (c->shadow_doorbells) {
        volatile uint32_t *shadow = (volatile uint32_t *)((uint8_t *)c->dbbuf_mem.virt + offset);
        volatile uint32_t *event = (volatile uint32_t *)((uint8_t *)c->eventidx_mem.virt + offset);
        *shadow = value;
        /* The shadow write must be visible before EventIdx is read. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!nvme_shadow_needs_mmio((uint16_t)*event, value, old_value))
            return;
    }
    /* SQEs and shadow values are in memory before the doorbell (x86 keeps
     * stores in order; the fence stops the compiler). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    mmio_write32(c->regs, NVME_REG_DOORBELLS + offset, value);
    q->mmio_doorbell_writes++;
}

void nvme_ring_sq(struct nvme_queue *q)
{
    if (q->sq_tail == q->sq_tail_rung)
        return;
    uint16_t old = q->sq_tail_rung;
    q->sq_tail_rung = q->sq_tail;
    q->sq_doorbell_writes++;
    ring(q, sq_doorbell(q), q->sq_tail, old);
}

void nvme_ring_cq(struct nvme_queue *q)
{
    uint16_t old = q->cq_head_rung;
    q->cq_head_rung = q->cq_head;
    q->cq_doorbell_writes++;
    ring(q, cq_doorbell(q), q->cq_head, old);
}

/* ---- completions ---- */

bool nvme_queue_cqe_pending(const struct nvme_queue *q)
{
    return (q->cq[q->cq_head].status & NVME_CQE_PHASE) == q->phase;
}

struct nvme_cqe nvme_queue_take_cqe(struct nvme_queue *q)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);   /* the entry after its phase bit */
    struct nvme_cqe cqe = *(const struct nvme_cqe *)&q->cq[q->cq_head];
    if (++q->cq_head == q->depth) {
        q->cq_head = 0;
        q->phase ^= 1;
    }
    return cqe;
}
