/* SPDX-License-Identifier: MIT */
/* tests/host/hw/test_ahci_port.c — drivers/ahci/ahci_port.c and
 * ahci_io.c against the register model (tests/host/fake/ahci_model.h), where
 * QEMU cannot show them: a COMRESET must hold PxSCTL.DET = 1 for at least
 * 1 ms (AHCI 1.3.1 §10.4.2; QEMU resets at once whatever the hold), engines
 * that take time to stop (§10.1.2), a device that keeps ERR after a failed
 * command until a COMRESET (so recovery must reset the link, §6.2.2.1 step 7),
 * NCQ errors with and without a usable NCQ error log (SATA §13.7.4), a
 * command that never completes. Each recovery is counted: port errors, COMRESETs
 * and the commands the disk saw are exact numbers here. A disk whose IDENTIFY
 * data holds what ATA rules out (capacity 0, a sector below 512 bytes) is
 * left out as impossible, named with the words and the value; the HBA's other
 * disks are driven. */
#include "tests/host/hw/hw.h"
#include "tests/host/fake/ahci_model.h"
#include "drivers/ahci/ahci_priv.h"

static struct ahci_port *port_of(struct blk_dev *d) { return ahci_port_of(d); }

/* A disk whose link is down at power-on: the driver's COMRESET brings it up,
 * holding DET = 1 for at least 1 ms (the model ignores a shorter one). */
HTEST(ahci_comreset_holds_det_at_least_1ms)
{
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_link_down(m, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(m->port[0].comresets, 1);
    HT_EXPECT_EQ(m->port[0].short_comresets, 0);
    HT_EXPECT(m->port[0].shortest_hold_ns >= FAKE_MS);
    HT_EXPECT(m->port[0].shortest_hold_ns < 10 * FAKE_MS);
    HT_EXPECT_EQ(port_of(d)->stats.comresets, 1);
    HT_NO_MODEL_ERRORS();
}

/* An empty port: after a COMRESET the link stays down; one line, no disk,
 * within the link bounds (50 ms of absence, not the 1 s link timeout). */
HTEST(ahci_empty_port_reported_once)
{
    struct ahci_model *m = ahci_model_new(16384);
    m->pi = 0x3;
    HT_ASSERT(drivers_start("ahci0p0", NULL) != NULL);
    HT_EXPECT_EQ(fake_log_count("ahci0p1: empty (PxSSTS DET 0"), 1);
    HT_EXPECT_EQ(fake_log_count("ahci0p1:"), 1);
    HT_EXPECT(blk_find("ahci0p1") == NULL);
    HT_EXPECT(fake_now() < 500 * FAKE_MS);
    HT_NO_MODEL_ERRORS();
}

/* Shutdown on a disk bareio wrote: FLUSH CACHE EXT, then the engines stop.
 * CR takes 400 ms to clear and FR 100 ms: the driver waits for CR before it
 * clears FRE (§3.3.7 forbids it earlier; the model flags it) and for FR
 * before it says the engines stopped. */
HTEST(ahci_shutdown_flushes_and_waits_for_cr_and_fr)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_WRITE, 600, 8, buf), BLK_OK);
    m->cr_stop_ns = 400 * FAKE_MS;
    m->fr_stop_ns = 100 * FAKE_MS;
    uint64_t start = fake_now();
    blk_shutdown_all();
    HT_EXPECT(fake_now() - start >= 500 * FAKE_MS);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_FLUSH_CACHE_EXT], 1);
    HT_EXPECT_EQ(m->port[0].cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_CR | AHCI_PxCMD_FRE |
                                   AHCI_PxCMD_FR), 0);
    HT_EXPECT_EQ(fake_log_count("ahci0p0: shutdown: write cache flushed in "), 1);
    HT_EXPECT_EQ(fake_log_count("; engines stopped (ST/CR, FRE/FR clear) in "), 1);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 600, 8, buf), BLK_CAUSE_NOT_READY);
    HT_NO_MODEL_ERRORS();
}

/* The HBA gone from the bus before shutdown: the flush fails and the port's
 * recovery with it, and the engine stop says the registers read all ones at
 * once instead of waiting 500 ms for a CR bit that reads set for ever. */
HTEST(ahci_shutdown_of_a_gone_hba_says_so)
{
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    m->gone = true;
    uint64_t start = fake_now();
    blk_shutdown_all();
    HT_EXPECT(fake_now() - start < 2 * FAKE_S);
    HT_EXPECT_EQ(fake_log_count("ahci0p0: shutdown: FLUSH CACHE EXT failed: "), 1);
    HT_EXPECT_EQ(fake_log_count("; PxCMD read all ones (device gone from the bus) after clearing "
                                "ST in "), 1);
    HT_EXPECT_EQ(fake_log_count("ahci0p0: recovery failed: no link after COMRESET"), 1);
    HT_NO_MODEL_ERRORS();
}

/* ---- errors and recovery ---- */

static uint8_t fault_command;
static uint64_t fault_lba;
static unsigned fault_times;
static uint8_t fault_error;
static bool fault_others_later;

static void fail_at(struct ahci_model *m, unsigned port, uint8_t command, uint64_t lba,
                    uint32_t count, unsigned attempt, struct ahci_model_fault *f)
{
    (void)m;
    (void)port;
    (void)count;
    bool rw_match = command == fault_command ||
                    (fault_command == ATA_CMD_READ_DMA_EXT && command == ATA_CMD_READ_FPDMA_QUEUED);
    if (rw_match && lba == fault_lba && attempt <= fault_times)
        f->error = fault_error;
    else if (fault_others_later)
        f->delay_ns = FAKE_MS;      /* the faulty command fails while the others are queued */
}

static void arm(struct ahci_model *m, uint8_t command, uint64_t lba, unsigned times, uint8_t error)
{
    fault_command = command;
    fault_lba = lba;
    fault_times = times;
    fault_error = error;
    m->fault = fail_at;
}

/* A disk without NCQ: a read fails once (UNC). The disk keeps ERR, so the
 * recovery must COMRESET the link (PxTFD.ERR still set after ST was cleared);
 * then the next reads succeed. One port error, one COMRESET, exactly. */
HTEST(ahci_sticky_err_forces_comreset)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    for (unsigned i = 0; i < 8; i++)
        pattern_fill(ahci_model_block(m, 0, 2000 + 8 * i), 2000 + 8 * i, 8, 512, 0xe);
    arm(m, ATA_CMD_READ_DMA_EXT, 2000, 1, ATA_ERR_UNC);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 2000, 8, buf), BLK_CAUSE_MEDIA);
    for (unsigned i = 1; i < 8; i++) {
        HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 2000 + 8 * i, 8, buf), BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf, 2000 + 8 * i, 8, 512, 0xe), -1);
    }
    HT_EXPECT_EQ(fake_log_count("ahci0p0: port error; 1 command(s) in flight failed; port "
                                "restarted after COMRESET"), 1);
    HT_EXPECT_EQ(fake_log_count("port error"), 1);
    HT_EXPECT_EQ(port_of(d)->stats.comresets, 1);
    HT_EXPECT_EQ(port_of(d)->stats.recoveries, 1);
    HT_EXPECT_EQ(m->port[0].errors_raised, 1);
    HT_EXPECT_EQ(m->port[0].comresets, 1);
    HT_EXPECT_EQ(m->port[0].short_comresets, 0);
    HT_EXPECT(m->port[0].shortest_hold_ns >= FAKE_MS);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_READ_DMA_EXT], 9);   /* 1 IDENTIFY-time read + 8 */
    HT_NO_MODEL_ERRORS();
}

/* Issue 16: the HBA's one MSI reaches one CPU for every port, whichever CPU
 * drives a port. A failed read seen by the interrupt handler is left to the
 * next poll (the driving CPU's, out of interrupt context, its report in that
 * CPU's output): the handler recovers nothing and completes nothing; the
 * poll recovers the port and fails the read with its cause. */
HTEST(ahci_error_seen_by_the_interrupt_is_recovered_by_poll)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    struct ahci_port *p = port_of(d);
    arm(m, ATA_CMD_READ_DMA_EXT, 2000, 1, ATA_ERR_UNC);
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 2000, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    fake_advance(FAKE_MS);
    ahci_io_interrupt(p);
    HT_EXPECT(!io.req.complete);
    HT_EXPECT_EQ(p->stats.recoveries, 0);
    HT_EXPECT((p->deferred_is & AHCI_PxIS_TFES) != 0);
    HT_EXPECT_EQ(fake_log_count("port error"), 0);
    HT_EXPECT(fake_wait(d, &io.req, 100 * FAKE_MS));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(p->stats.recoveries, 1);
    HT_EXPECT_EQ(p->deferred_is, 0u);
    HT_EXPECT_EQ(fake_log_count("ahci0p0: port error; 1 command(s) in flight failed"), 1);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 2008, 8, buf), BLK_OK);
    HT_NO_MODEL_ERRORS();
}

/* While one CPU recovers a port with its lock dropped (`recovering`), the
 * interrupt handler and another CPU's poll leave the port alone: PxIS is
 * not read away from under the recovery, nothing is reaped or issued; once
 * the recovery is over the completion is reaped as usual. */
HTEST(ahci_port_in_recovery_left_to_the_cpu_recovering)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    struct ahci_port *p = port_of(d);
    struct fake_io io, waiting;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 100, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    fake_advance(FAKE_MS);
    uint32_t irqs = p->stats.irqs;
    p->recovering = true;
    ahci_io_interrupt(p);
    HT_EXPECT_EQ(blk_poll(d, 0), 0u);
    HT_EXPECT(!io.req.complete);
    HT_EXPECT_EQ(p->stats.irqs, irqs);
    HT_EXPECT(m->port[0].is & AHCI_PxIS_DHRS);      /* still there for the recovery */
    p->recovering = false;
    HT_EXPECT(fake_wait(d, &io.req, 100 * FAKE_MS));
    HT_EXPECT_EQ(io.req.cause, BLK_OK);
    /* Submitted and kicked mid-recovery on an idle port: it waits. */
    unsigned reads = m->port[0].commands[ATA_CMD_READ_DMA_EXT];
    p->recovering = true;
    HT_ASSERT(fake_submit(d, &waiting, BLK_OP_READ, 200, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    fake_advance(FAKE_MS);
    HT_EXPECT_EQ(m->port[0].ci, 0u);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_READ_DMA_EXT], reads);
    HT_EXPECT(!blk_fifo_empty(&p->waiting));
    p->recovering = false;
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &waiting.req, 100 * FAKE_MS));
    HT_EXPECT_EQ(waiting.req.cause, BLK_OK);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_READ_DMA_EXT], reads + 1);
    HT_NO_MODEL_ERRORS();
}

/* Each port is its own CPU group and may be driven from any CPU. */
HTEST(ahci_ports_driven_from_any_cpu_each_its_own_group)
{
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    ahci_model_attach(m, 1, 16384, 0);
    struct blk_dev *a = drivers_start("ahci0p0", NULL);
    HT_ASSERT(a != NULL);
    struct blk_dev *b = blk_find("ahci0p1");
    HT_ASSERT(b != NULL);
    HT_EXPECT(a->any_cpu && b->any_cpu);
    HT_EXPECT(a->cpu_group == a && b->cpu_group == b);
    HT_EXPECT(port_of(a)->lock.name != NULL);
    HT_NO_MODEL_ERRORS();
}

/* NCQ, and the disk refuses READ LOG EXT (as QEMU): 8 reads in flight, one
 * with a persistent error. The NCQ error, the refused log read (COMRESET),
 * every tag re-sent without NCQ, the bad one failing alone (COMRESET): 2
 * port errors, 2 COMRESETs, 7 reads good, 1 media error. */
HTEST(ahci_ncq_error_without_log_isolates_the_bad_tag)
{
    static uint8_t buf[8][4096];
    static struct fake_io io[8];
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    for (unsigned i = 0; i < 8; i++)
        pattern_fill(ahci_model_block(m, 0, 4000 + 8 * i), 4000 + 8 * i, 8, 512, 0x9);
    arm(m, ATA_CMD_READ_DMA_EXT, 4024, 1000, ATA_ERR_UNC);
    fault_others_later = true;
    for (unsigned i = 0; i < 8; i++)
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 4000 + 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    blk_kick(d, 0);
    for (unsigned i = 0; i < 8; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, 5 * FAKE_S));
        HT_EXPECT_EQ(io[i].req.cause, i == 3 ? BLK_CAUSE_MEDIA : BLK_OK);
        if (i != 3)
            HT_EXPECT_EQ(pattern_check(buf[i], 4000 + 8 * i, 8, 512, 0x9), -1);
    }
    HT_EXPECT(strstr(io[3].req.detail, "(re-sent without NCQ)") != NULL);
    HT_EXPECT_EQ(io[3].req.error_lba, 4024);
    HT_EXPECT_EQ(fake_log_count("port error"), 2);
    HT_EXPECT_EQ(fake_log_count("re-sent without NCQ"), 8);
    HT_EXPECT_EQ(port_of(d)->stats.comresets, 2);
    HT_EXPECT_EQ(port_of(d)->stats.ncq_log_unusable, 1);
    HT_EXPECT_EQ(m->port[0].errors_raised, 3);
    HT_NO_MODEL_ERRORS();
}

/* NCQ with a working error log: the log names the tag; no COMRESET (it would
 * clear the log), the others re-sent once with NCQ. */
HTEST(ahci_ncq_error_log_names_the_tag_without_reset)
{
    static uint8_t buf[8][4096];
    static struct fake_io io[8];
    struct ahci_model *m = ahci_model_new(16384);
    m->read_log_works = true;
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    arm(m, ATA_CMD_READ_DMA_EXT, 4016, 1000, ATA_ERR_UNC);
    fault_others_later = true;
    for (unsigned i = 0; i < 8; i++)
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 4000 + 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    blk_kick(d, 0);
    for (unsigned i = 0; i < 8; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, 5 * FAKE_S));
        HT_EXPECT_EQ(io[i].req.cause, i == 2 ? BLK_CAUSE_MEDIA : BLK_OK);
    }
    HT_EXPECT(strstr(io[2].req.detail, "(NCQ error log: tag 2)") != NULL);
    HT_EXPECT_EQ(fake_log_count("port error"), 1);
    HT_EXPECT_EQ(port_of(d)->stats.comresets, 0);
    HT_EXPECT_EQ(port_of(d)->stats.ncq_log_reads, 1);
    HT_EXPECT_EQ(port_of(d)->stats.retries, 7);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_READ_LOG_EXT], 1);
    HT_NO_MODEL_ERRORS();
}

static void hold_lba_3000(struct ahci_model *m, unsigned port, uint8_t command, uint64_t lba,
                          uint32_t count, unsigned attempt, struct ahci_model_fault *f)
{
    (void)m;
    (void)port;
    (void)command;
    (void)count;
    if (lba == 3000 && attempt == 1)
        f->hold = true;
}

/* A read that never completes: past blk.timeout (1 s) it fails as a timeout,
 * the port is reset (COMRESET: the device may still own the command) and
 * serves the next read. */
HTEST(ahci_timeout_recovered_with_comreset)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    m->fault = hold_lba_3000;
    uint64_t start = fake_now();
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 3000, 8, buf), BLK_CAUSE_TIMEOUT);
    HT_EXPECT(fake_now() - start >= FAKE_S);
    HT_EXPECT(fake_now() - start < 2 * FAKE_S);
    HT_EXPECT_EQ(fake_log_count("ahci0p0: command timeout; 1 command(s) in flight failed; port "
                                "restarted after COMRESET"), 1);
    HT_EXPECT_EQ(port_of(d)->stats.comresets, 1);
    HT_EXPECT_EQ(m->port[0].comresets, 1);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 3000, 8, buf), BLK_OK);
    HT_NO_MODEL_ERRORS();
}

/* 32 NCQ reads at once: all in flight together, each its own data. */
HTEST(ahci_ncq_32_tags_in_flight)
{
    static uint8_t buf[32][4096];
    static struct fake_io io[32];
    struct ahci_model *m = ahci_model_new(16384);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    for (unsigned i = 0; i < 32; i++) {
        pattern_fill(ahci_model_block(m, 0, 8 * i), 8 * i, 8, 512, 0x32);
        HT_ASSERT(fake_submit(d, &io[i], BLK_OP_READ, 8 * i, 8, buf[i], 0, 0) == BLK_OK);
    }
    blk_kick(d, 0);
    for (unsigned i = 0; i < 32; i++) {
        HT_EXPECT(fake_wait(d, &io[i].req, FAKE_S) && io[i].req.cause == BLK_OK);
        HT_EXPECT_EQ(pattern_check(buf[i], 8 * i, 8, 512, 0x32), -1);
    }
    HT_EXPECT_EQ(port_of(d)->stats.max_in_flight, 32);
    HT_NO_MODEL_ERRORS();
}

/* describe(): after a failed read, the failure's registers (PxIS TFES,
 * PxTFD with ERR) and the failed slot's PRDT as sent (one entry of 4096
 * bytes), then the registers now. */
HTEST(ahci_describe_prints_the_failure_record)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL && d->ops->describe != NULL);
    arm(m, ATA_CMD_READ_DMA_EXT, 3000, 1, ATA_ERR_UNC);
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 3000, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(fake_log_count("PRDT as sent"), 0);
    d->ops->describe(d, &io.req);
    HT_EXPECT_EQ(fake_log_count("PRDT as sent, 1 entries"), 1);
    HT_EXPECT(fake_log_find("PRD 0: DBA") != NULL && fake_log_find("(4096 bytes)") != NULL);
    const char *at = fake_log_find("registers at the failure: PxIS");
    HT_EXPECT(at != NULL && strstr(at, "TFES") != NULL);
    HT_EXPECT(fake_log_find("registers now: PxIS") != NULL);
    HT_EXPECT(fake_log_find("1 recoveries") != NULL);
    HT_NO_MODEL_ERRORS();
}

/* The PRDT one sector short of the FIS's count (the driver's test hook): the
 * disk moves what the PRDT holds and PxPRDBC says so; the driver fails the
 * request as a short transfer instead of taking the missing sector as read. */
HTEST(ahci_short_prdbc_detected)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL);
    port_of(d)->test_short_prdt = true;
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_READ, 500, 8, buf, 0, 0) == BLK_OK);
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S));
    HT_EXPECT_EQ(io.req.cause, BLK_CAUSE_DEVICE_ERROR);
    HT_EXPECT(strstr(io.req.detail, "short transfer: PRDBC 3584 of 4096 bytes") != NULL);
    HT_EXPECT_EQ(io.req.bytes, 3584);
    port_of(d)->test_short_prdt = false;
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_READ, 500, 8, buf), BLK_OK);
    HT_NO_MODEL_ERRORS();
}

/* A write with BLK_F_FUA reaches the disk as one: the FUA bit of WRITE FPDMA
 * QUEUED with NCQ, WRITE DMA FUA EXT without. */
static void fua_write(bool ncq)
{
    static uint8_t buf[4096];
    struct ahci_model *m = ahci_model_new(16384);
    if (!ncq)
        ahci_model_attach(m, 0, 16384, 0);
    struct blk_dev *d = drivers_start("ahci0p0", NULL);
    HT_ASSERT(d != NULL && (d->caps & BLK_CAP_FUA));
    struct fake_io io;
    HT_ASSERT(fake_submit(d, &io, BLK_OP_WRITE, 700, 8, buf, 0, BLK_F_FUA) == BLK_OK);
    blk_kick(d, 0);
    HT_EXPECT(fake_wait(d, &io.req, FAKE_S) && io.req.cause == BLK_OK);
    HT_EXPECT_EQ(m->port[0].fua_writes, 1);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_WRITE_DMA_FUA_EXT], ncq ? 0 : 1);
    HT_EXPECT_EQ(fake_rw(d, BLK_OP_WRITE, 708, 8, buf), BLK_OK);     /* no FUA asked */
    HT_EXPECT_EQ(m->port[0].fua_writes, 1);
    HT_NO_MODEL_ERRORS();
}

HTEST(ahci_fua_write_reaches_the_disk_as_fua_ncq) { fua_write(true); }
HTEST(ahci_fua_write_reaches_the_disk_as_fua_non_queued) { fua_write(false); }

/* What port 0's disk says in IDENTIFY: 0 sectors (words 100-103), or a
 * logical sector (word 106 bit 12, words 117-118) of these many words. */
static uint32_t identify_sector_words;

static void edited_identify(struct ahci_model *m, unsigned port, uint16_t w[256])
{
    (void)m;
    if (port != 0)
        return;
    if (identify_sector_words) {
        w[106] = 0x4000 | 1u << 12;
        w[117] = (uint16_t)identify_sector_words;
        w[118] = (uint16_t)(identify_sector_words >> 16);
        return;
    }
    for (unsigned i = 0; i < 4; i++)
        w[100 + i] = 0;
}

/* The disk on port 0 left out as a disk of a working controller (preflight
 * and the storage inventory name it), with the cause, the words and the
 * value; its port stopped and its memory back (the model checks); the disk
 * on port 1 driven. */
static void disk_left_out(uint32_t sector_words, enum blk_cause cause, const char *detail)
{
    char line[320];
    struct ahci_model *m = ahci_model_new(16384);
    ahci_model_attach(m, 1, 16384, 32);
    m->identify = edited_identify;
    identify_sector_words = sector_words;
    HT_ASSERT(drivers_start("ahci0p1", NULL) != NULL);
    HT_EXPECT(blk_find("ahci0p0") == NULL);
    HT_ASSERT(blk_controller_fault_count() == 1);
    const struct blk_controller_fault *f = blk_controller_fault_at(0);
    HT_EXPECT(f->disk);
    HT_EXPECT_STREQ(f->name, "ahci0p0");
    HT_EXPECT(f->pci == m->pci);
    HT_EXPECT_EQ(f->cause, cause);
    HT_EXPECT_STREQ(f->detail, detail);
    snprintf(line, sizeof(line), "ahci0p0: not tested: %s: %s", blk_cause_name(cause), detail);
    HT_EXPECT_EQ(fake_log_count(line), 1);
    HT_EXPECT_EQ(fake_log_count("ahci0p0:"), 1);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_IDENTIFY_DEVICE], 1);
    HT_EXPECT_EQ(m->port[0].commands[ATA_CMD_READ_DMA_EXT] +
                 m->port[0].commands[ATA_CMD_READ_FPDMA_QUEUED], 0);
    HT_EXPECT_EQ(m->port[0].cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_CR), 0);
    HT_EXPECT(fake_now() < FAKE_S);
    HT_NO_MODEL_ERRORS();
}

HTEST(ahci_identify_capacity_0_disk_left_out_as_impossible)
{
    disk_left_out(0, BLK_CAUSE_IMPOSSIBLE,
                  BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 100-103 (capacity) = 0 sectors");
}

HTEST(ahci_identify_sector_below_512_disk_left_out_as_impossible)
{
    disk_left_out(255, BLK_CAUSE_IMPOSSIBLE, BLK_IMPOSSIBLE_WORDS ": IDENTIFY words 117-118 "
                  "(logical sector size) = 255 words (ATA: at least 256)");
}

/* 128 KiB sectors are legal ATA: left out as unsupported (a skip naming the
 * disk), not as impossible. */
HTEST(ahci_identify_sector_above_64k_disk_left_out_as_unsupported)
{
    disk_left_out(65536, BLK_CAUSE_UNSUPPORTED, "IDENTIFY words 117-118 (logical sector size) = "
                  "65536 words (131072 bytes): bareio takes a power of two from 512 to 65536 "
                  "bytes");
}
