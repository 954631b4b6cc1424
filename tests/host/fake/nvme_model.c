/* SPDX-License-Identifier: MIT */
/* tests/host/fake/nvme_model.c — the programmable NVMe controller of
 * tests/host/fake/nvme_model.h: registers (§3.1), admin and I/O queues in the
 * driver's DMA memory (§4), the admin commands the driver sends (Identify,
 * Set Features Number of Queues, Create/Delete I/O SQ/CQ, Abort) and Read,
 * Write, Flush, Write Zeroes, Dataset Management on one namespace. Commands
 * are fetched when their SQ tail doorbell is written and completed on a
 * later clock tick, in the order the test chose. */
#include "tests/host/fake/nvme_model.h"
#include "tests/host/fake/fake.h"
#include "lib/string.h"

#include <stdlib.h>

#define PAGE 4096u
#define MODEL_REGS_SIZE 0x4000u
#define ST_INVALID_OPCODE   0x8001u     /* generic, DNR */
#define ST_INVALID_FIELD    0x8002u
#define ST_ABORT_REQUESTED  0x0007u
#define ST_SEQUENCE_ERROR   0x800cu
#define ST_INVALID_NS       0x800bu
#define ST_LBA_RANGE        0x8080u
#define ST_INVALID_QID      0x8101u     /* command specific, DNR */
#define ST_INVALID_QSIZE    0x8102u
#define ST_INVALID_DELETION 0x810cu

static uint16_t dstrd(const struct nvme_model *m) { return (uint16_t)NVME_CAP_DSTRD(m->cap); }

/* ---- state that follows the clock ---- */

static void update(struct nvme_model *m)
{
    uint64_t now = fake_now();
    if (m->enabled && !m->ready && m->ready_ns != NVME_MODEL_NEVER &&
        now - m->en_changed_ns >= m->ready_ns)
        m->ready = true;
    if (!m->enabled && m->ready && now - m->en_changed_ns >= m->disable_ns)
        m->ready = false;
    if (m->shutting_down && !m->last_shst_complete_ns && m->shn_done_ns != NVME_MODEL_NEVER &&
        now - m->shn_written_ns >= m->shn_done_ns)
        m->last_shst_complete_ns = m->shn_written_ns + m->shn_done_ns;
}

unsigned nvme_model_shst(const struct nvme_model *m)
{
    if (!m->shutting_down)
        return 0;
    uint64_t elapsed = fake_now() - m->shn_written_ns;
    if (m->shn_done_ns != NVME_MODEL_NEVER && elapsed >= m->shn_done_ns)
        return NVME_CSTS_SHST_COMPLETE;
    return elapsed >= m->shn_begin_ns ? 1 : 0;
}

static uint32_t csts(struct nvme_model *m)
{
    update(m);
    return (m->ready ? NVME_CSTS_RDY : 0) | (m->cfs ? NVME_CSTS_CFS : 0) |
           nvme_model_shst(m) << 2;
}

/* ---- memory the driver owns ---- */

static void *dma(uint64_t phys, uint64_t len) { return fake_dma_ptr(phys, len); }

uint8_t *nvme_model_block(struct nvme_model *m, uint64_t lba)
{
    return m->media + (lba << m->lba_shift);
}

/* Copies `bytes` between the media at `media` and the PRPs (§4.3, 4 KiB pages). */
static bool prp_copy(struct nvme_model *m, uint64_t prp1, uint64_t prp2, uint8_t *media,
                     uint64_t bytes, bool to_host)
{
    uint64_t done = 0;
    uint64_t chunk = PAGE - (prp1 & (PAGE - 1));
    uint64_t addr = prp1;
    uint64_t *list = NULL;
    unsigned list_left = 0;
    unsigned entries = 0;

    (void)m;
    while (done < bytes) {
        if (chunk > bytes - done)
            chunk = bytes - done;
        uint8_t *host = dma(addr, chunk);
        if (!host)
            return false;
        if (to_host)
            memcpy(host, media + done, chunk);
        else
            memcpy(media + done, host, chunk);
        done += chunk;
        entries++;
        if (done == bytes)
            break;
        chunk = PAGE;
        if (entries == 1 && bytes - done <= PAGE) {
            addr = prp2;                        /* PRP2 is the second page itself */
        } else {
            if (!list) {
                list = dma(prp2, 8);
                list_left = (PAGE - (prp2 & (PAGE - 1))) / 8;
                if (!list)
                    return false;
            }
            if (list_left == 1 && bytes - done > PAGE) {
                list = dma(*list, PAGE);        /* the last entry chains the next list page */
                list_left = PAGE / 8;
                if (!list)
                    return false;
            }
            addr = *list++;
            list_left--;
        }
        if (addr & (PAGE - 1)) {
            fake_model_error("PRP entry 0x%llx after the first is not page aligned",
                             (unsigned long long)addr);
            return false;
        }
    }
    return true;
}

/* ---- admin commands (§5) ---- */

static void pad(char *dst, size_t n, const char *s)
{
    memset(dst, ' ', n);
    memcpy(dst, s, strlen(s) < n ? strlen(s) : n);
}

static uint16_t identify(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint8_t *buf = dma(sqe->prp1, PAGE);
    if (!buf)
        return ST_INVALID_FIELD;
    memset(buf, 0, PAGE);
    switch (sqe->cdw10 & 0xff) {
    case NVME_IDENTIFY_CNS_CTRL: {
        struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)buf;
        id->vid = 0x1b36;
        pad(id->sn, sizeof(id->sn), "FAKE-NVME-0001");
        pad(id->mn, sizeof(id->mn), "bareio fake NVMe");
        pad(id->fr, sizeof(id->fr), "1.0");
        id->mdts = m->mdts;
        id->ver = m->vs;
        id->rtd3e = m->rtd3e_us;
        id->sqes = 0x66;
        id->cqes = 0x44;
        id->nn = m->nn_zero ? 0 : m->namespaces ? m->namespaces : 1;
        id->oncs = NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES;
        id->vwc = NVME_VWC_PRESENT;
        return 0;
    }
    case NVME_IDENTIFY_CNS_NS: {
        struct nvme_id_ns *id = (struct nvme_id_ns *)buf;
        uint32_t active = m->namespaces ? m->namespaces : 1;
        if (sqe->nsid < 1 || sqe->nsid > active)
            return 0;                           /* inactive: all zeroes */
        id->nsze = id->ncap = id->nuse = sqe->nsid == 1 ? m->blocks : 8;
        id->dlfeat = NVME_DLFEAT_READ_ZEROES;
        id->lbaf[0].lbads = (uint8_t)m->lba_shift;
        return 0;
    }
    case NVME_IDENTIFY_CNS_ACTIVE_NS_LIST: {
        /* Up to 1024 active NSIDs above the one given, ascending (§5.15.2.2). */
        uint32_t active = m->namespaces ? m->namespaces : 1, n = 0;
        for (uint64_t nsid = (uint64_t)sqe->nsid + 1; nsid <= active && n < 1024; nsid++)
            ((uint32_t *)buf)[n++] = (uint32_t)nsid;
        return 0;
    }
    case NVME_IDENTIFY_CNS_NS_DESCRIPTORS:
        if (m->zoned_nsid && sqe->nsid == m->zoned_nsid) {
            buf[0] = 0x04;                      /* CSI descriptor, 1 byte: zoned */
            buf[1] = 1;
            buf[4] = NVME_CSI_ZONED;
        }
        return 0;
    case NVME_IDENTIFY_CNS_CSI_NS:
        if (!m->zoned_nsid || sqe->nsid != m->zoned_nsid || (sqe->cdw11 >> 24) != NVME_CSI_ZONED)
            return ST_INVALID_FIELD;
        buf[2816 + 1] = 0x01;                   /* LBAFE 0: ZSZE 256 blocks */
        return 0;
    default:
        return ST_INVALID_FIELD;
    }
}

static bool any_io_cq(const struct nvme_model *m)
{
    for (unsigned q = 1; q < NVME_MODEL_QUEUES; q++)
        if (m->cq[q].exists)
            return true;
    return false;
}

static uint16_t create_cq(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10, size = (uint16_t)((sqe->cdw10 >> 16) + 1);
    if (qid == 0 || qid > m->max_queue_pairs || qid >= NVME_MODEL_QUEUES || m->cq[qid].exists)
        return ST_INVALID_QID;
    if (size < 2 || size > NVME_CAP_MQES(m->cap) + 1)
        return ST_INVALID_QSIZE;
    if (!(sqe->cdw11 & NVME_QUEUE_PHYS_CONTIG) || !dma(sqe->prp1, (uint64_t)size * 16))
        return ST_INVALID_FIELD;
    m->cq[qid] = (struct nvme_model_cq){ true, sqe->prp1, size, 0, 0, 1 };
    return 0;
}

static uint16_t create_sq(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10, size = (uint16_t)((sqe->cdw10 >> 16) + 1);
    uint16_t cqid = (uint16_t)(sqe->cdw11 >> 16);
    if (qid == 0 || qid > m->max_queue_pairs || qid >= NVME_MODEL_QUEUES || m->sq[qid].exists)
        return ST_INVALID_QID;
    if (cqid >= NVME_MODEL_QUEUES || !m->cq[cqid].exists || cqid == 0)
        return 0x8100;                          /* completion queue invalid */
    if (size < 2 || size > NVME_CAP_MQES(m->cap) + 1)
        return ST_INVALID_QSIZE;
    if (!(sqe->cdw11 & NVME_QUEUE_PHYS_CONTIG) || !dma(sqe->prp1, (uint64_t)size * 64))
        return ST_INVALID_FIELD;
    m->sq[qid] = (struct nvme_model_sq){ true, sqe->prp1, size, cqid, 0, 0 };
    return 0;
}

static void drop_pending_of(struct nvme_model *m, uint16_t sqid)
{
    for (unsigned i = 0; i < m->pending_hi; i++)
        if (m->pending[i].used && m->pending[i].sqid == sqid) {
            m->pending[i].used = false;
            m->npending--;
        }
}

static uint16_t delete_sq(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= NVME_MODEL_QUEUES || !m->sq[qid].exists)
        return ST_INVALID_QID;
    drop_pending_of(m, qid);
    m->sq[qid].exists = false;
    return 0;
}

static uint16_t delete_cq(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint16_t qid = (uint16_t)sqe->cdw10;
    if (qid == 0 || qid >= NVME_MODEL_QUEUES || !m->cq[qid].exists)
        return ST_INVALID_QID;
    for (unsigned q = 1; q < NVME_MODEL_QUEUES; q++)
        if (m->sq[q].exists && m->sq[q].cqid == qid)
            return ST_INVALID_DELETION;
    m->cq[qid].exists = false;
    return 0;
}

static void post(struct nvme_model *m, struct nvme_model_cmd *c, uint16_t status, uint32_t dw0);

static uint16_t abort_command(struct nvme_model *m, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    uint16_t sqid = (uint16_t)sqe->cdw10, cid = (uint16_t)(sqe->cdw10 >> 16);
    m->aborts++;
    *dw0 = 1;                                   /* not aborted */
    if (!m->abort_works)
        return 0;
    for (unsigned i = 0; i < m->pending_hi; i++) {
        struct nvme_model_cmd *c = &m->pending[i];
        if (c->used && c->sqid == sqid && c->cid == cid) {
            post(m, c, ST_ABORT_REQUESTED, 0);  /* the aborted command first (§5.1) */
            m->aborts_done++;
            *dw0 = 0;
            break;
        }
    }
    return 0;
}

static uint16_t admin(struct nvme_model *m, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    uint8_t opc = NVME_SQE_OPC(sqe->cdw0);
    m->admin_commands[opc]++;
    switch (opc) {
    case NVME_ADMIN_IDENTIFY:
        return identify(m, sqe);
    case NVME_ADMIN_SET_FEATURES:
        if ((sqe->cdw10 & 0xff) == NVME_FEAT_NUMBER_OF_QUEUES) {
            if (any_io_cq(m))
                return ST_SEQUENCE_ERROR;       /* as QEMU: only before queues exist */
            uint32_t n = (uint32_t)m->max_queue_pairs - 1;
            *dw0 = n << 16 | n;
        }
        return 0;
    case NVME_ADMIN_CREATE_CQ:
        return create_cq(m, sqe);
    case NVME_ADMIN_CREATE_SQ:
        return create_sq(m, sqe);
    case NVME_ADMIN_DELETE_SQ:
        return delete_sq(m, sqe);
    case NVME_ADMIN_DELETE_CQ:
        return delete_cq(m, sqe);
    case NVME_ADMIN_ABORT:
        return abort_command(m, sqe, dw0);
    case NVME_ADMIN_GET_LOG_PAGE:
        return 0;
    default:
        return ST_INVALID_OPCODE;
    }
}

/* ---- NVM commands ---- */

static uint16_t io(struct nvme_model *m, const struct nvme_sqe *sqe)
{
    uint8_t opc = NVME_SQE_OPC(sqe->cdw0);
    uint64_t slba = sqe->cdw10 | (uint64_t)sqe->cdw11 << 32;
    uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;

    m->io_commands[opc]++;
    if (sqe->nsid != 1)
        return ST_INVALID_NS;
    switch (opc) {
    case NVME_CMD_FLUSH:
        return 0;
    case NVME_CMD_READ:
    case NVME_CMD_WRITE:
    case NVME_CMD_WRITE_ZEROES:
        if (slba >= m->blocks || nlb > m->blocks - slba)
            return ST_LBA_RANGE;
        if (opc == NVME_CMD_WRITE_ZEROES) {
            memset(nvme_model_block(m, slba), 0, (uint64_t)nlb << m->lba_shift);
            return 0;
        }
        if (m->mdts && ((uint64_t)nlb << m->lba_shift) > (PAGE << m->mdts))
            return ST_INVALID_FIELD;
        if (!prp_copy(m, sqe->prp1, sqe->prp2, nvme_model_block(m, slba),
                      (uint64_t)nlb << m->lba_shift, opc == NVME_CMD_READ))
            return 0x0006;                      /* internal error: the data went nowhere */
        return 0;
    case NVME_CMD_DSM: {
        const struct nvme_dsm_range *r = dma(sqe->prp1, sizeof(*r) * ((sqe->cdw10 & 0xff) + 1));
        if (!r)
            return ST_INVALID_FIELD;
        for (unsigned i = 0; i <= (sqe->cdw10 & 0xff); i++) {
            if (r[i].slba >= m->blocks || r[i].nlb > m->blocks - r[i].slba)
                return ST_LBA_RANGE;
            if (sqe->cdw11 & NVME_DSM_ATTR_AD)
                memset(nvme_model_block(m, r[i].slba), 0, (uint64_t)r[i].nlb << m->lba_shift);
        }
        return 0;
    }
    default:
        return ST_INVALID_OPCODE;
    }
}

/* ---- queues ---- */

static void post(struct nvme_model *m, struct nvme_model_cmd *c, uint16_t status, uint32_t dw0)
{
    struct nvme_model_sq *sq = &m->sq[c->sqid];
    struct nvme_model_cq *cq = &m->cq[sq->cqid];
    struct nvme_cqe *e = dma(cq->base + (uint64_t)cq->tail * 16, 16);

    for (unsigned i = 0; i < m->pending_hi; i++)
        if (c->sqid && m->pending[i].used && &m->pending[i] != c &&
            m->pending[i].sqid == c->sqid && m->pending[i].seq < c->seq) {
            m->out_of_order++;
            break;
        }
    c->used = false;
    m->npending--;
    if (!e)
        return;
    if ((uint16_t)((cq->tail + 1) % cq->size) == cq->head)
        fake_model_error("cq %u overflows: the driver let more commands out than it has entries",
                         sq->cqid);
    e->dw0 = dw0;
    e->dw1 = 0;
    e->sqhd = sq->head;
    e->sqid = c->sqid;
    e->cid = c->cid;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->status = (uint16_t)((status & 0xf000) | (status & 0x7ff) << 1 | cq->phase);
    if (++cq->tail == cq->size) {
        cq->tail = 0;
        cq->phase ^= 1;
    }
    if (c->sqid)
        m->io_completed++;
}

static unsigned outstanding_io(const struct nvme_model *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->pending_hi; i++)
        n += m->pending[i].used && m->pending[i].sqid != 0;
    return n;
}

unsigned nvme_model_outstanding(const struct nvme_model *m) { return outstanding_io(m); }

static struct {
    uint8_t opc;
    uint64_t slba;
    unsigned count;
} attempts[1024];

static unsigned attempt_of(const struct nvme_sqe *sqe)
{
    uint8_t opc = NVME_SQE_OPC(sqe->cdw0);
    uint64_t slba = sqe->cdw10 | (uint64_t)sqe->cdw11 << 32;
    for (unsigned i = 0; i < 1024; i++) {
        if (attempts[i].count && attempts[i].opc == opc && attempts[i].slba == slba)
            return ++attempts[i].count;
        if (!attempts[i].count) {
            attempts[i].opc = opc;
            attempts[i].slba = slba;
            return attempts[i].count = 1;
        }
    }
    return 1;
}

/* The SQ tail moved: fetch what lies between head and tail (§4.1). */
static void fetch(struct nvme_model *m, uint16_t qid)
{
    struct nvme_model_sq *sq = &m->sq[qid];
    while (sq->head != sq->tail) {
        const struct nvme_sqe *s = dma(sq->base + (uint64_t)sq->head * 64, 64);
        sq->head = (uint16_t)((sq->head + 1) % sq->size);
        if (!s)
            continue;
        uint16_t cid = (uint16_t)NVME_SQE_CID(s->cdw0);
        unsigned slot = NVME_MODEL_PENDING;
        for (unsigned i = 0; i < m->pending_hi; i++) {
            if (m->pending[i].used && m->pending[i].sqid == qid && m->pending[i].cid == cid)
                fake_model_error("sq %u: CID %u reused while the command with that CID is still "
                                 "outstanding (opcode %02xh lba %u)", qid, cid,
                                 NVME_SQE_OPC(m->pending[i].sqe.cdw0), m->pending[i].sqe.cdw10);
            if (!m->pending[i].used && slot == NVME_MODEL_PENDING)
                slot = i;
        }
        if (slot == NVME_MODEL_PENDING && m->pending_hi < NVME_MODEL_PENDING)
            slot = m->pending_hi;
        if (slot == NVME_MODEL_PENDING)
            fake_forbidden("more commands outstanding than the NVMe model keeps");
        if (slot >= m->pending_hi)
            m->pending_hi = slot + 1;
        struct nvme_model_cmd *c = &m->pending[slot];
        *c = (struct nvme_model_cmd){ .used = true, .sqid = qid, .cid = cid, .sqe = *s,
                                      .seq = m->seq++ };
        c->due_ns = fake_now() + (qid ? m->io_latency_ns : m->admin_latency_ns);
        m->npending++;
        if (qid && m->fault) {
            struct nvme_model_fault f = { 0, false, 0 };
            m->fault(m, s, attempt_of(s), &f);
            c->held = f.hold;
            c->fault_status = f.status;
            c->due_ns += f.delay_ns;
        }
        if (!c->held && c->due_ns < m->next_due_ns)
            m->next_due_ns = c->due_ns;
        unsigned n = outstanding_io(m);
        if (n > m->max_outstanding)
            m->max_outstanding = n;
    }
}

static void complete(struct nvme_model *m, struct nvme_model_cmd *c)
{
    uint32_t dw0 = 0;
    uint16_t status;
    if (c->sqid == 0)
        status = admin(m, &c->sqe, &dw0);
    else if (c->fault_status)
        status = c->fault_status;
    else
        status = io(m, &c->sqe);
    if (c->used)        /* Abort may have completed others, never itself */
        post(m, c, status, dw0);
}

static void tick(void *model)
{
    struct nvme_model *m = model;
    update(m);
    /* A controller in fatal status does no more work until it is reset. */
    if (!m->ready || !m->enabled || m->cfs || !m->npending || fake_now() < m->next_due_ns)
        return;
    for (;;) {
        struct nvme_model_cmd *best = NULL;
        for (unsigned i = 0; i < m->pending_hi; i++) {
            struct nvme_model_cmd *c = &m->pending[i];
            if (!c->used || c->held || c->due_ns > fake_now())
                continue;
            /* Admin commands in order; I/O in the order the test chose. */
            bool lifo = m->order == NVME_MODEL_LIFO && c->sqid && best && best->sqid;
            if (!best || (lifo ? c->seq > best->seq : c->seq < best->seq))
                best = c;
        }
        if (!best)
            break;
        complete(m, best);
    }
    m->next_due_ns = NVME_MODEL_NEVER;
    for (unsigned i = 0; i < m->pending_hi; i++)
        if (m->pending[i].used && !m->pending[i].held && m->pending[i].due_ns < m->next_due_ns)
            m->next_due_ns = m->pending[i].due_ns;
}

/* ---- registers ---- */

static uint32_t reg_read(void *model, uint32_t off, unsigned size)
{
    struct nvme_model *m = model;
    if (size != 4)
        fake_model_error("register 0x%x read with %u bytes: NVMe registers are dwords", off, size);
    switch (off) {
    case NVME_REG_CAP: return (uint32_t)m->cap;
    case NVME_REG_CAP + 4: return (uint32_t)(m->cap >> 32);
    case NVME_REG_VS: return m->vs;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC: return 0;
    case NVME_REG_CC: return m->cc;
    case NVME_REG_CSTS: return csts(m);
    case NVME_REG_AQA: return m->aqa;
    case NVME_REG_ASQ: return (uint32_t)m->asq;
    case NVME_REG_ASQ + 4: return (uint32_t)(m->asq >> 32);
    case NVME_REG_ACQ: return (uint32_t)m->acq;
    case NVME_REG_ACQ + 4: return (uint32_t)(m->acq >> 32);
    default: return 0;
    }
}

static void reset_queues(struct nvme_model *m)
{
    memset(m->sq, 0, sizeof(m->sq));
    memset(m->cq, 0, sizeof(m->cq));
    memset(m->pending, 0, sizeof(m->pending));
    m->npending = 0;
    m->pending_hi = 0;
    m->next_due_ns = NVME_MODEL_NEVER;
}

static void write_cc(struct nvme_model *m, uint32_t v)
{
    bool en = v & NVME_CC_EN;
    update(m);
    if (en != m->enabled) {
        if (m->ready != m->enabled)
            fake_model_error("CC.EN set to %u while CSTS.RDY (%u) had not followed the last "
                             "change (undefined, §3.1.5)", en, m->ready);
        m->en_changed_ns = fake_now();
        m->enabled = en;
        if (en) {
            m->enables++;
            if (((v >> NVME_CC_MPS_SHIFT) & 0xf) < NVME_CAP_MPSMIN(m->cap) ||
                !m->aqa || !dma(m->asq, ((m->aqa & 0xfff) + 1) * 64u) ||
                !dma(m->acq, (((m->aqa >> 16) & 0xfff) + 1) * 16u) || (m->asq & (PAGE - 1)) ||
                (m->acq & (PAGE - 1))) {
                fake_model_error("enabled with AQA 0x%x ASQ 0x%llx ACQ 0x%llx CC 0x%x", m->aqa,
                                 (unsigned long long)m->asq, (unsigned long long)m->acq, v);
                m->cfs = true;
            }
            if (m->cfs_on_enable)
                m->cfs = true;
            reset_queues(m);
            m->sq[0] = (struct nvme_model_sq){ true, m->asq, (uint16_t)((m->aqa & 0xfff) + 1), 0,
                                               0, 0 };
            m->cq[0] = (struct nvme_model_cq){ true, m->acq,
                                               (uint16_t)(((m->aqa >> 16) & 0xfff) + 1), 0, 0, 1 };
        } else {
            m->disables++;
            reset_queues(m);
            m->cfs = false;
            m->shutting_down = false;
            m->last_shst_complete_ns = 0;
        }
    }
    if ((v & NVME_CC_SHN_MASK) && m->enabled && !m->shutting_down) {
        m->shutting_down = true;
        m->shn_written_ns = fake_now();
        m->shutdowns_requested++;
    }
    m->cc = v;
}

static void doorbell(struct nvme_model *m, uint32_t off, uint32_t v)
{
    uint32_t stride = 4u << dstrd(m), rel = off - NVME_REG_DOORBELLS;
    if (rel % stride) {
        fake_model_error("doorbell write of %u at 0x%x: not on the CAP.DSTRD = %u grid (stride %u)",
                         v, off, dstrd(m), stride);
        return;
    }
    uint32_t qid = rel / stride / 2;
    bool is_cq = (rel / stride) & 1;
    if (qid >= NVME_MODEL_QUEUES || !(is_cq ? m->cq[qid].exists : m->sq[qid].exists)) {
        fake_model_error("doorbell write of %u at 0x%x: %s %u does not exist", v, off,
                         is_cq ? "CQ" : "SQ", qid);
        return;
    }
    if (m->doorbell_hook)
        m->doorbell_hook(m, (uint16_t)qid, is_cq, v);
    update(m);
    if (!m->ready)
        fake_model_error("doorbell write at 0x%x while CSTS.RDY is 0", off);
    if (is_cq) {
        struct nvme_model_cq *cq = &m->cq[qid];
        uint16_t posted = (uint16_t)((cq->tail - cq->head + cq->size) % cq->size);
        uint16_t moved = (uint16_t)((v - cq->head + cq->size) % cq->size);
        if (v >= cq->size || moved > posted)
            fake_model_error("CQ %u head doorbell %u passes the %u entries posted", qid, v, posted);
        else
            cq->head = (uint16_t)v;
        m->cq_doorbells[qid]++;
        return;
    }
    if (v >= m->sq[qid].size) {
        fake_model_error("SQ %u tail doorbell %u beyond its %u entries", qid, v, m->sq[qid].size);
        return;
    }
    m->sq[qid].tail = (uint16_t)v;
    m->sq_doorbells[qid]++;
    fetch(m, (uint16_t)qid);
}

static void reg_write(void *model, uint32_t off, unsigned size, uint32_t v)
{
    struct nvme_model *m = model;
    if (size != 4)
        fake_model_error("register 0x%x written with %u bytes", off, size);
    if (off >= NVME_REG_DOORBELLS) {
        doorbell(m, off, v);
        return;
    }
    if ((off == NVME_REG_AQA || (off >= NVME_REG_ASQ && off < NVME_REG_ACQ + 8)) && m->enabled)
        fake_model_error("admin queue register 0x%x written while CC.EN = 1", off);
    switch (off) {
    case NVME_REG_CC: write_cc(m, v); break;
    case NVME_REG_AQA: m->aqa = v; break;
    case NVME_REG_ASQ: m->asq = (m->asq & ~0xffffffffull) | v; break;
    case NVME_REG_ASQ + 4: m->asq = (m->asq & 0xffffffffull) | (uint64_t)v << 32; break;
    case NVME_REG_ACQ: m->acq = (m->acq & ~0xffffffffull) | v; break;
    case NVME_REG_ACQ + 4: m->acq = (m->acq & 0xffffffffull) | (uint64_t)v << 32; break;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC: break;
    default:
        fake_model_error("write of 0x%x to read-only or reserved register 0x%x", v, off);
    }
}

static const struct fake_mmio_ops nvme_model_ops = { reg_read, reg_write, tick };

struct nvme_model *nvme_model_new(uint64_t blocks)
{
    struct nvme_model *m = calloc(1, sizeof(*m));
    m->cap = 2047 | NVME_CAP_CQR | 15ull << 24 | (uint64_t)NVME_CAP_CSS_NVM << 37 | 4ull << 52;
    m->vs = 0x10400;
    m->ready_ns = 1 * FAKE_MS;
    m->disable_ns = 1 * FAKE_MS;
    m->shn_begin_ns = 1 * FAKE_MS;
    m->shn_done_ns = 5 * FAKE_MS;
    m->rtd3e_us = 1000000;
    m->mdts = 7;
    m->max_queue_pairs = 4;
    m->admin_latency_ns = 5 * FAKE_US;
    m->io_latency_ns = 20 * FAKE_US;
    m->blocks = blocks;
    m->lba_shift = 9;
    m->next_due_ns = NVME_MODEL_NEVER;
    m->media = calloc(1, blocks << 9);
    m->regs = fake_mmio_region(MODEL_REGS_SIZE, &nvme_model_ops, m);
    m->pci = fake_pci_add(0x01, 0x08, 0x02, 0, m->regs, MODEL_REGS_SIZE);
    return m;
}

void nvme_model_set_dstrd(struct nvme_model *m, unsigned d)
{
    m->cap = (m->cap & ~(0xfull << 32)) | (uint64_t)(d & 0xf) << 32;
}

void nvme_model_set_timeout(struct nvme_model *m, unsigned to)
{
    m->cap = (m->cap & ~(0xffull << 24)) | (uint64_t)(to & 0xff) << 24;
}

void nvme_model_set_mqes(struct nvme_model *m, uint16_t mqes)
{
    m->cap = (m->cap & ~0xffffull) | mqes;
}

void nvme_model_start_enabled(struct nvme_model *m, bool ready)
{
    m->cc = NVME_CC_EN;
    m->enabled = true;
    m->ready = ready;
    m->en_changed_ns = fake_now();
}
