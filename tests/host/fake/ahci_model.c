/* SPDX-License-Identifier: MIT */
/* tests/host/fake/ahci_model.c — the programmable AHCI HBA and SATA disks of
 * tests/host/fake/ahci_model.h: generic host control with GHC.HR and the
 * BIOS/OS handoff, per-port engines (ST/CR, FRE/FR) that take time to stop,
 * the link with COMRESET timing, and the command list: IDENTIFY DEVICE,
 * READ/WRITE DMA EXT (and FUA), READ/WRITE FPDMA QUEUED, FLUSH CACHE EXT,
 * DATA SET MANAGEMENT (TRIM) and READ LOG EXT 10h, executed on a later clock
 * tick, with PRDBC, the D2H Register FIS and PxIS as the driver reads them. */
#include "tests/host/fake/ahci_model.h"
#include "tests/host/fake/fake.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdlib.h>

#define ABAR_SIZE 0x2000u
#define STS_READY 0x50u     /* DRDY | DSC */
#define COMRESET_MIN_HOLD_NS (1 * FAKE_MS)

static uint64_t now(void) { return fake_now(); }

/* ---- the disk's side ---- */

static void ata_string(uint16_t *w, unsigned words, const char *s)
{
    char buf[80];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, s, strlen(s) < sizeof(buf) ? strlen(s) : sizeof(buf));
    for (unsigned i = 0; i < words; i++)
        w[i] = (uint16_t)((uint8_t)buf[2 * i] << 8 | (uint8_t)buf[2 * i + 1]);
}

static void identify_words(struct ahci_model *m, const struct ahci_model_port *p, unsigned port,
                           uint16_t w[256])
{
    char serial[24];
    memset(w, 0, 512);
    w[0] = 0x0040;
    snprintf(serial, sizeof(serial), "FAKE-AHCI-%u", port);
    ata_string(&w[10], 10, serial);
    ata_string(&w[23], 4, "1.0");
    ata_string(&w[27], 20, "bareio fake SATA disk");
    w[49] = 1u << 9 | 1u << 8;
    w[69] = 1u << 14 | 1u << 5;                 /* deterministic TRIM, reads zeroes */
    w[75] = (uint16_t)(p->ncq_depth ? p->ncq_depth - 1 : 0);
    w[76] = (uint16_t)((p->ncq_depth ? 1u << 8 : 0) | 1u << 2 | 1u << 1);
    w[82] = 1u << 5;                            /* write cache */
    w[83] = 0x4000 | 1u << 10 | 1u << 13;       /* LBA48, FLUSH CACHE EXT */
    w[84] = 0x4000 | 1u << 6;                   /* WRITE DMA FUA EXT */
    w[85] = 1u << 5;
    w[86] = 1u << 10 | 1u << 13;
    w[87] = 0x4000;
    for (unsigned i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(p->blocks >> (16 * i));
    w[106] = 0x4000;
    w[169] = 1;
    w[217] = 1;
    if (m->identify)
        m->identify(m, port, w);
    uint8_t sum = 0xa5;
    for (unsigned i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
    w[255] = (uint16_t)((uint8_t)(0 - sum) << 8 | 0xa5);
}

/* ---- the port ---- */

static void irq(struct ahci_model *m, unsigned n)
{
    if (m->port[n].is & m->port[n].ie)
        m->is |= 1u << n;
}

/* After a reset the Phy comes up first (DET 3); the device stays BSY until
 * it has finished its own reset and sent the signature FIS. */
static void link_update(struct ahci_model *m, struct ahci_model_port *p)
{
    if (p->present && !p->in_comreset && p->link_up_ns && now() >= p->link_up_ns) {
        p->link_up_ns = 0;
        p->ssts = 0x113;                        /* DET 3, Gen 1, active */
        p->serr |= AHCI_SERR_DIAG_X | AHCI_SERR_DIAG_N;
        p->device_ready_ns = now() + m->bsy_after_link_ns;
    }
    if (p->device_ready_ns && now() >= p->device_ready_ns) {
        p->device_ready_ns = 0;
        p->tfd = STS_READY;
        p->sig = AHCI_SIG_ATA;
    }
}

static void engine_update(struct ahci_model *m, struct ahci_model_port *p)
{
    if ((p->cmd & AHCI_PxCMD_CR) && !(p->cmd & AHCI_PxCMD_ST) &&
        now() - p->st_cleared_ns >= m->cr_stop_ns)
        p->cmd &= ~AHCI_PxCMD_CR;
    if ((p->cmd & AHCI_PxCMD_FR) && !(p->cmd & AHCI_PxCMD_FRE) &&
        now() - p->fre_cleared_ns >= m->fr_stop_ns)
        p->cmd &= ~AHCI_PxCMD_FR;
    link_update(m, p);
}

static void *dma(uint64_t phys, uint64_t len) { return fake_dma_ptr(phys, len); }

/* Copies between the media (or a buffer) and the PRDT; returns the bytes moved. */
static uint64_t prdt_copy(const struct ahci_cmd_table *t, unsigned prdtl, uint8_t *data,
                          uint64_t bytes, bool to_host)
{
    uint64_t done = 0;
    for (unsigned i = 0; i < prdtl && done < bytes; i++) {
        const struct ahci_prd *e = &t->prdt[i];
        uint64_t addr = e->dba | (uint64_t)e->dbau << 32;
        uint64_t len = (e->dbc & AHCI_PRD_DBC_MASK) + 1;
        if (!(e->dbc & 1) || (addr & 1))
            fake_model_error("PRD %u: DBA 0x%llx DBC %u breaks the word rule (§4.2.3.3)", i,
                             (unsigned long long)addr, e->dbc & AHCI_PRD_DBC_MASK);
        if (len > bytes - done)
            len = bytes - done;
        uint8_t *host = dma(addr, len);
        if (!host)
            return done;
        if (to_host)
            memcpy(host, data + done, len);
        else
            memcpy(data + done, host, len);
        done += len;
    }
    return done;
}

static void d2h(struct ahci_model_port *p, uint8_t status, uint8_t error, uint64_t lba)
{
    struct ahci_received_fis *r = dma(p->fb | (uint64_t)p->fbu << 32, sizeof(*r));
    if (!r || !(p->cmd & AHCI_PxCMD_FRE))
        return;
    struct fis_reg_d2h f = { .fis_type = FIS_TYPE_REG_D2H, .status = status, .error = error,
                             .lba0 = (uint8_t)lba, .lba1 = (uint8_t)(lba >> 8),
                             .lba2 = (uint8_t)(lba >> 16), .lba3 = (uint8_t)(lba >> 24),
                             .lba4 = (uint8_t)(lba >> 32), .lba5 = (uint8_t)(lba >> 40) };
    memcpy(r->rfis, &f, sizeof(f));
}

static struct {
    unsigned port;
    uint8_t command;
    uint64_t lba;
    unsigned count;
} attempts[1024];

static unsigned attempt_of(unsigned port, uint8_t command, uint64_t lba)
{
    for (unsigned i = 0; i < 1024; i++) {
        if (attempts[i].count && attempts[i].port == port && attempts[i].command == command &&
            attempts[i].lba == lba)
            return ++attempts[i].count;
        if (!attempts[i].count) {
            attempts[i].port = port;
            attempts[i].command = command;
            attempts[i].lba = lba;
            return attempts[i].count = 1;
        }
    }
    return 1;
}

struct decoded {
    struct ahci_cmd_header *h;
    struct ahci_cmd_table *t;
    const struct fis_reg_h2d *fis;
    unsigned prdtl;
    uint8_t command;
    uint64_t lba;
    uint32_t count;
    bool ncq;
};

static bool decode(struct ahci_model_port *p, unsigned s, struct decoded *d)
{
    d->h = dma((p->clb | (uint64_t)p->clbu << 32) + s * 32u, 32);
    if (!d->h)
        return false;
    d->prdtl = d->h->dw0 >> AHCI_CMDH_PRDTL_SHIFT;
    d->t = dma(d->h->ctba | (uint64_t)d->h->ctbau << 32, 0x80 + 16ull * d->prdtl);
    if (!d->t)
        return false;
    d->fis = (const struct fis_reg_h2d *)d->t->cfis;
    d->command = d->fis->command;
    d->lba = ahci_d2h_lba((const struct fis_reg_d2h *)d->fis);
    d->ncq = d->command == ATA_CMD_READ_FPDMA_QUEUED || d->command == ATA_CMD_WRITE_FPDMA_QUEUED;
    d->count = d->ncq ? (uint32_t)(d->fis->features | d->fis->features_exp << 8)
                      : (uint32_t)(d->fis->count | d->fis->count_exp << 8);
    if (d->count == 0 && (d->ncq || d->command == ATA_CMD_READ_DMA_EXT ||
                          d->command == ATA_CMD_WRITE_DMA_EXT ||
                          d->command == ATA_CMD_WRITE_DMA_FUA_EXT))
        d->count = 65536;
    if (d->ncq && (d->fis->count >> 3) != s)
        fake_model_error("FPDMA command in slot %u carries tag %u", s, d->fis->count >> 3);
    if (d->ncq && !(p->sact & (1u << s)))
        fake_model_error("FPDMA command in slot %u issued without its PxSACT bit (§5.6.4.1)", s);
    return true;
}

/* The command in slot s failed with `error`: the port stops (§6.2.2), the
 * device keeps ERR. An NCQ error aborts every queued command. */
static void raise_error(struct ahci_model *m, unsigned n, unsigned s, bool ncq, uint8_t error,
                        uint64_t lba)
{
    struct ahci_model_port *p = &m->port[n];
    p->tfd = (uint32_t)error << AHCI_PxTFD_ERR_SHIFT | STS_READY | ATA_STS_ERR;
    p->is |= AHCI_PxIS_TFES | (ncq ? AHCI_PxIS_SDBS : AHCI_PxIS_DHRS);
    p->halted = true;
    p->err_sticky = true;
    p->errors_raised++;
    p->last_error = error;
    p->last_status = STS_READY | ATA_STS_ERR;
    p->last_error_lba = lba;
    p->last_error_tag = ncq ? (int)s : -1;
    p->cmd = (p->cmd & ~(0x1fu << AHCI_PxCMD_CCS_SHIFT)) | s << AHCI_PxCMD_CCS_SHIFT;
    d2h(p, STS_READY | ATA_STS_ERR, error, lba);
    for (unsigned i = 0; i < 32; i++)
        if (i == s || (ncq && (p->sact & (1u << i))))
            p->slot[i].active = false;
    irq(m, n);
}

static void ncq_log_page(struct ahci_model_port *p, uint8_t page[512])
{
    memset(page, 0, 512);
    page[0] = (uint8_t)p->last_error_tag;
    page[2] = p->last_status;
    page[3] = p->last_error;
    page[4] = (uint8_t)p->last_error_lba;
    page[5] = (uint8_t)(p->last_error_lba >> 8);
    page[6] = (uint8_t)(p->last_error_lba >> 16);
    page[8] = (uint8_t)(p->last_error_lba >> 24);
    page[9] = (uint8_t)(p->last_error_lba >> 32);
    page[10] = (uint8_t)(p->last_error_lba >> 40);
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++)
        sum = (uint8_t)(sum + page[i]);
    page[511] = (uint8_t)(0 - sum);
}

static void execute(struct ahci_model *m, unsigned n, unsigned s)
{
    struct ahci_model_port *p = &m->port[n];
    struct decoded d;
    uint64_t bytes = 0;

    p->slot[s].active = false;
    if (!decode(p, s, &d))
        return;
    p->commands[d.command]++;
    if (p->err_sticky && d.command != ATA_CMD_READ_LOG_EXT) {
        raise_error(m, n, s, d.ncq, ATA_ERR_ABRT, d.lba);   /* the stale ERR, as QEMU's */
        return;
    }
    if (p->slot[s].error) {
        raise_error(m, n, s, d.ncq, p->slot[s].error, d.lba);
        return;
    }
    switch (d.command) {
    case ATA_CMD_IDENTIFY_DEVICE: {
        uint16_t w[256];
        identify_words(m, p, n, w);
        bytes = prdt_copy(d.t, d.prdtl, (uint8_t *)w, 512, true);
        break;
    }
    case ATA_CMD_READ_DMA_EXT:
    case ATA_CMD_WRITE_DMA_EXT:
    case ATA_CMD_WRITE_DMA_FUA_EXT:
    case ATA_CMD_READ_FPDMA_QUEUED:
    case ATA_CMD_WRITE_FPDMA_QUEUED: {
        if (d.lba >= p->blocks || d.count > p->blocks - d.lba) {
            raise_error(m, n, s, d.ncq, ATA_ERR_ABRT, d.lba);
            return;
        }
        bool read = d.command == ATA_CMD_READ_DMA_EXT || d.command == ATA_CMD_READ_FPDMA_QUEUED;
        if (d.command == ATA_CMD_WRITE_DMA_FUA_EXT ||
            (d.command == ATA_CMD_WRITE_FPDMA_QUEUED && (d.fis->device & ATA_DEVICE_FUA)))
            p->fua_writes++;
        bytes = prdt_copy(d.t, d.prdtl, p->media + d.lba * 512, (uint64_t)d.count * 512, read);
        break;
    }
    case ATA_CMD_FLUSH_CACHE_EXT:
        break;
    case ATA_CMD_DSM: {
        uint64_t ranges[64];
        bytes = prdt_copy(d.t, d.prdtl, (uint8_t *)ranges, 512, false);
        for (unsigned i = 0; i < 64; i++) {
            uint64_t lba = ranges[i] & 0xffffffffffffull, count = ranges[i] >> 48;
            if (count && lba < p->blocks && count <= p->blocks - lba)
                memset(p->media + lba * 512, 0, count * 512);
        }
        break;
    }
    case ATA_CMD_READ_LOG_EXT:
        if (d.fis->lba0 != ATA_LOG_NCQ_ERROR || !m->read_log_works) {
            raise_error(m, n, s, false, ATA_ERR_ABRT, 0);     /* as QEMU */
            return;
        } else {
            uint8_t page[512];
            ncq_log_page(p, page);
            bytes = prdt_copy(d.t, d.prdtl, page, 512, true);
            p->err_sticky = false;      /* reading the log ends the error state */
            p->tfd = STS_READY;
        }
        break;
    default:
        raise_error(m, n, s, d.ncq, ATA_ERR_ABRT, 0);
        return;
    }
    d.h->prdbc = (uint32_t)bytes;
    uint32_t bit = 1u << s;
    if (d.ncq) {
        p->sact &= ~bit;
        p->is |= AHCI_PxIS_SDBS;
    } else {
        p->is |= AHCI_PxIS_DHRS;
        d2h(p, STS_READY, 0, d.lba);
    }
    p->ci &= ~bit;
    irq(m, n);
}

static void issue(struct ahci_model *m, unsigned n, uint32_t bits)
{
    struct ahci_model_port *p = &m->port[n];
    for (unsigned s = 0; s < 32; s++) {
        if (!(bits & (1u << s)))
            continue;
        struct decoded d;
        struct ahci_model_fault f = { 0, false, 0 };
        if (decode(p, s, &d) && m->fault)
            m->fault(m, n, d.command, d.lba, d.count, attempt_of(n, d.command, d.lba), &f);
        p->slot[s] = (struct ahci_model_slot){ true, f.hold, now() + m->latency_ns + f.delay_ns,
                                               f.error };
    }
}

static void stop_commands(struct ahci_model_port *p)
{
    p->ci = 0;
    p->sact = 0;
    p->halted = false;
    for (unsigned s = 0; s < 32; s++)
        p->slot[s].active = false;
}

static void write_cmd(struct ahci_model *m, unsigned n, uint32_t v)
{
    struct ahci_model_port *p = &m->port[n];
    uint32_t old = p->cmd;
    bool st = v & AHCI_PxCMD_ST, fre = v & AHCI_PxCMD_FRE;

    engine_update(m, p);
    if (st && !(old & AHCI_PxCMD_ST)) {
        if (!fre)
            fake_model_error("port %u: PxCMD.ST set without FRE (§10.3.1)", n);
        if (p->tfd & (ATA_STS_BSY | ATA_STS_DRQ))
            fake_model_error("port %u: PxCMD.ST set while PxTFD 0x%x has BSY/DRQ (§10.3.1)", n,
                             p->tfd);
        if (p->cmd & AHCI_PxCMD_CR)
            fake_model_error("port %u: PxCMD.ST set again before CR cleared (§10.3.1)", n);
        p->cmd |= AHCI_PxCMD_CR;
        p->cmd &= ~(0x1fu << AHCI_PxCMD_CCS_SHIFT);
    }
    if (!st && (old & AHCI_PxCMD_ST)) {
        stop_commands(p);
        p->st_cleared_ns = now();
    }
    if (fre && !(old & AHCI_PxCMD_FRE))
        p->cmd |= AHCI_PxCMD_FR;
    if (!fre && (old & AHCI_PxCMD_FRE)) {
        if (st || (p->cmd & AHCI_PxCMD_CR))
            fake_model_error("port %u: FRE cleared while ST or CR is set (§3.3.7)", n);
        p->fre_cleared_ns = now();
    }
    uint32_t writable = AHCI_PxCMD_ST | AHCI_PxCMD_SUD | AHCI_PxCMD_POD | AHCI_PxCMD_FRE;
    p->cmd = (p->cmd & ~writable) | (v & writable);
}

static void write_sctl(struct ahci_model *m, unsigned n, uint32_t v)
{
    struct ahci_model_port *p = &m->port[n];
    unsigned det_old = p->sctl & AHCI_SCTL_DET_MASK, det = v & AHCI_SCTL_DET_MASK;
    p->sctl = v;
    if (det == AHCI_SCTL_DET_COMRESET && det_old != AHCI_SCTL_DET_COMRESET) {
        if (p->cmd & AHCI_PxCMD_ST)
            fake_model_error("port %u: COMRESET while PxCMD.ST is set (§10.4.2)", n);
        p->in_comreset = true;
        p->comreset_start_ns = now();
        p->ssts_before_comreset = p->ssts;
        p->ssts = p->present ? 0x1 : 0;
        return;
    }
    if (det == 0 && det_old == AHCI_SCTL_DET_COMRESET) {
        uint64_t hold = now() - p->comreset_start_ns;
        p->in_comreset = false;
        p->comresets++;
        if (!p->shortest_hold_ns || hold < p->shortest_hold_ns)
            p->shortest_hold_ns = hold;
        if (!p->present)
            return;
        if (hold < COMRESET_MIN_HOLD_NS) {
            /* Too short for the OOB sequence: the device never saw a reset. */
            p->short_comresets++;
            p->ssts = p->ssts_before_comreset;
            return;
        }
        p->err_sticky = false;
        p->needs_comreset = false;
        p->tfd = ATA_STS_BSY;
        p->sig = 0xffffffffu;
        p->link_up_ns = now() + m->link_ns;
    }
}

/* ---- registers ---- */

static uint32_t bohc(struct ahci_model *m)
{
    if (!(m->cap2 & AHCI_CAP2_BOH))
        return 0;
    uint32_t v = m->bohc & (AHCI_BOHC_OOS | AHCI_BOHC_SOOE);
    if (!m->bios_owned)
        return v;
    if (!(m->bohc & AHCI_BOHC_OOS))
        return v | AHCI_BOHC_BOS;
    uint64_t elapsed = now() - m->oos_written_ns;
    if (m->bios_release_ns != AHCI_MODEL_NEVER && elapsed >= m->bios_release_ns) {
        if (!m->handoff_done_ns)
            m->handoff_done_ns = m->oos_written_ns + m->bios_release_ns;
        return v | (m->bohc & AHCI_BOHC_OOC);
    }
    v |= AHCI_BOHC_BOS;
    if (m->bios_busy_ns != AHCI_MODEL_NEVER && elapsed >= m->bios_busy_ns)
        v |= AHCI_BOHC_BB;
    return v;
}

static void hba_update(struct ahci_model *m)
{
    if (m->in_hr && now() - m->hr_start_ns >= m->hr_ns) {
        m->in_hr = false;
        m->ghc &= ~AHCI_GHC_HR;
    }
    for (unsigned n = 0; n < AHCI_MAX_PORTS; n++)
        if (m->pi & (1u << n))
            engine_update(m, &m->port[n]);
}

static void hba_reset(struct ahci_model *m)
{
    m->in_hr = true;
    m->hr_start_ns = now();
    m->hba_resets++;
    m->ghc = AHCI_GHC_HR | ((m->cap & AHCI_CAP_SAM) ? AHCI_GHC_AE : 0);
    m->is = 0;
    if (m->pi_lost_at_hba_reset)
        m->pi = 0;
    for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
        struct ahci_model_port *p = &m->port[n];
        stop_commands(p);
        p->cmd = p->is = p->ie = p->serr = 0;
        p->err_sticky = false;
        if (p->present && !p->needs_comreset) {     /* a COMRESET on every port */
            p->ssts = 0x1;
            p->tfd = ATA_STS_BSY;
            p->sig = 0xffffffffu;
            p->link_up_ns = now() + m->link_ns;
        }
    }
}

static uint32_t port_read(struct ahci_model *m, unsigned n, uint32_t reg)
{
    struct ahci_model_port *p = &m->port[n];
    engine_update(m, p);
    switch (reg) {
    case AHCI_PxCLB: return p->clb;
    case AHCI_PxCLBU: return p->clbu;
    case AHCI_PxFB: return p->fb;
    case AHCI_PxFBU: return p->fbu;
    case AHCI_PxIS: return p->is;
    case AHCI_PxIE: return p->ie;
    case AHCI_PxCMD: return p->cmd;
    case AHCI_PxTFD: return p->tfd;
    case AHCI_PxSIG: return (p->cmd & AHCI_PxCMD_FRE) ? p->sig : 0xffffffffu;
    case AHCI_PxSSTS: return p->ssts;
    case AHCI_PxSCTL: return p->sctl;
    case AHCI_PxSERR: return p->serr;
    case AHCI_PxSACT: return p->sact;
    case AHCI_PxCI: return p->ci;
    default: return 0;
    }
}

static void port_write(struct ahci_model *m, unsigned n, uint32_t reg, uint32_t v)
{
    struct ahci_model_port *p = &m->port[n];
    engine_update(m, p);
    bool running = p->cmd & (AHCI_PxCMD_CR | AHCI_PxCMD_FR);
    switch (reg) {
    case AHCI_PxCLB: case AHCI_PxCLBU: case AHCI_PxFB: case AHCI_PxFBU:
        if (running)
            fake_model_error("port %u: CLB/FB written while CR or FR is set (§3.3.1)", n);
        if (reg == AHCI_PxCLB) p->clb = v;
        else if (reg == AHCI_PxCLBU) p->clbu = v;
        else if (reg == AHCI_PxFB) p->fb = v;
        else p->fbu = v;
        break;
    case AHCI_PxIS: p->is &= ~v; break;
    case AHCI_PxIE: p->ie = v; break;
    case AHCI_PxCMD: write_cmd(m, n, v); break;
    case AHCI_PxSCTL: write_sctl(m, n, v); break;
    case AHCI_PxSERR: p->serr &= ~v; break;
    case AHCI_PxSACT:
        if (!(p->cmd & AHCI_PxCMD_ST))
            fake_model_error("port %u: PxSACT written while ST is clear", n);
        p->sact |= v;
        break;
    case AHCI_PxCI: {
        if (!(p->cmd & AHCI_PxCMD_ST)) {
            fake_model_error("port %u: PxCI 0x%x written while ST is clear", n, v);
            break;
        }
        uint32_t fresh = v & ~p->ci;
        p->ci |= v;
        issue(m, n, fresh);
        break;
    }
    case AHCI_PxFBS: break;
    default:
        fake_model_error("port %u: write of 0x%x to register 0x%x", n, v, reg);
    }
}

static uint32_t reg_read(void *model, uint32_t off, unsigned size)
{
    struct ahci_model *m = model;
    if (size != 4)
        fake_model_error("ABAR 0x%x read with %u bytes", off, size);
    if (m->gone)
        return 0xffffffffu;             /* a master abort: no device answers */
    hba_update(m);
    if (off >= AHCI_PORT_BASE) {
        unsigned n = (off - AHCI_PORT_BASE) / AHCI_PORT_SIZE;
        m->port_accesses++;
        if (n >= AHCI_MAX_PORTS || !(m->pi & (1u << n))) {
            fake_model_error("read of port %u, which PI does not implement", n);
            return 0;
        }
        return port_read(m, n, (off - AHCI_PORT_BASE) % AHCI_PORT_SIZE);
    }
    switch (off) {
    case AHCI_REG_CAP: return m->cap;
    case AHCI_REG_GHC: return m->ghc;
    case AHCI_REG_IS: return m->is;
    case AHCI_REG_PI: return m->pi;
    case AHCI_REG_VS: return m->vs;
    case AHCI_REG_CAP2:
        if (m->vs < 0x10200)
            fake_model_error("CAP2 read on an AHCI %x.%x HBA (it exists from 1.2)", m->vs >> 16,
                             (m->vs >> 8) & 0xff);
        return m->cap2;
    case AHCI_REG_BOHC: return bohc(m);
    default: return 0;
    }
}

static void reg_write(void *model, uint32_t off, unsigned size, uint32_t v)
{
    struct ahci_model *m = model;
    if (size != 4)
        fake_model_error("ABAR 0x%x written with %u bytes", off, size);
    if (m->gone)
        return;
    hba_update(m);
    if (off >= AHCI_PORT_BASE) {
        unsigned n = (off - AHCI_PORT_BASE) / AHCI_PORT_SIZE;
        m->port_accesses++;
        if (n >= AHCI_MAX_PORTS || !(m->pi & (1u << n))) {
            fake_model_error("write to port %u, which PI does not implement", n);
            return;
        }
        port_write(m, n, (off - AHCI_PORT_BASE) % AHCI_PORT_SIZE, v);
        return;
    }
    switch (off) {
    case AHCI_REG_GHC:
        if (v & AHCI_GHC_HR) {
            hba_reset(m);
            m->gone = m->leave_at_hba_reset;
            return;
        }
        m->ghc = (v & (AHCI_GHC_IE | AHCI_GHC_AE)) | ((m->cap & AHCI_CAP_SAM) ? AHCI_GHC_AE : 0);
        break;
    case AHCI_REG_IS: m->is &= ~v; break;
    case AHCI_REG_PI: m->pi = v; break;
    case AHCI_REG_BOHC:
        if (!(m->cap2 & AHCI_CAP2_BOH)) {
            fake_model_error("BOHC written without CAP2.BOH");
            return;
        }
        if ((v & AHCI_BOHC_OOS) && !(m->bohc & AHCI_BOHC_OOS))
            m->oos_written_ns = now();
        m->bohc = (m->bohc & ~(v & AHCI_BOHC_OOC)) | (v & (AHCI_BOHC_OOS | AHCI_BOHC_SOOE));
        break;
    default:
        fake_model_error("write of 0x%x to ABAR register 0x%x", v, off);
    }
}

static void tick(void *model)
{
    struct ahci_model *m = model;
    hba_update(m);
    for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
        struct ahci_model_port *p = &m->port[n];
        if (!(m->pi & (1u << n)) || p->halted || !(p->cmd & AHCI_PxCMD_ST))
            continue;
        for (unsigned s = 0; s < 32 && !p->halted; s++)
            if (p->slot[s].active && !p->slot[s].held && now() >= p->slot[s].due_ns)
                execute(m, n, s);
    }
}

static const struct fake_mmio_ops ahci_model_ops = { reg_read, reg_write, tick };

void ahci_model_link_down(struct ahci_model *m, unsigned n)
{
    m->port[n].ssts = m->port[n].present ? 0x1 : 0;     /* present, no Phy communication */
    m->port[n].tfd = 0x80;
    m->port[n].needs_comreset = true;
}

void ahci_model_attach(struct ahci_model *m, unsigned n, uint64_t blocks, unsigned ncq_depth)
{
    struct ahci_model_port *p = &m->port[n];
    free(p->media);
    memset(p, 0, sizeof(*p));
    p->sig = 0xffffffffu;
    p->last_error_tag = -1;
    if (!blocks) {
        p->tfd = 0x7f;
        return;
    }
    p->present = true;
    p->blocks = blocks;
    p->ncq_depth = ncq_depth;
    p->media = calloc(1, blocks * 512);
    p->ssts = 0x113;                    /* up since power-on */
    p->tfd = STS_READY;
    p->sig = AHCI_SIG_ATA;
}

uint8_t *ahci_model_block(struct ahci_model *m, unsigned n, uint64_t lba)
{
    return m->port[n].media + lba * 512;
}

struct ahci_model *ahci_model_new(uint64_t blocks)
{
    struct ahci_model *m = calloc(1, sizeof(*m));
    m->cap = 5 | 31u << AHCI_CAP_NCS_SHIFT | 1u << AHCI_CAP_ISS_SHIFT | AHCI_CAP_SAM |
             AHCI_CAP_SNCQ | AHCI_CAP_S64A;
    m->vs = 0x10301;    /* 1.3.1, so CAP2 and BOHC exist (QEMU's says 1.0) */
    m->pi = 0x3f;
    m->bios_busy_ns = AHCI_MODEL_NEVER;
    m->bios_release_ns = 10 * FAKE_MS;
    m->hr_ns = 1 * FAKE_MS;
    m->cr_stop_ns = 200 * FAKE_US;
    m->fr_stop_ns = 200 * FAKE_US;
    m->link_ns = 2 * FAKE_MS;
    m->bsy_after_link_ns = 3 * FAKE_MS;
    m->latency_ns = 20 * FAKE_US;
    m->ghc = AHCI_GHC_AE;
    for (unsigned n = 0; n < AHCI_MAX_PORTS; n++)
        ahci_model_attach(m, n, n == 0 ? blocks : 0, 32);
    m->abar = fake_mmio_region(ABAR_SIZE, &ahci_model_ops, m);
    m->pci = fake_pci_add(0x01, 0x06, 0x01, 5, m->abar, ABAR_SIZE);
    return m;
}
