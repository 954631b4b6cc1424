/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_nvme_queues.c — drivers/nvme/nvme_io.c, nvme_admin.c
 * and nvme_queue.c against the register model (tests/host/fake/nvme_model.h),
 * where QEMU cannot show them: doorbells on a CAP.DSTRD grid other than 4
 * bytes (§3.1.25), completions out of order with command slots reused (a CID
 * is unique among the commands outstanding on its SQ, §4.2), the retry policy
 * (only DNR clear, at most NVME_MAX_RETRIES, §4.6.1), a late command ended by
 * an Abort that works (§5.1) or by a controller reset when it does not, a
 * full queue, MDTS splits and PRP lists chained across pages (§4.3). */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/nvme_model.h"

static struct blk_dev *up(struct nvme_model *m, const char *extra)
{
    (void)m;
    return drivers_start("nvme0n1", extra);
}

/* Writes then reads back `count` blocks at lba on `queue`. */
static bool round_trip(struct blk_dev *d, uint64_t lba, uint32_t count, unsigned queue,
                       uint32_t tag)
{
    static uint8_t wbuf[64 * 1024], rbuf[64 * 1024];
    struct fake_io io;
    pattern_fill(wbuf, lba, count, 512, tag);
    memset(rbuf, 0, sizeof(rbuf));
    if (fake_submit(d, &io, BLK_OP_WRITE, lba, count, wbuf, queue, 0) != BLK_OK)
        return false;
    blk_kick(d, queue);
    if (!fake_wait(d, &io.req, FAKE_S) || io.req.cause != BLK_OK)
        return false;
    if (fake_submit(d, &io, BLK_OP_READ, lba, count, rbuf, queue, 0) != BLK_OK)
        return false;
    blk_kick(d, queue);
    return fake_wait(d, &io.req, FAKE_S) && io.req.cause == BLK_OK &&
           pattern_check(rbuf, lba, count, 512, tag) == -1;
}

/* ---- doorbells ---- */

/* DSTRD 2: doorbells 16 bytes apart. Every queue's SQ tail and CQ head
 * doorbell lands on the grid (the model flags anything else, and a queue
 * whose doorbell went elsewhere never gets its commands). */
HTEST(nvme_doorbells_follow_cap_dstrd)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_dstrd(m, 2);
    struct blk_dev *d = up(m, "nvme.queues=4");
    HT_ASSERT(d != NULL);
    for (unsigned q = 0; q < 4; q++)
        HT_EXPECT(round_trip(d, 200 + 16 * q, 8, q, q));
    for (unsigned q = 1; q <= 4; q++) {
        HT_EXPECT(m->sq_doorbells[q] >= 2);
        HT_EXPECT(m->cq_doorbells[q] >= 2);
    }
    HT_NO_MODEL_ERRORS();
}

/* The same with the widest stride the model's window holds (DSTRD 4, 64 B). */
HTEST(nvme_doorbells_follow_cap_dstrd_wide)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_dstrd(m, 4);
    struct blk_dev *d = up(m, "nvme.queues=2");
    HT_ASSERT(d != NULL);
    HT_EXPECT(round_trip(d, 300, 8, 1, 9));
    HT_EXPECT(m->sq_doorbells[0] > 0 && m->cq_doorbells[0] > 0);
    HT_NO_MODEL_ERRORS();
}

/* One SQ doorbell write for a batch of submissions (the tail rung once). */
HTEST(nvme_one_sq_doorbell_per_batch)
{
    static uint8_t buf[8][4096];
    static struct fake_io io[8];
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = up(m, "nvme.queues=1");
    HT_ASSERT(d != NULL);
    unsigned before = m->sq_doorbells[1];
    for (unsigned i = 0; i < 8; i++)
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    HT_EXPECT_EQ(m->sq_doorbells[1], before);      /* submit writes no doorbell */
    blk_kick(d, 0);
    HT_EXPECT_EQ(m->sq_doorbells[1], before + 1);
    HT_EXPECT_EQ(nvme_model_outstanding(m), 8);
    for (unsigned i = 0; i < 8; i++)
        HT_EXPECT(fake_wait(d, &io[i].req, FAKE_S) && io[i].req.cause == BLK_OK);
    HT_NO_MODEL_ERRORS();
}

/* ---- command identifiers ---- */

static void slow_lba_0(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                       struct nvme_model_fault *f)
{
    (void)m;
    (void)attempt;
    if (sqe->cdw10 == 0)
        f->delay_ns = 200 * FAKE_MS;
}

/* Depth 8 (7 in flight), newest completed first, the first command slow:
 * the SQ tail wraps past the slot still in flight many times, and every
 * new command must take a CID no outstanding command holds. Each request
 * gets its own blocks back. */
HTEST(nvme_cids_unique_with_completions_out_of_order)
{
    static uint8_t buf[40][4096];
    static struct fake_io io[40];
    struct nvme_model *m = nvme_model_new(8192);
    m->order = NVME_MODEL_LIFO;
    struct blk_dev *d = up(m, "nvme.queues=1 nvme.qdepth=8");
    HT_ASSERT(d != NULL);
    for (unsigned i = 0; i < 40; i++)
        pattern_fill(nvme_model_block(m, 8 * i), 8 * i, 8, 512, 0xc1d);
    m->fault = slow_lba_0;
    unsigned done = 0, next = 0;
    while (done < 40) {
        while (next < 40 && next - done < 12) {
            HT_ASSERT(fake_submit(d, &io[next], BLK_OP_READ, 8 * next, 8, buf[next], 0, 0) == BLK_OK);
            next++;
        }
        blk_kick(d, 0);
        blk_poll(d, 0);
        fake_advance(10 * FAKE_US);
        while (done < next && io[done].req.complete)
            done++;
        if (fake_now() > 10 * FAKE_S)
            break;
    }
    for (unsigned i = 0; i < 40; i++) {
        HT_EXPECT(io[i].req.complete && io[i].req.cause == BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf[i], 8 * i, 8, 512, 0xc1d), -1);
    }
    HT_EXPECT(m->out_of_order > 0);
    HT_EXPECT(m->max_outstanding <= 7);
    HT_NO_MODEL_ERRORS();
}

static void staggered(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                      struct nvme_model_fault *f)
{
    (void)m;
    (void)attempt;
    f->delay_ns = (sqe->cdw10 / 8 % 3) * 30 * FAKE_US;
}

/* A queue of 4 entries holds 3 commands: 20 requests submitted at once wait
 * for slots and all complete, never more than 3 outstanding, though the
 * completions come one at a time and each frees a slot at once. */
HTEST(nvme_full_queue_waits_for_free_slots)
{
    static uint8_t buf[20][4096];
    static struct fake_io io[20];
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = up(m, "nvme.queues=1 nvme.qdepth=4");
    HT_ASSERT(d != NULL);
    m->fault = staggered;
    for (unsigned i = 0; i < 20; i++) {
        pattern_fill(nvme_model_block(m, 8 * i), 8 * i, 8, 512, 4);
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    }
    blk_kick(d, 0);
    for (unsigned i = 0; i < 20; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, FAKE_S) && io[i].req.cause == BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf[i], 8 * i, 8, 512, 4), -1);
    }
    HT_EXPECT_EQ(m->max_outstanding, 3);
    HT_NO_MODEL_ERRORS();
}

/* ---- retries ---- */

static uint16_t fail_status;
static unsigned fail_times;

static void fail_lba_50(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                        struct nvme_model_fault *f)
{
    (void)m;
    if (sqe->cdw10 == 50 && attempt <= fail_times)
        f->status = fail_status;
}

static unsigned attempts_at_50;

static void count_lba_50(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                         struct nvme_model_fault *f)
{
    if (sqe->cdw10 == 50)
        attempts_at_50 = attempt;
    fail_lba_50(m, sqe, attempt, f);
}

static enum blk_cause read_50(struct nvme_model *m, const char *extra, uint16_t status,
                              unsigned times, struct blk_request *out)
{
    static uint8_t buf[512];
    struct blk_dev *d = up(m, extra);
    if (!d)
        return BLK_CAUSE_COUNT;
    fail_status = status;
    fail_times = times;
    attempts_at_50 = 0;
    m->fault = count_lba_50;
    struct fake_io io;
    if (fake_submit(d, &io, BLK_OP_READ, 50, 1, buf, 0, 0) != BLK_OK)
        return BLK_CAUSE_COUNT;
    blk_kick(d, 0);
    if (!fake_wait(d, &io.req, 5 * FAKE_S))
        return BLK_CAUSE_COUNT;
    *out = io.req;
    return io.req.cause;
}

/* Unrecovered read error with DNR clear, every time: the first attempt and
 * NVME_MAX_RETRIES (2) retries, then the error, once. */
HTEST(nvme_dnr_clear_retried_at_most_twice)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_request r;
    HT_EXPECT_EQ(read_50(m, NULL, 0x0281, 1000, &r), BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(attempts_at_50, 3);
    HT_EXPECT_EQ(fake_log_count("(DNR clear)"), 2);
    HT_EXPECT_EQ(fake_log_count("read lba 50: media/data integrity: unrecovered read error "
                                "(SCT 2h SC 81h); retry 1 of 2 (DNR clear)"), 1);
    HT_EXPECT_EQ(fake_log_count("; retry 2 of 2 (DNR clear)"), 1);
    HT_EXPECT_EQ(fake_log_count("retry 3"), 0);
    HT_EXPECT_EQ(r.dev_status, 0x0281);
    HT_EXPECT(strstr(r.detail, "after retries") != NULL);
    HT_NO_MODEL_ERRORS();
}

/* Two failures, then success: the retries hide nothing (the log has both)
 * and the request succeeds. */
HTEST(nvme_dnr_clear_retry_recovers)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_request r;
    HT_EXPECT_EQ(read_50(m, NULL, 0x0281, 2, &r), BLK_OK);
    HT_EXPECT_EQ(attempts_at_50, 3);
    HT_EXPECT_EQ(fake_log_count("(DNR clear)"), 2);
    HT_NO_MODEL_ERRORS();
}

/* DNR set: never retried. */
HTEST(nvme_dnr_set_not_retried)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_request r;
    HT_EXPECT_EQ(read_50(m, NULL, 0x8281, 1000, &r), BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(attempts_at_50, 1);
    HT_EXPECT_EQ(fake_log_count("retry"), 0);
    HT_NO_MODEL_ERRORS();
}

/* ---- timeouts ---- */

static void hold_lba_60(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                        struct nvme_model_fault *f)
{
    (void)m;
    if (sqe->cdw10 == 60 && attempt == 1)
        f->hold = true;
}

/* A command that never completes, among others that do: past blk.timeout it
 * is aborted; the Abort works (07h), so no reset: it fails as a timeout, the
 * others succeed. */
static void late_command(bool abort_works)
{
    static uint8_t buf[4][4096];
    static struct fake_io io[4];
    struct nvme_model *m = nvme_model_new(8192);
    m->abort_works = abort_works;
    struct blk_dev *d = up(m, "nvme.queues=1");
    HT_ASSERT(d != NULL);
    m->fault = hold_lba_60;
    static const uint64_t lba[4] = { 60, 80, 96, 112 };
    for (unsigned i = 0; i < 4; i++) {
        pattern_fill(nvme_model_block(m, lba[i]), lba[i], 8, 512, 6);
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, lba[i], 8, buf[i], 0, 0) == BLK_OK);
    }
    m->io_latency_ns = 300 * FAKE_MS;   /* still in flight when the first one times out */
    blk_kick(d, 0);
    uint64_t start = fake_now();
    HT_EXPECT(fake_wait(d, &io[0].req, 30 * FAKE_S));
    HT_EXPECT_EQ(io[0].req.cause, BLK_CAUSE_TIMEOUT);
    /* Ended right after its deadline: Abort answered, the reset (if any) quick. */
    HT_EXPECT(fake_now() - start >= FAKE_S);
    HT_EXPECT(fake_now() - start < FAKE_S + 200 * FAKE_MS);
    HT_EXPECT(strstr(io[0].req.detail, "no completion within 1000 ms") != NULL);
    for (unsigned i = 1; i < 4; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, 5 * FAKE_S));
        HT_EXPECT_EQ(io[i].req.cause, BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf[i], lba[i], 8, 512, 6), -1);
    }
    HT_EXPECT_EQ(m->aborts, 1);
    HT_EXPECT_EQ(fake_log_count("sending Abort"), 1);
    /* Still serving. */
    m->io_latency_ns = 20 * FAKE_US;
    HT_EXPECT(round_trip(d, 400, 8, 0, 0x77));
    HT_NO_MODEL_ERRORS();
}

HTEST(nvme_timeout_abort_that_works_needs_no_reset)
{
    late_command(true);
    const struct nvme_ctrl *c = nvme_controller(0);
    HT_ASSERT(c != NULL);
    HT_EXPECT_EQ(c->resets, 0);
    HT_EXPECT_EQ(c->aborts_not_done, 0);
    HT_EXPECT_EQ(fake_log_count("controller reset"), 0);
    HT_EXPECT_EQ(fake_log_count("Abort accepted by the controller"), 0);   /* only in details */
}

/* The same when Abort does not end the command (DW0 bit 0 set, as QEMU):
 * one controller reset, the late command fails, the others are posted again. */
HTEST(nvme_timeout_abort_ignored_then_one_reset)
{
    late_command(false);
    const struct nvme_ctrl *c = nvme_controller(0);
    HT_ASSERT(c != NULL);
    HT_EXPECT_EQ(c->resets, 1);
    HT_EXPECT_EQ(c->aborts_not_done, 1);
    HT_EXPECT_EQ(fake_log_count("controller reset (sq 1 cid"), 1);
    HT_EXPECT_EQ(fake_log_count("reset done, 1 I/O queue pairs recreated"), 1);
}

/* ---- transfers ---- */

/* MDTS 1 (8 KiB): a 64 KiB request goes as 8 commands, one doorbell. */
HTEST(nvme_request_split_at_mdts)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->mdts = 1;
    struct blk_dev *d = up(m, "nvme.queues=1");
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(d->max_transfer, 16);
    unsigned writes = m->io_commands[NVME_CMD_WRITE], reads = m->io_commands[NVME_CMD_READ];
    HT_EXPECT(round_trip(d, 1000, 128, 0, 0x5d));
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_WRITE] - writes, 8);
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_READ] - reads, 8);
    HT_NO_MODEL_ERRORS();
}

/* 3 MiB in one command (MDTS 0: the driver's own 4 MiB cap): 768 pages, a
 * PRP list of two chained pages; the model walks the chain. */
HTEST(nvme_prp_list_chained_across_pages)
{
    struct nvme_model *m = nvme_model_new(16384);
    m->mdts = 0;
    struct blk_dev *d = up(m, "nvme.queues=1");
    HT_ASSERT(d != NULL);
    uint32_t count = 3 * 1024 * 1024 / 512;
    uint8_t *w = aligned_alloc(4096, 3 << 20), *r = aligned_alloc(4096, 3 << 20);
    pattern_fill(w, 2048, count, 512, 0x3b);
    memset(r, 0, 3 << 20);
    unsigned reads = m->io_commands[NVME_CMD_READ];
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_WRITE, 2048, count, w), BLK_OK);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 2048, count, r), BLK_OK);
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_READ] - reads, 1);
    HT_EXPECT_EQ(pattern_check(r, 2048, count, 512, 0x3b), -1);
    HT_NO_MODEL_ERRORS();
    free(w);
    free(r);
}

static unsigned done_calls;
static void count_done(struct blk_request *r) { (void)r; done_calls++; }

/* MDTS 1 and a queue of 4: a 64 KiB read is 8 parts, 3 out at a time. It
 * completes once, when the last part has, with every byte there. */
HTEST(nvme_split_request_completes_once_every_part_done)
{
    static uint8_t buf[64 * 1024];
    struct nvme_model *m = nvme_model_new(8192);
    m->mdts = 1;
    struct blk_dev *d = up(m, "nvme.queues=1 nvme.qdepth=4");
    HT_ASSERT(d != NULL);
    pattern_fill(nvme_model_block(m, 1000), 1000, 128, 512, 0x88);
    unsigned reads = m->io_commands[NVME_CMD_READ];
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 1000, 128, buf, 0, 0) == BLK_OK);
    io.req.done = count_done;
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_OK);
    HT_EXPECT_EQ(io.req.bytes, sizeof(buf));
    HT_EXPECT_EQ(pattern_check(buf, 1000, 128, 512, 0x88), -1);
    for (unsigned i = 0; i < 100; i++) {     /* nothing more comes for it */
        blk_poll(d, 0);
        fake_advance(10 * FAKE_US);
    }
    HT_EXPECT_EQ(done_calls, 1);
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_READ] - reads, 8);
    HT_EXPECT(m->max_outstanding <= 3);
    HT_NO_MODEL_ERRORS();
}

static void slow_error_then_slow_success(struct nvme_model *m, const struct nvme_sqe *sqe,
                                         unsigned attempt, struct nvme_model_fault *f)
{
    (void)m;
    if (sqe->cdw10 != 70)
        return;
    f->delay_ns = (attempt == 1 ? 800 : 400) * FAKE_MS;
    if (attempt == 1)
        f->status = 0x0281;
}

/* A retry is a new command with a deadline of its own: the first attempt
 * fails after 800 ms, the retry succeeds 400 ms later, past the first
 * attempt's 1 s deadline but well inside its own. No Abort, no error. */
HTEST(nvme_retry_gets_a_deadline_of_its_own)
{
    static uint8_t buf[512];
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = up(m, NULL);
    HT_ASSERT(d != NULL);
    m->fault = slow_error_then_slow_success;
    uint64_t start = fake_now();
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 70, 1, buf), BLK_OK);
    HT_EXPECT(fake_now() - start >= 1200 * FAKE_MS);
    HT_EXPECT_EQ(fake_log_count("retry 1 of 2 (DNR clear)"), 1);
    HT_EXPECT_EQ(fake_log_count("sending Abort"), 0);
    HT_EXPECT_EQ(m->aborts, 0);
    HT_NO_MODEL_ERRORS();
}
