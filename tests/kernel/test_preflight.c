/* SPDX-License-Identifier: MIT */
/* tests/kernel/test_preflight.c — the `preflight` suite: what can be checked
 * about each storage controller before any I/O, so a run on a badly set-up
 * machine fails here with the cause and its remedy instead of later with a
 * timeout. Per controller found on PCI (class 01:06:01 AHCI, 01:08:02 NVMe):
 * bus mastering on (PCI COMMAND.BME), the register BAR assigned, AHCI mode
 * (GHC.AE, AHCI 1.3.1 §3.1.2), 64-bit DMA capability against memory above
 * 4 GiB, and every controller the drivers could not bring up.
 *
 * It runs after the drivers started (they enable bus mastering), so a
 * controller whose driver is not built in is skipped, not failed. */
#include "drivers/blk/blk.h"
#include "drivers/pci/pci.h"
#include "kernel/io.h"
#include "kernel/ktest.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "lib/format.h"
#include "lib/string.h"

/* AHCI 1.3.1 §3.1 generic host control registers. */
#define AHCI_ABAR_INDEX     5
#define AHCI_REG_CAP        0x00
#define AHCI_REG_GHC        0x04
#define AHCI_CAP_S64A       (1u << 31)  /* 64-bit addressing */
#define AHCI_CAP_SAM        (1u << 18)  /* AHCI mode only: GHC.AE reads 1 */
#define AHCI_GHC_AE         (1u << 31)  /* AHCI enable */
#define NVME_BAR_INDEX      0           /* MLBAR/MUBAR, NVMe 1.4 §2.1.10 */

#define MAX_CONTROLLERS     PCI_MAX_DEVICES     /* every storage function the table lists */

struct controller {
    struct pci_device *pci;
    const char *driver;         /* "ahci", "nvme" */
    char name[16];              /* "ahci0", "nvme1" */
    unsigned bar;
};

static struct controller controllers[MAX_CONTROLLERS];
static unsigned controller_count;

extern const struct blk_driver __blk_drivers_start[], __blk_drivers_end[];

static bool driver_built_in(const char *name)
{
    for (const struct blk_driver *d = __blk_drivers_start; d < __blk_drivers_end; d++)
        if (strcmp(d->name, name) == 0)
            return true;
    return false;
}

static void find_controllers(void)
{
    unsigned ahci = 0, nvme = 0;
    controller_count = 0;
    for (size_t i = 0; i < pci_device_count() && controller_count < MAX_CONTROLLERS; i++) {
        struct pci_device *p = pci_device_at(i);
        struct controller *c = &controllers[controller_count];
        if (p->class_code == 0x01 && p->subclass == 0x06 && p->prog_if == 0x01) {
            c->driver = "ahci";
            c->bar = AHCI_ABAR_INDEX;
            snprintf(c->name, sizeof(c->name), "ahci%u", ahci++);
        } else if (p->class_code == 0x01 && p->subclass == 0x08 && p->prog_if == 0x02) {
            c->driver = "nvme";
            c->bar = NVME_BAR_INDEX;
            snprintf(c->name, sizeof(c->name), "nvme%u", nvme++);
        } else {
            continue;
        }
        c->pci = p;
        controller_count++;
    }
}

static bool preflight_available(const char **reason)
{
    find_controllers();
    if (controller_count == 0 && blk_controller_fault_count() == 0 && leftout_count() == 0) {
        *reason = "no AHCI or NVMe controller on PCI";
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

/* Runs fn on every controller whose driver is built in. */
static void for_each_controller(struct ktest *t, void (*fn)(struct ktest *, const struct controller *))
{
    unsigned ran = 0;
    for (unsigned i = 0; i < controller_count; i++) {
        const struct controller *c = &controllers[i];
        if (!driver_built_in(c->driver)) {
            ktest_diag(t, "%s: skipped: driver %s not built in", c->name, c->driver);
            continue;
        }
        fn(t, c);
        ran++;
    }
    if (!ran)
        ktest_skip(t, "no controller with a driver");
}

static const struct pci_bar *register_bar(const struct controller *c)
{
    const struct pci_bar *bar = pci_get_bar(c->pci, c->bar);
    if (!bar || (bar->type != PCI_BAR_MEM32 && bar->type != PCI_BAR_MEM64) || bar->phys == 0 ||
        bar->size == 0)
        return NULL;
    return bar;
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

static void bar_one(struct ktest *t, const struct controller *c)
{
    const struct pci_bar *bar = register_bar(c);
    uint16_t command = pci_read16(c->pci, PCI_COMMAND);
    char detail[96];
    if (!bar) {
        snprintf(detail, sizeof(detail), "BAR%u is missing, not memory, or at address 0", c->bar);
        fail_cause(t, c, BLK_CAUSE_BAR_UNASSIGNED, detail);
    } else if (!(command & PCI_COMMAND_MEMORY)) {
        snprintf(detail, sizeof(detail), "BAR%u at 0x%llx but COMMAND.MSE is clear", c->bar,
                 (unsigned long long)bar->phys);
        fail_cause(t, c, BLK_CAUSE_BAR_UNASSIGNED, detail);
    } else {
        ktest_diag(t, "%s: BAR%u at 0x%llx, %llu KiB", c->name, c->bar,
                   (unsigned long long)bar->phys, (unsigned long long)(bar->size >> 10));
    }
}

static void preflight_bar_assigned(struct ktest *t) { for_each_controller(t, bar_one); }

static void ahci_mode_one(struct ktest *t, const struct controller *c)
{
    if (strcmp(c->driver, "ahci") != 0)
        return;
    volatile void *abar = register_bar(c) ? pci_map_bar(c->pci, c->bar) : NULL;
    char detail[96];
    if (!abar) {
        ktest_diag(t, "%s: ABAR not mapped: see preflight_bar_assigned", c->name);
        return;
    }
    uint32_t cap = mmio_read32(abar, AHCI_REG_CAP), ghc = mmio_read32(abar, AHCI_REG_GHC);
    if (!(ghc & AHCI_GHC_AE)) {
        snprintf(detail, sizeof(detail), "GHC 0x%08x has AE clear (CAP 0x%08x, SAM %u)", ghc, cap,
                 !!(cap & AHCI_CAP_SAM));
        fail_cause(t, c, BLK_CAUSE_NOT_AHCI_MODE, detail);
    } else {
        ktest_diag(t, "%s: GHC.AE set (CAP 0x%08x)", c->name, cap);
    }
}

static void preflight_ahci_mode(struct ktest *t)
{
    bool any = false;
    for (unsigned i = 0; i < controller_count; i++)
        any |= strcmp(controllers[i].driver, "ahci") == 0 && driver_built_in("ahci");
    if (!any) {
        ktest_skip(t, "no AHCI controller");
        return;
    }
    for_each_controller(t, ahci_mode_one);
}

/* 64-bit DMA: NVMe addresses are always 64-bit (PRP entries); AHCI says so
 * in CAP.S64A. Without it, with RAM above 4 GiB, the devices of that
 * controller must keep buffers below 4 GiB (dev->dma_limit). */
static void dma64_one(struct ktest *t, const struct controller *c)
{
    bool dma64 = true;
    uint64_t high = memory_total_above_4g();

    if (strcmp(c->driver, "ahci") == 0) {
        volatile void *abar = register_bar(c) ? pci_map_bar(c->pci, c->bar) : NULL;
        if (!abar)
            return;
        dma64 = mmio_read32(abar, AHCI_REG_CAP) & AHCI_CAP_S64A;
    }
    for (unsigned i = 0; i < blk_count(); i++) {
        const struct blk_dev *dev = blk_get(i);
        if (dev->pci != c->pci)
            continue;
        if (!dma64 && dev->dma_limit > (1ull << 32)) {
            char detail[120];
            snprintf(detail, sizeof(detail), "%s claims to reach 0x%llx but the controller has no "
                     "64-bit addressing", dev->name, (unsigned long long)dev->dma_limit);
            fail_cause(t, c, BLK_CAUSE_DMA_UNREACHABLE, detail);
        }
    }
    ktest_diag(t, "%s: %s DMA; %llu MiB of RAM above 4 GiB%s", c->name, dma64 ? "64-bit" : "32-bit",
               (unsigned long long)(high >> 20),
               !dma64 && high ? ": buffers must stay below 4 GiB" : "");
}

static void preflight_dma64(struct ktest *t) { for_each_controller(t, dma64_one); }

static void preflight_controller_bring_up(struct ktest *t)
{
    unsigned n = blk_controller_fault_count();
    for (unsigned i = 0; i < n; i++) {
        const struct blk_controller_fault *f = blk_controller_fault_at(i);
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

static const struct ktest_case preflight_cases[] = {
    KTEST_CASE(preflight_bus_mastering),
    KTEST_CASE(preflight_bar_assigned),
    KTEST_CASE(preflight_ahci_mode),
    KTEST_CASE(preflight_dma64),
    KTEST_CASE(preflight_controller_bring_up),
    KTEST_CASE(preflight_nothing_left_out),
};
KTEST_SUITE_FULL(preflight, 52, preflight_cases, preflight_available);
