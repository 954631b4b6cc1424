/* SPDX-License-Identifier: MIT */
/* drivers/blk/storage.h — the storage inventory: every PCI function that is
 * storage (class 01h, any subclass and programming interface) or hides
 * storage (Intel VMD, which puts NVMe drives behind a bus of its own and
 * shows itself as a RAID or system device) is accounted for at boot, one line
 * each: driven by a built-in driver (with the disks it registered), or not
 * tested, with the cause and what the person at the machine can change.
 *
 * The words are decided by the pure functions below (storage_class.c,
 * host-tested: tests/host/test_storage.c); the walk over the PCI table and the
 * drivers is storage.c. `blk.require=all` makes every storage function that
 * is not tested a failure of preflight (for labs that want every disk
 * tested); by default it is a skip that names each one. */
#ifndef DRIVERS_BLK_STORAGE_H
#define DRIVERS_BLK_STORAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_device;

/* The identity the classification needs. */
struct storage_ids {
    uint16_t vendor_id, device_id;
    uint8_t class_code, subclass, prog_if;
};

/* Intel VMD (Volume Management Device): a known device ID, any class. */
bool storage_is_vmd(const struct storage_ids *f);
/* Class 01h, or a VMD. */
bool storage_is_storage(const struct storage_ids *f);
/* What it is, in words: "SATA controller (IDE mode)", "RAID controller",
 * "Intel VMD (Volume Management Device)", "virtio-scsi controller", ... */
const char *storage_kind(const struct storage_ids *f);
/* Why no built-in driver tests it and what to do, for the person at the
 * machine: "bareio has no driver for ... — ..." (cause — remedy). */
void storage_not_driven(const struct storage_ids *f, char *why, size_t size);

/* ---- the inventory (storage.c) ---- */

struct blk_storage {
    struct pci_device *pci;     /* NULL for storage off PCI (virtio-mmio) */
    uint32_t mmio_base;         /* then: where its registers are */
    bool tested;            /* a driver took it and did not fail to bring it up */
    /* Of a tested one: disks of it left out (blk_disk_left_out), and how
     * many of those for a fault of the device rather than a format bareio
     * does not drive. */
    unsigned disks_left_out, disks_faulty;
    char line[480];         /* "00:1f.2 8086:2922 01.06.01 SATA controller (AHCI): driven as ..." */
};

/* Builds the inventory (after every driver started) and prints it, one
 * `storage: ` line per function. */
void blk_storage_inventory(void);
unsigned blk_storage_count(void);
const struct blk_storage *blk_storage_at(unsigned i);
/* How many storage functions are not tested. */
unsigned blk_storage_untested(void);
/* blk.require=all: a storage function not tested is a failure. */
bool blk_storage_required(void);

#endif
