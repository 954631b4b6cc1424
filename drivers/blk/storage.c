/* SPDX-License-Identifier: MIT */
/* drivers/blk/storage.c — the storage inventory (drivers/blk/storage.h):
 * after every driver started, each storage function on PCI is named with
 * what became of it. A function a driver took is "driven as NAME" with the
 * disks it registered (none is said too: a controller with no disk), or "not
 * tested" with its bring-up failure; one no driver takes is "not tested" with
 * the cause and remedy of storage_not_driven(). Storage off PCI that ACPI
 * describes is named too: a virtio-mmio transport (_HID LNRO0005, QEMU's
 * microvm) whose device is a block or SCSI device is "not tested" (bareio
 * drives PCI storage only). Its own boot stage, after the drivers'
 * (kernel/stage.h), so the block layer calls nothing of it. */
#include "drivers/blk/blk.h"
#include "drivers/blk/storage.h"
#include "drivers/pci/pci.h"
#include "kernel/acpi.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/leftout.h"
#include "kernel/memory.h"
#include "kernel/stage.h"
#include "lib/aml_hid.h"
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

/* ---- storage off PCI: virtio-mmio transports ACPI describes ---- */

#define VIRTIO_MMIO_HID          "LNRO0005"
#define VIRTIO_MMIO_MAX          64     /* more are said to be left out */
#define VIRTIO_MMIO_WINDOW       0x100  /* the registers read below */
#define VIRTIO_MMIO_MAGIC        0x000  /* virtio 1.2 §4.2.2: "virt" */
#define VIRTIO_MMIO_VERSION      0x004  /* 1 legacy, 2 */
#define VIRTIO_MMIO_DEVICE_ID    0x008  /* 0: no device behind the transport */
#define VIRTIO_MMIO_MAGIC_VALUE  0x74726976u
#define VIRTIO_ID_BLOCK          2      /* virtio 1.2 §5 */
#define VIRTIO_ID_SCSI           8

struct mmio_storage {
    uint32_t base, device_id, version;
};
static struct mmio_storage mmio_storage[VIRTIO_MMIO_MAX];
static unsigned mmio_storage_count;

/* The transport at d: storage behind it (a block or SCSI device) or not. */
static bool probe_virtio_mmio(const struct aml_hid_device *d, struct mmio_storage *out)
{
    if (!d->base || d->length < VIRTIO_MMIO_WINDOW) {
        klog(LOG_INFO, "storage: ACPI %s device with no plain Memory32Fixed range in its _CRS: "
             "not probed\n", VIRTIO_MMIO_HID);
        return false;
    }
    volatile void *regs = mmio_map(d->base, VIRTIO_MMIO_WINDOW);
    if (!regs)
        return false;
    uint32_t magic = mmio_read32(regs, VIRTIO_MMIO_MAGIC);
    if (magic != VIRTIO_MMIO_MAGIC_VALUE) {
        klog(LOG_INFO, "storage: ACPI %s device at %#x: magic %#x, not virtio-mmio\n",
             VIRTIO_MMIO_HID, d->base, magic);
        return false;
    }
    *out = (struct mmio_storage){ d->base, mmio_read32(regs, VIRTIO_MMIO_DEVICE_ID),
                                  mmio_read32(regs, VIRTIO_MMIO_VERSION) };
    return out->device_id == VIRTIO_ID_BLOCK || out->device_id == VIRTIO_ID_SCSI;
}

static void find_mmio_storage(void)
{
    struct aml_hid_device found[VIRTIO_MMIO_MAX];
    unsigned total = 0;
    mmio_storage_count = 0;
    for (unsigned t = 0; t < acpi_table_count(); t++) {
        const struct acpi_table_entry *e = acpi_table_at(t);
        const struct acpi_sdt_header *h = e->table;
        if (!h || !e->checksum_ok || h->length <= sizeof(*h) ||
            (memcmp(h->signature, "DSDT", 4) != 0 && memcmp(h->signature, "SSDT", 4) != 0))
            continue;
        unsigned n = aml_find_hid((const uint8_t *)(h + 1), h->length - sizeof(*h),
                                  VIRTIO_MMIO_HID, found, VIRTIO_MMIO_MAX);
        for (unsigned i = 0; i < n && i < VIRTIO_MMIO_MAX; i++) {
            struct mmio_storage m;
            if (!probe_virtio_mmio(&found[i], &m))
                continue;
            if (mmio_storage_count < VIRTIO_MMIO_MAX)
                mmio_storage[mmio_storage_count++] = m;
            else
                total++;
        }
        total += n > VIRTIO_MMIO_MAX ? n - VIRTIO_MMIO_MAX : 0;
    }
    if (total)
        leftout_report("storage: %u ACPI %s (virtio-mmio) devices not looked at: more than %u",
                       total, VIRTIO_MMIO_HID, VIRTIO_MMIO_MAX);
}

static void describe_mmio(struct blk_storage *s, const struct mmio_storage *m)
{
    snprintf(s->line, sizeof(s->line), "virtio-mmio at %#x (ACPI %s, version %u) virtio-%s "
             "device: not tested: bareio has no virtio-mmio driver — give the machine the same "
             "disk on PCI (QEMU: virtio-blk-pci, or a machine with PCI such as q35)",
             m->base, VIRTIO_MMIO_HID, m->version,
             m->device_id == VIRTIO_ID_BLOCK ? "blk" : "scsi");
    s->mmio_base = m->base;
}

void blk_storage_inventory(void)
{
    unsigned n = 0;
    for (size_t i = 0; i < pci_device_count(); i++) {
        struct storage_ids ids = ids_of(pci_device_at(i));
        n += storage_is_storage(&ids);
    }
    find_mmio_storage();
    n += mmio_storage_count;
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
    for (unsigned i = 0; i < mmio_storage_count; i++) {
        struct blk_storage *s = &inventory[inventory_count++];
        *s = (struct blk_storage){ .pci = NULL };
        describe_mmio(s, &mmio_storage[i]);
        mark_cut(s->line, sizeof(s->line));
        untested++;
        klog(LOG_WARN, "storage: %s\n", s->line);
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
