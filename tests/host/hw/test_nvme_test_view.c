/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_nvme_test_view.c — drivers/nvme/nvme_test.c against the
 * register model (tests/host/fake/nvme_model.h): the nvme suite
 * (tests/kernel/test_nvme.c) checks the driver only through struct
 * nvme_test_view and the nvme_test_*() hooks, so a view that copied the wrong
 * counter or a hook that did something else would weaken every case that
 * relies on it without failing one. Here each field is held to what the
 * model saw on the bus (doorbell writes, SQ/CQ indexes, phase, commands,
 * CAP), and each hook to its effect on the model (a reset is an enable, the
 * misaligned ASQ reaches the ASQ register, the NSID redirect reaches one
 * read and no write). */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/nvme_model.h"

/* Writes then reads back 8 blocks at lba on `queue`: one command each way. */
static bool round_trip(struct blk_dev *d, uint64_t lba, unsigned queue, uint32_t tag)
{
    static uint8_t wbuf[4096], rbuf[4096];
    struct fake_io io;
    pattern_fill(wbuf, lba, 8, 512, tag);
    memset(rbuf, 0, sizeof(rbuf));
    if (fake_submit(d, &io, BLK_OP_WRITE, lba, 8, wbuf, queue, 0) != BLK_OK)
        return false;
    blk_kick(d, queue);
    if (!fake_wait(d, &io.req, FAKE_S) || io.req.cause != BLK_OK)
        return false;
    if (fake_submit(d, &io, BLK_OP_READ, lba, 8, rbuf, queue, 0) != BLK_OK)
        return false;
    blk_kick(d, queue);
    return fake_wait(d, &io.req, FAKE_S) && io.req.cause == BLK_OK &&
           pattern_check(rbuf, lba, 8, 512, tag) == -1;
}

/* Queue `queue`'s view against the model's SQ/CQ of qid queue + 1, with
 * every command complete and every CQE reaped (then the driver's SQ head,
 * CQ head and phase are the model's), `commands` more commands than in
 * `before`. Shadow doorbells are off (the model has no OACS bit 8): every
 * doorbell update is one MMIO write. */
static void expect_queue_matches(struct nvme_model *m, const struct nvme_test_view *before,
                                 const struct nvme_test_view *v, unsigned queue,
                                 uint64_t commands)
{
    const struct nvme_test_queue_view *q = &v->queue;
    unsigned qid = queue + 1;
    HT_EXPECT_EQ(q->qid, qid);
    HT_EXPECT_EQ(q->depth, m->sq[qid].size);
    HT_EXPECT_EQ(q->irq_mode, NVME_IRQ_POLL);
    HT_EXPECT_EQ(q->commands - before->queue.commands, commands);
    /* one command per request here */
    HT_EXPECT_EQ(q->completed - before->queue.completed, commands);
    HT_EXPECT_EQ(q->cq_head, (before->queue.cq_head + commands) % q->depth);
    HT_EXPECT_EQ(q->in_flight, 0);
    HT_EXPECT_EQ(q->sq_doorbell_writes, m->sq_doorbells[qid]);
    HT_EXPECT_EQ(q->cq_doorbell_writes, m->cq_doorbells[qid]);
    HT_EXPECT_EQ(q->mmio_doorbell_writes, m->sq_doorbells[qid] + m->cq_doorbells[qid]);
    HT_EXPECT_EQ(q->sq_tail, m->sq[qid].tail);
    HT_EXPECT_EQ(q->sq_head, m->sq[qid].head);
    HT_EXPECT_EQ(q->cq_head, m->cq[qid].head);
    HT_EXPECT_EQ(q->phase, m->cq[qid].phase);
    HT_EXPECT(q->prp_pages_bytes >= (uint64_t)q->depth * 4096);   /* a page per slot at least */
    HT_EXPECT_EQ(q->shadow_sq_tail, 0);
    HT_EXPECT_EQ(q->eventidx_cq, 0);
}

HTEST(nvme_test_view_matches_the_model)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=2 nvme.qdepth=16");
    HT_ASSERT(d != NULL);
    struct nvme_test_view before0, before1, v;
    HT_ASSERT(nvme_test_view(d, 0, &before0));      /* after the scratch label's read */
    HT_ASSERT(nvme_test_view(d, 1, &before1));
    /* Queue 0 goes round the 16-entry CQ twice (after the label's read, so
     * from head 1 to 5), queue 1 round trips once. */
    for (unsigned i = 0; i < 18; i++)
        HT_EXPECT(round_trip(d, 100 + 8 * i, 0, i));
    HT_EXPECT(round_trip(d, 400, 1, 99));

    HT_ASSERT(nvme_test_view(d, 0, &v));
    HT_EXPECT_STREQ(v.ctrl_name, "nvme0");
    HT_EXPECT_EQ(v.nsid, 1);
    HT_EXPECT_EQ(v.nsid_once, 0);
    HT_EXPECT_EQ(v.cap, m->cap);
    HT_EXPECT_EQ(v.csts, NVME_CSTS_RDY);
    HT_EXPECT_EQ(v.timeout_ms, NVME_CAP_TO(m->cap) * 500);
    HT_EXPECT_EQ(v.nio, 2);
    HT_EXPECT_EQ(v.queue_depth, 16);
    HT_EXPECT_EQ((uint64_t)v.max_transfer_bytes, (uint64_t)d->max_transfer * d->block_size);
    HT_EXPECT(v.alive);
    HT_EXPECT(!v.shadow_doorbells);
    HT_EXPECT_EQ(v.resets, 0);
    HT_EXPECT_EQ(v.cfs_seen, 0);
    HT_EXPECT_EQ(v.aborts_sent, 0);
    expect_queue_matches(m, &before0, &v, 0, 36);
    HT_EXPECT_EQ(v.queue.phase, before0.queue.phase);     /* flipped twice */
    /* Six more round trips: the 12 CQEs wrap once more from head 5. */
    for (unsigned i = 0; i < 6; i++)
        HT_EXPECT(round_trip(d, 300 + 8 * i, 0, 50 + i));
    HT_ASSERT(nvme_test_view(d, 0, &v));
    expect_queue_matches(m, &before0, &v, 0, 48);
    HT_EXPECT_EQ(v.queue.phase, before0.queue.phase ^ 1);

    HT_ASSERT(nvme_test_view(d, 1, &v));
    expect_queue_matches(m, &before1, &v, 1, 2);
    HT_EXPECT_EQ(v.queue.phase, before1.queue.phase);

    /* No queue 2, and a device that is no NVMe namespace: nothing shown. */
    HT_EXPECT(!nvme_test_view(d, 2, &v));
    struct blk_dev other = { .name = "other" };
    HT_EXPECT(!nvme_test_view(&other, 0, &v));
    HT_NO_MODEL_ERRORS();
}

/* nvme_test_reset is one controller reset: one more enable, counted, named. */
HTEST(nvme_test_reset_resets_once)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=1");
    HT_ASSERT(d != NULL);
    unsigned enables = m->enables;
    HT_EXPECT(nvme_test_reset(d, "test: a reset"));
    HT_EXPECT_EQ(m->enables, enables + 1);
    struct nvme_test_view v;
    HT_ASSERT(nvme_test_view(d, 0, &v));
    HT_EXPECT_EQ(v.resets, 1);
    HT_EXPECT_STREQ(v.last_reset, "test: a reset");
    HT_EXPECT(v.alive);
    HT_EXPECT(round_trip(d, 200, 0, 5));
    struct blk_dev other = { .name = "other" };
    HT_EXPECT(!nvme_test_reset(&other, "not NVMe"));
    HT_NO_MODEL_ERRORS();
}

/* The misaligned ASQ reaches the register (the model flags it and raises
 * CFS, as QEMU does), the enable ends with the cause, and the reset after it
 * enables with the aligned base again. */
HTEST(nvme_test_enable_misaligned_asq_reaches_asq)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=1");
    HT_ASSERT(d != NULL);
    uint64_t asq = m->asq;
    char why[160] = "";
    HT_EXPECT_EQ(nvme_test_enable_misaligned_asq(d, why, sizeof(why)), BLK_CAUSE_CONTROLLER_FATAL);
    HT_EXPECT(strstr(why, "controller fatal status while enabling") != NULL);
    HT_EXPECT_EQ(m->asq, asq + 0x800);
    struct nvme_test_view v;
    HT_ASSERT(nvme_test_view(d, 0, &v));
    HT_EXPECT(v.csts & NVME_CSTS_CFS);
    /* The model names the bad base (and what a controller left in CFS
     * without RDY makes of the disable that follows). */
    HT_EXPECT(fake_model_errors() >= 1);
    HT_EXPECT(strstr(fake_model_first_error(), "800+2048: not memory the driver owns") != NULL);
    HT_EXPECT(nvme_test_reset(d, "after the misaligned ASQ"));
    HT_EXPECT_EQ(m->asq, asq);
    unsigned errors = fake_model_errors();
    HT_EXPECT(round_trip(d, 300, 0, 6));
    HT_EXPECT_EQ(fake_model_errors(), errors);          /* none after the reset */
}

/* The NSID redirect waits through a write (never redirected) and is used up
 * by the next read, which the model refuses (no namespace 7). */
HTEST(nvme_test_nsid_once_takes_one_read)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=1");
    HT_ASSERT(d != NULL);
    static uint8_t buf[512];
    struct nvme_test_view v;
    unsigned reads = m->io_commands[NVME_CMD_READ];
    nvme_test_nsid_once(d, 7);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_WRITE, 10, 1, buf), BLK_OK);
    HT_ASSERT(nvme_test_view(d, 0, &v));
    HT_EXPECT_EQ(v.nsid_once, 7);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 10, 1, buf), BLK_CAUSE_INVALID);
    HT_ASSERT(nvme_test_view(d, 0, &v));
    HT_EXPECT_EQ(v.nsid_once, 0);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 10, 1, buf), BLK_OK);
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_READ], reads + 2);    /* the refused one not retried */
    HT_NO_MODEL_ERRORS();
}
