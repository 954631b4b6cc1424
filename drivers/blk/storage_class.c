/* SPDX-License-Identifier: MIT */
/* drivers/blk/storage_class.c — what a storage function is and, when no
 * built-in driver tests it, why and what to change (drivers/blk/storage.h).
 * Pure: class codes (PCI Code and ID Assignment 1.11 §1.2, base class 01h)
 * and IDs in, words out; host-tested (tests/host/test_storage.c).
 *
 * The remedies are for the person at the machine: most untested disks on a
 * real machine sit behind a controller the firmware setup put in a mode
 * bareio does not drive (IDE or RAID instead of AHCI, NVMe behind VMD), or
 * on a controller kind bareio has no driver for. */
#include "drivers/blk/storage.h"
#include "lib/format.h"

#define PCI_VENDOR_INTEL    0x8086
#define PCI_VENDOR_VIRTIO   0x1af4

/* Intel VMD device IDs (as Linux's vmd driver lists them, 2024): server
 * (201Dh, 28C0h) and client parts from Rocket Lake on. */
static const uint16_t vmd_ids[] = {
    0x201d, 0x28c0, 0x467f, 0x4c3d, 0x7d0b, 0x9a0b, 0xa77f, 0xad0b, 0xb06f, 0xb07f, 0xb60b,
};

bool storage_is_vmd(const struct storage_ids *f)
{
    if (f->vendor_id != PCI_VENDOR_INTEL)
        return false;
    for (unsigned i = 0; i < sizeof(vmd_ids) / sizeof(vmd_ids[0]); i++)
        if (f->device_id == vmd_ids[i])
            return true;
    return false;
}

bool storage_is_storage(const struct storage_ids *f)
{
    return f->class_code == 0x01 || storage_is_vmd(f);
}

/* virtio storage other than virtio-blk: virtio-scsi (modern 1048h,
 * transitional 1004h). */
static bool is_virtio_scsi(const struct storage_ids *f)
{
    return f->vendor_id == PCI_VENDOR_VIRTIO && (f->device_id == 0x1048 || f->device_id == 0x1004);
}

/* virtio-blk (modern 1042h, transitional 1001h): class 01.00 like SCSI. */
static bool is_virtio_blk(const struct storage_ids *f)
{
    return f->vendor_id == PCI_VENDOR_VIRTIO && (f->device_id == 0x1042 || f->device_id == 0x1001);
}

const char *storage_kind(const struct storage_ids *f)
{
    if (storage_is_vmd(f))
        return "Intel VMD (Volume Management Device)";
    if (is_virtio_blk(f))
        return "virtio-blk controller";
    if (is_virtio_scsi(f))
        return "virtio-scsi controller";
    if (f->class_code != 0x01)
        return "not a storage function";
    switch (f->subclass) {
    case 0x00:
        return "SCSI controller";
    case 0x01:
        return "IDE controller";
    case 0x02:
        return "floppy controller";
    case 0x03:
        return "IPI bus controller";
    case 0x04:
        return "RAID controller";
    case 0x05:
        return "ATA controller (ADMA)";
    case 0x06:
        return f->prog_if == 0x01 ? "SATA controller (AHCI)"
             : f->prog_if == 0x02 ? "SATA controller (serial storage bus)"
             : "SATA controller (vendor-specific interface)";
    case 0x07:
        return "SAS controller";
    case 0x08:
        return f->prog_if == 0x02 ? "NVM controller (NVMe)"
             : f->prog_if == 0x01 ? "NVM controller (NVMHCI)"
             : f->prog_if == 0x03 ? "NVM controller (NVMe administrative only)"
             : "NVM controller (other interface)";
    case 0x09:
        return "UFS controller";
    case 0x80:
        return "other mass storage controller";
    default:
        return "mass storage controller of an unknown subclass";
    }
}

void storage_not_driven(const struct storage_ids *f, char *why, size_t size)
{
    const char *cause, *remedy;

    if (storage_is_vmd(f)) {
        cause = "NVMe drives behind Intel VMD are hidden from bareio";
        remedy = "disable VMD (Volume Management Device, Intel RST/VROC) in the firmware setup so "
                 "the drives show as NVMe controllers";
    } else if (is_virtio_scsi(f)) {
        cause = "bareio has no virtio-scsi driver: its disks are not tested";
        remedy = "attach the disks as virtio-blk (QEMU: -device virtio-blk-pci), NVMe or AHCI";
    } else if (f->class_code != 0x01) {
        cause = "not a storage function";
        remedy = "none needed";
    } else {
        switch (f->subclass) {
        case 0x01:
            cause = "IDE (legacy ATA) controller: bareio drives SATA disks through AHCI only";
            remedy = "if it is a SATA controller in IDE mode, set SATA operation to AHCI in the "
                     "firmware setup; otherwise attach the disks to an AHCI or NVMe controller";
            break;
        case 0x04:
            cause = "RAID mode hides the disks behind it";
            remedy = "switch the controller to AHCI (or the drives to plain NVMe) in the firmware "
                     "setup, or test the disks on a machine in AHCI mode";
            break;
        case 0x05:
        case 0x06:
            cause = "SATA controller not in AHCI mode (programming interface is not 01h)";
            remedy = "set SATA operation to AHCI in the firmware setup";
            break;
        case 0x00:
        case 0x07:
            cause = "SCSI/SAS HBA: bareio has no driver for it, its disks are not tested";
            remedy = "test the disks on an AHCI, NVMe or virtio-blk controller";
            break;
        case 0x08:
            cause = "NVM controller without the NVMe I/O interface (programming interface is not "
                    "02h)";
            remedy = "none in bareio: it drives NVMe I/O controllers only";
            break;
        default:
            cause = "bareio has no driver for this kind of controller";
            remedy = "test the disks on an AHCI, NVMe or virtio-blk controller";
            break;
        }
    }
    snprintf(why, size, "%s — %s", cause, remedy);
}
