/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_port.c — one AHCI port: bring-up (AHCI 1.3.1 §10.1.2:
 * stop the engines, command list and received-FIS memory, spin-up, link
 * detection, COMRESET §10.4.2, signature), IDENTIFY and the description of an
 * ATA disk (ahci_io.c registers it), the error recovery of §6.2.2 (stop, clear
 * errors, COMRESET when the device is stuck or keeps a stale ERR, restart),
 * and synchronous commands with that recovery after a failure. ATAPI devices,
 * port multipliers and empty ports get one line each and are left alone; a
 * disk whose IDENTIFY data is refused (what ATA rules out, what bareio does
 * not drive) is left out with the cause (blk_disk_left_out), so preflight
 * and the storage inventory name it. */
#include "drivers/ahci/ahci_priv.h"
#include "drivers/pci/pci.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/mmio.h"
#include "kernel/time.h"
#include "lib/bits.h"
#include "lib/format.h"
#include "lib/string.h"

static uint32_t rd(struct ahci_port *p, unsigned reg) { return mmio_read32(p->regs, reg); }
static void wr(struct ahci_port *p, unsigned reg, uint32_t v) { mmio_write32(p->regs, reg, v); }

/* A bounded wait for (reg & mask) == want (kernel/mmio.h); *last is the
 * final value read. */
static enum mmio_wait wait_reg(struct ahci_port *p, unsigned reg, uint32_t mask, uint32_t want,
                               uint32_t timeout_ms, uint32_t *last)
{
    return mmio_wait32(p->regs, reg, mask, want, timeout_ms, last);
}

/* The words for an engine bit that did not clear after its enable was
 * cleared (`bit` "CR", `enable` "ST"): still set at the bound, or the port's
 * registers reading all ones (the HBA is gone). */
static void engine_stuck(char *why, size_t why_size, enum mmio_wait w, const char *bit,
                         const char *enable, uint32_t pxcmd)
{
    if (w == MMIO_WAIT_GONE)
        snprintf(why, why_size, "PxCMD %s after clearing %s", mmio_wait_name(w), enable);
    else
        snprintf(why, why_size, "PxCMD.%s still set %u ms after clearing %s (PxCMD 0x%x)", bit,
                 AHCI_ENGINE_TIMEOUT_MS, enable, pxcmd);
}

/* §10.1.2: clear ST, then CR must clear within 500 ms. */
static bool ahci_port_stop_engine(struct ahci_port *p, char *why, size_t why_size)
{
    uint32_t cmd;
    wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) & ~AHCI_PxCMD_ST);
    enum mmio_wait w = wait_reg(p, AHCI_PxCMD, AHCI_PxCMD_CR, 0, AHCI_ENGINE_TIMEOUT_MS, &cmd);
    if (w != MMIO_WAIT_OK) {
        engine_stuck(why, why_size, w, "CR", "ST", cmd);
        return false;
    }
    return true;
}

/* §10.1.2: with CR clear, clear FRE, then FR must clear within 500 ms
 * (§3.3.7: FRE may not be cleared while CR is set). */
static bool stop_fis_receive(struct ahci_port *p, char *why, size_t why_size)
{
    uint32_t cmd;
    wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) & ~AHCI_PxCMD_FRE);
    enum mmio_wait w = wait_reg(p, AHCI_PxCMD, AHCI_PxCMD_FR, 0, AHCI_ENGINE_TIMEOUT_MS, &cmd);
    if (w != MMIO_WAIT_OK) {
        engine_stuck(why, why_size, w, "FR", "FRE", cmd);
        return false;
    }
    return true;
}

bool ahci_port_stop(struct ahci_port *p, char *why, size_t why_size)
{
    return ahci_port_stop_engine(p, why, why_size) && stop_fis_receive(p, why, why_size);
}

/* §10.3.1: ST may be set only with FRE set, CR clear and BSY/DRQ clear. */
static bool ahci_port_start_engine(struct ahci_port *p, char *why, size_t why_size)
{
    uint32_t tfd = rd(p, AHCI_PxTFD);
    if (tfd & (ATA_STS_BSY | ATA_STS_DRQ)) {
        char words[64];
        ahci_decode_tfd(tfd, words, sizeof(words));
        snprintf(why, why_size, "cannot start the port: device busy (PxTFD %s)", words);
        return false;
    }
    if (wait_reg(p, AHCI_PxCMD, AHCI_PxCMD_CR, 0, AHCI_ENGINE_TIMEOUT_MS, NULL) != MMIO_WAIT_OK) {
        snprintf(why, why_size, "cannot start the port: PxCMD.CR stays set");
        return false;
    }
    wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) | AHCI_PxCMD_FRE | AHCI_PxCMD_ST);
    return true;
}

static bool link_up(struct ahci_port *p)
{
    return (rd(p, AHCI_PxSSTS) & AHCI_SSTS_DET_MASK) == AHCI_SSTS_DET_PRESENT_PHY;
}

/* PHY communication established within timeout_ms; gives up early when the
 * port shows no presence at all (DET 0) for AHCI_LINK_ABSENT_MS. */
static bool wait_link(struct ahci_port *p, uint32_t timeout_ms)
{
    uint64_t start = time_ns(), deadline = deadline_after_ms(timeout_ms);
    while (!link_up(p)) {
        if (deadline_passed(deadline))
            return false;
        if ((rd(p, AHCI_PxSSTS) & AHCI_SSTS_DET_MASK) == 0 &&
            time_ns() - start > (uint64_t)AHCI_LINK_ABSENT_MS * 1000000)
            return false;
        delay_us(100);
    }
    return true;
}

/* §10.4.2: PxSCTL.DET = 1 for at least 1 ms, then 0; the link comes back up
 * and DIAG.X is set, which must be cleared so PxTFD follows the device. */
static bool ahci_port_comreset(struct ahci_port *p, char *why, size_t why_size)
{
    uint32_t sctl = rd(p, AHCI_PxSCTL) & ~AHCI_SCTL_DET_MASK;

    p->stats.comresets++;
    wr(p, AHCI_PxSCTL, sctl | AHCI_SCTL_IPM_NO_PARTIAL_SLUMBER | AHCI_SCTL_DET_COMRESET);
    delay_ms(AHCI_COMRESET_HOLD_MS + 1);
    wr(p, AHCI_PxSCTL, sctl | AHCI_SCTL_IPM_NO_PARTIAL_SLUMBER);
    if (!wait_link(p, AHCI_LINK_TIMEOUT_MS)) {
        char words[80];
        ahci_decode_ssts(rd(p, AHCI_PxSSTS), words, sizeof(words));
        snprintf(why, why_size, "no link after COMRESET: PxSSTS %s", words);
        return false;
    }
    wr(p, AHCI_PxSERR, 0xffffffffu);
    return true;
}

static bool ahci_port_wait_not_busy(struct ahci_port *p, uint32_t timeout_ms, char *why,
                                    size_t why_size)
{
    uint32_t tfd;
    /* QEMU leaves DRDY clear after COMRESET: wait for BSY/DRQ only. */
    enum mmio_wait w = wait_reg(p, AHCI_PxTFD, ATA_STS_BSY | ATA_STS_DRQ, 0, timeout_ms, &tfd);
    if (w == MMIO_WAIT_GONE) {
        snprintf(why, why_size, "PxTFD %s after reset", mmio_wait_name(w));
        return false;
    }
    if (w != MMIO_WAIT_OK) {
        char words[64];
        ahci_decode_tfd(tfd, words, sizeof(words));
        snprintf(why, why_size, "device still busy %u ms after reset: PxTFD %s", timeout_ms, words);
        return false;
    }
    return true;
}

/* §6.2.2.1 steps 4-6: PxSERR, then PxIS, then this port's bit in IS (all
 * write-1-to-clear; PxIS before IS, or IS.IPS is set again at once). */
static void clear_errors(struct ahci_port *p)
{
    wr(p, AHCI_PxSERR, 0xffffffffu);
    wr(p, AHCI_PxIS, 0xffffffffu);
    mmio_write32(p->hba->abar, AHCI_REG_IS, 1u << p->number);
}

/* §6.2.2: the port has stopped on an error (or a command timed out). */
bool ahci_port_recover(struct ahci_port *p, enum ahci_reset_policy policy, char *why,
                       size_t why_size)
{
    char sub[120];

    p->stats.recoveries++;
    why[0] = '\0';
    bool stopped = ahci_port_stop_engine(p, sub, sizeof(sub));
    clear_errors(p);
    /* Step 7: whether BSY/DRQ, a stale ERR or a stuck CR need a COMRESET. */
    bool reset = ahci_recovery_needs_comreset(policy, stopped, rd(p, AHCI_PxTFD));
    if (reset) {
        if (!ahci_port_comreset(p, sub, sizeof(sub)) ||
            !ahci_port_wait_not_busy(p, AHCI_READY_TIMEOUT_MS, sub, sizeof(sub))) {
            snprintf(why, why_size, "recovery failed: %s", sub);
            return false;
        }
        clear_errors(p);
    }
    if (!ahci_port_start_engine(p, sub, sizeof(sub))) {
        snprintf(why, why_size, "recovery failed: %s", sub);
        return false;
    }
    snprintf(why, why_size, "port restarted%s", reset ? " after COMRESET" : "");
    return true;
}

bool ahci_port_exec_sync(struct ahci_port *p, const struct fis_reg_h2d *fis, void *buf,
                         uint32_t len, bool write, uint32_t timeout_ms, char *why,
                         size_t why_size)
{
    char recovery[120];
    uint64_t flags = irq_save();
    enum ahci_cmd_result r = ahci_cmd_exec(p, fis, buf, len, write, timeout_ms, why, why_size);

    if (r == AHCI_CMD_FAILED) {
        /* The device may still be busy with it: reset the link (§6.2.2). */
        if (!ahci_port_recover(p, AHCI_RESET_ALWAYS, recovery, sizeof(recovery)))
            klog(LOG_WARN, "ahci%up%u: %s\n", p->hba->index, p->number, recovery);
        wr(p, AHCI_PxIS, 0xffffffffu);
    }
    irq_restore(flags);
    return r == AHCI_CMD_DONE;
}

/* ---- bring-up ---- */

static bool alloc_memory(struct ahci_port *p)
{
    enum dma_placement where = p->hba->s64a ? DMA_ANYWHERE : DMA_BELOW_4G;
    uint8_t *base;

    /* One page: command list (1 KiB aligned) at 0, received FIS (256 B
     * aligned) at 1 KiB, IDENTIFY/log buffer at 2 KiB, DSM ranges at 3 KiB. */
    p->mem = dma_alloc(4096, 4096, 0, where);
    if (!p->mem.virt)
        return false;
    p->tables = dma_alloc((uint64_t)p->slots * sizeof(struct ahci_cmd_table), 4096, 0, where);
    if (!p->tables.virt) {
        dma_free(&p->mem);
        return false;
    }
    base = p->mem.virt;
    p->cmd_list = (struct ahci_cmd_header *)base;
    p->rfis = (struct ahci_received_fis *)(base + 1024);
    p->identify_buf = (uint16_t *)(base + 2048);
    p->dsm_buf = (uint64_t *)(base + 3072);
    p->table = p->tables.virt;
    for (unsigned s = 0; s < p->slots; s++) {
        uint64_t t = p->tables.phys + s * sizeof(struct ahci_cmd_table);
        p->cmd_list[s].ctba = (uint32_t)t;
        p->cmd_list[s].ctbau = (uint32_t)(t >> 32);
    }
    return true;
}

static void free_memory(struct ahci_port *p)
{
    char why[120];
    /* The HBA must no longer write received FISes into the page. */
    if (!stop_fis_receive(p, why, sizeof(why))) {
        klog(LOG_WARN, "ahci%up%u: %s: port memory kept\n", p->hba->index, p->number, why);
        return;
    }
    dma_free(&p->tables);
    dma_free(&p->mem);
}

static void program_memory(struct ahci_port *p)
{
    uint64_t clb = p->mem.phys, fb = p->mem.phys + 1024;
    wr(p, AHCI_PxCLB, (uint32_t)clb);
    wr(p, AHCI_PxCLBU, p->hba->s64a ? (uint32_t)(clb >> 32) : 0);
    wr(p, AHCI_PxFB, (uint32_t)fb);
    wr(p, AHCI_PxFBU, p->hba->s64a ? (uint32_t)(fb >> 32) : 0);
}

static void format_caps(const struct ata_identity *id, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s", id->write_cache ? (id->write_cache_enabled ? ", write cache on"
             : ", write cache off") : "", id->fua ? ", FUA" : "",
             id->trim ? ", TRIM" : "", id->trim_zeroes ? " (reads zeroes)" : "",
             id->rotation == 1 ? ", SSD" : "");
}

/* IDENTIFY DEVICE sent and its data taken. False with why; *cause is the
 * refusal's when the data was refused (ata_identify_status_cause), BLK_OK
 * when the command itself failed. */
static bool identify(struct ahci_port *p, enum blk_cause *cause, char *why, size_t why_size)
{
    struct fis_reg_h2d fis;
    enum ata_identify_status st;

    *cause = BLK_OK;
    memset(&fis, 0, sizeof(fis));
    fis.fis_type = FIS_TYPE_REG_H2D;
    fis.flags = FIS_H2D_C;
    fis.command = ATA_CMD_IDENTIFY_DEVICE;
    if (!ahci_port_exec_sync(p, &fis, p->identify_buf, 512, false, AHCI_IDENTIFY_TIMEOUT_MS, why,
                             why_size))
        return false;
    st = ata_identify_parse(p->identify_buf, &p->id);
    if (st != ATA_IDENTIFY_OK) {
        ata_identify_refusal(st, &p->id, why, why_size);
        *cause = ata_identify_status_cause(st);
        return false;
    }
    return true;
}

static void fill_blk_dev(struct ahci_port *p)
{
    struct blk_dev *d = &p->dev;
    const struct ata_identity *id = &p->id;
    unsigned depth = id->ncq && p->hba->sncq ? id->ncq_depth : 1;

    snprintf(d->name, sizeof(d->name), "ahci%up%u", p->hba->index, p->number);
    strlcpy(d->model, id->model, sizeof(d->model));
    strlcpy(d->serial, id->serial, sizeof(d->serial));
    strlcpy(d->firmware, id->firmware, sizeof(d->firmware));
    d->pci = p->hba->pci;
    d->block_size = id->logical_size;
    d->phys_block_size = id->physical_size;
    d->nblocks = id->nblocks;
    d->capacity_clamped = id->capacity_clamped;
    d->max_transfer = ATA_MAX_SECTORS_EXT;
    d->max_segs = AHCI_PRDT_ENTRIES;
    d->addr_align = 2;          /* PRD DBA bit 0 reserved: word aligned */
    d->len_align = 2;           /* PRD DBC must describe an even byte count */
    d->dma_limit = p->hba->s64a ? ~0ull : (1ull << 32);
    d->caps = (p->hba->s64a ? BLK_CAP_DMA64 : 0) | (id->flush_ext ? BLK_CAP_FLUSH : 0) |
              (id->fua ? BLK_CAP_FUA : 0) | (id->trim ? BLK_CAP_TRIM : 0) |
              (id->trim_zeroes ? BLK_CAP_TRIM_ZEROES : 0) |
              (id->write_cache_enabled ? BLK_CAP_WRITE_CACHE : 0) |
              (depth > 1 ? BLK_CAP_NCQ : 0);
    d->nqueues = 1;
    d->queue_depth = (uint16_t)(depth < p->slots ? depth : p->slots);
    d->irq_completion = p->hba->irq_mode == AHCI_IRQ_MSI;
    /* Each port has its own lock and registers (ahci_io.c): ports of one
     * HBA are driven by different CPUs at once, whichever CPU the MSI reaches. */
    d->any_cpu = true;
    d->cpu_group = d;
}

static void print_disk(struct ahci_port *p)
{
    char cap[24], extra[96], align[40] = "", ncq[16] = "no NCQ", clamped[120] = "";
    const struct ata_identity *id = &p->id;

    /* ata_identify_parse keeps nblocks * logical_size inside 64 bits. */
    blk_format_size(cap, sizeof(cap), id->nblocks * id->logical_size);
    if (id->capacity_clamped)
        snprintf(clamped, sizeof(clamped), " (capacity clamped: the device reports %llu sectors, "
                 "48-bit LBAs reach 2^48)", (unsigned long long)id->reported_nblocks);
    format_caps(id, extra, sizeof(extra));
    if (id->alignment)
        snprintf(align, sizeof(align), ", LBA 0 at logical offset %u", id->alignment);
    if (p->dev.caps & BLK_CAP_NCQ)
        snprintf(ncq, sizeof(ncq), "NCQ %u", p->dev.queue_depth);
    klog(LOG_INFO, "%s: %s %s fw %s, %s (%llu sectors)%s, %u/%u bytes per sector "
         "(logical/physical)%s, %s%s%s\n", p->dev.name, id->model, id->serial, id->firmware, cap,
         (unsigned long long)id->nblocks, clamped, id->logical_size, id->physical_size, align,
         ncq, extra, id->checksum_present ? "" : ", no IDENTIFY checksum");
}

/* Link, signature; true when an ATA disk answers and the port is started. */
static bool port_link_and_signature(struct ahci_port *p, const char *name)
{
    char why[160], words[80];
    uint32_t sig;

    if (p->hba->cap & AHCI_CAP_SSS)
        wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) | AHCI_PxCMD_SUD);
    if (!wait_link(p, AHCI_LINK_ABSENT_MS) && !ahci_port_comreset(p, why, sizeof(why))) {
        ahci_decode_ssts(rd(p, AHCI_PxSSTS), words, sizeof(words));
        klog(LOG_INFO, "%s: empty (PxSSTS %s)\n", name, words);
        return false;
    }
    wr(p, AHCI_PxSERR, 0xffffffffu);    /* DIAG.X from the link coming up */
    if (!ahci_port_wait_not_busy(p, AHCI_READY_TIMEOUT_MS, why, sizeof(why))) {
        klog(LOG_WARN, "%s: skipped: %s\n", name, why);
        return false;
    }
    sig = rd(p, AHCI_PxSIG);
    if (sig != AHCI_SIG_ATA) {
        ahci_decode_ssts(rd(p, AHCI_PxSSTS), words, sizeof(words));
        klog(LOG_INFO, "%s: %s (signature 0x%08x), not driven; PxSSTS %s\n", name,
             ahci_signature_name(sig), sig, words);
        return false;
    }
    clear_errors(p);
    wr(p, AHCI_PxIE, p->hba->irq_mode == AHCI_IRQ_MSI ? AHCI_PxIE_IO : 0);
    if (!ahci_port_start_engine(p, why, sizeof(why))) {
        klog(LOG_WARN, "%s: skipped: %s\n", name, why);
        return false;
    }
    return true;
}

/* Ports set in PI. */
static unsigned implemented_ports(uint32_t pi) { return bits_set32(pi); }

/* The next free port state, zeroed. State for every implemented port is
 * allocated at once; a port that does not come up gives its slot back
 * (port_states_used counts the ones in use). NULL when there is no memory. */
static struct ahci_port *claim_port_state(struct ahci_hba *hba, unsigned number, const char *name)
{
    if (!hba->port_states)
        hba->port_states = memory_alloc_state((uint64_t)implemented_ports(hba->pi) *
                                              sizeof(struct ahci_port));
    if (!hba->port_states) {
        leftout_report("%s: port not brought up: no memory for its state", name);
        return NULL;
    }
    struct ahci_port *p = &hba->port_states[hba->port_states_used];
    memset(p, 0, sizeof(*p));
    p->lock = (struct spinlock)SPINLOCK_INIT("ahci port");
    p->hba = hba;
    p->number = number;
    p->regs = ahci_port_regs(hba->abar, number);
    p->slots = hba->slots;
    return p;
}

/* §10.1.2 steps 1-5: the engines stopped, the command list and received-FIS
 * area ours, FIS-based switching off, errors cleared, FIS receive on. */
static bool prepare_port(struct ahci_port *p, const char *name)
{
    char why[160];

    if (!ahci_port_stop(p, why, sizeof(why))) {
        klog(LOG_WARN, "%s: skipped: %s\n", name, why);
        return false;
    }
    if (!alloc_memory(p)) {
        klog(LOG_WARN, "%s: skipped: no DMA memory for the command list\n", name);
        return false;
    }
    program_memory(p);
    /* FIS-based switching is for port multipliers, which are not driven:
     * make sure the firmware did not leave it on (PxFBS.EN, ST clear). */
    if ((p->hba->cap & AHCI_CAP_FBSS) && (rd(p, AHCI_PxFBS) & AHCI_PxFBS_EN))
        wr(p, AHCI_PxFBS, rd(p, AHCI_PxFBS) & ~AHCI_PxFBS_EN);
    clear_errors(p);
    wr(p, AHCI_PxCMD, rd(p, AHCI_PxCMD) | AHCI_PxCMD_FRE);
    return true;
}

/* A port that did not give an ATA disk: interrupts off, memory back. */
static void release_port(struct ahci_port *p)
{
    wr(p, AHCI_PxIE, 0);
    free_memory(p);
}

void ahci_port_probe(struct ahci_hba *hba, unsigned number)
{
    struct ahci_port *p;
    enum blk_cause cause;
    char name[16], why[240];

    snprintf(name, sizeof(name), "%sp%u", hba->name, number);
    p = claim_port_state(hba, number, name);
    if (!p || !prepare_port(p, name))
        return;
    if (!port_link_and_signature(p, name)) {
        release_port(p);
        return;
    }
    if (!identify(p, &cause, why, sizeof(why))) {
        /* Refused data: a disk left out with its cause (said on the console
         * too); a failed command: the line only, as for a port that does
         * not come up. */
        if (cause != BLK_OK)
            blk_disk_left_out(name, hba->pci, cause, "%s", why);
        else
            klog(LOG_WARN, "%s: ATA disk skipped: %s\n", name, why);
        ahci_port_stop_engine(p, why, sizeof(why));
        release_port(p);
        return;
    }
    hba->port_states_used++;
    hba->port[number] = p;
    fill_blk_dev(p);
    print_disk(p);
}
