/* SPDX-License-Identifier: MIT */
/* drivers/ahci/ahci_hba.c — finds AHCI host bus adapters (PCI class
 * 01:06:01), maps ABAR (BAR5), enables memory space and bus mastering, takes
 * the HBA from the firmware (BIOS/OS handoff, AHCI 1.3.1 §10.6.3), resets it
 * (§10.4.3) into AHCI mode, chooses the completion mode (ahci.irq=), brings
 * up every implemented port (ahci_port.c) and, with interrupts on, registers
 * their disks (ahci_io.c). One boot line per controller. Leaves out:
 * enclosure management, command completion coalescing, port multipliers,
 * FIS-based switching. */
#include "drivers/ahci/ahci_priv.h"
#include "drivers/pci/pci.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/mmio.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"

static const struct cmdline_word ahci_irq_words[] = {
    { "poll", AHCI_IRQ_POLL }, { "msi", AHCI_IRQ_MSI },
};
CMDLINE_ENUM(ahci_irq_key, "ahci.irq", AHCI_IRQ_MSI, ahci_irq_words,
             "how AHCI completions are noticed: msi (default when the HBA has MSI) or poll");

/* One per AHCI function on PCI, however many (allocated at start-up). */
static struct ahci_hba *hbas;
static unsigned hba_count;

/* §10.6.3: take the HBA from the BIOS when CAP2.BOH says it may own it. OOS
 * is set whether or not BOS is (an SMM handler checks OOS before touching
 * the HBA); OOC is left to the BIOS, which clears it. The waiting rule and
 * its bounds are ahci_handoff_step()'s. */
static bool bios_handoff(struct ahci_hba *h, char *why, size_t why_size)
{
    uint64_t start = time_ns();
    bool busy_seen = false;
    uint32_t bohc;

    if (!(h->cap2 & AHCI_CAP2_BOH))
        return true;
    bohc = mmio_read32(h->abar, AHCI_REG_BOHC);
    if (!(bohc & AHCI_BOHC_OOS))
        mmio_write32(h->abar, AHCI_REG_BOHC, (bohc & ~AHCI_BOHC_OOC) | AHCI_BOHC_OOS);
    for (;;) {
        bohc = mmio_read32(h->abar, AHCI_REG_BOHC);
        switch (ahci_handoff_step(bohc, (time_ns() - start) / 1000000, &busy_seen)) {
        case AHCI_HANDOFF_DONE:
            if (busy_seen)
                klog(LOG_INFO, "%s: BIOS released the HBA after %llu ms (BIOS Busy was set)\n",
                     h->name, (unsigned long long)((time_ns() - start) / 1000000));
            return true;
        case AHCI_HANDOFF_TIMEOUT:
            snprintf(why, why_size, "BIOS did not release the HBA within %u ms: BOHC 0x%x "
                     "(BOS still set%s)", AHCI_HANDOFF_BOS_MS +
                     (busy_seen ? AHCI_HANDOFF_BUSY_MS : 0), bohc,
                     busy_seen ? ", BIOS Busy seen" : ", BIOS Busy never set");
            return false;
        case AHCI_HANDOFF_WAIT:
            break;
        }
        delay_us(100);
    }
}

/* GHC.AE must stick (it is read-only 1 when CAP.SAM, writable otherwise). */
static bool enable_ahci_mode(struct ahci_hba *h)
{
    uint32_t ghc = mmio_read32(h->abar, AHCI_REG_GHC);
    if (!(ghc & AHCI_GHC_AE))
        mmio_write32(h->abar, AHCI_REG_GHC, ghc | AHCI_GHC_AE);
    return (mmio_read32(h->abar, AHCI_REG_GHC) & AHCI_GHC_AE) != 0;
}

/* §10.4.3: GHC.HR, bounded wait for it to clear, then AE again. PI is
 * written once by firmware and lost by some HBAs on reset: restore it. */
static enum blk_cause hba_reset(struct ahci_hba *h, char *why, size_t why_size)
{
    uint32_t pi = mmio_read32(h->abar, AHCI_REG_PI);

    if (!enable_ahci_mode(h)) {
        snprintf(why, why_size, "GHC.AE does not stick (GHC 0x%x): the HBA stays in legacy mode",
                 mmio_read32(h->abar, AHCI_REG_GHC));
        return BLK_CAUSE_NOT_AHCI_MODE;
    }
    mmio_write32(h->abar, AHCI_REG_GHC, mmio_read32(h->abar, AHCI_REG_GHC) | AHCI_GHC_HR);
    enum mmio_wait w = mmio_wait32(h->abar, AHCI_REG_GHC, AHCI_GHC_HR, 0, AHCI_HR_TIMEOUT_MS, NULL);
    if (w == MMIO_WAIT_GONE) {
        snprintf(why, why_size, "GHC %s after the HBA reset", mmio_wait_name(w));
        return BLK_CAUSE_NOT_READY;
    }
    if (w != MMIO_WAIT_OK) {
        snprintf(why, why_size, "GHC.HR still set %u ms after the HBA reset", AHCI_HR_TIMEOUT_MS);
        return BLK_CAUSE_NOT_READY;
    }
    if (!enable_ahci_mode(h)) {
        snprintf(why, why_size, "GHC.AE does not stick after reset (GHC 0x%x)",
                 mmio_read32(h->abar, AHCI_REG_GHC));
        return BLK_CAUSE_NOT_AHCI_MODE;
    }
    if (mmio_read32(h->abar, AHCI_REG_PI) == 0 && pi != 0)
        mmio_write32(h->abar, AHCI_REG_PI, pi);
    return BLK_OK;
}

static void hba_interrupt(void *ctx, struct irq_frame *frame)
{
    struct ahci_hba *h = ctx;
    uint32_t is = mmio_read32(h->abar, AHCI_REG_IS);

    (void)frame;
    /* §10.7.2: clear each port's PxIS first (inside ahci_io_interrupt), then IS. */
    for (unsigned i = 0; i < AHCI_MAX_PORTS; i++)
        if ((is & (1u << i)) && h->port[i])
            ahci_io_interrupt(h->port[i]);
    mmio_write32(h->abar, AHCI_REG_IS, is);
}

static void choose_irq_mode(struct ahci_hba *h)
{
    h->irq_mode = AHCI_IRQ_POLL;
    h->vector = -1;
    if (ahci_irq_key == AHCI_IRQ_POLL)
        return;
    if (!h->pci->cap_msi) {
        klog(LOG_WARN, "%s: no MSI capability: completions are polled\n", h->name);
        return;
    }
    h->vector = irq_alloc_vector(hba_interrupt, h);
    if (h->vector < 0) {
        klog(LOG_WARN, "%s: no free interrupt vector: completions are polled\n", h->name);
        return;
    }
    if (!pci_msi_enable(h->pci, (uint8_t)h->vector)) {
        klog(LOG_WARN, "%s: MSI could not be enabled: completions are polled\n", h->name);
        irq_free_vector(h->vector);
        h->vector = -1;
        return;
    }
    h->irq_mode = AHCI_IRQ_MSI;
}

static void print_controller(const struct ahci_hba *h)
{
    const struct pci_bar *bar = pci_get_bar(h->pci, 5);
    static const char *const speed[] = { "?", "1.5 Gb/s", "3 Gb/s", "6 Gb/s" };
    unsigned iss = (h->cap >> AHCI_CAP_ISS_SHIFT) & 0xf;

    char version[16];
    if (h->vs & 0xff)
        snprintf(version, sizeof(version), "%x.%x.%x", h->vs >> 16, (h->vs >> 8) & 0xff, h->vs & 0xff);
    else
        snprintf(version, sizeof(version), "%x.%x", h->vs >> 16, (h->vs >> 8) & 0xff);
    klog(LOG_INFO, "%s: %02x:%02x.%x %04x:%04x ABAR 0x%llx AHCI %s, %u ports (PI 0x%x), "
         "%u slots, NCQ %s, S64A %s, SSS %s, SCLO %s, %s, CAP 0x%08x CAP2 0x%x, irq %s\n",
         h->name, h->pci->bus, h->pci->device, h->pci->function, h->pci->vendor_id,
         h->pci->device_id, (unsigned long long)(bar ? bar->phys : 0), version, (h->cap & AHCI_CAP_NP_MASK) + 1, h->pi,
         h->slots, h->sncq ? "yes" : "no", h->s64a ? "yes" : "no",
         h->cap & AHCI_CAP_SSS ? "yes" : "no", h->cap & AHCI_CAP_SCLO ? "yes" : "no",
         iss < 4 ? speed[iss] : "?", h->cap, h->cap2,
         h->irq_mode == AHCI_IRQ_MSI ? "msi" : "poll");
}

/* The firmware's hold released (§10.6.3) and the HBA reset into AHCI mode
 * (§10.4.3); false after recording the controller as failed. */
static bool take_and_reset(struct ahci_hba *h)
{
    char why[160];
    enum blk_cause rc;

    h->cap = mmio_read32(h->abar, AHCI_REG_CAP);
    h->vs = mmio_read32(h->abar, AHCI_REG_VS);
    /* CAP2 (and BOHC with it) exist from AHCI 1.2 on; before that 24h is
     * reserved, so a 1.0 or 1.1 HBA has no handoff to do (§3.1.10). */
    h->cap2 = h->vs >= AHCI_VS_1_2 ? mmio_read32(h->abar, AHCI_REG_CAP2) : 0;
    if (!bios_handoff(h, why, sizeof(why))) {
        blk_controller_failed(h->name, h->pci, BLK_CAUSE_NOT_READY, "%s", why);
        return false;
    }
    rc = hba_reset(h, why, sizeof(why));
    if (rc != BLK_OK) {
        blk_controller_failed(h->name, h->pci, rc, "%s", why);
        return false;
    }
    return true;
}

/* CAP and PI as they are after the reset. */
static void read_capabilities(struct ahci_hba *h)
{
    h->cap = mmio_read32(h->abar, AHCI_REG_CAP);
    h->pi = mmio_read32(h->abar, AHCI_REG_PI);
    h->slots = ((h->cap >> AHCI_CAP_NCS_SHIFT) & 0x1f) + 1;
    h->s64a = (h->cap & AHCI_CAP_S64A) != 0;
    h->sncq = (h->cap & AHCI_CAP_SNCQ) != 0;
}

/* CAP and PI as the reset left them (PI restored when the reset lost it):
 * a value the spec rules out fails the controller with the field named,
 * before an interrupt vector is taken or any port is touched. */
static bool refused_as_impossible(struct ahci_hba *h)
{
    char why[160];

    if (ahci_hba_capabilities_check(h->cap, h->pi, why, sizeof(why)) == BLK_OK)
        return false;
    blk_controller_failed(h->name, h->pci, BLK_CAUSE_IMPOSSIBLE, "%s", why);
    return true;
}

/* test.no_bus_master=ahci left PCI bus mastering off. Documented choice: the
 * disks are not registered at all, and the controller is recorded as failed
 * so the preflight names the cause. */
static bool refused_without_bus_master(struct ahci_hba *h)
{
    if (!h->bus_master_off)
        return false;
    uint16_t command = pci_read16(h->pci, PCI_COMMAND);
    if (command & PCI_COMMAND_BUS_MASTER)
        return false;
    blk_controller_failed(h->name, h->pci, BLK_CAUSE_BUS_MASTER_OFF,
                          "PCI COMMAND 0x%04x has BME clear: no disks registered, no I/O "
                          "attempted", command);
    return true;
}

/* Every implemented port brought up, then interrupts on, then the disks
 * registered. */
static void bring_up_ports(struct ahci_hba *h)
{
    for (unsigned i = 0; i < AHCI_MAX_PORTS; i++)
        if (h->pi & (1u << i))
            ahci_port_probe(h, i);
    /* Interrupts from the HBA only once every port is set up (§10.1.2 step 7). */
    mmio_write32(h->abar, AHCI_REG_IS, mmio_read32(h->abar, AHCI_REG_IS));
    if (h->irq_mode == AHCI_IRQ_MSI)
        mmio_write32(h->abar, AHCI_REG_GHC, mmio_read32(h->abar, AHCI_REG_GHC) | AHCI_GHC_IE);
    /* Registration reads LBA 0, so only now, with completions working. */
    for (unsigned i = 0; i < AHCI_MAX_PORTS; i++)
        if (h->port[i])
            h->port[i]->registered = ahci_io_register(h->port[i]);
}

static void hba_probe(const struct blk_driver *drv, struct pci_device *pci, struct ahci_hba *h)
{
    bool bus_master;

    memset(h, 0, sizeof(*h));
    h->index = hba_count++;     /* a failed controller keeps its number */
    h->pci = pci;
    snprintf(h->name, sizeof(h->name), "ahci%u", h->index);
    h->abar = blk_pci_claim(drv, pci, h->name, &bus_master);
    if (!h->abar)
        return;
    h->bus_master_off = !bus_master;
    if (!take_and_reset(h))
        return;
    read_capabilities(h);
    if (refused_as_impossible(h))
        return;
    choose_irq_mode(h);
    print_controller(h);
    if (refused_without_bus_master(h))
        return;
    bring_up_ports(h);
}

static void ahci_init(const struct blk_driver *drv)
{
    unsigned found = blk_pci_count(drv);
    if (!found)
        return;
    hbas = memory_alloc_state((uint64_t)found * sizeof(*hbas));
    if (!hbas) {
        leftout_report("ahci: %u AHCI controller(s) not brought up: no memory for their state",
                       found);
        return;
    }
    for (unsigned i = 0; i < found; i++)
        hba_probe(drv, blk_pci_at(drv, i), &hbas[i]);
}

/* What preflight reads before any I/O: AHCI mode (GHC.AE, §3.1.2; with
 * CAP.SAM it reads 1 and cannot be cleared) and 64-bit addressing (CAP.S64A). */
static void ahci_preflight(const struct blk_driver *drv, struct pci_device *pci,
                           volatile void *abar, struct blk_preflight *out)
{
    (void)drv;
    (void)pci;
    out->has_mode_check = true;
    if (!abar) {
        out->unreadable = true;
        return;
    }
    uint32_t cap = mmio_read32(abar, AHCI_REG_CAP), ghc = mmio_read32(abar, AHCI_REG_GHC);
    out->dma64 = (cap & AHCI_CAP_S64A) != 0;
    if (!(ghc & AHCI_GHC_AE)) {
        out->mode_cause = BLK_CAUSE_NOT_AHCI_MODE;
        snprintf(out->mode, sizeof(out->mode), "GHC 0x%08x has AE clear (CAP 0x%08x, SAM %u)",
                 ghc, cap, !!(cap & AHCI_CAP_SAM));
    } else {
        snprintf(out->mode, sizeof(out->mode), "GHC.AE set (CAP 0x%08x)", cap);
    }
}

/* SATA controllers with the AHCI programming interface (PCI class 01.06.01). */
static const struct blk_pci_match ahci_match[] = {
    { .class_code = 0x01, .subclass = 0x06, .prog_if = 0x01 },
    { 0 },
};

BLK_DRIVER(ahci) = {
    .name = "ahci",
    .match = ahci_match,
    .bar = 5,
    .bar_name = "ABAR",
    .min_bar_size = AHCI_PORT_BASE + AHCI_PORT_SIZE,
    .ops = &ahci_blk_ops,
    .init = ahci_init,
    .preflight = ahci_preflight,
};
