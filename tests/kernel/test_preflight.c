/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_preflight.c — the `preflight` suite: what can be checked
 * about each storage controller before any I/O, so a run on a badly set-up
 * machine fails here with the cause and its remedy instead of later with a
 * timeout. Per controller a built-in driver takes (its BLK_DRIVER match
 * table: no driver is known here by name): bus mastering on (PCI
 * COMMAND.BME), the driver's register BAR assigned, the mode the driver
 * needs (its preflight hook: AHCI's GHC.AE, AHCI 1.3.1 §3.1.2), 64-bit DMA
 * capability against memory above 4 GiB, and every controller the drivers
 * could not bring up.
 *
 * It runs after the drivers started (they enable bus mastering). */
#include "drivers/blk/blk.h"
#include "drivers/blk/storage.h"
#include "drivers/pci/pci_leftover.h"
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_resources.h"
#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "tests/harness/ktest.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "lib/format.h"
#include "lib/string.h"

#define MAX_CONTROLLERS     PCI_MAX_DEVICES     /* every storage function the table lists */

struct controller {
    struct pci_device *pci;
    const struct blk_driver *driver;
    char name[16];              /* "ahci0", "nvme1": the driver's name and its count */
};

static struct controller controllers[MAX_CONTROLLERS];
static unsigned controller_count;

/* Every PCI function a built-in driver takes, named as its driver names it. */
static void find_controllers(void)
{
    controller_count = 0;
    for (unsigned d = 0; d < blk_driver_count(); d++) {
        const struct blk_driver *drv = blk_driver_at(d);
        unsigned n = blk_pci_count(drv);
        for (unsigned i = 0; i < n && controller_count < MAX_CONTROLLERS; i++) {
            struct controller *c = &controllers[controller_count++];
            c->pci = blk_pci_at(drv, i);
            c->driver = drv;
            snprintf(c->name, sizeof(c->name), "%s%u", drv->name, i);
        }
    }
}

static bool preflight_available(const char **reason)
{
    find_controllers();
    if (controller_count == 0 && blk_controller_fault_count() == 0 && leftout_count() == 0 &&
        blk_storage_count() == 0) {
        *reason = "no storage controller on PCI that a built-in driver takes";
        return false;
    }
    return true;
}

/* A preflight failure: the cause in words and what to do about it. */
static void fail_cause(struct ktest *t, const struct controller *c, enum blk_cause cause,
                       const char *detail)
{
    const struct pci_device *p = c->pci;
    KT_FAIL(t, "%s (%02x:%02x.%x): %s: %s; remedy: %s", c->name, p->bus, p->device, p->function,
            blk_cause_name(cause), detail, blk_cause_remedy(cause));
}

/* Runs fn on every controller. */
static void for_each_controller(struct ktest *t, void (*fn)(struct ktest *, const struct controller *))
{
    for (unsigned i = 0; i < controller_count; i++)
        fn(t, &controllers[i]);
    if (!controller_count)
        ktest_skip(t, "no controller with a driver");
}

/* What the controller's driver reads off it before any I/O (its preflight
 * hook); a driver without one has no mode to check and addresses 64 bits. */
static void driver_preflight(const struct controller *c, struct blk_preflight *out)
{
    *out = (struct blk_preflight){ .dma64 = true };
    if (!c->driver->preflight)
        return;
    volatile void *regs = blk_pci_register_bar(c->driver, c->pci, NULL, 0)
                        ? pci_map_bar(c->pci, (unsigned)blk_pci_bar_index(c->driver, c->pci)) : NULL;
    c->driver->preflight(c->driver, c->pci, regs, out);
}

static void bus_master_one(struct ktest *t, const struct controller *c)
{
    uint16_t command = pci_read16(c->pci, PCI_COMMAND);
    char detail[96];
    if (!(command & PCI_COMMAND_BUS_MASTER)) {
        snprintf(detail, sizeof(detail), "PCI COMMAND 0x%04x has BME (bit 2) clear", command);
        fail_cause(t, c, BLK_CAUSE_BUS_MASTER_OFF, detail);
    } else {
        ktest_diag(t, "%s: COMMAND 0x%04x: bus mastering on", c->name, command);
    }
}

static void preflight_bus_mastering(struct ktest *t) { for_each_controller(t, bus_master_one); }

/* The bring-up failure recorded for this function, NULL when none. */
static const struct blk_controller_fault *fault_of(const struct controller *c)
{
    for (unsigned i = 0; i < blk_controller_fault_count(); i++)
        if (blk_controller_fault_at(i)->pci == c->pci && !blk_controller_fault_at(i)->disk)
            return blk_controller_fault_at(i);
    return NULL;
}

static void bar_one(struct ktest *t, const struct controller *c)
{
    char detail[256];
    if (blk_pci_bar_index(c->driver, c->pci) < 0) {
        /* Not a BAR the firmware failed to place: the function has no
         * register BAR of the kind the driver drives (a legacy-only virtio
         * device). Its bring-up failure names the cause and the remedy;
         * without one the driver took a function it cannot drive, silently. */
        const struct blk_controller_fault *f = fault_of(c);
        if (f) {
            ktest_diag(t, "%s: no %s BAR: not a function %s drives (%s: %s)", c->name,
                       c->driver->bar_name, c->driver->name, blk_cause_name(f->cause), f->detail);
        } else {
            snprintf(detail, sizeof(detail), "the function has no %s BAR and its driver %s "
                     "recorded no bring-up failure for it", c->driver->bar_name, c->driver->name);
            fail_cause(t, c, BLK_CAUSE_UNSUPPORTED, detail);
        }
        return;
    }
    const struct pci_bar *bar = blk_pci_register_bar(c->driver, c->pci, detail, sizeof(detail));
    uint16_t command = pci_read16(c->pci, PCI_COMMAND);
    int index = blk_pci_bar_index(c->driver, c->pci);
    if (!bar) {
        fail_cause(t, c, BLK_CAUSE_BAR_UNASSIGNED, detail);
    } else if (!(command & PCI_COMMAND_MEMORY)) {
        snprintf(detail, sizeof(detail), "BAR%d at 0x%llx but COMMAND.MSE is clear", index,
                 (unsigned long long)bar->phys);
        fail_cause(t, c, BLK_CAUSE_BAR_UNASSIGNED, detail);
    } else {
        ktest_diag(t, "%s: BAR%d at 0x%llx, %llu KiB", c->name, index,
                   (unsigned long long)bar->phys, (unsigned long long)(bar->size >> 10));
    }
}

static void preflight_bar_assigned(struct ktest *t) { for_each_controller(t, bar_one); }

/* Every memory BAR of every function placed by the firmware
 * (drivers/pci/pci_leftover.h): one left at address 0 on a storage function
 * hides its disks and fails, with the BAR, its size and the setting to
 * change (a 64-bit BAR: Above 4G Decoding); on any other function it is
 * named, as it may explain what else is missing, and changes no verdict. */
static void preflight_bars_placed(struct ktest *t)
{
    unsigned storage = 0, other = 0;
    char why[256];
    for (size_t i = 0; i < pci_device_count(); i++) {
        struct pci_device *p = pci_device_at(i);
        bool is_storage = false;
        for (unsigned s = 0; s < blk_storage_count(); s++)
            is_storage |= blk_storage_at(s)->pci == p;
        for (unsigned b = 0; b < p->bar_count; b++) {
            if (!pci_bar_unplaced(&p->bar[b], b, why, sizeof(why)))
                continue;
            if (is_storage) {
                storage++;
                KT_FAIL(t, "%02x:%02x.%x %04x:%04x (storage): %s: %s; remedy: %s", p->bus, p->device,
                        p->function, p->vendor_id, p->device_id,
                        blk_cause_name(BLK_CAUSE_BAR_UNASSIGNED), why,
                        blk_cause_remedy(BLK_CAUSE_BAR_UNASSIGNED));
            } else {
                other++;
                ktest_diag(t, "%02x:%02x.%x %04x:%04x (not storage, no verdict depends on it): %s",
                           p->bus, p->device, p->function, p->vendor_id, p->device_id, why);
            }
        }
    }
    if (!storage)
        ktest_diag(t, "%zu PCI functions: every memory BAR of a storage function placed%s",
                   pci_device_count(), other ? " (others named above)" : "");
}

/* Interrupts each controller's driver could receive (pci_irq_check): MSI-X
 * enabled with the function masked, MSI enabled with its vector masked, an
 * MSI-X table in a BAR that was not placed fail; no MSI or MSI-X at all is
 * said (the driver polls, which proves the data all the same). */
static void irq_one(struct ktest *t, const struct controller *c)
{
    struct pci_irq_state s;
    char why[200];
    pci_irq_state(c->pci, &s);
    switch (pci_irq_check(&s, why, sizeof(why))) {
    case PCI_IRQ_BLOCKED:
        fail_cause(t, c, BLK_CAUSE_IRQ_NOT_DELIVERED, why);
        break;
    case PCI_IRQ_POLLED:
    case PCI_IRQ_OK:
        ktest_diag(t, "%s: %s", c->name, why);
        break;
    }
}

static void preflight_interrupts(struct ktest *t) { for_each_controller(t, irq_one); }

/* The mode the driver needs the controller in (AHCI: GHC.AE, §3.1.2), for
 * the drivers that have one to check. */
static void mode_one(struct ktest *t, const struct controller *c)
{
    struct blk_preflight pf;
    driver_preflight(c, &pf);
    if (!pf.has_mode_check)
        return;
    if (pf.unreadable)
        ktest_diag(t, "%s: registers not mapped: see preflight_bar_assigned", c->name);
    else if (pf.mode_cause != BLK_OK)
        fail_cause(t, c, pf.mode_cause, pf.mode);
    else
        ktest_diag(t, "%s: %s", c->name, pf.mode);
}

static void preflight_controller_mode(struct ktest *t)
{
    bool any = false;
    for (unsigned i = 0; i < controller_count; i++) {
        struct blk_preflight pf;
        driver_preflight(&controllers[i], &pf);
        any |= pf.has_mode_check;
    }
    if (!any) {
        ktest_skip(t, "no controller whose driver has a mode to check (AHCI's GHC.AE)");
        return;
    }
    for_each_controller(t, mode_one);
}

/* 64-bit DMA, as the driver reads it (NVMe's PRP entries are always 64-bit;
 * AHCI says so in CAP.S64A). Without it, with RAM above 4 GiB, the devices
 * of that controller must keep buffers below 4 GiB (dev->dma_limit). */
static void dma64_one(struct ktest *t, const struct controller *c)
{
    struct blk_preflight pf;
    uint64_t high = memory_total_above_4g();

    driver_preflight(c, &pf);
    if (pf.unreadable)
        return;
    for (unsigned i = 0; i < blk_count(); i++) {
        const struct blk_dev *dev = blk_get(i);
        if (dev->pci != c->pci)
            continue;
        if (!pf.dma64 && dev->dma_limit > (1ull << 32)) {
            char detail[120];
            snprintf(detail, sizeof(detail), "%s claims to reach 0x%llx but the controller has no "
                     "64-bit addressing", dev->name, (unsigned long long)dev->dma_limit);
            fail_cause(t, c, BLK_CAUSE_DMA_UNREACHABLE, detail);
        }
    }
    ktest_diag(t, "%s: %s DMA; %llu MiB of RAM above 4 GiB%s", c->name,
               pf.dma64 ? "64-bit" : "32-bit", (unsigned long long)(high >> 20),
               !pf.dma64 && high ? ": buffers must stay below 4 GiB" : "");
}

static void preflight_dma64(struct ktest *t) { for_each_controller(t, dma64_one); }

/* Controllers only: a disk a working controller left out is its storage
 * case's business (preflight_storage_accounted). */
static void preflight_controller_bring_up(struct ktest *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < blk_controller_fault_count(); i++) {
        const struct blk_controller_fault *f = blk_controller_fault_at(i);
        if (f->disk)
            continue;
        n++;
        KT_FAIL(t, "%s: failed bring-up: %s: %s; remedy: %s", f->name, blk_cause_name(f->cause),
                f->detail, blk_cause_remedy(f->cause));
    }
    if (!n)
        ktest_diag(t, "%u controllers, %u block devices, no bring-up failures", controller_count,
                   blk_count());
}

/* Everything found is tested: a limit of bareio's own that was crossed (a
 * table full, no memory for a device's state) fails the run here, naming
 * what was left out, instead of a run that passes with a device untested. */
static void preflight_nothing_left_out(struct ktest *t)
{
    unsigned n = leftout_count();
    for (unsigned i = 0; i < n && i < LEFTOUT_KEPT; i++)
        KT_FAIL(t, "left out: %s; remedy: a limit of bareio's own, raise it or free memory "
                "(the message names which)", leftout_at(i));
    if (n > LEFTOUT_KEPT)
        KT_FAIL(t, "and %u more left out", n - LEFTOUT_KEPT);
    if (!n)
        ktest_diag(t, "every controller, namespace and disk found was taken in");
}

/* ---- resources: what the firmware placed where (drivers/pci/pci_resources.h) ---- */

#define RES_MAX_ECAM 64     /* MCFG windows: as many as kernel/acpi.c keeps */
#define RES_MAX_WINDOWS (BOOT_MAX_REGIONS + ACPI_MAX_IOAPICS + 2 + RES_MAX_ECAM)
#define RES_KEPT 32

static struct pci_res_window windows[RES_MAX_WINDOWS];
static char ecam_names[RES_MAX_ECAM][24];

/* RAM (usable and ACPI memory) from the memory map, the LAPIC, each IOAPIC,
 * the HPET and each ECAM window. */
static unsigned platform_windows(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < boot_info.mem_count && n < RES_MAX_WINDOWS; i++) {
        const struct mem_region *r = &boot_info.mem[i];
        if (r->type == MEM_USABLE || r->type == MEM_ACPI_RECLAIMABLE || r->type == MEM_ACPI_NVS)
            windows[n++] = (struct pci_res_window){ r->type == MEM_USABLE ? "RAM" : "ACPI memory",
                                                    r->base, r->length };
    }
    struct acpi_madt_info *madt = memory_alloc_state(sizeof(*madt));
    if (madt && acpi_madt(madt)) {
        windows[n++] = (struct pci_res_window){ "the LAPIC", madt->lapic_address, 0x1000 };
        for (unsigned i = 0; i < madt->ioapic_count && n < RES_MAX_WINDOWS; i++)
            windows[n++] = (struct pci_res_window){ "an IOAPIC", madt->ioapic[i].address, 0x1000 };
    }
    if (acpi_hpet_base() && n < RES_MAX_WINDOWS)
        windows[n++] = (struct pci_res_window){ "the HPET", acpi_hpet_base(), 0x400 };
    struct acpi_mcfg_info m;
    for (unsigned i = 0; i < RES_MAX_ECAM && n < RES_MAX_WINDOWS && acpi_mcfg(i, &m); i++) {
        snprintf(ecam_names[i], sizeof(ecam_names[i]), "ECAM segment %u", m.segment);
        uint64_t first = m.base + ((uint64_t)m.start_bus << 20);
        windows[n++] = (struct pci_res_window){ ecam_names[i], first,
                                                (uint64_t)(m.end_bus - m.start_bus + 1) << 20 };
    }
    return n;
}

/* Memory BARs of the functions that decode memory (COMMAND.MSE): a BAR of a
 * function that does not decode claims nothing. */
static unsigned decoded_bars(struct pci_res_bar *out, unsigned max)
{
    unsigned n = 0;
    for (size_t i = 0; i < pci_device_count(); i++) {
        const struct pci_device *p = pci_device_at(i);
        if (!(pci_read16(p, PCI_COMMAND) & PCI_COMMAND_MEMORY))
            continue;
        for (unsigned b = 0; b < p->bar_count; b++) {
            const struct pci_bar *bar = &p->bar[b];
            if ((bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64) || !bar->size)
                continue;
            if (out && n < max)
                out[n] = (struct pci_res_bar){ p->bus, p->device, p->function, b, bar->phys,
                                               bar->size };
            n++;
        }
    }
    return n;
}

/* No BAR over another, over RAM or a platform window, or past the CPU's
 * physical address width: a controller whose registers are someone else's
 * answers with nonsense, and one the CPU cannot reach does not answer. */
static void preflight_resources_clear(struct ktest *t)
{
    unsigned nbars = decoded_bars(NULL, 0);
    struct dma_region mem = ktest_dma_alloc(t, (uint64_t)(nbars ? nbars : 1) * sizeof(struct pci_res_bar),
                                            8, 0, DMA_ANYWHERE);
    KT_ASSERT(t, mem.virt != NULL);
    struct pci_res_bar *bars = mem.virt;
    decoded_bars(bars, nbars);
    unsigned nwin = platform_windows();
    static struct pci_res_finding found[RES_KEPT];
    unsigned n = pci_resource_check(bars, nbars, windows, nwin, paging_physical_limit(), found,
                                    RES_KEPT);
    for (unsigned i = 0; i < n && i < RES_KEPT; i++)
        KT_FAIL(t, "%s: %s; remedy: %s", blk_cause_name(BLK_CAUSE_RESOURCE_CONFLICT),
                found[i].words, blk_cause_remedy(BLK_CAUSE_RESOURCE_CONFLICT));
    if (n > RES_KEPT)
        KT_FAIL(t, "and %u more resource conflicts", n - RES_KEPT);
    if (!n)
        ktest_diag(t, "%u memory BARs, %u RAM and platform windows, physical addresses below "
                   "0x%llx: no conflict", nbars, nwin, (unsigned long long)paging_physical_limit());
}

/* Every storage function on PCI is tested or named (drivers/blk/storage.h),
 * each as a case of its own, named by its PCI address, so that a CI reading
 * the report sees every one: a driven one passes, naming its disks; one no
 * driver takes (IDE or RAID mode, a SCSI HBA, NVMe behind VMD) or one that
 * failed bring-up is a skip with its cause and remedy, a failure under
 * blk.require=all. With no storage function at all the case is one skip. */
static uint32_t storage_param_count(void) { return blk_storage_count(); }

static void storage_param_name(uint32_t param, char *buf, size_t size)
{
    const struct pci_device *p = blk_storage_at(param)->pci;
    if (!p) {
        snprintf(buf, size, "mmio_%08x", blk_storage_at(param)->mmio_base);
        return;
    }
    /* The segment only when there is more than one (it is 0 on most machines),
     * so every name stays unique. */
    if (p->segment)
        snprintf(buf, size, "pci_%04x_%02x_%02x_%x", p->segment, p->bus, p->device, p->function);
    else
        snprintf(buf, size, "pci_%02x_%02x_%x", p->bus, p->device, p->function);
}

static void preflight_storage_accounted(struct ktest *t)
{
    if (ktest_param(t) == KTEST_NO_PARAM) {
        ktest_skip(t, "no storage function on PCI");
        return;
    }
    const struct blk_storage *s = blk_storage_at(ktest_param(t));
    for (unsigned i = 0; s->disks_left_out && i < blk_controller_fault_count(); i++) {
        /* A disk left out for a fault of the device (impossible Identify
         * data) fails; one in a format bareio does not drive is a skip. */
        const struct blk_controller_fault *f = blk_controller_fault_at(i);
        if (f->pci == s->pci && f->disk && f->cause != BLK_CAUSE_UNSUPPORTED)
            KT_FAIL(t, "%s not tested: %s: %s; remedy: %s", f->name, blk_cause_name(f->cause),
                    f->detail, blk_cause_remedy(f->cause));
    }
    if (s->disks_faulty)
        return;
    if (s->tested && s->disks_left_out && blk_storage_required())
        KT_FAIL(t, "a disk not tested (blk.require=all): %s", s->line);
    else if (s->tested && s->disks_left_out)
        ktest_skip(t, "%s (blk.require=all makes this a failure)", s->line);
    else if (s->tested)
        ktest_diag(t, "%s", s->line);
    else if (blk_storage_required())
        KT_FAIL(t, "storage function not tested (blk.require=all): %s", s->line);
    else
        ktest_skip(t, "%s (blk.require=all makes this a failure)", s->line);
}

static const struct ktest_case preflight_cases[] = {
    KTEST_CASE(preflight_bus_mastering),
    KTEST_CASE(preflight_bar_assigned),
    KTEST_CASE(preflight_bars_placed),
    KTEST_CASE(preflight_interrupts),
    KTEST_CASE(preflight_controller_mode),
    KTEST_CASE(preflight_dma64),
    KTEST_CASE(preflight_controller_bring_up),
    KTEST_CASE(preflight_nothing_left_out),
    KTEST_CASE(preflight_resources_clear),
    KTEST_CASE_PARAMS(preflight_storage_accounted, storage_param_count, storage_param_name),
};
KTEST_SUITE_FULL(preflight, 52, preflight_cases, preflight_available);
