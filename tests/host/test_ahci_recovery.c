/* SPDX-License-Identifier: MIT */
/* tests/host/test_ahci_recovery.c — host unit tests of the AHCI error path's
 * decisions (drivers/ahci/ahci_recovery.c; AHCI 1.3.1 §6.2.2, SATA 3.x
 * §13.7.4), one case per rule: what a task-file error on a non-queued command
 * fails with, an NCQ error with and without a usable NCQ error log (the named
 * tag fails, the others are re-sent, with or without NCQ), interface and host
 * bus errors, a request already re-sent once failing for good, the siblings
 * of a timed-out command aborted, a lost interrupt named on the failure, and
 * when the port needs a COMRESET. The register sequence around them is tested
 * on the model (tests/host/hw/test_ahci_port.c). */
#include "tests/host/htest.h"
#include "drivers/ahci/ahci.h"

#define STS_READY       0x50u                   /* DRDY DSC */
#define STS_ERROR       0x51u                   /* DRDY DSC ERR */
#define TFD(sts, err)   ((uint32_t)(sts) | (uint32_t)(err) << AHCI_PxTFD_ERR_SHIFT)

static struct ahci_error_snapshot snap;
static struct ahci_recovery_plan plan;
static struct ahci_recovery_result result;
static struct ahci_slot_verdict verdict;

/* A 1 Mi-sector disk with a 1 s deadline; nothing in flight, no timeout. */
static void fresh(uint32_t pxis, uint32_t pxtfd)
{
    memset(&snap, 0, sizeof(snap));
    memset(&result, 0, sizeof(result));
    snap.pxis = pxis;
    snap.pxtfd = pxtfd;
    snap.timed_out = -1;
    snap.nblocks = 1u << 20;
    snap.timeout_ms = 1000;
    result.recovered = true;
}

/* Slot s busy with a read of 8 sectors at lba (FPDMA when ncq). */
static struct ahci_recovery_slot *in_flight(unsigned s, bool ncq, uint64_t lba)
{
    snap.issued |= 1u << s;
    snap.pxci |= 1u << s;
    if (ncq)
        snap.pxsact |= 1u << s;
    snap.slot[s] = (struct ahci_recovery_slot){
        .command = ncq ? ATA_CMD_READ_FPDMA_QUEUED : ATA_CMD_READ_DMA_EXT, .ncq = ncq,
        .data = true, .lba = lba, .count = 8,
    };
    return &snap.slot[s];
}

/* The HBA finished slot s before the error: its PxCI and PxSACT bits clear. */
static void finished(unsigned s)
{
    snap.pxci &= ~(1u << s);
    snap.pxsact &= ~(1u << s);
}

static void decide(unsigned s) { ahci_recovery_decide(&snap, &plan, &result, s, &verdict); }

static void received_d2h(uint64_t lba)
{
    memset(&result.d2h, 0, sizeof(result.d2h));
    result.d2h.fis_type = FIS_TYPE_REG_D2H;
    result.d2h.lba0 = (uint8_t)lba;
    result.d2h.lba1 = (uint8_t)(lba >> 8);
    result.d2h.lba2 = (uint8_t)(lba >> 16);
}

static bool detail_has(const char *text) { return strstr(verdict.detail, text) != NULL; }

/* ---- slots ---- */

HTEST(ahci_slot_busy_follows_pxci_and_for_ncq_pxsact)
{
    HT_EXPECT(ahci_slot_busy(false, 3, 1u << 3, 0));
    HT_EXPECT(!ahci_slot_busy(false, 3, 0, 1u << 3));      /* non-queued: PxCI alone */
    HT_EXPECT(ahci_slot_busy(true, 3, 0, 1u << 3));        /* NCQ: until the SDB FIS too */
    HT_EXPECT(ahci_slot_busy(true, 31, 1u << 31, 0));
    HT_EXPECT(!ahci_slot_busy(true, 3, 1u << 2, 1u << 4));
}

HTEST(ahci_recovery_finished_slots_are_reaped_not_failed)
{
    fresh(AHCI_PxIS_TFES, TFD(STS_ERROR, ATA_ERR_UNC));
    for (unsigned s = 0; s < 4; s++)
        in_flight(s, true, 100 + 8 * s);
    finished(1);
    finished(3);
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.finished, 0xa);
    HT_EXPECT_EQ(plan.failed, 0x5);
}

/* ---- a non-queued command ---- */

/* READ DMA EXT fails with UNC: the command PxCMD.CCS names is the culprit,
 * the port resets only if the device is stuck or keeps ERR, and the request
 * fails as a media error at the LBA the D2H FIS reports (inside the part). */
HTEST(ahci_recovery_nonqueued_task_file_error_fails_with_its_status)
{
    fresh(AHCI_PxIS_TFES, TFD(STS_ERROR, ATA_ERR_UNC));
    in_flight(5, false, 1000);
    snap.ccs = 5;
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.failed, 1u << 5);
    HT_EXPECT_EQ(plan.culprit, 5);
    HT_EXPECT(!plan.ncq && !plan.ncq_device_error);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_IF_NEEDED);

    received_d2h(1003);
    decide(5);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(verdict.status, 0x4051);
    HT_EXPECT_EQ(verdict.error_lba, 1003);
    HT_EXPECT(strncmp(verdict.detail, "uncorrectable data (UNC); PxIS TFES; PxTFD ", 43) == 0);
    HT_EXPECT(!detail_has("NCQ"));

    received_d2h(2000);                         /* outside the part: the part's LBA */
    decide(5);
    HT_EXPECT_EQ(verdict.error_lba, 1000);
    result.d2h.fis_type = 0;                    /* no D2H FIS at all */
    result.d2h.lba0 = (uint8_t)1003;
    decide(5);
    HT_EXPECT_EQ(verdict.error_lba, 1000);
}

/* ABRT at an in-range LBA on a re-sent request (QEMU's backend error) is a
 * media error, and the detail says it went without NCQ. */
HTEST(ahci_recovery_nonqueued_resend_failing_says_so)
{
    fresh(AHCI_PxIS_TFES, TFD(STS_ERROR, ATA_ERR_ABRT));
    struct ahci_recovery_slot *sl = in_flight(0, false, 4024);
    sl->retried = sl->nonqueued = true;
    ahci_recovery_plan(&snap, &plan);
    decide(0);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_MEDIA);
    HT_EXPECT(strncmp(verdict.detail, "device aborted (ABRT) at an in-range LBA (re-sent without "
                      "NCQ); ", 62) == 0);
}

/* ---- NCQ errors ---- */

static struct ata_ncq_error log_entry;

/* Four FPDMA reads in flight, the device's NCQ error (TFES) aborting all. */
static void ncq_error_on_four_tags(void)
{
    fresh(AHCI_PxIS_TFES | AHCI_PxIS_SDBS, TFD(STS_ERROR, ATA_ERR_ABRT));
    for (unsigned s = 0; s < 4; s++)
        in_flight(s, true, 4000 + 8 * s);
    snap.ccs = 0;                               /* CCS means nothing for NCQ */
    ahci_recovery_plan(&snap, &plan);
}

HTEST(ahci_recovery_ncq_error_keeps_the_log_no_comreset)
{
    ncq_error_on_four_tags();
    HT_EXPECT_EQ(plan.failed, 0xf);
    HT_EXPECT_EQ(plan.culprit, -1);
    HT_EXPECT(plan.ncq && plan.ncq_device_error);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_IF_STUCK);
}

/* The log names tag 2: it fails with the log's Status/Error and LBA, the
 * other three are re-sent once, with NCQ. */
HTEST(ahci_recovery_ncq_error_with_log_fails_the_named_tag_only)
{
    ncq_error_on_four_tags();
    log_entry = (struct ata_ncq_error){ .tag = 2, .status = STS_ERROR, .error = ATA_ERR_UNC,
                                        .lba = 4019 };
    result.log = &log_entry;
    for (unsigned s = 0; s < 4; s++) {
        decide(s);
        HT_EXPECT_EQ(verdict.action, s == 2 ? AHCI_SLOT_FAIL : AHCI_SLOT_RESEND);
    }
    decide(2);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_MEDIA);
    HT_EXPECT_EQ(verdict.status, TFD(STS_ERROR, ATA_ERR_UNC));     /* the log's, not PxTFD */
    HT_EXPECT_EQ(verdict.error_lba, 4019);
    HT_EXPECT(detail_has("uncorrectable data (UNC) (NCQ error log: tag 2); PxIS "));

    log_entry.lba = 9999;                       /* outside tag 2's part */
    decide(2);
    HT_EXPECT_EQ(verdict.error_lba, 4016);
}

/* No usable log (QEMU refuses READ LOG EXT): every tag is re-sent once
 * without NCQ, the faulty one too, so that it fails alone. */
HTEST(ahci_recovery_ncq_error_without_log_resends_every_tag_without_ncq)
{
    ncq_error_on_four_tags();
    for (unsigned s = 0; s < 4; s++) {
        decide(s);
        HT_EXPECT_EQ(verdict.action, AHCI_SLOT_RESEND_NONQUEUED);
    }
}

/* The port did not come back: nothing is re-sent; with several tags and no
 * log the culprit is unknown, and each detail says so. */
HTEST(ahci_recovery_ncq_error_unrecovered_fails_every_tag)
{
    ncq_error_on_four_tags();
    result.recovered = false;
    for (unsigned s = 0; s < 4; s++) {
        decide(s);
        HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
        HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_MEDIA);
        HT_EXPECT_EQ(verdict.status, snap.pxtfd);
        HT_EXPECT(detail_has("device aborted (ABRT) at an in-range LBA (one of 4 NCQ tags); "));
    }
}

/* One NCQ tag alone in flight is the culprit; its error is still an NCQ
 * device error (the log is read). */
HTEST(ahci_recovery_single_ncq_tag_is_the_culprit)
{
    fresh(AHCI_PxIS_TFES, TFD(STS_ERROR, ATA_ERR_UNC));
    in_flight(7, true, 300);
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.culprit, 7);
    HT_EXPECT(plan.ncq_device_error);
    decide(7);                                  /* no log: re-sent without NCQ */
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_RESEND_NONQUEUED);
}

/* A request already re-sent once is not re-sent again: the named tag's
 * sibling fails as aborted, and without a log it fails with PxTFD's words. */
HTEST(ahci_recovery_retried_requests_fail_finally)
{
    ncq_error_on_four_tags();
    snap.slot[0].retried = true;
    snap.slot[2].retried = true;
    log_entry = (struct ata_ncq_error){ .tag = 2, .status = STS_ERROR, .error = ATA_ERR_UNC,
                                        .lba = 4016 };
    result.log = &log_entry;
    decide(0);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_ABORTED);
    HT_EXPECT(strncmp(verdict.detail, "aborted by the recovery of slot 2 (error); ", 43) == 0);
    HT_EXPECT_EQ(verdict.error_lba, 4000);
    decide(1);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_RESEND);
    decide(2);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_MEDIA);

    result.log = NULL;
    decide(0);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
    HT_EXPECT(detail_has("(one of 4 NCQ tags)"));
    decide(1);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_RESEND_NONQUEUED);
}

/* ---- errors the device did not report ---- */

/* An interface fatal error with NCQ tags in flight: not a device error, so
 * no log and a COMRESET (the device may still own the commands); every tag
 * fails as a link error, none is re-sent. */
HTEST(ahci_recovery_interface_fatal_error_resets_and_fails_every_tag)
{
    fresh(AHCI_PxIS_IFS | AHCI_PxIS_TFES, TFD(STS_ERROR, ATA_ERR_ABRT));
    snap.pxserr = AHCI_SERR_DIAG_C | AHCI_SERR_ERR_C;
    in_flight(0, true, 10);
    in_flight(1, true, 18);
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT(plan.ncq && !plan.ncq_device_error);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_ALWAYS);
    for (unsigned s = 0; s < 2; s++) {
        decide(s);
        HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
        HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_LINK);
        HT_EXPECT(detail_has("interface error on the SATA link (one of 2 NCQ tags); "));
    }
}

/* TFES with a host bus data error is not the device's NCQ error either. */
HTEST(ahci_recovery_ncq_with_host_bus_error_is_no_device_error)
{
    fresh(AHCI_PxIS_TFES | AHCI_PxIS_HBDS, TFD(STS_ERROR, ATA_ERR_ABRT));
    in_flight(0, true, 10);
    in_flight(1, true, 18);
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT(!plan.ncq_device_error);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_ALWAYS);
    decide(1);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_CONTROLLER_FATAL);
}

/* A host bus fatal error on a non-queued command: the controller's fault. */
HTEST(ahci_recovery_nonqueued_host_bus_fatal_error)
{
    fresh(AHCI_PxIS_HBFS, TFD(STS_READY, 0));
    in_flight(0, false, 10);
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.culprit, 0);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_IF_NEEDED);
    decide(0);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_CONTROLLER_FATAL);
    HT_EXPECT(strncmp(verdict.detail, "host bus fatal error: ", 22) == 0);
}

/* ---- timeouts ---- */

/* Slot 1 runs past its deadline with slots 0 and 2 in flight: the port is
 * reset, slot 1 fails as a timeout, its siblings as aborted, none re-sent,
 * each at its part's first LBA. */
HTEST(ahci_recovery_timeout_fails_the_late_command_and_aborts_its_siblings)
{
    fresh(0, TFD(0xd0, 0));                     /* BSY: the device is still at it */
    for (unsigned s = 0; s < 3; s++)
        in_flight(s, true, 500 + 8 * s);
    snap.timed_out = 1;
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.culprit, 1);
    HT_EXPECT(!plan.ncq_device_error);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_ALWAYS);
    decide(1);
    HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_TIMEOUT);
    HT_EXPECT(strncmp(verdict.detail, "no completion within 1000 ms (cmd 60h, slot 1); ", 48) == 0);
    HT_EXPECT_EQ(verdict.error_lba, 508);
    HT_EXPECT_EQ(verdict.status, snap.pxtfd);
    for (unsigned s = 0; s < 3; s += 2) {
        decide(s);
        HT_EXPECT_EQ(verdict.action, AHCI_SLOT_FAIL);
        HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_ABORTED);
        HT_EXPECT(strncmp(verdict.detail, "aborted by the recovery of slot 1 (timeout); ", 45) == 0);
        HT_EXPECT_EQ(verdict.error_lba, 500 + 8 * s);
    }
}

/* A timeout of a non-queued command resets the port too. */
HTEST(ahci_recovery_nonqueued_timeout_resets)
{
    fresh(0, TFD(STS_READY, 0));
    in_flight(0, false, 10);
    snap.timed_out = 0;
    ahci_recovery_plan(&snap, &plan);
    HT_EXPECT_EQ(plan.reset, AHCI_RESET_ALWAYS);
}

/* MSI mode had seen the command done without its interrupt: the failure
 * says the MSI was not delivered; an aborted sibling does not. */
HTEST(ahci_recovery_lost_interrupt_named_on_the_failure)
{
    fresh(0, TFD(STS_READY, 0));
    in_flight(0, true, 10)->irq_missed = true;
    in_flight(1, true, 18)->irq_missed = true;
    snap.timed_out = 0;
    ahci_recovery_plan(&snap, &plan);
    decide(0);
    HT_EXPECT(detail_has("(cmd 60h, slot 0); MSI not delivered; PxIS "));
    decide(1);
    HT_EXPECT_EQ(verdict.cause, BLK_CAUSE_ABORTED);
    HT_EXPECT(!detail_has("MSI"));
}

/* ---- the COMRESET (§6.2.2.1 step 7) ---- */

HTEST(ahci_recovery_comreset_when_stuck_or_err_kept)
{
    /* Always after a timeout or an interface error, and when CR stuck. */
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_ALWAYS, true, STS_READY));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_NEEDED, false, STS_READY));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_STUCK, false, STS_READY));
    /* After a device error: BSY, DRQ or an ERR the device keeps. */
    HT_EXPECT(!ahci_recovery_needs_comreset(AHCI_RESET_IF_NEEDED, true, STS_READY));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_NEEDED, true, STS_ERROR));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_NEEDED, true, ATA_STS_BSY));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_NEEDED, true, STS_READY | ATA_STS_DRQ));
    /* After an NCQ error ERR is expected: the log must survive. */
    HT_EXPECT(!ahci_recovery_needs_comreset(AHCI_RESET_IF_STUCK, true, STS_ERROR));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_STUCK, true, ATA_STS_BSY | ATA_STS_ERR));
    HT_EXPECT(ahci_recovery_needs_comreset(AHCI_RESET_IF_STUCK, true, ATA_STS_DRQ));
}
