/* SPDX-License-Identifier: MIT */
/* drivers/nvme/nvme_admin.c — admin commands (NVMe 1.4 §5): Identify,
 * Set Features (Number of Queues), Create/Delete I/O Submission and Completion
 * Queue, Abort and Doorbell Buffer Config. The admin queue is always polled
 * and carries one command at a time: bring-up and recovery are sequential,
 * so nothing is gained by queueing admin commands. Every wait is bounded and
 * also watches CSTS.CFS. */
#include "drivers/nvme/nvme.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/time.h"
#include "lib/string.h"

static uint16_t next_admin_cid;

/* Waits for the completion of `cid` on the admin CQ. */
static uint16_t admin_wait(struct nvme_ctrl *c, uint16_t cid, uint32_t timeout_ms,
                           struct nvme_cqe *out)
{
    struct nvme_queue *q = &c->admin;
    uint64_t deadline = deadline_after_ms(timeout_ms);
    unsigned spins = 0;

    for (;;) {
        if (nvme_queue_cqe_pending(q)) {
            struct nvme_cqe cqe = nvme_queue_take_cqe(q);
            q->sq_head = cqe.sqhd;
            nvme_ring_cq(q);
            if (cqe.cid == cid) {
                if (out)
                    *out = cqe;
                return nvme_status_from_cqe(cqe.status);
            }
            char words[112];
            nvme_status_describe(nvme_status_from_cqe(cqe.status), words, sizeof(words));
            klog(LOG_WARN, "%s: admin completion for cid %u (%s) while waiting for %u "
                 "(ignored)\n", c->name, cqe.cid, words, cid);
            continue;
        }
        if ((++spins & 63) == 0 && (nvme_read_csts(c) & NVME_CSTS_CFS))
            return NVME_STATUS_HOST_CFS;
        if (deadline_passed(deadline))
            return NVME_STATUS_HOST_TIMEOUT;
        cpu_pause();
    }
}

uint16_t nvme_admin_sync(struct nvme_ctrl *c, struct nvme_sqe *sqe, uint32_t timeout_ms,
                         struct nvme_cqe *cqe_out)
{
    /* CID FFFFh is kept out: the Error Information log uses it for "no
     * command" (NVMe 2.0 §4.2). */
    if (next_admin_cid == 0xffff)
        next_admin_cid = 0;
    uint16_t cid = next_admin_cid++;
    sqe->cdw0 = (sqe->cdw0 & 0xffff) | (uint32_t)cid << 16;
    nvme_queue_post(&c->admin, sqe);
    nvme_ring_sq(&c->admin);
    return admin_wait(c, cid, timeout_ms, cqe_out);
}

/* Admin commands get the controller's own ready timeout, at least 5 s. */
static uint32_t admin_timeout(const struct nvme_ctrl *c)
{
    return c->timeout_ms > 5000 ? c->timeout_ms : 5000;
}

uint16_t nvme_identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, uint64_t buf_phys)
{
    return nvme_identify_csi(c, cns, NVME_CSI_NVM, nsid, buf_phys);
}

uint16_t nvme_identify_csi(struct nvme_ctrl *c, uint8_t cns, uint8_t csi, uint32_t nsid,
                           uint64_t buf_phys)
{
    struct nvme_sqe sqe = { .cdw0 = NVME_ADMIN_IDENTIFY, .nsid = nsid, .prp1 = buf_phys,
                            .cdw10 = cns, .cdw11 = (uint32_t)csi << NVME_IDENTIFY_CSI_SHIFT };
    return nvme_admin_sync(c, &sqe, admin_timeout(c), NULL);
}

uint16_t nvme_set_number_of_queues(struct nvme_ctrl *c, uint16_t wanted, uint16_t *granted)
{
    struct nvme_cqe cqe;
    uint32_t n = (uint32_t)(wanted - 1);
    struct nvme_sqe sqe = { .cdw0 = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_NUMBER_OF_QUEUES,
                            .cdw11 = n << 16 | n };
    uint16_t st = nvme_admin_sync(c, &sqe, admin_timeout(c), &cqe);
    if (st == 0) {
        /* DW0: NSQA 15:0, NCQA 31:16, both 0-based (§5.21.1.7). */
        uint32_t nsqa = (cqe.dw0 & 0xffff) + 1, ncqa = (cqe.dw0 >> 16) + 1;
        *granted = (uint16_t)(nsqa < ncqa ? nsqa : ncqa);
    }
    return st;
}

/* The completion queue first, then the submission queue that posts to it. */
uint16_t nvme_create_io_queues(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t vector_index)
{
    uint32_t qsize = (uint32_t)(q->depth - 1) << 16 | q->qid;
    uint32_t irq = q->irq_mode == NVME_IRQ_POLL ? 0
                 : (uint32_t)vector_index << 16 | NVME_CQ_IRQ_ENABLED;
    struct nvme_sqe cq = { .cdw0 = NVME_ADMIN_CREATE_CQ, .prp1 = q->cq_mem.phys,
                           .cdw10 = qsize, .cdw11 = irq | NVME_QUEUE_PHYS_CONTIG };
    uint16_t st = nvme_admin_sync(c, &cq, admin_timeout(c), NULL);
    if (st)
        return st;
    struct nvme_sqe sq = { .cdw0 = NVME_ADMIN_CREATE_SQ, .prp1 = q->sq_mem.phys,
                           .cdw10 = qsize, .cdw11 = (uint32_t)q->qid << 16 | NVME_QUEUE_PHYS_CONTIG };
    return nvme_admin_sync(c, &sq, admin_timeout(c), NULL);
}

uint16_t nvme_delete_io_queues(struct nvme_ctrl *c, struct nvme_queue *q)
{
    struct nvme_sqe sq = { .cdw0 = NVME_ADMIN_DELETE_SQ, .cdw10 = q->qid };
    uint16_t st = nvme_admin_sync(c, &sq, admin_timeout(c), NULL);
    if (st)
        return st;
    struct nvme_sqe cq = { .cdw0 = NVME_ADMIN_DELETE_CQ, .cdw10 = q->qid };
    return nvme_admin_sync(c, &cq, admin_timeout(c), NULL);
}

uint16_t nvme_abort(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid, bool *not_aborted)
{
    struct nvme_cqe cqe;
    struct nvme_sqe sqe = { .cdw0 = NVME_ADMIN_ABORT, .cdw10 = (uint32_t)cid << 16 | sqid };
    uint16_t st = nvme_admin_sync(c, &sqe, admin_timeout(c), &cqe);
    /* DW0 bit 0 set: the command was not aborted (§5.1). */
    *not_aborted = st != 0 || (cqe.dw0 & 1);
    return st;
}

/* Shadow doorbell and EventIdx buffers, one page each (§5.7, NVMe 1.3+). */
uint16_t nvme_doorbell_buffer_config(struct nvme_ctrl *c)
{
    struct nvme_sqe sqe = { .cdw0 = NVME_ADMIN_DOORBELL_BUFFER_CONFIG,
                            .prp1 = c->dbbuf_mem.phys, .prp2 = c->eventidx_mem.phys };
    memset(c->dbbuf_mem.virt, 0, NVME_PAGE_SIZE);
    memset(c->eventidx_mem.virt, 0, NVME_PAGE_SIZE);
    return nvme_admin_sync(c, &sqe, admin_timeout(c), NULL);
}
