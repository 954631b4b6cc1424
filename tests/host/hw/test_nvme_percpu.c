/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_nvme_percpu.c — the NVMe driver's queue pair per CPU
 * against the register model: one pair per online CPU by default, CPUs
 * sharing what Number of Queues grants, each CPU's I/O on its own queue
 * (blk_queue_of_cpu), and the recovery token: a late command found while
 * another CPU holds recovery is left to that CPU, then recovered once the
 * token is free; a request another CPU submits mid-reset goes out once; each
 * queue's MSI-X entry routed to its CPU by APIC id (not by index), and kept
 * on the BSP, said, when that CPU cannot be named. One thread plays each CPU
 * in turn (fake_this_rank); the fake delivers no interrupt, so where the
 * handler really runs is QEMU's to show (tests/scenarios/test_nvme_percpu.py). */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/nvme_model.h"
#include "drivers/nvme/nvme.h"

/* A write then a read of 8 blocks at lba from the CPU of rank `rank`
 * (blk_io picks that CPU's queue); true when both succeeded and matched. */
static bool io_as_cpu(struct blk_dev *d, unsigned rank, uint64_t lba, uint32_t tag)
{
    static uint8_t buf[8 * 512];
    fake_this_rank = rank;
    pattern_fill(buf, lba, 8, 512, tag);
    bool ok = fake_rw(d, BLK_OP_WRITE, lba, 8, buf) == BLK_OK;
    memset(buf, 0, sizeof(buf));
    ok = ok && fake_rw(d, BLK_OP_READ, lba, 8, buf) == BLK_OK &&
         pattern_check(buf, lba, 8, 512, tag) == -1;
    fake_this_rank = 0;
    return ok;
}

/* Three CPUs online, nothing on the command line: three pairs, said on the
 * boot line, and each CPU's I/O rings only its own SQ doorbell. */
HTEST(nvme_one_queue_pair_per_online_cpu)
{
    struct nvme_model *m = nvme_model_new(8192);
    fake_online_cpus = 3;
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(d->nqueues, 3);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_CREATE_SQ], 3);
    HT_EXPECT(fake_log_find("queues 3x256 (granted 4), one per CPU (3 CPUs)") != NULL);
    for (unsigned rank = 0; rank < 3; rank++) {
        fake_this_rank = rank;
        HT_EXPECT_EQ(blk_queue_of_cpu(d), rank);
        unsigned before[4];
        for (unsigned q = 1; q <= 3; q++)
            before[q] = m->sq_doorbells[q];
        HT_EXPECT(io_as_cpu(d, rank, 100 + 16 * rank, 40 + rank));
        for (unsigned q = 1; q <= 3; q++)
            HT_EXPECT_EQ(m->sq_doorbells[q] - before[q], q == rank + 1 ? 2u : 0u);
    }
    HT_NO_MODEL_ERRORS();
}

/* Eight CPUs, a controller that grants two pairs: the CPUs share them by
 * rank modulo two, and the boot line says so. */
HTEST(nvme_cpus_share_the_queues_granted)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->max_queue_pairs = 2;
    fake_online_cpus = 8;
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(d->nqueues, 2);
    HT_EXPECT(fake_log_find("queues 2x256 (granted 2), shared by 8 CPUs (8 wanted)") != NULL);
    unsigned before = m->sq_doorbells[2];
    HT_EXPECT(io_as_cpu(d, 7, 300, 9));         /* rank 7: queue 1, qid 2 */
    HT_EXPECT_EQ(m->sq_doorbells[2] - before, 2);
    HT_EXPECT(io_as_cpu(d, 6, 320, 10));        /* rank 6: queue 0, qid 1 */
    HT_NO_MODEL_ERRORS();
}

/* nvme.queues= still overrides the default, above the CPU count too. */
HTEST(nvme_queues_key_overrides_one_per_cpu)
{
    nvme_model_new(8192);
    fake_online_cpus = 2;
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=3");
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(d->nqueues, 3);
    HT_EXPECT(fake_log_find("(granted 4), 1 more than the 2 CPUs (nvme.queues=3)") != NULL);
}

static void hold_lba_60(struct nvme_model *m, const struct nvme_sqe *sqe, unsigned attempt,
                        struct nvme_model_fault *f)
{
    (void)m;
    (void)attempt;
    if (sqe->cdw10 == 60)
        f->hold = true;
}

/* A command past its deadline while another CPU holds the recovery token:
 * this CPU sends no Abort and marks nothing (that CPU's reset settles it);
 * once the token is free, the next poll recovers it: Abort, then the reset
 * the ignored Abort leads to, and the command fails as a timeout. */
HTEST(nvme_late_command_left_to_the_cpu_recovering)
{
    static struct fake_io io;
    static uint8_t buf[4096];
    struct nvme_model *m = nvme_model_new(8192);
    m->abort_works = false;
    fake_online_cpus = 2;
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    struct nvme_ctrl *c = nvme_controller(0);
    HT_ASSERT(c != NULL);
    m->fault = hold_lba_60;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 60, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    c->recovery_owner = 2;                      /* the CPU of rank 1 is recovering */
    uint64_t until = fake_now() + 3 * FAKE_S;   /* three times blk.timeout */
    while (fake_now() < until)
        blk_poll(d, 0);
    HT_EXPECT(!io.req.complete);
    HT_EXPECT_EQ(m->aborts, 0);
    HT_EXPECT_EQ(c->timeouts, 0);
    HT_EXPECT_EQ(fake_log_count("sending Abort"), 0);
    c->recovery_owner = 0;                      /* it is done */
    HT_EXPECT(fake_wait(d, &io.req, 5 * FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_TIMEOUT);
    HT_EXPECT_EQ(m->aborts, 1);
    HT_EXPECT_EQ(c->resets, 1);
    HT_EXPECT_EQ(c->recovery_owner, 0);         /* given back after the reset */
    HT_EXPECT_EQ(c->recovery_depth, 0);
    m->fault = NULL;
    HT_EXPECT(io_as_cpu(d, 1, 200, 3));         /* both queues serve after the reset */
    HT_EXPECT(io_as_cpu(d, 0, 220, 4));
    HT_NO_MODEL_ERRORS();
}

/* A reset asked for while another CPU holds the token is that CPU's to do:
 * nothing is disabled, nothing reposted twice. */
HTEST(nvme_reset_left_to_the_cpu_recovering)
{
    struct nvme_model *m = nvme_model_new(8192);
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    struct nvme_ctrl *c = nvme_controller(0);
    HT_ASSERT(c != NULL);
    unsigned creates = m->admin_commands[NVME_ADMIN_CREATE_SQ];
    c->recovery_owner = 5;
    HT_EXPECT(nvme_ctrl_reset(c, "test"));
    HT_EXPECT_EQ(c->resets, 0);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_CREATE_SQ], creates);
    c->recovery_owner = 0;
    HT_EXPECT(nvme_ctrl_reset(c, "test"));
    HT_EXPECT_EQ(c->resets, 1);
    HT_EXPECT_EQ(c->recovery_owner, 0);
    HT_EXPECT(io_as_cpu(d, 0, 64, 5));
    HT_NO_MODEL_ERRORS();
}

/* Another CPU submits while the reset reposts: the hook plays the CPU of
 * rank 1 at the reset's first doorbell (queue 1's repost), sending a read on
 * its own queue 2. That read must go out once, after the repost of queue 2,
 * not once by its own submit and again as a command the repost found in
 * flight (the model names a CID reused while outstanding). */
static struct blk_dev *hook_dev;
static bool hook_armed;
static struct fake_io hook_io;
static uint8_t hook_buf[4096];

static void submit_as_rank_1(struct nvme_model *m, uint16_t qid, bool cq, uint32_t value)
{
    (void)m;
    (void)value;
    if (!hook_armed || cq || qid != 1)
        return;
    hook_armed = false;
    fake_this_rank = 1;
    HT_EXPECT(fake_submit(hook_dev, &hook_io, BLK_OP_READ, 80, 8, hook_buf, 1, 0) == BLK_OK);
    blk_kick(hook_dev, 1);
    blk_poll(hook_dev, 1);
    fake_this_rank = 0;
}

HTEST(nvme_request_submitted_during_a_reset_goes_out_once)
{
    static struct fake_io io;
    static uint8_t buf[4096];
    struct nvme_model *m = nvme_model_new(8192);
    fake_online_cpus = 2;
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    struct nvme_ctrl *c = nvme_controller(0);
    HT_ASSERT(c != NULL);
    pattern_fill(nvme_model_block(m, 80), 80, 8, 512, 21);
    m->io_latency_ns = 50 * FAKE_MS;            /* in flight on queue 1 at the reset */
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 60, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    hook_dev = d;
    hook_armed = true;
    m->doorbell_hook = submit_as_rank_1;
    unsigned reads = m->io_commands[NVME_CMD_READ];
    HT_EXPECT(nvme_ctrl_reset(c, "test: reset while another CPU submits"));
    HT_EXPECT(!hook_armed);                     /* the hook ran, inside the reset */
    HT_EXPECT(fake_wait(d, &io.req, 5 * FAKE_S));
    HT_EXPECT(fake_wait(d, &hook_io.req, 5 * FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_OK);
    HT_EXPECT_EQ(hook_io.req.cause, BLK_OK);
    HT_EXPECT_EQ(pattern_check(hook_buf, 80, 8, 512, 21), -1);
    /* The repost of the first read, and the second read once. */
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_READ] - reads, 2);
    HT_NO_MODEL_ERRORS();
}

/* drivers_start() with nvme.irq=msix in place of its nvme.irq=poll. */
static struct blk_dev *start_msix(const char *extra)
{
    char line[256];
    snprintf(line, sizeof(line), "nvme.irq=msix blk.timeout=1000 allow_write=* %s",
             extra ? extra : "");
    if (!fake_cmdline(line))
        return NULL;
    fake_blk_start();
    return blk_find("nvme0n1");
}

/* MSI-X: each queue's entry is enabled (aimed at the BSP, as the kernel's
 * pci_msix_enable does) and then routed to its CPU: queue i to the CPU of
 * rank i, whose APIC id here is 2i + 1, not i. The admin queue's entry 0
 * is polled and left alone. */
HTEST(nvme_msix_entry_of_each_queue_routed_to_its_cpu)
{
    struct nvme_model *m = nvme_model_new(8192);
    fake_msix_give(m->pci, 65);
    fake_irq_vectors = true;
    fake_online_cpus = 3;
    struct blk_dev *d = start_msix(NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(d->nqueues, 3);
    HT_EXPECT(!fake_msix[0].enabled);
    for (unsigned q = 0; q < 3; q++) {
        HT_EXPECT(fake_msix[q + 1].enabled);
        HT_EXPECT_EQ(fake_msix[q + 1].apic_id, 2 * q + 1);
        HT_EXPECT_EQ(fake_msix[q + 1].retargets, q == 0 ? 0u : 1u);   /* the BSP's stays */
        struct nvme_test_view v;
        HT_ASSERT(nvme_test_view(d, q, &v));
        HT_EXPECT_EQ(v.queue.irq_mode, NVME_IRQ_MSIX);
        HT_EXPECT_EQ(v.queue.irq_apic_id, 2 * q + 1);
    }
    HT_EXPECT(!fake_msix[4].enabled);
    HT_EXPECT_EQ(fake_log_count("cannot be routed"), 0);
}

/* Four queues on two CPUs (nvme.queues=4): queue 2 shares rank 0's CPU,
 * queue 3 rank 1's. */
HTEST(nvme_msix_more_queues_than_cpus_wrap_round_the_cpus)
{
    struct nvme_model *m = nvme_model_new(8192);
    fake_msix_give(m->pci, 65);
    fake_irq_vectors = true;
    fake_online_cpus = 2;
    struct blk_dev *d = start_msix("nvme.queues=4");
    HT_ASSERT(d != NULL);
    static const uint32_t want[4] = { 1, 3, 1, 3 };
    for (unsigned q = 0; q < 4; q++)
        HT_EXPECT_EQ(fake_msix[q + 1].apic_id, want[q]);
}

/* A CPU no MSI address can name (APIC id above 255 without interrupt
 * remapping: here above 3): its queue keeps the BSP, and the boot log says
 * which queue, entry, CPU and APIC id. */
HTEST(nvme_msix_queue_whose_cpu_cannot_be_named_stays_on_the_bsp)
{
    struct nvme_model *m = nvme_model_new(8192);
    fake_msix_give(m->pci, 65);
    fake_irq_vectors = true;
    fake_online_cpus = 3;
    fake_msix_unreachable_above = 3;
    struct blk_dev *d = start_msix(NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(fake_msix[2].apic_id, 3);
    HT_EXPECT_EQ(fake_msix[3].apic_id, 1);
    struct nvme_test_view v;
    HT_ASSERT(nvme_test_view(d, 2, &v));
    HT_EXPECT_EQ(v.queue.irq_apic_id, 1);
    HT_EXPECT(fake_log_find("nvme0: queue 3: MSI-X entry 3 cannot be routed to CPU 2 (APIC id 5); "
                            "its interrupts go to the BSP") != NULL);
}
