/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_recovery.c — the decisions of the AHCI error path
 * (AHCI 1.3.1 §6.2.2, SATA 3.x §13.7.4), taken from a snapshot of the port's
 * registers and each slot's history, without touching the hardware: which
 * command failed, whether the port is reset with a COMRESET, and per slot
 * in flight whether it is re-sent (once) or failed, with which cause and
 * words. ahci_io.c reads the registers and carries the verdicts out;
 * tests/host/test_ahci_recovery.c holds each rule. Hardware-free. */
#include "drivers/ahci/ahci.h"
#include "lib/bits.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>


static unsigned lowest_bit(uint32_t v) { return (unsigned)__builtin_ctz(v); }

bool ahci_recovery_needs_comreset(enum ahci_reset_policy policy, bool engine_stopped,
                                  uint32_t pxtfd)
{
    uint32_t stuck = ATA_STS_BSY | ATA_STS_DRQ;

    if (policy == AHCI_RESET_ALWAYS || !engine_stopped)
        return true;            /* CR stuck: only a reset of the link frees it */
    /* A device still BSY/DRQ must be reset before the next command (§6.2.2.1
     * step 7; no CLO: QEMU has no CAP.SCLO and a reset is the safe choice).
     * So must one keeping ERR set from the failed command (QEMU keeps it
     * until a reset) -- except after an NCQ error, where ERR is expected and
     * the NCQ error log must still be read. */
    if (policy != AHCI_RESET_IF_STUCK)
        stuck |= ATA_STS_ERR;
    return (pxtfd & stuck) != 0;
}

/* ---- before the recovery ---- */

/* The failed command: the timed-out one; for a non-queued command the slot
 * PxCMD.CCS names; a lone command in flight. Several NCQ tags: unknown until
 * the NCQ error log names one. */
static int find_culprit(const struct ahci_error_snapshot *s, uint32_t failed)
{
    if (s->timed_out >= 0)
        return s->timed_out;
    if ((failed & (1u << s->ccs)) && !s->slot[s->ccs].ncq)
        return (int)s->ccs;
    if (bits_set32(failed) == 1)
        return (int)lowest_bit(failed);
    return -1;
}

/* Clearing ST stops the HBA, not the device: after a timeout or an interface
 * error the device may still own queued commands (and DMA into their buffers
 * later), so only a COMRESET makes it safe to fail them. After an NCQ device
 * error (TFES alone) the device has aborted them all and waits for READ LOG
 * EXT 10h: no reset, or the log is lost. */
static enum ahci_reset_policy reset_policy(const struct ahci_error_snapshot *s,
                                           const struct ahci_recovery_plan *plan)
{
    if (plan->ncq_device_error)
        return AHCI_RESET_IF_STUCK;
    return s->timed_out >= 0 || plan->ncq ? AHCI_RESET_ALWAYS : AHCI_RESET_IF_NEEDED;
}

void ahci_recovery_plan(const struct ahci_error_snapshot *s, struct ahci_recovery_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    for (unsigned slot = 0; slot < AHCI_MAX_SLOTS; slot++) {
        const struct ahci_recovery_slot *sl = &s->slot[slot];
        if (!(s->issued & (1u << slot)))
            continue;
        if (!ahci_slot_busy(sl->ncq, slot, s->pxci, s->pxsact)) {
            plan->finished |= 1u << slot;
            continue;
        }
        plan->failed |= 1u << slot;
        plan->ncq = plan->ncq || sl->ncq;
    }
    plan->culprit = find_culprit(s, plan->failed);
    plan->ncq_device_error = plan->ncq && s->timed_out < 0 && (s->pxis & AHCI_PxIS_TFES) &&
                             !(s->pxis & (AHCI_PxIS_HBFS | AHCI_PxIS_HBDS | AHCI_PxIS_IFS |
                                          AHCI_PxIS_OFS));
    plan->reset = reset_policy(s, plan);
}

/* ---- after the recovery ---- */

/* The NCQ error log, when there is one, names the failed tag. */
static int culprit_after(const struct ahci_recovery_plan *plan, const struct ahci_recovery_result *r)
{
    return r->log ? (int)r->log->tag : plan->culprit;
}

/* An NCQ error aborted this command and the log says it was not its own:
 * send it again, once. Without the log every command is sent again without
 * NCQ, the culprit too: PxTFD after an NCQ error may already show a later
 * command's status (QEMU), while a non-queued command runs alone and its
 * failure is its own. */
static bool resent(const struct ahci_recovery_plan *plan, const struct ahci_recovery_result *r,
                   unsigned slot, const struct ahci_recovery_slot *sl)
{
    return plan->ncq_device_error && r->recovered &&
           (!r->log || (int)slot != culprit_after(plan, r)) && !sl->retried;
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* The LBA the device reports in its D2H Register FIS, if inside the part. */
static uint64_t reported_lba(const struct fis_reg_d2h *d2h, const struct ahci_recovery_slot *sl)
{
    uint64_t lba = ahci_d2h_lba(d2h);
    if (d2h->fis_type == FIS_TYPE_REG_D2H && sl->count && lba >= sl->lba &&
        lba < sl->lba + sl->count)
        return lba;
    return sl->lba;
}

/* The cause of a slot that fails, with `why` naming the rule; f->pxtfd
 * becomes the log's Status and Error when the log speaks for the command. */
static enum blk_cause failure_cause(const struct ahci_error_snapshot *s,
                                    const struct ahci_recovery_plan *plan,
                                    const struct ahci_recovery_result *r, unsigned slot,
                                    struct ahci_error_facts *f, uint64_t *error_lba, char *why,
                                    size_t why_size)
{
    const struct ahci_recovery_slot *sl = &s->slot[slot];
    int culprit = culprit_after(plan, r);
    enum blk_cause cause;

    *error_lba = sl->lba;
    if (culprit >= 0 && (int)slot != culprit) {
        snprintf(why, why_size, "aborted by the recovery of slot %d (%s)", culprit,
                 s->timed_out >= 0 ? "timeout" : "error");
        return BLK_CAUSE_ABORTED;
    }
    if (s->timed_out >= 0) {
        snprintf(why, why_size, "no completion within %u ms (cmd %02xh, slot %u)", s->timeout_ms,
                 sl->command, slot);
        return BLK_CAUSE_TIMEOUT;
    }
    if (r->log) {
        /* The log's Status/Error are the failed command's own. */
        f->pxtfd = r->log->status | (uint32_t)r->log->error << AHCI_PxTFD_ERR_SHIFT;
        cause = ahci_classify(f, why, why_size);
        append(why, why_size, " (NCQ error log: tag %u)", r->log->tag);
        if (r->log->lba >= sl->lba && r->log->lba < sl->lba + sl->count)
            *error_lba = r->log->lba;
        return cause;
    }
    cause = ahci_classify(f, why, why_size);
    if (culprit < 0)
        append(why, why_size, " (one of %u NCQ tags)", bits_set32(plan->failed));
    *error_lba = reported_lba(&r->d2h, sl);
    return cause;
}

void ahci_recovery_decide(const struct ahci_error_snapshot *s, const struct ahci_recovery_plan *plan,
                          const struct ahci_recovery_result *r, unsigned slot,
                          struct ahci_slot_verdict *v)
{
    const struct ahci_recovery_slot *sl = &s->slot[slot];
    struct ahci_error_facts f = {
        .pxis = s->pxis, .pxtfd = s->pxtfd, .pxserr = s->pxserr, .command = sl->command,
        .rw = sl->data, .lba = sl->lba, .count = sl->count, .nblocks = s->nblocks,
    };
    char why[96];

    memset(v, 0, sizeof(*v));
    if (resent(plan, r, slot, sl)) {
        v->action = r->log ? AHCI_SLOT_RESEND : AHCI_SLOT_RESEND_NONQUEUED;
        return;
    }
    v->action = AHCI_SLOT_FAIL;
    v->cause = failure_cause(s, plan, r, slot, &f, &v->error_lba, why, sizeof(why));
    if (v->cause != BLK_CAUSE_ABORTED && sl->nonqueued)
        append(why, sizeof(why), " (re-sent without NCQ)");
    if (v->cause != BLK_CAUSE_ABORTED && sl->irq_missed)
        append(why, sizeof(why), "; MSI not delivered");
    v->status = f.pxtfd;
    ahci_format_detail(&f, why, v->detail, sizeof(v->detail));
}
