/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_nvme_controller.c — drivers/nvme/nvme_ctrl.c's
 * state machines against the register model (tests/host/fake/nvme_model.h),
 * where QEMU cannot show them: RDY that takes seconds to follow CC.EN and the
 * CAP.TO bound on it (NVMe 1.4 §3.1.1, §7.6.1), a controller the firmware
 * left enabled, the normal shutdown with CSTS.SHST moving 00b -> 01b -> 10b
 * over time and its RTD3E bound (§7.6.2), a controller fatal status
 * (CSTS.CFS) resetting the controller (§7.3.1), queues as Number of Queues
 * grants them. */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/nvme_model.h"
#include "kernel/leftout.h"

HTEST(nvme_enable_waits_for_rdy_that_takes_seconds)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_timeout(m, 10);          /* CAP.TO 5 s */
    m->ready_ns = 4 * FAKE_S;               /* slow, but inside CAP.TO */
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(m->enables, 1);
    HT_EXPECT(fake_now() >= 4 * FAKE_S);
    HT_EXPECT_EQ(blk_controller_fault_count(), 0);
    HT_NO_MODEL_ERRORS();
}

/* RDY never comes: the driver gives up at CAP.TO (2 s here), not before and
 * not much after, and says so with the decoded CSTS. */
HTEST(nvme_enable_gives_up_at_cap_to)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_timeout(m, 4);
    m->ready_ns = NVME_MODEL_NEVER;
    HT_EXPECT(drivers_start("nvme0n1", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_NOT_READY);
    HT_EXPECT(strstr(f->detail, "CSTS.RDY did not become 1 within CAP.TO = 2000 ms") != NULL);
    HT_EXPECT(fake_now() >= 2 * FAKE_S);
    HT_EXPECT(fake_now() < 2 * FAKE_S + 50 * FAKE_MS);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_IDENTIFY], 0);
}

/* CSTS.CFS while enabling: the wait ends at once with the cause, not after
 * CAP.TO (7.5 s here). */
HTEST(nvme_enable_stops_at_fatal_status)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->cfs_on_enable = true;
    HT_EXPECT(drivers_start("nvme0n1", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_CONTROLLER_FATAL);
    HT_EXPECT(strstr(f->detail, "controller fatal status while enabling: CSTS 0x2") != NULL);
    HT_EXPECT(fake_now() < 100 * FAKE_MS);
}

/* An impossible capability ends bring-up before CC.EN is touched, with the
 * cause, the phrase and the field: CAP.TO = 0 (the driver once read it as
 * one 500 ms unit and went on), CAP.MQES = 0, VS 0 and from the future. */
static void expect_impossible(const char *field)
{
    HT_EXPECT(drivers_start("nvme0n1", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT(!f->disk);
    HT_EXPECT(strncmp(f->detail, BLK_IMPOSSIBLE_WORDS ": ", strlen(BLK_IMPOSSIBLE_WORDS) + 2) == 0);
    HT_EXPECT(strstr(f->detail, field) != NULL);
}

HTEST(nvme_cap_to_zero_is_impossible)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_timeout(m, 0);
    expect_impossible("CAP.TO = 0");
    HT_EXPECT_EQ(m->enables, 0);
    HT_NO_MODEL_ERRORS();
}

HTEST(nvme_cap_mqes_zero_is_impossible)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_set_mqes(m, 0);
    expect_impossible("CAP.MQES = 0");
    HT_EXPECT_EQ(m->enables, 0);
}

HTEST(nvme_version_zero_is_impossible)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->vs = 0;
    expect_impossible("VS = 0x00000000");
    HT_EXPECT_EQ(m->enables, 0);
}

HTEST(nvme_version_from_the_future_is_impossible)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->vs = 0x00030000;
    expect_impossible("VS = 0x00030000 (NVMe 3.0: newer than any published version, 2.x)");
    HT_EXPECT_EQ(m->enables, 0);
}

/* Identify Controller NN = 0: after enabling, before any I/O queue. */
HTEST(nvme_identify_nn_zero_is_impossible)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->nn_zero = true;
    expect_impossible("Identify Controller NN = 0");
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_CREATE_SQ], 0);
    HT_NO_MODEL_ERRORS();
}

/* A namespace whose Identify data contradicts itself is a disk left out for
 * a fault of the device, by name, with the phrase; the controller stays up. */
HTEST(nvme_namespace_with_blocks_below_512_bytes_is_impossible)
{
    struct nvme_model *m = nvme_model_new(64);
    m->lba_shift = 8;
    HT_EXPECT(drivers_start("nvme0n1", NULL) == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT(f->disk);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_IMPOSSIBLE);
    HT_EXPECT_STREQ(f->name, "nvme0 nsid 1");
    HT_EXPECT(strstr(f->detail, BLK_IMPOSSIBLE_WORDS ": LBA format 0 LBADS = 8") == f->detail);
    HT_NO_MODEL_ERRORS();
}

/* The firmware left it enabled and ready: CC.EN = 0 first, and the admin
 * queue is programmed only once RDY has followed (the model flags EN set
 * again before RDY cleared, and AQA/ASQ/ACQ written while enabled). */
HTEST(nvme_disable_waits_for_rdy_to_clear)
{
    struct nvme_model *m = nvme_model_new(8192);
    nvme_model_start_enabled(m, true);
    m->disable_ns = 700 * FAKE_MS;
    HT_EXPECT(drivers_start("nvme0n1", NULL) != NULL);
    HT_EXPECT_EQ(m->disables, 1);
    HT_EXPECT_EQ(m->enables, 1);
    HT_EXPECT(fake_now() >= 700 * FAKE_MS);
    HT_NO_MODEL_ERRORS();
}

/* Enabled but not yet ready (EN = 1, RDY = 0): clearing EN now is undefined
 * (§3.1.5), so the driver lets RDY come first, then disables. */
HTEST(nvme_disable_lets_a_controller_coming_up_finish)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->ready_ns = 400 * FAKE_MS;
    nvme_model_start_enabled(m, false);
    HT_EXPECT(drivers_start("nvme0n1", NULL) != NULL);
    HT_EXPECT_EQ(m->disables, 1);
    HT_NO_MODEL_ERRORS();
}

static struct blk_dev *up_with_data(struct nvme_model *m)
{
    static uint8_t buf[8 * 512];
    struct blk_dev *d = drivers_start("nvme0n1", NULL);
    if (!d)
        return NULL;
    pattern_fill(buf, 64, 8, 512, 7);
    return fake_rw(d, BLK_OP_WRITE, 64, 8, buf) == BLK_OK && m->io_completed ? d : NULL;
}

/* SHST stays 00b for 3 ms after CC.SHN, then 01b until 40 ms: the driver
 * waits for 10b, not merely for "not 01b" (and deletes the I/O queues first). */
HTEST(nvme_shutdown_waits_for_shst_complete)
{
    struct nvme_model *m = nvme_model_new(8192);
    fake_online_cpus = 4;           /* a queue pair per CPU: four to delete */
    m->shn_begin_ns = 3 * FAKE_MS;
    m->shn_done_ns = 40 * FAKE_MS;
    HT_ASSERT(up_with_data(m) != NULL);
    blk_shutdown_all();
    HT_EXPECT_EQ(m->shutdowns_requested, 1);
    HT_EXPECT_EQ(nvme_model_shst(m), NVME_CSTS_SHST_COMPLETE);
    HT_EXPECT(m->last_shst_complete_ns != 0 && fake_now() >= m->last_shst_complete_ns);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_DELETE_SQ], 4);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_DELETE_CQ], 4);
    const char *line = fake_log_find("nvme0: shutdown complete in ");
    HT_ASSERT(line != NULL);
    unsigned long us = strtoul(strstr(line, " in ") + 4, NULL, 10);
    HT_EXPECT(us >= 40000 && us < 41000);
    HT_EXPECT_EQ(fake_log_count("shutdown did not complete"), 0);
    HT_NO_MODEL_ERRORS();
}

/* SHST never reaches 10b: the wait ends at RTD3E (500 ms), reported. */
HTEST(nvme_shutdown_bounded_by_rtd3e)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->shn_done_ns = NVME_MODEL_NEVER;
    m->rtd3e_us = 500000;
    HT_ASSERT(up_with_data(m) != NULL);
    uint64_t before = fake_now();
    blk_shutdown_all();
    HT_EXPECT(fake_now() - before >= 500 * FAKE_MS);
    HT_EXPECT(fake_now() - before < 600 * FAKE_MS);
    HT_EXPECT_EQ(fake_log_count("nvme0: shutdown did not complete within 500 ms"), 1);
    HT_EXPECT_EQ(fake_log_count("shutdown complete in"), 0);
    HT_NO_MODEL_ERRORS();
}

/* A CSTS.CFS seen while I/O is in flight: the controller is reset (EN 1 -> 0
 * -> 1, queues created again) and the commands in flight are posted again. */
HTEST(nvme_fatal_status_resets_and_reposts)
{
    static uint8_t buf[4][4096];
    static struct fake_io io[4];
    struct nvme_model *m = nvme_model_new(8192);
    m->io_latency_ns = 2 * FAKE_MS;
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=1");
    HT_ASSERT(d != NULL);
    for (unsigned i = 0; i < 4; i++) {
        pattern_fill(buf[i], 100 + 8 * i, 8, 512, 3);
        memcpy(nvme_model_block(m, 100 + 8 * i), buf[i], 4096);
        memset(buf[i], 0, 4096);
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 100 + 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    }
    blk_kick(d, 0);
    m->cfs = true;
    for (unsigned i = 0; i < 4; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, 5 * FAKE_S));
        HT_EXPECT_EQ(io[i].req.cause, BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf[i], 100 + 8 * i, 8, 512, 3), -1);
    }
    HT_EXPECT_EQ(m->enables, 2);
    HT_EXPECT_EQ(fake_log_count("nvme0: controller reset (CSTS.CFS)"), 1);
    HT_EXPECT_EQ(fake_log_count("reset done, 1 I/O queue pairs recreated"), 1);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_CREATE_SQ], 2);
    HT_NO_MODEL_ERRORS();
}

/* Number of Queues grants 2 of the 4 wanted: two pairs are created, and a
 * request for queue 3 lands on one that exists. */
HTEST(nvme_queues_as_granted)
{
    static uint8_t buf[4096];
    struct nvme_model *m = nvme_model_new(8192);
    m->max_queue_pairs = 2;
    struct blk_dev *d = drivers_start("nvme0n1", "nvme.queues=4 nvme.qdepth=16");
    HT_ASSERT(d != NULL);
    HT_EXPECT(fake_log_find("queues 2x16 (granted 2)") != NULL);
    HT_EXPECT_EQ(m->admin_commands[NVME_ADMIN_CREATE_CQ], 2);
    HT_EXPECT_EQ(d->nqueues, 2);
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 0, 8, buf, 3, 0) == BLK_OK);
    blk_kick(d, 3);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_OK);
    HT_EXPECT_EQ(m->sq_doorbells[2], 1);
    HT_NO_MODEL_ERRORS();
}

/* Every active namespace is registered, however many: the Active Namespace
 * ID list is read page after page (1024 NSIDs a page, NVMe 1.4 §5.15.2.2);
 * the old driver kept 8 and read one page. */
HTEST(nvme_every_active_namespace_registered_past_one_list_page)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->namespaces = 1500;
    HT_ASSERT(drivers_start("nvme0n1", NULL) != NULL);
    HT_EXPECT(blk_find("nvme0n1024") != NULL);
    HT_EXPECT(blk_find("nvme0n1025") != NULL);
    HT_EXPECT(blk_find("nvme0n1500") != NULL);
    HT_EXPECT(blk_find("nvme0n1501") == NULL);
    HT_EXPECT_EQ(blk_count(), 1500);
    HT_EXPECT_EQ(leftout_count(), 0);
    HT_NO_MODEL_ERRORS();
}

/* A zoned namespace (CSI 02h in its Namespace Identification Descriptor
 * list) is registered read-only with its zones, never as a conventional one. */
HTEST(nvme_zoned_namespace_kept_read_only_with_its_zones)
{
    struct nvme_model *m = nvme_model_new(8192);
    m->zoned_nsid = 1;
    struct blk_dev *d = drivers_start("nvme0n1", NULL);     /* allow_write=* */
    HT_ASSERT(d != NULL);
    HT_EXPECT(!d->writable);
    HT_EXPECT(strstr(d->access, "read-only: zoned namespace (NVMe ZNS), 32 zones of 256 blocks")
              != NULL);
    HT_EXPECT_EQ(m->io_commands[NVME_CMD_WRITE], 0);
    HT_NO_MODEL_ERRORS();
}

/* 64 KiB blocks behind MDTS 3 (32 KiB): no command could move one block, so
 * the namespace is named with the reason and left out (it was registered,
 * and its first read divided by a max transfer of 0 blocks). */
HTEST(nvme_namespace_with_blocks_beyond_mdts_left_out)
{
    struct nvme_model *m = nvme_model_new(64);
    m->lba_shift = 16;
    m->mdts = 3;
    HT_EXPECT(drivers_start("nvme0n1", NULL) == NULL);
    HT_EXPECT_EQ(blk_count(), 0);
    /* Recorded as a disk left out (a format bareio cannot drive), not as a
     * controller that failed: preflight names it under its function. */
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT(f->disk);
    HT_EXPECT_EQ(f->cause, BLK_CAUSE_UNSUPPORTED);
    HT_EXPECT_STREQ(f->name, "nvme0 nsid 1");
    HT_EXPECT_STREQ(f->detail, "LBA format 0 has 65536-byte blocks, more than one command may "
                    "move (32768 bytes, MDTS)");
    HT_NO_MODEL_ERRORS();
}
