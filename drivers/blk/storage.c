/* SPDX-License-Identifier: MIT */
/* drivers/blk/storage.c — the storage inventory (drivers/blk/storage.h):
 * after every driver started, each storage function on PCI is named with
 * what became of it. A function a driver took is "driven as NAME" with the
 * disks it registered (none is said too: a controller with no disk), or "not
 * tested" with its bring-up failure; one no driver takes is "not tested" with
 * the cause and remedy of storage_not_driven(). Its own boot stage, after
 * the drivers' (kernel/stage.h), so the block layer calls nothing of it. */
#include "drivers/blk/blk.h"
#include "drivers/blk/storage.h"
#include "drivers/pci/pci.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/stage.h"
#include "lib/format.h"
#include "lib/string.h"

enum { REQUIRE_NONE, REQUIRE_ALL };
static const struct cmdline_word require_words[] = {
    { "none", REQUIRE_NONE }, { "all", REQUIRE_ALL },
};
CMDLINE_ENUM(blk_require, "blk.require", REQUIRE_NONE, require_words,
             "all: every storage function on PCI must be tested (a controller no driver "
             "takes, or one that failed bring-up, fails preflight); none (default): such a "
             "function is a skip that names it");

static struct blk_storage *inventory;
static unsigned inventory_count, untested;

static struct storage_ids ids_of(const struct pci_device *p)
{
    return (struct storage_ids){ p->vendor_id, p->device_id, p->class_code, p->subclass,
                                 p->prog_if };
}

/* The driver's name for this function: its prefix and its place among the
 * functions the driver takes ("ahci1"), as the driver and preflight name it. */
static void controller_name(const struct blk_driver *drv, const struct pci_device *pci,
                            char *out, size_t size)
{
    unsigned n = blk_pci_count(drv);
    for (unsigned i = 0; i < n; i++)
        if (blk_pci_at(drv, i) == pci) {
            snprintf(out, size, "%s%u", drv->name, i);
            return;
        }
    snprintf(out, size, "%s?", drv->name);
}

static const struct blk_controller_fault *fault_of(const struct pci_device *pci)
{
    for (unsigned i = 0; i < blk_controller_fault_count(); i++)
        if (blk_controller_fault_at(i)->pci == pci && !blk_controller_fault_at(i)->disk)
            return blk_controller_fault_at(i);
    return NULL;
}

/* "driven as nvme0: nvme0n1, nvme0n2" or "driven as ahci1: no disk found on it". */
static int driven_words(const struct pci_device *pci, const char *name, char *out, size_t size)
{
    int len = snprintf(out, size, "driven as %s", name);
    unsigned disks = 0;
    for (unsigned i = 0; i < blk_count(); i++) {
        const struct blk_dev *d = blk_get(i);
        if (d->pci != pci)
            continue;
        if ((size_t)len < size)
            len += snprintf(out + len, size - (size_t)len, "%s%s", disks ? ", " : ": ", d->name);
        disks++;
    }
    bool disks_left_out = false;
    for (unsigned i = 0; i < blk_controller_fault_count(); i++)
        disks_left_out |= blk_controller_fault_at(i)->pci == pci && blk_controller_fault_at(i)->disk;
    if (!disks && (size_t)len < size)
        len += snprintf(out + len, size - (size_t)len, disks_left_out ? ": no disk registered"
                        : ": no disk found on it");
    return len;
}

static void describe(struct blk_storage *s)
{
    const struct pci_device *p = s->pci;
    struct storage_ids ids = ids_of(p);
    const struct blk_driver *drv = blk_pci_driver(p);
    char what[200];
    int len = snprintf(s->line, sizeof(s->line), "%02x:%02x.%x %04x:%04x %02x.%02x.%02x %s: ",
                       p->bus, p->device, p->function, p->vendor_id, p->device_id,
                       p->class_code, p->subclass, p->prog_if, storage_kind(&ids));
    char *rest = s->line + len;
    size_t room = sizeof(s->line) - (size_t)len;

    if (!drv) {
        storage_not_driven(&ids, what, sizeof(what));
        snprintf(rest, room, "not tested: %s", what);
        return;
    }
    char name[24];
    controller_name(drv, p, name, sizeof(name));
    const struct blk_controller_fault *f = fault_of(p);
    if (f) {
        snprintf(rest, room, "not tested: %s failed bring-up: %s (%s) — %s", name,
                 blk_cause_name(f->cause), f->detail, blk_cause_remedy(f->cause));
        return;
    }
    s->tested = true;
    int used = driven_words(p, name, rest, room);
    /* Disks the driver left out, each with its cause. */
    for (unsigned i = 0; i < blk_controller_fault_count(); i++) {
        const struct blk_controller_fault *d = blk_controller_fault_at(i);
        if (d->pci != p || !d->disk)
            continue;
        s->disks_left_out++;
        s->disks_faulty += d->cause != BLK_CAUSE_UNSUPPORTED;
        if ((size_t)used < room)
            used += snprintf(rest + used, room - (size_t)used, "; %s not tested: %s (%s)", d->name,
                             blk_cause_name(d->cause), d->detail);
    }
}

/* A line that filled its buffer was cut (a long remedy, many disks left
 * out): it ends in "..." so no reader takes it for the whole of it. */
static void mark_cut(char *line, size_t size)
{
    if (strlen(line) == size - 1)
        memcpy(line + size - 4, "...", 4);
}

void blk_storage_inventory(void)
{
    unsigned n = 0;
    for (size_t i = 0; i < pci_device_count(); i++) {
        struct storage_ids ids = ids_of(pci_device_at(i));
        n += storage_is_storage(&ids);
    }
    inventory_count = untested = 0;
    if (!n)
        return;
    inventory = memory_alloc_state((uint64_t)n * sizeof(*inventory));
    if (!inventory) {
        leftout_report("storage: the inventory of %u storage functions is not kept: no memory", n);
        return;
    }
    for (size_t i = 0; i < pci_device_count(); i++) {
        struct pci_device *p = pci_device_at(i);
        struct storage_ids ids = ids_of(p);
        if (!storage_is_storage(&ids))
            continue;
        struct blk_storage *s = &inventory[inventory_count++];
        *s = (struct blk_storage){ .pci = p };
        describe(s);
        mark_cut(s->line, sizeof(s->line));
        untested += !s->tested;
        klog(s->tested && !s->disks_left_out ? LOG_INFO : LOG_WARN, "storage: %s\n", s->line);
    }
    if (untested)
        klog(LOG_WARN, "storage: %u of %u storage functions not tested%s\n", untested,
             inventory_count, blk_require == REQUIRE_ALL ? " (blk.require=all: preflight fails)"
                                                       : " (blk.require=all makes that a failure)");
}

unsigned blk_storage_count(void) { return inventory_count; }

const struct blk_storage *blk_storage_at(unsigned i)
{
    return i < inventory_count ? &inventory[i] : NULL;
}

unsigned blk_storage_untested(void) { return untested; }

bool blk_storage_required(void) { return blk_require == REQUIRE_ALL; }

/* After the drivers (stage 20): every function they took is decided. */
static int storage_stage(void)
{
    blk_storage_inventory();
    return KERNEL_STAGE_CONTINUE;
}
KERNEL_STAGE(25, storage, storage_stage);
