/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_test.c — what the ahci suite (tests/kernel/test_ahci.c)
 * may see of the driver and what it may make happen, so the suite touches no
 * driver struct: ahci_test_view() copies a disk's HBA facts (CAP, slots,
 * S64A, SNCQ, the completion mode), its port's state and counters, IDENTIFY
 * as parsed, the memory the HBA reads (command list, received FIS, command
 * tables) and a snapshot of the port's registers rather than their address;
 * each hook that provokes something (non-queued commands on an NCQ disk, a
 * PRDT one sector short, the port's interrupt enables cleared, the in-flight
 * peak counted again) is a function named for it. The driver's top layer: it
 * calls ahci_io.c (ahci_port_of) and no file of the driver calls it. */
#include "drivers/ahci/ahci_priv.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "lib/string.h"

static uint32_t rd(const struct ahci_port *p, unsigned reg) { return mmio_read32(p->regs, reg); }

/* Every port register the suite looks at, in one go with interrupts off, so
 * the handler does not reap a slot between PxCI and PxSACT. PxFBS only where
 * CAP.FBSS says it exists (§3.3.16). Reads have no side effects (§3.3). */
static void view_registers(const struct ahci_port *p, struct ahci_test_registers *r)
{
    r->clb = rd(p, AHCI_PxCLB);
    r->clbu = rd(p, AHCI_PxCLBU);
    r->fb = rd(p, AHCI_PxFB);
    r->fbu = rd(p, AHCI_PxFBU);
    r->is = rd(p, AHCI_PxIS);
    r->ie = rd(p, AHCI_PxIE);
    r->cmd = rd(p, AHCI_PxCMD);
    r->tfd = rd(p, AHCI_PxTFD);
    r->sig = rd(p, AHCI_PxSIG);
    r->ssts = rd(p, AHCI_PxSSTS);
    r->sctl = rd(p, AHCI_PxSCTL);
    r->serr = rd(p, AHCI_PxSERR);
    r->sact = rd(p, AHCI_PxSACT);
    r->ci = rd(p, AHCI_PxCI);
    r->fbs = (p->hba->cap & AHCI_CAP_FBSS) ? rd(p, AHCI_PxFBS) : 0;
}

static void view_hba(const struct ahci_hba *h, struct ahci_test_view *v)
{
    strlcpy(v->hba_name, h->name, sizeof(v->hba_name));
    v->cap = h->cap;
    v->hba_slots = h->slots;
    v->s64a = h->s64a;
    v->sncq = h->sncq;
    v->irq_mode = h->irq_mode;
}

static void view_port(const struct ahci_port *p, struct ahci_test_view *v)
{
    v->port = p->number;
    v->slots = p->slots;
    v->dead = p->dead;
    v->issued = p->issued;
    v->identify = p->id;
    v->stats = p->stats;
    v->mem_phys = p->mem.phys;
    v->mem_bytes = p->mem.size;
    v->tables_phys = p->tables.phys;
    v->tables_bytes = p->tables.size;
    for (unsigned s = 0; s < p->slots && s < AHCI_MAX_SLOTS; s++)
        v->command_table[s] = p->cmd_list[s].ctba | (uint64_t)p->cmd_list[s].ctbau << 32;
    v->nonqueued = p->test_nonqueued;
    v->short_prdt = p->test_short_prdt;
}

bool ahci_test_view(struct blk_dev *dev, struct ahci_test_view *out)
{
    struct ahci_port *p = ahci_port_of(dev);
    if (!p)
        return false;
    memset(out, 0, sizeof(*out));
    uint64_t flags = spin_lock(&p->lock);
    view_hba(p->hba, out);
    view_port(p, out);
    view_registers(p, &out->regs);
    spin_unlock(&p->lock, flags);
    return true;
}

/* ---- hooks ---- */

void ahci_test_nonqueued(struct blk_dev *dev, bool on)
{
    struct ahci_port *p = ahci_port_of(dev);
    if (p)
        p->test_nonqueued = on;
}

void ahci_test_short_prdt(struct blk_dev *dev, bool on)
{
    struct ahci_port *p = ahci_port_of(dev);
    if (p)
        p->test_short_prdt = on;
}

/* Restored, PxIE is what the port's bring-up wrote (ahci_port.c): the
 * completion interrupts in MSI mode, none when polled. */
void ahci_test_mask_irq(struct blk_dev *dev, bool masked)
{
    struct ahci_port *p = ahci_port_of(dev);
    if (p)
        mmio_write32(p->regs, AHCI_PxIE,
                     masked || p->hba->irq_mode != AHCI_IRQ_MSI ? 0 : AHCI_PxIE_IO);
}

void ahci_test_clear_max_in_flight(struct blk_dev *dev)
{
    struct ahci_port *p = ahci_port_of(dev);
    if (p)
        p->stats.max_in_flight = 0;
}
