/* SPDX-License-Identifier: MIT */
/* drivers/blk/driver.c — the driver table (BLK_DRIVER entries, collected by
 * the linker in .blk_drivers), which PCI function is whose, and the PCI probe
 * prelude every controller driver shares (blk_pci_claim), and the record of
 * controllers that could not be brought up. See the drivers section of
 * drivers/blk/blk.h. */
#include "drivers/blk/blk.h"
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_leftover.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/leftout.h"
#include "lib/format.h"
#include "lib/glob.h"
#include "lib/string.h"

#include <stdarg.h>

#define BLK_MAX_FAULTS 64

CMDLINE_GLOBS(blk_no_bus_master, "test.no_bus_master", 64, "",
              "test only: drivers (ahci, nvme) that leave PCI bus mastering off");

static struct blk_controller_fault faults[BLK_MAX_FAULTS];
static unsigned fault_count;

extern const struct blk_driver __blk_drivers_start[], __blk_drivers_end[];

unsigned blk_driver_count(void) { return (unsigned)(__blk_drivers_end - __blk_drivers_start); }

const struct blk_driver *blk_driver_at(unsigned i)
{
    return i < blk_driver_count() ? &__blk_drivers_start[i] : NULL;
}

const struct blk_driver *blk_dev_driver(const struct blk_dev *dev)
{
    for (unsigned i = 0; dev && i < blk_driver_count(); i++)
        if (blk_driver_at(i)->ops == dev->ops)
            return blk_driver_at(i);
    return NULL;
}

static bool match_one(const struct blk_pci_match *m, const struct pci_device *pci)
{
    if (m->vendor_id)
        return pci->vendor_id == m->vendor_id && pci->device_id == m->device_id;
    return pci->class_code == m->class_code && pci->subclass == m->subclass &&
           (m->prog_if < 0 || pci->prog_if == m->prog_if);
}

static bool match_end(const struct blk_pci_match *m)
{
    return m->vendor_id == 0 && m->class_code == 0 && m->subclass == 0;
}

bool blk_pci_matches(const struct blk_driver *drv, const struct pci_device *pci)
{
    if (!drv->match || !pci)
        return false;
    for (const struct blk_pci_match *m = drv->match; !match_end(m); m++)
        if (match_one(m, pci))
            return true;
    return false;
}

const struct blk_driver *blk_pci_driver(const struct pci_device *pci)
{
    for (unsigned i = 0; i < blk_driver_count(); i++)
        if (blk_pci_matches(blk_driver_at(i), pci))
            return blk_driver_at(i);
    return NULL;
}

unsigned blk_pci_count(const struct blk_driver *drv)
{
    unsigned n = 0;
    for (size_t i = 0; i < pci_device_count(); i++)
        n += blk_pci_matches(drv, pci_device_at(i));
    return n;
}

struct pci_device *blk_pci_at(const struct blk_driver *drv, unsigned index)
{
    for (size_t i = 0; i < pci_device_count(); i++)
        if (blk_pci_matches(drv, pci_device_at(i)) && index-- == 0)
            return pci_device_at(i);
    return NULL;
}

int blk_pci_bar_index(const struct blk_driver *drv, const struct pci_device *pci)
{
    return drv->bar_of ? drv->bar_of(pci) : (int)drv->bar;
}

const struct pci_bar *blk_pci_register_bar(const struct blk_driver *drv,
                                           const struct pci_device *pci, char *why, size_t size)
{
    int index = blk_pci_bar_index(drv, pci);
    const struct pci_bar *bar = index >= 0 ? pci_get_bar(pci, (unsigned)index) : NULL;
    const char *problem = NULL;
    char small[200];

    if (!bar || bar->type == PCI_BAR_NONE || bar->size == 0) {
        problem = "not implemented";
    } else if (bar->type == PCI_BAR_IO) {
        problem = "an I/O BAR";
    } else if (pci_bar_unplaced(bar, (unsigned)index, small, sizeof(small))) {
        /* "ABAR: BAR5 (32-bit memory, 4 KiB) was not assigned (address 0): ..." */
        if (why)
            snprintf(why, size, "%s: %s", drv->bar_name, small);
        return NULL;
    } else if (bar->size < drv->min_bar_size) {
        snprintf(small, sizeof(small), "%llu bytes, smaller than the %llu its registers need",
                 (unsigned long long)bar->size, (unsigned long long)drv->min_bar_size);
        problem = small;
    }
    if (!problem)
        return bar;
    if (why && index >= 0)
        snprintf(why, size, "BAR%d (%s) is %s", index, drv->bar_name, problem);
    else if (why)
        snprintf(why, size, "the %s BAR is %s", drv->bar_name, problem);
    return NULL;
}

volatile void *blk_pci_claim(const struct blk_driver *drv, struct pci_device *pci,
                             const char *name, bool *bus_master)
{
    char why[256];
    const struct pci_bar *bar = blk_pci_register_bar(drv, pci, why, sizeof(why));

    *bus_master = false;
    if (!bar) {
        blk_controller_failed(name, pci, BLK_CAUSE_BAR_UNASSIGNED, "%s", why);
        return NULL;
    }
    bool no_bm = blk_test_no_bus_master(drv->name);
    uint16_t as_found = pci_read16(pci, PCI_COMMAND);
    if (no_bm)      /* the firmware (SeaBIOS drives AHCI and NVMe) may have set it */
        pci_write16(pci, PCI_COMMAND,
                    (uint16_t)(pci_read16(pci, PCI_COMMAND) & ~PCI_COMMAND_BUS_MASTER));
    if (!pci_enable(pci, true, false, false)) {
        blk_controller_failed(name, pci, BLK_CAUSE_UNSUPPORTED,
                              "PCI COMMAND memory space enable did not stick");
        return NULL;
    }
    if (!no_bm)     /* pci_enable() logs a bit that does not stick; BME is read back below */
        pci_enable(pci, false, false, true);
    uint16_t now = pci_read16(pci, PCI_COMMAND);
    *bus_master = (now & PCI_COMMAND_BUS_MASTER) != 0;
    /* Said, because it is the firmware's doing: on a real machine it means
     * the firmware did not set the controller up (no option ROM, a setting
     * that hides it), which may also explain what else is wrong with it. */
    bool mse_on = !(as_found & PCI_COMMAND_MEMORY) && (now & PCI_COMMAND_MEMORY);
    bool bme_on = !no_bm && !(as_found & PCI_COMMAND_BUS_MASTER) && *bus_master;
    if (mse_on || bme_on)
        klog(LOG_INFO, "%s: the firmware left %s%s%s off (PCI COMMAND 0x%04x): bareio turned it on\n",
             name, mse_on ? "memory decoding" : "", mse_on && bme_on ? " and " : "",
             bme_on ? "bus mastering" : "", as_found);
    unsigned index = (unsigned)blk_pci_bar_index(drv, pci);
    volatile void *regs = pci_map_bar(pci, index);
    if (!regs)
        blk_controller_failed(name, pci, BLK_CAUSE_BAR_UNASSIGNED, "BAR%u at 0x%llx could not be "
                              "mapped", index, (unsigned long long)bar->phys);
    return regs;
}

/* ---- controllers that failed ---- */

static void record_fault(const char *name, struct pci_device *pci, enum blk_cause cause, bool disk,
                         const char *fmt, va_list ap)
{
    char detail[sizeof(faults[0].detail)];
    vsnprintf(detail, sizeof(detail), fmt, ap);
    klog(LOG_ERR, "%s: %s%s: %s\n", name, disk ? "not tested: " : "", blk_cause_name(cause), detail);
    if (fault_count >= BLK_MAX_FAULTS) {
        /* Said on the console; the table just cannot keep it for the
         * summary, so that becomes a failure of its own. */
        leftout_report("%s: its failure is not in the summary: more than %u controllers and "
                       "disks failed", name, BLK_MAX_FAULTS);
        return;
    }
    struct blk_controller_fault *f = &faults[fault_count++];
    strlcpy(f->name, name, sizeof(f->name));
    f->pci = pci;
    f->cause = cause;
    f->disk = disk;
    strlcpy(f->detail, detail, sizeof(f->detail));
}

void blk_controller_failed(const char *name, struct pci_device *pci, enum blk_cause cause,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record_fault(name, pci, cause, false, fmt, ap);
    va_end(ap);
}

void blk_disk_left_out(const char *name, struct pci_device *pci, enum blk_cause cause,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record_fault(name, pci, cause, true, fmt, ap);
    va_end(ap);
}

bool blk_test_no_bus_master(const char *driver)
{
    return blk_no_bus_master[0] && glob_list_match(blk_no_bus_master, driver) != GLOB_LIST_NONE;
}

unsigned blk_controller_fault_count(void) { return fault_count; }

const struct blk_controller_fault *blk_controller_fault_at(unsigned i)
{
    return i < fault_count ? &faults[i] : NULL;
}
